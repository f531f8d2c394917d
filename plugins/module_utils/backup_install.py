# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What scheduled backups need on a host, planned and written in one step (module backup_install).

Files (all written atomically, only when their content or mode differs)::

    <engine_dir>/ansible_collections/sdd/devops_flow/plugins/module_utils/backup_*.py
                                      the engine: the sources the module itself runs
                                      (with empty __init__.py files: regular packages)
    <engine_dir>/sdd_backup.py        the command line of scheduled runs (given by the role)
    <config_dir>/<service>.json       the settings: module options, no secret (0600)
    <config_dir>/<service>.secrets.json  passwords, keys and the encryption key (0600; secret)
    <command>                         the wrapper cron or the systemd unit runs (0750)

Folders: the config folder (0700), state, staging and log folders, and the folders of
local destinations. The secrets file never appears in a diff or a result, and is removed
when there is no secret. A probe reports what the host has (Python packages, tools,
cron, systemd), so the role installs only what is missing.

Runs on the managed host under Python 3.9+, with no Ansible import.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import tempfile
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.sdd.devops_flow.plugins.module_utils import (
    backup_crypto,
    backup_engine,
    backup_files,
    backup_pg,
    backup_runner,
    backup_store,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_runner import Runner

PACKAGE_PATH = "ansible_collections/sdd/devops_flow/plugins/module_utils"
ENGINE_MODULES = (backup_engine, backup_store, backup_crypto, backup_pg, backup_files, backup_runner)
PYTHON_PACKAGES = {
    "boto3": "boto3",
    "cryptography": "cryptography",
    "gcs": "google.cloud.storage",
    "azure": "azure.storage.blob",
}
TOOLS = ("pg_dump", "pg_restore", "psql", "pg_dumpall", "tar", "zstd", "crontab", "bash")
PROBE = (
    "import importlib.util, json, sys\n"
    "found = {}\n"
    "for key, name in json.loads(sys.argv[1]).items():\n"
    "    try:\n"
    "        found[key] = importlib.util.find_spec(name) is not None\n"
    "    except ImportError:\n"
    "        found[key] = False\n"
    "print(json.dumps(found))\n"
)


class InstallError(Exception):
    """The files of scheduled runs could not be planned or written."""


@dataclass
class Planned:
    """One file to write (or remove, when ``content`` is None)."""

    path: str
    content: Optional[str]
    mode: int
    secret: bool = False
    check: Optional[List[str]] = None  # a command checking the new file (``{}`` is its path)
    before: Optional[str] = None
    before_mode: Optional[int] = None

    @property
    def exists(self) -> bool:
        return self.before is not None

    @property
    def changed(self) -> bool:
        if self.content is None:
            return self.exists
        return self.before != self.content or self.before_mode != self.mode


def module_source(module: ModuleType) -> str:
    """The source of an imported module (from a file, or from the zip a module runs from)."""
    loader = getattr(module, "__loader__", None)
    source = None
    get_source = getattr(loader, "get_source", None)
    if get_source is not None:
        try:
            source = get_source(module.__name__)
        except (ImportError, OSError):
            source = None
    if source is None and getattr(module, "__file__", None):
        with open(str(module.__file__), encoding="utf-8") as handle:
            source = handle.read()
    if not source:
        raise InstallError("the source of %s cannot be read" % module.__name__)
    return str(source)


def engine_sources() -> Dict[str, str]:
    """File name -> source of every engine file."""
    return {module.__name__.rsplit(".", 1)[-1] + ".py": module_source(module) for module in ENGINE_MODULES}


def wrapper_text(service: str, python: str, engine_dir: str, settings_path: str, secrets_path: str) -> str:
    """The command cron or the systemd unit runs."""
    return (
        "#!/bin/bash\n"
        "# Scheduled backups of {service} (sdd.devops_flow backup role; written by sdd.devops_flow.backup_install):\n"
        "# the engine of the sdd.devops_flow.backup_* modules with the settings in {settings}.\n"
        "#\n"
        "#   $0 [run|create|verify|prune|info] [--force]\n"
        "#\n"
        "# run (the default): back up unless the newest good backup is inside the RPO window, verify it when\n"
        "# verify_after is set, then apply the retention. One JSON line per run on stdout.\n"
        "set -euo pipefail\n"
        "umask 077\n"
        "export PYTHONPATH={engine_dir}\n"
        "if [ $# -eq 0 ]; then\n  set -- run\nfi\n"
        'exec {python} {cli} --config {settings} --secrets {secrets} "$@"\n'
    ).format(
        service=service,
        settings=shlex.quote(settings_path),
        secrets=shlex.quote(secrets_path),
        engine_dir=shlex.quote(engine_dir),
        python=shlex.quote(python),
        cli=shlex.quote(os.path.join(engine_dir, "sdd_backup.py")),
    )


def _prune(value: Any) -> Any:
    """Secrets without their empty parts (an empty result means no secrets file)."""
    if isinstance(value, dict):
        kept = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", {}, [])}
    if isinstance(value, list):
        items = [_prune(v) for v in value]
        # positions matter (destinations are matched by index): keep them while any is set
        return items if any(v not in (None, "", {}, []) for v in items) else []
    return value


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return ""  # unreadable or not text: rewritten


def _mode(path: str) -> Optional[int]:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return None


def plan(params: Dict[str, Any]) -> Dict[str, Any]:
    """Files and folders for the module's parameters, with their current state."""
    service = str(params["service"])
    settings = dict(params["settings"])
    settings["service"] = service
    engine_dir = str(params["engine_dir"])
    config_dir = str(params["config_dir"])
    command = str(params.get("command") or "/usr/local/sbin/sdd-backup-%s" % service)
    settings_path = os.path.join(config_dir, "%s.json" % service)
    secrets_path = os.path.join(config_dir, "%s.secrets.json" % service)
    secrets = _prune(dict(params.get("secrets") or {}))
    settings.setdefault("staging_dir", backup_engine.DEFAULT_STAGING)
    settings.setdefault("state_dir", backup_engine.DEFAULT_STATE)
    try:
        backup_engine.check_settings(settings)
    except backup_engine.BackupError as exc:
        raise InstallError(str(exc)) from exc
    module_dir = os.path.join(engine_dir, PACKAGE_PATH)
    files = [Planned(os.path.join(module_dir, name), text, 0o644) for name, text in sorted(engine_sources().items())]
    # regular packages: the private copy wins over any ansible_collections elsewhere on sys.path
    parts = PACKAGE_PATH.split("/")
    files += [Planned(os.path.join(engine_dir, *parts[:i], "__init__.py"), "", 0o644) for i in range(1, len(parts) + 1)]
    files += [
        Planned(os.path.join(engine_dir, "sdd_backup.py"), str(params["cli"]), 0o644),
        Planned(settings_path, json.dumps(settings, indent=2, sort_keys=True) + "\n", 0o600),
        Planned(
            secrets_path,
            json.dumps(secrets, indent=2, sort_keys=True) + "\n" if secrets else None,
            0o600,
            secret=True,
        ),
        Planned(
            command,
            wrapper_text(service, str(params["python"]), engine_dir, settings_path, secrets_path),
            0o750,
            check=["bash", "-n", "{}"],
        ),
    ]
    for item in files:
        item.before = _read(item.path)
        item.before_mode = _mode(item.path)
    folders = [(config_dir, 0o700), (str(settings["state_dir"]), 0o700), (str(settings["staging_dir"]), 0o700)]
    if params.get("log_dir"):
        folders.append((str(params["log_dir"]), 0o750))
    for spec in settings.get("destinations") or []:
        if (spec.get("type") or "local") == "local" and spec.get("path"):
            path = os.path.join(str(spec["path"]), str(spec.get("prefix") or "").strip("/"))
            folders.append((path.rstrip("/") or "/", 0o700))
    missing = [path for path, _mode_bits in folders if not os.path.isdir(path)]
    return {
        "settings": settings,
        "settings_path": settings_path,
        "command": command,
        "files": files,
        "folders": folders,
        "missing_folders": missing,
    }


def _write(item: Planned, runner: Runner) -> None:
    folder = os.path.dirname(item.path)
    os.makedirs(folder, mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".sdd-install-", dir=folder)
    try:
        os.fchmod(fd, item.mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(item.content or "")
        if item.check:
            argv = [tmp if part == "{}" else part for part in item.check]
            rc, out, err = runner(argv, None, None)
            if rc != 0:
                raise InstallError(
                    "%s failed the check %s: %s" % (item.path, " ".join(item.check), (err or out)[-1000:])
                )
        os.replace(tmp, item.path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def apply(planned: Dict[str, Any], runner: Runner) -> List[str]:
    """Create the folders and write the changed files; the paths that changed."""
    changed: List[str] = []
    for path, mode in planned["folders"]:
        if not os.path.isdir(path):
            os.makedirs(path, mode=mode, exist_ok=True)
            os.chmod(path, mode)
            changed.append(path)
    for item in planned["files"]:
        if not item.changed:
            continue
        if item.content is None:
            os.unlink(item.path)
        else:
            _write(item, runner)
        changed.append(item.path)
    return changed


def diffs(planned: Dict[str, Any]) -> List[Dict[str, str]]:
    """Before / after of every changed file; secret files show no content."""
    result = []
    for item in planned["files"]:
        if not item.changed:
            continue
        if item.secret:
            before = "(secret file, %s)\n" % ("present" if item.exists else "absent")
            after = "(secret file, %s)\n" % ("absent" if item.content is None else "new content")
        else:
            before, after = item.before or "", item.content or ""
            if before == after:
                before = "mode %s\n" % (oct(item.before_mode) if item.before_mode is not None else "none")
                after = "mode %s\n" % oct(item.mode)
        result.append({"before_header": item.path, "after_header": item.path, "before": before, "after": after})
    for path in planned["missing_folders"]:
        result.append({"before_header": path, "after_header": path, "before": "(absent)\n", "after": "(directory)\n"})
    return result


def probe(python: str, runner: Runner) -> Dict[str, Any]:
    """What the host has: Python packages (for ``python``), tools, cron, systemd."""
    packages = dict.fromkeys(PYTHON_PACKAGES, False)
    if os.access(python, os.X_OK):
        rc, out, _err = runner([python, "-c", PROBE, json.dumps(PYTHON_PACKAGES)], None, None)
        if rc == 0:
            with contextlib.suppress(ValueError, IndexError):
                packages.update(json.loads(out.strip().splitlines()[-1]))
    tools: Dict[str, bool] = {}
    conn = backup_pg.PgConnection(runner=runner)
    for name in TOOLS:
        if name.startswith("pg_") or name == "psql":
            try:
                conn.tool(name)
                tools[name] = True
            except backup_pg.PgError:
                tools[name] = False
        else:
            tools[name] = any(
                os.access(os.path.join(folder, name), os.X_OK)
                for folder in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
            )
    tools["cron"] = os.access("/usr/sbin/cron", os.X_OK) or os.access("/usr/sbin/crond", os.X_OK)
    return {
        "python_packages": packages,
        "tools": tools,
        "cron_running": _running(("cron", "crond")),
        "systemd": os.path.isdir("/run/systemd/system"),
    }


def _running(names: Sequence[str]) -> bool:
    """A process of one of these names runs in this host's mount namespace (not in a neighbour container)."""
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
        own = os.readlink("/proc/self/ns/mnt")
    except OSError:
        return False
    for pid in pids:
        try:
            with open("/proc/%s/comm" % pid, encoding="utf-8") as handle:
                if handle.read().strip() not in names:
                    continue
            if os.readlink("/proc/%s/ns/mnt" % pid) == own:
                return True
        except OSError:
            continue
    return False
