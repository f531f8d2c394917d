# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CI/CD plan shared by the five pipeline systems.

``build_plan`` turns a model and the generation options into a ``Plan``: the
toolchain (language commands, images, caches), the cloud (registry, login,
variables to define) and the ordered jobs (lint, test, security scans, build,
one deployment job per strategy phase of each environment, the production
approval and the automatic rollback), plus the scheduled drift check (``DriftPlan``:
``ansible-playbook sdd.devops_flow.drift`` for each deployed environment, outside the
deploy stages).  Every system renderer
(``pipelines_github`` ... ``pipelines_azure``) walks the same plan, so the five
pipelines of one model have the same jobs in the same order and deploy with
the same strategy.

Document values reach a pipeline only through ``token``/``slug`` (a fixed set
of characters: no ``$``, quote, brace, parenthesis, backslash or newline), so
they cannot start a shell substitution, a ``${{ }}`` / ``$( )`` / ``<< >>``
expression of a CI system or a Groovy interpolation; comments go through
``one_line``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from ..model import Environment, Model
from . import common

if TYPE_CHECKING:  # pragma: no cover
    from ..generate import Options

#: Current major versions of the GitHub actions the workflows use.
ACTIONS: Dict[str, str] = {
    "checkout": "actions/checkout@v7",
    "setup-python": "actions/setup-python@v7",
    "setup-node": "actions/setup-node@v7",
    "setup-go": "actions/setup-go@v7",
    "setup-java": "actions/setup-java@v6",
    "setup-dotnet": "actions/setup-dotnet@v5",
    "cache": "actions/cache@v6",
    "upload-artifact": "actions/upload-artifact@v7",
    "setup-buildx": "docker/setup-buildx-action@v4",
    "login": "docker/login-action@v4",
    "build-push": "docker/build-push-action@v7",
    "aws-credentials": "aws-actions/configure-aws-credentials@v6",
    "ecr-login": "aws-actions/amazon-ecr-login@v2",
    "gcp-auth": "google-github-actions/auth@v3",
    "azure-login": "azure/login@v3",
}

#: CircleCI orbs (pinned to a minor version) per cloud.
ORBS: Dict[str, Tuple[str, str]] = {
    "aws": ("aws-cli", "circleci/aws-cli@5.4"),
    "gcp": ("gcp-cli", "circleci/gcp-cli@3.2"),
    "azure": ("azure-cli", "circleci/azure-cli@1.3"),
}

#: Images of the jobs that need a cloud CLI (deployments) or Docker (builds).
CLI_IMAGES: Dict[str, str] = {
    "aws": "amazon/aws-cli:2.37.4",
    "gcp": "google/cloud-sdk:584.0.0-slim",
    "azure": "mcr.microsoft.com/azure-cli:2.89.1",
    "none": "buildpack-deps:trixie-curl",
}
DOCKER_IMAGE = "docker:29-cli"
DOCKER_DIND = "docker:29-dind"
CIRCLECI_BASE = "cimg/base:2026.07"
#: Python used for checkov (the IaC scan).
CHECKOV_PYTHON = "3.13"
CHECKOV_SPEC = "checkov>=3,<4"

#: Why container images carry a version tag and no digest (the checkov skip reason).
DIGEST_REASON = (
    "image pinned to a version tag; its digest changes with every rebuild of the tag and cannot be known"
    " by an offline generator: pin digests with Renovate (docker:pinDigests) or Dependabot in the repository"
)

DEFAULT_REGIONS = {"aws": "us-east-1", "gcp": "us-central1", "azure": "eastus"}
_REGION_FORMS = {
    "aws": re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$"),
    "gcp": re.compile(r"^[a-z]+-[a-z]+\d+$"),
    "azure": re.compile(r"^[a-z][a-z0-9]+$"),
}

#: The scheduled drift check: when no document gives a drift or compliance schedule, daily
#: at 06:17 UTC (off the hour, when schedulers are busiest).
DRIFT_SCHEDULE = "17 6 * * *"
#: The playbook the drift jobs run, and what they install first (pinned like the other tools:
#: ansible-core within the range the collection supports, the collection within its major version).
DRIFT_PLAYBOOK = "sdd.devops_flow.drift"
ANSIBLE_CORE_SPEC = "ansible-core>=2.18,<2.22"
COLLECTION_SPEC = "sdd.devops_flow:>=0.1.0,<1.0.0"
#: Python of the drift jobs (ansible-core 2.21 needs 3.12 or newer)
DRIFT_PYTHON = "3.13"
#: where the drift jobs install the collection, relative to the checkout
DRIFT_COLLECTIONS = ".drift/collections"
#: frequency words of a drift or compliance row -> cron (UTC)
_FREQUENCIES = (
    ("hourly", "17 * * * *"),
    ("daily", DRIFT_SCHEDULE),
    ("nightly", "17 2 * * *"),
    ("weekly", "17 6 * * 1"),
    ("monthly", "17 6 1 * *"),
)
_CRON = re.compile(r"(?<![\w*/,-])((?:[0-9*/,-]+[ \t]+){4}[0-9*/,-]+)(?![\w*/,-])")
_CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
_CRON_LIMITS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))

#: Where the scripts of the deployment interface live in the generated tree.
DEPLOY = "./scripts/deploy.sh"
HEALTH = "./scripts/health-check.sh"
ROLLBACK = "./scripts/rollback.sh"

REPORTS = "reports"
#: a virtual environment in the workspace, for containers that do not run as root
VENV = ('python -m venv "$WORKSPACE/.venv"', '. "$WORKSPACE/.venv/bin/activate"')
MAIN_BRANCH = "main"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


# --------------------------------------------------------------------------- escaping


def token(value: object, allowed: str = "a-z0-9._-", default: str = "x", limit: int = 63) -> str:
    """``value`` reduced to the characters of ``allowed`` (a regex class body): the
    only way a document value enters a pipeline file or a shell command."""
    text = re.sub("[^%s]+" % allowed, "-", str(value).strip().lower())
    text = re.sub(r"-{2,}", "-", text).strip("-._/")[:limit].strip("-._/")
    return text or default


def slug(value: object, default: str = "x") -> str:
    """A name of lower-case letters, digits and ``-`` (environments, services)."""
    return token(value, "a-z0-9-", default)


def ident(value: object) -> str:
    """A job id part: letters, digits and ``_`` (the only ids all five systems accept)."""
    return token(value, "a-z0-9", "x").replace("-", "_")


def one_line(text: str, limit: int = 200) -> str:
    """Text for a comment: one line, no control characters."""
    return " ".join(_CONTROL.sub(" ", text).split())[:limit]


def shq(value: str) -> str:
    """A shell word; values are tokens already, quoting only when needed."""
    if re.match(r"^[A-Za-z0-9._/:=@%+-]+$", value):
        return value
    return "'" + value.replace("'", "'\"'\"'") + "'"


# --------------------------------------------------------------------------- toolchains


@dataclass(frozen=True)
class Coverage:
    path: str
    format: str  # cobertura | jacoco


@dataclass(frozen=True)
class TestResults:
    path: str
    format: str  # junit | vstest


@dataclass(frozen=True)
class Toolchain:
    """How one language is linted, tested, scanned and cached."""

    key: str
    label: str
    version: str
    image: str
    circleci_image: str
    #: files whose content keys the dependency cache (the first ones that exist)
    lock_files: Tuple[str, ...]
    #: workspace-relative folders the tool caches into
    cache_dirs: Tuple[str, ...]
    #: (variable, value with {ws} for the workspace folder) pointing the tools there
    cache_env: Tuple[Tuple[str, str], ...]
    install: Tuple[str, ...]
    lint: Tuple[str, ...]
    test: Tuple[str, ...]
    sast: Tuple[str, ...]
    audit: Tuple[str, ...]
    coverage: Coverage
    results: Optional[TestResults]
    #: GitLab ``coverage:`` regular expression (the console summary), if any
    coverage_regex: Optional[str]
    #: (action key in ACTIONS, inputs) for GitHub, with its built-in cache
    github_setup: Tuple[str, Tuple[Tuple[str, str], ...]]
    #: GitHub: (path, hashFiles pattern) when the setup action does not cache
    github_cache: Optional[Tuple[str, str]] = None
    #: secrets the audit may use (names in the system's secret store)
    secrets: Tuple[str, ...] = ()
    supported: bool = True
    #: Jenkins runs containers as its own user, not root: installs go to the workspace
    user_prelude: Tuple[str, ...] = ()

    def env(self, workspace: str) -> List[Tuple[str, str]]:
        return [(name, value.replace("{ws}", workspace)) for name, value in self.cache_env]


LANGUAGE_ALIASES: Tuple[Tuple[str, str], ...] = (
    (r"^(python|py)\b", "python"),
    (r"^(node|nodejs|node\.js|javascript|js|typescript|ts)\b", "node"),
    (r"^(go|golang)\b", "go"),
    (r"^(java|kotlin|scala)\b", "java"),
    (r"^(c#|csharp|c-sharp|\.net|dotnet|f#|fsharp)", "dotnet"),
)

#: The current release line of each language (LTS where the language has one); Python stays on
#: 3.14 until the scanners and type checkers publish wheels for 3.15.
DEFAULT_VERSIONS = {"python": "3.14", "node": "26", "go": "1.27", "java": "25", "dotnet": "10.0"}


def language_key(language: Optional[str]) -> str:
    """python / node / go / java / dotnet, or generic for anything else (or nothing)."""
    low = (language or "").strip().lower()
    for pattern, key in LANGUAGE_ALIASES:
        if re.search(pattern, low):
            return key
    return "generic"


def _version(key: str, model: Model, from_flag: bool) -> str:
    """The language version: the SPEC's when it reads like one, else the current default."""
    given = None if from_flag else model.service.language_version
    if key == "dotnet" and not given:
        match = re.search(r"\.net\s*(?:core\s*)?(\d+)(?:\.(\d+))?", model.service.framework or "", re.IGNORECASE)
        if match:
            given = "%s.%s" % (match.group(1), match.group(2) or "0")
    if given:
        match = re.match(r"^\D*(\d+(?:\.\d+)?)", given.strip())
        if match:
            number = match.group(1)
            if key == "dotnet" and "." not in number:
                number += ".0"
            if key in ("node", "java"):
                number = number.split(".")[0]
            return number
    return DEFAULT_VERSIONS.get(key, "")


def toolchain(key: str, version: str, audit_level: str) -> Toolchain:
    """The toolchain of one language (``audit_level``: low, medium, high or critical)."""
    rep = REPORTS
    if key == "python":
        return Toolchain(
            key,
            "Python %s" % version,
            version,
            "python:%s-slim" % version,
            "cimg/python:%s" % version,
            ("requirements.txt", "pyproject.toml"),
            (".cache/pip",),
            (("PIP_CACHE_DIR", "{ws}/.cache/pip"), ("PIP_DISABLE_PIP_VERSION_CHECK", "1")),
            (
                "python -m pip install --upgrade pip",
                "if [ -f requirements.txt ]; then python -m pip install -r requirements.txt; fi",
                "if [ -f requirements-dev.txt ]; then python -m pip install -r requirements-dev.txt; fi",
            ),
            ("python -m pip install ruff mypy", "ruff check .", "ruff format --check .", "mypy ."),
            (
                "python -m pip install pytest pytest-cov",
                "mkdir -p %s" % rep,
                "python -m pytest --junitxml=%s/junit.xml --cov --cov-report=xml:%s/coverage.xml --cov-report=term"
                % (rep, rep),
            ),
            (
                "python -m pip install bandit",
                "bandit --recursive . --exclude ./tests,./.venv,./.cache --severity-level %s"
                % {"low": "low", "medium": "medium"}.get(audit_level, "medium"),
            ),
            (
                "python -m pip install pip-audit",
                "if [ -f requirements.txt ]; then pip-audit --requirement requirements.txt; else pip-audit; fi",
            ),
            Coverage("%s/coverage.xml" % rep, "cobertura"),
            TestResults("%s/junit.xml" % rep, "junit"),
            r"/^TOTAL.*\s+(\d+(?:\.\d+)?%)$/",
            (
                "setup-python",
                (
                    ("python-version", version),
                    ("cache", "pip"),
                    ("cache-dependency-path", "**/requirements*.txt\n**/pyproject.toml"),
                ),
            ),
            user_prelude=VENV,
        )
    if key == "node":
        return Toolchain(
            key,
            "Node.js %s" % version,
            version,
            "node:%s" % version,
            "node:%s" % version,
            ("package-lock.json",),
            (".npm",),
            (("npm_config_cache", "{ws}/.npm"),),
            ("npm ci",),
            ("npx eslint .",),
            (
                "mkdir -p %s" % rep,
                "npx --yes c8@10 --reporter=cobertura --reporter=text-summary --reports-dir=%s npm test" % rep,
            ),
            (),
            (
                "npm audit --audit-level=%s" % {"medium": "moderate"}.get(audit_level, audit_level),
                "npm audit signatures",
            ),
            Coverage("%s/cobertura-coverage.xml" % rep, "cobertura"),
            None,
            r"/^Lines\s*:\s*(\d+(?:\.\d+)?%)/",
            ("setup-node", (("node-version", version), ("cache", "npm"))),
        )
    if key == "go":
        return Toolchain(
            key,
            "Go %s" % version,
            version,
            "golang:%s" % version,
            "cimg/go:%s" % version,
            ("go.sum",),
            (".cache/go-mod", ".cache/go-build"),
            (("GOMODCACHE", "{ws}/.cache/go-mod"), ("GOCACHE", "{ws}/.cache/go-build")),
            ("go mod download",),
            ("go vet ./...", "go run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.12.2 run ./..."),
            (
                "mkdir -p %s" % rep,
                "go run gotest.tools/gotestsum@v1.13.0 --junitfile %s/junit.xml -- -covermode=atomic"
                " -coverprofile=%s/coverage.out ./..." % (rep, rep),
                "go tool cover -func=%s/coverage.out | tail -n 1" % rep,
                "go run github.com/boumenot/gocover-cobertura@v1.5.0 < %s/coverage.out > %s/coverage.xml" % (rep, rep),
            ),
            ("go run github.com/securego/gosec/v2/cmd/gosec@v2.28.0 ./...",),
            ("go run golang.org/x/vuln/cmd/govulncheck@v1.8.0 ./...",),
            Coverage("%s/coverage.xml" % rep, "cobertura"),
            TestResults("%s/junit.xml" % rep, "junit"),
            r"/^total:\s+\(statements\)\s+(\d+(?:\.\d+)?%)/",
            ("setup-go", (("go-version", version), ("cache-dependency-path", "go.sum"))),
        )
    if key == "java":
        cvss = {"low": "4", "medium": "7", "high": "7", "critical": "9"}.get(audit_level, "7")
        return Toolchain(
            key,
            "Java %s (Maven)" % version,
            version,
            "maven:3.9-eclipse-temurin-%s" % version,
            "cimg/openjdk:%s.0" % version,
            ("pom.xml",),
            (".m2/repository",),
            (("MAVEN_ARGS", "--batch-mode --no-transfer-progress -Dmaven.repo.local={ws}/.m2/repository"),),
            (),
            (
                "mvn -DskipTests org.apache.maven.plugins:maven-checkstyle-plugin:3.6.0:check"
                " -Dcheckstyle.config.location=google_checks.xml -Dcheckstyle.violationSeverity=error",
            ),
            (
                "mvn org.jacoco:jacoco-maven-plugin:0.8.15:prepare-agent verify"
                " org.jacoco:jacoco-maven-plugin:0.8.15:report",
            ),
            ("mvn -DskipTests compile com.github.spotbugs:spotbugs-maven-plugin:4.9.8.3:check",),
            (
                'mvn org.owasp:dependency-check-maven:12.2.2:check -DfailBuildOnCVSS=%s -DnvdApiKey="${NVD_API_KEY:-}"'
                % cvss,
            ),
            Coverage("target/site/jacoco/jacoco.xml", "jacoco"),
            TestResults("target/surefire-reports/TEST-*.xml", "junit"),
            None,
            ("setup-java", (("distribution", "temurin"), ("java-version", version), ("cache", "maven"))),
            secrets=("NVD_API_KEY",),
        )
    if key == "dotnet":
        return Toolchain(
            key,
            ".NET %s" % version,
            version,
            "mcr.microsoft.com/dotnet/sdk:%s" % version,
            "mcr.microsoft.com/dotnet/sdk:%s" % version,
            ("packages.lock.json",),
            (".nuget/packages",),
            (
                ("NUGET_PACKAGES", "{ws}/.nuget/packages"),
                ("DOTNET_CLI_HOME", "{ws}/.dotnet-home"),
                ("DOTNET_CLI_TELEMETRY_OPTOUT", "1"),
            ),
            ("dotnet restore",),
            ("dotnet format --verify-no-changes --no-restore",),
            (
                "mkdir -p %s" % rep,
                'dotnet test --no-restore --collect:"XPlat Code Coverage" --results-directory %s'
                ' --logger "trx;LogFileName=test-results.trx"' % rep,
            ),
            (),
            (
                "mkdir -p %s" % rep,
                "dotnet list package --vulnerable --include-transitive | tee %s/vulnerable-packages.txt" % rep,
                'if grep -qi "has the following vulnerable packages" %s/vulnerable-packages.txt; then exit 1; fi' % rep,
            ),
            Coverage("%s/**/coverage.cobertura.xml" % rep, "cobertura"),
            TestResults("%s/**/*.trx" % rep, "vstest"),
            None,
            ("setup-dotnet", (("dotnet-version", version + ".x" if version.count(".") < 2 else version),)),
            github_cache=(".nuget/packages", "**/*.csproj"),
        )
    return Toolchain(
        "generic",
        "make targets",
        "",
        "buildpack-deps:trixie",
        "buildpack-deps:trixie",
        ("Makefile",),
        (),
        (),
        (),
        ("make lint",),
        ("mkdir -p %s" % rep, "make test"),
        ("make security",),
        (),
        Coverage("%s/coverage.xml" % rep, "cobertura"),
        TestResults("%s/junit.xml" % rep, "junit"),
        None,
        ("", ()),
        supported=False,
    )


# --------------------------------------------------------------------------- cloud


@dataclass(frozen=True)
class CloudPlan:
    """The registry and the federated login of one cloud (or of none)."""

    key: str  # aws | gcp | azure | none
    region: str
    #: shell expression of the registry host (literal parts are tokens)
    registry: str
    #: shell expression of the repository path under the registry
    image_path: str
    #: (name, what it holds): CI variables (not secret) the user defines
    variables: Tuple[Tuple[str, str], ...]
    #: secrets the login needs (only without a cloud: a registry password)
    secrets: Tuple[Tuple[str, str], ...]
    cli_image: str
    #: the region variable and its value, set in the pipeline
    region_var: Optional[str]

    @property
    def label(self) -> str:
        return {"aws": "AWS", "gcp": "Google Cloud", "azure": "Azure"}.get(self.key, "no cloud")

    @property
    def names(self) -> Tuple[str, ...]:
        """The names of the variables to define."""
        return tuple(entry[0] for entry in self.variables)


_HOST = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z0-9-]+(?::\d+)?$|^localhost(?::\d+)?$")


def _split_image(model: Model) -> Tuple[Optional[str], str]:
    """(registry host or None, repository path) of the SPEC image, as tokens."""
    if not model.service.image:
        return None, slug(model.service.name, "app")
    ref = common.image(model).lower()
    parts = [p for p in ref.split("/") if p]
    host = None
    if len(parts) > 1 and _HOST.match(parts[0]) and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        host = parts.pop(0)
    path = "/".join(token(p, "a-z0-9._-", "app") for p in parts) or slug(model.service.name, "app")
    return (token(host, "a-z0-9.:-") if host else None), path


def cloud_plan(model: Model, cloud: Optional[str]) -> CloudPlan:
    key = cloud if cloud in ("aws", "gcp", "azure") else "none"
    host, path = _split_image(model)
    service = slug(model.service.name, "app")
    region = DEFAULT_REGIONS.get(key, "")
    if key in _REGION_FORMS:
        given = token(model.cloud.primary_region or "", "a-z0-9-", "")
        if given and _REGION_FORMS[key].match(given) and model.cloud.provider in (None, key):
            region = given
    if key == "aws":
        ecr = host if host and re.match(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$", host) else None
        variables = [("AWS_ROLE_ARN", "IAM role the pipeline assumes with its OIDC token")]
        if not ecr:
            variables.append(("AWS_ACCOUNT_ID", "AWS account of the ECR registry"))
        return CloudPlan(
            key,
            region,
            ecr or "${AWS_ACCOUNT_ID}.dkr.ecr.${AWS_REGION}.amazonaws.com",
            path,
            tuple(variables),
            (),
            CLI_IMAGES[key],
            "AWS_REGION",
        )
    if key == "gcp":
        gar = host if host and re.match(r"^[a-z0-9-]+-docker\.pkg\.dev$", host) else None
        variables = [
            (
                "GCP_WORKLOAD_IDENTITY_PROVIDER",
                "projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/ID",
            ),
            ("GCP_SERVICE_ACCOUNT", "service account the pipeline impersonates"),
            ("GCP_PROJECT_ID", "project of the service"),
        ]
        image_path = path if gar else "${GCP_PROJECT_ID}/%s/%s" % (service, path)
        return CloudPlan(
            key,
            region,
            gar or "${GCP_REGION}-docker.pkg.dev",
            image_path,
            tuple(variables),
            (),
            CLI_IMAGES[key],
            "GCP_REGION",
        )
    if key == "azure":
        acr = host if host and re.match(r"^[a-z0-9]+\.azurecr\.io$", host) else None
        variables = [
            ("AZURE_CLIENT_ID", "app registration (or managed identity) with a federated credential"),
            ("AZURE_TENANT_ID", "Entra ID tenant"),
            ("AZURE_SUBSCRIPTION_ID", "subscription of the service"),
        ]
        if not acr:
            variables.append(("ACR_NAME", "container registry name (without .azurecr.io)"))
        return CloudPlan(
            key,
            region,
            acr or "${ACR_NAME}.azurecr.io",
            path,
            tuple(variables),
            (),
            CLI_IMAGES[key],
            "AZURE_LOCATION",
        )
    registry = host or "${REGISTRY}"
    variables = [("REGISTRY_USER", "user of the container registry")]
    if not host:
        variables.insert(0, ("REGISTRY", "container registry host (ghcr.io, registry.example.com)"))
    return CloudPlan(
        "none",
        "",
        registry,
        path,
        tuple(variables),
        (("REGISTRY_PASSWORD", "password or token of the container registry"),),
        CLI_IMAGES["none"],
        None,
    )


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class EnvPlan:
    name: str  # passed to the scripts (--env)
    slug: str  # id part
    strategy: str  # rolling | blue-green | canary | manual
    production: bool
    index: Optional[int]  # in model.environments (None for defaults)
    canary_steps: Tuple[int, ...]


@dataclass(frozen=True)
class Job:
    """One job of the plan.  ``kind``: lint, test, security, iac, build, deploy,
    approval, rollback.  ``commands`` are shell lines; ``hold_seconds`` a wait
    between the deploy commands and ``after_hold`` (the canary gate)."""

    id: str
    title: str
    stage: str
    kind: str
    needs: Tuple[str, ...] = ()
    env: Optional[EnvPlan] = None
    phase: str = ""
    weight: Optional[int] = None
    commands: Tuple[str, ...] = ()
    hold_seconds: int = 0
    after_hold: Tuple[str, ...] = ()
    timeout_minutes: int = 20
    source: Optional[str] = None  # source comment


@dataclass(frozen=True)
class Stage:
    id: str
    title: str
    jobs: Tuple[Job, ...]


@dataclass(frozen=True)
class DriftJob:
    """The scheduled drift check of one deployed environment."""

    id: str
    title: str
    env: EnvPlan
    command: str


@dataclass(frozen=True)
class DriftPlan:
    """The scheduled drift check: when, which REQ, which environments, and how.

    ``schedule`` is a five-field cron expression in UTC; ``req_path`` the default of the
    ``DRIFT_REQ`` pipeline variable (the REQ document relative to the repository root);
    ``install`` the shell lines that install ansible-core, the collection and its Python
    requirements into ``.drift/`` of the checkout.
    """

    schedule: str
    schedule_source: Optional[str]
    req_path: str
    jobs: Tuple[DriftJob, ...]
    install: Tuple[str, ...]

    @property
    def environments(self) -> Tuple[str, ...]:
        return tuple(job.env.name for job in self.jobs)


@dataclass(frozen=True)
class Plan:
    system: str
    service: str
    req_id: str
    toolchain: Toolchain
    cloud: CloudPlan
    stages: Tuple[Stage, ...]
    production: EnvPlan
    hold_seconds: int
    readiness_path: str
    fields: Tuple[str, ...]
    notes: Tuple[str, ...]
    language_source: Optional[str]
    drift: DriftPlan

    @property
    def jobs(self) -> List[Job]:
        """The CI/CD jobs in stage order (the drift jobs are ``drift.jobs``)."""
        return [job for stage in self.stages for job in stage.jobs]

    def job(self, job_id: str) -> Job:
        for job in self.jobs:
            if job.id == job_id:
                return job
        raise KeyError(job_id)

    def deploy_jobs(self, production: Optional[bool] = None) -> List[Job]:
        return [
            j
            for j in self.jobs
            if j.kind == "deploy" and (production is None or (j.env is not None and j.env.production == production))
        ]

    @property
    def rollback(self) -> Job:
        return next(j for j in self.jobs if j.kind == "rollback")

    @property
    def approval(self) -> Job:
        return next(j for j in self.jobs if j.kind == "approval")


def _steps(values: Tuple[int, ...]) -> Tuple[int, ...]:
    seen: Dict[int, None] = {}
    for value in values:
        if isinstance(value, int) and 0 < value <= 100:
            seen.setdefault(value, None)
    return tuple(seen) or common.DEFAULT_CANARY_STEPS


def _env_plans(model: Model, strategy_flag: Optional[str]) -> Tuple[List[EnvPlan], EnvPlan]:
    envs = common.environments(model)
    production = model.production or envs[-1]
    used: Dict[str, int] = {}
    plans: List[EnvPlan] = []
    prod_plan: Optional[EnvPlan] = None
    for position, env in enumerate(envs):
        is_prod = env is production
        strategy = env.strategy or "rolling"
        if is_prod and strategy_flag:
            strategy = strategy_flag
        if strategy not in ("rolling", "blue-green", "canary", "manual"):
            strategy = "rolling"
        name = slug(env.name, "env")
        id_part = ident(name)
        if id_part in used:
            used[id_part] += 1
            id_part = "%s_%d" % (id_part, used[id_part])
        else:
            used[id_part] = 1
        steps = _steps(common.canary_steps(model, env)) if strategy == "canary" else ()
        index = position if model.environments else None
        plan = EnvPlan(name, id_part, strategy, is_prod, index, steps)
        if is_prod:
            prod_plan = plan
        elif strategy != "manual":
            plans.append(plan)
    return plans, prod_plan or EnvPlan("prod", "prod", "rolling", True, None, ())


def _env_source(model: Model, env: EnvPlan, field: str = "strategy") -> Optional[str]:
    if env.index is None:
        return None
    return common.source_note(model, "environments[%d].%s" % (env.index, field))


def _deploy_jobs(model: Model, env: EnvPlan, first_needs: Tuple[str, ...], hold: int) -> List[Job]:
    """The jobs deploying one environment with its strategy, chained in order."""
    e = shq(env.name)
    base = "deploy_%s" % env.slug
    image = '--image "$IMAGE_REF"'
    health_live = "%s --env %s --target live" % (HEALTH, e)
    stage = "deploy_%s" % env.slug
    jobs: List[Job] = []
    source = _env_source(model, env)

    def add(
        job_id: str,
        title: str,
        phase: str,
        commands: Tuple[str, ...],
        timeout_minutes: int,
        weight: Optional[int] = None,
        after_hold: Tuple[str, ...] = (),
        note: Optional[str] = None,
    ) -> None:
        jobs.append(
            Job(
                job_id,
                title,
                stage,
                "deploy",
                needs=(jobs[-1].id,) if jobs else first_needs,
                env=env,
                phase=phase,
                weight=weight,
                commands=commands,
                hold_seconds=hold if after_hold else 0,
                after_hold=after_hold,
                timeout_minutes=timeout_minutes,
                source=note if note is not None else (source if not jobs else None),
            )
        )

    if env.strategy == "blue-green":
        add(
            base + "_idle",
            "%s: deploy the idle colour and smoke-test it" % env.name,
            "idle",
            (
                "%s --env %s %s --phase idle" % (DEPLOY, e, image),
                "%s --env %s --target idle" % (HEALTH, e),
            ),
            30,
        )
        add(
            base + "_switch",
            "%s: switch traffic (the old colour is kept)" % env.name,
            "switch",
            ("%s --env %s %s --phase switch" % (DEPLOY, e, image), health_live),
            20,
        )
    elif env.strategy == "canary":
        steps_source = None
        if env.index is not None and model.environments[env.index].canary_steps:
            steps_source = _env_source(model, env, "canary_steps")
        else:
            steps_source = common.source_note(model, "rollout.canary_steps")
        for number, weight in enumerate(env.canary_steps):
            add(
                "%s_canary_%d" % (base, weight),
                "%s: canary %d%% of traffic, hold %d s, gate" % (env.name, weight, hold),
                "canary",
                ("%s --env %s %s --phase canary --weight %d" % (DEPLOY, e, image, weight),),
                30 + (hold + 59) // 60,
                weight=weight,
                after_hold=("%s --env %s --target canary --gate" % (HEALTH, e),),
                note=(steps_source or "") if number == 0 else "",
            )
        add(
            base + "_promote",
            "%s: promote the canary" % env.name,
            "promote",
            ("%s --env %s %s --phase promote" % (DEPLOY, e, image), health_live),
            20,
        )
    elif env.strategy == "manual":
        add(
            base,
            "%s: run the whole deployment (manual strategy)" % env.name,
            "all",
            ("%s --env %s %s --phase all" % (DEPLOY, e, image), health_live),
            60 + (hold + 59) // 60,
        )
    else:
        add(
            base + "_rolling",
            "%s: rolling update" % env.name,
            "rolling",
            ("%s --env %s %s --phase rolling" % (DEPLOY, e, image), health_live),
            30,
        )
    return jobs


def build_plan(model: Model, options: Options) -> Plan:
    """The plan of one pipeline system for a model and the user's options."""
    system = options.pipeline or "github-actions"
    language_flag = options.language
    key = language_key(language_flag or model.service.language)
    threshold = model.security.image_scanning.threshold if model.security.image_scanning else None
    audit_level = threshold if threshold in ("low", "medium", "high", "critical") else "high"
    tools = toolchain(key, _version(key, model, bool(language_flag)), audit_level)
    cloud = cloud_plan(model, options.cloud or model.cloud.provider)
    hold = common.hold_seconds(model)
    pre, prod = _env_plans(model, options.deploy_strategy)
    language_source = None if language_flag else common.source_note(model, "service.language")

    stages: List[Stage] = [
        Stage("lint", "Lint", (Job("lint", "Lint (%s)" % tools.label, "lint", "lint", source=language_source),)),
        Stage(
            "test", "Test", (Job("test", "Test with coverage", "test", "test", needs=("lint",), timeout_minutes=30),)
        ),
        Stage(
            "security",
            "Security scan",
            (
                Job("security_scan", "Code and dependency scan", "security", "security", needs=("test",)),
                Job("iac_scan", "IaC scan (checkov, terraform/)", "security", "iac", needs=("test",)),
            ),
        ),
        Stage(
            "build",
            "Build and push the image",
            (
                Job(
                    "build",
                    "Build the image (push on %s)" % MAIN_BRANCH,
                    "build",
                    "build",
                    needs=("security_scan", "iac_scan"),
                    timeout_minutes=30,
                    source=common.source_note(model, "cloud.provider") if options.cloud is None else None,
                ),
            ),
        ),
    ]
    previous: Tuple[str, ...] = ("build",)
    for env in pre:
        jobs = _deploy_jobs(model, env, previous, hold)
        stages.append(Stage("deploy_%s" % env.slug, "Deploy %s" % env.name, tuple(jobs)))
        previous = (jobs[-1].id,)
    approval = Job(
        "approve_%s" % prod.slug,
        "Approve the %s deployment" % prod.name,
        "deploy_%s" % prod.slug,
        "approval",
        needs=previous,
        env=prod,
        timeout_minutes=60 * 24,
    )
    prod_jobs = _deploy_jobs(model, prod, (approval.id,), hold)
    stages.append(Stage("deploy_%s" % prod.slug, "Deploy %s" % prod.name, (approval, *prod_jobs)))
    rollback = Job(
        "rollback_%s" % prod.slug,
        "Roll %s back when a deployment job failed" % prod.name,
        "rollback",
        "rollback",
        needs=tuple(j.id for j in prod_jobs),
        env=prod,
        commands=(
            "%s --env %s" % (ROLLBACK, shq(prod.name)),
            "%s --env %s --target live" % (HEALTH, shq(prod.name)),
        ),
        timeout_minutes=30,
        source=_env_source(model, prod, "rollback_seconds") or _env_source(model, prod),
    )
    stages.append(Stage("rollback", "Rollback", (rollback,)))

    fields = _fields(model, pre, prod, language_flag, options)
    notes = _notes(model, tools, language_flag)
    readiness = token(common.readiness_path(model), "a-z0-9._~/-", "/health", 200)
    if not readiness.startswith("/"):
        readiness = "/" + readiness
    return Plan(
        system,
        slug(model.service.name, "app"),
        token(model.req_id, "a-z0-9._-", "req"),
        tools,
        cloud,
        tuple(stages),
        prod,
        hold,
        readiness,
        fields,
        notes,
        language_source,
        _drift_plan(model, [*pre, prod], options),
    )


def _valid_cron(text: str) -> Optional[str]:
    fields = text.split()
    if len(fields) != 5:
        return None
    for field, (low, high) in zip(fields, _CRON_LIMITS):
        if not _CRON_FIELD.match(field):
            return None
        if any(not low <= int(n) <= high for n in re.findall(r"\d+", field.split("/")[0])):
            return None
    return " ".join(fields)


def drift_schedule(model: Model) -> Tuple[str, Optional[str]]:
    """(cron, source comment) of the drift check: a cron expression, or hourly / daily /
    nightly / weekly / monthly, written in a row of the documents about drift or
    compliance (9.5.6 security rows, 9.5.8 validation and deployment tests); else the
    daily default."""
    rows: List[Tuple[str, str]] = []
    for index, item in enumerate(model.security.other):
        text = " ".join((item.aspect, item.requirement, item.tool, item.verification))
        rows.append((text, "security.other[%d]" % index))
    for index, rule in enumerate(model.security.network_rules):
        rows.append((rule.description, "security.network_rules[%d]" % index))
    for index, check in enumerate(model.rollout.validation):
        rows.append((check.text, "rollout.validation[%d]" % index))
    for index, test in enumerate(model.rollout.deployment_tests):
        rows.append((test, "rollout.deployment_tests[%d]" % index))
    for text, path in rows:
        low = text.lower()
        if "drift" not in low and "compliance" not in low:
            continue
        found = _CRON.search(text)
        cron = _valid_cron(found.group(1)) if found else None
        if cron is None:
            cron = next((c for word, c in _FREQUENCIES if re.search(r"\b%s\b" % word, low)), None)
        if cron is not None:
            return cron, common.source_note(model, path)
    return DRIFT_SCHEDULE, None


def drift_req_path(model: Model) -> str:
    """The REQ document relative to the repository root: ``docs/07_REQ/`` and its path below
    the ``07_REQ`` folder (its file name when it was read from elsewhere)."""
    doc = next((d for d in model.traceability.documents if d.kind == "REQ" and d.path), None)
    if doc is not None and doc.path:
        parts = [p for p in doc.path.replace("\\", "/").split("/") if p]
        below = parts[len(parts) - parts[::-1].index("07_REQ") :] if "07_REQ" in parts else parts[-1:]
    else:  # no REQ document was read: a name for the user to replace, from the id or the service
        below = ["%s.md" % slug(model.traceability.req or model.service.name, "REQ")]
    safe = [re.sub(r"-+\.", ".", re.sub(r"[^A-Za-z0-9._-]+", "-", part)).strip("-.")[:100] or "REQ" for part in below]
    return "docs/07_REQ/" + "/".join(safe)


def _drift_plan(model: Model, envs: List[EnvPlan], options: Options) -> DriftPlan:
    schedule, source = drift_schedule(model)
    cloud = " -e drift_cloud=%s" % options.cloud if options.cloud in ("aws", "gcp", "azure") else ""
    jobs = tuple(
        DriftJob(
            "drift_%s" % env.slug,
            "Drift check of %s" % env.name,
            env,
            'ansible-playbook %s -e drift_req="$DRIFT_REQ" -e drift_environment=%s%s'
            % (DRIFT_PLAYBOOK, shq(env.name), cloud),
        )
        for env in envs
    )
    install = (
        "python -m venv .drift/venv",
        ". .drift/venv/bin/activate",
        "python -m pip install --quiet --upgrade pip",
        "python -m pip install --quiet '%s'" % ANSIBLE_CORE_SPEC,
        "ansible-galaxy collection install --collections-path %s '%s'" % (DRIFT_COLLECTIONS, COLLECTION_SPEC),
        "python -m pip install --quiet --requirement %s/ansible_collections/sdd/devops_flow/requirements.txt"
        % DRIFT_COLLECTIONS,
        'export ANSIBLE_COLLECTIONS_PATH="$PWD/%s"' % DRIFT_COLLECTIONS,
    )
    return DriftPlan(schedule, source, drift_req_path(model), jobs, install)


def _fields(
    model: Model, pre: List[EnvPlan], prod: EnvPlan, language_flag: Optional[str], options: Options
) -> Tuple[str, ...]:
    out: List[str] = ["service.name"]
    if not language_flag:
        out += ["service.language", "service.language_version", "service.framework"]
    if model.service.image:
        out.append("service.image")
    if options.cloud is None:
        out += ["cloud.provider", "cloud.primary_region"]
    out.append("service.health.readiness")
    if model.security.image_scanning:
        out.append("security.image_scanning.threshold")
    for env in [*pre, prod]:
        if env.index is None:
            continue
        out += ["environments[%d].name" % env.index]
        if not (env.production and options.deploy_strategy):
            out.append("environments[%d].strategy" % env.index)
        if env.strategy == "canary":
            if model.environments[env.index].canary_steps:
                out.append("environments[%d].canary_steps" % env.index)
            else:
                out.append("rollout.canary_steps")
    if any(e.strategy == "canary" for e in [*pre, prod]):
        out.append("rollout.hold_seconds")
    out.append("traceability.documents")
    return tuple(dict.fromkeys(out))


def _notes(model: Model, tools: Toolchain, language_flag: Optional[str]) -> Tuple[str, ...]:
    notes: List[str] = []
    if not tools.supported:
        given = one_line(language_flag or model.service.language or "none given", 60)
        notes.append(
            "No built-in toolchain for the language (%s): the jobs run the make targets lint, test and security."
            % given
        )
    return tuple(notes)


def environment_of(model: Model, env: EnvPlan) -> Optional[Environment]:
    return model.environments[env.index] if env.index is not None else None
