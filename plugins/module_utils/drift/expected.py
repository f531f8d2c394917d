# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the model expects in the cloud, per resource kind, for one environment.

The expected resources are the ones the generated Terraform declares, with the
values it gives them: the decisions come from the same functions the Terraform
renderers use (``terraform_aws_plan``, the GCP and Azure plans, their variable
defaults and per-environment tfvars), so a drift check and a ``terraform plan``
never disagree on what "right" is.  Names follow the renderers' naming rules
(``<project>-<environment>``); the parts only the cloud knows (the AWS account id,
the Azure subscription hash) are matched with a pattern.

What is compared, per cloud:

- AWS: the VPC (CIDR), every security group of the network module and the default
  group (the open ingress rules), the RDS instance or Aurora cluster or DynamoDB
  table (engine, version, class, storage, Multi-AZ, encryption, public access), the
  ElastiCache group (node type, nodes, Multi-AZ, encryption), the data and log
  buckets (versioning, encryption, public access block), the SQS queue and its
  dead-letter queue (retention, encryption, redrive), and the ECS service (task CPU
  and memory, autoscaling bounds), the Auto Scaling group or the Lambda function.
- GCP: the VPC network and its firewall rules, Cloud SQL (version, tier, disk, HA,
  private IP, TLS), Memorystore (tier, memory, version, in-transit encryption, AUTH,
  CMEK), the buckets (versioning, CMEK, uniform access, public access prevention)
  and the Cloud Run service (CPU, memory, scaling bounds, ingress).
- Azure: the VNet, the network security groups (inbound rules), the storage account
  (replication, customer-managed key, infrastructure encryption, TLS, public
  access, versioning), the PostgreSQL / MySQL flexible server (version, SKU,
  storage, HA, public access), Azure Cache for Redis (SKU, capacity, TLS, plain
  port), the container app (CPU, memory, replicas) and the Service Bus namespace.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..model import CLOUDS, Environment, Model
from ..render import common
from .compare import DriftError, Expectation, ExpectedResource, Want

#: Google front-end ranges of load balancer health checks (the GKE firewall rule).
GOOGLE_HEALTH_CHECK_RANGES = ("130.211.0.0/22", "35.191.0.0/16")
#: Retention of the SQS dead-letter queue (the generated Terraform's value).
DEAD_LETTER_RETENTION_SECONDS = 1209600


def cloud_of(model: Model, cloud: Optional[str]) -> str:
    """The cloud to check: the option, else the model's provider."""
    chosen = cloud or model.cloud.provider
    if not chosen:
        raise DriftError("the documents decide no cloud provider; set cloud to one of %s" % ", ".join(CLOUDS))
    if chosen not in CLOUDS:
        raise DriftError("unknown cloud %r; expected one of %s" % (chosen, ", ".join(CLOUDS)))
    return chosen


def environment_of(model: Model, name: str) -> Tuple[int, Environment]:
    """(index in the model's environments or -1 for a default one, the environment)."""
    for index, env in enumerate(model.environments):
        if env.name == name:
            return index, env
    if not model.environments:
        for env in common.DEFAULT_ENVIRONMENTS:
            if env.name == name:
                return -1, env
    known = [e.name for e in common.environments(model)]
    raise DriftError("the documents have no environment %r; expected one of %s" % (name, ", ".join(known)))


def expectation(
    model: Model,
    environment: str,
    cloud: Optional[str] = None,
    region: Optional[str] = None,
    project: Optional[str] = None,
) -> Expectation:
    """Everything ``environment`` should have in ``cloud`` (default: the model's)."""
    chosen = cloud_of(model, cloud)
    index, env = environment_of(model, environment)
    if chosen == "aws":
        return _aws(model, index, env, region)
    if chosen == "gcp":
        return _gcp(model, index, env, region, project)
    return _azure(model, index, env, region)


def _env_field(index: int, name: str) -> str:
    return "environments[%d].%s" % (index, name) if index >= 0 else ""


def short_name(name: str, limit: int) -> str:
    """The Terraform ``short_name`` rule: the name, or a prefix and six hex digits of its MD5."""
    if len(name) <= limit:
        return name
    head = name[: limit - 7]
    if head.endswith("-"):
        head = head[:-1]
    return "%s-%s" % (head, hashlib.md5(name.encode("utf-8")).hexdigest()[:6])  # noqa: S324 - a name, not a secret


def cidrsubnet(cidr: str, newbits: int, number: int) -> str:
    """Terraform's ``cidrsubnet``."""
    net = ipaddress.ip_network(cidr, strict=False)
    prefix = net.prefixlen + newbits
    size = 1 << (net.max_prefixlen - prefix)
    start = int(net.network_address) + number * size
    return str(ipaddress.ip_network((start, prefix)))


# --------------------------------------------------------------------------- AWS


def sg_rule(protocol: str, low: Optional[int], high: Optional[int], source: str) -> str:
    """An ingress rule as the AWS reader writes it: ``tcp 443 from 0.0.0.0/0``."""
    proto = {"-1": "all", "6": "tcp", "17": "udp", "1": "icmp"}.get(str(protocol), str(protocol).lower())
    if proto == "all" or low is None or low == -1:
        ports = "all"
    elif high is None or high == low:
        ports = str(low)
    else:
        ports = "%d-%d" % (low, high)
    return "%s %s from %s" % (proto, ports, source)


def _aws(model: Model, index: int, env: Environment, region: Optional[str]) -> Expectation:
    from ..render.terraform_aws_network import app_security_group
    from ..render.terraform_aws_plan import (
        DEFAULT_MAX_RECEIVE_COUNT,
        cache_node_type,
        db_instance_class,
        fargate_size,
    )
    from ..render.terraform_aws_plan import plan as aws_plan

    p = aws_plan(model)
    e = next((x for x in p.environments if x.env.name == env.name), None)
    if e is None:  # pragma: no cover - the plan has every environment of the model
        raise DriftError("no AWS plan for the environment %s" % env.name)
    name = "%s-%s" % (p.project, env.name)
    infra = model.infrastructure
    replicas = _env_field(index, "replicas") or "service.scaling.min_replicas"
    out = Expectation(
        cloud="aws",
        environment=env.name,
        service=model.service.name,
        region=region or e.region,
        scope={"Project": p.project, "Environment": env.name},
        kinds=(
            "vpc",
            "security_group",
            "db_instance",
            "db_cluster",
            "dynamodb_table",
            "elasticache_replication_group",
            "elasticache_cluster",
            "s3_bucket",
            "sqs_queue",
            "ecs_service",
            "autoscaling_group",
            "lambda_function",
        ),
        settings={"name": name, "project": p.project},
    )
    add = out.resources.append
    add(
        ExpectedResource(
            "vpc",
            name,
            {"cidr_block": Want(p.vpc_cidr, field="infrastructure.network.cidr")},
            "module.network.aws_vpc.this",
        )
    )
    net = "security.network_rules"
    groups: List[Tuple[str, List[str], str]] = [
        ("default", [], "module.network.aws_default_security_group.this"),
        (
            "%s-alb" % name,
            [sg_rule("tcp", 443, 443, "0.0.0.0/0"), sg_rule("tcp", 80, 80, "0.0.0.0/0")],
            "module.network.aws_security_group.alb",
        ),
    ]
    if app_security_group(p):
        rules = [sg_rule("tcp", p.port, p.port, "sg:%s-alb" % name)] if p.compute in ("ecs", "ec2") else []
        groups.append(("%s-app" % name, rules, "module.network.aws_security_group.app"))
    if p.db_port:
        groups.append(
            (
                "%s-database" % name,
                [sg_rule("tcp", p.db_port, p.db_port, "sg:%s-app" % name)],
                "module.network.aws_security_group.database",
            )
        )
    if p.cache_port:
        groups.append(
            (
                "%s-cache" % name,
                [sg_rule("tcp", p.cache_port, p.cache_port, "sg:%s-app" % name)],
                "module.network.aws_security_group.cache",
            )
        )
    for group, rules, address in groups:
        add(ExpectedResource("security_group", group, {"ingress": Want(rules, "set", net)}, address))

    db = infra.database
    if p.db == "rds" and db is not None:
        add(
            ExpectedResource(
                "db_instance",
                name,
                {
                    "engine": Want(p.db_engine, field="infrastructure.database.engine"),
                    "engine_version": Want(p.db_version, "version", "infrastructure.database.version"),
                    "instance_class": Want(db_instance_class(model, e.production), field="infrastructure.database"),
                    "allocated_storage": Want(db.storage_gb or 20, "at_least", "infrastructure.database.storage_gb"),
                    "multi_az": Want(bool(e.production and db.ha), field="infrastructure.database.ha"),
                    "storage_encrypted": Want(True, field="infrastructure.database"),
                    "publicly_accessible": Want(False, field="infrastructure.database"),
                },
                "module.database.aws_db_instance.this",
            )
        )
    elif p.db == "aurora" and db is not None:
        multi = bool(e.production and db.ha)
        add(
            ExpectedResource(
                "db_cluster",
                name,
                {
                    "engine": Want(
                        "aurora-postgresql" if p.db_engine == "postgres" else "aurora-mysql",
                        field="infrastructure.database.engine",
                    ),
                    "storage_encrypted": Want(True, field="infrastructure.database"),
                    "instances": Want(2 if multi else 1, field="infrastructure.database.ha"),
                },
                "module.database.aws_rds_cluster.this",
            )
        )
    elif p.db == "dynamodb":
        add(
            ExpectedResource(
                "dynamodb_table",
                name,
                {
                    "sse_enabled": Want(True, field="infrastructure.database"),
                    "billing_mode": Want("PAY_PER_REQUEST", field="infrastructure.database"),
                },
                "module.database.aws_dynamodb_table.this",
            )
        )
    elif p.db_note:
        out.skipped.append(p.db_note)

    cache = infra.cache
    if p.cache:
        ha = cache.ha if cache is not None and cache.ha is not None else env.multi_az
        multi = bool(e.production and ha)
        node = cache_node_type(cache.memory_mib if cache else None)
        cache_name = short_name(name, 30)
        if p.cache == "memcached":
            add(
                ExpectedResource(
                    "elasticache_cluster",
                    cache_name,
                    {
                        "node_type": Want(node, field="infrastructure.cache.memory_mib"),
                        "nodes": Want(2 if multi else 1, field="infrastructure.cache.ha"),
                        "transit_encryption": Want(True, field="infrastructure.cache"),
                    },
                    "module.cache.aws_elasticache_cluster.this",
                )
            )
        else:
            add(
                ExpectedResource(
                    "elasticache_replication_group",
                    cache_name,
                    {
                        "node_type": Want(node, field="infrastructure.cache.memory_mib"),
                        "nodes": Want(2 if multi else 1, field="infrastructure.cache.ha"),
                        "multi_az": Want(multi, field="infrastructure.cache.ha"),
                        "automatic_failover": Want(multi, field="infrastructure.cache.ha"),
                        "at_rest_encryption": Want(True, field="infrastructure.cache"),
                        "transit_encryption": Want(True, field="infrastructure.cache"),
                    },
                    "module.cache.aws_elasticache_replication_group.this",
                )
            )

    prefix = short_name(name, 36)
    account = r"-\d{12}"
    buckets: List[Tuple[str, str, str]] = [("logs", "AES256", "aws_s3_bucket.logs")]
    if p.storage:
        buckets.insert(0, ("data", "aws:kms", "module.storage.aws_s3_bucket.this"))
        if p.replication and e.replication:
            buckets.append(("data-replica", "aws:kms", "module.storage.aws_s3_bucket.replica[0]"))
    elif p.storage_note:
        out.skipped.append(p.storage_note)
    storage_field = "infrastructure.storage"
    for suffix, algorithm, address in buckets:
        add(
            ExpectedResource(
                "s3_bucket",
                "%s-<account-id>-%s" % (prefix, suffix),
                {
                    "versioning": Want(
                        "Enabled", field="infrastructure.storage.versioning" if suffix == "data" else ""
                    ),
                    "encryption": Want(algorithm, field=storage_field if suffix != "logs" else ""),
                    "public_access_blocked": Want(True, field=storage_field if suffix != "logs" else ""),
                },
                address,
                pattern=re.escape(prefix) + account + "-" + re.escape(suffix),
            )
        )

    queue = infra.queue
    if p.queue in ("sqs", "sns+sqs"):
        fifo = bool(queue and queue.queue_type == "fifo")
        suffix = ".fifo" if fifo else ""
        days = queue.retention_days if queue and queue.retention_days else 4
        receives = queue.max_receive_count if queue and queue.max_receive_count else DEFAULT_MAX_RECEIVE_COUNT
        add(
            ExpectedResource(
                "sqs_queue",
                name + suffix,
                {
                    "retention_seconds": Want(
                        max(60, min(days * 86400, 1209600)), field="infrastructure.queue.retention_days"
                    ),
                    "encryption": Want("kms", field="infrastructure.queue"),
                    "dead_letter_queue": Want("%s-dlq%s" % (name, suffix), field="infrastructure.queue.dead_letter"),
                    "max_receive_count": Want(receives, field="infrastructure.queue.max_receive_count"),
                },
                "module.queue.aws_sqs_queue.this",
            )
        )
        add(
            ExpectedResource(
                "sqs_queue",
                "%s-dlq%s" % (name, suffix),
                {
                    "retention_seconds": Want(DEAD_LETTER_RETENTION_SECONDS),
                    "encryption": Want("kms", field="infrastructure.queue"),
                },
                "module.queue.aws_sqs_queue.dead_letter",
            )
        )
    if p.queue in ("sns", "sns+sqs"):
        out.skipped.append("the SNS topic %s is not compared (no attribute of the documents to compare)" % name)
    elif p.queue is None and p.queue_note:
        out.skipped.append(p.queue_note)

    sizes = common.compute_sizes(model)
    bounds = {
        "min_capacity": Want(e.min_capacity, field=replicas),
        "max_capacity": Want(e.max_capacity, field="service.scaling.max_replicas"),
    }
    if p.compute == "ecs":
        cpu, memory = fargate_size(sizes.vcpu, sizes.memory_mib)
        attributes = {
            "cpu": Want(cpu, field="infrastructure.compute.vcpu"),
            "memory": Want(memory, field="infrastructure.compute.memory_mib"),
        }
        attributes.update(bounds)
        add(ExpectedResource("ecs_service", name, attributes, "module.compute.aws_ecs_service.this"))
    elif p.compute == "ec2":
        add(ExpectedResource("autoscaling_group", name, dict(bounds), "module.compute.aws_autoscaling_group.blue"))
    else:
        add(
            ExpectedResource(
                "lambda_function",
                name,
                {
                    "memory": Want(max(128, min(sizes.memory_mib, 10240)), field="infrastructure.compute.memory_mib"),
                    "reserved_concurrency": Want(e.max_capacity, field="service.scaling.max_replicas"),
                },
                "module.compute.aws_lambda_function.this",
            )
        )
    return out


# --------------------------------------------------------------------------- GCP and Azure shared


def terraform_values(variables: Sequence[Any], tfvars: Sequence[Any]) -> Dict[str, Any]:
    """The values Terraform would use: the variable defaults, then the environment's tfvars."""
    from ..render.hcl import Attr, Block

    values: Dict[str, Any] = {}
    for item in variables:
        if isinstance(item, Block) and item.type == "variable":
            for part in item.body:
                if isinstance(part, Attr) and part.name == "default":
                    values[item.labels[0]] = part.value
    for item in tfvars:
        if isinstance(item, Attr):
            values[item.name] = item.value
    return values


def _slug_of(model: Model, env: Environment) -> Tuple[str, int]:
    from ..render.terraform_gcp_support import environments as slugged

    pairs = slugged(model)
    for position, (slug, candidate) in enumerate(pairs):
        if candidate.name == env.name:
            return slug, position
    raise DriftError("no environment %s in the plan" % env.name)  # pragma: no cover


# --------------------------------------------------------------------------- GCP


def firewall_rule(protocol: str, ports: Sequence[str] = ()) -> str:
    """A firewall rule entry as the GCP reader writes it: ``tcp:443`` or ``all``."""
    proto = protocol.lower()
    if not ports:
        return proto
    return "%s:%s" % (proto, ",".join(ports))


def _gcp(model: Model, index: int, env: Environment, region: Optional[str], project: Optional[str]) -> Expectation:
    from ..render.common import label_value
    from ..render.terraform_gcp import plan_for
    from ..render.terraform_gcp_root import tfvars_items, variables_file

    plan = plan_for(model)
    slug, position = _slug_of(model, env)
    values = terraform_values(variables_file(model, plan, []), tfvars_items(model, plan, slug, env, position))
    service = str(values.get("service_name") or plan.name)
    name = "%s-%s" % (service, slug)
    out = Expectation(
        cloud="gcp",
        environment=env.name,
        service=model.service.name,
        region=region or str(values.get("region") or plan.region),
        scope={"project": label_value(model.service.name), "environment": label_value(slug), "network": name},
        kinds=("firewall", "sql_instance", "redis_instance", "storage_bucket", "cloud_run_service"),
        settings={"name": name, "project_id": project or ""},
    )
    add = out.resources.append
    add(
        ExpectedResource(
            "network",
            name,
            {
                "auto_create_subnetworks": Want(False, field="infrastructure.network"),
                "routing_mode": Want("REGIONAL", field="infrastructure.network"),
            },
            "module.network.google_compute_network.this",
        )
    )
    rules = "security.network_rules"
    add(
        ExpectedResource(
            "firewall",
            "%s-deny-ingress" % name,
            {
                "direction": Want("INGRESS", field=rules),
                "action": Want("deny", field=rules),
                "priority": Want(65534, field=rules),
                "rules": Want([firewall_rule("all")], "set", rules),
                "source_ranges": Want(["0.0.0.0/0"], "set", rules),
                "disabled": Want(False, field=rules),
            },
            "module.network.google_compute_firewall.deny_ingress",
        )
    )
    if plan.compute == "gke":
        add(
            ExpectedResource(
                "firewall",
                "%s-allow-lb" % name,
                {
                    "direction": Want("INGRESS", field=rules),
                    "action": Want("allow", field=rules),
                    "priority": Want(1000, field=rules),
                    "rules": Want([firewall_rule("tcp", [str(values.get("container_port", plan.port))])], "set", rules),
                    "source_ranges": Want(list(GOOGLE_HEALTH_CHECK_RANGES), "set", rules),
                    "disabled": Want(False, field=rules),
                },
                "module.network.google_compute_firewall.lb_health_checks",
            )
        )
        out.skipped.append("the GKE cluster and its node pools are not compared")
    else:
        add(
            ExpectedResource(
                "cloud_run_service",
                name,
                {
                    "cpu": Want(str(values.get("cpu", plan.cpu)), field="infrastructure.compute.vcpu"),
                    "memory": Want(str(values.get("memory", plan.memory)), field="infrastructure.compute.memory_mib"),
                    "min_instances": Want(values.get("min_instances"), field=_env_field(index, "replicas")),
                    "max_instances": Want(values.get("max_instances"), field="service.scaling.max_replicas"),
                    "ingress": Want("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", field="infrastructure.compute"),
                },
                "module.compute.google_cloud_run_v2_service.this",
            )
        )
    if plan.database == "cloud-sql":
        ha = bool(values.get("database_high_availability"))
        add(
            ExpectedResource(
                "sql_instance",
                name,
                {
                    "database_version": Want(plan.database_version, field="infrastructure.database.version"),
                    "tier": Want(values.get("database_tier", plan.database_tier), field="infrastructure.database"),
                    "disk_size_gb": Want(
                        values.get("database_disk_gb", plan.database_disk_gb),
                        "at_least",
                        "infrastructure.database.storage_gb",
                    ),
                    "availability_type": Want("REGIONAL" if ha else "ZONAL", field="infrastructure.database.ha"),
                    "ipv4_enabled": Want(False, field="infrastructure.database"),
                    "ssl_mode": Want("ENCRYPTED_ONLY", field="infrastructure.database"),
                    "backups_enabled": Want(True, field="backup.retention_days"),
                },
                "module.database.google_sql_database_instance.this",
            )
        )
    elif plan.database == "firestore":
        out.skipped.append("the Firestore database is not compared")
    if plan.cache:
        ha = bool(values.get("cache_high_availability"))
        add(
            ExpectedResource(
                "redis_instance",
                name,
                {
                    "tier": Want("STANDARD_HA" if ha else "BASIC", field="infrastructure.cache.ha"),
                    "memory_size_gb": Want(values.get("cache_memory_gb"), field="infrastructure.cache.memory_mib"),
                    "redis_version": Want(plan.cache_version, field="infrastructure.cache.version"),
                    "transit_encryption_mode": Want("SERVER_AUTHENTICATION", field="infrastructure.cache"),
                    "auth_enabled": Want(True, field="infrastructure.cache"),
                    "customer_managed_key": Want(True, "present", "infrastructure.cache"),
                },
                "module.cache.google_redis_instance.this",
            )
        )
    if plan.storage:
        env_part = slug[:7]
        if env_part.endswith("-"):
            env_part = env_part[:-1]
        short = "%s-%s" % (service[:12], env_part)
        shown_project = project or "<project-id>"
        dual = bool(values.get("storage_dual_region"))
        names = [("data", not dual, "google_storage_bucket.data"), ("logs", True, "google_storage_bucket.logs")]
        if plan.secondary_region and not plan.dual_region:
            names.append(("replica", False, "google_storage_bucket.replica"))
        for suffix, cmek, address in names:
            add(
                ExpectedResource(
                    "storage_bucket",
                    "%s-%s-%s" % (short, shown_project, suffix),
                    {
                        "versioning": Want(True, field="infrastructure.storage.versioning"),
                        "customer_managed_key": Want(cmek, "present", "infrastructure.storage"),
                        "uniform_access": Want(True, field="infrastructure.storage"),
                        "public_access_prevention": Want("enforced", field="infrastructure.storage"),
                        "storage_class": Want("STANDARD", field="infrastructure.storage.bucket_type"),
                    },
                    "module.storage." + address,
                    pattern=re.escape(short) + "-" + (re.escape(project) if project else "[a-z0-9-]+") + "-" + suffix,
                )
            )
    if plan.queue:
        out.skipped.append("the Pub/Sub topic and subscriptions are not compared")
    return out


# --------------------------------------------------------------------------- Azure


def nsg_rule(access: str, protocol: str, ports: Sequence[str], source: str, priority: int) -> str:
    """An inbound rule as the Azure reader writes it: ``allow Tcp 443 from Internet (100)``."""

    def key(port: str) -> Tuple[int, str]:
        head = port.split("-")[0]
        return (int(head) if head.isdigit() else -1, port)

    shown = ",".join(sorted({str(p) for p in ports}, key=key)) or "*"
    proto = "*" if protocol in ("*", "all", "All") else protocol.capitalize()
    return "%s %s %s from %s (%d)" % (access.lower(), proto, shown, source, priority)


#: The tier prefix of a flexible server SKU name in Terraform (GP_Standard_D2ds_v5).
SKU_TIERS = {"Burstable": "B", "GeneralPurpose": "GP", "MemoryOptimized": "MO"}


def _azure(model: Model, index: int, env: Environment, region: Optional[str]) -> Expectation:
    from ..render.terraform_azure import plan_for
    from ..render.terraform_azure_modules import DB_PORTS
    from ..render.terraform_azure_root import tfvars_items, variables_file

    plan = plan_for(model)
    slug, position = _slug_of(model, env)
    values = terraform_values(variables_file(model, plan, []), tfvars_items(model, plan, slug, env, position))
    service = str(values.get("service_name") or plan.name)
    name = "%s-%s" % (service, slug)
    out = Expectation(
        cloud="azure",
        environment=env.name,
        service=model.service.name,
        region=region or str(values.get("location") or plan.location),
        scope={"Project": model.service.name, "Environment": slug, "resource_group": "rg-%s" % name},
        kinds=(
            "virtual_network",
            "network_security_group",
            "storage_account",
            "postgresql_flexible_server",
            "mysql_flexible_server",
            "redis_cache",
            "container_app",
            "servicebus_namespace",
        ),
        settings={"name": name},
    )
    add = out.resources.append
    cidr = str(values.get("network_cidr"))
    add(
        ExpectedResource(
            "virtual_network",
            name,
            {"address_space": Want([cidr], "set", "infrastructure.network.cidr")},
            "module.network.azurerm_virtual_network.this",
        )
    )
    port = str(values.get("container_port", plan.port))
    gateway_prefix = cidrsubnet(cidr, 8, 0)
    app_prefix = cidrsubnet(cidr, 7, 2) if plan.compute in ("container-apps", "app-service") else cidrsubnet(cidr, 4, 1)
    app_ports = [port, "443"] if plan.compute != "aks" else [port, "80", "443"]
    groups: List[Tuple[str, List[str]]] = [
        (
            "gateway",
            [
                nsg_rule("Allow", "Tcp", ["443"], "Internet", 100),
                nsg_rule("Allow", "Tcp", ["65200-65535"], "GatewayManager", 110),
                nsg_rule("Allow", "*", ["*"], "AzureLoadBalancer", 120),
            ],
        ),
        (
            "app",
            [
                nsg_rule("Allow", "Tcp", app_ports, gateway_prefix, 100),
                nsg_rule("Allow", "*", ["*"], app_prefix, 110),
                nsg_rule("Allow", "*", ["*"], "AzureLoadBalancer", 120),
                nsg_rule("Deny", "*", ["*"], "VirtualNetwork", 4000),
            ],
        ),
        (
            "endpoints",
            [
                nsg_rule("Allow", "Tcp", ["6380", "443", "5671", "5672"], app_prefix, 100),
                nsg_rule("Deny", "*", ["*"], "VirtualNetwork", 4000),
            ],
        ),
    ]
    if plan.database == "flexible":
        db_port = str(DB_PORTS.get(plan.engine, 5432))
        groups.append(
            (
                "database",
                [
                    nsg_rule("Allow", "Tcp", [db_port], app_prefix, 100),
                    nsg_rule("Deny", "*", ["*"], "VirtualNetwork", 4000),
                ],
            )
        )
    for group, rules in groups:
        add(
            ExpectedResource(
                "network_security_group",
                "%s-%s-nsg" % (name, group),
                {"inbound": Want(rules, "set", "security.network_rules")},
                "module.network.azurerm_network_security_group.%s" % group,
            )
        )
    if plan.storage:
        compact = "st%s%s" % (service.replace("-", "")[:12], slug.replace("-", "")[:4])
        add(
            ExpectedResource(
                "storage_account",
                compact + "<unique>",
                {
                    "sku": Want(
                        "Standard_%s" % values.get("storage_replication", "ZRS"), field="infrastructure.storage"
                    ),
                    "encryption_key_source": Want("Microsoft.Keyvault", field="infrastructure.storage"),
                    "infrastructure_encryption": Want(True, field="infrastructure.storage"),
                    "https_only": Want(True, field="infrastructure.storage"),
                    "minimum_tls_version": Want("TLS1_2", field="security.tls"),
                    "public_network_access": Want("Disabled", field="infrastructure.storage"),
                    "blob_public_access": Want(False, field="infrastructure.storage"),
                    "shared_key_access": Want(False, field="infrastructure.storage"),
                    "versioning": Want(True, field="infrastructure.storage.versioning"),
                },
                "module.storage.azurerm_storage_account.this",
                pattern=re.escape(compact) + "[0-9a-f]{6}",
            )
        )
    if plan.database == "flexible":
        kind = "postgresql_flexible_server" if plan.engine == "postgresql" else "mysql_flexible_server"
        ha = bool(values.get("database_high_availability"))
        attributes = {
            "version": Want(plan.database_version, "version", "infrastructure.database.version"),
            "sku": Want(values.get("database_sku", plan.database_sku), field="infrastructure.database"),
            "high_availability": Want("ZoneRedundant" if ha else "Disabled", field="infrastructure.database.ha"),
            "public_network_access": Want("Disabled", field="infrastructure.database"),
        }
        if plan.engine == "postgresql":
            attributes["storage_gb"] = Want(plan.storage_mb // 1024, "at_least", "infrastructure.database.storage_gb")
        add(
            ExpectedResource(
                kind,
                name,
                attributes,
                "module.database.azurerm_%s.this" % kind,
            )
        )
    elif plan.database:
        out.skipped.append("the %s database is not compared" % ("Cosmos DB" if plan.database == "cosmos" else "SQL"))
    if plan.cache:
        add(
            ExpectedResource(
                "redis_cache",
                "redis-%s-<unique>" % name,
                {
                    "sku": Want(values.get("cache_sku"), field="infrastructure.cache.ha"),
                    "capacity": Want(values.get("cache_capacity"), field="infrastructure.cache.memory_mib"),
                    "minimum_tls_version": Want("1.2", field="infrastructure.cache"),
                    "non_ssl_port": Want(False, field="infrastructure.cache"),
                    "public_network_access": Want("Disabled", field="infrastructure.cache"),
                },
                "module.cache.azurerm_redis_cache.this",
                pattern="redis-" + re.escape(name) + "-[0-9a-f]{6}",
            )
        )
    if plan.compute == "container-apps":
        add(
            ExpectedResource(
                "container_app",
                name,
                {
                    "cpu": Want(float(values.get("cpu", plan.cpu)), field="infrastructure.compute.vcpu"),
                    "memory": Want(str(values.get("memory", plan.memory)), field="infrastructure.compute.memory_mib"),
                    "min_replicas": Want(values.get("min_replicas"), field=_env_field(index, "replicas")),
                    "max_replicas": Want(values.get("max_replicas"), field="service.scaling.max_replicas"),
                },
                "module.compute.azurerm_container_app.this",
            )
        )
    else:
        out.skipped.append("the %s compute is not compared" % ("AKS" if plan.compute == "aks" else "App Service"))
    if plan.queue:
        add(
            ExpectedResource(
                "servicebus_namespace",
                "sb-%s-<unique>" % name,
                {"sku": Want(values.get("queue_sku"), field="infrastructure.queue")},
                "module.queue.azurerm_servicebus_namespace.this",
                pattern="sb-" + re.escape(name) + "-[0-9a-f]{6}",
            )
        )
    return out


__all__ = [
    "SKU_TIERS",
    "cidrsubnet",
    "cloud_of",
    "environment_of",
    "expectation",
    "firewall_rule",
    "nsg_rule",
    "sg_rule",
    "short_name",
    "terraform_values",
]
