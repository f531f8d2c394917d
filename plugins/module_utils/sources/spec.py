# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SPEC documents (YAML): what the service is and how it runs."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..errors import DocumentError
from ..model import (
    AlertRule,
    Dependency,
    EnvVar,
    MetricDefinition,
    ResourceAmount,
    Tag,
)
from ..textio import LocatedYaml, display_path, load_yaml, read_text
from ..units import (
    UnitError,
    is_unset,
    parse_bool,
    parse_cpu_millicores,
    parse_days,
    parse_duration_seconds,
    parse_int,
    parse_latency_ms,
    parse_memory_mib,
    parse_ratio,
)
from .context import ParseContext
from .deployment import parse_condition
from .tags import find_tags

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_URL_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")

Value = Tuple[Any, int]


@dataclass
class SpecData:
    path: str
    yaml: LocatedYaml
    id: Optional[Value] = None
    summary: str = ""
    version: Optional[Value] = None
    language: Optional[Value] = None
    language_version: Optional[Value] = None
    framework: Optional[Value] = None
    entry_point: Optional[Value] = None
    image: Optional[Value] = None
    ports: Optional[Tuple[Tuple[int, ...], int]] = None
    health: Dict[str, Value] = field(default_factory=dict)
    interval: Optional[Value] = None
    timeout: Optional[Value] = None
    failures: Optional[Value] = None
    min_replicas: Optional[Value] = None
    max_replicas: Optional[Value] = None
    scaling_metrics: Tuple[str, ...] = ()
    scaling_line: int = 0
    requests: Optional[Tuple[ResourceAmount, int]] = None
    limits: Optional[Tuple[ResourceAmount, int]] = None
    env: List[Tuple[EnvVar, int]] = field(default_factory=list)
    dependencies: List[Dependency] = field(default_factory=list)
    dependencies_line: int = 0
    rolling_safe: Optional[Value] = None
    metrics: List[MetricDefinition] = field(default_factory=list)
    metrics_line: int = 0
    log_level: Optional[Value] = None
    log_format: Optional[Value] = None
    sample_rate: Optional[Value] = None
    alert_rules: List[Tuple[AlertRule, int]] = field(default_factory=list)
    charts: Tuple[str, ...] = ()
    charts_line: int = 0
    targets: Dict[str, Value] = field(default_factory=dict)
    backup: Dict[str, Value] = field(default_factory=dict)
    recovery: List[str] = field(default_factory=list)
    deployment_tests: Dict[str, bool] = field(default_factory=dict)
    deployment_tests_line: int = 0
    tags: List[Tag] = field(default_factory=list)
    references: Dict[str, List[str]] = field(default_factory=dict)


class _Reader:
    """Typed access to the SPEC with a warning (or error) naming the line."""

    def __init__(self, doc: LocatedYaml, ctx: ParseContext) -> None:
        self.doc = doc
        self.ctx = ctx

    def line(self, *path: Any) -> int:
        return self.doc.line(path)

    def mapping(self, *path: Any) -> Dict[str, Any]:
        value = self.doc.get(*path)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.ctx.warn(
                "%s is %s; expected a mapping (ignored)" % (".".join(str(p) for p in path), _kind(value)),
                self.doc.file,
                self.line(*path),
                "SPEC",
            )
            return {}
        return value

    def seq(self, *path: Any) -> List[Any]:
        value = self.doc.get(*path)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        if isinstance(value, dict):
            return [value]
        return [value]

    def scalar(self, *path: Any) -> Optional[Value]:
        value = self.doc.get(*path)
        if value is None or isinstance(value, (dict, list)):
            if isinstance(value, (dict, list)):
                self.ctx.warn(
                    "%s is %s; expected a single value (ignored)" % (".".join(str(p) for p in path), _kind(value)),
                    self.doc.file,
                    self.line(*path),
                    "SPEC",
                )
            return None
        if isinstance(value, str) and is_unset(value):
            return None
        return value, self.line(*path)

    def text(self, *path: Any) -> Optional[Value]:
        found = self.scalar(*path)
        if found is None:
            return None
        return str(found[0]).strip(), found[1]

    def typed(self, parser: Any, what: str, *path: Any, fatal: bool = False) -> Optional[Value]:
        found = self.scalar(*path)
        if found is None:
            return None
        value = self.ctx.read(parser, found[0], what, self.doc.file, found[1], "SPEC", fatal=fatal)
        return None if value is None else (value, found[1])


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "empty"
    return "a number"


def _items_of(value: Any) -> List[Any]:
    """``[{blue_green: true}, {canary: true}]`` or ``{blue_green: true}`` -> pairs."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list):
        pairs: List[Any] = []
        for item in value:
            if isinstance(item, dict):
                pairs.extend(item.items())
        return pairs
    return []


def parse_port(value: Any, ctx: ParseContext, file: str, line: int) -> Optional[int]:
    text = str(value).strip()
    m = re.fullmatch(r"(-?\d+)(?:\s*/\s*(?:tcp|udp|http|https))?", text, re.IGNORECASE)
    if isinstance(value, bool) or not m:
        ctx.error(
            "port %r is not a number; expected a port from 1 to 65535" % (value,),
            file,
            line,
            "SPEC implementation.deployment.ports_exposed",
        )
        return None
    port = int(m.group(1))
    if not 1 <= port <= 65535:
        ctx.error(
            "port %d is outside 1-65535; expected a port from 1 to 65535" % port,
            file,
            line,
            "SPEC implementation.deployment.ports_exposed",
        )
        return None
    return port


def check_path(value: Any, what: str, ctx: ParseContext, file: str, line: int, section: str) -> Optional[str]:
    """A health endpoint path: must be a URL path starting with '/'."""
    text = str(value).strip()
    if not text:
        return None
    if re.match(r"^https?://", text):
        m = re.match(r"^https?://[^/]+(/.*)?$", text)
        text = m.group(1) if m and m.group(1) else "/"
    if not text.startswith("/"):
        text = "/" + text
        ctx.warn("%s %r does not start with '/'; using %r" % (what, value, text), file, line, section)
    if not _URL_PATH.match(text) or len(text) > 200:
        ctx.error("%s %r is not a URL path; expected a path such as /health/live" % (what, value), file, line, section)
        return None
    return text


def parse_spec(path: str, ctx: ParseContext) -> SpecData:
    """Read a SPEC YAML into ``SpecData``.  A SPEC that is not a mapping is an error."""
    shown = display_path(path)
    text = read_text(path, "SPEC document")
    doc = load_yaml(text, shown)
    ctx.warnings.extend(doc.warnings)
    if doc.data is None:
        raise DocumentError.at(
            shown, 1, "is empty; expected a SPEC mapping with keys such as id, implementation, observability"
        )
    if not isinstance(doc.data, dict):
        raise DocumentError.at(
            shown,
            doc.line(()),
            "is %s at the top level; expected a SPEC "
            "mapping with keys such as id, implementation, observability" % _kind(doc.data),
        )
    r = _Reader(doc, ctx)
    data = SpecData(shown, doc)
    data.id = r.text("id")
    summary = r.text("summary")
    data.summary = summary[0] if summary else ""
    data.version = r.text("metadata", "version")
    impl = ("implementation",)
    data.language = r.text(*impl, "language")
    data.language_version = r.text(*impl, "language_version") or r.text(*impl, "runtime_version")
    data.framework = r.text(*impl, "framework")
    data.entry_point = r.text(*impl, "entry_point")
    r.mapping(*impl)
    deps = r.mapping(*impl, "dependencies")
    runtime = deps.get("runtime") if deps else None
    if isinstance(runtime, list):
        data.dependencies_line = r.line(*impl, "dependencies", "runtime")
        for item in runtime:
            if isinstance(item, dict) and item.get("name"):
                data.dependencies.append(Dependency(str(item["name"]), str(item.get("version") or "")))
            elif isinstance(item, str):
                m = re.match(r"^([A-Za-z0-9_.\-@/]+)\s*(.*)$", item)
                if m:
                    data.dependencies.append(Dependency(m.group(1), m.group(2).strip()))
    # environment variables
    for i, item in enumerate(r.seq(*impl, "environment_variables")):
        line = r.line(*impl, "environment_variables", i)
        if not isinstance(item, dict) or not item.get("name"):
            ctx.warn(
                "environment variable %d has no name; expected a mapping with name, "
                "required, sensitive (ignored)" % (i + 1),
                shown,
                line,
                "SPEC",
            )
            continue
        name = str(item["name"]).strip()
        if not _ENV_NAME.match(name):
            ctx.error(
                "environment variable name %r is not valid; expected letters, digits and "
                "'_' (such as DATABASE_URL)" % name,
                shown,
                line,
                "SPEC",
            )
            continue
        required = _opt_bool(item.get("required"), ctx, shown, line, "required") or False
        sensitive = _opt_bool(item.get("sensitive"), ctx, shown, line, "sensitive") or False
        default = item.get("default")
        values = item.get("values") or item.get("allowed_values") or []
        if not isinstance(values, list):
            values = [values]
        if sensitive and default not in (None, ""):
            ctx.warn(
                "sensitive variable %s has a default value in the SPEC; it is never written to generated files" % name,
                shown,
                line,
                "SPEC",
            )
            default = None
        data.env.append(
            (
                EnvVar(
                    name,
                    bool(required),
                    bool(sensitive),
                    None if default is None else str(default),
                    tuple(str(v) for v in values),
                    str(item.get("description") or ""),
                ),
                line,
            )
        )
    # deployment
    dep = impl + ("deployment",)
    data.image = r.text(*dep, "container_image")
    raw_ports = r.doc.get(*dep, "ports_exposed")
    if raw_ports is None:
        raw_ports = r.doc.get(*dep, "ports")
    if raw_ports is not None:
        key = "ports_exposed" if r.doc.get(*dep, "ports_exposed") is not None else "ports"
        line = r.line(*dep, key)
        items = raw_ports if isinstance(raw_ports, list) else [raw_ports]
        ports: List[int] = []
        for i, item in enumerate(items):
            if isinstance(item, dict):
                item = item.get("port", item.get("containerPort", item.get("container_port")))
            port = parse_port(item, ctx, shown, r.line(*dep, key, i))
            if port is not None and port not in ports:
                ports.append(port)
        data.ports = (tuple(ports), line)
    for key, kind in (
        ("health_check_path", "liveness"),
        ("liveness_check_path", "liveness"),
        ("readiness_check_path", "readiness"),
        ("startup_check_path", "startup"),
    ):
        found = r.text(*dep, key)
        if found and kind not in data.health:
            path_value = check_path(found[0], "%s path" % kind, ctx, shown, found[1], "SPEC")
            if path_value:
                data.health[kind] = (path_value, found[1])
    obs = ("observability",)
    for i, item in enumerate(r.seq(*obs, "health_checks", "endpoints")):
        if not isinstance(item, dict) or not item.get("path"):
            continue
        line = r.line(*obs, "health_checks", "endpoints", i)
        words = ("%s %s" % (item.get("path"), item.get("description") or "")).lower()
        kind = (
            "liveness"
            if "live" in words
            else "readiness"
            if "ready" in words
            else "startup"
            if "start" in words
            else ""
        )
        if kind and kind not in data.health:
            path_value = check_path(item["path"], "%s path" % kind, ctx, shown, line, "SPEC")
            if path_value:
                data.health[kind] = (path_value, line)
    hc = obs + ("health_checks",)
    data.interval = r.typed(parse_duration_seconds, "health check interval", *hc, "check_interval_seconds")
    data.timeout = r.typed(parse_duration_seconds, "health check timeout", *hc, "timeout_seconds")
    data.failures = r.typed(
        parse_int, "consecutive failures before unhealthy", *hc, "consecutive_failures_before_unhealthy"
    )
    sc = dep + ("scaling",)
    data.min_replicas = r.typed(parse_int, "scaling.min_instances", *sc, "min_instances", fatal=True)
    data.max_replicas = r.typed(parse_int, "scaling.max_instances", *sc, "max_instances", fatal=True)
    if data.min_replicas and data.max_replicas and data.min_replicas[0] > data.max_replicas[0]:
        ctx.error(
            "scaling min_instances %d is above max_instances %d; expected min <= max"
            % (data.min_replicas[0], data.max_replicas[0]),
            shown,
            data.min_replicas[1],
            "SPEC",
        )
    metrics = r.doc.get(*sc, "scaling_metrics")
    if isinstance(metrics, list):
        data.scaling_metrics = tuple(str(m) for m in metrics if m is not None)
    elif isinstance(metrics, str):
        data.scaling_metrics = tuple(m.strip() for m in metrics.split(",") if m.strip())
    data.scaling_line = r.line(*sc)
    for key, attr in (("resource_requests", "requests"), ("resource_limits", "limits")):
        block = r.mapping(*dep, key)
        if not block:
            continue
        line = r.line(*dep, key)
        cpu = mem = None
        if block.get("cpu") is not None:
            cpu = ctx.read(
                parse_cpu_millicores, block.get("cpu"), "%s cpu" % key, shown, r.line(*dep, key, "cpu"), "SPEC"
            )
        if block.get("memory") is not None:
            mem = ctx.read(
                parse_memory_mib, block.get("memory"), "%s memory" % key, shown, r.line(*dep, key, "memory"), "SPEC"
            )
        setattr(data, attr, (ResourceAmount(cpu, mem), line))
    if data.requests and data.limits:
        req, lim = data.requests[0], data.limits[0]
        for what in ("cpu_millicores", "memory_mib"):
            a, b = getattr(req, what), getattr(lim, what)
            if a is not None and b is not None and a > b:
                ctx.error(
                    "resource_requests %s (%s) is above resource_limits (%s); expected "
                    "requests <= limits" % (what.split("_", 1)[0], a, b),
                    shown,
                    data.requests[1],
                    "SPEC",
                )
    data.rolling_safe = r.typed(
        parse_bool, "rolling_deployment_safe", *impl, "migration_strategy", "rolling_deployment_safe"
    )
    # observability
    for item in r.seq(*obs, "metrics", "standard_metrics") + r.seq(*obs, "metrics", "custom_metrics"):
        if not isinstance(item, dict) or not item.get("name"):
            continue
        name = str(item["name"])
        if not re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", name):
            ctx.warn(
                "metric name %r is not a Prometheus metric name (ignored)" % name,
                shown,
                r.line(*obs, "metrics"),
                "SPEC",
            )
            continue
        labels = item.get("labels") or ()
        buckets = item.get("buckets") or ()
        try:
            bucket_values = tuple(float(b) for b in buckets) if isinstance(buckets, list) else ()
        except (TypeError, ValueError):
            ctx.warn("buckets of %s are not numbers (ignored)" % name, shown, r.line(*obs, "metrics"), "SPEC")
            bucket_values = ()
        data.metrics.append(
            MetricDefinition(
                name,
                str(item.get("type") or "counter").lower(),
                tuple(str(lb) for lb in labels) if isinstance(labels, list) else (),
                bucket_values,
                str(item.get("description") or ""),
            )
        )
    data.metrics_line = r.line(*obs, "metrics")
    data.log_level = r.text(*obs, "logging", "level")
    data.log_format = r.text(*obs, "logging", "format")
    data.sample_rate = r.typed(
        parse_ratio, "distributed_tracing.sampling_rate", *obs, "distributed_tracing", "sampling_rate"
    )
    # performance targets
    perf = ("performance", "latency_targets")
    for key, name in (("p95", "p95_latency_ms"), ("p99", "p99_latency_ms")):
        for candidate in (key, key + "_ms", key + "_latency_ms", key + "_latency"):
            found = r.scalar(*perf, candidate)
            if found:
                value = ctx.read(parse_latency_ms, found[0], "latency target %s" % key, shown, found[1], "SPEC")
                if value is not None:
                    data.targets[name] = (value, found[1])
                break
    # operations
    ops = ("operations",)
    dash = ops + ("monitoring_dashboard",)
    charts = r.doc.get(*dash, "key_charts")
    if isinstance(charts, list):
        data.charts = tuple(str(c) for c in charts)
        data.charts_line = r.line(*dash, "key_charts")
    rules = r.seq(*dash, "alerting_rules") or r.seq(*ops, "alerting_rules")
    rules_path = (
        dash + ("alerting_rules",) if r.doc.get(*dash, "alerting_rules") is not None else ops + ("alerting_rules",)
    )
    for i, item in enumerate(rules):
        line = r.line(*rules_path, i)
        if not isinstance(item, dict) or not item.get("condition"):
            continue
        condition = str(item["condition"])
        metric, op, threshold, unit, for_s, ref = parse_condition(condition)
        severity = str(item.get("severity") or "warning").lower()
        if severity not in ("critical", "warning", "info", "page", "ticket"):
            ctx.warn(
                "alert severity %r is not critical, warning or info; using warning" % severity, shown, line, "SPEC"
            )
            severity = "warning"
        channels = item.get("notification_channels") or ()
        if isinstance(channels, str):
            channels = [c.strip() for c in channels.split(",")]
        name = str(item.get("name") or "")
        if not name:
            name = re.sub(r"[^A-Za-z0-9]+", " ", metric).title().replace(" ", "") or "Alert"
        data.alert_rules.append(
            (
                AlertRule(
                    name=name,
                    condition=condition,
                    metric=metric,
                    operator=op,
                    threshold=threshold,
                    unit=unit,
                    for_seconds=for_s,
                    severity=severity,
                    channels=tuple(str(c) for c in channels),
                    threshold_ref=ref,
                    origin="SPEC",
                ),
                line,
            )
        )
    bk = ops + ("backup_and_recovery", "data_backup")
    block = r.mapping(*bk)
    if block:
        for key in ("strategy", "frequency"):
            found = r.text(*bk, key)
            if found:
                data.backup[key] = found
        found = r.typed(parse_days, "retention_period_days", *bk, "retention_period_days")
        if found:
            data.backup["retention_days"] = found
        found = r.typed(parse_bool, "automated", *bk, "automated")
        if found:
            data.backup["automated"] = found
    for key, name in (
        ("rpo", "rpo_seconds"),
        ("rto", "rto_seconds"),
        ("rpo_minutes", "rpo_seconds"),
        ("rto_minutes", "rto_seconds"),
    ):
        found = r.scalar(*ops, "backup_and_recovery", key)
        if found and name not in data.backup:
            unit = "m" if key.endswith("minutes") or isinstance(found[0], (int, float)) else "s"
            value = ctx.read(
                functools.partial(parse_duration_seconds, default_unit=unit),
                found[0],
                "backup_and_recovery.%s" % key,
                shown,
                found[1],
                "SPEC",
            )
            if value is not None:
                data.backup[name] = (value, found[1])
    for item in r.seq(*ops, "backup_and_recovery", "recovery_procedures"):
        if isinstance(item, dict) and item.get("failure_type"):
            steps = item.get("procedure") or []
            if isinstance(steps, list):
                steps = ", ".join(str(s) for s in steps)
            data.recovery.append("%s: %s" % (item["failure_type"], steps))
    for key, value in _items_of(r.doc.get("verification", "deployment_tests")):
        if isinstance(value, bool):
            name = re.sub(r"_(deployment_)?(validation|support|detection)$", "", str(key))
            data.deployment_tests[name] = value
    data.deployment_tests_line = r.line("verification", "deployment_tests")
    # traceability
    trace = r.mapping("traceability")
    refs: Dict[str, List[str]] = {}
    upstream = trace.get("upstream_sources") if isinstance(trace, dict) else None
    if isinstance(upstream, dict):
        for items in upstream.values():
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and item.get("id"):
                    ident = str(item["id"])
                    kind = ident.split("-", 1)[0].split(".", 1)[0].upper()
                    refs.setdefault(kind, [])
                    if ident not in refs[kind]:
                        refs[kind].append(ident)
    cumulative = trace.get("cumulative_tags") if isinstance(trace, dict) else None
    if isinstance(cumulative, dict):
        for kind, values in cumulative.items():
            items = values if isinstance(values, list) else [values]
            for value in items:
                if value is None or is_unset(value):
                    continue
                data.tags.append(
                    Tag(str(kind).lower(), str(value).strip(), shown, r.line("traceability", "cumulative_tags", kind))
                )
    data.references = refs
    for i, text_line in enumerate(text.split("\n")):
        if "@" in text_line:
            data.tags.extend(find_tags(text_line, shown, i + 1))
    return data


def _opt_bool(value: Any, ctx: ParseContext, file: str, line: int, what: str) -> Optional[bool]:
    if value is None:
        return None
    try:
        return parse_bool(value)
    except UnitError as exc:
        ctx.warn("%s: %s (ignored)" % (what, exc), file, line, "SPEC")
        return None
