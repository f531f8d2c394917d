# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``pipeline`` target: a CI/CD pipeline for GitHub Actions, GitLab CI,
Jenkins, CircleCI or Azure DevOps.

Every system gets the same plan (``pipelines_plan.build_plan``): lint -> test
(coverage report) -> security scan (language scanner, dependency audit, checkov
on ``terraform/`` when it exists) -> build the image tagged with the commit SHA
(pushed on the main branch only) -> deploy each pre-production environment with
its strategy -> approval -> production with the chosen strategy (blue-green:
idle, smoke test, switch; canary: one job per step with a hold and a health and
metric gate, then promote; rolling) -> automatic rollback when a production job
fails.  Deployments call the scripts of the deployment interface
(``scripts/deploy.sh``, ``scripts/health-check.sh``, ``scripts/rollback.sh``).

Every pipeline also gets a scheduled drift check (daily, or the schedule the documents
give): ``ansible-playbook sdd.devops_flow.drift`` for each deployed environment, with that
environment's cloud credentials, and nothing else on a scheduled run (GitHub Actions: a
workflow of its own, ``.github/workflows/drift.yml``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict, Tuple

from ..errors import UsageError
from ..fileset import FileSet, GeneratedFile
from ..model import Model
from .pipelines_azure import render as render_azure
from .pipelines_circleci import render as render_circleci
from .pipelines_github import render as render_github
from .pipelines_github import render_drift as render_github_drift
from .pipelines_gitlab import render as render_gitlab
from .pipelines_jenkins import render as render_jenkins
from .pipelines_plan import Plan, build_plan

if TYPE_CHECKING:  # pragma: no cover
    from ..generate import Options

#: system -> (renderer, artifact kind, comment style)
SYSTEMS: Dict[str, Tuple[Callable[[Plan], Tuple[str, str]], str, str]] = {
    "github-actions": (render_github, "github-actions", "hash"),
    "gitlab-ci": (render_gitlab, "gitlab-ci", "hash"),
    "jenkins": (render_jenkins, "jenkinsfile", "slash"),
    "circleci": (render_circleci, "circleci", "hash"),
    "azure-devops": (render_azure, "azure-pipelines", "hash"),
}
#: systems whose scheduled drift check is a file of its own (the others hold it in the pipeline file)
SEPARATE_DRIFT: Dict[str, Callable[[Plan], Tuple[str, str]]] = {"github-actions": render_github_drift}


def render_pipeline(model: Model, options: Options) -> FileSet:
    """The pipeline file of the chosen system (``options.pipeline``, default GitHub Actions)."""
    system = options.pipeline or "github-actions"
    if system not in SYSTEMS:
        raise UsageError("unknown pipeline type %r; expected one of %s" % (system, ", ".join(SYSTEMS)))
    renderer, kind, comment = SYSTEMS[system]
    plan = build_plan(model, options)
    path, content = renderer(plan)
    files = FileSet()
    files.add(GeneratedFile(path, content, kind, plan.fields, comment))
    if system in SEPARATE_DRIFT:
        drift_path, drift_content = SEPARATE_DRIFT[system](plan)
        files.add(GeneratedFile(drift_path, drift_content, kind, plan.fields, comment))
    return files
