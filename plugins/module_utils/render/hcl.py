# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Building HCL (Terraform) text that is safe and already ``terraform fmt`` clean.

Every value from a document goes through ``q`` (a quoted HCL string: quotes,
backslashes, newlines, and the template sequences ``${`` and ``%{`` escaped), so a
document cannot inject HCL or interpolations.  The layout follows hclwrite's
formatter: two spaces per level, and the ``=`` of consecutive single-line
attributes aligned; a multi-line value, a nested block, a comment or a blank
line ends an alignment run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional, Sequence, Union

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class Raw(str):
    """An HCL expression written as is (references, function calls)."""


def q(value: Any) -> Raw:
    """A quoted HCL string literal for any value."""
    text = str(value)
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    text = text.replace("${", "$${").replace("%{", "%%{")
    return Raw('"%s"' % text)


def ident(text: str, prefix: str = "r") -> str:
    """A Terraform identifier (resource or variable name) from any text."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", str(text)).strip("_").lower()
    if not name or not (name[0].isalpha() or name[0] == "_"):
        name = "%s_%s" % (prefix, name)
    return name


@dataclass(frozen=True)
class Call:
    """A function call whose argument is laid out at the call's indentation."""

    name: str
    argument: Any


def expr(value: Any, indent: int = 0) -> str:
    """An HCL expression for a Python value (Raw is kept as written)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, Call):
        return "%s(%s)" % (value.name, expr(value.argument, indent))
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value != int(value) else str(int(value))
    if isinstance(value, str):
        return q(value)
    if isinstance(value, (list, tuple)):
        items = [expr(v, indent + 1) for v in value]
        one_line = "[%s]" % ", ".join(items)
        if "\n" not in one_line and len(one_line) + 2 * indent < 100:
            return one_line
        pad = "  " * (indent + 1)
        return "[\n%s\n%s]" % ("\n".join("%s%s," % (pad, i) for i in items), "  " * indent)
    if isinstance(value, dict):
        if not value:
            return "{}"
        return _object(value, indent)
    raise TypeError("no HCL expression for %r" % type(value))


def _key(key: str) -> str:
    return key if _IDENT.match(key) else q(key)


def _object(value: Mapping[str, Any], indent: int) -> str:
    pad = "  " * (indent + 1)
    rendered = [(_key(str(k)), expr(v, indent + 1)) for k, v in value.items()]
    lines = _align(list(rendered), pad)
    return "{\n%s\n%s}" % ("\n".join(lines), "  " * indent)


def _align(pairs: Sequence[Any], pad: str) -> List[str]:
    """``name = value`` lines with '=' aligned within runs of single-line values."""
    lines: List[str] = []
    run: List[Any] = []

    def flush() -> None:
        width = max((len(k) for k, _value in run), default=0)
        for k, v in run:
            lines.append("%s%s = %s" % (pad, k.ljust(width), v))
        run.clear()

    for k, v in pairs:
        if "\n" in v:
            flush()
            lines.append("%s%s = %s" % (pad, k, v))
        else:
            run.append((k, v))
    flush()
    return lines


@dataclass
class Comment:
    text: str


@dataclass
class Blank:
    pass


@dataclass
class Attr:
    name: str
    value: Any


@dataclass
class Block:
    """``type "label" "label" { body }``."""

    type: str
    labels: Sequence[str] = ()
    body: List[Union[Attr, Block, Comment, Blank]] = field(default_factory=list)

    def attr(self, name: str, value: Any) -> Block:
        """Add an attribute unless the value is None (unset stays unset)."""
        if value is not None:
            self.body.append(Attr(name, value))
        return self

    def attrs(self, values: Mapping[str, Any]) -> Block:
        for name, value in values.items():
            self.attr(name, value)
        return self

    def block(self, type_: str, *labels: str, **attrs: Any) -> Block:
        child = Block(type_, labels)
        child.attrs(attrs)
        self.body.append(child)
        return child

    def add(self, item: Union[Attr, Block, Comment, Blank]) -> Block:
        self.body.append(item)
        return self

    def comment(self, text: str) -> Block:
        self.body.append(Comment(text))
        return self

    def blank(self) -> Block:
        self.body.append(Blank())
        return self


def render(items: Sequence[Union[Attr, Block, Comment, Blank]], indent: int = 0) -> str:
    """Text of a sequence of top-level items, blocks separated by blank lines."""
    out: List[str] = []
    previous: Optional[object] = None
    for item in items:
        if isinstance(item, Block) and previous is not None and not isinstance(previous, (Comment, Blank)):
            out.append("")
        out.extend(_lines(item, indent))
        previous = item
    return "\n".join(out) + "\n"


def _lines(item: Union[Attr, Block, Comment, Blank], indent: int) -> List[str]:
    pad = "  " * indent
    if isinstance(item, Comment):
        return ["%s# %s" % (pad, line) if line else "%s#" % pad for line in item.text.split("\n")]
    if isinstance(item, Blank):
        return [""]
    if isinstance(item, Attr):
        return ("%s%s = %s" % (pad, item.name, expr(item.value, indent))).split("\n")
    head = " ".join([item.type] + [q(label) for label in item.labels])
    if not item.body:
        return ["%s%s {}" % (pad, head)]
    lines = ["%s%s {" % (pad, head)]
    run: List[Any] = []
    inner = "  " * (indent + 1)

    def flush() -> None:
        if run:
            lines.extend(_align(run, inner))
            run.clear()

    previous: Optional[object] = None
    for child in item.body:
        if isinstance(child, Attr):
            value = expr(child.value, indent + 1)
            if "\n" in value:
                flush()
                lines.append("%s%s = %s" % (inner, child.name, value))
            else:
                run.append((child.name, value))
        else:
            flush()
            if isinstance(child, Block) and previous is not None and isinstance(previous, Attr):
                lines.append("")
            lines.extend(_lines(child, indent + 1))
        previous = child
    flush()
    lines.append("%s}" % pad)
    return lines


def jsonencode(value: Any) -> Call:
    """``jsonencode({...})`` of a Python value (for IAM policies): the value is
    written as an HCL object, so references inside stay references."""
    return Call("jsonencode", value)


def json_literal(value: Any) -> Raw:
    """A JSON document as a quoted HCL string."""
    return q(json.dumps(value, sort_keys=True))


__all__ = [
    "Attr",
    "Blank",
    "Block",
    "Call",
    "Comment",
    "Raw",
    "expr",
    "ident",
    "json_literal",
    "jsonencode",
    "q",
    "render",
]
