# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""YAML output for the data formats (Kubernetes, Kustomize, Helm values, Compose).

Everything is built as Python data and serialised here, so a document value can
never change the structure of a file: strings that a YAML 1.1 or 1.2 reader could
take for something else (``yes``, ``0o17``, ``1e3``, ``~``) are double-quoted,
control and non-ASCII characters are escaped, and comments are single lines with
every control character removed.

Helm templates are built from the same data: ``Expr`` marks a value that is a
Go template expression (``{{ toJson .Values.replicaCount }}``); it is written as
a unique token and replaced after serialisation, and every ``{{`` that came
from a document is escaped first so that no document value is ever executed.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ..errors import UsageError
from .block_yaml import BlockEmitter

try:
    import yaml

    _SafeDumper: Any = yaml.SafeDumper
    # libyaml's emitter writes the same bytes as PyYAML's for these documents (the
    # representers, which pick every style, are the same Python code); it is several
    # times faster. tests/unit/.../test_kubernetes.py compares the two on every example.
    _FastDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None  # type: ignore[assignment]
    _SafeDumper = _FastDumper = object

#: Strings written without quotes: they start with a letter or "/", hold only
#: these characters, and are none of the YAML 1.1 / 1.2 special words.
_PLAIN = re.compile(r"^[A-Za-z/][A-Za-z0-9_./@-]*$")
_SPECIAL_BASE = ("y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf", "infinity")
_SPECIAL_WORDS = frozenset(w for base in _SPECIAL_BASE for w in (base, base.upper(), base.capitalize()))
#: Lines longer than this are never folded.
WIDTH = 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class Expr(str):
    """A Go template expression to be written verbatim in a Helm template (never
    built from document text: only from fixed strings and ``.Values`` paths)."""


class _PyDumper(_SafeDumper):  # type: ignore[misc]
    """SafeDumper with deterministic, conservative scalar styles."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


class _Dumper(_FastDumper):  # type: ignore[misc]
    """The same representers on libyaml's emitter, where PyYAML has it."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_style(value: str) -> Optional[str]:
    if "\n" in value:
        # a literal block when PyYAML can write one exactly, else double quotes
        return "|"
    if _PLAIN.match(value) and value not in _SPECIAL_WORDS:
        return None
    return '"'


def _represent_str(dumper: Any, value: str) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=_str_style(value))


if yaml is not None:
    _PyDumper.add_representer(str, _represent_str)
    _Dumper.add_representer(str, _represent_str)
#: PyYAML's bytes (``_PyDumper``'s) without its event machinery, for the data it handles
_EMITTER = BlockEmitter(WIDTH, _str_style, indentless=True)


def comment(text: str) -> str:
    """One comment line (``# text``): control characters become spaces."""
    clean = " ".join(_CONTROL.sub(" ", text).split())
    return "# " + clean if clean else "#"


def _need_yaml() -> None:
    if yaml is None:
        raise UsageError("PyYAML is required to write YAML files (it ships with ansible-core): pip install PyYAML")


_SIMPLE_KEY = re.compile(r"^[A-Za-z0-9_./@-]+$")
_UNUSUAL = re.compile(r"[^\n\x20-\x7e]")


def _fast_emitter_writes_the_same(data: Any) -> bool:
    """True when libyaml's emitter is known to write what PyYAML's writes: a mapping or
    sequence at the root, keys of name characters, printable ASCII values without a
    block that keeps trailing blank lines. Property tests compare the two on random data;
    where they differ (explicit ``?`` keys, ``...`` document ends) this is False."""
    if not isinstance(data, (dict, list)):
        return False
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str) or not _SIMPLE_KEY.match(key):
                    return False
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and (_UNUSUAL.search(node) or node.endswith("\n\n") or node == "\n"):
            return False
    return True


def dump(data: Any, comments: Sequence[str] = (), pure: bool = False) -> str:
    """One YAML document, with optional leading comment lines (``pure``: PyYAML's own
    emitter). ``block_yaml.BlockEmitter`` writes what PyYAML's emitter writes; for data
    it does not handle, libyaml's emitter is used where it writes the same bytes."""
    _need_yaml()
    text = None if pure else _EMITTER.dump(data)
    if text is None:
        fast = not pure and _Dumper is not _PyDumper and _fast_emitter_writes_the_same(data)
        text = yaml.dump(
            data,
            Dumper=_Dumper if fast else _PyDumper,
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=False,
            width=WIDTH,
            indent=2,
        )
    head = "".join(comment(c) + "\n" for c in comments if c)
    return head + text


def dump_all(documents: Iterable[Tuple[Any, Sequence[str]]]) -> str:
    """Several YAML documents separated by ``---``, each with its own comments."""
    return "---\n".join(dump(data, notes) for data, notes in documents)


# --------------------------------------------------------------------------- Helm


def escape_template_text(text: str) -> str:
    """Make text inert for Go templates: every ``{{`` is written by an action that
    prints it literally."""
    return text.replace("{{", '{{ "{{" }}')


def dump_template(data: Any, comments: Sequence[str] = (), before: str = "", after: str = "") -> str:
    """A Helm template: ``data`` may hold ``Expr`` values (anywhere a scalar or a
    block may stand); everything else is literal and escaped.  ``before`` and
    ``after`` are fixed template lines (``{{- if ... }}`` / ``{{- end }}``)."""
    exprs: List[Expr] = []
    marker = "HELMEXPR"
    while marker in repr(data):  # a marker no document value contains
        marker += "Z"

    def swap(node: Any) -> Any:
        if isinstance(node, Expr):
            exprs.append(node)
            return "%s%dX" % (marker, len(exprs) - 1)
        if isinstance(node, dict):
            return {swap(k): swap(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [swap(v) for v in node]
        return node

    text = escape_template_text(dump(swap(data), comments))
    for index, expr in enumerate(exprs):
        text = text.replace("%s%dX" % (marker, index), str(expr))
    return "".join(part for part in (before, text, after) if part)


def values_expr(path: str) -> Expr:
    """``{{ toJson .Values.a.b }}``: JSON is valid YAML in any position."""
    if not re.match(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$", path):
        raise ValueError("not a values path: %r" % path)
    return Expr("{{ toJson .Values.%s }}" % path)


def load_all(text: str) -> List[Dict[str, Any]]:
    """Parse YAML documents (for tests and validators): empty documents dropped."""
    _need_yaml()
    return [doc for doc in yaml.safe_load_all(text) if doc]


def parse_one(text: str) -> Optional[Any]:
    _need_yaml()
    return yaml.safe_load(text)
