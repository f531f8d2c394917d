"""Terraform for Azure: every document set renders, passes the real validators
(terraform fmt, python-hcl2, checkov; terraform validate is reported as skipped because
the azurerm provider is not in the offline mirror), and holds the documents' facts."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any, Dict, List

import hcl2
import pytest
from hcl2.utils import SerializationOptions

from ansible_collections.sdd.devops_flow.plugins.module_utils import model as M
from ansible_collections.sdd.devops_flow.plugins.module_utils.fileset import FileSet
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import terraform_azure
from ansible_collections.sdd.devops_flow.plugins.module_utils.render.common import REQ_TAG_AZURE
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.registry import validate_files
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.terraform import Hcl2Parse, TerraformFmt

REPO = Path(__file__).resolve().parents[5]
EXAMPLES = REPO / "examples" / "docs" / "07_REQ"
FOREIGN = REPO / "tests" / "fixtures" / "foreign"
PLAIN = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)

CASES = {
    "REQ-102": EXAMPLES / "REQ-102_ledger_events.md",
    "contoso": FOREIGN / "contoso-ledger/docs/07_REQ/REQ-21_ledger_event_publisher/REQ-21_ledger_event_publisher.md",
    "REQ-14": EXAMPLES / "REQ-14_order_intake_api.md",
    "initech": FOREIGN / "initech-notifications/docs/07_REQ/REQ-15_notification_dispatcher.md",
}


def _load(text: str) -> Dict[str, Any]:
    return hcl2.loads(text, serialization_options=PLAIN)  # type: ignore[no-any-return]


def _write(files: FileSet, root: Path) -> None:
    for f in files:
        path = root / f.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.content, encoding="utf-8")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, validate_cases: Any) -> Dict[str, Dict[str, Any]]:
    """Every case rendered (with headers, as the writer gets it), written, and validated in one run."""
    base = tmp_path_factory.mktemp("azure")
    out: Dict[str, Dict[str, Any]] = {}
    for name, req in CASES.items():
        model = load_model(req=str(req), cloud="azure")
        files = terraform_azure.render(model, "azure").finalize("generate infra", "test", ("doc.md",), model.req_id)
        parsed = {f.path: _load(f.content) for f in files}
        out[name] = {"model": model, "files": files, "parsed": parsed}
    findings = validate_cases(base, {name: case["files"] for name, case in out.items()})
    for name, case in out.items():
        case["findings"] = findings[name]
    return out


def _resources(parsed: Dict[str, Any], kind: str) -> List[Dict[str, Any]]:
    found = []
    for doc in parsed.values():
        for block in doc.get("resource", []):
            if kind in block:
                found.extend(block[kind].values())
    return found


def _tfvars(case: Dict[str, Any], env: str) -> Dict[str, Any]:
    return case["parsed"]["environments/%s.tfvars" % env]


def _variable_default(case: Dict[str, Any], name: str) -> Any:
    for block in case["parsed"]["variables.tf"]["variable"]:
        if name in block:
            return block[name].get("default")
    raise KeyError(name)


def _text(case: Dict[str, Any], path: str) -> str:
    return next(f.content for f in case["files"] if f.path == path)


@pytest.mark.parametrize("name", list(CASES))
def test_real_validators_pass(rendered: Dict[str, Dict[str, Any]], name: str) -> None:
    findings = rendered[name]["findings"]
    assert [f.format() for f in findings if f.severity == "error"] == []
    skipped = [f for f in findings if f.tool == "terraform validate" and f.code == "provider-unavailable"]
    assert skipped and skipped[0].severity == "warning", "terraform validate must say it was skipped"


@pytest.mark.parametrize("name", list(CASES))
def test_layout_backend_and_tags(rendered: Dict[str, Dict[str, Any]], name: str) -> None:
    case = rendered[name]
    paths = set(case["files"].paths())
    for path in ("versions.tf", "providers.tf", "backend.tf", "variables.tf", "main.tf", "outputs.tf"):
        assert path in paths
    assert {"modules/network/main.tf", "modules/compute/main.tf"} <= paths
    assert {"environments/%s.tfvars" % e.name for e in case["model"].environments} <= paths
    providers = case["parsed"]["versions.tf"]["terraform"][0]["required_providers"][0]
    assert providers["azurerm"]["source"] == "hashicorp/azurerm"
    assert providers["azurerm"]["version"].startswith("~> 4")
    provider = case["parsed"]["providers.tf"]["provider"][0]["azurerm"]
    assert "features" in provider
    backend = case["parsed"]["backend.tf"]["terraform"][0]["backend"][0]["azurerm"]
    assert backend == {"use_azuread_auth": True}
    tags = case["parsed"]["main.tf"]["locals"][0]["tags"]
    assert tags[REQ_TAG_AZURE] == case["model"].req_id
    assert tags["Environment"] == "${var.environment}"
    # every taggable resource of the root gets the tags
    for kind in ("azurerm_resource_group", "azurerm_key_vault", "azurerm_container_registry"):
        for res in _resources({"main.tf": case["parsed"]["main.tf"]}, kind):
            assert res["tags"] == "${local.tags}"


def test_ledger_events_container_apps(rendered: Dict[str, Dict[str, Any]]) -> None:
    case = rendered["REQ-102"]
    parsed = case["parsed"]
    (app,) = _resources(parsed, "azurerm_container_app")
    container = app["template"][0]["container"][0]
    assert container["liveness_probe"][0]["path"] == "/livez"
    assert container["readiness_probe"][0]["path"] == "/readyz"
    assert container["startup_probe"][0]["path"] == "/startupz"
    assert container["liveness_probe"][0]["timeout"] == 2
    assert app["template"][0]["min_replicas"] == "${var.min_replicas}"
    assert app["identity"][0]["type"] == "UserAssigned"
    assert app["revision_mode"] == "Multiple"  # staging is canary
    secret = app["dynamic"][0]["secret"]
    assert secret["content"][0]["key_vault_secret_id"] == "${secret.value}"
    secret_env = parsed["main.tf"]["locals"][0]["secret_env"]
    assert secret_env == {"DATABASE_URL": "database-url", "REDIS_PASSWORD": "cache-access-key"}
    (gateway,) = _resources(parsed, "azurerm_application_gateway")
    assert gateway["sku"][0]["name"] == "WAF_v2"
    assert gateway["ssl_policy"][0]["policy_name"].startswith("AppGwSslPolicy2022")
    assert [listener["protocol"] for listener in gateway["http_listener"]] == ["Https"]
    assert _variable_default(case, "tls_domain") == "ledger.internal.example.com"
    assert (_tfvars(case, "prod")["min_replicas"], _tfvars(case, "staging")["min_replicas"]) == (3, 2)


def test_ledger_events_data_services(rendered: Dict[str, Dict[str, Any]]) -> None:
    case = rendered["REQ-102"]
    parsed = case["parsed"]
    (pg,) = _resources(parsed, "azurerm_postgresql_flexible_server")
    assert pg["version"] == "16"
    assert pg["public_network_access_enabled"] is False
    assert pg["delegated_subnet_id"] == "${var.subnet_id}"
    assert pg["administrator_password_wo"] == "${ephemeral.random_password.admin.result}"
    assert _variable_default(case, "backup_retention_days") == 35  # SPEC data_backup: 35 days
    assert _tfvars(case, "prod")["database_high_availability"] is True
    assert _tfvars(case, "dev")["database_high_availability"] is False
    (redis,) = _resources(parsed, "azurerm_redis_cache")
    assert redis["minimum_tls_version"] == "1.2" and redis["non_ssl_port_enabled"] is False
    assert redis["public_network_access_enabled"] is False
    (account,) = _resources(parsed, "azurerm_storage_account")
    assert account["min_tls_version"] == "TLS1_2" and account["allow_nested_items_to_be_public"] is False
    assert account["infrastructure_encryption_enabled"] is True
    assert account["blob_properties"][0]["versioning_enabled"] is True
    assert _resources(parsed, "azurerm_storage_container_immutability_policy")  # immutable container
    assert _variable_default(case, "storage_retention_days") == 2555
    (namespace,) = _resources(parsed, "azurerm_servicebus_namespace")
    assert namespace["local_auth_enabled"] is False and namespace["minimum_tls_version"] == "1.2"
    assert _variable_default(case, "queue_sku") == "Premium"  # "Service Bus (Premium)"
    (topic,) = _resources(parsed, "azurerm_servicebus_topic")
    assert topic["default_message_ttl"] == "P${var.retention_days}D"
    (sub,) = _resources(parsed, "azurerm_servicebus_subscription")
    assert sub["dead_lettering_on_message_expiration"] is True
    (vault,) = _resources(parsed, "azurerm_key_vault")
    assert vault["purge_protection_enabled"] is True and vault["rbac_authorization_enabled"] is True
    assert vault["network_acls"][0]["default_action"] == "Deny"
    (acr,) = _resources(parsed, "azurerm_container_registry")
    assert acr["sku"] == "Premium" and acr["admin_enabled"] is False
    assert _resources(parsed, "azurerm_consumption_budget_resource_group") == []  # REQ-102 has no 9.5.7
    nsgs = {n["name"]: n for n in _resources(parsed, "azurerm_network_security_group")}
    database_rules = nsgs["${var.name}-database-nsg"]["security_rule"]
    allow = [r for r in database_rules if r["access"] == "Allow"]
    assert [r["destination_port_range"] for r in allow] == ["5432"]


def test_contoso_aks(rendered: Dict[str, Dict[str, Any]]) -> None:
    case = rendered["contoso"]
    parsed = case["parsed"]
    assert _resources(parsed, "azurerm_container_app") == []
    (cluster,) = _resources(parsed, "azurerm_kubernetes_cluster")
    assert cluster["private_cluster_enabled"] is True and cluster["local_account_disabled"] is True
    assert cluster["workload_identity_enabled"] is True
    assert cluster["network_profile"][0]["network_policy"] == "cilium"
    (pool,) = _resources(parsed, "azurerm_kubernetes_cluster_node_pool")
    assert pool["vm_size"] == "${var.vm_size}"
    assert _variable_default(case, "vm_size") == "Standard_D4s_v5"
    assert _variable_default(case, "location") == "uksouth"  # 9.5.2 names it
    assert _variable_default(case, "zones") == ["1", "2", "3"]
    assert _resources(parsed, "azurerm_federated_identity_credential")


def test_order_intake_api_forced_to_azure(rendered: Dict[str, Dict[str, Any]]) -> None:
    case = rendered["REQ-14"]
    compute = _text(case, "modules/compute/main.tf")
    assert "The documents name ecs-fargate; Container Apps" in compute
    assert _variable_default(case, "location") == "eastus"
    assert (_variable_default(case, "cpu"), _variable_default(case, "memory")) == (2, "4Gi")
    budgets = _resources(case["parsed"], "azurerm_consumption_budget_resource_group")
    assert sorted(b["amount"] for b in budgets) == [40, 90, 120, 380, 450, 1080]
    for budget in budgets:
        assert [n["threshold"] for n in budget["notification"]] == [80]
    database = _text(case, "modules/database/main.tf")
    assert "checkov:skip=CKV_AZURE_136:" in database  # no cross-region copy asked for
    assert _tfvars(case, "prod")["database_high_availability"] is True


def test_initech_forced_to_azure(rendered: Dict[str, Dict[str, Any]]) -> None:
    parsed = rendered["initech"]["parsed"]
    (cosmos,) = _resources(parsed, "azurerm_cosmosdb_account")
    assert cosmos["public_network_access_enabled"] is False
    assert cosmos["backup"][0]["type"] == "Continuous"
    assert _resources(parsed, "azurerm_postgresql_flexible_server") == []
    assert _resources(parsed, "azurerm_servicebus_queue")  # SQS standard queue -> Service Bus queue


@pytest.mark.parametrize("name", list(CASES))
def test_no_secret_values(rendered: Dict[str, Dict[str, Any]], name: str) -> None:
    parsed = rendered[name]["parsed"]
    for secret in _resources(parsed, "azurerm_key_vault_secret"):
        assert "value" not in secret and secret["value_wo"].startswith("${")  # written, never stored
    for kind in ("azurerm_postgresql_flexible_server", "azurerm_mysql_flexible_server"):
        for server in _resources(parsed, kind):
            assert "administrator_password" not in server
    for f in rendered[name]["files"]:
        assert not re.search(r"^\s*(administrator_password|password|primary_access_key)\s*=", f.content, re.M), f.path
    for block in rendered[name]["parsed"]["variables.tf"]["variable"]:
        for var_name, spec in block.items():
            if re.search(r"password|token|_key$", var_name) and "default" in spec:
                assert spec["default"] in (None, 1), var_name


def test_deterministic() -> None:
    first = [(f.path, f.content) for f in terraform_azure.render(load_model(req=str(CASES["REQ-102"])), "azure")]
    second = [(f.path, f.content) for f in terraform_azure.render(load_model(req=str(CASES["REQ-102"])), "azure")]
    assert first == second


def test_hostile_document_values_are_escaped(tmp_path: Path) -> None:
    model = load_model(req=str(CASES["REQ-102"]))
    evil = 'x" }\nresource "null_resource" "pwn" {\n  a = "${file("/etc/passwd")}%{ if true }'
    infra = model.infrastructure
    model = dataclasses.replace(
        model,
        security=dataclasses.replace(model.security, tls=M.Tls(domain=evil)),
        infrastructure=dataclasses.replace(
            infra,
            queue=dataclasses.replace(infra.queue, service='topic "x${evil}'),
            storage=dataclasses.replace(infra.storage, service=evil),
        ),
        cost=M.Cost(budgets=(M.Budget(resource=evil, monthly_usd=12.5, threshold_percents=(90.0,)),)),
        environments=(M.Environment(name=evil, replicas=1),),
    )
    files = terraform_azure.render(model, "azure")
    _write(files, tmp_path)
    found = TerraformFmt().check(str(tmp_path), files.paths()) + Hcl2Parse().check(str(tmp_path), files.paths())
    assert [f.format() for f in found if f.severity == "error"] == []
    text = "\n".join(f.content for f in files)
    assert 'resource "null_resource"' not in text
    assert "${file(" not in text.replace("$${file(", "")


def test_any_model_renders_valid_terraform(tmp_path: Path) -> None:
    bare = M.Model(service=M.Service(name="tiny", ports=(8080,)))
    odd = M.Model(
        service=M.Service(name="billing-api", ports=(80,)),
        infrastructure=M.Infrastructure(
            compute=M.Compute(kind="app-service"),
            database=M.Database(engine="sqlserver", ha=True),
            cache=M.Cache(engine="memcached"),
            queue=M.Queue(kind="kafka"),
            storage=M.Storage(kind="efs"),
        ),
        environments=(M.Environment("prod", multi_region=True, regions=("westeurope", "northeurope")),),
    )
    mysql = M.Model(
        service=M.Service(name="shop", ports=(8080,)),
        infrastructure=M.Infrastructure(
            compute=M.Compute(kind="eks"), database=M.Database(engine="mysql", version="8.0")
        ),
    )
    for index, model in enumerate((bare, odd, mysql)):
        files = terraform_azure.render(model, "azure")
        root = tmp_path / str(index)
        _write(files, root)
        errors = [
            f.format() for f in validate_files(str(root), {f.path: f.kind for f in files}) if f.severity == "error"
        ]
        assert errors == []
    assert terraform_azure.plan_for(odd).compute == "app-service"
    assert terraform_azure.plan_for(odd).secondary_location == "northeurope"
    assert terraform_azure.plan_for(mysql).compute == "aks"
