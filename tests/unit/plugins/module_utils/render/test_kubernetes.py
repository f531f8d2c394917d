"""Kubernetes manifests, strategies, Kustomize overlays and the Helm chart.

Every generated tree goes through the real tools: kubernetes-validate (strict, for
Kubernetes 1.30 and the newest version it ships; the Argo Rollouts kinds against
their structural schemas), checkov's Kubernetes policies, ``kubectl kustomize`` of
every overlay, and Helm 4 (helm-python-sdk) lint, render and checkov on the render.
A missing tool is an error finding, so these tests fail when one is missing.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import re
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import yaml

from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import Finding, UsageError
from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import Options, render
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.model import (
    AlertThresholds,
    EnvVar,
    MetricDefinition,
    Model,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import common
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import kubernetes_objects as ko
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators import kubernetes as vk
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.base import Validator
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.checkov import Checkov
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.registry import validators_for

REPO = Path(__file__).resolve().parents[5]
EXAMPLES = REPO / "examples" / "docs" / "07_REQ"
FOREIGN = REPO / "tests" / "fixtures" / "foreign"

DOCUMENTS: Dict[str, Path] = {
    "REQ-14": EXAMPLES / "REQ-14_order_intake_api.md",
    "REQ-21": EXAMPLES / "REQ-21_catalog_search.md",
    "REQ-102": EXAMPLES / "REQ-102_ledger_events.md",
    "acme-payments": FOREIGN / "acme-payments/docs/07_REQ/REQ-07_payment_gateway.md",
    "northwind-catalog": FOREIGN / "northwind-catalog/docs/07_REQ/REQ-12_catalog_search.md",
    "contoso-ledger": FOREIGN
    / "contoso-ledger/docs/07_REQ/REQ-21_ledger_event_publisher/REQ-21_ledger_event_publisher.md",
    "initech-notifications": FOREIGN / "initech-notifications/docs/07_REQ/REQ-15_notification_dispatcher.md",
}

#: The validators of each kind: the registry's, else this family's own (before they
#: are registered), always with checkov for the Kubernetes manifests.
OWN: Dict[str, List[Validator]] = {
    "kubernetes": [vk.KubernetesValidate(), Checkov("kubernetes")],
    "kustomize": [vk.Kustomize()],
    "helm": [vk.HelmChart()],
}

_MODELS: Dict[Tuple[str, str], Model] = {}


def model_of(key: str, cloud: str = "") -> Model:
    if (key, cloud) not in _MODELS:
        _MODELS[(key, cloud)] = load_model(req=str(DOCUMENTS[key]), cloud=cloud or None)
    return _MODELS[(key, cloud)]


def write_tree(root: Path, files: Any) -> Dict[str, str]:
    kinds = {}
    for file in files:
        target = root / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.content, encoding="utf-8")
        kinds[file.path] = file.kind
    return kinds


def validate(root: Path, kinds: Dict[str, str]) -> List[Finding]:
    """Every validator of every kind, in parallel (as validate_files does)."""
    by_kind: Dict[str, List[str]] = {}
    for path, kind in kinds.items():
        by_kind.setdefault(kind, []).append(path)
    tasks = []
    for kind, paths in sorted(by_kind.items()):
        validators = validators_for(kind) or OWN[kind]
        if kind == "helm" and not any(isinstance(v, vk.HelmChart) for v in validators):
            validators = [*validators, vk.HelmChart()]
        tasks += [(v, sorted(paths)) for v in validators]
    findings: List[Finding] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for result in pool.map(lambda t: t[0].check(str(root), t[1]), tasks):
            findings.extend(result)
    return findings


def errors(findings: List[Finding]) -> List[str]:
    return [f.format() + " [%s]" % f.tool for f in findings if f.severity == "error"]


def docs(text: str) -> List[Dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def objects(files: Any, prefix: str) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    for file in files:
        if file.path.startswith(prefix) and file.kind == "kubernetes":
            out += docs(file.content)
    return out


def find(objs: List[Dict[str, Any]], kind: str, name: str = "") -> Dict[str, Any]:
    for obj in objs:
        if obj["kind"] == kind and (not name or obj["metadata"]["name"] == name):
            return obj
    raise AssertionError("no %s %s" % (kind, name))


# --------------------------------------------------------------------------- every document, real tools


@pytest.fixture(scope="module")
def every_tree(tmp_path_factory: pytest.TempPathFactory) -> Tuple[Path, Dict[str, Any], List[Finding]]:
    """All seven document sets rendered into one tree and validated once."""
    root = tmp_path_factory.mktemp("k8s-all")
    kinds: Dict[str, str] = {}
    rendered: Dict[str, Any] = {}
    for key in DOCUMENTS:
        files = render(model_of(key), Options(target="k8s"))
        rendered[key] = files
        for path, kind in write_tree(root / key, files).items():
            kinds["%s/%s" % (key, path)] = kind
    return root, rendered, validate(root, kinds)


def test_every_document_validates(every_tree: Tuple[Path, Dict[str, Any], List[Finding]]) -> None:
    _root, rendered, findings = every_tree
    assert errors(findings) == []
    for key, files in rendered.items():
        assert any(f.path == "k8s/base/deployment.yaml" for f in files), key
        assert any(f.path.startswith("k8s/overlays/") for f in files), key
        assert any(f.path.endswith("/Chart.yaml") for f in files), key


def test_kubernetes_versions_checked() -> None:
    kv_utils = vk._kubernetes_validate()
    assert kv_utils is not None, "kubernetes-validate must be installed"
    versions = vk.kubernetes_versions(kv_utils)
    assert versions[0] == "1.30"
    newest = kv_utils.major_minor(kv_utils.latest_version())
    assert versions[-1] == newest
    assert tuple(int(p) for p in newest.split(".")) > (1, 30)


@pytest.mark.parametrize("key", sorted(DOCUMENTS))
def test_helm_render_equals_base(key: str, every_tree: Tuple[Path, Dict[str, Any], List[Finding]]) -> None:
    import helm_python

    root, rendered, _findings = every_tree
    files = rendered[key]
    base = objects(files, "k8s/base/")
    chart = next(f.path for f in files if f.path.endswith("/Chart.yaml")).rsplit("/", 1)[0]
    name = chart.rsplit("/", 1)[1]
    with helm_python.Chart.load(str(root / key / chart)) as loaded:
        manifests = loaded.render(name="any-release", namespace=name)
    from_chart: List[Dict[str, Any]] = []
    for template, text in sorted(manifests.items()):
        if template.endswith(".yaml"):
            from_chart += docs(text)

    def key_of(obj: Dict[str, Any]) -> Tuple[str, str]:
        return obj["kind"], obj["metadata"]["name"]

    assert sorted(from_chart, key=key_of) == sorted(base, key=key_of)


# --------------------------------------------------------------------------- content


def test_security_context_probes_and_labels() -> None:
    model = model_of("REQ-14")
    files = render(model, Options(target="k8s"))
    base = objects(files, "k8s/base/")
    deployment = find(base, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    h = model.service.health
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {}} in pod["volumes"]
    for probe_name, path in (
        ("livenessProbe", "/health/live"),
        ("readinessProbe", "/health/ready"),
        ("startupProbe", "/health/startup"),
    ):
        probe = container[probe_name]
        assert probe["httpGet"]["path"] == path
        assert probe["periodSeconds"] == h.interval_seconds == 15
        assert probe["timeoutSeconds"] == h.timeout_seconds == 3
        assert probe["failureThreshold"] == h.failure_threshold == 3
    assert container["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/order-intake-api:1.2.0"
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["resources"] == {
        "requests": {"cpu": "1", "memory": "2Gi"},
        "limits": {"cpu": "2", "memory": "4Gi"},
    }
    for obj in base:
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "order-intake-api"
        assert labels[common.REQ_TAG] == common.label_value("REQ-14")
        assert obj["metadata"]["namespace"] == "order-intake-api"
    hpa = find(base, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    ingress = find(base, "Ingress")
    assert ingress["spec"]["tls"][0]["hosts"] == ["orders.api.example.com"]
    policies = [o for o in base if o["kind"] == "NetworkPolicy"]
    assert any(p["spec"]["podSelector"] == {} and not p["spec"].get("ingress") for p in policies)
    allow = next(p for p in policies if p["spec"]["podSelector"])
    egress_ports = {port["port"] for rule in allow["spec"]["egress"] for port in rule["ports"]}
    assert {53, 5432, 6379, 443} <= egress_ports
    # source comments name the document rows
    text = next(f.content for f in files if f.path == "k8s/base/deployment.yaml")
    assert "# from REQ-14" in text


def test_no_startup_probe_without_startup_path() -> None:
    deployment = find(objects(render(model_of("REQ-21"), Options(target="k8s")), "k8s/base/"), "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert "startupProbe" not in container
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_sensitive_values_never_written() -> None:
    model = model_of("REQ-14")
    secret = EnvVar("API_SIGNING_KEY", required=True, sensitive=True, default="s3cr3t-Default-Value-42")
    model = dataclasses.replace(model, service=dataclasses.replace(model.service, env=(*model.service.env, secret)))
    for target in ("k8s", "container"):
        for file in render(model, Options(target=target)):
            assert "s3cr3t-Default-Value-42" not in file.content, file.path
    deployment = find(objects(render(model, Options(target="k8s")), "k8s/base/"), "Deployment")
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    for name in ("DATABASE_URL", "PARTNER_OAUTH_CLIENT_SECRET", "API_SIGNING_KEY"):
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "order-intake-api-secrets", "key": name}
    assert env["LOG_LEVEL"]["valueFrom"]["configMapKeyRef"]["name"] == "order-intake-api-config"


@pytest.mark.parametrize(
    ("key", "steps", "hold"),
    [("REQ-14", [5, 25, 50, 100], 600), ("REQ-102", [10, 50, 100], 900), ("northwind-catalog", [5, 25, 50, 100], 300)],
)
def test_rollout_steps_follow_the_documents(key: str, steps: List[int], hold: int) -> None:
    model = model_of(key)
    assert common.hold_seconds(model) == hold
    canary = objects(render(model, Options(target="k8s")), "k8s/strategies/canary/")
    rollout = find(canary, "Rollout")
    expected: List[Dict[str, Any]] = []
    for weight in steps:
        expected += [{"setWeight": weight}, {"pause": {"duration": "%ds" % hold}}]
    assert rollout["spec"]["strategy"]["canary"]["steps"] == expected
    stable = find(canary, "Deployment", ko.name(model, "stable"))
    canary_deployment = find(canary, "Deployment", ko.name(model, "canary"))
    assert stable["spec"]["selector"]["matchLabels"][ko.TRACK_LABEL] == "stable"
    assert canary_deployment["spec"]["replicas"] >= 1


def _threshold(condition: str) -> float:
    m = re.search(r"<= ([0-9.eE+-]+)$", condition)
    assert m, condition
    return float(m.group(1))


@pytest.mark.parametrize("key", ["REQ-14", "REQ-102", "northwind-catalog"])
def test_analysis_thresholds_equal_the_model(key: str) -> None:
    model = model_of(key)
    canary = objects(render(model, Options(target="k8s")), "k8s/strategies/canary/")
    template = find(canary, "AnalysisTemplate")
    metrics = {m["name"]: m for m in template["spec"]["metrics"]}
    t = model.observability.thresholds
    assert _threshold(metrics["error-rate"]["successCondition"]) == pytest.approx(t.error_rate_ratio)
    assert _threshold(metrics["p95-latency"]["successCondition"]) == pytest.approx(t.p95_latency_ms / 1000.0)
    counter = next(m for m in model.observability.metric_definitions if m.type == "counter")
    histogram = next(m for m in model.observability.metric_definitions if m.type == "histogram")
    assert metrics["error-rate"]["provider"]["prometheus"]["query"].startswith("sum(rate(%s{" % counter.name)
    assert "%s_bucket{" % histogram.name in metrics["p95-latency"]["provider"]["prometheus"]["query"]
    # the canary's traffic, not the readiness checks a starting pod answers with 503
    readiness = model.service.health.readiness
    if readiness and "route" in counter.labels:
        assert 'route!="%s"' % readiness in metrics["error-rate"]["provider"]["prometheus"]["query"]
        assert 'route!="%s"' % readiness in metrics["p95-latency"]["provider"]["prometheus"]["query"]
    for metric in metrics.values():
        assert metric["failureLimit"] >= 1
    rollout = find(canary, "Rollout")
    assert rollout["spec"]["strategy"]["canary"]["analysis"]["templates"] == [
        {"templateName": template["metadata"]["name"]}
    ]


def test_no_analysis_without_metrics_or_thresholds() -> None:
    model = model_of("REQ-14")
    bare = dataclasses.replace(
        model,
        observability=dataclasses.replace(model.observability, thresholds=AlertThresholds(), metric_definitions=()),
    )
    canary = objects(render(bare, Options(target="k8s")), "k8s/strategies/canary/")
    assert not [o for o in canary if o["kind"] == "AnalysisTemplate"]
    assert "analysis" not in find(canary, "Rollout")["spec"]["strategy"]["canary"]


def test_blue_green_service_selects_the_live_colour() -> None:
    model = model_of("REQ-21")
    objs = objects(render(model, Options(target="k8s")), "k8s/strategies/blue-green/")
    live = find(objs, "Service", "catalog-search")
    preview = find(objs, "Service", "catalog-search-preview")
    assert live["spec"]["selector"][ko.COLOR_LABEL] == "blue"
    assert preview["spec"]["selector"][ko.COLOR_LABEL] == "green"
    blue = find(objs, "Deployment", "catalog-search-blue")
    assert blue["spec"]["template"]["metadata"]["labels"][ko.COLOR_LABEL] == "blue"
    assert blue["spec"]["replicas"] == 3


def test_only_the_strategies_the_environments_use() -> None:
    paths = [f.path for f in render(model_of("contoso-ledger"), Options(target="k8s"))]
    assert not [p for p in paths if p.startswith("k8s/strategies/")]
    paths = [f.path for f in render(model_of("REQ-14"), Options(target="k8s"))]
    assert "k8s/strategies/blue-green/service.yaml" in paths
    assert "k8s/strategies/canary/rollout.yaml" in paths


def test_overlays_per_environment(tmp_path: Path) -> None:
    model = model_of("REQ-14")
    files = render(model, Options(target="k8s"))
    write_tree(tmp_path, files)
    kubectl = vk.KUBECTL.find()
    assert kubectl, "kubectl is required"
    from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.base import run_tool

    for env in model.environments:
        result = run_tool([kubectl, "kustomize", "k8s/overlays/%s" % env.name], cwd=str(tmp_path))
        assert result.returncode == 0, result.stderr
        built = docs(result.stdout)
        deployment = find(built, "Deployment")
        assert deployment["metadata"]["namespace"] == "order-intake-api-%s" % env.name
        assert deployment["spec"]["replicas"] == env.replicas
        assert deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] == {
            "cpu": "2",
            "memory": "4Gi",
        }
        hpa = find(built, "HorizontalPodAutoscaler")
        assert hpa["spec"]["minReplicas"] == max(1, env.replicas or 1)
        assert find(built, "Namespace")["metadata"]["name"] == "order-intake-api-%s" % env.name
        assert {o["metadata"].get("namespace") for o in built if o["kind"] != "Namespace"} == {
            "order-intake-api-%s" % env.name
        }


def test_replicas_option() -> None:
    deployment = find(objects(render(model_of("REQ-14"), Options(target="k8s", replicas=7)), "k8s/base/"), "Deployment")
    assert deployment["spec"]["replicas"] == 7
    with pytest.raises(UsageError):
        render(model_of("REQ-14"), Options(target="k8s", replicas=-1))


def test_scale_to_zero_documents_keep_a_valid_autoscaler() -> None:
    hpa = find(
        objects(render(model_of("initech-notifications"), Options(target="k8s")), "k8s/base/"),
        "HorizontalPodAutoscaler",
    )
    assert hpa["spec"]["minReplicas"] >= 1


def test_deterministic() -> None:
    model = model_of("REQ-102")
    first = {f.path: f.content for f in render(model, Options(target="k8s"))}
    second = {f.path: f.content for f in render(model, Options(target="k8s"))}
    assert first == second
    assert list(first) == list(second)


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_forced_clouds_render(cloud: str) -> None:
    for key in DOCUMENTS:
        files = render(model_of(key, cloud), Options(target="k8s"))
        controller_ns = ko.INGRESS_CONTROLLERS[cloud][1]
        policy = find(objects(files, "k8s/base/"), "NetworkPolicy", ko.name(model_of(key, cloud)))
        selector = policy["spec"]["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]
        assert selector == {"kubernetes.io/metadata.name": controller_ns}, key


# --------------------------------------------------------------------------- hostile values


def hostile_model() -> Model:
    model = model_of("REQ-14")
    service = dataclasses.replace(
        model.service,
        title='Evil {{ .Release.Name }} "q" $HOME `id`\n---\nkind: Secret',
        env=(
            EnvVar("EVIL", default='{{ fail "boom" }} $(id) ${HOME} \\ "x"\nnext: line'),
            EnvVar("bad name{{", default="x"),
            EnvVar("TOKEN", sensitive=True, required=True, default="hostile-secret-999"),
        ),
        entry_point="main.py; rm -rf / #",
        health=dataclasses.replace(model.service.health, liveness="/live\nEXPOSE 22 {{ .Values }}"),
    )
    observability = dataclasses.replace(
        model.observability,
        metric_definitions=(
            MetricDefinition('x"} or vector(1) #', type="counter", labels=("status",)),
            *model.observability.metric_definitions,
        ),
    )
    security = dataclasses.replace(
        model.security,
        tls=dataclasses.replace(model.security.tls, domain="evil.example.com\n  hostNetwork: true"),
    )
    traceability = dataclasses.replace(model.traceability, req='REQ-9 {{ include "x" . }}\n# no')
    return dataclasses.replace(
        model, service=service, observability=observability, security=security, traceability=traceability
    )


def test_hostile_values_are_inert(tmp_path: Path) -> None:
    import helm_python

    model = hostile_model()
    files = render(model, Options(target="k8s"))
    kinds = write_tree(tmp_path, files)
    assert errors(validate(tmp_path, kinds)) == []
    for file in files:
        assert "hostile-secret-999" not in file.content
    base = objects(files, "k8s/base/")
    assert not [o for o in base if o["kind"] == "Ingress"]  # the domain is not a host name
    config = find(base, "ConfigMap")
    assert config["data"]["EVIL"] == '{{ fail "boom" }} $(id) ${HOME} \\ "x"\nnext: line'
    assert "bad name{{" not in config["data"]
    chart = next(f.path for f in files if f.path.endswith("/Chart.yaml")).rsplit("/", 1)[0]
    with helm_python.Chart.load(str(tmp_path / chart)) as loaded:
        manifests = loaded.render(name="r", namespace="order-intake-api")
    rendered = [d for path, text in manifests.items() if path.endswith(".yaml") for d in docs(text)]
    assert find(rendered, "ConfigMap")["data"]["EVIL"] == config["data"]["EVIL"]
    assert find(rendered, "Deployment") == find(base, "Deployment")
    analysis = [o for o in objects(files, "k8s/strategies/") if o["kind"] == "AnalysisTemplate"]
    for template in analysis:
        for metric in template["spec"]["metrics"]:
            assert "vector(1)" not in metric["provider"]["prometheus"]["query"]


def test_missing_tool_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kinds = write_tree(tmp_path, render(model_of("REQ-21"), Options(target="k8s")))
    monkeypatch.setenv("DEVOPS_FLOW_KUBECTL", str(tmp_path / "no-such-kubectl"))
    found = vk.Kustomize().check(str(tmp_path), sorted(p for p, k in kinds.items() if k == "kustomize"))
    assert [f.code for f in found] == ["tool-missing"]
    assert found[0].severity == "error"


def test_crd_schemas_reject_mistakes(tmp_path: Path) -> None:
    files = render(model_of("REQ-14"), Options(target="k8s"))
    rollout = next(f.content for f in files if f.path == "k8s/strategies/canary/rollout.yaml")
    template = next(f.content for f in files if f.path == "k8s/strategies/canary/analysis-template.yaml")
    (tmp_path / "rollout.yaml").write_text(rollout.replace("setWeight: 5\n", "setWeight: 500\n"), encoding="utf-8")
    (tmp_path / "analysis.yaml").write_text(template.replace("successCondition", "sucessCondition"), encoding="utf-8")
    (tmp_path / "pod.yaml").write_text(
        rollout.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystm: true"), encoding="utf-8"
    )
    found = vk.KubernetesValidate().check(str(tmp_path), ["analysis.yaml", "pod.yaml", "rollout.yaml"])
    messages = [f.message for f in found if f.severity == "error"]
    assert any("setWeight" in m and "500" in m for m in messages)
    assert any("sucessCondition" in m for m in messages)
    assert any("readOnlyRootFilesystm" in m for m in messages)
    assert all(f.line > 0 for f in found)


def test_unknown_kind_is_not_a_pass(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n", encoding="utf-8"
    )
    found = vk.KubernetesValidate().check(str(tmp_path), ["x.yaml"])
    assert found and all(f.severity == "error" for f in found)
