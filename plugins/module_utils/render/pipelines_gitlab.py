# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GitLab CI: ``.gitlab-ci.yml``.

Merge request pipelines run lint, test, scans and the image build (no push);
the default branch also pushes and deploys.  Caches are keyed on the lock
file, reports are published as JUnit and Cobertura/JaCoCo artifacts, cloud
access uses ``id_tokens`` (OIDC), deployments are serialised per environment
with ``resource_group`` and production waits for a manual approval job.

A pipeline schedule (CI/CD > Schedules) runs only the drift jobs: every other job has
a first rule ``when: never`` for ``$CI_PIPELINE_SOURCE == "schedule"``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from .pipelines_github import iac_lines
from .pipelines_plan import CHECKOV_PYTHON, DOCKER_DIND, DOCKER_IMAGE, DRIFT_PYTHON, MAIN_BRANCH, DriftJob, Job, Plan
from .pipelines_shell import (
    containerized_registry_login,
    deploy_lines,
    drift_lines,
    image_lines,
    oidc_login,
    sdk_federation,
)
from .pipelines_yaml import add_comments, dump, script

PATH = ".gitlab-ci.yml"
ON_DEFAULT = "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"
ON_SCHEDULE = '$CI_PIPELINE_SOURCE == "schedule"'
#: the first rule of every job that is not a drift job: never in a scheduled pipeline
NOT_SCHEDULED = {"if": ON_SCHEDULE, "when": "never"}
#: audience of the OIDC token per cloud
AUDIENCES = {"aws": "sts.amazonaws.com", "gcp": "$CI_SERVER_URL", "azure": "api://AzureADTokenExchange"}


def _uses_gitlab_registry(plan: Plan) -> bool:
    return plan.cloud.key == "none" and plan.cloud.registry == "${REGISTRY}"


def _image_lines(plan: Plan) -> List[str]:
    if _uses_gitlab_registry(plan):
        return ['REGISTRY="$CI_REGISTRY"', 'IMAGE="$CI_REGISTRY_IMAGE"', 'IMAGE_REF="${IMAGE}:${CI_COMMIT_SHA}"']
    return image_lines(plan)


def _registry_login(plan: Plan) -> List[str]:
    if _uses_gitlab_registry(plan):
        return [
            'printf "%s\\n" "$CI_REGISTRY_PASSWORD"'
            ' | docker login --username "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"'
        ]
    return containerized_registry_login(plan)


def _id_tokens(plan: Plan) -> Dict[str, Any]:
    if plan.cloud.key not in AUDIENCES:
        return {}
    return {"id_tokens": {"OIDC_TOKEN": {"aud": AUDIENCES[plan.cloud.key]}}}


def _tier(job: Job) -> str:
    if job.env is None:
        return "other"
    if job.env.production:
        return "production"
    if job.env.name in ("staging", "dev", "test", "qa"):
        return {"dev": "development", "qa": "testing", "test": "testing"}.get(job.env.name, job.env.name)
    return "staging"


def _ci_jobs(plan: Plan) -> Dict[str, Any]:
    tools = plan.toolchain
    jobs: Dict[str, Any] = {}
    for job in plan.jobs:
        if job.kind not in ("lint", "test", "security", "iac"):
            continue
        data: Dict[str, Any] = {"stage": job.stage, "rules": [NOT_SCHEDULED, {"when": "on_success"}]}
        if job.kind == "iac":
            data["image"] = "python:%s-slim" % CHECKOV_PYTHON
            data["needs"] = list(job.needs)
            data["timeout"] = "%d minutes" % job.timeout_minutes
            data["script"] = [script(iac_lines())]
            jobs[job.id] = data
            continue
        data["extends"] = ".toolchain"
        data["needs"] = list(job.needs)
        data["timeout"] = "%d minutes" % job.timeout_minutes
        if job.kind == "lint":
            data["script"] = list(tools.lint)
        elif job.kind == "test":
            data["script"] = list(tools.test)
            if tools.coverage_regex:
                data["coverage"] = tools.coverage_regex
            reports: Dict[str, Any] = {}
            if tools.results and tools.results.format == "junit":
                reports["junit"] = tools.results.path
            reports["coverage_report"] = {"coverage_format": tools.coverage.format, "path": tools.coverage.path}
            paths = [tools.coverage.path] + ([tools.results.path] if tools.results else [])
            data["artifacts"] = {"when": "always", "expire_in": "2 weeks", "paths": paths, "reports": reports}
        else:
            data["script"] = list(tools.sast) + list(tools.audit) or ['echo "no scanner for this toolchain"']
        jobs[job.id] = data
    return jobs


def _template(plan: Plan) -> Dict[str, Any]:
    tools = plan.toolchain
    data: Dict[str, Any] = {"image": tools.image}
    if tools.cache_dirs:
        data["cache"] = {
            "key": {"files": list(tools.lock_files[:2]), "prefix": tools.key},
            "paths": list(tools.cache_dirs),
        }
    if tools.install:
        data["before_script"] = list(tools.install)
    return data


def _build_job(plan: Plan, job: Job) -> Dict[str, Any]:
    lines = _image_lines(plan) + [
        'docker build --pull --tag "$IMAGE_REF" .',
        'if [ "$CI_COMMIT_BRANCH" = "$CI_DEFAULT_BRANCH" ]; then',
        *["  " + line for line in _registry_login(plan)],
        '  docker push "$IMAGE_REF"',
        "fi",
    ]
    data: Dict[str, Any] = {
        "stage": job.stage,
        "image": DOCKER_IMAGE,
        "services": [DOCKER_DIND],
        "variables": {"DOCKER_TLS_CERTDIR": "/certs"},
        "needs": list(job.needs),
        "rules": [NOT_SCHEDULED, {"when": "on_success"}],
        "timeout": "%d minutes" % job.timeout_minutes,
    }
    data.update(_id_tokens(plan))
    data["script"] = [script(lines)]
    return data


def _deploy_job(plan: Plan, job: Job) -> Dict[str, Any]:
    env = job.env.name if job.env else plan.production.name
    data: Dict[str, Any] = {"stage": job.stage}
    if job.kind == "approval":
        data["image"] = DOCKER_IMAGE
        data["needs"] = list(job.needs)
        data["rules"] = [NOT_SCHEDULED, {"if": ON_DEFAULT, "when": "manual"}]
        data["allow_failure"] = False
        data["script"] = ['echo "%s approved for %s"' % (plan.service, env)]
        return data
    data["image"] = {"name": plan.cloud.cli_image, "entrypoint": [""]}
    data["needs"] = list(job.needs)
    data["rules"] = [
        NOT_SCHEDULED,
        {"if": ON_DEFAULT, "when": "on_failure" if job.kind == "rollback" else "on_success"},
    ]
    data["interruptible"] = False
    data["timeout"] = "%d minutes" % job.timeout_minutes
    data["environment"] = {"name": env, "deployment_tier": _tier(job)}
    data["resource_group"] = "deploy-%s-%s" % (plan.service, env)
    data.update(_id_tokens(plan))
    lines = oidc_login(plan)
    if job.kind == "deploy":
        lines += _image_lines(plan)
    lines += deploy_lines(job)
    data["script"] = [script(lines)]
    return data


def _drift_job(plan: Plan, job: DriftJob) -> Dict[str, Any]:
    data: Dict[str, Any] = {
        "stage": "drift",
        "image": "python:%s-slim" % DRIFT_PYTHON,
        "needs": [],
        "rules": [{"if": ON_SCHEDULE}],
        "interruptible": False,
        "timeout": "30 minutes",
        # the environment's protected variables, without recording a deployment
        "environment": {"name": job.env.name, "action": "verify"},
    }
    data.update(_id_tokens(plan))
    data["script"] = [script(sdk_federation(plan) + drift_lines(plan, job))]
    return data


def render(plan: Plan) -> Tuple[str, str]:
    tools = plan.toolchain
    variables: Dict[str, str] = {"SERVICE_NAME": plan.service, "READINESS_PATH": plan.readiness_path}
    if plan.cloud.region_var:
        variables[plan.cloud.region_var] = plan.cloud.region
    variables["DRIFT_REQ"] = plan.drift.req_path
    variables.update(tools.env("$CI_PROJECT_DIR"))
    data: Dict[str, Any] = {
        "workflow": {
            "rules": [
                {"if": ON_SCHEDULE},
                {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'},
                {"if": "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "when": "never"},
                {"if": ON_DEFAULT},
            ]
        },
        "stages": [stage.id for stage in plan.stages] + ["drift"],
        "default": {"interruptible": True},
        "variables": variables,
        ".toolchain": _template(plan),
    }
    data.update(_ci_jobs(plan))
    for job in plan.jobs:
        if job.kind == "build":
            data[job.id] = _build_job(plan, job)
        elif job.kind in ("approval", "deploy", "rollback"):
            data[job.id] = _deploy_job(plan, job)
    for drift_job in plan.drift.jobs:
        data[drift_job.id] = _drift_job(plan, drift_job)
    text = dump(data)
    header = [
        "CI/CD for %s: merge requests run lint, test, scans and the build; %s also pushes and deploys."
        % (plan.service, MAIN_BRANCH),
        "Cloud: %s via id_tokens (CI/CD variables: %s)."
        % (
            plan.cloud.label,
            "none, the image goes to the project's container registry"
            if _uses_gitlab_registry(plan)
            else ", ".join(plan.cloud.names),
        ),
        "Protect the %s environment (approvals) and mark its variables protected." % plan.production.name,
        "Scheduled drift check: create a pipeline schedule under CI/CD > Schedules on %s with the cron %s"
        " (UTC, %s); a scheduled pipeline runs only the drift jobs (%s), which fail on drift."
        % (
            MAIN_BRANCH,
            plan.drift.schedule,
            plan.drift.schedule_source or "the default, daily",
            ", ".join(job.id for job in plan.drift.jobs),
        ),
        *plan.notes,
    ]
    return PATH, add_comments(text, [("%s:" % job.id, job.source) for job in plan.jobs], header)
