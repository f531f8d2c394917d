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

import re
from typing import Any, List, Optional, Sequence, Tuple

from . import block_yaml
from .block_yaml import plain_or_quoted
from .pipelines_plan import one_line

_PLAIN = re.compile(r"^[A-Za-z/][A-Za-z0-9 _./@(),%+=-]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Lines longer than this are never folded.
WIDTH = 4096


def _str_style(value: str) -> Optional[str]:
    return "|" if "\n" in value else plain_or_quoted(value, _PLAIN, _CONTROL)


_Dumper, _EMITTER = block_yaml.dumper("PipelinesDumper", WIDTH, _str_style)


def script(lines: Sequence[str]) -> str:
    """Shell lines as one script (a literal block when it has several lines)."""
    text = "\n".join(line for line in lines if line is not None)
    return text + "\n" if "\n" in text else text


def dump(data: Any) -> str:
    text = block_yaml.dump(data, _Dumper, _EMITTER)
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
