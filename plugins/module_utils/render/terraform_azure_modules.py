# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The child modules of the Azure Terraform configuration.

network (VNet, subnets with NSGs, NAT gateway, private DNS zones), compute
(Container Apps, AKS or App Service, behind an Application Gateway WAF v2),
database (PostgreSQL / MySQL Flexible Server, Azure SQL, or Cosmos DB), cache
(Azure Cache for Redis), storage (Storage account and blob container) and
queue (Service Bus).  Environment differences are module variables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..model import Model
from .hcl import Attr, Block, Raw
from .terraform_gcp_support import (
    Item,
    Module,
    interp,
    lifecycle,
    note,
    output,
    resource,
    validation,
    variable,
)

#: Private DNS zone of each private endpoint kind.
DNS_ZONES = {
    "vault": "privatelink.vaultcore.azure.net",
    "registry": "privatelink.azurecr.io",
    "blob": "privatelink.blob.core.windows.net",
    "redis": "privatelink.redis.cache.windows.net",
    "servicebus": "privatelink.servicebus.windows.net",
    "cosmos": "privatelink.documents.azure.com",
    "sql": "privatelink.database.windows.net",
    "web": "privatelink.azurewebsites.net",
}
DB_PORTS = {"postgresql": 5432, "mysql": 3306, "sqlserver": 1433}
TLS_POLICY = "AppGwSslPolicy20220101S"


@dataclass
class AzurePlan:
    """What the Azure configuration holds, decided once from the model."""

    name: str
    compute: str  # container-apps, aks or app-service
    port: int
    cpu: float
    memory: str
    vm_size: str
    database: Optional[str]  # flexible, sql or cosmos
    engine: str
    database_version: str
    database_sku: str
    storage_mb: int
    cache: bool
    storage: bool
    queue: bool
    queue_topic: bool
    tls_domain: Optional[str]
    location: str
    secondary_location: Optional[str]
    zones: List[str]
    immutable_storage: bool
    revision_mode: str
    mapped_compute: str = ""
    dns_zones: List[str] = field(default_factory=list)
    skips: Dict[str, List[Tuple[str, str]]] = field(default_factory=dict)


def _base_variables() -> List[Block]:
    return [
        variable("name", "string", "Name of the resources (service and environment)"),
        variable("location", "string", "Azure region"),
        variable("resource_group_name", "string", "Resource group of the resources"),
        variable("tags", "map(string)", "Tags of every resource (project, environment, requirement id)"),
    ]


def _common(block: Block, name: Any = None) -> Block:
    block.attrs(
        {
            "name": name if name is not None else Raw("var.name"),
            "location": Raw("var.location"),
            "resource_group_name": Raw("var.resource_group_name"),
        }
    )
    return block


def private_endpoint(name: str, target: str, subresource: str, zone: str) -> Block:
    """A private endpoint in the endpoints subnet, registered in its private DNS zone."""
    ep = resource("azurerm_private_endpoint", name)
    _common(ep, interp(Raw("var.name"), "-pe-" + name.replace("_", "-")))
    ep.attrs({"subnet_id": Raw("var.endpoint_subnet_id"), "tags": Raw("var.tags")})
    ep.block(
        "private_service_connection",
        name=interp(Raw("var.name"), "-" + name.replace("_", "-")),
        private_connection_resource_id=Raw(target),
        subresource_names=[subresource],
        is_manual_connection=False,
    )
    ep.block("private_dns_zone_group", name="default", private_dns_zone_ids=[Raw('var.dns_zone_ids["%s"]' % zone)])
    return ep


def _endpoint_variables() -> List[Block]:
    return [
        variable("endpoint_subnet_id", "string", "Subnet of the private endpoints"),
        variable("dns_zone_ids", "map(string)", "Private DNS zones by endpoint kind"),
    ]


# --------------------------------------------------------------------------- network


def _nsg_rule(
    block: Block, name: str, priority: int, access: str, ports: Any, source: Any, destination: Any = "*"
) -> None:
    rule = block.block("security_rule", name=name, priority=priority, direction="Inbound", access=access)
    rule.attr("protocol", "Tcp" if ports != "*" else "*")
    rule.attr("source_port_range", "*")
    if isinstance(ports, list):
        rule.attr("destination_port_ranges", ports)
    else:
        rule.attr("destination_port_range", ports)
    rule.attr("source_address_prefix", source)
    rule.attr("destination_address_prefix", destination)


def network_module(model: Model, plan: AzurePlan) -> Module:
    src = note(model, "infrastructure.network")
    main: List[Item] = []
    vnet = resource("azurerm_virtual_network", "this", src)
    _common(vnet)
    vnet.attrs({"address_space": [Raw("var.cidr")], "tags": Raw("var.tags")})
    main.append(vnet)
    subnets: List[Tuple[str, str, Optional[str]]] = [
        ("gateway", "cidrsubnet(var.cidr, 8, 0)", None),
        ("endpoints", "cidrsubnet(var.cidr, 8, 1)", None),
    ]
    if plan.database in ("flexible",):
        db_delegation = (
            "Microsoft.DBforPostgreSQL/flexibleServers"
            if plan.engine == "postgresql"
            else "Microsoft.DBforMySQL/flexibleServers"
        )
        subnets.append(("database", "cidrsubnet(var.cidr, 8, 2)", db_delegation))
    if plan.compute == "container-apps":
        subnets.append(("app", "cidrsubnet(var.cidr, 7, 2)", "Microsoft.App/environments"))
    elif plan.compute == "app-service":
        subnets.append(("app", "cidrsubnet(var.cidr, 7, 2)", "Microsoft.Web/serverFarms"))
    else:
        subnets.append(("app", "cidrsubnet(var.cidr, 4, 1)", None))
    for name, prefix, delegation in subnets:
        subnet = resource("azurerm_subnet", name)
        subnet.attrs(
            {
                "name": interp(Raw("var.name"), "-" + name),
                "resource_group_name": Raw("var.resource_group_name"),
                "virtual_network_name": Raw("azurerm_virtual_network.this.name"),
                "address_prefixes": [Raw(prefix)],
                "default_outbound_access_enabled": False,
            }
        )
        if name == "endpoints":
            subnet.attr("private_endpoint_network_policies", "Enabled")
        if delegation:
            d = subnet.block("delegation", name=delegation.split("/")[-1])
            d.block("service_delegation", name=delegation, actions=_delegation_actions(delegation))
        main.append(subnet)
    # network security groups: the gateway takes HTTPS, the app takes the gateway, data takes the app
    gw = resource("azurerm_network_security_group", "gateway")
    gw.comment("Application Gateway subnet: HTTPS from the internet and the platform ranges v2 gateways need.")
    _common(gw, interp(Raw("var.name"), "-gateway-nsg"))
    gw.attr("tags", Raw("var.tags"))
    _nsg_rule(gw, "allow-https", 100, "Allow", "443", "Internet")
    _nsg_rule(gw, "allow-gateway-manager", 110, "Allow", "65200-65535", "GatewayManager")
    _nsg_rule(gw, "allow-azure-load-balancer", 120, "Allow", "*", "AzureLoadBalancer")
    main.append(gw)
    app = resource("azurerm_network_security_group", "app")
    app.comment("Application subnet: only the gateway subnet reaches the service port (and the platform probes).")
    _common(app, interp(Raw("var.name"), "-app-nsg"))
    app.attr("tags", Raw("var.tags"))
    app_ports = (
        [Raw("tostring(var.app_port)"), "443"]
        if plan.compute != "aks"
        else [Raw("tostring(var.app_port)"), "80", "443"]
    )
    _nsg_rule(app, "allow-gateway", 100, "Allow", app_ports, Raw("azurerm_subnet.gateway.address_prefixes[0]"))
    _nsg_rule(app, "allow-same-subnet", 110, "Allow", "*", Raw("azurerm_subnet.app.address_prefixes[0]"))
    _nsg_rule(app, "allow-azure-load-balancer", 120, "Allow", "*", "AzureLoadBalancer")
    _nsg_rule(app, "deny-vnet", 4000, "Deny", "*", "VirtualNetwork")
    main.append(app)
    data_ports = ["6380", "443", "5671", "5672"]
    ep = resource("azurerm_network_security_group", "endpoints")
    ep.comment("Private endpoints: only the application subnet reaches them (TLS ports of Redis, HTTPS, AMQP).")
    _common(ep, interp(Raw("var.name"), "-endpoints-nsg"))
    ep.attr("tags", Raw("var.tags"))
    _nsg_rule(ep, "allow-app", 100, "Allow", data_ports, Raw("azurerm_subnet.app.address_prefixes[0]"))
    _nsg_rule(ep, "deny-vnet", 4000, "Deny", "*", "VirtualNetwork")
    main.append(ep)
    nsgs = [("gateway", "gateway"), ("app", "app"), ("endpoints", "endpoints")]
    if plan.database == "flexible":
        db = resource("azurerm_network_security_group", "database")
        db.comment("Database subnet: only the application subnet reaches the database port.")
        _common(db, interp(Raw("var.name"), "-database-nsg"))
        db.attr("tags", Raw("var.tags"))
        _nsg_rule(
            db,
            "allow-app",
            100,
            "Allow",
            str(DB_PORTS.get(plan.engine, 5432)),
            Raw("azurerm_subnet.app.address_prefixes[0]"),
        )
        _nsg_rule(db, "deny-vnet", 4000, "Deny", "*", "VirtualNetwork")
        main.append(db)
        nsgs.append(("database", "database"))
    for subnet_name, nsg_name in nsgs:
        assoc = resource("azurerm_subnet_network_security_group_association", subnet_name)
        assoc.attrs(
            {
                "subnet_id": Raw("azurerm_subnet.%s.id" % subnet_name),
                "network_security_group_id": Raw("azurerm_network_security_group.%s.id" % nsg_name),
            }
        )
        main.append(assoc)
    nat_ip = resource("azurerm_public_ip", "nat")
    _common(nat_ip, interp(Raw("var.name"), "-nat-ip"))
    nat_ip.attrs({"allocation_method": "Static", "sku": "Standard", "zones": Raw("var.zones"), "tags": Raw("var.tags")})
    main.append(nat_ip)
    nat = resource("azurerm_nat_gateway", "this")
    nat.comment("Outbound internet access of the application subnet (subnets have no default outbound access).")
    _common(nat, interp(Raw("var.name"), "-nat"))
    nat.attrs({"sku_name": "Standard", "idle_timeout_in_minutes": 4, "tags": Raw("var.tags")})
    main.append(nat)
    nat_assoc = resource("azurerm_nat_gateway_public_ip_association", "this")
    nat_assoc.attrs(
        {"nat_gateway_id": Raw("azurerm_nat_gateway.this.id"), "public_ip_address_id": Raw("azurerm_public_ip.nat.id")}
    )
    main.append(nat_assoc)
    subnet_nat = resource("azurerm_subnet_nat_gateway_association", "app")
    subnet_nat.attrs({"subnet_id": Raw("azurerm_subnet.app.id"), "nat_gateway_id": Raw("azurerm_nat_gateway.this.id")})
    main.append(subnet_nat)
    zones = resource("azurerm_private_dns_zone", "this")
    zones.comment("Private DNS zones of the private endpoints (names resolve to private IPs inside the VNet).")
    zones.attr("for_each", Raw("toset(var.dns_zones)"))
    zones.attrs(
        {"name": Raw("each.value"), "resource_group_name": Raw("var.resource_group_name"), "tags": Raw("var.tags")}
    )
    main.append(zones)
    links = resource("azurerm_private_dns_zone_virtual_network_link", "this")
    links.attr("for_each", Raw("azurerm_private_dns_zone.this"))
    links.attrs(
        {
            "name": interp(Raw("var.name"), "-link"),
            "resource_group_name": Raw("var.resource_group_name"),
            "private_dns_zone_name": Raw("each.value.name"),
            "virtual_network_id": Raw("azurerm_virtual_network.this.id"),
            "registration_enabled": False,
            "tags": Raw("var.tags"),
        }
    )
    main.append(links)
    if plan.database == "flexible":
        dbzone = resource("azurerm_private_dns_zone", "database")
        suffix = "postgres.database.azure.com" if plan.engine == "postgresql" else "mysql.database.azure.com"
        dbzone.attrs(
            {
                "name": interp(Raw("var.name"), ".private." + suffix),
                "resource_group_name": Raw("var.resource_group_name"),
                "tags": Raw("var.tags"),
            }
        )
        main.append(dbzone)
        dblink = resource("azurerm_private_dns_zone_virtual_network_link", "database")
        dblink.attrs(
            {
                "name": interp(Raw("var.name"), "-database-link"),
                "resource_group_name": Raw("var.resource_group_name"),
                "private_dns_zone_name": Raw("azurerm_private_dns_zone.database.name"),
                "virtual_network_id": Raw("azurerm_virtual_network.this.id"),
                "registration_enabled": False,
                "tags": Raw("var.tags"),
            }
        )
        main.append(dblink)
    outputs = [
        output("vnet_id", Raw("azurerm_virtual_network.this.id"), "Virtual network"),
        output("gateway_subnet_id", Raw("azurerm_subnet.gateway.id"), "Subnet of the Application Gateway"),
        output("app_subnet_id", Raw("azurerm_subnet.app.id"), "Subnet of the application"),
        output("app_subnet_prefix", Raw("azurerm_subnet.app.address_prefixes[0]"), "Range of the application subnet"),
        output("endpoint_subnet_id", Raw("azurerm_subnet.endpoints.id"), "Subnet of the private endpoints"),
        output(
            "dns_zone_ids",
            Raw("{ for name, zone in azurerm_private_dns_zone.this : name => zone.id }"),
            "Private DNS zones by name",
        ),
    ]
    if plan.database == "flexible":
        outputs.append(output("database_subnet_id", Raw("azurerm_subnet.database.id"), "Delegated database subnet"))
        outputs.append(output("database_dns_zone_id", Raw("azurerm_private_dns_zone.database.id"), "Database DNS zone"))
    variables = _base_variables() + [
        variable(
            "cidr",
            "string",
            "IPv4 range of the VNet (/16 or larger): every subnet is carved from it",
            validations=[
                validation(
                    'can(cidrhost(var.cidr, 0)) && tonumber(split("/", var.cidr)[1]) <= 16',
                    "cidr must be an IPv4 range of /16 or larger.",
                )
            ],
        ),
        variable("app_port", "number", "Port the application listens on"),
        variable("zones", "list(string)", "Availability zones of the zonal resources"),
        variable("dns_zones", "list(string)", "Private DNS zones to create"),
    ]
    return Module(
        "network",
        "VNet with gateway, application, data and endpoint subnets, NSGs, a NAT gateway and private DNS zones.",
        main,
        variables,
        outputs,
        ("infrastructure.network.cidr", "infrastructure.network.zones", "security.network_rules"),
    )


def _delegation_actions(delegation: str) -> List[str]:
    if delegation == "Microsoft.App/environments":
        return ["Microsoft.Network/virtualNetworks/subnets/join/action"]
    if delegation == "Microsoft.Web/serverFarms":
        return ["Microsoft.Network/virtualNetworks/subnets/action"]
    return ["Microsoft.Network/virtualNetworks/subnets/join/action"]


# --------------------------------------------------------------------------- compute


# --------------------------------------------------------------------------- database


def database_module(model: Model, plan: AzurePlan) -> Module:
    if plan.database == "cosmos":
        return _cosmos_module(model, plan)
    if plan.database == "sql":
        return _sql_module(model, plan)
    src = note(model, "infrastructure.database")
    pg = plan.engine == "postgresql"
    kind = "azurerm_postgresql_flexible_server" if pg else "azurerm_mysql_flexible_server"
    skips = list(plan.skips.get("database", []))
    if pg:
        skips.append(
            (
                "CKV2_AZURE_57",
                "private access through VNet integration (delegated subnet and private DNS zone) with public access "
                "off; a private endpoint does not apply to a VNet-integrated server",
            )
        )
    else:
        skips.append(
            (
                "CKV_AZURE_53",
                "public access is off with public_network_access = Disabled, the provider's current argument; "
                "the check reads the retired public_network_access_enabled",
            )
        )
        skips.append(
            (
                "CKV2_AZURE_56",
                "private access through VNet integration (delegated subnet and private DNS zone); a private "
                "endpoint does not apply to a VNet-integrated server",
            )
        )
    server = resource(kind, "this", src, skips=skips)
    _common(server)
    server.attrs(
        {
            "version": plan.database_version,
            "sku_name": Raw("var.sku_name"),
            "delegated_subnet_id": Raw("var.subnet_id"),
            "private_dns_zone_id": Raw("var.dns_zone_id"),
            "backup_retention_days": Raw("var.backup_retention_days"),
            "geo_redundant_backup_enabled": Raw("var.geo_redundant_backup"),
            "zone": "1",
            "administrator_login": Raw("var.administrator_login"),
            "administrator_password_wo": Raw("ephemeral.random_password.admin.result"),
            "administrator_password_wo_version": Raw("var.password_version"),
            "tags": Raw("var.tags"),
        }
    )
    if pg:
        server.attrs(
            {"storage_mb": Raw("var.storage_mb"), "auto_grow_enabled": True, "public_network_access_enabled": False}
        )
        server.block(
            "authentication",
            active_directory_auth_enabled=True,
            password_auth_enabled=True,
            tenant_id=Raw("var.tenant_id"),
        )
    else:
        server.attr("public_network_access", "Disabled")
        server.block("storage", size_gb=Raw("var.storage_gb"), auto_grow_enabled=True)
    ha = Block("content")
    ha.attr("mode", "ZoneRedundant")
    ha.attr("standby_availability_zone", "2")
    server.add(
        Block("dynamic", ("high_availability",), [Attr("for_each", Raw('var.high_availability ? ["on"] : []')), ha])
    )
    server.block("maintenance_window", day_of_week=0, start_hour=3, start_minute=0)
    server.add(lifecycle(ignore=["zone", "high_availability[0].standby_availability_zone"]))
    main: List[Item] = []
    password = Block("ephemeral", ("random_password", "admin"))
    password.comment("Generated at apply time and never stored: written to the server and to Key Vault (write-only).")
    password.attrs({"length": 32, "special": True, "override_special": "-_.~"})
    main.append(password)
    main.append(server)
    if pg:
        tls = resource("azurerm_postgresql_flexible_server_configuration", "require_tls")
        tls.attrs(
            {
                "name": "require_secure_transport",
                "server_id": Raw("azurerm_postgresql_flexible_server.this.id"),
                "value": "on",
            }
        )
        main.append(tls)
        for name, value in (
            ("log_connections", "on"),
            ("log_disconnections", "on"),
            ("log_checkpoints", "on"),
            ("connection_throttle.enable", "on"),
        ):
            cfg = resource("azurerm_postgresql_flexible_server_configuration", name.replace(".", "_"))
            cfg.attrs({"name": name, "server_id": Raw("azurerm_postgresql_flexible_server.this.id"), "value": value})
            main.append(cfg)
        db = resource("azurerm_postgresql_flexible_server_database", "app")
        db.attrs(
            {
                "name": Raw("var.database_name"),
                "server_id": Raw("azurerm_postgresql_flexible_server.this.id"),
                "charset": "UTF8",
                "collation": "en_US.utf8",
            }
        )
    else:
        tls = resource("azurerm_mysql_flexible_server_configuration", "require_tls")
        tls.attrs(
            {
                "name": "require_secure_transport",
                "resource_group_name": Raw("var.resource_group_name"),
                "server_name": Raw("azurerm_mysql_flexible_server.this.name"),
                "value": "ON",
            }
        )
        main.append(tls)
        db = resource("azurerm_mysql_flexible_database", "app")
        db.attrs(
            {
                "name": Raw("var.database_name"),
                "resource_group_name": Raw("var.resource_group_name"),
                "server_name": Raw("azurerm_mysql_flexible_server.this.name"),
                "charset": "utf8mb4",
                "collation": "utf8mb4_unicode_ci",
            }
        )
    main.append(db)
    secret = resource(
        "azurerm_key_vault_secret",
        "password",
    )
    secret.attrs(
        {
            "name": "database-password",
            "key_vault_id": Raw("var.key_vault_id"),
            "content_type": "password",
            "value_wo": Raw("ephemeral.random_password.admin.result"),
            "value_wo_version": Raw("var.password_version"),
            "expiration_date": Raw('timeadd(plantimestamp(), "${var.secret_rotation_days * 24}h")'),
            "tags": Raw("var.tags"),
        }
    )
    secret.add(lifecycle(ignore=["expiration_date"]))
    main.append(secret)
    variables = _base_variables() + [
        variable("sku_name", "string", "Server SKU (General Purpose, so that zone-redundant HA is possible)"),
        variable("storage_mb" if pg else "storage_gb", "number", "Storage of the server"),
        variable("high_availability", "bool", "Zone-redundant standby"),
        variable("geo_redundant_backup", "bool", "Copy backups to the paired region"),
        variable("backup_retention_days", "number", "Days backups are kept (7 to 35)"),
        variable("subnet_id", "string", "Delegated subnet"),
        variable("dns_zone_id", "string", "Private DNS zone of the server"),
        variable("administrator_login", "string", "Administrator login"),
        variable("password_version", "number", "Increase to generate and store a new password"),
        variable("database_name", "string", "Database of the service"),
        variable("key_vault_id", "string", "Key Vault that receives the generated password"),
        variable("secret_rotation_days", "number", "Days until the stored password expires"),
    ]
    if pg:
        variables.append(variable("tenant_id", "string", "Entra ID tenant (Entra ID sign-in)"))
    outputs = [
        output("fqdn", Raw("%s.this.fqdn" % kind), "Private FQDN of the server"),
        output("server_name", Raw("%s.this.name" % kind), "Server"),
        output("database_name", Raw("var.database_name"), "Database"),
        output(
            "password_secret_id",
            Raw("azurerm_key_vault_secret.password.versionless_id"),
            "Key Vault secret of the password",
        ),
    ]
    return Module(
        "database",
        "%s Flexible Server %s: private access (delegated subnet, private DNS), TLS, backups, zone-redundant HA."
        % ("PostgreSQL" if pg else "MySQL", plan.database_version),
        main,
        variables,
        outputs,
        (
            "infrastructure.database.engine",
            "infrastructure.database.version",
            "infrastructure.database.storage_gb",
            "infrastructure.database.ha",
            "backup.retention_days",
            "backup.cross_region",
        ),
    )


def _cosmos_module(model: Model, plan: AzurePlan) -> Module:
    src = note(model, "infrastructure.database")
    account = resource(
        "azurerm_cosmosdb_account",
        "this",
        src,
        skips=[
            (
                "CKV_AZURE_100",
                "Cosmos DB encrypts at rest with service-managed keys; a customer-managed key needs the Cosmos DB "
                "first-party identity granted on the vault outside this configuration",
            )
        ],
    )
    account.comment("A document database (the documents name %s): Cosmos DB." % plan.engine)
    _common(account)
    account.attrs(
        {
            "offer_type": "Standard",
            "kind": "MongoDB" if plan.engine == "mongodb" else "GlobalDocumentDB",
            "public_network_access_enabled": False,
            "is_virtual_network_filter_enabled": True,
            "local_authentication_disabled": plan.engine != "mongodb",
            "access_key_metadata_writes_enabled": False,
            "automatic_failover_enabled": True,
            "minimal_tls_version": "Tls12",
            "tags": Raw("var.tags"),
        }
    )
    account.block("consistency_policy", consistency_level="Session")
    account.block(
        "geo_location", location=Raw("var.location"), failover_priority=0, zone_redundant=Raw("var.high_availability")
    )
    account.block("backup", type="Continuous", tier="Continuous30Days")
    main: List[Item] = [
        account,
        private_endpoint(
            "cosmos", "azurerm_cosmosdb_account.this.id", "Sql" if plan.engine != "mongodb" else "MongoDB", "cosmos"
        ),
    ]
    variables = (
        _base_variables() + [variable("high_availability", "bool", "Zone-redundant account")] + _endpoint_variables()
    )
    outputs = [output("endpoint", Raw("azurerm_cosmosdb_account.this.endpoint"), "Cosmos DB endpoint")]
    return Module(
        "database",
        "Cosmos DB with private endpoint, Entra ID only, continuous backup (point-in-time restore).",
        main,
        variables,
        outputs,
        ("infrastructure.database.engine", "infrastructure.database.ha"),
    )


def _sql_module(model: Model, plan: AzurePlan) -> Module:
    src = note(model, "infrastructure.database")
    server = resource(
        "azurerm_mssql_server",
        "this",
        src,
        skips=[
            (
                "CKV2_AZURE_2",
                "vulnerability assessment runs in the express configuration of Microsoft Defender for SQL "
                "(enabled below), which needs no storage account; the check looks for the classic storage-based one",
            ),
        ],
    )
    _common(server)
    server.attrs(
        {
            "version": "12.0",
            "minimum_tls_version": "1.2",
            "public_network_access_enabled": False,
            "tags": Raw("var.tags"),
        }
    )
    server.block(
        "azuread_administrator",
        login_username="sql-admins",
        object_id=Raw("var.admin_object_id"),
        azuread_authentication_only=True,
    )
    server.block("identity", type="SystemAssigned")
    database = resource("azurerm_mssql_database", "app", src)
    database.attrs(
        {
            "name": Raw("var.database_name"),
            "server_id": Raw("azurerm_mssql_server.this.id"),
            "sku_name": "GP_Gen5_2",
            "zone_redundant": Raw("var.high_availability"),
            "geo_backup_enabled": Raw("var.geo_redundant_backup"),
            "ledger_enabled": True,
            "tags": Raw("var.tags"),
        }
    )
    database.block("short_term_retention_policy", retention_days=Raw("var.backup_retention_days"))
    audit = resource("azurerm_mssql_server_extended_auditing_policy", "this")
    audit.attrs(
        {
            "server_id": Raw("azurerm_mssql_server.this.id"),
            "log_monitoring_enabled": True,
            "retention_in_days": 90,
        }
    )
    defender = resource("azurerm_security_center_subscription_pricing", "sql")
    defender.comment("Microsoft Defender for SQL: threat detection and vulnerability assessment.")
    defender.attrs({"tier": "Standard", "resource_type": "SqlServers"})
    main: List[Item] = [
        server,
        database,
        audit,
        defender,
        private_endpoint("sql", "azurerm_mssql_server.this.id", "sqlServer", "sql"),
    ]
    variables = (
        _base_variables()
        + [
            variable("high_availability", "bool", "Zone-redundant database"),
            variable("geo_redundant_backup", "bool", "Geo-redundant backups"),
            variable("backup_retention_days", "number", "Days of point-in-time restore (1 to 35)"),
            variable("database_name", "string", "Database of the service"),
            variable("admin_object_id", "string", "Entra ID group that administers the server"),
        ]
        + _endpoint_variables()
    )
    outputs = [output("fqdn", Raw("azurerm_mssql_server.this.fully_qualified_domain_name"), "Server FQDN")]
    return Module(
        "database",
        "Azure SQL Database: Entra ID authentication only, private endpoint, auditing, zone redundancy.",
        main,
        variables,
        outputs,
        ("infrastructure.database.engine", "infrastructure.database.ha", "backup.retention_days"),
    )


# --------------------------------------------------------------------------- cache


def cache_module(model: Model, plan: AzurePlan) -> Module:
    src = note(model, "infrastructure.cache")
    cache = resource("azurerm_redis_cache", "this", src)
    _common(cache)
    cache.attrs(
        {
            "capacity": Raw("var.capacity"),
            "family": Raw('var.sku_name == "Premium" ? "P" : "C"'),
            "sku_name": Raw("var.sku_name"),
            "minimum_tls_version": "1.2",
            "non_ssl_port_enabled": False,
            "public_network_access_enabled": False,
            "redis_version": "6",
            "zones": Raw('var.sku_name == "Premium" ? var.zones : null'),
            "tags": Raw("var.tags"),
        }
    )
    cache.block("redis_configuration", authentication_enabled=True)
    key = resource("azurerm_key_vault_secret", "access_key")
    key.comment("The access key goes to Key Vault without passing through these files.")
    key.attrs(
        {
            "name": "cache-access-key",
            "key_vault_id": Raw("var.key_vault_id"),
            "content_type": "password",
            "value_wo": Raw("azurerm_redis_cache.this.primary_access_key"),
            "value_wo_version": 1,
            "expiration_date": Raw('timeadd(plantimestamp(), "${var.secret_rotation_days * 24}h")'),
            "tags": Raw("var.tags"),
        }
    )
    key.add(lifecycle(ignore=["expiration_date"]))
    main: List[Item] = [cache, private_endpoint("redis", "azurerm_redis_cache.this.id", "redisCache", "redis"), key]
    variables = (
        _base_variables()
        + [
            variable("sku_name", "string", "Standard (replicated) or Premium (zone redundant)"),
            variable("capacity", "number", "Size of the cache in its family"),
            variable("zones", "list(string)", "Availability zones (Premium)"),
            variable("key_vault_id", "string", "Key Vault that receives the access key"),
            variable("secret_rotation_days", "number", "Days until the stored key expires"),
        ]
        + _endpoint_variables()
    )
    outputs = [
        output("hostname", Raw("azurerm_redis_cache.this.hostname"), "Host name of the cache"),
        output("ssl_port", Raw("azurerm_redis_cache.this.ssl_port"), "TLS port of the cache"),
        output(
            "access_key_secret_id",
            Raw("azurerm_key_vault_secret.access_key.versionless_id"),
            "Key Vault secret of the key",
        ),
    ]
    return Module(
        "cache",
        "Azure Cache for Redis: TLS 1.2, no plain port, no public access, private endpoint.",
        main,
        variables,
        outputs,
        ("infrastructure.cache.memory_mib", "infrastructure.cache.ha"),
    )


# --------------------------------------------------------------------------- storage


def storage_module(model: Model, plan: AzurePlan) -> Module:
    src = note(model, "infrastructure.storage")
    skips = [
        ("CKV_AZURE_33", "the account holds blobs only; queue service logging does not apply (no queues are created)")
    ]
    skips += plan.skips.get("storage", [])
    account = resource("azurerm_storage_account", "this", src, skips=skips)
    _common(account, Raw("var.storage_account_name"))
    account.attrs(
        {
            "account_tier": "Standard",
            "account_kind": "StorageV2",
            "account_replication_type": Raw("var.replication_type"),
            "min_tls_version": "TLS1_2",
            "https_traffic_only_enabled": True,
            "allow_nested_items_to_be_public": False,
            "public_network_access_enabled": False,
            "shared_access_key_enabled": False,
            "default_to_oauth_authentication": True,
            "infrastructure_encryption_enabled": True,
            "local_user_enabled": False,
            "cross_tenant_replication_enabled": False,
            "tags": Raw("var.tags"),
        }
    )
    account.block("identity", type="UserAssigned", identity_ids=[Raw("var.identity_id")])
    account.block(
        "customer_managed_key",
        key_vault_key_id=Raw("var.key_vault_key_id"),
        user_assigned_identity_id=Raw("var.identity_id"),
    )
    blob = account.block("blob_properties", versioning_enabled=True, change_feed_enabled=True)
    blob.block("delete_retention_policy", days=Raw("var.soft_delete_days"))
    blob.block("container_delete_retention_policy", days=Raw("var.soft_delete_days"))
    account.block("network_rules", default_action="Deny", bypass=["AzureServices"])
    account.block("sas_policy", expiration_period="01.00:00:00", expiration_action="Log")
    main: List[Item] = [account]
    container = resource(
        "azurerm_storage_container",
        "data",
        src,
        skips=[
            (
                "CKV2_AZURE_21",
                "blob read, write and delete logs go to Log Analytics through the diagnostic setting of the blob "
                "service below; storage insights (what the check looks for) needs the shared key, which is disabled",
            )
        ],
    )
    container.attrs(
        {
            "name": "data",
            "storage_account_id": Raw("azurerm_storage_account.this.id"),
            "container_access_type": "private",
        }
    )
    main.append(container)
    if plan.immutable_storage:
        lock = resource("azurerm_storage_container_immutability_policy", "data")
        lock.comment("The documents ask for an immutable container: blobs cannot change or go before the retention.")
        lock.attrs(
            {
                "storage_container_resource_manager_id": Raw("azurerm_storage_container.data.id"),
                "immutability_period_in_days": Raw("var.retention_days"),
                "protected_append_writes_all_enabled": False,
                "protected_append_writes_enabled": True,
            }
        )
        main.append(lock)
    policy = resource("azurerm_storage_management_policy", "this")
    policy.comment("Lifecycle from the documents' retention: blobs and old versions are deleted after it.")
    policy.attr("storage_account_id", Raw("azurerm_storage_account.this.id"))
    rule = policy.block("rule", name="retention", enabled=True)
    rule.block("filters", blob_types=["blockBlob"])
    actions = rule.block("actions")
    actions.block("base_blob").attr("delete_after_days_since_modification_greater_than", Raw("var.retention_days"))
    actions.block("version").attr("delete_after_days_since_creation", Raw("var.retention_days"))
    main.append(policy)
    diag = resource("azurerm_monitor_diagnostic_setting", "blob")
    diag.comment("Blob access logs (read, write, delete) to Log Analytics.")
    diag.attrs(
        {
            "name": "blob-logs",
            "target_resource_id": interp(Raw("azurerm_storage_account.this.id"), "/blobServices/default"),
            "log_analytics_workspace_id": Raw("var.log_analytics_workspace_id"),
        }
    )
    for category in ("StorageRead", "StorageWrite", "StorageDelete"):
        diag.block("enabled_log", category=category)
    diag.block("enabled_metric", category="Transaction")
    main.append(diag)
    main.append(private_endpoint("blob", "azurerm_storage_account.this.id", "blob", "blob"))
    variables = (
        _base_variables()
        + [
            variable("storage_account_name", "string", "Globally unique name of the account"),
            variable("log_analytics_workspace_id", "string", "Workspace of the access logs"),
            variable(
                "replication_type", "string", "ZRS in one region, GZRS when the documents ask for a second region"
            ),
            variable("retention_days", "number", "Days blobs are kept"),
            variable("soft_delete_days", "number", "Days deleted blobs and containers can be restored"),
            variable("identity_id", "string", "Identity that reads the encryption key"),
            variable("key_vault_key_id", "string", "Customer-managed key"),
        ]
        + _endpoint_variables()
    )
    outputs = [
        output("account_name", Raw("azurerm_storage_account.this.name"), "Storage account"),
        output(
            "container_url",
            interp(Raw("azurerm_storage_account.this.primary_blob_endpoint"), "data"),
            "URL of the data container",
        ),
        output("account_id", Raw("azurerm_storage_account.this.id"), "Storage account id"),
    ]
    return Module(
        "storage",
        "Storage account and blob container: TLS 1.2, private, infrastructure encryption with a customer-managed key, "
        "versioning, soft delete, lifecycle from the retention.",
        main,
        variables,
        outputs,
        (
            "infrastructure.storage.retention_days",
            "infrastructure.storage.replication",
            "infrastructure.storage.service",
        ),
    )


# --------------------------------------------------------------------------- queue


def queue_module(model: Model, plan: AzurePlan) -> Module:
    src = note(model, "infrastructure.queue")
    queue = model.infrastructure.queue
    ns = resource("azurerm_servicebus_namespace", "this", src)
    if queue is not None and queue.kind not in ("servicebus", "unknown"):
        ns.comment("The documents name %s; Service Bus is the managed equivalent." % queue.kind)
    _common(ns, Raw("var.namespace_name"))
    ns.attrs(
        {
            "sku": Raw("var.sku"),
            "capacity": Raw('var.sku == "Premium" ? 1 : 0'),
            "premium_messaging_partitions": Raw('var.sku == "Premium" ? 1 : 0'),
            "local_auth_enabled": False,
            "public_network_access_enabled": Raw('var.sku != "Premium"'),
            "minimum_tls_version": "1.2",
            "tags": Raw("var.tags"),
        }
    )
    ns.block("identity", type="UserAssigned", identity_ids=[Raw("var.identity_id")])
    cmk = Block("content")
    cmk.attrs(
        {
            "key_vault_key_id": Raw("customer_managed_key.value"),
            "identity_id": Raw("var.identity_id"),
            "infrastructure_encryption_enabled": True,
        }
    )
    ns.add(
        Block(
            "dynamic",
            ("customer_managed_key",),
            [Attr("for_each", Raw('var.sku == "Premium" ? [var.key_vault_key_id] : []')), cmk],
        )
    )
    main: List[Item] = [ns]
    retention = Raw('"P${var.retention_days}D"')
    if plan.queue_topic:
        topic = resource("azurerm_servicebus_topic", "this", src)
        topic.attrs(
            {
                "name": Raw("var.name"),
                "namespace_id": Raw("azurerm_servicebus_namespace.this.id"),
                "default_message_ttl": retention,
            }
        )
        main.append(topic)
        sub = resource("azurerm_servicebus_subscription", "this", src)
        sub.attrs(
            {
                "name": interp(Raw("var.name"), "-sub"),
                "topic_id": Raw("azurerm_servicebus_topic.this.id"),
                "max_delivery_count": Raw("var.max_delivery_count"),
                "default_message_ttl": retention,
                "dead_lettering_on_message_expiration": True,
                "dead_lettering_on_filter_evaluation_error": True,
            }
        )
        main.append(sub)
        target = "azurerm_servicebus_topic.this.id"
    else:
        q = resource("azurerm_servicebus_queue", "this", src)
        q.attrs(
            {
                "name": Raw("var.name"),
                "namespace_id": Raw("azurerm_servicebus_namespace.this.id"),
                "max_delivery_count": Raw("var.max_delivery_count"),
                "default_message_ttl": retention,
                "dead_lettering_on_message_expiration": True,
            }
        )
        main.append(q)
        target = "azurerm_servicebus_queue.this.id"
    for role, name in (("Azure Service Bus Data Sender", "sender"), ("Azure Service Bus Data Receiver", "receiver")):
        grant = resource("azurerm_role_assignment", name)
        grant.attrs(
            {"scope": Raw(target), "role_definition_name": role, "principal_id": Raw("var.runtime_principal_id")}
        )
        main.append(grant)
    ep = private_endpoint("servicebus", "azurerm_servicebus_namespace.this.id", "namespace", "servicebus")
    ep.attr("count", Raw('var.sku == "Premium" ? 1 : 0'))
    main.append(ep)
    variables = (
        _base_variables()
        + [
            variable("namespace_name", "string", "Globally unique name of the namespace"),
            variable(
                "sku",
                "string",
                "Premium (zone redundant, private endpoint, customer-managed key) or Standard",
                validations=[
                    validation('contains(["Standard", "Premium"], var.sku)', "sku must be Standard or Premium.")
                ],
            ),
            variable("retention_days", "number", "Days messages live before they are dead-lettered"),
            variable("max_delivery_count", "number", "Deliveries before a message is dead-lettered"),
            variable("identity_id", "string", "Identity that reads the encryption key"),
            variable("key_vault_key_id", "string", "Customer-managed key (Premium)"),
            variable("runtime_principal_id", "string", "Runtime identity that sends and receives"),
        ]
        + _endpoint_variables()
    )
    outputs = [
        output(
            "namespace_fqdn",
            interp(Raw("azurerm_servicebus_namespace.this.name"), ".servicebus.windows.net"),
            "Namespace",
        ),
        output("entity_name", Raw("var.name"), "Topic or queue"),
    ]
    return Module(
        "queue",
        "Service Bus namespace (Entra ID only, TLS 1.2) with a %s and dead-lettering."
        % ("topic" if plan.queue_topic else "queue"),
        main,
        variables,
        outputs,
        (
            "infrastructure.queue.kind",
            "infrastructure.queue.queue_type",
            "infrastructure.queue.retention_days",
            "infrastructure.queue.dead_letter",
            "infrastructure.queue.max_receive_count",
        ),
    )


__all__ = [
    "DNS_ZONES",
    "AzurePlan",
    "cache_module",
    "database_module",
    "network_module",
    "queue_module",
    "storage_module",
]
