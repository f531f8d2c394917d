"""CI/CD pipelines (GitHub Actions, GitLab CI, Jenkins, CircleCI, Azure DevOps).

Every generated file goes through the real validators of its kind (actionlint
with shellcheck, check-jsonschema with the SchemaStore schemas, a Groovy parse,
checkov), and no finding of severity error is accepted; a missing tool is such
an error.  Many trees are validated in one run per kind (one folder per
combination) so that the slow tools start once; a file whose bytes were already
validated (the GitHub drift workflow is the same for every language and strategy
of one model) is validated once.

Every pipeline also carries the scheduled drift check: the five systems schedule the
same drift environments with the same cron, and on a scheduled run only the drift jobs
run - read back from each file's own rules and conditions.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import itertools
import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import pytest
import yaml

from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import Finding
from ansible_collections.sdd.devops_flow.plugins.module_utils.fileset import FileSet
from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import (
    DEPLOY_STRATEGIES,
    LANGUAGES,
    PIPELINE_TYPES,
    Options,
    model_from_flags,
    render,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.model import (
    Cloud,
    Environment,
    FrozenMap,
    HealthChecks,
    Model,
    Rollout,
    Security,
    SecurityItem,
    Service,
    Source,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.render.pipelines_github import DRIFT_PATH
from ansible_collections.sdd.devops_flow.plugins.module_utils.render.pipelines_plan import DRIFT_SCHEDULE, build_plan
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators import pipelines as vp
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators import registry
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.base import Validator
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.checkov import Checkov

REPO = Path(__file__).resolve().parents[5]
EXAMPLES = REPO / "examples" / "docs"
FOREIGN = REPO / "tests" / "fixtures" / "foreign"

REQS = {
    "REQ-14": EXAMPLES / "07_REQ" / "REQ-14_order_intake_api.md",
    "REQ-21": EXAMPLES / "07_REQ" / "REQ-21_catalog_search.md",
    "REQ-102": EXAMPLES / "07_REQ" / "REQ-102_ledger_events.md",
    "acme": FOREIGN / "acme-payments" / "docs" / "07_REQ" / "REQ-07_payment_gateway.md",
    "northwind": FOREIGN / "northwind-catalog" / "docs" / "07_REQ" / "REQ-12_catalog_search.md",
    "contoso": FOREIGN
    / "contoso-ledger"
    / "docs"
    / "07_REQ"
    / "REQ-21_ledger_event_publisher"
    / "REQ-21_ledger_event_publisher.md",
    "initech": FOREIGN / "initech-notifications" / "docs" / "07_REQ" / "REQ-15_notification_dispatcher.md",
}

#: the validators of each pipeline kind (what validators/registry.py runs for them)
VALIDATORS: Dict[str, Callable[[], List[Validator]]] = {
    "github-actions": lambda: [vp.Actionlint(), vp.CheckJsonschema("github-actions"), Checkov("github-actions")],
    "gitlab-ci": lambda: [vp.CheckJsonschema("gitlab-ci"), Checkov("gitlab-ci")],
    "jenkinsfile": lambda: [vp.GroovyParse()],
    "circleci": lambda: [vp.CheckJsonschema("circleci"), Checkov("circleci")],
    "azure-pipelines": lambda: [vp.CheckJsonschema("azure-pipelines"), Checkov("azure-pipelines")],
}
CHECKOV_FRAMEWORKS = {
    "github-actions": "github_actions",
    "gitlab-ci": "gitlab_ci",
    "circleci": "circleci_pipelines",
    "azure-pipelines": "azure_pipelines",
}

_models: Dict[Tuple[str, str], Model] = {}


def model_of(name: str, cloud: str = "") -> Model:
    key = (name, cloud)
    if key not in _models:
        _models[key] = load_model(req=str(REQS[name]), cloud=cloud or None)
    return _models[key]


def pipeline(model: Model, system: str, **options: str) -> FileSet:
    return render(model, Options(target="pipeline", pipeline=system, **options))


def only(files: FileSet) -> str:
    """The CI/CD file of a pipeline (GitHub Actions has a second one: ``drift(files)``)."""
    main = [f for f in files if f.path != DRIFT_PATH]
    assert len(main) == 1 and len(files) - len(main) in (0, 1)
    return main[0].content


def drift(files: FileSet) -> str:
    """The GitHub drift workflow."""
    found = files.get(DRIFT_PATH)
    assert found is not None
    return found.content


def write_tree(root: Path, folder: str, files: FileSet, seen: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Write ``files`` under ``folder``; with ``seen`` (digest -> path), bytes written before are skipped."""
    kinds = {}
    for file in files:
        if seen is not None:
            digest = hashlib.sha256(("%s\0%s" % (file.kind, file.content)).encode("utf-8")).hexdigest()
            if digest in seen:
                continue
            seen[digest] = "%s/%s" % (folder, file.path)
        path = "%s/%s" % (folder, file.path)
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(file.content, encoding="utf-8")
        kinds[path] = file.kind
    return kinds


def validate(root: Path, kinds: Dict[str, str]) -> List[Finding]:
    """Every validator of each kind, once over all the files of that kind, in parallel."""
    tasks = []
    for kind in sorted(set(kinds.values())):
        paths = sorted(p for p, k in kinds.items() if k == kind)
        tasks += [(validator, paths) for validator in VALIDATORS[kind]()]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, len(tasks))) as pool:
        results = list(pool.map(lambda task: task[0].check(str(root), task[1]), tasks))
    return sorted((f for found in results for f in found), key=lambda f: (f.file, f.line, f.tool))


def errors(findings: Sequence[Finding]) -> List[str]:
    return [f.format() + " [%s]" % f.tool for f in findings if f.severity == "error"]


# --------------------------------------------------------------------------- one validation run


@dataclasses.dataclass
class Tree:
    """Every generated tree of this module, validated in one run per kind."""

    root: Path
    groups: Dict[str, Dict[str, str]]  # group -> {path: kind}
    texts: Dict[str, Dict[str, str]]  # group -> {folder: content of the CI/CD file}
    drift_texts: Dict[str, Dict[str, str]]  # group -> {folder: content of the GitHub drift workflow}
    findings: List[Finding]
    seconds: float

    def errors(self, group: str) -> List[str]:
        paths = set(self.groups[group])
        return errors([f for f in self.findings if f.file in paths or f.file == ""])


HOSTILE_SPEC = "id: 'x$(touch /tmp/pwned)`id`'\nimplementation:\n  language: 'python $(id)'\n"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    root = tmp_path_factory.mktemp("pipelines")
    groups: Dict[str, Dict[str, str]] = {}
    texts: Dict[str, Dict[str, str]] = {}
    drift_texts: Dict[str, Dict[str, str]] = {}
    seen: Dict[str, str] = {}

    def add(group: str, folder: str, files: FileSet) -> None:
        groups.setdefault(group, {}).update(write_tree(root, "%s/%s" % (group, folder), files, seen))
        texts.setdefault(group, {})[folder] = only(files)
        if files.get(DRIFT_PATH) is not None:
            drift_texts.setdefault(group, {})[folder] = drift(files)

    for system, language, strategy in itertools.product(PIPELINE_TYPES, LANGUAGES, DEPLOY_STRATEGIES):
        model = model_from_flags("orders", language, strategy)
        add(
            "matrix",
            "%s-%s-%s" % (system, language, strategy),
            pipeline(model, system, language=language, deploy_strategy=strategy),
        )
    for name in REQS:
        for system in PIPELINE_TYPES:
            add("documents", "%s-%s" % (name, system), pipeline(model_of(name), system))
    for name, cloud in (("REQ-14", "gcp"), ("REQ-14", "azure"), ("REQ-21", "aws"), ("initech", "azure")):
        for system in PIPELINE_TYPES:
            add("documents", "%s-%s-%s" % (name, cloud, system), pipeline(model_of(name, cloud), system))
    spec = tmp_path_factory.mktemp("docs") / "09_SPEC" / "SPEC-66_x.yaml"
    spec.parent.mkdir(parents=True)
    spec.write_text(HOSTILE_SPEC, encoding="utf-8")
    for system in PIPELINE_TYPES:
        add("hostile", system, pipeline(hostile_model(), system))
        add("hostile-spec", system, pipeline(load_model(spec=str(spec)), system))
    kinds = {path: kind for group in groups.values() for path, kind in group.items()}
    start = time.monotonic()
    findings = validate(root, kinds)
    return Tree(root, groups, texts, drift_texts, findings, time.monotonic() - start)


def test_every_type_language_strategy_validates(tree: Tree) -> None:
    assert len(tree.texts["matrix"]) == len(PIPELINE_TYPES) * len(LANGUAGES) * len(DEPLOY_STRATEGIES) == 60
    # every CI/CD file and every distinct drift workflow (one: the flags model is the same service)
    assert len(tree.groups["matrix"]) == 60 + 1
    assert len(tree.drift_texts["matrix"]) == len(LANGUAGES) * len(DEPLOY_STRATEGIES)
    total = sum(len(group) for group in tree.groups.values())
    print("validated %d pipeline files in %.1f s" % (total, tree.seconds))
    assert tree.errors("matrix") == []


def test_documents_and_forced_clouds_validate(tree: Tree) -> None:
    assert len(tree.texts["documents"]) == (len(REQS) + 4) * len(PIPELINE_TYPES)
    assert len(tree.drift_texts["documents"]) == len(REQS) + 4
    assert tree.errors("documents") == []


def test_checkov_really_scans_each_system(tree: Tree) -> None:
    """checkov skips a file it cannot read without a word: each file must get checks."""
    checkov = Checkov("github-actions").tools[0].find()
    assert checkov, "checkov is not installed"
    folder = tree.root / "documents"
    folders = {"REQ-14-%s" % system for system in PIPELINE_TYPES}
    files = [
        p
        for p, k in tree.groups["documents"].items()
        if k in CHECKOV_FRAMEWORKS and p.split("/")[1] in folders and not p.endswith(DRIFT_PATH)
    ]
    argv = [checkov, "--skip-download", "--output", "json", "--framework", *sorted(set(CHECKOV_FRAMEWORKS.values()))]
    for path in files:
        argv += ["--file", path.split("/", 1)[1]]
    run = subprocess.run(
        argv, cwd=folder, capture_output=True, text=True, env=dict(os.environ, LOG_LEVEL="ERROR"), check=False
    )
    data = json.loads(run.stdout)
    passed: Dict[str, int] = {}
    for report in data if isinstance(data, list) else [data]:
        for check in (report.get("results") or {}).get("passed_checks", []):
            name = check.get("file_path", "").lstrip("/")
            passed[name] = passed.get(name, 0) + 1
    assert len(files) == 4
    for path in files:
        assert passed.get(path.split("/", 1)[1], 0) > 5, (path, passed)


# --------------------------------------------------------------------------- what the documents say


def deploy_calls(text: str) -> List[Tuple[str, str, str]]:
    """(environment, phase, weight) of every deploy.sh call, in file order."""
    pattern = r'deploy\.sh --env (\S+) --image "\$IMAGE_REF" --phase (\w+)(?: --weight (\d+))?'
    return [(m.group(1), m.group(2), m.group(3) or "") for m in re.finditer(pattern, text)]


def test_req14_canary_production_on_aws() -> None:
    model = model_of("REQ-14")
    plan = build_plan(model, Options(target="pipeline"))
    assert plan.cloud.key == "aws" and plan.cloud.registry == "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert (plan.production.strategy, plan.production.canary_steps, plan.hold_seconds) == (
        "canary",
        (5, 25, 50, 100),
        600,
    )
    text = only(pipeline(model, "github-actions"))
    assert deploy_calls(text) == [
        ("staging", "idle", ""),
        ("staging", "switch", ""),
        ("prod", "canary", "5"),
        ("prod", "canary", "25"),
        ("prod", "canary", "50"),
        ("prod", "canary", "100"),
        ("prod", "promote", ""),
    ]
    workflow = yaml.safe_load(text)
    jobs = workflow["jobs"]
    for weight in (5, 25, 50, 100):
        steps = [s.get("run", "") for s in jobs["deploy_prod_canary_%d" % weight]["steps"]]
        assert "sleep 600" in steps
        assert "./scripts/health-check.sh --env prod --target canary --gate" in steps
    assert jobs["rollback_prod"]["needs"] == [
        "deploy_prod_canary_5",
        "deploy_prod_canary_25",
        "deploy_prod_canary_50",
        "deploy_prod_canary_100",
        "deploy_prod_promote",
    ]
    assert "contains(needs.*.result, 'failure')" in jobs["rollback_prod"]["if"]
    assert workflow["permissions"] == {"contents": "read"}
    assert jobs["lint"]["permissions"] == {"contents": "read"}
    assert jobs["deploy_prod_canary_5"]["permissions"] == {"contents": "read", "id-token": "write"}
    assert jobs["deploy_prod_canary_5"]["environment"] == {"name": "prod"}
    assert jobs["approve_prod"]["environment"] == "prod-approval"
    assert jobs["deploy_prod_canary_5"]["concurrency"]["group"] == "deploy-order-intake-api-prod"
    uses = [s.get("uses", "") for job in jobs.values() for s in job["steps"]]
    assert "aws-actions/configure-aws-credentials@v6" in uses and "aws-actions/amazon-ecr-login@v2" in uses
    assert all(job.get("timeout-minutes") for job in jobs.values())
    assert "# from REQ-14 9.5.8 Deployment Automation Requirements (REQ-14_order_intake_api.md:412)" in text
    fields = next(iter(pipeline(model, "github-actions"))).fields
    assert {"environments[2].strategy", "rollout.canary_steps", "rollout.hold_seconds", "service.language"} <= set(
        fields
    )


def test_req21_blue_green_on_gcp() -> None:
    model = model_of("REQ-21")
    plan = build_plan(model, Options(target="pipeline"))
    assert (plan.cloud.key, plan.production.strategy, plan.toolchain.key) == ("gcp", "blue-green", "node")
    assert plan.cloud.registry == "us-central1-docker.pkg.dev"
    gitlab = only(pipeline(model, "gitlab-ci"))
    assert deploy_calls(gitlab) == [("staging", "rolling", ""), ("prod", "idle", ""), ("prod", "switch", "")]
    data = yaml.safe_load(gitlab)
    assert "./scripts/health-check.sh --env prod --target idle" in data["deploy_prod_idle"]["script"][0]
    assert data["deploy_prod_idle"]["id_tokens"]["OIDC_TOKEN"]["aud"] == "$CI_SERVER_URL"
    assert "gcloud iam workload-identity-pools create-cred-config" in data["deploy_prod_idle"]["script"][0]
    assert data["approve_prod"]["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "schedule"', "when": "never"},
        {"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", "when": "manual"},
    ]
    assert data["rollback_prod"]["rules"][1]["when"] == "on_failure"
    assert data["rollback_prod"]["needs"] == ["deploy_prod_idle", "deploy_prod_switch"]
    assert data["deploy_prod_switch"]["resource_group"] == "deploy-catalog-search-prod"
    assert data["test"]["artifacts"]["reports"]["coverage_report"]["coverage_format"] == "cobertura"
    assert data[".toolchain"]["cache"]["key"]["files"] == ["package-lock.json"]
    github = yaml.safe_load(only(pipeline(model, "github-actions")))
    assert any(s.get("uses") == "google-github-actions/auth@v3" for s in github["jobs"]["build"]["steps"])


def test_req102_rolling_production_canary_staging_on_azure() -> None:
    model = model_of("REQ-102")
    plan = build_plan(model, Options(target="pipeline"))
    assert (plan.cloud.key, plan.production.strategy, plan.toolchain.key) == ("azure", "rolling", "go")
    assert plan.hold_seconds == 900
    expected = [
        ("staging", "canary", "10"),
        ("staging", "canary", "50"),
        ("staging", "canary", "100"),
        ("staging", "promote", ""),
        ("prod", "rolling", ""),
    ]
    for system in PIPELINE_TYPES:
        assert deploy_calls(only(pipeline(model, system))) == expected, system
    azure = yaml.safe_load(only(pipeline(model, "azure-devops")))
    stages = {s["stage"]: s for s in azure["stages"]}
    assert stages["deploy_staging"]["lockBehavior"] == "sequential"
    prod_jobs = stages["deploy_prod"]["jobs"]
    assert prod_jobs[0]["steps"][0]["task"] == "ManualValidation@1"
    assert prod_jobs[-1]["deployment"] == "rollback_prod"
    assert prod_jobs[-1]["condition"] == "eq(dependencies.deploy_prod_rolling.result, 'Failed')"
    assert azure["variables"]["GOMODCACHE"] == "$(Pipeline.Workspace)/.cache/go-mod"
    jenkins = only(pipeline(model, "jenkins"))
    assert jenkins.count("sleep(time: 900, unit: 'SECONDS')") == 3
    assert "withCredentials([file(credentialsId: 'oidc-token-azure', variable: 'OIDC_TOKEN_FILE')])" in jenkins


def test_foreign_documents_shape_the_pipelines() -> None:
    acme = build_plan(model_of("acme"), Options(target="pipeline"))
    assert (acme.toolchain.key, acme.cloud.key, acme.production.strategy) == ("java", "aws", "blue-green")
    assert [e.strategy for e in {j.env for j in acme.deploy_jobs(production=False)}] == ["canary"]
    initech = build_plan(model_of("initech"), Options(target="pipeline"))
    assert [j.id for j in initech.deploy_jobs()][:2] == ["deploy_qa_rolling", "deploy_prod_canary_10"]
    contoso = build_plan(model_of("contoso"), Options(target="pipeline"))
    assert (contoso.toolchain.key, contoso.toolchain.version) == ("dotnet", "8.0")
    northwind = build_plan(model_of("northwind"), Options(target="pipeline"))
    assert northwind.production.canary_steps == (5, 25, 50, 100) and northwind.cloud.key == "gcp"
    assert "mcr.microsoft.com/dotnet/sdk:8.0" in only(pipeline(model_of("contoso"), "gitlab-ci"))


# --------------------------------------------------------------------------- the five systems agree


def jobs_github(text: str) -> List[str]:
    return list(yaml.safe_load(text)["jobs"])


def _ci_cd(ids: List[str]) -> List[str]:
    """The CI/CD jobs: the scheduled drift jobs are checked on their own."""
    return [i for i in ids if not i.startswith("drift_")]


def jobs_gitlab(text: str) -> List[str]:
    reserved = {"workflow", "stages", "default", "variables", "include"}
    return _ci_cd([k for k in yaml.safe_load(text) if k not in reserved and not k.startswith(".")])


def jobs_jenkins(text: str) -> List[str]:
    names = re.findall(r"^\s*stage\('([a-z0-9_]+)'\)", text, re.MULTILINE)
    rollback = re.search(r"failure \{\n\s*echo '([a-z0-9_]+): ", text)
    return _ci_cd(names) + ([rollback.group(1)] if rollback else [])


def jobs_circleci(text: str) -> List[str]:
    return [next(iter(e)) if isinstance(e, dict) else e for e in yaml.safe_load(text)["workflows"]["ci-cd"]["jobs"]]


def jobs_azure(text: str) -> List[str]:
    return _ci_cd([j.get("job") or j.get("deployment") for s in yaml.safe_load(text)["stages"] for j in s["jobs"]])


EXTRACT: Dict[str, Callable[[str], List[str]]] = {
    "github-actions": jobs_github,
    "gitlab-ci": jobs_gitlab,
    "jenkins": jobs_jenkins,
    "circleci": jobs_circleci,
    "azure-devops": jobs_azure,
}


@pytest.mark.parametrize("name", ["REQ-14", "REQ-102", "initech", "flags"])
def test_five_systems_have_the_same_stages_and_strategy(name: str) -> None:
    model = model_from_flags("orders", "java", "canary") if name == "flags" else model_of(name)
    texts = {system: only(pipeline(model, system)) for system in PIPELINE_TYPES}
    sequences = {system: EXTRACT[system](text) for system, text in texts.items()}
    reference = sequences["github-actions"]
    assert reference[:5] == ["lint", "test", "security_scan", "iac_scan", "build"]
    assert reference[-1].startswith("rollback_")
    for system, sequence in sequences.items():
        assert sequence == reference, system
    calls = {system: deploy_calls(text) for system, text in texts.items()}
    for system, found in calls.items():
        assert found == calls["github-actions"] and found, system
    for system, text in texts.items():
        assert text.count("./scripts/rollback.sh --env") == 1, system


# --------------------------------------------------------------------------- options, determinism


def test_flags_override_the_documents() -> None:
    model = model_of("REQ-14")
    files = pipeline(model, "gitlab-ci", language="go", deploy_strategy="blue-green")
    text = only(files)
    assert "image: 'golang:1.27'" in text and "pytest" not in text and "ruff" not in text
    assert deploy_calls(text)[-2:] == [("prod", "idle", ""), ("prod", "switch", "")]
    assert deploy_calls(text)[:2] == [("staging", "idle", ""), ("staging", "switch", "")]  # staging from 9.5.2
    fields = next(iter(files)).fields
    assert "service.language" not in fields and "environments[2].strategy" not in fields
    forced = build_plan(model, Options(target="pipeline", cloud="gcp"))
    assert forced.cloud.key == "gcp" and forced.cloud.region == "us-central1"
    assert build_plan(model_from_flags("x", None, None), Options(target="pipeline")).toolchain.key == "generic"


def test_default_system_is_github_actions() -> None:
    files = render(model_from_flags("orders", "python", "rolling"), Options(target="pipeline"))
    assert [f.path for f in files] == [".github/workflows/ci-cd.yml", ".github/workflows/drift.yml"]
    assert [(f.kind, f.comment) for f in files] == [("github-actions", "hash"), ("github-actions", "hash")]
    jenkins = pipeline(model_from_flags("orders", "python", "rolling"), "jenkins")
    assert [(f.path, f.kind, f.comment) for f in jenkins] == [("Jenkinsfile", "jenkinsfile", "slash")]
    assert only(jenkins).startswith("// Generated by sdd.devops_flow")


def test_output_is_deterministic() -> None:
    for system in PIPELINE_TYPES:
        first = only(pipeline(model_of("REQ-14"), system))
        second = only(pipeline(load_model(req=str(REQS["REQ-14"])), system))
        assert first == second, system


# --------------------------------------------------------------------------- hostile values

PAYLOAD = "x$(touch /tmp/pwned)`id`'\"\n${{ secrets.TOKEN }}<< pipeline.git.branch >>${env.HOME}\\"


def hostile_model() -> Model:
    sources = FrozenMap(
        {
            "environments[1].strategy": Source("docs/REQ-66.md\n// }\nstage('evil') {", 7, PAYLOAD),
            "service.language": Source("SPEC-66\n  evil: true\n.yaml", 3, PAYLOAD),
        }
    )
    return Model(
        service=Service(
            name=PAYLOAD,
            language="python" + PAYLOAD,
            image="registry.example.com/" + PAYLOAD + ":1",
            ports=(8080,),
            health=HealthChecks(readiness="/ready" + PAYLOAD),
        ),
        cloud=Cloud(provider="aws", primary_region="us-east-1" + PAYLOAD),
        environments=(
            Environment("dev", strategy="manual"),
            Environment("stag" + PAYLOAD, strategy="canary", canary_steps=(5, 500, -1, 50)),
            Environment("prod", strategy="blue-green"),
        ),
        rollout=Rollout(hold_seconds=30),
        sources=sources,
    )


def outside_comments(system: str, text: str) -> str:
    """The file without its comments: the values and structure a CI system reads."""
    if system == "jenkins":
        return "\n".join(line for line in text.split("\n") if not line.strip().startswith("//"))
    return json.dumps(yaml.safe_load(text))


def test_hostile_values_are_inert(tree: Tree) -> None:
    model = hostile_model()
    plan = build_plan(model, Options(target="pipeline"))
    assert plan.service == "x-touch-tmp-pwned-id-secrets-token-pipeline-git-branch-env-home"
    assert plan.cloud.region == "us-east-1"  # not a region: the default
    assert [j.weight for j in plan.deploy_jobs(production=False) if j.phase == "canary"] == [5, 50]
    for system, text in tree.texts["hostile"].items():
        values = outside_comments(system, text)
        for bad in ("touch /tmp", "`id`", "secrets.TOKEN", "${env.HOME}", "evil"):
            assert bad not in values, (system, bad)
        assert plan.service in values, system
        # comments stay comments: the structure is the plan's, nothing was added
        assert EXTRACT[system](text) == [job.id for job in plan.jobs], system
    assert tree.errors("hostile") == []


def test_hostile_service_name_in_a_spec(tree: Tree) -> None:
    for system, text in tree.texts["hostile-spec"].items():
        assert "$(touch" not in text and "`id`" not in text, system
        assert "x-touch-tmp-pwned-id" in text, system
    assert tree.errors("hostile-spec") == []


# --------------------------------------------------------------------------- the validators themselves


def test_validators_report_real_mistakes_with_lines(tmp_path: Path) -> None:
    github = only(pipeline(model_of("REQ-14"), "github-actions"))
    broken = github.replace("timeout-minutes: 20", "timeout-minutes: soon", 1).replace(
        "run: |\n", "run: |\n          echo ${{ github.event.pull_request.title }}\n", 1
    )
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci-cd.yml").write_text(broken, encoding="utf-8")
    found = vp.Actionlint().check(str(tmp_path), [".github/workflows/ci-cd.yml"])
    assert any("untrusted" in f.message and f.line > 0 for f in found), errors(found)
    schema = vp.CheckJsonschema("github-actions").check(str(tmp_path), [".github/workflows/ci-cd.yml"])
    assert schema and all(f.severity == "error" for f in schema)
    line = broken.split("\n").index("    timeout-minutes: soon") + 1
    assert [f.line for f in schema] == [line]

    gitlab = only(pipeline(model_of("REQ-14"), "gitlab-ci")).replace("stage: test", "stage: tset", 1)
    (tmp_path / ".gitlab-ci.yml").write_text(gitlab.replace("needs:", "needz:", 1), encoding="utf-8")
    assert vp.CheckJsonschema("gitlab-ci").check(str(tmp_path), [".gitlab-ci.yml"])

    jenkins = only(pipeline(model_of("REQ-14"), "jenkins"))
    lines = jenkins.split("\n")
    cut = next(i for i, text in enumerate(lines) if text.strip() == "stage('test') {")
    (tmp_path / "Jenkinsfile").write_text("\n".join(lines[:cut] + lines[cut + 1 :]), encoding="utf-8")
    found = vp.GroovyParse().check(str(tmp_path), ["Jenkinsfile"])
    assert found and found[0].line > 0 and found[0].severity == "error"


def test_a_missing_tool_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kinds = write_tree(tmp_path, "gh", pipeline(model_of("REQ-14"), "github-actions"))
    monkeypatch.setenv("DEVOPS_FLOW_ACTIONLINT", str(tmp_path / "no-such-actionlint"))
    monkeypatch.setenv("DEVOPS_FLOW_GROOVY", str(tmp_path / "no-such-groovy"))
    found = vp.Actionlint().check(str(tmp_path), list(kinds))
    assert [(f.code, f.severity) for f in found] == [("tool-missing", "error")]
    assert [f.code for f in vp.GroovyParse().check(str(tmp_path), ["Jenkinsfile"])] == ["tool-missing"]


def test_the_registry_runs_these_validators() -> None:
    for kind in ("github-actions", "gitlab-ci", "jenkinsfile", "circleci", "azure-pipelines"):
        names = sorted(type(v).__name__ for v in registry.validators_for(kind))
        assert names == sorted(type(v).__name__ for v in VALIDATORS[kind]()), kind


def test_plan_ids_are_valid_everywhere() -> None:
    model = dataclasses.replace(
        model_of("REQ-14"),
        environments=(
            Environment("qa env", strategy="rolling"),
            Environment("qa-env", strategy="blue-green"),
            Environment("prod", strategy="canary", canary_steps=(100,)),
        ),
    )
    ids = [job.id for job in build_plan(model, Options(target="pipeline")).jobs]
    assert len(ids) == len(set(ids))
    assert all(re.match(r"^[a-z][a-z0-9_]*$", i) for i in ids)
    assert "deploy_qa_env_2_idle" in ids and "deploy_prod_canary_100" in ids


# --------------------------------------------------------------------------- the scheduled drift check


def _commands(text: str) -> List[str]:
    """Every drift playbook call of a file, in order."""
    return re.findall(r"ansible-playbook sdd\.devops_flow\.drift -e [^\n']*", text)


def _envs(commands: List[str]) -> List[str]:
    return [re.search(r"drift_environment=(\S+)", c).group(1) for c in commands]  # type: ignore[union-attr]


def _comment_cron(text: str) -> str:
    return re.search(r"with the cron ([0-9*/,-]+(?: [0-9*/,-]+){4}) \(UTC", text).group(1)  # type: ignore[union-attr]


def triggers(workflow: Dict[Any, Any]) -> Dict[str, Any]:
    """A workflow's ``on`` (a YAML 1.1 reader turns the key into true)."""
    return dict(workflow["on"] if "on" in workflow else workflow[True])


def drift_github(files: FileSet) -> Dict[str, Any]:
    data = yaml.safe_load(drift(files))
    jobs = data["jobs"]
    assert "schedule" not in triggers(yaml.safe_load(only(files)))
    return {
        "cron": triggers(data)["schedule"][0]["cron"],
        "req": data["env"]["DRIFT_REQ"],
        "envs": [job["environment"]["name"] for job in jobs.values()],
        "commands": _commands(drift(files)),
    }


def drift_gitlab(files: FileSet) -> Dict[str, Any]:
    text = only(files)
    data = yaml.safe_load(text)
    jobs = {k: v for k, v in data.items() if k.startswith("drift_")}
    return {
        "cron": _comment_cron(text),
        "req": data["variables"]["DRIFT_REQ"],
        "envs": [job["environment"]["name"] for job in jobs.values()],
        "commands": _commands(text),
    }


def drift_jenkins(files: FileSet) -> Dict[str, Any]:
    text = only(files)
    return {
        "cron": re.search(r"triggers \{ cron\('([^']+)'\) \}", text).group(1),  # type: ignore[union-attr]
        "req": re.search(r"DRIFT_REQ = '([^']+)'", text).group(1),  # type: ignore[union-attr]
        "envs": _envs(_commands(text)),
        "commands": _commands(text),
    }


def drift_circleci(files: FileSet) -> Dict[str, Any]:
    text = only(files)
    data = yaml.safe_load(text)
    entries = [next(iter(e.items())) for e in data["workflows"]["drift"]["jobs"]]
    service = data["jobs"][entries[0][0]]["environment"]["SERVICE_NAME"]
    return {
        "cron": _comment_cron(text),
        "req": data["jobs"][entries[0][0]]["environment"]["DRIFT_REQ"],
        "envs": [entry["context"][0][len(service) + 1 :] for _id, entry in entries],
        "commands": _commands(text),
    }


def drift_azure(files: FileSet) -> Dict[str, Any]:
    text = only(files)
    data = yaml.safe_load(text)
    stage = next(s for s in data["stages"] if s["stage"] == "drift")
    steps = [step for job in stage["jobs"] for step in job["steps"]]
    scripts = [step.get("script") or step.get("inputs", {}).get("inlineScript", "") for step in steps]
    scripts = [s for s in scripts if "ansible-playbook" in s]
    return {
        "cron": data["schedules"][0]["cron"],
        "req": data["variables"]["DRIFT_REQ"],
        "envs": _envs(_commands("\n".join(scripts))),
        "commands": _commands(text),
    }


DRIFT: Dict[str, Callable[[FileSet], Dict[str, Any]]] = {
    "github-actions": drift_github,
    "gitlab-ci": drift_gitlab,
    "jenkins": drift_jenkins,
    "circleci": drift_circleci,
    "azure-devops": drift_azure,
}


@pytest.mark.parametrize(
    ("name", "envs", "req"),
    [
        ("REQ-14", ["staging", "prod"], "docs/07_REQ/REQ-14_order_intake_api.md"),
        ("REQ-102", ["staging", "prod"], "docs/07_REQ/REQ-102_ledger_events/REQ-102_ledger_events.md"),
        ("initech", ["qa", "prod"], "docs/07_REQ/REQ-15_notification_dispatcher.md"),
        ("flags", ["staging", "prod"], "docs/07_REQ/orders.md"),  # no REQ read: the user sets DRIFT_REQ
    ],
)
def test_five_systems_schedule_the_same_drift_check(name: str, envs: List[str], req: str) -> None:
    model = model_from_flags("orders", "java", "canary") if name == "flags" else model_of(name)
    found = {system: DRIFT[system](pipeline(model, system)) for system in PIPELINE_TYPES}
    expected = {
        "cron": DRIFT_SCHEDULE,
        "req": req,
        "envs": envs,
        "commands": [
            'ansible-playbook sdd.devops_flow.drift -e drift_req="$DRIFT_REQ" -e drift_environment=%s' % env
            for env in envs
        ],
    }
    for system, drift_check in found.items():
        assert drift_check == expected, system
    # each drift job installs the collection first; the drift workflow deploys and builds nothing
    for system in PIPELINE_TYPES:
        files = pipeline(model, system)
        text = drift(files) if system == "github-actions" else only(files)
        assert text.count("ansible-galaxy collection install") == len(envs), system
    github = drift(pipeline(model, "github-actions"))
    assert "deploy.sh" not in github and "docker" not in github


def test_the_drift_check_uses_each_systems_deploy_credentials() -> None:
    model = model_of("REQ-14")  # AWS
    github = yaml.safe_load(drift(pipeline(model, "github-actions")))
    for job in github["jobs"].values():
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        assert any(s.get("uses") == "aws-actions/configure-aws-credentials@v6" for s in job["steps"])
    gitlab = yaml.safe_load(only(pipeline(model, "gitlab-ci")))
    assert gitlab["drift_prod"]["id_tokens"] == gitlab["deploy_prod_promote"]["id_tokens"]
    assert gitlab["drift_prod"]["environment"] == {"name": "prod", "action": "verify"}
    assert "AWS_WEB_IDENTITY_TOKEN_FILE" in gitlab["drift_prod"]["script"][0]
    jenkins = only(pipeline(model, "jenkins"))
    drift_part = jenkins[jenkins.index("stage('Drift check')") :]
    assert drift_part.count("withCredentials([file(credentialsId: 'oidc-token-aws'") == 2
    circleci = yaml.safe_load(only(pipeline(model, "circleci")))
    assert circleci["workflows"]["drift"]["jobs"] == [
        {"drift_staging": {"context": ["order-intake-api-staging"]}},
        {"drift_prod": {"context": ["order-intake-api-prod"]}},
    ]
    assert "$CIRCLE_OIDC_TOKEN_V2" in circleci["jobs"]["drift_prod"]["steps"][1]["run"]["command"]
    azure = yaml.safe_load(only(pipeline(model, "azure-devops")))
    stage = next(s for s in azure["stages"] if s["stage"] == "drift")
    step = stage["jobs"][0]["steps"][-1]
    assert step["task"] == "AzureCLI@2" and step["inputs"]["azureSubscription"] == (
        "${{ variables.AWS_FEDERATION_SERVICE_CONNECTION }}"
    )
    # Google Cloud and Azure: the SDKs get the federated identity too
    gcp = only(pipeline(model_of("REQ-21"), "gitlab-ci"))
    assert "GOOGLE_APPLICATION_CREDENTIALS" in gcp and "external_account" in gcp
    azure_cloud = only(pipeline(model_of("REQ-102"), "jenkins"))
    assert "AZURE_FEDERATED_TOKEN_FILE" in azure_cloud
    forced = only(pipeline(model_of("REQ-14", "gcp"), "gitlab-ci"))
    assert "-e drift_environment=prod" in forced and "drift_cloud" not in forced
    assert "-e drift_cloud=azure" in only(pipeline(model_of("REQ-14"), "gitlab-ci", cloud="azure"))


# --- a scheduled run, read from each system's own rules and conditions


def _gitlab_value(token: str, ctx: Dict[str, str]) -> Optional[str]:
    token = token.strip()
    if token.startswith("$"):
        return ctx.get(token[1:]) or None
    return token.strip("'\"")


def _gitlab_if(expression: str, ctx: Dict[str, str]) -> bool:
    for part in expression.split("&&"):
        part = part.strip()
        match = re.match(r"^(\S+)\s*(==|!=)\s*(\S+)$", part)
        if match:
            left, right = _gitlab_value(match.group(1), ctx), _gitlab_value(match.group(3), ctx)
            if (left == right) != (match.group(2) == "=="):
                return False
        elif not _gitlab_value(part, ctx):
            return False
    return True


def _gitlab_runs(rules: Optional[List[Dict[str, str]]], ctx: Dict[str, str]) -> bool:
    if rules is None:
        return True
    for rule in rules:
        if "if" not in rule or _gitlab_if(rule["if"], ctx):
            return rule.get("when", "on_success") != "never"
    return False


def running_gitlab(text: str, ctx: Dict[str, str]) -> List[str]:
    data = yaml.safe_load(text)
    if not _gitlab_runs(data["workflow"]["rules"], ctx):
        return []
    reserved = {"workflow", "stages", "default", "variables"}
    return [
        k for k, v in data.items() if k not in reserved and not k.startswith(".") and _gitlab_runs(v.get("rules"), ctx)
    ]


def _jenkins_blocks(text: str) -> List[str]:
    """The conditions of a when block, split at the top-level semicolons."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "{"
        depth -= char == "}"
        if char == ";" and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [p for p in parts + [current.strip()] if p]


def _jenkins_true(condition: str, ctx: Dict[str, str]) -> bool:
    match = re.match(r"^(not|allOf|anyOf) \{(.*)\}$", condition, re.DOTALL)
    if match:
        inner = [_jenkins_true(c, ctx) for c in _jenkins_blocks(match.group(2))]
        return {"not": lambda: not inner[0], "allOf": lambda: all(inner), "anyOf": lambda: any(inner)}[match.group(1)]()
    match = re.match(r"^(branch|triggeredBy) '([^']*)'$", condition)
    assert match, condition
    return ctx[match.group(1)] == match.group(2)


def running_jenkins(text: str, ctx: Dict[str, str]) -> List[str]:
    """The top-level stages (their names) whose when block holds for ``ctx``."""
    lines = text.split("\n")
    out = []
    for index, line in enumerate(lines):
        match = re.match(r"^ {8}stage\('([^']+)'\) \{$", line)
        if not match:
            continue
        when = re.match(r"^ {12}when \{ (.*) \}$", lines[index + 1])
        conditions = [c for c in _jenkins_blocks(when.group(1)) if not c.startswith("beforeAgent")] if when else []
        if all(_jenkins_true(c, ctx) for c in conditions):
            out.append(match.group(1))
    return out


def _circleci_true(logic: Any, ctx: Dict[str, str]) -> bool:
    def value(item: Any) -> Any:
        return ctx["trigger_source"] if item == "<< pipeline.trigger_source >>" else item

    if isinstance(logic, dict):
        ((key, arg),) = logic.items()
        if key == "equal":
            return len({value(a) for a in arg}) == 1
        if key == "not":
            return not _circleci_true(arg, ctx)
        if key == "and":
            return all(_circleci_true(a, ctx) for a in arg)
        if key == "or":
            return any(_circleci_true(a, ctx) for a in arg)
    return bool(value(logic))


def running_circleci(text: str, ctx: Dict[str, str]) -> List[str]:
    out = []
    for workflow in yaml.safe_load(text)["workflows"].values():
        if "when" in workflow and not _circleci_true(workflow["when"], ctx):
            continue
        for entry in workflow["jobs"]:
            job_id, config = next(iter(entry.items())) if isinstance(entry, dict) else (entry, {})
            branches = (config.get("filters") or {}).get("branches", {}).get("only")
            if branches is None or ctx["branch"] in branches:
                out.append(job_id)
    return out


def _azure_eval(expression: str, ctx: Dict[str, Any]) -> Any:
    """A small evaluator of the Azure Pipelines condition expressions the renderer writes."""
    tokens = re.findall(r"\w+(?:\.\w+)*|\[|\]|\(|\)|,|'[^']*'", expression)
    position = 0

    def parse() -> Any:
        nonlocal position
        token = tokens[position]
        position += 1
        if token.startswith("'"):
            return token[1:-1]
        if token == "variables":
            assert tokens[position] == "["
            name = tokens[position + 1][1:-1]
            position += 3
            return ctx["variables"].get(name)
        assert tokens[position] == "(", expression
        position += 1
        args = []
        while tokens[position] != ")":
            args.append(parse())
            if tokens[position] == ",":
                position += 1
        position += 1
        functions = {
            "and": lambda: all(args),
            "or": lambda: any(args),
            "not": lambda: not args[0],
            "eq": lambda: str(args[0]).lower() == str(args[1]).lower(),
            "ne": lambda: str(args[0]).lower() != str(args[1]).lower(),
            "succeeded": lambda: ctx["succeeded"],
        }
        return functions[token]()

    return parse()


def running_azure(text: str, ctx: Dict[str, str]) -> List[str]:
    data = yaml.safe_load(text)
    ran: Dict[str, bool] = {}
    out = []
    for stage in data["stages"]:
        depends = stage.get("dependsOn", [])
        depends = [depends] if isinstance(depends, str) else depends
        succeeded = all(ran.get(d, False) for d in depends)
        condition = stage.get("condition", "succeeded()")
        runs = bool(_azure_eval(condition, {"variables": ctx, "succeeded": succeeded}))
        ran[stage["stage"]] = runs
        if runs:
            out += [j.get("job") or j.get("deployment") for j in stage["jobs"]]
    return out


SCHEDULED = {
    "gitlab-ci": {"CI_PIPELINE_SOURCE": "schedule", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"},
    "jenkins": {"branch": "main", "triggeredBy": "TimerTrigger"},
    "circleci": {"trigger_source": "scheduled_pipeline", "branch": "main"},
    "azure-devops": {"Build.Reason": "Schedule", "Build.SourceBranch": "refs/heads/main"},
}
PUSHED = {
    "gitlab-ci": {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"},
    "jenkins": {"branch": "main", "triggeredBy": "BranchEventCause"},
    "circleci": {"trigger_source": "webhook", "branch": "main"},
    "azure-devops": {"Build.Reason": "IndividualCI", "Build.SourceBranch": "refs/heads/main"},
}
RUNNING: Dict[str, Callable[[str, Dict[str, str]], List[str]]] = {
    "gitlab-ci": running_gitlab,
    "jenkins": running_jenkins,
    "circleci": running_circleci,
    "azure-devops": running_azure,
}


@pytest.mark.parametrize("name", ["REQ-14", "REQ-21", "REQ-102", "initech"])
def test_a_scheduled_run_runs_only_the_drift_jobs(name: str) -> None:
    model = model_of(name)
    plan = build_plan(model, Options(target="pipeline"))
    drift_ids = [job.id for job in plan.drift.jobs]
    deploy_ids = {job.id for job in plan.jobs if job.kind in ("deploy", "approval")}
    # GitHub Actions: the schedule is the drift workflow's only automatic trigger, the CI/CD
    # workflow has none
    files = pipeline(model, "github-actions")
    assert set(triggers(yaml.safe_load(only(files)))) == {"push", "pull_request"}
    drift_workflow = yaml.safe_load(drift(files))
    assert set(triggers(drift_workflow)) == {"schedule", "workflow_dispatch"}
    assert triggers(drift_workflow)["workflow_dispatch"] == {}
    assert list(drift_workflow["jobs"]) == drift_ids
    for system, running in RUNNING.items():
        text = only(pipeline(model, system))
        scheduled = running(text, SCHEDULED[system])
        pushed = running(text, PUSHED[system])
        if system == "jenkins":  # stage names: the drift stage holds the drift jobs
            assert scheduled == ["Drift check"], (system, scheduled)
            assert "Drift check" not in pushed and "lint" in pushed and "Deploy prod" in pushed
            continue
        assert scheduled == drift_ids, (system, scheduled)
        assert not set(pushed) & set(drift_ids), system
        assert deploy_ids & set(pushed) and "lint" in pushed, system


def test_the_drift_schedule_comes_from_the_documents() -> None:
    base = model_of("REQ-14")

    def with_row(verification: str) -> Model:
        row = SecurityItem("Compliance", "Configuration drift detection", "sdd.devops_flow.drift", verification)
        where = Source(str(REQS["REQ-14"]), 391, "9.5.6 Security Requirements")
        return dataclasses.replace(
            base,
            security=dataclasses.replace(base.security, other=(row,)),
            sources=FrozenMap(dict(base.sources, **{"security.other[0]": where})),
        )

    model = with_row("every night at 02:30 UTC (cron 30 2 * * *)")
    note = "from REQ-14 9.5.6 Security Requirements (REQ-14_order_intake_api.md:391)"
    assert build_plan(model, Options(target="pipeline")).drift.schedule_source == note
    for system in PIPELINE_TYPES:
        files = pipeline(model, system)
        assert DRIFT[system](files)["cron"] == "30 2 * * *", system
        assert note in (drift(files) if system == "github-actions" else only(files)), system
    for verification, cron in (
        ("weekly", "17 6 * * 1"),
        ("checked hourly", "17 * * * *"),
        ("cron 99 2 * * *, which is not a time", DRIFT_SCHEDULE),
        ("by hand", DRIFT_SCHEDULE),
    ):
        assert build_plan(with_row(verification), Options(target="pipeline")).drift.schedule == cron, verification
    unrelated = dataclasses.replace(
        base, security=Security(other=(SecurityItem("Firewall", "rules", "", "audited weekly, 0 3 * * 1"),))
    )
    assert build_plan(unrelated, Options(target="pipeline")).drift.schedule == DRIFT_SCHEDULE


def test_drift_values_are_inert(tree: Tree) -> None:
    plan = build_plan(hostile_model(), Options(target="pipeline"))
    assert plan.drift.req_path == "docs/07_REQ/%s.md" % plan.service
    # the CI/CD files of the systems that hold the drift jobs, and the GitHub drift workflow
    texts = [(system, text) for system, text in tree.texts["hostile"].items() if system != "github-actions"]
    texts += [("github-actions", text) for text in tree.drift_texts["hostile"].values()]
    assert len(texts) == len(PIPELINE_TYPES)
    for system, text in texts:
        values = outside_comments(system, text)
        for bad in ("touch /tmp", "`id`", "secrets.TOKEN", "${env.HOME}", "evil"):
            assert bad not in values, (system, bad)
        assert "drift_environment=prod" in values and plan.drift.req_path in values, system
