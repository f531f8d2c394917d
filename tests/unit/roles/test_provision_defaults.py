"""The provision role's defaults and derived variables for the example documents of the three clouds:
names, regions, subnet CIDRs (the Terraform's cidrsubnet), cost categories of 9.5.7, labels, budgets.

No cloud is called: one ansible-playbook run loads roles/provision/defaults and vars into a play per
case (one inventory host each, so the settings of a case stay with it), and prints the values it computes
through the JSON callback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
ROLE = REPO / "roles" / "provision"
DOCS = REPO / "examples" / "docs" / "07_REQ"
SHOWN = [
    "provision_engine",
    "provision_cloud",
    "provision_region",
    "provision_environment",
    "provision_name",
    "provision_short_name",
    "provision_req_id",
    "provision_tags",
    "provision_cost_tag_key",
    "provision_cost_rows",
    "provision_zones",
    "provision_subnet_plan",
    "provision_target_groups",
    "provision_create_budgets",
    "provision_budgets",
    "provision_database",
    "provision_database_engine",
    "provision_database_multi_az",
    "provision_database_port",
    "provision_secret_name",
    "provision_security_group_plan",
    "provision_tls_policy",
    "provision_container_port",
    "provision_health_path",
    "provision_gcp_labels",
    "provision_gcp_cost_label",
    "provision_gcp_secret_name",
    "provision_gcp_database_version",
    "provision_azure_storage_account",
    "provision_azure_key_vault",
    "provision_azure_subnets",
    "provision_cache_node_type",
]

CASES = {
    "aws_dev": {"provision_req": str(DOCS / "REQ-14_order_intake_api.md"), "provision_environment": "dev"},
    "aws_prod": {"provision_req": str(DOCS / "REQ-14_order_intake_api.md"), "provision_environment": "prod"},
    "aws_long": {
        "provision_req": str(DOCS / "REQ-14_order_intake_api.md"),
        "provision_environment": "staging",
        "provision_service_name": "a-very-long-service-name-for-tests",
        "provision_vpc_cidr": "172.16.32.0/20",
    },
    "gcp": {"provision_req": str(DOCS / "REQ-21_catalog_search.md")},
    "azure": {"provision_req": str(DOCS / "REQ-102_ledger_events.md")},
}


@pytest.fixture(scope="module")
def values(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("provision-defaults")
    plays = []
    for label, settings in CASES.items():
        plays.append(
            {
                "name": label,
                "hosts": label,
                "gather_facts": False,
                "vars_files": [str(ROLE / "defaults" / "main.yml"), str(ROLE / "vars" / "main.yml")],
                "tasks": [
                    {"name": "Settings of the case", "ansible.builtin.set_fact": settings},
                    {
                        "name": "Read the documents once",
                        "ansible.builtin.set_fact": {"provision_model": "{{ provision_model }}"},
                    },
                    {
                        "name": "Values",
                        "ansible.builtin.debug": {
                            "msg": "{{ {%s} }}" % ", ".join("'%s': %s" % (n, n) for n in SHOWN),
                        },
                    },
                ],
            }
        )
    playbook = tmp / "show.yml"
    playbook.write_text(json.dumps(plays), encoding="utf-8")
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".build" / "collections"),
            "ANSIBLE_HOME": str(tmp / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        }
    )
    # one host per case: facts set in one play stay with its host
    inventory = ",".join(CASES) + ","
    argv = [
        os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
        "-i",
        inventory,
        "-c",
        "local",
        "-e",
        "ansible_python_interpreter=%s" % sys.executable,
        str(playbook),
    ]
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    shown = json.loads(result.stdout)
    return {play["play"]["name"]: play["tasks"][-1]["hosts"][play["play"]["name"]]["msg"] for play in shown["plays"]}


def test_aws_dev_of_req_14(values):
    found = values["aws_dev"]
    assert found["provision_engine"] == "terraform"  # iac_provider: terraform in the front matter
    assert (found["provision_cloud"], found["provision_region"]) == ("aws", "us-east-1")
    assert found["provision_name"] == found["provision_short_name"] == "order-intake-api-dev"
    assert found["provision_tags"] == {
        "Project": "order-intake-api",
        "ManagedBy": "sdd.devops_flow",
        "sdd.devops-flow/req": "REQ-14",
        "Environment": "dev",
    }
    assert found["provision_cost_tag_key"] == "sdd.devops-flow/cost"
    assert found["provision_cost_rows"] == {
        "network": "network",
        "compute": "compute",
        "database": "database",
        "cache": "cache",
        "storage": "storage",
        "queue": "total",
        "secrets": "total",
    }
    assert found["provision_zones"] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert [(s["tier"], s["zone"], s["cidr"]) for s in found["provision_subnet_plan"]] == [
        ("public", "us-east-1a", "10.20.0.0/20"),
        ("public", "us-east-1b", "10.20.16.0/20"),
        ("public", "us-east-1c", "10.20.32.0/20"),
        ("private", "us-east-1a", "10.20.128.0/20"),
        ("private", "us-east-1b", "10.20.144.0/20"),
        ("private", "us-east-1c", "10.20.160.0/20"),
    ]
    assert found["provision_subnet_plan"][0]["name"] == "order-intake-api-dev-public-us-east-1a"
    assert found["provision_target_groups"] == ["blue", "green"]
    assert found["provision_create_budgets"] is False
    assert [b["resource"] for b in found["provision_budgets"]] == [
        "compute",
        "database",
        "cache",
        "storage",
        "network",
        "total",
    ]
    assert found["provision_database"] is True and found["provision_database_engine"] == "postgresql"
    assert found["provision_database_multi_az"] is False and int(found["provision_database_port"]) == 5432
    assert found["provision_secret_name"] == "order-intake/dev/database"
    assert int(found["provision_container_port"]) == 8080 and found["provision_health_path"] == "/health/ready"
    assert found["provision_tls_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert found["provision_cache_node_type"] == "cache.t4g.small"


def test_security_groups_follow_9_5_6(values):
    groups = {g["name"]: g for g in values["aws_dev"]["provision_security_group_plan"]}
    assert list(groups) == ["alb", "app", "database", "cache"]
    assert groups["alb"]["rules"] == [{"proto": "tcp", "ports": [80, 443], "cidr_ip": ["0.0.0.0/0"]}]
    assert groups["app"]["rules"][0]["group_name"] == ["order-intake-api-dev-alb"]
    assert groups["app"]["egress"] is None  # all outbound (AWS APIs, database, cache)
    assert groups["database"]["rules"][0]["group_name"] == ["order-intake-api-dev-app"]
    assert groups["database"]["egress"] == [] and groups["cache"]["egress"] == []


def test_aws_prod_is_highly_available_and_budgeted(values):
    found = values["aws_prod"]
    assert found["provision_database_multi_az"] is True
    assert found["provision_create_budgets"] is True
    assert found["provision_secret_name"] == "order-intake/prod/database"


def test_long_names_are_shortened_like_the_terraform(values):
    found = values["aws_long"]
    assert found["provision_name"] == "a-very-long-service-name-for-tests-staging"
    short = found["provision_short_name"]
    assert len(short) <= 24 and short.startswith("a-very-long-servi-")
    assert [s["cidr"] for s in found["provision_subnet_plan"]][:2] == ["172.16.32.0/24", "172.16.33.0/24"]
    assert found["provision_subnet_plan"][3]["cidr"] == "172.16.40.0/24"


def test_gcp_of_req_21(values):
    found = values["gcp"]
    assert (found["provision_cloud"], found["provision_region"], found["provision_environment"]) == (
        "gcp",
        "us-central1",
        "dev",
    )
    assert found["provision_gcp_labels"] == {
        "project": "catalog-search",
        "managedby": "sdd-devops_flow",
        "sdd-devops-flow-req": "req-21",
        "environment": "dev",
    }
    assert found["provision_gcp_cost_label"] == "sdd-devops-flow-cost"
    assert found["provision_gcp_secret_name"] == "catalog-search-dev-database"
    assert found["provision_gcp_database_version"] == "POSTGRES_15"
    assert found["provision_zones"] == ["us-central1-a", "us-central1-b", "us-central1-c"]


def test_azure_of_req_102(values):
    found = values["azure"]
    assert (found["provision_cloud"], found["provision_region"]) == ("azure", "eastus2")
    assert found["provision_engine"] == "terraform"
    assert (
        "sdd-devops-flow-req" in found["provision_tags"] and found["provision_cost_tag_key"] == "sdd-devops-flow-cost"
    )
    assert found["provision_azure_storage_account"] == "ledgereventsdevdata"
    assert found["provision_azure_key_vault"] == "kv-ledger-events-dev"
    assert [s["tier"] for s in found["provision_azure_subnets"]] == ["public", "private", "database"]
    assert found["provision_budgets"] == [] and found["provision_cost_rows"]["database"] == "total"
