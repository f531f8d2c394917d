# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``k8s`` target: plain manifests, strategy manifests, Kustomize overlays and
a Helm chart, all from one model.

Layout of the output::

    k8s/base/                 the service: ServiceAccount, ConfigMap, Deployment, Service,
                              HorizontalPodAutoscaler, PodDisruptionBudget, NetworkPolicy,
                              Ingress (when 9.5.6 names a domain), kustomization.yaml
    k8s/strategies/blue-green/  two Deployments (blue, green), the live Service selecting
                              the live colour and a preview Service (when an environment
                              uses blue-green)
    k8s/strategies/canary/    stable and canary Deployments, an Argo Rollouts Rollout with
                              the documents' steps and an AnalysisTemplate (when an
                              environment uses canary)
    k8s/overlays/<env>/       one Kustomize overlay per environment: namespace, replicas,
                              resources
    helm/<service>/           a chart whose default render equals k8s/base

The objects themselves are built in ``kubernetes_objects``; the chart in ``helm``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from ..errors import UsageError
from ..fileset import FileSet, GeneratedFile
from ..model import Environment, Model
from . import common
from . import kubernetes_objects as ko
from .kubernetes_yaml import dump, dump_all

if TYPE_CHECKING:  # pragma: no cover
    from ..generate import Options

BASE = "k8s/base"
STRATEGIES = "k8s/strategies"
OVERLAYS = "k8s/overlays"

#: Model fields each base manifest is built from (for the traceability matrix).
POD_FIELDS: Tuple[str, ...] = (
    "service.name",
    "service.image",
    "service.version",
    "service.ports",
    "service.env",
    "service.resources",
    "service.health.liveness",
    "service.health.readiness",
    "service.health.startup",
    "service.health.interval_seconds",
    "service.health.timeout_seconds",
    "service.health.failure_threshold",
    "traceability.req",
)


def _file(path: str, content: str, kind: str, fields: Sequence[str]) -> GeneratedFile:
    return GeneratedFile(path, content, kind, tuple(dict.fromkeys(fields)))


def base_objects(model: Model, replicas: int) -> List[Tuple[str, List[Dict[str, Any]], Tuple[str, ...]]]:
    """(file name, objects, model fields) of every base manifest, in order."""
    out: List[Tuple[str, List[Dict[str, Any]], Tuple[str, ...]]] = [
        ("serviceaccount.yaml", [ko.service_account(model)], ("service.name", "traceability.req")),
        ("configmap.yaml", [ko.config_map(model)], ("service.env", "service.feature_flags", "traceability.req")),
        (
            "deployment.yaml",
            [ko.deployment(model, replicas)],
            (*POD_FIELDS, "service.scaling.min_replicas", "infrastructure.compute"),
        ),
        ("service.yaml", [ko.service(model)], ("service.name", "service.ports", "traceability.req")),
        (
            "hpa.yaml",
            [ko.hpa(model, replicas)],
            (
                "service.scaling.min_replicas",
                "service.scaling.max_replicas",
                "service.scaling.target_cpu_percent",
                "infrastructure.compute",
                "traceability.req",
            ),
        ),
        ("pdb.yaml", [ko.pdb(model)], ("service.name", "traceability.req")),
        (
            "networkpolicy.yaml",
            ko.network_policies(model),
            (
                "service.ports",
                "cloud.provider",
                "infrastructure.database.engine",
                "infrastructure.cache.engine",
                "infrastructure.queue.kind",
                "infrastructure.storage.kind",
                "infrastructure.network.cidr",
                "observability.metrics",
                "traceability.req",
            ),
        ),
    ]
    ing = ko.ingress(model)
    if ing is not None:
        out.append(("ingress.yaml", [ing], ("security.tls.domain", "cloud.provider", "traceability.req")))
    return out


#: Model paths whose sources are noted on each kind of object.
NOTE_PATHS: Dict[str, Tuple[str, ...]] = {
    "ServiceAccount": ("security.iam",),
    "ConfigMap": ("service.env", "service.feature_flags"),
    "Deployment": ("service.image", "service.resources", "service.health.liveness", "service.health.readiness"),
    "Service": ("service.ports",),
    "HorizontalPodAutoscaler": ("service.scaling", "infrastructure.compute"),
    "PodDisruptionBudget": ("environments",),
    "NetworkPolicy": ("security.network_rules[0]", "infrastructure.database", "infrastructure.cache"),
    "Ingress": ("security.tls.domain",),
    "Rollout": ("rollout.canary_steps", "rollout.hold_seconds"),
    "AnalysisTemplate": ("observability.thresholds.error_rate_ratio", "observability.thresholds.p95_latency_ms"),
    "Namespace": ("environments",),
}


def notes_for(model: Model, obj: Dict[str, Any]) -> List[str]:
    return ko.source_notes(model, NOTE_PATHS.get(str(obj.get("kind")), ()))


def manifest(model: Model, objects: Sequence[Dict[str, Any]]) -> str:
    return dump_all((obj, notes_for(model, obj)) for obj in objects)


def base_kustomization(files: Sequence[str]) -> str:
    data = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": list(files),
    }
    return dump(data)


def overlay(model: Model, env: Environment) -> Tuple[str, str]:
    """(kustomization.yaml, namespace.yaml) of one environment."""
    replicas = max(0, common.environment_replicas(model, env))
    low, high = ko.hpa_bounds(model, max(1, replicas), env)
    res = ko.environment_resources(model)
    container = "/spec/template/spec/containers/0"
    deployment_ops = [
        {"op": "replace", "path": "/spec/replicas", "value": replicas},
        {"op": "replace", "path": container + "/resources", "value": res},
    ]
    hpa_ops = [
        {"op": "replace", "path": "/spec/minReplicas", "value": low},
        {"op": "replace", "path": "/spec/maxReplicas", "value": high},
    ]
    data = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": ko.namespace(model, env),
        "resources": ["../../base", "namespace.yaml"],
        "labels": [
            {
                "pairs": {"sdd.devops-flow/environment": ko.dns_label(env.name, 63)},
                "includeSelectors": False,
                "includeTemplates": True,
            }
        ],
        "patches": [
            {
                "target": {"group": "apps", "version": "v1", "kind": "Deployment", "name": ko.name(model)},
                "patch": json.dumps(deployment_ops, sort_keys=True),
            },
            {
                "target": {
                    "group": "autoscaling",
                    "version": "v2",
                    "kind": "HorizontalPodAutoscaler",
                    "name": ko.name(model),
                },
                "patch": json.dumps(hpa_ops, sort_keys=True),
            },
        ],
    }
    notes = []
    label = env.label or env.name
    notes.append("environment %s: strategy %s, %d replicas" % (label, env.strategy or "rolling", replicas))
    if env.strategy in ("blue-green", "canary"):
        notes.append("the %s manifests for this environment are in k8s/strategies/%s" % (env.strategy, env.strategy))
    index = _env_index(model, env)
    if index is not None:
        note = common.source_note(model, "environments[%d]" % index)
        if note:
            notes.append(note)
    return dump(data, notes), dump(ko.namespace_object(model, env), notes[-1:] if index is not None else ())


def _env_index(model: Model, env: Environment) -> Optional[int]:
    for i, candidate in enumerate(model.environments):
        if candidate is env:
            return i
    return None


def render_k8s(model: Model, options: Options) -> FileSet:
    """Every Kubernetes artifact of the service (pure: no disk access)."""
    if options.replicas is not None and options.replicas < 0:
        raise UsageError("replicas must be 0 or more, got %d" % options.replicas)
    replicas = ko.base_replicas(model, options.replicas)
    files = FileSet()
    names: List[str] = []
    for file_name, objects, fields in base_objects(model, replicas):
        names.append(file_name)
        files.add(_file("%s/%s" % (BASE, file_name), manifest(model, objects), "kubernetes", fields))
    files.add(_file(BASE + "/kustomization.yaml", base_kustomization(names), "kustomize", ("service.name",)))

    bg_env = ko.strategy_environment(model, "blue-green")
    if bg_env is not None:
        for file_name, obj in ko.blue_green(model, bg_env):
            files.add(
                _file(
                    "%s/blue-green/%s" % (STRATEGIES, file_name),
                    manifest(model, [obj]),
                    "kubernetes",
                    (*POD_FIELDS, "environments"),
                )
            )
    canary_env = ko.strategy_environment(model, "canary")
    if canary_env is not None:
        for file_name, obj in ko.canary(model, canary_env):
            used: Tuple[str, ...] = (*POD_FIELDS, "environments", "rollout.canary_steps", "rollout.hold_seconds")
            if obj["kind"] == "AnalysisTemplate":
                used = (
                    "observability.thresholds.error_rate_ratio",
                    "observability.thresholds.p95_latency_ms",
                    "observability.metric_definitions",
                    "observability.alert_rules",
                )
            files.add(_file("%s/canary/%s" % (STRATEGIES, file_name), manifest(model, [obj]), "kubernetes", used))

    seen: Dict[str, None] = {}
    for env in common.environments(model):
        folder = ko.dns_label(env.name, 40)
        if folder in seen:
            continue
        seen[folder] = None
        kustomization, namespace = overlay(model, env)
        env_fields = ("environments", "service.resources", "infrastructure.compute", "service.scaling")
        files.add(_file("%s/%s/kustomization.yaml" % (OVERLAYS, folder), kustomization, "kustomize", env_fields))
        files.add(_file("%s/%s/namespace.yaml" % (OVERLAYS, folder), namespace, "kubernetes", ("environments",)))

    from .helm import render_chart

    files.merge(render_chart(model, replicas))
    return files
