# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""YAML and escaping for the monitoring files (Prometheus, Alertmanager, the
OpenTelemetry Collector).

Every file is built as Python data and written with PyYAML's safe dumper, so a
document value can never change the structure of a file.  Strings a YAML 1.1
reader (Prometheus and Alertmanager use go-yaml v2) could take for something
else are quoted; PromQL reads best in single quotes, so those are used when the
string has no single quote and no control character.  Source comments are
inserted after serialisation before given lines, as single printable lines.

The escaping helpers for the two languages inside those files live here too:
PromQL string literals and names, and Go template text (Prometheus expands
annotations as Go templates: a ``{{`` that came from a document is written as an
action that prints it).
"""

from __future__ import annotations

import math
import re
from typing import Any, List, Optional, Sequence, Tuple

from . import block_yaml
from .block_yaml import plain_or_quoted

_PLAIN = re.compile(r"^[A-Za-z0-9/][A-Za-z0-9 _./@(),%+=:-]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
#: Lines longer than this are never folded.
WIDTH = 4096


def _str_style(value: str) -> Optional[str]:
    return plain_or_quoted(value, _PLAIN, _CONTROL)


_Dumper, _EMITTER = block_yaml.dumper("MonitoringDumper", WIDTH, _str_style)


def dump(data: Any) -> str:
    """One YAML document (keys in insertion order, no aliases, ASCII only)."""
    return block_yaml.dump(data, _Dumper, _EMITTER)


def one_line(text: str, limit: int = 300) -> str:
    """Text as one printable line (control characters become spaces)."""
    clean = " ".join(_CONTROL.sub(" ", text or "").split())
    return clean[:limit]


def comment_line(text: str) -> str:
    clean = one_line(text, 600)
    return "# " + clean if clean else "#"


def add_comments(text: str, anchors: Sequence[Tuple[str, Optional[str]]], header: Sequence[str] = ()) -> str:
    """Insert ``# note`` lines before the first line that, stripped of its indent
    and list dash, equals each anchor (anchors in document order: each search
    starts after the previous match).  ``header`` lines go first."""
    lines: List[str] = text.split("\n")
    position = 0
    for anchor, note in anchors:
        if not note:
            continue
        for index in range(position, len(lines)):
            line = lines[index]
            body = line.lstrip(" ")
            if body.startswith("- "):
                body = body[2:]
            if body == anchor:
                indent = " " * (len(line) - len(line.lstrip(" ")))
                lines.insert(index, indent + comment_line(note))
                position = index + 2
                break
    head = "".join(comment_line(line) + "\n" for line in header if line)
    return head + "\n".join(lines)


def key_line(key: str, value: Any) -> str:
    """How ``key: value`` is written by ``dump`` (for ``add_comments`` anchors)."""
    return dump({key: value}).split("\n", 1)[0]


# --------------------------------------------------------------------------- PromQL


#: What ``promql_string`` escapes.
_PROMQL_ESCAPED = re.compile(r'[\\"\x00-\x1f\x7f]')


def promql_string(value: str) -> str:
    """A PromQL double-quoted string literal (label values in selectors)."""
    if not _PROMQL_ESCAPED.search(value):
        return '"%s"' % value
    out = []
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    return '"%s"' % "".join(out)


def is_metric_name(text: str) -> bool:
    return bool(_METRIC_NAME.match(text or ""))


def is_label_name(text: str) -> bool:
    return bool(_LABEL_NAME.match(text or "")) and not (text or "").startswith("__")


#: Label names that carry the route or path of a request, in the order they are looked for.
ROUTE_LABELS = ("route", "http_route", "path", "url_path", "handler", "endpoint", "uri")


def probe_paths(health: Any) -> Tuple[str, ...]:
    """The paths of the requests that are probes, not traffic: the service's health paths
    (``model.service.health``) and ``/metrics``."""
    paths = (health.liveness, health.readiness, health.startup, "/metrics")
    return tuple(dict.fromkeys(p for p in paths if p))


def route_label(labels: Sequence[str]) -> str:
    """The label of a metric that holds the request's route (``""`` when it has none)."""
    return next((name for name in ROUTE_LABELS if name in labels), "")


def probe_matchers(route: str, paths: Sequence[str]) -> str:
    """``,route!="/health/ready",...``: label matchers that leave the probes' requests out of
    a selector, so that a starting instance's 503s to its readiness checks or the scrapes of
    ``/metrics`` never count as the service's errors or latency (``""`` without a route label)."""
    if not route or not is_label_name(route):
        return ""
    return "".join(",%s!=%s" % (route, promql_string(path)) for path in paths)


def number(value: float) -> str:
    """A number as PromQL, YAML and people read it: ``0.5``, ``2``, ``1e-05``."""
    if math.isnan(value) or value in (float("inf"), float("-inf")):
        raise ValueError("not a finite number: %r" % value)
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def duration(seconds: int) -> str:
    """A Prometheus duration (``90s``, ``5m``, ``1h30m``, ``2d``)."""
    seconds = max(0, int(seconds))
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            parts.append("%d%s" % (count, unit))
    return "".join(parts)


# --------------------------------------------------------------------------- Go templates


def template_text(text: str) -> str:
    """Document text made inert in a Go template (Prometheus annotations, Alertmanager
    templates): every ``{{`` is printed by an action instead of starting one."""
    return one_line(text, 500).replace("{{", '{{ "{{" }}')
