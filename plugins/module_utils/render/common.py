# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every renderer shares: names, tags and labels, source comments, and the
few documented defaults used when a document leaves a value unset.

Defaults live here, once, so that every artifact family agrees (the Dockerfile,
compose, Kubernetes and the pipelines use the same port and health path).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from ..model import Environment, Model

#: The tag / label that names the requirement a resource came from.
REQ_TAG = "sdd.devops-flow/req"
#: Azure tag names cannot hold "/" (nor < > % & \ ?).
REQ_TAG_AZURE = "sdd-devops-flow-req"

#: Used when the documents give no canary steps for a canary environment.
DEFAULT_CANARY_STEPS: Tuple[int, ...] = (10, 25, 50, 100)
#: Used when the documents give no hold time per canary step.
DEFAULT_HOLD_SECONDS = 300
#: Used when no environments are given at all.
DEFAULT_ENVIRONMENTS: Tuple[Environment, ...] = (
    Environment("dev", "Development", "manual", None, 1),
    Environment("staging", "Staging", "rolling", 300, 2),
    Environment("prod", "Production", "rolling", 300, 2),
)
DEFAULT_HEALTH_PATH = "/health"


def service_name(model: Model) -> str:
    return model.service.name


def port(model: Model) -> int:
    """The service's main port (the first one the SPEC exposes)."""
    return model.service.ports[0]


def liveness_path(model: Model) -> str:
    h = model.service.health
    return h.liveness or h.readiness or DEFAULT_HEALTH_PATH


def readiness_path(model: Model) -> str:
    h = model.service.health
    return h.readiness or h.liveness or DEFAULT_HEALTH_PATH


def startup_path(model: Model) -> Optional[str]:
    return model.service.health.startup


def environments(model: Model) -> Tuple[Environment, ...]:
    """The documents' environments, else dev / staging / prod defaults."""
    return model.environments or DEFAULT_ENVIRONMENTS


def canary_steps(model: Model, env: Optional[Environment] = None) -> Tuple[int, ...]:
    if env is not None and env.canary_steps:
        return env.canary_steps
    return model.rollout.canary_steps or DEFAULT_CANARY_STEPS


def hold_seconds(model: Model) -> int:
    return model.rollout.hold_seconds or DEFAULT_HOLD_SECONDS


def production_strategy(model: Model) -> str:
    prod = model.production
    return (prod.strategy if prod and prod.strategy else None) or "rolling"


def uses_strategy(model: Model, strategy: str) -> bool:
    return any(e.strategy == strategy for e in environments(model))


def image(model: Model, registry: Optional[str] = None) -> str:
    """The image reference without a tag (tags are the commit SHA in pipelines)."""
    if model.service.image:
        ref = model.service.image
        last = ref.rsplit("/", 1)[-1]
        if ":" in last:
            ref = ref[: len(ref) - len(last)] + last.split(":", 1)[0]
        return ref.split("@", 1)[0]
    return "%s/%s" % (registry, model.service.name) if registry else model.service.name


def image_tag(model: Model) -> str:
    """The tag the SPEC gives, else the service version, else 0.1.0 (never latest)."""
    ref = model.service.image or ""
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        tag = last.split(":", 1)[1]
        if tag and tag != "latest":
            return tag
    return model.service.version or "0.1.0"


def tags(model: Model, environment: Optional[str] = None, cloud: str = "aws") -> Dict[str, str]:
    """Tags for AWS and Azure resources: Project, Environment, ManagedBy and the requirement."""
    data = {
        "Project": model.service.name,
        "ManagedBy": "sdd.devops_flow",
        (REQ_TAG_AZURE if cloud == "azure" else REQ_TAG): model.req_id,
    }
    if environment is not None:
        data["Environment"] = environment
    return data


def safe_name(text: str, limit: int = 32, fallback: str = "service") -> str:
    """A lower-case name of [a-z0-9-] starting with a letter, at most ``limit`` long."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    slug = re.sub(r"-{2,}", "-", slug)
    if not slug or not slug[0].isalpha():
        slug = ("%s-%s" % (fallback, slug)).strip("-")
    return slug[:limit].strip("-") or fallback


def label_value(text: str) -> str:
    """A GCP / Kubernetes label value: lower case, [a-z0-9_-], at most 63 characters."""
    value = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")
    return value[:63].rstrip("-_")


def labels(model: Model, environment: Optional[str] = None) -> Dict[str, str]:
    """Labels for GCP resources (keys and values restricted by GCP)."""
    data = {
        "project": label_value(model.service.name),
        "managed-by": "sdd-devops-flow",
        "sdd-devops-flow-req": label_value(model.req_id),
    }
    if environment is not None:
        data["environment"] = label_value(environment)
    return data


def source_note(model: Model, path: str) -> Optional[str]:
    """``from REQ-14 9.5.1 Infrastructure Requirements (REQ-14_x.md:131)`` for a field."""
    src = model.source(path)
    if src is None or not src.line:
        return None
    doc = os.path.basename(src.file)
    section = (" " + src.section) if src.section else ""
    return "from %s%s (%s:%d)" % (model.req_id, section, doc, src.line)


@dataclass(frozen=True)
class Sizes:
    """Compute sizes for cloud services: from 9.5.1, else the SPEC limits, else small."""

    vcpu: float
    memory_mib: int
    min_instances: int
    max_instances: int


def compute_sizes(model: Model) -> Sizes:
    compute = model.infrastructure.compute
    limits = model.service.resources.limits
    vcpu = (
        (compute.vcpu if compute and compute.vcpu else None)
        or (limits.cpu_millicores / 1000.0 if limits.cpu_millicores else None)
        or 0.5
    )
    memory = (compute.memory_mib if compute and compute.memory_mib else None) or limits.memory_mib or 1024
    scaling = model.service.scaling
    low = (
        scaling.min_replicas
        if scaling.min_replicas is not None
        else (compute.min_instances if compute and compute.min_instances is not None else 1)
    )
    high = (
        scaling.max_replicas
        if scaling.max_replicas is not None
        else (compute.max_instances if compute and compute.max_instances is not None else max(low, 2))
    )
    return Sizes(vcpu, memory, low, max(low, high))


def environment_replicas(model: Model, env: Environment) -> int:
    """Replicas of an environment: 9.5.2, else the scaling minimum, else 1."""
    if env.replicas is not None:
        return env.replicas
    return compute_sizes(model).min_instances


def zones(model: Model) -> List[str]:
    return list(model.cloud.zones)


def region(model: Model, default: str) -> str:
    return model.cloud.primary_region or default
