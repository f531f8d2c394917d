# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared state of one parse: where values came from, warnings and errors."""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

from ..errors import Finding
from ..model import Source
from ..units import UnitError

T = TypeVar("T")


class ParseContext:
    """Collects sources (field path -> Source), warnings and errors.

    Errors do not stop the parse: every problem of a document is reported at
    once, then ``DocumentError`` is raised by the loader if any error was found.
    """

    def __init__(self) -> None:
        self.sources: Dict[str, Source] = {}
        self.warnings: List[Finding] = []
        self.errors: List[Finding] = []

    def src(self, path: str, file: str, line: int, section: str = "") -> None:
        self.sources[path] = Source(file, line, section)

    def src_from(self, path: str, other: Optional[Source]) -> None:
        if other is not None:
            self.sources[path] = other

    def warn(self, message: str, file: str = "", line: int = 0, section: str = "", code: str = "") -> None:
        finding = Finding(message, file, line, "warning", section, code)
        if finding not in self.warnings:
            self.warnings.append(finding)

    def error(self, message: str, file: str = "", line: int = 0, section: str = "", code: str = "") -> None:
        finding = Finding(message, file, line, "error", section, code)
        if finding not in self.errors:
            self.errors.append(finding)

    def read(
        self,
        parser: Callable[[Any], T],
        value: Any,
        what: str,
        file: str,
        line: int,
        section: str = "",
        fatal: bool = False,
    ) -> Optional[T]:
        """Run a unit parser; on failure report a warning (or an error when
        ``fatal``) naming ``what`` and return None."""
        try:
            return parser(value)
        except UnitError as exc:
            message = "%s: %s" % (what, exc)
            if fatal:
                self.error(message, file, line, section)
            else:
                self.warn(message + " (ignored)", file, line, section)
            return None


def kv_pairs(text: str) -> List[Tuple[str, str]]:
    """``Type: ECS Fargate, CPU: 2 vCPU, AZs: us-east-1a,1b,1c`` -> key/value pairs.

    Commas split pairs only where a new ``Key:`` follows, so values may hold
    commas.  Text before the first key is returned under the key ``""``.
    """
    text = text.strip()
    if not text:
        return []
    parts = re.split(r"\s*[,;]\s*(?=[A-Za-z][A-Za-z0-9 ()/_.-]{0,40}?:\s)|\s*;\s*", text)
    pairs: List[Tuple[str, str]] = []
    for part in parts:
        m = re.match(r"^([A-Za-z][A-Za-z0-9 ()/_.-]{0,40}?):\s*(.*)$", part.strip())
        if m and not re.match(r"^(https?|s3|gs|file)$", m.group(1), re.IGNORECASE):
            pairs.append((m.group(1).strip().lower(), m.group(2).strip()))
        elif part.strip():
            pairs.append(("", part.strip()))
    return pairs


def kv_get(pairs: List[Tuple[str, str]], *keys: str) -> Optional[str]:
    """The value of the first key that starts with one of ``keys``."""
    for want in keys:
        for key, value in pairs:
            if key == want or (key and key.startswith(want)):
                return value
    return None
