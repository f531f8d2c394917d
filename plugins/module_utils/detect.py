# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which artifact kind each file of a tree is, for ``devops-flow validate DIR``.

A tree this collection wrote has a manifest that records every file's kind; any
other tree is recognised by names and contents (a Terraform file by its
extension, a workflow by its folder, a manifest by ``apiVersion``/``kind``, a
playbook by plays with ``hosts``).  Files nothing recognises are listed as not
checked, never silently passed.
"""

from __future__ import annotations

import fnmatch
import os
import re
from typing import Dict, List, Optional, Tuple

from .writer import STATE_DIR, load_manifest_entries

SKIP_DIRS = {".git", ".terraform", "node_modules", ".venv", "__pycache__", STATE_DIR, ".pytest_cache", ".mypy_cache"}
MAX_FILES = 20000

#: (glob on the relative path, kind) for files named by convention.
BY_NAME: List[Tuple[str, str]] = [
    ("*.tf", "terraform"),
    ("*.tfvars", "terraform"),
    (".github/workflows/*.yml", "github-actions"),
    (".github/workflows/*.yaml", "github-actions"),
    (".gitlab-ci.yml", "gitlab-ci"),
    ("*Jenkinsfile", "jenkinsfile"),
    (".circleci/config.yml", "circleci"),
    ("azure-pipelines.yml", "azure-pipelines"),
    ("*Dockerfile", "dockerfile"),
    ("*Dockerfile.*", "dockerfile"),
    ("compose.yaml", "compose"),
    ("compose.yml", "compose"),
    ("docker-compose.yml", "compose"),
    ("docker-compose.yaml", "compose"),
    ("*.sh", "shell"),
    ("*alertmanager.yml", "alertmanager-config"),
    ("*prometheus.yml", "prometheus-config"),
]


def _head(path: str, size: int = 65536) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(size)
    except OSError:
        return ""


def _by_content(relative: str, text: str) -> Optional[str]:
    name = os.path.basename(relative)
    if name.endswith((".yml", ".yaml")):
        if (
            (re.search(r"^AWSTemplateFormatVersion:|^Resources:\s*$", text, re.M) and "Type: AWS::" in text)
            or '"Type": "AWS::' in text
            or "Type: 'AWS::" in text
        ):
            return "cloudformation"
        if name in ("Chart.yaml",):
            return "helm"
        if name in ("kustomization.yaml", "kustomization.yml"):
            return "kustomize"
        if re.search(r"^\s*rule_files:\s*$", text, re.M) and re.search(r"^\s*tests:\s*$", text, re.M):
            return "prometheus-rule-tests"
        if re.search(r"^groups:\s*$", text, re.M) and re.search(r"^\s*-?\s*(alert|record):", text, re.M):
            return "prometheus-rules"
        if re.search(r"^apiVersion:\s*\S+", text, re.M) and re.search(r"^kind:\s*\S+", text, re.M):
            return "kubernetes"
        if re.search(r"^- (name:.*\n\s+)?hosts:", text, re.M) or re.search(r"^- hosts:", text, re.M):
            return "ansible-playbook"
        if re.search(r"^receivers:\s*$", text, re.M) and re.search(r"^service:\s*$", text, re.M):
            return "otel-collector"
        if name == "Pulumi.yaml":
            return None
    if name == "__main__.py" and "import pulumi" in text:
        return "pulumi"
    if name.endswith(".json") and '"panels"' in text and '"schemaVersion"' in text:
        return "grafana-dashboard"
    return None


def detect(root: str) -> Tuple[Dict[str, str], List[str]]:
    """(relative path -> kind, files not recognised) for every file under ``root``."""
    recorded: Dict[str, str] = {}
    for files in load_manifest_entries(root).values():
        for path, entry in files.items():
            if entry.get("kind"):
                recorded[path] = entry["kind"]
    kinds: Dict[str, str] = {}
    unknown: List[str] = []
    inside_charts: List[str] = []
    count = 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        if "Chart.yaml" in names:
            inside_charts.append(os.path.relpath(folder, root).replace(os.sep, "/"))
        for name in sorted(names):
            count += 1
            if count > MAX_FILES:
                return kinds, unknown + ["(more than %d files: the rest was not read)" % MAX_FILES]
            full = os.path.join(folder, name)
            relative = os.path.relpath(full, root).replace(os.sep, "/")
            if relative in recorded:
                kinds[relative] = recorded[relative]
                continue
            if any(
                relative.startswith(chart + "/") and relative != chart + "/Chart.yaml"
                for chart in inside_charts
                if chart != "."
            ):
                kinds[relative] = "helm"
                continue
            kind = next(
                (k for pattern, k in BY_NAME if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(name, pattern)),
                None,
            )
            if kind is None:
                kind = _by_content(relative, _head(full))
            if kind is None:
                unknown.append(relative)
            else:
                kinds[relative] = kind
    return kinds, unknown
