# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudFormation templates: cfn-lint."""

from __future__ import annotations

import json
from typing import List, Mapping, Sequence

from ..errors import Finding
from .base import Tool, Validator, rel, run_tool

CFN_LINT = Tool("cfn-lint", "cfn-lint", "pip install cfn-lint")


class CfnLint(Validator):
    name = "cfn-lint"
    kinds = ("cloudformation",)
    tools = (CFN_LINT,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        templates = [f for f in files if f.endswith((".yaml", ".yml", ".json", ".template"))]
        if not templates:
            return []
        result = run_tool([tools["cfn-lint"], "--format", "json", "--", *templates], cwd=root)
        if result.returncode not in (0, 2, 4, 6, 8, 10, 12, 14) and not result.stdout.strip():
            return [self.failed_to_run(result, templates)]
        try:
            items = json.loads(result.stdout or "[]")
        except ValueError:
            return [self.failed_to_run(result, templates)]
        findings = []
        for item in items:
            level = str(item.get("Level", "Error")).lower()
            severity = {"error": "error", "warning": "warning"}.get(level, "info")
            location = item.get("Location") or {}
            start = location.get("Start") or {}
            rule = (item.get("Rule") or {}).get("Id", "")
            findings.append(
                self.finding(
                    "%s %s" % (rule, item.get("Message", "")),
                    rel(item.get("Filename") or location.get("Filename") or templates[0], root),
                    int(start.get("LineNumber", 0) or 0),
                    severity,
                    rule,
                )
            )
        return findings
