# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus queries and Argo-Rollouts-style analysis of their results.

A metric has a query, a success condition and optionally a failure condition
(``result < 0.01``, ``result[0] <= 500``: a comparison of the query's first
value with a number; nothing else is evaluated).  An analysis takes ``count``
measurements ``interval`` seconds apart; it fails as soon as more than
``failure_limit`` measurements of one metric failed, and is inconclusive when
more than ``inconclusive_limit`` had no data.
"""

from __future__ import annotations

import json
import math
import operator
import re
import time
import urllib.error
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible.module_utils.urls import open_url

_OPS: Dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_CONDITION = re.compile(r"^\s*result(?:\[0\])?\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:[eE]-?\d+)?)\s*$")


class PrometheusError(Exception):
    pass


def parse_condition(text: str) -> Tuple[str, float]:
    """``result < 0.01`` -> ("<", 0.01); anything else is refused."""
    m = _CONDITION.match(text or "")
    if not m:
        raise ValueError("condition %r is not of the form 'result < 0.01' (operators < <= > >= == !=)" % text)
    return m.group(1), float(m.group(2))


def holds(condition: str, value: float) -> bool:
    op, number = parse_condition(condition)
    return _OPS[op](value, number)


def query(url: str, promql: str, timeout: float = 10.0, validate_certs: bool = True) -> Optional[float]:
    """The first value of an instant query (None when the result is empty or NaN)."""
    endpoint = url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        response = open_url(endpoint, timeout=timeout, validate_certs=validate_certs)
        data = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:300]
        raise PrometheusError("Prometheus answered %d to %r: %s" % (exc.code, promql, detail)) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise PrometheusError("cannot query Prometheus at %s: %s" % (url, exc)) from None
    if data.get("status") != "success":
        raise PrometheusError("Prometheus query %r failed: %s" % (promql, data.get("error")))
    result = (data.get("data") or {}).get("result") or []
    if not result:
        return None
    first = result[0]
    raw = first.get("value", [None, None])[1] if isinstance(first, dict) else None
    if raw is None:
        return None
    value = float(raw)
    return None if math.isnan(value) else value


@dataclass
class Metric:
    name: str
    query: str
    success_condition: str
    failure_condition: Optional[str] = None
    failure_limit: int = 0
    inconclusive_limit: int = 0


@dataclass
class Measurement:
    metric: str
    value: Optional[float]
    phase: str  # Successful | Failed | Inconclusive | Error
    at: float
    message: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "phase": self.phase,
            "at": round(self.at, 3),
            "message": self.message,
        }


@dataclass
class Analysis:
    phase: str = "Running"
    measurements: List[Measurement] = field(default_factory=list)
    message: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return {"phase": self.phase, "message": self.message, "measurements": [m.to_dict() for m in self.measurements]}


def measure(url: str, metric: Metric, started: float) -> Measurement:
    try:
        value = query(url, metric.query)
    except PrometheusError as exc:
        return Measurement(metric.name, None, "Error", time.monotonic() - started, str(exc))
    if value is None:
        return Measurement(metric.name, None, "Inconclusive", time.monotonic() - started, "no data")
    if metric.failure_condition and holds(metric.failure_condition, value):
        phase = "Failed"
    elif holds(metric.success_condition, value):
        phase = "Successful"
    else:
        phase = "Failed"
    return Measurement(metric.name, value, phase, time.monotonic() - started)


def analyse(
    url: str, metrics: List[Metric], count: int, interval: float, sleep: Callable[[float], None] = time.sleep
) -> Analysis:
    """Run the analysis; stops early at the first metric over its failure limit."""
    analysis = Analysis()
    started = time.monotonic()
    failures: Dict[str, int] = {m.name: 0 for m in metrics}
    inconclusive: Dict[str, int] = {m.name: 0 for m in metrics}
    for iteration in range(count):
        if iteration:
            sleep(interval)
        for metric in metrics:
            result = measure(url, metric, started)
            analysis.measurements.append(result)
            if result.phase in ("Failed", "Error"):
                failures[metric.name] += 1
                if failures[metric.name] > metric.failure_limit:
                    analysis.phase = "Failed"
                    analysis.message = "%s: %s (%s)" % (
                        metric.name,
                        "value %s does not meet %s" % (result.value, metric.success_condition)
                        if result.phase == "Failed"
                        else result.message,
                        "%d failed measurement(s), limit %d" % (failures[metric.name], metric.failure_limit),
                    )
                    return analysis
            elif result.phase == "Inconclusive":
                inconclusive[metric.name] += 1
    over = [
        name for name, n in inconclusive.items() if n > next(m.inconclusive_limit for m in metrics if m.name == name)
    ]
    if over:
        analysis.phase = "Inconclusive"
        analysis.message = "no data for %s" % ", ".join(over)
    else:
        analysis.phase = "Successful"
        analysis.message = "%d measurement(s) of %d metric(s) met their conditions" % (
            len(analysis.measurements),
            len(metrics),
        )
    return analysis
