# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What is expected, what is there, and the drift report between the two.

An ``ExpectedResource`` is one resource the generated infrastructure code declares,
with the attributes that matter (each a ``Want``: a value and how to compare it).
An ``ActualResource`` is what a cloud reader found, with the same attribute names
and values normalised the same way.  ``compare`` matches them by kind and name and
returns the report: ``missing`` (expected, not found), ``extra`` (found, tagged for
the service and environment, not expected), ``changed`` (one entry per attribute
that differs, with the expected and the actual value) and ``checked``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..model import Model

#: How an attribute is compared.
#: equal    the same value
#: set      the same members in any order (ingress rules, ports)
#: at_least a number at least the expected one (storage that grows by itself)
#: version  the expected version is a prefix of the actual one (15 matches 15.5)
#: present  set (expected true) or unset (expected false), whatever the value
HOWS = ("equal", "set", "at_least", "version", "present")


class DriftError(Exception):
    """A drift check that cannot run: bad options, a missing SDK, an API error."""


@dataclass(frozen=True)
class Want:
    """One expected attribute value, how to compare it, and the model field it comes from."""

    value: Any
    how: str = "equal"
    field: str = ""


@dataclass(frozen=True)
class ExpectedResource:
    """A resource the generated infrastructure code declares for the environment.

    ``pattern`` (a regular expression) matches names that hold a part only the cloud
    knows, such as the account or project id; ``address`` is the Terraform address.
    """

    kind: str
    name: str
    attributes: Mapping[str, Want]
    address: str = ""
    pattern: str = ""

    @property
    def ref(self) -> str:
        return "%s/%s" % (self.kind, self.name)

    def matches(self, name: str) -> bool:
        if name == self.name:
            return True
        return bool(self.pattern) and re.fullmatch(self.pattern, name) is not None


@dataclass(frozen=True)
class ActualResource:
    """A resource a cloud reader found, its attributes normalised like the expected ones."""

    kind: str
    name: str
    attributes: Mapping[str, Any]
    id: str = ""


@dataclass
class Expectation:
    """Everything one environment of one model should have in one cloud.

    ``scope`` holds the tags or labels (and names) that select the service's resources;
    ``kinds`` are the kinds whose every tagged resource is listed, so that unexpected
    ones can be reported as extra.
    """

    cloud: str
    environment: str
    service: str
    region: str
    scope: Dict[str, str]
    resources: List[ExpectedResource] = field(default_factory=list)
    kinds: Tuple[str, ...] = ()
    skipped: List[str] = field(default_factory=list)
    settings: Dict[str, Any] = field(default_factory=dict)

    def of_kind(self, kind: str) -> List[ExpectedResource]:
        return [r for r in self.resources if r.kind == kind]

    def find(self, kind: str, name: str) -> Optional[ExpectedResource]:
        for resource in self.resources:
            if resource.kind == kind and resource.matches(name):
                return resource
        return None


@dataclass
class Observation:
    """What a cloud reader found, and what it could not read."""

    resources: List[ActualResource] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)


# --------------------------------------------------------------------------- values


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _version_parts(value: Any) -> List[str]:
    return [p for p in re.split(r"[^0-9A-Za-z]+", str(value).lower()) if p]


def _members(value: Any) -> List[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted({str(v) for v in value})
    return [str(value)]


def same(want: Want, actual: Any) -> bool:
    """Whether ``actual`` satisfies ``want``."""
    if want.how == "set":
        return _members(want.value) == _members(actual)
    if want.how == "at_least":
        low, got = _number(want.value), _number(actual)
        return low is not None and got is not None and got >= low
    if want.how == "version":
        if actual is None:
            return want.value is None
        expected = _version_parts(want.value)
        return _version_parts(actual)[: len(expected)] == expected
    if want.how == "present":
        return bool(actual) == bool(want.value)
    if isinstance(want.value, bool) or isinstance(actual, bool):
        return isinstance(want.value, bool) and isinstance(actual, bool) and want.value == actual
    expected_n, actual_n = _number(want.value), _number(actual)
    if expected_n is not None and actual_n is not None and not isinstance(want.value, str):
        return expected_n == actual_n
    return bool(want.value == actual)


def plain(value: Any) -> Any:
    """A value as JSON data (tuples become lists)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    return value


def _shown(want: Want) -> Any:
    if want.how == "present":
        return "set" if want.value else "unset"
    if want.how == "at_least":
        return ">= %s" % want.value if not isinstance(want.value, (int, float)) else want.value
    return plain(want.value)


# --------------------------------------------------------------------------- report


def _source(model: Optional[Model], path: str) -> str:
    if model is None or not path:
        return ""
    found = model.source(path) or model.source(path + "[0]")  # a list's first item when the list has no line
    return found.ref() if found is not None else ""


def compare(expectation: Expectation, observation: Observation, model: Optional[Model] = None) -> Dict[str, Any]:
    """The drift report of one environment (see the module's RETURN for its layout)."""
    pool: List[ActualResource] = list(observation.resources)
    missing: List[Dict[str, Any]] = []
    changed: List[Dict[str, Any]] = []
    checked: List[Dict[str, Any]] = []
    for want in expectation.resources:
        found = next((a for a in pool if a.kind == want.kind and a.name == want.name), None)
        if found is None:
            found = next((a for a in pool if a.kind == want.kind and want.matches(a.name)), None)
        entry: Dict[str, Any] = {
            "resource": want.ref,
            "kind": want.kind,
            "name": want.name,
            "address": want.address,
            "attributes": sorted(want.attributes),
        }
        if found is None:
            missing.append(
                {
                    "resource": want.ref,
                    "kind": want.kind,
                    "name": want.name,
                    "address": want.address,
                    "expected": {k: _shown(w) for k, w in sorted(want.attributes.items())},
                }
            )
            entry["status"] = "missing"
            checked.append(entry)
            continue
        pool.remove(found)
        entry["name"] = found.name
        entry["id"] = found.id
        differences = 0
        for attribute, wanted in sorted(want.attributes.items()):
            actual = found.attributes.get(attribute)
            if same(wanted, actual):
                continue
            differences += 1
            change: Dict[str, Any] = {
                "resource": "%s/%s" % (want.kind, found.name),
                "kind": want.kind,
                "name": found.name,
                "address": want.address,
                "attribute": attribute,
                "expected": _shown(wanted),
                "actual": plain(actual),
                "comparison": wanted.how,
            }
            if wanted.how == "set":
                expected_set, actual_set = set(_members(wanted.value)), set(_members(actual))
                change["added"] = sorted(actual_set - expected_set)
                change["removed"] = sorted(expected_set - actual_set)
            if wanted.field:
                change["field"] = wanted.field
                where = _source(model, wanted.field)
                if where:
                    change["source"] = where
            changed.append(change)
        entry["status"] = "changed" if differences else "ok"
        checked.append(entry)
    extra = [
        {
            "resource": "%s/%s" % (a.kind, a.name),
            "kind": a.kind,
            "name": a.name,
            "id": a.id,
            "attributes": plain(dict(a.attributes)),
        }
        for a in pool
        if a.kind in expectation.kinds
    ]
    report: Dict[str, Any] = {
        "drift": bool(missing or extra or changed),
        "cloud": expectation.cloud,
        "environment": expectation.environment,
        "service": expectation.service,
        "region": expectation.region,
        "scope": dict(expectation.scope),
        "missing": missing,
        "extra": extra,
        "changed": changed,
        "checked": checked,
        "skipped": list(expectation.skipped) + list(observation.skipped),
    }
    report["summary"] = summary(report)
    return report


def _describe_change(change: Mapping[str, Any]) -> str:
    if change.get("comparison") == "set":
        parts = ["+%s" % v for v in change.get("added", [])] + ["-%s" % v for v in change.get("removed", [])]
        return "%s %s %s" % (change["resource"], change["attribute"], ", ".join(parts))
    return "%s %s expected %s, actual %s" % (
        change["resource"],
        change["attribute"],
        _text(change["expected"]),
        _text(change["actual"]),
    )


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def summary(report: Mapping[str, Any]) -> str:
    """One line for a pipeline log: the counts and the first differences."""
    head = "%s %s on %s" % (report["service"], report["environment"], report["cloud"])
    checked: Sequence[Mapping[str, Any]] = report["checked"]
    if not report["drift"]:
        attributes = sum(len(c["attributes"]) for c in checked)
        return "%s: no drift (%d resources, %d attributes compared)" % (head, len(checked), attributes)
    details = (
        ["missing %s" % m["resource"] for m in report["missing"]]
        + ["extra %s" % e["resource"] for e in report["extra"]]
        + [_describe_change(c) for c in report["changed"]]
    )
    shown = "; ".join(details[:6]) + ("; ..." if len(details) > 6 else "")
    return "%s: drift - %d missing, %d extra, %d changed: %s" % (
        head,
        len(report["missing"]),
        len(report["extra"]),
        len(report["changed"]),
        shown,
    )


__all__ = [
    "HOWS",
    "ActualResource",
    "DriftError",
    "Expectation",
    "ExpectedResource",
    "Observation",
    "Want",
    "compare",
    "plain",
    "same",
    "summary",
]
