"""backup_engine: create, verify, restore, prune and report on file trees and local folders (no server needed),
retention and report rules, the command of scheduled runs (roles/backup/files/sdd_backup.py). PostgreSQL is
covered by tests/integration/test_backup_role.py against a real server; the psql script and its parsing here."""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
from pathlib import Path

import pytest

from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_engine as engine
from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_pg as pg
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_store import StoredObject, open_store

DAY = 86400
CLI_PATH = Path(__file__).resolve().parents[4] / "roles" / "backup" / "files" / "sdd_backup.py"


def _load_cli():
    spec = importlib.util.spec_from_file_location("sdd_backup_cli", CLI_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CLI = _load_cli()
RUN = CLI.run_program  # the runner of scheduled runs (subprocess); the modules use run_command


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "srv" / "data"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "sub" / "b.bin").write_bytes(os.urandom(50000))
    (root / "skip.tmp").write_text("temporary")
    os.symlink("a.txt", root / "link")
    return root


@pytest.fixture
def settings(tmp_path, tree):
    return {
        "service": "svc",
        "files": [{"name": "data", "paths": [str(tree)], "exclude": ["*.tmp"], "compression": "gzip"}],
        "destinations": [
            {"type": "local", "path": str(tmp_path / "primary")},
            {"type": "local", "path": str(tmp_path / "copy")},
        ],
        "encryption_key": "unit-test-key",
        "staging_dir": str(tmp_path / "staging"),
        "state_dir": str(tmp_path / "state"),
        "rpo_seconds": 300,
    }


@pytest.fixture
def fake_bin(tmp_path):
    """A bin_dir with the PostgreSQL client tools as stubs (the tests' runners answer in their place)."""
    folder = tmp_path / "pgbin"
    folder.mkdir()
    for name in ("psql", "pg_dump", "pg_dumpall", "pg_restore"):
        (folder / name).write_text("#!/bin/sh\nexit 99\n")
        (folder / name).chmod(0o755)
    return str(folder)


def ago(seconds: int) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_create_writes_artifacts_then_the_manifest_in_every_destination(settings, tmp_path):
    result = engine.create(settings, RUN)
    assert result["changed"] and not result["skipped"]
    backup_id = result["backup_id"]
    for dest in ("primary", "copy"):
        folder = tmp_path / dest / "svc" / backup_id
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["format"] == engine.FORMAT and manifest["service"] == "svc"
        (artifact,) = manifest["artifacts"]
        assert artifact["name"] == "files/data.tar.gz.enc" and artifact["encrypted"]
        assert artifact["files"] == 2 and artifact["members"] == 5  # data, a.txt, link, sub, sub/b.bin
        assert (folder / artifact["name"]).stat().st_size == artifact["size"]
        assert manifest["encryption"]["key_id"] and "unit-test-key" not in json.dumps(manifest)
        assert manifest["tools"]["tar"] and manifest["tools"]["python"]
    assert result["copies"][0]["destination"].endswith("/copy")
    assert not os.listdir(tmp_path / "staging")  # staging is cleaned
    history = engine.read_history(settings, "svc")
    assert history[-1]["action"] == "backup" and history[-1]["id"] == backup_id


def test_a_backup_inside_the_window_is_skipped_unless_forced(settings):
    first = engine.create(dict(settings, min_interval_seconds=300), RUN)
    again = engine.create(dict(settings, min_interval_seconds=300), RUN)
    assert not again["changed"] and again["skipped"] and again["backup_id"] == first["backup_id"]
    forced = engine.create(dict(settings, min_interval_seconds=300, force=True), RUN)
    assert forced["changed"] and forced["backup_id"].startswith(first["backup_id"][:8])
    assert forced["backup_id"] != first["backup_id"]
    assert forced["rpo"]["previous_backup"] == first["backup_id"] and forced["rpo"]["met"] is True


def test_check_mode_plans_and_writes_nothing(settings, tmp_path):
    result = engine.create(settings, RUN, check_mode=True)
    assert result["changed"] and "would make backup" in result["msg"]
    assert not (tmp_path / "primary").exists() and not (tmp_path / "state").exists()


def test_verify_restore_and_a_flipped_byte(settings, tmp_path, tree):
    created = engine.create(settings, RUN)
    verified = engine.verify(settings, RUN)
    assert verified["verified"] and len(verified["backups"]) == 2
    assert (
        json.loads((tmp_path / "primary" / "svc" / created["backup_id"] / "verification.json").read_text())["status"]
        == "ok"
    )
    # a flipped byte in the primary: found, recorded, the copy untouched
    artifact = tmp_path / "primary" / "svc" / created["backup_id"] / "files" / "data.tar.gz.enc"
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0x10
    artifact.write_bytes(bytes(data))
    copy_before = sorted(
        p.read_bytes() for p in (tmp_path / "copy").rglob("*") if p.is_file() and "verification" not in p.name
    )
    result = engine.verify(settings, RUN)
    assert not result["verified"]
    (bad,) = [b for b in result["backups"] if b["status"] == "failed"]
    assert (
        bad["destination"].endswith("/primary") and "sha256" in bad["problems"][0] and "corrupt" in bad["problems"][0]
    )
    status = json.loads((tmp_path / "primary" / "svc" / created["backup_id"] / "verification.json").read_text())
    assert status["status"] == "failed"
    copy_after = sorted(
        p.read_bytes() for p in (tmp_path / "copy").rglob("*") if p.is_file() and "verification" not in p.name
    )
    assert copy_before == copy_after
    # restore skips the damaged copy's backup in the primary and takes it from the copy
    dest = tmp_path / "restored"
    restored = engine.restore(dict(settings, restore={"files_dest": str(dest)}), RUN)
    assert restored["source"].endswith("/copy") and restored["backup_id"] == created["backup_id"]
    assert (dest / str(tree)[1:] / "a.txt").read_text() == "alpha\n"
    assert os.readlink(dest / str(tree)[1:] / "link") == "a.txt"
    assert not (dest / str(tree)[1:] / "skip.tmp").exists()
    assert restored["rto"]["seconds"] > 0 and engine.read_history(settings, "svc")[-1]["action"] == "restore"


def test_a_truncated_artifact_and_a_wrong_key(settings, tmp_path):
    created = engine.create(settings, RUN)
    artifact = tmp_path / "copy" / "svc" / created["backup_id"] / "files" / "data.tar.gz.enc"
    artifact.write_bytes(artifact.read_bytes()[:100])
    result = engine.verify(settings, RUN, check_mode=True)
    assert [b["status"] for b in result["backups"]] == ["ok", "failed"]
    assert "truncated (100 of" in result["backups"][1]["problems"][0]
    assert not result["changed"]  # check mode records nothing
    assert not (tmp_path / "copy" / "svc" / created["backup_id"] / "verification.json").exists()
    wrong = engine.verify(dict(settings, encryption_key="another key", destinations=settings["destinations"][:1]), RUN)
    assert "failed authentication" in wrong["backups"][0]["problems"][0]


def test_restore_fails_when_no_copy_is_intact(settings, tmp_path):
    created = engine.create(settings, RUN)
    for dest in ("primary", "copy"):
        (tmp_path / dest / "svc" / created["backup_id"] / "files" / "data.tar.gz.enc").write_bytes(b"broken")
    with pytest.raises(engine.BackupError, match="no backup could be restored") as failure:
        engine.restore(dict(settings, restore={"files_dest": str(tmp_path / "r")}), RUN)
    assert len(failure.value.details["tried"]) == 2


def test_encryption_key_from_a_file_and_from_secrets_manager(settings, tmp_path, monkeypatch):
    key_file = tmp_path / "key"
    key_file.write_text("from-a-file\n")
    assert engine.resolve_key({"encryption_key_file": str(key_file)}) == "from-a-file"

    class Client:
        def get_secret_value(self, SecretId):
            assert SecretId == "app/backup-key"
            return {"SecretString": json.dumps({"key": "from-the-store"})}

    monkeypatch.setattr(engine, "aws_client", lambda service, spec: Client())
    store = {"secret_id": "app/backup-key", "json_key": "key"}
    assert engine.resolve_key({"secret_store": store}) == "from-the-store"
    with pytest.raises(engine.BackupError, match="no JSON field"):
        engine.resolve_key({"secret_store": dict(store, json_key="other")})
    assert engine.resolve_key({}) is None


def backup(backup_id: str, age: int, now: float, status: str = "unverified", complete: bool = True):
    objects = [StoredObject("svc/%s/files/a.tar.gz" % backup_id, 10, now - age)]
    if complete:
        objects.append(StoredObject("svc/%s/manifest.json" % backup_id, 1, now - age))
    created = datetime.datetime.fromtimestamp(now - age, datetime.timezone.utc)
    item = engine.Backup(backup_id, objects, {"created": engine.iso(created)} if complete else None)
    if status != "unverified":
        item.verification = {"status": "ok" if status == "verified" else "failed"}
    return item


@pytest.mark.parametrize(
    ("ages", "statuses", "retention", "keep_last", "max_count", "deleted"),
    [
        # 14 days: exactly the older ones go
        ([1, 2, 13, 15, 20, 40], {}, 14, 1, 0, ["d15", "d20", "d40"]),
        # nothing recent: the newest good ones stay whatever their age
        ([30, 40, 50], {}, 14, 2, 0, ["d50"]),
        # a corrupt newest backup does not count among those kept: the older good one stays
        ([1, 30], {"d1": "corrupt"}, 14, 1, 0, []),
        ([1, 30, 40], {"d1": "corrupt"}, 14, 1, 0, ["d40"]),
        # by count
        ([1, 2, 3, 4], {}, 0, 1, 2, ["d3", "d4"]),
        ([1, 2, 3, 4], {}, 14, 1, 3, ["d4"]),
        # no retention, no count: nothing
        ([1, 200, 400], {}, 0, 1, 0, []),
    ],
)
def test_plan_prune(ages, statuses, retention, keep_last, max_count, deleted):
    now = 1_800_000_000.0
    backups = [backup("d%d" % a, a * DAY, now, statuses.get("d%d" % a, "unverified")) for a in ages]
    doomed = engine.plan_prune(backups, now, retention, keep_last, max_count, DAY)
    assert sorted(b.id for b, _why in doomed) == sorted(deleted)


def test_plan_prune_removes_incomplete_backups_only_after_the_grace_time():
    now = 1_800_000_000.0
    backups = [backup("fresh", 3600, now, complete=False), backup("stale", 2 * DAY, now, complete=False)]
    doomed = engine.plan_prune(backups, now, 14, 1, 0, DAY)
    assert [(b.id, "incomplete" in why) for b, why in doomed] == [("stale", True)]


def test_prune_deletes_in_every_destination(settings, tmp_path):
    for age in (20 * DAY, 15 * DAY, 13 * DAY, 3600):
        engine.create(dict(settings, timestamp=ago(age), encryption_key=None), RUN)
    planned = engine.prune(dict(settings, retention_days=14, keep_last=1), check_mode=True)
    assert planned["changed"] and "would be deleted" in planned["msg"]
    assert len(list((tmp_path / "primary" / "svc").iterdir())) == 4
    result = engine.prune(dict(settings, retention_days=14, keep_last=1))
    for entry in result["destinations"]:
        assert [d["reason"] for d in entry["deleted"]] == ["older than 14 days"] * 2
        assert len(entry["kept"]) == 2
    assert len(list((tmp_path / "copy" / "svc").iterdir())) == 2
    assert not engine.prune(dict(settings, retention_days=14, keep_last=1))["changed"]


def test_info_reports_rpo_and_rto(settings):
    engine.create(dict(settings, timestamp=ago(2 * DAY)), RUN)
    engine.create(dict(settings, timestamp=ago(DAY)), RUN)
    engine.verify(settings, RUN)
    result = engine.info(dict(settings, rpo_seconds=300, rto_seconds=60, interval_seconds=DAY))
    report = result["report"]
    assert report["backups"] == 2 and result["latest"]["status"] == "verified"
    assert report["rpo"]["max_gap_seconds"] == pytest.approx(DAY, abs=2)
    assert report["rpo"]["met"] is False and report["rpo"]["schedule_meets_objective"] is False
    assert report["rto"]["met"] is None  # files only: no restore timed yet
    assert [b["status"] for b in result["destinations"][0]["backups"]] == ["verified", "unverified"]


def test_objectives_report_without_backups():
    report = engine.objectives_report([], [], 0.0, 300, 1800, 3600)
    assert report["rpo"]["met"] is False and report["rto"]["met"] is None and report["backups"] == 0
    timed = engine.objectives_report([], [{"action": "restore", "seconds": 2000.0}], 0.0, 300, 1800, 3600)
    assert timed["rto"]["met"] is False and timed["rto"]["measured_seconds"] == 2000.0
    assert engine.objectives_report([], [], 0.0, 0, 0, 0)["rpo"]["met"] is None


def test_compare_tables():
    expected = {"public.a": {"rows": 2, "checksum": "10"}, "public.b": {"rows": 1, "checksum": "5"}}
    report, problems = engine.compare_tables(expected, dict(expected))
    assert not problems and all(r["checksum_match"] for r in report.values())
    found = {"public.a": {"rows": 2, "checksum": "11"}, "public.c": {"rows": 0, "checksum": "0"}}
    report, problems = engine.compare_tables(expected, found)
    assert problems == [
        "table public.a: checksum differs from the backup's",
        "table public.b is missing after the restore",
        "table public.c is in the restore but not in the manifest",
    ]
    _report, problems = engine.compare_tables(
        expected, {"public.a": {"rows": 3, "checksum": "10"}, "public.b": expected["public.b"]}
    )
    assert problems == ["table public.a: 3 rows after the restore, 2 in the backup"]


def test_names_and_times():
    assert engine.parse_time("20250131T020000Z") == engine.parse_time("2025-01-31T02:00:00Z")
    assert engine.parse_time("2025-01-31T03:00:00+01:00") == engine.parse_time("2025-01-31T02:00:00")
    with pytest.raises(engine.BackupError, match="not a time"):
        engine.parse_time("yesterday")
    with pytest.raises(engine.BackupError, match="service"):
        engine.create({"service": "../x", "destinations": [{"type": "local", "path": "/tmp"}]}, RUN)
    assert engine._artifact_name("orders") == "orders"
    assert engine._artifact_name("my db/ä").startswith("my_db-") and len(engine._artifact_name("my db/ä")) > 8
    assert pg.conninfo("it's") == "dbname='it\\'s'"
    assert pg.quote_ident('a"b') == '"a""b"' and pg.quote_literal("o'k") == "'o''k'"
    assert pg.TEMPORARY_DATABASE.search("sdd_verify_orders_abc123")
    assert pg.TEMPORARY_DATABASE.search("orders__restoring") and not pg.TEMPORARY_DATABASE.search("orders")


def test_command_line_of_scheduled_runs(settings, tmp_path, capsys):
    config, secrets = tmp_path / "settings.json", tmp_path / "secrets.json"
    plain = {k: v for k, v in settings.items() if k != "encryption_key"}
    config.write_text(json.dumps(dict(plain, verify_after=True, retention_days=14, min_interval_seconds=300)))
    secrets.write_text(json.dumps({"encryption_key": settings["encryption_key"]}))
    assert CLI.main(["--check-config", str(config)]) == 0
    capsys.readouterr()
    assert CLI.main(["--config", str(config), "--secrets", str(secrets), "run"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["ok"] and out["results"]["verify"]["verified"] and not out["results"]["create"]["skipped"]
    assert "artifacts" not in out["results"]["create"]["manifest"]
    assert "unit-test-key" not in json.dumps(out)
    assert CLI.main(["--config", str(config), "--secrets", str(secrets)]) == 0  # inside the window: skipped
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["results"]["create"]["skipped"] and "verify" not in out["results"]
    assert CLI.main(["--config", str(config), "--secrets", str(secrets), "--force", "create"]) == 0
    capsys.readouterr()
    assert CLI.main(["--config", str(config), "info"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["results"]["info"]["report"]["backups"] == 2
    # a corrupt newest backup: verify exits 1 with the problem in the record
    newest = out["results"]["info"]["latest"]["id"]
    artifact = tmp_path / "primary" / "svc" / newest / "files" / "data.tar.gz.enc"
    artifact.write_bytes(artifact.read_bytes()[:-1] + b"!")
    assert CLI.main(["--config", str(config), "--secrets", str(secrets), "verify"]) == 1
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert not out["ok"] and "sha256" in out["results"]["verify"]["msg"]
    config.write_text(json.dumps({"service": "svc", "destinations": [{"type": "s3"}]}))
    assert CLI.main(["--check-config", str(config)]) == 1
    assert "needs a bucket" in capsys.readouterr().out
    # secrets never go into the settings file
    config.write_text(json.dumps(dict(plain, postgresql={"password": "pw"})))
    assert CLI.main(["--check-config", str(config)]) == 1
    assert "hold secrets (password)" in capsys.readouterr().out


def test_merge_secrets_by_position():
    settings = {
        "destinations": [{"type": "s3", "bucket": "a"}, {"type": "azure", "container": "c", "account_url": "u"}],
        "postgresql": {"host": "db"},
        "encryption_key_file": "/k",
    }
    secrets = {
        "destinations": [{}, {"credential": "az-key"}],
        "postgresql": {"password": "pw", "user": ""},
        "secret_store": {"access_key": "x"},
        "encryption_key": "key",
    }
    merged = engine.merge_secrets(settings, secrets)
    assert merged["destinations"][1]["credential"] == "az-key" and "credential" not in merged["destinations"][0]
    assert merged["postgresql"] == {"host": "db", "password": "pw"} and "secret_store" not in merged
    assert merged["encryption_key"] == "key" and "encryption_key_file" not in merged
    assert "password" not in settings["postgresql"]  # the settings are left as they were


def test_runner_of_scheduled_runs_passes_env_and_stdin():
    rc, out, err = RUN(["sh", "-c", 'printf "%s|" "$SDD_X"; cat'], {"SDD_X": "a $b"}, "from stdin")
    assert (rc, out, err) == (0, "a $b|from stdin", "")
    assert RUN(["sh", "-c", "exit 3"], None, None)[0] == 3


def test_psql_script_and_checksum_parsing():
    script = pg.snapshot_script("MARK", dump=True)
    lines = script.splitlines()
    assert lines[0] == "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;" and lines[-1] == "COMMIT;"
    # the snapshot is exported, pg_dump runs on it, and the checksums follow in the same transaction
    order = [
        next(i for i, line in enumerate(lines) if line.startswith(p))
        for p in ("SELECT pg_catalog.pg_export", "\\setenv", "\\!", "\\echo MARK")
    ]
    assert order == sorted(order) and lines[-2].endswith("\\gexec")
    assert '--snapshot="$SDD_SNAPSHOT"' in script and "$SDD_PG_DUMP" in script
    assert "pg_export_snapshot" not in pg.snapshot_script("MARK", dump=False)
    name = "audit.Log\tEntries é".encode().hex()
    out = "noise\nMARK\n%s\t500\t-123456789\n%s\t0\t0\n" % (name, b"public.t".hex())
    assert pg.parse_checksums(out, "MARK") == {
        "audit.Log\tEntries é": {"rows": 500, "checksum": "-123456789"},
        "public.t": {"rows": 0, "checksum": "0"},
    }
    with pytest.raises(pg.PgError, match="did not reach"):
        pg.parse_checksums("ERROR: boom", "MARK")


def test_pg_tools_run_through_the_runner_with_the_password_in_the_environment(fake_bin):
    calls = []

    def runner(argv, env, data):
        calls.append((argv, env, data))
        if "--version" in argv:
            return 0, "pg_dump (PostgreSQL) 15.14\n", ""
        return 1, "", "FATAL: password authentication failed"

    conn = pg.PgConnection.from_params({"host": "db", "password": "s3cret", "bin_dir": fake_bin}, runner)
    assert "s3cret" not in repr(conn)
    assert pg.tool_version(conn, "pg_dump") == "15.14"
    with pytest.raises(pg.PgError, match="password authentication failed"):
        pg.server_version(conn)
    for argv, env, _data in calls:
        assert "s3cret" not in " ".join(argv) and env["PGPASSWORD"] == "s3cret" and env["PGHOST"] == "db"


def test_local_store_describe_used_in_results(settings, tmp_path):
    store = open_store({"type": "local", "path": str(tmp_path / "primary")})
    assert engine.catalog(store, "svc") == []


def test_restore_refuses_an_existing_database_without_replace(fake_bin):
    """The target exists and replace is false: nothing is created, dropped or renamed."""
    statements = []

    def runner(argv, env, data):
        statement = argv[argv.index("-c") + 1] if "-c" in argv else data
        statements.append(statement)
        return 0, "1\n", ""  # every SELECT finds a row: the database exists

    conn = pg.PgConnection(bin_dir=fake_bin, runner=runner)
    artifact = {"database": "orders", "owner": "app", "tables": {}}
    with pytest.raises(engine.BackupError, match="set replace"):
        engine._restore_database(conn, artifact, "/nonexistent.dump", "orders", {}, True, "20250101T000000Z")
    assert len(statements) == 1 and statements[0].startswith("SELECT 1 FROM pg_catalog.pg_database")
