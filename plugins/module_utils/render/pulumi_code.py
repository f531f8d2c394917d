# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Building Python source for Pulumi programs, safe and already ``ruff format`` clean.

A value from a document only ever enters the program as a literal of a plain
Python value (str, int, float, bool, None, list, dict): ``literal`` writes what
``repr`` would, with the quotes ``ruff format`` prefers, and ``ast.literal_eval``
reads it back to the same value.  Code that is not a document value (references
between resources, config reads) is written here as ``Raw`` text.  Calls, lists
and dicts are always laid out one item per line with a trailing comma (ruff's
"magic trailing comma"), so the formatter keeps them as written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Tuple

INDENT = "    "


class Raw(str):
    """Python code written as is (never text from a document)."""


@dataclass(frozen=True)
class Call:
    """``func(args..., key=value...)`` with values built by ``code``."""

    func: str
    args: Tuple[Any, ...] = ()
    kwargs: Tuple[Tuple[str, Any], ...] = ()


def call(func: str, *args: Any, **kwargs: Any) -> Call:
    """A call; keyword arguments keep their order."""
    return Call(func, tuple(args), tuple((k, v) for k, v in kwargs.items() if v is not None))


def string(text: str) -> str:
    """A Python string literal of ``text`` with the quotes ``ruff format`` prefers:
    double, unless the text holds more double than single quotes."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    out = [quote]
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable():
            out.append(repr(ch)[1:-1])
        else:
            out.append(ch)
    out.append(quote)
    return "".join(out)


def literal(value: Any) -> str:
    """A one-line literal of a scalar (str, int, float, bool, None)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError("no literal for %r" % value)
        text = repr(value)
        return text
    if isinstance(value, str):
        return string(value)
    raise TypeError("no scalar literal for %r" % type(value))


def code(value: Any, level: int = 0) -> str:
    """Python source for ``value`` at indentation ``level`` (the first line is not indented)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, Call):
        items = [code(a, level + 1) for a in value.args]
        items += ["%s=%s" % (k, code(v, level + 1)) for k, v in value.kwargs]
        return _exploded(value.func + "(", items, ")", level)
    if isinstance(value, dict):
        items = [
            "%s: %s" % (code(k if isinstance(k, Raw) else str(k), level + 1), code(v, level + 1))
            for k, v in value.items()
        ]
        return _exploded("{", items, "}", level)
    if isinstance(value, (list, tuple)):
        return _exploded("[", [code(v, level + 1) for v in value], "]", level)
    return literal(value)


def _exploded(opening: str, items: Sequence[str], closing: str, level: int) -> str:
    if not items:
        return opening + closing
    pad = INDENT * (level + 1)
    body = "".join("%s%s,\n" % (pad, item) for item in items)
    return "%s\n%s%s%s" % (opening, body, INDENT * level, closing)


def comment(text: str) -> str:
    """One comment line: no line breaks, no control characters."""
    clean = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return "# " + clean if clean else "#"


@dataclass
class Program:
    """The statements of a program, top to bottom."""

    docstring: str
    imports: List[str] = field(default_factory=list)
    blocks: List[str] = field(default_factory=list)

    def block(self, text: str) -> None:
        """A group of statements written as is, separated from the next by a blank line."""
        self.blocks.append(text.rstrip("\n"))

    def assign(self, name: str, value: Any, note: Optional[str] = None) -> None:
        lines = [comment(note)] if note else []
        lines.append("%s = %s" % (name, code(value)))
        self.blocks.append("\n".join(lines))

    def resource(
        self, variable: Optional[str], resource_type: str, logical: str, note: Optional[str] = None, /, **kwargs: Any
    ) -> None:
        """``variable = resource_type("logical", key=value, ...)`` (a bare call when
        ``variable`` is None); the keyword arguments are the resource's own, ``name``
        and ``kind`` included."""
        value = Call(resource_type, (logical,), tuple((k, v) for k, v in kwargs.items() if v is not None))
        lines = [comment(note)] if note else []
        lines.append(("%s = %s" % (variable, code(value))) if variable else code(value))
        self.blocks.append("\n".join(lines))

    def text(self) -> str:
        doc = '"""%s"""' % self.docstring.replace("\\", "/").replace('"""', "'''")
        parts = [doc, "\n".join(self.imports)] + self.blocks
        return "\n\n".join(parts) + "\n"


def concat(*parts: Any) -> Call:
    """``pulumi.Output.concat(...)`` of literals and references."""
    return Call("pulumi.Output.concat", tuple(parts))


class ProgramBuilder:
    """What the per-cloud program builders share: the program, the resource types
    created in order, and source comments from the model."""

    def __init__(self, model: Any, plan: Any, docstring: str, imports: List[str]) -> None:
        self.model = model
        self.p = plan
        self.prog = Program(docstring, imports=list(imports))
        self.types: List[str] = []

    def note(self, path: Optional[str]) -> Optional[str]:
        from .common import source_note

        return source_note(self.model, path) if path else None

    def res(
        self, variable: Optional[str], resource_type: str, logical: str, source: Optional[str] = None, /, **kwargs: Any
    ) -> None:
        self.types.append(resource_type)
        self.prog.resource(variable, resource_type, logical, self.note(source), **kwargs)

    def env_vars(self) -> List[Tuple[str, str]]:
        """Non-sensitive variables with a default from the documents, by name."""
        import re

        out = {}
        for env in self.model.service.env:
            if not env.sensitive and env.default is not None and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", env.name):
                out[env.name] = env.default
        return sorted(out.items())
