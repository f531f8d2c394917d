# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL for backups: pg_dump / pg_dumpall / pg_restore and per-table checksums.

Programs run through a *runner* the caller passes in (``backup_runner``): the modules
give ``AnsibleModule.run_command``, the command of scheduled runs a subprocess runner.

A database is dumped from inside one REPEATABLE READ transaction: a single psql script
exports the transaction's snapshot, runs pg_dump on it (``pg_dump --snapshot``, through
psql's ``\\!`` while the transaction stays open), then computes the per-table row counts
and checksums in that same snapshot. The manifest therefore describes exactly the data
in the dump, even while the application keeps writing.

A table's checksum is the sum of the first 64 bits of ``md5(row::text)`` over its rows
(order-independent, constant memory), computed with fixed output settings (ISO dates,
UTC, full float precision, hex bytea) so that a restore on another server of the same
major version gives the same value.

Runs on the managed host under Python 3.9+, with no Ansible import. The password goes
to the tools through the environment (PGPASSWORD), never on a command line.
"""

from __future__ import annotations

import binascii
import glob
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_runner import Runner, missing_runner

# Session settings that make row::text the same on every server of a major version.
STABLE_OUTPUT = (
    "SET client_min_messages TO warning",
    "SET datestyle TO 'ISO, YMD'",
    "SET intervalstyle TO 'postgres'",
    "SET timezone TO 'UTC'",
    "SET extra_float_digits TO 3",
    "SET bytea_output TO 'hex'",
    "SET lc_monetary TO 'C'",
)

# One checksum query per ordinary table, run by psql's \gexec; the name comes back in hex
# (any character is safe in it) with the row count and the checksum.
CHECKSUM_QUERIES = (
    "SELECT pg_catalog.format("
    "'SELECT %L, count(*), coalesce(sum((''x'' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0)"
    " FROM ONLY %I.%I AS t', "
    "pg_catalog.encode(pg_catalog.convert_to(n.nspname || '.' || c.relname, 'UTF8'), 'hex'), n.nspname, c.relname) "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%' "
    "ORDER BY n.nspname, c.relname"
)

# pg_dump inside the open transaction: every value comes from the environment, quoted.
DUMP_COMMAND = (
    '"$SDD_PG_DUMP" --format=custom --compress="$SDD_COMPRESS" --snapshot="$SDD_SNAPSHOT" '
    '--file="$SDD_FILE" --dbname="$SDD_DBNAME" 2>"$SDD_ERRORS"; echo "$?" >"$SDD_STATUS"'
)

# Databases the tools create for themselves: never backed up.
TEMPORARY_DATABASE = re.compile(r"^sdd_verify_|__restoring$|__before_")


class PgError(Exception):
    """A PostgreSQL tool or query failed."""


def quote_ident(name: str) -> str:
    return '"%s"' % name.replace('"', '""')


def quote_literal(value: str) -> str:
    return "'%s'" % value.replace("'", "''")


def conninfo(dbname: str) -> str:
    """A libpq connection string naming only a database (the rest comes from the environment)."""
    return "dbname='%s'" % dbname.replace("\\", "\\\\").replace("'", "\\'")


@dataclass(frozen=True)
class PgConnection:
    host: str = ""
    port: int = 5432
    user: str = "postgres"
    password: Optional[str] = field(default=None, repr=False)
    maintenance_db: str = "postgres"
    sslmode: str = ""
    bin_dir: str = ""
    runner: Runner = field(default=missing_runner, repr=False, compare=False)

    @classmethod
    def from_params(cls, params: Dict[str, Any], runner: Runner) -> PgConnection:
        return cls(
            host=str(params.get("host") or ""),
            port=int(params.get("port") or 5432),
            user=str(params.get("user") or "postgres"),
            password=params.get("password") or None,
            maintenance_db=str(params.get("maintenance_db") or "postgres"),
            sslmode=str(params.get("sslmode") or ""),
            bin_dir=str(params.get("bin_dir") or ""),
            runner=runner,
        )

    def public(self) -> Dict[str, Any]:
        return {"host": self.host or "(local socket)", "port": self.port, "user": self.user}

    def env(self) -> Dict[str, str]:
        """The libpq variables for the tools (added to the caller's environment)."""
        env = {
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGAPPNAME": "sdd-devops-flow-backup",
            "PGCONNECT_TIMEOUT": os.environ.get("PGCONNECT_TIMEOUT") or "10",
        }
        if self.host:
            env["PGHOST"] = self.host
        if self.password:
            env["PGPASSWORD"] = self.password
        if self.sslmode:
            env["PGSSLMODE"] = self.sslmode
        return env

    def tool(self, name: str) -> str:
        """The path of a client tool: bin_dir, else the newest /usr/lib/postgresql/*/bin, else PATH."""
        if self.bin_dir:
            path = os.path.join(self.bin_dir, name)
            if not os.access(path, os.X_OK):
                raise PgError("%s is not in %s" % (name, self.bin_dir))
            return path
        candidates = glob.glob("/usr/lib/postgresql/*/bin/%s" % name) + glob.glob("/usr/pgsql-*/bin/%s" % name)

        def version(path: str) -> float:
            found = re.search(r"(\d+(?:\.\d+)?)", path)
            return float(found.group(1)) if found else 0.0

        for path in sorted(candidates, key=version, reverse=True):
            if os.access(path, os.X_OK):
                return path
        found_on_path = shutil.which(name)
        if found_on_path:
            return found_on_path
        raise PgError("%s is not installed (Debian/Ubuntu: postgresql-client)" % name)


def run(
    argv: List[str],
    conn: PgConnection,
    what: str,
    data: Optional[str] = None,
    env: Optional[Dict[str, str]] = None,
) -> str:
    """Run a client tool; raise PgError with its messages when it fails."""
    environ = conn.env()
    environ.update(env or {})
    try:
        rc, out, err = conn.runner(argv, environ, data)
    except OSError as exc:
        raise PgError("%s: %s" % (what, exc)) from exc
    if rc != 0:
        message = (err or out).strip()
        raise PgError("%s failed (exit %d): %s" % (what, rc, message[-2000:]))
    return str(out)


PSQL_OPTIONS = ["-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"]


def query(conn: PgConnection, statement: str, database: Optional[str] = None) -> List[List[str]]:
    """Rows of one statement, as lists of strings (fields separated by tabs)."""
    out = run(
        [conn.tool("psql")] + PSQL_OPTIONS + ["-d", conninfo(database or conn.maintenance_db), "-c", statement],
        conn,
        "psql",
    )
    return [line.split("\t") for line in out.splitlines() if line]


def server_version(conn: PgConnection) -> str:
    return query(conn, "SHOW server_version")[0][0].split()[0]


def tool_version(conn: PgConnection, name: str) -> str:
    out = run([conn.tool(name), "--version"], conn, "%s --version" % name)
    return out.strip().split()[-1] if out.strip() else ""


def list_databases(conn: PgConnection) -> List[str]:
    rows = query(conn, "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1")
    return [r[0] for r in rows if not TEMPORARY_DATABASE.search(r[0])]


def sql(template: str, *values: str) -> str:
    """A statement with already quoted identifiers or literals put in place of ``{}``."""
    return template.format(*values)


def database_exists(conn: PgConnection, name: str) -> bool:
    return bool(query(conn, sql("SELECT 1 FROM pg_catalog.pg_database WHERE datname = {}", quote_literal(name))))


def database_owner(conn: PgConnection, name: str) -> Optional[str]:
    rows = query(
        conn,
        sql(
            "SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_catalog.pg_database WHERE datname = {}",
            quote_literal(name),
        ),
    )
    return rows[0][0] if rows else None


def create_database(conn: PgConnection, name: str, owner: Optional[str] = None) -> None:
    statement = "CREATE DATABASE %s TEMPLATE template0" % quote_ident(name)
    if owner:
        statement += " OWNER %s" % quote_ident(owner)
    query(conn, statement)


def drop_database(conn: PgConnection, name: str) -> None:
    query(conn, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % quote_ident(name))


def rename_database(conn: PgConnection, old: str, new: str) -> None:
    query(
        conn,
        sql(
            "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity "
            "WHERE datname = {} AND pid <> pg_catalog.pg_backend_pid()",
            quote_literal(old),
        ),
    )
    query(conn, "ALTER DATABASE %s RENAME TO %s" % (quote_ident(old), quote_ident(new)))


def role_exists(conn: PgConnection, name: str) -> bool:
    return bool(query(conn, sql("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = {}", quote_literal(name))))


def snapshot_script(marker: str, dump: bool) -> str:
    """The psql script: a REPEATABLE READ transaction, the dump (optional), then the checksums."""
    lines = ["BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;"]
    lines += ["%s;" % statement for statement in STABLE_OUTPUT]
    if dump:
        lines += [
            "SELECT pg_catalog.pg_export_snapshot() AS sdd_snapshot \\gset",
            "\\setenv SDD_SNAPSHOT :sdd_snapshot",
            "\\! " + DUMP_COMMAND,
        ]
    lines += ["\\echo %s" % marker, CHECKSUM_QUERIES + " \\gexec", "COMMIT;"]
    return "\n".join(lines) + "\n"


def parse_checksums(out: str, marker: str) -> Dict[str, Dict[str, Any]]:
    """``schema.table`` -> {"rows": n, "checksum": "..."} from the output of snapshot_script."""
    lines = out.splitlines()
    if marker not in lines:
        raise PgError("psql did not reach the checksums: %s" % out.strip()[-500:])
    result: Dict[str, Dict[str, Any]] = {}
    for line in lines[lines.index(marker) + 1 :]:
        fields = line.split("\t")
        if len(fields) != 3:
            continue
        try:
            name = binascii.unhexlify(fields[0]).decode("utf-8")
            result[name] = {"rows": int(fields[1]), "checksum": fields[2]}
        except (ValueError, binascii.Error) as exc:
            raise PgError("unexpected psql output %r" % line[:200]) from exc
    return result


def _snapshot(conn: PgConnection, database: str, dump_to: Optional[str], compress: int) -> Dict[str, Dict[str, Any]]:
    marker = "__sdd_backup_%s__" % uuid.uuid4().hex
    env: Dict[str, str] = {}
    work = ""
    if dump_to:
        work = tempfile.mkdtemp(prefix=".sdd-pg-", dir=os.path.dirname(os.path.abspath(dump_to)))
        env = {
            "SDD_PG_DUMP": conn.tool("pg_dump"),
            "SDD_COMPRESS": str(int(compress)),
            "SDD_FILE": dump_to,
            "SDD_DBNAME": conninfo(database),
            "SDD_ERRORS": os.path.join(work, "errors"),
            "SDD_STATUS": os.path.join(work, "status"),
        }
    try:
        out = run(
            [conn.tool("psql")] + PSQL_OPTIONS + ["-d", conninfo(database)],
            conn,
            "psql on %s" % database,
            data=snapshot_script(marker, bool(dump_to)),
            env=env,
        )
        if dump_to:
            status = _read(env["SDD_STATUS"]).strip()
            if status != "0":
                raise PgError(
                    "pg_dump of %s failed (exit %s): %s"
                    % (database, status or "unknown", _read(env["SDD_ERRORS"]).strip()[-2000:])
                )
    finally:
        if work:
            shutil.rmtree(work, ignore_errors=True)
    return parse_checksums(out, marker)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def checksums(conn: PgConnection, database: str) -> Dict[str, Dict[str, Any]]:
    """Per-table row counts and checksums of a database, in one consistent snapshot."""
    return _snapshot(conn, database, None, 0)


def dump_database(conn: PgConnection, database: str, dest: str, compress: int = 6) -> Dict[str, Dict[str, Any]]:
    """pg_dump -Fc of one database into ``dest``; return its tables' checksums (same snapshot)."""
    return _snapshot(conn, database, dest, compress)


def dump_globals(conn: PgConnection, dest: str, role_passwords: bool = True) -> None:
    """pg_dumpall --globals-only (roles, tablespaces) into ``dest``."""
    argv = [
        conn.tool("pg_dumpall"),
        "--globals-only",
        "--file=%s" % dest,
        "--dbname=%s" % conninfo(conn.maintenance_db),
    ]
    if not role_passwords:
        argv.append("--no-role-passwords")
    run(argv, conn, "pg_dumpall --globals-only")


def list_archive(conn: PgConnection, path: str) -> str:
    """pg_restore --list: reads the whole table of contents (fails on a damaged archive)."""
    return run([conn.tool("pg_restore"), "--list", path], conn, "pg_restore --list")


def restore_database(conn: PgConnection, path: str, database: str, jobs: int = 2, owner: bool = True) -> None:
    """pg_restore a custom-format dump into an existing, empty database (stops at the first error)."""
    argv = [conn.tool("pg_restore"), "--exit-on-error", "--jobs=%d" % max(1, jobs), "--dbname=%s" % conninfo(database)]
    if not owner:
        argv += ["--no-owner", "--no-privileges"]
    run(argv + [path], conn, "pg_restore into %s" % database)


def restore_globals(conn: PgConnection, path: str) -> List[str]:
    """Apply a globals script; existing roles are kept ("already exists" is not an error).

    Returns the other error messages (the script goes on after them, like psql does).
    """
    argv = [conn.tool("psql"), "-X", "-q", "-d", conninfo(conn.maintenance_db), "-f", path]
    try:
        rc, _out, err = conn.runner(argv, conn.env(), None)
    except OSError as exc:
        raise PgError("psql: %s" % exc) from exc
    errors = [line for line in err.splitlines() if "ERROR" in line and "already exists" not in line]
    if rc != 0 and not errors:
        errors.append(err.strip()[-2000:])
    return errors
