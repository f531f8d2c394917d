# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compute module of the Azure configuration: Container Apps, AKS or App Service,
each behind an Application Gateway WAF v2 that holds the TLS certificate."""

from __future__ import annotations

from typing import List

from ..model import Model
from . import common
from .hcl import Attr, Block, Raw
from .terraform_azure_modules import (
    TLS_POLICY,
    AzurePlan,
    _base_variables,
    _common,
    _endpoint_variables,
    private_endpoint,
)
from .terraform_gcp_support import (
    Item,
    Module,
    dynamic,
    interp,
    lifecycle,
    note,
    output,
    resource,
    variable,
)


def _probe(kind: str, path: str, model: Model) -> Block:
    health = model.service.health
    period = max(1, min(health.interval_seconds or 10, 240))
    timeout = max(1, min(health.timeout_seconds or 1, period, 240))
    failures = max(1, min(health.failure_threshold or 3, 10 if kind == "liveness_probe" else 30))
    block = Block(kind)
    block.attrs(
        {
            "transport": "HTTP",
            "port": Raw("var.port"),
            "path": path,
            "interval_seconds": period,
            "timeout": timeout,
            "failure_count_threshold": failures,
        }
    )
    return block


def _gateway(model: Model, plan: AzurePlan, backend: str, backend_kind: str) -> List[Item]:
    """Public IP, WAF policy (OWASP 3.2, prevention) and Application Gateway WAF v2 with TLS only."""
    tls = note(model, "security.tls")
    items: List[Item] = []
    pip = resource("azurerm_public_ip", "gateway")
    _common(pip, interp(Raw("var.name"), "-gateway-ip"))
    pip.attrs({"allocation_method": "Static", "sku": "Standard", "zones": Raw("var.zones"), "tags": Raw("var.tags")})
    items.append(pip)
    waf = resource("azurerm_web_application_firewall_policy", "this")
    waf.attrs(
        {
            "name": interp(Raw('replace(var.name, "-", "")'), "waf"),
            "resource_group_name": Raw("var.resource_group_name"),
            "location": Raw("var.location"),
            "tags": Raw("var.tags"),
        }
    )
    waf.block("policy_settings", enabled=True, mode="Prevention", request_body_check=True)
    rules = waf.block("managed_rules")
    rules.block("managed_rule_set", type="OWASP", version="3.2")
    rules.block("managed_rule_set", type="Microsoft_BotManagerRuleSet", version="1.0")
    items.append(waf)
    ident = resource("azurerm_user_assigned_identity", "gateway")
    ident.comment("The gateway reads its TLS certificate from Key Vault with this identity.")
    _common(ident, interp(Raw("var.name"), "-gateway-id"))
    ident.attr("tags", Raw("var.tags"))
    items.append(ident)
    reader = resource("azurerm_role_assignment", "gateway_certificate")
    reader.attrs(
        {
            "scope": Raw("var.key_vault_id"),
            "role_definition_name": "Key Vault Secrets User",
            "principal_id": Raw("azurerm_user_assigned_identity.gateway.principal_id"),
        }
    )
    items.append(reader)
    gw = resource("azurerm_application_gateway", "this", tls)
    gw.comment("WAF v2 in front of the service: HTTPS only, TLS 1.2+ policy, certificate from Key Vault.")
    _common(gw, interp(Raw("var.name"), "-gateway"))
    gw.attrs(
        {
            "zones": Raw("var.zones"),
            "firewall_policy_id": Raw("azurerm_web_application_firewall_policy.this.id"),
            "force_firewall_policy_association": True,
            "enable_http2": True,
            "tags": Raw("var.tags"),
        }
    )
    gw.block("sku", name="WAF_v2", tier="WAF_v2")
    gw.block("autoscale_configuration", min_capacity=Raw("var.gateway_min_capacity"), max_capacity=10)
    gw.block("identity", type="UserAssigned", identity_ids=[Raw("azurerm_user_assigned_identity.gateway.id")])
    gw.block("gateway_ip_configuration", name="gateway", subnet_id=Raw("var.gateway_subnet_id"))
    gw.block("frontend_port", name="https", port=443)
    gw.block("frontend_ip_configuration", name="public", public_ip_address_id=Raw("azurerm_public_ip.gateway.id"))
    gw.block("ssl_policy", policy_type="Predefined", policy_name=TLS_POLICY)
    gw.block("ssl_certificate", name="tls", key_vault_secret_id=Raw("var.tls_certificate_secret_id"))
    pool = gw.block("backend_address_pool", name="app")
    pool.attr("fqdns" if backend_kind == "fqdn" else "ip_addresses", [Raw(backend)])
    settings = gw.block(
        "backend_http_settings", name="app", cookie_based_affinity="Disabled", request_timeout=60, probe_name="ready"
    )
    if backend_kind == "fqdn":
        settings.attrs({"port": 443, "protocol": "Https", "pick_host_name_from_backend_address": True})
    else:
        settings.attrs({"port": 80, "protocol": "Http", "host_name": Raw("var.tls_domain")})
    health = model.service.health
    probe = gw.block("probe", name="ready", path=common.readiness_path(model))
    probe.attrs(
        {
            "protocol": "Https" if backend_kind == "fqdn" else "Http",
            "interval": max(1, min(health.interval_seconds or 30, 86400)),
            "timeout": max(1, min(health.timeout_seconds or 30, 86400)),
            "unhealthy_threshold": max(1, min(health.failure_threshold or 3, 20)),
        }
    )
    if backend_kind == "fqdn":
        probe.attr("pick_host_name_from_backend_http_settings", True)
    else:
        probe.attr("host", Raw("var.tls_domain"))
    probe.block("match", status_code=["200-399"])
    gw.block(
        "http_listener",
        name="https",
        frontend_ip_configuration_name="public",
        frontend_port_name="https",
        protocol="Https",
        ssl_certificate_name="tls",
        host_name=Raw("var.tls_domain"),
        require_sni=True,
    )
    gw.block(
        "request_routing_rule",
        name="app",
        rule_type="Basic",
        priority=100,
        http_listener_name="https",
        backend_address_pool_name="app",
        backend_http_settings_name="app",
    )
    gw.attr("depends_on", [Raw("azurerm_role_assignment.gateway_certificate")])
    items.append(gw)
    return items


def _gateway_variables() -> List[Block]:
    return [
        variable("zones", "list(string)", "Availability zones"),
        variable("gateway_subnet_id", "string", "Subnet of the Application Gateway"),
        variable("gateway_min_capacity", "number", "Minimum instances of the Application Gateway"),
        variable("key_vault_id", "string", "Key Vault that holds the TLS certificate"),
        variable("tls_domain", "string", "DNS name served over HTTPS"),
        variable("tls_certificate_secret_id", "string", "Key Vault secret id of the TLS certificate (PFX)"),
    ]


def _gateway_outputs() -> List[Block]:
    return [output("public_ip", Raw("azurerm_public_ip.gateway.ip_address"), "Address for the DNS record")]


def container_apps_module(model: Model, plan: AzurePlan) -> Module:
    src = note(model, "infrastructure.compute")
    main: List[Item] = []
    env = resource("azurerm_container_app_environment", "this", src)
    _common(env)
    env.attrs(
        {
            "log_analytics_workspace_id": Raw("var.log_analytics_workspace_id"),
            "infrastructure_subnet_id": Raw("var.app_subnet_id"),
            "internal_load_balancer_enabled": True,
            "zone_redundancy_enabled": Raw("var.zone_redundant"),
            "infrastructure_resource_group_name": interp(Raw("var.resource_group_name"), "-infra"),
            "tags": Raw("var.tags"),
        }
    )
    env.block("workload_profile", name="Consumption", workload_profile_type="Consumption")
    main.append(env)
    app = resource("azurerm_container_app", "this", src)
    if plan.mapped_compute:
        app.comment(plan.mapped_compute)
    app.attrs(
        {
            "name": Raw("var.name"),
            "container_app_environment_id": Raw("azurerm_container_app_environment.this.id"),
            "resource_group_name": Raw("var.resource_group_name"),
            "revision_mode": plan.revision_mode,
            "workload_profile_name": "Consumption",
            "tags": Raw("var.tags"),
        }
    )
    app.block("identity", type="UserAssigned", identity_ids=[Raw("var.identity_id")])
    app.block("registry", server=Raw("var.registry_server"), identity=Raw("var.identity_id"))
    app.add(
        dynamic(
            "secret",
            "var.secret_refs",
            [
                Attr("name", Raw("secret.key")),
                Attr("key_vault_secret_id", Raw("secret.value")),
                Attr("identity", Raw("var.identity_id")),
            ],
        )
    )
    ingress = app.block("ingress", external_enabled=True, target_port=Raw("var.port"), transport="auto")
    ingress.comment(
        "Reachable inside the VNet only (internal environment); the Application Gateway is the public entry."
    )
    ingress.attr("allow_insecure_connections", False)
    ingress.block("traffic_weight", latest_revision=True, percentage=100)
    template = app.block("template", min_replicas=Raw("var.min_replicas"), max_replicas=Raw("var.max_replicas"))
    container = template.block("container", name=Raw("var.name"))
    container.attrs({"image": Raw("var.image"), "cpu": Raw("var.cpu"), "memory": Raw("var.memory")})
    container.add(dynamic("env", "var.plain_env", [Attr("name", Raw("env.key")), Attr("value", Raw("env.value"))]))
    container.add(
        dynamic("env", "var.secret_env", [Attr("name", Raw("env.key")), Attr("secret_name", Raw("env.value"))])
    )
    container.add(_probe("liveness_probe", common.liveness_path(model), model))
    container.add(_probe("readiness_probe", common.readiness_path(model), model))
    startup = common.startup_path(model)
    if startup:
        container.add(_probe("startup_probe", startup, model))
    template.block("http_scale_rule", name="http", concurrent_requests="50")
    if plan.revision_mode == "Multiple":
        app.comment("Traffic between revisions is moved by the deployment pipeline (canary / blue-green steps).")
        app.add(lifecycle(ignore=["ingress[0].traffic_weight"]))
    main.append(app)
    zone = resource("azurerm_private_dns_zone", "environment")
    zone.comment("The environment's default domain resolves to its internal load balancer inside the VNet.")
    zone.attrs(
        {
            "name": Raw("azurerm_container_app_environment.this.default_domain"),
            "resource_group_name": Raw("var.resource_group_name"),
            "tags": Raw("var.tags"),
        }
    )
    main.append(zone)
    record = resource("azurerm_private_dns_a_record", "environment")
    record.attrs(
        {
            "name": "*",
            "zone_name": Raw("azurerm_private_dns_zone.environment.name"),
            "resource_group_name": Raw("var.resource_group_name"),
            "ttl": 300,
            "records": [Raw("azurerm_container_app_environment.this.static_ip_address")],
            "tags": Raw("var.tags"),
        }
    )
    main.append(record)
    link = resource("azurerm_private_dns_zone_virtual_network_link", "environment")
    link.attrs(
        {
            "name": interp(Raw("var.name"), "-apps-link"),
            "resource_group_name": Raw("var.resource_group_name"),
            "private_dns_zone_name": Raw("azurerm_private_dns_zone.environment.name"),
            "virtual_network_id": Raw("var.vnet_id"),
            "registration_enabled": False,
            "tags": Raw("var.tags"),
        }
    )
    main.append(link)
    main.extend(_gateway(model, plan, "azurerm_container_app.this.ingress[0].fqdn", "fqdn"))
    variables = (
        _base_variables()
        + [
            variable("image", "string", "Container image with its tag"),
            variable("port", "number", "Port the container listens on"),
            variable("cpu", "number", "vCPU of a replica (0.25 steps, memory is twice the CPU in Gi)"),
            variable("memory", "string", "Memory of a replica (for example 2Gi)"),
            variable("min_replicas", "number", "Minimum replicas"),
            variable("max_replicas", "number", "Maximum replicas"),
            variable("zone_redundant", "bool", "Spread the environment over availability zones"),
            variable("identity_id", "string", "User-assigned identity of the app"),
            variable("registry_server", "string", "Login server of the container registry"),
            variable("log_analytics_workspace_id", "string", "Log Analytics workspace"),
            variable("app_subnet_id", "string", "Subnet of the environment"),
            variable("vnet_id", "string", "Virtual network (private DNS link)"),
            variable("plain_env", "map(string)", "Environment variables that are not secret"),
            variable("secret_env", "map(string)", "Secret environment variables: name -> app secret name"),
            variable("secret_refs", "map(string)", "App secrets: name -> versionless Key Vault secret id"),
        ]
        + _gateway_variables()
    )
    outputs = [
        output("app_name", Raw("azurerm_container_app.this.name"), "Container app"),
        output("app_fqdn", Raw("azurerm_container_app.this.ingress[0].fqdn"), "Internal FQDN of the app"),
    ] + _gateway_outputs()
    return Module(
        "compute",
        "Container Apps (internal environment, zone redundant) behind an Application Gateway WAF v2.",
        main,
        variables,
        outputs,
        ("infrastructure.compute", "service.image", "service.health", "service.scaling", "service.env", "security.tls"),
    )


def aks_module(model: Model, plan: AzurePlan) -> Module:
    src = note(model, "infrastructure.compute")
    main: List[Item] = []
    des = resource("azurerm_disk_encryption_set", "this")
    des.comment("Node OS and data disks are encrypted with the customer-managed key.")
    _common(des, interp(Raw("var.name"), "-des"))
    des.attrs({"key_vault_key_id": Raw("var.key_vault_key_id"), "tags": Raw("var.tags")})
    des.block("identity", type="SystemAssigned")
    main.append(des)
    des_access = resource("azurerm_role_assignment", "disk_encryption")
    des_access.attrs(
        {
            "scope": Raw("var.key_vault_id"),
            "role_definition_name": "Key Vault Crypto Service Encryption User",
            "principal_id": Raw("azurerm_disk_encryption_set.this.identity[0].principal_id"),
        }
    )
    main.append(des_access)
    cluster = resource("azurerm_kubernetes_cluster", "this", src)
    if plan.mapped_compute:
        cluster.comment(plan.mapped_compute)
    _common(cluster)
    cluster.attrs(
        {
            "dns_prefix": Raw("var.name"),
            "sku_tier": "Standard",
            "automatic_upgrade_channel": "stable",
            "node_os_upgrade_channel": "NodeImage",
            "private_cluster_enabled": True,
            "local_account_disabled": True,
            "role_based_access_control_enabled": True,
            "azure_policy_enabled": True,
            "oidc_issuer_enabled": True,
            "workload_identity_enabled": True,
            "disk_encryption_set_id": Raw("azurerm_disk_encryption_set.this.id"),
            "tags": Raw("var.tags"),
        }
    )
    pool = cluster.block("default_node_pool")
    pool.comment("System pool: only critical add-ons run here; the service runs in the app pool.")
    pool.attrs(
        {
            "name": "system",
            "vm_size": "Standard_D4ds_v5",
            "vnet_subnet_id": Raw("var.app_subnet_id"),
            "zones": Raw("var.zones"),
            "auto_scaling_enabled": True,
            "min_count": Raw("var.system_min_nodes"),
            "max_count": 3,
            "max_pods": 50,
            "os_disk_type": "Ephemeral",
            "host_encryption_enabled": True,
            "only_critical_addons_enabled": True,
            "temporary_name_for_rotation": "systemtmp",
        }
    )
    pool.block("upgrade_settings", max_surge="10%")
    cluster.block("identity", type="UserAssigned", identity_ids=[Raw("var.cluster_identity_id")])
    cluster.block(
        "azure_active_directory_role_based_access_control", azure_rbac_enabled=True, tenant_id=Raw("var.tenant_id")
    )
    cluster.block(
        "network_profile",
        network_plugin="azure",
        network_plugin_mode="overlay",
        network_policy="cilium",
        network_data_plane="cilium",
        outbound_type="userAssignedNATGateway",
        load_balancer_sku="standard",
    )
    cluster.block(
        "oms_agent",
        log_analytics_workspace_id=Raw("var.log_analytics_workspace_id"),
        msi_auth_for_monitoring_enabled=True,
    )
    provider = cluster.block("key_vault_secrets_provider")
    provider.attr("secret_rotation_enabled", True)
    provider.attr("secret_rotation_interval", "2m")
    cluster.block("microsoft_defender", log_analytics_workspace_id=Raw("var.log_analytics_workspace_id"))
    cluster.add(lifecycle(ignore=["default_node_pool[0].upgrade_settings"]))
    main.append(cluster)
    apps = resource("azurerm_kubernetes_cluster_node_pool", "app", src)
    apps.attrs(
        {
            "name": "app",
            "kubernetes_cluster_id": Raw("azurerm_kubernetes_cluster.this.id"),
            "vm_size": Raw("var.vm_size"),
            "vnet_subnet_id": Raw("var.app_subnet_id"),
            "zones": Raw("var.zones"),
            "auto_scaling_enabled": True,
            "min_count": Raw("var.min_nodes"),
            "max_count": Raw("var.max_nodes"),
            "max_pods": 50,
            "host_encryption_enabled": True,
            "mode": "User",
            "tags": Raw("var.tags"),
        }
    )
    main.append(apps)
    fed = resource("azurerm_federated_identity_credential", "workload")
    fed.comment("The service's Kubernetes service account signs in as the runtime identity (workload identity).")
    fed.attrs(
        {
            "name": interp(Raw("var.name"), "-workload"),
            "user_assigned_identity_id": Raw("var.identity_id"),
            "audience": ["api://AzureADTokenExchange"],
            "issuer": Raw("azurerm_kubernetes_cluster.this.oidc_issuer_url"),
            "subject": interp("system:serviceaccount:", Raw("var.namespace"), ":", Raw("var.namespace")),
        }
    )
    main.append(fed)
    pull = resource("azurerm_role_assignment", "kubelet_pull")
    pull.attrs(
        {
            "scope": Raw("var.registry_id"),
            "role_definition_name": "AcrPull",
            "principal_id": Raw("azurerm_kubernetes_cluster.this.kubelet_identity[0].object_id"),
        }
    )
    main.append(pull)
    main.extend(_gateway(model, plan, "var.ingress_private_ip", "ip"))
    variables = (
        _base_variables()
        + [
            variable("vm_size", "string", "VM size of the application nodes"),
            variable("min_nodes", "number", "Minimum application nodes"),
            variable("max_nodes", "number", "Maximum application nodes"),
            variable("system_min_nodes", "number", "Minimum system nodes (one per zone in production)"),
            variable("app_subnet_id", "string", "Subnet of the nodes"),
            variable("identity_id", "string", "Runtime identity (workload identity)"),
            variable("cluster_identity_id", "string", "Identity of the cluster control plane"),
            variable("tenant_id", "string", "Entra ID tenant"),
            variable("namespace", "string", "Namespace and service account of the workload"),
            variable("log_analytics_workspace_id", "string", "Log Analytics workspace"),
            variable("key_vault_key_id", "string", "Key that encrypts the node disks"),
            variable("registry_id", "string", "Container registry the nodes pull from"),
            variable("ingress_private_ip", "string", "Private IP of the ingress controller's internal load balancer"),
            variable("port", "number", "Port the service listens on"),
        ]
        + _gateway_variables()
    )
    outputs = [
        output("cluster_name", Raw("azurerm_kubernetes_cluster.this.name"), "AKS cluster"),
        output("oidc_issuer_url", Raw("azurerm_kubernetes_cluster.this.oidc_issuer_url"), "Workload identity issuer"),
    ] + _gateway_outputs()
    return Module(
        "compute",
        "AKS (private, Entra ID RBAC, workload identity, Cilium network policy) behind an Application Gateway WAF v2.",
        main,
        variables,
        outputs,
        ("infrastructure.compute", "service.scaling", "security.iam", "security.tls"),
    )


def app_service_module(model: Model, plan: AzurePlan) -> Module:
    src = note(model, "infrastructure.compute")
    main: List[Item] = []
    sp = resource("azurerm_service_plan", "this", src)
    sp.comment("A zone-redundant plan runs at least two instances (one failover target in another zone).")
    _common(sp)
    sp.attrs(
        {
            "os_type": "Linux",
            "sku_name": "P1v3",
            "worker_count": Raw("var.zone_redundant ? max(2, var.min_replicas) : var.min_replicas"),
            "zone_balancing_enabled": Raw("var.zone_redundant"),
            "tags": Raw("var.tags"),
        }
    )
    main.append(sp)
    app = resource(
        "azurerm_linux_web_app",
        "this",
        src,
        skips=[
            ("CKV_AZURE_13", "end users authenticate in the service itself; the gateway is the only way in"),
            ("CKV_AZURE_17", "TLS ends at the Application Gateway, which holds the certificate; clients send none"),
            ("CKV_AZURE_88", "the service keeps no files: its state lives in the database and the storage account"),
        ],
    )
    _common(app)
    app.attrs(
        {
            "service_plan_id": Raw("azurerm_service_plan.this.id"),
            "https_only": True,
            "public_network_access_enabled": False,
            "virtual_network_subnet_id": Raw("var.app_subnet_id"),
            "key_vault_reference_identity_id": Raw("var.identity_id"),
            "client_certificate_enabled": False,
            "ftp_publish_basic_authentication_enabled": False,
            "webdeploy_publish_basic_authentication_enabled": False,
            "app_settings": Raw("merge(var.plain_env, var.secret_settings)"),
            "tags": Raw("var.tags"),
        }
    )
    app.block("identity", type="UserAssigned", identity_ids=[Raw("var.identity_id")])
    site = app.block("site_config")
    site.attrs(
        {
            "always_on": True,
            "http2_enabled": True,
            "minimum_tls_version": "1.2",
            "ftps_state": "Disabled",
            "health_check_path": common.readiness_path(model),
            "health_check_eviction_time_in_min": 5,
            "vnet_route_all_enabled": True,
            "container_registry_use_managed_identity": True,
            "container_registry_managed_identity_client_id": Raw("var.identity_client_id"),
            "remote_debugging_enabled": False,
        }
    )
    site.block(
        "application_stack", docker_image_name=Raw("var.image_name"), docker_registry_url=Raw("var.registry_url")
    )
    logs = app.block("logs", detailed_error_messages=True, failed_request_tracing=True)
    logs.block("http_logs").block("file_system", retention_in_days=30, retention_in_mb=100)
    main.append(app)
    main.append(private_endpoint("web", "azurerm_linux_web_app.this.id", "sites", "web"))
    main.extend(_gateway(model, plan, "azurerm_linux_web_app.this.default_hostname", "fqdn"))
    variables = (
        _base_variables()
        + [
            variable("image_name", "string", "Image name and tag in the registry"),
            variable("registry_url", "string", "URL of the container registry"),
            variable("port", "number", "Port the container listens on"),
            variable("min_replicas", "number", "Instances of the plan"),
            variable("zone_redundant", "bool", "Spread the plan over availability zones"),
            variable("identity_id", "string", "User-assigned identity of the app"),
            variable("identity_client_id", "string", "Client id of the identity (registry pulls)"),
            variable("app_subnet_id", "string", "Subnet of the outbound VNet integration"),
            variable("plain_env", "map(string)", "App settings that are not secret"),
            variable("secret_settings", "map(string)", "App settings that are Key Vault references"),
        ]
        + _endpoint_variables()
        + _gateway_variables()
    )
    outputs = [output("app_name", Raw("azurerm_linux_web_app.this.name"), "Web app")] + _gateway_outputs()
    return Module(
        "compute",
        "App Service (Linux container, private endpoint, VNet integration) behind an Application Gateway WAF v2.",
        main,
        variables,
        outputs,
        ("infrastructure.compute", "service.image", "service.health", "security.tls"),
    )
