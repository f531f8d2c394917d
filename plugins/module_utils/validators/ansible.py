# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible content: ansible-lint (production profile) and ``ansible-playbook --syntax-check``.

Both run offline and find this collection (the generated playbooks use its
roles and modules) through ``ANSIBLE_COLLECTIONS_PATH``: the folder that holds
``ansible_collections/sdd/devops_flow``, derived from where this file is (the
build tree of a checkout, or the collections path the collection is installed
in), followed by the caller's own collection paths.  Collections installed in
the Python environment of the tools (the ``ansible`` package) are found by
Ansible itself.

A project is the folder of an ``ansible.cfg`` (the generated ``ansible/``), else
the first folder of a file's path.  ansible-lint runs on a copy of a few projects
(``LINT_PROJECTS_PER_RUN``; such runs go in parallel) in a temporary folder,
with its own configuration (production profile, offline), its own cache and
Ansible home, so that no setting, cache or
collection of the machine or of an enclosing repository changes its verdict and
nothing is written next to the validated files.  Inventories are replaced by a
local one (``ANSIBLE_INVENTORY``): the dynamic inventory of a cloud is never
queried.  Every ansible-lint finding is an error (production profile, zero
findings), except those ansible-lint itself reports as warnings.  The syntax
check runs the playbooks of each project in one ``ansible-playbook`` run (one by
one only to locate errors), projects in parallel.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import shutil
import sys
import tempfile
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..errors import Finding
from .base import TOOL_TIMEOUT, Tool, Validator, run_tool

ANSIBLE_LINT = Tool("ansible-lint", "ansible-lint", "pip install ansible-lint")
ANSIBLE_PLAYBOOK = Tool(
    "ansible-playbook", "ansible-playbook", "pip install 'ansible>=14,<15' (ansible-core and the cloud collections)"
)

#: ansible-lint's configuration for generated content.
LINT_CONFIG = "---\nprofile: production\noffline: true\n"
#: Projects (folders of an ansible.cfg) linted by one ansible-lint run.
LINT_PROJECTS_PER_RUN = 3
#: ansible-lint exits with 2 when it found violations.
LINT_VIOLATIONS = 2
#: The default collection paths of Ansible (kept after the collection's own).
DEFAULT_COLLECTION_PATHS = ("~/.ansible/collections", "/usr/share/ansible/collections")

_ORIGIN = re.compile(r"^Origin:\s*(?P<file>.+?):(?P<line>\d+)(?::\d+)?\s*$")
_OLD_ORIGIN = re.compile(r"The error appears to be in '(?P<file>[^']+)': line (?P<line>\d+)")
_ERROR = re.compile(r"^(?:\[ERROR\]:|ERROR!)\s*(?P<message>.*)$")


def collections_root() -> Optional[str]:
    """The folder holding ``ansible_collections/<namespace>/<name>`` of this collection,
    from this file's own path (symbolic links kept, as Python imported it)."""
    here = os.path.dirname(os.path.abspath(__file__))
    collection = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    namespace = os.path.dirname(collection)
    container = os.path.dirname(namespace)
    if os.path.basename(container) != "ansible_collections":
        return None
    return os.path.dirname(container)


def collections_path() -> str:
    """``ANSIBLE_COLLECTIONS_PATH`` for the tools: this collection first, then the
    caller's paths and Ansible's defaults."""
    paths: List[str] = []
    own = collections_root()
    if own:
        paths.append(own)
    for value in (os.environ.get("ANSIBLE_COLLECTIONS_PATH", ""), os.environ.get("ANSIBLE_COLLECTIONS_PATHS", "")):
        paths.extend(p for p in value.split(os.pathsep) if p)
    paths.extend(os.path.expanduser(p) for p in DEFAULT_COLLECTION_PATHS)
    seen: Dict[str, None] = {}
    for path in paths:
        seen.setdefault(path, None)
    return os.pathsep.join(seen)


def projects(root: str, files: Sequence[str]) -> Dict[str, List[str]]:
    """Project folder (relative to root, "" for root itself) -> its files (relative to it)."""
    out: Dict[str, List[str]] = {}
    for path in files:
        parts = path.split("/")
        project: Optional[str] = None
        for depth in range(len(parts) - 1, -1, -1):
            candidate = "/".join(parts[:depth])
            if os.path.isfile(os.path.join(root, candidate, "ansible.cfg")):
                project = candidate
                break
        if project is None:
            project = parts[0] if len(parts) > 1 else ""
        inner = path[len(project) + 1 :] if project else path
        out.setdefault(project, []).append(inner)
    return out


def _joined(project: str, path: str) -> str:
    return "%s/%s" % (project, path) if project else path


def _environment(home: str, tool: str) -> Dict[str, str]:
    """A private Ansible home, cache and configuration, a local inventory, offline."""
    inventory = os.path.join(home, "inventory.ini")
    if not os.path.exists(inventory):
        os.makedirs(home, exist_ok=True)
        with open(inventory, "w", encoding="utf-8") as handle:
            handle.write("localhost ansible_connection=local\n")
    return {
        "ANSIBLE_COLLECTIONS_PATH": collections_path(),
        "ANSIBLE_HOME": os.path.join(home, "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": os.path.join(home, "ansible-tmp"),
        "ANSIBLE_REMOTE_TEMP": os.path.join(home, "ansible-remote-tmp"),
        "ANSIBLE_INVENTORY": inventory,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "XDG_CACHE_HOME": os.path.join(home, "cache"),
        "XDG_CONFIG_HOME": os.path.join(home, "config"),
        "NO_COLOR": "1",
        "PATH": os.pathsep.join([os.path.dirname(tool), os.path.dirname(sys.executable), os.environ.get("PATH", "")]),
    }


class AnsibleLint(Validator):
    """ansible-lint with the production profile, offline, findings with file:line."""

    name = "ansible-lint"
    kinds = ("ansible-playbook", "ansible-data")
    tools = (ANSIBLE_LINT,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        if not files:
            return []
        found = sorted(projects(root, files).items())
        # a few projects per run (ansible-lint starts slowly), runs in parallel, each well inside
        # the time limit of one tool run
        batches = [found[i : i + LINT_PROJECTS_PER_RUN] for i in range(0, len(found), LINT_PROJECTS_PER_RUN)]
        workers = max(1, min(len(batches), os.cpu_count() or 1))
        findings: List[Finding] = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            for batch_findings in pool.map(lambda batch: self._lint(root, batch, tools["ansible-lint"]), batches):
                findings.extend(batch_findings)
        return findings

    def _lint(self, root: str, batch: Sequence[Tuple[str, List[str]]], tool: str) -> List[Finding]:
        """One ansible-lint run on a copy of some projects."""
        work = tempfile.mkdtemp(prefix="sdd-ansible-lint-")
        try:
            copy = os.path.join(work, "projects")
            os.makedirs(copy)
            listed: List[str] = []
            for project, inner in batch:
                if project:
                    shutil.copytree(os.path.join(root, project), os.path.join(copy, project), symlinks=True)
                for path in sorted(inner):
                    full = _joined(project, path)
                    if not project:
                        target = os.path.join(copy, full)
                        os.makedirs(os.path.dirname(target), exist_ok=True)
                        shutil.copy2(os.path.join(root, full), target)
                    listed.append(full)
            config = os.path.join(work, "ansible-lint.yml")
            with open(config, "w", encoding="utf-8") as handle:
                handle.write(LINT_CONFIG)
            argv = [tool, "--offline", "--nocolor", "-c", config, "--project-dir", copy, "-f", "json", *listed]
            # the time limit of one tool run for each project (a loaded machine lints slowly)
            timeout = TOOL_TIMEOUT * len(batch)
            result = run_tool(argv, cwd=copy, env=_environment(os.path.join(work, "home"), tool), timeout=timeout)
            if result.returncode not in (0, LINT_VIOLATIONS):
                return [self.failed_to_run(result, listed)]
            try:
                items: Any = json.loads(result.stdout or "[]")
            except ValueError:
                return [self.failed_to_run(result, listed)]
            if not isinstance(items, list) or (result.returncode == LINT_VIOLATIONS and not items):
                return [self.failed_to_run(result, listed)]
            return [self._finding(copy, item) for item in items if isinstance(item, dict)]
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _finding(self, copy: str, item: Dict[str, Any]) -> Finding:
        location = item.get("location") or {}
        path = str(location.get("path") or "")
        if os.path.isabs(path):
            path = os.path.relpath(path, copy)
        lines = location.get("lines") or {}
        positions = location.get("positions") or {}
        line = lines.get("begin") or (positions.get("begin") or {}).get("line") or 0
        rule = str(item.get("check_name") or "")
        level = str(item.get("level") or "")
        severity = "warning" if level == "warning" or item.get("severity") == "info" else "error"
        return self.finding(
            ("%s %s" % (rule, str(item.get("description") or ""))).strip(),
            path.replace(os.sep, "/"),
            int(line) if str(line).isdigit() else 0,
            severity,
            rule,
        )


class PlaybookSyntax(Validator):
    """``ansible-playbook --syntax-check -i localhost,`` on every playbook, from its project folder."""

    name = "ansible-playbook --syntax-check"
    kinds = ("ansible-playbook",)
    tools = (ANSIBLE_PLAYBOOK,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        findings: List[Finding] = []
        work = tempfile.mkdtemp(prefix="sdd-ansible-syntax-")
        try:
            env = _environment(os.path.join(work, "home"), tools["ansible-playbook"])
            found = sorted(projects(root, files).items())
            workers = max(1, min(len(found), os.cpu_count() or 1))
            with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
                for project_findings in pool.map(
                    lambda item: self._project(root, item[0], item[1], tools["ansible-playbook"], env), found
                ):
                    findings.extend(project_findings)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return findings

    def _project(self, root: str, project: str, inner: Sequence[str], tool: str, env: Dict[str, str]) -> List[Finding]:
        """The playbooks of one project, run from its folder."""
        folder = os.path.join(root, project) if project else root
        playbooks = sorted(inner)
        # all playbooks of a project in one run; one by one only when it fails (the first error
        # stops a run)
        if run_tool([tool, "--syntax-check", "-i", "localhost,", *playbooks], cwd=folder, env=env).returncode == 0:
            return []
        findings: List[Finding] = []
        for path in playbooks:
            result = run_tool([tool, "--syntax-check", "-i", "localhost,", path], cwd=folder, env=env)
            if result.returncode != 0:
                findings.extend(self._errors(result.stderr + "\n" + result.stdout, folder, project, path, result))
        return findings

    def _errors(self, output: str, folder: str, project: str, path: str, result: Any) -> List[Finding]:
        found: List[Finding] = []
        message: Optional[str] = None
        for raw in output.splitlines():
            line = raw.strip()
            error = _ERROR.match(line)
            if error:
                if message is not None:
                    found.append(self.finding(message, _joined(project, path), 0, code="syntax"))
                message = error.group("message")
                continue
            origin = _ORIGIN.match(line) or _OLD_ORIGIN.search(line)
            if origin and message is not None:
                file, number = self._where(origin.group("file"), int(origin.group("line")), folder, project, path)
                if not number:
                    message = "%s (in %s:%s)" % (message, origin.group("file"), origin.group("line"))
                found.append(self.finding(message, file, number, code="syntax"))
                message = None
        if message is not None:
            found.append(self.finding(message, _joined(project, path), 0, code="syntax"))
        return found or [self.failed_to_run(result, [_joined(project, path)])]

    @staticmethod
    def _where(file: str, line: int, folder: str, project: str, path: str) -> Tuple[str, int]:
        full = file if os.path.isabs(file) else os.path.join(folder, file)
        try:
            relative = os.path.relpath(os.path.realpath(full), os.path.realpath(folder)).replace(os.sep, "/")
        except ValueError:
            return _joined(project, path), line
        if relative.startswith("../"):
            return _joined(project, path), 0
        return _joined(project, relative), line
