# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors and findings of sdd.devops_flow.

Every problem the collection reports names the file, the line and what was
expected.  A ``Finding`` is one such report (a warning or an error); a
``DocumentError`` carries one or more error findings and is what the parser
raises when a document cannot be used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    """One problem found in a document or a generated file."""

    message: str
    file: str = ""
    line: int = 0
    severity: str = "warning"
    section: str = ""
    code: str = ""
    tool: str = ""

    def location(self) -> str:
        """``file:line`` (or just the file, or nothing) for messages."""
        if not self.file:
            return ""
        if self.line:
            return "%s:%d" % (self.file, self.line)
        return self.file

    def format(self) -> str:
        """``path:line: severity: message`` as compilers print it."""
        where = self.location()
        prefix = "%s: " % where if where else ""
        return "%s%s: %s" % (prefix, self.severity, self.message)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
        }
        if self.section:
            data["section"] = self.section
        if self.code:
            data["code"] = self.code
        if self.tool:
            data["tool"] = self.tool
        return data


class DevopsFlowError(Exception):
    """Base class of the errors this collection raises on purpose."""

    exit_code = 2

    def findings(self) -> list[Finding]:
        return [Finding(str(self), severity="error")]

    def to_fail_kwargs(self) -> dict[str, Any]:
        """Arguments for ``AnsibleModule.fail_json`` / an action result."""
        return {
            "msg": str(self),
            "errors": [f.to_dict() for f in self.findings()],
        }


class DocumentError(DevopsFlowError):
    """A document cannot be used.  Holds every error found, not just the first."""

    def __init__(self, errors: Iterable[Finding]) -> None:
        self.errors = [
            e if e.severity == "error" else Finding(e.message, e.file, e.line, "error", e.section, e.code, e.tool)
            for e in errors
        ]
        if not self.errors:
            self.errors = [Finding("the document cannot be used", severity="error")]
        super().__init__("\n".join(_plain(e) for e in self.errors))

    @classmethod
    def at(cls, file: str, line: int, message: str, section: str = "", code: str = "") -> DocumentError:
        """One error at ``file:line``."""
        return cls([Finding(message, file, line, "error", section, code)])

    def findings(self) -> list[Finding]:
        return list(self.errors)


class UsageError(DevopsFlowError):
    """The command line or module arguments are wrong."""


class WriteError(DevopsFlowError):
    """Generated files could not be written safely."""

    def __init__(self, message: str, findings: Iterable[Finding] = ()) -> None:
        super().__init__(message)
        self._findings = list(findings)

    def findings(self) -> list[Finding]:
        return self._findings or [Finding(str(self), severity="error")]


def _plain(f: Finding) -> str:
    """``path:line: message`` (the severity is implied for errors)."""
    where = f.location()
    return "%s: %s" % (where, f.message) if where else f.message
