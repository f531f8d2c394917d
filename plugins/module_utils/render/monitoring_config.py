# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus, its file_sd target lists, Alertmanager and the OpenTelemetry
Collector configurations of the ``monitoring`` target.

Versions: Prometheus 2.42 and Alertmanager 0.25 (Debian 12), so nothing 3.x-only
and no receiver newer than 0.25: Alertmanager 0.25 has no Microsoft Teams
receiver and no ``url_file`` for webhooks, so Teams, SMS, webhook and unknown
channels go to a relay on the Alertmanager host (``relay_urls``), which holds
their credentials.  Credentials of the native receivers are only ever file
references (``api_url_file``, ``routing_key_file``, ``api_key_file``,
``auth_password_file``) under ``secrets_dir``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..errors import UsageError
from ..model import Model
from . import common
from .monitoring_rules import Alert, AlertPlan, channel_kind, node_job
from .monitoring_yaml import add_comments, dump, is_label_name, key_line, number, promql_string

#: Defaults of the files (docs: the monitoring role overrides them from its inventory).
SCRAPE_INTERVAL = "15s"
EVALUATION_INTERVAL = "15s"
ALERTMANAGER_ADDRESS = "localhost:9093"
PROMETHEUS_ADDRESS = "localhost:9090"
NODE_EXPORTER_PORT = 9100
SECRETS_DIR = "/etc/alertmanager/secrets"
SMTP_SMARTHOST = "localhost:25"
SMTP_FROM = "alertmanager@localhost"
#: Channels Alertmanager 0.25 cannot reach itself go to a relay on its host.
RELAY_URL = "http://127.0.0.1:9098/%s"
#: Severity order (most urgent first) for routes and inhibition.
SEVERITY_RANK = ("critical", "page", "high", "error", "warning", "medium", "low", "info", "none")
OTLP_GRPC = "localhost:4317"
OTLP_HTTP = "localhost:4318"
HEALTH_CHECK = "localhost:13133"

_ADDRESS = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):(\d{1,5})$")


@dataclass(frozen=True)
class Settings:
    """What the monitoring role knows and the documents do not."""

    targets: Optional[Tuple[Tuple[str, Tuple[Tuple[str, str], ...]], ...]] = None
    node_targets: Optional[Tuple[Tuple[str, Tuple[Tuple[str, str], ...]], ...]] = None
    alertmanagers: Tuple[str, ...] = (ALERTMANAGER_ADDRESS,)
    runbook_url: Optional[str] = None
    secrets_dir: str = SECRETS_DIR
    email_to: Optional[str] = None
    smtp_smarthost: str = SMTP_SMARTHOST
    smtp_from: str = SMTP_FROM
    smtp_auth_username: Optional[str] = None
    relay_urls: Tuple[Tuple[str, str], ...] = field(default_factory=tuple)


def _address(value: Any, what: str) -> str:
    text = str(value or "").strip()
    match = _ADDRESS.match(text)
    if not match or not 0 < int(match.group(1)) <= 65535:
        raise UsageError("%s %r is not host:port (a host name or address and a port from 1 to 65535)" % (what, value))
    return text


def scrape_targets(items: Optional[Sequence[Any]], what: str = "scrape target") -> Optional[Tuple[Any, ...]]:
    """Validated ``[{"address": "host:port", "labels": {...}}]`` as sorted tuples."""
    if items is None:
        return None
    out: Dict[Tuple[str, Tuple[Tuple[str, str], ...]], None] = {}
    for item in items:
        if isinstance(item, str):
            item = {"address": item}
        if not isinstance(item, Mapping):
            raise UsageError("a %s must be a mapping with address and labels, not %r" % (what, item))
        address = _address(item.get("address"), what)
        labels = item.get("labels") or {}
        if not isinstance(labels, Mapping):
            raise UsageError("the labels of %s %s must be a mapping" % (what, address))
        pairs = []
        for key, value in labels.items():
            if not is_label_name(str(key)):
                raise UsageError("%r (a label of %s %s) is not a Prometheus label name" % (key, what, address))
            if isinstance(value, (dict, list, tuple, set)) or value is None:
                raise UsageError("label %s of %s %s must be a string" % (key, what, address))
            pairs.append((str(key), str(value)))
        out.setdefault((address, tuple(sorted(pairs))), None)
    return tuple(sorted(out))


def settings_from(
    targets: Optional[Sequence[Any]] = None,
    node_targets: Optional[Sequence[Any]] = None,
    alertmanagers: Optional[Sequence[str]] = None,
    runbook_url: Optional[str] = None,
    secrets_dir: Optional[str] = None,
    email_to: Optional[str] = None,
    smtp_smarthost: Optional[str] = None,
    smtp_from: Optional[str] = None,
    smtp_auth_username: Optional[str] = None,
    relay_urls: Optional[Mapping[str, str]] = None,
) -> Settings:
    if secrets_dir is not None and not secrets_dir.startswith("/"):
        raise UsageError("secrets_dir must be an absolute path, not %r" % secrets_dir)
    if runbook_url is not None and not re.match(r"^[^\s\"'<>{}|\\^`]+$", runbook_url):
        raise UsageError("runbook_url must be a URL or a path without spaces, quotes or braces, not %r" % runbook_url)
    relays = []
    for channel, url in sorted((relay_urls or {}).items()):
        if not re.match(r"^https?://[^\s\"'{}]+$", str(url)):
            raise UsageError("relay URL of %s must be an http(s) URL, not %r" % (channel, url))
        relays.append((channel_kind(str(channel)), str(url)))
    return Settings(
        targets=scrape_targets(targets),
        node_targets=scrape_targets(node_targets, "node exporter target"),
        alertmanagers=tuple(_address(a, "Alertmanager address") for a in alertmanagers)
        if alertmanagers
        else (ALERTMANAGER_ADDRESS,),
        runbook_url=runbook_url,
        secrets_dir=(secrets_dir or SECRETS_DIR).rstrip("/") or "/",
        email_to=email_to,
        smtp_smarthost=_address(smtp_smarthost, "SMTP smarthost") if smtp_smarthost else SMTP_SMARTHOST,
        smtp_from=smtp_from or SMTP_FROM,
        smtp_auth_username=smtp_auth_username,
        relay_urls=tuple(relays),
    )


# --------------------------------------------------------------------------- Prometheus


def _port(model: Model) -> int:
    return common.port(model) if model.service.ports else 8080


def targets_json(model: Model, settings: Settings) -> Tuple[str, str]:
    """(service targets, node exporter targets) as file_sd JSON.  Without targets
    from the inventory: ``localhost:<port>`` and ``localhost:9100`` as a start."""
    if settings.targets is None:
        groups = [{"labels": {}, "targets": ["localhost:%d" % _port(model)]}]
    else:
        groups = [{"labels": dict(labels), "targets": [address]} for address, labels in settings.targets]
    if settings.node_targets is not None:
        nodes = [{"labels": dict(labels), "targets": [address]} for address, labels in settings.node_targets]
    elif settings.targets is None:
        nodes = [{"labels": {}, "targets": ["localhost:%d" % NODE_EXPORTER_PORT]}]
    else:
        hosts: Dict[str, Dict[str, str]] = {}
        for address, labels in settings.targets:
            host = address.rsplit(":", 1)[0]
            hosts.setdefault(host, {k: v for k, v in labels if k != "colour"})
        nodes = [
            {"labels": labels, "targets": ["%s:%d" % (host, NODE_EXPORTER_PORT)]}
            for host, labels in sorted(hosts.items())
        ]
    return (
        json.dumps(groups, indent=2, sort_keys=True) + "\n",
        json.dumps(nodes, indent=2, sort_keys=True) + "\n",
    )


def prometheus_yml(model: Model, settings: Settings, rules: str, targets: str, node_targets: str) -> str:
    job = common.service_name(model)
    data: Dict[str, Any] = {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": EVALUATION_INTERVAL},
        "rule_files": [rules],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": list(settings.alertmanagers)}]}]},
        "scrape_configs": [
            {"job_name": job, "file_sd_configs": [{"files": [targets], "refresh_interval": "1m"}]},
            {"job_name": node_job(job), "file_sd_configs": [{"files": [node_targets], "refresh_interval": "1m"}]},
        ],
    }
    if job != "prometheus":
        data["scrape_configs"].append({"job_name": "prometheus", "static_configs": [{"targets": [PROMETHEUS_ADDRESS]}]})
    metrics = model.observability.metrics
    header = [
        "Prometheus 2.42+ configuration of %s: check with promtool check config." % job,
        "Scrape targets are file_sd lists (%s, %s): the monitoring role writes them from" % (targets, node_targets),
        "its inventory (blue and green colours of each host carry a colour label).",
    ]
    if metrics is not None and metrics.retention_days:
        header.append(
            "Retention %d days: start Prometheus with --storage.tsdb.retention.time=%dd."
            % (metrics.retention_days, metrics.retention_days)
        )
    anchors = [
        (
            "rule_files:",
            _first_note(
                model, ["observability.alert_rules[%d]" % i for i in range(len(model.observability.alert_rules))]
            ),
        ),
        (key_line("job_name", job), common.source_note(model, "service.ports")),
    ]
    return add_comments(dump(data), anchors, header + _notes(model, "observability.metrics"))


def _notes(model: Model, *paths: str) -> List[str]:
    return [n for n in (common.source_note(model, p) for p in paths) if n]


# --------------------------------------------------------------------------- Alertmanager


def _rank(severity: str) -> int:
    return SEVERITY_RANK.index(severity) if severity in SEVERITY_RANK else SEVERITY_RANK.index("warning")


def _receiver_name(job: str, channels: Sequence[str]) -> str:
    return "%s-%s" % (job, "-".join(channels) if channels else "no-channel")


def _config_for(channel: str, settings: Settings, job: str) -> Tuple[str, Dict[str, Any]]:
    secrets = settings.secrets_dir.rstrip("/")
    relays = dict(settings.relay_urls)
    if channel == "slack":
        return "slack_configs", {"api_url_file": "%s/slack_api_url" % secrets, "send_resolved": True}
    if channel == "pagerduty":
        return "pagerduty_configs", {"routing_key_file": "%s/pagerduty_routing_key" % secrets, "send_resolved": True}
    if channel == "opsgenie":
        return "opsgenie_configs", {"api_key_file": "%s/opsgenie_api_key" % secrets, "send_resolved": True}
    if channel == "email":
        return "email_configs", {"to": settings.email_to or "%s-oncall@localhost" % job, "send_resolved": True}
    url = relays.get(channel) or RELAY_URL % channel
    return "webhook_configs", {"url": url, "send_resolved": True}


def _receiver(job: str, channels: Sequence[str], settings: Settings) -> Dict[str, Any]:
    receiver: Dict[str, Any] = {"name": _receiver_name(job, channels)}
    for channel in channels:
        key, config = _config_for(channel, settings, job)
        receiver.setdefault(key, []).append(config)
    return receiver


def _matcher(name: str, value: str) -> str:
    return "%s=%s" % (name, promql_string(value))


def alertmanager_yml(model: Model, plan: AlertPlan, settings: Settings) -> str:
    """Routes by severity to the channels the documents name, then by alert name
    where one alert's channels differ; critical inhibits warning."""
    job = plan.service
    documented = tuple(dict.fromkeys(channel_kind(c) for c in model.observability.notification_channels if c.strip()))
    by_severity: Dict[str, List[Alert]] = {}
    for alert in plan.alerts:
        by_severity.setdefault(alert.severity, []).append(alert)
    receivers: Dict[str, Dict[str, Any]] = {}

    def receiver_for(channels: Sequence[str]) -> str:
        name = _receiver_name(job, channels)
        receivers.setdefault(name, _receiver(job, channels, settings))
        return name

    default = receiver_for(documented)
    severity_routes = []
    anchors: List[Tuple[str, Optional[str]]] = []
    for severity in sorted(by_severity, key=lambda s: (_rank(s), s)):
        alerts = by_severity[severity]
        union = tuple(dict.fromkeys(c for a in alerts for c in a.channels)) or documented
        route: Dict[str, Any] = {"matchers": [_matcher("severity", severity)], "receiver": receiver_for(union)}
        if _rank(severity) <= _rank("critical"):
            route["repeat_interval"] = "1h"
        own: Dict[str, Tuple[str, ...]] = {}
        for alert in alerts:
            if alert.channels:
                own[alert.name] = tuple(dict.fromkeys((*own.get(alert.name, ()), *alert.channels)))
        children = []
        for name, channels in own.items():
            if set(channels) != set(union):
                children.append({"matchers": [_matcher("alertname", name)], "receiver": receiver_for(channels)})
                sources = [p for a in alerts if a.name == name for p in a.paths]
                anchors.append((key_line("receiver", receiver_for(channels)), _first_note(model, sources)))
        if children:
            route["routes"] = children
        severity_routes.append(route)
    inhibit = []
    present = sorted(by_severity, key=lambda s: (_rank(s), s))
    for index, source in enumerate(present):
        lower = [s for s in present[index + 1 :] if _rank(s) > _rank(source)]
        if lower:
            inhibit.append(
                {
                    "source_matchers": [_matcher("severity", source)],
                    "target_matchers": [
                        _matcher("severity", lower[0])
                        if len(lower) == 1
                        else "severity=~%s" % promql_string("|".join(re.escape(s) for s in lower))
                    ],
                    "equal": ["alertname", "service"],
                }
            )
    names = {a.name for a in plan.alerts}
    if "ServiceDown" in names and "TargetDown" in names:
        inhibit.append(
            {
                "source_matchers": [_matcher("alertname", "ServiceDown")],
                "target_matchers": [_matcher("alertname", "TargetDown")],
                "equal": ["service"],
            }
        )
    data: Dict[str, Any] = {"global": {"resolve_timeout": "5m"}}
    if any("email_configs" in r for r in receivers.values()):
        host = settings.smtp_smarthost.rsplit(":", 1)[0].strip("[]")
        data["global"].update({"smtp_smarthost": settings.smtp_smarthost, "smtp_from": settings.smtp_from})
        # a relay on this host needs no TLS; anything else must use it
        data["global"]["smtp_require_tls"] = host not in ("localhost", "127.0.0.1", "::1")
        if settings.smtp_auth_username:
            data["global"]["smtp_auth_username"] = settings.smtp_auth_username
            data["global"]["smtp_auth_password_file"] = "%s/smtp_password" % settings.secrets_dir.rstrip("/")
    data["route"] = {
        "receiver": default,
        "group_by": ["alertname", "service", "severity"],
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "4h",
        "routes": [
            {
                "matchers": [_matcher("service", job)],
                "receiver": default,
                "routes": severity_routes,
            }
        ],
    }
    data["inhibit_rules"] = inhibit
    data["receivers"] = list(receivers.values())
    header = [
        "Alertmanager 0.25+ configuration of %s: check with amtool check-config." % job,
        "Credentials are files under %s (never inline); Teams, SMS and webhook" % settings.secrets_dir,
        "channels go to a relay on this host (Alertmanager 0.25 has no Teams receiver nor url_file).",
    ]
    if not documented and not any(a.channels for a in plan.alerts):
        header.append("The documents name no notification channel: alerts are only visible in Alertmanager.")
    return add_comments(dump(data), anchors, header + _notes(model, "observability.notification_channels"))


def _first_note(model: Model, paths: Sequence[str]) -> Optional[str]:
    for path in paths:
        note = common.source_note(model, path)
        if note:
            return note
    return None


# --------------------------------------------------------------------------- OpenTelemetry Collector


_TOOL_CLOUDS = (
    (("x-ray", "xray"), "aws"),
    (("cloud trace", "stackdriver"), "gcp"),
    (("application insights", "app insights", "azure monitor"), "azure"),
)
_CLOUD_EXPORTERS: Dict[str, Tuple[str, str]] = {
    "aws": ("awsxray", "AWS X-Ray"),
    "gcp": ("googlecloud", "Cloud Trace"),
    "azure": ("azuremonitor", "Application Insights"),
}


def tracing_exporter(model: Model, cloud: Optional[str]) -> Tuple[str, Dict[str, Any], str]:
    """(exporter id, its configuration, why) for the documents' tracing tool."""
    tracing = model.observability.tracing
    tool = (tracing.tool or "").lower() if tracing else ""
    tool_cloud = next((c for words, c in _TOOL_CLOUDS if any(w in tool for w in words)), None)
    why = "the documents' tracing tool: %s" % (tracing.tool if tracing and tracing.tool else "none named")
    target = tool_cloud
    if tool_cloud and cloud in _CLOUD_EXPORTERS and cloud != tool_cloud:
        target = cloud
        why = "%s; the cloud is %s, so its tracing service %s is used" % (why, cloud, _CLOUD_EXPORTERS[cloud][1])
    if target == "aws":
        region = model.cloud.primary_region if (model.cloud.primary_region and cloud in (None, "aws")) else None
        return "awsxray", {"region": region or "${env:AWS_REGION}"}, why
    if target == "gcp":
        return "googlecloud", {"project": "${env:GOOGLE_CLOUD_PROJECT}"}, why
    if target == "azure":
        return "azuremonitor", {"connection_string": "${env:APPLICATIONINSIGHTS_CONNECTION_STRING}"}, why
    if "zipkin" in tool:
        return "zipkin", {"endpoint": "${env:ZIPKIN_ENDPOINT}"}, why
    return "otlp", {"endpoint": "${env:OTEL_EXPORTER_OTLP_ENDPOINT}"}, why


def otel_collector_yaml(model: Model, cloud: Optional[str]) -> str:
    exporter, config, why = tracing_exporter(model, cloud)
    rate = model.observability.tracing_sample_rate
    processors: Dict[str, Any] = {
        "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 20}
    }
    chain = ["memory_limiter"]
    if rate is not None:
        percent = max(0.0, min(100.0, round(rate * 100.0, 6)))
        processors["probabilistic_sampler"] = {"sampling_percentage": float(number(percent))}
        chain.append("probabilistic_sampler")
    processors["batch"] = {}
    chain.append("batch")
    data: Dict[str, Any] = {
        "extensions": {"health_check": {"endpoint": HEALTH_CHECK}},
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": OTLP_GRPC}, "http": {"endpoint": OTLP_HTTP}}}},
        "processors": processors,
        "exporters": {exporter: config},
        "service": {
            "extensions": ["health_check"],
            "pipelines": {"traces": {"receivers": ["otlp"], "processors": chain, "exporters": [exporter]}},
        },
    }
    header = [
        "OpenTelemetry Collector (contrib distribution) configuration of %s." % common.service_name(model),
        "Traces from the service's OTLP exporter, sampled, batched and sent to %s (%s)." % (exporter, why),
        "Endpoints and credentials come from environment variables (${env:...}), never from this file.",
    ]
    if rate is None:
        header.append("The documents give no sample rate: every trace is kept (no sampler).")
    anchors: List[Tuple[str, Optional[str]]] = [
        ("probabilistic_sampler:", common.source_note(model, "observability.tracing_sample_rate")),
        ("%s:" % exporter, common.source_note(model, "observability.tracing")),
    ]
    return add_comments(dump(data), anchors, header)


__all__ = [
    "Settings",
    "alertmanager_yml",
    "otel_collector_yaml",
    "prometheus_yml",
    "scrape_targets",
    "settings_from",
    "targets_json",
    "tracing_exporter",
]
