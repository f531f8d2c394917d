# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The command of scheduled backups (installed by the sdd.devops_flow.backup role).

It runs the engine of the ``sdd.devops_flow.backup_*`` modules (a copy of their
module_utils, found through PYTHONPATH) with the settings file the role writes, so a
scheduled backup is the same backup as one made by a playbook::

    PYTHONPATH=/usr/local/lib/sdd-devops-flow python3 sdd_backup.py \\
        --config /etc/sdd-devops-flow/backup/<service>.json \\
        [--secrets /etc/sdd-devops-flow/backup/<service>.secrets.json] [run|create|verify|prune|info] [--force]
    python3 sdd_backup.py --check-config <settings file>

Prints one JSON line per run; exits 1 when the run failed or a verification found a
problem. Programs (pg_dump, psql, tar) run through subprocess here, where the modules
use ``AnsibleModule.run_command``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_engine as engine
from ansible_collections.sdd.devops_flow.plugins.module_utils.backup_store import StoreError


def run_program(
    argv: List[str], env: Optional[Dict[str, str]] = None, data: Optional[str] = None
) -> Tuple[int, str, str]:
    """The engine's runner: argv without a shell, ``env`` added to this process's environment."""
    environ = dict(os.environ)
    environ.update(env or {})
    if data is None:
        proc = subprocess.run(
            argv, stdin=subprocess.DEVNULL, env=environ, capture_output=True, text=True, errors="replace", check=False
        )
    else:
        proc = subprocess.run(
            argv, input=data, env=environ, capture_output=True, text=True, errors="replace", check=False
        )
    return proc.returncode, proc.stdout, proc.stderr


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sdd-backup", description="Scheduled backups of sdd.devops_flow (the backup role's engine)."
    )
    parser.add_argument("--config", help="settings file (JSON with the backup_* modules' option names)")
    parser.add_argument("--secrets", metavar="FILE", help="secrets file (passwords, keys), when it exists")
    parser.add_argument("--check-config", metavar="FILE", help="check a settings file and exit")
    parser.add_argument("--force", action="store_true", help="back up even inside the RPO window")
    parser.add_argument(
        "action",
        nargs="?",
        default="run",
        choices=list(engine.SCHEDULED_ACTIONS),
        help="run (default): create, verify when verify_after is set, prune",
    )
    args = parser.parse_args(argv)
    if not args.check_config and not args.config:
        parser.error("--config or --check-config is required")
    try:
        if args.check_config:
            engine.load_settings(args.check_config)
            print("ok")
            return 0
        settings = engine.load_settings(args.config, args.secrets)
        code, record = engine.scheduled(settings, args.action, run_program, force=args.force)
    except (engine.BackupError, StoreError) as exc:
        code, record = 1, {"time": engine.iso(engine.utcnow()), "ok": False, "error": str(exc)}
    print(json.dumps(record, sort_keys=True, default=str))
    return code


if __name__ == "__main__":
    sys.exit(main())
