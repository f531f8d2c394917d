# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root inputs and operations of the Azure configuration: variables.tf (defaults are the
production values), environments/<env>.tfvars, the scheduled query alerts from the
model's thresholds and the resource-group budgets of 9.5.7."""

from __future__ import annotations

from typing import Any, List, Optional

from ..model import Model
from . import common
from .hcl import Attr, Comment, Raw, expr, ident
from .terraform_azure_modules import AzurePlan
from .terraform_gcp_support import (
    REQUIRED,
    Item,
    backup_retention_days,
    budgets,
    cidr,
    env_region,
    env_scaling,
    interp,
    is_production,
    lifecycle,
    multi_region,
    note,
    number,
    resource,
    threshold_alerts,
    validation,
    variable,
)

#: Azure Cache for Redis sizes (GB) of the C (Basic/Standard) and P (Premium) families.
_REDIS_C = [0.25, 1, 2.5, 6, 13, 26, 53]
_REDIS_P = [6, 13, 26, 53, 120]
_WINDOWS = [
    (60, "PT1M"),
    (300, "PT5M"),
    (600, "PT10M"),
    (900, "PT15M"),
    (1800, "PT30M"),
    (2700, "PT45M"),
    (3600, "PT1H"),
]


def _list_expr(values: List[str]) -> str:
    return expr(values, 1)


def variables_file(model: Model, plan: AzurePlan, required_env: List[str]) -> List[Item]:
    prod_env = model.production or common.environments(model)[-1]
    low, high = env_scaling(model, prod_env)
    net, from_docs = cidr(model)
    if int(net.split("/")[1]) > 16:
        net, from_docs = "10.0.0.0/16", False
    tls = model.security.tls
    secrets = model.security.secrets
    storage = model.infrastructure.storage
    queue = model.infrastructure.queue
    db = model.infrastructure.database
    cache = model.infrastructure.cache
    logging_days = model.observability.logging.retention_days if model.observability.logging else None
    out: List[Item] = [
        variable(
            "subscription_id",
            "string",
            "Azure subscription of the environment",
            validations=[
                validation(
                    'can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.subscription_id))',
                    "subscription_id must be a subscription GUID.",
                )
            ],
        ),
        variable(
            "location",
            "string",
            "Azure region of the resources",
            default=plan.location,
            validations=[
                validation('can(regex("^[a-z]+[a-z0-9]*$", var.location))', "location must be an Azure region name.")
            ],
        ),
        variable(
            "environment",
            "string",
            "Environment name (part of every resource name and tag)",
            validations=[
                validation(
                    'can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.environment)) && length(var.environment) <= 12',
                    "environment must be lower case letters, digits and single hyphens, at most 12 characters.",
                )
            ],
        ),
        variable(
            "service_name",
            "string",
            "Name of the service (prefix of every resource name)",
            default=plan.name,
            validations=[
                validation(
                    'can(regex("^[a-z][a-z0-9-]{1,28}[a-z0-9]$", var.service_name))',
                    "service_name must be 3-30 lower case letters, digits or hyphens.",
                )
            ],
        ),
        variable(
            "image",
            "string",
            "Container image with its tag; null uses the registry of this configuration",
            default=image_default(model),
            nullable=True,
            validations=[
                validation(
                    'var.image == null ? true : !endswith(var.image, ":latest")',
                    "image must name a version, never latest.",
                )
            ],
        ),
        variable(
            "container_port",
            "number",
            "Port the service listens on",
            default=plan.port,
            validations=[
                validation("var.container_port > 0 && var.container_port < 65536", "container_port must be a TCP port.")
            ],
        ),
        variable(
            "network_cidr",
            "string",
            "IPv4 range of the VNet" + ("" if from_docs else " (the documents give none: a private default)"),
            default=net,
            validations=[validation("can(cidrhost(var.network_cidr, 0))", "network_cidr must be an IPv4 range.")],
        ),
        variable("zones", "list(string)", "Availability zones of the zonal resources", default=plan.zones),
        variable(
            "min_replicas",
            "number",
            "Minimum replicas (9.5.2)",
            default=low,
            validations=[validation("var.min_replicas >= 0", "min_replicas cannot be negative.")],
        ),
        variable(
            "max_replicas",
            "number",
            "Maximum replicas",
            default=high,
            validations=[validation("var.max_replicas >= 1", "max_replicas must be at least 1.")],
        ),
        variable("high_availability", "bool", "Zone redundancy of the compute layer (production)", default=True),
        variable("gateway_min_capacity", "number", "Minimum Application Gateway instances", default=2),
        variable(
            "tls_domain",
            "string",
            "DNS name served over HTTPS" + ("" if tls and tls.domain else "; the documents give none"),
            default=(tls.domain if tls and tls.domain else REQUIRED),
            validations=[
                validation(
                    'can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?[.])+[a-z]{2,}$", var.tls_domain))',
                    "tls_domain must be a DNS name.",
                )
            ],
        ),
        variable(
            "tls_certificate_secret_id",
            "string",
            "Key Vault secret id of the certificate for tls_domain (imported into the vault of this configuration)",
        ),
        variable(
            "deployer_ip_ranges",
            "list(string)",
            "Public ranges of the machines that run Terraform (the Key Vault firewall admits only these)",
            default=[],
        ),
        variable(
            "log_retention_days",
            "number",
            "Days Log Analytics keeps logs (9.5.5 logging retention)",
            default=max(30, min(730, logging_days or 30)),
            validations=[
                validation(
                    "var.log_retention_days >= 30 && var.log_retention_days <= 730",
                    "log_retention_days must be 30 to 730.",
                )
            ],
        ),
        variable(
            "secret_rotation_days",
            "number",
            "Days until generated secrets and keys expire and are rotated (9.5.6)",
            default=(secrets.rotation_days if secrets and secrets.rotation_days else 90),
            validations=[validation("var.secret_rotation_days >= 1", "secret_rotation_days must be positive.")],
        ),
        variable("alert_email_addresses", "list(string)", "Who receives alerts and budget notifications", default=[]),
    ]
    if plan.compute == "container-apps":
        out += [
            variable("cpu", "number", "vCPU of a replica (9.5.1, in 0.25 steps)", default=plan.cpu),
            variable("memory", "string", "Memory of a replica (twice the vCPU in Gi)", default=plan.memory),
        ]
    elif plan.compute == "aks":
        out += [
            variable("vm_size", "string", "VM size of the application nodes (9.5.1)", default=plan.vm_size),
            variable("system_min_nodes", "number", "Minimum system nodes", default=3),
        ]
    if plan.database == "flexible":
        out += [
            variable("database_sku", "string", "Database server SKU", default=plan.database_sku),
            variable(
                "database_high_availability",
                "bool",
                "Zone-redundant standby (9.5.1 HA, production only)",
                default=bool(db and db.ha),
            ),
            variable("database_password_version", "number", "Increase to generate and store a new password", default=1),
        ]
    if plan.database:
        days = backup_retention_days(model)
        out.append(
            variable(
                "backup_retention_days",
                "number",
                "Days backups are kept (the documents' retention, within the service's 7-35 days)",
                default=max(7, min(35, days)),
                validations=[
                    validation(
                        "var.backup_retention_days >= 7 && var.backup_retention_days <= 35",
                        "backup_retention_days must be 7 to 35.",
                    )
                ],
            )
        )
    if plan.database == "sql":
        out.append(variable("sql_admin_group_object_id", "string", "Entra ID group that administers Azure SQL"))
    if plan.cache:
        out += [
            variable(
                "cache_sku",
                "string",
                "Standard (replicated) or Premium (zone redundant, 9.5.1 HA)",
                default="Premium" if cache and cache.ha else "Standard",
            ),
            variable(
                "cache_capacity",
                "number",
                "Cache size within its family (9.5.1 memory)",
                default=redis_size(model, bool(cache and cache.ha)),
            ),
        ]
    if plan.storage:
        out += [
            variable(
                "storage_retention_days",
                "number",
                "Days blobs are kept (9.5.1 retention)",
                default=(storage.retention_days if storage and storage.retention_days else 365),
                validations=[validation("var.storage_retention_days >= 1", "storage_retention_days must be positive.")],
            ),
            variable(
                "storage_replication",
                "string",
                "ZRS, or GZRS when the documents ask for a second region",
                default="GZRS" if (storage and storage.replication) or multi_region(model) else "ZRS",
                validations=[
                    validation(
                        'contains(["LRS", "ZRS", "GRS", "GZRS", "RAGZRS"], var.storage_replication)',
                        "storage_replication must be a replication type.",
                    )
                ],
            ),
        ]
    if plan.queue:
        out += [
            variable(
                "queue_sku",
                "string",
                "Service Bus tier (Premium in production or when the documents say so)",
                default=service_bus_sku(model, prod_env),
            ),
            variable(
                "queue_retention_days",
                "number",
                "Days messages live (9.5.1 retention)",
                default=(queue.retention_days if queue and queue.retention_days else 14),
                validations=[validation("var.queue_retention_days >= 1", "queue_retention_days must be positive.")],
            ),
        ]
    out.append(
        variable(
            "app_env",
            "map(string)",
            "Values of environment variables the documents leave to the operator"
            + ((": " + ", ".join(required_env) + " are required") if required_env else ""),
            default={},
            validations=[
                validation(
                    "alltrue([for name in %s : contains(keys(var.app_env), name)])" % _list_expr(required_env),
                    "app_env must give every required variable: %s." % ", ".join(required_env),
                )
            ]
            if required_env
            else [],
        )
    )
    return out


def image_default(model: Model) -> Optional[str]:
    ref = model.service.image or ""
    if ".azurecr.io/" in ref:
        return "%s:%s" % (common.image(model), common.image_tag(model))
    return None


def redis_size(model: Model, premium: bool) -> int:
    cache = model.infrastructure.cache
    gb = (cache.memory_mib / 1024.0) if cache and cache.memory_mib else 1.0
    sizes = _REDIS_P if premium else _REDIS_C
    for index, size in enumerate(sizes):
        if size >= gb:
            return index + 1 if premium else index
    return len(sizes) if premium else len(sizes) - 1


def service_bus_sku(model: Model, env: Any) -> str:
    queue = model.infrastructure.queue
    if queue is not None and "premium" in (queue.service or "").lower():
        return "Premium"
    return "Premium" if is_production(model, env) and env.multi_az else "Standard"


def query_window(seconds: int) -> str:
    for limit, text in _WINDOWS:
        if seconds <= limit:
            return text
    return "PT1H"


def alert_rules(model: Model) -> List[Item]:
    items: List[Item] = []
    for metric, value, seconds, severity, path in threshold_alerts(model):
        title = {
            "p95_latency_ms": "p95 latency above %s ms" % number(value),
            "p99_latency_ms": "p99 latency above %s ms" % number(value),
            "error_rate_ratio": "error rate above %s%%" % number(round(value * 100, 4)),
            "availability_percent": "availability below %s%%" % number(value),
        }[metric]
        query, operator = {
            "p95_latency_ms": ("requests | summarize value = percentile(duration, 95)", "GreaterThan"),
            "p99_latency_ms": ("requests | summarize value = percentile(duration, 99)", "GreaterThan"),
            "error_rate_ratio": (
                "requests | summarize value = todouble(countif(success == false)) / count()",
                "GreaterThan",
            ),
            "availability_percent": (
                "requests | summarize value = 100.0 * todouble(countif(success == true)) / count()",
                "LessThan",
            ),
        }[metric]
        window = query_window(seconds)
        alert = resource("azurerm_monitor_scheduled_query_rules_alert_v2", ident(metric), note(model, path))
        alert.attrs(
            {
                "name": interp(Raw("local.name"), "-" + metric.replace("_", "-")),
                "resource_group_name": Raw("azurerm_resource_group.this.name"),
                "location": Raw("var.location"),
                "description": "%s (%s). Thresholds come from the documents: change them there." % (title, path),
                "scopes": [Raw("azurerm_application_insights.this.id")],
                "severity": 1 if severity == "critical" else 2,
                "evaluation_frequency": "PT5M" if window != "PT1M" else "PT1M",
                "window_duration": window,
                "auto_mitigation_enabled": True,
                "tags": Raw("local.tags"),
            }
        )
        criteria = alert.block(
            "criteria",
            query=query,
            time_aggregation_method="Maximum",
            metric_measure_column="value",
            operator=operator,
            threshold=number(value),
        )
        criteria.block("failing_periods", minimum_failing_periods_to_trigger_alert=1, number_of_evaluation_periods=1)
        alert.block("action", action_groups=[Raw("azurerm_monitor_action_group.this.id")])
        items.append(alert)
    return items


def budget_resources(model: Model) -> List[Item]:
    items: List[Item] = []
    for key, amount, thresholds, path in budgets(model):
        budget = resource("azurerm_consumption_budget_resource_group", ident(key, "budget"), note(model, path))
        budget.attrs(
            {
                "name": interp(Raw("local.name"), "-" + key[:40]),
                "resource_group_id": Raw("azurerm_resource_group.this.id"),
                "amount": number(amount),
                "time_grain": "Monthly",
            }
        )
        budget.block("time_period", start_date=Raw("formatdate(\"YYYY-MM-01'T'00:00:00Z\", plantimestamp())"))
        if key != "total":
            budget.comment("Cost of the resources tagged component = %s." % key)
            budget.block("filter").block("tag", name="component", values=[key[:256]])
        for percent in sorted(set(thresholds)):
            budget.block(
                "notification",
                enabled=True,
                threshold=number(percent),
                operator="GreaterThanOrEqualTo",
                threshold_type="Actual",
                contact_emails=Raw("var.alert_email_addresses"),
                contact_groups=[Raw("azurerm_monitor_action_group.this.id")],
                contact_roles=["Owner"],
            )
        budget.comment("The budget starts in the month of its creation.")
        budget.add(lifecycle(ignore=["time_period"]))
        items.append(budget)
    return items


def tfvars_items(model: Model, plan: AzurePlan, slug: str, env: Any, index: int) -> List[Any]:
    prod = is_production(model, env)
    low, high = env_scaling(model, env)
    db = model.infrastructure.database
    cache = model.infrastructure.cache
    items: List[Any] = []
    src = note(model, "environments[%d]" % index)
    if src:
        items.append(Comment(src))
    items.append(Attr("environment", slug))
    items.append(Attr("location", env_region(model, env, "azure", plan.location)))
    items.append(Attr("min_replicas", low))
    items.append(Attr("max_replicas", high))
    items.append(Attr("high_availability", prod))
    items.append(Attr("gateway_min_capacity", 2 if prod else 1))
    if plan.compute == "aks":
        items.append(Attr("system_min_nodes", 3 if prod else 1))
    if plan.database == "flexible":
        items.append(Attr("database_high_availability", bool(prod and db and db.ha)))
    if plan.cache:
        premium = bool(prod and cache and cache.ha)
        items.append(Attr("cache_sku", "Premium" if premium else "Standard"))
        items.append(Attr("cache_capacity", redis_size(model, premium)))
    if plan.queue:
        items.append(Attr("queue_sku", service_bus_sku(model, env)))
    return items
