"""The backup_* modules: arguments, check mode, diff, changed, failures, and programs run through run_command.

A file tree backed up to two local folders (no server needed); PostgreSQL is covered by
tests/integration/test_backup_role.py.
"""

from __future__ import annotations

import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_runner
from ansible_collections.sdd.devops_flow.plugins.modules import (
    backup_create,
    backup_info,
    backup_prune,
    backup_restore,
    backup_verify,
)

KEY = "module-test-key-8d1f"


def run(module, args, capsys, check=False, diff=True):
    with (
        patch_module_args(dict(args, _ansible_check_mode=check, _ansible_diff=diff)),
        pytest.raises(SystemExit) as exc,
    ):
        module.main()
    out = capsys.readouterr().out
    assert KEY not in out
    return exc.value.code, json.loads(out)


@pytest.fixture
def base(tmp_path):
    tree = tmp_path / "srv" / "app"
    tree.mkdir(parents=True)
    (tree / "settings.ini").write_text("limit=10\n")
    (tree / "$HOME literal").write_text("not expanded\n")
    return {
        "service": "svc",
        "destinations": [
            {"type": "local", "path": str(tmp_path / "primary")},
            {"type": "local", "path": str(tmp_path / "copy"), "name": "dr"},
        ],
        "encryption_key": KEY,
        "staging_dir": str(tmp_path / "staging"),
        "state_dir": str(tmp_path / "state"),
    }


def files(tmp_path):
    return [{"name": "app", "paths": [str(tmp_path / "srv" / "app")], "exclude": ["$HOME*"], "compression": "zstd"}]


def test_create_check_mode_then_a_backup_then_skipped_in_the_window(base, tmp_path, capsys):
    args = dict(base, files=files(tmp_path), min_interval_seconds=600, rpo_seconds=600)
    code, result = run(backup_create, args, capsys, check=True)
    assert code == 0 and result["changed"] and "would make backup" in result["msg"]
    assert not (tmp_path / "primary").exists() and not (tmp_path / "state").exists()

    code, result = run(backup_create, args, capsys)
    assert code == 0 and result["changed"] and not result["skipped"]
    backup_id = result["backup_id"]
    assert result["diff"] == {"before": "", "after": backup_id + "\n"}
    assert result["copies"][0]["destination"].endswith("/copy")
    (artifact,) = result["manifest"]["artifacts"]
    assert artifact["name"] == "files/app.tar.zst.enc" and artifact["files"] == 1
    assert result["manifest"]["tools"]["tar"] and result["rpo"]["objective_seconds"] == 600

    code, result = run(backup_create, args, capsys)
    assert code == 0 and not result["changed"] and result["skipped"] and result["backup_id"] == backup_id
    assert result["diff"]["before"] == result["diff"]["after"]


def test_verify_restore_prune_info(base, tmp_path, capsys):
    code, created = run(backup_create, dict(base, files=files(tmp_path)), capsys)
    backup_id = created["backup_id"]

    code, result = run(backup_verify, base, capsys, check=True)
    assert code == 0 and not result["changed"] and result["verified"]
    code, result = run(backup_verify, base, capsys)
    assert code == 0 and result["changed"] and result["verified"] and len(result["backups"]) == 2
    assert "unverified" in result["diff"]["before"] and "verified" in result["diff"]["after"]

    dest = tmp_path / "restored"
    code, result = run(backup_restore, dict(base, restore={"files_dest": str(dest)}), capsys, check=True)
    assert code == 0 and result["changed"] and not dest.exists()
    code, result = run(backup_restore, dict(base, restore={"files_dest": str(dest)}), capsys)
    assert code == 0 and result["backup_id"] == backup_id and result["rto"]["seconds"] >= 0
    restored = dest / str(tmp_path / "srv" / "app")[1:]
    assert (restored / "settings.ini").read_text() == "limit=10\n"
    assert not (restored / "$HOME literal").exists()  # the exclude pattern reached tar unexpanded

    code, result = run(backup_prune, dict(base, retention_days=1, keep_last=0, now="2999-01-01T00:00:00Z"), capsys)
    assert code == 0 and result["changed"] and result["diff"]["after"] == ""
    assert [d["id"] for d in result["destinations"][1]["deleted"]] == [backup_id]
    code, result = run(backup_prune, dict(base, retention_days=1), capsys)
    assert code == 0 and not result["changed"]

    code, result = run(backup_info, dict(base, rpo_seconds=300, rto_seconds=600, interval_seconds=3600), capsys)
    assert code == 0 and not result["changed"] and result["report"]["backups"] == 0
    assert result["report"]["rpo"]["met"] is False and result["report"]["rto"]["measured_seconds"] > 0


def test_verify_fails_on_a_flipped_byte_and_leaves_the_backups(base, tmp_path, capsys):
    code, created = run(backup_create, dict(base, files=files(tmp_path)), capsys)
    folder = tmp_path / "primary" / "svc" / created["backup_id"]
    artifact = folder / "files" / "app.tar.zst.enc"
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0x01
    artifact.write_bytes(bytes(data))
    code, result = run(backup_verify, dict(base, destinations=base["destinations"][:1]), capsys)
    assert code == 1 and not result["verified"] and "(corrupt)" in result["msg"]
    assert artifact.read_bytes() == bytes(data) and (folder / "manifest.json").exists()
    code, result = run(
        backup_verify, dict(base, destinations=base["destinations"][:1], fail_on_error=False), capsys, diff=False
    )
    assert code == 0 and not result["verified"]


def test_errors_fail_the_module(base, tmp_path, capsys):
    code, result = run(backup_create, dict(base, files=[{"name": "x", "paths": ["/no/such/path"]}]), capsys)
    assert code == 1 and "does not exist" in result["msg"] and not result["changed"]
    code, result = run(backup_create, base, capsys)
    assert code == 1 and "nothing to back up" in result["msg"]
    code, result = run(backup_restore, base, capsys)
    assert code == 1 and "no backup could be restored" in result["msg"]
    code, result = run(backup_create, dict(base, encryption_key_file="/k", files=files(tmp_path)), capsys)
    assert code == 1 and "mutually exclusive" in result["msg"]


class FakeModule:
    def __init__(self):
        self.calls = []

    def run_command(self, args, **kwargs):
        self.calls.append((args, kwargs))
        return 0, "out", "err"


def test_module_runner_uses_run_command_without_expansion():
    module = FakeModule()
    runner = backup_runner.module_runner(module)
    assert runner(["psql", "-c", "SELECT '$1'"], {"PGPASSWORD": "p"}, "data") == (0, "out", "err")
    ((args, kwargs),) = module.calls
    assert args == ["psql", "-c", "SELECT '$1'"]
    assert kwargs == {
        "environ_update": {"PGPASSWORD": "p"},
        "data": "data",
        "binary_data": True,
        "expand_user_and_vars": False,
    }
    with pytest.raises(OSError, match="no program runner"):
        backup_runner.missing_runner(["pg_dump"])
    assert os.path.basename(backup_runner.__file__) == "backup_runner.py"
