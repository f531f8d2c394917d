# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudFormation (AWS): one ``template.yaml`` and a parameter file per environment.

The template is built as Python data and serialised with ``yaml.safe_dump``: a
document value is always a YAML scalar, so it cannot change the template's
structure, and intrinsic functions are written in their long form
(``{"Ref": ...}``, ``Fn::GetAtt``, ``Fn::Join``).  Document values never go into
``Fn::Sub`` strings, so ``${...}`` in a document is only text.  The resource set
follows ``pulumi_plan.plan`` and matches the Terraform and Pulumi programs for
AWS: network, load balancer, compute (ECS Fargate, an EC2 Auto Scaling group or
Lambda), registry, data services the documents ask for, secrets, alarms and
budgets.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Tuple

try:
    import yaml

    _SafeDumper: Any = yaml.SafeDumper
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None  # type: ignore[assignment]
    _SafeDumper = object

from ..errors import UsageError
from ..fileset import FileSet, GeneratedFile
from ..model import Model
from . import common
from .pulumi_plan import Plan, plan

TEMPLATE = "template.yaml"

#: Fargate CPU units and the memory sizes (MiB) each allows.
FARGATE: Tuple[Tuple[int, Tuple[int, ...]], ...] = (
    (256, (512, 1024, 2048)),
    (512, tuple(range(1024, 4097, 1024))),
    (1024, tuple(range(2048, 8193, 1024))),
    (2048, tuple(range(4096, 16385, 1024))),
    (4096, tuple(range(8192, 30721, 1024))),
    (8192, tuple(range(16384, 61441, 4096))),
    (16384, tuple(range(32768, 122881, 8192))),
)

#: ElastiCache node types by memory (MiB they hold).
CACHE_NODES: Tuple[Tuple[int, str], ...] = (
    (512, "cache.t4g.micro"),
    (1370, "cache.t4g.small"),
    (3090, "cache.t4g.medium"),
    (6380, "cache.m7g.large"),
    (12930, "cache.m7g.xlarge"),
    (26040, "cache.r7g.xlarge"),
)

RDS_ENGINES = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mariadb", "sqlserver": "sqlserver-ex"}
DB_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306, "sqlserver": 1433}
DB_LOGS = {
    "postgresql": ["postgresql", "upgrade"],
    "mysql": ["error", "general", "slowquery"],
    "mariadb": ["error", "general", "slowquery"],
    "sqlserver": ["error"],
}
#: Cost Explorer service names per 9.5.7 resource row.
BUDGET_SERVICES = {
    "ecs": "Amazon Elastic Container Service",
    "asg": "Amazon Elastic Compute Cloud - Compute",
    "lambda": "AWS Lambda",
    "relational": "Amazon Relational Database Service",
    "document": "Amazon DynamoDB",
    "cache": "Amazon ElastiCache",
    "storage": "Amazon Simple Storage Service",
    "queue": "Amazon Simple Queue Service",
}
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
CACHE_PORT = 6379


def ref(name: str) -> Dict[str, Any]:
    return {"Ref": name}


def att(name: str, attribute: str) -> Dict[str, Any]:
    return {"Fn::GetAtt": [name, attribute]}


def join(sep: str, parts: List[Any]) -> Dict[str, Any]:
    return {"Fn::Join": [sep, parts]}


def sub(text: str) -> Dict[str, Any]:
    """``Fn::Sub`` of a string written here (never of document text)."""
    return {"Fn::Sub": text}


def when(condition: str, yes: Any, no: Any) -> Dict[str, Any]:
    return {"Fn::If": [condition, yes, no]}


NO_VALUE = {"Ref": "AWS::NoValue"}


def fargate_size(vcpu: float, memory_mib: int) -> Tuple[int, int]:
    """The smallest Fargate (cpu units, memory MiB) holding ``vcpu`` and ``memory_mib``."""
    units = round(vcpu * 1024)
    for cpu, memories in FARGATE:
        if cpu < units:
            continue
        for memory in memories:
            if memory >= memory_mib:
                return cpu, memory
    return FARGATE[-1][0], FARGATE[-1][1][-1]


def cache_node(memory_mib: int) -> str:
    for size, node in CACHE_NODES:
        if memory_mib <= size:
            return node
    return CACHE_NODES[-1][1]


def instance_type(model: Model, p: Plan) -> str:
    compute = model.infrastructure.compute
    given = compute.instance_type if compute else None
    if given and re.match(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", given):
        return given
    if p.vcpu <= 2 and p.memory_mib <= 4096:
        return "t3.medium"
    if p.vcpu <= 2 and p.memory_mib <= 8192:
        return "m6i.large"
    if p.vcpu <= 4 and p.memory_mib <= 16384:
        return "m6i.xlarge"
    return "m6i.2xlarge"


def db_instance_class(p: Plan) -> str:
    given = p.db_instance_class
    if given and re.match(r"^db\.[a-z0-9]+\.[a-z0-9]+$", given):
        return given
    return "db.t3.medium" if p.db_engine == "sqlserver" else "db.t4g.medium"


def engine_major(p: Plan) -> Optional[str]:
    """The major version of a relational engine as RDS takes it (``15`` for PostgreSQL 15.5,
    ``8.0`` for MySQL 8.0.36); None for SQL Server and for versions that are not numbers."""
    if p.database != "relational" or not p.db_version or p.db_engine == "sqlserver":
        return None
    m = re.match(r"^\s*v?(\d+)(?:\.(\d+))?", p.db_version)
    if not m:
        return None
    if p.db_engine == "postgresql":
        return m.group(1)
    return "%s.%s" % (m.group(1), m.group(2) or "0")


def image_tag(model: Model) -> str:
    tag = re.sub(r"[^A-Za-z0-9_.-]", "-", common.image_tag(model))[:128]
    return tag if re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", tag) else "0.1.0"


def comment_text(note: Optional[str]) -> Optional[str]:
    """A source note safe as one YAML comment line (no line breaks, no control characters)."""
    if not note:
        return None
    text = "".join(ch if ch.isprintable() else " " for ch in note)
    return " ".join(text.split()) or None


def literal_subs(value: Any) -> Any:
    """A copy of ``value`` where every string holding ``${`` (only document text can: the
    renderer writes its own substitutions as ``Fn::Sub`` already) is split with ``Fn::Join``
    between the ``$`` and the ``{``: CloudFormation joins it back into the same literal text,
    and no single string holds ``${`` (cfn-lint E1029 rejects one outside ``Fn::Sub``, and
    W1020 an ``Fn::Sub`` without variables)."""
    if isinstance(value, str):
        if "${" not in value:
            return value
        pieces = value.split("${")
        parts = [pieces[0] + "$"] + ["{" + p + "$" for p in pieces[1:-1]] + ["{" + pieces[-1]]
        return {"Fn::Join": ["", parts]}
    if isinstance(value, list):
        return [literal_subs(v) for v in value]
    if isinstance(value, dict):
        if "Fn::Sub" in value:
            return value
        return {k: literal_subs(v) for k, v in value.items()}
    return value


class _Dumper(_SafeDumper):  # type: ignore[misc]
    """Safe YAML without anchors (a repeated dict is written again, never aliased)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


class Template:
    """A CloudFormation template under construction."""

    def __init__(self, model: Model, p: Plan) -> None:
        self.model = model
        self.p = p
        self.parameters: Dict[str, Any] = {}
        self.conditions: Dict[str, Any] = {}
        self.resources: Dict[str, Any] = {}
        self.outputs: Dict[str, Any] = {}
        self.notes: Dict[str, str] = {}

    def tags(self, name: Optional[str] = None) -> List[Dict[str, Any]]:
        items: List[Dict[str, Any]] = []
        for key, value in sorted(common.tags(self.model, "environment").items()):
            items.append({"Key": key, "Value": ref("Environment") if key == "Environment" else value})
        if name is not None:
            items.append({"Key": "Name", "Value": join("-", [self.p.name, ref("Environment"), name])})
        return sorted(items, key=lambda t: str(t["Key"]))

    def add(
        self,
        logical: str,
        kind: str,
        props: Dict[str, Any],
        source: Optional[str] = None,
        condition: Optional[str] = None,
        skips: Optional[List[Tuple[str, str]]] = None,
        depends: Optional[List[str]] = None,
        retain: bool = False,
    ) -> None:
        if logical in self.resources:
            raise ValueError("two resources named %s" % logical)
        body: Dict[str, Any] = {"Type": kind}
        if condition:
            body["Condition"] = condition
        if depends:
            body["DependsOn"] = depends
        if retain:
            body["DeletionPolicy"] = "Snapshot" if kind == "AWS::RDS::DBInstance" else "Retain"
            body["UpdateReplacePolicy"] = body["DeletionPolicy"]
        if skips:
            body["Metadata"] = {"checkov": {"skip": [{"id": cid, "comment": why} for cid, why in skips]}}
        body["Properties"] = props
        self.resources[logical] = body
        if source:
            note = comment_text(common.source_note(self.model, source))
            if note:
                self.notes[logical] = note

    def document(self) -> Dict[str, Any]:
        """The template as data; ``${`` in a document value is kept literal (see ``literal_subs``)."""
        title = " ".join("".join(ch if ch.isprintable() else " " for ch in self.model.service.title).split())
        description = "%s (%s): infrastructure generated by sdd.devops_flow" % (
            self.model.service.name,
            self.model.req_id,
        )
        if title:
            description = "%s - %s" % (description, title)
        return {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": description[:1000],
            "Parameters": self.parameters,
            "Conditions": self.conditions,
            "Resources": literal_subs(self.resources),
            "Outputs": literal_subs(self.outputs),
        }

    def dump(self) -> str:
        text = yaml.dump(
            self.document(),
            Dumper=_Dumper,
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=True,
            width=4096,
        )
        lines = []
        in_resources = False
        for line in text.split("\n"):
            if not line.startswith(" "):
                in_resources = line == "Resources:"
            elif in_resources and line.startswith("  ") and not line.startswith("   ") and line.endswith(":"):
                note = self.notes.get(line.strip()[:-1])
                if note:
                    lines.append("  # " + note)
            lines.append(line)
        return "\n".join(lines)


# --------------------------------------------------------------------------- sections


def _parameters(t: Template, model: Model) -> None:
    p = t.p
    envs = p.environments
    first = envs[0]
    t.parameters["Environment"] = {
        "Type": "String",
        "Description": "Environment of this stack (9.5.2)",
        "AllowedValues": [e.slug for e in envs],
        "Default": first.slug,
    }
    t.parameters["VpcCidr"] = {
        "Type": "String",
        "Description": "IPv4 CIDR of the VPC, /16 to /24",
        "AllowedPattern": r"^(\d{1,3}\.){3}\d{1,3}/(1[6-9]|2[0-4])$",
        "Default": p.cidr,
    }
    high = max(e.max_capacity for e in envs)
    for name, text, default in (
        ("DesiredCount", "Instances (tasks, instances or provisioned executions) to run", first.desired),
        ("MinCapacity", "Lowest instance count autoscaling may set", first.min_capacity),
        ("MaxCapacity", "Highest instance count autoscaling may set", first.max_capacity),
    ):
        if p.family == "lambda" and name != "MaxCapacity":
            continue
        t.parameters[name] = {
            "Type": "Number",
            "Description": text,
            "MinValue": 1 if name == "MaxCapacity" else 0,
            "MaxValue": max(high, 1) * 10,
            "Default": default if name != "MaxCapacity" else max(default, 1),
        }
    t.parameters["ImageTag"] = {
        "Type": "String",
        "Description": "Tag of the image in the ECR repository to deploy",
        "AllowedPattern": r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
        "Default": image_tag(model),
    }
    if p.blue_green and p.family == "ecs":
        t.parameters["DeploymentStrategy"] = {
            "Type": "String",
            "Description": "ECS deployment strategy of this environment (9.5.2)",
            "AllowedValues": ["ROLLING", "BLUE_GREEN", "CANARY"],
            "Default": first.strategy,
        }
        t.parameters["CanaryPercent"] = {
            "Type": "Number",
            "Description": "Traffic share of the first canary step, in percent (9.5.8)",
            "MinValue": 1,
            "MaxValue": 99,
            "Default": first.canary_percent,
        }
    if p.database == "relational":
        t.parameters["MultiAz"] = {
            "Type": "String",
            "Description": "Run the database in several availability zones",
            "AllowedValues": ["true", "false"],
            "Default": "true" if first.multi_az else "false",
        }
        t.parameters["DbInstanceClass"] = {
            "Type": "String",
            "Description": "RDS instance class",
            "AllowedPattern": r"^db\.[a-z0-9]+\.[a-z0-9]+$",
            "Default": db_instance_class(p),
        }
    version = engine_major(p)
    if version:
        t.parameters["DbEngineVersion"] = {
            "Type": "String",
            "Description": "Major engine version of the database (9.5.1); minor versions are upgraded automatically",
            "AllowedPattern": r"^\d+(\.\d+)?$",
            "Default": version,
        }
    if p.family == "asg":
        t.parameters["InstanceType"] = {
            "Type": "String",
            "Description": "EC2 instance type of the Auto Scaling group",
            "AllowedPattern": r"^[a-z][a-z0-9-]*\.[a-z0-9]+$",
            "Default": instance_type(model, p),
        }
        t.parameters["ImageId"] = {
            "Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
            "Description": "AMI of the instances (the current Amazon Linux 2023)",
            "Default": AMI_PARAMETER,
        }
    if not p.domain:
        t.parameters["CertificateArn"] = {
            "Type": "String",
            "Description": "ARN of the ACM certificate of the HTTPS listener (the documents name no domain)",
            "AllowedPattern": r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$",
        }
    if p.storage and p.replication:
        t.parameters["ReplicaBucketArn"] = {
            "Type": "String",
            "Description": "ARN of the versioned bucket in the second region that objects are replicated to",
            "AllowedPattern": r"^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
        }
        t.parameters["ReplicaKmsKeyArn"] = {
            "Type": "String",
            "Description": "ARN of the KMS key of the replica bucket",
            "AllowedPattern": r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$",
        }


def _conditions(t: Template) -> None:
    p = t.p
    prod = next((e for e in p.environments if e.production), p.environments[-1])
    t.conditions["IsProduction"] = {"Fn::Equals": [ref("Environment"), prod.slug]}
    if "DeploymentStrategy" in t.parameters:
        t.conditions["UseBlueGreen"] = {"Fn::Not": [{"Fn::Equals": [ref("DeploymentStrategy"), "ROLLING"]}]}
        t.conditions["UseCanary"] = {"Fn::Equals": [ref("DeploymentStrategy"), "CANARY"]}
    if "MultiAz" in t.parameters:
        t.conditions["UseMultiAz"] = {"Fn::Equals": [ref("MultiAz"), "true"]}


def _kms(t: Template) -> None:
    statements = [
        {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "CloudWatchLogs",
            "Effect": "Allow",
            "Principal": {"Service": sub("logs.${AWS::Region}.amazonaws.com")},
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": sub(
                        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
                    )
                }
            },
        },
        {
            "Sid": "AlarmsAndBudgetsPublish",
            "Effect": "Allow",
            "Principal": {"Service": ["budgets.amazonaws.com", "cloudwatch.amazonaws.com"]},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}},
        },
    ]
    t.add(
        "KmsKey",
        "AWS::KMS::Key",
        {
            "Description": join(" ", [t.p.name, ref("Environment"), "data key"]),
            "EnableKeyRotation": True,
            "PendingWindowInDays": 30,
            "KeyPolicy": {"Version": "2012-10-17", "Statement": statements},
            "Tags": t.tags(),
        },
        retain=True,
    )
    t.add(
        "KmsAlias",
        "AWS::KMS::Alias",
        {"AliasName": join("", ["alias/", t.p.name, "-", ref("Environment")]), "TargetKeyId": ref("KmsKey")},
    )


def _log_group(t: Template, logical: str, days: int, source: Optional[str] = None) -> None:
    retention = min(
        (
            d
            for d in (
                1,
                3,
                5,
                7,
                14,
                30,
                60,
                90,
                120,
                150,
                180,
                365,
                400,
                545,
                731,
                1096,
                1827,
                2192,
                2557,
                2922,
                3288,
                3653,
            )
            if d >= days
        ),
        default=3653,
    )
    t.add(
        logical,
        "AWS::Logs::LogGroup",
        {"RetentionInDays": retention, "KmsKeyId": att("KmsKey", "Arn"), "Tags": t.tags()},
        source=source,
        retain=True,
    )


def _network(t: Template) -> None:
    p = t.p
    n = p.zone_count
    net = "infrastructure.network"
    t.add(
        "Vpc",
        "AWS::EC2::VPC",
        {"CidrBlock": ref("VpcCidr"), "EnableDnsHostnames": True, "EnableDnsSupport": True, "Tags": t.tags("vpc")},
        source=net,
    )
    t.add("InternetGateway", "AWS::EC2::InternetGateway", {"Tags": t.tags("igw")})
    t.add(
        "GatewayAttachment",
        "AWS::EC2::VPCGatewayAttachment",
        {"VpcId": ref("Vpc"), "InternetGatewayId": ref("InternetGateway")},
    )
    cidr_bits = {"Fn::Cidr": [ref("VpcCidr"), 2 * n, att_bits(p.cidr, 2 * n)]}
    for i in range(n):
        zone = {"Fn::Select": [i, {"Fn::GetAZs": ""}]}
        t.add(
            "PublicSubnet%d" % (i + 1),
            "AWS::EC2::Subnet",
            {
                "VpcId": ref("Vpc"),
                "AvailabilityZone": zone,
                "CidrBlock": {"Fn::Select": [i, cidr_bits]},
                "MapPublicIpOnLaunch": False,
                "Tags": t.tags("public-%d" % (i + 1)),
            },
            source=net,
        )
        t.add(
            "PrivateSubnet%d" % (i + 1),
            "AWS::EC2::Subnet",
            {
                "VpcId": ref("Vpc"),
                "AvailabilityZone": zone,
                "CidrBlock": {"Fn::Select": [n + i, cidr_bits]},
                "MapPublicIpOnLaunch": False,
                "Tags": t.tags("private-%d" % (i + 1)),
            },
            source=net,
        )
    t.add("PublicRouteTable", "AWS::EC2::RouteTable", {"VpcId": ref("Vpc"), "Tags": t.tags("public")})
    t.add(
        "PublicRoute",
        "AWS::EC2::Route",
        {
            "RouteTableId": ref("PublicRouteTable"),
            "DestinationCidrBlock": "0.0.0.0/0",
            "GatewayId": ref("InternetGateway"),
        },
        depends=["GatewayAttachment"],
    )
    t.add("NatEip", "AWS::EC2::EIP", {"Domain": "vpc", "Tags": t.tags("nat")}, depends=["GatewayAttachment"])
    t.add(
        "NatGateway",
        "AWS::EC2::NatGateway",
        {"AllocationId": att("NatEip", "AllocationId"), "SubnetId": ref("PublicSubnet1"), "Tags": t.tags("nat")},
    )
    t.add("PrivateRouteTable", "AWS::EC2::RouteTable", {"VpcId": ref("Vpc"), "Tags": t.tags("private")})
    t.add(
        "PrivateRoute",
        "AWS::EC2::Route",
        {
            "RouteTableId": ref("PrivateRouteTable"),
            "DestinationCidrBlock": "0.0.0.0/0",
            "NatGatewayId": ref("NatGateway"),
        },
    )
    for i in range(n):
        for kind in ("Public", "Private"):
            t.add(
                "%sSubnet%dRouteTableAssociation" % (kind, i + 1),
                "AWS::EC2::SubnetRouteTableAssociation",
                {"SubnetId": ref("%sSubnet%d" % (kind, i + 1)), "RouteTableId": ref("%sRouteTable" % kind)},
            )
    _log_group(t, "FlowLogGroup", max(p.log_days, 1))
    t.add(
        "FlowLogRole",
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": _trust("vpc-flow-logs.amazonaws.com"),
            "Policies": [
                {
                    "PolicyName": "flow-logs",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                                "Resource": att("FlowLogGroup", "Arn"),
                            }
                        ],
                    },
                }
            ],
            "Tags": t.tags(),
        },
    )
    t.add(
        "FlowLog",
        "AWS::EC2::FlowLog",
        {
            "ResourceId": ref("Vpc"),
            "ResourceType": "VPC",
            "TrafficType": "ALL",
            "LogDestinationType": "cloud-watch-logs",
            "LogGroupName": ref("FlowLogGroup"),
            "DeliverLogsPermissionArn": att("FlowLogRole", "Arn"),
            "Tags": t.tags("flow-log"),
        },
    )


def att_bits(cidr: str, count: int) -> int:
    """Host bits of each subnet when a VPC CIDR is cut into ``count`` equal subnets (a power of two)."""
    prefix = int(cidr.split("/")[1])
    need = 1
    while (1 << need) < count:
        need += 1
    return 32 - prefix - need


def _trust(*services: str) -> Dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": list(services) if len(services) > 1 else services[0]},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def _security_groups(t: Template) -> None:
    p = t.p
    rules = "security.network_rules"
    t.add(
        "AlbSecurityGroup",
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": "Load balancer: HTTPS from the internet, HTTP only to redirect",
            "VpcId": ref("Vpc"),
            "SecurityGroupIngress": [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "CidrIp": "0.0.0.0/0",
                    "Description": "HTTPS from the internet",
                },
                {
                    "IpProtocol": "tcp",
                    "FromPort": 80,
                    "ToPort": 80,
                    "CidrIp": "0.0.0.0/0",
                    "Description": "HTTP from the internet, redirected to HTTPS",
                },
            ],
            "Tags": t.tags("alb"),
        },
        source=rules,
        skips=[("CKV_AWS_260", "port 80 only answers with a redirect to HTTPS (listener HttpListener)")],
    )
    t.add(
        "AppSecurityGroup",
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": "Service: the application port from the load balancer only",
            "VpcId": ref("Vpc"),
            "Tags": t.tags("app"),
        },
        source=rules,
    )
    t.add(
        "AlbToAppEgress",
        "AWS::EC2::SecurityGroupEgress",
        {
            "GroupId": ref("AlbSecurityGroup"),
            "IpProtocol": "tcp",
            "FromPort": p.port,
            "ToPort": p.port,
            "DestinationSecurityGroupId": ref("AppSecurityGroup"),
            "Description": "Load balancer to the service port",
        },
    )
    t.add(
        "AppFromAlbIngress",
        "AWS::EC2::SecurityGroupIngress",
        {
            "GroupId": ref("AppSecurityGroup"),
            "IpProtocol": "tcp",
            "FromPort": p.port,
            "ToPort": p.port,
            "SourceSecurityGroupId": ref("AlbSecurityGroup"),
            "Description": "Service port from the load balancer",
        },
    )
    t.add(
        "AppHttpsEgress",
        "AWS::EC2::SecurityGroupEgress",
        {
            "GroupId": ref("AppSecurityGroup"),
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to AWS APIs and the image registry",
        },
    )
    data: List[Tuple[str, int, str]] = []
    if p.database == "relational":
        data.append(("Database", DB_PORTS[p.db_engine], "infrastructure.database"))
    if p.cache:
        data.append(("Cache", CACHE_PORT, "infrastructure.cache"))
    for name, port, source in data:
        t.add(
            "%sSecurityGroup" % name,
            "AWS::EC2::SecurityGroup",
            {
                "GroupDescription": "%s: port %d from the service only" % (name, port),
                "VpcId": ref("Vpc"),
                "SecurityGroupEgress": [
                    {
                        "IpProtocol": "-1",
                        "CidrIp": "127.0.0.1/32",
                        "Description": "No outbound traffic",
                    }
                ],
                "Tags": t.tags(name.lower()),
            },
            source=source,
        )
        t.add(
            "AppTo%sEgress" % name,
            "AWS::EC2::SecurityGroupEgress",
            {
                "GroupId": ref("AppSecurityGroup"),
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "DestinationSecurityGroupId": ref("%sSecurityGroup" % name),
                "Description": "Service to the %s" % name.lower(),
            },
        )
        t.add(
            "%sFromAppIngress" % name,
            "AWS::EC2::SecurityGroupIngress",
            {
                "GroupId": ref("%sSecurityGroup" % name),
                "IpProtocol": "tcp",
                "FromPort": port,
                "ToPort": port,
                "SourceSecurityGroupId": ref("AppSecurityGroup"),
                "Description": "%s port from the service" % name,
            },
        )


def _private_subnets(p: Plan) -> List[Dict[str, Any]]:
    return [ref("PrivateSubnet%d" % (i + 1)) for i in range(p.zone_count)]


def _public_subnets(p: Plan) -> List[Dict[str, Any]]:
    return [ref("PublicSubnet%d" % (i + 1)) for i in range(p.zone_count)]


def _log_bucket(t: Template) -> None:
    t.add(
        "LogBucket",
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": _public_access_block(),
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {
                "Rules": [
                    {
                        "Id": "expire-access-logs",
                        "Status": "Enabled",
                        "ExpirationInDays": max(t.p.log_days, 1),
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                    }
                ]
            },
            "Tags": t.tags("logs"),
        },
        skips=[
            ("CKV_AWS_18", "this bucket receives the access logs; logging it to itself would loop"),
        ],
        retain=True,
    )
    t.add(
        "LogBucketPolicy",
        "AWS::S3::BucketPolicy",
        {
            "Bucket": ref("LogBucket"),
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    _deny_insecure("LogBucket"),
                    {
                        "Sid": "LoadBalancerAccessLogs",
                        "Effect": "Allow",
                        "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": join("", [att("LogBucket", "Arn"), "/alb/AWSLogs/", ref("AWS::AccountId"), "/*"]),
                    },
                    {
                        "Sid": "S3ServerAccessLogs",
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": join("", [att("LogBucket", "Arn"), "/s3/*"]),
                        "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}},
                    },
                ],
            },
        },
    )


def _public_access_block() -> Dict[str, bool]:
    return {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


def _deny_insecure(bucket: str) -> Dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [att(bucket, "Arn"), join("", [att(bucket, "Arn"), "/*"])],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _load_balancer(t: Template) -> None:
    p = t.p
    t.add(
        "LoadBalancer",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "Type": "application",
            "Scheme": "internet-facing",
            "Subnets": _public_subnets(p),
            "SecurityGroups": [ref("AlbSecurityGroup")],
            "LoadBalancerAttributes": [
                {"Key": "access_logs.s3.enabled", "Value": "true"},
                {"Key": "access_logs.s3.bucket", "Value": ref("LogBucket")},
                {"Key": "access_logs.s3.prefix", "Value": "alb"},
                {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                {"Key": "deletion_protection.enabled", "Value": when("IsProduction", "true", "false")},
            ],
            "Tags": t.tags("alb"),
        },
        source="infrastructure.network.load_balancer",
        depends=["LogBucketPolicy"],
    )
    colours = ["Blue", "Green"] if p.blue_green and p.family != "lambda" else ["Blue"]
    for colour in colours:
        props: Dict[str, Any] = {
            "HealthCheckEnabled": True,
            "HealthCheckPath": p.health_path,
            "Matcher": {"HttpCode": "200-399"},
            "Tags": t.tags("tg-%s" % colour.lower()),
        }
        health = t.model.service.health
        if health.interval_seconds and 5 <= health.interval_seconds <= 300:
            props["HealthCheckIntervalSeconds"] = health.interval_seconds
        interval = props.get("HealthCheckIntervalSeconds", 30)
        if health.timeout_seconds and 2 <= health.timeout_seconds <= 120 and health.timeout_seconds < interval:
            props["HealthCheckTimeoutSeconds"] = health.timeout_seconds
        if health.failure_threshold and 2 <= health.failure_threshold <= 10:
            props["UnhealthyThresholdCount"] = health.failure_threshold
        if p.family == "lambda":
            props = {
                "TargetType": "lambda",
                "HealthCheckEnabled": True,
                "HealthCheckPath": p.health_path,
                "Matcher": {"HttpCode": "200-399"},
                "Targets": [{"Id": ref("FunctionAlias")}],
                "Tags": props["Tags"],
            }
        else:
            props.update(
                {
                    "TargetType": "ip" if p.family == "ecs" else "instance",
                    "Port": p.port,
                    "Protocol": "HTTP",
                    "HealthCheckProtocol": "HTTP",
                    "VpcId": ref("Vpc"),
                    "TargetGroupAttributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}],
                }
            )
        t.add(
            "TargetGroup%s" % colour,
            "AWS::ElasticLoadBalancingV2::TargetGroup",
            props,
            source="service.health",
            depends=["FunctionInvokePermission"] if p.family == "lambda" else None,
        )
    if p.domain:
        t.add(
            "Certificate",
            "AWS::CertificateManager::Certificate",
            {"DomainName": p.domain, "ValidationMethod": "DNS", "Tags": t.tags("cert")},
            source="security.tls.domain",
        )
        certificate: Dict[str, Any] = ref("Certificate")
    else:
        certificate = ref("CertificateArn")
    forward: Dict[str, Any] = {"Type": "forward", "TargetGroupArn": ref("TargetGroupBlue")}
    t.add(
        "HttpsListener",
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "LoadBalancerArn": ref("LoadBalancer"),
            "Port": 443,
            "Protocol": "HTTPS",
            "SslPolicy": TLS_POLICY,
            "Certificates": [{"CertificateArn": certificate}],
            "DefaultActions": [forward],
        },
        source="security.tls",
    )
    t.add(
        "HttpListener",
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "LoadBalancerArn": ref("LoadBalancer"),
            "Port": 80,
            "Protocol": "HTTP",
            "DefaultActions": [
                {
                    "Type": "redirect",
                    "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
                }
            ],
        },
    )
    if len(colours) == 2:
        t.add(
            "ProductionListenerRule",
            "AWS::ElasticLoadBalancingV2::ListenerRule",
            {
                "ListenerArn": ref("HttpsListener"),
                "Priority": 1,
                "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
                "Actions": [
                    {
                        "Type": "forward",
                        "ForwardConfig": {
                            "TargetGroups": [
                                {"TargetGroupArn": ref("TargetGroupBlue"), "Weight": 100},
                                {"TargetGroupArn": ref("TargetGroupGreen"), "Weight": 0},
                            ]
                        },
                    }
                ],
            },
            source="environments",
        )


def _registry(t: Template) -> None:
    t.add(
        "Repository",
        "AWS::ECR::Repository",
        {
            "ImageTagMutability": "IMMUTABLE",
            "ImageScanningConfiguration": {"ScanOnPush": True},
            "EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": att("KmsKey", "Arn")},
            "LifecyclePolicy": {
                "LifecyclePolicyText": json.dumps(
                    {
                        "rules": [
                            {
                                "rulePriority": 1,
                                "description": "keep the last 50 images",
                                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 50},
                                "action": {"type": "expire"},
                            }
                        ]
                    },
                    sort_keys=True,
                )
            },
            "Tags": t.tags("ecr"),
        },
        source="security.image_scanning",
        retain=True,
    )


def _secrets(t: Template) -> List[Tuple[str, str]]:
    """One Secrets Manager secret per sensitive variable: (variable, logical id)."""
    out = []
    for index, name in enumerate(t.p.secrets):
        logical = "Secret%d" % (index + 1)
        t.add(
            logical,
            "AWS::SecretsManager::Secret",
            {
                "Description": join(
                    " ", ["Value of", name, "for", t.p.name, ref("Environment"), "(set by the owners)"]
                ),
                "Name": join("/", [t.p.name, ref("Environment"), re.sub(r"[^A-Za-z0-9_+=.@-]", "-", name)[:200]]),
                "KmsKeyId": ref("KmsKey"),
                "GenerateSecretString": {"PasswordLength": 32, "ExcludePunctuation": True},
                "Tags": t.tags(),
            },
            source="service.env",
        )
        out.append((name, logical))
    return out


def _data(t: Template) -> None:
    p = t.p
    if p.database == "relational":
        engine = RDS_ENGINES[p.db_engine]
        t.add(
            "DbSubnetGroup",
            "AWS::RDS::DBSubnetGroup",
            {
                "DBSubnetGroupDescription": "Private subnets of the database",
                "SubnetIds": _private_subnets(p),
                "Tags": t.tags("db"),
            },
        )
        t.add(
            "DbMonitoringRole",
            "AWS::IAM::Role",
            {
                "AssumeRolePolicyDocument": _trust("monitoring.rds.amazonaws.com"),
                "ManagedPolicyArns": [
                    sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole")
                ],
                "Tags": t.tags(),
            },
        )
        props: Dict[str, Any] = {
            "Engine": engine,
            "DBInstanceClass": ref("DbInstanceClass"),
            "AllocatedStorage": str(p.db_storage_gb),
            "MaxAllocatedStorage": max(p.db_storage_gb * 2, p.db_storage_gb + 10),
            "StorageType": "gp3",
            "StorageEncrypted": True,
            "KmsKeyId": ref("KmsKey"),
            "MasterUsername": "app_admin",
            "ManageMasterUserPassword": True,
            "MasterUserSecret": {"KmsKeyId": ref("KmsKey")},
            "MultiAZ": when("UseMultiAz", True, False),
            "DeletionProtection": when("IsProduction", True, False),
            "BackupRetentionPeriod": p.backup_days,
            "CopyTagsToSnapshot": True,
            "PubliclyAccessible": False,
            "AutoMinorVersionUpgrade": True,
            "EnableIAMDatabaseAuthentication": p.db_engine != "sqlserver",
            "EnablePerformanceInsights": True,
            "PerformanceInsightsKMSKeyId": ref("KmsKey"),
            "PerformanceInsightsRetentionPeriod": 7,
            "MonitoringInterval": 60,
            "MonitoringRoleArn": att("DbMonitoringRole", "Arn"),
            "EnableCloudwatchLogsExports": DB_LOGS[p.db_engine],
            "DBSubnetGroupName": ref("DbSubnetGroup"),
            "VPCSecurityGroups": [ref("DatabaseSecurityGroup")],
            "Tags": t.tags("db"),
        }
        if p.db_engine == "sqlserver":
            props["LicenseModel"] = "license-included"
            del props["EnableIAMDatabaseAuthentication"]
        if "DbEngineVersion" in t.parameters:
            props["EngineVersion"] = ref("DbEngineVersion")
        t.add(
            "Database",
            "AWS::RDS::DBInstance",
            props,
            source="infrastructure.database",
            retain=True,
            skips=[
                (
                    "CKV_AWS_157",
                    "Multi-AZ follows the MultiAz parameter: on where the documents ask for HA (9.5.1, 9.5.2)",
                )
            ],
        )
    elif p.database == "document":
        t.add(
            "Table",
            "AWS::DynamoDB::Table",
            {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": ref("KmsKey")},
                "PointInTimeRecoverySpecification": {
                    "PointInTimeRecoveryEnabled": True,
                    "RecoveryPeriodInDays": p.backup_days,
                },
                "DeletionProtectionEnabled": when("IsProduction", True, False),
                "Tags": t.tags("table"),
            },
            source="infrastructure.database",
            retain=True,
        )
    if p.cache:
        t.add(
            "CacheSubnetGroup",
            "AWS::ElastiCache::SubnetGroup",
            {"Description": "Private subnets of the cache", "SubnetIds": _private_subnets(p), "Tags": t.tags("cache")},
        )
        t.add(
            "CacheAuthToken",
            "AWS::SecretsManager::Secret",
            {
                "Description": join(" ", ["Auth token of the cache of", p.name, ref("Environment")]),
                "KmsKeyId": ref("KmsKey"),
                "GenerateSecretString": {
                    "SecretStringTemplate": "{}",
                    "GenerateStringKey": "token",
                    "PasswordLength": 64,
                    "ExcludePunctuation": True,
                },
                "Tags": t.tags(),
            },
        )
        t.add(
            "Cache",
            "AWS::ElastiCache::ReplicationGroup",
            {
                "ReplicationGroupDescription": join(" ", [p.name, ref("Environment"), "cache"]),
                "Engine": p.cache_engine,
                "CacheNodeType": cache_node(p.cache_memory_mib),
                "NumCacheClusters": when("IsProduction", 2, 1) if not p.cache_ha else 2,
                "AutomaticFailoverEnabled": when("IsProduction", True, False) if not p.cache_ha else True,
                "MultiAZEnabled": when("IsProduction", True, False) if not p.cache_ha else True,
                "AtRestEncryptionEnabled": True,
                "TransitEncryptionEnabled": True,
                "KmsKeyId": ref("KmsKey"),
                "AuthToken": join("", ["{{resolve:secretsmanager:", ref("CacheAuthToken"), ":SecretString:token}}"]),
                "Port": CACHE_PORT,
                "CacheSubnetGroupName": ref("CacheSubnetGroup"),
                "SecurityGroupIds": [ref("CacheSecurityGroup")],
                "SnapshotRetentionLimit": min(p.backup_days, 35),
                "AutoMinorVersionUpgrade": True,
                "Tags": t.tags("cache"),
            },
            source="infrastructure.cache",
        )
    if p.storage:
        lifecycle: List[Dict[str, Any]] = [
            {
                "Id": "abort-incomplete-uploads",
                "Status": "Enabled",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            }
        ]
        if p.storage_retention_days:
            lifecycle.append(
                {
                    "Id": "retention",
                    "Status": "Enabled",
                    "ExpirationInDays": p.storage_retention_days,
                    "NoncurrentVersionExpiration": {"NoncurrentDays": p.storage_retention_days},
                }
            )
        bucket: Dict[str, Any] = {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {
                        "ServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": att("KmsKey", "Arn"),
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": _public_access_block(),
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "LifecycleConfiguration": {"Rules": lifecycle},
            "LoggingConfiguration": {"DestinationBucketName": ref("LogBucket"), "LogFilePrefix": "s3/"},
            "Tags": t.tags("data"),
        }
        if p.replication:
            bucket["ReplicationConfiguration"] = {
                "Role": att("ReplicationRole", "Arn"),
                "Rules": [
                    {
                        "Id": "second-region",
                        "Status": "Enabled",
                        "Priority": 1,
                        "Filter": {"Prefix": ""},
                        "DeleteMarkerReplication": {"Status": "Enabled"},
                        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                        "Destination": {
                            "Bucket": ref("ReplicaBucketArn"),
                            "EncryptionConfiguration": {"ReplicaKmsKeyID": ref("ReplicaKmsKeyArn")},
                        },
                    }
                ],
            }
            _replication_role(t)
        t.add("Bucket", "AWS::S3::Bucket", bucket, source="infrastructure.storage", retain=True)
        t.add(
            "BucketPolicy",
            "AWS::S3::BucketPolicy",
            {
                "Bucket": ref("Bucket"),
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [_deny_insecure("Bucket")]},
            },
        )
    if p.queue:
        fifo = p.queue_fifo
        dlq: Dict[str, Any] = {
            "KmsMasterKeyId": ref("KmsKey"),
            "MessageRetentionPeriod": 1209600,
            "Tags": t.tags("dlq"),
        }
        main: Dict[str, Any] = {
            "KmsMasterKeyId": ref("KmsKey"),
            "MessageRetentionPeriod": p.queue_retention_days * 86400,
            "RedrivePolicy": {"deadLetterTargetArn": att("DeadLetterQueue", "Arn"), "maxReceiveCount": p.max_receive},
            "Tags": t.tags("queue"),
        }
        if fifo:
            dlq["FifoQueue"] = True
            main["FifoQueue"] = True
            main["ContentBasedDeduplication"] = True
        t.add("DeadLetterQueue", "AWS::SQS::Queue", dlq, source="infrastructure.queue")
        t.add("Queue", "AWS::SQS::Queue", main, source="infrastructure.queue")
        t.add(
            "QueuePolicy",
            "AWS::SQS::QueuePolicy",
            {
                "Queues": [ref("Queue"), ref("DeadLetterQueue")],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "sqs:*",
                            "Resource": [att("Queue", "Arn"), att("DeadLetterQueue", "Arn")],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        )


def _replication_role(t: Template) -> None:
    t.add(
        "ReplicationRole",
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": _trust("s3.amazonaws.com"),
            "Policies": [
                {
                    "PolicyName": "replicate",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                                "Resource": sub("arn:${AWS::Partition}:s3:::${AWS::StackName}-*"),
                            },
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "s3:GetObjectVersionAcl",
                                    "s3:GetObjectVersionForReplication",
                                    "s3:GetObjectVersionTagging",
                                ],
                                "Resource": sub("arn:${AWS::Partition}:s3:::${AWS::StackName}-*/*"),
                            },
                            {
                                "Effect": "Allow",
                                "Action": ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
                                "Resource": join("", [ref("ReplicaBucketArn"), "/*"]),
                            },
                            {
                                "Effect": "Allow",
                                "Action": "kms:Decrypt",
                                "Resource": att("KmsKey", "Arn"),
                            },
                            {
                                "Effect": "Allow",
                                "Action": "kms:Encrypt",
                                "Resource": ref("ReplicaKmsKeyArn"),
                            },
                        ],
                    },
                }
            ],
            "Tags": t.tags(),
        },
    )


def _app_policy(t: Template, secrets: List[Tuple[str, str]]) -> List[Dict[str, Any]]:
    """Least-privilege statements of the service's own role."""
    p = t.p
    statements: List[Dict[str, Any]] = [
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": att("KmsKey", "Arn")}
    ]
    if secrets:
        statements.append(
            {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": [ref(logical) for name, logical in secrets],
            }
        )
    if p.storage:
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": join("", [att("Bucket", "Arn"), "/*"]),
            }
        )
        statements.append({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": att("Bucket", "Arn")})
    if p.queue:
        statements.append(
            {
                "Effect": "Allow",
                "Action": [
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ReceiveMessage",
                    "sqs:SendMessage",
                ],
                "Resource": att("Queue", "Arn"),
            }
        )
    if p.database == "document":
        statements.append(
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:BatchGetItem",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:Query",
                    "dynamodb:UpdateItem",
                ],
                "Resource": att("Table", "Arn"),
            }
        )
    if p.cache:
        statements.append(
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": ref("CacheAuthToken")}
        )
    return statements


def _environment_vars(t: Template) -> List[Tuple[str, str]]:
    """Non-sensitive variables with a default from the documents (sorted by name)."""
    out = {}
    for env in t.model.service.env:
        if not env.sensitive and env.default is not None and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", env.name):
            out[env.name] = env.default
    return sorted(out.items())


def _ecs(t: Template, secrets: List[Tuple[str, str]]) -> None:
    p = t.p
    cpu, memory = fargate_size(p.vcpu, p.memory_mib)
    _log_group(t, "AppLogGroup", p.log_days, source="observability.logging")
    t.add(
        "Cluster",
        "AWS::ECS::Cluster",
        {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}], "Tags": t.tags("cluster")},
        source="infrastructure.compute",
    )
    execution_statements: List[Dict[str, Any]] = [
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": att("KmsKey", "Arn")},
    ]
    if secrets:
        execution_statements.append(
            {
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": [ref(logical) for name, logical in secrets],
            }
        )
    t.add(
        "TaskExecutionRole",
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": _trust("ecs-tasks.amazonaws.com"),
            "ManagedPolicyArns": [
                sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
            ],
            "Policies": [
                {
                    "PolicyName": "secrets",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": execution_statements},
                }
            ],
            "Tags": t.tags(),
        },
    )
    t.add(
        "TaskRole",
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": _trust("ecs-tasks.amazonaws.com"),
            "Policies": [
                {
                    "PolicyName": "service",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": _app_policy(t, secrets)},
                }
            ],
            "Tags": t.tags(),
        },
        source="security.iam",
    )
    container: Dict[str, Any] = {
        "Name": p.name,
        "Image": join(":", [att("Repository", "RepositoryUri"), ref("ImageTag")]),
        "Essential": True,
        "ReadonlyRootFilesystem": True,
        "PortMappings": [{"ContainerPort": p.port, "Protocol": "tcp"}],
        "LogConfiguration": {
            "LogDriver": "awslogs",
            "Options": {
                "awslogs-group": ref("AppLogGroup"),
                "awslogs-region": ref("AWS::Region"),
                "awslogs-stream-prefix": p.name,
            },
        },
    }
    variables = _environment_vars(t)
    if variables:
        container["Environment"] = [{"Name": k, "Value": v} for k, v in variables]
    if secrets:
        container["Secrets"] = [{"Name": name, "ValueFrom": ref(logical)} for name, logical in secrets]
    t.add(
        "TaskDefinition",
        "AWS::ECS::TaskDefinition",
        {
            "Family": join("-", [p.name, ref("Environment")]),
            "RequiresCompatibilities": ["FARGATE"],
            "NetworkMode": "awsvpc",
            "Cpu": str(cpu),
            "Memory": str(memory),
            "ExecutionRoleArn": att("TaskExecutionRole", "Arn"),
            "TaskRoleArn": att("TaskRole", "Arn"),
            "RuntimePlatform": {"CpuArchitecture": "X86_64", "OperatingSystemFamily": "LINUX"},
            "ContainerDefinitions": [container],
            "Tags": t.tags("task"),
        },
        source="infrastructure.compute",
    )
    load_balancer: Dict[str, Any] = {
        "ContainerName": p.name,
        "ContainerPort": p.port,
        "TargetGroupArn": ref("TargetGroupBlue"),
    }
    deployment: Dict[str, Any] = {
        "MaximumPercent": 200,
        "MinimumHealthyPercent": 100,
        "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
    }
    depends = ["HttpsListener"]
    if p.blue_green:
        t.add(
            "EcsLoadBalancerRole",
            "AWS::IAM::Role",
            {
                "AssumeRolePolicyDocument": _trust("ecs.amazonaws.com"),
                "ManagedPolicyArns": [
                    sub("arn:${AWS::Partition}:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers")
                ],
                "Tags": t.tags(),
            },
        )
        load_balancer["AdvancedConfiguration"] = when(
            "UseBlueGreen",
            {
                "AlternateTargetGroupArn": ref("TargetGroupGreen"),
                "ProductionListenerRule": ref("ProductionListenerRule"),
                "RoleArn": att("EcsLoadBalancerRole", "Arn"),
            },
            NO_VALUE,
        )
        deployment = {
            "Strategy": ref("DeploymentStrategy"),
            "MaximumPercent": 200,
            "MinimumHealthyPercent": 100,
            "BakeTimeInMinutes": when("UseBlueGreen", p.environments[0].bake_minutes, NO_VALUE),
            "CanaryConfiguration": when(
                "UseCanary",
                {"CanaryPercent": ref("CanaryPercent"), "CanaryBakeTimeInMinutes": p.environments[0].bake_minutes},
                NO_VALUE,
            ),
            "DeploymentCircuitBreaker": when("UseBlueGreen", NO_VALUE, {"Enable": True, "Rollback": True}),
        }
    t.add(
        "Service",
        "AWS::ECS::Service",
        {
            "Cluster": ref("Cluster"),
            "TaskDefinition": ref("TaskDefinition"),
            "LaunchType": "FARGATE",
            "DesiredCount": ref("DesiredCount"),
            "HealthCheckGracePeriodSeconds": 60,
            "DeploymentController": {"Type": "ECS"},
            "DeploymentConfiguration": deployment,
            "NetworkConfiguration": {
                "AwsvpcConfiguration": {
                    "AssignPublicIp": "DISABLED",
                    "Subnets": _private_subnets(p),
                    "SecurityGroups": [ref("AppSecurityGroup")],
                }
            },
            "LoadBalancers": [load_balancer],
            "PropagateTags": "SERVICE",
            "EnableECSManagedTags": True,
            "Tags": t.tags("service"),
        },
        source="environments",
        depends=depends,
    )
    t.add(
        "ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        {
            "ServiceNamespace": "ecs",
            "ScalableDimension": "ecs:service:DesiredCount",
            "ResourceId": join("/", ["service", ref("Cluster"), att("Service", "Name")]),
            "MinCapacity": ref("MinCapacity"),
            "MaxCapacity": ref("MaxCapacity"),
        },
        source="service.scaling",
    )
    t.add(
        "ScalingPolicy",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyName": join("-", [p.name, ref("Environment"), "cpu"]),
            "PolicyType": "TargetTrackingScaling",
            "ScalingTargetId": ref("ScalableTarget"),
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": _cpu_target(t.model),
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                "ScaleInCooldown": 120,
                "ScaleOutCooldown": 60,
            },
        },
        source="service.scaling",
    )


def _cpu_target(model: Model) -> float:
    target = model.service.scaling.target_cpu_percent
    return float(target) if target and 1 <= target <= 100 else 70.0


def _asg(t: Template, secrets: List[Tuple[str, str]]) -> None:
    p = t.p
    _log_group(t, "AppLogGroup", p.log_days, source="observability.logging")
    statements = _app_policy(t, secrets) + [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": join("", [att("AppLogGroup", "Arn")]),
        },
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": att("Repository", "Arn"),
        },
    ]
    t.add(
        "InstanceRole",
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": _trust("ec2.amazonaws.com"),
            "ManagedPolicyArns": [sub("arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore")],
            "Policies": [
                {"PolicyName": "service", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}
            ],
            "Tags": t.tags(),
        },
        source="security.iam",
    )
    t.add("InstanceProfile", "AWS::IAM::InstanceProfile", {"Roles": [ref("InstanceRole")]})
    script = [
        "#!/bin/bash\n",
        "set -euo pipefail\n",
        "dnf install -y docker\n",
        "systemctl enable --now docker\n",
        "aws ecr get-login-password --region ",
        ref("AWS::Region"),
        " | docker login --username AWS --password-stdin ",
        {"Fn::Select": [0, {"Fn::Split": ["/", att("Repository", "RepositoryUri")]}]},
        "\n",
        "docker run -d --restart always --read-only --log-driver awslogs --log-opt awslogs-group=",
        ref("AppLogGroup"),
        " -p %d:%d " % (p.port, p.port),
        att("Repository", "RepositoryUri"),
        ":",
        ref("ImageTag"),
        "\n",
    ]
    t.add(
        "LaunchTemplate",
        "AWS::EC2::LaunchTemplate",
        {
            "LaunchTemplateData": {
                "ImageId": ref("ImageId"),
                "InstanceType": ref("InstanceType"),
                "IamInstanceProfile": {"Arn": att("InstanceProfile", "Arn")},
                "SecurityGroupIds": [ref("AppSecurityGroup")],
                "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1},
                "Monitoring": {"Enabled": True},
                "EbsOptimized": True,
                "BlockDeviceMappings": [
                    {
                        "DeviceName": "/dev/xvda",
                        "Ebs": {
                            "VolumeSize": 30,
                            "VolumeType": "gp3",
                            "Encrypted": True,
                            "KmsKeyId": att("KmsKey", "Arn"),
                            "DeleteOnTermination": True,
                        },
                    }
                ],
                "UserData": {"Fn::Base64": join("", script)},
                "TagSpecifications": [{"ResourceType": "instance", "Tags": t.tags("instance")}],
            },
            "TagSpecifications": [{"ResourceType": "launch-template", "Tags": t.tags("lt")}],
        },
        source="infrastructure.compute",
    )
    target_groups = [ref("TargetGroupBlue")]
    t.add(
        "AutoScalingGroup",
        "AWS::AutoScaling::AutoScalingGroup",
        {
            "LaunchTemplate": {
                "LaunchTemplateId": ref("LaunchTemplate"),
                "Version": att("LaunchTemplate", "LatestVersionNumber"),
            },
            "MinSize": ref("MinCapacity"),
            "MaxSize": ref("MaxCapacity"),
            "DesiredCapacity": ref("DesiredCount"),
            "VPCZoneIdentifier": _private_subnets(p),
            "TargetGroupARNs": target_groups,
            "HealthCheckType": "ELB",
            "HealthCheckGracePeriod": 120,
            "Tags": [dict(tag, PropagateAtLaunch=False) for tag in t.tags("asg")],
        },
        source="infrastructure.compute",
    )
    t.add(
        "ScalingPolicy",
        "AWS::AutoScaling::ScalingPolicy",
        {
            "AutoScalingGroupName": ref("AutoScalingGroup"),
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingConfiguration": {
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
                "TargetValue": _cpu_target(t.model),
            },
        },
        source="service.scaling",
    )


def _lambda(t: Template, secrets: List[Tuple[str, str]]) -> None:
    p = t.p
    memory = max(128, min(10240, p.memory_mib))
    _log_group(t, "AppLogGroup", p.log_days, source="observability.logging")
    statements = _app_policy(t, secrets) + [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": att("AppLogGroup", "Arn"),
        },
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": att("FunctionDeadLetterQueue", "Arn")},
    ]
    t.add(
        "FunctionDeadLetterQueue",
        "AWS::SQS::Queue",
        {"KmsMasterKeyId": ref("KmsKey"), "MessageRetentionPeriod": 1209600, "Tags": t.tags("function-dlq")},
    )
    t.add(
        "FunctionRole",
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": _trust("lambda.amazonaws.com"),
            "ManagedPolicyArns": [
                sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole")
            ],
            "Policies": [
                {"PolicyName": "service", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}
            ],
            "Tags": t.tags(),
        },
        source="security.iam",
    )
    variables: Dict[str, Any] = dict(_environment_vars(t))
    for name, logical in secrets:
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            variables[name + "_SECRET_ARN"] = ref(logical)
    props: Dict[str, Any] = {
        "PackageType": "Image",
        "Code": {"ImageUri": join(":", [att("Repository", "RepositoryUri"), ref("ImageTag")])},
        "Role": att("FunctionRole", "Arn"),
        "MemorySize": memory,
        "Timeout": 30,
        "ReservedConcurrentExecutions": ref("MaxCapacity"),
        "KmsKeyArn": att("KmsKey", "Arn"),
        "TracingConfig": {"Mode": "Active"},
        "DeadLetterConfig": {"TargetArn": att("FunctionDeadLetterQueue", "Arn")},
        "LoggingConfig": {"LogGroup": ref("AppLogGroup"), "LogFormat": "JSON"},
        "VpcConfig": {"SubnetIds": _private_subnets(p), "SecurityGroupIds": [ref("AppSecurityGroup")]},
        "Tags": t.tags("function"),
    }
    if variables:
        props["Environment"] = {"Variables": dict(sorted(variables.items()))}
    t.add(
        "Function",
        "AWS::Lambda::Function",
        props,
        source="infrastructure.compute",
    )
    t.add("FunctionVersion", "AWS::Lambda::Version", {"FunctionName": ref("Function")})
    t.add(
        "FunctionAlias",
        "AWS::Lambda::Alias",
        {"FunctionName": ref("Function"), "FunctionVersion": att("FunctionVersion", "Version"), "Name": "live"},
        source="environments",
    )
    t.add(
        "FunctionInvokePermission",
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": ref("FunctionAlias"),
            "Principal": "elasticloadbalancing.amazonaws.com",
            "SourceAccount": ref("AWS::AccountId"),
        },
    )


def _alarms(t: Template) -> None:
    p = t.p
    t.add(
        "AlarmTopic",
        "AWS::SNS::Topic",
        {"KmsMasterKeyId": ref("KmsKey"), "Tags": t.tags("alarms")},
        source="observability.notification_channels",
    )
    t.add(
        "AlarmTopicPolicy",
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [ref("AlarmTopic")],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AlarmsAndBudgets",
                        "Effect": "Allow",
                        "Principal": {"Service": ["budgets.amazonaws.com", "cloudwatch.amazonaws.com"]},
                        "Action": "sns:Publish",
                        "Resource": ref("AlarmTopic"),
                        "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}},
                    }
                ],
            },
        },
    )
    lb = att("LoadBalancer", "LoadBalancerFullName")
    for index, (metric, threshold) in enumerate(p.alarms):
        base: Dict[str, Any] = {
            "AlarmDescription": "%s threshold from the documents" % metric,
            "AlarmActions": [ref("AlarmTopic")],
            "OKActions": [ref("AlarmTopic")],
            "EvaluationPeriods": 5,
            "DatapointsToAlarm": 5,
            "TreatMissingData": "notBreaching",
        }
        if metric in ("p95_latency_ms", "p99_latency_ms"):
            stat = "p95" if metric.startswith("p95") else "p99"
            if p.family == "lambda":
                base.update(
                    {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "Duration",
                        "Dimensions": [{"Name": "FunctionName", "Value": ref("Function")}],
                        "Threshold": threshold,
                    }
                )
            else:
                base.update(
                    {
                        "Namespace": "AWS/ApplicationELB",
                        "MetricName": "TargetResponseTime",
                        "Dimensions": [{"Name": "LoadBalancer", "Value": lb}],
                        "Threshold": threshold / 1000.0,
                    }
                )
            base.update({"ExtendedStatistic": stat, "Period": 60, "ComparisonOperator": "GreaterThanThreshold"})
        else:
            if p.family == "lambda":
                errors = ("AWS/Lambda", "Errors", [{"Name": "FunctionName", "Value": ref("Function")}])
                total = ("AWS/Lambda", "Invocations", [{"Name": "FunctionName", "Value": ref("Function")}])
            else:
                errors = ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", [{"Name": "LoadBalancer", "Value": lb}])
                total = ("AWS/ApplicationELB", "RequestCount", [{"Name": "LoadBalancer", "Value": lb}])
            if metric == "error_rate_ratio":
                expression, operator, value = "errors / MAX([errors, requests])", "GreaterThanThreshold", threshold
            else:
                expression, operator, value = (
                    "100 * (1 - errors / MAX([errors, requests]))",
                    "LessThanThreshold",
                    threshold,
                )
            base.update(
                {
                    "ComparisonOperator": operator,
                    "Threshold": value,
                    "Metrics": [
                        {"Id": "rate", "Expression": expression, "Label": metric, "ReturnData": True},
                        _metric_query("errors", *errors),
                        _metric_query("requests", *total),
                    ],
                }
            )
        t.add("Alarm%d" % (index + 1), "AWS::CloudWatch::Alarm", base, source="observability.thresholds")


def _metric_query(ident: str, namespace: str, name: str, dimensions: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {
        "Id": ident,
        "ReturnData": False,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions},
            "Period": 60,
            "Stat": "Sum",
        },
    }


def _budgets(t: Template) -> None:
    p = t.p
    for index, (resource, amount, thresholds) in enumerate(p.budgets):
        service = _budget_service(p, resource)
        filters: Dict[str, Any] = {"TagKeyValue": ["user:Project$%s" % t.model.service.name]}
        if service:
            filters["Service"] = [service]
        t.add(
            "Budget%d" % (index + 1),
            "AWS::Budgets::Budget",
            {
                "Budget": {
                    "BudgetName": "%s-%s-monthly" % (p.name, resource),
                    "BudgetType": "COST",
                    "TimeUnit": "MONTHLY",
                    "BudgetLimit": {"Amount": amount, "Unit": "USD"},
                    "CostFilters": filters,
                },
                "NotificationsWithSubscribers": [
                    {
                        "Notification": {
                            "NotificationType": "ACTUAL",
                            "ComparisonOperator": "GREATER_THAN",
                            "Threshold": threshold,
                            "ThresholdType": "PERCENTAGE",
                        },
                        "Subscribers": [{"SubscriptionType": "SNS", "Address": ref("AlarmTopic")}],
                    }
                    for threshold in thresholds
                ],
            },
            source="cost.budgets[%d]" % index,
            condition="IsProduction",
        )


def _budget_service(p: Plan, resource: str) -> Optional[str]:
    key = {
        "compute": p.family,
        "database": p.database or "",
        "cache": "cache",
        "storage": "storage",
        "queue": "queue",
        "messaging": "queue",
    }.get(resource.split("-")[0])
    return BUDGET_SERVICES.get(key or "")


def _outputs(t: Template) -> None:
    p = t.p
    outputs: Dict[str, Any] = {
        "VpcId": ("VPC of the service", ref("Vpc")),
        "LoadBalancerDnsName": ("DNS name of the load balancer", att("LoadBalancer", "DNSName")),
        "RepositoryUri": ("ECR repository of the service image", att("Repository", "RepositoryUri")),
        "AlarmTopicArn": ("SNS topic of the alarms and budgets", ref("AlarmTopic")),
    }
    if p.family == "ecs":
        outputs["ClusterName"] = ("ECS cluster", ref("Cluster"))
        outputs["ServiceName"] = ("ECS service", att("Service", "Name"))
    elif p.family == "asg":
        outputs["AutoScalingGroupName"] = ("Auto Scaling group", ref("AutoScalingGroup"))
    else:
        outputs["FunctionName"] = ("Lambda function", ref("Function"))
    if p.database == "relational":
        outputs["DatabaseEndpoint"] = ("Database endpoint", att("Database", "Endpoint.Address"))
        outputs["DatabaseSecretArn"] = (
            "Secret holding the managed master password",
            att("Database", "MasterUserSecret.SecretArn"),
        )
    elif p.database == "document":
        outputs["TableName"] = ("DynamoDB table", ref("Table"))
    if p.cache:
        outputs["CacheEndpoint"] = ("Cache primary endpoint", att("Cache", "PrimaryEndPoint.Address"))
    if p.storage:
        outputs["BucketName"] = ("Data bucket", ref("Bucket"))
    if p.queue:
        outputs["QueueUrl"] = ("Queue URL", ref("Queue"))
        outputs["DeadLetterQueueUrl"] = ("Dead-letter queue URL", ref("DeadLetterQueue"))
    for key, (text, value) in outputs.items():
        t.outputs[key] = {
            "Description": text,
            "Value": value,
            "Export": {"Name": join("-", [ref("AWS::StackName"), key])},
        }


# --------------------------------------------------------------------------- entry point


def build(model: Model) -> Template:
    """The template of a model (AWS only)."""
    p = plan(model, "aws")
    t = Template(model, p)
    _parameters(t, model)
    _conditions(t)
    _kms(t)
    _network(t)
    _security_groups(t)
    _log_bucket(t)
    _registry(t)
    secrets = _secrets(t)
    _data(t)
    if p.family == "ecs":
        _ecs(t, secrets)
    elif p.family == "asg":
        _asg(t, secrets)
    else:
        _lambda(t, secrets)
    _load_balancer(t)
    _alarms(t)
    _budgets(t)
    _outputs(t)
    return t


def parameter_files(t: Template) -> List[Tuple[str, str]]:
    """(path, JSON text) of the parameter file of each environment."""
    files = []
    for env in t.p.environments:
        values: Dict[str, Any] = {"Environment": env.slug}
        if "DesiredCount" in t.parameters:
            values["DesiredCount"] = str(env.desired)
            values["MinCapacity"] = str(env.min_capacity)
        values["MaxCapacity"] = str(max(env.max_capacity, 1))
        if "DeploymentStrategy" in t.parameters:
            values["DeploymentStrategy"] = env.strategy
            values["CanaryPercent"] = str(env.canary_percent)
        if "MultiAz" in t.parameters:
            values["MultiAz"] = "true" if env.multi_az else "false"
        data = [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]
        files.append(("parameters/%s.json" % env.slug, json.dumps(data, indent=2, ensure_ascii=False) + "\n"))
    return files


def render(model: Model, cloud: str) -> FileSet:
    """``template.yaml`` and ``parameters/<env>.json`` for an AWS model."""
    if cloud != "aws":
        raise UsageError("CloudFormation describes AWS only, not %s: use --iac terraform or --iac pulumi" % cloud)
    t = build(model)
    from .pulumi_plan import fields_used

    fields = fields_used(t.p)
    files = FileSet()
    files.add(GeneratedFile(TEMPLATE, t.dump(), "cloudformation", fields, "hash"))
    for path, text in parameter_files(t):
        files.add(GeneratedFile(path, text, "json-data", ("environments",), "none"))
    return files
