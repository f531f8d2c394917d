# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every validator shares: finding its tool, running it, reporting findings.

A validator runs the real tool of an ecosystem on files written to disk and turns
its output into ``Finding`` objects with the file (relative to the validated
folder), the line and a severity.  A tool that is not installed is itself a
finding (severity error) that says which tool is missing and how to install it:
validation never passes silently.
"""

from __future__ import annotations

import abc
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from ..errors import Finding

#: Longest a single tool run may take, in seconds.
TOOL_TIMEOUT = 600


@dataclass(frozen=True)
class Tool:
    """An external program a validator needs."""

    name: str
    executable: str
    install: str

    @property
    def env_var(self) -> str:
        return "DEVOPS_FLOW_%s" % self.name.upper().replace("-", "_")

    def find(self) -> Optional[str]:
        """The program's path: ``$DEVOPS_FLOW_<NAME>``, then the folder of the running Python
        (a virtual environment's bin, where requirements-dev.txt installs the Python-packaged
        tools), then PATH.  The venv comes first because PATH may hold a wrapper that does not
        run the tool, such as a pyenv shim for a tool another Python version installed."""
        override = os.environ.get(self.env_var)
        if override:
            return override if os.path.isfile(override) and os.access(override, os.X_OK) else None
        beside = os.path.join(os.path.dirname(sys.executable), self.executable)
        if os.path.isfile(beside) and os.access(beside, os.X_OK):
            return beside
        return shutil.which(self.executable)

    def missing(self, validator: str, files: Sequence[str]) -> Finding:
        return Finding(
            "%s is not installed, so %s could not check this file; install it with: %s "
            "(or point %s at it)" % (self.executable, validator, self.install, self.env_var),
            files[0] if files else "",
            0,
            "error",
            code="tool-missing",
            tool=validator,
        )


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False


def run_tool(
    argv: Sequence[str],
    cwd: str,
    env: Optional[Mapping[str, str]] = None,
    timeout: int = TOOL_TIMEOUT,
    stdin: Optional[str] = None,
) -> Run:
    """Run a program with a fixed argument list (never a shell)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        # controller-side code (the CLI and the generate action), not a module: no AnsibleModule here
        proc = subprocess.run(  # pylint: disable=ansible-bad-function
            list(argv),
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=stdin,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return Run(124, out, "timed out after %d seconds" % timeout, timed_out=True)
    except OSError as exc:
        return Run(127, "", str(exc))
    return Run(proc.returncode, proc.stdout, proc.stderr)


class Validator(abc.ABC):
    """A validator checks the files of some artifact kinds under one folder."""

    name = "validator"
    kinds: Tuple[str, ...] = ()
    tools: Tuple[Tool, ...] = ()

    def applies(self, kind: str) -> bool:
        return kind in self.kinds

    def check(self, root: str, files: Sequence[str]) -> List[Finding]:
        """Findings for ``files`` (paths relative to ``root``)."""
        found: Dict[str, str] = {}
        problems: List[Finding] = []
        for tool in self.tools:
            path = tool.find()
            if path is None:
                problems.append(tool.missing(self.name, files))
            else:
                found[tool.name] = path
        if problems:
            return problems
        return self.run(root, files, found)

    @abc.abstractmethod
    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        """Run the tools (found at ``tools[name]``) and return their findings."""

    def finding(self, message: str, file: str = "", line: int = 0, severity: str = "error", code: str = "") -> Finding:
        return Finding(message, file, line, severity, code=code, tool=self.name)

    def failed_to_run(self, run: Run, files: Sequence[str]) -> Finding:
        detail = (run.stderr or run.stdout).strip().splitlines()
        tail = " | ".join(detail[-3:]) if detail else "exit code %d" % run.returncode
        return self.finding("%s did not run: %s" % (self.name, tail), files[0] if files else "", code="tool-error")


def rel(path: str, root: str) -> str:
    """A tool's path as a path relative to the validated folder (POSIX separators)."""
    if not path:
        return path
    full = path if os.path.isabs(path) else os.path.join(root, path)
    try:
        relative = os.path.relpath(os.path.realpath(full), os.path.realpath(root))
    except ValueError:
        return path
    return relative.replace(os.sep, "/")
