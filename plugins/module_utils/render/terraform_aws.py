# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Terraform for AWS: ``render(model, cloud) -> FileSet``.

Layout (the root module is applied once per environment)::

    versions.tf  providers.tf  backend.tf  variables.tf  main.tf  outputs.tf
    environments/<env>.tfvars            one per environment of 9.5.2
    modules/network/                     always: VPC, subnets, NAT, flow logs, security groups
    modules/compute/                     always: ECR, ALB + WAF, and ECS Fargate, EC2 ASG or Lambda
    modules/database|cache|storage|queue only when the documents ask for one

The root holds what every module shares or what spans modules: the KMS key, the
log bucket, the Secrets Manager secrets of the sensitive settings, the service's
IAM policy (its own queue, bucket, table, cache), the certificate, the alarms
and the budgets.  Any model renders: documents written for GCP or Azure map to
the nearest AWS services (see ``terraform_aws_plan``).
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Tuple

from ..fileset import FileSet, GeneratedFile
from ..model import Model
from . import common
from . import terraform_aws_compute as compute_module
from . import terraform_aws_data as data_module
from . import terraform_aws_network as network_module
from .hcl import Block, Comment, expr
from .terraform_aws_monitoring import Monitoring
from .terraform_aws_plan import (
    EnvPlan,
    Item,
    ec2_instance_type,
    fargate_size,
    interp,
    note,
    output,
    ref,
    versions_block,
)
from .terraform_aws_plan import (
    plan as make_plan,
)
from .terraform_aws_plan import (
    render as render_hcl,
)
from .terraform_aws_root import MainParts
from .terraform_aws_variables import Variables


def render(model: Model, cloud: str) -> FileSet:
    """The Terraform configuration for AWS of one model (``cloud`` is always ``aws`` here)."""
    p = make_plan(model)
    files = FileSet()
    root = _Root(p)
    for path, content, fields in root.files():
        files.add(GeneratedFile(path, content, "terraform", fields))
    module_fields = {
        "network": ("infrastructure.network", "security.network_rules", "service.ports"),
        "compute": (
            "infrastructure.compute",
            "service.ports",
            "service.health",
            "service.env",
            "environments",
            "security.tls",
        ),
        "database": ("infrastructure.database", "backup.retention_days"),
        "cache": ("infrastructure.cache",),
        "storage": ("infrastructure.storage", "environments"),
        "queue": ("infrastructure.queue",),
    }
    builders = [("network", network_module.files), ("compute", compute_module.files)]
    if p.db in ("rds", "aurora", "dynamodb"):
        builders.append(("database", data_module.database))
    if p.cache:
        builders.append(("cache", data_module.cache))
    if p.storage:
        builders.append(("storage", data_module.storage))
    if p.queue:
        builders.append(("queue", data_module.queue))
    for name, builder in builders:
        for path, content in builder(p).items():
            files.add(GeneratedFile(path, content, "terraform", module_fields[name]))
    return files


class _Root(Variables, MainParts, Monitoring):
    """The root module's files."""

    def files(self) -> List[Tuple[str, str, Tuple[str, ...]]]:
        p = self.p
        out: List[Tuple[str, str, Tuple[str, ...]]] = [
            ("versions.tf", render_hcl([versions_block(False)]), ("iac_provider",)),
            ("providers.tf", self.providers(), ("traceability.req", "service.name", "environments")),
            ("backend.tf", self.backend(), ("service.name",)),
            ("variables.tf", self.variables(), self.variable_fields()),
            ("main.tf", self.main(), self.main_fields()),
            ("outputs.tf", self.outputs(), ("service.name", "security.tls.domain")),
        ]
        for env in p.environments:
            out.append(
                (
                    "environments/%s.tfvars" % env.env.name,
                    self.tfvars(env),
                    (
                        "environments",
                        "infrastructure.compute",
                        "infrastructure.database.ha",
                        "infrastructure.network.zones",
                        "service.scaling",
                    ),
                )
            )
        return out

    def providers(self) -> str:
        tags: Dict[str, Any] = {}
        for key, value in common.tags(self.model).items():
            tags[key] = value
        tags["Project"] = ref("var.project")
        tags["Environment"] = ref("var.environment")
        items: List[Item] = [
            Comment("Every resource carries the project, environment, manager and requirement tags."),
        ]
        provider = Block("provider", ("aws",))
        provider.attr("region", ref("var.region"))
        provider.block("default_tags").attr("tags", tags)
        items.append(provider)
        if self.p.replication:
            items.append(Comment("The replica region: S3 cross-region replication and multi-region data."))
            replica = Block("provider", ("aws",))
            replica.attr("alias", "replica")
            replica.attr("region", ref("var.replica_region"))
            replica.block("default_tags").attr("tags", tags)
            items.append(replica)
        return render_hcl(items)

    def backend(self) -> str:
        text = (
            "Remote state in S3, as a partial configuration: the bucket and its region are given at init,\n"
            "for example\n"
            '  terraform init -backend-config="bucket=<state bucket>" -backend-config="region=<region>"\n'
            "Keep one state per environment: a workspace per environment (terraform workspace select <env>)\n"
            'or -backend-config="key=%s/<env>/terraform.tfstate".\n'
            "encrypt: server-side encryption of the state; use_lockfile: S3-native locking (no DynamoDB table)."
            % self.p.project
        )
        terraform = Block("terraform")
        backend = terraform.block("backend", "s3")
        backend.attr("key", "%s/terraform.tfstate" % self.p.project)
        backend.attr("encrypt", True)
        backend.attr("use_lockfile", True)
        return render_hcl([Comment(text), terraform])

    def main(self) -> str:
        p = self.p
        items: List[Item] = [
            Block("data", ("aws_caller_identity", "current")),
            Block("data", ("aws_partition", "current")),
            Comment(
                "Zones by name, a to f: the set cannot grow when AWS adds a zone, so subnets never move.\n"
                "Used only when var.availability_zones is empty."
            ),
            self._zones_data(),
            Comment("The AWS account that delivers load balancer access logs in this region."),
            Block("data", ("aws_elb_service_account", "this")),
        ]
        items.append(self._locals())
        items.extend(self._kms())
        items.extend(self._log_bucket())
        items.extend(self._secrets())
        items.extend(self._certificate())
        items.extend(self._modules())
        items.extend(self._app_policy())
        items.extend(self._alerts())
        items.extend(self._budgets())
        notes = [n for n in (p.db_note, p.storage_note, p.queue_note) if n]
        if notes:
            items.insert(0, Comment("Not generated:\n" + "\n".join("- " + n for n in notes)))
        return render_hcl(items)

    def outputs(self) -> str:
        p = self.p
        items: List[Item] = [
            output("vpc_id", ref("module.network.vpc_id"), "ID of the VPC."),
            output("load_balancer_dns_name", ref("module.compute.alb_dns_name"), "DNS name of the load balancer."),
            output(
                "service_url",
                interp("https://", ref("coalesce(var.domain_name, module.compute.alb_dns_name)")),
                "HTTPS address of the service (point the domain at the load balancer).",
            ),
            output(
                "certificate_validation_records",
                ref(
                    "var.certificate_arn == null ? [for o in aws_acm_certificate.this[0].domain_validation_options : "
                    "{ name = o.resource_record_name, type = o.resource_record_type, "
                    "value = o.resource_record_value }] : []"
                ),
                "DNS records that validate the certificate (create them when route53_zone_id is not given).",
            ),
            output(
                "ecr_repository_url", ref("module.compute.ecr_repository_url"), "Repository the pipeline pushes to."
            ),
            output("log_group_name", ref("module.compute.log_group_name"), "Log group of the service."),
            output("kms_key_arn", ref("aws_kms_key.this.arn"), "KMS key of the environment."),
            output("alerts_topic_arn", ref("aws_sns_topic.alerts.arn"), "Topic of the alarms and budget alerts."),
            output("access_log_bucket", ref("aws_s3_bucket.logs.id"), "Bucket of the access logs."),
        ]
        if p.secrets:
            items.append(
                output("secret_arns", ref("local.secret_arns"), "Secrets to fill in (names -> ARNs; no values).")
            )
        if p.compute == "ecs":
            items.append(output("cluster_name", ref("module.compute.cluster_name"), "ECS cluster."))
            items.append(output("service_name", ref("module.compute.service_name"), "ECS service."))
        elif p.compute == "ec2":
            items.append(
                output("autoscaling_group_name", ref("module.compute.autoscaling_group_name"), "Auto Scaling group.")
            )
        else:
            items.append(output("function_name", ref("module.compute.function_name"), "Lambda function."))
        if p.db in ("rds", "aurora"):
            items.extend(
                [
                    output("database_endpoint", ref("module.database.endpoint"), "Database host."),
                    output("database_port", ref("module.database.port"), "Database port."),
                    output(
                        "database_master_secret_arn",
                        ref("module.database.master_user_secret_arn"),
                        "Secret holding the master password, managed by RDS.",
                    ),
                ]
            )
        elif p.dynamodb:
            items.append(output("table_name", ref("module.database.table_name"), "DynamoDB table."))
        if p.cache:
            items.append(output("cache_endpoint", ref("module.cache.endpoint"), "Cache endpoint (TLS)."))
        if p.storage:
            items.append(output("bucket_name", ref("module.storage.bucket_id"), "Data bucket."))
        if p.queue in ("sqs", "sns+sqs"):
            items.append(output("queue_url", ref("module.queue.queue_url"), "Queue URL."))
            items.append(
                output("dead_letter_queue_url", ref("module.queue.dead_letter_queue_url"), "Dead-letter queue URL.")
            )
        if p.queue in ("sns", "sns+sqs"):
            items.append(output("topic_arn", ref("module.queue.topic_arn"), "Topic ARN."))
        return render_hcl(items)

    def tfvars(self, e: EnvPlan) -> str:
        p = self.p
        model = self.model
        env = e.env
        index = next((i for i, x in enumerate(model.environments) if x is env), None)
        items: List[Item] = []
        if index is not None:
            items.extend(note(model, "environments[%d]" % index))
        items.append(
            Comment(
                "%s: %s, %s replica(s)%s"
                % (env.label or env.name, env.strategy or "rolling", e.desired, ", HA" if e.ha else "")
            )
        )
        values: List[Tuple[str, Any]] = [
            ("environment", env.name),
            ("region", e.region),
            ("availability_zones", list(e.zones)),
            ("az_count", e.az_count),
            ("nat_gateway_per_az", e.ha),
            ("deletion_protection", e.production),
            ("deployment_strategy", env.strategy or "rolling"),
            ("desired_count", e.desired if p.compute != "lambda" else e.min_capacity),
            ("min_capacity", e.min_capacity),
            ("max_capacity", e.max_capacity),
        ]
        s = self.sizes
        if p.compute == "ecs":
            cpu, memory = fargate_size(s.vcpu, s.memory_mib)
            values.extend([("task_cpu", cpu), ("task_memory", memory)])
            if p.traffic_split and env.strategy in ("blue-green", "canary"):
                steps = common.canary_steps(model, env)
                values.append(("canary_percentage", steps[0] if steps[0] < 100 else 10))
                values.append(("canary_interval_minutes", max(1, math.ceil(common.hold_seconds(model) / 60.0))))
                rollback = env.rollback_seconds or 300
                values.append(("blue_termination_wait_minutes", max(1, math.ceil(rollback / 60.0))))
        elif p.compute == "ec2":
            values.append(("instance_type", ec2_instance_type(model)))
        else:
            values.append(("lambda_memory_mb", max(128, min(s.memory_mib, 10240))))
        db = model.infrastructure.database
        if p.db in ("rds", "aurora"):
            from .terraform_aws_plan import db_instance_class

            values.append(("db_instance_class", db_instance_class(model, e.production)))
            values.append(("db_multi_az", bool(e.production and db is not None and db.ha)))
        if p.cache:
            cache = model.infrastructure.cache
            ha = cache.ha if cache and cache.ha is not None else env.multi_az
            values.append(("cache_multi_az", bool(e.production and ha)))
        if p.replication:
            values.append(("replication_enabled", e.replication))
            if e.replica_regions:
                values.append(("replica_region", e.replica_regions[0]))
            if p.dynamodb:
                values.append(("dynamodb_replica_regions", list(e.replica_regions)))
        values.append(("create_budgets", e.production))
        return render_hcl(items) + _aligned(values)


def _aligned(values: List[Tuple[str, Any]]) -> str:
    """Top-level ``name = value`` lines, aligned the way terraform fmt aligns them."""
    lines: List[str] = []
    run: List[Tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _value in run), default=0)
        lines.extend("%s = %s" % (k.ljust(width), v) for k, v in run)
        run.clear()

    for name, value in values:
        text = expr(value)
        if "\n" in text:
            flush()
            lines.append("%s = %s" % (name, text))
        else:
            run.append((name, text))
    flush()
    return "\n".join(lines) + "\n"


__all__ = ["render"]
