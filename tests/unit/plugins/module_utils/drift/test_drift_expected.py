"""expected: what the model expects agrees with what the generated Terraform declares.

The values are read back from the generated files with python-hcl2 (variable
defaults, then each environment's tfvars), so a change of a renderer that the drift
check does not follow fails here.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Dict, List

import hcl2
import pytest
from drift_recorded import EXAMPLES

from ansible_collections.sdd.devops_flow.plugins.module_utils.drift.compare import DriftError
from ansible_collections.sdd.devops_flow.plugins.module_utils.drift.expected import (
    cidrsubnet,
    expectation,
    short_name,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import Options, render
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.model import Model

REQS = ["REQ-14_order_intake_api.md", "REQ-21_catalog_search.md", "REQ-102_ledger_events.md"]


def _unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    return value


def terraform(model: Model, cloud: str) -> Dict[str, str]:
    return {f.path: f.content for f in render(model, Options("infra", iac="terraform", cloud=cloud))}


def values(files: Dict[str, str], env: str) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for block in hcl2.loads(files["variables.tf"]).get("variable", []):
        for name, body in block.items():
            if "default" in body:
                out[_unquote(name)] = _unquote(body["default"])
    tfvars = hcl2.loads(files["environments/%s.tfvars" % env])
    out.update({k: _unquote(v) for k, v in tfvars.items() if not k.startswith("__")})
    return out


def resources(files: Dict[str, str], path: str, kind: str) -> Dict[str, Dict[str, Any]]:
    out: Dict[str, Dict[str, Any]] = {}
    for block in hcl2.loads(files[path]).get("resource", []):
        for rtype, body in block.items():
            if _unquote(rtype) == kind:
                for name, attrs in body.items():
                    out[_unquote(name)] = attrs
    return out


def wants(expect: Any, kind: str, name: str = "") -> Dict[str, Any]:
    found = [r for r in expect.resources if r.kind == kind and (not name or r.name == name)]
    assert len(found) == 1, (kind, name, [r.name for r in expect.resources if r.kind == kind])
    return {k: w.value for k, w in found[0].attributes.items()}


@pytest.fixture(scope="module")
def models() -> Dict[str, Model]:
    return {req: load_model(req=str(EXAMPLES / req)) for req in REQS}


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_aws_values_are_the_generated_terraform_values(models: Dict[str, Model], env: str) -> None:
    model = models["REQ-14_order_intake_api.md"]
    files = terraform(model, "aws")
    v = values(files, env)
    expect = expectation(model, env, "aws")
    name = "%s-%s" % (v["project"], v["environment"])
    assert expect.scope == {"Project": v["project"], "Environment": v["environment"]}
    assert expect.region == v["region"]
    assert wants(expect, "vpc") == {"cidr_block": v["vpc_cidr"]}
    db = wants(expect, "db_instance")
    assert db["instance_class"] == v["db_instance_class"]
    assert db["multi_az"] == v["db_multi_az"]
    assert db["allocated_storage"] == v["db_allocated_storage"]
    assert db["engine_version"] == v["db_engine_version"]
    cache = wants(expect, "elasticache_replication_group")
    assert cache["node_type"] == v["cache_node_type"]
    assert cache["multi_az"] == v["cache_multi_az"] and cache["nodes"] == (2 if v["cache_multi_az"] else 1)
    ecs = wants(expect, "ecs_service", name)
    assert (ecs["cpu"], ecs["memory"]) == (v["task_cpu"], v["task_memory"])
    assert (ecs["min_capacity"], ecs["max_capacity"]) == (v["min_capacity"], v["max_capacity"])
    queue = wants(expect, "sqs_queue", name)
    assert queue["retention_seconds"] == v["queue_retention_seconds"]
    assert queue["max_receive_count"] == v["queue_max_receive_count"]
    # every security group of the network module, with the rules the module declares
    groups = resources(files, "modules/network/main.tf", "aws_security_group")
    expected_groups = {r.name for r in expect.resources if r.kind == "security_group"}
    assert expected_groups == {"default"} | {_unquote(g["name"]).replace("${var.name}", name) for g in groups.values()}
    rules = resources(files, "modules/network/main.tf", "aws_vpc_security_group_ingress_rule")
    assert len(rules) == sum(len(w) for w in (wants(expect, "security_group", g)["ingress"] for g in expected_groups))
    alb = wants(expect, "security_group", name + "-alb")["ingress"]
    assert sorted(alb) == sorted(
        "tcp %d from %s" % (r["from_port"], _unquote(r["cidr_ipv4"]))
        for r in rules.values()
        if r["security_group_id"] == "${aws_security_group.alb.id}"
    )


def test_gcp_values_are_the_generated_terraform_values(models: Dict[str, Model]) -> None:
    model = models["REQ-21_catalog_search.md"]
    files = terraform(model, "gcp")
    for env in ("dev", "staging", "prod"):
        v = values(files, env)
        expect = expectation(model, env, "gcp", project="acme-shop")
        name = "%s-%s" % (v["service_name"], v["environment"])
        assert expect.scope["network"] == name
        run = wants(expect, "cloud_run_service")
        assert (run["cpu"], run["memory"]) == (v["cpu"], v["memory"])
        assert (run["min_instances"], run["max_instances"]) == (v["min_instances"], v["max_instances"])
        sql = wants(expect, "sql_instance")
        assert (sql["tier"], sql["disk_size_gb"]) == (v["database_tier"], v["database_disk_gb"])
        assert sql["availability_type"] == ("REGIONAL" if v["database_high_availability"] else "ZONAL")
        redis = wants(expect, "redis_instance")
        assert redis["memory_size_gb"] == v["cache_memory_gb"]
        assert redis["tier"] == ("STANDARD_HA" if v["cache_high_availability"] else "BASIC")
    firewalls = resources(files, "modules/network/main.tf", "google_compute_firewall")
    assert [_unquote(f["name"]) for f in firewalls.values()] == ["${var.name}-deny-ingress"]
    buckets = resources(files, "modules/storage/main.tf", "google_storage_bucket")
    assert sorted(_unquote(b["name"]) for b in buckets.values()) == ["${var.name}-data", "${var.name}-logs"]
    expect = expectation(model, "prod", "gcp", project="acme-shop")
    assert sorted(r.name for r in expect.resources if r.kind == "storage_bucket") == [
        "catalog-sear-prod-acme-shop-data",
        "catalog-sear-prod-acme-shop-logs",
    ]


def test_azure_values_are_the_generated_terraform_values(models: Dict[str, Model]) -> None:
    model = models["REQ-102_ledger_events.md"]
    files = terraform(model, "azure")
    for env in ("dev", "staging", "prod"):
        v = values(files, env)
        expect = expectation(model, env, "azure")
        app = wants(expect, "container_app")
        assert (app["cpu"], app["memory"]) == (v["cpu"], v["memory"])
        assert (app["min_replicas"], app["max_replicas"]) == (v["min_replicas"], v["max_replicas"])
        db = wants(expect, "postgresql_flexible_server")
        assert db["sku"] == v["database_sku"]
        assert db["high_availability"] == ("ZoneRedundant" if v["database_high_availability"] else "Disabled")
        cache = wants(expect, "redis_cache")
        assert (cache["sku"], cache["capacity"]) == (v["cache_sku"], v["cache_capacity"])
        assert wants(expect, "servicebus_namespace")["sku"] == v["queue_sku"]
        assert wants(expect, "storage_account")["sku"] == "Standard_%s" % v["storage_replication"]
    # the NSG rules: the same names, priorities, access and ports as modules/network/main.tf
    nsgs = resources(files, "modules/network/main.tf", "azurerm_network_security_group")
    expect = expectation(model, "prod", "azure")
    for key, body in nsgs.items():
        declared: List[str] = []
        for rule in body["security_rule"]:
            ports = rule.get("destination_port_ranges") or [rule.get("destination_port_range")]
            ports = ["8080" if "app_port" in str(p) else _unquote(p) for p in ports]
            declared.append(
                "%s %s %s (%d)"
                % (
                    _unquote(rule["access"]).lower(),
                    _unquote(rule["protocol"]),
                    ",".join(sorted(ports)),
                    rule["priority"],
                )
            )
        inbound = wants(expect, "network_security_group", "ledger-events-prod-%s-nsg" % key)["inbound"]
        shown = sorted(re.sub(r" from \S+", "", rule) for rule in inbound)
        normalised = sorted(
            re.sub(r"(\S+) \(", lambda m: ",".join(sorted(m.group(1).split(","))) + " (", d) for d in declared
        )
        assert shown == normalised, key


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
@pytest.mark.parametrize("req", REQS)
def test_every_model_on_every_cloud(models: Dict[str, Model], req: str, cloud: str) -> None:
    model = models[req]
    for env in model.environments:
        expect = expectation(model, env.name, cloud)
        assert expect.cloud == cloud and expect.resources
        names = [(r.kind, r.name) for r in expect.resources]
        assert len(names) == len(set(names))
        for resource in expect.resources:
            assert resource.attributes and resource.address


def test_helpers() -> None:
    assert short_name("order-intake-api-prod", 30) == "order-intake-api-prod"
    # Terraform: "${trimsuffix(substr(name, 0, 23), "-")}-${substr(md5(name), 0, 6)}"
    name = "a-very-long-project-name-for-this-prod"
    assert short_name(name, 30) == "a-very-long-project-nam-" + hashlib.md5(name.encode()).hexdigest()[:6]  # noqa: S324
    assert short_name("a-very-long-project-na-e-for-this", 30).startswith("a-very-long-project-na-")
    assert cidrsubnet("10.40.0.0/16", 8, 0) == "10.40.0.0/24"
    assert cidrsubnet("10.40.0.0/16", 7, 2) == "10.40.4.0/23"
    assert cidrsubnet("10.40.0.0/16", 4, 1) == "10.40.16.0/20"


def test_errors(models: Dict[str, Model]) -> None:
    model = models["REQ-14_order_intake_api.md"]
    with pytest.raises(DriftError, match="no environment 'qa'; expected one of dev, staging, prod"):
        expectation(model, "qa")
    with pytest.raises(DriftError, match="unknown cloud"):
        expectation(model, "prod", "oracle")
    undecided = Model(service=model.service)
    with pytest.raises(DriftError, match="decide no cloud provider"):
        expectation(undecided, "prod")
    # no environments in the documents: the documented defaults
    assert expectation(undecided, "staging", "aws").environment == "staging"
