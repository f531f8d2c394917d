# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generation targets: which renderer makes which files, and running one.

The CLI (``devops-flow generate-*``) and the action plugin
(``sdd.devops_flow.generate``) both call ``render`` and ``run`` with the same
``Options`` built from the same argument spec (``GENERATE_OPTIONS``), so they
produce the same bytes for the same inputs.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, fields
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from .errors import UsageError
from .fileset import FileSet
from .model import Model
from .writer import Validate, WriteReport, write

IAC_CHOICES = ("terraform", "cloudformation", "pulumi")
PIPELINE_TYPES = ("github-actions", "gitlab-ci", "jenkins", "circleci", "azure-devops")
LANGUAGES = ("python", "node", "go", "java")
DEPLOY_STRATEGIES = ("blue-green", "canary", "rolling")

#: The generation options shared by the action plugin and the CLI (Ansible-style spec;
#: ``cli`` is the argparse help, ``targets`` the targets an option applies to).
GENERATE_OPTIONS: Dict[str, Dict[str, Any]] = {
    "output": {"type": "path", "required": True, "cli": "folder to write into (created when missing)"},
    "iac": {
        "type": "str",
        "choices": list(IAC_CHOICES),
        "targets": ("infra", "all"),
        "cli": "infrastructure as code flavour (default: the REQ front matter iac_provider, else terraform)",
    },
    "validate": {
        "type": "bool",
        "default": True,
        "cli": "run the real validator of every generated file before writing (default)",
    },
    "force": {"type": "bool", "default": False, "cli": "overwrite files that were edited by hand (a backup is kept)"},
    "pipeline": {
        "type": "str",
        "choices": list(PIPELINE_TYPES),
        "targets": ("pipeline", "all"),
        "flag": "--type",
        "cli": "CI/CD system (default: github-actions)",
    },
    "language": {
        "type": "str",
        "choices": list(LANGUAGES),
        "targets": ("pipeline", "container", "all"),
        "cli": "language toolchain; overrides the SPEC's implementation.language",
    },
    "deploy_strategy": {
        "type": "str",
        "choices": list(DEPLOY_STRATEGIES),
        "targets": ("pipeline", "all"),
        "cli": "production deployment strategy; overrides the documents' 9.5.2",
    },
    "replicas": {
        "type": "int",
        "targets": ("k8s", "all"),
        "cli": "replicas of the base manifests; overrides the documents",
    },
}


@dataclass(frozen=True)
class Options:
    """What a renderer may be asked for besides the model."""

    target: str
    iac: Optional[str] = None
    cloud: Optional[str] = None
    pipeline: Optional[str] = None
    language: Optional[str] = None
    deploy_strategy: Optional[str] = None
    replicas: Optional[int] = None

    @classmethod
    def from_params(cls, target: str, params: Mapping[str, Any]) -> Options:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in params.items() if k in names and k != "target" and v is not None}
        return cls(target=target, **values)


@dataclass(frozen=True)
class Target:
    name: str
    help: str
    module: str
    function: str

    def renderer(self) -> Callable[[Model, Options], FileSet]:
        module = importlib.import_module("%s.render.%s" % (__package__, self.module))
        return getattr(module, self.function)  # type: ignore[no-any-return]


TARGETS: Dict[str, Target] = {
    "infra": Target(
        "infra",
        "infrastructure as code: Terraform (AWS, GCP, Azure), CloudFormation or Pulumi",
        "infra",
        "render_infra",
    ),
    "pipeline": Target(
        "pipeline",
        "a CI/CD pipeline: GitHub Actions, GitLab CI, Jenkins, CircleCI or Azure DevOps",
        "pipelines",
        "render_pipeline",
    ),
    "container": Target("container", "Dockerfile, .dockerignore and compose.yaml", "container", "render_container"),
    "k8s": Target(
        "k8s",
        "Kubernetes manifests, strategy manifests, Kustomize overlays and a Helm chart",
        "kubernetes",
        "render_k8s",
    ),
    "scripts": Target(
        "scripts",
        "deployment scripts (REQ 9.5.3): setup, install, deploy, rollback, health-check, cleanup",
        "scripts",
        "render_scripts",
    ),
    "playbooks": Target(
        "playbooks",
        "Ansible playbooks (REQ 9.5.4), inventory, group_vars per environment, ansible.cfg, requirements.yml",
        "playbooks",
        "render_playbooks",
    ),
    "monitoring": Target(
        "monitoring",
        "Prometheus, alert rules with unit tests, Alertmanager, a Grafana dashboard, an OpenTelemetry Collector",
        "monitoring",
        "render_monitoring",
    ),
    "docs": Target("docs", "a runbook and a traceability matrix with Mermaid diagrams", "docs", "render_docs"),
    "all": Target("all", "every family above in one tree, validated in one pass", "everything", "render_all"),
}

#: Subcommand name of each target in the CLI.
COMMAND_NAMES: Dict[str, str] = {
    "infra": "generate-infra",
    "pipeline": "generate-pipeline",
    "container": "generate-container",
    "k8s": "generate-k8s",
    "scripts": "generate-deployment-scripts",
    "playbooks": "generate-ansible-playbooks",
    "monitoring": "generate-monitoring",
    "docs": "generate-docs",
    "all": "generate-all",
}

#: Targets that can run from flags alone, without documents.
WITHOUT_DOCUMENTS = ("pipeline",)


def document_names(model: Model) -> Tuple[str, ...]:
    """The documents a model was read from, by file name (stable across folders)."""
    return tuple(os.path.basename(d.path) for d in model.traceability.documents if d.path)


def version() -> str:
    from .cli import version as cli_version

    return cli_version()


def render(model: Model, options: Options) -> FileSet:
    """The finished files of a target (with managed headers): pure, no disk access."""
    target = TARGETS.get(options.target)
    if target is None:
        raise UsageError("unknown target %r; expected one of %s" % (options.target, ", ".join(TARGETS)))
    files = target.renderer()(model, options)
    return files.finalize("generate %s" % options.target, version(), document_names(model), model.req_id)


def run(
    model: Model, options: Options, output: str, validate: bool = True, force: bool = False, check_mode: bool = False
) -> WriteReport:
    """Render, validate and write (or, in check mode, only plan and validate)."""
    files = render(model, options)
    validator: Optional[Validate] = None
    if validate:
        # the validators (subprocesses, a thread pool) are imported only when they run
        from .validators.registry import validate_files as validator
    return write(files, output, force=force, check_mode=check_mode, validate=validator, scope=options.target)


def model_from_flags(name: str, language: Optional[str], strategy: Optional[str]) -> Model:
    """A model for a generator run without documents: the flags decide.

    The service is called ``name``; environments are dev (manual), staging
    (rolling) and prod (the given strategy, else rolling).
    """
    from .model import Environment, Service

    prod = strategy or "rolling"
    return Model(
        service=Service(name=name, title=name, language=language, ports=(8080,)),
        environments=(
            Environment("dev", "Development", "manual", None, 1),
            Environment("staging", "Staging", "rolling", 300, 2),
            Environment("prod", "Production", prod, 300, 3),
        ),
    )
