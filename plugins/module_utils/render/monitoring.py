# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``monitoring`` target (``devops-flow generate-monitoring``).

Files under ``monitoring/``:

=============================================  ======================  =========================
path                                           kind                    checked by
=============================================  ======================  =========================
prometheus/prometheus.yml                      prometheus-config       promtool check config
prometheus/rules/<service>.rules.yml           prometheus-rules        promtool check rules
prometheus/tests/<service>.rules.test.yml      prometheus-rule-tests   promtool test rules
prometheus/targets/<service>.json              prometheus-targets      file_sd structure
prometheus/targets/node-exporter.json          prometheus-targets      file_sd structure
alertmanager/alertmanager.yml                  alertmanager-config     amtool check-config
grafana/<service>.json                         grafana-dashboard       structure + promtool
otel/collector.yaml                            otel-collector          structure
=============================================  ======================  =========================

``monitoring_files`` is the renderer the monitoring role calls with what its
inventory knows (scrape targets with their labels, Alertmanager addresses, the
published runbook URL, the secrets folder, e-mail and relay settings); the CLI
target calls it with the documents alone.  See ``monitoring_rules`` for how
document rules become alerts, and ``monitoring_config`` for the defaults.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Sequence, Tuple

from ..fileset import FileSet, GeneratedFile
from ..model import Model
from . import common
from .monitoring_config import (
    alertmanager_yml,
    otel_collector_yaml,
    prometheus_yml,
    settings_from,
    targets_json,
    tracing_exporter,
)
from .monitoring_grafana import dashboard
from .monitoring_rules import AlertPlan, alert_plan, rules_document, tests_document
from .monitoring_yaml import add_comments, dump, key_line

if TYPE_CHECKING:  # pragma: no cover
    from ..generate import Options

OUTPUT_DIR = "monitoring"
NODE_TARGETS = "node-exporter"


def file_name(model: Model) -> str:
    """The service name as a file name (letters, digits, dot, dash, underscore)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", common.service_name(model)).strip(".-") or "service"


def paths(model: Model) -> Tuple[str, str, str, str, str]:
    """(prometheus.yml, rules, rule tests, service targets, node targets) under ``monitoring/``."""
    name = file_name(model)
    targets = name if name != NODE_TARGETS else "%s-service" % name
    base = "%s/prometheus" % OUTPUT_DIR
    return (
        "%s/prometheus.yml" % base,
        "%s/rules/%s.rules.yml" % (base, name),
        "%s/tests/%s.rules.test.yml" % (base, name),
        "%s/targets/%s.json" % (base, targets),
        "%s/targets/%s.json" % (base, NODE_TARGETS),
    )


def location(model: Model, path: str) -> str:
    """``REQ-14_x.md:131`` of a field (the document file name and line)."""
    source = model.source(path)
    if source is None:
        return "no source"
    name = source.file.rsplit("/", 1)[-1]
    return "%s:%d" % (name, source.line) if source.line else name


def assumed_metrics(plan: AlertPlan) -> List[str]:
    """What the rules assume because the SPEC does not name it."""
    out = []
    m = plan.metrics
    if not m.requests_defined:
        out.append(
            "the SPEC names no request counter with a status label: %s{%s} is assumed "
            "(the Prometheus client libraries' convention)" % (m.requests, m.status_label)
        )
    if not m.duration.defined:
        out.append(
            "the SPEC names no duration histogram: %s with the client libraries' default buckets is assumed"
            % m.duration.name
        )
    return out


def _rules_text(model: Model, plan: AlertPlan) -> str:
    anchors = []
    for alert in plan.alerts:
        note = next((n for n in (common.source_note(model, p) for p in alert.paths) if n), None)
        anchors.append((key_line("alert", alert.name), note))
    header = [
        "Recording and alerting rules of %s (Prometheus 2.42+): check with promtool check rules," % plan.service,
        "unit tests beside them: promtool test rules %s" % paths(model)[2].split("/prometheus/", 1)[1],
    ]
    header.extend("Assumed: %s." % note for note in assumed_metrics(plan))
    for skipped in plan.skipped:
        note = common.source_note(model, skipped.path)
        header.append(
            "Not an alert: %s (%s)%s: %s"
            % (skipped.name, skipped.condition, (" " + note) if note else "", skipped.reason)
        )
    return add_comments(dump(rules_document(model, plan)), anchors, header)


def monitoring_files(
    model: Model,
    targets: Optional[Sequence[Any]] = None,
    node_targets: Optional[Sequence[Any]] = None,
    cloud: Optional[str] = None,
    alertmanagers: Optional[Sequence[str]] = None,
    runbook_url: Optional[str] = None,
    secrets_dir: Optional[str] = None,
    email_to: Optional[str] = None,
    smtp_smarthost: Optional[str] = None,
    smtp_from: Optional[str] = None,
    smtp_auth_username: Optional[str] = None,
    relay_urls: Optional[Mapping[str, str]] = None,
) -> FileSet:
    """Every monitoring file of a model.

    ``targets``: the service's scrape targets, ``[{"address": "host:port",
    "labels": {"colour": "blue", ...}}]`` (default: ``localhost:<port>``);
    ``node_targets`` likewise for node exporters (default: port 9100 of every
    target host); ``cloud`` picks the tracing exporter when it differs from the
    documents'; ``runbook_url`` is where docs/RUNBOOK.md is published (the
    ``runbook_url`` annotations point at its anchors); ``secrets_dir`` holds the
    receivers' credential files; ``relay_urls`` maps a channel (teams, sms,
    webhook, ...) to the relay Alertmanager posts to.
    """
    settings = settings_from(
        targets,
        node_targets,
        alertmanagers,
        runbook_url,
        secrets_dir,
        email_to,
        smtp_smarthost,
        smtp_from,
        smtp_auth_username,
        relay_urls,
    )
    plan = alert_plan(model, settings.runbook_url)
    config_path, rules_path, tests_path, targets_path, node_path = paths(model)
    base = "%s/prometheus/" % OUTPUT_DIR
    relative = [p[len(base) :] for p in (rules_path, targets_path, node_path)]
    service_targets, node_list = targets_json(model, settings)
    files = FileSet()
    files.notes.extend(
        "monitoring: %s (%s) is not an alert: %s" % (s.name, location(model, s.path), s.reason) for s in plan.skipped
    )
    files.notes.extend("monitoring: %s" % note for note in assumed_metrics(plan))
    port_fields = ("service.name", "service.ports")
    metrics_fields: Tuple[str, ...] = ("observability.metrics",) if model.observability.metrics else ()
    files.add(
        GeneratedFile(
            config_path,
            prometheus_yml(model, settings, *relative),
            "prometheus-config",
            port_fields + metrics_fields,
        )
    )
    files.add(GeneratedFile(rules_path, _rules_text(model, plan), "prometheus-rules", plan.fields))
    tests_text = add_comments(
        dump(tests_document(model, plan, "../rules/%s" % rules_path.rsplit("/", 1)[1])),
        [],
        [
            "promtool unit tests of %s: every alert fires, stays quiet, and waits for its 'for'." % rules_path,
            "Run: promtool test rules %s" % tests_path,
        ],
    )
    files.add(GeneratedFile(tests_path, tests_text, "prometheus-rule-tests", plan.fields))
    files.add(GeneratedFile(targets_path, service_targets, "prometheus-targets", port_fields, "none"))
    files.add(GeneratedFile(node_path, node_list, "prometheus-targets", ("service.name",), "none"))
    channel_fields = ["service.name"]
    if model.observability.notification_channels:
        channel_fields.append("observability.notification_channels")
    channel_fields.extend(p for a in plan.alerts if a.channels for p in a.paths)
    files.add(
        GeneratedFile(
            "%s/alertmanager/alertmanager.yml" % OUTPUT_DIR,
            alertmanager_yml(model, plan, settings),
            "alertmanager-config",
            tuple(dict.fromkeys(channel_fields)),
        )
    )
    board, board_fields = dashboard(model, plan)
    files.add(
        GeneratedFile(
            "%s/grafana/%s.json" % (OUTPUT_DIR, file_name(model)), board, "grafana-dashboard", board_fields, "none"
        )
    )
    provider = cloud or model.cloud.provider
    otel_fields: List[str] = ["service.name"]
    if model.observability.tracing is not None:
        otel_fields.append("observability.tracing")
    if model.observability.tracing_sample_rate is not None:
        otel_fields.append("observability.tracing_sample_rate")
    exporter = tracing_exporter(model, provider)[0]
    if exporter == "awsxray" and model.cloud.primary_region:
        otel_fields.append("cloud.primary_region")
    if cloud is None and model.cloud.provider:
        otel_fields.append("cloud.provider")
    files.add(
        GeneratedFile(
            "%s/otel/collector.yaml" % OUTPUT_DIR,
            otel_collector_yaml(model, provider),
            "otel-collector",
            tuple(otel_fields),
        )
    )
    return files


def render_monitoring(model: Model, options: Options) -> FileSet:
    """The ``monitoring`` target (``devops-flow generate-monitoring``)."""
    return monitoring_files(model, cloud=options.cloud)


__all__ = ["OUTPUT_DIR", "file_name", "monitoring_files", "paths", "render_monitoring"]
