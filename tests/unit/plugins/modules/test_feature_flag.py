"""feature_flag: atomic flag file, change log, check mode and diff."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.sdd.devops_flow.plugins.modules import feature_flag


def run(args, capsys, check=False):
    with patch_module_args(dict(args, _ansible_check_mode=check, _ansible_diff=True)), pytest.raises(SystemExit) as exc:
        feature_flag.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_enable_disable_remove_with_a_log(tmp_path, capsys):
    flags, log = tmp_path / "flags.json", tmp_path / "flags.log"
    base = {"path": str(flags), "name": "NEW_CHECKOUT", "log": str(log), "reason": "test"}
    code, result = run(dict(base, state="enabled"), capsys)
    assert code == 0 and result["changed"] and json.loads(flags.read_text()) == {"NEW_CHECKOUT": True}
    code, result = run(dict(base, state="enabled"), capsys)
    assert code == 0 and not result["changed"]
    code, result = run(dict(base, state="disabled"), capsys)
    assert result["previous"] is True and json.loads(flags.read_text()) == {"NEW_CHECKOUT": False}
    code, result = run(dict(base, state="absent"), capsys)
    assert json.loads(flags.read_text()) == {}
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["old"], e["new"]) for e in entries] == [(None, True), (True, False), (False, None)]
    assert all(e["reason"] == "test" and e["time"] for e in entries)


def test_check_mode_and_diff(tmp_path, capsys):
    flags = tmp_path / "flags.json"
    flags.write_text('{"A": true}\n')
    code, result = run({"path": str(flags), "name": "B", "state": "present", "value": 3}, capsys, check=True)
    assert code == 0 and result["changed"]
    assert '"B": 3' in result["diff"]["after"] and '"B"' not in result["diff"]["before"]
    assert json.loads(flags.read_text()) == {"A": True}


def test_a_broken_flag_file_is_reported_not_replaced(tmp_path, capsys):
    flags = tmp_path / "flags.json"
    flags.write_text("[1, 2]")
    code, result = run({"path": str(flags), "name": "X"}, capsys)
    assert code == 1 and "expected a JSON object" in result["msg"]
    assert flags.read_text() == "[1, 2]"
