# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The security scan of generated artifacts, judged by the threshold of 9.5.6.

Every folder is checked by ``devops-flow validate DIR --format json``: the kind of
each file is detected and the validators of the collection run on it (checkov on
Terraform, CloudFormation, Kubernetes, Dockerfiles and pipelines; hadolint on
Dockerfiles; ShellCheck and ``bash -n`` on scripts; the other ecosystems' own
tools).  The module runs that command (through ``AnsibleModule.run_command``);
this file only reads its output and grades it.  Each finding gets a severity of
9.5.6's scale (low, medium, high, critical), and the scan fails when a finding
reaches the threshold (``security.image_scanning.threshold``: the lowest severity
that fails a scan, ``high`` for "0 critical, 0 high").

Severities: a finding whose code is in the overrides gets that severity; a
file that could not be checked (a tool missing or failing, no validator, no
check run) is critical, so a scan never passes unchecked; a failed checkov check
gets ``checkov_severity`` (checkov gives no severity without its platform);
otherwise a validator error is high, a warning medium and a note low.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any, Dict, List, Mapping, Optional, Sequence

#: 9.5.6's scale, lowest first (the model's SEVERITY_ORDER)
SEVERITIES = ("low", "medium", "high", "critical")

#: finding codes that mean a file was not checked at all
NOT_CHECKED = ("tool-missing", "tool-error", "no-validator", "no-runner", "not-checked", "unreadable")

_BY_VALIDATOR_SEVERITY = {"error": "high", "warning": "medium", "info": "low"}


class ScanError(Exception):
    """The scan cannot start or its validator gave no usable answer."""


def severity_of(finding: Mapping[str, Any], overrides: Mapping[str, str], checkov_severity: str) -> str:
    """The 9.5.6 severity of one validator finding (see the module's description)."""
    code = str(finding.get("code") or "")
    if code and code in overrides:
        return overrides[code]
    if code in NOT_CHECKED:
        return "critical"
    level = str(finding.get("severity") or "error")
    if finding.get("tool") == "checkov" and level == "error":
        return checkov_severity
    return _BY_VALIDATOR_SEVERITY.get(level, "high")


def reaches(severity: str, threshold: str) -> bool:
    """Whether a finding of ``severity`` fails a scan whose threshold is ``threshold``."""
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)


def check_settings(threshold: str, overrides: Mapping[str, str], checkov_severity: str) -> None:
    """Refuse a threshold, a checkov severity or an override that is not on the 9.5.6 scale."""
    for name, value in [("threshold", threshold), ("checkov_severity", checkov_severity)] + [
        ("severity_overrides[%s]" % code, level) for code, level in overrides.items()
    ]:
        if value not in SEVERITIES:
            raise ScanError("%s is %r; expected one of %s" % (name, value, ", ".join(SEVERITIES)))


def validate_argv(command: Sequence[str], folder: str) -> List[str]:
    """The command line that checks one folder."""
    return [*command, "validate", folder, "--format", "json"]


def parse_validate_output(folder: str, rc: int, stdout: str, stderr: str) -> Dict[str, Any]:
    """The JSON ``devops-flow validate`` prints (exit code 0: no error, 1: findings)."""
    if rc not in (0, 1):
        detail = (stderr or stdout).strip().splitlines()
        raise ScanError(
            "devops-flow validate %s failed (exit code %d): %s"
            % (folder, rc, " | ".join(detail[-3:]) if detail else "no output")
        )
    try:
        data = json.loads(stdout)
    except ValueError:
        raise ScanError(
            "devops-flow validate %s printed no JSON (exit code %d): %s" % (folder, rc, stdout.strip()[:200])
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise ScanError("devops-flow validate %s printed JSON without a findings list" % folder)
    return data


def grade(
    results: Sequence[Mapping[str, Any]],
    threshold: str,
    overrides: Optional[Mapping[str, str]] = None,
    checkov_severity: str = "high",
) -> Dict[str, Any]:
    """The scan's result from the validator output of every folder.

    ``results`` holds one ``{"path": folder, "output": <validate JSON>}`` per folder.
    """
    overrides = dict(overrides or {})
    check_settings(threshold, overrides, checkov_severity)
    findings: List[Dict[str, Any]] = []
    checked: Dict[str, Dict[str, str]] = {}
    unrecognised: Dict[str, List[str]] = {}
    for entry in results:
        folder = str(entry["path"])
        output = entry["output"]
        checked[folder] = {str(k): str(v) for k, v in sorted((output.get("files") or {}).items())}
        unrecognised[folder] = [str(u) for u in output.get("unchecked") or []]
        for finding in output["findings"]:
            level = severity_of(finding, overrides, checkov_severity)
            item = dict(finding)
            item.update(
                {
                    "path": posixpath.join(folder, finding["file"]) if finding.get("file") else folder,
                    "validator_severity": finding.get("severity", ""),
                    "severity": level,
                    "blocking": reaches(level, threshold),
                }
            )
            findings.append(item)
    counts = dict.fromkeys(SEVERITIES, 0)
    for item in findings:
        counts[item["severity"]] += 1
    blocking = [f for f in findings if f["blocking"]]
    files = sum(len(k) for k in checked.values())
    summary = "%d file(s) in %d folder(s): %s; threshold %s (a %s or worse finding fails)" % (
        files,
        len(results),
        ", ".join("%d %s" % (counts[level], level) for level in reversed(SEVERITIES)),
        threshold,
        threshold,
    )
    return {
        "passed": not blocking,
        "threshold": threshold,
        "counts": counts,
        "blocking": len(blocking),
        "findings": findings,
        "files": checked,
        "unrecognised": unrecognised,
        "summary": summary,
    }


def failure_message(result: Mapping[str, Any], limit: int = 10) -> str:
    """Why a scan failed, with the first blocking findings as ``path:line: severity: message``."""
    blocking = [f for f in result["findings"] if f["blocking"]]
    lines = [
        "%s%s: %s: %s%s"
        % (
            f["path"],
            ":%d" % f["line"] if f.get("line") else "",
            f["severity"],
            "[%s] " % f["tool"] if f.get("tool") else "",
            f["message"],
        )
        for f in blocking[:limit]
    ]
    more = len(blocking) - limit
    return "the security scan found %d finding(s) at or above %s: %s%s" % (
        len(blocking),
        result["threshold"],
        "; ".join(lines),
        " (and %d more)" % more if more > 0 else "",
    )
