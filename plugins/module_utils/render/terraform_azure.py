# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Terraform for Azure: ``render(model, cloud) -> FileSet``.

Same layout as the other clouds: versions.tf, providers.tf, backend.tf (partial
azurerm configuration with Entra ID auth), variables.tf (defaults are the
production values), main.tf, outputs.tf, environments/<env>.tfvars and
modules/{network,compute,database,cache,storage,queue}/.

Compute: Container Apps; AKS when the documents name AKS or Kubernetes (any
Kubernetes service of another cloud maps to AKS); App Service when they name
App Service.  Every other kind (ECS Fargate, Cloud Run, Lambda, VMs) maps to
Container Apps, the nearest managed runtime for the service's container image.
Azure tags cannot hold "/", so the requirement tag is ``sdd-devops-flow-req``.
"""

from __future__ import annotations

import math
import re
from typing import Any, Dict, List, Optional, Tuple

from ..fileset import FileSet
from ..model import Model
from . import common
from .hcl import Attr, Block, Comment, Raw, expr, q
from .terraform_azure_compute import aks_module, app_service_module, container_apps_module
from .terraform_azure_modules import (
    DNS_ZONES,
    AzurePlan,
    cache_module,
    database_module,
    network_module,
    queue_module,
    storage_module,
)
from .terraform_azure_root import alert_rules, budget_resources, tfvars_items, variables_file
from .terraform_gcp_support import (
    Item,
    Module,
    Tree,
    cloud_region,
    cross_region_backup,
    document_engine,
    environments,
    interp,
    lifecycle,
    module_call,
    multi_region,
    note,
    number,
    output,
    resource,
    secondary_region,
    sensitive_env,
    service_name,
)

AZURERM_VERSION = "~> 4.0"
RANDOM_VERSION = "~> 3.7"
TERRAFORM_VERSION = ">= 1.11.0"
DEFAULT_LOCATION = "eastus2"
_KUBERNETES = ("aks", "kubernetes", "eks", "gke")
_FLEX_STORAGE_MB = [32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4193280, 4194304, 8388608, 16777216]
_ENV_WIRING = (
    (r"^(REDIS|CACHE)_(HOST|HOSTNAME)$", "cache", "module.cache.hostname"),
    (r"^(REDIS|CACHE)_PORT$", "cache", "tostring(module.cache.ssl_port)"),
    (r"^(REDIS|CACHE)_(ADDR|ADDRESS)$", "cache", '"${module.cache.hostname}:${module.cache.ssl_port}"'),
    (r"^(REDIS|CACHE)_URL$", "cache", '"rediss://${module.cache.hostname}:${module.cache.ssl_port}"'),
    (r"^(DB|DATABASE|PG|POSTGRES|MYSQL)_(HOST|HOSTNAME)$", "database", "module.database.fqdn"),
    (r"^(DB|DATABASE|PG|POSTGRES|MYSQL)_NAME$", "flexible", "module.database.database_name"),
    (r"^SERVICEBUS_(NAMESPACE|FQDN|HOST)$", "queue", "module.queue.namespace_fqdn"),
    (r"^SERVICEBUS_(TOPIC|QUEUE)$", "queue", "module.queue.entity_name"),
    (r"CONTAINER_URL$", "storage", "module.storage.container_url"),
    (r"^(STORAGE_ACCOUNT|STORAGE_ACCOUNT_NAME)$", "storage", "module.storage.account_name"),
    (r"^AZURE_CLIENT_ID$", "always", "azurerm_user_assigned_identity.runtime.client_id"),
)
_SECRET_WIRING = (
    (r"^(DB|DATABASE|PG|POSTGRES|MYSQL)_PASS(WORD)?$", "database-password"),
    (r"^(REDIS|CACHE)_(PASSWORD|AUTH|KEY|ACCESS_KEY)$", "cache-access-key"),
)


# --------------------------------------------------------------------------- the plan


def _sizes(model: Model) -> Tuple[float, str]:
    sizes = common.compute_sizes(model)
    cpu = min(4.0, max(0.25, math.ceil(sizes.vcpu * 4) / 4.0))
    memory = cpu * 2
    return cpu, ("%dGi" % memory if float(memory).is_integer() else "%sGi" % memory)


def _zones(model: Model) -> List[str]:
    found = [z for z in model.cloud.zones if z in ("1", "2", "3")]
    for env in common.environments(model):
        found += [z for z in env.zones if z in ("1", "2", "3")]
    return sorted(set(found)) or ["1", "2", "3"]


def plan_for(model: Model) -> AzurePlan:
    infra = model.infrastructure
    compute = infra.compute
    kind = compute.kind if compute else "unknown"
    if kind in _KUBERNETES:
        target = "aks"
    elif kind == "app-service":
        target = "app-service"
    else:
        target = "container-apps"
    mapped = ""
    if target == "aks" and kind != "aks":
        mapped = "The documents name %s; AKS is the Kubernetes service of Azure." % kind
    elif target == "container-apps" and kind not in ("container-apps", "unknown"):
        mapped = (
            "The documents name %s; Container Apps is the nearest managed runtime on Azure for the "
            "service's container image." % kind
        )
    cpu, memory = _sizes(model)
    db = infra.database
    family = document_engine(model)
    database: Optional[str] = None
    engine = ""
    version = ""
    if db is not None and family == "document":
        database, engine = "cosmos", db.engine
    elif db is not None and family == "relational":
        engine = "mysql" if db.engine in ("mysql", "mariadb") else db.engine
        if engine == "sqlserver":
            database = "sql"
        else:
            database = "flexible"
            m = re.match(r"^(\d+)", (db.version or "").strip())
            if engine == "postgresql":
                major = int(m.group(1)) if m else 17
                version = str(major if 11 <= major <= 17 else 17)
            else:
                version = "5.7" if (db.version or "").startswith("5") else "8.0.21"
    storage_gb = db.storage_gb if db and db.storage_gb else 32
    storage_mb = next((size for size in _FLEX_STORAGE_MB if size >= storage_gb * 1024), _FLEX_STORAGE_MB[-1])
    vm = (compute.instance_type if compute else None) or ""
    vm = vm if re.match(r"^Standard_[A-Za-z0-9_]+$", vm) else "Standard_D4ds_v5"
    queue = infra.queue
    storage = infra.storage
    text = " ".join([(storage.service if storage else ""), (storage.bucket_type or "") if storage else ""]).lower()
    zones_needed = ["vault", "registry"]
    if storage is not None:
        zones_needed.append("blob")
    if infra.cache is not None:
        zones_needed.append("redis")
    if queue is not None:
        zones_needed.append("servicebus")
    if database == "cosmos":
        zones_needed.append("cosmos")
    if database == "sql":
        zones_needed.append("sql")
    if target == "app-service":
        zones_needed.append("web")
    location = cloud_region(model, "azure", DEFAULT_LOCATION)
    second = secondary_region(model, "azure") if multi_region(model) else None
    plan = AzurePlan(
        name=service_name(model),
        compute=target,
        port=common.port(model),
        cpu=cpu,
        memory=memory,
        vm_size=vm,
        database=database,
        engine=engine,
        database_version=version,
        database_sku="GP_Standard_D2ds_v5" if engine == "postgresql" else "GP_Standard_D2ds_v4",
        storage_mb=storage_mb,
        cache=infra.cache is not None,
        storage=storage is not None,
        queue=queue is not None,
        queue_topic=bool(
            queue and ((queue.queue_type or "") == "topic" or queue.kind in ("sns", "pubsub", "eventhubs", "kafka"))
        ),
        tls_domain=model.security.tls.domain if model.security.tls else None,
        location=location,
        secondary_location=second,
        zones=_zones(model),
        immutable_storage=any(word in text for word in ("immutable", "worm")),
        revision_mode="Multiple"
        if (common.uses_strategy(model, "canary") or common.uses_strategy(model, "blue-green"))
        else "Single",
        mapped_compute=mapped,
        dns_zones=sorted(DNS_ZONES[z] for z in zones_needed),
    )
    if database == "flexible" and not cross_region_backup(model):
        plan.skips["database"] = [
            (
                "CKV_AZURE_136" if engine == "postgresql" else "CKV_AZURE_94",
                "the documents ask for no cross-region copy (one region, backup.cross_region unset); "
                "geo_redundant_backup follows them",
            )
        ]
    if storage is not None and not ((storage.replication) or multi_region(model)):
        plan.skips["storage"] = [
            (
                "CKV_AZURE_206",
                "the documents ask for one region: zone-redundant storage keeps three copies across the region's "
                "zones; storage_replication = GZRS adds the paired region",
            )
        ]
    return plan


# --------------------------------------------------------------------------- helpers


def _tags(model: Model) -> Dict[str, Any]:
    data: Dict[str, Any] = dict(common.tags(model, cloud="azure"))
    data["Environment"] = Raw("var.environment")
    return data


def _secret_name(env_name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", env_name.lower()).strip("-")[:100] or "secret"


def _secrets(model: Model, plan: AzurePlan) -> Tuple[Dict[str, str], List[str]]:
    """(env var -> Key Vault secret name, secrets an operator must set)."""
    present = {"database-password": plan.database == "flexible", "cache-access-key": plan.cache}
    env_map: Dict[str, str] = {}
    operator: List[str] = []
    for name in sensitive_env(model):
        key = None
        for pattern, wired in _SECRET_WIRING:
            if re.search(pattern, name) and present[wired]:
                key = wired
        if key is None:
            key = _secret_name(name)
            if key in present:
                key = "env-" + key
            operator.append(key)
        env_map[name] = key
    return env_map, sorted(set(operator))


def _plain_env(model: Model, plan: AzurePlan) -> Tuple[Dict[str, Any], List[str]]:
    present = {
        "cache": plan.cache,
        "database": plan.database in ("flexible", "sql"),
        "flexible": plan.database == "flexible",
        "storage": plan.storage,
        "queue": plan.queue,
        "always": True,
    }
    values: Dict[str, Any] = {}
    required: List[str] = []
    for var in model.service.env:
        if var.sensitive or var.name in values:
            continue
        wired = None
        for pattern, needs, target in _ENV_WIRING:
            if re.search(pattern, var.name) and present[needs]:
                wired = target
                break
        if wired is not None:
            values[var.name] = Raw(wired)
        elif var.default is not None:
            values[var.name] = var.default
        elif var.required:
            required.append(var.name)
    return values, sorted(required)


def _list_expr(values: List[str]) -> str:
    return expr(values, 1)


# --------------------------------------------------------------------------- files


def _versions(plan: AzurePlan, module: Optional[str] = None) -> List[Item]:
    providers: Dict[str, Any] = {"azurerm": {"source": "hashicorp/azurerm", "version": AZURERM_VERSION}}
    if plan.database == "flexible" and module in (None, "database"):
        providers["random"] = {"source": "hashicorp/random", "version": RANDOM_VERSION}
    tf = Block("terraform")
    if module is None:
        tf.comment(
            "1.11 or later: write-only arguments and ephemeral resources keep the database password out of the state."
        )
    tf.attr("required_version", TERRAFORM_VERSION)
    tf.block("required_providers").attrs(providers)
    return [tf]


def _providers() -> List[Item]:
    provider = Block("provider", ("azurerm",))
    provider.attr("subscription_id", Raw("var.subscription_id"))
    provider.attr("storage_use_azuread", True)
    features = provider.block("features")
    features.block("key_vault", purge_soft_delete_on_destroy=False, recover_soft_deleted_key_vaults=True)
    features.block("resource_group", prevent_deletion_if_contains_resources=True)
    return [
        Comment(
            "Tags are set on every resource from local.tags (main.tf): "
            "the requirement id is the sdd-devops-flow-req tag."
        ),
        provider,
    ]


def _backend(plan: AzurePlan) -> List[Item]:
    backend = Block("backend", ("azurerm",))
    backend.attr("use_azuread_auth", True)
    return [
        Comment(
            "Partial configuration: the state storage account, container and key are given at init:\n"
            '  terraform init -backend-config="resource_group_name=<rg>" \\\n'
            '    -backend-config="storage_account_name=<account>" \\\n'
            '    -backend-config="container_name=tfstate" -backend-config="key=%s/<environment>.tfstate"' % plan.name
        ),
        Block("terraform", (), [backend]),
    ]


def _main(model: Model, plan: AzurePlan, modules: List[Module]) -> List[Item]:
    items: List[Item] = []
    env_secret, operator = _secrets(model, plan)
    plain = _plain_env(model, plan)[0]
    loc = Block("locals")
    loc.attr("name", interp(Raw("var.service_name"), "-", Raw("var.environment")))
    loc.attr("unique", Raw('substr(sha1("${var.subscription_id}/${var.service_name}-${var.environment}"), 0, 6)'))
    loc.attr(
        "compact",
        interp(
            Raw('substr(replace(var.service_name, "-", ""), 0, 12)'),
            Raw('substr(replace(var.environment, "-", ""), 0, 4)'),
            Raw("local.unique"),
        ),
    )
    loc.attr("tags", _tags(model))
    loc.attr(
        "image",
        Raw(
            'coalesce(var.image, "${azurerm_container_registry.this.login_server}/${var.service_name}:%s")'
            % str(q(common.image_tag(model)))[1:-1]
        ),
    )
    loc.attr("document_env", dict(sorted(plain.items())))
    loc.attr("plain_env", Raw("merge(local.document_env, var.app_env)"))
    loc.attr("secret_env", dict(sorted(env_secret.items())))
    loc.attr(
        "secret_refs",
        {
            key: interp(Raw("azurerm_key_vault.this.vault_uri"), "secrets/" + key)
            for key in sorted(set(env_secret.values()))
        },
    )
    items.append(loc)
    items.append(Block("data", ("azurerm_client_config", "current")))
    rg = resource("azurerm_resource_group", "this")
    rg.attrs({"name": interp("rg-", Raw("local.name")), "location": Raw("var.location"), "tags": Raw("local.tags")})
    items.append(rg)
    items.extend(_identities(model, plan))
    items.extend(_monitoring(model, plan))
    items.extend(_key_vault(model, plan, operator))
    items.extend(_registry(model, plan))
    for module in modules:
        items.append(_module_block(model, plan, module.name))
    items.extend(_grants(plan))
    items.extend(alert_rules(model))
    items.extend(budget_resources(model))
    return items


def _identities(model: Model, plan: AzurePlan) -> List[Item]:
    iam = note(model, "security.iam")
    items: List[Item] = []
    for name, purpose in (
        ("runtime", "Runtime identity of the service (registry pulls, secrets, data access)"),
        ("data", "Identity of the data services that read the customer-managed key"),
    ):
        uai = resource("azurerm_user_assigned_identity", name, iam if name == "runtime" else None)
        uai.comment(purpose + ".")
        uai.attrs(
            {
                "name": interp("id-", Raw("local.name"), "-" + name),
                "location": Raw("var.location"),
                "resource_group_name": Raw("azurerm_resource_group.this.name"),
                "tags": Raw("local.tags"),
            }
        )
        items.append(uai)
    if plan.compute == "aks":
        cluster = resource("azurerm_user_assigned_identity", "cluster")
        cluster.attrs(
            {
                "name": interp("id-", Raw("local.name"), "-aks"),
                "location": Raw("var.location"),
                "resource_group_name": Raw("azurerm_resource_group.this.name"),
                "tags": Raw("local.tags"),
            }
        )
        items.append(cluster)
        net = resource("azurerm_role_assignment", "cluster_network")
        net.attrs(
            {
                "scope": Raw("azurerm_resource_group.this.id"),
                "role_definition_name": "Network Contributor",
                "principal_id": Raw("azurerm_user_assigned_identity.cluster.principal_id"),
            }
        )
        items.append(net)
    return items


def _monitoring(model: Model, plan: AzurePlan) -> List[Item]:
    logs = note(model, "observability.logging")
    law = resource("azurerm_log_analytics_workspace", "this", logs)
    law.attrs(
        {
            "name": interp("log-", Raw("local.name")),
            "location": Raw("var.location"),
            "resource_group_name": Raw("azurerm_resource_group.this.name"),
            "sku": "PerGB2018",
            "retention_in_days": Raw("var.log_retention_days"),
            "tags": Raw("local.tags"),
        }
    )
    ai = resource("azurerm_application_insights", "this", note(model, "observability.tracing"))
    ai.attrs(
        {
            "name": interp("appi-", Raw("local.name")),
            "location": Raw("var.location"),
            "resource_group_name": Raw("azurerm_resource_group.this.name"),
            "workspace_id": Raw("azurerm_log_analytics_workspace.this.id"),
            "application_type": "web",
            "local_authentication_disabled": True,
            "tags": Raw("local.tags"),
        }
    )
    rate = model.observability.tracing_sample_rate
    if rate is not None and 0 < rate <= 1:
        ai.attr("sampling_percentage", number(round(rate * 100, 3)))
    group = resource("azurerm_monitor_action_group", "this")
    group.attrs(
        {
            "name": interp("ag-", Raw("local.name")),
            "resource_group_name": Raw("azurerm_resource_group.this.name"),
            "short_name": Raw('substr(replace(local.name, "-", ""), 0, 12)'),
            "tags": Raw("local.tags"),
        }
    )
    receiver = Block("content")
    receiver.attrs(
        {
            "name": Raw('"email-${email_receiver.key}"'),
            "email_address": Raw("email_receiver.value"),
            "use_common_alert_schema": True,
        }
    )
    group.add(Block("dynamic", ("email_receiver",), [Attr("for_each", Raw("var.alert_email_addresses")), receiver]))
    return [law, ai, group]


def _key_vault(model: Model, plan: AzurePlan, operator: List[str]) -> List[Item]:
    src = note(model, "security.secrets")
    kv = resource(
        "azurerm_key_vault",
        "this",
        src,
        skips=[
            (
                "CKV_AZURE_189",
                "Terraform writes the generated secrets and keys through the data plane; the firewall denies by "
                "default and admits only deployer_ip_ranges, the service uses the private endpoint",
            )
        ],
    )
    kv.comment("Secrets the operator sets (never in these files): %s." % (", ".join(operator) if operator else "none"))
    kv.attrs(
        {
            "name": interp("kv", Raw("local.compact")),
            "location": Raw("var.location"),
            "resource_group_name": Raw("azurerm_resource_group.this.name"),
            "tenant_id": Raw("data.azurerm_client_config.current.tenant_id"),
            "sku_name": "premium",
            "rbac_authorization_enabled": True,
            "purge_protection_enabled": True,
            "soft_delete_retention_days": 90,
            "public_network_access_enabled": True,
            "tags": Raw("local.tags"),
        }
    )
    kv.block("network_acls", default_action="Deny", bypass="AzureServices", ip_rules=Raw("var.deployer_ip_ranges"))
    admin = resource("azurerm_role_assignment", "deployer_key_vault")
    admin.comment("The identity running Terraform manages keys and secrets (RBAC, no access policies).")
    admin.attrs(
        {
            "scope": Raw("azurerm_key_vault.this.id"),
            "role_definition_name": "Key Vault Administrator",
            "principal_id": Raw("data.azurerm_client_config.current.object_id"),
        }
    )
    key = resource("azurerm_key_vault_key", "cmk")
    key.comment(
        "Customer-managed key (HSM) of the storage account, registry, Service Bus and node disks; rotated yearly."
    )
    key.attrs(
        {
            "name": "cmk",
            "key_vault_id": Raw("azurerm_key_vault.this.id"),
            "key_type": "RSA-HSM",
            "key_size": 3072,
            "key_opts": ["decrypt", "encrypt", "sign", "unwrapKey", "verify", "wrapKey"],
            "expiration_date": Raw('timeadd(plantimestamp(), "8760h")'),
            "tags": Raw("local.tags"),
        }
    )
    rotation = key.block("rotation_policy", expire_after="P365D", notify_before_expiry="P30D")
    rotation.block("automatic", time_before_expiry="P60D")
    key.add(lifecycle(ignore=["expiration_date"]))
    key.attr("depends_on", [Raw("azurerm_role_assignment.deployer_key_vault")])
    crypto = resource("azurerm_role_assignment", "data_key")
    crypto.attrs(
        {
            "scope": Raw("azurerm_key_vault.this.id"),
            "role_definition_name": "Key Vault Crypto Service Encryption User",
            "principal_id": Raw("azurerm_user_assigned_identity.data.principal_id"),
        }
    )
    reader = resource("azurerm_role_assignment", "runtime_secrets")
    reader.comment("The service reads secrets, nothing else in the vault.")
    reader.attrs(
        {
            "scope": Raw("azurerm_key_vault.this.id"),
            "role_definition_name": "Key Vault Secrets User",
            "principal_id": Raw("azurerm_user_assigned_identity.runtime.principal_id"),
        }
    )
    endpoint = resource("azurerm_private_endpoint", "key_vault")
    endpoint.attrs(
        {
            "name": interp(Raw("local.name"), "-pe-vault"),
            "location": Raw("var.location"),
            "resource_group_name": Raw("azurerm_resource_group.this.name"),
            "subnet_id": Raw("module.network.endpoint_subnet_id"),
            "tags": Raw("local.tags"),
        }
    )
    endpoint.block(
        "private_service_connection",
        name=interp(Raw("local.name"), "-vault"),
        private_connection_resource_id=Raw("azurerm_key_vault.this.id"),
        subresource_names=["vault"],
        is_manual_connection=False,
    )
    endpoint.block(
        "private_dns_zone_group",
        name="default",
        private_dns_zone_ids=[Raw('module.network.dns_zone_ids["%s"]' % DNS_ZONES["vault"])],
    )
    return [kv, admin, key, crypto, reader, endpoint]


def _registry(model: Model, plan: AzurePlan) -> List[Item]:
    scan = note(model, "security.image_scanning")
    skips: List[Tuple[str, str]] = []
    if not plan.secondary_location:
        skips.append(("CKV_AZURE_165", "the documents ask for one region; the registry is zone redundant there"))
    acr = resource("azurerm_container_registry", "this", scan, skips=skips)
    acr.comment(
        "Premium: private endpoint, zone redundancy, quarantine and retention. Tags are locked after the push by the "
        "pipeline (az acr repository update --write-enabled false): ACR has no registry-wide immutability setting."
    )
    acr.attrs(
        {
            "name": interp("cr", Raw("local.compact")),
            "location": Raw("var.location"),
            "resource_group_name": Raw("azurerm_resource_group.this.name"),
            "sku": "Premium",
            "admin_enabled": False,
            "public_network_access_enabled": False,
            "network_rule_bypass_option": "AzureServices",
            "anonymous_pull_enabled": False,
            "data_endpoint_enabled": True,
            "export_policy_enabled": False,
            "quarantine_policy_enabled": True,
            "trust_policy_enabled": True,
            "retention_policy_in_days": 7,
            "zone_redundancy_enabled": True,
            "tags": Raw("local.tags"),
        }
    )
    acr.block("identity", type="UserAssigned", identity_ids=[Raw("azurerm_user_assigned_identity.data.id")])
    acr.block(
        "encryption",
        key_vault_key_id=Raw("azurerm_key_vault_key.cmk.versionless_id"),
        identity_client_id=Raw("azurerm_user_assigned_identity.data.client_id"),
    )
    if plan.secondary_location:
        acr.block(
            "georeplications", location=plan.secondary_location, zone_redundancy_enabled=True, tags=Raw("local.tags")
        )
    acr.attr("depends_on", [Raw("azurerm_role_assignment.data_key")])
    endpoint = resource("azurerm_private_endpoint", "registry")
    endpoint.attrs(
        {
            "name": interp(Raw("local.name"), "-pe-registry"),
            "location": Raw("var.location"),
            "resource_group_name": Raw("azurerm_resource_group.this.name"),
            "subnet_id": Raw("module.network.endpoint_subnet_id"),
            "tags": Raw("local.tags"),
        }
    )
    endpoint.block(
        "private_service_connection",
        name=interp(Raw("local.name"), "-registry"),
        private_connection_resource_id=Raw("azurerm_container_registry.this.id"),
        subresource_names=["registry"],
        is_manual_connection=False,
    )
    endpoint.block(
        "private_dns_zone_group",
        name="default",
        private_dns_zone_ids=[Raw('module.network.dns_zone_ids["%s"]' % DNS_ZONES["registry"])],
    )
    defender = resource("azurerm_security_center_subscription_pricing", "containers", scan)
    defender.comment("Microsoft Defender for Containers scans every image pushed to the registry (9.5.6).")
    defender.attrs({"tier": "Standard", "resource_type": "Containers"})
    pull = resource("azurerm_role_assignment", "runtime_pull")
    pull.attrs(
        {
            "scope": Raw("azurerm_container_registry.this.id"),
            "role_definition_name": "AcrPull",
            "principal_id": Raw("azurerm_user_assigned_identity.runtime.principal_id"),
        }
    )
    return [acr, endpoint, defender, pull]


def _tagged(component: str) -> Raw:
    return Raw('merge(local.tags, { component = "%s" })' % component)


def _module_block(model: Model, plan: AzurePlan, name: str) -> Block:
    base = {
        "name": Raw("local.name"),
        "location": Raw("var.location"),
        "resource_group_name": Raw("azurerm_resource_group.this.name"),
    }
    endpoints = {
        "endpoint_subnet_id": Raw("module.network.endpoint_subnet_id"),
        "dns_zone_ids": Raw("module.network.dns_zone_ids"),
    }
    gateway = {
        "zones": Raw("var.zones"),
        "gateway_subnet_id": Raw("module.network.gateway_subnet_id"),
        "gateway_min_capacity": Raw("var.gateway_min_capacity"),
        "key_vault_id": Raw("azurerm_key_vault.this.id"),
        "tls_domain": Raw("var.tls_domain"),
        "tls_certificate_secret_id": Raw("var.tls_certificate_secret_id"),
    }

    depends: List[str] = []
    values: Dict[str, Any] = dict(base)
    if name == "network":
        values.update(
            {
                "tags": _tagged("network"),
                "cidr": Raw("var.network_cidr"),
                "app_port": Raw("var.container_port"),
                "zones": Raw("var.zones"),
                "dns_zones": plan.dns_zones,
            }
        )
    elif name == "compute" and plan.compute == "container-apps":
        values.update(
            {
                "tags": _tagged("compute"),
                "image": Raw("local.image"),
                "port": Raw("var.container_port"),
                "cpu": Raw("var.cpu"),
                "memory": Raw("var.memory"),
                "min_replicas": Raw("var.min_replicas"),
                "max_replicas": Raw("var.max_replicas"),
                "zone_redundant": Raw("var.high_availability"),
                "identity_id": Raw("azurerm_user_assigned_identity.runtime.id"),
                "registry_server": Raw("azurerm_container_registry.this.login_server"),
                "log_analytics_workspace_id": Raw("azurerm_log_analytics_workspace.this.id"),
                "app_subnet_id": Raw("module.network.app_subnet_id"),
                "vnet_id": Raw("module.network.vnet_id"),
                "plain_env": Raw("local.plain_env"),
                "secret_env": Raw("local.secret_env"),
                "secret_refs": Raw("local.secret_refs"),
            }
        )
        values.update(gateway)
        depends = ["azurerm_role_assignment.runtime_pull", "azurerm_role_assignment.runtime_secrets"]
    elif name == "compute" and plan.compute == "aks":
        values.update(
            {
                "tags": _tagged("compute"),
                "vm_size": Raw("var.vm_size"),
                "min_nodes": Raw("max(1, var.min_replicas)"),
                "max_nodes": Raw("max(1, var.max_replicas)"),
                "system_min_nodes": Raw("var.system_min_nodes"),
                "app_subnet_id": Raw("module.network.app_subnet_id"),
                "identity_id": Raw("azurerm_user_assigned_identity.runtime.id"),
                "cluster_identity_id": Raw("azurerm_user_assigned_identity.cluster.id"),
                "tenant_id": Raw("data.azurerm_client_config.current.tenant_id"),
                "namespace": Raw("var.service_name"),
                "log_analytics_workspace_id": Raw("azurerm_log_analytics_workspace.this.id"),
                "key_vault_key_id": Raw("azurerm_key_vault_key.cmk.versionless_id"),
                "registry_id": Raw("azurerm_container_registry.this.id"),
                "ingress_private_ip": Raw("cidrhost(module.network.app_subnet_prefix, 250)"),
                "port": Raw("var.container_port"),
            }
        )
        values.update(gateway)
        depends = ["azurerm_role_assignment.cluster_network"]
    elif name == "compute":
        values.update(
            {
                "tags": _tagged("compute"),
                "image_name": Raw('trimprefix(local.image, "${azurerm_container_registry.this.login_server}/")'),
                "registry_url": interp("https://", Raw("azurerm_container_registry.this.login_server")),
                "port": Raw("var.container_port"),
                "min_replicas": Raw("max(1, var.min_replicas)"),
                "zone_redundant": Raw("var.high_availability"),
                "identity_id": Raw("azurerm_user_assigned_identity.runtime.id"),
                "identity_client_id": Raw("azurerm_user_assigned_identity.runtime.client_id"),
                "app_subnet_id": Raw("module.network.app_subnet_id"),
                "plain_env": Raw("local.plain_env"),
                "secret_settings": Raw(
                    "{ for name, secret in local.secret_env : "
                    'name => "@Microsoft.KeyVault(SecretUri=${local.secret_refs[secret]})" }'
                ),
            }
        )
        values.update(endpoints)
        values.update(gateway)
        depends = ["azurerm_role_assignment.runtime_pull", "azurerm_role_assignment.runtime_secrets"]
    elif name == "database" and plan.database == "flexible":
        db_name = re.sub(r"[^a-z0-9_]", "_", plan.name.lower())
        values.update(
            {
                "tags": _tagged("database"),
                "sku_name": Raw("var.database_sku"),
                ("storage_mb" if plan.engine == "postgresql" else "storage_gb"): (
                    plan.storage_mb if plan.engine == "postgresql" else max(20, plan.storage_mb // 1024)
                ),
                "high_availability": Raw("var.database_high_availability"),
                "geo_redundant_backup": cross_region_backup(model),
                "backup_retention_days": Raw("var.backup_retention_days"),
                "subnet_id": Raw("module.network.database_subnet_id"),
                "dns_zone_id": Raw("module.network.database_dns_zone_id"),
                "administrator_login": (db_name[:16].strip("_") or "app") + "_admin",
                "password_version": Raw("var.database_password_version"),
                "database_name": db_name,
                "key_vault_id": Raw("azurerm_key_vault.this.id"),
                "secret_rotation_days": Raw("var.secret_rotation_days"),
            }
        )
        if plan.engine == "postgresql":
            values["tenant_id"] = Raw("data.azurerm_client_config.current.tenant_id")
        depends = ["azurerm_role_assignment.deployer_key_vault"]
    elif name == "database" and plan.database == "sql":
        values.update(
            {
                "name": interp("sql-", Raw("local.name"), "-", Raw("local.unique")),
                "tags": _tagged("database"),
                "high_availability": Raw("var.high_availability"),
                "geo_redundant_backup": cross_region_backup(model),
                "backup_retention_days": Raw("var.backup_retention_days"),
                "database_name": re.sub(r"[^a-z0-9_]", "_", plan.name.lower()),
                "admin_object_id": Raw("var.sql_admin_group_object_id"),
            }
        )
        values.update(endpoints)
    elif name == "database":
        values.update(
            {
                "name": interp("cosmos-", Raw("local.name"), "-", Raw("local.unique")),
                "tags": _tagged("database"),
                "high_availability": Raw("var.high_availability"),
            }
        )
        values.update(endpoints)
    elif name == "cache":
        values.update(
            {
                "name": interp("redis-", Raw("local.name"), "-", Raw("local.unique")),
                "tags": _tagged("cache"),
                "sku_name": Raw("var.cache_sku"),
                "capacity": Raw("var.cache_capacity"),
                "zones": Raw("var.zones"),
                "key_vault_id": Raw("azurerm_key_vault.this.id"),
                "secret_rotation_days": Raw("var.secret_rotation_days"),
            }
        )
        values.update(endpoints)
        depends = ["azurerm_role_assignment.deployer_key_vault"]
    elif name == "storage":
        values.update(
            {
                "tags": _tagged("storage"),
                "storage_account_name": interp("st", Raw("local.compact")),
                "log_analytics_workspace_id": Raw("azurerm_log_analytics_workspace.this.id"),
                "replication_type": Raw("var.storage_replication"),
                "retention_days": Raw("var.storage_retention_days"),
                "soft_delete_days": Raw("min(var.storage_retention_days, 365)"),
                "identity_id": Raw("azurerm_user_assigned_identity.data.id"),
                "key_vault_key_id": Raw("azurerm_key_vault_key.cmk.versionless_id"),
            }
        )
        values.update(endpoints)
        depends = ["azurerm_role_assignment.data_key"]
    else:
        queue = model.infrastructure.queue
        entity = _queue_entity(model)
        values.update(
            {
                "name": entity,
                "tags": _tagged("queue"),
                "namespace_name": interp("sb-", Raw("local.name"), "-", Raw("local.unique")),
                "sku": Raw("var.queue_sku"),
                "retention_days": Raw("var.queue_retention_days"),
                "max_delivery_count": (queue.max_receive_count if queue and queue.max_receive_count else 5),
                "identity_id": Raw("azurerm_user_assigned_identity.data.id"),
                "key_vault_key_id": Raw("azurerm_key_vault_key.cmk.versionless_id"),
                "runtime_principal_id": Raw("azurerm_user_assigned_identity.runtime.principal_id"),
            }
        )
        values.update(endpoints)
        depends = ["azurerm_role_assignment.data_key"]
    if name != "network":
        depends = ["module.network"] + depends
    return module_call(name, "./modules/%s" % name, values, depends)


def _queue_entity(model: Model) -> Any:
    queue = model.infrastructure.queue
    text = (queue.service if queue else "") or ""
    m = re.search(r"\b(?:topic|queue)\s+([a-z][a-z0-9._-]{0,49})", text)
    if m:
        return m.group(1).strip("._-") or Raw("local.name")
    return Raw("local.name")


def _grants(plan: AzurePlan) -> List[Item]:
    items: List[Item] = []
    if plan.storage:
        grant = resource("azurerm_role_assignment", "runtime_blob")
        grant.comment("The service reads and writes blobs of the data container only.")
        grant.attrs(
            {
                "scope": Raw('"${module.storage.account_id}/blobServices/default/containers/data"'),
                "role_definition_name": "Storage Blob Data Contributor",
                "principal_id": Raw("azurerm_user_assigned_identity.runtime.principal_id"),
            }
        )
        items.append(grant)
    metrics = resource("azurerm_role_assignment", "runtime_telemetry")
    metrics.attrs(
        {
            "scope": Raw("azurerm_application_insights.this.id"),
            "role_definition_name": "Monitoring Metrics Publisher",
            "principal_id": Raw("azurerm_user_assigned_identity.runtime.principal_id"),
        }
    )
    items.append(metrics)
    return items


def _outputs(model: Model, plan: AzurePlan) -> List[Item]:
    operator = _secrets(model, plan)[1]
    out: List[Item] = [
        output("public_ip", Raw("module.compute.public_ip"), "Address to point the DNS record at"),
        output("url", interp("https://", Raw("var.tls_domain")), "Public URL of the service"),
        output("resource_group", Raw("azurerm_resource_group.this.name"), "Resource group"),
        output("registry_login_server", Raw("azurerm_container_registry.this.login_server"), "Container registry"),
        output("key_vault_uri", Raw("azurerm_key_vault.this.vault_uri"), "Key Vault"),
        output("runtime_client_id", Raw("azurerm_user_assigned_identity.runtime.client_id"), "Runtime identity"),
        output("secrets_to_set", operator, "Key Vault secrets an operator sets before the first deployment"),
    ]
    if plan.compute == "aks":
        out.append(output("cluster_name", Raw("module.compute.cluster_name"), "AKS cluster"))
    else:
        out.append(output("app_name", Raw("module.compute.app_name"), "Application"))
    if plan.database in ("flexible", "sql"):
        out.append(output("database_fqdn", Raw("module.database.fqdn"), "Private FQDN of the database"))
    if plan.cache:
        out.append(output("cache_hostname", Raw("module.cache.hostname"), "Cache host name"))
    if plan.storage:
        out.append(output("storage_account", Raw("module.storage.account_name"), "Storage account"))
    if plan.queue:
        out.append(output("service_bus_namespace", Raw("module.queue.namespace_fqdn"), "Service Bus namespace"))
    return out


# --------------------------------------------------------------------------- entry point


def render(model: Model, cloud: str = "azure") -> FileSet:
    """The Terraform configuration of the model on Azure."""
    plan = plan_for(model)
    modules: List[Module] = [network_module(model, plan)]
    if plan.compute == "aks":
        modules.append(aks_module(model, plan))
    elif plan.compute == "app-service":
        modules.append(app_service_module(model, plan))
    else:
        modules.append(container_apps_module(model, plan))
    if plan.database:
        modules.append(database_module(model, plan))
    if plan.cache:
        modules.append(cache_module(model, plan))
    if plan.storage:
        modules.append(storage_module(model, plan))
    if plan.queue:
        modules.append(queue_module(model, plan))
    tree = Tree()
    required = _plain_env(model, plan)[1]
    base = ("service.name", "traceability.req", "cloud.provider", "cloud.primary_region")
    tree.add("versions.tf", _versions(plan), ("infrastructure.database.engine",))
    tree.add("providers.tf", _providers(), base)
    tree.add("backend.tf", _backend(plan), ("service.name",))
    tree.add(
        "variables.tf",
        variables_file(model, plan, required),
        base
        + (
            "environments",
            "infrastructure.compute",
            "infrastructure.database",
            "infrastructure.cache",
            "infrastructure.storage",
            "infrastructure.queue",
            "infrastructure.network.cidr",
            "security.tls.domain",
            "security.secrets.rotation_days",
            "observability.logging.retention_days",
            "backup.retention_days",
            "service.ports",
            "service.image",
        ),
    )
    tree.add(
        "main.tf",
        _main(model, plan, modules),
        base
        + (
            "service.env",
            "security.secrets",
            "security.iam",
            "security.image_scanning",
            "observability.thresholds",
            "observability.alert_rules",
            "observability.tracing_sample_rate",
            "cost.budgets",
            "cost.total_monthly_usd",
        ),
    )
    tree.add("outputs.tf", _outputs(model, plan), ("service.name", "service.env"))
    for index, (slug, env) in enumerate(environments(model)):
        tree.add_vars(
            "environments/%s.tfvars" % slug,
            tfvars_items(model, plan, slug, env, index),
            ("environments", "infrastructure.database.ha", "infrastructure.cache.ha", "infrastructure.compute"),
        )
    for module in modules:
        tree.add_module(module, _versions(plan, module.name))
    return tree.files


__all__ = ["plan_for", "render"]
