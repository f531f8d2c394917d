# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Terraform: ``terraform fmt -check``, ``init -backend=false`` + ``validate``, and an
HCL parse with python-hcl2."""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import tempfile
from typing import Dict, List, Mapping, Optional, Sequence, Set

from ..errors import Finding
from .base import Tool, Validator, rel, run_tool

TERRAFORM = Tool(
    "terraform", "terraform", "https://developer.hashicorp.com/terraform/install (a single binary on PATH)"
)

#: Provider mirrors used when present and no CLI configuration is given.
DEFAULT_MIRRORS = ("/opt/tf-plugins",)


def terraform_roots(files: Sequence[str]) -> List[str]:
    """Root modules among the files: folders with .tf files that are not under modules/."""
    roots: Dict[str, None] = {}
    for path in files:
        if not path.endswith(".tf"):
            continue
        parts = path.split("/")
        if "modules" in parts[:-1]:
            continue
        roots.setdefault("/".join(parts[:-1]) or ".", None)
    return list(roots)


def _mirror() -> Optional[str]:
    explicit = os.environ.get("DEVOPS_FLOW_TF_PLUGIN_DIR")
    if explicit:
        return explicit if os.path.isdir(explicit) else None
    for path in DEFAULT_MIRRORS:
        if os.path.isdir(path):
            return path
    return None


def _mirror_providers(mirror: str) -> Set[str]:
    """``hashicorp/aws`` style names available in an unpacked mirror."""
    names: Set[str] = set()
    for host in os.listdir(mirror):
        host_dir = os.path.join(mirror, host)
        if not os.path.isdir(host_dir):
            continue
        for namespace in os.listdir(host_dir):
            ns_dir = os.path.join(host_dir, namespace)
            if os.path.isdir(ns_dir):
                for provider in os.listdir(ns_dir):
                    names.add("%s/%s" % (namespace, provider))
    return names


def required_providers(root_dir: str) -> Set[str]:
    """``source`` addresses of the providers a configuration (and its modules) needs."""
    sources: Set[str] = set()
    for folder, _dirs, names in os.walk(root_dir):
        if ".terraform" in folder:
            continue
        for name in names:
            if name.endswith(".tf"):
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    text = handle.read()
                sources.update(
                    m.group(1).lower()
                    for m in re.finditer(
                        r'source\s*=\s*"(?:registry\.terraform\.io/)?([A-Za-z0-9_-]+/[A-Za-z0-9_-]+)"', text
                    )
                )
    return sources


class TerraformFmt(Validator):
    name = "terraform fmt"
    kinds = ("terraform",)
    tools = (TERRAFORM,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        tf_files = [f for f in files if f.endswith((".tf", ".tfvars"))]
        if not tf_files:
            return []
        result = run_tool(
            [tools["terraform"], "fmt", "-check", "-list=true", "-no-color", "-recursive"],
            cwd=root,
            env={"CHECKPOINT_DISABLE": "1"},
        )
        if result.returncode not in (0, 3):
            return [self.failed_to_run(result, tf_files)]
        wanted = set(tf_files)
        return [
            self.finding("not formatted as terraform fmt would write it", rel(line.strip(), root), 0)
            for line in result.stdout.splitlines()
            if line.strip() and rel(line.strip(), root) in wanted
        ]


class TerraformValidate(Validator):
    """``terraform init -backend=false`` then ``terraform validate -json`` per root module.

    With ``TF_CLI_CONFIG_FILE`` naming an existing file, terraform's own
    configuration decides where providers come from.  Otherwise a provider mirror (``DEVOPS_FLOW_TF_PLUGIN_DIR`` or
    /opt/tf-plugins) is used through a filesystem_mirror configuration, which links
    providers instead of copying them; a provider the mirror lacks is reported as a
    warning (the configuration could not be validated offline), not as a pass.
    Root modules are validated in parallel (each has its own data folder), up to one per CPU.
    """

    name = "terraform validate"
    kinds = ("terraform",)
    tools = (TERRAFORM,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        roots = terraform_roots(files)
        if len(roots) < 2:
            return [f for module in roots for f in self._one(root, module, files, tools["terraform"])]
        findings: List[Finding] = []
        workers = min(len(roots), os.cpu_count() or 1)
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            for found in pool.map(lambda module: self._one(root, module, files, tools["terraform"]), roots):
                findings.extend(found)
        return findings

    def _one(self, root: str, module: str, files: Sequence[str], terraform: str) -> List[Finding]:
        folder = os.path.join(root, module)
        env = {"CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
        config_file = None
        first = next((f for f in files if f.startswith("" if module == "." else module + "/")), module)
        configured = os.environ.get("TF_CLI_CONFIG_FILE")
        if not configured or not os.path.isfile(configured):
            mirror = _mirror()
            if mirror:
                have = _mirror_providers(mirror)
                needed = required_providers(folder)
                missing = sorted(p for p in needed if p not in have)
                if missing:
                    return [
                        self.finding(
                            "terraform validate was skipped: provider %s is not in the provider mirror %s "
                            "and is not downloaded while a mirror is in use; fmt, HCL parsing and checkov "
                            "still ran (set TF_CLI_CONFIG_FILE to validate with downloaded providers)"
                            % (", ".join(missing), mirror),
                            first,
                            0,
                            "warning",
                            code="provider-unavailable",
                        )
                    ]
                with tempfile.NamedTemporaryFile("w", suffix=".tfrc", delete=False) as handle:
                    handle.write(
                        'provider_installation {\n  filesystem_mirror {\n    path = "%s"\n  }\n}\n'
                        % mirror.replace("\\", "/").replace('"', '\\"')
                    )
                config_file = handle.name
                env["TF_CLI_CONFIG_FILE"] = config_file
        try:
            data_dir = tempfile.mkdtemp(prefix="devops-flow-tf-")
            env["TF_DATA_DIR"] = data_dir
            init = run_tool(
                [
                    terraform,
                    "init",
                    "-backend=false",
                    "-input=false",
                    "-no-color",
                    "-lockfile=readonly"
                    if os.path.exists(os.path.join(folder, ".terraform.lock.hcl"))
                    else "-upgrade=false",
                ],
                cwd=folder,
                env=env,
            )
            if init.returncode != 0:
                return [
                    self.finding(
                        "terraform init failed: %s" % _last_error(init.stdout + init.stderr), first, 0, code="init"
                    )
                ]
            result = run_tool([terraform, "validate", "-json", "-no-color"], cwd=folder, env=env)
        finally:
            if config_file:
                os.unlink(config_file)
            _remove_tree(env.get("TF_DATA_DIR"))
            lock = os.path.join(folder, ".terraform.lock.hcl")
            if os.path.exists(lock) and not any(f.endswith(".terraform.lock.hcl") for f in files):
                os.unlink(lock)
        try:
            data = json.loads(result.stdout)
        except ValueError:
            return [self.failed_to_run(result, [first])]
        findings = []
        for diag in data.get("diagnostics", []):
            rng = diag.get("range") or {}
            filename = rng.get("filename", "")
            path = rel(os.path.join(module, filename), root) if filename else first
            message = diag.get("summary", "")
            if diag.get("detail"):
                message += ": " + " ".join(diag["detail"].split())
            findings.append(
                self.finding(
                    message,
                    path,
                    (rng.get("start") or {}).get("line", 0),
                    "warning" if diag.get("severity") == "warning" else "error",
                )
            )
        return findings


def _last_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith(("│", "╷", "╵"))]
    errors = [ln for ln in lines if ln.startswith("Error")]
    return " ".join((errors or lines)[-2:])[:400]


def _remove_tree(path: Optional[str]) -> None:
    import shutil

    if path and os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)


class Hcl2Parse(Validator):
    """Every .tf / .tfvars file must parse with python-hcl2 (the parser other tools use)."""

    name = "python-hcl2"
    kinds = ("terraform",)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        try:
            import hcl2
        except ImportError:
            return [
                self.finding(
                    "python-hcl2 is not installed, so the HCL parse check could not run; "
                    "install it with: pip install 'python-hcl2>=8'",
                    files[0] if files else "",
                    code="tool-missing",
                )
            ]
        findings = []
        for path in files:
            if not path.endswith((".tf", ".tfvars")):
                continue
            with open(os.path.join(root, path), encoding="utf-8") as handle:
                text = handle.read()
            try:
                hcl2.loads(text)
            except Exception as exc:
                line = 0
                m = re.search(r"line (\d+)", str(exc))
                if m:
                    line = int(m.group(1))
                findings.append(
                    self.finding("does not parse as HCL: %s" % " ".join(str(exc).split())[:300], path, line)
                )
        return findings
