# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an Azure subscription holds for one service and environment.

The resources are listed with azure-mgmt-resource by the ``Project`` tag the
generated Terraform sets on everything, and kept when their ``Environment`` tag is
the environment's.  Virtual networks and network security groups are then read
with azure-mgmt-network, storage accounts with azure-mgmt-storage, and the flexible
servers, Redis caches, container apps and Service Bus namespaces as generic ARM
resources at a fixed API version.  Credentials come from azure-identity's
``DefaultAzureCredential`` (environment, workload identity, managed identity,
Azure CLI).  Only read calls are made.

``transport`` (an azure-core ``HttpTransport``) replaces the HTTP transport of every
client: a proxy-aware one, or recorded responses in the tests.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

from .compare import ActualResource, DriftError, Expectation, Observation
from .expected import SKU_TIERS, nsg_rule

try:
    from azure.core.exceptions import AzureError, ResourceNotFoundError
    from azure.identity import DefaultAzureCredential
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.storage import StorageManagementClient

    try:
        from azure.mgmt.resource.resources import ResourceManagementClient
    except ImportError:  # azure-mgmt-resource before 26
        from azure.mgmt.resource import ResourceManagementClient  # type: ignore[no-redef,attr-defined]

    HAS_AZURE = True
    AZURE_IMPORT_ERROR: Optional[str] = None
except ImportError as exc:  # pragma: no cover - depends on the environment
    AzureError = ResourceNotFoundError = Exception  # type: ignore[assignment,misc]
    DefaultAzureCredential = NetworkManagementClient = StorageManagementClient = None  # type: ignore[assignment,misc]
    ResourceManagementClient = None  # type: ignore[assignment,misc]
    HAS_AZURE = False
    AZURE_IMPORT_ERROR = str(exc)

#: ARM API versions of the resources read generically (lower-case type -> (kind, version)).
GENERIC = {
    "microsoft.dbforpostgresql/flexibleservers": ("postgresql_flexible_server", "2024-08-01"),
    "microsoft.dbformysql/flexibleservers": ("mysql_flexible_server", "2023-12-30"),
    "microsoft.cache/redis": ("redis_cache", "2024-03-01"),
    "microsoft.app/containerapps": ("container_app", "2024-03-01"),
    "microsoft.servicebus/namespaces": ("servicebus_namespace", "2021-11-01"),
}


def _resource_group(resource_id: str) -> str:
    parts = resource_id.split("/")
    for index, part in enumerate(parts):
        if part.lower() == "resourcegroups" and index + 1 < len(parts):
            return parts[index + 1]
    return ""


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if data is None:
            return None
        data = data.get(key) if isinstance(data, dict) else getattr(data, key, None)
    return data


def _str(value: Any) -> Optional[str]:
    """An SDK value as text: enum members give their value (``Standard_ZRS``, not ``SkuName.STANDARD_ZRS``)."""
    if value is None:
        return None
    return str(getattr(value, "value", value))


class AzureReader:
    """Reads the service's resources in one subscription (or one resource group)."""

    def __init__(
        self,
        expectation: Expectation,
        subscription_id: Optional[str] = None,
        resource_group: Optional[str] = None,
        credential: Any = None,
        transport: Any = None,
    ) -> None:
        if not HAS_AZURE:
            raise DriftError(
                "the Azure drift check needs azure-identity, azure-mgmt-resource, azure-mgmt-network and "
                "azure-mgmt-storage: pip install azure-identity azure-mgmt-resource azure-mgmt-network "
                "azure-mgmt-storage (%s)" % AZURE_IMPORT_ERROR
            )
        self.x = expectation
        self.subscription = subscription_id or os.environ.get("AZURE_SUBSCRIPTION_ID")
        if not self.subscription:
            raise DriftError("set subscription_id (or AZURE_SUBSCRIPTION_ID): the Azure subscription to read")
        self.resource_group = resource_group
        self.credential = credential if credential is not None else DefaultAzureCredential()
        kwargs: Dict[str, Any] = {"transport": transport} if transport is not None else {}
        self.resources = ResourceManagementClient(self.credential, self.subscription, **kwargs)
        self.network = NetworkManagementClient(self.credential, self.subscription, **kwargs)
        self.storage = StorageManagementClient(self.credential, self.subscription, **kwargs)
        self.found: List[ActualResource] = []

    def add(self, kind: str, name: str, attributes: Dict[str, Any], ident: str = "") -> None:
        self.found.append(ActualResource(kind, name, attributes, ident))

    def listed(self) -> List[Any]:
        """The resources with the service's Project tag and the environment's Environment tag."""
        project = self.x.scope.get("Project", "")
        environment = self.x.scope.get("Environment", "")
        query = "tagName eq 'Project' and tagValue eq '%s'" % project.replace("'", "''")
        if self.resource_group:
            pages = self.resources.resources.list_by_resource_group(self.resource_group, filter=query)
        else:
            pages = self.resources.resources.list(filter=query)
        return [r for r in pages if (r.tags or {}).get("Environment") == environment]

    def read(self) -> Observation:
        try:
            for item in self.listed():
                self._one(item)
        except AzureError as exc:
            raise DriftError("Azure API call failed: %s" % exc) from exc
        return Observation(resources=list(self.found))

    def _one(self, item: Any) -> None:
        kind = (item.type or "").lower()
        group = _resource_group(item.id or "")
        try:
            if kind == "microsoft.network/virtualnetworks":
                vnet = self.network.virtual_networks.get(group, item.name)
                prefixes = list(_get(vnet, "address_space", "address_prefixes") or [])
                self.add("virtual_network", item.name, {"address_space": sorted(prefixes)}, item.id)
            elif kind == "microsoft.network/networksecuritygroups":
                nsg = self.network.network_security_groups.get(group, item.name)
                self.add("network_security_group", item.name, {"inbound": self._inbound(nsg)}, item.id)
            elif kind == "microsoft.storage/storageaccounts":
                self._storage(group, item)
            elif kind in GENERIC:
                resource_kind, version = GENERIC[kind]
                data = self.resources.resources.get_by_id(item.id, api_version=version)
                self.add(resource_kind, item.name, self._generic(resource_kind, data), item.id)
        except ResourceNotFoundError:
            return

    @staticmethod
    def _inbound(nsg: Any) -> List[str]:
        rules: List[str] = []
        for rule in _get(nsg, "security_rules") or []:
            if _str(_get(rule, "direction")) != "Inbound":
                continue
            ports = list(_get(rule, "destination_port_ranges") or [])
            single = _get(rule, "destination_port_range")
            if single:
                ports.append(single)
            sources = list(_get(rule, "source_address_prefixes") or [])
            prefix = _get(rule, "source_address_prefix")
            if prefix:
                sources.append(prefix)
            for source in sources or ["*"]:
                rules.append(
                    nsg_rule(
                        str(_str(_get(rule, "access"))),
                        str(_str(_get(rule, "protocol"))),
                        [str(p) for p in ports],
                        str(source),
                        int(_get(rule, "priority") or 0),
                    )
                )
        return sorted(rules)

    def _storage(self, group: str, item: Any) -> None:
        account = self.storage.storage_accounts.get_properties(group, item.name)
        try:
            blob = self.storage.blob_services.get_service_properties(group, item.name)
            versioning = bool(_get(blob, "is_versioning_enabled"))
        except ResourceNotFoundError:
            versioning = False
        self.add(
            "storage_account",
            item.name,
            {
                "sku": _str(_get(account, "sku", "name")),
                "encryption_key_source": _str(_get(account, "encryption", "key_source")),
                "infrastructure_encryption": bool(_get(account, "encryption", "require_infrastructure_encryption")),
                "https_only": bool(_get(account, "enable_https_traffic_only")),
                "minimum_tls_version": _str(_get(account, "minimum_tls_version")),
                "public_network_access": _str(_get(account, "public_network_access")),
                "blob_public_access": bool(_get(account, "allow_blob_public_access")),
                "shared_key_access": _get(account, "allow_shared_key_access") is not False,
                "versioning": versioning,
            },
            item.id,
        )

    @staticmethod
    def _generic(kind: str, data: Any) -> Dict[str, Any]:
        props = _get(data, "properties") or {}
        sku = _get(data, "sku")
        if kind in ("postgresql_flexible_server", "mysql_flexible_server"):
            tier = str(_str(_get(sku, "tier")))
            tier = SKU_TIERS.get(tier, tier)
            out: Dict[str, Any] = {
                "version": props.get("version"),
                "sku": "%s_%s" % (tier, _str(_get(sku, "name"))),
                "high_availability": _get(props, "highAvailability", "mode") or "Disabled",
                "public_network_access": _get(props, "network", "publicNetworkAccess"),
            }
            size = _get(props, "storage", "storageSizeGB")
            out["storage_gb"] = int(size) if size is not None else None
            return out
        if kind == "redis_cache":
            return {
                "sku": _get(props, "sku", "name"),
                "capacity": _get(props, "sku", "capacity"),
                "minimum_tls_version": props.get("minimumTlsVersion"),
                "non_ssl_port": bool(props.get("enableNonSslPort")),
                "public_network_access": props.get("publicNetworkAccess"),
            }
        if kind == "container_app":
            template = props.get("template") or {}
            scale = template.get("scale") or {}
            containers = template.get("containers") or [{}]
            resources = containers[0].get("resources") or {}
            cpu = resources.get("cpu")
            return {
                "cpu": float(cpu) if cpu is not None else None,
                "memory": resources.get("memory"),
                "min_replicas": scale.get("minReplicas"),
                "max_replicas": scale.get("maxReplicas"),
            }
        return {"sku": _str(_get(sku, "name"))}


def observe(
    expectation: Expectation,
    subscription_id: Optional[str] = None,
    resource_group: Optional[str] = None,
    credential: Any = None,
    transport: Any = None,
) -> Observation:
    """What the subscription holds for the expectation's service and environment."""
    reader = AzureReader(
        expectation,
        subscription_id=subscription_id,
        resource_group=resource_group,
        credential=credential,
        transport=transport,
    )
    return reader.read()


__all__ = ["AZURE_IMPORT_ERROR", "GENERIC", "HAS_AZURE", "AzureReader", "observe"]
