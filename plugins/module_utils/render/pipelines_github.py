# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GitHub Actions: ``.github/workflows/ci-cd.yml`` and the scheduled ``.github/workflows/drift.yml``.

Least privilege (``contents: read`` for the workflow, ``id-token: write`` only on
the jobs that federate to the cloud, ``packages: write`` only where the image
goes to GHCR), OIDC federation instead of cloud keys, one concurrency group per
environment, timeouts on every job, production behind protected environments.
No document value is ever written inside ``${{ }}``: values reach scripts
through ``env`` and are tokens without ``$``, braces or quotes.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from .pipelines_plan import ACTIONS, CHECKOV_PYTHON, CHECKOV_SPEC, DRIFT_PYTHON, MAIN_BRANCH, DriftJob, Job, Plan
from .pipelines_shell import deploy_lines, drift_lines, image_lines, registry_login
from .pipelines_yaml import add_comments, dump, script

PATH = ".github/workflows/ci-cd.yml"
DRIFT_PATH = ".github/workflows/drift.yml"
ON_MAIN = "github.event_name == 'push' && github.ref == 'refs/heads/%s'" % MAIN_BRANCH
ON_PUSH = "github.event_name == 'push'"


def _uses_ghcr(plan: Plan) -> bool:
    return plan.cloud.key == "none" and plan.cloud.registry == "${REGISTRY}"


def _checkout() -> Dict[str, Any]:
    return {"name": "Check out", "uses": ACTIONS["checkout"], "with": {"persist-credentials": False}}


def _setup(plan: Plan) -> List[Dict[str, Any]]:
    tools = plan.toolchain
    action, inputs = tools.github_setup
    steps: List[Dict[str, Any]] = []
    if action:
        steps.append({"name": "Set up %s" % tools.label, "uses": ACTIONS[action], "with": dict(inputs)})
    if tools.github_cache:
        path, pattern = tools.github_cache
        steps.append(
            {
                "name": "Cache dependencies",
                "uses": ACTIONS["cache"],
                "with": {
                    "path": path,
                    "key": "%s-${{ runner.os }}-${{ hashFiles('%s') }}" % (tools.key, pattern),
                    "restore-keys": "%s-${{ runner.os }}-" % tools.key,
                },
            }
        )
    return steps


def _env_block(plan: Plan) -> Dict[str, str]:
    tools = plan.toolchain
    env = {name: value for name, value in tools.cache_env if "{ws}" not in value}
    if tools.key == "java":
        env["MAVEN_ARGS"] = "--batch-mode --no-transfer-progress"
    if tools.key == "dotnet":
        env["NUGET_PACKAGES"] = "${{ github.workspace }}/.nuget/packages"
    return env


def _run(name: str, lines: List[str], env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    step: Dict[str, Any] = {"name": name, "run": script(lines)}
    if env:
        step["env"] = env
    return step


def _cloud_env(plan: Plan) -> Dict[str, str]:
    """Repository variables the registry expression and the login read."""
    if _uses_ghcr(plan):
        return {}
    needed = {
        "aws": ("AWS_ACCOUNT_ID",),
        "gcp": ("GCP_PROJECT_ID",),
        "azure": ("ACR_NAME",),
        "none": ("REGISTRY",),
    }[plan.cloud.key]
    text = plan.cloud.registry + plan.cloud.image_path
    return {name: "${{ vars.%s }}" % name for name in needed if "${%s}" % name in text}


def _cloud_login(plan: Plan) -> List[Dict[str, Any]]:
    key = plan.cloud.key
    if key == "aws":
        return [
            {
                "name": "Configure AWS credentials (OIDC)",
                "uses": ACTIONS["aws-credentials"],
                "with": {
                    "role-to-assume": "${{ vars.AWS_ROLE_ARN }}",
                    "role-session-name": "ci-%s-${{ github.run_id }}" % plan.service,
                    "aws-region": "${{ env.AWS_REGION }}",
                },
            }
        ]
    if key == "gcp":
        return [
            {
                "name": "Authenticate to Google Cloud (workload identity federation)",
                "id": "gcp-auth",
                "uses": ACTIONS["gcp-auth"],
                "with": {
                    "workload_identity_provider": "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}",
                    "service_account": "${{ vars.GCP_SERVICE_ACCOUNT }}",
                    "token_format": "access_token",
                },
            }
        ]
    if key == "azure":
        return [
            {
                "name": "Log in to Azure (federated credential)",
                "uses": ACTIONS["azure-login"],
                "with": {
                    "client-id": "${{ vars.AZURE_CLIENT_ID }}",
                    "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
                    "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
                },
            }
        ]
    return []


def _registry_login(plan: Plan) -> List[Dict[str, Any]]:
    key = plan.cloud.key
    if key == "aws":
        return [{"name": "Log in to Amazon ECR", "uses": ACTIONS["ecr-login"]}]
    if key == "gcp":
        return [
            _run(
                "Log in to Artifact Registry",
                [
                    'printf "%s" "$ACCESS_TOKEN" | docker login --username oauth2accesstoken --password-stdin "https://$REGISTRY"'
                ],
                {"ACCESS_TOKEN": "${{ steps.gcp-auth.outputs.access_token }}"},
            )
        ]
    if key == "azure":
        return [_run("Log in to Azure Container Registry", registry_login(plan))]
    if _uses_ghcr(plan):
        return [
            {
                "name": "Log in to GitHub Container Registry",
                "uses": ACTIONS["login"],
                "with": {
                    "registry": "ghcr.io",
                    "username": "${{ github.actor }}",
                    "password": "${{ secrets.GITHUB_TOKEN }}",
                },
            }
        ]
    return [
        {
            "name": "Log in to the container registry",
            "uses": ACTIONS["login"],
            "with": {
                "registry": plan.cloud.registry,
                "username": "${{ vars.REGISTRY_USER }}",
                "password": "${{ secrets.REGISTRY_PASSWORD }}",
            },
        }
    ]


def _image_lines(plan: Plan) -> List[str]:
    if _uses_ghcr(plan):
        return [
            'REGISTRY="ghcr.io"',
            'OWNER="${GITHUB_REPOSITORY_OWNER,,}"',
            'IMAGE_REF="${REGISTRY}/${OWNER}/%s:${GITHUB_SHA}"' % plan.cloud.image_path,
        ]
    return image_lines(plan)


def _image_step(plan: Plan) -> Dict[str, Any]:
    lines = _image_lines(plan) + [
        'echo "REGISTRY=${REGISTRY}" >> "$GITHUB_ENV"',
        'echo "IMAGE_REF=${IMAGE_REF}" >> "$GITHUB_ENV"',
    ]
    return _run("Image reference (tagged with the commit SHA)", lines, _cloud_env(plan))


def _permissions(plan: Plan, job: Job) -> Dict[str, str]:
    perms = {"contents": "read"}
    if plan.cloud.key != "none" and job.kind in ("build", "deploy", "rollback"):
        perms["id-token"] = "write"
    if job.kind == "build" and _uses_ghcr(plan):
        perms["packages"] = "write"
    return perms


def _ci_job(plan: Plan, job: Job) -> Dict[str, Any]:
    tools = plan.toolchain
    steps: List[Dict[str, Any]] = [_checkout()]
    if job.kind == "iac":
        steps += [
            {"name": "Set up Python", "uses": ACTIONS["setup-python"], "with": {"python-version": CHECKOV_PYTHON}},
            _run("Scan terraform/ with checkov", iac_lines()),
        ]
    else:
        steps += _setup(plan)
        if tools.install:
            steps.append(_run("Install dependencies", list(tools.install)))
        if job.kind == "lint":
            steps.append(_run("Lint", list(tools.lint)))
        elif job.kind == "test":
            steps.append(_run("Test with coverage", list(tools.test)))
            paths = [tools.coverage.path] + ([tools.results.path] if tools.results else [])
            steps.append(
                {
                    "name": "Upload test and coverage reports",
                    "if": "always()",
                    "uses": ACTIONS["upload-artifact"],
                    "with": {
                        "name": "test-reports",
                        "path": "\n".join(paths),
                        "if-no-files-found": "warn",
                        "retention-days": 14,
                    },
                }
            )
        else:
            if tools.sast:
                steps.append(_run("Static security analysis", list(tools.sast)))
            if tools.audit:
                audit_env = {name: "${{ secrets.%s }}" % name for name in tools.secrets}
                steps.append(_run("Dependency audit", list(tools.audit), audit_env or None))
    return _job_common(plan, job, steps)


def iac_lines() -> List[str]:
    return [
        "if [ -d terraform ]; then",
        "  python -m pip install --quiet '%s'" % CHECKOV_SPEC,
        "  checkov --directory terraform --framework terraform --quiet --compact",
        "else",
        '  echo "no terraform/ folder: nothing to scan"',
        "fi",
    ]


def _job_common(plan: Plan, job: Job, steps: List[Dict[str, Any]]) -> Dict[str, Any]:
    data: Dict[str, Any] = {"name": job.title}
    if job.needs:
        data["needs"] = list(job.needs) if len(job.needs) > 1 else job.needs[0]
    data["runs-on"] = "ubuntu-latest"
    data["timeout-minutes"] = job.timeout_minutes
    data["permissions"] = _permissions(plan, job)
    data["steps"] = steps
    return data


def _when(step: Dict[str, Any], condition: str) -> Dict[str, Any]:
    """The step with an ``if`` right after its name."""
    out: Dict[str, Any] = {"name": step["name"], "if": condition}
    out.update((key, value) for key, value in step.items() if key != "name")
    return out


def _build_job(plan: Plan, job: Job) -> Dict[str, Any]:
    login = [_when(step, ON_PUSH) for step in _cloud_login(plan) + _registry_login(plan)]
    steps = [
        _checkout(),
        {"name": "Set up Docker Buildx", "uses": ACTIONS["setup-buildx"]},
        _image_step(plan),
        *login,
        {
            "name": "Build (and push on %s)" % MAIN_BRANCH,
            "uses": ACTIONS["build-push"],
            "with": {
                "context": ".",
                "push": "${{ %s }}" % ON_PUSH,
                "tags": "${{ env.IMAGE_REF }}",
                "cache-from": "type=gha",
                "cache-to": "type=gha,mode=max",
            },
        },
    ]
    return _job_common(plan, job, steps)


def _deploy_job(plan: Plan, job: Job) -> Dict[str, Any]:
    env_name = job.env.name if job.env else plan.production.name
    steps: List[Dict[str, Any]] = [_checkout(), *_cloud_login(plan)]
    if job.kind == "approval":
        steps = [_run("Approved", ['echo "%s approved for %s"' % (plan.service, env_name)])]
    elif job.kind == "rollback":
        steps.append(_run("Roll back and check the live release", deploy_lines(job)))
    else:
        steps.append(_run("Deploy (%s)" % job.phase, [*_image_lines(plan), *job.commands], _cloud_env(plan)))
        if job.hold_seconds:
            steps.append(_run("Hold %d s" % job.hold_seconds, ["sleep %d" % job.hold_seconds]))
            steps.append(_run("Health and metric gate", list(job.after_hold)))
    data = _job_common(plan, job, steps)
    if job.kind == "approval":
        # reviewers are set on this environment; the deploy jobs use the environment itself
        data["environment"] = "%s-approval" % env_name
        data["permissions"] = {"contents": "read"}
    else:
        data["environment"] = {"name": env_name}
        data["concurrency"] = {"group": "deploy-%s-%s" % (plan.service, env_name), "cancel-in-progress": False}
    data["if"] = (
        ON_MAIN
        if job.kind != "rollback"
        else "${{ always() && %s && contains(needs.*.result, 'failure') }}" % (ON_MAIN)
    )
    return _order(data)


def _order(data: Dict[str, Any]) -> Dict[str, Any]:
    order = ("name", "needs", "if", "runs-on", "timeout-minutes", "environment", "concurrency", "permissions", "steps")
    return {key: data[key] for key in order if key in data}


def render(plan: Plan) -> Tuple[str, str]:
    """(path, content) of the workflow."""
    jobs: Dict[str, Any] = {}
    for job in plan.jobs:
        if job.kind in ("lint", "test", "security", "iac"):
            jobs[job.id] = _ci_job(plan, job)
        elif job.kind == "build":
            jobs[job.id] = _order(_build_job(plan, job))
        else:
            jobs[job.id] = _deploy_job(plan, job)
    env: Dict[str, str] = {"SERVICE_NAME": plan.service, "READINESS_PATH": plan.readiness_path}
    if plan.cloud.region_var:
        env[plan.cloud.region_var] = plan.cloud.region
    env.update(_env_block(plan))
    data = {
        "name": "ci-cd",
        "on": {
            "push": {"branches": [MAIN_BRANCH]},
            "pull_request": {"branches": [MAIN_BRANCH]},
        },
        "permissions": {"contents": "read"},
        # a new push to a pull request cancels its older run; runs of main never share a group
        "concurrency": {
            "group": "ci-cd-${{ github.event.pull_request.number || github.sha }}",
            "cancel-in-progress": True,
        },
        "env": env,
        "jobs": jobs,
    }
    text = dump(data)
    anchors = [("  %s:" % job.id, job.source) for job in plan.jobs]
    header = [
        "CI/CD for %s: lint, test, security scan, build, then deploy from %s." % (plan.service, MAIN_BRANCH),
        "Cloud: %s (OIDC federation; repository variables: %s)."
        % (
            plan.cloud.label,
            "none, the image goes to GHCR with GITHUB_TOKEN" if _uses_ghcr(plan) else ", ".join(plan.cloud.names),
        ),
        "Protect the environments: required reviewers on %s-approval, %s restricted to the %s branch."
        % (plan.production.name, plan.production.name, MAIN_BRANCH),
        *plan.notes,
    ]
    return PATH, add_comments(text, [("jobs:", None), *anchors], header)


# --------------------------------------------------------------------------- scheduled drift check


def _drift_job(plan: Plan, job: DriftJob) -> Dict[str, Any]:
    env: Dict[str, str] = {}
    if plan.cloud.key == "gcp":
        env["GOOGLE_CLOUD_PROJECT"] = "${{ vars.GCP_PROJECT_ID }}"
    elif plan.cloud.key == "azure":
        env["AZURE_SUBSCRIPTION_ID"] = "${{ vars.AZURE_SUBSCRIPTION_ID }}"
    permissions = {"contents": "read"}
    if plan.cloud.key != "none":
        permissions["id-token"] = "write"
    steps: List[Dict[str, Any]] = [
        _checkout(),
        {"name": "Set up Python", "uses": ACTIONS["setup-python"], "with": {"python-version": DRIFT_PYTHON}},
        *_cloud_login(plan),
        _run("Compare %s with the documents" % job.env.name, drift_lines(plan, job), env or None),
    ]
    return {
        "name": job.title,
        "runs-on": "ubuntu-latest",
        "timeout-minutes": 30,
        # the environment's own variables and OIDC subject, as its deploy jobs get them
        "environment": {"name": job.env.name},
        "permissions": permissions,
        "steps": steps,
    }


def render_drift(plan: Plan) -> Tuple[str, str]:
    """(path, content) of the scheduled drift workflow."""
    drift = plan.drift
    env: Dict[str, str] = {"SERVICE_NAME": plan.service, "DRIFT_REQ": drift.req_path}
    if plan.cloud.region_var:
        env[plan.cloud.region_var] = plan.cloud.region
    data = {
        "name": "drift",
        "on": {"schedule": [{"cron": drift.schedule}], "workflow_dispatch": {}},
        "permissions": {"contents": "read"},
        "concurrency": {"group": "drift-%s" % plan.service, "cancel-in-progress": False},
        "env": env,
        "jobs": {job.id: _drift_job(plan, job) for job in drift.jobs},
    }
    header = [
        "Scheduled drift check of %s: ansible-playbook sdd.devops_flow.drift compares each deployed environment"
        " with the documents and fails on drift." % plan.service,
        "Schedule: %s (UTC); %s." % (drift.schedule, drift.schedule_source or "the default, daily"),
        "DRIFT_REQ is the REQ document in this repository; the cloud credentials are those of each environment"
        " (OIDC, as in ci-cd.yml).",
    ]
    return DRIFT_PATH, add_comments(dump(data), [], header)
