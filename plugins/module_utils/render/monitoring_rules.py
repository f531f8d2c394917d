# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The alert plan: Prometheus alerting and recording rules from the documents,
and the promtool unit tests that prove each alert fires and stays quiet.

``alert_plan(model)`` turns the 9.5.5 / SPEC alert rules into ``Alert`` objects:

* ``error_rate``: the ratio of 5xx responses on the SPEC's request counter (the
  counter with a status label; the status label the SPEC names), recorded as
  ``job:<counter>_errors:ratio_rate5m``;
* ``pNN_latency`` / ``latency`` (no quantile written: p99): ``histogram_quantile``
  over the rate of the SPEC's duration histogram's ``_bucket`` series, recorded
  per quantile;
* ``availability``: 100 * (1 - the error ratio);
* ``cpu_utilization`` / ``memory_utilization``: node exporter saturation;
* any other metric the SPEC defines (or names in the condition): its gauge value,
  or the increase of a counter over 5 minutes.

When the SPEC's request counter or duration histogram has a route label (``route``,
``path``, ``handler``, ...), the recording rules leave out the requests of the probes
(the health paths and ``/metrics``): a starting instance answers its readiness checks
with 503, which are not errors of the service, and the unit tests feed such probe series
to prove it.

Besides the documents' rules, every plan has ``TargetDown`` (``up == 0``, per
scrape target), ``ServiceDown`` (no target up, or none discovered) and CPU and
memory saturation of the hosts (unless the documents give those rules).  Their
``for`` comes from the SPEC health checks (interval x failure threshold: the
documents' own definition of unhealthy), else the defaults below.

Identical rules (same expression, threshold, ``for`` and severity: the 9.5.5 row
and the SPEC often say the same thing) become one alert that keeps every source.
Rules that cannot become a Prometheus alert are kept in ``AlertPlan.skipped``
with the reason (the runbook and the traceability matrix list them): no threshold,
no metric the SPEC defines, or a threshold the SPEC's histogram cannot reach.

Unit tests are computed, not guessed: each kind of expression has a probe that
writes input series for a wanted value and knows the value Prometheus computes
from them, so every alerting rule gets a firing case and a quiet case, and a
pending case (condition true, ``for`` not yet elapsed) when it has a ``for``.
"""

from __future__ import annotations

import abc
import math
import operator
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..model import AlertRule, MetricDefinition, Model
from . import common
from .monitoring_yaml import (
    duration,
    is_label_name,
    is_metric_name,
    number,
    one_line,
    probe_matchers,
    probe_paths,
    promql_string,
    route_label,
    template_text,
)

#: The request counter and its status label when the SPEC names none (the
#: Prometheus client libraries' conventional names; the deployment scripts'
#: canary gate uses the same).
DEFAULT_REQUESTS_METRIC = ("http_requests_total", "status")
DEFAULT_DURATION_METRIC = "http_request_duration_seconds"
#: The Go client's default buckets, assumed for a histogram the SPEC gives none for.
DEFAULT_BUCKETS: Tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Rate window of every recording rule and alert.
WINDOW = "5m"
#: The scrape job of the node exporters (``node_job``: another name for a service called so).
NODE_JOB = "node"
#: Host saturation alerts when the documents give no CPU / memory rule.
DEFAULT_SATURATION_PERCENT = 90.0
DEFAULT_SATURATION_FOR_SECONDS = 600
DEFAULT_SATURATION_SEVERITY = "warning"
#: ``for`` of TargetDown / ServiceDown when the SPEC gives no health check timing.
DEFAULT_DOWN_FOR_SECONDS = 300
#: Label naming the requirement an alert came from (label names cannot hold "/").
REQ_LABEL = "sdd_devops_flow_req"
#: Quantile used for a latency rule that names none ("Slow requests > 2 seconds").
DEFAULT_LATENCY_QUANTILE = 0.99
#: Quantiles always recorded (the dashboard and the runbook use them).
RECORDED_QUANTILES: Tuple[float, ...] = (0.5, 0.95, 0.99)
#: Default place of the runbook the ``runbook_url`` annotations point at (relative to
#: the output folder; the monitoring role passes the published URL).
DEFAULT_RUNBOOK = "docs/RUNBOOK.md"

_OPS: Dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_CHANNELS = (
    ("slack", "slack"),
    ("pager", "pagerduty"),
    ("opsgenie", "opsgenie"),
    ("teams", "teams"),
    ("mail", "email"),
    ("sms", "sms"),
    ("text message", "sms"),
    ("webhook", "webhook"),
)
#: Test timing: one sample a minute, one rule evaluation a minute.
_STEP_MINUTES = 1
_TOTAL_PER_MINUTE = 100000


def node_job(service: str) -> str:
    """The node exporters' job name: ``node``, unless the service itself is called so."""
    return NODE_JOB if service != NODE_JOB else "node-exporter"


# --------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class Histogram:
    name: str
    buckets: Tuple[float, ...]
    seconds: bool  # False: the metric is in milliseconds
    defined: bool  # named by the SPEC


@dataclass(frozen=True)
class Metrics:
    """The SPEC metrics the rules and the dashboard use."""

    requests: str
    status_label: str
    requests_defined: bool
    duration: Histogram
    definitions: Tuple[MetricDefinition, ...]
    #: The probes' paths (health paths, /metrics) and the route label of the request counter and
    #: of the duration histogram ("" without one): the rules and the dashboard leave the probes'
    #: requests out, so that a starting colour's 503s to its readiness checks are not errors.
    probes: Tuple[str, ...] = ()
    requests_route: str = ""
    duration_route: str = ""

    @property
    def requests_matchers(self) -> str:
        """``,route!="/health/ready",...`` for selectors of the request counter."""
        return probe_matchers(self.requests_route, self.probes)

    @property
    def duration_matchers(self) -> str:
        """The same for selectors of the duration histogram's buckets."""
        return probe_matchers(self.duration_route, self.probes)

    @property
    def stem(self) -> str:
        """The request counter without ``_total`` (recording rule names)."""
        return self.requests[: -len("_total")] if self.requests.endswith("_total") else self.requests


def _histogram(metric: MetricDefinition, defined: bool = True) -> Histogram:
    buckets = tuple(sorted({float(b) for b in metric.buckets if not math.isnan(b) and abs(b) != float("inf")}))
    lower = metric.name.lower()
    seconds = not (lower.endswith("_milliseconds") or lower.endswith("_ms"))
    return Histogram(metric.name, buckets or DEFAULT_BUCKETS, seconds, defined)


def spec_metrics(model: Model) -> Metrics:
    """The request counter (a counter with a status label, preferring one named
    ``*request*``) and the duration histogram (preferring ``*duration*`` or
    ``*latency*``), as the deployment scripts' canary gate picks them."""
    definitions = tuple(m for m in model.observability.metric_definitions if is_metric_name(m.name))
    best: Optional[Tuple[int, MetricDefinition, str]] = None
    for index, metric in enumerate(definitions):
        if metric.type != "counter":
            continue
        status = next((lb for lb in metric.labels if is_label_name(lb) and ("status" in lb or "code" in lb)), None)
        if status is None:
            continue
        rank = index - (1000 if "request" in metric.name else 0)
        if best is None or rank < best[0]:
            best = (rank, metric, status)
    hist: Optional[Tuple[int, MetricDefinition]] = None
    for index, metric in enumerate(definitions):
        if metric.type != "histogram":
            continue
        rank = index - (1000 if ("duration" in metric.name or "latency" in metric.name) else 0)
        if hist is None or rank < hist[0]:
            hist = (rank, metric)
    duration_metric = _histogram(hist[1]) if hist else Histogram(DEFAULT_DURATION_METRIC, DEFAULT_BUCKETS, True, False)
    probes = probe_paths(model.service.health)
    duration_route = route_label(hist[1].labels) if hist else ""
    if best:
        return Metrics(
            best[1].name,
            best[2],
            True,
            duration_metric,
            definitions,
            probes,
            route_label(best[1].labels),
            duration_route,
        )
    return Metrics(
        DEFAULT_REQUESTS_METRIC[0],
        DEFAULT_REQUESTS_METRIC[1],
        False,
        duration_metric,
        definitions,
        probes,
        "",
        duration_route,
    )


# --------------------------------------------------------------------------- probes


@dataclass(frozen=True)
class Case:
    """Input series that make an expression take one value."""

    value: Optional[float]  # None: the expression has no result
    series: Tuple[Tuple[str, str], ...]  # (series selector, values notation)
    labels: Tuple[Tuple[str, str], ...]  # labels of the expression's result
    exact: bool = True


def _series(name: str, labels: Sequence[Tuple[str, str]]) -> str:
    return "%s{%s}" % (name, ",".join("%s=%s" % (k, promql_string(v)) for k, v in labels))


def _counter(per_minute: float, minutes: int) -> str:
    return "0+%sx%d" % (number(per_minute), minutes)


def _constant(value: float, minutes: int) -> str:
    return "%s+0x%d" % (number(value), minutes)


class Probe(abc.ABC):
    """What one kind of expression needs in a unit test."""

    #: Minutes from the first sample to the first evaluation with a result.
    start_minutes = 0
    #: Minutes until the value is the wanted one (a rate of an absolute counter is
    #: too low until its window is full of samples; ratios and quantiles are not).
    settle_minutes = 0
    #: True when "no result at all" makes the alert fire (absent()).
    fires_when_absent = False

    def exact_start(self, op: str) -> bool:
        """True when the condition holds from ``start_minutes`` on (the early, unsettled
        values err on the side of the condition), so the alert's activation is known."""
        return True

    @abc.abstractmethod
    def cases(self, threshold: float, minutes: int) -> List[Case]:
        """Cases for values around ``threshold``, series ``minutes`` long."""


class RatioProbe(Probe):
    """The error ratio: errors / all requests of the request counter."""

    start_minutes = 1

    def __init__(self, job: str, metrics: Metrics, percent_available: bool = False) -> None:
        self.job = job
        self.metrics = metrics
        self.available = percent_available

    def _case(self, ratio: float, minutes: int) -> Case:
        errors = round(min(1.0, max(0.0, ratio)) * _TOTAL_PER_MINUTE)
        base = [("job", self.job), ("instance", "localhost:8080")]
        label = self.metrics.status_label
        series: Tuple[Tuple[str, str], ...] = (
            (_series(self.metrics.requests, [*base, (label, "500")]), _counter(errors, minutes)),
            (_series(self.metrics.requests, [*base, (label, "200")]), _counter(_TOTAL_PER_MINUTE - errors, minutes)),
        )
        if self.metrics.requests_matchers:
            # as many 503s to a probe path as there are requests: they must not count
            probe = (self.metrics.requests_route, self.metrics.probes[0])
            series += (
                (_series(self.metrics.requests, [*base, (label, "503"), probe]), _counter(_TOTAL_PER_MINUTE, minutes)),
            )
        value = errors / float(_TOTAL_PER_MINUTE)
        exact = errors in (0, _TOTAL_PER_MINUTE)
        if self.available:
            value = 100.0 * (1.0 - value)
        return Case(value, series, (("job", self.job),), exact)

    def cases(self, threshold: float, minutes: int) -> List[Case]:
        ratio = 1.0 - threshold / 100.0 if self.available else threshold
        wanted = [0.0, 1.0, ratio / 2.0, (ratio + 1.0) / 2.0, ratio * 1.5, ratio * 0.75]
        return [self._case(r, minutes) for r in wanted if 0.0 <= r <= 1.0]


class QuantileProbe(Probe):
    """A quantile of a histogram: observations all in one bucket, or all above the
    largest finite bucket (histogram_quantile then answers that bucket's bound)."""

    start_minutes = 1

    def __init__(self, job: str, hist: Histogram, quantile: float, probe: Tuple[str, ...] = ()) -> None:
        self.job = job
        self.hist = hist
        self.q = quantile
        #: (route label, probe path): series of fast probe requests the expression must leave out
        self.probe = probe

    def _case(self, index: Optional[int], minutes: int) -> Case:
        bounds = list(self.hist.buckets)
        base = [("job", self.job), ("instance", "localhost:8080")]
        series = []
        for position, bound in enumerate([*bounds, None]):
            le = "+Inf" if bound is None else number(bound)
            filled = bound is None or (index is not None and position >= index)
            series.append(
                (_series(self.hist.name + "_bucket", [*base, ("le", le)]), _counter(10 if filled else 0, minutes))
            )
            if self.probe:
                # a hundred times as many probe requests, all in the first bucket: they would pull
                # every quantile down to it; they must not count
                probe = [*base, ("le", le), (self.probe[0], self.probe[1])]
                series.append((_series(self.hist.name + "_bucket", probe), _counter(1000, minutes)))
        if index is None:
            value = bounds[-1]
            exact = True
        else:
            upper = bounds[index]
            lower = bounds[index - 1] if index > 0 else 0.0
            if index == 0 and upper <= 0:
                value, exact = upper, True
            else:
                value, exact = lower + (upper - lower) * self.q, False
        return Case(value, tuple(series), (("job", self.job),), exact)

    def cases(self, threshold: float, minutes: int) -> List[Case]:
        out = [self._case(None, minutes)]
        out.extend(self._case(i, minutes) for i in range(len(self.hist.buckets)))
        out.append(Case(None, (), ()))
        return out


class GaugeProbe(Probe):
    """``max by (job) (metric)``: any value, held constant."""

    def __init__(self, job: str, name: str) -> None:
        self.job = job
        self.name = name

    def cases(self, threshold: float, minutes: int) -> List[Case]:
        step = max(1.0, abs(threshold))
        labels = [("job", self.job), ("instance", "localhost:8080")]
        out = []
        for value in (threshold + step, threshold - step, threshold, 0.0):
            out.append(Case(value, ((_series(self.name, labels), _constant(value, minutes)),), (("job", self.job),)))
        return out


class IncreaseProbe(Probe):
    """``sum by (job) (increase(counter[5m]))``: a steady increase per minute."""

    start_minutes = 1
    settle_minutes = 6

    def exact_start(self, op: str) -> bool:
        return op in ("<", "<=")  # the increase is too low until the window is full

    def __init__(self, job: str, name: str) -> None:
        self.job = job
        self.name = name

    def cases(self, threshold: float, minutes: int) -> List[Case]:
        labels = [("job", self.job), ("instance", "localhost:8080")]
        out = []
        for value in (abs(threshold) * 2.0 + 10.0, threshold / 2.0, 0.0):
            if value < 0:
                continue
            series = ((_series(self.name, labels), _counter(value / 5.0, minutes)),)
            out.append(Case(value, series, (("job", self.job),), value == 0.0))
        return out


class UpProbe(Probe):
    """``up`` per target (``TargetDown``) or summed over the job (``ServiceDown``,
    which also fires when no target is discovered at all)."""

    def __init__(self, job: str, summed: bool) -> None:
        self.job = job
        self.summed = summed
        self.fires_when_absent = summed

    def cases(self, threshold: float, minutes: int) -> List[Case]:
        target = [("job", self.job), ("instance", "localhost:8080")]
        result = (("job", self.job),) if self.summed else tuple(target)
        out = [Case(value, ((_series("up", target), _constant(value, minutes)),), result) for value in (0.0, 1.0)]
        out.append(Case(None, (), (("job", self.job),) if self.summed else ()))
        return out


class CpuProbe(Probe):
    """Busy CPU in percent from the node exporter's idle seconds."""

    start_minutes = 1
    settle_minutes = 6

    def exact_start(self, op: str) -> bool:
        return op in (">", ">=")  # idle is too low (busy too high) until the window is full

    def __init__(self, node_job: str) -> None:
        self.node_job = node_job

    def cases(self, threshold: float, minutes: int) -> List[Case]:
        labels = [("job", self.node_job), ("instance", "localhost:9100"), ("cpu", "0"), ("mode", "idle")]
        out = []
        for value in ((threshold + 100.0) / 2.0, threshold / 2.0, 100.0, 0.0):
            if not 0.0 <= value <= 100.0:
                continue
            idle = round(60.0 * (1.0 - value / 100.0), 6)
            series = ((_series("node_cpu_seconds_total", labels), _counter(idle, minutes)),)
            result = (("instance", "localhost:9100"), ("job", self.node_job))
            out.append(Case(100.0 * (1.0 - idle / 60.0), series, result, False))
        return out


class MemoryProbe(Probe):
    """Used memory in percent: 1 - MemAvailable / MemTotal."""

    def __init__(self, node_job: str) -> None:
        self.node_job = node_job

    def cases(self, threshold: float, minutes: int) -> List[Case]:
        labels = [("job", self.node_job), ("instance", "localhost:9100")]
        total = 1000000000.0
        out = []
        for value in ((threshold + 100.0) / 2.0, threshold / 2.0, 100.0, 0.0):
            if not 0.0 <= value <= 100.0:
                continue
            available = float(round(total * (1.0 - value / 100.0)))
            series = (
                (_series("node_memory_MemAvailable_bytes", labels), _constant(available, minutes)),
                (_series("node_memory_MemTotal_bytes", labels), _constant(total, minutes)),
            )
            actual = 100.0 * (1.0 - available / total)
            out.append(Case(actual, series, tuple(labels), available in (0.0, total)))
        return out


# --------------------------------------------------------------------------- the plan


@dataclass
class Alert:
    """One Prometheus alerting rule."""

    name: str
    kind: str  # error_rate, availability, latency, metric, target_down, service_down, cpu, memory
    severity: str
    lhs: str
    op: str
    threshold: float  # in the unit of the expression
    threshold_text: str
    for_seconds: Optional[int]
    summary: str
    probe: Probe
    channels: Tuple[str, ...] = ()
    conditions: Tuple[str, ...] = ()
    paths: Tuple[str, ...] = ()  # model field paths (sources)
    origins: Tuple[str, ...] = ()
    also_named: Tuple[str, ...] = ()
    notes: Tuple[str, ...] = ()
    absent: Optional[str] = None  # selector whose absence also fires

    @property
    def expr(self) -> str:
        core = "%s %s %s" % (self.lhs, self.op, number(self.threshold))
        if self.absent:
            return "%s or absent(%s)" % (core, self.absent)
        return core

    @property
    def anchor(self) -> str:
        """The runbook heading anchor (GitHub style: the heading in lower case)."""
        return self.name.lower()

    def holds(self, value: Optional[float]) -> bool:
        if value is None:
            return self.absent is not None
        return _OPS[self.op](value, self.threshold)

    def key(self) -> Tuple[str, str, float, Optional[int], str]:
        return (self.lhs, self.op, self.threshold, self.for_seconds, self.severity)


@dataclass(frozen=True)
class Skipped:
    """A document rule that did not become an alert, and why."""

    path: str
    name: str
    condition: str
    reason: str


@dataclass
class AlertPlan:
    service: str
    job: str
    metrics: Metrics
    alerts: List[Alert] = field(default_factory=list)
    recording: List[Tuple[str, str]] = field(default_factory=list)
    skipped: List[Skipped] = field(default_factory=list)
    fields: Tuple[str, ...] = ()
    runbook: str = DEFAULT_RUNBOOK
    node_job: str = NODE_JOB

    def groups(self) -> Dict[str, List[Alert]]:
        """Alerts by name, in plan order."""
        out: Dict[str, List[Alert]] = {}
        for alert in self.alerts:
            out.setdefault(alert.name, []).append(alert)
        return out


def severity(text: str) -> str:
    value = re.sub(r"[^a-z0-9_-]+", "-", (text or "").lower()).strip("-")
    return value[:40] or "warning"


def channel_kind(text: str) -> str:
    """A notification channel as Alertmanager knows it (slack, pagerduty, email,
    teams, sms, webhook, opsgenie), else ``other-<name>``."""
    low = " ".join((text or "").lower().split())
    for word, kind in _CHANNELS:
        if word in low:
            return kind
    slug = re.sub(r"[^a-z0-9]+", "-", low).strip("-")[:40]
    return "other-%s" % (slug or "channel")


def _alert_name(text: str, fallback: str) -> str:
    """An alert name: the words of ``text`` in CamelCase, letters and digits only."""
    words = re.findall(r"[A-Za-z0-9]+", text or "")
    name = "".join(w[:1].upper() + w[1:] for w in words)
    if not name or not name[0].isalpha():
        name = fallback + name
    return name[:80]


def _percent(value: float) -> str:
    return "%s%%" % number(round(value * 100.0, 6))


def _seconds_text(value: float, seconds: bool) -> str:
    ms = value * 1000.0 if seconds else value
    return "%s ms" % number(round(ms, 6)) if ms < 1000 else "%s s" % number(round(ms / 1000.0, 6))


@dataclass(frozen=True)
class _Origin:
    """What a document rule gives every alert made from it."""

    severity: str
    for_seconds: Optional[int]
    channels: Tuple[str, ...] = ()
    conditions: Tuple[str, ...] = ()
    paths: Tuple[str, ...] = ()
    origins: Tuple[str, ...] = ()


#: Normalised metric words that are not metric names of their own.
_KIND_WORDS = frozenset(["error_rate", "p95_latency", "p99_latency", "p50_latency", "latency", "availability"])


class _Builder:
    def __init__(self, model: Model, runbook: str) -> None:
        self.model = model
        self.job = common.service_name(model)
        self.sel = "{job=%s}" % promql_string(self.job)
        self.metrics = spec_metrics(model)
        self.plan = AlertPlan(self.job, self.job, self.metrics, runbook=runbook, node_job=node_job(self.job))
        self.fields: Dict[str, None] = {}
        self.used_quantiles: Dict[float, None] = dict.fromkeys(RECORDED_QUANTILES)

    # recording rules ------------------------------------------------------

    def _ratio_record(self) -> str:
        return "job:%s_errors:ratio_rate%s" % (self.metrics.stem, WINDOW)

    def _quantile_record(self, q: float) -> str:
        return "job:%s:p%s_rate%s" % (self.metrics.duration.name, number(round(q * 100, 4)).replace(".", "_"), WINDOW)

    def recording_rules(self) -> List[Tuple[str, str]]:
        m = self.metrics
        job = promql_string(self.job)
        rate_all = "sum by (job) (rate(%s{job=%s%s}[%s]))" % (m.requests, job, m.requests_matchers, WINDOW)
        rate_errors = "sum by (job) (rate(%s{job=%s%s,%s=~%s}[%s]))" % (
            m.requests,
            job,
            m.requests_matchers,
            m.status_label,
            promql_string("5.."),
            WINDOW,
        )
        rules = [
            ("job:%s:rate%s" % (m.stem, WINDOW), rate_all),
            # no 5xx series yet is a ratio of 0 while there is traffic, not "no data"
            ("job:%s_errors:rate%s" % (m.stem, WINDOW), "%s or (0 * %s)" % (rate_errors, rate_all)),
            (self._ratio_record(), "job:%s_errors:rate%s / job:%s:rate%s" % (m.stem, WINDOW, m.stem, WINDOW)),
            (
                "job:%s_bucket:rate%s" % (m.duration.name, WINDOW),
                "sum by (job, le) (rate(%s_bucket{job=%s%s}[%s]))"
                % (m.duration.name, job, m.duration_matchers, WINDOW),
            ),
        ]
        for q in sorted(self.used_quantiles):
            rules.append(
                (
                    self._quantile_record(q),
                    "histogram_quantile(%s, job:%s_bucket:rate%s)" % (number(q), m.duration.name, WINDOW),
                )
            )
        return rules

    def _duration_probe(self) -> Tuple[str, ...]:
        m = self.metrics
        return (m.duration_route, m.probes[0]) if m.duration_matchers else ()

    # document rules -------------------------------------------------------

    def _use(self, *paths: str) -> None:
        for path in paths:
            self.fields.setdefault(path, None)

    def _threshold(self, rule: AlertRule, kind: str) -> Tuple[Optional[float], Tuple[str, ...]]:
        """The rule's threshold, else the model's threshold for an unresolved
        ``@threshold:`` reference (with the field it came from)."""
        if rule.threshold is not None:
            return float(rule.threshold), ()
        if not rule.threshold_ref:
            return None, ()
        attr = {
            "error_rate": "error_rate_ratio",
            "p95_latency": "p95_latency_ms",
            "p99_latency": "p99_latency_ms",
            "availability": "availability_percent",
        }.get(kind)
        if attr is None:
            return None, ()
        observability = self.model.observability
        for holder, prefix in (
            (observability.thresholds, "observability.thresholds"),
            (observability.targets, "observability.targets"),
        ):
            value = getattr(holder, attr)
            if value is not None:
                return float(value), ("%s.%s" % (prefix, attr),)
        return None, ()

    def _find_metric(self, rule: AlertRule) -> Tuple[Optional[str], Optional[MetricDefinition], str]:
        """(metric name, its SPEC definition, note) for a rule on a metric of its own:
        a SPEC metric named by the rule or its condition (exactly, or as the end of
        the SPEC's name), else a snake_case metric name written in the condition."""
        defs = {m.name: m for m in self.metrics.definitions}
        if rule.metric in defs:
            return rule.metric, defs[rule.metric], ""
        idents = [t for t in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", rule.condition or "") if "_" in t]
        for ident in idents:
            if ident in defs:
                return ident, defs[ident], ""
            ends = [n for n in defs if n.endswith("_" + ident)]
            if len(ends) == 1:
                return ends[0], defs[ends[0]], ""
        word = (rule.metric or "").strip("_")
        if word:
            inside = [n for n in defs if ("_%s_" % word) in ("_%s_" % n)]
            if len(inside) == 1:
                return inside[0], defs[inside[0]], ""
        for ident in idents:
            if is_metric_name(ident) and ident.lower() not in _KIND_WORDS:
                return ident, None, "%s is not among the SPEC's metrics: an exporter must provide it" % ident
        return None, None, ""

    def add_rule(self, index: int, rule: AlertRule) -> None:
        path = "observability.alert_rules[%d]" % index
        self._use(path)
        name = _alert_name(rule.name, "Alert")
        metric = (rule.metric or "").lower()
        if rule.operator not in _OPS:
            self._skip(path, rule, "operator %r is not a comparison Prometheus evaluates" % rule.operator)
            return
        op = rule.operator
        kind = metric
        quantile: Optional[float] = None
        match = re.match(r"^p(\d{1,2}(?:\.\d+)?)_latency$", metric)
        if match:
            quantile = float(match.group(1)) / 100.0
        elif metric in ("latency", "response_time", "duration"):
            quantile = DEFAULT_LATENCY_QUANTILE
        value, extra = self._threshold(rule, kind)
        if value is None:
            reason = (
                "no threshold: the reference @threshold: %s is not resolved and the documents give no %s threshold"
                % (rule.threshold_ref, kind)
                if rule.threshold_ref
                else "no threshold: the condition gives no number to compare with"
            )
            self._skip(path, rule, reason)
            return
        self._use(*extra)
        unit = (rule.unit or "").lower()
        origin = _Origin(
            severity(rule.severity),
            rule.for_seconds,
            tuple(dict.fromkeys(channel_kind(c) for c in rule.channels if c.strip())),
            (rule.condition,),
            (path, *extra),
            (rule.origin,) if rule.origin else (),
        )
        if metric in ("error_rate", "errors", "error_ratio", "availability"):
            self._use("observability.metric_definitions")
            if metric == "availability":
                percent = value * 100.0 if unit == "ratio" else value
                self._add(
                    self._alert(
                        name,
                        "availability",
                        "100 * (1 - %s%s)" % (self._ratio_record(), self.sel),
                        op,
                        percent,
                        "%s%%" % number(round(percent, 6)),
                        "share of non-5xx responses of %s" % self.job,
                        RatioProbe(self.job, self.metrics, percent_available=True),
                        origin,
                    )
                )
                return
            ratio = value / 100.0 if unit in ("percent", "%") else value
            self._add(
                self._alert(
                    name,
                    "error_rate",
                    "%s%s" % (self._ratio_record(), self.sel),
                    op,
                    ratio,
                    _percent(ratio),
                    "5xx ratio of %s on %s" % (self.metrics.requests, self.job),
                    RatioProbe(self.job, self.metrics),
                    origin,
                )
            )
            return
        if quantile is not None:
            self._latency(name, quantile, value, unit, op, origin, metric.startswith("p"))
            return
        if metric in ("cpu_utilization", "cpu", "memory_utilization", "memory"):
            percent = value * 100.0 if unit == "ratio" else value
            self._add(self._saturation(metric.startswith("cpu"), name, percent, op, origin))
            return
        self._metric(path, rule, name, value, unit, op, origin)

    def _latency(
        self, name: str, quantile: float, value: float, unit: str, op: str, origin: _Origin, named: bool
    ) -> None:
        hist = self.metrics.duration
        ms = value * 1000.0 if unit in ("s", "sec", "second", "seconds") else value
        limit = ms / 1000.0 if hist.seconds else ms
        if not 0.0 < quantile < 1.0:
            self._skip_origin(origin, name, "quantile %s is not between 0 and 1" % number(quantile))
            return
        self.used_quantiles.setdefault(quantile, None)
        self._use("observability.metric_definitions")
        notes = () if named else ("the condition names no quantile: p%s is used" % number(quantile * 100),)
        self._add(
            self._alert(
                name,
                "latency",
                "%s%s" % (self._quantile_record(quantile), self.sel),
                op,
                limit,
                _seconds_text(limit, hist.seconds),
                "p%s latency of %s (%s)" % (number(round(quantile * 100, 4)), self.job, hist.name),
                QuantileProbe(self.job, hist, quantile, self._duration_probe()),
                origin,
                notes,
            )
        )

    def _metric(self, path: str, rule: AlertRule, name: str, value: float, unit: str, op: str, origin: _Origin) -> None:
        found, definition, note = self._find_metric(rule)
        if found is None:
            self._skip(
                path,
                rule,
                "no Prometheus metric: %r is not one of the SPEC's metrics and the condition names none"
                % (rule.metric or rule.condition),
            )
            return
        self._use("observability.metric_definitions")
        seconds = found.endswith("_seconds")
        limit = value / 1000.0 if (seconds and unit == "ms") else value
        notes = (note,) if note else ()
        if definition is not None and definition.type == "histogram":
            hist = _histogram(definition)
            lhs = "histogram_quantile(0.95, sum by (job, le) (rate(%s_bucket%s[%s])))" % (found, self.sel, WINDOW)
            probe: Probe = QuantileProbe(self.job, hist, 0.95)
            summary = "p95 of %s on %s" % (found, self.job)
            notes = (*notes, "the condition names a histogram: its p95 is compared")
            text = _seconds_text(limit, hist.seconds)
        elif definition is not None and definition.type == "counter":
            lhs = "sum by (job) (increase(%s%s[%s]))" % (found, self.sel, WINDOW)
            probe = IncreaseProbe(self.job, found)
            summary = "increase of %s over %s on %s" % (found, WINDOW, self.job)
            text = number(limit)
        else:
            lhs = "max by (job) (%s%s)" % (found, self.sel)
            probe = GaugeProbe(self.job, found)
            summary = "%s of %s" % (found, self.job)
            text = number(limit) + (" s" if seconds else "")
        self._add(self._alert(name, "metric", lhs, op, limit, text, summary, probe, origin, notes))

    def _alert(
        self,
        name: str,
        kind: str,
        lhs: str,
        op: str,
        threshold: float,
        text: str,
        summary: str,
        probe: Probe,
        origin: _Origin,
        notes: Tuple[str, ...] = (),
    ) -> Alert:
        return Alert(
            name,
            kind,
            origin.severity,
            lhs,
            op,
            threshold,
            text,
            origin.for_seconds,
            summary,
            probe,
            channels=origin.channels,
            conditions=origin.conditions,
            paths=origin.paths,
            origins=origin.origins,
            notes=notes,
        )

    def _saturation(self, cpu: bool, name: str, percent: float, op: str, origin: _Origin) -> Alert:
        node = promql_string(self.plan.node_job)
        if cpu:
            lhs = '100 * (1 - avg by (job, instance) (rate(node_cpu_seconds_total{job=%s,mode="idle"}[%s])))' % (
                node,
                WINDOW,
            )
            probe: Probe = CpuProbe(self.plan.node_job)
        else:
            lhs = "100 * (1 - node_memory_MemAvailable_bytes{job=%s} / node_memory_MemTotal_bytes{job=%s})" % (
                node,
                node,
            )
            probe = MemoryProbe(self.plan.node_job)
        return self._alert(
            name,
            "cpu" if cpu else "memory",
            lhs,
            op,
            percent,
            "%s%%" % number(round(percent, 6)),
            "%s in use on a host of %s (node exporter)" % ("CPU" if cpu else "memory", self.job),
            probe,
            origin,
        )

    def _skip(self, path: str, rule: AlertRule, reason: str) -> None:
        self.plan.skipped.append(Skipped(path, rule.name, rule.condition, reason))

    def _skip_origin(self, origin: _Origin, name: str, reason: str) -> None:
        for path in origin.paths:
            if path.startswith("observability.alert_rules["):
                condition = origin.conditions[0] if origin.conditions else ""
                self.plan.skipped.append(Skipped(path, name, condition, reason))
                return

    def _add(self, alert: Alert) -> None:
        """Merge with an identical alert (the SPEC's name and channels win over a
        9.5.5 row's), keep one expression per name, and keep only alerts that unit
        tests can make fire and stay quiet."""
        reason = reachable(alert)
        if reason:
            self._skip_origin(
                _Origin(alert.severity, alert.for_seconds, (), alert.conditions, alert.paths), alert.name, reason
            )
            return
        for other in self.plan.alerts:
            if other.key() != alert.key():
                continue
            if alert.name != other.name:
                if alert.channels and not other.channels and self._free(alert.name, other.lhs, other):
                    other.also_named = tuple(dict.fromkeys((*other.also_named, other.name)))
                    other.name = alert.name
                else:
                    other.also_named = tuple(dict.fromkeys((*other.also_named, alert.name)))
            other.channels = tuple(dict.fromkeys((*other.channels, *alert.channels)))
            other.conditions = tuple(dict.fromkeys((*other.conditions, *alert.conditions)))
            other.paths = tuple(dict.fromkeys((*other.paths, *alert.paths)))
            other.origins = tuple(dict.fromkeys((*other.origins, *alert.origins)))
            other.notes = tuple(dict.fromkeys((*other.notes, *alert.notes)))
            return
        base, count = alert.name, 1
        while not self._free(alert.name, alert.lhs):
            count += 1
            alert.name = "%s%d" % (base, count)
        self.plan.alerts.append(alert)

    def _free(self, name: str, lhs: str, skip: Optional[Alert] = None) -> bool:
        """True when ``name`` is unused, or used only by alerts on the same expression
        (names are compared case-insensitively: they are runbook anchors)."""
        return all(a.lhs == lhs for a in self.plan.alerts if a is not skip and a.name.lower() == name.lower())

    # defaults -------------------------------------------------------------

    def add_defaults(self) -> None:
        health = self.model.service.health
        if health.interval_seconds and health.failure_threshold:
            down_for = health.interval_seconds * health.failure_threshold
            down_paths: Tuple[str, ...] = ("service.health.interval_seconds", "service.health.failure_threshold")
            self._use(*down_paths)
        else:
            down_for, down_paths = DEFAULT_DOWN_FOR_SECONDS, ()
        for summed in (False, True):
            lhs = "sum by (job) (up%s)" % self.sel if summed else "up%s" % self.sel
            alert = Alert(
                "ServiceDown" if summed else "TargetDown",
                "service_down" if summed else "target_down",
                "critical" if summed else "warning",
                lhs,
                "==",
                0.0,
                "no target up" if summed else "scrape target down",
                down_for,
                (
                    "no scrape target of %s is up (or none is discovered)" % self.job
                    if summed
                    else "a scrape target of %s is down" % self.job
                ),
                UpProbe(self.job, summed),
                paths=down_paths,
                absent=("up%s" % self.sel) if summed else None,
            )
            self._add(alert)
        kinds = {a.kind for a in self.plan.alerts}
        default = _Origin(DEFAULT_SATURATION_SEVERITY, DEFAULT_SATURATION_FOR_SECONDS)
        for cpu in (True, False):
            if ("cpu" if cpu else "memory") in kinds:
                continue
            name = "HostCpuSaturation" if cpu else "HostMemorySaturation"
            self._add(self._saturation(cpu, name, DEFAULT_SATURATION_PERCENT, ">", default))

    def build(self) -> AlertPlan:
        for index, rule in enumerate(self.model.observability.alert_rules):
            self.add_rule(index, rule)
        self.add_defaults()
        self.plan.recording = self.recording_rules()
        self._use("service.name")
        self.plan.fields = tuple(self.fields)
        return self.plan


def alert_plan(model: Model, runbook: Optional[str] = None) -> AlertPlan:
    """Every alert, recording rule and skipped document rule of a model."""
    return _Builder(model, runbook or DEFAULT_RUNBOOK).build()


# --------------------------------------------------------------------------- rules file


def rule_annotations(plan: AlertPlan, alert: Alert) -> Dict[str, str]:
    """The annotations as written (Go template text: document text is inert)."""
    return {key: template_text(value) if key != "runbook_url" else value for key, value in _texts(plan, alert).items()}


def expanded_annotations(plan: AlertPlan, alert: Alert) -> Dict[str, str]:
    """The annotations as Prometheus expands them (what the unit tests expect)."""
    return {key: one_line(value, 500) if key != "runbook_url" else value for key, value in _texts(plan, alert).items()}


def _texts(plan: AlertPlan, alert: Alert) -> Dict[str, str]:
    when = " for %s" % duration(alert.for_seconds) if alert.for_seconds else ""
    summary = "%s: %s %s %s%s" % (alert.name, alert.summary, alert.op, alert.threshold_text, when)
    if alert.kind in ("target_down", "service_down"):
        summary = "%s: %s%s" % (alert.name, alert.summary, when)
    said = "; ".join(c for c in alert.conditions if c)
    description = "Documents: %s." % said if said else "Default alert of sdd.devops_flow (no document row)."
    if alert.notes:
        description += " Note: %s." % "; ".join(alert.notes)
    return {
        "summary": summary,
        "description": description,
        "runbook_url": "%s#%s" % (plan.runbook, alert.anchor),
    }


def labels(model: Model, alert: Alert) -> Dict[str, str]:
    return {"severity": alert.severity, "service": common.service_name(model), REQ_LABEL: model.req_id}


def rules_document(model: Model, plan: AlertPlan) -> Dict[str, object]:
    rules: List[Dict[str, object]] = [{"record": record, "expr": expr} for record, expr in plan.recording]
    for alert in plan.alerts:
        rule: Dict[str, object] = {"alert": alert.name, "expr": alert.expr}
        if alert.for_seconds:
            rule["for"] = duration(alert.for_seconds)
        rule["labels"] = labels(model, alert)
        rule["annotations"] = rule_annotations(plan, alert)
        rules.append(rule)
    return {"groups": [{"name": plan.service, "rules": rules}]}


# --------------------------------------------------------------------------- unit tests


def reachable(alert: Alert) -> Optional[str]:
    """None when unit tests can make the alert fire and stay quiet, else why not."""
    if alert.op in ("==", "!=") and alert.kind not in ("metric", "target_down", "service_down"):
        return "an exact comparison (%s) of a %s is not a usable alert condition" % (
            alert.op,
            alert.kind.replace("_", " "),
        )
    minutes = 10
    usable = [c for c in alert.probe.cases(alert.threshold, minutes) if _usable(c, alert)]
    if not any(alert.holds(c.value) for c in usable):
        if alert.kind == "latency" and alert.op in (">", ">=") and isinstance(alert.probe, QuantileProbe):
            hist = alert.probe.hist
            return (
                "threshold %s is not below the largest finite bucket (%s) of the SPEC's histogram %s: "
                "histogram_quantile can never exceed it, so the alert could never fire; add a larger bucket"
                % (alert.threshold_text, _seconds_text(hist.buckets[-1], hist.seconds), hist.name)
            )
        return "threshold %s %s can never be met by this expression" % (alert.op, alert.threshold_text)
    if not any(not alert.holds(c.value) for c in usable):
        return "threshold %s %s always holds: the alert would always fire" % (alert.op, alert.threshold_text)
    return None


def _by_closeness(alert: Alert, minutes: int) -> List[Case]:
    """The usable cases, closest to the threshold first (the tests then pin the
    threshold from both sides); "no result" last."""
    usable = [c for c in alert.probe.cases(alert.threshold, minutes) if _usable(c, alert)]
    return sorted(usable, key=lambda c: float("inf") if c.value is None else abs(c.value - alert.threshold))


def _usable(case: Case, alert: Alert) -> bool:
    if case.value is None or case.exact:
        return True
    return abs(case.value - alert.threshold) > 1e-6 * max(1.0, abs(alert.threshold))


def _expected(model: Model, plan: AlertPlan, group: List[Alert], case: Case, minute: int) -> List[Dict[str, object]]:
    out: List[Dict[str, object]] = []
    for alert in group:
        if not alert.holds(case.value):
            continue
        start = _start(alert) if case.value is not None else 0
        if minute - start < (alert.for_seconds or 0) / 60.0:
            continue
        exp_labels = dict(case.labels)
        exp_labels.update(labels(model, alert))
        out.append({"exp_labels": exp_labels, "exp_annotations": expanded_annotations(plan, alert)})
    return out


def _start(alert: Alert) -> int:
    """The minute from which the alert's condition holds at the latest."""
    probe = alert.probe
    return probe.start_minutes if probe.exact_start(alert.op) else max(probe.start_minutes, probe.settle_minutes)


def unit_test_cases(plan: AlertPlan) -> List[Tuple[str, Case, List[int]]]:
    """(alert name, case, evaluation minutes) for every alert name: for every rule a
    firing case and a quiet case, the pending minute of a firing case whose rule has
    a ``for`` (the condition holds, the alert must not fire yet), and the "no series
    at all" case of rules that fire on absence."""
    out: List[Tuple[str, Case, List[int]]] = []
    for name, group in plan.groups().items():
        final = max(_start(a) + -(-(a.for_seconds or 0) // 60) for a in group) + 2
        final = max(final, max(a.probe.settle_minutes for a in group) + 1)
        minutes = final + 2
        exact = all(a.probe.exact_start(a.op) for a in group)
        chosen: Dict[Tuple[Optional[float], Tuple[Tuple[str, str], ...]], Tuple[Case, List[int]]] = {}
        for alert in group:
            usable = _by_closeness(alert, minutes)
            firing = [next(c for c in usable if alert.holds(c.value) and c.value is not None)]
            if alert.absent:
                firing.append(next(c for c in usable if c.value is None))
            quiet = next((c for c in usable if not alert.holds(c.value) and c.value is not None), None)
            quiet = quiet or next(c for c in usable if not alert.holds(c.value))
            for case in (*firing, quiet):
                times = chosen.setdefault((case.value, case.series), (case, [final]))[1]
                holds = case.value is not None and alert.holds(case.value)
                if exact and holds and (alert.for_seconds or 0) >= 120:
                    pending = _start(alert) + (alert.for_seconds or 0) // 60 - 1
                    if pending not in times:
                        times.append(pending)
        for case, times in chosen.values():
            out.append((name, case, sorted(times)))
    return out


def tests_document(model: Model, plan: AlertPlan, rules_path: str) -> Dict[str, object]:
    """The promtool unit test file (``promtool test rules``)."""
    tests: List[Dict[str, object]] = []
    groups = plan.groups()
    for name, case, times in unit_test_cases(plan):
        checks = []
        for minute in times:
            checks.append(
                {
                    "eval_time": "%dm" % minute,
                    "alertname": name,
                    "exp_alerts": _expected(model, plan, groups[name], case, minute),
                }
            )
        test: Dict[str, object] = {"interval": "%dm" % _STEP_MINUTES}
        test["input_series"] = [{"series": selector, "values": values} for selector, values in case.series]
        test["alert_rule_test"] = checks
        tests.append(test)
    return {"rule_files": [rules_path], "evaluation_interval": "%dm" % _STEP_MINUTES, "tests": tests}


__all__ = [
    "DEFAULT_BUCKETS",
    "DEFAULT_RUNBOOK",
    "NODE_JOB",
    "REQ_LABEL",
    "Alert",
    "AlertPlan",
    "Metrics",
    "Skipped",
    "alert_plan",
    "channel_kind",
    "node_job",
    "rules_document",
    "spec_metrics",
    "tests_document",
]
