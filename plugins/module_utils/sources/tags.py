# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Traceability tags and ids in every form the documents use.

``@brd: BRD.01.01.05``, ``@brd: BRD-01:BRD.01.01.30``, ``@brd: BRD-06``,
``@brd:BRD-06``, ``[@adr: ADR-02](path#ADR-02)``, ranges such as
``EARS.11.01.01-04``, ``@threshold: PRD.NN.perf.api.p95_latency``, downstream
``@deployment: scripts/`` and cross links ``@depends: REQ-NN``.
"""

from __future__ import annotations

import re
from typing import Dict, List, Tuple

from ..model import Tag

DOC_KINDS = ("BRD", "PRD", "EARS", "BDD", "ADR", "SYS", "REQ", "CTR", "SPEC", "TASKS", "IMPL", "IPLAN", "ICON")
DOC_ID = re.compile(r"\b(%s)-(\d{2,9})\b" % "|".join(DOC_KINDS))
ELEMENT_ID = re.compile(r"\b([A-Z]{2,5})\.(\d{2,9})\.(\d{2,9})\.(\d{2,9})(?:-(\d{2,9}))?\b")
ELEMENT_ID_STRICT = re.compile(r"^[A-Z]{2,5}\.[0-9]{2,9}\.[0-9]{2,9}\.[0-9]{2,9}$")
_TAG = re.compile(r"@([a-z][a-z_-]{1,20})\s*:\s*")
_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:#-]*")
_MORE = re.compile(r"\s*,\s*(?=[A-Z]{2,5}[-.]\d)")


def expand_range(value: str) -> List[str]:
    """``EARS.11.01.01-04`` -> the four element ids; anything else unchanged."""
    m = re.fullmatch(r"([A-Z]{2,5}\.\d{2,9}\.\d{2,9}\.)(\d{2,9})-(\d{2,9})", value)
    if not m:
        return [value]
    first, last = int(m.group(2)), int(m.group(3))
    width = len(m.group(2))
    if last < first or last - first > 500:
        return [value]
    return ["%s%0*d" % (m.group(1), width, n) for n in range(first, last + 1)]


def _clean_value(value: str) -> str:
    value = value.rstrip(".,;:)]`*'\"")
    # link anchors belong to the link, not the id: ADR-02#ADR-02 -> ADR-02
    if "#" in value and not value.startswith("#"):
        value = value.split("#", 1)[0]
    return value


def find_tags(text: str, file: str, first_line: int = 1) -> List[Tag]:
    """Every ``@kind: value`` tag in ``text`` with its line."""
    tags: List[Tag] = []
    for offset, line in enumerate(text.split("\n")):
        for m in _TAG.finditer(line):
            kind = m.group(1).lower()
            pos = m.end()
            while True:
                vm = _VALUE.match(line, pos)
                if not vm:
                    break
                value = _clean_value(vm.group(0))
                if value:
                    tags.append(Tag(kind, value, file, first_line + offset))
                more = _MORE.match(line, vm.end())
                if not more:
                    break
                pos = more.end()
    return tags


def element_ids(text: str) -> List[str]:
    """Four-part element ids (``REQ.14.06.01``), ranges expanded, in order, no repeats."""
    seen: Dict[str, None] = {}
    for m in ELEMENT_ID.finditer(text):
        base = "%s.%s.%s.%s" % (m.group(1), m.group(2), m.group(3), m.group(4))
        if m.group(5):
            for value in expand_range(base + "-" + m.group(5)):
                seen.setdefault(value, None)
        else:
            seen.setdefault(base, None)
    return list(seen)


def doc_ids(text: str, kind: str) -> List[str]:
    """Document ids of one kind (``ADR-02``) in order, no repeats."""
    seen: Dict[str, None] = {}
    for m in DOC_ID.finditer(text):
        if m.group(1) == kind:
            seen.setdefault("%s-%s" % (m.group(1), m.group(2)), None)
    return list(seen)


def doc_number(value: str) -> Tuple[str, str]:
    """``SYS.05.01.04`` or ``SYS-05`` or ``BRD-01:BRD.01.01.30`` -> (kind, number)."""
    m = re.match(r"([A-Z]{2,5})[-.](\d{2,9})", value)
    if not m:
        return "", ""
    return m.group(1), m.group(2)
