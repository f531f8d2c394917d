"""Filters of the monitoring role: monitoring_files (the generate-monitoring renderer with an
inventory's settings and the role's timing overrides) and monitoring_targets.

Without overrides the files are byte for byte those of ``devops-flow generate-monitoring``;
with them, only the overridden values change, and the files still pass promtool and amtool
(a missing tool fails these tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.sdd.devops_flow.plugins.filter.monitoring import (
    FilterModule,
    monitoring_files,
    monitoring_targets,
    seconds,
    set_block_value,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import UsageError
from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import Options, render
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.serialize import model_to_dict
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators import monitoring as vm

REPO = Path(__file__).resolve().parents[4]
REQ14 = REPO / "examples" / "docs" / "07_REQ" / "REQ-14_order_intake_api.md"
HOSTVARS = {"app1": {"ansible_host": "10.0.0.11"}, "app2": {}, "app3": {"ansible_host": "fd00::3"}}
CHECKERS = {
    "prometheus-config": vm.PromtoolConfig(),
    "prometheus-rules": vm.PromtoolRules(),
    "prometheus-rule-tests": vm.PromtoolTest(),
    "alertmanager-config": vm.Amtool(),
}


@pytest.fixture(scope="module")
def model() -> Any:
    return load_model(req=str(REQ14))


@pytest.fixture(scope="module")
def model_dict(model: Any) -> Dict[str, Any]:
    """The model as the sdd.devops_flow.spec lookup gives it to the role."""
    return model_to_dict(model)


def by_kind(files: List[Dict[str, Any]], kind: str) -> Dict[str, Any]:
    return next(f for f in files if f["kind"] == kind)


def check_with_the_real_tools(root: Path, files: List[Dict[str, Any]]) -> None:
    for file in files:
        target = root / file["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file["content"], encoding="utf-8")
    for kind, checker in CHECKERS.items():
        paths = sorted(f["path"] for f in files if f["kind"] == kind)
        findings = [f for f in checker.check(str(root), paths) if f.severity == "error"]
        assert findings == [], [f.format() for f in findings]


def test_without_overrides_the_bytes_of_generate_monitoring(model: Any, model_dict: Dict[str, Any]) -> None:
    generated = {f.path: f.content for f in render(model, Options(target="monitoring"))}
    files = monitoring_files(model_dict)
    assert {f["path"]: f["content"] for f in files} == generated
    config = by_kind(files, "prometheus-config")
    assert config["component"] == "prometheus" and config["relative"] == "prometheus.yml"
    assert by_kind(files, "alertmanager-config")["relative"] == "alertmanager.yml"
    assert {f["relative"] for f in files if f["kind"] == "prometheus-rules"} == {"rules/order-intake-api.rules.yml"}


def test_inventory_targets_and_overrides(model_dict: Dict[str, Any], tmp_path: Path) -> None:
    targets = monitoring_targets(["app1", "app2"], HOSTVARS, {"blue": 8080, "green": 8081})
    nodes = monitoring_targets(["mon1", "app1"], HOSTVARS, 9100)
    files = monitoring_files(
        model_dict,
        targets=targets,
        node_targets=nodes,
        alertmanagers=["localhost:9093"],
        relay_urls={"webhook": "http://10.0.0.1:9098/hook"},
        scrape_interval="1s",
        evaluation_interval=2,
        alert_for={"TargetDown": "2s"},
        group_wait="1s",
        group_interval="1s",
        repeat_interval="1h",
        secrets_dir="/etc/alertmanager/secrets",
        runbook_url="",
    )
    untouched = monitoring_files(model_dict, targets=targets, node_targets=nodes)
    config = yaml.safe_load(by_kind(files, "prometheus-config")["content"])
    before = yaml.safe_load(by_kind(untouched, "prometheus-config")["content"])
    assert config["global"] == {"scrape_interval": "1s", "evaluation_interval": "2s"}
    assert {k: v for k, v in config.items() if k != "global"} == {k: v for k, v in before.items() if k != "global"}
    assert (
        "scrape_interval overridden by the monitoring role (generated: 15s)"
        in by_kind(files, "prometheus-config")["content"]
    )
    route = yaml.safe_load(by_kind(files, "alertmanager-config")["content"])["route"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("1s", "1s", "1h")
    rules = yaml.safe_load(next(f for f in files if f["kind"] == "prometheus-rules")["content"])
    old = yaml.safe_load(next(f for f in untouched if f["kind"] == "prometheus-rules")["content"])
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"] if "alert" in r}
    old_alerts = {r["alert"]: r for g in old["groups"] for r in g["rules"] if "alert" in r}
    assert alerts["TargetDown"]["for"] == "2s" and "for 2s" in alerts["TargetDown"]["annotations"]["summary"]
    assert {k: v for k, v in alerts.items() if k != "TargetDown"} == {
        k: v for k, v in old_alerts.items() if k != "TargetDown"
    }
    service_targets = next(f for f in files if f["relative"] == "targets/order-intake-api.json")["content"]
    assert '"colour": "green"' in service_targets and "10.0.0.11:8081" in service_targets
    assert "app2:8080" in service_targets
    # the overridden files still pass promtool check config / rules / test rules and amtool check-config
    check_with_the_real_tools(tmp_path, files)


def test_same_settings_same_bytes(model_dict: Dict[str, Any]) -> None:
    settings = {"scrape_interval": "5s", "alert_for": {"TargetDown": 10}, "group_wait": "5s"}
    first = monitoring_files(model_dict, **settings)
    second = monitoring_files(model_dict, **settings)
    assert [f["content"] for f in first] == [f["content"] for f in second]


@pytest.mark.parametrize(
    "settings,message",
    [
        ({"alert_for": {"NoSuchAlert": "1s"}}, "NoSuchAlert, which the rules do not have"),
        ({"alert_for": {"TargetDown": "soon"}}, "must be a duration"),
        ({"scrape_interval": "0s"}, "longer than 0s"),
        ({"group_wait": "1.5s"}, "must be a duration"),
        ({"relay_urls": {"webhook": "ftp://x"}}, "must be an http"),
        ({"targets": [{"address": "no-port"}]}, "is not host:port"),
        ({"secrets_dir": "relative/dir"}, "absolute path"),
    ],
)
def test_bad_settings_are_refused(model_dict: Dict[str, Any], settings: Dict[str, Any], message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        monitoring_files(model_dict, **settings)


@pytest.mark.parametrize("data", [["not", "a", "model"], {"no": "service"}, "text"])
def test_the_input_must_be_the_model(data: Any) -> None:
    with pytest.raises(AnsibleFilterError, match="model"):
        monitoring_files(data)


def test_targets_per_colour_and_per_host() -> None:
    targets = monitoring_targets(["app1", "app3"], HOSTVARS, {"blue": 8080, "green": "8081"}, {"env": "staging"})
    assert targets == [
        {"address": "10.0.0.11:8080", "labels": {"env": "staging", "host": "app1", "colour": "blue"}},
        {"address": "10.0.0.11:8081", "labels": {"env": "staging", "host": "app1", "colour": "green"}},
        {"address": "[fd00::3]:8080", "labels": {"env": "staging", "host": "app3", "colour": "blue"}},
        {"address": "[fd00::3]:8081", "labels": {"env": "staging", "host": "app3", "colour": "green"}},
    ]
    assert monitoring_targets(["app2"], HOSTVARS, 9100) == [{"address": "app2:9100", "labels": {"host": "app2"}}]


@pytest.mark.parametrize(
    "hosts,ports,message",
    [
        ("app1", 9100, "list of inventory host names"),
        (["app1"], 0, "from 1 to 65535"),
        (["app1"], {"blue": "x"}, "is not a number"),
    ],
)
def test_bad_targets_are_refused(hosts: Any, ports: Any, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        monitoring_targets(hosts, HOSTVARS, ports)


@pytest.mark.parametrize(
    "value,expected", [("90s", 90), ("1m30s", 90), ("2h", 7200), ("1d", 86400), (15, 15), ("15", 15), ("0s", 0)]
)
def test_durations(value: Any, expected: int) -> None:
    assert seconds(value, "x") == expected


@pytest.mark.parametrize("value", [True, "-1", -1, "1.5s", "", "5 minutes"])
def test_bad_durations(value: Any) -> None:
    with pytest.raises(UsageError):
        seconds(value, "x")


def test_set_block_value_keeps_comments_and_refuses_other_changes() -> None:
    text = "# head\nglobal:\n  # note\n  scrape_interval: 15s\n  evaluation_interval: 15s\nrule_files: []\n"
    out = set_block_value(text, "global", "scrape_interval", "1s", "changed")
    assert out.startswith("# head\nglobal:\n  # note\n  # changed\n  scrape_interval: 1s\n")
    assert set_block_value(out, "global", "scrape_interval", "1s", "again") == out
    added = set_block_value(text, "global", "scrape_timeout", "1s", "new key")
    assert yaml.safe_load(added)["global"]["scrape_timeout"] == "1s"
    with pytest.raises(UsageError, match="no route mapping"):
        set_block_value(text, "route", "group_wait", "1s", "x")


def test_filters_are_registered() -> None:
    assert set(FilterModule().filters()) == {"monitoring_files", "monitoring_targets"}
