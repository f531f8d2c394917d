"""The Azure drift check, with the real azure-mgmt-resource, azure-mgmt-network and
azure-mgmt-storage clients running their azure-core pipeline (bearer token, retries,
deserialisation) over an HttpTransport that answers from recorded ARM responses.

The recorded subscription holds production of REQ-102 (ledger-events) as the generated
Terraform makes it - the VNet, four network security groups, the storage account, the
PostgreSQL flexible server, the Redis cache, the container app and the Service Bus
namespace - plus what must be ignored (the Key Vault, which is not compared, and the
staging server, whose Environment tag is another).
"""

from __future__ import annotations

import copy
from typing import Any, Dict

import pytest
from drift_recorded import AZURE_SUBSCRIPTION, Recorded, arm, azure_options

from ansible_collections.sdd.devops_flow.plugins.module_utils.drift import azure
from ansible_collections.sdd.devops_flow.plugins.module_utils.drift.compare import DriftError
from ansible_collections.sdd.devops_flow.plugins.module_utils.drift.expected import expectation
from ansible_collections.sdd.devops_flow.plugins.module_utils.drift.run import check

RG = "/resourceGroups/rg-ledger-events-prod/providers"
LIST = arm("/resources")
APP_NSG = arm(RG + "/Microsoft.Network/networkSecurityGroups/ledger-events-prod-app-nsg")
STORAGE = arm(RG + "/Microsoft.Storage/storageAccounts/stledgereventsprod3fa91c")
POSTGRES = arm(RG + "/Microsoft.DBforPostgreSQL/flexibleServers/ledger-events-prod")
APP = arm(RG + "/Microsoft.App/containerApps/ledger-events-prod")
REDIS = arm(RG + "/Microsoft.Cache/Redis/redis-ledger-events-prod-3fa91c")


def run_check(model: Any, recorded: Recorded, **options: Any) -> Dict[str, Any]:
    return check(model, "prod", options=dict(azure_options(recorded), **options))


def changes(report: Dict[str, Any]) -> Dict[tuple, Dict[str, Any]]:
    return {(c["resource"], c["attribute"]): c for c in report["changed"]}


def test_no_drift_when_the_subscription_matches_the_documents(azure_model: Any, azure_recorded: Recorded) -> None:
    report = run_check(azure_model, azure_recorded)
    assert report["drift"] is False, report["summary"]
    assert report["summary"].startswith("ledger-events prod on azure: no drift (10 resources")
    statuses = {c["resource"]: c["status"] for c in report["checked"]}
    assert set(statuses.values()) == {"ok"}
    assert "storage_account/stledgereventsprod<unique>" in statuses  # the name only Azure knows fully
    found = {c["resource"]: c.get("name") for c in report["checked"]}
    assert found["storage_account/stledgereventsprod<unique>"] == "stledgereventsprod3fa91c"
    assert report["extra"] == [] and report["skipped"] == []
    listing = azure_recorded.calls[0]
    assert listing[1] == LIST.lower()
    assert "tagName%20eq%20%27Project%27%20and%20tagValue%20eq%20%27ledger-events%27" in listing[2]
    # the staging server is not read at all, the Key Vault neither
    assert not any("staging" in call[1] or "keyvault" in call[1] for call in azure_recorded.calls)
    # the generic resources are read at the API versions the reader pins
    assert any(c[1] == POSTGRES.lower() and "api-version=2024-08-01" in c[2] for c in azure_recorded.calls)


def test_a_missing_database_is_reported(azure_model: Any, azure_recorded: Recorded) -> None:
    listed = azure_recorded[LIST]
    listed["value"] = [r for r in listed["value"] if r["name"] != "ledger-events-prod" or "DBfor" not in r["type"]]
    report = run_check(azure_model, azure_recorded)
    assert [m["resource"] for m in report["missing"]] == ["postgresql_flexible_server/ledger-events-prod"]
    expected = report["missing"][0]["expected"]
    assert expected["sku"] == "GP_Standard_D2ds_v5" and expected["high_availability"] == "ZoneRedundant"
    assert expected["storage_gb"] == 256
    assert report["drift"] is True and report["changed"] == []


def test_an_extra_open_port_is_a_changed_rule_set(azure_model: Any, azure_recorded: Recorded) -> None:
    rules = azure_recorded[APP_NSG]["properties"]["securityRules"]
    ssh = copy.deepcopy(rules[0])
    ssh["name"] = "allow-ssh"
    ssh["id"] = ssh["id"].replace("allow-gateway", "allow-ssh")
    ssh["properties"].update(
        {"destinationPortRange": "22", "destinationPortRanges": [], "sourceAddressPrefix": "Internet", "priority": 200}
    )
    rules.append(ssh)
    report = run_check(azure_model, azure_recorded)
    found = changes(report)
    assert list(found) == [("network_security_group/ledger-events-prod-app-nsg", "inbound")]
    change = found[("network_security_group/ledger-events-prod-app-nsg", "inbound")]
    assert change["added"] == ["allow Tcp 22 from Internet (200)"] and change["removed"] == []
    assert "allow Tcp 443,8080 from 10.40.0.0/24 (100)" in change["expected"]
    assert "allow Tcp 22 from Internet (200)" in change["actual"]
    assert change["address"] == "module.network.azurerm_network_security_group.app"


def test_a_storage_account_that_lost_its_key_is_reported(azure_model: Any, azure_recorded: Recorded) -> None:
    encryption = azure_recorded[STORAGE]["properties"]["encryption"]
    encryption["keySource"] = "Microsoft.Storage"
    del encryption["keyvaultproperties"]
    encryption["requireInfrastructureEncryption"] = False
    report = run_check(azure_model, azure_recorded)
    found = {key: (c["expected"], c["actual"]) for key, c in changes(report).items()}
    assert found == {
        ("storage_account/stledgereventsprod3fa91c", "encryption_key_source"): (
            "Microsoft.Keyvault",
            "Microsoft.Storage",
        ),
        ("storage_account/stledgereventsprod3fa91c", "infrastructure_encryption"): (True, False),
    }


def test_changed_sizes_are_reported_with_both_values(azure_model: Any, azure_recorded: Recorded) -> None:
    azure_recorded[POSTGRES]["sku"] = {"name": "Standard_D4ds_v5", "tier": "GeneralPurpose"}
    azure_recorded[POSTGRES]["properties"]["highAvailability"] = {"mode": "Disabled", "state": "NotEnabled"}
    azure_recorded[POSTGRES]["properties"]["storage"]["storageSizeGB"] = 512  # grown: fine
    template = azure_recorded[APP]["properties"]["template"]
    template["containers"][0]["resources"].update({"cpu": 0.5, "memory": "1Gi"})
    template["scale"]["minReplicas"] = 1
    azure_recorded[REDIS]["properties"]["sku"]["capacity"] = 0
    report = run_check(azure_model, azure_recorded)
    found = {key: (c["expected"], c["actual"]) for key, c in changes(report).items()}
    assert found == {
        ("postgresql_flexible_server/ledger-events-prod", "sku"): ("GP_Standard_D2ds_v5", "GP_Standard_D4ds_v5"),
        ("postgresql_flexible_server/ledger-events-prod", "high_availability"): ("ZoneRedundant", "Disabled"),
        ("container_app/ledger-events-prod", "cpu"): (1.0, 0.5),
        ("container_app/ledger-events-prod", "memory"): ("2Gi", "1Gi"),
        ("container_app/ledger-events-prod", "min_replicas"): (3, 1),
        ("redis_cache/redis-ledger-events-prod-3fa91c", "capacity"): (1, 0),
    }
    replicas = changes(report)[("container_app/ledger-events-prod", "min_replicas")]
    assert replicas["field"] == "environments[2].replicas"


def test_an_unexpected_tagged_server_is_extra(azure_model: Any, azure_recorded: Recorded) -> None:
    listed = azure_recorded[LIST]["value"]
    twin = copy.deepcopy(next(r for r in listed if r["type"] == "Microsoft.DBforPostgreSQL/flexibleServers"))
    twin["id"] = twin["id"].replace("flexibleServers/ledger-events-prod", "flexibleServers/ledger-events-prod-copy")
    twin["name"] = "ledger-events-prod-copy"
    listed.append(twin)
    body = copy.deepcopy(azure_recorded[POSTGRES])
    body["name"], body["id"] = twin["name"], twin["id"]
    azure_recorded[arm(RG + "/Microsoft.DBforPostgreSQL/flexibleServers/ledger-events-prod-copy")] = body
    report = run_check(azure_model, azure_recorded)
    assert [e["resource"] for e in report["extra"]] == ["postgresql_flexible_server/ledger-events-prod-copy"]
    assert report["extra"][0]["attributes"]["sku"] == "GP_Standard_D2ds_v5"
    assert report["missing"] == [] and report["changed"] == []


def test_one_resource_group_only(azure_model: Any, azure_recorded: Recorded) -> None:
    route = arm("/resourceGroups/rg-ledger-events-prod/resources")
    azure_recorded[route] = azure_recorded[LIST]
    report = run_check(azure_model, azure_recorded, resource_group="rg-ledger-events-prod")
    assert report["drift"] is False
    assert azure_recorded.calls[0][1] == route.lower()


def test_a_refused_call_stops_the_check(azure_model: Any, azure_recorded: Recorded) -> None:
    azure_recorded.fail(
        LIST,
        403,
        {"error": {"code": "AuthorizationFailed", "message": "The client does not have authorization to read"}},
    )
    with pytest.raises(DriftError, match="AuthorizationFailed"):
        run_check(azure_model, azure_recorded)


def test_the_subscription_is_required(
    azure_model: Any, azure_recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    expect = expectation(azure_model, "prod", "azure")
    options = azure_options(azure_recorded)
    with pytest.raises(DriftError, match="subscription_id"):
        azure.AzureReader(expect, credential=options["credential"], transport=options["transport"])
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", AZURE_SUBSCRIPTION)
    reader = azure.AzureReader(expect, credential=options["credential"], transport=options["transport"])
    assert reader.subscription == AZURE_SUBSCRIPTION


def test_a_missing_sdk_names_the_packages(azure_model: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(azure, "HAS_AZURE", False)
    monkeypatch.setattr(azure, "AZURE_IMPORT_ERROR", "No module named 'azure.mgmt.network'")
    with pytest.raises(DriftError, match="pip install azure-identity azure-mgmt-resource azure-mgmt-network"):
        azure.AzureReader(expectation(azure_model, "prod", "azure"), subscription_id=AZURE_SUBSCRIPTION)
