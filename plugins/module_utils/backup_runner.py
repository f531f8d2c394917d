# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the backup engine runs programs (pg_dump, psql, tar, zstd): through a runner it is given.

A runner is a callable ``runner(argv, env, data) -> (rc, stdout, stderr)``: ``argv`` a
list (never a shell string), ``env`` variables added to the environment (the PostgreSQL
password travels there, never on a command line), ``data`` text for standard input or
None. The modules pass :func:`module_runner` (``AnsibleModule.run_command``); the
command of scheduled runs, installed by the backup role, passes its own.

Runs on the managed host under Python 3.9+, with no Ansible import.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

Runner = Callable[[List[str], Optional[Dict[str, str]], Optional[str]], Tuple[int, str, str]]


def missing_runner(
    argv: List[str], env: Optional[Dict[str, str]] = None, data: Optional[str] = None
) -> Tuple[int, str, str]:
    """The runner of objects built without one: running anything with it is a programming error."""
    raise OSError("no program runner was given to run %s" % (argv[0] if argv else "a program"))


def module_runner(module: Any) -> Runner:
    """A runner over ``AnsibleModule.run_command`` (no shell, no expansion of ``$`` or ``~`` in arguments)."""

    def run(argv: List[str], env: Optional[Dict[str, str]] = None, data: Optional[str] = None) -> Tuple[int, str, str]:
        rc, out, err = module.run_command(
            list(argv),
            environ_update=dict(env or {}),
            data=data,
            binary_data=True,
            expand_user_and_vars=False,
        )
        return int(rc), str(out), str(err)

    return run
