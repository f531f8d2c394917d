# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Grafana dashboard of the ``monitoring`` target, built as data.

Classic dashboard JSON model, ``schemaVersion`` 42 (the last version of the
classic model, Grafana 12 and later import it unchanged); the Prometheus data
source is a template variable (``${datasource}``) so the file imports into any
Grafana.  Panels: request rate, 5xx ratio, duration p50/p95/p99, host CPU and
memory (node exporter), scrape targets, then one panel per other SPEC metric.
Alert thresholds of the documents are drawn as threshold lines.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..model import Model
from . import common
from .monitoring_rules import AlertPlan
from .monitoring_yaml import number, one_line, promql_string

SCHEMA_VERSION = 42
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_RATE = "$__rate_interval"


def _text(value: str, limit: int = 300) -> str:
    """Document text for titles and descriptions: one line, no template variable."""
    return one_line(value, limit).replace("${", "$ {")


class _Panels:
    def __init__(self) -> None:
        self.panels: List[Dict[str, Any]] = []

    def add(
        self,
        title: str,
        description: str,
        targets: Sequence[Tuple[str, str]],
        unit: str,
        threshold: Optional[float] = None,
    ) -> Dict[str, Any]:
        index = len(self.panels)
        defaults: Dict[str, Any] = {"unit": unit}
        steps: List[Dict[str, Any]] = [{"color": "green", "value": None}]
        if threshold is not None:
            steps.append({"color": "red", "value": threshold})
            defaults["custom"] = {"thresholdsStyle": {"mode": "line"}}
        defaults["thresholds"] = {"mode": "absolute", "steps": steps}
        panel = {
            "id": index + 1,
            "type": "timeseries",
            "title": _text(title, 120),
            "description": _text(description),
            "datasource": dict(DATASOURCE),
            "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": {
                "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                "tooltip": {"mode": "multi", "sort": "none"},
            },
            "targets": [
                {
                    "datasource": dict(DATASOURCE),
                    "expr": expr,
                    "legendFormat": legend,
                    "range": True,
                    "refId": chr(ord("A") + position),
                }
                for position, (expr, legend) in enumerate(targets)
            ],
        }
        self.panels.append(panel)
        return panel


def _lowest(plan: AlertPlan, kind: str, ops: Sequence[str] = (">", ">=")) -> Optional[float]:
    values = [a.threshold for a in plan.alerts if a.kind == kind and a.op in ops]
    return min(values) if values else None


def _sources(model: Model, plan: AlertPlan, kind: str) -> str:
    """`` Thresholds: from REQ-14 ... (file:line).`` for the alerts of a kind."""
    notes: Dict[str, None] = {}
    for alert in plan.alerts:
        if alert.kind == kind and alert.op in (">", ">="):
            for path in alert.paths:
                note = common.source_note(model, path)
                if note:
                    notes.setdefault(note, None)
    return (" Thresholds %s." % "; ".join(notes)) if notes else ""


def dashboard(model: Model, plan: AlertPlan) -> Tuple[str, Tuple[str, ...]]:
    """(dashboard JSON, model fields used)."""
    job = common.service_name(model)
    sel = "{job=%s}" % promql_string(job)
    m = plan.metrics
    # the service's traffic, without its probes (health paths, /metrics) when the metrics have a route label
    traffic = "{job=%s%s}" % (promql_string(job), m.requests_matchers)
    timed = "{job=%s%s}" % (promql_string(job), m.duration_matchers)
    charts = list(model.observability.dashboard_charts)
    claimed: Dict[str, None] = {}

    def charts_for(words: Sequence[str], metric: Optional[str] = None) -> str:
        found = []
        for chart in charts:
            low = chart.lower()
            hit = any(w in low for w in words) or (
                metric is not None and (low == metric.lower() or metric.lower().endswith("_" + low))
            )
            if hit and chart not in claimed:
                claimed.setdefault(chart, None)
                found.append(chart)
        return (" SPEC charts: %s." % ", ".join(found)) if found else ""

    panels = _Panels()
    status = m.status_label
    without_probes = " (without the probes: %s)" % ", ".join(_text(p) for p in m.probes) if m.requests_matchers else ""
    panels.add(
        "Requests per second by %s" % status,
        "rate of %s%s%s" % (m.requests, without_probes, charts_for(("request", "throughput", "qps"))),
        [("sum by (%s) (rate(%s%s[%s]))" % (status, m.requests, traffic, _RATE), "{{%s}}" % status)],
        "reqps",
    )
    errors = "sum(rate(%s{job=%s%s,%s=~%s}[%s])) / sum(rate(%s%s[%s]))" % (
        m.requests,
        promql_string(job),
        m.requests_matchers,
        status,
        promql_string("5.."),
        _RATE,
        m.requests,
        traffic,
        _RATE,
    )
    panels.add(
        "5xx error ratio",
        "5xx responses / all responses of %s%s; the line is the documents' alert threshold.%s%s"
        % (m.requests, without_probes, charts_for(("error",)), _sources(model, plan, "error_rate")),
        [(errors, "5xx ratio")],
        "percentunit",
        _lowest(plan, "error_rate"),
    )
    hist = m.duration
    quantiles = []
    for q in (0.5, 0.95, 0.99):
        expr = "histogram_quantile(%s, sum by (le) (rate(%s_bucket%s[%s])))" % (number(q), hist.name, timed, _RATE)
        quantiles.append((expr, "p%s" % number(q * 100)))
    latency = _lowest(plan, "latency")
    panels.add(
        "Request duration p50 / p95 / p99",
        "%s quantiles; the line is the documents' latency alert threshold.%s%s"
        % (hist.name, charts_for(("latency", "duration", "response")), _sources(model, plan, "latency")),
        quantiles,
        "s" if hist.seconds else "ms",
        latency,
    )
    node = "{job=%s}" % promql_string(plan.node_job)
    panels.add(
        "Host CPU in use",
        "node exporter: busy CPU per host.%s" % charts_for(("cpu", "saturation")),
        [
            (
                '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{job=%s,mode="idle"}[%s])))'
                % (promql_string(plan.node_job), _RATE),
                "{{instance}}",
            )
        ],
        "percent",
        _lowest(plan, "cpu"),
    )
    panels.add(
        "Host memory in use",
        "node exporter: memory in use per host.%s" % charts_for(("memory",)),
        [
            (
                "100 * (1 - node_memory_MemAvailable_bytes%s / node_memory_MemTotal_bytes%s)" % (node, node),
                "{{instance}}",
            )
        ],
        "percent",
        _lowest(plan, "memory"),
    )
    panels.add(
        "Scrape targets up",
        "1 when Prometheus scrapes a target of %s (blue and green colours are separate targets)." % job,
        [("up%s" % sel, "{{instance}} {{colour}}")],
        "short",
    )
    used = {m.requests, hist.name}
    for metric in plan.metrics.definitions:
        if metric.name in used:
            continue
        used.add(metric.name)
        described = _text(metric.description) or "%s of %s" % (metric.type, job)
        extra = charts_for((), metric.name)
        if metric.type == "counter":
            target = ("sum(rate(%s%s[%s]))" % (metric.name, sel, _RATE), "per second")
            unit = "short"
        elif metric.type == "histogram":
            target = (
                "histogram_quantile(0.95, sum by (le) (rate(%s_bucket%s[%s])))" % (metric.name, sel, _RATE),
                "p95",
            )
            unit = "s" if metric.name.endswith("_seconds") else "short"
        else:
            target = ("max(%s%s)" % (metric.name, sel), metric.name)
            unit = "s" if metric.name.endswith("_seconds") else "short"
        thresholds = [
            a.threshold for a in plan.alerts if a.kind == "metric" and metric.name in a.lhs and a.op in (">", ">=")
        ]
        panels.add(metric.name, described + extra, [target], unit, min(thresholds) if thresholds else None)
    unmatched = [c for c in charts if c not in claimed]
    description = "%s (%s): request rate, errors, duration, saturation, from the SPEC's metrics." % (
        model.service.title or job,
        model.req_id,
    )
    if unmatched:
        description += " SPEC charts without a metric of their own: %s." % ", ".join(unmatched)
    data: Dict[str, Any] = {
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "description": _text(description, 1000),
        "editable": True,
        "graphTooltip": 1,
        "id": None,
        "links": [],
        "panels": panels.panels,
        "refresh": "30s",
        "schemaVersion": SCHEMA_VERSION,
        "tags": [common.label_value(job) or "service", common.label_value(model.req_id) or "req", "sdd-devops-flow"],
        "templating": {
            "list": [
                {
                    "current": {},
                    "hide": 0,
                    "includeAll": False,
                    "label": "Data source",
                    "multi": False,
                    "name": "datasource",
                    "options": [],
                    "query": "prometheus",
                    "refresh": 1,
                    "regex": "",
                    "type": "datasource",
                }
            ]
        },
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "title": _text("%s (%s)" % (model.service.title or job, job), 120),
        "uid": (common.label_value(job) or "service")[:40],
        "version": 1,
    }
    fields = ["service.name", "observability.metric_definitions"]
    if model.observability.dashboard_charts:
        fields.append("observability.dashboard_charts")
    if model.observability.dashboards is not None:
        fields.append("observability.dashboards")
    fields.extend(p for a in plan.alerts if a.kind in ("error_rate", "latency", "cpu", "memory") for p in a.paths)
    return json.dumps(data, indent=2) + "\n", tuple(dict.fromkeys(fields))


__all__ = ["SCHEMA_VERSION", "dashboard"]
