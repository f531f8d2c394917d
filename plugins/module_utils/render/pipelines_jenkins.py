# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jenkins: a declarative ``Jenkinsfile``.

The Jenkinsfile is text: every interpolated value goes through ``gstr`` (a
single-quoted Groovy string: backslash and quote escaped, so ``${}`` is never
interpolated) or ``gscript`` (a triple-single-quoted shell script, escaped the
same way).  Each stage runs in the toolchain's container; dependency caches are
the tools' own folders in the workspace (``PIP_CACHE_DIR``,
``-Dmaven.repo.local``, ``GOMODCACHE`` ...), which persist between builds on an
agent.  Cloud access uses an OIDC id token credential (the OpenID Connect
Provider plugin), deployments take a lock per environment (Lockable Resources)
and production waits for an ``input`` approval; a failure in a production
stage runs the rollback in the stage's ``post { failure }``.

``triggers { cron(...) }`` starts the scheduled drift check: a build started by the
timer runs only the drift stage (``triggeredBy 'TimerTrigger'``), every other stage
has ``not { triggeredBy 'TimerTrigger' }``.
"""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

from .pipelines_github import iac_lines
from .pipelines_plan import CHECKOV_PYTHON, DRIFT_PYTHON, MAIN_BRANCH, VENV, Job, Plan, Stage, one_line
from .pipelines_shell import (
    containerized_registry_login,
    deploy_lines,
    drift_lines,
    image_lines,
    oidc_login,
    sdk_federation,
)

PATH = "Jenkinsfile"
#: the cause of a build the cron trigger started
TIMER = "triggeredBy 'TimerTrigger'"
NOT_TIMER = "not { %s }" % TIMER
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def gstr(value: object) -> str:
    """A single-quoted Groovy string literal (no interpolation)."""
    text = _CONTROL.sub(" ", str(value))
    text = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return "'%s'" % text


def gscript(lines: List[str]) -> str:
    """A shell script as a triple-single-quoted Groovy string, run by bash."""
    body = "\n".join(["#!/bin/bash", "set -euo pipefail", *lines]) + "\n"
    body = _CONTROL.sub(" ", body).replace("\\", "\\\\").replace("'", "\\'")
    return "'''%s'''" % body


class _Writer:
    def __init__(self) -> None:
        self.lines: List[str] = []
        self.level = 0

    def line(self, text: str = "") -> None:
        self.lines.append(("    " * self.level + text) if text else "")

    def open(self, text: str) -> None:
        self.line(text + " {")
        self.level += 1

    def close(self) -> None:
        self.level -= 1
        self.line("}")

    def comment(self, text: Optional[str]) -> None:
        if text:
            self.line("// " + one_line(text, 300))

    def raw(self, text: str) -> None:
        """A multi-line value (a script): its continuation lines stay as written."""
        first, *rest = text.split("\n")
        self.line(first)
        self.lines.extend(rest)


def _credential(plan: Plan) -> Optional[str]:
    return "oidc-token-%s" % plan.cloud.key if plan.cloud.key != "none" else None


def _sh(w: _Writer, label: str, lines: List[str]) -> None:
    w.raw("sh(label: %s, script: %s)" % (gstr(label), gscript(lines)))


def _with_oidc(w: _Writer, plan: Plan, label: str, lines: List[str], registry: bool = False) -> None:
    """``sh`` with the OIDC id token bound (or, without a cloud, the registry password
    when ``registry``), from the Jenkins credentials store."""
    credential = _credential(plan)
    if credential is not None:
        w.open("withCredentials([file(credentialsId: %s, variable: 'OIDC_TOKEN_FILE')])" % gstr(credential))
        _sh(w, label, ['OIDC_TOKEN="$(cat "$OIDC_TOKEN_FILE")"', "export OIDC_TOKEN", *lines])
        w.close()
    elif registry:
        w.open("withCredentials([string(credentialsId: 'registry-password', variable: 'REGISTRY_PASSWORD')])")
        _sh(w, label, lines)
        w.close()
    else:
        _sh(w, label, lines)


def _cache_exports(plan: Plan) -> List[str]:
    return ['export %s="%s"' % (name, value) for name, value in plan.toolchain.env("$WORKSPACE")]


def _timeout(w: _Writer, minutes: int, extra: str = "") -> None:
    w.line("options { %stimeout(time: %d, unit: 'MINUTES') }" % (extra, minutes))


def _ci_stage(w: _Writer, plan: Plan, job: Job, nested: bool = False) -> None:
    tools = plan.toolchain
    w.comment(job.source)
    w.open("stage(%s)" % gstr(job.id))
    if not nested:
        w.line("when { beforeAgent true; %s }" % NOT_TIMER)
    image = "python:%s-slim" % CHECKOV_PYTHON if job.kind == "iac" else tools.image
    w.line("agent { docker { image %s } }" % gstr(image))
    _timeout(w, job.timeout_minutes)
    w.open("steps")
    if job.kind == "iac":
        _sh(w, job.title, list(VENV) + iac_lines())
    else:
        prelude = _cache_exports(plan) + list(tools.user_prelude) + list(tools.install)
        if job.kind == "lint":
            _sh(w, job.title, prelude + list(tools.lint))
        elif job.kind == "test":
            _sh(w, job.title, prelude + list(tools.test))
        else:
            secrets = list(tools.secrets)
            scan = prelude + list(tools.sast) + list(tools.audit) or ['echo "no scanner for this toolchain"']
            if secrets:
                bindings = ", ".join(
                    "string(credentialsId: %s, variable: %s)" % (gstr(name.lower().replace("_", "-")), gstr(name))
                    for name in secrets
                )
                w.open("withCredentials([%s])" % bindings)
                _sh(w, job.title, scan)
                w.close()
            else:
                _sh(w, job.title, scan)
    w.close()
    if job.kind == "test":
        w.open("post")
        w.open("always")
        if tools.results and tools.results.format == "junit":
            w.line("junit(testResults: %s, allowEmptyResults: true)" % gstr(tools.results.path))
        parser = "JACOCO" if tools.coverage.format == "jacoco" else "COBERTURA"
        w.line("recordCoverage(tools: [[parser: %s, pattern: %s]])" % (gstr(parser), gstr(tools.coverage.path)))
        w.line("archiveArtifacts(artifacts: %s, allowEmptyArchive: true)" % gstr("reports/**"))
        w.close()
        w.close()
    w.close()


def _build_stage(w: _Writer, plan: Plan, job: Job) -> None:
    w.comment(job.source)
    w.open("stage(%s)" % gstr(job.id))
    w.line("when { beforeAgent true; %s }" % NOT_TIMER)
    w.line("agent any")
    _timeout(w, job.timeout_minutes)
    w.open("steps")
    _sh(w, "Build the image", image_lines(plan) + ['docker build --pull --tag "$IMAGE_REF" .'])
    w.open("script")
    w.open("if (env.BRANCH_NAME == %s)" % gstr(MAIN_BRANCH))
    _with_oidc(
        w,
        plan,
        "Push the image",
        image_lines(plan) + containerized_registry_login(plan) + ['docker push "$IMAGE_REF"'],
        registry=True,
    )
    w.close()
    w.close()
    w.close()
    w.close()


def _deploy_stage(w: _Writer, plan: Plan, stage: Stage) -> None:
    """A wrapper stage per environment (agent, lock) with one nested stage per job."""
    deploys = [job for job in stage.jobs if job.kind == "deploy"]
    approval = [job for job in stage.jobs if job.kind == "approval"]
    env = deploys[0].env if deploys else None
    env_name = env.name if env else plan.production.name
    for job in approval:
        w.open("stage(%s)" % gstr(job.id))
        w.line("when { beforeAgent true; branch %s; %s }" % (gstr(MAIN_BRANCH), NOT_TIMER))
        w.line("options { timeout(time: %d, unit: 'MINUTES') }" % job.timeout_minutes)
        w.open("input")
        w.line("message %s" % gstr("Deploy %s to %s?" % (plan.service, env_name)))
        w.line("ok 'Deploy'")
        w.close()
        w.open("steps")
        w.line("echo %s" % gstr("%s approved for %s" % (plan.service, env_name)))
        w.close()
        w.close()
    total = sum(job.timeout_minutes for job in deploys) + 30
    w.open("stage(%s)" % gstr(stage.title))
    w.line("when { beforeAgent true; branch %s; %s }" % (gstr(MAIN_BRANCH), NOT_TIMER))
    w.line("agent { docker { image %s; args '--entrypoint=' } }" % gstr(plan.cloud.cli_image))
    _timeout(w, total, "lock(resource: %s); " % gstr("deploy-%s-%s" % (plan.service, env_name)))
    w.open("stages")
    for job in deploys:
        w.comment(job.source)
        w.open("stage(%s)" % gstr(job.id))
        _timeout(w, job.timeout_minutes)
        w.open("steps")
        _with_oidc(w, plan, job.title, oidc_login(plan) + image_lines(plan) + list(job.commands))
        if job.hold_seconds:
            w.line("sleep(time: %d, unit: 'SECONDS')" % job.hold_seconds)
            _with_oidc(w, plan, "Health and metric gate", oidc_login(plan) + list(job.after_hold))
        w.close()
        w.close()
    w.close()
    if env is not None and env.production:
        rollback = plan.rollback
        w.open("post")
        w.comment(rollback.source)
        w.open("failure")
        w.line("echo %s" % gstr("%s: %s" % (rollback.id, rollback.title)))
        _with_oidc(w, plan, rollback.title, oidc_login(plan) + deploy_lines(rollback))
        w.close()
        w.close()
    w.close()


def _drift_stage(w: _Writer, plan: Plan) -> None:
    """One stage, run only by the timer on the main branch, with a nested stage per environment."""
    drift = plan.drift
    w.comment("Scheduled drift check (%s): %s" % (drift.schedule, drift.schedule_source or "the default, daily"))
    w.open("stage(%s)" % gstr("Drift check"))
    w.line("when { beforeAgent true; branch %s; %s }" % (gstr(MAIN_BRANCH), TIMER))
    w.line("agent { docker { image %s } }" % gstr("python:%s-slim" % DRIFT_PYTHON))
    _timeout(w, 30 * max(1, len(drift.jobs)))
    w.open("stages")
    for job in drift.jobs:
        w.open("stage(%s)" % gstr(job.id))
        w.open("steps")
        _with_oidc(w, plan, job.title, sdk_federation(plan) + drift_lines(plan, job))
        w.close()
        w.close()
    w.close()
    w.close()


def render(plan: Plan) -> Tuple[str, str]:
    w = _Writer()
    variables = ", ".join(plan.cloud.names) or "none"
    w.comment(
        "CI/CD for %s: pull requests run lint, test, scans and the build; %s also pushes and deploys."
        % (plan.service, MAIN_BRANCH)
    )
    w.comment("Needs: Docker Pipeline, Pipeline: Declarative, Lockable Resources, JUnit, Coverage plugins.")
    if plan.cloud.key != "none":
        w.comment(
            "Cloud: %s with an OIDC id token file credential %s (OpenID Connect Provider plugin);"
            " folder variables: %s." % (plan.cloud.label, _credential(plan), variables)
        )
    else:
        w.comment("Registry: folder variables %s; credential registry-password." % variables)
    w.comment(
        "Scheduled drift check: the cron trigger (%s) runs only the drift stage; DRIFT_REQ names the REQ document."
        % plan.drift.schedule
    )
    for note in plan.notes:
        w.comment(note)
    w.open("pipeline")
    w.line("agent none")
    w.line("triggers { cron(%s) }" % gstr(plan.drift.schedule))
    w.open("options")
    w.line("buildDiscarder(logRotator(numToKeepStr: '30'))")
    w.line("disableConcurrentBuilds()")
    w.line(
        "timeout(time: %d, unit: 'MINUTES')" % (sum(j.timeout_minutes for j in plan.jobs if j.kind != "approval") + 60)
    )
    w.close()
    w.open("environment")
    w.line("SERVICE_NAME = %s" % gstr(plan.service))
    w.line("READINESS_PATH = %s" % gstr(plan.readiness_path))
    if plan.cloud.region_var:
        w.line("%s = %s" % (plan.cloud.region_var, gstr(plan.cloud.region)))
    w.line("DRIFT_REQ = %s" % gstr(plan.drift.req_path))
    w.close()
    w.open("stages")
    for stage in plan.stages:
        kinds = {job.kind for job in stage.jobs}
        if kinds & {"lint", "test"}:
            for job in stage.jobs:
                _ci_stage(w, plan, job)
        elif kinds & {"security", "iac"}:
            w.open("stage(%s)" % gstr(stage.title))
            w.line("when { %s }" % NOT_TIMER)
            w.open("parallel")
            for job in stage.jobs:
                _ci_stage(w, plan, job, nested=True)
            w.close()
            w.close()
        elif "build" in kinds:
            _build_stage(w, plan, stage.jobs[0])
        elif kinds & {"deploy", "approval"}:
            _deploy_stage(w, plan, stage)
    if plan.drift.jobs:
        _drift_stage(w, plan)
    w.close()
    w.close()
    return PATH, "\n".join(w.lines) + "\n"
