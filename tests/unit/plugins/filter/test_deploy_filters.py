"""Filters of the deploy role: traffic splits, colour servers, the script context and the scripts."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sdd.devops_flow.plugins.filter.deploy import (
    colour_servers,
    script_context,
    script_files,
    traffic_split,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.render.scripts import render as generated_scripts
from ansible_collections.sdd.devops_flow.plugins.module_utils.render.scripts import script_context as generated
from ansible_collections.sdd.devops_flow.plugins.module_utils.serialize import model_to_dict

REPO = Path(__file__).resolve().parents[4]
REQ14 = REPO / "examples" / "docs" / "07_REQ" / "REQ-14_order_intake_api.md"
HOSTVARS = {"app1": {"ansible_host": "10.0.0.11"}, "app2": {}}


def test_traffic_split_moves_weight_to_the_idle_colour() -> None:
    assert traffic_split(["app1"], "blue", "green", 25) == {
        "app1_blue": {"weight": 75, "state": "ready"},
        "app1_green": {"weight": 25, "state": "ready"},
    }
    assert traffic_split(["app1"], "blue", "green", 0)["app1_green"] == {"weight": 0, "state": "maint"}
    assert traffic_split(["app1"], "green", "blue", "100")["app1_green"] == {"state": "drain"}


def test_traffic_split_addresses_for_nginx() -> None:
    servers = traffic_split(["app1", "app2"], "blue", "green", 10, 8080, 8081, HOSTVARS)
    assert servers["app1_green"]["address"] == "10.0.0.11:8081"
    assert servers["app2_blue"]["address"] == "app2:8080"


@pytest.mark.parametrize(
    "args,message",
    [
        (("blue", "green", 101), "between 0 and 100"),
        (("blue", "green", "half"), "whole percentage"),
        (("blue", "red", 10), "blue and green"),
    ],
)
def test_traffic_split_refuses_bad_input(args, message) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        traffic_split(["app1"], *args)


def test_colour_servers() -> None:
    servers = colour_servers(["app1"], "green", 8080, 8081, HOSTVARS)
    assert servers == {
        "app1_blue": {"address": "10.0.0.11:8080", "weight": 0, "state": "maint"},
        "app1_green": {"address": "10.0.0.11:8081", "weight": 100, "state": "ready"},
    }


def test_script_context_is_the_generated_one_with_the_role_settings_over_it() -> None:
    model = load_model(req=str(REQ14))
    context = script_context(model_to_dict(model), "ignored", {"target": "local", "haproxy": {"server": "app1"}})
    expected = generated(model)
    assert context["haproxy"] == dict(expected["haproxy"], server="app1")
    assert context["target"] == "local"
    for key in ("service", "port", "health", "environments", "thresholds", "metrics", "scripts", "script_info"):
        assert context[key] == expected[key], key


def test_script_context_without_documents() -> None:
    context = script_context({}, "demo")
    assert context["service"] == "demo"
    assert context["port"] == 8080
    assert set(context["environments"]) == {"dev", "staging", "prod"}


@pytest.mark.parametrize(
    "model,overrides,message",
    [
        (["not", "a", "model"], None, "expected the model"),
        ({"no": "service"}, None, "not a model"),
        ({}, ["x"], "overrides must be a mapping"),
    ],
)
def test_script_context_refuses_bad_input(model, overrides, message) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        script_context(model, "demo", overrides)


def test_script_files_are_the_generated_scripts() -> None:
    model = load_model(req=str(REQ14))
    context = script_context(model_to_dict(model), "ignored")
    files = script_files(context, "/opt/order-intake-api/bin/")
    expected = generated_scripts(model)
    assert list(files) == ["/opt/order-intake-api/bin/%s" % name for name in context["scripts"]]
    for path, text in files.items():
        assert text == expected.files["scripts/%s" % path.rsplit("/", 1)[1]].content


@pytest.mark.parametrize(
    "context,message",
    [
        ("text", "expected the deploy_script context"),
        ({"service": "x"}, "expected the deploy_script context"),
        ({"scripts": ["nope.sh"]}, "unknown deployment script 'nope.sh'"),
        ({"scripts": ["deploy.sh"]}, "cannot render the scripts"),
    ],
)
def test_script_files_refuses_bad_input(context, message) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        script_files(context, "/opt/x/bin")
