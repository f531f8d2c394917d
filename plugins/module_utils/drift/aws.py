# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an AWS account holds for one service and environment, read with boto3.

Resources are selected by the tags the generated Terraform sets on everything
(``Project`` and ``Environment``, from the provider's ``default_tags``); the ECS
service, the Auto Scaling group, the Lambda function and the DynamoDB table are
read by the name the Terraform gives them.  Buckets and queues are listed by the
project prefix every generated name starts with, then kept when their tags match.
Credentials come the usual boto3 way (environment, shared profile, instance role);
``endpoint_url`` points every client at another endpoint (moto in the tests).
Only read calls are made.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional

from .compare import ActualResource, DriftError, Expectation, Observation
from .expected import sg_rule

try:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR: Optional[str] = None
except ImportError as exc:  # pragma: no cover - depends on the environment
    boto3 = None

    class BotoCoreError(Exception):  # type: ignore[no-redef]
        """Stands for botocore's error when botocore is missing (the reader refuses to start then)."""

    class ClientError(Exception):  # type: ignore[no-redef]
        """Stands for botocore's error when botocore is missing (the reader refuses to start then)."""

    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = str(exc)

#: Error codes that mean "not there" for the resources read by name.
NOT_FOUND = {
    "ClusterNotFoundException",
    "ServiceNotFoundException",
    "ResourceNotFoundException",
    "ResourceNotFound",
    "NoSuchBucket",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
}


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _tags(items: Optional[Iterable[Mapping[str, Any]]]) -> Dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value")) for t in items or () if t.get("Key") is not None}


class AwsReader:
    """Reads the service's resources in one account and region."""

    def __init__(
        self,
        expectation: Expectation,
        profile: Optional[str] = None,
        endpoint_url: Optional[str] = None,
        session: Any = None,
    ) -> None:
        if not HAS_BOTO3 and session is None:
            raise DriftError(
                "the AWS drift check needs boto3 and botocore: pip install boto3 (%s)" % BOTO3_IMPORT_ERROR
            )
        self.x = expectation
        self.endpoint_url = endpoint_url
        try:
            self.session = session or boto3.session.Session(profile_name=profile, region_name=expectation.region)
        except BotoCoreError as exc:
            raise DriftError("cannot start an AWS session: %s" % exc) from exc
        self._clients: Dict[str, Any] = {}
        self.found: List[ActualResource] = []

    def client(self, name: str) -> Any:
        if name not in self._clients:
            kwargs: Dict[str, Any] = {"region_name": self.x.region}
            if self.endpoint_url:
                kwargs["endpoint_url"] = self.endpoint_url
            self._clients[name] = self.session.client(name, **kwargs)
        return self._clients[name]

    def call(self, service: str, operation: str, **kwargs: Any) -> Any:
        """One API call; errors other than 'not found' stop the check with the call named."""
        try:
            return getattr(self.client(service), operation)(**kwargs)
        except ClientError as exc:
            if _code(exc) in NOT_FOUND:
                return None
            raise DriftError("AWS %s %s failed: %s" % (service, operation, exc)) from exc
        except BotoCoreError as exc:
            raise DriftError("AWS %s %s failed: %s" % (service, operation, exc)) from exc

    def pages(self, service: str, operation: str, key: str, **kwargs: Any) -> List[Any]:
        try:
            paginator = self.client(service).get_paginator(operation)
            out: List[Any] = []
            for page in paginator.paginate(**kwargs):
                out.extend(page.get(key, []))
            return out
        except (ClientError, BotoCoreError) as exc:
            raise DriftError("AWS %s %s failed: %s" % (service, operation, exc)) from exc

    def ours(self, tags: Mapping[str, str]) -> bool:
        return all(tags.get(k) == v for k, v in self.x.scope.items())

    def add(self, kind: str, name: str, attributes: Dict[str, Any], ident: str = "") -> None:
        self.found.append(ActualResource(kind, name, attributes, ident))

    def _tag_filters(self) -> List[Dict[str, Any]]:
        return [{"Name": "tag:%s" % k, "Values": [v]} for k, v in self.x.scope.items()]

    # ----------------------------------------------------------------- network

    def network(self) -> None:
        for vpc in self.pages("ec2", "describe_vpcs", "Vpcs", Filters=self._tag_filters()):
            tags = _tags(vpc.get("Tags"))
            self.add("vpc", tags.get("Name", vpc["VpcId"]), {"cidr_block": vpc.get("CidrBlock")}, vpc["VpcId"])
        groups = self.pages("ec2", "describe_security_groups", "SecurityGroups", Filters=self._tag_filters())
        names = {g["GroupId"]: g.get("GroupName", g["GroupId"]) for g in groups}
        referenced = {
            pair["GroupId"]
            for g in groups
            for perm in g.get("IpPermissions", [])
            for pair in perm.get("UserIdGroupPairs", [])
            if pair.get("GroupId") and pair["GroupId"] not in names
        }
        if referenced:
            others = self.call("ec2", "describe_security_groups", GroupIds=sorted(referenced)) or {}
            for g in others.get("SecurityGroups", []):
                names[g["GroupId"]] = g.get("GroupName", g["GroupId"])
        for group in groups:
            rules: List[str] = []
            for perm in group.get("IpPermissions", []):
                low, high = perm.get("FromPort"), perm.get("ToPort")
                proto = str(perm.get("IpProtocol", "-1"))
                sources = (
                    [r["CidrIp"] for r in perm.get("IpRanges", []) if r.get("CidrIp")]
                    + [r["CidrIpv6"] for r in perm.get("Ipv6Ranges", []) if r.get("CidrIpv6")]
                    + ["sg:%s" % names.get(p["GroupId"], p["GroupId"]) for p in perm.get("UserIdGroupPairs", [])]
                    + ["pl:%s" % p["PrefixListId"] for p in perm.get("PrefixListIds", []) if p.get("PrefixListId")]
                )
                rules.extend(sg_rule(proto, low, high, source) for source in sources)
            self.add(
                "security_group",
                group.get("GroupName", group["GroupId"]),
                {"ingress": sorted(set(rules)), "vpc": group.get("VpcId")},
                group["GroupId"],
            )

    # ----------------------------------------------------------------- data

    def _rds_tags(self, item: Mapping[str, Any], arn_key: str) -> Dict[str, str]:
        if "TagList" in item:
            return _tags(item["TagList"])
        listed = self.call("rds", "list_tags_for_resource", ResourceName=item[arn_key]) or {}
        return _tags(listed.get("TagList"))

    def databases(self) -> None:
        for db in self.pages("rds", "describe_db_instances", "DBInstances"):
            if db.get("DBClusterIdentifier") or not self.ours(self._rds_tags(db, "DBInstanceArn")):
                continue
            self.add(
                "db_instance",
                db["DBInstanceIdentifier"],
                {
                    "engine": db.get("Engine"),
                    "engine_version": db.get("EngineVersion"),
                    "instance_class": db.get("DBInstanceClass"),
                    "allocated_storage": db.get("AllocatedStorage"),
                    "multi_az": bool(db.get("MultiAZ")),
                    "storage_encrypted": bool(db.get("StorageEncrypted")),
                    "publicly_accessible": bool(db.get("PubliclyAccessible")),
                },
                db.get("DBInstanceArn", ""),
            )
        for cluster in self.pages("rds", "describe_db_clusters", "DBClusters"):
            if not self.ours(self._rds_tags(cluster, "DBClusterArn")):
                continue
            self.add(
                "db_cluster",
                cluster["DBClusterIdentifier"],
                {
                    "engine": cluster.get("Engine"),
                    "engine_version": cluster.get("EngineVersion"),
                    "storage_encrypted": bool(cluster.get("StorageEncrypted")),
                    "instances": len(cluster.get("DBClusterMembers", [])),
                },
                cluster.get("DBClusterArn", ""),
            )
        for table in self.x.of_kind("dynamodb_table"):
            found = self.call("dynamodb", "describe_table", TableName=table.name)
            if not found:
                continue
            data = found["Table"]
            self.add(
                "dynamodb_table",
                data["TableName"],
                {
                    "sse_enabled": (data.get("SSEDescription") or {}).get("Status") in ("ENABLED", "ENABLING"),
                    "billing_mode": (data.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"),
                },
                data.get("TableArn", ""),
            )

    def caches(self) -> None:
        for group in self.pages("elasticache", "describe_replication_groups", "ReplicationGroups"):
            arn = group.get("ARN")
            tags = _tags((self.call("elasticache", "list_tags_for_resource", ResourceName=arn) or {}).get("TagList"))
            if not arn or not self.ours(tags):
                continue
            self.add(
                "elasticache_replication_group",
                group["ReplicationGroupId"],
                {
                    "node_type": group.get("CacheNodeType"),
                    "nodes": len(group.get("MemberClusters", [])),
                    "multi_az": group.get("MultiAZ") == "enabled",
                    "automatic_failover": group.get("AutomaticFailover") in ("enabled", "enabling"),
                    "at_rest_encryption": bool(group.get("AtRestEncryptionEnabled")),
                    "transit_encryption": bool(group.get("TransitEncryptionEnabled")),
                },
                arn,
            )
        if not self.x.of_kind("elasticache_cluster"):
            return
        for cluster in self.pages("elasticache", "describe_cache_clusters", "CacheClusters"):
            arn = cluster.get("ARN")
            if cluster.get("Engine") != "memcached" or not arn:
                continue
            tags = _tags((self.call("elasticache", "list_tags_for_resource", ResourceName=arn) or {}).get("TagList"))
            if self.ours(tags):
                self.add(
                    "elasticache_cluster",
                    cluster["CacheClusterId"],
                    {
                        "node_type": cluster.get("CacheNodeType"),
                        "nodes": cluster.get("NumCacheNodes"),
                        "transit_encryption": bool(cluster.get("TransitEncryptionEnabled")),
                    },
                    arn,
                )

    def buckets(self) -> None:
        prefix = str(self.x.settings.get("project", ""))
        listed = self.call("s3", "list_buckets") or {}
        for bucket in listed.get("Buckets", []):
            name = bucket["Name"]
            if prefix and not name.startswith(prefix):
                continue
            tagging = self._bucket_call("get_bucket_tagging", name, ("NoSuchTagSet", "NoSuchTagSetError"))
            if not self.ours(_tags((tagging or {}).get("TagSet"))):
                continue
            versioning = self._bucket_call("get_bucket_versioning", name, ()) or {}
            encryption = self._bucket_call(
                "get_bucket_encryption", name, ("ServerSideEncryptionConfigurationNotFoundError",)
            )
            rules = ((encryption or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
            algorithm = None
            if rules:
                algorithm = (rules[0].get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm")
            block = self._bucket_call("get_public_access_block", name, ("NoSuchPublicAccessBlockConfiguration",))
            settings = (block or {}).get("PublicAccessBlockConfiguration") or {}
            keys = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
            self.add(
                "s3_bucket",
                name,
                {
                    "versioning": versioning.get("Status") or "Disabled",
                    "encryption": algorithm,
                    "public_access_blocked": all(bool(settings.get(k)) for k in keys),
                },
                "arn:aws:s3:::%s" % name,
            )

    def _bucket_call(self, operation: str, bucket: str, absent: Iterable[str]) -> Optional[Dict[str, Any]]:
        try:
            result: Dict[str, Any] = getattr(self.client("s3"), operation)(Bucket=bucket)
            return result
        except ClientError as exc:
            if _code(exc) in set(absent):
                return None
            raise DriftError("AWS s3 %s %s failed: %s" % (operation, bucket, exc)) from exc
        except BotoCoreError as exc:
            raise DriftError("AWS s3 %s %s failed: %s" % (operation, bucket, exc)) from exc

    def queues(self) -> None:
        prefix = str(self.x.settings.get("project", ""))
        urls = self.pages("sqs", "list_queues", "QueueUrls", QueueNamePrefix=prefix)
        for url in urls:
            tags = (self.call("sqs", "list_queue_tags", QueueUrl=url) or {}).get("Tags") or {}
            if not self.ours(tags):
                continue
            attributes = (self.call("sqs", "get_queue_attributes", QueueUrl=url, AttributeNames=["All"]) or {}).get(
                "Attributes"
            ) or {}
            redrive: Dict[str, Any] = {}
            if attributes.get("RedrivePolicy"):
                try:
                    redrive = json.loads(attributes["RedrivePolicy"])
                except ValueError:
                    redrive = {}
            encryption = None
            if attributes.get("KmsMasterKeyId"):
                encryption = "kms"
            elif str(attributes.get("SqsManagedSseEnabled", "")).lower() == "true":
                encryption = "sqs-managed"
            target = str(redrive.get("deadLetterTargetArn", ""))
            self.add(
                "sqs_queue",
                url.rstrip("/").rsplit("/", 1)[-1],
                {
                    "retention_seconds": int(attributes.get("MessageRetentionPeriod", 0) or 0),
                    "encryption": encryption,
                    "dead_letter_queue": target.rsplit(":", 1)[-1] if target else None,
                    "max_receive_count": int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None,
                },
                attributes.get("QueueArn", url),
            )

    # ----------------------------------------------------------------- compute

    def compute(self) -> None:
        for service in self.x.of_kind("ecs_service"):
            self._ecs(service.name)
        for group in self.x.of_kind("autoscaling_group"):
            found = self.call("autoscaling", "describe_auto_scaling_groups", AutoScalingGroupNames=[group.name]) or {}
            for asg in found.get("AutoScalingGroups", []):
                self.add(
                    "autoscaling_group",
                    asg["AutoScalingGroupName"],
                    {"min_capacity": asg.get("MinSize"), "max_capacity": asg.get("MaxSize")},
                    asg.get("AutoScalingGroupARN", ""),
                )
        for function in self.x.of_kind("lambda_function"):
            found = self.call("lambda", "get_function", FunctionName=function.name)
            if not found:
                continue
            config = found.get("Configuration") or {}
            self.add(
                "lambda_function",
                config.get("FunctionName", function.name),
                {
                    "memory": config.get("MemorySize"),
                    "reserved_concurrency": (found.get("Concurrency") or {}).get("ReservedConcurrentExecutions"),
                },
                config.get("FunctionArn", ""),
            )

    def _ecs(self, name: str) -> None:
        found = self.call("ecs", "describe_services", cluster=name, services=[name], include=["TAGS"]) or {}
        services = [s for s in found.get("services", []) if s.get("status") != "INACTIVE"]
        if not services:
            return
        service = services[0]
        attributes: Dict[str, Any] = {"cpu": None, "memory": None, "min_capacity": None, "max_capacity": None}
        task = self.call("ecs", "describe_task_definition", taskDefinition=service.get("taskDefinition", ""))
        definition = (task or {}).get("taskDefinition") or {}
        for key in ("cpu", "memory"):
            value = definition.get(key)
            attributes[key] = int(value) if value is not None and str(value).isdigit() else value
        scaling = (
            self.call(
                "application-autoscaling",
                "describe_scalable_targets",
                ServiceNamespace="ecs",
                ResourceIds=["service/%s/%s" % (name, service.get("serviceName", name))],
                ScalableDimension="ecs:service:DesiredCount",
            )
            or {}
        )
        targets = scaling.get("ScalableTargets") or []
        if targets:
            attributes["min_capacity"] = targets[0].get("MinCapacity")
            attributes["max_capacity"] = targets[0].get("MaxCapacity")
        self.add("ecs_service", service.get("serviceName", name), attributes, service.get("serviceArn", ""))

    def read(self) -> Observation:
        steps: List[Callable[[], None]] = [
            self.network,
            self.databases,
            self.caches,
            self.buckets,
            self.queues,
            self.compute,
        ]
        for step in steps:
            step()
        return Observation(resources=list(self.found))


def observe(
    expectation: Expectation,
    profile: Optional[str] = None,
    endpoint_url: Optional[str] = None,
    session: Any = None,
) -> Observation:
    """What the account holds for the expectation's service and environment."""
    return AwsReader(expectation, profile=profile, endpoint_url=endpoint_url, session=session).read()


__all__ = ["BOTO3_IMPORT_ERROR", "HAS_BOTO3", "AwsReader", "observe"]
