# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Terraform for AWS: the root module's ``variables.tf`` (typed, described, validated)."""

from __future__ import annotations

import math
from typing import List, Tuple

from ..model import STRATEGIES
from . import common
from .hcl import q
from .terraform_aws_plan import (
    AUDIT_LOG_RETENTION_DAYS,
    CLOUDWATCH_RETENTION,
    DEFAULT_CPU_TARGET_PERCENT,
    DEFAULT_MAX_RECEIVE_COUNT,
    DEFAULT_ROTATION_DAYS,
    Context,
    Item,
    cache_node_type,
    ec2_instance_type,
    fargate_size,
    variable,
)
from .terraform_aws_plan import render as render_hcl

_SSL_POLICIES = {
    "1.3": "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "1.2": "ELBSecurityPolicy-TLS13-1-2-2021-06",
}


def _retention_validation(name: str) -> Tuple[str, str]:
    values = ", ".join(str(v) for v in CLOUDWATCH_RETENTION)
    return (
        "contains([%s], var.%s)" % (values, name),
        "%s must be a CloudWatch Logs retention: %s." % (name, values),
    )


class Variables(Context):
    """variables.tf of the root module."""

    def variable_fields(self) -> Tuple[str, ...]:
        return (
            "service.name",
            "service.ports",
            "service.image",
            "service.version",
            "service.scaling",
            "environments",
            "cloud.primary_region",
            "infrastructure",
            "security.tls",
            "security.secrets.rotation_days",
            "observability.logging.retention_days",
            "observability.thresholds",
            "observability.alert_rules",
            "rollout.canary_steps",
            "rollout.hold_seconds",
        )

    def variables(self) -> str:
        p = self.p
        model = self.model
        envs = [e.env.name for e in p.environments]
        env_list = ", ".join(q(e) for e in envs)
        tls = model.security.tls
        domain = tls.domain if tls and tls.domain else None
        ssl_policy = _SSL_POLICIES["1.3" if tls and tls.min_version == "1.3" else "1.2"]
        items: List[Item] = [
            variable(
                "project",
                "string",
                "Name of the service: the prefix of every resource name.",
                p.project,
                validations=[
                    (
                        'can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.project))',
                        "project must be 3 to 32 lower-case letters, digits or hyphens, starting with a letter.",
                    )
                ],
            ),
            variable(
                "environment",
                "string",
                "Environment this state describes (the environments of the documents).",
                has_default=False,
                validations=[
                    ("contains([%s], var.environment)" % env_list, "environment must be one of %s." % ", ".join(envs))
                ],
            ),
            variable(
                "region",
                "string",
                "AWS region of the environment.",
                p.region,
                validations=[
                    (
                        'can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))',
                        "region must be an AWS region such as us-east-1.",
                    )
                ],
            ),
            variable(
                "availability_zones",
                "list(string)",
                "Availability zones to use (empty: the first az_count zones of the region).",
                list(p.zones),
                validations=[
                    (
                        "alltrue([for z in var.availability_zones : startswith(z, var.region)])",
                        "availability_zones must be zones of var.region.",
                    ),
                    (
                        "length(var.availability_zones) == 0 || length(var.availability_zones) >= 2",
                        "The load balancer needs at least two availability zones.",
                    ),
                ],
            ),
            variable(
                "az_count",
                "number",
                "Zones to use when availability_zones is empty.",
                2,
                validations=[
                    (
                        "var.az_count >= 2 && var.az_count <= 6 && floor(var.az_count) == var.az_count",
                        "az_count must be a whole number from 2 to 6.",
                    ),
                ],
            ),
            variable(
                "vpc_cidr",
                "string",
                "CIDR block of the VPC.",
                p.vpc_cidr,
                validations=[
                    (
                        'can(cidrhost(var.vpc_cidr, 0)) && try(tonumber(split("/", var.vpc_cidr)[1]) <= 24, false)',
                        "vpc_cidr must be a CIDR block of /24 or larger, such as 10.0.0.0/16.",
                    )
                ],
            ),
            variable("nat_gateway_per_az", "bool", "One NAT gateway per zone (HA) instead of one shared.", False),
            variable(
                "deletion_protection",
                "bool",
                "Refuse to delete the load balancer and the data stores (production).",
                True,
            ),
            variable(
                "image",
                "string",
                "Image repository to run (null: the environment's ECR repository).%s"
                % (" The documents name %s." % common.image(model) if model.service.image else ""),
                default=None,
            ),
            variable(
                "image_tag",
                "string",
                "Image tag to run (a release version or commit SHA, never latest).",
                common.image_tag(model),
                validations=[
                    (
                        'length(var.image_tag) > 0 && var.image_tag != "latest"',
                        "image_tag must be a release version or commit SHA, not latest.",
                    )
                ],
            ),
            variable(
                "container_port",
                "number",
                "Port the service listens on.",
                p.port,
                validations=[
                    ("var.container_port >= 1 && var.container_port <= 65535", "container_port must be 1 to 65535.")
                ],
            ),
        ]
        items.extend(self._capacity_variables())
        items.extend(self._compute_variables())
        items.append(
            variable(
                "deployment_strategy",
                "string",
                "How this environment deploys: %s." % ", ".join(STRATEGIES),
                "rolling",
                validations=[
                    (
                        "contains([%s], var.deployment_strategy)" % ", ".join(q(s) for s in STRATEGIES),
                        "deployment_strategy must be one of %s." % ", ".join(STRATEGIES),
                    )
                ],
            )
        )
        if p.compute == "ecs" and p.traffic_split:
            steps = common.canary_steps(model)
            items.extend(
                [
                    variable(
                        "canary_percentage",
                        "number",
                        "Traffic the canary receives first (percent).",
                        steps[0] if steps[0] < 100 else 10,
                        validations=[
                            (
                                "var.canary_percentage >= 1 && var.canary_percentage <= 99",
                                "canary_percentage must be 1 to 99.",
                            ),
                        ],
                    ),
                    variable(
                        "canary_interval_minutes",
                        "number",
                        "Minutes the canary is watched before the rest of the traffic moves.",
                        max(1, math.ceil(common.hold_seconds(model) / 60.0)),
                        validations=[
                            ("var.canary_interval_minutes >= 1", "canary_interval_minutes must be at least 1.")
                        ],
                    ),
                    variable(
                        "blue_termination_wait_minutes",
                        "number",
                        "Minutes the previous colour is kept after a deployment, for a rollback.",
                        5,
                        validations=[
                            (
                                "var.blue_termination_wait_minutes >= 0 && var.blue_termination_wait_minutes <= 2880",
                                "blue_termination_wait_minutes must be 0 to 2880.",
                            )
                        ],
                    ),
                ]
            )
        items.extend(
            [
                variable(
                    "domain_name",
                    "string",
                    "Domain of the HTTPS certificate (9.5.6 TLS).",
                    domain,
                ),
                variable(
                    "certificate_arn",
                    "string",
                    "An existing ACM certificate for the HTTPS listener (null: one is requested for domain_name).",
                    None,
                    validations=[
                        (
                            "var.certificate_arn != null || var.domain_name != null",
                            "Give certificate_arn or domain_name: the HTTPS listener needs a certificate.",
                        )
                    ],
                ),
                variable(
                    "route53_zone_id",
                    "string",
                    "Route 53 zone that receives the certificate's DNS validation records (null: add them by hand).",
                    None,
                ),
                variable("ssl_policy", "string", "TLS policy of the HTTPS listener (TLS 1.2 or newer).", ssl_policy),
                variable(
                    "log_retention_days",
                    "number",
                    "Days the service's logs are kept (9.5.5).",
                    self._retention_days(),
                    validations=[_retention_validation("log_retention_days")],
                ),
                variable(
                    "audit_log_retention_days",
                    "number",
                    "Days the flow logs and WAF logs are kept.",
                    AUDIT_LOG_RETENTION_DAYS,
                    validations=[_retention_validation("audit_log_retention_days")],
                ),
                variable(
                    "access_log_retention_days",
                    "number",
                    "Days the load balancer and S3 access logs are kept.",
                    365,
                    validations=[
                        ("var.access_log_retention_days >= 1", "access_log_retention_days must be at least 1.")
                    ],
                ),
                variable(
                    "alert_emails",
                    "list(string)",
                    "Addresses that receive the alarms and budget alerts (each must confirm its subscription).",
                    [],
                    validations=[
                        (
                            'alltrue([for e in var.alert_emails : can(regex("^[^@ ]+@[^@ ]+$", e))])',
                            "alert_emails must be e-mail addresses.",
                        )
                    ],
                ),
                variable("create_budgets", "bool", "Create the AWS Budgets of 9.5.7 (account-wide: once).", False),
            ]
        )
        if p.secrets:
            rotation = model.security.secrets.rotation_days if model.security.secrets else None
            items.extend(
                [
                    variable(
                        "secret_rotation_days",
                        "number",
                        "Days between rotations of the service's secrets (9.5.6).",
                        rotation or DEFAULT_ROTATION_DAYS,
                        validations=[
                            (
                                "var.secret_rotation_days >= 1 && var.secret_rotation_days <= 1000",
                                "secret_rotation_days must be 1 to 1000.",
                            ),
                        ],
                    ),
                    variable(
                        "rotation_lambda_arn",
                        "string",
                        "Lambda function that rotates the secrets (null: no rotation schedule is created).",
                        None,
                    ),
                ]
            )
        items.extend(self._data_variables())
        items.extend(self._alarm_variables())
        return render_hcl(items)

    def _capacity_variables(self) -> List[Item]:
        s = self.sizes
        what = "concurrent executions" if self.p.compute == "lambda" else "instances"
        return [
            variable(
                "desired_count",
                "number",
                "Instances started at creation (9.5.2 replicas)."
                if self.p.compute != "lambda"
                else "Unused by Lambda (kept so that every flavour shares the tfvars).",
                max(s.min_instances, 1) if self.p.compute != "lambda" else s.min_instances,
                validations=[
                    (
                        "var.desired_count >= var.min_capacity && var.desired_count <= var.max_capacity",
                        "desired_count must lie between min_capacity and max_capacity.",
                    )
                ],
            ),
            variable(
                "min_capacity",
                "number",
                "Fewest %s autoscaling keeps." % what,
                s.min_instances,
                validations=[("var.min_capacity >= 0", "min_capacity must be 0 or more.")],
            ),
            variable(
                "max_capacity",
                "number",
                "Most %s (Lambda: the reserved concurrency)." % what,
                s.max_instances,
                validations=[
                    (
                        "var.max_capacity >= 1 && var.max_capacity >= var.min_capacity",
                        "max_capacity must be at least 1 and at least min_capacity.",
                    )
                ],
            ),
            variable(
                "cpu_target_percent",
                "number",
                "Average CPU autoscaling aims at.",
                self.model.service.scaling.target_cpu_percent or DEFAULT_CPU_TARGET_PERCENT,
                validations=[
                    (
                        "var.cpu_target_percent >= 10 && var.cpu_target_percent <= 95",
                        "cpu_target_percent must be 10 to 95.",
                    ),
                ],
            ),
        ]

    def _compute_variables(self) -> List[Item]:
        p = self.p
        s = self.sizes
        if p.compute == "ecs":
            cpu, memory = fargate_size(s.vcpu, s.memory_mib)
            return [
                variable(
                    "task_cpu",
                    "number",
                    "Fargate task CPU units (1024 = 1 vCPU).",
                    cpu,
                    validations=[
                        (
                            "contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.task_cpu)",
                            "task_cpu must be a Fargate CPU size.",
                        ),
                    ],
                ),
                variable(
                    "task_memory",
                    "number",
                    "Fargate task memory in MiB (a size valid for task_cpu).",
                    memory,
                    validations=[
                        (
                            "var.task_memory >= 512 && var.task_memory <= 122880",
                            "task_memory must be 512 to 122880 MiB.",
                        )
                    ],
                ),
            ]
        if p.compute == "ec2":
            return [variable("instance_type", "string", "EC2 instance type.", ec2_instance_type(self.model))]
        memory = max(128, min(s.memory_mib, 10240))
        return [
            variable(
                "lambda_memory_mb",
                "number",
                "Function memory in MiB (128 to 10240).",
                memory,
                validations=[
                    (
                        "var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240",
                        "lambda_memory_mb must be 128 to 10240.",
                    ),
                ],
            ),
            variable(
                "lambda_timeout_seconds",
                "number",
                "Function timeout in seconds.",
                30,
                validations=[
                    (
                        "var.lambda_timeout_seconds >= 1 && var.lambda_timeout_seconds <= 900",
                        "lambda_timeout_seconds must be 1 to 900.",
                    ),
                ],
            ),
        ]

    def _data_variables(self) -> List[Item]:
        p = self.p
        model = self.model
        items: List[Item] = []
        db = model.infrastructure.database
        if p.db in ("rds", "aurora") and db is not None:
            items.extend(
                [
                    variable(
                        "db_engine_version",
                        "string",
                        "Database engine version (9.5.1; the minor version is upgraded automatically).",
                        None if p.db == "aurora" else p.db_version,
                    ),
                    variable(
                        "db_instance_class",
                        "string",
                        "Database instance class.",
                        "db.r7g.large" if p.db == "aurora" else "db.t4g.medium",
                    ),
                    variable("db_multi_az", "bool", "A standby in a second zone (9.5.1 HA).", True),
                    variable(
                        "db_backup_retention_days",
                        "number",
                        "Days automated backups are kept (documents' retention, capped to 35).",
                        self._backup_days(),
                        validations=[
                            (
                                "var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35",
                                "db_backup_retention_days must be 1 to 35.",
                            ),
                        ],
                    ),
                    variable(
                        "db_iam_username",
                        "string",
                        "Database user the service connects as with IAM authentication.",
                        "app",
                    ),
                ]
            )
            if p.db == "rds":
                storage = db.storage_gb or 20
                items.extend(
                    [
                        variable(
                            "db_allocated_storage",
                            "number",
                            "Database storage in GB (9.5.1).",
                            storage,
                            validations=[
                                ("var.db_allocated_storage >= 20", "db_allocated_storage must be at least 20 GB.")
                            ],
                        ),
                        variable(
                            "db_max_allocated_storage",
                            "number",
                            "Ceiling of storage autoscaling in GB.",
                            max(storage * 2, 100),
                            validations=[
                                (
                                    "var.db_max_allocated_storage >= var.db_allocated_storage",
                                    "db_max_allocated_storage must be at least db_allocated_storage.",
                                )
                            ],
                        ),
                    ]
                )
        if p.dynamodb and p.replication:
            items.append(
                variable(
                    "dynamodb_replica_regions",
                    "list(string)",
                    "Regions with a replica of the table (multi-region environments).",
                    [],
                )
            )
        if p.cache:
            cache = model.infrastructure.cache
            items.extend(
                [
                    variable(
                        "cache_node_type",
                        "string",
                        "Cache node type (from the 9.5.1 memory).",
                        cache_node_type(cache.memory_mib if cache else None),
                    ),
                    variable(
                        "cache_multi_az", "bool", "A replica in a second zone with automatic failover (HA).", True
                    ),
                ]
            )
        if p.storage:
            storage_row = model.infrastructure.storage
            items.append(
                variable(
                    "storage_retention_days",
                    "number",
                    "Days an object is kept (9.5.1; null keeps objects until deleted).",
                    storage_row.retention_days if storage_row else None,
                )
            )
        if p.replication:
            items.extend(
                [
                    variable(
                        "replica_region",
                        "string",
                        "Region of the replicas (S3 cross-region replication, table replicas).",
                        p.replica_region,
                        validations=[("var.replica_region != var.region", "replica_region must differ from region.")],
                    ),
                    variable("replication_enabled", "bool", "Replicate the bucket to the replica region.", True),
                ]
            )
        if p.queue in ("sqs", "sns+sqs"):
            queue = model.infrastructure.queue
            days = queue.retention_days if queue and queue.retention_days else 4
            items.extend(
                [
                    variable(
                        "queue_retention_seconds",
                        "number",
                        "Seconds a message is kept (9.5.1 retention; at most 14 days).",
                        max(60, min(days * 86400, 1209600)),
                        validations=[
                            (
                                "var.queue_retention_seconds >= 60 && var.queue_retention_seconds <= 1209600",
                                "queue_retention_seconds must be 60 to 1209600.",
                            ),
                        ],
                    ),
                    variable(
                        "queue_max_receive_count",
                        "number",
                        "Receives before a message moves to the dead-letter queue.",
                        (queue.max_receive_count if queue and queue.max_receive_count else DEFAULT_MAX_RECEIVE_COUNT),
                        validations=[
                            (
                                "var.queue_max_receive_count >= 1 && var.queue_max_receive_count <= 1000",
                                "queue_max_receive_count must be 1 to 1000.",
                            ),
                        ],
                    ),
                ]
            )
        return items

    def _alarm_variables(self) -> List[Item]:
        items: List[Item] = []
        p95 = self._threshold("p95_latency_ms")
        if p95 is not None:
            items.append(
                variable(
                    "p95_latency_threshold_ms",
                    "number",
                    "Alarm when the p95 latency exceeds this (ms).",
                    p95,
                    validations=[("var.p95_latency_threshold_ms > 0", "p95_latency_threshold_ms must be positive.")],
                )
            )
        p99 = self._threshold("p99_latency_ms")
        if p99 is not None:
            items.append(
                variable(
                    "p99_latency_threshold_ms",
                    "number",
                    "Alarm when the p99 latency exceeds this (ms).",
                    p99,
                    validations=[("var.p99_latency_threshold_ms > 0", "p99_latency_threshold_ms must be positive.")],
                )
            )
        error = self._threshold("error_rate_ratio")
        if error is not None:
            items.append(
                variable(
                    "error_rate_threshold",
                    "number",
                    "Alarm when 5xx responses / requests exceeds this ratio (0.01 = 1%).",
                    error,
                    validations=[
                        (
                            "var.error_rate_threshold > 0 && var.error_rate_threshold < 1",
                            "error_rate_threshold must be a ratio between 0 and 1.",
                        ),
                    ],
                )
            )
        if self.p.compute != "lambda":
            rule = self._rule("cpu_utilization")
            items.append(
                variable(
                    "cpu_alarm_percent",
                    "number",
                    "Alarm when the average CPU exceeds this (percent).",
                    rule.threshold if rule and rule.threshold is not None else 85,
                    validations=[
                        (
                            "var.cpu_alarm_percent > 0 && var.cpu_alarm_percent <= 100",
                            "cpu_alarm_percent must be 1 to 100.",
                        ),
                    ],
                )
            )
        return items
