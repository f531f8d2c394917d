# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions shared by the CloudFormation and Pulumi renderers.

Which resources a model asks for, how its compute, database, cache and queue
rows map onto each cloud's nearest service, and the per-environment values
(replicas, multi-AZ, deletion protection, deployment strategy).  Computed once
here so that the CloudFormation template and the Pulumi programs describe the
same resources for the same model.  Pure functions of the model.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from ..model import Environment, Model
from . import common
from .common import safe_name

#: Compute kind -> the nearest compute family on each cloud.
COMPUTE_FAMILY: Dict[str, Dict[str, str]] = {
    "aws": {
        "ecs-fargate": "ecs",
        "eks": "ecs",
        "kubernetes": "ecs",
        "cloud-run": "ecs",
        "gke": "ecs",
        "container-apps": "ecs",
        "aks": "ecs",
        "app-service": "ecs",
        "unknown": "ecs",
        "ec2": "asg",
        "vm": "asg",
        "compute-engine": "asg",
        "azure-vm": "asg",
        "lambda": "lambda",
        "cloud-functions": "lambda",
        "azure-functions": "lambda",
    },
    "gcp": {
        "gke": "gke",
        "eks": "gke",
        "aks": "gke",
        "kubernetes": "gke",
        "ec2": "mig",
        "vm": "mig",
        "compute-engine": "mig",
        "azure-vm": "mig",
    },
    "azure": {
        "aks": "aks",
        "eks": "aks",
        "gke": "aks",
        "kubernetes": "aks",
        "ec2": "vmss",
        "vm": "vmss",
        "compute-engine": "vmss",
        "azure-vm": "vmss",
    },
}
#: The family used for kinds a table above does not name.
DEFAULT_FAMILY = {"aws": "ecs", "gcp": "cloud-run", "azure": "container-apps"}

#: Database engines served by a relational service; the others map to the
#: cloud's document store (DynamoDB on AWS).
RELATIONAL = ("postgresql", "mysql", "mariadb", "sqlserver")
DOCUMENT_ENGINES = ("dynamodb", "firestore", "cosmosdb", "mongodb")

#: Used when the documents give no VPC CIDR or one the layout cannot split.
DEFAULT_CIDR = "10.0.0.0/16"
#: Used when a queue row gives no maximum receive count before dead-lettering.
DEFAULT_MAX_RECEIVE = 5
#: Used when the documents give no backup retention (days).
DEFAULT_BACKUP_DAYS = 7
#: Used when a budget row gives no alert threshold: alert at the budget itself.
DEFAULT_BUDGET_THRESHOLDS: Tuple[float, ...] = (100.0,)
#: Default regions per cloud when the documents name none.
DEFAULT_REGION = {"aws": "us-east-1", "gcp": "us-central1", "azure": "eastus2"}
#: Log retention used when 9.5.5 gives none.
DEFAULT_LOG_DAYS = 30

_REGION_PATTERNS = {
    "aws": re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$"),
    "gcp": re.compile(r"^[a-z]+-[a-z]+\d$"),
    "azure": re.compile(r"^[a-z]+\d?$"),
}


def logical_id(text: str) -> str:
    """A CloudFormation logical id / Python identifier part from any text."""
    words = re.findall(r"[A-Za-z0-9]+", str(text))
    name = "".join(w[:1].upper() + w[1:].lower() for w in words)
    if not name or not name[0].isalpha():
        name = "X" + name
    return name[:64]


@dataclass(frozen=True)
class EnvPlan:
    """What changes from one environment to the next."""

    name: str
    label: str
    slug: str
    desired: int
    min_capacity: int
    max_capacity: int
    multi_az: bool
    deletion_protection: bool
    strategy: str
    canary_percent: int
    bake_minutes: int
    regions: Tuple[str, ...]
    production: bool


@dataclass(frozen=True)
class Plan:
    """The resources a model asks for, for one cloud."""

    cloud: str
    name: str
    family: str
    cidr: str
    zone_count: int
    port: int
    health_path: str
    vcpu: float
    memory_mib: int
    region: str
    database: Optional[str]
    db_engine: str
    db_version: Optional[str]
    db_storage_gb: int
    db_ha: bool
    db_instance_class: Optional[str]
    backup_days: int
    cache: bool
    cache_engine: str
    cache_memory_mib: int
    cache_ha: bool
    storage: bool
    storage_retention_days: Optional[int]
    replication: bool
    queue: bool
    queue_fifo: bool
    queue_retention_days: int
    max_receive: int
    blue_green: bool
    secrets: Tuple[str, ...]
    domain: Optional[str]
    log_days: int
    environments: Tuple[EnvPlan, ...]
    budgets: Tuple[Tuple[str, float, Tuple[float, ...]], ...]
    alarms: Tuple[Tuple[str, float], ...]


def family(model: Model, cloud: str) -> str:
    compute = model.infrastructure.compute
    kind = compute.kind if compute else "unknown"
    if cloud == "aws":
        return COMPUTE_FAMILY["aws"].get(kind, DEFAULT_FAMILY["aws"])
    return COMPUTE_FAMILY.get(cloud, {}).get(kind, DEFAULT_FAMILY.get(cloud, "cloud-run"))


def vpc_cidr(model: Model) -> str:
    """The documents' CIDR when it is an IPv4 network of /16 to /24, else the default."""
    net = model.infrastructure.network
    text = (net.cidr if net else None) or ""
    try:
        network = ipaddress.ip_network(text.strip(), strict=True)
    except ValueError:
        return DEFAULT_CIDR
    if network.version != 4 or not 16 <= network.prefixlen <= 24:
        return DEFAULT_CIDR
    return str(network)


def zone_count(model: Model) -> int:
    """Availability zones to spread over: the documents' count, at least 2 and at most 3."""
    net = model.infrastructure.network
    names = set(model.cloud.zones) | set(net.zones if net else ())
    for env in model.environments:
        names.update(env.zones)
    return max(2, min(3, len(names)))


def _region(model: Model, cloud: str) -> str:
    pattern = _REGION_PATTERNS[cloud]
    candidates = [model.cloud.primary_region or ""] + list(model.cloud.regions)
    for env in model.environments:
        candidates.extend(env.regions)
    for value in candidates:
        if value and pattern.match(value):
            return value
    return DEFAULT_REGION[cloud]


def _env_regions(model: Model, env: Environment, cloud: str, default: str) -> Tuple[str, ...]:
    pattern = _REGION_PATTERNS[cloud]
    found = tuple(r for r in env.regions if pattern.match(r))
    return found or (default,)


def strategy_of(env: Environment) -> str:
    return {"blue-green": "BLUE_GREEN", "canary": "CANARY"}.get(env.strategy or "", "ROLLING")


def environments(model: Model, cloud: str, region: str, blue_green: bool) -> Tuple[EnvPlan, ...]:
    sizes = common.compute_sizes(model)
    prod = model.production
    prod_name = prod.name if prod else "prod"
    db = model.infrastructure.database
    plans: List[EnvPlan] = []
    used: Dict[str, int] = {}
    for env in common.environments(model):
        desired = max(0, common.environment_replicas(model, env))
        low = min(sizes.min_instances, desired)
        high = max(sizes.max_instances, desired, 1)
        is_prod = env.name == prod_name
        steps = [s for s in common.canary_steps(model, env) if 0 < s < 100]
        slug = safe_name(env.name, 24, "env")
        used[slug] = used.get(slug, 0) + 1
        if used[slug] > 1:
            slug = "%s-%d" % (slug, used[slug])
        plans.append(
            EnvPlan(
                name=env.name,
                label=env.label or env.name,
                slug=slug,
                desired=desired,
                min_capacity=low,
                max_capacity=high,
                multi_az=bool(db is not None and db.ha and (env.multi_az or is_prod)),
                deletion_protection=is_prod,
                strategy=strategy_of(env) if blue_green else "ROLLING",
                canary_percent=steps[0] if steps else common.DEFAULT_CANARY_STEPS[0],
                bake_minutes=max(1, min(1440, common.hold_seconds(model) // 60)),
                regions=_env_regions(model, env, cloud, region),
                production=is_prod,
            )
        )
    return tuple(plans)


def _budgets(model: Model) -> Tuple[Tuple[str, float, Tuple[float, ...]], ...]:
    rows: List[Tuple[str, float, Tuple[float, ...]]] = []
    seen: Dict[str, int] = {}
    for budget in model.cost.budgets:
        if budget.monthly_usd is None or budget.monthly_usd <= 0:
            continue
        name = safe_name(budget.resource, 24, "budget")
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = "%s-%d" % (name, seen[name])
        thresholds = tuple(sorted({t for t in budget.threshold_percents if 0 < t <= 1000})) or DEFAULT_BUDGET_THRESHOLDS
        rows.append((name, float(budget.monthly_usd), thresholds))
    if not rows and model.cost.total_monthly_usd:
        rows.append(("total", float(model.cost.total_monthly_usd), DEFAULT_BUDGET_THRESHOLDS))
    return tuple(rows)


def _alarms(model: Model) -> Tuple[Tuple[str, float], ...]:
    """(metric, threshold) pairs: p95/p99 latency in ms, error rate as a ratio, availability in percent."""
    t = model.observability.thresholds
    out: List[Tuple[str, float]] = []
    if t.p95_latency_ms is not None and t.p95_latency_ms > 0:
        out.append(("p95_latency_ms", float(t.p95_latency_ms)))
    if t.p99_latency_ms is not None and t.p99_latency_ms > 0:
        out.append(("p99_latency_ms", float(t.p99_latency_ms)))
    if t.error_rate_ratio is not None and 0 < t.error_rate_ratio < 1:
        out.append(("error_rate_ratio", float(t.error_rate_ratio)))
    if t.availability_percent is not None and 0 < t.availability_percent < 100:
        out.append(("availability_percent", float(t.availability_percent)))
    return tuple(out)


def plan(model: Model, cloud: str) -> Plan:
    """Every decision the infrastructure renderers share, for one cloud."""
    infra = model.infrastructure
    db = infra.database
    database: Optional[str] = None
    engine = "postgresql"
    if db is not None:
        if db.engine in DOCUMENT_ENGINES or db.service in ("dynamodb", "firestore", "cosmosdb"):
            database = "document"
            engine = db.engine
        else:
            database = "relational"
            engine = db.engine if db.engine in RELATIONAL else "postgresql"
    backup_days = (db.backup_retention_days if db else None) or model.backup.retention_days or DEFAULT_BACKUP_DAYS
    cache = infra.cache
    storage = infra.storage
    queue = infra.queue
    blue_green = common.uses_strategy(model, "blue-green") or common.uses_strategy(model, "canary")
    region = _region(model, cloud)
    secrets = tuple(sorted({e.name for e in model.service.env if e.sensitive}))
    tls = model.security.tls
    domain = tls.domain.strip().lower() if tls and tls.domain else None
    if domain and not re.match(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", domain):
        domain = None
    log = model.observability.logging
    log_days = (log.retention_days if log and log.retention_days else None) or DEFAULT_LOG_DAYS
    sizes = common.compute_sizes(model)
    multi_region = any(e.multi_region or len(e.regions) > 1 for e in model.environments)
    replication = bool(
        storage is not None
        and (storage.replication or model.backup.cross_region or (multi_region and storage.replication is not False))
    )
    retention = storage.retention_days if storage and storage.retention_days and storage.retention_days > 0 else None
    return Plan(
        cloud=cloud,
        name=safe_name(model.service.name, 24),
        family=family(model, cloud),
        cidr=vpc_cidr(model),
        zone_count=zone_count(model),
        port=max(1, min(65535, common.port(model))),
        health_path=_path(common.readiness_path(model)),
        vcpu=sizes.vcpu,
        memory_mib=sizes.memory_mib,
        region=region,
        database=database,
        db_engine=engine,
        db_version=db.version if db and db.version else None,
        db_storage_gb=max(20, min(65536, (db.storage_gb if db and db.storage_gb else 20))),
        db_ha=bool(db and db.ha),
        db_instance_class=db.instance_class if db else None,
        backup_days=max(1, min(35, backup_days)),
        cache=cache is not None,
        cache_engine=(cache.engine if cache and cache.engine in ("redis", "valkey") else "redis"),
        cache_memory_mib=(cache.memory_mib if cache and cache.memory_mib else 1024),
        cache_ha=bool(cache and cache.ha),
        storage=storage is not None and storage.kind not in ("efs", "ebs", "filestore"),
        storage_retention_days=retention,
        replication=replication,
        queue=queue is not None,
        queue_fifo=bool(queue and (queue.queue_type or "").lower() == "fifo"),
        queue_retention_days=max(1, min(14, (queue.retention_days if queue and queue.retention_days else 4))),
        max_receive=max(
            1, min(1000, (queue.max_receive_count if queue and queue.max_receive_count else DEFAULT_MAX_RECEIVE))
        ),
        blue_green=blue_green,
        secrets=secrets,
        domain=domain,
        log_days=log_days,
        environments=environments(model, cloud, region, blue_green),
        budgets=_budgets(model),
        alarms=_alarms(model),
    )


def _path(text: str) -> str:
    """A URL path safe for health checks: starts with /, printable ASCII, at most 1024 characters."""
    path = re.sub(r"[^A-Za-z0-9/_.~%-]", "", text or "")
    if not path.startswith("/"):
        path = "/" + path
    return path[:1024]


def fields_used(p: Plan) -> Tuple[str, ...]:
    """Model field paths a rendering of ``p`` reads."""
    paths = [
        "service.name",
        "service.ports",
        "service.health",
        "service.resources",
        "service.scaling",
        "service.env",
        "cloud.primary_region",
        "cloud.zones",
        "infrastructure.compute",
        "infrastructure.network",
        "environments",
        "observability.thresholds",
        "observability.logging.retention_days",
        "security.tls.domain",
        "cost.budgets",
        "rollout.canary_steps",
        "rollout.hold_seconds",
        "backup.retention_days",
    ]
    if p.database:
        paths.append("infrastructure.database")
    if p.cache:
        paths.append("infrastructure.cache")
    if p.storage:
        paths.append("infrastructure.storage")
    if p.queue:
        paths.append("infrastructure.queue")
    return tuple(paths)
