# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compute module of the GCP configuration: Cloud Run behind an external HTTPS load
balancer (serverless NEG, Cloud Armor, Google-managed certificate, TLS 1.2 policy), or a
GKE cluster with the address, certificate and policies its Ingress uses."""

from __future__ import annotations

from typing import List, Optional

from ..model import Model
from . import common
from .hcl import Attr, Block, Raw
from .terraform_gcp_modules import GKE_MASTER_CIDR, GcpPlan, _service_variables
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
    """A Cloud Run probe with the document's timings (timeout never above the period)."""
    health = model.service.health
    period = health.interval_seconds or 10
    timeout = min(health.timeout_seconds or 1, period)
    block = Block(kind)
    if kind == "startup_probe":
        block.attr("initial_delay_seconds", 0)
    block.attr("period_seconds", min(period, 240 if kind == "startup_probe" else 3600))
    block.attr("timeout_seconds", timeout)
    block.attr("failure_threshold", health.failure_threshold or 3)
    block.block("http_get", path=path, port=Raw("var.port"))
    return block


def cloud_run_module(model: Model, plan: GcpPlan) -> Module:
    src = note(model, "infrastructure.compute")
    main: List[Item] = []
    svc = resource("google_cloud_run_v2_service", "this", src)
    svc.comment(
        "Reached only through the external HTTPS load balancer (ingress internal-and-load-balancer, "
        "Cloud Armor in front); the invoker check is off because the load balancer forwards "
        "end-user requests without Google identity tokens."
    )
    if plan.mapped_compute:
        svc.comment(plan.mapped_compute)
    svc.attrs(
        {
            "name": Raw("var.name"),
            "location": Raw("var.region"),
            "ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
            "deletion_protection": Raw("var.deletion_protection"),
            "invoker_iam_disabled": True,
            "labels": Raw("var.labels"),
        }
    )
    template = svc.block("template")
    template.attrs(
        {
            "service_account": Raw("var.service_account_email"),
            "execution_environment": "EXECUTION_ENVIRONMENT_GEN2",
            "labels": Raw("var.labels"),
        }
    )
    template.block("scaling", min_instance_count=Raw("var.min_instances"), max_instance_count=Raw("var.max_instances"))
    if plan.connector:
        template.block("vpc_access", connector=Raw("var.connector_id"), egress="PRIVATE_RANGES_ONLY")
    container = template.block("containers")
    container.attr("image", Raw("var.image"))
    container.block("ports", container_port=Raw("var.port"))
    res = container.block("resources")
    res.attr("limits", {"cpu": Raw("var.cpu"), "memory": Raw("var.memory")})
    res.attr("cpu_idle", True)
    res.attr("startup_cpu_boost", True)
    container.add(dynamic("env", "var.plain_env", [Attr("name", Raw("env.key")), Attr("value", Raw("env.value"))]))
    secret_env = Block("content")
    secret_env.attr("name", Raw("env.key"))
    ref = secret_env.block("value_source").block("secret_key_ref")
    ref.attr("secret", Raw("env.value"))
    ref.attr("version", "latest")
    container.add(Block("dynamic", ("env",), [Attr("for_each", Raw("var.secret_env")), secret_env]))
    startup = common.startup_path(model)
    if startup:
        container.add(_probe("startup_probe", startup, model))
    container.add(_probe("liveness_probe", common.liveness_path(model), model))
    container.add(_probe("readiness_probe", common.readiness_path(model), model))
    svc.block("traffic", type="TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", percent=100)
    main.append(svc)
    main.extend(_load_balancer(model, plan))
    variables = _service_variables() + [
        variable("image", "string", "Container image (registry path and tag; never latest)"),
        variable("port", "number", "Port the container listens on"),
        variable("cpu", "string", "CPU limit of an instance (Cloud Run: 1, 2, 4, 6 or 8)"),
        variable("memory", "string", "Memory limit of an instance (for example 2048Mi)"),
        variable("min_instances", "number", "Minimum number of instances"),
        variable("max_instances", "number", "Maximum number of instances"),
        variable("service_account_email", "string", "Runtime service account of the service"),
        variable("deletion_protection", "bool", "Refuse to destroy the service"),
        variable("plain_env", "map(string)", "Environment variables that are not secret"),
        variable("secret_env", "map(string)", "Secret environment variables: name -> Secret Manager secret id"),
        variable("tls_domain", "string", "DNS name of the HTTPS load balancer (Google-managed certificate)"),
    ]
    if plan.connector:
        variables.append(variable("connector_id", "string", "Serverless VPC Access connector"))
    outputs = [
        output("service_name", Raw("google_cloud_run_v2_service.this.name"), "Cloud Run service"),
        output("service_uri", Raw("google_cloud_run_v2_service.this.uri"), "Default URI of the service"),
        output("load_balancer_ip", Raw("google_compute_global_address.lb.address"), "Address for the DNS record"),
    ]
    return Module(
        "compute",
        "Cloud Run service behind an external HTTPS load balancer with a Google-managed certificate.",
        main,
        variables,
        outputs,
        (
            "infrastructure.compute",
            "service.image",
            "service.ports",
            "service.health",
            "service.scaling",
            "service.env",
            "security.tls.domain",
        ),
    )


def _security_policy() -> Block:
    armor = resource("google_compute_security_policy", "this")
    armor.comment("Cloud Armor: preconfigured WAF rules in front of the service.")
    armor.attrs({"name": interp(Raw("var.name"), "-armor"), "type": "CLOUD_ARMOR"})
    rules = [
        (1000, "evaluatePreconfiguredExpr('cve-canary')", "Log4j (CVE-2021-44228) lookups"),
        (1001, "evaluatePreconfiguredWaf('sqli-v33-stable', {'sensitivity': 1})", "SQL injection"),
        (1002, "evaluatePreconfiguredWaf('xss-v33-stable', {'sensitivity': 1})", "Cross-site scripting"),
    ]
    for priority, expression, description in rules:
        rule = armor.block("rule", action="deny(403)", priority=priority, description=description)
        rule.block("match").block("expr", expression=expression)
    default = armor.block("rule", action="allow", priority=2147483647, description="Default rule")
    match = default.block("match", versioned_expr="SRC_IPS_V1")
    match.block("config", src_ip_ranges=["*"])
    return armor


def _load_balancer(model: Model, plan: GcpPlan, backend_group: Optional[str] = None) -> List[Item]:
    """Global address, certificate, SSL policy and Cloud Armor; for Cloud Run also the
    serverless NEG, backend, URL maps, proxies and forwarding rules."""
    tls = note(model, "security.tls")
    items: List[Item] = []
    address = resource("google_compute_global_address", "lb")
    address.attr("name", interp(Raw("var.name"), "-lb"))
    items.append(address)
    cert = resource("google_compute_managed_ssl_certificate", "this", tls)
    cert.attr("name", interp(Raw("var.name"), "-cert"))
    cert.block("managed", domains=[Raw("var.tls_domain")])
    cert.add(Block("lifecycle", (), [Attr("create_before_destroy", True)]))
    items.append(cert)
    ssl = resource("google_compute_ssl_policy", "this", tls)
    ssl.attrs({"name": interp(Raw("var.name"), "-tls"), "profile": "RESTRICTED", "min_tls_version": "TLS_1_2"})
    items.append(ssl)
    items.append(_security_policy())
    if plan.compute != "cloud-run":
        return items
    neg = resource("google_compute_region_network_endpoint_group", "this")
    neg.attrs(
        {"name": interp(Raw("var.name"), "-neg"), "region": Raw("var.region"), "network_endpoint_type": "SERVERLESS"}
    )
    neg.block("cloud_run", service=Raw("google_cloud_run_v2_service.this.name"))
    items.append(neg)
    backend = resource("google_compute_backend_service", "this")
    backend.attrs(
        {
            "name": interp(Raw("var.name"), "-backend"),
            "load_balancing_scheme": "EXTERNAL_MANAGED",
            "protocol": "HTTPS",
            "security_policy": Raw("google_compute_security_policy.this.id"),
        }
    )
    backend.block("backend", group=Raw("google_compute_region_network_endpoint_group.this.id"))
    backend.block("log_config", enable=True, sample_rate=1.0)
    items.append(backend)
    url_map = resource("google_compute_url_map", "this")
    url_map.attrs(
        {"name": interp(Raw("var.name"), "-urls"), "default_service": Raw("google_compute_backend_service.this.id")}
    )
    items.append(url_map)
    proxy = resource("google_compute_target_https_proxy", "this")
    proxy.attrs(
        {
            "name": interp(Raw("var.name"), "-https"),
            "url_map": Raw("google_compute_url_map.this.id"),
            "ssl_certificates": [Raw("google_compute_managed_ssl_certificate.this.id")],
            "ssl_policy": Raw("google_compute_ssl_policy.this.id"),
        }
    )
    items.append(proxy)
    https = resource("google_compute_global_forwarding_rule", "https")
    https.attrs(
        {
            "name": interp(Raw("var.name"), "-https"),
            "load_balancing_scheme": "EXTERNAL_MANAGED",
            "ip_address": Raw("google_compute_global_address.lb.id"),
            "port_range": "443",
            "target": Raw("google_compute_target_https_proxy.this.id"),
            "labels": Raw('merge(var.labels, { component = "network" })'),
        }
    )
    items.append(https)
    redirect = resource("google_compute_url_map", "redirect")
    redirect.comment("Plain HTTP only answers with a redirect to HTTPS.")
    redirect.attr("name", interp(Raw("var.name"), "-redirect"))
    redirect.block(
        "default_url_redirect",
        https_redirect=True,
        strip_query=False,
        redirect_response_code="MOVED_PERMANENTLY_DEFAULT",
    )
    items.append(redirect)
    http_proxy = resource("google_compute_target_http_proxy", "redirect")
    http_proxy.attrs({"name": interp(Raw("var.name"), "-http"), "url_map": Raw("google_compute_url_map.redirect.id")})
    items.append(http_proxy)
    http = resource("google_compute_global_forwarding_rule", "http")
    http.attrs(
        {
            "name": interp(Raw("var.name"), "-http"),
            "load_balancing_scheme": "EXTERNAL_MANAGED",
            "ip_address": Raw("google_compute_global_address.lb.id"),
            "port_range": "80",
            "target": Raw("google_compute_target_http_proxy.redirect.id"),
            "labels": Raw('merge(var.labels, { component = "network" })'),
        }
    )
    items.append(http)
    return items


def gke_module(model: Model, plan: GcpPlan) -> Module:
    src = note(model, "infrastructure.compute")
    main: List[Item] = []
    skips = [
        (
            "CKV_GCP_65",
            "RBAC through Google Groups needs a Google Workspace security group the documents do not name; "
            "access is granted with IAM roles instead",
        )
    ]
    if plan.gke_autopilot:
        skips += [
            (
                "CKV_GCP_12",
                "Autopilot always runs Dataplane V2, which enforces NetworkPolicy; the setting cannot be changed",
            ),
            (
                "CKV_GCP_61",
                "Autopilot manages intranode visibility itself; the setting is refused on Autopilot clusters",
            ),
            ("CKV_GCP_69", "Autopilot always runs the GKE metadata server (workload identity); it cannot be disabled"),
        ]
    cluster = resource("google_container_cluster", "this", src, skips=skips)
    if plan.mapped_compute:
        cluster.comment(plan.mapped_compute)
    cluster.attrs(
        {
            "name": Raw("var.name"),
            "location": Raw("var.region"),
            "network": Raw("var.network_id"),
            "subnetwork": Raw("var.subnet_id"),
            "deletion_protection": Raw("var.deletion_protection"),
            "resource_labels": Raw("var.labels"),
            "enable_legacy_abac": False,
        }
    )
    if plan.gke_autopilot:
        cluster.attr("enable_autopilot", True)
    else:
        cluster.attrs(
            {
                "enable_intranode_visibility": True,
                "remove_default_node_pool": True,
                "initial_node_count": 1,
                "enable_shielded_nodes": True,
                "datapath_provider": "ADVANCED_DATAPATH",
            }
        )
    cluster.block("release_channel", channel="REGULAR")
    cluster.block(
        "ip_allocation_policy",
        cluster_secondary_range_name=Raw("var.pods_range_name"),
        services_secondary_range_name=Raw("var.services_range_name"),
    )
    cluster.block(
        "private_cluster_config",
        enable_private_nodes=True,
        enable_private_endpoint=False,
        master_ipv4_cidr_block=GKE_MASTER_CIDR,
    )
    authorized = Block("content")
    authorized.attr("cidr_block", Raw("cidr_blocks.value"))
    authorized.attr("display_name", "admin")
    mac = cluster.block("master_authorized_networks_config", gcp_public_cidrs_access_enabled=False)
    mac.add(Block("dynamic", ("cidr_blocks",), [Attr("for_each", Raw("var.admin_cidrs")), authorized]))
    cluster.block("master_auth").block("client_certificate_config", issue_client_certificate=False)
    if not plan.gke_autopilot:
        cluster.block("workload_identity_config", workload_pool=interp(Raw("var.project_id"), ".svc.id.goog"))
    cluster.block("binary_authorization", evaluation_mode="PROJECT_SINGLETON_POLICY_ENFORCE")
    cluster.block("database_encryption", state="ENCRYPTED", key_name=Raw("var.kms_key_id"))
    cluster.block("logging_config", enable_components=["SYSTEM_COMPONENTS", "WORKLOADS"])
    monitoring = cluster.block("monitoring_config", enable_components=["SYSTEM_COMPONENTS"])
    monitoring.block("managed_prometheus", enabled=True)
    if not plan.gke_autopilot:
        cluster.block("network_policy", enabled=False)
        cluster.comment("Dataplane V2 (ADVANCED_DATAPATH) enforces Kubernetes NetworkPolicy itself.")
        node_config = cluster.block("node_config")
        node_config.block("shielded_instance_config", enable_secure_boot=True, enable_integrity_monitoring=True)
        node_config.block("workload_metadata_config", mode="GKE_METADATA")
        cluster.add(lifecycle(ignore=["node_config"]))
    else:
        auto = cluster.block("cluster_autoscaling")
        auto.block("auto_provisioning_defaults", service_account=Raw("var.node_service_account_email"))
    main.append(cluster)
    if not plan.gke_autopilot:
        pool = resource("google_container_node_pool", "app", src)
        pool.attrs(
            {
                "name": "app",
                "cluster": Raw("google_container_cluster.this.id"),
                "location": Raw("var.region"),
            }
        )
        pool.block("autoscaling", total_min_node_count=Raw("var.min_nodes"), total_max_node_count=Raw("var.max_nodes"))
        pool.block("management", auto_repair=True, auto_upgrade=True)
        node = pool.block("node_config")
        node.attrs(
            {
                "machine_type": Raw("var.machine_type"),
                "image_type": "COS_CONTAINERD",
                "service_account": Raw("var.node_service_account_email"),
                "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                "labels": Raw("var.labels"),
                "metadata": {"disable-legacy-endpoints": "true"},
            }
        )
        node.block("shielded_instance_config", enable_secure_boot=True, enable_integrity_monitoring=True)
        node.block("workload_metadata_config", mode="GKE_METADATA")
        main.append(pool)
    wi = resource("google_service_account_iam_member", "workload_identity")
    wi.comment("The Kubernetes service account of the workload acts as the runtime service account.")
    wi.attrs(
        {
            "service_account_id": Raw("var.service_account_id"),
            "role": "roles/iam.workloadIdentityUser",
            "member": interp(
                "serviceAccount:",
                Raw("var.project_id"),
                ".svc.id.goog[",
                Raw("var.namespace"),
                "/",
                Raw("var.namespace"),
                "]",
            ),
        }
    )
    main.append(wi)
    main.extend(_load_balancer(model, plan))
    variables = _service_variables() + [
        variable("project_id", "string", "Project of the cluster (workload identity pool)"),
        variable("network_id", "string", "VPC network"),
        variable("subnet_id", "string", "Subnet of the nodes"),
        variable("pods_range_name", "string", "Secondary range of the pods"),
        variable("services_range_name", "string", "Secondary range of the services"),
        variable("deletion_protection", "bool", "Refuse to destroy the cluster"),
        variable("kms_key_id", "string", "Key that encrypts Kubernetes secrets in etcd"),
        variable("node_service_account_email", "string", "Service account of the nodes"),
        variable("service_account_id", "string", "Runtime service account (workload identity)"),
        variable("namespace", "string", "Kubernetes namespace and service account of the workload"),
        variable("tls_domain", "string", "DNS name of the HTTPS ingress (Google-managed certificate)"),
        variable(
            "admin_cidrs",
            "list(string)",
            "Ranges allowed to reach the cluster control plane",
            default=[],
        ),
    ]
    if not plan.gke_autopilot:
        variables += [
            variable("machine_type", "string", "Machine type of the nodes"),
            variable("min_nodes", "number", "Minimum number of nodes of the pool"),
            variable("max_nodes", "number", "Maximum number of nodes of the pool"),
        ]
    outputs = [
        output("cluster_name", Raw("google_container_cluster.this.name"), "GKE cluster"),
        output("cluster_endpoint", Raw("google_container_cluster.this.endpoint"), "Control plane endpoint", True),
        output(
            "ingress_annotations",
            {
                "kubernetes.io/ingress.global-static-ip-name": Raw("google_compute_global_address.lb.name"),
                "ingress.gcp.kubernetes.io/pre-shared-cert": Raw("google_compute_managed_ssl_certificate.this.name"),
            },
            "Annotations of the Kubernetes Ingress (static IP and managed certificate)",
        ),
        output(
            "security_policy_name",
            Raw("google_compute_security_policy.this.name"),
            "Cloud Armor policy (BackendConfig)",
        ),
        output("ssl_policy_name", Raw("google_compute_ssl_policy.this.name"), "SSL policy (FrontendConfig)"),
        output("load_balancer_ip", Raw("google_compute_global_address.lb.address"), "Address for the DNS record"),
    ]
    return Module(
        "compute",
        "GKE %s cluster (private nodes, workload identity, shielded nodes) and the ingress address, "
        "certificate, SSL policy and Cloud Armor policy." % ("Autopilot" if plan.gke_autopilot else "Standard"),
        main,
        variables,
        outputs,
        ("infrastructure.compute", "service.scaling", "security.tls.domain", "security.iam"),
    )
