# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure DevOps: ``azure-pipelines.yml``.

CI jobs run in the toolchain's container with ``Cache@2`` keyed on the lock
files and publish ``PublishTestResults@2`` / ``PublishCodeCoverageResults@2``;
the image is built with ``Docker@2`` and pushed on the main branch only.
Cloud access goes through workload identity federation service connections
(``AzureCLI@2``; for AWS and Google Cloud its federated token is exchanged with
AWS STS or Google's workload identity pool), named by the pipeline variables
the header lists.  Deployments are deployment jobs on
environments (approvals and checks configured there), with
``lockBehavior: sequential``, a ``ManualValidation@1`` approval before
production and a rollback job that runs when a production job failed.

``schedules`` (with ``always: true``) starts the scheduled drift check: the drift
stage runs only when ``Build.Reason`` is ``Schedule`` and every other stage only when
it is not.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from .pipelines_github import iac_lines
from .pipelines_plan import CHECKOV_PYTHON, DIGEST_REASON, DRIFT_PYTHON, MAIN_BRANCH, DriftJob, Job, Plan, Stage
from .pipelines_shell import deploy_lines, drift_lines, image_lines, oidc_login, registry_login, strict
from .pipelines_yaml import add_comments, annotate, dump, script

PATH = "azure-pipelines.yml"
SCHEDULED = "eq(variables['Build.Reason'], 'Schedule')"
NOT_SCHEDULED = "ne(variables['Build.Reason'], 'Schedule')"
ON_MAIN = "and(succeeded(), eq(variables['Build.SourceBranch'], 'refs/heads/%s'))" % MAIN_BRANCH
#: the condition of the stages that deploy: the main branch, not a scheduled run
DEPLOY_CONDITION = "and(succeeded(), eq(variables['Build.SourceBranch'], 'refs/heads/%s'), %s)" % (
    MAIN_BRANCH,
    NOT_SCHEDULED,
)
#: pipeline variable holding the service connection name, per cloud
CONNECTIONS = {
    "aws": "AWS_FEDERATION_SERVICE_CONNECTION",
    "gcp": "GCP_FEDERATION_SERVICE_CONNECTION",
    "azure": "AZURE_SERVICE_CONNECTION",
    "none": "REGISTRY_SERVICE_CONNECTION",
}


def _bash(name: str, lines: List[str], condition: str = "") -> Dict[str, Any]:
    step: Dict[str, Any] = {"script": script(strict(lines)), "displayName": name}
    if condition:
        step["condition"] = condition
    return step


def _connection(plan: Plan) -> str:
    return "${{ variables.%s }}" % CONNECTIONS[plan.cloud.key]


def _cloud_step(plan: Plan, name: str, lines: List[str], condition: str = "") -> Dict[str, Any]:
    """A step that runs ``lines`` logged in to the cloud through the service connection."""
    key = plan.cloud.key
    step: Dict[str, Any]
    if key in ("aws", "gcp", "azure"):
        inputs: Dict[str, Any] = {
            "azureSubscription": _connection(plan),
            "scriptType": "bash",
            "scriptLocation": "inlineScript",
        }
        if key == "azure":
            body = lines
        else:
            # the service connection's federated token, exchanged with AWS STS or Google's workload identity pool
            inputs["addSpnToEnvironment"] = True
            body = ['OIDC_TOKEN="$idToken"', *oidc_login(plan), *lines]
        inputs["inlineScript"] = script(strict(body))
        step = {"task": "AzureCLI@2", "displayName": name, "inputs": inputs}
    else:
        step = _bash(name, lines)
    if condition:
        step["condition"] = condition
    return step


def _cache_steps(plan: Plan) -> List[Dict[str, Any]]:
    tools = plan.toolchain
    if not tools.cache_dirs:
        return []
    key_file = "$(Pipeline.Workspace)/cache-key.txt"
    steps: List[Dict[str, Any]] = [
        _bash(
            "Cache key from the lock files",
            ['cat %s > "$PIPELINE_WORKSPACE/cache-key.txt" 2>/dev/null || true' % " ".join(tools.lock_files)],
        )
    ]
    for folder in tools.cache_dirs:
        steps.append(
            {
                "task": "Cache@2",
                "displayName": "Cache %s" % folder,
                "inputs": {
                    "key": '%s | "$(Agent.OS)" | %s | %s' % (tools.key, folder, key_file),
                    "restoreKeys": '%s | "$(Agent.OS)" | %s' % (tools.key, folder),
                    "path": "$(Pipeline.Workspace)/%s" % folder,
                },
            }
        )
    return steps


def _ci_job(plan: Plan, job: Job) -> Dict[str, Any]:
    tools = plan.toolchain
    data: Dict[str, Any] = {"job": job.id, "displayName": job.title, "timeoutInMinutes": str(job.timeout_minutes)}
    if job.kind == "iac":
        data["container"] = "python:%s-slim" % CHECKOV_PYTHON
        data["steps"] = [{"checkout": "self"}, _bash(job.title, iac_lines())]
        return data
    data["container"] = tools.image
    steps: List[Dict[str, Any]] = [{"checkout": "self"}, *_cache_steps(plan)]
    if tools.install:
        steps.append(_bash("Install dependencies", list(tools.install)))
    if job.kind == "lint":
        steps.append(_bash(job.title, list(tools.lint)))
    elif job.kind == "test":
        steps.append(_bash(job.title, list(tools.test)))
        if tools.results:
            steps.append(
                {
                    "task": "PublishTestResults@2",
                    "displayName": "Publish test results",
                    "condition": "succeededOrFailed()",
                    "inputs": {
                        "testResultsFormat": "JUnit" if tools.results.format == "junit" else "VSTest",
                        "testResultsFiles": tools.results.path,
                        "failTaskOnMissingResultsFile": False,
                    },
                }
            )
        # @1: the Azure Pipelines schema that validates this file has no definition of @2 yet
        steps.append(
            {
                "task": "PublishCodeCoverageResults@1",
                "displayName": "Publish coverage",
                "condition": "succeededOrFailed()",
                "inputs": {
                    "codeCoverageTool": "JaCoCo" if tools.coverage.format == "jacoco" else "Cobertura",
                    "summaryFileLocation": tools.coverage.path,
                    "failIfCoverageEmpty": False,
                },
            }
        )
    else:
        step = _bash(job.title, list(tools.sast) + list(tools.audit) or ['echo "no scanner for this toolchain"'])
        if tools.secrets:
            step["env"] = {name: "$(%s)" % name for name in tools.secrets}
        steps.append(step)
    data["steps"] = steps
    return data


def _build_job(plan: Plan, job: Job) -> Dict[str, Any]:
    lines = image_lines(plan) + [
        'echo "##vso[task.setvariable variable=IMAGE_REPOSITORY]${IMAGE}"',
        'echo "##vso[task.setvariable variable=IMAGE_REF]${IMAGE_REF}"',
    ]
    push = ['docker push "$IMAGE_REF"']
    steps: List[Dict[str, Any]] = [
        {"checkout": "self"},
        _bash("Image reference (tagged with the commit SHA)", lines),
        {
            "task": "Docker@2",
            "displayName": "Build the image",
            "inputs": {
                "command": "build",
                "repository": "$(IMAGE_REPOSITORY)",
                "tags": "$(Build.SourceVersion)",
                "Dockerfile": "Dockerfile",
                "buildContext": ".",
            },
        },
    ]
    if plan.cloud.key == "none":
        steps.append(
            {
                "task": "Docker@2",
                "displayName": "Log in to the container registry",
                "condition": ON_MAIN,
                "inputs": {"command": "login", "containerRegistry": _connection(plan)},
            }
        )
        steps.append(_bash("Push the image", push, ON_MAIN))
    else:
        steps.append(_cloud_step(plan, "Push the image", registry_login(plan) + push, ON_MAIN))
    return {"job": job.id, "displayName": job.title, "timeoutInMinutes": str(job.timeout_minutes), "steps": steps}


def _deploy_job(plan: Plan, job: Job, siblings: List[str]) -> Dict[str, Any]:
    env = job.env.name if job.env else plan.production.name
    if job.kind == "approval":
        return {
            "job": job.id,
            "displayName": job.title,
            "dependsOn": [],
            "pool": "server",
            "timeoutInMinutes": str(job.timeout_minutes),
            "steps": [
                {
                    "task": "ManualValidation@1",
                    "displayName": job.title,
                    "timeoutInMinutes": job.timeout_minutes - 10,
                    "inputs": {
                        "notifyUsers": "$(RELEASE_APPROVERS)",
                        "approvers": "$(RELEASE_APPROVERS)",
                        "instructions": "Approve the deployment of %s to %s." % (plan.service, env),
                        "onTimeout": "reject",
                    },
                }
            ],
        }
    steps: List[Dict[str, Any]] = [{"checkout": "self"}]
    if job.kind == "rollback":
        steps.append(_cloud_step(plan, job.title, deploy_lines(job)))
    else:
        steps.append(_cloud_step(plan, job.title, image_lines(plan) + list(job.commands)))
        if job.hold_seconds:
            steps.append(_bash("Hold %d s" % job.hold_seconds, ["sleep %d" % job.hold_seconds]))
            steps.append(_cloud_step(plan, "Health and metric gate", list(job.after_hold)))
    data: Dict[str, Any] = {"deployment": job.id, "displayName": job.title}
    # jobs of other stages are ordered by the stages themselves
    data["dependsOn"] = [n for n in job.needs if n in siblings]
    if job.kind == "rollback":
        data["condition"] = (
            "or(%s)" % ", ".join("eq(dependencies.%s.result, 'Failed')" % n for n in job.needs)
            if len(job.needs) > 1
            else "eq(dependencies.%s.result, 'Failed')" % job.needs[0]
        )
    # the schema of deployment jobs types it as a string (it may be an expression)
    data["timeoutInMinutes"] = str(job.timeout_minutes)
    data["environment"] = env
    data["strategy"] = {"runOnce": {"deploy": {"steps": steps}}}
    return data


def _stage(plan: Plan, stage: Stage, previous: str) -> Dict[str, Any]:
    kinds = {job.kind for job in stage.jobs}
    siblings = [job.id for job in stage.jobs] + [plan.rollback.id]
    jobs: List[Dict[str, Any]] = []
    for job in stage.jobs:
        if job.kind in ("lint", "test", "security", "iac"):
            jobs.append(_ci_job(plan, job))
        elif job.kind == "build":
            jobs.append(_build_job(plan, job))
        else:
            jobs.append(_deploy_job(plan, job, siblings))
    if kinds & {"approval"}:
        jobs.append(_deploy_job(plan, plan.rollback, siblings))
    data: Dict[str, Any] = {"stage": stage.id, "displayName": stage.title}
    if previous:
        data["dependsOn"] = previous
    if kinds & {"deploy", "approval"}:
        data["condition"] = DEPLOY_CONDITION
        data["lockBehavior"] = "sequential"
    else:
        data["condition"] = "and(succeeded(), %s)" % NOT_SCHEDULED if previous else NOT_SCHEDULED
    data["jobs"] = jobs
    return data


def _drift_job(plan: Plan, job: DriftJob) -> Dict[str, Any]:
    lines = drift_lines(plan, job)
    if plan.cloud.key == "gcp":
        lines = [
            'export GOOGLE_APPLICATION_CREDENTIALS="$GCP_CRED_FILE" GOOGLE_CLOUD_PROJECT="$GCP_PROJECT_ID"',
            *lines,
        ]
    elif plan.cloud.key == "azure":
        lines = [
            'AZURE_SUBSCRIPTION_ID="$(az account show --query id --output tsv)"',
            "export AZURE_SUBSCRIPTION_ID",
            *lines,
        ]
    return {
        "job": job.id,
        "displayName": job.title,
        "timeoutInMinutes": "30",
        "steps": [
            {"checkout": "self"},
            {
                "task": "UsePythonVersion@0",
                "displayName": "Python %s" % DRIFT_PYTHON,
                "inputs": {"versionSpec": DRIFT_PYTHON},
            },
            _cloud_step(plan, job.title, lines),
        ],
    }


def _drift_stage(plan: Plan) -> Dict[str, Any]:
    return {
        "stage": "drift",
        "displayName": "Scheduled drift check",
        "dependsOn": [],
        "condition": SCHEDULED,
        "jobs": [_drift_job(plan, job) for job in plan.drift.jobs],
    }


def render(plan: Plan) -> Tuple[str, str]:
    variables: Dict[str, str] = {"SERVICE_NAME": plan.service, "READINESS_PATH": plan.readiness_path}
    if plan.cloud.region_var:
        variables[plan.cloud.region_var] = plan.cloud.region
    variables[CONNECTIONS[plan.cloud.key]] = "%s-%s" % (
        {"aws": "aws-oidc", "gcp": "gcp-federation", "azure": "azure-wif", "none": "registry"}[plan.cloud.key],
        plan.service,
    )
    # a group of the project (or e-mail addresses); the ManualValidation task notifies and waits for them
    variables["RELEASE_APPROVERS"] = "[$(System.TeamProject)]\\Release Approvers"
    variables["DRIFT_REQ"] = plan.drift.req_path
    variables.update(plan.toolchain.env("$(Pipeline.Workspace)"))
    stages: List[Dict[str, Any]] = []
    previous = ""
    for stage in plan.stages:
        if stage.id == "rollback":
            continue
        stages.append(_stage(plan, stage, previous))
        previous = stage.id
    if plan.drift.jobs:
        stages.append(_drift_stage(plan))
    data: Dict[str, Any] = {
        # the drift check runs on this schedule whether or not the branch changed (always: true)
        "schedules": [
            {
                "cron": plan.drift.schedule,
                "displayName": "Drift check",
                "branches": {"include": [MAIN_BRANCH]},
                # the schema that validates this file types it as a string (Azure reads "true")
                "always": "true",
            }
        ],
        "trigger": {"branches": {"include": [MAIN_BRANCH]}},
        "pr": {"branches": {"include": [MAIN_BRANCH]}},
        "variables": variables,
        "pool": {"vmImage": "ubuntu-latest"},
        "stages": stages,
    }
    text = annotate(dump(data), r"^\s+container: ", "checkov:skip=CKV_AZUREPIPELINES_2:" + DIGEST_REASON)
    names = [name for name in plan.cloud.names if not name.startswith("AZURE_")]
    header = [
        "CI/CD for %s: pull requests run lint, test, scans and the build; %s also pushes and deploys."
        % (plan.service, MAIN_BRANCH),
        "Cloud: %s through the workload identity service connection named by %s;"
        " approvals and checks on the %s environment."
        % (plan.cloud.label, CONNECTIONS[plan.cloud.key], plan.production.name),
        "Pipeline variables to define: %s." % (", ".join(names) or "none"),
        "Add an Exclusive Lock check to every environment (lockBehavior: sequential relies on it)"
        " and create the Release Approvers group.",
        "Scheduled drift check: %s (UTC, %s); a scheduled run (Build.Reason Schedule) runs only the drift stage."
        % (plan.drift.schedule, plan.drift.schedule_source or "the default, daily"),
        *plan.notes,
    ]
    anchors = []
    for job in plan.jobs:
        word = "job" if job.kind in ("lint", "test", "security", "iac", "build", "approval") else "deployment"
        anchors.append(("      - %s: %s" % (word, job.id), job.source))
    return PATH, add_comments(text, anchors, header)
