# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Terraform helpers shared by the GCP and Azure renderers.

Nothing here is specific to one provider: variable blocks with validations,
HCL string templates with references, the Terraform tree (files, kinds and the
model fields each file used), environment names usable in resource names,
region mapping when a model written for one cloud is rendered for another,
and the sizes taken from the model.  Every value from a document reaches the
HCL through ``hcl.q`` (directly or through ``Block.attr``).
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ..fileset import FileSet, GeneratedFile
from ..model import Environment, Model
from . import common
from .hcl import Attr, Blank, Block, Comment, Raw, expr, q, render

Item = Union[Attr, Block, Comment, Blank]

#: Marks a variable without a default (Terraform asks for it).
REQUIRED = object()

#: Used when the documents give no network range (a private /16).
DEFAULT_CIDR = "10.0.0.0/16"
#: Used when the documents give no backup retention.
DEFAULT_BACKUP_RETENTION_DAYS = 7
#: Used when the documents give no queue retention.
DEFAULT_QUEUE_RETENTION_DAYS = 7
#: Delivery attempts before a message goes to the dead-letter queue, when unset.
DEFAULT_MAX_DELIVERY = 5
#: Duration of an alert condition when the documents give none.
DEFAULT_ALERT_SECONDS = 300

#: Nearest region of each cloud for regions of the others (used with --cloud).
_GCP_REGIONS = {
    "us-east-1": "us-east4",
    "us-east-2": "us-east5",
    "us-west-1": "us-west2",
    "us-west-2": "us-west1",
    "ca-central-1": "northamerica-northeast1",
    "eu-west-1": "europe-west1",
    "eu-west-2": "europe-west2",
    "eu-west-3": "europe-west9",
    "eu-central-1": "europe-west3",
    "eu-north-1": "europe-north1",
    "ap-southeast-1": "asia-southeast1",
    "ap-southeast-2": "australia-southeast1",
    "ap-northeast-1": "asia-northeast1",
    "ap-south-1": "asia-south1",
    "sa-east-1": "southamerica-east1",
    "eastus": "us-east4",
    "eastus2": "us-east4",
    "centralus": "us-central1",
    "westus": "us-west2",
    "westus2": "us-west1",
    "westus3": "us-west4",
    "northeurope": "europe-west1",
    "westeurope": "europe-west4",
    "uksouth": "europe-west2",
    "germanywestcentral": "europe-west3",
    "southeastasia": "asia-southeast1",
    "japaneast": "asia-northeast1",
    "australiaeast": "australia-southeast1",
}
_AZURE_REGIONS = {
    "us-east-1": "eastus",
    "us-east-2": "eastus2",
    "us-west-1": "westus",
    "us-west-2": "westus2",
    "ca-central-1": "canadacentral",
    "eu-west-1": "northeurope",
    "eu-west-2": "uksouth",
    "eu-west-3": "francecentral",
    "eu-central-1": "germanywestcentral",
    "eu-north-1": "swedencentral",
    "ap-southeast-1": "southeastasia",
    "ap-southeast-2": "australiaeast",
    "ap-northeast-1": "japaneast",
    "ap-south-1": "centralindia",
    "sa-east-1": "brazilsouth",
    "us-central1": "centralus",
    "us-east1": "eastus",
    "us-east4": "eastus",
    "us-east5": "eastus2",
    "us-west1": "westus2",
    "us-west2": "westus",
    "us-west4": "westus3",
    "europe-west1": "westeurope",
    "europe-west2": "uksouth",
    "europe-west3": "germanywestcentral",
    "europe-west4": "westeurope",
    "europe-north1": "swedencentral",
    "asia-southeast1": "southeastasia",
    "asia-northeast1": "japaneast",
    "australia-southeast1": "australiaeast",
}
_GCP_REGION_RE = re.compile(r"^[a-z]+-[a-z]+[0-9]$")
_AZURE_REGION_RE = re.compile(r"^[a-z]{4,}[0-9]?$")
#: Azure paired regions (geo-redundant storage and backups replicate there).
AZURE_PAIRS = {
    "eastus": "westus",
    "eastus2": "centralus",
    "centralus": "eastus2",
    "westus": "eastus",
    "westus2": "westcentralus",
    "westus3": "eastus",
    "northeurope": "westeurope",
    "westeurope": "northeurope",
    "uksouth": "ukwest",
    "germanywestcentral": "germanynorth",
    "swedencentral": "swedensouth",
    "francecentral": "francesouth",
    "southeastasia": "eastasia",
    "japaneast": "japanwest",
    "australiaeast": "australiasoutheast",
    "canadacentral": "canadaeast",
    "brazilsouth": "southcentralus",
    "centralindia": "southindia",
}


# --------------------------------------------------------------------------- HCL pieces


def interp(*parts: Any) -> Raw:
    """A quoted HCL template: ``str`` parts are escaped text, ``Raw`` parts are
    expressions placed in ``${...}``."""
    out: List[str] = []
    for part in parts:
        if isinstance(part, Raw):
            out.append("${%s}" % part)
        else:
            out.append(str(q(part))[1:-1])
    return Raw('"%s"' % "".join(out))


def validation(condition: str, message: str) -> Block:
    return Block("validation", (), [Attr("condition", Raw(condition)), Attr("error_message", message)])


def variable(
    name: str,
    type_: str,
    description: str,
    default: Any = REQUIRED,
    validations: Sequence[Block] = (),
    sensitive: bool = False,
    nullable: Optional[bool] = None,
) -> Block:
    """A typed ``variable`` block with a description and validations."""
    block = Block("variable", (name,))
    block.attr("description", description)
    block.attr("type", Raw(type_))
    if default is not REQUIRED:
        block.body.append(Attr("default", default))
    if sensitive:
        block.attr("sensitive", True)
    if nullable is not None:
        block.attr("nullable", nullable)
    for item in validations:
        block.add(item)
    return block


def output(name: str, value: Any, description: str, sensitive: bool = False) -> Block:
    block = Block("output", (name,))
    block.attr("description", description)
    block.attr("value", value)
    if sensitive:
        block.attr("sensitive", True)
    return block


def resource(kind: str, name: str, note: Optional[str] = None, skips: Sequence[Tuple[str, str]] = ()) -> Block:
    """A resource block, starting with its source note and inline checkov skips."""
    block = Block("resource", (kind, name))
    if note:
        block.comment(note)
    for check, reason in skips:
        block.comment("checkov:skip=%s:%s" % (check, _one_line(reason)))
    return block


def _one_line(text: str) -> str:
    return " ".join(str(text).split()).replace(":", " -")


def lifecycle(ignore: Sequence[str] = (), prevent_destroy: bool = False) -> Block:
    block = Block("lifecycle")
    if prevent_destroy:
        block.attr("prevent_destroy", True)
    if ignore:
        block.attr("ignore_changes", [Raw(path) for path in ignore])
    return block


def dynamic(name: str, for_each: str, content: Sequence[Item]) -> Block:
    return Block("dynamic", (name,), [Attr("for_each", Raw(for_each)), Block("content", (), list(content))])


def module_call(name: str, source: str, values: Dict[str, Any], depends_on: Sequence[str] = ()) -> Block:
    block = Block("module", (name,))
    block.attr("source", source)
    block.blank()
    for key, value in values.items():
        block.attr(key, value)
    if depends_on:
        block.attr("depends_on", [Raw(d) for d in depends_on])
    return block


# --------------------------------------------------------------------------- the tree


@dataclass
class Module:
    """A child module: its resources, its inputs and its outputs."""

    name: str
    purpose: str
    main: List[Item]
    variables: List[Block]
    outputs: List[Block]
    fields: Tuple[str, ...] = ()


class Tree:
    """The files of one Terraform configuration (root, environments, modules)."""

    def __init__(self) -> None:
        self.files = FileSet()

    def add(self, path: str, items: Sequence[Item], fields: Sequence[str], kind: str = "terraform") -> None:
        ordered: Dict[str, None] = {}
        for name in fields:
            ordered.setdefault(name, None)
        self.files.add(GeneratedFile(path, render(list(items)), kind, tuple(ordered)))

    def add_vars(self, path: str, items: Sequence[Union[Attr, Comment]], fields: Sequence[str]) -> None:
        """A .tfvars file: top-level attributes aligned as terraform fmt aligns them."""
        self.files.add(GeneratedFile(path, render_tfvars(items), "terraform", tuple(dict.fromkeys(fields))))

    def add_module(self, module: Module, versions: Sequence[Item]) -> None:
        base = "modules/%s/" % module.name
        head: List[Item] = [Comment(module.purpose)]
        self.add(base + "main.tf", head + list(module.main), module.fields)
        self.add(base + "variables.tf", module.variables, module.fields)
        self.add(base + "outputs.tf", module.outputs, module.fields)
        self.add(base + "versions.tf", versions, ())


def render_tfvars(items: Sequence[Union[Attr, Comment]]) -> str:
    lines: List[str] = []
    run: List[Tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _value in run), default=0)
        lines.extend("%s = %s" % (k.ljust(width), v) for k, v in run)
        run.clear()

    for item in items:
        if isinstance(item, Comment):
            flush()
            lines.extend("# " + line if line else "#" for line in item.text.split("\n"))
            continue
        value = expr(item.value)
        if "\n" in value:
            flush()
            lines.append("%s = %s" % (item.name, value))
        else:
            run.append((item.name, value))
    flush()
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- model helpers


def note(model: Model, path: str) -> Optional[str]:
    return common.source_note(model, path)


def env_slug(name: str) -> str:
    """An environment name usable in resource names: [a-z0-9-], at most 12 characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = "env-" + slug if slug else "env"
    slug = slug[:12].strip("-")
    return slug


def environments(model: Model) -> List[Tuple[str, Environment]]:
    """(slug, environment) pairs with unique slugs, in document order."""
    seen: Dict[str, int] = {}
    out: List[Tuple[str, Environment]] = []
    for env in common.environments(model):
        slug = env_slug(env.name)
        if slug in seen:
            seen[slug] += 1
            suffix = "-%d" % seen[slug]
            slug = slug[: 12 - len(suffix)].strip("-") + suffix
        else:
            seen[slug] = 1
        out.append((slug, env))
    return out


def production_slug(model: Model) -> str:
    """The slug of the production environment (the defaults of variables.tf are its values)."""
    pairs = environments(model)
    prod = model.production
    for slug, env in pairs:
        if prod is not None and env.name == prod.name:
            return slug
    return pairs[-1][0]


def is_production(model: Model, env: Environment) -> bool:
    prod = model.production
    if prod is None:
        return env.name == "prod" or env is common.environments(model)[-1]
    return env.name == prod.name


def map_region(region: Optional[str], cloud: str) -> Optional[str]:
    """A region of ``cloud`` for a region written for any cloud (None if unknown)."""
    if not region:
        return None
    text = region.strip().lower()
    if cloud == "gcp":
        if text in _GCP_REGIONS:
            return _GCP_REGIONS[text]
        return text if _GCP_REGION_RE.match(text) else None
    if text in _AZURE_REGIONS:
        return _AZURE_REGIONS[text]
    return text if _AZURE_REGION_RE.match(text) else None


def _region_candidates(model: Model) -> List[str]:
    out: List[str] = []
    if model.cloud.primary_region:
        out.append(model.cloud.primary_region)
    out.extend(model.cloud.regions)
    prod = model.production
    if prod is not None:
        out.extend(prod.regions)
    for env in common.environments(model):
        out.extend(env.regions)
    return out


def cloud_region(model: Model, cloud: str, default: str) -> str:
    """The primary region of the model on ``cloud`` (mapped when written for another cloud)."""
    for candidate in _region_candidates(model):
        mapped = map_region(candidate, cloud)
        if mapped:
            return mapped
    return default


def env_region(model: Model, env: Environment, cloud: str, default: str) -> str:
    for candidate in env.regions:
        mapped = map_region(candidate, cloud)
        if mapped:
            return mapped
    return cloud_region(model, cloud, default)


def secondary_region(model: Model, cloud: str) -> Optional[str]:
    """The second region a multi-region environment names, mapped to ``cloud``."""
    primary = cloud_region(model, cloud, "")
    for candidate in _region_candidates(model):
        mapped = map_region(candidate, cloud)
        if mapped and mapped != primary:
            return mapped
    return None


def multi_region(model: Model) -> bool:
    return any(env.multi_region for env in common.environments(model))


def cidr(model: Model) -> Tuple[str, bool]:
    """(the network range, whether it came from the documents)."""
    network = model.infrastructure.network
    text = (network.cidr if network else None) or ""
    try:
        net = ipaddress.ip_network(text.strip(), strict=True)
    except ValueError:
        return DEFAULT_CIDR, False
    if net.version != 4 or not 8 <= net.prefixlen <= 20 or not net.is_private:
        return DEFAULT_CIDR, False
    return str(net), True


def backup_retention_days(model: Model) -> int:
    db = model.infrastructure.database
    days = (db.backup_retention_days if db else None) or model.backup.retention_days
    return days if days and days > 0 else DEFAULT_BACKUP_RETENTION_DAYS


def backup_retention_path(model: Model) -> str:
    db = model.infrastructure.database
    if db and db.backup_retention_days:
        return "infrastructure.database.backup_retention_days"
    return "backup.retention_days"


def cross_region_backup(model: Model) -> bool:
    return bool(model.backup.cross_region) or multi_region(model)


def gib(mib: Optional[int], default: int, minimum: int = 1) -> int:
    if not mib:
        return default
    return max(minimum, math.ceil(mib / 1024.0))


def env_scaling(model: Model, env: Environment) -> Tuple[int, int]:
    """(min, max) instances of an environment: 9.5.2 replicas, else the sizes."""
    sizes = common.compute_sizes(model)
    low = common.environment_replicas(model, env)
    high = env.max_replicas if env.max_replicas is not None else sizes.max_instances
    return low, max(low, high, 1)


def sensitive_env(model: Model) -> List[str]:
    names: Dict[str, None] = {}
    for var in model.service.env:
        if var.sensitive:
            names.setdefault(var.name, None)
    return sorted(names)


def budgets(model: Model) -> List[Tuple[str, float, Tuple[float, ...], str]]:
    """(resource, monthly amount, thresholds in percent, source path) per 9.5.7 row with an amount.

    The total comes from the ``total`` row, else ``total_monthly_usd``, else the sum of the rows.
    """
    out: List[Tuple[str, float, Tuple[float, ...], str]] = []
    total: Optional[Tuple[str, float, Tuple[float, ...], str]] = None
    defaults: Tuple[float, ...] = ()
    for index, budget in enumerate(model.cost.budgets):
        if budget.threshold_percents and not defaults:
            defaults = budget.threshold_percents
        if budget.monthly_usd is None or budget.monthly_usd <= 0:
            continue
        path = "cost.budgets[%d]" % index
        key = re.sub(r"[^a-z0-9]+", "-", budget.resource.lower()).strip("-") or "resource"
        row = (key, float(budget.monthly_usd), budget.threshold_percents, path)
        if key == "total":
            total = row
        elif key not in [r[0] for r in out]:
            out.append(row)
    if total is None:
        amount = model.cost.total_monthly_usd or (sum(r[1] for r in out) if out else None)
        if amount:
            total = ("total", float(amount), defaults, "cost.total_monthly_usd")
    if total is None:
        return []
    rows = [total, *out]
    return [(k, a, t or defaults or (100.0,), p) for k, a, t, p in rows]


def threshold_alerts(model: Model) -> List[Tuple[str, float, int, str, str]]:
    """(metric, threshold, for seconds, severity, source path) from the model's thresholds.

    metric is one of p95_latency_ms, p99_latency_ms, error_rate_ratio, availability_percent.
    """
    th = model.observability.thresholds
    out: List[Tuple[str, float, int, str, str]] = []
    rules = {
        "p95_latency_ms": "p95_latency",
        "p99_latency_ms": "p99_latency",
        "error_rate_ratio": "error_rate",
        "availability_percent": "availability",
    }
    for field_name, metric in rules.items():
        value = getattr(th, field_name)
        if value is None:
            continue
        seconds = DEFAULT_ALERT_SECONDS
        severity = "warning"
        for rule in model.observability.alert_rules:
            if rule.metric == metric and rule.threshold is not None:
                if rule.for_seconds:
                    seconds = rule.for_seconds
                if rule.severity in ("critical", "error"):
                    severity = "critical"
                break
        out.append((field_name, float(value), seconds, severity, "observability.thresholds.%s" % field_name))
    return out


def number(value: float) -> Union[int, float]:
    """An int when the value is whole (so HCL shows 650, not 650.0)."""
    return int(value) if float(value).is_integer() else float(value)


def document_engine(model: Model) -> Optional[str]:
    """relational (postgresql, mysql, sqlserver), document, or None (no database)."""
    db = model.infrastructure.database
    if db is None:
        return None
    if db.engine in ("postgresql", "mysql", "mariadb", "sqlserver"):
        return "relational"
    if db.engine in ("dynamodb", "firestore", "cosmosdb", "mongodb"):
        return "document"
    return None


def hostile_safe(text: str, limit: int = 200) -> str:
    """Document text for a description: one line, bounded (escaping is done by q)."""
    return " ".join(str(text).split())[:limit]


def name_ok(name: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9-]{1,28}[a-z0-9]$", name))


def service_name(model: Model) -> str:
    """The service name as a resource name ([a-z0-9-], 3 to 30 characters, starts with a letter)."""
    name = re.sub(r"[^a-z0-9-]+", "-", model.service.name.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)
    if not name or not name[0].isalpha():
        name = "svc-" + name
    name = name[:30].strip("-")
    while len(name) < 3:
        name += "x"
    return name


__all__ = [
    "AZURE_PAIRS",
    "DEFAULT_CIDR",
    "REQUIRED",
    "Module",
    "Tree",
    "interp",
    "lifecycle",
    "module_call",
    "output",
    "resource",
    "validation",
    "variable",
]
