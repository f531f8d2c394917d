# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pulumi programs (Python): compile, then run under Pulumi's mocks.

The program is compiled with ``py_compile``.  When the Pulumi SDK is importable
by the running Python, the program is then run once per stack configuration
(``Pulumi.<stack>.yaml`` beside it) under ``pulumi.runtime.set_mocks`` in a
separate Python process, so the mocks never touch the caller: every resource
is registered with the SDK's type checks (unknown arguments, wrong nesting)
and every exception is reported with the file and line of the program.  A
missing SDK is reported as an error, never a silent pass.
"""

from __future__ import annotations

import json
import os
import posixpath
import py_compile
import re
import sys
import tempfile
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..errors import Finding
from .base import Validator, run_tool

#: Run in a child Python.  Standard input: a JSON list of {"program", "project", "stacks":
#: [[stack, config file], ...]}.  Prints one JSON line: a list (one entry per program) of
#: {stack: {"resources": [...], "error": ...}}, or {"missing": ...} without the SDK.
RUNNER = r"""
import ast, json, os, runpy, sys, traceback
jobs = json.load(sys.stdin)
try:
    import pulumi
    import yaml
    from pulumi.runtime import mocks as _mocks
    from pulumi.runtime.stack import wait_for_rpcs
    from pulumi.runtime.sync_await import _sync_await
except ImportError as exc:
    print(json.dumps({"missing": str(exc)}))
    sys.exit(0)

FILL = (
    "arn", "arn_suffix", "address", "dns_name", "endpoint", "name", "key_id", "url",
    "repository_url", "bucket", "self_link", "email", "connection_name",
    "private_ip_address", "host", "primary_endpoint_address", "resource_id",
    "service_namespace", "scalable_dimension", "principal_id", "client_id",
    "vault_uri", "login_server", "fqdn", "uri", "location", "network", "number",
    "project", "identity", "default_hostname", "tenant_id", "server_ca_certs",
)
INVOKE = {
    "accountId": "123456789012", "arn": "arn:aws:iam::123456789012:user/mock",
    "userId": "mock", "region": "us-east-1", "name": "mock", "partition": "aws",
    "dnsSuffix": "amazonaws.com", "value": "ami-0123456789abcdef0",
    "randomPassword": "mock-password-0123456789abcdef0123456789abcdef",
    "names": ["us-east-1a", "us-east-1b", "us-east-1c"], "projectId": "mock-project",
    "number": "123456789", "subscriptionId": "00000000-0000-0000-0000-000000000000",
    "tenantId": "00000000-0000-0000-0000-000000000000",
    "objectId": "00000000-0000-0000-0000-000000000000",
    "clientId": "00000000-0000-0000-0000-000000000000",
}
#: Stand-in values for required config that the stack files leave to the operator.
OPERATOR_VALUES = {"require": "operator-value", "require_int": "1", "require_float": "1",
               "require_bool": "false", "require_object": "[]", "require_secret": "operator-value"}
current = []


class Mocks(_mocks.Mocks):
    def new_resource(self, args):
        state = dict(args.inputs)
        for key in FILL:
            state.setdefault(key, "%s-%s" % (args.name, key))
        identity = state.get("identity")
        if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
            # Azure takes a list of identity ids and answers with a map keyed by them.
            ids = identity["userAssignedIdentities"]
            state["identity"] = dict(identity, userAssignedIdentities={i: {} for i in ids})
        if not isinstance(state.get("version"), str):
            state["version"] = "1"
        current.append({"type": args.typ, "name": args.name, "inputs": _plain(args.inputs)})
        return args.name + "-id", state

    def call(self, args):
        data = dict(INVOKE)
        data.update(args.args)
        return data, []


def _plain(value):
    try:
        return json.loads(json.dumps(value, default=str, sort_keys=True))
    except (TypeError, ValueError):
        return str(value)


def run_one(program, project, pairs):
    with open(program, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    required = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in OPERATOR_VALUES and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            required[node.args[0].value] = OPERATOR_VALUES[node.func.attr]

    os.chdir(os.path.dirname(os.path.abspath(program)))
    results = {}
    for stack, stack_file in pairs:
        config = {}
        if stack_file:
            with open(stack_file, encoding="utf-8") as handle:
                data = yaml.safe_load(handle) or {}
            for key, value in (data.get("config") or {}).items():
                config[key] = value if isinstance(value, str) else json.dumps(value)
        for key, value in required.items():
            config.setdefault("%s:%s" % (project, key), value)
        current.clear()
        error = None
        pulumi.runtime.set_all_config(config, [])
        pulumi.runtime.set_mocks(Mocks(), project=project, stack=stack, preview=False)
        try:
            runpy.run_path(program, run_name="__main__")
            _sync_await(wait_for_rpcs())
        except BaseException as exc:
            frames = [f for f in traceback.extract_tb(exc.__traceback__)
                      if os.path.abspath(f.filename) == os.path.abspath(program)]
            line = frames[-1].lineno if frames else 0
            error = {"line": line or 0, "message": "%s: %s" % (type(exc).__name__, " ".join(str(exc).split())[:600])}
        results[stack] = {"resources": list(current), "error": error}
    return results


print(json.dumps([run_one(j["program"], j["project"], j["stacks"]) for j in jobs]))
"""

#: Longest a program run under mocks may take, in seconds.
RUN_TIMEOUT = 300


def run_programs(
    root: str, jobs: Sequence[Tuple[str, str, Sequence[Tuple[str, str]]]], python: Optional[str] = None
) -> List[Dict[str, Any]]:
    """Run Pulumi programs under mocks, each once per (stack, config file), in one child Python.

    ``jobs`` holds (program path, project name, [(stack, config file)]).  Returns one entry per
    job: ``{stack: {"resources": [{"type", "name", "inputs"}], "error": None or {"line",
    "message"}}}``, or ``{"missing": <import error>}`` when the Pulumi SDK is not installed.
    """
    spec = [
        {"program": program, "project": project, "stacks": [list(s) for s in stacks]}
        for program, project, stacks in jobs
    ]
    result = run_tool(
        [python or sys.executable, "-c", RUNNER],
        cwd=root,
        timeout=RUN_TIMEOUT * max(1, len(jobs)),
        env={"PULUMI_TEST_MODE": "true"},
        stdin=json.dumps(spec),
    )
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith(("[", "{"))]
    if lines:
        data = json.loads(lines[-1])
        if isinstance(data, dict):
            return [data for job in jobs]
        if isinstance(data, list) and len(data) == len(jobs):
            return data
    tail = " | ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
    message = "the mock run did not finish: %s" % tail
    return [
        {stack: {"resources": [], "error": {"line": 0, "message": message}} for stack, config in stacks}
        for program, project, stacks in jobs
    ]


def _project(folder: str) -> str:
    path = os.path.join(folder, "Pulumi.yaml")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                m = re.match(r"^name:\s*['\"]?([^'\"#\s]+)", line)
                if m:
                    return m.group(1)
    return "project"


def _stacks(folder: str) -> List[Tuple[str, str]]:
    """(stack name, config file) for every Pulumi.<stack>.yaml beside a program."""
    out = []
    for name in sorted(os.listdir(folder)):
        m = re.match(r"^Pulumi\.(.+)\.ya?ml$", name)
        if m:
            out.append((m.group(1), os.path.join(folder, name)))
    return out


class PulumiProgram(Validator):
    """``py_compile`` and a run under ``pulumi.runtime.set_mocks`` for each stack."""

    name = "pulumi"
    kinds = ("pulumi",)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        findings: List[Finding] = []
        jobs: List[Tuple[str, str, List[Tuple[str, str]]]] = []
        paths: List[str] = []
        for path in files:
            if not path.endswith(".py"):
                continue
            full = os.path.join(root, path)
            try:
                with tempfile.TemporaryDirectory(prefix="devops-flow-pyc-") as scratch:
                    py_compile.compile(full, cfile=os.path.join(scratch, "program.pyc"), doraise=True)
            except py_compile.PyCompileError as exc:
                line = 0
                value: Any = exc.exc_value
                if isinstance(value, SyntaxError) and value.lineno:
                    line = value.lineno
                findings.append(self.finding("does not compile: %s" % exc.msg.strip().splitlines()[-1], path, line))
                continue
            folder = os.path.dirname(full)
            jobs.append((full, _project(folder), _stacks(folder) or [("dev", "")]))
            paths.append(path)
        if not jobs:
            return findings
        for path, job, data in zip(paths, jobs, run_programs(root, jobs)):
            if data.get("missing"):
                findings.append(
                    self.finding(
                        "the Pulumi SDK is not importable (%s), so the program was only compiled; "
                        "install it with: pip install -r %s"
                        % (data["missing"], posixpath.join(posixpath.dirname(path), "requirements.txt")),
                        path,
                        0,
                        code="tool-missing",
                    )
                )
                continue
            for stack, _config in job[2]:
                error = (data.get(stack) or {}).get("error")
                if error:
                    findings.append(
                        self.finding(
                            "stack %s: %s" % (stack, error.get("message", "")), path, int(error.get("line") or 0)
                        )
                    )
        return findings
