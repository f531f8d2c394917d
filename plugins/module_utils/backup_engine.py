# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup engine: create, verify, restore, prune and report, for the backup_* modules and scheduled runs.

One engine with two callers: the modules ``sdd.devops_flow.backup_create``,
``backup_verify``, ``backup_restore``, ``backup_prune`` and ``backup_info`` (Ansible runs),
and the command of scheduled runs (cron or a systemd timer) that the backup role installs
on the host with a copy of these files (``roles/backup/files/sdd_backup.py``, which calls
:func:`scheduled`). Programs run through the runner each caller passes in
(``backup_runner``): ``AnsibleModule.run_command`` in the modules.

Both take the same settings (a dict with the modules' option names), so a scheduled
backup is the same backup as one made by a playbook.

Layout in every destination::

    <service>/<backup id>/manifest.json        written last: a backup without it is incomplete
    <service>/<backup id>/verification.json    the latest verify result (status ok / failed)
    <service>/<backup id>/postgresql/globals.sql[.enc]
    <service>/<backup id>/postgresql/<database>.dump[.enc]
    <service>/<backup id>/files/<name>.tar.gz[.enc]

The backup id is the UTC start time (``20250101T020000Z``). Runs on the managed host
under Python 3.9+ with no Ansible import (boto3, cryptography and the cloud SDKs only
when a setting needs them).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import errno
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_crypto as crypto
from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_files as files
from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_pg as pg
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_runner import Runner
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_store import (
    Store,
    StoredObject,
    StoreError,
    aws_client,
    open_store,
)

ENGINE_VERSION = "1"
FORMAT = "sdd.devops_flow.backup/1"
ID_FORMAT = "%Y%m%dT%H%M%SZ"
MANIFEST = "manifest.json"
VERIFICATION = "verification.json"
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
DEFAULT_STAGING = "/var/lib/sdd-devops-flow/backup-staging"
DEFAULT_STATE = "/var/lib/sdd-devops-flow/backup"


class BackupError(Exception):
    """A backup action failed; ``details`` goes into the module result."""

    def __init__(self, message: str, details: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.details = details or {}


# --------------------------------------------------------------------------- time


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime.datetime:
    """An ISO 8601 time (``Z`` or an offset; UTC when it has none) or a backup id."""
    value = str(text).strip()
    try:
        moment = datetime.datetime.strptime(value, ID_FORMAT)
    except ValueError:
        try:
            moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise BackupError("%s is not a time; expected ISO 8601 such as 2025-01-31T02:00:00Z" % value) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def _seconds(start: float) -> float:
    return round(time.monotonic() - start, 3)


# --------------------------------------------------------------------------- catalog


@dataclass
class Backup:
    """One backup folder in a destination."""

    id: str
    objects: List[StoredObject] = field(default_factory=list)
    manifest: Optional[Dict[str, Any]] = None
    manifest_error: str = ""
    verification: Optional[Dict[str, Any]] = None

    @property
    def complete(self) -> bool:
        return any(o.key.endswith("/" + MANIFEST) for o in self.objects)

    @property
    def created(self) -> float:
        if self.manifest and self.manifest.get("created"):
            return parse_time(self.manifest["created"]).timestamp()
        try:
            return parse_time(self.id.split("-")[0]).timestamp()
        except BackupError:
            return max((o.modified for o in self.objects), default=0.0)

    @property
    def status(self) -> str:
        if not self.complete:
            return "incomplete"
        if self.manifest_error:
            return "corrupt"
        if self.verification:
            return "verified" if self.verification.get("status") == "ok" else "corrupt"
        return "unverified"

    @property
    def good(self) -> bool:
        return self.complete and self.status != "corrupt"

    @property
    def size(self) -> int:
        return sum(o.size for o in self.objects)

    def summary(self) -> Dict[str, Any]:
        manifest = self.manifest or {}
        artifacts = manifest.get("artifacts") or []
        summary: Dict[str, Any] = {
            "id": self.id,
            "created": iso(datetime.datetime.fromtimestamp(self.created, datetime.timezone.utc)),
            "status": self.status,
            "bytes": self.size,
            "encrypted": bool(manifest.get("encryption")),
            "databases": [a["database"] for a in artifacts if a.get("kind") == "postgresql-database"],
            "file_sets": [a["set"] for a in artifacts if a.get("kind") == "files"],
            "seconds": (manifest.get("timings") or {}).get("total_seconds"),
        }
        if self.manifest_error:
            summary["problems"] = [self.manifest_error]
        elif self.verification:
            summary["verified_at"] = self.verification.get("time")
            if self.verification.get("problems"):
                summary["problems"] = self.verification["problems"]
        return summary


def catalog(store: Store, service: str) -> List[Backup]:
    """The backups of a service in a destination, newest first."""
    groups: Dict[str, Backup] = {}
    for obj in store.list(service + "/"):
        parts = obj.key.split("/")
        if len(parts) < 3 or parts[0] != service:
            continue
        groups.setdefault(parts[1], Backup(parts[1])).objects.append(obj)
    for backup in groups.values():
        if backup.complete:
            try:
                backup.manifest = json.loads(store.get_bytes("%s/%s/%s" % (service, backup.id, MANIFEST)))
                if not isinstance(backup.manifest, dict) or backup.manifest.get("format") != FORMAT:
                    raise ValueError("not a %s manifest" % FORMAT)
            except (ValueError, UnicodeDecodeError) as exc:
                backup.manifest = None
                backup.manifest_error = "manifest.json cannot be read: %s" % exc
        if any(o.key.endswith("/" + VERIFICATION) for o in backup.objects):
            try:
                backup.verification = json.loads(store.get_bytes("%s/%s/%s" % (service, backup.id, VERIFICATION)))
            except (ValueError, UnicodeDecodeError):
                backup.verification = {"status": "failed", "problems": ["verification.json cannot be read"]}
    return sorted(groups.values(), key=lambda b: (b.created, b.id), reverse=True)


# --------------------------------------------------------------------------- settings


def _stores(settings: Dict[str, Any], clients: Optional[Dict[str, Any]] = None) -> List[Store]:
    destinations = settings.get("destinations") or []
    if not destinations:
        raise BackupError("no destination: give at least one (a local folder, s3, gcs or azure)")
    stores = []
    for index, spec in enumerate(destinations):
        spec = dict(spec)
        spec.setdefault("name", "primary" if index == 0 else "copy%d" % index)
        client = (clients or {}).get(spec["name"])
        try:
            stores.append(open_store(spec, client=client))
        except StoreError as exc:
            raise BackupError("destination %s: %s" % (spec["name"], exc)) from exc
    return stores


def _service(settings: Dict[str, Any]) -> str:
    service = str(settings.get("service") or "")
    if not SAFE_NAME.match(service):
        raise BackupError("service %r must be letters, digits, '.', '_' or '-'" % service)
    return service


def resolve_key(settings: Dict[str, Any]) -> Optional[str]:
    """The encryption key: given, from a key file, or from AWS Secrets Manager (never logged)."""
    if settings.get("encryption_key"):
        return str(settings["encryption_key"])
    if settings.get("encryption_key_file"):
        try:
            with open(settings["encryption_key_file"], encoding="utf-8") as handle:
                key = handle.read().strip()
        except OSError as exc:
            raise BackupError("cannot read the encryption key file: %s" % exc.strerror) from exc
        if not key:
            raise BackupError("the encryption key file %s is empty" % settings["encryption_key_file"])
        return key
    store = settings.get("secret_store") or {}
    if store.get("secret_id"):
        kind = store.get("type") or "aws-secrets-manager"
        if kind != "aws-secrets-manager":
            raise BackupError("secret store %s is not supported; expected aws-secrets-manager" % kind)
        try:
            answer = aws_client("secretsmanager", store).get_secret_value(SecretId=store["secret_id"])
        except StoreError as exc:
            raise BackupError(str(exc)) from exc
        except Exception as exc:
            raise BackupError(
                "cannot read the secret %s from AWS Secrets Manager: %s" % (store["secret_id"], type(exc).__name__)
            ) from exc
        if answer.get("SecretString") is not None:
            value = str(answer["SecretString"])
        else:
            value = base64.b64encode(answer.get("SecretBinary") or b"").decode("ascii")
        if store.get("json_key"):
            try:
                value = str(json.loads(value)[store["json_key"]])
            except (ValueError, KeyError, TypeError) as exc:
                raise BackupError(
                    "the secret %s has no JSON field %s" % (store["secret_id"], store["json_key"])
                ) from exc
        if not value:
            raise BackupError("the secret %s is empty" % store["secret_id"])
        return value
    return None


@contextlib.contextmanager
def _lock(settings: Dict[str, Any], service: str) -> Iterator[None]:
    """One action at a time per service on a host (a scheduled run and a playbook never overlap)."""
    folder = os.path.join(settings.get("state_dir") or DEFAULT_STATE, service)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    with open(os.path.join(folder, "lock"), "w", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise BackupError("another backup action of %s is running on this host" % service) from exc
            raise
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _staging(settings: Dict[str, Any]) -> Iterator[str]:
    base = settings.get("staging_dir") or DEFAULT_STAGING
    os.makedirs(base, mode=0o700, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="run-", dir=base)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _history(settings: Dict[str, Any], service: str, entry: Dict[str, Any]) -> None:
    folder = os.path.join(settings.get("state_dir") or DEFAULT_STATE, service)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    with open(os.path.join(folder, "history.jsonl"), "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")


def read_history(settings: Dict[str, Any], service: str) -> List[Dict[str, Any]]:
    path = os.path.join(settings.get("state_dir") or DEFAULT_STATE, service, "history.jsonl")
    entries: List[Dict[str, Any]] = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    continue
    return entries


def _file_digest(path: str) -> Tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while True:
            block = handle.read(1024 * 1024)
            if not block:
                break
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def _artifact_name(name: str) -> str:
    if SAFE_NAME.match(name):
        return name
    return "%s-%s" % (
        re.sub(r"[^A-Za-z0-9._-]", "_", name).strip("._-") or "db",
        hashlib.sha256(name.encode("utf-8")).hexdigest()[:8],
    )


def _versions(stores: Sequence[Store], encrypted: bool) -> Dict[str, str]:
    versions = {"engine": ENGINE_VERSION, "python": platform.python_version()}
    if any(s.kind == "s3" for s in stores):
        with contextlib.suppress(ImportError):
            import boto3

            versions["boto3"] = str(boto3.__version__)
    if encrypted:
        with contextlib.suppress(ImportError):
            import cryptography

            versions["cryptography"] = str(cryptography.__version__)
    return versions


# --------------------------------------------------------------------------- create


def create(
    settings: Dict[str, Any],
    runner: Runner,
    check_mode: bool = False,
    clients: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """Make a backup of the sources into every destination (the first is the primary, the others copies).

    Skipped (changed false) when the newest good backup is younger than
    ``min_interval_seconds`` and ``force`` is false: a backup inside the RPO window
    adds nothing, which makes the action idempotent within that window.
    """
    service = _service(settings)
    stores = _stores(settings, clients)
    pg_settings = settings.get("postgresql") or None
    file_sets = settings.get("files") or []
    if not pg_settings and not file_sets:
        raise BackupError("nothing to back up: give postgresql and/or files")
    for file_set in file_sets:
        if not SAFE_NAME.match(str(file_set.get("name") or "")):
            raise BackupError("file set name %r must be letters, digits, '.', '_' or '-'" % file_set.get("name"))
    now = utcnow()
    started = parse_time(settings["timestamp"]) if settings.get("timestamp") else now
    existing = catalog(stores[0], service)
    good = [b for b in existing if b.good]
    latest = good[0] if good else None
    min_interval = int(settings.get("min_interval_seconds") or 0)
    result: Dict[str, Any] = {"changed": False, "service": service, "destinations": [s.describe() for s in stores]}
    if latest is not None and not settings.get("force") and min_interval > 0:
        age = now.timestamp() - latest.created
        if 0 <= age < min_interval:
            result.update(
                skipped=True,
                backup_id=latest.id,
                msg="backup %s is %d s old, within the %d s window (RPO): no new backup"
                % (latest.id, age, min_interval),
            )
            return result
    backup_id = started.strftime(ID_FORMAT)
    taken = {b.id for b in existing}
    suffix = 1
    while backup_id in taken:
        backup_id = "%s-%d" % (started.strftime(ID_FORMAT), suffix)
        suffix += 1
    result.update(changed=True, skipped=False, backup_id=backup_id)
    if check_mode:
        result["msg"] = "would make backup %s" % backup_id
        return result
    key = resolve_key(settings)
    clock = time.monotonic()
    with _lock(settings, service), _staging(settings) as staging:
        manifest, local = _make_artifacts(settings, service, backup_id, started, stores, key, staging, runner)
        rpo = int(settings.get("rpo_seconds") or 0)
        gap = started.timestamp() - latest.created if latest else None
        manifest["rpo"] = {
            "objective_seconds": rpo or None,
            "previous_backup": latest.id if latest else None,
            "gap_seconds": round(gap, 3) if gap is not None else None,
            "met": (gap <= rpo) if (rpo and gap is not None) else None,
        }
        copies: List[Dict[str, Any]] = []
        failures: List[str] = []
        for index, store in enumerate(stores):
            upload = time.monotonic()
            try:
                for artifact in manifest["artifacts"]:
                    store.put_file(local[artifact["name"]], "%s/%s/%s" % (service, backup_id, artifact["name"]))
                if index == 0:
                    manifest["timings"]["upload_seconds"] = _seconds(upload)
                    manifest["timings"]["total_seconds"] = _seconds(clock)
                    manifest["finished"] = iso(utcnow())
                store.put_bytes(
                    "%s/%s/%s" % (service, backup_id, MANIFEST),
                    (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"),
                )
            except StoreError as exc:
                if index == 0:
                    raise BackupError(
                        "backup %s could not be stored in %s: %s" % (backup_id, store.describe(), exc),
                        {"backup_id": backup_id},
                    ) from exc
                failures.append("%s: %s" % (store.describe(), exc))
                continue
            if index > 0:
                copies.append({"destination": store.describe(), "seconds": _seconds(upload)})
    result.update(
        manifest=manifest,
        location="%s/%s/%s/" % (stores[0].describe().split(" ")[0], service, backup_id),
        copies=copies,
        timings=dict(manifest["timings"], total_seconds=_seconds(clock)),
        rpo=manifest["rpo"],
        bytes=sum(a["size"] for a in manifest["artifacts"]),
    )
    _history(
        settings,
        service,
        {
            "action": "backup",
            "id": backup_id,
            "time": iso(utcnow()),
            "seconds": result["timings"]["total_seconds"],
            "bytes": result["bytes"],
            "destinations": result["destinations"],
            "copies_failed": len(failures),
        },
    )
    if failures:
        raise BackupError(
            "backup %s is complete in %s, but the copy failed: %s"
            % (backup_id, stores[0].describe(), "; ".join(failures)),
            result,
        )
    result["msg"] = "backup %s stored in %s" % (backup_id, ", ".join(result["destinations"]))
    return result


def _make_artifacts(
    settings: Dict[str, Any],
    service: str,
    backup_id: str,
    started: datetime.datetime,
    stores: Sequence[Store],
    key: Optional[str],
    staging: str,
    runner: Runner,
) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """Dump, archive and encrypt into ``staging``; the manifest (without upload timings) and local paths."""
    artifacts: List[Dict[str, Any]] = []
    local: Dict[str, str] = {}
    timings: Dict[str, float] = {}
    versions = _versions(stores, key is not None)
    sources: Dict[str, Any] = {}
    pg_settings = settings.get("postgresql") or None
    if pg_settings:
        clock = time.monotonic()
        conn = pg.PgConnection.from_params(pg_settings, runner)
        try:
            versions["postgresql_server"] = pg.server_version(conn)
            versions["pg_dump"] = pg.tool_version(conn, "pg_dump")
            wanted = list(pg_settings.get("databases") or []) or pg.list_databases(conn)
            excluded = set(pg_settings.get("exclude_databases") or [])
            databases = [d for d in wanted if d not in excluded]
            os.makedirs(os.path.join(staging, "postgresql"))
            if pg_settings.get("globals", True):
                versions["pg_dumpall"] = pg.tool_version(conn, "pg_dumpall")
                path = os.path.join(staging, "postgresql", "globals.sql")
                pg.dump_globals(conn, path, role_passwords=bool(pg_settings.get("role_passwords", True)))
                artifacts.append({"name": "postgresql/globals.sql", "kind": "postgresql-globals"})
                local["postgresql/globals.sql"] = path
            for database in databases:
                name = "postgresql/%s.dump" % _artifact_name(database)
                path = os.path.join(staging, name)
                owner = pg.database_owner(conn, database)
                if owner is None:
                    raise BackupError("database %s does not exist on %s" % (database, conn.public()["host"]))
                tables = pg.dump_database(conn, database, path, int(pg_settings.get("compress", 6)))
                artifacts.append(
                    {
                        "name": name,
                        "kind": "postgresql-database",
                        "database": database,
                        "owner": owner,
                        "format": "pg_dump custom",
                        "tables": tables,
                        "rows": sum(t["rows"] for t in tables.values()),
                    }
                )
                local[name] = path
        except pg.PgError as exc:
            raise BackupError("PostgreSQL: %s" % exc) from exc
        sources["postgresql"] = dict(conn.public(), databases=databases)
        timings["dump_seconds"] = _seconds(clock)
    if settings.get("files"):
        clock = time.monotonic()
        versions["tar"] = files.tar_version(runner)
        os.makedirs(os.path.join(staging, "files"), exist_ok=True)
        sources["files"] = []
        for file_set in settings["files"]:
            compression = file_set.get("compression") or "gzip"
            name = "files/%s%s" % (file_set["name"], files.extension(compression))
            path = os.path.join(staging, name)
            try:
                info = files.create_archive(
                    file_set.get("paths") or [], file_set.get("exclude") or [], compression, path, runner
                )
            except files.FilesError as exc:
                raise BackupError("file set %s: %s" % (file_set["name"], exc)) from exc
            artifacts.append(
                dict(
                    info,
                    name=name,
                    kind="files",
                    set=file_set["name"],
                    compression=compression,
                    paths=list(file_set.get("paths") or []),
                )
            )
            local[name] = path
            sources["files"].append({"name": file_set["name"], "paths": list(file_set.get("paths") or [])})
        timings["archive_seconds"] = _seconds(clock)
    clock = time.monotonic()
    for artifact in artifacts:
        path = local.pop(artifact["name"])
        size, digest = _file_digest(path)
        if key is not None:
            try:
                stored_size, stored_digest = crypto.encrypt_file(path, path + ".enc", key)
            except crypto.CryptoError as exc:
                raise BackupError(str(exc)) from exc
            os.unlink(path)
            artifact.update(plain_size=size, plain_sha256=digest, encrypted=True)
            artifact["name"] += ".enc"
            path += ".enc"
            size, digest = stored_size, stored_digest
        artifact.update(size=size, sha256=digest)
        local[artifact["name"]] = path
    if key is not None:
        timings["encrypt_seconds"] = _seconds(clock)
    encryption = None
    if key is not None:
        encryption = {"algorithm": crypto.ALGORITHM, "kdf": crypto.KDF, "key_id": crypto.key_id(key)}
    manifest = {
        "format": FORMAT,
        "id": backup_id,
        "service": service,
        "created": iso(started),
        "host": socket.gethostname(),
        "status": "complete",
        "sources": sources,
        "destinations": [s.public() for s in stores],
        "tools": versions,
        "encryption": encryption,
        "artifacts": artifacts,
        "timings": timings,
        "labels": dict(settings.get("labels") or {}),
    }
    return manifest, local


# --------------------------------------------------------------------------- fetch and check


def _select(backups: List[Backup], backup_id: str, good_only: bool) -> List[Backup]:
    complete = [b for b in backups if b.complete and (b.good or not good_only)]
    if backup_id in ("", "latest"):
        return complete[:1]
    if backup_id == "all":
        return complete
    return [b for b in complete if b.id == backup_id]


def _fetch(
    store: Store, service: str, backup: Backup, artifact: Dict[str, Any], staging: str, key: Optional[str]
) -> Tuple[Optional[str], List[str]]:
    """Download one artifact, check its size and sha256, decrypt it; the plain file or the problems."""
    name = artifact["name"]
    path = os.path.join(staging, backup.id, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        store.get_file("%s/%s/%s" % (service, backup.id, name), path)
    except StoreError as exc:
        return None, ["%s: missing or unreadable in %s (%s)" % (name, store.describe(), exc)]
    size, digest = _file_digest(path)
    if size < int(artifact["size"]):
        return None, ["%s: truncated (%d of %d bytes)" % (name, size, artifact["size"])]
    if size != int(artifact["size"]):
        return None, ["%s: size %d differs from the manifest's %d" % (name, size, artifact["size"])]
    if digest != artifact["sha256"]:
        return None, ["%s: sha256 %s differs from the manifest's %s (corrupt)" % (name, digest, artifact["sha256"])]
    if not artifact.get("encrypted"):
        return path, []
    if key is None:
        return None, ["%s: encrypted, and no encryption key was given" % name]
    plain = path[: -len(".enc")]
    try:
        plain_size, plain_digest = crypto.decrypt_file(path, plain, key)
    except crypto.CryptoError as exc:
        return None, ["%s: %s" % (name, exc)]
    finally:
        os.unlink(path)
    if (plain_size, plain_digest) != (artifact.get("plain_size"), artifact.get("plain_sha256")):
        return None, ["%s: decrypted content differs from the manifest (sha256 %s)" % (name, plain_digest)]
    return plain, []


def compare_tables(
    expected: Dict[str, Dict[str, Any]], found: Dict[str, Dict[str, Any]]
) -> Tuple[Dict[str, Dict[str, Any]], List[str]]:
    """Per-table comparison of row counts and checksums; the table report and the problems."""
    report: Dict[str, Dict[str, Any]] = {}
    problems: List[str] = []
    for table in sorted(set(expected) | set(found)):
        want, got = expected.get(table), found.get(table)
        entry: Dict[str, Any] = {
            "expected_rows": want["rows"] if want else None,
            "rows": got["rows"] if got else None,
            "checksum_match": bool(want and got and want["checksum"] == got["checksum"]),
        }
        report[table] = entry
        if want is None:
            problems.append("table %s is in the restore but not in the manifest" % table)
        elif got is None:
            problems.append("table %s is missing after the restore" % table)
        elif want["rows"] != got["rows"]:
            problems.append(
                "table %s: %d rows after the restore, %d in the backup" % (table, got["rows"], want["rows"])
            )
        elif not entry["checksum_match"]:
            problems.append("table %s: checksum differs from the backup's" % table)
    return report, problems


# --------------------------------------------------------------------------- verify


def verify(
    settings: Dict[str, Any],
    runner: Runner,
    check_mode: bool = False,
    clients: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """Check backups in every destination: sizes, sha256, decryption, and a restore into a scratch database.

    Each backup's result is recorded next to it (``verification.json``), which is how
    prune and restore know a corrupt backup from a good one. A copy with the same bytes as
    an artifact already restored in this run is not restored again. Nothing else is changed:
    other backups are never touched. In check mode the scratch restore and the record
    are skipped (the downloads and checksums still run).
    """
    service = _service(settings)
    stores = _stores(settings, clients)
    key = resolve_key(settings)
    pg_settings = settings.get("postgresql") or None
    conn = pg.PgConnection.from_params(pg_settings, runner) if pg_settings else None
    wanted = str(settings.get("backup_id") or "latest")
    results: List[Dict[str, Any]] = []
    # (backup id, sha256 of the stored artifact) -> tables found by a scratch restore in this run: a copy
    # with the same bytes restores to the same data, so it is checked by its sha256 and not restored again
    restored: Dict[Tuple[str, str], Dict[str, Dict[str, Any]]] = {}
    with _staging(settings) as staging:
        for store in stores:
            try:
                selected = _select(catalog(store, service), wanted, good_only=False)
            except StoreError as exc:
                results.append({"destination": store.describe(), "status": "failed", "problems": [str(exc)]})
                continue
            if not selected and wanted not in ("latest", "all", ""):
                results.append(
                    {
                        "destination": store.describe(),
                        "id": wanted,
                        "status": "failed",
                        "problems": ["backup %s is not in %s" % (wanted, store.describe())],
                    }
                )
            for backup in selected:
                entry = _verify_one(store, service, backup, staging, key, conn, check_mode, runner, restored)
                results.append(entry)
                if not check_mode:
                    record = {
                        "status": entry["status"],
                        "time": iso(utcnow()),
                        "problems": entry["problems"],
                        "restore_seconds": entry.get("restore_seconds"),
                        "engine": ENGINE_VERSION,
                    }
                    with contextlib.suppress(StoreError):
                        store.put_bytes(
                            "%s/%s/%s" % (service, backup.id, VERIFICATION),
                            (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8"),
                        )
                shutil.rmtree(os.path.join(staging, backup.id), ignore_errors=True)
    failed = [r for r in results if r["status"] != "ok"]
    if not check_mode:
        for entry in results:
            if entry.get("id"):
                _history(
                    settings,
                    service,
                    {
                        "action": "verify",
                        "id": entry["id"],
                        "time": iso(utcnow()),
                        "status": entry["status"],
                        "destination": entry["destination"],
                        "seconds": entry.get("seconds"),
                        "restore_seconds": entry.get("restore_seconds"),
                    },
                )
    return {
        "changed": bool(results) and not check_mode,
        "verified": bool(results) and not failed,
        "backups": results,
        "msg": (
            "no backup to verify"
            if not results
            else "%d of %d backup copies failed verification: %s"
            % (
                len(failed),
                len(results),
                "; ".join("%s in %s: %s" % (r.get("id"), r["destination"], ", ".join(r["problems"])) for r in failed),
            )
            if failed
            else "%d backup copies verified" % len(results)
        ),
    }


def _verify_one(
    store: Store,
    service: str,
    backup: Backup,
    staging: str,
    key: Optional[str],
    conn: Optional[pg.PgConnection],
    check_mode: bool,
    runner: Runner,
    restored: Dict[Tuple[str, str], Dict[str, Dict[str, Any]]],
) -> Dict[str, Any]:
    clock = time.monotonic()
    entry: Dict[str, Any] = {"id": backup.id, "destination": store.describe(), "problems": [], "tables": {}}
    if backup.manifest is None:
        entry.update(status="failed", problems=[backup.manifest_error or "no manifest"], seconds=_seconds(clock))
        return entry
    restore_seconds = 0.0
    for artifact in backup.manifest.get("artifacts") or []:
        path, problems = _fetch(store, service, backup, artifact, staging, key)
        entry["problems"].extend(problems)
        if path is None:
            continue
        try:
            if artifact["kind"] == "postgresql-database":
                if conn is None or check_mode:
                    pg.list_archive(conn or pg.PgConnection(runner=runner), path)
                    continue
                same = (backup.id, str(artifact["sha256"]))
                if same in restored:
                    report, problems = compare_tables(artifact.get("tables") or {}, restored[same])
                    entry["tables"][artifact["database"]] = report
                    entry.setdefault("same_as_restored", []).append(artifact["name"])
                    entry["problems"].extend("%s: %s" % (artifact["database"], p) for p in problems)
                    continue
                scratch = "sdd_verify_%s_%s" % (
                    re.sub(r"[^a-z0-9_]", "_", artifact["database"].lower())[:30],
                    os.urandom(3).hex(),
                )
                started = time.monotonic()
                try:
                    pg.create_database(conn, scratch)
                    pg.restore_database(conn, path, scratch, jobs=2, owner=False)
                    found = pg.checksums(conn, scratch)
                finally:
                    with contextlib.suppress(pg.PgError):
                        pg.drop_database(conn, scratch)
                restore_seconds += time.monotonic() - started
                restored[same] = found
                report, problems = compare_tables(artifact.get("tables") or {}, found)
                entry["tables"][artifact["database"]] = report
                entry["problems"].extend("%s: %s" % (artifact["database"], p) for p in problems)
            elif artifact["kind"] == "files":
                digest = files.tree_digest(path, artifact.get("compression") or "gzip", runner)
                if digest["tree_sha256"] != artifact.get("tree_sha256"):
                    entry["problems"].append("%s: the archive's content differs from the manifest" % artifact["name"])
        except (pg.PgError, files.FilesError) as exc:
            entry["problems"].append("%s: %s" % (artifact["name"], exc))
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
    entry["status"] = "failed" if entry["problems"] else "ok"
    entry["seconds"] = _seconds(clock)
    if restore_seconds:
        entry["restore_seconds"] = round(restore_seconds, 3)
    return entry


# --------------------------------------------------------------------------- restore


def restore(
    settings: Dict[str, Any],
    runner: Runner,
    check_mode: bool = False,
    clients: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """Restore a backup (``latest`` good one by default) from the first destination that holds it intact.

    Databases are restored into ``<target>__restoring``, checked table by table against
    the manifest, and only then renamed to the target (an existing target is dropped,
    or kept as ``<target>__before_<id>``, only with ``replace``). Files are extracted
    under ``files_dest``. The timings are compared with ``rto_seconds``.
    """
    service = _service(settings)
    stores = _stores(settings, clients)
    options = settings.get("restore") or {}
    wanted = str(settings.get("backup_id") or "latest")
    pg_settings = settings.get("postgresql") or None
    conn = pg.PgConnection.from_params(pg_settings, runner) if pg_settings else None
    clock = time.monotonic()
    tried: List[str] = []
    holders: List[Tuple[Store, Backup]] = []
    for store in stores:
        try:
            selected = _select(catalog(store, service), wanted if not holders else holders[0][1].id, good_only=True)
        except StoreError as exc:
            tried.append("%s: %s" % (store.describe(), exc))
            continue
        if selected:
            holders.append((store, selected[0]))
        else:
            tried.append("%s: no %s backup" % (store.describe(), "good" if wanted == "latest" else wanted))
    if holders and check_mode:
        store, backup = holders[0]
        return {
            "changed": True,
            "backup_id": backup.id,
            "source": store.describe(),
            "plan": _restore_plan(backup.manifest or {}, options, conn),
            "msg": "would restore backup %s from %s" % (backup.id, store.describe()),
        }
    key = resolve_key(settings) if holders else None
    for store, backup in holders:
        # The same backup from the next destination when a copy is damaged, never an older one
        # behind the operator's back: an older backup is a choice (backup_id).
        manifest = backup.manifest or {}
        plan = _restore_plan(manifest, options, conn)
        with _lock(settings, service), _staging(settings) as staging:
            download = time.monotonic()
            local: Dict[str, str] = {}
            problems: List[str] = []
            for artifact in manifest.get("artifacts") or []:
                if not _wanted(artifact, plan):
                    continue
                path, found = _fetch(store, service, backup, artifact, staging, key)
                problems.extend(found)
                if path:
                    local[artifact["name"]] = path
            if problems:
                tried.append("%s: backup %s: %s" % (store.describe(), backup.id, "; ".join(problems)))
                continue
            fetch_seconds = _seconds(download)
            steps = _apply_restore(manifest, plan, local, options, conn, backup.id, runner)
        seconds = _seconds(clock)
        rto = int(settings.get("rto_seconds") or 0)
        result = {
            "changed": True,
            "backup_id": backup.id,
            "source": store.describe(),
            "plan": plan,
            "steps": steps,
            "timings": {"fetch_seconds": fetch_seconds, "total_seconds": seconds},
            "rto": {"objective_seconds": rto or None, "seconds": seconds, "met": (seconds <= rto) if rto else None},
            "tried": tried,
            "msg": "restored backup %s from %s in %.1f s" % (backup.id, store.describe(), seconds),
        }
        _history(
            settings,
            service,
            {
                "action": "restore",
                "id": backup.id,
                "time": iso(utcnow()),
                "seconds": seconds,
                "source": store.describe(),
                "rto_seconds": rto or None,
            },
        )
        return result
    raise BackupError("no backup could be restored: %s" % "; ".join(tried), {"tried": tried})


def _restore_plan(manifest: Dict[str, Any], options: Dict[str, Any], conn: Optional[pg.PgConnection]) -> Dict[str, Any]:
    artifacts = manifest.get("artifacts") or []
    in_backup = [a["database"] for a in artifacts if a.get("kind") == "postgresql-database"]
    chosen = list(options.get("databases") or in_backup)
    missing = [d for d in chosen if d not in in_backup]
    if missing:
        raise BackupError(
            "backup %s has no database %s (it has %s)"
            % (manifest.get("id"), ", ".join(missing), ", ".join(in_backup) or "none")
        )
    if chosen and conn is None:
        raise BackupError("restoring databases needs the postgresql connection settings")
    targets = dict(options.get("target_databases") or {})
    sets = [a["set"] for a in artifacts if a.get("kind") == "files"]
    chosen_sets = list(sets if options.get("file_sets") is None else options["file_sets"])
    return {
        "databases": {d: targets.get(d, d) for d in chosen},
        "globals": bool(options.get("globals", True))
        and any(a.get("kind") == "postgresql-globals" for a in artifacts)
        and bool(chosen),
        "file_sets": [s for s in chosen_sets if s in sets],
        "files_dest": options.get("files_dest") or "/",
        "replace": bool(options.get("replace", False)),
    }


def _wanted(artifact: Dict[str, Any], plan: Dict[str, Any]) -> bool:
    kind = artifact.get("kind")
    if kind == "postgresql-database":
        return artifact["database"] in plan["databases"]
    if kind == "postgresql-globals":
        return bool(plan["globals"])
    return kind == "files" and artifact.get("set") in plan["file_sets"]


def _apply_restore(
    manifest: Dict[str, Any],
    plan: Dict[str, Any],
    local: Dict[str, str],
    options: Dict[str, Any],
    conn: Optional[pg.PgConnection],
    backup_id: str,
    runner: Runner,
) -> List[Dict[str, Any]]:
    steps: List[Dict[str, Any]] = []
    artifacts = {a["name"]: a for a in manifest.get("artifacts") or []}
    check_data = bool(options.get("check_data", True))
    try:
        for name, path in local.items():
            artifact = artifacts[name]
            if artifact["kind"] == "postgresql-globals" and conn is not None:
                clock = time.monotonic()
                errors = pg.restore_globals(conn, path)
                steps.append({"step": "globals", "seconds": _seconds(clock), "errors": errors})
        for name, path in local.items():
            artifact = artifacts[name]
            if artifact["kind"] != "postgresql-database" or conn is None:
                continue
            steps.append(
                _restore_database(
                    conn, artifact, path, plan["databases"][artifact["database"]], options, check_data, backup_id
                )
            )
    except pg.PgError as exc:
        raise BackupError("PostgreSQL: %s" % exc, {"steps": steps}) from exc
    for name, path in local.items():
        artifact = artifacts[name]
        if artifact["kind"] != "files":
            continue
        clock = time.monotonic()
        try:
            files.extract_archive(path, artifact.get("compression") or "gzip", plan["files_dest"], runner)
        except files.FilesError as exc:
            raise BackupError(str(exc), {"steps": steps}) from exc
        steps.append(
            {
                "step": "files",
                "set": artifact["set"],
                "dest": plan["files_dest"],
                "seconds": _seconds(clock),
                "files": artifact.get("files"),
            }
        )
    return steps


def _restore_database(
    conn: pg.PgConnection,
    artifact: Dict[str, Any],
    path: str,
    target: str,
    options: Dict[str, Any],
    check_data: bool,
    backup_id: str,
) -> Dict[str, Any]:
    clock = time.monotonic()
    staging = "%s__restoring" % target
    if len(staging.encode("utf-8")) > 63:
        raise BackupError("database name %s is too long to restore beside it (%s)" % (target, staging))
    exists = pg.database_exists(conn, target)
    if exists and not options.get("replace"):
        raise BackupError("database %s exists; set replace to swap it for the restored one" % target)
    pg.drop_database(conn, staging)
    owner = artifact.get("owner") if artifact.get("owner") and pg.role_exists(conn, artifact["owner"]) else None
    pg.create_database(conn, staging, owner)
    step: Dict[str, Any] = {"step": "database", "database": artifact["database"], "target": target}
    try:
        pg.restore_database(
            conn, path, staging, jobs=int(options.get("jobs") or 2), owner=bool(options.get("owner", True))
        )
        if check_data:
            report, problems = compare_tables(artifact.get("tables") or {}, pg.checksums(conn, staging))
            step["tables"] = report
            if problems:
                raise BackupError(
                    "the restored %s differs from the backup: %s (the target was not touched)"
                    % (artifact["database"], "; ".join(problems)),
                    {"tables": report},
                )
    except (pg.PgError, BackupError):
        with contextlib.suppress(pg.PgError):
            pg.drop_database(conn, staging)
        raise
    if exists:
        if options.get("keep_previous"):
            previous = "%s__before_%s" % (target, backup_id.lower())
            pg.rename_database(conn, target, previous[:63])
            step["previous_kept_as"] = previous[:63]
        else:
            pg.drop_database(conn, target)
    pg.rename_database(conn, staging, target)
    step["seconds"] = _seconds(clock)
    step["rows"] = artifact.get("rows")
    return step


# --------------------------------------------------------------------------- prune


def plan_prune(
    backups: List[Backup],
    now: float,
    retention_days: int,
    keep_last: int,
    max_count: int,
    incomplete_after_seconds: int,
) -> List[Tuple[Backup, str]]:
    """Which backups to delete and why (pure: the unit tests drive it directly).

    - the newest ``keep_last`` good backups are never deleted, whatever their age;
    - a complete backup older than ``retention_days`` is deleted;
    - beyond the newest ``max_count`` complete backups, older ones are deleted;
    - an incomplete backup (no manifest: an interrupted run) is deleted once its newest
      object is older than ``incomplete_after_seconds``.
    """
    complete = sorted((b for b in backups if b.complete), key=lambda b: (b.created, b.id), reverse=True)
    protected = {b.id for b in [b for b in complete if b.good][: max(0, keep_last)]}
    cutoff = now - retention_days * 86400 if retention_days > 0 else None
    doomed: List[Tuple[Backup, str]] = []
    for index, backup in enumerate(complete):
        if backup.id in protected:
            continue
        if cutoff is not None and backup.created < cutoff:
            doomed.append((backup, "older than %d days" % retention_days))
        elif max_count > 0 and index >= max_count:
            doomed.append((backup, "beyond the newest %d backups" % max_count))
    for backup in backups:
        if not backup.complete:
            newest = max((o.modified for o in backup.objects), default=0.0)
            if now - newest > incomplete_after_seconds:
                doomed.append((backup, "incomplete (no manifest) for more than %d s" % incomplete_after_seconds))
    return doomed


def prune(
    settings: Dict[str, Any], check_mode: bool = False, clients: Optional[Dict[str, Any]] = None
) -> Dict[str, Any]:
    """Delete expired backups in every destination (see plan_prune)."""
    service = _service(settings)
    stores = _stores(settings, clients)
    now = parse_time(settings["now"]).timestamp() if settings.get("now") else time.time()
    destinations = []
    deleted_total = 0
    for store in stores:
        backups = catalog(store, service)
        doomed = plan_prune(
            backups,
            now,
            int(settings.get("retention_days") or 0),
            int(settings.get("keep_last", 1)),
            int(settings.get("max_count") or 0),
            int(settings.get("incomplete_after_seconds") or 86400),
        )
        gone = {b.id for b, _why in doomed}
        if not check_mode and doomed:
            with _lock(settings, service):
                for backup, _reason in doomed:
                    keys = sorted((o.key for o in backup.objects), key=lambda k: (not k.endswith("/" + MANIFEST), k))
                    store.delete(keys)
        deleted_total += len(doomed)
        destinations.append(
            {
                "destination": store.describe(),
                "deleted": [{"id": b.id, "reason": why, "created": b.summary()["created"]} for b, why in doomed],
                "kept": [b.id for b in backups if b.id not in gone],
            }
        )
    if deleted_total and not check_mode:
        _history(settings, service, {"action": "prune", "time": iso(utcnow()), "deleted": deleted_total})
    return {
        "changed": deleted_total > 0,
        "destinations": destinations,
        "msg": "%d backups %sdeleted" % (deleted_total, "would be " if check_mode else ""),
    }


# --------------------------------------------------------------------------- info and report


def info(settings: Dict[str, Any], clients: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The backups in every destination and a report of the RPO and RTO against the objectives."""
    service = _service(settings)
    stores = _stores(settings, clients)
    now = time.time()
    destinations: List[Dict[str, Any]] = []
    for store in stores:
        try:
            backups = catalog(store, service)
        except StoreError as exc:
            destinations.append({"destination": store.describe(), "error": str(exc), "backups": []})
            continue
        destinations.append(
            {
                "destination": store.describe(),
                "backups": [b.summary() for b in backups],
                "_good": [b for b in backups if b.good],
            }
        )
    primary: List[Backup] = destinations[0].get("_good") or []
    history = read_history(settings, service)
    report = objectives_report(
        primary,
        history,
        now,
        int(settings.get("rpo_seconds") or 0),
        int(settings.get("rto_seconds") or 0),
        int(settings.get("interval_seconds") or 0),
    )
    for entry in destinations:
        entry.pop("_good", None)
    return {
        "changed": False,
        "destinations": destinations,
        "report": report,
        "latest": primary[0].summary() if primary else None,
    }


def objectives_report(
    good: List[Backup], history: List[Dict[str, Any]], now: float, rpo: int, rto: int, interval: int
) -> Dict[str, Any]:
    """RPO: the longest time without a good backup (gaps between backups and the age of
    the newest; missed when there is no good backup); RTO: the last restore's duration,
    else the last verify's scratch restore (unknown until one of them was timed)."""
    created = sorted((b.created for b in good), reverse=True)
    latest_age = round(now - created[0], 3) if created else None
    gaps = [round(a - b, 3) for a, b in zip(created, created[1:])]
    worst = max(list(gaps) + ([latest_age] if latest_age is not None else []), default=None)
    durations = [b.manifest.get("timings", {}).get("total_seconds") for b in good if b.manifest]
    last_duration = next((d for d in durations if d is not None), None)
    schedule_worst = (interval + (last_duration or 0)) if interval else None
    restores = [h for h in history if h.get("action") == "restore" and h.get("seconds") is not None]
    verifies = [h for h in history if h.get("action") == "verify" and h.get("restore_seconds") is not None]
    measured = restores[-1]["seconds"] if restores else (verifies[-1]["restore_seconds"] if verifies else None)
    return {
        "rpo": {
            "objective_seconds": rpo or None,
            "latest_backup_age_seconds": latest_age,
            "max_gap_seconds": max(gaps) if gaps else None,
            "worst_seconds": worst,
            "met": (worst is not None and worst <= rpo) if rpo else None,
            "schedule_interval_seconds": interval or None,
            "schedule_worst_case_seconds": schedule_worst,
            "schedule_meets_objective": (schedule_worst <= rpo) if (rpo and schedule_worst is not None) else None,
        },
        "rto": {
            "objective_seconds": rto or None,
            "last_restore_seconds": restores[-1]["seconds"] if restores else None,
            "last_verify_restore_seconds": verifies[-1]["restore_seconds"] if verifies else None,
            "measured_seconds": measured,
            # unknown (None) until a restore or a verify's scratch restore has been timed
            "met": (measured <= rto) if (rto and measured is not None) else None,
        },
        "backups": len(good),
        "last_backup_seconds": last_duration,
    }


# --------------------------------------------------------------------------- scheduled runs


SECRET_FIELDS = ("password", "access_key", "secret_key", "session_token", "connection_string", "credential")


def check_settings(settings: Any, where: str = "the settings") -> Dict[str, Any]:
    """Check the settings of scheduled runs (the modules' option names, without any secret)."""
    if not isinstance(settings, dict):
        raise BackupError("%s are not a JSON object" % where)
    _service(settings)
    if not settings.get("destinations"):
        raise BackupError("%s have no destination" % where)
    for spec in settings["destinations"]:
        try:
            open_store(dict(spec), client=object())
        except StoreError as exc:
            raise BackupError("%s: %s" % (where, exc)) from exc
    if not settings.get("postgresql") and not settings.get("files"):
        raise BackupError("%s have no source (postgresql or files)" % where)
    parts = list(settings["destinations"]) + [settings.get("postgresql") or {}, settings.get("secret_store") or {}]
    found = sorted({name for part in parts for name in SECRET_FIELDS if isinstance(part, dict) and part.get(name)})
    if found or settings.get("encryption_key"):
        raise BackupError(
            "%s hold secrets (%s): they belong in the secrets file"
            % (where, ", ".join(found + (["encryption_key"] if settings.get("encryption_key") else [])))
        )
    return settings


def merge_secrets(settings: Dict[str, Any], secrets: Dict[str, Any]) -> Dict[str, Any]:
    """The settings with the secrets kept apart for scheduled runs put back in.

    ``secrets`` has the shape ``{"destinations": [{...}, ...], "postgresql": {...},
    "secret_store": {...}, "encryption_key": "..."}``; destinations are matched by position.
    """
    merged: Dict[str, Any] = json.loads(json.dumps(settings))
    destinations = merged.get("destinations") or []
    for index, extra in enumerate(secrets.get("destinations") or []):
        if index < len(destinations) and isinstance(extra, dict):
            destinations[index].update({k: v for k, v in extra.items() if v not in (None, "")})
    for part in ("postgresql", "secret_store"):
        extra = secrets.get(part)
        if isinstance(extra, dict) and isinstance(merged.get(part), dict):
            merged[part].update({k: v for k, v in extra.items() if v not in (None, "")})
    if secrets.get("encryption_key"):
        merged["encryption_key"] = str(secrets["encryption_key"])
        merged.pop("encryption_key_file", None)
    return merged


def load_settings(path: str, secrets_path: Optional[str] = None) -> Dict[str, Any]:
    """Read and check a settings file (JSON with the modules' option names), and add the secrets file."""
    try:
        with open(path, encoding="utf-8") as handle:
            settings = json.load(handle)
    except (OSError, ValueError) as exc:
        raise BackupError("cannot read the settings %s: %s" % (path, exc)) from exc
    settings = check_settings(settings, "the settings %s" % path)
    if secrets_path and os.path.exists(secrets_path):
        try:
            with open(secrets_path, encoding="utf-8") as handle:
                secrets = json.load(handle)
        except (OSError, ValueError) as exc:
            # the message names the file, never its content
            raise BackupError("cannot read the secrets file %s: %s" % (secrets_path, type(exc).__name__)) from exc
        if not isinstance(secrets, dict):
            raise BackupError("the secrets file %s is not a JSON object" % secrets_path)
        settings = merge_secrets(settings, secrets)
    return settings


SCHEDULED_ACTIONS = ("run", "create", "verify", "prune", "info")


def scheduled(settings: Dict[str, Any], action: str, runner: Runner, force: bool = False) -> Tuple[int, Dict[str, Any]]:
    """One scheduled run: the exit code and the JSON-able record the command prints.

    ``run`` makes a backup (unless the newest good one is inside the RPO window), verifies
    it when ``verify_after`` is set, then applies the retention.
    """
    if action not in SCHEDULED_ACTIONS:
        raise BackupError("unknown action %s; expected one of %s" % (action, ", ".join(SCHEDULED_ACTIONS)))
    if force:
        settings = dict(settings, force=True)
    results: Dict[str, Any] = {}
    try:
        if action == "info":
            results["info"] = info(settings)
        elif action == "create":
            results["create"] = create(settings, runner)
        elif action == "verify":
            results["verify"] = verify(settings, runner)
        elif action == "prune":
            results["prune"] = prune(settings)
        else:
            results["create"] = create(settings, runner)
            if settings.get("verify_after") and not results["create"].get("skipped"):
                results["verify"] = verify(dict(settings, backup_id=results["create"]["backup_id"]), runner)
            results["prune"] = prune(settings)
    except (BackupError, StoreError) as exc:
        return 1, {"time": iso(utcnow()), "ok": False, "error": str(exc), "results": results}
    for item in results.values():
        (item.get("manifest") or {}).pop("artifacts", None)
    failed = bool(results.get("verify")) and not results["verify"]["verified"]
    return (1 if failed else 0), {"time": iso(utcnow()), "ok": not failed, "results": results}
