"""deploy_state: reading and writing the deployment state file."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.sdd.devops_flow.plugins.modules import deploy_state

MODULE = deploy_state

STATE = {"live": "green", "previous": "blue", "versions": {"blue": "1.0.0", "green": "2.0.0"}}


def test_reading_a_missing_file_gives_the_default(tmp_path, run):
    default = {"live": "blue", "previous": None, "versions": {}}
    code, result = run({"path": str(tmp_path / "s.json"), "default": default})
    assert code == 0 and not result["changed"] and not result["exists"]
    assert result["state"] == default
    assert not (tmp_path / "s.json").exists()


def test_write_then_read_then_rewrite_is_no_change(tmp_path, run):
    path = tmp_path / "state" / "s.json"
    code, result = run({"path": str(path), "content": STATE}, diff=True)
    assert code == 0 and result["changed"] and result["state"] == STATE
    assert result["diff"]["before"] == "" and '"live": "green"' in result["diff"]["after"]
    assert json.loads(path.read_text()) == STATE and oct(path.stat().st_mode & 0o777) == "0o644"
    code, result = run({"path": str(path)})
    assert code == 0 and not result["changed"] and result["exists"] and result["state"] == STATE
    # the same data in another key order, or written by another tool with other spacing: no change
    path.write_text(json.dumps(dict(reversed(list(STATE.items()))), indent=4))
    os.chmod(path, 0o600)
    code, result = run({"path": str(path), "content": STATE})
    assert code == 0 and not result["changed"]
    # a real change keeps the file's own permissions, and leaves no temporary file behind
    code, result = run({"path": str(path), "content": dict(STATE, live="blue", previous="green")})
    assert code == 0 and result["changed"] and json.loads(path.read_text())["live"] == "blue"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in path.parent.iterdir()) == ["s.json"]


def test_check_mode_reports_without_writing(tmp_path, run):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(STATE))
    new = dict(STATE, live="blue", previous="green")
    code, result = run({"path": str(path), "content": new}, check=True, diff=True)
    assert code == 0 and result["changed"] and result["state"] == new
    assert '"live": "green"' in result["diff"]["before"] and '"live": "blue"' in result["diff"]["after"]
    assert json.loads(path.read_text()) == STATE


@pytest.mark.parametrize("text,needle", [("{not json", "expected a JSON object"), ("[1, 2]", "holds list")])
def test_a_damaged_file_fails_clearly_and_is_kept(tmp_path, run, text, needle):
    path = tmp_path / "s.json"
    path.write_text(text)
    code, result = run({"path": str(path), "content": STATE})
    assert code == 1 and needle in result["msg"] and str(path) in result["msg"]
    assert path.read_text() == text
