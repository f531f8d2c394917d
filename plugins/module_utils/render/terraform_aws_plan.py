# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Terraform for AWS: the decisions taken once from the model, and small HCL helpers.

``plan(model)`` maps whatever the documents say (any cloud, any compute kind) onto
the AWS services the renderer knows, so that the file builders only read plain
decisions: which compute flavour, which database, which defaults.  Every default
used here is written down next to the value it replaces.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..model import AlertRule, Environment, EnvVar, Model
from . import common
from .hcl import Attr, Blank, Block, Comment, Raw, q
from .hcl import render as render_hcl

Item = Any  # Attr | Block | Comment | Blank

#: AWS provider constraint: 5.100 is the mirror the tests validate with; 6.x works too.
AWS_PROVIDER_VERSION = ">= 5.100, < 7.0"
#: Modules only state the lowest provider they need; the root pins the range.
AWS_MODULE_VERSION = ">= 5.100"
#: S3-native state locking (use_lockfile) and cross-variable validation need 1.10.
TERRAFORM_VERSION = ">= 1.10"

DEFAULT_REGION = "us-east-1"
DEFAULT_VPC_CIDR = "10.0.0.0/16"
DEFAULT_LOG_RETENTION_DAYS = 30
#: Retention of audit logs (VPC flow logs, WAF logs) when the documents give none.
AUDIT_LOG_RETENTION_DAYS = 365
DEFAULT_MAX_RECEIVE_COUNT = 5
DEFAULT_CPU_TARGET_PERCENT = 70
DEFAULT_ROTATION_DAYS = 30
DEFAULT_DB_USERNAME = "dbadmin"

#: The retention periods (days) CloudWatch Logs accepts.
CLOUDWATCH_RETENTION: Tuple[int, ...] = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096)
CLOUDWATCH_RETENTION += (1827, 2192, 2557, 2922, 3288, 3653)

_AWS_REGION = re.compile(
    r"^(us|eu|ap|sa|ca|me|af|il|mx)(-gov)?-(north|south|east|west|central|northeast|southeast|northwest|southwest)-\d$"
)

#: compute.kind -> AWS flavour (ecs, ec2, lambda) and, for mapped kinds, why.
_COMPUTE = {
    "ecs-fargate": ("ecs", ""),
    "cloud-run": ("ecs", "Cloud Run runs containers: mapped to ECS on Fargate, the nearest AWS service."),
    "container-apps": ("ecs", "Azure Container Apps runs containers: mapped to ECS on Fargate."),
    "app-service": ("ecs", "App Service runs a web app or container: mapped to ECS on Fargate."),
    "eks": ("ecs", "Kubernetes (EKS) is out of scope of this generator: the service runs on ECS Fargate."),
    "gke": ("ecs", "Kubernetes (GKE) is mapped to ECS on Fargate; EKS is out of scope of this generator."),
    "aks": ("ecs", "Kubernetes (AKS) is mapped to ECS on Fargate; EKS is out of scope of this generator."),
    "kubernetes": ("ecs", "Kubernetes is mapped to ECS on Fargate; EKS is out of scope of this generator."),
    "unknown": ("ecs", "The documents name no compute service: the container runs on ECS Fargate."),
    "ec2": ("ec2", ""),
    "vm": ("ec2", "Virtual machines: mapped to an EC2 Auto Scaling group."),
    "compute-engine": ("ec2", "Compute Engine VMs: mapped to an EC2 Auto Scaling group."),
    "azure-vm": ("ec2", "Azure VMs: mapped to an EC2 Auto Scaling group."),
    "lambda": ("lambda", ""),
    "cloud-functions": ("lambda", "Cloud Functions: mapped to AWS Lambda."),
    "azure-functions": ("lambda", "Azure Functions: mapped to AWS Lambda."),
}

#: Fargate CPU units and the memory sizes (MiB) each allows.
_FARGATE: Tuple[Tuple[int, Sequence[int]], ...] = (
    (256, (512, 1024, 2048)),
    (512, tuple(range(1024, 4097, 1024))),
    (1024, tuple(range(2048, 8193, 1024))),
    (2048, tuple(range(4096, 16385, 1024))),
    (4096, tuple(range(8192, 30721, 1024))),
    (8192, tuple(range(16384, 61441, 4096))),
    (16384, tuple(range(32768, 122881, 8192))),
)

#: ElastiCache node types by memory (MiB they hold, smallest first).
_CACHE_NODES = (
    (512, "cache.t4g.micro"),
    (1400, "cache.t4g.small"),
    (3160, "cache.t4g.medium"),
    (6380, "cache.m7g.large"),
    (13070, "cache.r7g.large"),
    (26320, "cache.r7g.xlarge"),
)

#: EC2 instance types by (vCPU, MiB), smallest first.
_EC2_TYPES = (
    (2, 2048, "t3.small"),
    (2, 4096, "t3.medium"),
    (2, 8192, "m7i.large"),
    (4, 16384, "m7i.xlarge"),
    (8, 32768, "m7i.2xlarge"),
)

_DB_ENGINES = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mariadb"}
_DB_DEFAULT_VERSION = {"postgres": "16", "mysql": "8.0", "mariadb": "10.11"}
_DB_PORT = {"postgres": 5432, "mysql": 3306, "mariadb": 3306}

_REPLICA_PAIRS = {
    "us-east-1": "us-west-2",
    "us-east-2": "us-west-2",
    "us-west-1": "us-east-1",
    "us-west-2": "us-east-1",
    "eu-west-1": "eu-central-1",
    "eu-central-1": "eu-west-1",
    "ap-southeast-1": "ap-southeast-2",
    "ap-southeast-2": "ap-southeast-1",
    "ap-northeast-1": "ap-northeast-3",
}


@dataclass(frozen=True)
class EnvPlan:
    """What one environment's tfvars say."""

    env: Environment
    production: bool
    region: str
    zones: Tuple[str, ...]
    az_count: int
    ha: bool
    desired: int
    min_capacity: int
    max_capacity: int
    replication: bool
    replica_regions: Tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """The AWS decisions for one model."""

    model: Model
    project: str
    compute: str  # ecs | ec2 | lambda
    compute_note: str
    port: int
    region: str
    vpc_cidr: str
    zones: Tuple[str, ...]
    environments: Tuple[EnvPlan, ...]
    traffic_split: bool
    db: Optional[str]  # rds | aurora | dynamodb | None
    db_engine: Optional[str]  # postgres | mysql | mariadb
    db_version: Optional[str]
    db_note: str
    cache: Optional[str]  # redis | valkey | memcached
    storage: bool
    storage_note: str
    queue: Optional[str]  # sqs | sns | sns+sqs
    queue_note: str
    replication: bool
    replica_region: Optional[str]
    lambda_in_vpc: bool
    secrets: Tuple[EnvVar, ...]

    @property
    def db_port(self) -> Optional[int]:
        return _DB_PORT.get(self.db_engine or "") if self.db in ("rds", "aurora") else None

    @property
    def cache_port(self) -> Optional[int]:
        if self.cache is None:
            return None
        return 11211 if self.cache == "memcached" else 6379

    @property
    def dynamodb(self) -> bool:
        return self.db == "dynamodb"


# --------------------------------------------------------------------------- decisions


def aws_region(value: Optional[str]) -> Optional[str]:
    return value if value and _AWS_REGION.match(value) else None


def _aws_zones(zones: Sequence[str], region: str) -> Tuple[str, ...]:
    seen: Dict[str, None] = {}
    for zone in zones:
        if re.match(r"^%s[a-z]$" % re.escape(region), zone):
            seen.setdefault(zone, None)
    return tuple(seen)


def project_name(model: Model) -> str:
    """The service name as an AWS resource name prefix (lower case, digits, hyphens)."""
    name = re.sub(r"[^a-z0-9-]+", "-", model.service.name.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)[:32].strip("-")
    if not name or not name[0].isalpha():
        name = ("svc-" + name).strip("-")
    return name


def fargate_size(vcpu: float, memory_mib: int) -> Tuple[int, int]:
    want = math.ceil(vcpu * 1024)
    for cpu, sizes in _FARGATE:
        if cpu < want:
            continue
        for mem in sizes:
            if mem >= memory_mib:
                return cpu, mem
    return 16384, 122880


def cache_node_type(memory_mib: Optional[int]) -> str:
    for limit, node in _CACHE_NODES:
        if (memory_mib or 1024) <= limit:
            return node
    return "cache.r7g.2xlarge"


def ec2_instance_type(model: Model) -> str:
    compute = model.infrastructure.compute
    if compute and compute.instance_type and re.match(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", compute.instance_type):
        return compute.instance_type
    sizes = common.compute_sizes(model)
    for vcpu, mem, name in _EC2_TYPES:
        if sizes.vcpu <= vcpu and sizes.memory_mib <= mem:
            return name
    return "m7i.4xlarge"


def log_retention(days: Optional[int]) -> int:
    """The CloudWatch retention at or above ``days`` (CloudWatch accepts a fixed set)."""
    if not days:
        return DEFAULT_LOG_RETENTION_DAYS
    for value in CLOUDWATCH_RETENTION:
        if value >= days:
            return value
    return CLOUDWATCH_RETENTION[-1]


def db_instance_class(model: Model, production: bool) -> str:
    db = model.infrastructure.database
    if db and db.instance_class and re.match(r"^db\.[a-z0-9]+\.[a-z0-9]+$", db.instance_class):
        return db.instance_class
    memory = (db.memory_mib if db else None) or 0
    if memory > 16384:
        return "db.r7g.xlarge"
    if memory > 8192:
        return "db.r7g.large"
    return "db.m7g.large" if production else "db.t4g.medium"


def db_version(engine: str, version: Optional[str]) -> str:
    """The major version RDS is asked for: minor versions come from auto minor upgrades."""
    if version:
        parts: List[str] = re.findall(r"\d+", version)
        if parts:
            if engine == "postgres":
                return parts[0]
            if len(parts) > 1:
                return "%s.%s" % (parts[0], parts[1])
    return _DB_DEFAULT_VERSION[engine]


def db_family(engine: str, version: str) -> str:
    if engine == "postgres":
        return "postgres%s" % version.split(".")[0]
    return "%s%s" % (engine, version)


def cache_version(engine: str, version: Optional[str]) -> str:
    parts = re.findall(r"\d+", version or "")
    major = int(parts[0]) if parts else (8 if engine == "valkey" else 7)
    if engine == "valkey":
        return "8.0" if major >= 8 else "7.2"
    if engine == "memcached":
        return "1.6.22"
    return "7.1" if major >= 7 else "6.2"


def _production(model: Model, envs: Sequence[Environment]) -> Environment:
    return model.production or envs[-1]


def plan(model: Model) -> Plan:
    infra = model.infrastructure
    envs = common.environments(model)
    prod = _production(model, envs)
    kind = infra.compute.kind if infra.compute else "unknown"
    flavour, note = _COMPUTE.get(kind, ("ecs", "The compute kind %r is mapped to ECS on Fargate." % kind))
    region = aws_region(model.cloud.primary_region) or next(
        (r for e in envs for r in e.regions if aws_region(r)), DEFAULT_REGION
    )
    if not aws_region(model.cloud.primary_region) and model.cloud.primary_region:
        note = (note + " " if note else "") + (
            "The documents' region %s is not an AWS region: %s is used (set var.region)."
            % (model.cloud.primary_region, region)
        )
    network = infra.network
    zones = _aws_zones((network.zones if network else ()) or model.cloud.zones, region)
    cidr = network.cidr if network and network.cidr and re.match(r"^\d+\.\d+\.\d+\.\d+/\d+$", network.cidr) else None

    db = infra.database
    db_kind: Optional[str] = None
    engine: Optional[str] = None
    version: Optional[str] = None
    db_note = ""
    if db is not None:
        if db.engine in _DB_ENGINES:
            engine = _DB_ENGINES[db.engine]
            db_kind = "aurora" if db.service == "aurora" and engine != "mariadb" else "rds"
            version = db_version(engine, db.version)
            if db.service not in ("rds", "aurora", ""):
                db_note = "The documents name %s: mapped to Amazon RDS, the nearest AWS service." % db.service
        elif db.engine == "dynamodb":
            db_kind = "dynamodb"
        else:
            db_note = (
                "The %s database of the documents is not generated: this generator knows PostgreSQL, MySQL and "
                "MariaDB on RDS or Aurora, and DynamoDB; create it outside this configuration." % db.engine
            )

    cache = infra.cache
    cache_kind = None
    if cache is not None:
        cache_kind = cache.engine if cache.engine in ("redis", "valkey", "memcached") else "redis"

    storage = infra.storage
    storage_on = False
    storage_note = ""
    if storage is not None:
        if storage.kind in ("s3", "gcs", "blob", "unknown"):
            storage_on = True
        else:
            storage_note = (
                "The %s storage of the documents is not generated: this generator makes S3 buckets only "
                "(file systems and block volumes belong to the compute that mounts them)." % storage.kind
            )

    queue = infra.queue
    queue_kind = None
    queue_note = ""
    if queue is not None:
        if queue.kind == "sqs":
            queue_kind = "sqs"
        elif queue.kind == "sns":
            queue_kind = "sns"
        elif queue.kind in ("pubsub", "servicebus"):
            queue_kind = "sns+sqs" if queue.queue_type == "topic" else "sqs"
        else:
            queue_note = (
                "The %s messaging of the documents is not generated: Amazon MSK and Amazon MQ are out of scope "
                "of this generator; create the broker outside this configuration." % queue.kind
            )

    multi_region = any(e.multi_region for e in envs)
    replication = bool((storage_on and storage is not None and storage.replication) or multi_region)
    replica_region = None
    if replication:
        others = [r for e in envs for r in e.regions[1:] if aws_region(r) and r != region]
        replica_region = (
            others[0] if others else _REPLICA_PAIRS.get(region, "us-west-2" if region != "us-west-2" else "us-east-1")
        )

    traffic_split = common.uses_strategy(model, "blue-green") or common.uses_strategy(model, "canary")
    sizes = common.compute_sizes(model)
    env_plans = []
    for env in envs:
        production = env is prod
        env_region = next((r for r in env.regions if aws_region(r)), region)
        env_zones = _aws_zones(env.zones, env_region)
        if len(env_zones) < 2:
            env_zones = zones if env_region == region and len(zones) >= 2 else ()
        ha = production and (env.multi_az or bool(db and db.ha) or bool(cache and cache.ha))
        replicas = common.environment_replicas(model, env)
        high = env.max_replicas if env.max_replicas is not None else max(sizes.max_instances, replicas)
        env_plans.append(
            EnvPlan(
                env=env,
                production=production,
                region=env_region,
                zones=env_zones,
                az_count=len(env_zones) if env_zones else (3 if ha else 2),
                ha=ha,
                desired=replicas,
                min_capacity=replicas,
                max_capacity=max(high, replicas),
                replication=replication
                and (bool(storage is not None and storage.replication) or env.multi_region or production),
                replica_regions=tuple(r for r in env.regions[1:] if aws_region(r) and r != env_region),
            )
        )
    lambda_in_vpc = flavour == "lambda" and (db_kind in ("rds", "aurora") or cache_kind is not None)
    return Plan(
        model=model,
        project=project_name(model),
        compute=flavour,
        compute_note=note,
        port=common.port(model),
        region=region,
        vpc_cidr=cidr or DEFAULT_VPC_CIDR,
        zones=zones,
        environments=tuple(env_plans),
        traffic_split=traffic_split,
        db=db_kind,
        db_engine=engine,
        db_version=version,
        db_note=db_note,
        cache=cache_kind,
        storage=storage_on,
        storage_note=storage_note,
        queue=queue_kind,
        queue_note=queue_note,
        replication=replication,
        replica_region=replica_region,
        lambda_in_vpc=lambda_in_vpc,
        secrets=tuple(e for e in model.service.env if e.sensitive),
    )


# --------------------------------------------------------------------------- HCL helpers


def render(items: Sequence[Item]) -> str:
    """HCL text of top-level items, with a blank line between a block and the comment after it."""
    spaced: List[Item] = []
    previous: Optional[Item] = None
    for item in items:
        if isinstance(item, Comment) and isinstance(previous, Block):
            spaced.append(Blank())
        spaced.append(item)
        previous = item
    return render_hcl(spaced)


def short_name(source: str, limit: int) -> Raw:
    """``source`` when it fits in ``limit`` characters, else a prefix and a hash of it: names stay
    unique per environment however long the project name is."""
    return Raw(
        'length(%s) <= %d ? %s : "${trimsuffix(substr(%s, 0, %d), "-")}-${substr(md5(%s), 0, 6)}"'
        % (source, limit, source, source, limit - 7, source)
    )


def ref(text: str) -> Raw:
    return Raw(text)


def interp(*parts: Any) -> Raw:
    """A quoted HCL template: ``str`` parts are escaped literals, ``Raw`` parts become ``${...}``."""
    parts = tuple(part for part in parts if isinstance(part, Raw) or part != "")
    if len(parts) == 1 and isinstance(parts[0], Raw):
        return parts[0]
    out: List[str] = []
    for part in parts:
        if isinstance(part, Raw):
            out.append("${%s}" % part)
        else:
            out.append(q(part)[1:-1])
    return Raw('"%s"' % "".join(out))


def resource(rtype: str, name: str, attrs: Optional[Dict[str, Any]] = None) -> Block:
    block = Block("resource", (rtype, name))
    if attrs:
        block.attrs(attrs)
    return block


def data(rtype: str, name: str, attrs: Optional[Dict[str, Any]] = None) -> Block:
    block = Block("data", (rtype, name))
    if attrs:
        block.attrs(attrs)
    return block


def skip(block: Block, check: str, reason: str) -> Block:
    """An inline checkov skip with its reason (checkov reads it inside the resource)."""
    block.comment("checkov:skip=%s:%s" % (check, " ".join(reason.split())))
    return block


def retention_skip(block: Block, model: Model) -> Block:
    """The log retention check (one year) is skipped where the documents set a shorter one."""
    logging = model.observability.logging
    days = logging.retention_days if logging else None
    if (days or 0) < 365:
        skip(
            block,
            "CKV_AWS_338",
            "the documents set the log retention (%s); audit logs (flow logs, WAF) are kept a year"
            % ("%d days" % days if days else "30 days by default"),
        )
    return block


def note(model: Model, path: str) -> List[Item]:
    """The source comment of a document row, when the row has a known line."""
    text = common.source_note(model, path)
    return [Comment(text)] if text else []


def variable(
    name: str,
    type_: str,
    description: str,
    default: Any = None,
    has_default: bool = True,
    validations: Sequence[Tuple[str, str]] = (),
    nullable: Optional[bool] = None,
    sensitive: bool = False,
) -> Block:
    block = Block("variable", (name,))
    block.attr("description", description)
    block.attr("type", Raw(type_))
    if has_default:
        block.body.append(Attr("default", default))
    if nullable is not None:
        block.attr("nullable", nullable)
    if sensitive:
        block.attr("sensitive", True)
    for condition, message in validations:
        block.block("validation", condition=Raw(condition), error_message=message)
    return block


def output(name: str, value: Any, description: str, sensitive: bool = False) -> Block:
    block = Block("output", (name,))
    block.attr("description", description)
    block.attr("value", value)
    if sensitive:
        block.attr("sensitive", True)
    return block


def versions_block(module: bool, aliases: Sequence[str] = ()) -> Block:
    terraform = Block("terraform")
    if not module:
        terraform.attr("required_version", TERRAFORM_VERSION)
    aws: Dict[str, Any] = {"source": "hashicorp/aws", "version": AWS_MODULE_VERSION if module else AWS_PROVIDER_VERSION}
    if aliases:
        aws["configuration_aliases"] = [Raw(a) for a in aliases]
    providers = terraform.block("required_providers")
    providers.attr("aws", aws)
    return terraform


def providers_map(entries: Sequence[Tuple[str, str]], indent: int = 1) -> Raw:
    """A module's ``providers`` map (keys are provider addresses, which HCL writes bare)."""
    width = max(len(k) for k, _value in entries)
    pad = "  " * (indent + 1)
    lines = ["%s%s = %s" % (pad, k.ljust(width), v) for k, v in entries]
    return Raw("{\n%s\n%s}" % ("\n".join(lines), "  " * indent))


def blank() -> Blank:
    return Blank()


def policy_document(name: str, statements: Sequence[Dict[str, Any]], count: Optional[Raw] = None) -> Block:
    """``data "aws_iam_policy_document"`` from statements: sid, effect, actions, resources,
    principals [(type, [ids])], conditions [(test, variable, [values])]."""
    doc = data("aws_iam_policy_document", name)
    doc.attr("count", count)
    for st in statements:
        block = doc.block("statement")
        block.attr("sid", st.get("sid"))
        block.attr("effect", st.get("effect", "Allow"))
        block.attr("actions", st["actions"])
        if "resources" in st:
            block.attr("resources", st["resources"])
        for ptype, ids in st.get("principals", ()):
            block.block("principals", type=ptype, identifiers=ids)
        for test, var, values in st.get("conditions", ()):
            block.block("condition", test=test, variable=var, values=values)
    return doc


def assume_role_policy(service: str) -> Any:
    from .hcl import jsonencode

    return jsonencode(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": service}},
            ],
        }
    )


class Context:
    """What the root module's builders share: the plan, the model and a few derived values."""

    def __init__(self, p: Plan) -> None:
        self.p = p
        self.model = p.model
        self.sizes = common.compute_sizes(p.model)

    def _threshold(self, field: str) -> Optional[float]:
        value = getattr(self.model.observability.thresholds, field)
        if value is None:
            value = getattr(self.model.observability.targets, field)
        return float(value) if value is not None else None

    def _threshold_path(self, field: str) -> str:
        if getattr(self.model.observability.thresholds, field) is not None:
            return "observability.thresholds.%s" % field
        return "observability.targets.%s" % field

    def _rule(self, metric: str) -> Optional[AlertRule]:
        for rule in self.model.observability.alert_rules:
            if rule.metric == metric and rule.threshold is not None:
                return rule
        return None

    def _periods(self, metric: str) -> int:
        rule = self._rule(metric)
        seconds = rule.for_seconds if rule and rule.for_seconds else 300
        return max(1, math.ceil(seconds / 60.0))

    def _retention_days(self) -> int:
        logging = self.model.observability.logging
        return log_retention(logging.retention_days if logging else None)

    def _backup_days(self) -> int:
        db = self.model.infrastructure.database
        days = (db.backup_retention_days if db else None) or self.model.backup.retention_days or 7
        return max(1, min(days, 35))

    def _backup_path(self) -> str:
        db = self.model.infrastructure.database
        if db and db.backup_retention_days:
            return "infrastructure.database.backup_retention_days"
        return "backup.retention_days"

    def _rollback_alarms(self) -> List[str]:
        names = []
        if self._threshold("p95_latency_ms") is not None:
            names.append("p95_latency")
        if self._threshold("error_rate_ratio") is not None:
            names.append("error_rate")
        return names


__all__ = [
    "AWS_PROVIDER_VERSION",
    "Context",
    "EnvPlan",
    "Plan",
    "aws_region",
    "fargate_size",
    "interp",
    "plan",
    "ref",
]
