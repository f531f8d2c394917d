"""The spec_info module: in process, through ansible-playbook, and its rendered docs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.sdd.devops_flow.plugins.modules import spec_info

REPO = Path(__file__).resolve().parents[4]
EXAMPLES = REPO / "examples" / "docs"
BIN = Path(sys.executable).parent


def _run_module(args, capsys):
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        spec_info.main()
    result = json.loads(capsys.readouterr().out)
    return exc.value.code, result


def test_returns_the_model_and_warnings(capsys):
    code, result = _run_module({"req": str(EXAMPLES / "07_REQ/REQ-102_ledger_events.md")}, capsys)
    assert code == 0 and result["changed"] is False
    model = result["model"]
    assert model["cloud"]["provider"] == "azure"
    assert model["environments"][1]["strategy"] == "canary"
    assert any("ADR-07" in w["message"] for w in result["warnings_found"])


def test_check_mode_is_the_same(capsys):
    args = {"req": str(EXAMPLES / "07_REQ/REQ-21_catalog_search.md"), "_ansible_check_mode": True}
    code, result = _run_module(args, capsys)
    assert code == 0 and result["model"]["cloud"]["provider"] == "gcp"


def test_strict_fails_on_warnings(capsys):
    args = {"req": str(EXAMPLES / "07_REQ/REQ-102_ledger_events.md"), "strict": True}
    code, result = _run_module(args, capsys)
    assert code == 1 and result["failed"] and "strict" in result["msg"]


def test_bad_document_fails_with_file_and_line(capsys, tmp_path):
    spec = tmp_path / "SPEC-01.yaml"
    spec.write_text("- not\n- a mapping\n")
    code, result = _run_module({"spec": str(spec)}, capsys)
    assert code == 1 and result["failed"]
    assert result["errors"][0]["file"].endswith("SPEC-01.yaml")
    assert result["errors"][0]["line"] == 1
    assert "expected a SPEC mapping" in result["msg"]


def test_requires_a_document(capsys):
    code, result = _run_module({}, capsys)
    assert code == 1 and "one of the following is required" in result["msg"]


def _ansible_env(tmp_path):
    collections = REPO / ".build" / "collections"
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(collections),
            "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
            "ANSIBLE_REMOTE_TEMP": str(tmp_path / "remote-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            "PATH": "%s:%s" % (BIN, env.get("PATH", "")),
        }
    )
    return env


def test_playbook_uses_module_and_lookup(tmp_path):
    playbook = tmp_path / "site.yml"
    playbook.write_text(
        """
- name: Read the model two ways
  hosts: localhost
  gather_facts: false
  vars:
    req: "%(req)s"
  tasks:
    - name: Module
      sdd.devops_flow.spec_info:
        req: "{{ req }}"
      register: info

    - name: Lookup of one field
      ansible.builtin.set_fact:
        steps: "{{ lookup('sdd.devops_flow.spec', req=req, field='rollout.canary_steps') }}"
        strategy: "{{ lookup('sdd.devops_flow.spec', req, field='environments.2.strategy') }}"

    - name: Both agree with the documents
      ansible.builtin.assert:
        that:
          - info.model.cloud.provider == 'aws'
          - info.model.cloud.decided_by == 'adr'
          - steps == [5, 25, 50, 100]
          - strategy == 'canary'
          - info.model.sources['environments[2].strategy'] is search('REQ-14')
"""
        % {"req": EXAMPLES / "07_REQ/REQ-14_order_intake_api.md"}
    )
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)],
        capture_output=True,
        text=True,
        env=_ansible_env(tmp_path),
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "failed=0" in proc.stdout


@pytest.mark.parametrize("name,kind", [("sdd.devops_flow.spec_info", "module"), ("sdd.devops_flow.spec", "lookup")])
def test_ansible_doc_renders(tmp_path, name, kind):
    assert shutil.which("ansible-doc", path=str(BIN))
    proc = subprocess.run(
        [str(BIN / "ansible-doc"), "-t", kind, name],
        capture_output=True,
        text=True,
        env=_ansible_env(tmp_path),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "EXAMPLES" in proc.stdout and "RETURN" in proc.stdout.upper()
    assert "docs_root" in proc.stdout
    assert "[WARNING]" not in proc.stderr and "ERROR" not in proc.stderr
