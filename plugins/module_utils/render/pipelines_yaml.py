# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""YAML output of the pipeline files (GitHub Actions, GitLab CI, CircleCI, Azure).

Pipelines are built as Python data and written with PyYAML's safe dumper:
strings that a YAML reader could take for something else are quoted, multi-line
shell scripts are literal blocks, and sequences are indented under their key as
the CI systems' own examples are.  Comments (``# from REQ-14 ...``) are added
after serialisation before a given key line, as single lines without control
characters.
"""

from __future__ import annotations

import functools
import re
from typing import Any, List, Optional, Sequence, Tuple

try:
    import yaml

    _SafeDumper: Any = yaml.SafeDumper
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None  # type: ignore[assignment]
    _SafeDumper = object

from .pipelines_plan import one_line

_PLAIN = re.compile(r"^[A-Za-z/][A-Za-z0-9 _./@(),%+=-]*$")
_WORDS = ("y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf", "infinity")
_SPECIAL = frozenset(["~", *_WORDS, *(w.upper() for w in _WORDS), *(w.capitalize() for w in _WORDS)])


class _Dumper(_SafeDumper):  # type: ignore[misc]
    """SafeDumper that indents sequences under their key and never uses aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if _PLAIN.match(value) and value not in _SPECIAL and not value.endswith(" ") and _reads_back(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value)
    if "'" not in value and not re.search(r"[\x00-\x1f\x7f-\x9f]", value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')


@functools.lru_cache(maxsize=4096)
def _reads_back(value: str) -> bool:
    """True when the plain scalar reads back as the same string."""
    try:
        return bool(yaml.safe_load(value) == value)
    except yaml.YAMLError:
        return False


if yaml is not None:
    _Dumper.add_representer(str, _represent_str)


def script(lines: Sequence[str]) -> str:
    """Shell lines as one script (a literal block when it has several lines)."""
    text = "\n".join(line for line in lines if line is not None)
    return text + "\n" if "\n" in text else text


def dump(data: Any) -> str:
    text = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=False,
        width=4096,
        indent=2,
    )
    # GitHub's own spelling of the trigger key (YAML 1.1 readers see "on" as true)
    return re.sub(r"^'on':", "on:", text, count=1, flags=re.MULTILINE)


def comment_line(text: str) -> str:
    clean = one_line(text, 300)
    return "# " + clean if clean else "#"


def add_comments(text: str, anchors: Sequence[Tuple[str, Optional[str]]], header: Sequence[str] = ()) -> str:
    """Insert ``# comment`` lines before the first line equal to each anchor (in
    order; each search starts after the previous match), indented like it."""
    lines: List[str] = text.split("\n")
    position = 0
    for anchor, note in anchors:
        if not note:
            continue
        for index in range(position, len(lines)):
            if lines[index] == anchor:
                indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
                if indent.endswith("- "):
                    indent = indent[:-2] + "  "
                lines.insert(index, indent.replace("-", " ") + comment_line(note))
                position = index + 2
                break
    head = "".join(comment_line(line) + "\n" for line in header if line)
    return head + "\n".join(lines)


def annotate(text: str, pattern: str, note: str) -> str:
    """Append `` # note`` to every line matching ``pattern`` (a regular expression)."""
    regex = re.compile(pattern)
    suffix = "  " + comment_line(note)
    return "\n".join(line + suffix if regex.search(line) else line for line in text.split("\n"))
