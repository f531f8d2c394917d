"""The sdd.devops_flow.generate action plugin, run by ansible-playbook, and the CLI."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]
EXAMPLES = REPO / "examples" / "docs"
REQ = EXAMPLES / "07_REQ" / "REQ-14_order_intake_api.md"
BIN = Path(sys.executable).parent


def _env(tmp_path):
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".build" / "collections"),
            "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
            "ANSIBLE_REMOTE_TEMP": str(tmp_path / "remote-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "PATH": "%s:%s" % (BIN, env.get("PATH", "")),
        }
    )
    return env


PLAYBOOK = """
- name: Generate, again, refuse a hand edit
  hosts: localhost
  gather_facts: false
  vars:
    req: "{req}"
    out: "{out}"
  tasks:
    - name: First run writes the files (and validates them)
      sdd.devops_flow.generate:
        target: infra
        req: "{{{{ req }}}}"
        output: "{{{{ out }}}}"
      register: first

    - name: Second run changes nothing
      sdd.devops_flow.generate:
        target: infra
        req: "{{{{ req }}}}"
        output: "{{{{ out }}}}"
        validate: false
      register: second

    - name: The runs report what they did
      ansible.builtin.assert:
        that:
          - first is changed
          - second is not changed
          - first.files | selectattr('status', 'equalto', 'created') | list | length > 5
          - second.files | rejectattr('status', 'equalto', 'unchanged') | list | length == 0
          - first.findings | selectattr('severity', 'equalto', 'error') | list | length == 0

    - name: Someone edits a generated file by hand
      ansible.builtin.lineinfile:
        path: "{{{{ out }}}}/main.tf"
        line: "# a hand edit"

    - name: The next run refuses to overwrite it
      sdd.devops_flow.generate:
        target: infra
        req: "{{{{ req }}}}"
        output: "{{{{ out }}}}"
        validate: false
      register: refused
      ignore_errors: true

    - name: The refusal names the file and shows the diff
      ansible.builtin.assert:
        that:
          - refused is failed
          - "'main.tf' in refused.msg"
          - refused.files | selectattr('status', 'equalto', 'refused') | map(attribute='path') | list == ['main.tf']
          - refused.diff | length > 0
          - lookup('ansible.builtin.file', out ~ '/main.tf') is search('a hand edit')

- name: Check mode writes nothing and shows the diff
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Plan only
      sdd.devops_flow.generate:
        target: infra
        req: "{req}"
        output: "{checked}"
        validate: false
      check_mode: true
      diff: true
      register: planned

    - name: Nothing was written
      ansible.builtin.stat:
        path: "{checked}"
      register: folder

    - name: The plan lists the files and their contents
      ansible.builtin.assert:
        that:
          - planned is changed
          - not folder.stat.exists
          - planned.diff | map(attribute='after_header') | select('equalto', 'main.tf') | list | length == 1
          - planned.written == false
"""


def test_action_plugin_runs_idempotent_and_safe(tmp_path):
    playbook = tmp_path / "generate.yml"
    playbook.write_text(PLAYBOOK.format(req=REQ, out=tmp_path / "out", checked=tmp_path / "checked"))
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "failed=0" in proc.stdout


def _tree(root: Path):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "backups" not in p.parts)


@pytest.mark.parametrize(
    "extra",
    [[], ["--iac", "cloudformation"], ["--cloud", "gcp"]],
    ids=["terraform-aws", "cloudformation", "terraform-gcp"],
)
def test_cli_and_action_plugin_write_the_same_bytes(tmp_path, extra):
    cli_out = tmp_path / "cli"
    proc = subprocess.run(
        [
            str(BIN / "devops-flow"),
            "generate-infra",
            "--req",
            str(REQ),
            "--output",
            str(cli_out),
            "--no-validate",
            *extra,
        ],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    args = {"--iac": "iac", "--cloud": "cloud"}
    options = "".join("\n        %s: %s" % (args[extra[i]], extra[i + 1]) for i in range(0, len(extra), 2))
    playbook = tmp_path / "same.yml"
    playbook.write_text(
        """
- name: Same bytes
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Generate
      sdd.devops_flow.generate:
        target: infra
        req: "%s"
        output: "%s"
        validate: false%s
"""
        % (REQ, tmp_path / "action", options)
    )
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    left, right = _tree(cli_out), _tree(tmp_path / "action")
    assert left == right and left
    matched, mismatch, errors = filecmp.cmpfiles(cli_out, tmp_path / "action", left, shallow=False)
    assert matched == left and not mismatch and not errors
