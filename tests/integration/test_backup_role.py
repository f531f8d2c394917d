"""The backup role on a real host over SSH, with PostgreSQL in the host and S3 / Secrets Manager on moto.

One test bed host (``db``, a network namespace with its own sshd and files) runs
PostgreSQL 15 on its own address with a database of 100,000 + 30,000 + 500 rows; moto's
server on the bridge address stands in for S3 (a primary bucket in us-east-1 and a copy
in us-west-2) and for Secrets Manager (the encryption key). The tests run in order,
each starting from what the previous left:

check mode on the fresh host -> a backup (encrypted, with a copy, verified) -> a second
run changes nothing -> the scheduled command makes a backup by itself -> a flipped byte
and a truncated copy in that newest backup are found by verify, and the older backup is
not touched -> drop the database and restore it: the older, good backup is taken, the
per-table checksums are equal, and the report compares RPO and RTO with the documents ->
retention with backups of controlled ages deletes exactly the expired ones.

Playbook runs are few on purpose (each costs seconds of Ansible overhead): what needs no
host (retention and window rules, refusals, the command line) is in the unit tests.

Run it with::

    PYTHONPATH=.build/collections .venv/bin/pytest -p no:cacheprovider tests/integration/test_backup_role.py -x
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import json
import os
import re
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import REPO, ansible_env
from testbed import Testbed

from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_engine, backup_pg

REQ = REPO / "examples" / "docs" / "07_REQ" / "REQ-14_order_intake_api.md"
CLI = REPO / "roles" / "backup" / "files" / "sdd_backup.py"
SERVICE = "order-intake-api"
BIN = Path(sys.executable).parent
PG_BIN = "/usr/lib/postgresql/15/bin"
PG_PASSWORD = "pg-Secret-7c1e0a"
AWS_ACCESS_KEY = "AKIASDDBACKUPTEST01"
AWS_SECRET_KEY = "aws-Secret-3b9d44f0e1"
BACKUP_KEY = "backup-Key-5e8a1f2d9c"
PRIMARY, COPY = "orders-backups", "orders-backups-us-west-2"
SECRETS = (PG_PASSWORD, AWS_SECRET_KEY, BACKUP_KEY)

# An independent checksum (not the engine's): md5 of the ordered md5 of every row.
CHECKSUM_SQL = (
    "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
)
TABLE_CHECKSUM_SQL = "SELECT count(*) || ':' || md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) FROM {table} t"


def _load_cli():
    spec = importlib.util.spec_from_file_location("sdd_backup_cli", CLI)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


run_program = _load_cli().run_program  # the engine's runner of scheduled runs (subprocess)

# --------------------------------------------------------------------------- servers


def free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


class Moto:
    """moto's server on an address of this machine (stopped on exit)."""

    def __init__(self, address: str, log: Path) -> None:
        self.address = address
        self.port = free_port(address)
        self.url = "http://%s:%d" % (address, self.port)
        server = BIN / "moto_server"
        if not server.exists():
            raise RuntimeError("moto_server is not installed in %s (pip install 'moto[server]')" % BIN)
        self.log = open(log, "w")  # noqa: SIM115 - open while the server runs
        self.proc = subprocess.Popen(
            [str(server), "-H", address, "-p", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/moto-api/", timeout=1).read()  # noqa: S310
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("moto_server did not start on %s" % self.url)

    def client(self, service: str, region: str = "us-east-1"):
        import boto3

        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id=AWS_ACCESS_KEY,
            aws_secret_access_key=AWS_SECRET_KEY,
        )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class PostgresInBed:
    """PostgreSQL 15 inside a test bed host: its own data directory in the host's files, listening on the
    host's address, password (scram) authentication from the bridge's subnet."""

    def __init__(self, bed: Testbed, host: str, password: str) -> None:
        for tool in ("initdb", "pg_ctl", "psql"):
            if not os.access("%s/%s" % (PG_BIN, tool), os.X_OK):
                raise RuntimeError("PostgreSQL 15 is not installed (%s/%s missing)" % (PG_BIN, tool))
        self.bed, self.host, self.password = bed, host, password
        self.address = bed.address(host)
        self.data = "/var/lib/postgresql/sdd-test"
        bed.run(host, ["install", "-d", "-o", "postgres", "-g", "postgres", "-m", "0700", self.data])
        bed.run(
            host,
            [
                "sh",
                "-c",
                "umask 077; printf '%s\\n' \"$1\" > /var/lib/postgresql/pw; chown postgres /var/lib/postgresql/pw",
                "sh",
                password,
            ],
        )
        bed.run(
            host,
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                "%s/initdb" % PG_BIN,
                "-D",
                self.data,
                "-U",
                "postgres",
                "-A",
                "scram-sha-256",
                "--pwfile=/var/lib/postgresql/pw",
            ],
            timeout=120,
        )
        bed.run(host, ["rm", "-f", "/var/lib/postgresql/pw"])
        bed.run(
            host, ["sh", "-c", "echo 'host all all %s.0/24 scram-sha-256' >> %s/pg_hba.conf" % (bed.subnet, self.data)]
        )
        bed.run(
            host,
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                "%s/pg_ctl" % PG_BIN,
                "-D",
                self.data,
                "-w",
                "-l",
                "%s/server.log" % self.data,
                "-o",
                "-c listen_addresses=%s -c port=5432 -k /tmp" % self.address,
                "start",
            ],
            timeout=120,
        )

    def env(self) -> Dict[str, str]:
        return dict(
            os.environ,
            PGPASSWORD=self.password,
            PGHOST=self.address,
            PGPORT="5432",
            PGUSER="postgres",
            PGCONNECT_TIMEOUT="10",
        )

    def psql(self, sql: str, database: str = "postgres") -> str:
        proc = subprocess.run(
            ["%s/psql" % PG_BIN, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql],
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if proc.returncode != 0:
            raise RuntimeError("psql failed: %s" % proc.stderr)
        return proc.stdout.strip()

    def checksums(self, database: str) -> Dict[str, str]:
        out = {}
        for table in self.psql(CHECKSUM_SQL, database).splitlines():
            schema, name = table.split(".", 1)
            qualified = '"%s"."%s"' % (schema, name)
            out[table] = self.psql(
                TABLE_CHECKSUM_SQL.format(table=qualified),
                database,
            )
        return out

    def engine_checksums(self, database: str) -> Dict[str, tuple]:
        """The engine's per-table (rows, checksum) of a database, computed now from this machine."""
        conn = backup_pg.PgConnection(host=self.address, password=self.password, bin_dir=PG_BIN, runner=run_program)
        return {t: (v["rows"], v["checksum"]) for t, v in backup_pg.checksums(conn, database).items()}

    def stop(self) -> None:
        self.bed.run(
            self.host,
            ["runuser", "-u", "postgres", "--", "%s/pg_ctl" % PG_BIN, "-D", self.data, "-m", "fast", "-w", "stop"],
            check=False,
            timeout=60,
        )


def load_orders(db: PostgresInBed) -> None:
    """The order database: 100,000 orders and 30,000 items of varied types, owned by an application role."""
    db.psql("CREATE ROLE orders_app LOGIN PASSWORD 'app-Pw-41'")
    db.psql("CREATE DATABASE orders OWNER orders_app")
    db.psql(
        "CREATE TABLE orders (id bigint PRIMARY KEY, customer text, amount numeric(12,2), created timestamptz,"
        " note jsonb, tag bytea, ratio double precision, shipped boolean);"
        "INSERT INTO orders SELECT i, 'customer ' || (i % 977) || ' é', (i * 1.37)::numeric(12,2),"
        " '2024-01-01'::timestamptz + i * interval '1 minute', jsonb_build_object('i', i, 'tags', array['a', 'b']),"
        " decode(md5(i::text), 'hex'), i / 7.0, i % 3 = 0 FROM generate_series(1, 100000) i;"
        "CREATE TABLE order_items (order_id bigint REFERENCES orders(id), line int, sku text, qty int,"
        " PRIMARY KEY (order_id, line));"
        "INSERT INTO order_items SELECT (i % 100000) + 1, i / 100000, 'SKU-' || (i % 5000), i % 9"
        " FROM generate_series(0, 29999) i;"
        'CREATE SCHEMA audit; CREATE TABLE audit."Log Entries" (id serial, msg text, at date);'
        "INSERT INTO audit.\"Log Entries\" (msg, at) SELECT 'event ' || g, DATE '2024-02-01' + g"
        " FROM generate_series(1, 500) g;"
        "ALTER TABLE orders OWNER TO orders_app; ALTER TABLE order_items OWNER TO orders_app;",
        "orders",
    )


# --------------------------------------------------------------------------- the site


def _cpu_of(pid: int) -> float:
    """Seconds of CPU of a process and of its children it has waited for."""
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def host_cpu(bed: Testbed, host: str) -> float:
    """Seconds of CPU used in a test bed host: every process of its network namespace (sshd sessions with the
    modules and the tools they ran, PostgreSQL) with the children they have waited for."""
    pids = subprocess.run(
        ["ip", "netns", "pids", bed.hosts[host].netns], capture_output=True, text=True, check=False
    ).stdout.split()
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            total += _cpu_of(int(pid))
    return total


def print_cpu(bed: Testbed, host: str, moto: Moto, seconds: float) -> None:
    """The CPU the tests used (here and in the host) against the wall time: on a busy machine the wall time is
    mostly waiting for a core; the CPU total is what the tests cost (shown with -s)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    local = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime + _cpu_of(moto.proc.pid)
    remote = host_cpu(bed, host)
    print(
        "\nbackup tests: %.0f s wall; CPU %.0f s (pytest, Ansible, moto %.0f s; the host with PostgreSQL %.0f s)"
        % (seconds, local + remote, local, remote)
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("backup")
    with Testbed(["db"], subnet="10.127.0", bridge="sddbr4", prefix="sbk") as bed:
        # the machine's shell start-up files (pyenv) would run at every SSH command of every task
        bed.run("db", ["sh", "-c", ": > /root/.bashrc"])
        moto = Moto(bed.gateway, tmp / "moto.log")
        db = None
        try:
            moto.client("s3").create_bucket(Bucket=PRIMARY)
            moto.client("s3", "us-west-2").create_bucket(
                Bucket=COPY, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
            )
            moto.client("secretsmanager").create_secret(
                Name="order-intake/test/backup-key", SecretString=json.dumps({"key": BACKUP_KEY})
            )
            db = PostgresInBed(bed, "db", PG_PASSWORD)
            load_orders(db)
            bed.run(
                "db",
                [
                    "sh",
                    "-c",
                    "mkdir -p /srv/orders/config && echo 'limit=10' > /srv/orders/config/app.ini"
                    " && ln -sf app.ini /srv/orders/config/current.ini",
                ],
            )
            inventory = bed.inventory(str(tmp / "hosts.ini"), groups={"backup": ["db"]})
            settings = {
                "backup_req": str(REQ),
                "backup_pg_host": bed.address("db"),
                "backup_pg_password": PG_PASSWORD,
                "backup_pg_databases": ["orders"],
                "backup_files": [{"name": "config", "paths": ["/srv/orders/config"]}],
                "backup_s3_bucket": PRIMARY,
                "backup_s3_region": "us-east-1",
                "backup_s3_endpoint_url": moto.url,
                "backup_aws_access_key": AWS_ACCESS_KEY,
                "backup_aws_secret_key": AWS_SECRET_KEY,
                "backup_copy_enabled": True,
                "backup_copy_region": "us-west-2",
                "backup_encryption_secret_id": "order-intake/test/backup-key",
                "backup_encryption_secret_json_key": "key",
            }
            variables = tmp / "vars.json"
            variables.write_text(json.dumps(settings))
            started = time.monotonic()
            yield {"bed": bed, "tmp": tmp, "inventory": inventory, "moto": moto, "db": db, "vars": variables}
            print_cpu(bed, "db", moto, time.monotonic() - started)
        finally:
            if db is not None:
                db.stop()
            moto.stop()


def play(site, playbook: str, *extra: str, check: bool = False, verbose: bool = False):
    argv = [str(BIN / "ansible-playbook"), "-i", site["inventory"], playbook, "-e", "@%s" % site["vars"]]
    for item in extra:
        argv += ["-e", item]
    if check:
        argv.append("--check")
    if verbose:
        argv.append("-vv")
    proc = subprocess.run(argv, capture_output=True, text=True, env=ansible_env(site["tmp"]), check=False, timeout=900)
    site["plays"] = site.get("plays", 0) + 1
    (site["tmp"] / ("play-%02d.log" % site["plays"])).write_text(" ".join(argv) + "\n" + proc.stdout + proc.stderr)
    return proc


def recap(proc) -> Dict[str, Dict[str, int]]:
    out = {}
    for m in re.finditer(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", proc.stdout, re.M):
        out[m.group(1)] = {"ok": int(m.group(2)), "changed": int(m.group(3)), "failed": int(m.group(5))}
    return out


def keys(site, bucket: str, region: str = "us-east-1") -> List[str]:
    answer = site["moto"].client("s3", region).list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in answer.get("Contents", []))


def backup_ids(site, bucket: str, service: str = SERVICE) -> List[str]:
    return sorted(
        {k.split("/")[1] for k in keys(site, bucket) if k.startswith(service + "/") and k.endswith("/manifest.json")}
    )


def get_json(site, bucket: str, key: str):
    return json.loads(site["moto"].client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def secret_files(bed: Testbed, host: str) -> List[str]:
    """Files of a host holding a secret: everything the host wrote (its overlay's upper layers, /etc /opt /srv /var
    /home /usr /root), and its private /tmp and /run."""
    upper = Path(bed.hosts[host].root) / "upper"
    found = []
    for path in upper.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if any(secret.encode() in data for secret in SECRETS):
                found.append("/" + str(path.relative_to(upper)))
    pattern = " ".join("-e %s" % secret for secret in SECRETS)
    inside = bed.run(host, ["sh", "-c", "grep -rlF %s /tmp /run 2>/dev/null || true" % pattern]).stdout.split()
    return sorted(found + inside)


BACKUP = str(REPO / "playbooks" / "backup.yml")
RESTORE = str(REPO / "playbooks" / "restore.yml")


# --------------------------------------------------------------------------- tests


def test_check_mode_on_a_fresh_host_changes_nothing(site):
    proc = play(site, BACKUP, check=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert recap(proc)["db"]["failed"] == 0
    assert "would make backup" in proc.stdout
    assert keys(site, PRIMARY) == [] and keys(site, COPY, "us-west-2") == []
    bed = site["bed"]
    for path in (
        "/etc/sdd-devops-flow",
        "/etc/cron.d/sdd-backup-%s" % SERVICE,
        "/var/lib/sdd-devops-flow",
        "/usr/local/sbin/sdd-backup-%s" % SERVICE,
    ):
        assert bed.ssh("db", "test -e %s" % path, check=False).returncode != 0, path


def test_backup_to_s3_with_a_copy_encrypted_and_verified(site):
    proc = play(site, BACKUP, verbose=True)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert recap(proc)["db"]["changed"] > 0
    ids = backup_ids(site, PRIMARY)
    assert len(ids) == 1
    prefix = "%s/%s/" % (SERVICE, ids[0])
    manifest = get_json(site, PRIMARY, prefix + "manifest.json")
    names = {a["name"] for a in manifest["artifacts"]}
    assert names == {"postgresql/globals.sql.enc", "postgresql/orders.dump.enc", "files/config.tar.gz.enc"}
    dump = next(a for a in manifest["artifacts"] if a["name"] == "postgresql/orders.dump.enc")
    assert dump["tables"]["public.orders"]["rows"] == 100000
    assert dump["tables"]["public.order_items"]["rows"] == 30000
    assert dump["tables"]["audit.Log Entries"]["rows"] == 500
    assert dump["owner"] == "orders_app" and re.fullmatch(r"[0-9a-f]{64}", dump["sha256"]) and dump["size"] > 0
    assert manifest["tools"]["pg_dump"].startswith("15.") and manifest["tools"]["postgresql_server"].startswith("15.")
    assert manifest["tools"]["tar"] and manifest["tools"]["boto3"] and manifest["tools"]["cryptography"]
    assert manifest["sources"]["postgresql"]["databases"] == ["orders"]
    assert manifest["encryption"]["algorithm"] == "AES-256-GCM"
    assert manifest["rpo"]["objective_seconds"] == 300 and manifest["timings"]["total_seconds"] > 0
    s3 = site["moto"].client("s3")
    body = s3.get_object(Bucket=PRIMARY, Key=prefix + "postgresql/orders.dump.enc")["Body"].read()
    assert body.startswith(b"SDDBK1\n") and b"PGDMP" not in body[:64] and len(body) == dump["size"]
    # the copy in the second region holds the same backup, and both were verified (the copy's identical
    # bytes compared with the primary's scratch restore)
    assert keys(site, COPY, "us-west-2") == keys(site, PRIMARY)
    assert get_json(site, PRIMARY, prefix + "verification.json")["status"] == "ok"
    assert "2 backup copies verified" in proc.stdout
    # the manifest's per-table checksums are the source's (computed again now, the database unchanged)
    source = site["db"].engine_checksums("orders")
    assert {t: (v["rows"], v["checksum"]) for t, v in dump["tables"].items()} == source
    # secrets: never in the output; on the host only in their destination
    for secret in SECRETS:
        assert secret not in proc.stdout + proc.stderr
    bed = site["bed"]
    assert secret_files(bed, "db") == ["/etc/sdd-devops-flow/backup/%s.secrets.json" % SERVICE]
    assert bed.ssh("db", "stat -c %%a /etc/sdd-devops-flow/backup/%s.secrets.json" % SERVICE).stdout.strip() == "600"
    settings = json.loads(bed.ssh("db", "cat /etc/sdd-devops-flow/backup/%s.json" % SERVICE).stdout)
    assert settings["retention_days"] == 14 and settings["min_interval_seconds"] == 300


def test_a_second_run_changes_nothing(site):
    # inside the RPO window: no new backup; the objectives are met, so failing on a missed one passes
    proc = play(site, BACKUP, "backup_fail_on_objectives=true")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert recap(proc)["db"]["changed"] == 0, proc.stdout
    assert re.search(r"RPO 300 s: worst [0-9.]+ s without a good backup \(met\)", proc.stdout), proc.stdout[-3000:]
    assert "within the 300 s window" in proc.stdout
    assert len(backup_ids(site, PRIMARY)) == 1


def test_the_schedule_runs_the_same_engine(site):
    bed = site["bed"]
    cron = bed.ssh("db", "cat /etc/cron.d/sdd-backup-%s" % SERVICE).stdout
    # REQ-14: daily backups -> once a day at the role's hour
    assert re.search(r"^15 2 \* \* \* root /usr/local/sbin/sdd-backup-%s run >> " % SERVICE, cron, re.M), cron
    assert bed.ssh("db", "pidof cron", check=False).returncode == 0
    proc = bed.ssh("db", "/usr/local/sbin/sdd-backup-%s run --force" % SERVICE, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["ok"] and result["results"]["verify"]["verified"], result
    assert len(backup_ids(site, PRIMARY)) == 2 and len(backup_ids(site, COPY)) == 2
    for secret in SECRETS:
        assert secret not in proc.stdout + proc.stderr


def test_a_flipped_byte_and_a_truncated_copy_are_found_and_older_backups_kept(site):
    s3 = site["moto"].client("s3")
    s3_copy = site["moto"].client("s3", "us-west-2")
    older, newest = backup_ids(site, PRIMARY)
    key = "%s/%s/postgresql/orders.dump.enc" % (SERVICE, newest)
    body = bytearray(s3.get_object(Bucket=PRIMARY, Key=key)["Body"].read())
    body[len(body) // 2] ^= 0x01
    s3.put_object(Bucket=PRIMARY, Key=key, Body=bytes(body))
    globals_key = "%s/%s/postgresql/globals.sql.enc" % (SERVICE, newest)
    data = s3_copy.get_object(Bucket=COPY, Key=globals_key)["Body"].read()
    s3_copy.put_object(Bucket=COPY, Key=globals_key, Body=data[: len(data) // 2])
    etags = {k: s3.head_object(Bucket=PRIMARY, Key=k)["ETag"] for k in keys(site, PRIMARY) if older in k}

    proc = play(site, BACKUP, "backup_phase=verify")
    assert proc.returncode != 0
    assert "postgresql/orders.dump.enc: sha256" in proc.stdout and "(corrupt)" in proc.stdout
    assert "postgresql/globals.sql.enc: truncated" in proc.stdout
    assert get_json(site, PRIMARY, "%s/%s/verification.json" % (SERVICE, newest))["status"] == "failed"
    assert get_json(site, COPY, "%s/%s/verification.json" % (SERVICE, newest))["status"] == "failed"
    # the damaged backup is reported, not removed; the older one is untouched
    assert backup_ids(site, PRIMARY) == [older, newest]
    assert {k: s3.head_object(Bucket=PRIMARY, Key=k)["ETag"] for k in keys(site, PRIMARY) if older in k} == etags


def test_restore_after_the_database_is_dropped_and_the_report(site):
    """Drop the database, restore: the newest good backup is the older one (the newest failed verification);
    every table's independent checksum is equal; the report after the restore compares RPO and RTO with the
    documents (REQ-14: RPO 300 s, daily backups, RTO 1800 s)."""
    db = site["db"]
    older = backup_ids(site, PRIMARY)[0]
    before = db.checksums("orders")
    assert before["public.orders"].startswith("100000:")
    db.psql("DROP DATABASE orders WITH (FORCE)")
    proc = play(site, RESTORE)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "restored backup %s" % older in proc.stdout
    assert db.checksums("orders") == before
    assert db.psql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'orders'") == "orders_app"
    dbs = db.psql("SELECT datname FROM pg_database ORDER BY 1").splitlines()
    assert not [d for d in dbs if d.startswith("sdd_verify_") or d.endswith("__restoring")]
    history = site["bed"].ssh("db", "cat /var/lib/sdd-devops-flow/backup/%s/history.jsonl" % SERVICE).stdout
    restores = [json.loads(line) for line in history.splitlines() if '"restore"' in line]
    assert restores and restores[-1]["seconds"] > 0 and restores[-1]["id"] == older
    # the report: RTO measured by this restore; RPO from the good backups and from the daily schedule
    assert re.search(r"RTO 1800 s: measured [0-9.]+ s \(met\)", proc.stdout), proc.stdout[-3000:]
    found = re.search(
        r"RPO 300 s: worst ([0-9.]+) s without a good backup \((met|missed)\); the schedule allows "
        r"864\d\d(\.\d+)? s \(missed\)",
        proc.stdout,
    )
    assert found, proc.stdout[-3000:]
    assert (float(found.group(1)) <= 300) == (found.group(2) == "met")
    assert "1 good backups; newest %s" % older in proc.stdout, proc.stdout[-3000:]


def test_retention_removes_exactly_the_expired_backups(site, tmp_path):
    """Backups of controlled ages (the engine's timestamp setting, here from the test itself): 14 days of
    retention deletes the 40-, 20- and 15-day-old ones in both regions, and nothing else."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ages = {"40d": 40 * 86400, "20d": 20 * 86400, "15d": 15 * 86400, "13d": 13 * 86400, "2d": 2 * 86400, "1h": 3600}
    stamps = {name: (now - datetime.timedelta(seconds=s)).strftime("%Y%m%dT%H%M%SZ") for name, s in ages.items()}
    moto = site["moto"]
    destinations = [
        {
            "type": "s3",
            "bucket": bucket,
            "region": region,
            "endpoint_url": moto.url,
            "access_key": AWS_ACCESS_KEY,
            "secret_key": AWS_SECRET_KEY,
        }
        for bucket, region in ((PRIMARY, "us-east-1"), (COPY, "us-west-2"))
    ]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text("a\n")
    settings = {
        "service": "retention-demo",
        "destinations": destinations,
        "files": [{"name": "data", "paths": [str(tmp_path / "data")]}],
        "staging_dir": str(tmp_path / "staging"),
        "state_dir": str(tmp_path / "state"),
    }
    for stamp in stamps.values():
        assert backup_engine.create(dict(settings, timestamp=stamp), run_program)["changed"]
    # an interrupted backup (no manifest), fresh: left alone
    moto.client("s3").put_object(Bucket=PRIMARY, Key="retention-demo/20990101T000000Z/files/data.tar.gz", Body=b"x")
    assert backup_ids(site, PRIMARY, "retention-demo") == sorted(stamps.values())

    proc = play(
        site,
        BACKUP,
        "backup_phase=prune",
        "backup_service_name=retention-demo",
        "backup_retention_days=14",
        "backup_keep_last=1",
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert recap(proc)["db"]["changed"] == 1
    kept = sorted(stamps[n] for n in ("13d", "2d", "1h"))
    assert backup_ids(site, PRIMARY, "retention-demo") == kept
    assert backup_ids(site, COPY, "retention-demo") == kept
    assert any(k.startswith("retention-demo/20990101T000000Z/") for k in keys(site, PRIMARY))
    # the order-intake-api backups (another service) are left alone
    assert len(backup_ids(site, PRIMARY)) == 2
