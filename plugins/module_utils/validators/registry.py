# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which validators check which artifact kinds, and running them on a folder.

``VALIDATORS`` maps an artifact kind (the ``kind`` of a ``GeneratedFile``) to the
validators that check it, as ``(module, class, arguments)`` under this package,
imported when first used.  A kind with no entry and no reason in ``UNCHECKED``
is itself an error: nothing passes unchecked by accident.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import os
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from ..errors import Finding
from .base import Validator

Spec = Tuple[str, str, Tuple[Any, ...]]

VALIDATORS: Dict[str, Tuple[Spec, ...]] = {
    "terraform": (
        ("terraform", "TerraformFmt", ()),
        ("terraform", "Hcl2Parse", ()),
        ("terraform", "TerraformValidate", ()),
        ("checkov", "Checkov", ("terraform",)),
    ),
    "cloudformation": (
        ("cloudformation", "CfnLint", ()),
        ("checkov", "Checkov", ("cloudformation",)),
    ),
    "dockerfile": (
        ("containers", "Hadolint", ()),
        ("checkov", "Checkov", ("dockerfile",)),
    ),
    "compose": (("containers", "ComposeSchema", ()),),
    "kubernetes": (
        ("kubernetes", "KubernetesValidate", ()),
        ("checkov", "Checkov", ("kubernetes",)),
    ),
    "kustomize": (("kubernetes", "Kustomize", ()),),
    # the chart is rendered and checked with checkov's Kubernetes checks by HelmChart itself
    # (checkov's helm framework needs a helm program, which is not available everywhere)
    "helm": (("kubernetes", "HelmChart", ()),),
    "pulumi": (("pulumi", "PulumiProgram", ()),),
    "prometheus-config": (("monitoring", "PromtoolConfig", ()),),
    "prometheus-rules": (("monitoring", "PromtoolRules", ()),),
    "prometheus-rule-tests": (("monitoring", "PromtoolTest", ()),),
    "prometheus-targets": (("monitoring", "PrometheusTargets", ()),),
    "alertmanager-config": (("monitoring", "Amtool", ()),),
    "grafana-dashboard": (("monitoring", "GrafanaDashboard", ()),),
    "otel-collector": (("monitoring", "OtelCollector", ()),),
    "github-actions": (
        ("pipelines", "Actionlint", ()),
        ("pipelines", "CheckJsonschema", ("github-actions",)),
        ("checkov", "Checkov", ("github-actions",)),
    ),
    "gitlab-ci": (
        ("pipelines", "CheckJsonschema", ("gitlab-ci",)),
        ("checkov", "Checkov", ("gitlab-ci",)),
    ),
    "jenkinsfile": (("pipelines", "GroovyParse", ()),),
    "circleci": (
        ("pipelines", "CheckJsonschema", ("circleci",)),
        ("checkov", "Checkov", ("circleci",)),
    ),
    "azure-pipelines": (
        ("pipelines", "CheckJsonschema", ("azure-pipelines",)),
        ("checkov", "Checkov", ("azure-pipelines",)),
    ),
    "shell": (
        ("shell", "ShellCheck", ()),
        ("shell", "BashSyntax", ()),
    ),
    # the generated Ansible content (render/playbooks.py): ansible-lint with the production
    # profile on the playbooks and their variable, inventory and requirements files, and
    # ansible-playbook --syntax-check on the playbooks
    "ansible-playbook": (
        ("ansible", "AnsibleLint", ()),
        ("ansible", "PlaybookSyntax", ()),
    ),
    "ansible-data": (("ansible", "AnsibleLint", ()),),
    "json-data": (("data", "JsonParse", ()),),
    "yaml-data": (("data", "YamlParse", ()),),
}

#: Kinds that have no validator on purpose, with why.
UNCHECKED: Dict[str, str] = {
    "text": "plain text (requirements lists, notes)",
    "markdown": "documentation for people",
}


def validators_for(kind: str) -> List[Validator]:
    """The validators of one artifact kind (empty for kinds no tool checks)."""
    found: List[Validator] = []
    for module_name, class_name, args in VALIDATORS.get(kind, ()):
        module = importlib.import_module("%s.%s" % (__package__, module_name))
        found.append(getattr(module, class_name)(*args))
    return found


def validate_files(root: str, files: Mapping[str, str], jobs: int = 0) -> List[Finding]:
    """Run every validator on ``files`` (relative path -> kind) under ``root``.

    Validators run in parallel (``jobs`` threads, default: the CPU count, at least
    2); the findings come back in a stable order: by file, line, tool.
    """
    by_kind: Dict[str, List[str]] = {}
    for path, kind in files.items():
        by_kind.setdefault(kind, []).append(path)
    tasks = []
    findings: List[Finding] = []
    for kind, paths in sorted(by_kind.items()):
        validators = validators_for(kind)
        if not validators and kind not in UNCHECKED:
            findings.append(
                Finding(
                    "no validator is registered for artifact kind %r" % kind,
                    sorted(paths)[0],
                    0,
                    "error",
                    code="no-validator",
                )
            )
        for validator in validators:
            tasks.append((validator, sorted(paths)))
    workers = jobs or min(len(tasks) or 1, max(2, os.cpu_count() or 2))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(v.check, root, paths) for v, paths in tasks]
        for future in futures:
            findings.extend(future.result())
    return sorted(findings, key=lambda f: (f.file, f.line, f.tool, f.message))


def summarize(findings: Sequence[Finding]) -> Dict[str, int]:
    counts = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return counts
