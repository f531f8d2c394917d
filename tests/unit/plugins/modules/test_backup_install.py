"""backup_install: the engine, settings, secrets file and wrapper of scheduled runs, written once, idempotent,
check mode and diff without secrets; and the installed copy really runs a backup."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_engine, backup_install
from ansible_collections.sdd.devops_flow.plugins.modules import backup_install as module

CLI = (Path(__file__).resolve().parents[4] / "roles" / "backup" / "files" / "sdd_backup.py").read_text()
SECRET = "install-Secret-51c9"


def run(args, capsys, check=False):
    with (
        patch_module_args(dict(args, _ansible_check_mode=check, _ansible_diff=True)),
        pytest.raises(SystemExit) as exc,
    ):
        module.main()
    out = capsys.readouterr().out
    assert SECRET not in out
    return exc.value.code, json.loads(out)


@pytest.fixture
def args(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text("alpha\n")
    return {
        "service": "svc",
        "cli": CLI,
        "settings": {
            "destinations": [{"type": "local", "path": str(tmp_path / "backups"), "prefix": "x"}],
            "files": [{"name": "data", "paths": [str(tmp_path / "data")]}],
            "staging_dir": str(tmp_path / "staging"),
            "state_dir": str(tmp_path / "state"),
            "verify_after": True,
        },
        "secrets": {"destinations": [{}], "postgresql": {}, "encryption_key": SECRET},
        "engine_dir": str(tmp_path / "engine"),
        "config_dir": str(tmp_path / "etc"),
        "log_dir": str(tmp_path / "log"),
        "command": str(tmp_path / "sbin" / "sdd-backup-svc"),
        "python": sys.executable,
    }


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_check_mode_then_install_then_nothing_to_do(args, tmp_path, capsys):
    code, result = run(args, capsys, check=True)
    assert code == 0 and result["changed"] and not (tmp_path / "etc").exists()
    assert str(tmp_path / "etc" / "svc.secrets.json") in result["changed_paths"]
    assert result["host"]["tools"]["tar"] and result["host"]["python_packages"]["cryptography"] is True
    assert isinstance(result["host"]["cron_running"], bool) and isinstance(result["host"]["systemd"], bool)
    secret_diff = next(d for d in result["diff"] if d["after_header"].endswith(".secrets.json"))
    assert secret_diff["after"] == "(secret file, new content)\n"

    code, result = run(args, capsys)
    assert code == 0 and result["changed"]
    engine_dir = tmp_path / "engine" / backup_install.PACKAGE_PATH
    assert sorted(p.name for p in engine_dir.iterdir()) == sorted(
        ["__init__.py"] + [m.__name__.rsplit(".", 1)[-1] + ".py" for m in backup_install.ENGINE_MODULES]
    )
    assert (tmp_path / "engine" / "ansible_collections" / "__init__.py").read_text() == ""
    assert (engine_dir / "backup_engine.py").read_text() == Path(backup_engine.__file__).read_text()
    settings = json.loads((tmp_path / "etc" / "svc.json").read_text())
    assert settings["service"] == "svc" and SECRET not in json.dumps(settings)
    assert json.loads((tmp_path / "etc" / "svc.secrets.json").read_text()) == {"encryption_key": SECRET}
    assert mode(tmp_path / "etc") == 0o700 and mode(tmp_path / "etc" / "svc.secrets.json") == 0o600
    assert mode(tmp_path / "etc" / "svc.json") == 0o600 and mode(args["command"]) == 0o750
    assert (tmp_path / "backups" / "x").is_dir() and (tmp_path / "log").is_dir()

    code, result = run(args, capsys)
    assert code == 0 and not result["changed"] and result["diff"] == [] and result["changed_paths"] == []

    # the installed command makes, verifies and lists an encrypted backup by itself
    proc = subprocess.run([args["command"]], capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    record = json.loads(proc.stdout.strip().splitlines()[-1])
    assert record["ok"] and record["results"]["verify"]["verified"]
    manifest = next((tmp_path / "backups" / "x" / "svc").glob("*/manifest.json"))
    assert json.loads(manifest.read_text())["encryption"]["algorithm"] == "AES-256-GCM"
    assert SECRET not in proc.stdout + proc.stderr

    # a mode changed by hand is put back; no secret left removes the secrets file
    os.chmod(tmp_path / "etc" / "svc.json", 0o644)
    code, result = run(dict(args, secrets={"destinations": [{}]}), capsys)
    assert result["changed_paths"] == sorted(
        [str(tmp_path / "etc" / "svc.json"), str(tmp_path / "etc" / "svc.secrets.json")]
    )
    assert not (tmp_path / "etc" / "svc.secrets.json").exists() and mode(tmp_path / "etc" / "svc.json") == 0o600


def test_settings_with_a_secret_or_no_source_are_refused(args, tmp_path, capsys):
    bad = dict(args["settings"], postgresql={"host": "db", "password": SECRET})
    code, result = run(dict(args, settings=bad), capsys)
    assert code == 1 and "hold secrets (password)" in result["msg"] and not (tmp_path / "etc").exists()
    code, result = run(dict(args, settings={"destinations": args["settings"]["destinations"]}), capsys)
    assert code == 1 and "no source" in result["msg"]


def test_wrapper_is_checked_with_bash(args, tmp_path, monkeypatch):
    monkeypatch.setattr(backup_install, "wrapper_text", lambda *a: "if then\n")
    planned = backup_install.plan(args)

    def runner(argv, env, data):
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    with pytest.raises(backup_install.InstallError, match="failed the check bash -n"):
        backup_install.apply(planned, runner)
    assert not os.path.exists(args["command"])
    assert not [p for p in os.listdir(os.path.dirname(args["command"])) if p.startswith(".sdd-install-")]


def test_module_source_from_a_zip(tmp_path):
    """Modules run from a zip (AnsiballZ): the engine's sources come from the zip's loader."""
    import zipfile

    archive = tmp_path / "payload.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("sdd_zip_probe.py", "VALUE = 42\n")
    sys.path.insert(0, str(archive))
    try:
        import sdd_zip_probe

        assert backup_install.module_source(sdd_zip_probe) == "VALUE = 42\n"
    finally:
        sys.path.remove(str(archive))
        sys.modules.pop("sdd_zip_probe", None)
