# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Terraform for AWS: the root module's ``main.tf`` pieces: locals, KMS key, log bucket,
secrets, certificate, module calls and the service's own IAM policy."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from . import common
from . import terraform_aws_network as network_module
from .hcl import Block, Comment, jsonencode
from .terraform_aws_plan import (
    Context,
    Item,
    cache_version,
    interp,
    note,
    policy_document,
    providers_map,
    ref,
    resource,
    short_name,
    skip,
)


class MainParts(Context):
    """The parts of main.tf that are not monitoring."""

    def main_fields(self) -> Tuple[str, ...]:
        return (
            "service.name",
            "service.env",
            "service.ports",
            "service.health",
            "infrastructure",
            "security.secrets",
            "security.tls",
            "security.iam",
            "observability.thresholds",
            "observability.targets",
            "observability.alert_rules",
            "cost.budgets",
            "cost.total_monthly_usd",
            "backup.retention_days",
            "environments",
        )

    def _zones_data(self) -> Block:
        block = Block("data", ("aws_availability_zones", "available"))
        block.attr("state", "available")
        block.block(
            "filter",
            name="zone-name",
            values=ref('[for letter in ["a", "b", "c", "d", "e", "f"] : "${var.region}${letter}"]'),
        )
        return block

    def _environment_values(self) -> Tuple[Dict[str, Any], List[str]]:
        """Non-sensitive settings: wired to the generated resources where the name says
        so, else the documents' default; settings with neither are listed."""
        p = self.p
        values: Dict[str, Any] = {}
        unset: List[str] = []
        for env in self.model.service.env:
            if env.sensitive:
                continue
            name = env.name.upper()
            wired: Any = None
            if p.queue in ("sqs", "sns+sqs") and "QUEUE" in name:
                wired = ref("module.queue.queue_url")
            elif p.queue in ("sns", "sns+sqs") and "TOPIC" in name:
                wired = ref("module.queue.topic_arn")
            elif p.storage and "BUCKET" in name:
                wired = ref("module.storage.bucket_id")
            elif p.dynamodb and "TABLE" in name:
                wired = ref("module.database.table_name")
            elif p.cache and ("REDIS" in name or "CACHE" in name or "VALKEY" in name or "MEMCACHE" in name):
                if name.endswith(("URL", "URI")):
                    scheme = "rediss" if p.cache != "memcached" else "memcached"
                    wired = interp(scheme + "://", ref("module.cache.endpoint"), ":", ref("module.cache.port"))
                elif name.endswith(("HOST", "ENDPOINT")):
                    wired = ref("module.cache.endpoint")
                elif name.endswith(("ADDR", "ADDRESS")):
                    wired = interp(ref("module.cache.endpoint"), ":", ref("module.cache.port"))
            elif (
                p.db in ("rds", "aurora")
                and name.startswith(("DB_", "DATABASE_"))
                and name.endswith(("HOST", "ENDPOINT"))
            ):
                wired = ref("module.database.endpoint")
            if wired is not None:
                values[env.name] = wired
            elif env.default is not None:
                values[env.name] = env.default
            else:
                unset.append(env.name)
        return values, unset

    def _locals(self) -> Block:
        p = self.p
        values, unset = self._environment_values()
        block = Block("locals")
        block.attrs(
            {
                "name": interp(ref("var.project"), "-", ref("var.environment")),
                "bucket_name": short_name("local.name", 36),
                "account_id": ref("data.aws_caller_identity.current.account_id"),
                "partition": ref("data.aws_partition.current.partition"),
                "availability_zones": ref(
                    "length(var.availability_zones) > 0 ? var.availability_zones : "
                    "slice(data.aws_availability_zones.available.names, 0, var.az_count)"
                ),
                "bucket_prefix": interp(ref("local.bucket_name"), "-", ref("local.account_id")),
                "certificate_arn": ref(
                    "var.certificate_arn != null ? var.certificate_arn : "
                    "aws_acm_certificate_validation.this[0].certificate_arn"
                ),
            }
        )
        block.comment("Settings of the service (service.env): plain values only; secrets are in secret_arns.")
        if unset:
            block.comment("Set by hand (no default in the documents and no generated resource): %s." % ", ".join(unset))
        block.attr("environment_variables", values)
        if p.secrets:
            block.attr("secret_arns", ref("{ for k, s in aws_secretsmanager_secret.env : k => s.arn }"))
        else:
            block.attr("secret_arns", {})
        return block

    def _kms(self) -> List[Item]:
        policy = jsonencode(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AccountAdministersKey",
                        "Effect": "Allow",
                        "Principal": {
                            "AWS": interp("arn:", ref("local.partition"), ":iam::", ref("local.account_id"), ":root")
                        },
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Sid": "CloudWatchLogsEncrypt",
                        "Effect": "Allow",
                        "Principal": {"Service": interp("logs.", ref("var.region"), ".amazonaws.com")},
                        "Action": [
                            "kms:Encrypt*",
                            "kms:Decrypt*",
                            "kms:ReEncrypt*",
                            "kms:GenerateDataKey*",
                            "kms:Describe*",
                        ],
                        "Resource": "*",
                        "Condition": {
                            "ArnLike": {
                                "kms:EncryptionContext:aws:logs:arn": interp(
                                    "arn:",
                                    ref("local.partition"),
                                    ":logs:",
                                    ref("var.region"),
                                    ":",
                                    ref("local.account_id"),
                                    ":*",
                                )
                            }
                        },
                    },
                    {
                        "Sid": "ServicesPublishEncryptedMessages",
                        "Effect": "Allow",
                        "Principal": {
                            "Service": ["cloudwatch.amazonaws.com", "budgets.amazonaws.com", "sns.amazonaws.com"]
                        },
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                        "Resource": "*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": ref("local.account_id")}},
                    },
                ],
            }
        )
        key = resource(
            "aws_kms_key",
            "this",
            {
                "description": interp(ref("local.name"), ": logs, data, messages, secrets and images"),
                "enable_key_rotation": True,
                "deletion_window_in_days": 30,
                "policy": policy,
            },
        )
        items: List[Item] = [
            Comment("One customer-managed key per environment encrypts everything the service stores."),
            key,
            resource(
                "aws_kms_alias",
                "this",
                {"name": interp("alias/", ref("local.name")), "target_key_id": ref("aws_kms_key.this.key_id")},
            ),
        ]
        if self.p.replication:
            replica = resource(
                "aws_kms_key",
                "replica",
                {
                    "provider": ref("aws.replica"),
                    "description": interp(ref("local.name"), ": replicas in the replica region"),
                    "enable_key_rotation": True,
                    "deletion_window_in_days": 30,
                    "policy": jsonencode(
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Sid": "AccountAdministersKey",
                                    "Effect": "Allow",
                                    "Principal": {
                                        "AWS": interp(
                                            "arn:", ref("local.partition"), ":iam::", ref("local.account_id"), ":root"
                                        )
                                    },
                                    "Action": "kms:*",
                                    "Resource": "*",
                                }
                            ],
                        }
                    ),
                },
            )
            items.append(Comment("The key of the replica region (S3 replica bucket, table replicas)."))
            items.append(replica)
        return items

    def _log_bucket(self) -> List[Item]:
        bucket = resource("aws_s3_bucket", "logs", {"bucket": interp(ref("local.bucket_prefix"), "-logs")})
        skip(bucket, "CKV_AWS_18", "this is the access log bucket; logging it into itself would loop")
        skip(bucket, "CKV_AWS_144", "access logs are not replicated; they expire after access_log_retention_days")
        skip(bucket, "CKV_AWS_145", "ALB access logs and S3 server access logs can only be delivered to SSE-S3 buckets")
        items: List[Item] = [
            Comment(
                "Access logs of the load balancer and of the data bucket (SSE-S3: the only encryption they accept)."
            ),
            bucket,
        ]

        def add(rtype: str, attrs: Dict[str, Any]) -> Block:
            block = resource(rtype, "logs", {"bucket": ref("aws_s3_bucket.logs.id")})
            block.attrs(attrs)
            items.append(block)
            return block

        own = add("aws_s3_bucket_ownership_controls", {})
        own.block("rule", object_ownership="BucketOwnerEnforced")
        add(
            "aws_s3_bucket_public_access_block",
            {
                "block_public_acls": True,
                "block_public_policy": True,
                "ignore_public_acls": True,
                "restrict_public_buckets": True,
            },
        )
        add("aws_s3_bucket_versioning", {}).block("versioning_configuration", status="Enabled")
        sse = add("aws_s3_bucket_server_side_encryption_configuration", {})
        sse.block("rule").block("apply_server_side_encryption_by_default", sse_algorithm="AES256")
        lifecycle = add("aws_s3_bucket_lifecycle_configuration", {})
        rule = lifecycle.block("rule", id="expire-logs", status="Enabled")
        rule.block("filter")
        rule.block("expiration", days=ref("var.access_log_retention_days"))
        rule.block("noncurrent_version_expiration", noncurrent_days=30)
        rule.block("abort_incomplete_multipart_upload", days_after_initiation=7)
        add("aws_s3_bucket_notification", {"eventbridge": True})
        statements: List[Dict[str, Any]] = [
            {
                "sid": "LoadBalancerAccessLogs",
                "actions": ["s3:PutObject"],
                "resources": [
                    interp(
                        ref("aws_s3_bucket.logs.arn"),
                        "/alb/",
                        ref("local.name"),
                        "/AWSLogs/",
                        ref("local.account_id"),
                        "/*",
                    )
                ],
                "principals": [("AWS", [ref("data.aws_elb_service_account.this.arn")])],
            },
            {
                "sid": "LoadBalancerLogDelivery",
                "actions": ["s3:PutObject"],
                "resources": [
                    interp(
                        ref("aws_s3_bucket.logs.arn"),
                        "/alb/",
                        ref("local.name"),
                        "/AWSLogs/",
                        ref("local.account_id"),
                        "/*",
                    )
                ],
                "principals": [("Service", ["logdelivery.elasticloadbalancing.amazonaws.com"])],
            },
        ]
        statements.extend(self._server_access_log_statements())
        deny: Dict[str, Any] = {
            "sid": "DenyInsecureTransport",
            "effect": "Deny",
            "actions": ["s3:*"],
            "resources": [ref("aws_s3_bucket.logs.arn"), interp(ref("aws_s3_bucket.logs.arn"), "/*")],
            "principals": [("AWS", ["*"])],
            "conditions": [("Bool", "aws:SecureTransport", ["false"])],
        }
        statements.append(deny)
        items.append(policy_document("logs", statements))
        items.append(
            Comment(
                "The modules get the bucket name from this policy (aws_s3_bucket_policy.logs.bucket), so that\n"
                "access logging is switched on only once the log delivery services may write."
            )
        )
        add("aws_s3_bucket_policy", {"policy": ref("data.aws_iam_policy_document.logs.json")})
        return items

    def _server_access_log_statements(self) -> List[Dict[str, Any]]:
        """S3 server access logs of the data bucket, into its own prefix only."""
        if not self.p.storage:
            return []
        return [
            {
                "sid": "S3ServerAccessLogs",
                "actions": ["s3:PutObject"],
                "resources": [
                    interp(ref("aws_s3_bucket.logs.arn"), "/s3-access/", ref("local.bucket_prefix"), "-data/*")
                ],
                "principals": [("Service", ["logging.s3.amazonaws.com"])],
                "conditions": [("StringEquals", "aws:SourceAccount", [ref("local.account_id")])],
            }
        ]

    def _secrets(self) -> List[Item]:
        p = self.p
        if not p.secrets:
            return []
        items: List[Item] = [
            Comment("Secret settings of the service: Terraform creates the secrets, never their values.")
        ]
        for index, env in enumerate(self.model.service.env):
            if env.sensitive:
                source = common.source_note(self.model, "service.env[%d]" % index)
                items.append(Comment("%s%s" % (env.name, (": " + source) if source else "")))
        secret = resource("aws_secretsmanager_secret", "env")
        secret.attr(
            "for_each",
            {e.name: (e.description or "%s of the service" % e.name) for e in p.secrets},
        )
        secret.attrs(
            {
                "name": interp(
                    ref("var.project"), "/", ref("var.environment"), "/", ref('lower(replace(each.key, "_", "-"))')
                ),
                "description": ref("each.value"),
                "kms_key_id": ref("aws_kms_key.this.arn"),
                "recovery_window_in_days": 30,
            }
        )
        rotation = self.model.security.secrets
        if not rotation or not rotation.rotation_days:
            skip(secret, "CKV2_AWS_57", "the documents set no rotation; give rotation_lambda_arn to rotate")
        else:
            skip(
                secret,
                "CKV2_AWS_57",
                "rotation (every var.secret_rotation_days days) needs the rotation function of the secret's owner, "
                "given as rotation_lambda_arn",
            )
        items.append(secret)
        items.extend(note(self.model, "security.secrets.rotation_days"))
        rot = resource(
            "aws_secretsmanager_secret_rotation",
            "env",
            {
                "for_each": ref("var.rotation_lambda_arn == null ? {} : aws_secretsmanager_secret.env"),
                "secret_id": ref("each.value.id"),
                "rotation_lambda_arn": ref("var.rotation_lambda_arn"),
            },
        )
        rot.block("rotation_rules", automatically_after_days=ref("var.secret_rotation_days"))
        items.append(rot)
        return items

    def _certificate(self) -> List[Item]:
        items: List[Item] = []
        items.extend(note(self.model, "security.tls.domain"))
        cert = resource(
            "aws_acm_certificate",
            "this",
            {
                "count": ref("var.certificate_arn == null ? 1 : 0"),
                "domain_name": ref("var.domain_name"),
                "validation_method": "DNS",
            },
        )
        cert.block("options", certificate_transparency_logging_preference="ENABLED")
        cert.block("lifecycle", create_before_destroy=True)
        items.append(cert)
        items.append(Comment("DNS validation records, when the Route 53 zone is given (else see the output)."))
        records = resource("aws_route53_record", "certificate_validation")
        records.attrs(
            {
                "for_each": ref(
                    "var.certificate_arn == null && var.route53_zone_id != null ? { for o in "
                    "aws_acm_certificate.this[0].domain_validation_options : o.domain_name => o } : {}"
                ),
                "zone_id": ref("var.route53_zone_id"),
                "name": ref("each.value.resource_record_name"),
                "type": ref("each.value.resource_record_type"),
                "records": [ref("each.value.resource_record_value")],
                "ttl": 300,
                "allow_overwrite": True,
            }
        )
        items.append(records)
        items.append(
            resource(
                "aws_acm_certificate_validation",
                "this",
                {
                    "count": ref("var.certificate_arn == null ? 1 : 0"),
                    "certificate_arn": ref("aws_acm_certificate.this[0].arn"),
                    "validation_record_fqdns": ref("[for r in aws_route53_record.certificate_validation : r.fqdn]"),
                },
            )
        )
        return items

    def _modules(self) -> List[Item]:
        p = self.p
        model = self.model
        items: List[Item] = []
        items.extend(note(model, "infrastructure.network"))
        network = Block("module", ("network",))
        network.attrs(
            {
                "source": "./modules/network",
                "name": ref("local.name"),
                "region": ref("var.region"),
                "vpc_cidr": ref("var.vpc_cidr"),
                "availability_zones": ref("local.availability_zones"),
                "nat_gateway_per_az": ref("var.nat_gateway_per_az"),
                "kms_key_arn": ref("aws_kms_key.this.arn"),
                "flow_log_retention_days": ref("var.audit_log_retention_days"),
                "app_port": ref("var.container_port"),
                "database_port": p.db_port,
                "cache_port": p.cache_port,
            }
        )
        items.append(network)

        items.extend(note(model, "infrastructure.compute"))
        compute = Block("module", ("compute",))
        compute.attrs(
            {
                "source": "./modules/compute",
                "name": ref("local.name"),
                "region": ref("var.region"),
                "vpc_id": ref("module.network.vpc_id"),
                "public_subnet_ids": ref("module.network.public_subnet_ids"),
                "private_subnet_ids": ref("module.network.private_subnet_ids"),
                "alb_security_group_id": ref("module.network.alb_security_group_id"),
                "app_security_group_id": ref("module.network.app_security_group_id")
                if network_module.app_security_group(p)
                else None,
                "kms_key_arn": ref("aws_kms_key.this.arn"),
                "log_bucket_id": ref("aws_s3_bucket_policy.logs.bucket"),
                "log_retention_days": ref("var.log_retention_days"),
                "audit_log_retention_days": ref("var.audit_log_retention_days"),
                "certificate_arn": ref("local.certificate_arn"),
                "ssl_policy": ref("var.ssl_policy"),
                "deletion_protection": ref("var.deletion_protection"),
                "app_port": ref("var.container_port"),
                "health_check_path": common.readiness_path(model),
                "liveness_path": common.liveness_path(model),
                "image": ref("var.image"),
                "image_tag": ref("var.image_tag"),
                "environment_variables": ref("local.environment_variables"),
                "secret_arns": ref("local.secret_arns"),
                "app_policy_json": ref("data.aws_iam_policy_document.app.json"),
                "desired_count": ref("var.desired_count"),
                "min_capacity": ref("var.min_capacity"),
                "max_capacity": ref("var.max_capacity"),
                "cpu_target_percent": ref("var.cpu_target_percent"),
                "deployment_strategy": ref("var.deployment_strategy"),
            }
        )
        if p.compute == "ecs":
            compute.attrs({"task_cpu": ref("var.task_cpu"), "task_memory": ref("var.task_memory")})
            if p.traffic_split:
                names = [ref("aws_cloudwatch_metric_alarm.%s.alarm_name" % a) for a in self._rollback_alarms()]
                compute.attrs(
                    {
                        "rollback_alarm_names": names,
                        "canary_percentage": ref("var.canary_percentage"),
                        "canary_interval_minutes": ref("var.canary_interval_minutes"),
                        "blue_termination_wait_minutes": ref("var.blue_termination_wait_minutes"),
                    }
                )
        elif p.compute == "ec2":
            compute.attr("instance_type", ref("var.instance_type"))
        else:
            compute.attrs({"memory_size": ref("var.lambda_memory_mb"), "timeout": ref("var.lambda_timeout_seconds")})
        items.append(compute)

        db = model.infrastructure.database
        if p.db in ("rds", "aurora") and db is not None:
            items.extend(note(model, "infrastructure.database"))
            database = Block("module", ("database",))
            database.attrs(
                {
                    "source": "./modules/database",
                    "name": ref("local.name"),
                    "engine_version": ref("var.db_engine_version"),
                    "instance_class": ref("var.db_instance_class"),
                    "port": p.db_port,
                    "subnet_ids": ref("module.network.private_subnet_ids"),
                    "security_group_id": ref("module.network.database_security_group_id"),
                    "kms_key_arn": ref("aws_kms_key.this.arn"),
                    "multi_az": ref("var.db_multi_az"),
                    "deletion_protection": ref("var.deletion_protection"),
                    "backup_retention_days": ref("var.db_backup_retention_days"),
                }
            )
            if p.db == "rds":
                database.attrs(
                    {
                        "allocated_storage": ref("var.db_allocated_storage"),
                        "max_allocated_storage": ref("var.db_max_allocated_storage"),
                    }
                )
            items.append(database)
        elif p.dynamodb:
            items.extend(note(model, "infrastructure.database"))
            database = Block("module", ("database",))
            database.attrs(
                {
                    "source": "./modules/database",
                    "name": ref("local.name"),
                    "kms_key_arn": ref("aws_kms_key.this.arn"),
                    "deletion_protection": ref("var.deletion_protection"),
                }
            )
            if p.replication:
                database.attrs(
                    {
                        "replica_regions": ref("var.dynamodb_replica_regions"),
                        "replica_kms_key_arn": ref("aws_kms_key.replica.arn"),
                    }
                )
            items.append(database)
        if p.cache:
            cache = model.infrastructure.cache
            items.extend(note(model, "infrastructure.cache"))
            block = Block("module", ("cache",))
            block.attrs(
                {
                    "source": "./modules/cache",
                    "name": short_name("local.name", 30),
                    "engine_version": cache_version(p.cache, cache.version if cache else None),
                    "node_type": ref("var.cache_node_type"),
                    "port": p.cache_port,
                    "subnet_ids": ref("module.network.private_subnet_ids"),
                    "security_group_id": ref("module.network.cache_security_group_id"),
                    "kms_key_arn": ref("aws_kms_key.this.arn"),
                    "multi_az": ref("var.cache_multi_az"),
                }
            )
            if p.cache != "memcached":
                block.attr("log_retention_days", ref("var.log_retention_days"))
            items.append(block)
        if p.storage:
            items.extend(note(model, "infrastructure.storage"))
            block = Block("module", ("storage",))
            block.attrs(
                {
                    "source": "./modules/storage",
                    "bucket_name": interp(ref("local.bucket_prefix"), "-data"),
                    "kms_key_arn": ref("aws_kms_key.this.arn"),
                    "log_bucket_id": ref("aws_s3_bucket_policy.logs.bucket"),
                    "retention_days": ref("var.storage_retention_days"),
                }
            )
            if p.replication:
                block.attrs(
                    {
                        "replication_enabled": ref("var.replication_enabled"),
                        "replica_kms_key_arn": ref("aws_kms_key.replica.arn"),
                        "providers": providers_map([("aws", "aws"), ("aws.replica", "aws.replica")]),
                    }
                )
            items.append(block)
        if p.queue:
            items.extend(note(model, "infrastructure.queue"))
            block = Block("module", ("queue",))
            block.attrs(
                {
                    "source": "./modules/queue",
                    "name": ref("local.name"),
                    "kms_key_arn": ref("aws_kms_key.this.arn"),
                }
            )
            if p.queue in ("sqs", "sns+sqs"):
                block.attrs(
                    {
                        "retention_seconds": ref("var.queue_retention_seconds"),
                        "max_receive_count": ref("var.queue_max_receive_count"),
                    }
                )
            items.append(block)
        return items

    def _app_policy(self) -> List[Item]:
        """The service's own permissions: its key, queue, bucket, table, database user, cache user."""
        p = self.p
        statements: List[Dict[str, Any]] = [
            {
                "sid": "UseServiceKey",
                "actions": ["kms:Decrypt", "kms:GenerateDataKey"],
                "resources": [ref("aws_kms_key.this.arn")],
            }
        ]
        if p.queue in ("sqs", "sns+sqs"):
            statements.append(
                {
                    "sid": "OwnQueue",
                    "actions": [
                        "sqs:SendMessage",
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:ChangeMessageVisibility",
                        "sqs:GetQueueAttributes",
                        "sqs:GetQueueUrl",
                    ],
                    "resources": [ref("module.queue.queue_arn")],
                }
            )
        if p.queue in ("sns", "sns+sqs"):
            statements.append(
                {"sid": "OwnTopic", "actions": ["sns:Publish"], "resources": [ref("module.queue.topic_arn")]}
            )
        if p.storage:
            statements.append(
                {"sid": "ListOwnBucket", "actions": ["s3:ListBucket"], "resources": [ref("module.storage.bucket_arn")]}
            )
            statements.append(
                {
                    "sid": "OwnObjects",
                    "actions": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    "resources": [interp(ref("module.storage.bucket_arn"), "/*")],
                }
            )
        if p.dynamodb:
            statements.append(
                {
                    "sid": "OwnTable",
                    "actions": [
                        "dynamodb:GetItem",
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                        "dynamodb:DeleteItem",
                        "dynamodb:Query",
                        "dynamodb:BatchGetItem",
                        "dynamodb:BatchWriteItem",
                        "dynamodb:ConditionCheckItem",
                        "dynamodb:DescribeTable",
                    ],
                    "resources": [
                        ref("module.database.table_arn"),
                        interp(ref("module.database.table_arn"), "/index/*"),
                    ],
                }
            )
        if p.db in ("rds", "aurora"):
            statements.append(
                {
                    "sid": "DatabaseIamAuth",
                    "actions": ["rds-db:connect"],
                    "resources": [
                        interp(
                            "arn:",
                            ref("local.partition"),
                            ":rds-db:",
                            ref("var.region"),
                            ":",
                            ref("local.account_id"),
                            ":dbuser:",
                            ref("module.database.resource_id"),
                            "/",
                            ref("var.db_iam_username"),
                        )
                    ],
                }
            )
        if p.cache and p.cache != "memcached":
            statements.append(
                {
                    "sid": "CacheIamAuth",
                    "actions": ["elasticache:Connect"],
                    "resources": [ref("module.cache.arn"), ref("module.cache.user_arn")],
                }
            )
        items: List[Item] = list(note(self.model, "security.iam"))
        items.append(Comment("The service's own permissions, nothing account-wide (least privilege)."))
        items.append(policy_document("app", statements))
        return items
