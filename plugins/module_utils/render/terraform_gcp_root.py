# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Root inputs and operations of the GCP configuration: variables.tf (defaults are the
production values), environments/<env>.tfvars, the monitoring alert policies from the
model's thresholds and the billing budgets of 9.5.7."""

from __future__ import annotations

import math
import re
from typing import Any, List, Optional

from ..model import Model
from . import common
from .hcl import Attr, Comment, Raw, ident
from .monitoring_yaml import probe_matchers, probe_paths, route_label
from .terraform_gcp_modules import GcpPlan
from .terraform_gcp_support import (
    REQUIRED,
    Item,
    backup_retention_days,
    budgets,
    cidr,
    cross_region_backup,
    env_region,
    env_scaling,
    gib,
    interp,
    is_production,
    note,
    number,
    resource,
    threshold_alerts,
    validation,
    variable,
)


def region_continent(region: str) -> Optional[str]:
    for prefix, multi in (("us-", "US"), ("northamerica-", "US"), ("europe-", "EU"), ("asia-", "ASIA")):
        if region.startswith(prefix):
            return multi
    return None


def variables_file(model: Model, plan: GcpPlan, required_env: List[str]) -> List[Item]:
    prod_env = model.production or common.environments(model)[-1]
    low, high = env_scaling(model, prod_env)
    net, from_docs = cidr(model)
    db = model.infrastructure.database
    cache = model.infrastructure.cache
    storage = model.infrastructure.storage
    queue = model.infrastructure.queue
    tls = model.security.tls
    secrets = model.security.secrets
    out: List[Item] = [
        variable(
            "project_id",
            "string",
            "Google Cloud project of the environment",
            validations=[
                validation(
                    'can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))',
                    "project_id must be a Google Cloud project id.",
                )
            ],
        ),
        variable(
            "region",
            "string",
            "Region of the resources",
            default=plan.region,
            validations=[
                validation('can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))', "region must be a Google Cloud region.")
            ],
        ),
        variable(
            "environment",
            "string",
            "Environment name (part of every resource name and label)",
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
            "Container image with its tag; null uses the Artifact Registry repository of this configuration",
            default=image_default(model),
            validations=[
                validation(
                    'var.image == null ? true : !endswith(var.image, ":latest")',
                    "image must name a version, never latest.",
                )
            ],
            nullable=True,
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
            "IPv4 range of the VPC" + ("" if from_docs else " (the documents give none: a private default)"),
            default=net,
            validations=[validation("can(cidrhost(var.network_cidr, 0))", "network_cidr must be an IPv4 range.")],
        ),
        variable(
            "min_instances",
            "number",
            "Minimum number of instances (9.5.2 replicas)",
            default=low,
            validations=[validation("var.min_instances >= 0", "min_instances cannot be negative.")],
        ),
        variable(
            "max_instances",
            "number",
            "Maximum number of instances",
            default=high,
            validations=[validation("var.max_instances >= 1", "max_instances must be at least 1.")],
        ),
        variable(
            "deletion_protection",
            "bool",
            "Refuse to destroy stateful resources (on in production)",
            default=True,
        ),
        variable(
            "tls_domain",
            "string",
            "DNS name served over HTTPS (Google-managed certificate)"
            + ("" if tls and tls.domain else "; the documents give none"),
            default=(tls.domain if tls and tls.domain else REQUIRED),
            validations=[
                validation(
                    'can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?[.])+[a-z]{2,}$", var.tls_domain))',
                    "tls_domain must be a DNS name.",
                )
            ],
        ),
        variable(
            "notification_channel_ids",
            "list(string)",
            "Cloud Monitoring notification channels of the alerts and budgets",
            default=[],
        ),
    ]
    if plan.compute == "cloud-run":
        out += [
            variable(
                "cpu",
                "string",
                "CPU of an instance (9.5.1 vCPU, rounded up to a Cloud Run size)",
                default=plan.cpu,
                validations=[
                    validation('contains(["1", "2", "4", "6", "8"], var.cpu)', "cpu must be 1, 2, 4, 6 or 8.")
                ],
            ),
            variable(
                "memory",
                "string",
                "Memory of an instance (9.5.1)",
                default=plan.memory,
                validations=[validation('can(regex("^[0-9]+(Mi|Gi)$", var.memory))', "memory must look like 2048Mi.")],
            ),
        ]
    else:
        out += [
            variable("machine_type", "string", "Machine type of the nodes", default=plan.machine_type),
            variable(
                "min_nodes",
                "number",
                "Minimum number of nodes",
                default=max(1, low),
                validations=[validation("var.min_nodes >= 1", "min_nodes must be at least 1.")],
            ),
            variable(
                "max_nodes",
                "number",
                "Maximum number of nodes",
                default=max(1, high),
                validations=[validation("var.max_nodes >= 1", "max_nodes must be at least 1.")],
            ),
            variable("admin_cidrs", "list(string)", "Ranges allowed to reach the GKE control plane", default=[]),
        ]
    if plan.database == "cloud-sql":
        out += [
            variable("database_tier", "string", "Cloud SQL machine tier", default=plan.database_tier),
            variable(
                "database_disk_gb",
                "number",
                "Cloud SQL disk size in GB (9.5.1 storage)",
                default=plan.database_disk_gb,
                validations=[validation("var.database_disk_gb >= 10", "database_disk_gb must be at least 10.")],
            ),
            variable(
                "database_high_availability",
                "bool",
                "Regional Cloud SQL instance (9.5.1 HA, production only)",
                default=bool(db and db.ha),
            ),
            variable(
                "database_password_version",
                "number",
                "Increase to generate and store a new database password",
                default=1,
            ),
            variable(
                "backup_location",
                "string",
                "Where Cloud SQL backups are kept (a multi-region when the documents ask for a cross-region copy)",
                default=(region_continent(plan.region) or plan.region).lower()
                if cross_region_backup(model)
                else plan.region,
            ),
        ]
    if plan.database:
        out.append(
            variable(
                "backup_retention_days",
                "number",
                "Days backups are kept (the documents' retention)",
                default=backup_retention_days(model),
                validations=[
                    validation(
                        "var.backup_retention_days >= 1 && var.backup_retention_days <= 365",
                        "backup_retention_days must be between 1 and 365.",
                    )
                ],
            )
        )
    if plan.cache:
        out += [
            variable(
                "cache_memory_gb",
                "number",
                "Memorystore memory in GB (9.5.1)",
                default=gib(cache.memory_mib if cache else None, 1),
                validations=[validation("var.cache_memory_gb >= 1", "cache_memory_gb must be at least 1.")],
            ),
            variable(
                "cache_high_availability",
                "bool",
                "Standard tier with a replica (9.5.1 HA, production only)",
                default=bool(cache and cache.ha),
            ),
        ]
    if plan.storage:
        out.append(
            variable(
                "storage_retention_days",
                "number",
                "Days objects are kept (9.5.1 retention)",
                default=(storage.retention_days if storage and storage.retention_days else 365),
                validations=[validation("var.storage_retention_days >= 1", "storage_retention_days must be positive.")],
            )
        )
        if plan.dual_region:
            out.append(variable("storage_dual_region", "bool", "Dual-region data bucket (multi-region)", default=True))
    if plan.queue:
        out.append(
            variable(
                "queue_retention_days",
                "number",
                "Days messages are kept (9.5.1 retention)",
                default=min(31, (queue.retention_days if queue and queue.retention_days else 7)),
                validations=[
                    validation(
                        "var.queue_retention_days >= 1 && var.queue_retention_days <= 31",
                        "queue_retention_days must be between 1 and 31.",
                    )
                ],
            )
        )
    if secrets and secrets.rotation_days:
        out.append(
            variable(
                "secret_rotation_days",
                "number",
                "Days between rotation notifications of every secret (9.5.6)",
                default=secrets.rotation_days,
                validations=[validation("var.secret_rotation_days >= 1", "secret_rotation_days must be positive.")],
            )
        )
    if budgets(model):
        out.append(
            variable(
                "billing_account",
                "string",
                "Billing account that holds the budgets (9.5.7)",
                validations=[
                    validation(
                        'can(regex("^[A-F0-9]{6}-[A-F0-9]{6}-[A-F0-9]{6}$", var.billing_account))',
                        "billing_account must look like 012345-6789AB-CDEF01.",
                    )
                ],
            )
        )
    app_env = variable(
        "app_env",
        "map(string)",
        "Values of environment variables the documents leave to the operator"
        + ((": " + ", ".join(required_env) + " are required") if required_env else ""),
        default={},
        validations=[
            validation(
                "alltrue([for name in %s : contains(keys(var.app_env), name)])"
                % ("[" + ", ".join('"%s"' % n for n in required_env) + "]"),
                "app_env must give every required variable: %s." % ", ".join(required_env),
            )
        ]
        if required_env
        else [],
    )
    out.append(app_env)
    return out


def image_default(model: Model) -> Optional[str]:
    ref = model.service.image or ""
    if "-docker.pkg.dev/" in ref or ref.startswith("gcr.io/"):
        return "%s:%s" % (common.image(model), common.image_tag(model))
    return None


def alert_policies(model: Model, plan: GcpPlan) -> List[Item]:
    items: List[Item] = []
    obs_note = note(model, "observability.thresholds")
    for metric, value, seconds, severity, path in threshold_alerts(model):
        policy = resource("google_monitoring_alert_policy", ident(metric), note(model, path) or obs_note)
        title = {
            "p95_latency_ms": "p95 latency above %s ms" % number(value),
            "p99_latency_ms": "p99 latency above %s ms" % number(value),
            "error_rate_ratio": "error rate above %s%%" % number(round(value * 100, 4)),
            "availability_percent": "availability below %s%%" % number(value),
        }[metric]
        policy.attrs(
            {
                "display_name": interp(Raw("local.name"), ": " + title),
                "combiner": "OR",
                "severity": "CRITICAL" if severity == "critical" else "WARNING",
                "notification_channels": Raw("var.notification_channel_ids"),
                "user_labels": Raw("local.labels"),
            }
        )
        condition = policy.block("conditions", display_name=title)
        if plan.compute == "cloud-run" and metric.endswith("latency_ms"):
            threshold = condition.block("condition_threshold")
            threshold.attrs(
                {
                    "filter": interp(
                        'resource.type = "cloud_run_revision" AND resource.labels.service_name = "',
                        Raw("local.name"),
                        '" AND metric.type = "run.googleapis.com/request_latencies"',
                    ),
                    "comparison": "COMPARISON_GT",
                    "threshold_value": number(value),
                    "duration": "%ds" % seconds,
                }
            )
            threshold.block(
                "aggregations",
                alignment_period="60s",
                per_series_aligner="ALIGN_PERCENTILE_95" if metric.startswith("p95") else "ALIGN_PERCENTILE_99",
                cross_series_reducer="REDUCE_MAX",
                group_by_fields=["resource.label.service_name"],
            )
        else:
            query = promql(model, plan, metric, value)
            condition.block(
                "condition_prometheus_query_language", query=query, duration="%ds" % seconds, evaluation_interval="60s"
            )
        policy.block(
            "documentation",
            content="%s (%s). Thresholds come from the documents: change them there." % (title, path),
            mime_type="text/markdown",
        )
        items.append(policy)
    return items


def promql(model: Model, plan: GcpPlan, metric: str, value: float) -> Raw:
    """A PromQL query (Cloud Run system metrics, or the service's own metrics on GKE)."""
    probes = probe_paths(model.service.health)
    if plan.compute == "cloud-run":
        sel = 'monitored_resource="cloud_run_revision",service_name="'
        errors = (
            "sum(rate(run_googleapis_com:request_count{%s" % sel,
            Raw("local.name"),
            '",response_code_class="5xx"}[5m]))',
        )
        total = ("sum(rate(run_googleapis_com:request_count{%s" % sel, Raw("local.name"), '"}[5m]))')
    else:
        counter, status, route = "http_requests_total", "status", ""
        for definition in model.observability.metric_definitions:
            if definition.type == "counter" and "request" in definition.name and definition.name.endswith("_total"):
                counter = definition.name
                route = route_label(definition.labels)
                for label in definition.labels:
                    if label in ("status", "code", "status_code"):
                        status = label
                break
        if not re.match(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$", counter):
            counter, route = "http_requests_total", ""
        # the service's traffic, not its probes (a starting pod answers its readiness checks with 503)
        traffic = probe_matchers(route, probes)
        errors = ('sum(rate(%s{cluster="' % counter, Raw("local.name"), '"%s,%s=~"5.."}[5m]))' % (traffic, status))
        total = ('sum(rate(%s{cluster="' % counter, Raw("local.name"), '"%s}[5m]))' % traffic)
    if metric == "error_rate_ratio":
        return interp(*errors, " / ", *total, " > %s" % number(value))
    if metric == "availability_percent":
        return interp("(1 - ", *errors, " / ", *total, ") * 100 < %s" % number(value))
    quantile = "0.95" if metric.startswith("p95") else "0.99"
    histogram, route = "http_request_duration_seconds", ""
    for definition in model.observability.metric_definitions:
        if definition.type == "histogram" and re.match(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$", definition.name):
            histogram, route = definition.name, route_label(definition.labels)
            break
    return interp(
        'histogram_quantile(%s, sum by (le) (rate(%s_bucket{cluster="' % (quantile, histogram),
        Raw("local.name"),
        '"%s}[5m]))) * 1000 > %s' % (probe_matchers(route, probes), number(value)),
    )


def budget_resources(model: Model) -> List[Item]:
    items: List[Item] = []
    currency = re.sub(r"[^A-Z]", "", (model.cost.currency or "USD").upper())[:3] or "USD"
    for key, amount, thresholds, path in budgets(model):
        budget = resource("google_billing_budget", ident(key, "budget"), note(model, path))
        budget.attrs(
            {
                "billing_account": Raw("var.billing_account"),
                "display_name": interp(Raw("local.name"), "-" + key[:40]),
            }
        )
        filt = budget.block("budget_filter")
        filt.attr("projects", [interp("projects/", Raw("data.google_project.this.number"))])
        filt.attr("calendar_period", "MONTH")
        label = budget_filter_label(key)
        if label:
            filt.comment("Spend of the resources labelled component = %s." % label)
            filt.attr("labels", {"component": label[:63]})
        units = math.floor(amount)
        nanos = round((amount - units) * 1e9)
        specified = budget.block("amount").block("specified_amount", currency_code=currency, units=str(units))
        if nanos:
            specified.attr("nanos", nanos)
        for percent in sorted(set(thresholds)):
            budget.block(
                "threshold_rules", threshold_percent=number(round(percent / 100.0, 4)), spend_basis="CURRENT_SPEND"
            )
        budget.block(
            "all_updates_rule",
            monitoring_notification_channels=Raw("var.notification_channel_ids"),
            disable_default_iam_recipients=False,
        )
        items.append(budget)
    return items


def budget_filter_label(key: str) -> Optional[str]:
    return None if key == "total" else key


def tfvars_items(model: Model, plan: GcpPlan, slug: str, env: Any, index: int = 0) -> List[Any]:
    prod = is_production(model, env)
    low, high = env_scaling(model, env)
    db = model.infrastructure.database
    cache = model.infrastructure.cache
    items: List[Any] = []
    src = note(model, "environments[%d]" % index)
    if src:
        items.append(Comment(src))
    items.append(Attr("environment", slug))
    items.append(Attr("region", env_region(model, env, "gcp", plan.region)))
    items.append(Attr("min_instances", low))
    items.append(Attr("max_instances", high))
    if plan.compute == "gke":
        items.append(Attr("min_nodes", max(1, low)))
        items.append(Attr("max_nodes", max(1, high)))
    items.append(Attr("deletion_protection", prod))
    if plan.database == "cloud-sql":
        items.append(Attr("database_high_availability", bool(prod and db and db.ha)))
    if plan.cache:
        items.append(Attr("cache_high_availability", bool(prod and cache and cache.ha)))
    if plan.dual_region:
        items.append(Attr("storage_dual_region", bool(env.multi_region)))
    return items
