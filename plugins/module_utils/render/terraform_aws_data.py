# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Terraform for AWS: the data modules (database, cache, storage, queue).

Each is generated only when the documents ask for that resource.  Every store is
encrypted with the environment's KMS key, private, and kept as long as the
documents say; no password is ever written: RDS manages the master password in
Secrets Manager (``manage_master_user_password``) and the cache uses IAM
authentication through ElastiCache RBAC users.
"""

from __future__ import annotations

from typing import Any, Dict, List

from .hcl import Block, Comment, jsonencode
from .terraform_aws_plan import (
    DEFAULT_DB_USERNAME,
    Item,
    Plan,
    db_family,
    interp,
    output,
    policy_document,
    ref,
    render,
    resource,
    retention_skip,
    skip,
    variable,
    versions_block,
)


def _module(
    name: str, main: List[Item], variables: List[Item], outputs: List[Item], aliases: Any = ()
) -> Dict[str, str]:
    return {
        "modules/%s/main.tf" % name: render(main),
        "modules/%s/variables.tf" % name: render(variables),
        "modules/%s/outputs.tf" % name: render(outputs),
        "modules/%s/versions.tf" % name: render([versions_block(True, aliases)]),
    }


def _deny_insecure_transport(resource_arn: str, with_objects: bool) -> Dict[str, Any]:
    resources: List[Any] = [ref(resource_arn)]
    if with_objects:
        resources.append(interp(ref(resource_arn), "/*"))
    return {
        "sid": "DenyInsecureTransport",
        "effect": "Deny",
        "actions": ["s3:*"],
        "resources": resources,
        "principals": [("AWS", ["*"])],
        "conditions": [("Bool", "aws:SecureTransport", ["false"])],
    }


# --------------------------------------------------------------------------- database


def _rds(p: Plan) -> List[Item]:
    engine = p.db_engine or "postgres"
    items: List[Item] = [
        Block("data", ("aws_partition", "current")),
        resource(
            "aws_db_subnet_group",
            "this",
            {"name": ref("var.name"), "subnet_ids": ref("var.subnet_ids")},
        ),
    ]
    family = db_family(engine, p.db_version or "16")
    aurora = p.db == "aurora"
    params = resource(
        "aws_rds_cluster_parameter_group" if aurora else "aws_db_parameter_group",
        "this",
        {
            "name_prefix": interp(ref("var.name"), "-"),
            "family": ("aurora-%s" % ("postgresql" + family[len("postgres") :] if engine == "postgres" else family))
            if aurora
            else family,
            "description": "TLS only, and query logging",
        },
    )
    if engine == "postgres":
        settings = [("rds.force_ssl", "1"), ("log_statement", "ddl"), ("log_min_duration_statement", "1000")]
    else:
        settings = [("require_secure_transport", "1"), ("slow_query_log", "1"), ("long_query_time", "1")]
    for key, value in settings:
        params.block("parameter", name=key, value=value)
    params.block("lifecycle", create_before_destroy=True)
    items.append(params)

    monitoring_assume = policy_document(
        "monitoring_assume",
        [{"actions": ["sts:AssumeRole"], "principals": [("Service", ["monitoring.rds.amazonaws.com"])]}],
    )
    items.append(monitoring_assume)
    items.append(
        resource(
            "aws_iam_role",
            "monitoring",
            {
                "name_prefix": interp(ref("substr(var.name, 0, 24)"), "-rdsmon-"),
                "assume_role_policy": ref("data.aws_iam_policy_document.monitoring_assume.json"),
            },
        )
    )
    items.append(
        resource(
            "aws_iam_role_policy_attachment",
            "monitoring",
            {
                "role": ref("aws_iam_role.monitoring.name"),
                "policy_arn": interp(
                    "arn:",
                    ref("data.aws_partition.current.partition"),
                    ":iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
                ),
            },
        )
    )
    logs = ["postgresql", "upgrade"] if engine == "postgres" else ["audit", "error", "general", "slowquery"]
    if aurora:
        items.extend(_aurora(p, engine, logs, family))
        return items
    db = resource("aws_db_instance", "this")
    db.attrs(
        {
            "identifier": ref("var.name"),
            "engine": engine,
            "engine_version": ref("var.engine_version"),
            "instance_class": ref("var.instance_class"),
            "allocated_storage": ref("var.allocated_storage"),
            "max_allocated_storage": ref("var.max_allocated_storage"),
            "storage_type": "gp3",
            "storage_encrypted": True,
            "kms_key_id": ref("var.kms_key_arn"),
            "port": ref("var.port"),
            "db_subnet_group_name": ref("aws_db_subnet_group.this.name"),
            "vpc_security_group_ids": [ref("var.security_group_id")],
            "publicly_accessible": False,
            "multi_az": ref("var.multi_az"),
            "parameter_group_name": ref("aws_db_parameter_group.this.name"),
            "ca_cert_identifier": "rds-ca-rsa2048-g1",
        }
    )
    db.body.append(Comment("No password anywhere: RDS keeps the master password in Secrets Manager and rotates it."))
    db.attrs(
        {
            "username": ref("var.master_username"),
            "manage_master_user_password": True,
            "master_user_secret_kms_key_id": ref("var.kms_key_arn"),
            "iam_database_authentication_enabled": True,
            "backup_retention_period": ref("var.backup_retention_days"),
            "copy_tags_to_snapshot": True,
            "deletion_protection": ref("var.deletion_protection"),
            "skip_final_snapshot": False,
            "final_snapshot_identifier": interp(ref("var.name"), "-final"),
            "auto_minor_version_upgrade": True,
            "enabled_cloudwatch_logs_exports": logs,
            "performance_insights_enabled": True,
            "performance_insights_kms_key_id": ref("var.kms_key_arn"),
            "performance_insights_retention_period": 7,
            "monitoring_interval": 60,
            "monitoring_role_arn": ref("aws_iam_role.monitoring.arn"),
            "depends_on": [ref("aws_iam_role_policy_attachment.monitoring")],
        }
    )
    items.append(db)
    return items


def _aurora(p: Plan, engine: str, logs: List[str], family: str) -> List[Item]:
    aurora_engine = "aurora-postgresql" if engine == "postgres" else "aurora-mysql"
    cluster = resource("aws_rds_cluster", "this")
    cluster.attrs(
        {
            "cluster_identifier": ref("var.name"),
            "engine": aurora_engine,
            "engine_version": ref("var.engine_version"),
            "port": ref("var.port"),
            "db_subnet_group_name": ref("aws_db_subnet_group.this.name"),
            "vpc_security_group_ids": [ref("var.security_group_id")],
            "db_cluster_parameter_group_name": ref("aws_rds_cluster_parameter_group.this.name"),
            "storage_encrypted": True,
            "kms_key_id": ref("var.kms_key_arn"),
        }
    )
    cluster.body.append(
        Comment("No password anywhere: RDS keeps the master password in Secrets Manager and rotates it.")
    )
    cluster.attrs(
        {
            "master_username": ref("var.master_username"),
            "manage_master_user_password": True,
            "master_user_secret_kms_key_id": ref("var.kms_key_arn"),
            "iam_database_authentication_enabled": True,
            "backup_retention_period": ref("var.backup_retention_days"),
            "copy_tags_to_snapshot": True,
            "deletion_protection": ref("var.deletion_protection"),
            "skip_final_snapshot": False,
            "final_snapshot_identifier": interp(ref("var.name"), "-final"),
            "enabled_cloudwatch_logs_exports": ["postgresql"] if engine == "postgres" else logs,
        }
    )
    if engine != "postgres":
        skip(cluster, "CKV_AWS_326", "backtracking is an Aurora MySQL option the documents do not ask for")
    skip(cluster, "CKV2_AWS_8", "automated backups (backup_retention_period) implement the documents' retention")
    instance = resource("aws_rds_cluster_instance", "this")
    instance.body.append(Comment("Two instances in different zones when var.multi_az (HA), else one writer."))
    instance.attrs(
        {
            "count": ref("var.multi_az ? 2 : 1"),
            "identifier": interp(ref("var.name"), "-", ref("count.index")),
            "cluster_identifier": ref("aws_rds_cluster.this.id"),
            "engine": ref("aws_rds_cluster.this.engine"),
            "engine_version": ref("aws_rds_cluster.this.engine_version"),
            "instance_class": ref("var.instance_class"),
            "db_subnet_group_name": ref("aws_db_subnet_group.this.name"),
            "publicly_accessible": False,
            "ca_cert_identifier": "rds-ca-rsa2048-g1",
            "auto_minor_version_upgrade": True,
            "copy_tags_to_snapshot": True,
            "performance_insights_enabled": True,
            "performance_insights_kms_key_id": ref("var.kms_key_arn"),
            "performance_insights_retention_period": 7,
            "monitoring_interval": 60,
            "monitoring_role_arn": ref("aws_iam_role.monitoring.arn"),
        }
    )
    return [cluster, instance]


def _dynamodb(p: Plan) -> List[Item]:
    table = resource("aws_dynamodb_table", "this")
    table.body.append(
        Comment("The documents give no key schema: a generic partition key (pk) and sort key (sk), single-table style.")
    )
    table.attrs(
        {
            "name": ref("var.name"),
            "billing_mode": "PAY_PER_REQUEST",
            "hash_key": "pk",
            "range_key": "sk",
            "deletion_protection_enabled": ref("var.deletion_protection"),
        }
    )
    if p.replication:
        table.attrs({"stream_enabled": True, "stream_view_type": "NEW_AND_OLD_IMAGES"})
    table.block("attribute", name="pk", type="S")
    table.block("attribute", name="sk", type="S")
    table.block("point_in_time_recovery", enabled=True)
    table.block("server_side_encryption", enabled=True, kms_key_arn=ref("var.kms_key_arn"))
    if p.replication:
        dyn = table.block("dynamic", "replica")
        dyn.attr("for_each", ref("var.replica_regions"))
        dyn.block(
            "content",
            region_name=ref("replica.value"),
            kms_key_arn=ref("var.replica_kms_key_arn"),
            point_in_time_recovery=True,
        )
    return [table]


def database(p: Plan) -> Dict[str, str]:
    if p.db == "dynamodb":
        variables: List[Item] = [
            variable("name", "string", "Name of the table.", has_default=False),
            variable("kms_key_arn", "string", "KMS key that encrypts the table.", has_default=False),
            variable("deletion_protection", "bool", "Refuse to delete the table.", True),
        ]
        if p.replication:
            variables.append(
                variable("replica_regions", "list(string)", "Regions that hold a global-table replica.", default=[])
            )
            variables.append(
                variable(
                    "replica_kms_key_arn",
                    "string",
                    "KMS key of the replica region (multi-region key replica).",
                    default=None,
                )
            )
        outputs: List[Item] = [
            output("table_name", ref("aws_dynamodb_table.this.name"), "Name of the DynamoDB table."),
            output("table_arn", ref("aws_dynamodb_table.this.arn"), "ARN of the DynamoDB table."),
        ]
        return _module("database", _dynamodb(p), variables, outputs)
    variables = [
        variable("name", "string", "Identifier of the database.", has_default=False),
        variable(
            "engine_version",
            "string",
            "Engine version (major: minor versions are upgraded automatically).",
            has_default=False,
            nullable=True,
        ),
        variable("instance_class", "string", "Instance class.", has_default=False),
        variable("port", "number", "Port of the database.", has_default=False),
        variable("subnet_ids", "list(string)", "Private subnets of the DB subnet group.", has_default=False),
        variable("security_group_id", "string", "Security group of the database.", has_default=False),
        variable(
            "kms_key_arn",
            "string",
            "KMS key for storage, Performance Insights and the master secret.",
            has_default=False,
        ),
        variable("multi_az", "bool", "Standby in a second availability zone (HA).", True),
        variable("deletion_protection", "bool", "Refuse to delete the database.", True),
        variable(
            "backup_retention_days",
            "number",
            "Days automated backups are kept (1 to 35).",
            7,
            validations=[
                (
                    "var.backup_retention_days >= 1 && var.backup_retention_days <= 35",
                    "backup_retention_days must be 1 to 35.",
                )
            ],
        ),
        variable(
            "master_username", "string", "Master user name (its password is managed by RDS).", DEFAULT_DB_USERNAME
        ),
    ]
    if p.db == "rds":
        variables.append(variable("allocated_storage", "number", "Storage in GB.", 20))
        variables.append(variable("max_allocated_storage", "number", "Storage autoscaling ceiling in GB.", 100))
    outputs = []
    if p.db == "aurora":
        outputs.extend(
            [
                output("endpoint", ref("aws_rds_cluster.this.endpoint"), "Writer endpoint of the cluster."),
                output("port", ref("aws_rds_cluster.this.port"), "Port of the database."),
                output("arn", ref("aws_rds_cluster.this.arn"), "ARN of the cluster."),
                output(
                    "resource_id",
                    ref("aws_rds_cluster.this.cluster_resource_id"),
                    "Resource id used in rds-db:connect IAM policies.",
                ),
                output(
                    "master_user_secret_arn",
                    ref("aws_rds_cluster.this.master_user_secret[0].secret_arn"),
                    "Secrets Manager secret that RDS keeps the master password in.",
                ),
            ]
        )
    else:
        outputs.extend(
            [
                output("endpoint", ref("aws_db_instance.this.address"), "Host name of the database."),
                output("port", ref("aws_db_instance.this.port"), "Port of the database."),
                output("arn", ref("aws_db_instance.this.arn"), "ARN of the database."),
                output(
                    "resource_id",
                    ref("aws_db_instance.this.resource_id"),
                    "Resource id used in rds-db:connect IAM policies.",
                ),
                output(
                    "master_user_secret_arn",
                    ref("aws_db_instance.this.master_user_secret[0].secret_arn"),
                    "Secrets Manager secret that RDS keeps the master password in.",
                ),
            ]
        )
    outputs.append(output("username", ref("var.master_username"), "Master user name."))
    return _module("database", _rds(p), variables, outputs)


# --------------------------------------------------------------------------- cache


def cache(p: Plan) -> Dict[str, str]:
    engine = p.cache or "redis"
    items: List[Item] = [
        resource("aws_elasticache_subnet_group", "this", {"name": ref("var.name"), "subnet_ids": ref("var.subnet_ids")})
    ]
    variables: List[Item] = [
        variable("name", "string", "Identifier of the cache (at most 40 characters).", has_default=False),
        variable("engine_version", "string", "Engine version.", has_default=False),
        variable("node_type", "string", "Node type.", has_default=False),
        variable("port", "number", "Port of the cache.", has_default=False),
        variable("subnet_ids", "list(string)", "Private subnets of the cache.", has_default=False),
        variable("security_group_id", "string", "Security group of the cache.", has_default=False),
        variable("kms_key_arn", "string", "KMS key for data at rest and the slow log.", has_default=False),
        variable("multi_az", "bool", "A replica in a second zone with automatic failover (HA).", True),
        variable("log_retention_days", "number", "Days the slow log is kept.", 30),
    ]
    outputs: List[Item] = []
    if engine == "memcached":
        cluster = resource("aws_elasticache_cluster", "this")
        cluster.attrs(
            {
                "cluster_id": ref("var.name"),
                "engine": "memcached",
                "engine_version": ref("var.engine_version"),
                "node_type": ref("var.node_type"),
                "num_cache_nodes": ref("var.multi_az ? 2 : 1"),
                "az_mode": ref('var.multi_az ? "cross-az" : "single-az"'),
                "port": ref("var.port"),
                "subnet_group_name": ref("aws_elasticache_subnet_group.this.name"),
                "security_group_ids": [ref("var.security_group_id")],
                "transit_encryption_enabled": True,
                "auto_minor_version_upgrade": True,
            }
        )
        skip(cluster, "CKV_AWS_134", "memcached keeps no data to back up: ElastiCache has no snapshots for it")
        items.append(cluster)
        outputs.append(
            output("endpoint", ref("aws_elasticache_cluster.this.configuration_endpoint"), "Configuration endpoint.")
        )
        outputs.append(output("port", ref("var.port"), "Port of the cache."))
        return _module("cache", items, variables, outputs)
    items.append(
        retention_skip(
            resource(
                "aws_cloudwatch_log_group",
                "slow_log",
                {
                    "name": interp("/aws/elasticache/", ref("var.name"), "/slow-log"),
                    "retention_in_days": ref("var.log_retention_days"),
                    "kms_key_id": ref("var.kms_key_arn"),
                },
            ),
            p.model,
        )
    )
    items.append(
        Comment(
            "Access control with RBAC users and IAM authentication: no auth token or password exists.\n"
            'The mandatory "default" user is switched off; the service connects as the app user with an IAM token.'
        )
    )
    default_user = resource("aws_elasticache_user", "default")
    default_user.attrs(
        {
            "user_id": interp(ref("var.name"), "-default"),
            "user_name": "default",
            "access_string": "off -@all",
            "engine": engine,
        }
    )
    default_user.block("authentication_mode", type="no-password-required")
    items.append(default_user)
    app_user = resource("aws_elasticache_user", "app")
    app_user.attrs(
        {
            "user_id": interp(ref("var.name"), "-app"),
            "user_name": interp(ref("var.name"), "-app"),
            "access_string": "on ~* +@all",
            "engine": engine,
        }
    )
    app_user.block("authentication_mode", type="iam")
    items.append(app_user)
    items.append(
        resource(
            "aws_elasticache_user_group",
            "this",
            {
                "user_group_id": ref("var.name"),
                "engine": engine,
                "user_ids": [ref("aws_elasticache_user.default.user_id"), ref("aws_elasticache_user.app.user_id")],
            },
        )
    )
    group = resource("aws_elasticache_replication_group", "this")
    group.attrs(
        {
            "replication_group_id": ref("var.name"),
            "description": interp("Cache of ", ref("var.name")),
            "engine": engine,
            "engine_version": ref("var.engine_version"),
            "node_type": ref("var.node_type"),
            "port": ref("var.port"),
            "num_cache_clusters": ref("var.multi_az ? 2 : 1"),
            "automatic_failover_enabled": ref("var.multi_az"),
            "multi_az_enabled": ref("var.multi_az"),
            "subnet_group_name": ref("aws_elasticache_subnet_group.this.name"),
            "security_group_ids": [ref("var.security_group_id")],
            "at_rest_encryption_enabled": True,
            "kms_key_id": ref("var.kms_key_arn"),
            "transit_encryption_enabled": True,
            "user_group_ids": [ref("aws_elasticache_user_group.this.user_group_id")],
            "auto_minor_version_upgrade": True,
            "snapshot_retention_limit": 7,
        }
    )
    logd = group.block("log_delivery_configuration")
    logd.attrs(
        {
            "destination": ref("aws_cloudwatch_log_group.slow_log.name"),
            "destination_type": "cloudwatch-logs",
            "log_format": "json",
            "log_type": "slow-log",
        }
    )
    items.append(group)
    outputs.extend(
        [
            output(
                "endpoint",
                ref("aws_elasticache_replication_group.this.primary_endpoint_address"),
                "Primary endpoint (TLS).",
            ),
            output("port", ref("aws_elasticache_replication_group.this.port"), "Port of the cache."),
            output("arn", ref("aws_elasticache_replication_group.this.arn"), "ARN of the replication group."),
            output("user_arn", ref("aws_elasticache_user.app.arn"), "ARN of the IAM-authenticated app user."),
            output("user_name", ref("aws_elasticache_user.app.user_name"), "User name the service connects as."),
        ]
    )
    return _module("cache", items, variables, outputs)


# --------------------------------------------------------------------------- storage


def _bucket_controls(
    items: List[Item], key: str, kms: str, retention: str, replica: bool = False, logging: bool = True
) -> None:
    """Ownership, public access block, versioning, KMS encryption, lifecycle, notifications, policy."""
    extra: Dict[str, Any] = {"count": ref("var.replication_enabled ? 1 : 0")} if replica else {}
    provider: Dict[str, Any] = {"provider": ref("aws.replica")} if replica else {}
    bucket = "aws_s3_bucket.%s%s" % (key, "[0]" if replica else "")
    suffix = "[0]" if replica else ""

    def add(rtype: str, attrs: Dict[str, Any]) -> Block:
        block = resource(rtype, key)
        block.attrs(extra)
        block.attrs(provider)
        block.attr("bucket", ref("%s.id" % bucket))
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
    versioning = add("aws_s3_bucket_versioning", {})
    versioning.block("versioning_configuration", status="Enabled")
    sse = add("aws_s3_bucket_server_side_encryption_configuration", {})
    rule = sse.block("rule", bucket_key_enabled=True)
    rule.block("apply_server_side_encryption_by_default", sse_algorithm="aws:kms", kms_master_key_id=ref(kms))
    lifecycle = add("aws_s3_bucket_lifecycle_configuration", {})
    rule = lifecycle.block("rule", id="retention", status="Enabled")
    rule.block("filter")
    expiration = rule.block("dynamic", "expiration")
    expiration.attr("for_each", ref("%s == null ? [] : [%s]" % (retention, retention)))
    expiration.block("content", days=ref("expiration.value"))
    rule.block("noncurrent_version_expiration", noncurrent_days=ref("coalesce(%s, 30)" % retention))
    rule.block("abort_incomplete_multipart_upload", days_after_initiation=7)
    if logging:
        add(
            "aws_s3_bucket_logging",
            {
                "target_bucket": ref("var.log_bucket_id"),
                "target_prefix": interp("s3-access/", ref("%s.id" % bucket), "/"),
            },
        )
    add("aws_s3_bucket_notification", {"eventbridge": True})
    add("aws_s3_bucket_policy", {"policy": ref("data.aws_iam_policy_document.%s%s.json" % (key, suffix))})
    items.append(policy_document(key, [_deny_insecure_transport("%s.arn" % bucket, True)], extra.get("count")))


def storage(p: Plan) -> Dict[str, str]:
    items: List[Item] = [Block("data", ("aws_caller_identity", "current"))]
    bucket = resource("aws_s3_bucket", "this", {"bucket": ref("var.bucket_name")})
    if not p.replication:
        skip(
            bucket,
            "CKV_AWS_144",
            "the documents ask for no replication (no storage replication, no multi-region environment)",
        )
    items.append(bucket)
    _bucket_controls(items, "this", "var.kms_key_arn", "var.retention_days")
    variables: List[Item] = [
        variable("bucket_name", "string", "Name of the bucket (globally unique).", has_default=False),
        variable("kms_key_arn", "string", "KMS key that encrypts the objects.", has_default=False),
        variable("log_bucket_id", "string", "Bucket that receives the server access logs.", has_default=False),
        variable(
            "retention_days",
            "number",
            "Days an object is kept (null keeps objects until deleted).",
            default=None,
            validations=[
                (
                    "var.retention_days == null || try(var.retention_days >= 1, false)",
                    "retention_days must be at least 1 (or null).",
                )
            ],
        ),
    ]
    outputs: List[Item] = [
        output("bucket_id", ref("aws_s3_bucket.this.id"), "Name of the bucket."),
        output("bucket_arn", ref("aws_s3_bucket.this.arn"), "ARN of the bucket."),
    ]
    aliases: Any = ()
    if p.replication:
        aliases = ["aws.replica"]
        variables.extend(
            [
                variable(
                    "replication_enabled", "bool", "Replicate every object to a bucket in the replica region.", True
                ),
                variable(
                    "replica_kms_key_arn",
                    "string",
                    "KMS key (in the replica region) of the replica bucket.",
                    default=None,
                ),
            ]
        )
        items.append(Comment("Cross-region replica: a second bucket in the replica region (the aws.replica provider)."))
        replica = resource(
            "aws_s3_bucket",
            "replica",
            {
                "count": ref("var.replication_enabled ? 1 : 0"),
                "provider": ref("aws.replica"),
                "bucket": interp(ref("var.bucket_name"), "-replica"),
            },
        )
        skip(replica, "CKV_AWS_144", "this bucket is the destination of the replication")
        skip(
            replica,
            "CKV_AWS_18",
            "server access logs go to a bucket of the same region; the replica only receives "
            "copies written by the replication role",
        )
        items.append(replica)
        _bucket_controls(items, "replica", "var.replica_kms_key_arn", "var.retention_days", replica=True, logging=False)
        items.extend(_replication_role())
        config = resource(
            "aws_s3_bucket_replication_configuration",
            "this",
            {
                "count": ref("var.replication_enabled ? 1 : 0"),
                "role": ref("aws_iam_role.replication[0].arn"),
                "bucket": ref("aws_s3_bucket.this.id"),
            },
        )
        rule = config.block("rule", id="everything", status="Enabled")
        rule.block("filter")
        rule.block("delete_marker_replication", status="Enabled")
        criteria = rule.block("source_selection_criteria")
        criteria.block("sse_kms_encrypted_objects", status="Enabled")
        destination = rule.block("destination", bucket=ref("aws_s3_bucket.replica[0].arn"), storage_class="STANDARD")
        destination.block("encryption_configuration", replica_kms_key_id=ref("var.replica_kms_key_arn"))
        config.attr(
            "depends_on",
            [ref("aws_s3_bucket_versioning.this"), ref("aws_s3_bucket_versioning.replica")],
        )
        items.append(config)
        outputs.append(
            output("replica_bucket_id", ref("one(aws_s3_bucket.replica[*].id)"), "Name of the replica bucket.")
        )
    return _module("storage", items, variables, outputs, aliases)


def _replication_role() -> List[Item]:
    count = {"count": ref("var.replication_enabled ? 1 : 0")}
    assume = policy_document(
        "replication_assume",
        [
            {
                "actions": ["sts:AssumeRole"],
                "principals": [("Service", ["s3.amazonaws.com"])],
                "conditions": [
                    ("StringEquals", "aws:SourceAccount", [ref("data.aws_caller_identity.current.account_id")])
                ],
            }
        ],
    )
    role = resource("aws_iam_role", "replication")
    role.attrs(count)
    role.attrs(
        {
            "name_prefix": interp(ref("substr(var.bucket_name, 0, 24)"), "-repl-"),
            "assume_role_policy": ref("data.aws_iam_policy_document.replication_assume.json"),
        }
    )
    policy = policy_document(
        "replication",
        [
            {
                "sid": "ReadSource",
                "actions": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "resources": [ref("aws_s3_bucket.this.arn")],
            },
            {
                "sid": "ReadSourceObjects",
                "actions": [
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                "resources": [interp(ref("aws_s3_bucket.this.arn"), "/*")],
            },
            {
                "sid": "WriteReplica",
                "actions": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                "resources": [interp(ref("aws_s3_bucket.replica[0].arn"), "/*")],
            },
            {"sid": "DecryptSource", "actions": ["kms:Decrypt"], "resources": [ref("var.kms_key_arn")]},
            {
                "sid": "EncryptReplica",
                "actions": ["kms:Encrypt", "kms:GenerateDataKey"],
                "resources": [ref("var.replica_kms_key_arn")],
            },
        ],
        count["count"],
    )
    attach = resource(
        "aws_iam_role_policy",
        "replication",
        {
            "count": ref("var.replication_enabled ? 1 : 0"),
            "name": "replicate-objects",
            "role": ref("aws_iam_role.replication[0].id"),
            "policy": ref("data.aws_iam_policy_document.replication[0].json"),
        },
    )
    return [assume, role, policy, attach]


# --------------------------------------------------------------------------- queue


def queue(p: Plan) -> Dict[str, str]:
    fifo = bool(p.model.infrastructure.queue and p.model.infrastructure.queue.queue_type == "fifo")
    suffix = ".fifo" if fifo else ""
    items: List[Item] = []
    variables: List[Item] = [
        variable("name", "string", "Name of the queue or topic.", has_default=False),
        variable("kms_key_arn", "string", "KMS key that encrypts the messages.", has_default=False),
    ]
    outputs: List[Item] = []
    if p.queue in ("sqs", "sns+sqs"):
        variables.extend(
            [
                variable(
                    "retention_seconds",
                    "number",
                    "Seconds a message is kept (60 to 1209600).",
                    345600,
                    validations=[
                        (
                            "var.retention_seconds >= 60 && var.retention_seconds <= 1209600",
                            "retention_seconds must be 60 to 1209600 (14 days).",
                        )
                    ],
                ),
                variable(
                    "max_receive_count",
                    "number",
                    "Receives before a message moves to the dead-letter queue.",
                    5,
                    validations=[
                        (
                            "var.max_receive_count >= 1 && var.max_receive_count <= 1000",
                            "max_receive_count must be 1 to 1000.",
                        )
                    ],
                ),
            ]
        )
        dlq = resource("aws_sqs_queue", "dead_letter")
        dlq.attrs(
            {
                "name": interp(ref("var.name"), "-dlq%s" % suffix),
                "fifo_queue": True if fifo else None,
                "message_retention_seconds": 1209600,
                "kms_master_key_id": ref("var.kms_key_arn"),
                "kms_data_key_reuse_period_seconds": 300,
            }
        )
        items.append(Comment("Dead-letter queue: failed messages are kept 14 days (the SQS maximum)."))
        items.append(dlq)
        main = resource("aws_sqs_queue", "this")
        main.attrs(
            {
                "name": interp(ref("var.name"), suffix),
                "fifo_queue": True if fifo else None,
                "content_based_deduplication": True if fifo else None,
                "message_retention_seconds": ref("var.retention_seconds"),
                "kms_master_key_id": ref("var.kms_key_arn"),
                "kms_data_key_reuse_period_seconds": 300,
                "redrive_policy": jsonencode(
                    {
                        "deadLetterTargetArn": ref("aws_sqs_queue.dead_letter.arn"),
                        "maxReceiveCount": ref("var.max_receive_count"),
                    }
                ),
            }
        )
        items.append(main)
        items.append(
            resource(
                "aws_sqs_queue_redrive_allow_policy",
                "dead_letter",
                {
                    "queue_url": ref("aws_sqs_queue.dead_letter.id"),
                    "redrive_allow_policy": jsonencode(
                        {"redrivePermission": "byQueue", "sourceQueueArns": [ref("aws_sqs_queue.this.arn")]}
                    ),
                },
            )
        )
        statements: List[Dict[str, Any]] = [
            {
                "sid": "DenyInsecureTransport",
                "effect": "Deny",
                "actions": ["sqs:*"],
                "resources": [ref("aws_sqs_queue.this.arn")],
                "principals": [("AWS", ["*"])],
                "conditions": [("Bool", "aws:SecureTransport", ["false"])],
            }
        ]
        if p.queue == "sns+sqs":
            statements.append(
                {
                    "sid": "TopicDelivers",
                    "actions": ["sqs:SendMessage"],
                    "resources": [ref("aws_sqs_queue.this.arn")],
                    "principals": [("Service", ["sns.amazonaws.com"])],
                    "conditions": [("ArnEquals", "aws:SourceArn", [ref("aws_sns_topic.this.arn")])],
                }
            )
        items.append(policy_document("queue", statements))
        items.append(
            resource(
                "aws_sqs_queue_policy",
                "this",
                {"queue_url": ref("aws_sqs_queue.this.id"), "policy": ref("data.aws_iam_policy_document.queue.json")},
            )
        )
        outputs.extend(
            [
                output("queue_url", ref("aws_sqs_queue.this.url"), "URL of the queue."),
                output("queue_arn", ref("aws_sqs_queue.this.arn"), "ARN of the queue."),
                output("dead_letter_queue_url", ref("aws_sqs_queue.dead_letter.url"), "URL of the dead-letter queue."),
                output("dead_letter_queue_arn", ref("aws_sqs_queue.dead_letter.arn"), "ARN of the dead-letter queue."),
            ]
        )
    if p.queue in ("sns", "sns+sqs"):
        topic = resource("aws_sns_topic", "this")
        topic.attrs(
            {
                "name": interp(ref("var.name"), suffix),
                "fifo_topic": True if fifo else None,
                "kms_master_key_id": ref("var.kms_key_arn"),
            }
        )
        items.append(topic)
        if p.queue == "sns+sqs":
            items.append(
                Comment("The topic's subscription: a queue (with its dead-letter queue) receives every message.")
            )
            items.append(
                resource(
                    "aws_sns_topic_subscription",
                    "queue",
                    {
                        "topic_arn": ref("aws_sns_topic.this.arn"),
                        "protocol": "sqs",
                        "endpoint": ref("aws_sqs_queue.this.arn"),
                        "raw_message_delivery": True,
                    },
                )
            )
        outputs.append(output("topic_arn", ref("aws_sns_topic.this.arn"), "ARN of the topic."))
    return _module("queue", items, variables, outputs)


__all__ = ["cache", "database", "queue", "storage"]
