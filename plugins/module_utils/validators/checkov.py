# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Policy checks with checkov (in its own virtual environment: its HCL parser clashes
with python-hcl2).  Every failed check is an error; a check may only be skipped
inline, in the generated file, with a written reason."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Sequence

from ..errors import Finding
from .base import Tool, Validator, rel, run_tool

CHECKOV = Tool(
    "checkov",
    "checkov",
    "python3 -m venv ~/.venvs/checkov && ~/.venvs/checkov/bin/pip install checkov "
    "(it needs its own environment), then put its bin folder on PATH",
)

#: artifact kind -> checkov framework
FRAMEWORKS: Dict[str, str] = {
    "terraform": "terraform",
    "cloudformation": "cloudformation",
    "dockerfile": "dockerfile",
    "kubernetes": "kubernetes",
    "helm": "helm",
    "github-actions": "github_actions",
    "gitlab-ci": "gitlab_ci",
    "circleci": "circleci_pipelines",
    "azure-pipelines": "azure_pipelines",
}


#: kinds where every file must get at least one check (pipelines and Dockerfiles are single
#: documents checkov either parses or silently skips)
MUST_BE_CHECKED = ("dockerfile", "github-actions", "gitlab-ci", "circleci", "azure-pipelines")


class Checkov(Validator):
    name = "checkov"
    kinds = tuple(FRAMEWORKS)
    tools = (CHECKOV,)

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.kinds = (kind,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        framework = FRAMEWORKS[self.kind]
        # passed checks are listed too (no --quiet): a file of these kinds on which checkov ran no check
        # at all did not fit its parser, and is reported instead of passing unchecked
        must_be_checked = self.kind in MUST_BE_CHECKED
        argv = [
            tools["checkov"],
            *([] if must_be_checked else ["--quiet"]),
            "--compact",
            "--skip-download",
            "--output",
            "json",
            "--framework",
            framework,
        ]
        if self.kind == "terraform":
            from .terraform import terraform_roots

            for folder in terraform_roots(files):
                argv += ["--directory", folder]
        else:
            for path in files:
                argv += ["--file", path]
        result = run_tool(
            argv,
            cwd=root,
            env={"LOG_LEVEL": "ERROR", "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
        )
        text = result.stdout.strip()
        if "no runners to run" in (result.stdout + result.stderr).lower():
            return [
                self.finding(
                    "checkov has no runner for the %s framework here (a tool it needs is missing), so "
                    "nothing was checked" % framework,
                    files[0] if files else "",
                    code="no-runner",
                )
            ]
        if not text:
            if result.returncode == 0:
                return []
            return [self.failed_to_run(result, files)]
        try:
            reports = _documents(text)
        except ValueError:
            return [self.failed_to_run(result, files)]
        findings = []
        checked: Dict[str, int] = {}
        for report in reports:
            for check in (report.get("results") or {}).get("passed_checks", []):
                checked[_path(check, root)] = checked.get(_path(check, root), 0) + 1
            for check in (report.get("results") or {}).get("failed_checks", []):
                path = _path(check, root)
                checked[path] = checked.get(path, 0) + 1
                lines = check.get("file_line_range") or [0, 0]
                findings.append(
                    self.finding(
                        "%s %s (%s)"
                        % (check.get("check_id", ""), check.get("check_name", ""), check.get("resource", "")),
                        path,
                        int(lines[0] or 0),
                        "error",
                        check.get("check_id", ""),
                    )
                )
        if must_be_checked:
            for path in files:
                if not checked.get(path):
                    findings.append(
                        self.finding(
                            "checkov ran no %s check on this file (it did not fit checkov's parser), so it was not "
                            "checked" % framework,
                            path,
                            code="not-checked",
                        )
                    )
        return findings


def _documents(text: str) -> List[Dict[str, Any]]:
    """checkov's JSON output: one report, a list of reports, or (for several folders)
    several JSON documents one after the other."""
    decoder = json.JSONDecoder()
    reports: List[Dict[str, Any]] = []
    index = 0
    while index < len(text):
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            break
        data, index = decoder.raw_decode(text, index)
        reports.extend(data if isinstance(data, list) else [data])
    return reports


def _path(check: Mapping[str, Any], root: str) -> str:
    path = str(check.get("file_path") or check.get("repo_file_path") or "")
    return rel(path.lstrip("/") if not os.path.isabs(path) or not os.path.exists(path) else path, root)
