"""The monitoring target: Prometheus, alert rules and their unit tests, Alertmanager,
the Grafana dashboard and the OpenTelemetry Collector.

Every generated tree goes through its real validators (promtool check config,
promtool check rules, promtool test rules, amtool check-config, and the
structural checks of validators/monitoring.py): a missing tool is an error
finding, so these tests fail when promtool or amtool is missing.  Routing is
checked with ``amtool config routes test`` on the generated Alertmanager file.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import Finding, UsageError
from ansible_collections.sdd.devops_flow.plugins.module_utils.fileset import FileSet
from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import Options, render
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.model import AlertRule, MetricDefinition, Model, Service
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import monitoring
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import monitoring_rules as mr
from ansible_collections.sdd.devops_flow.plugins.module_utils.render.monitoring_yaml import (
    duration,
    number,
    promql_string,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators import monitoring as vm
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.base import Validator
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

#: The validators of each monitoring kind (used when the registry has none yet).
OWN: Dict[str, List[Validator]] = {
    "prometheus-config": [vm.PromtoolConfig()],
    "prometheus-rules": [vm.PromtoolRules()],
    "prometheus-rule-tests": [vm.PromtoolTest()],
    "prometheus-targets": [vm.PrometheusTargets()],
    "alertmanager-config": [vm.Amtool()],
    "grafana-dashboard": [vm.GrafanaDashboard()],
    "otel-collector": [vm.OtelCollector()],
}

#: (case, document, forced cloud): every document with its own cloud, and some forced.
CASES: List[Tuple[str, str, Optional[str]]] = [
    *((key, key, None) for key in DOCUMENTS),
    ("REQ-14-gcp", "REQ-14", "gcp"),
    ("REQ-14-azure", "REQ-14", "azure"),
    ("REQ-21-aws", "REQ-21", "aws"),
    ("contoso-gcp", "contoso-ledger", "gcp"),
    ("initech-azure", "initech-notifications", "azure"),
]

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
    by_kind: Dict[str, List[str]] = {}
    for path, kind in kinds.items():
        by_kind.setdefault(kind, []).append(path)
    tasks = []
    for kind, paths in sorted(by_kind.items()):
        tasks += [(v, sorted(paths)) for v in (validators_for(kind) or OWN[kind])]
    findings: List[Finding] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for result in pool.map(lambda t: t[0].check(str(root), t[1]), tasks):
            findings.extend(result)
    return findings


def errors(findings: List[Finding]) -> List[str]:
    return [f.format() + " [%s]" % f.tool for f in findings if f.severity == "error"]


def content(files: Any, suffix: str) -> str:
    return next(f.content for f in files if f.path.endswith(suffix))


def rules_of(files: Any) -> List[Dict[str, Any]]:
    data = yaml.safe_load(content(files, ".rules.yml"))
    return [r for g in data["groups"] for r in g["rules"]]


def alerts_of(files: Any) -> List[Dict[str, Any]]:
    return [r for r in rules_of(files) if "alert" in r]


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> Tuple[Path, Dict[str, FileSet], List[Finding]]:
    root = tmp_path_factory.mktemp("monitoring")
    kinds: Dict[str, str] = {}
    rendered: Dict[str, FileSet] = {}
    for case, key, cloud in CASES:
        files = render(model_of(key), Options(target="monitoring", cloud=cloud))
        rendered[case] = files
        for path, kind in write_tree(root / case, files).items():
            kinds["%s/%s" % (case, path)] = kind
    return root, rendered, validate(root, kinds)


# --------------------------------------------------------------------------- the real tools


def test_every_document_and_cloud_validates(trees: Tuple[Path, Dict[str, FileSet], List[Finding]]) -> None:
    rendered, findings = trees[1], trees[2]
    assert errors(findings) == []
    assert [f for f in findings if f.tool.startswith("promtool")] == []
    for case, files in rendered.items():
        assert sorted(files.kinds()) == sorted(OWN), case
        assert [f.path.split("/", 1)[0] for f in files] == ["monitoring"] * len(files), case
        for file in files:
            assert file.fields, (case, file.path)


def test_every_alert_fires_and_stays_quiet_in_its_unit_tests(
    trees: Tuple[Path, Dict[str, FileSet], List[Finding]],
) -> None:
    rendered = trees[1]
    for case, files in rendered.items():
        tests = yaml.safe_load(content(files, ".rules.test.yml"))["tests"]
        alerts = alerts_of(files)
        assert alerts, case
        for alert in alerts:
            name, labels = alert["alert"], alert["labels"]
            firing = quiet = pending = False
            for group in tests:
                checks = [c for c in group["alert_rule_test"] if c["alertname"] == name]
                states = []
                for check in sorted(checks, key=lambda c: int(c["eval_time"][:-1])):
                    fired = any(
                        all(e["exp_labels"].get(k) == v for k, v in labels.items()) for e in check["exp_alerts"]
                    )
                    states.append(fired)
                    if fired:
                        firing = True
                    else:
                        quiet = True
                # a rule with a for: an earlier check of the same series where it has not fired yet
                pending = pending or (len(states) > 1 and states[-1] and not states[0])
            assert firing, (case, name, labels["severity"])
            assert quiet, (case, name, labels["severity"])
            if alert.get("for") and int(re.sub(r"\D", "", alert["for"]) or 0) >= 2 and alert["for"].endswith("m"):
                assert pending, (case, name, alert["for"])


# --------------------------------------------------------------------------- the documents' values


#: From examples/docs/EXPECTED.md: (alert, severity) -> (threshold in the expression's unit, for).
EXPECTED_ALERTS: Dict[str, Dict[Tuple[str, str], Tuple[str, str]]] = {
    "REQ-14": {
        ("ErrorRate", "critical"): ("0.01", "5m"),
        ("ErrorRate", "warning"): ("0.01", "5m"),
        ("P95Latency", "warning"): ("0.5", "10m"),
        ("P95Latency", "critical"): ("0.5", "30m"),
        ("OutboxPendingMessages", "warning"): ("1000", "10m"),
    },
    "REQ-21": {("ErrorRate", "warning"): ("0.02", "5m"), ("Degradation", "warning"): ("0.2", "10m")},
    "REQ-102": {
        ("ErrorRate", "critical"): ("0.005", "5m"),
        ("P95Latency", "warning"): ("0.3", "10m"),
        ("LedgerOutboxLagSeconds", "critical"): ("2", "5m"),
    },
}


def test_thresholds_and_for_durations_equal_the_documents(
    trees: Tuple[Path, Dict[str, FileSet], List[Finding]],
) -> None:
    rendered = trees[1]
    for key, expected in EXPECTED_ALERTS.items():
        alerts = {(a["alert"], a["labels"]["severity"]): a for a in alerts_of(rendered[key])}
        for (name, severity), (threshold, for_) in expected.items():
            alert = alerts[(name, severity)]
            assert alert["expr"].endswith(" > %s" % threshold), (key, name, alert["expr"])
            assert alert.get("for") == for_, (key, name)
    # every rule of every document that became an alert keeps its threshold, for and severity
    for key in DOCUMENTS:
        model = model_of(key)
        plan = mr.alert_plan(model)
        written = alerts_of(rendered[key])
        skipped = {s.path for s in plan.skipped}
        for index, rule in enumerate(model.observability.alert_rules):
            path = "observability.alert_rules[%d]" % index
            if path in skipped:
                continue
            alert = next(a for a in plan.alerts if path in a.paths)
            assert alert.severity == mr.severity(rule.severity), (key, rule)
            assert alert.for_seconds == rule.for_seconds, (key, rule)
            rule_yaml = next(
                a for a in written if a["alert"] == alert.name and a["labels"]["severity"] == alert.severity
            )
            assert rule_yaml.get("for") == (duration(rule.for_seconds) if rule.for_seconds else None)
            assert (
                rule_yaml["expr"].split(" or absent(")[0].endswith("%s %s" % (rule.operator, number(alert.threshold)))
            )
            if rule.threshold is not None and rule.unit == "ms" and "latency" in rule.metric:
                assert alert.threshold == pytest.approx(rule.threshold / 1000.0)


def test_rules_that_cannot_be_alerts_say_why(trees: Tuple[Path, Dict[str, FileSet], List[Finding]]) -> None:
    rendered = trees[1]
    # REQ-21: "Slow requests > 1 second", but the SPEC's histogram ends at 1 s
    plan = mr.alert_plan(model_of("REQ-21"))
    (skipped,) = plan.skipped
    assert skipped.name == "SlowRequests" and "largest finite bucket" in skipped.reason
    assert "Not an alert: SlowRequests" in content(rendered["REQ-21"], ".rules.yml")
    assert any("SlowRequests" in note for note in rendered["REQ-21"].notes)
    # acme: a tracing span is not a Prometheus metric
    names = {s.name for s in mr.alert_plan(model_of("acme-payments")).skipped}
    assert names == {"AcquirerSpan"}
    # REQ-14's @threshold reference takes the documents' p95 threshold, with its source
    critical = next(
        a for a in mr.alert_plan(model_of("REQ-14")).alerts if a.name == "P95Latency" and a.for_seconds == 1800
    )
    assert "observability.thresholds.p95_latency_ms" in critical.paths


def test_default_alerts_target_down_and_saturation(trees: Tuple[Path, Dict[str, FileSet], List[Finding]]) -> None:
    rendered = trees[1]
    alerts = {a["alert"]: a for a in alerts_of(rendered["REQ-14"])}
    assert alerts["TargetDown"]["expr"] == 'up{job="order-intake-api"} == 0'
    # SPEC health checks: every 15 s, unhealthy after 3 failures
    assert alerts["TargetDown"]["for"] == "45s"
    assert 'absent(up{job="order-intake-api"})' in alerts["ServiceDown"]["expr"]
    assert "node_cpu_seconds_total" in alerts["HostCpuSaturation"]["expr"]
    assert "node_memory_MemAvailable_bytes" in alerts["HostMemorySaturation"]["expr"]
    for alert in alerts.values():
        assert alert["annotations"]["runbook_url"] == "docs/RUNBOOK.md#%s" % alert["alert"].lower()
        assert alert["labels"]["service"] == "order-intake-api"
        assert alert["labels"][mr.REQ_LABEL] == "REQ-14"
    # SPEC metric names and status label: acme counts gateway_requests_total by status_code; its
    # endpoint label (the route) leaves the probes' requests out
    acme = content(rendered["acme-payments"], ".rules.yml")
    probes = 'endpoint!="/healthz/live",endpoint!="/healthz/ready",endpoint!="/healthz/startup",endpoint!="/metrics"'
    assert 'gateway_requests_total{job="payment-gateway",%s,status_code=~"5.."}' % probes in acme
    assert 'gateway_request_duration_seconds_bucket{job="payment-gateway",%s}' % probes in acme
    assert "gateway_request_duration_seconds_bucket" in acme
    assert "max by (job) (gateway_reversal_queue_depth" in acme


# --------------------------------------------------------------------------- Alertmanager


def _receivers(text: str) -> Dict[str, set]:
    data = yaml.safe_load(text)
    kinds = {
        "slack_configs": "slack",
        "pagerduty_configs": "pagerduty",
        "email_configs": "email",
        "opsgenie_configs": "opsgenie",
    }
    out: Dict[str, set] = {}
    for receiver in data["receivers"]:
        found = set()
        for key, configs in receiver.items():
            if key in kinds:
                found.add(kinds[key])
            elif key == "webhook_configs":
                found.update(c["url"].rsplit("/", 1)[-1] for c in configs)
        out[receiver["name"]] = found
    return out


def _route(path: Path, labels: Dict[str, str]) -> str:
    result = subprocess.run(
        ["amtool", "config", "routes", "test", "--config.file=%s" % path, *("%s=%s" % kv for kv in labels.items())],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[0]


#: From EXPECTED.md: (alert, severity) -> the channels the SPEC names for it.
EXPECTED_CHANNELS: Dict[str, Dict[Tuple[str, str], set]] = {
    "REQ-14": {
        ("ErrorRate", "critical"): {"pagerduty", "slack"},
        ("P95Latency", "warning"): {"slack", "email"},
        ("P95Latency", "critical"): {"pagerduty"},
        ("OutboxPendingMessages", "warning"): {"slack"},
    },
    "REQ-102": {
        ("ErrorRate", "critical"): {"pagerduty", "teams"},
        ("P95Latency", "warning"): {"teams"},
        ("LedgerOutboxLagSeconds", "critical"): {"pagerduty"},
    },
}


def test_channels_route_as_the_documents_say(trees: Tuple[Path, Dict[str, FileSet], List[Finding]]) -> None:
    root, rendered = trees[0], trees[1]
    for case, key, _cloud in CASES:
        files = rendered[case]
        path = root / case / "monitoring/alertmanager/alertmanager.yml"
        receivers = _receivers(path.read_text(encoding="utf-8"))
        model = model_of(key)
        plan = mr.alert_plan(model)
        documented = {mr.channel_kind(c) for c in model.observability.notification_channels}
        for alert in plan.alerts:
            labels = {"alertname": alert.name, "severity": alert.severity, "service": plan.service}
            got = receivers[_route(path, labels)]
            if alert.channels:
                wanted = {
                    c for a in plan.alerts if a.name == alert.name and a.severity == alert.severity for c in a.channels
                }
                assert got == wanted, (case, alert.name, alert.severity)
            else:
                same = {c for a in plan.alerts if a.severity == alert.severity for c in a.channels}
                assert got == (same or documented), (case, alert.name, alert.severity)
        assert content(files, "alertmanager.yml")
    for key, expected in EXPECTED_CHANNELS.items():
        path = root / key / "monitoring/alertmanager/alertmanager.yml"
        receivers = _receivers(path.read_text(encoding="utf-8"))
        service = model_of(key).service.name
        for (name, severity), channels in expected.items():
            labels = {"alertname": name, "severity": severity, "service": service}
            assert receivers[_route(path, labels)] == channels, (key, name)


def test_critical_inhibits_warning_and_no_credential_is_inline(
    trees: Tuple[Path, Dict[str, FileSet], List[Finding]],
) -> None:
    rendered = trees[1]
    inline = re.compile(r"^(api_url|routing_key|service_key|api_key|auth_password|auth_secret|bot_token|webhook_url)$")

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                assert not inline.match(str(k)), "%s: %s is inline" % (where, k)
                if str(k).endswith("_file"):
                    assert str(v).startswith("/etc/alertmanager/secrets/"), (where, k, v)
                walk(v, where)
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    for case, files in rendered.items():
        data = yaml.safe_load(content(files, "alertmanager.yml"))
        walk(data, case)
        for receiver in data["receivers"]:
            for config in receiver.get("webhook_configs", []):
                assert config["url"].startswith("http://127.0.0.1:"), (case, config)
        inhibit = data["inhibit_rules"]
        severities = {a["labels"]["severity"] for a in alerts_of(files)}
        if {"critical", "warning"} <= severities:
            assert {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": ["alertname", "service"],
            } in inhibit, case
    rest = "\n".join(f.content for files in rendered.values() for f in files if "alertmanager" not in f.path)
    assert not re.search(r"(?i)(password|secret|token|api_key)\s*:\s*[^\s$/]", rest)


# --------------------------------------------------------------------------- Grafana, OpenTelemetry


def test_dashboard_queries_use_the_spec_metrics(trees: Tuple[Path, Dict[str, FileSet], List[Finding]]) -> None:
    rendered = trees[1]
    for case, key, _cloud in CASES:
        model = model_of(key)
        board = json.loads(content(rendered[case], "/grafana/%s.json" % monitoring.file_name(model)))
        assert board["schemaVersion"] == 42
        assert board["templating"]["list"][0]["type"] == "datasource"
        exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
        titles = [p["title"] for p in board["panels"]]
        metrics = mr.spec_metrics(model)
        assert any(metrics.requests in e and metrics.status_label in e for e in exprs), case
        if metrics.requests_matchers:
            # the traffic panels leave the probes out, as the recording rules do
            assert all(metrics.requests_matchers in e for e in exprs if metrics.requests + "{" in e), case
        for q in ("0.5", "0.95", "0.99"):
            assert any(e.startswith("histogram_quantile(%s, " % q) and metrics.duration.name in e for e in exprs)
        assert any("node_cpu_seconds_total" in e for e in exprs)
        assert any("node_memory_MemAvailable_bytes" in e for e in exprs)
        for definition in model.observability.metric_definitions:
            assert any(definition.name in e for e in exprs), (case, definition.name)
        assert len(set(titles)) == len(titles)
        for panel in board["panels"]:
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    # the documents' thresholds are the panels' threshold lines
    board = json.loads(content(rendered["REQ-14"], "/grafana/order-intake-api.json"))
    lines = {p["title"]: p["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"] for p in board["panels"]}
    assert lines["5xx error ratio"] == 0.01
    assert lines["Request duration p50 / p95 / p99"] == 0.5
    assert lines["outbox_pending_messages"] == 1000


#: From EXPECTED.md and the fixtures: the tracing sample rate in percent.
SAMPLE_PERCENT = {
    "REQ-14": 10.0,
    "REQ-21": 5.0,
    "REQ-102": 20.0,
    "acme-payments": 5.0,
    "northwind-catalog": 10.0,
    "contoso-ledger": 20.0,
    "initech-notifications": 100.0,
}
EXPORTERS = {
    "REQ-14": "awsxray",
    "REQ-21": "googlecloud",
    "REQ-102": "azuremonitor",
    "REQ-14-gcp": "googlecloud",
    "REQ-14-azure": "azuremonitor",
    "REQ-21-aws": "awsxray",
}


def test_otel_collector_samples_at_the_documents_rate(trees: Tuple[Path, Dict[str, FileSet], List[Finding]]) -> None:
    rendered = trees[1]
    for case, key, _cloud in CASES:
        data = yaml.safe_load(content(rendered[case], "otel/collector.yaml"))
        rate = model_of(key).observability.tracing_sample_rate
        assert rate is not None
        assert data["processors"]["probabilistic_sampler"]["sampling_percentage"] == SAMPLE_PERCENT[key]
        assert rate * 100 == pytest.approx(SAMPLE_PERCENT[key])
        pipeline = data["service"]["pipelines"]["traces"]
        assert pipeline["processors"] == ["memory_limiter", "probabilistic_sampler", "batch"]
        if case in EXPORTERS:
            assert pipeline["exporters"] == [EXPORTERS[case]], case
        for exporter in data["exporters"].values():
            for value in exporter.values():
                assert not re.search(r"(?i)instrumentationkey=|secret", str(value))
    # no sample rate in the documents: no sampler, every trace kept
    model = model_of("REQ-14")
    bare = dataclasses.replace(model, observability=dataclasses.replace(model.observability, tracing_sample_rate=None))
    data = yaml.safe_load(content(monitoring.monitoring_files(bare), "otel/collector.yaml"))
    assert "probabilistic_sampler" not in data["processors"]


# --------------------------------------------------------------------------- targets from the inventory


def test_scrape_targets_from_the_inventory(tmp_path: Path) -> None:
    model = model_of("REQ-14")
    targets = [
        {"address": "app1.internal:8081", "labels": {"colour": "blue", "env": "prod"}},
        {"address": "app1.internal:8082", "labels": {"colour": "green", "env": "prod"}},
        {"address": "10.0.0.7:8081", "labels": {"colour": "blue", "env": "prod"}},
    ]
    files = monitoring.monitoring_files(model, targets=targets, alertmanagers=["am.internal:9093"])
    groups = json.loads(content(files, "targets/order-intake-api.json"))
    assert [g["targets"][0] for g in groups] == ["10.0.0.7:8081", "app1.internal:8081", "app1.internal:8082"]
    assert [g["labels"]["colour"] for g in groups] == ["blue", "blue", "green"]
    nodes = json.loads(content(files, "targets/node-exporter.json"))
    assert [g["targets"] for g in nodes] == [["10.0.0.7:9100"], ["app1.internal:9100"]]
    assert all("colour" not in g["labels"] for g in nodes)
    config = yaml.safe_load(content(files, "prometheus.yml"))
    job = next(s for s in config["scrape_configs"] if s["job_name"] == "order-intake-api")
    assert job["file_sd_configs"][0]["files"] == ["targets/order-intake-api.json"]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["am.internal:9093"]
    assert errors(validate(tmp_path, write_tree(tmp_path, files))) == []
    # without targets: a valid, replaceable start (localhost and the SPEC's port)
    start = json.loads(content(monitoring.monitoring_files(model), "targets/order-intake-api.json"))
    assert start == [{"labels": {}, "targets": ["localhost:8080"]}]


@pytest.mark.parametrize(
    "targets",
    [
        [{"address": "app1"}],
        [{"address": "app1:99999"}],
        [{"address": "app 1:80"}],
        [{"address": "app1:80", "labels": {"bad label": "x"}}],
        [{"address": "app1:80", "labels": {"__reserved": "x"}}],
        [{"address": "app1:80", "labels": {"colour": ["blue"]}}],
        ["app1:80", 42],
    ],
)
def test_invalid_targets_are_refused(targets: List[Any]) -> None:
    with pytest.raises(UsageError):
        monitoring.monitoring_files(model_of("REQ-14"), targets=targets)


# --------------------------------------------------------------------------- determinism, hostile values


def test_same_model_same_bytes(trees: Tuple[Path, Dict[str, FileSet], List[Finding]]) -> None:
    rendered = trees[1]
    for case, key, cloud in CASES[:4]:
        again = render(model_of(key), Options(target="monitoring", cloud=cloud))
        assert [(f.path, f.content) for f in again] == [(f.path, f.content) for f in rendered[case]]


EVIL = 'x"y\' {{ .Foo }} {{ template "x" . }} {% raw %} ${HOME} | `tick` <b>b</b> \\ end\nnext: line'


def hostile_model() -> Model:
    model = model_of("REQ-14")
    obs = model.observability
    rules = (
        *obs.alert_rules,
        AlertRule(
            name=EVIL,
            condition=EVIL,
            metric="error_rate",
            threshold=0.02,
            unit="ratio",
            for_seconds=120,
            severity='crit"ical\n{{x}}',
            channels=(EVIL, "slack", "SMS gateway", "Microsoft Teams", "webhook", "opsgenie"),
        ),
        AlertRule(name="Queue" + EVIL, condition='queue_depth"x > 5 ' + EVIL, metric='we"ird', threshold=5.0),
        AlertRule(
            name="{{ $labels }}", condition=EVIL, metric="p99_latency", threshold=700.0, unit="ms", severity="page"
        ),
    )
    metrics = (
        *obs.metric_definitions,
        MetricDefinition(name='bad"metric{x}', type="counter", labels=('status"',), description=EVIL),
        MetricDefinition(name="queue_depth", type="gauge", description=EVIL),
    )
    return dataclasses.replace(
        model,
        observability=dataclasses.replace(
            obs,
            alert_rules=rules,
            metric_definitions=metrics,
            notification_channels=(*obs.notification_channels, EVIL),
            dashboard_charts=(EVIL,),
        ),
        service=dataclasses.replace(model.service, title=EVIL),
    )


def test_hostile_document_values_are_inert(tmp_path: Path) -> None:
    model = hostile_model()
    files = render(model, Options(target="monitoring"))
    assert errors(validate(tmp_path, write_tree(tmp_path, files))) == []
    alerts = alerts_of(files)
    for alert in alerts:
        assert re.match(r"^[A-Za-z][A-Za-z0-9]*$", alert["alert"]), alert["alert"]
        assert re.match(r"^[a-z0-9_-]+$", alert["labels"]["severity"])
        for value in alert["annotations"].values():
            # every {{ of a document is printed by an action, never starts one
            assert "{{" not in value.replace('{{ "{{" }}', "")
            assert "\n" not in value
    evil = next(a for a in alerts if a["labels"]["severity"] == "crit-ical-x")
    assert '{{ "{{" }} .Foo }}' in evil["annotations"]["description"]
    # the unit test expects the expanded text: the document's words, on one line
    tests = content(files, ".rules.test.yml")
    assert 'x\\"y\' {{ .Foo }} {{ template \\"x\\" . }}' in tests
    board = json.loads(content(files, "grafana/order-intake-api.json"))
    assert "${HOME}" not in json.dumps(board)
    receivers = yaml.safe_load(content(files, "alertmanager.yml"))["receivers"]
    assert all(re.match(r"^[a-z0-9-]+$", r["name"]) for r in receivers)


# --------------------------------------------------------------------------- the validators themselves


def test_validators_report_broken_files_with_their_line(tmp_path: Path) -> None:
    files = monitoring.monitoring_files(model_of("REQ-102"))
    kinds = write_tree(tmp_path, files)
    base = tmp_path / "monitoring"
    config = base / "prometheus/prometheus.yml"
    config.write_text(config.read_text().replace("scrape_interval:", "scrape_intervall:"))
    rules = next((base / "prometheus/rules").iterdir())
    text = rules.read_text()
    rules.write_text(text.replace("> 0.005", "> (0.005", 1))
    am = base / "alertmanager/alertmanager.yml"
    am.write_text(am.read_text().replace("routing_key_file", "routing_key_path"))
    board_path = next((base / "grafana").iterdir())
    board = json.loads(board_path.read_text())
    board["panels"][1]["id"] = board["panels"][0]["id"]
    board["panels"][2]["targets"][0]["expr"] = "sum(rate(x[$__rate_interval])"
    board["panels"][3]["gridPos"]["x"] = 20
    board["panels"][4]["datasource"] = {"uid": "${nope}"}
    board_path.write_text(json.dumps(board, indent=2))
    otel = base / "otel/collector.yaml"
    otel.write_text(
        otel.read_text()
        .replace("- azuremonitor", "- otlp")
        .replace("${env:APPLICATIONINSIGHTS_CONNECTION_STRING}", "InstrumentationKey=1")
    )
    node = base / "prometheus/targets/node-exporter.json"
    node.write_text('[{"targets": ["localhost"], "labels": {"a b": 1}}]')
    found = [f for f in validate(tmp_path, kinds) if f.severity == "error"]
    by_tool: Dict[str, List[Finding]] = {}
    for finding in found:
        by_tool.setdefault(finding.tool, []).append(finding)
    assert any(f.line > 0 and "scrape_intervall" in f.message for f in by_tool["promtool check config"])
    assert any(f.line > 0 and f.file.endswith(".rules.yml") for f in by_tool["promtool check rules"])
    assert by_tool["promtool test rules"]
    assert any(f.line > 0 and "routing_key_path" in f.message for f in by_tool["amtool check-config"])
    grafana = " | ".join(f.message for f in by_tool["grafana dashboard"])
    for expected in ("is used by another panel", "24-column grid", "not a datasource variable", "unclosed left"):
        assert expected in grafana
    otel_messages = " | ".join(f.message for f in by_tool["otel collector structure"])
    assert "uses exporter 'otlp', which is not defined" in otel_messages
    assert "connection_string holds a credential inline" in otel_messages
    targets = " | ".join(f.message for f in by_tool["prometheus file_sd"])
    assert "is not host:port" in targets and "is not a label name" in targets


def test_failing_unit_tests_are_reported(tmp_path: Path) -> None:
    files = monitoring.monitoring_files(model_of("REQ-14"))
    kinds = write_tree(tmp_path, files)
    tests = next((tmp_path / "monitoring/prometheus/tests").iterdir())
    data = yaml.safe_load(tests.read_text())
    data["tests"][0]["alert_rule_test"][-1]["exp_alerts"] = []
    tests.write_text(yaml.safe_dump(data))
    found = vm.PromtoolTest().check(str(tmp_path), [k for k, v in kinds.items() if v == "prometheus-rule-tests"])
    assert found and all(f.severity == "error" for f in found)
    assert "alertname:" in found[0].message and "got:" in found[0].message


def test_probe_requests_are_left_out_and_the_unit_tests_prove_it(tmp_path: Path) -> None:
    """REQ-14's request metrics have a route label: the recording rules leave out the health paths and
    /metrics, and the unit tests feed probe series (503s, fast requests) that only those matchers keep
    out: the same rules without them fail their tests (error ratio and latency alerts)."""
    model = model_of("REQ-14")
    files = monitoring.monitoring_files(model)
    kinds = write_tree(tmp_path, files)
    probes = ",".join('route!="%s"' % p for p in ("/health/live", "/health/ready", "/health/startup", "/metrics"))
    recording = {r["record"]: r["expr"] for r in rules_of(files) if "record" in r}
    assert 'http_requests_total{job="order-intake-api",%s}' % probes in recording["job:http_requests:rate5m"]
    assert "%s,status=~" % probes in recording["job:http_requests_errors:rate5m"]
    assert probes in recording["job:http_request_duration_seconds_bucket:rate5m"]
    rules = next((tmp_path / "monitoring/prometheus/rules").iterdir())
    rules.write_text(re.sub(r",route!=(\\?\"|')[^\"']*(\\?\"|')", "", rules.read_text()))
    assert "route!=" not in rules.read_text()
    found = vm.PromtoolTest().check(str(tmp_path), [k for k, v in kinds.items() if v == "prometheus-rule-tests"])
    failed = " ".join(f.message for f in found)
    assert "alertname: ErrorRate" in failed and "alertname: P95Latency" in failed, failed


@pytest.mark.parametrize("validator", [vm.PromtoolConfig(), vm.PromtoolRules(), vm.PromtoolTest(), vm.Amtool()])
def test_a_missing_tool_is_an_error(validator: Validator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for tool in validator.tools:
        monkeypatch.setenv(tool.env_var, str(tmp_path / "nowhere"))
    found = validator.check(str(tmp_path), ["x.yml"])
    assert [f.code for f in found] == ["tool-missing"]
    assert found[0].severity == "error"


# --------------------------------------------------------------------------- any model the parser can produce


_OPS = {">": "Gt", ">=": "Ge", "<": "Lt", "<=": "Le", "==": "Eq", "!=": "Ne"}


def test_every_kind_and_operator_gives_tested_rules(tmp_path: Path) -> None:
    definitions = (
        MetricDefinition(name="jobs_failed_total", type="counter"),
        MetricDefinition(name="queue_depth", type="gauge"),
        MetricDefinition(name="db_query_seconds", type="histogram", buckets=(0.01, 0.1, 1.0)),
        MetricDefinition(name="api_requests_total", type="counter", labels=("method", "code")),
        MetricDefinition(name="api_latency_milliseconds", type="histogram", buckets=(50.0, 250.0, 1000.0)),
    )
    rules = []
    for op, word in _OPS.items():
        for metric, threshold, unit, for_seconds in (
            ("cpu_utilization", 0.5, "ratio", 120),
            ("memory_utilization", 80.0, "percent", 300),
            ("jobs_failed", 10.0, "", 180),
            ("queue_depth", 100.0, "", None),
            ("db_query_seconds", 0.5, "s", 600),
            ("p95_latency", 300.0, "ms", 300),
            ("error_rate", 5.0, "percent", 60),
            ("availability", 99.5, "percent", 600),
        ):
            rules.append(
                AlertRule(
                    name="%s %s" % (metric, word),
                    condition="%s %s %s" % (metric, op, threshold),
                    metric=metric,
                    operator=op,
                    threshold=threshold,
                    unit=unit,
                    for_seconds=for_seconds,
                    severity="warning" if op in (">", "<") else "critical",
                )
            )
    model = dataclasses.replace(
        model_of("initech-notifications"),
        observability=dataclasses.replace(
            model_of("initech-notifications").observability, alert_rules=tuple(rules), metric_definitions=definitions
        ),
    )
    files = monitoring.monitoring_files(model)
    assert errors(validate(tmp_path, write_tree(tmp_path, files))) == []
    plan = mr.alert_plan(model)
    # the SPEC's counter with a code label, and its histogram in milliseconds
    assert plan.metrics.requests == "api_requests_total" and plan.metrics.status_label == "code"
    latency = next(a for a in plan.alerts if a.name == "P95LatencyGt")
    assert latency.threshold == 300.0 and latency.threshold_text == "300 ms"
    made = {a.name for a in plan.alerts}
    for word in _OPS.values():
        assert "QueueDepth%s" % word in made  # a gauge takes every comparison
    # exact comparisons of rates, ratios and quantiles are refused with a reason
    refused = {s.name: s.reason for s in plan.skipped}
    assert "exact comparison" in refused["ErrorRateEq"]
    assert all(s.reason for s in plan.skipped)
    assert len(plan.alerts) + len(plan.skipped) >= len(rules)


@pytest.mark.parametrize(
    "model",
    [
        Model(service=Service(name="x")),
        Model(service=Service(name="node", ports=(9100,))),
        Model(service=Service(name="prometheus", ports=(9090,))),
    ],
    ids=["bare", "named-node", "named-prometheus"],
)
def test_models_without_observability(model: Model, tmp_path: Path) -> None:
    files = monitoring.monitoring_files(model)
    assert errors(validate(tmp_path, write_tree(tmp_path, files))) == []
    config = yaml.safe_load(content(files, "prometheus.yml"))
    jobs = [s["job_name"] for s in config["scrape_configs"]]
    assert len(jobs) == len(set(jobs))
    data = yaml.safe_load(content(files, "otel/collector.yaml"))
    assert data["service"]["pipelines"]["traces"]["exporters"] == ["otlp"]
    assert "no notification channel" in content(files, "alertmanager.yml")


def test_published_runbook_url_and_its_checks() -> None:
    url = "https://git.example.com/shop/order-intake/-/blob/main/docs/RUNBOOK.md"
    files = monitoring.monitoring_files(model_of("REQ-14"), runbook_url=url)
    for alert in alerts_of(files):
        assert alert["annotations"]["runbook_url"] == "%s#%s" % (url, alert["alert"].lower())
    for bad in ("https://x/{{ .Labels }}", "docs/RUN BOOK.md", 'a"b'):
        with pytest.raises(UsageError):
            monitoring.monitoring_files(model_of("REQ-14"), runbook_url=bad)
    with pytest.raises(UsageError):
        monitoring.monitoring_files(model_of("REQ-14"), relay_urls={"teams": "javascript:alert(1)"})
    # the contoso SPEC names no metric: the rules say what they assume
    contoso = monitoring.monitoring_files(model_of("contoso-ledger"))
    assert "Assumed: the SPEC names no request counter" in content(contoso, ".rules.yml")
    assert any("no duration histogram" in note for note in contoso.notes)


_PROMQL_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n", "\\r": "\r", "\\t": "\t"}


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=30))
@example("")
@example('a"b\\c\n\r\t\x00\x1f\x7f\x80é')
def test_promql_strings_read_back_and_hold_no_control_character(value: str) -> None:
    literal = promql_string(value)
    assert literal[0] == literal[-1] == '"'
    body = literal[1:-1]
    assert not re.search(r"[\x00-\x1f\x7f]", body)
    decoded = re.sub(
        r"\\(?:x([0-9a-f]{2})|.)",
        lambda m: chr(int(m.group(1), 16)) if m.group(1) else _PROMQL_ESCAPES[m.group(0)],
        body,
    )
    assert decoded == value
    assert re.search(r'(?<!\\)"', body.replace("\\\\", "")) is None
