# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CircleCI: ``.circleci/config.yml``.

Dependency caches with ``restore_cache`` / ``save_cache`` keyed on the lock
files, test results with ``store_test_results``, cloud access through the cloud
CLI orbs (pinned) with CircleCI's OIDC token (jobs that use a context get one),
deployments serialised per environment with ``serial-group``, production
behind an approval job and a restricted context, and a rollback job that runs
when a production job fails (``requires`` with job statuses).  CircleCI has no
job timeout: every step has a ``no_output_timeout``.

The scheduled drift check is a workflow of its own that runs only for a scheduled
pipeline (``pipeline.trigger_source`` is ``scheduled_pipeline``); the CI/CD workflow
runs for every other trigger.  Each drift job uses its environment's context.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from .pipelines_github import iac_lines
from .pipelines_plan import (
    CHECKOV_PYTHON,
    CIRCLECI_BASE,
    DIGEST_REASON,
    DRIFT_PYTHON,
    MAIN_BRANCH,
    ORBS,
    DriftJob,
    Job,
    Plan,
)
from .pipelines_shell import deploy_lines, drift_lines, image_lines, registry_login, sdk_federation
from .pipelines_yaml import add_comments, annotate, dump, script

PATH = ".circleci/config.yml"
ON_MAIN = {"equal": [MAIN_BRANCH, "<< pipeline.git.branch >>"]}
SCHEDULED = {"equal": ["scheduled_pipeline", "<< pipeline.trigger_source >>"]}
#: written into the checkout folder: ``checksum`` keys the cache on it
CACHE_KEY_FILE = ".ci-cache-key"


def _run(name: str, lines: List[str], minutes: int) -> Dict[str, Any]:
    return {"run": {"name": name, "command": script(lines), "no_output_timeout": "%dm" % minutes}}


def _exports(plan: Plan) -> List[str]:
    return ['export %s="%s"' % (name, value) for name, value in plan.toolchain.env("$PWD")]


def _cache_steps(plan: Plan, minutes: int) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    tools = plan.toolchain
    if not tools.cache_dirs:
        return [], []
    key = '%s-v1-{{ arch }}-{{ checksum "%s" }}' % (tools.key, CACHE_KEY_FILE)
    files = " ".join(tools.lock_files)
    before = [
        _run(
            "Cache key from the lock files",
            ["cat %s > %s 2>/dev/null || true" % (files, CACHE_KEY_FILE)],
            minutes,
        ),
        {"restore_cache": {"keys": [key, "%s-v1-{{ arch }}-" % tools.key]}},
    ]
    after = [{"save_cache": {"key": key, "paths": list(tools.cache_dirs)}}]
    return before, after


def _ci_job(plan: Plan, job: Job) -> Dict[str, Any]:
    tools = plan.toolchain
    minutes = job.timeout_minutes
    if job.kind == "iac":
        return {
            "docker": [{"image": "cimg/python:%s" % CHECKOV_PYTHON}],
            "resource_class": "medium",
            "steps": ["checkout", _run(job.title, iac_lines(), minutes)],
        }
    before, after = _cache_steps(plan, minutes)
    steps: List[Any] = ["checkout", *before]
    prelude = _exports(plan) + list(tools.install)
    if job.kind == "lint":
        steps.append(_run(job.title, prelude + list(tools.lint), minutes))
    elif job.kind == "test":
        steps.append(_run(job.title, prelude + list(tools.test), minutes))
    else:
        steps.append(_run(job.title, prelude + list(tools.sast) + list(tools.audit) or ['echo "no scanner"'], minutes))
    steps += after
    if job.kind == "test":
        if tools.results and tools.results.format == "junit":
            folder = tools.results.path.rsplit("/", 1)[0]
            steps.append({"store_test_results": {"path": folder}})
        steps.append({"store_artifacts": {"path": tools.coverage.path.split("/*")[0].rsplit("/", 1)[0]}})
    return {"docker": [{"image": tools.circleci_image}], "resource_class": "medium", "steps": steps}


def _orb_login(plan: Plan) -> List[Any]:
    key = plan.cloud.key
    if key == "aws":
        return [{"aws-cli/setup": {"region": "${AWS_REGION}", "role_session_name": "ci-%s" % plan.service}}]
    if key == "gcp":
        return [
            {
                "gcp-cli/setup": {
                    "use_oidc": True,
                    "google_project_id": "GCP_PROJECT_ID",
                    "service_account_email": "GCP_SERVICE_ACCOUNT",
                }
            }
        ]
    if key == "azure":
        return [
            "azure-cli/install",
            {"azure-cli/login-with-oidc": {"azure-sp": "AZURE_CLIENT_ID", "azure-sp-tenant": "AZURE_TENANT_ID"}},
            {
                "run": {
                    "name": "Select the subscription",
                    "command": 'az account set --subscription "$AZURE_SUBSCRIPTION_ID"',
                }
            },
        ]
    return []


def _build_job(plan: Plan, job: Job) -> Dict[str, Any]:
    minutes = job.timeout_minutes
    steps: List[Any] = [
        "checkout",
        "setup_remote_docker",
        _run("Build the image", image_lines(plan) + ['docker build --pull --tag "$IMAGE_REF" .'], minutes),
        {
            "when": {
                "condition": ON_MAIN,
                "steps": [
                    *_orb_login(plan),
                    _run(
                        "Push the image",
                        image_lines(plan) + registry_login(plan) + ['docker push "$IMAGE_REF"'],
                        minutes,
                    ),
                ],
            }
        },
    ]
    return {"docker": [{"image": CIRCLECI_BASE}], "resource_class": "medium", "steps": steps}


def _deploy_job(plan: Plan, job: Job) -> Dict[str, Any]:
    minutes = job.timeout_minutes
    steps: List[Any] = ["checkout", *_orb_login(plan)]
    if job.kind == "rollback":
        steps.append(_run(job.title, deploy_lines(job), minutes))
    else:
        steps.append(_run(job.title, image_lines(plan) + list(job.commands), minutes))
        if job.hold_seconds:
            steps.append(
                _run("Hold %d s" % job.hold_seconds, ["sleep %d" % job.hold_seconds], job.hold_seconds // 60 + 5)
            )
            steps.append(_run("Health and metric gate", list(job.after_hold), minutes))
    return {"docker": [{"image": CIRCLECI_BASE}], "resource_class": "medium", "steps": steps}


def _context(plan: Plan, job: Job) -> str:
    if job.env is None:
        return "%s-build" % plan.service
    return "%s-%s" % (plan.service, job.env.name)


def _workflow(plan: Plan) -> List[Any]:
    items: List[Any] = []
    only_main = {"branches": {"only": [MAIN_BRANCH]}}
    prod_jobs = plan.deploy_jobs(production=True)
    for job in plan.jobs:
        entry: Dict[str, Any] = {}
        if job.kind == "approval":
            entry["type"] = "approval"
        if job.kind == "rollback":
            first, last = prod_jobs[0].id, prod_jobs[-1].id
            entry["requires"] = (
                [{first: ["failed"]}]
                if first == last
                else [{first: ["success", "failed"]}, {last: ["failed", "not_run"]}]
            )
        elif job.needs:
            entry["requires"] = list(job.needs)
        if job.kind in ("build", "deploy", "rollback"):
            entry["context"] = [_context(plan, job)]
        if job.kind in ("deploy", "rollback"):
            entry["serial-group"] = "<< pipeline.project.slug >>/deploy-%s" % (job.env.name if job.env else "")
        if job.kind in ("approval", "deploy", "rollback"):
            entry["filters"] = only_main
        items.append({job.id: entry} if entry else job.id)
    return items


def _drift_job(plan: Plan, job: DriftJob) -> Dict[str, Any]:
    lines = sdk_federation(plan, "CIRCLE_OIDC_TOKEN_V2") + drift_lines(plan, job)
    return {
        "docker": [{"image": "cimg/python:%s" % DRIFT_PYTHON}],
        "resource_class": "medium",
        "steps": ["checkout", _run(job.title, lines, 30)],
    }


def _drift_workflow(plan: Plan) -> List[Any]:
    """Each environment's drift job with that environment's context (its OIDC token and variables)."""
    return [{job.id: {"context": ["%s-%s" % (plan.service, job.env.name)]}} for job in plan.drift.jobs]


def _variables(plan: Plan) -> List[str]:
    """The variables the contexts define (the orbs read their own names)."""
    if plan.cloud.key == "gcp":
        # gcp-cli/setup: GOOGLE_PROJECT_NUMBER, OIDC_WIP_ID and OIDC_WIP_PROVIDER_ID locate the provider
        return ["GOOGLE_PROJECT_NUMBER", "OIDC_WIP_ID", "OIDC_WIP_PROVIDER_ID", "GCP_SERVICE_ACCOUNT", "GCP_PROJECT_ID"]
    names = list(plan.cloud.names)
    if plan.cloud.key == "none":
        names.append("REGISTRY_PASSWORD")
    return names


def render(plan: Plan) -> Tuple[str, str]:
    jobs: Dict[str, Any] = {}
    for job in plan.jobs:
        if job.kind in ("lint", "test", "security", "iac"):
            jobs[job.id] = _ci_job(plan, job)
        elif job.kind == "build":
            jobs[job.id] = _build_job(plan, job)
        elif job.kind in ("deploy", "rollback"):
            jobs[job.id] = _deploy_job(plan, job)
    for drift_job in plan.drift.jobs:
        jobs[drift_job.id] = _drift_job(plan, drift_job)
    environment = {"SERVICE_NAME": plan.service, "READINESS_PATH": plan.readiness_path}
    if plan.cloud.region_var:
        environment[plan.cloud.region_var] = plan.cloud.region
    environment["DRIFT_REQ"] = plan.drift.req_path
    for job_id, job_data in list(jobs.items()):
        steps = job_data.pop("steps")
        jobs[job_id] = dict(job_data, environment=environment, steps=steps)
    data: Dict[str, Any] = {"version": 2.1}
    if plan.cloud.key in ORBS:
        alias, ref = ORBS[plan.cloud.key]
        data["orbs"] = {alias: ref}
    data["jobs"] = jobs
    workflows: Dict[str, Any] = {"ci-cd": {"when": {"not": SCHEDULED}, "jobs": _workflow(plan)}}
    if plan.drift.jobs:
        workflows["drift"] = {"when": SCHEDULED, "jobs": _drift_workflow(plan)}
    data["workflows"] = workflows
    text = annotate(dump(data), r"^\s+- image: ", "checkov:skip=CKV_CIRCLECIPIPELINES_2:" + DIGEST_REASON)
    header = [
        "CI/CD for %s: every branch runs lint, test, scans and the build; %s also pushes and deploys."
        % (plan.service, MAIN_BRANCH),
        "Cloud: %s through its orb with the CircleCI OIDC token; contexts %s-build and %s-<environment>"
        " (restrict %s-%s to the release group)."
        % (plan.cloud.label, plan.service, plan.service, plan.service, plan.production.name),
        "Context variables: %s." % ", ".join(_variables(plan)),
        "Scheduled drift check: create a scheduled trigger (Project Settings > Triggers, or the schedules API) on %s"
        " with the cron %s (UTC, %s); it runs only the drift workflow, which fails on drift."
        % (MAIN_BRANCH, plan.drift.schedule, plan.drift.schedule_source or "the default, daily"),
        *plan.notes,
    ]
    anchors = [("  %s:" % job.id, job.source) for job in plan.jobs if job.kind != "approval"]
    return PATH, add_comments(text, [("jobs:", None), *anchors], header)
