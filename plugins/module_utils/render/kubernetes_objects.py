# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes objects of a service, as Python data.

Both the plain manifests (``k8s/base``, the strategy manifests) and the Helm chart
are built from these functions: the chart passes ``Expr`` values (Go template
expressions on ``.Values``) where the manifests hold the values themselves, so
the chart rendered with its default values gives the same objects.

Decisions (each one a documented default, used only when the documents are silent):

- The pod runs as UID/GID ``APP_UID`` (65532, distroless ``nonroot``), read-only
  root file system, no privilege escalation, every capability dropped,
  ``RuntimeDefault`` seccomp, an ``emptyDir`` on ``/tmp``, no service account token.
- The base namespace is the service name (``default`` is never used); each overlay
  moves everything into ``<service>-<environment>``.
- Ingress traffic is allowed from the namespace of the ingress controller of the
  cloud (``INGRESS_CONTROLLERS``), egress to DNS and to the ports of the
  database, cache, queue and object storage that 9.5.1 names.
- Sensitive variables are ``secretKeyRef`` references into the Secret
  ``<service>-secrets`` (kept in sync from the secret store, never generated);
  non-sensitive ones come from the ConfigMap ``<service>-config``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ..model import Environment, EnvVar, MetricDefinition, Model
from . import common
from .kubernetes_yaml import Expr
from .monitoring_yaml import probe_matchers, probe_paths, route_label

Value = Union[Expr, Any]

#: UID and GID the container runs as (the distroless ``nonroot`` user; the
#: generated Dockerfiles use the same numeric user).
APP_UID = 65532
#: HPA CPU target when the documents give none (the HorizontalPodAutoscaler's own default).
DEFAULT_TARGET_CPU_PERCENT = 80
#: Ingress class and controller namespace per cloud (in-cluster controllers, so that
#: a NetworkPolicy can name the namespace the traffic comes from).
INGRESS_CONTROLLERS: Dict[str, Tuple[str, str]] = {
    "azure": ("webapprouting.kubernetes.azure.com", "app-routing-system"),
    "aws": ("traefik", "traefik"),
    "gcp": ("traefik", "traefik"),
}
DEFAULT_INGRESS_CONTROLLER = ("traefik", "traefik")
#: Namespace Prometheus scrapes from (allowed to reach the service's ports when the
#: documents name a metrics system or metrics).
MONITORING_NAMESPACE = "monitoring"
#: Where the canary analysis finds Prometheus (an AnalysisTemplate argument).
DEFAULT_PROMETHEUS_ADDRESS = "http://prometheus-operated.monitoring.svc:9090"
#: Rate window and measurement interval of the canary analysis.
ANALYSIS_WINDOW = "5m"
ANALYSIS_INTERVAL_SECONDS = 60
#: failureLimit when no alert rule says for how long a threshold may be exceeded.
DEFAULT_FAILURE_LIMIT = 1

DATABASE_PORTS: Dict[str, Tuple[int, ...]] = {
    "postgresql": (5432,),
    "mysql": (3306,),
    "mariadb": (3306,),
    "sqlserver": (1433,),
    "mongodb": (27017,),
    "dynamodb": (443,),
    "firestore": (443,),
    "cosmosdb": (443,),
}
CACHE_PORTS: Dict[str, Tuple[int, ...]] = {"redis": (6379,), "valkey": (6379,), "memcached": (11211,)}
QUEUE_PORTS: Dict[str, Tuple[int, ...]] = {
    "sqs": (443,),
    "sns": (443,),
    "pubsub": (443,),
    "servicebus": (443, 5671),
    "eventhubs": (443, 5671),
    "kafka": (9092,),
    "rabbitmq": (5671, 5672),
}
STORAGE_PORTS: Dict[str, Tuple[int, ...]] = {"s3": (443,), "gcs": (443,), "blob": (443,)}

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,252}$")
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]{0,200}$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,100}$")
_HOSTNAME = re.compile(r"^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z][-a-z0-9]{0,61}[a-z0-9]$")

ENV_REFERENCE_SKIP_REASON = (
    "the SPEC declares these sensitive values as environment variables; they are "
    "references into a Secret synchronised from the secret store, never values"
)
DIGEST_SKIP_REASON = (
    "the image is pinned to its immutable release tag from the SPEC; the digest is only "
    "known once the pipeline has pushed the image"
)
PULL_POLICY_SKIP_REASON = (
    "release tags are immutable, so IfNotPresent always runs the tested image without a registry "
    "round trip on every restart"
)


# --------------------------------------------------------------------------- names


def dns_label(text: str, limit: int = 63) -> str:
    """A DNS-1035 label: lower case letters, digits and '-', starting with a letter."""
    value = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if not value or not value[0].isalpha():
        value = "app-" + value if value else "app"
    return value[:limit].rstrip("-")


def name(model: Model, suffix: str = "") -> str:
    """The name of an object: the service name, plus a suffix, at most 63 characters."""
    base = dns_label(common.service_name(model), 63 - (len(suffix) + 1 if suffix else 0))
    return "%s-%s" % (base, suffix) if suffix else base


def k8s_label_value(text: str) -> str:
    """A Kubernetes label value: [A-Za-z0-9_.-], alphanumeric at both ends, at most 63."""
    value = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:63]
    return re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", value)


def namespace(model: Model, env: Optional[Environment] = None) -> str:
    if env is None:
        return name(model)
    return name(model, dns_label(env.name, 20))


def selector_labels(model: Model) -> Dict[str, str]:
    return {"app.kubernetes.io/name": name(model), "app.kubernetes.io/instance": name(model)}


def labels(model: Model, component: str = "service") -> Dict[str, str]:
    data = dict(selector_labels(model))
    version = k8s_label_value(model.service.version or common.image_tag(model))
    if version:
        data["app.kubernetes.io/version"] = version
    data["app.kubernetes.io/component"] = component
    data["app.kubernetes.io/managed-by"] = "sdd-devops-flow"
    req = common.label_value(model.req_id)
    if req:
        data[common.REQ_TAG] = req
    return data


def source_notes(model: Model, paths: Sequence[str]) -> List[str]:
    """Distinct ``from REQ-x ...`` notes for the fields an object came from."""
    seen: Dict[str, None] = {}
    for path in paths:
        note = common.source_note(model, path)
        if note:
            seen.setdefault(note, None)
    return list(seen)


def skip_annotations(checks: Sequence[Tuple[str, str]]) -> Dict[str, str]:
    """checkov's inline skips for Kubernetes: ``checkov.io/skipN: CHECK=reason``."""
    return {"checkov.io/skip%d" % (i + 1): "%s=%s" % (check, reason) for i, (check, reason) in enumerate(checks)}


def metadata(
    model: Model,
    object_name: str,
    component: str = "service",
    annotations: Optional[Dict[str, str]] = None,
    ns: Value = None,
    extra_labels: Optional[Dict[str, str]] = None,
    label_expr: Optional[Expr] = None,
) -> Dict[str, Any]:
    data: Dict[str, Any] = {"name": object_name}
    data["namespace"] = ns if ns is not None else namespace(model)
    if label_expr is not None:
        data["labels"] = label_expr
    else:
        all_labels = labels(model, component)
        all_labels.update(extra_labels or {})
        data["labels"] = all_labels
    if annotations:
        data["annotations"] = annotations
    return data


# --------------------------------------------------------------------------- sizes


def cpu_quantity(millicores: int) -> str:
    return "%d" % (millicores // 1000) if millicores % 1000 == 0 else "%dm" % millicores


def memory_quantity(mib: int) -> str:
    return "%dGi" % (mib // 1024) if mib % 1024 == 0 else "%dMi" % mib


def resources(model: Model) -> Dict[str, Dict[str, str]]:
    """Requests and limits: the SPEC's, else the 9.5.1 compute size, else the
    documented defaults of ``common.compute_sizes``; requests never above limits."""
    sizes = common.compute_sizes(model)
    spec = model.service.resources
    limit_cpu = spec.limits.cpu_millicores or round(sizes.vcpu * 1000) or 500
    limit_mem = spec.limits.memory_mib or sizes.memory_mib
    req_cpu = min(spec.requests.cpu_millicores or limit_cpu, limit_cpu)
    req_mem = min(spec.requests.memory_mib or limit_mem, limit_mem)
    return {
        "requests": {"cpu": cpu_quantity(req_cpu), "memory": memory_quantity(req_mem)},
        "limits": {"cpu": cpu_quantity(limit_cpu), "memory": memory_quantity(limit_mem)},
    }


def environment_resources(model: Model) -> Dict[str, Dict[str, str]]:
    """Resources of an overlay: limits from the 9.5.1 compute row when it sizes the
    service, requests from the SPEC (never above the limits)."""
    compute = model.infrastructure.compute
    base = resources(model)
    if compute is None or not (compute.vcpu or compute.memory_mib):
        return base
    spec = model.service.resources
    limit_cpu = round(compute.vcpu * 1000) if compute.vcpu else (spec.limits.cpu_millicores or 500)
    limit_mem = compute.memory_mib or spec.limits.memory_mib or common.compute_sizes(model).memory_mib
    req_cpu = min(spec.requests.cpu_millicores or limit_cpu, limit_cpu)
    req_mem = min(spec.requests.memory_mib or limit_mem, limit_mem)
    return {
        "requests": {"cpu": cpu_quantity(req_cpu), "memory": memory_quantity(req_mem)},
        "limits": {"cpu": cpu_quantity(limit_cpu), "memory": memory_quantity(limit_mem)},
    }


def base_replicas(model: Model, override: Optional[int] = None) -> int:
    if override is not None:
        return override
    return max(1, common.compute_sizes(model).min_instances)


def hpa_bounds(model: Model, replicas: int, env: Optional[Environment] = None) -> Tuple[int, int]:
    sizes = common.compute_sizes(model)
    low = max(1, replicas if env is not None else sizes.min_instances)
    high = sizes.max_instances
    if env is not None and env.max_replicas:
        high = env.max_replicas
    return low, max(low, high)


def target_cpu_percent(model: Model) -> int:
    return model.service.scaling.target_cpu_percent or DEFAULT_TARGET_CPU_PERCENT


# --------------------------------------------------------------------------- environment variables


def usable_env(model: Model) -> List[EnvVar]:
    """Environment variables whose names Kubernetes accepts (others are left out)."""
    seen: Dict[str, None] = {}
    out = []
    for var in model.service.env:
        if _ENV_NAME.match(var.name) and var.name not in seen:
            seen[var.name] = None
            out.append(var)
    return out


def config_data(model: Model) -> Dict[str, str]:
    """ConfigMap data: non-sensitive variables that have a default, and the REQ 7.2
    feature flags that have one (``true`` / ``false``)."""
    data: Dict[str, str] = {}
    for var in usable_env(model):
        if not var.sensitive and var.default is not None:
            data[var.name] = var.default
    names = {v.name for v in model.service.env}
    for flag in model.service.feature_flags:
        if flag.default is not None and _ENV_NAME.match(flag.name) and flag.name not in names:
            data[flag.name] = "true" if flag.default else "false"
    return data


def sensitive_names(model: Model) -> List[str]:
    return [v.name for v in usable_env(model) if v.sensitive]


def container_env(model: Model) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    config = config_data(model)
    for var in usable_env(model):
        if var.sensitive:
            ref: Dict[str, Any] = {"name": name(model, "secrets"), "key": var.name}
            if not var.required:
                ref["optional"] = True
            out.append({"name": var.name, "valueFrom": {"secretKeyRef": ref}})
        else:
            cref: Dict[str, Any] = {"name": name(model, "config"), "key": var.name}
            if var.name not in config and not var.required:
                cref["optional"] = True
            out.append({"name": var.name, "valueFrom": {"configMapKeyRef": cref}})
    names = {v.name for v in usable_env(model)}
    for key in config:
        if key not in names:
            out.append({"name": key, "valueFrom": {"configMapKeyRef": {"name": name(model, "config"), "key": key}}})
    return out


# --------------------------------------------------------------------------- pod


def ports(model: Model) -> List[Tuple[str, int]]:
    """(name, number) of every port the SPEC exposes; the first is ``http``."""
    out: List[Tuple[str, int]] = []
    for i, number in enumerate(dict.fromkeys(model.service.ports)):
        if 0 < number < 65536:
            out.append(("http" if i == 0 else "tcp-%d" % number, number))
    return out or [("http", common.port(model) if model.service.ports else 8080)]


def health_path(path: str) -> str:
    """A probe path: printable ASCII, starting with '/'."""
    clean = re.sub(r"[^\x21-\x7e]", "", path)
    return clean if clean.startswith("/") else "/" + clean


def probe(model: Model, path: str) -> Dict[str, Any]:
    h = model.service.health
    data: Dict[str, Any] = {"httpGet": {"path": health_path(path), "port": "http", "scheme": "HTTP"}}
    if h.interval_seconds:
        data["periodSeconds"] = h.interval_seconds
    if h.timeout_seconds:
        data["timeoutSeconds"] = h.timeout_seconds
    if h.failure_threshold:
        data["failureThreshold"] = h.failure_threshold
    return data


def security_context() -> Dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": APP_UID,
        "runAsGroup": APP_UID,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_template(
    model: Model,
    pod_labels: Value,
    image: Value,
    pull_policy: Value,
    resource_block: Value,
) -> Dict[str, Any]:
    h = model.service.health
    container: Dict[str, Any] = {
        "name": name(model),
        "image": image,
        "imagePullPolicy": pull_policy,
        "ports": [
            {"name": port_name, "containerPort": number, "protocol": "TCP"} for port_name, number in ports(model)
        ],
    }
    env = container_env(model)
    if env:
        container["env"] = env
    container["resources"] = resource_block
    if h.startup:
        container["startupProbe"] = probe(model, h.startup)
    container["livenessProbe"] = probe(model, common.liveness_path(model))
    container["readinessProbe"] = probe(model, common.readiness_path(model))
    container["securityContext"] = security_context()
    container["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]  # noqa: S108 - an emptyDir, not the host's /tmp
    return {
        "metadata": {"labels": pod_labels},
        "spec": {
            "serviceAccountName": name(model),
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": APP_UID,
                "runAsGroup": APP_UID,
                "fsGroup": APP_UID,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        },
    }


def workload_skips(model: Model) -> List[Tuple[str, str]]:
    checks = [("CKV_K8S_43", DIGEST_SKIP_REASON), ("CKV_K8S_15", PULL_POLICY_SKIP_REASON)]
    if sensitive_names(model):
        checks.append(("CKV_K8S_35", ENV_REFERENCE_SKIP_REASON))
    return checks


def image_ref(model: Model) -> str:
    return "%s:%s" % (common.image(model), common.image_tag(model))


# --------------------------------------------------------------------------- objects


@dataclass(frozen=True)
class Parts:
    """Where the Helm chart puts template expressions (None: the plain value)."""

    namespace: Optional[Expr] = None
    labels: Optional[Expr] = None
    selector: Optional[Expr] = None
    replicas: Optional[Expr] = None
    image: Optional[Expr] = None
    pull_policy: Optional[Expr] = None
    resources: Optional[Expr] = None
    config: Optional[Expr] = None
    hpa_min: Optional[Expr] = None
    hpa_max: Optional[Expr] = None
    hpa_cpu: Optional[Expr] = None
    pdb_max_unavailable: Optional[Expr] = None
    ingress_class: Optional[Expr] = None
    ingress_host: Optional[Expr] = None
    ingress_tls_secret: Optional[Expr] = None
    ingress_namespace: Optional[Expr] = None


PLAIN = Parts()


def _pick(expr: Optional[Expr], value: Any) -> Any:
    return expr if expr is not None else value


def service_account(model: Model, parts: Parts = PLAIN) -> Dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(model, name(model), ns=parts.namespace, label_expr=parts.labels),
        "automountServiceAccountToken": False,
    }


def config_map(model: Model, parts: Parts = PLAIN) -> Dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(model, name(model, "config"), ns=parts.namespace, label_expr=parts.labels),
        "data": _pick(parts.config, config_data(model)),
    }


def deployment(model: Model, replicas: int, parts: Parts = PLAIN) -> Dict[str, Any]:
    pod_labels = _pick(parts.labels, labels(model))
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(
            model,
            name(model),
            annotations=skip_annotations(workload_skips(model)),
            ns=parts.namespace,
            label_expr=parts.labels,
        ),
        "spec": {
            "replicas": _pick(parts.replicas, replicas),
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": _pick(parts.selector, selector_labels(model))},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": pod_template(
                model,
                pod_labels,
                _pick(parts.image, image_ref(model)),
                _pick(parts.pull_policy, "IfNotPresent"),
                _pick(parts.resources, resources(model)),
            ),
        },
    }


def service(
    model: Model, parts: Parts = PLAIN, selector: Optional[Dict[str, str]] = None, suffix: str = ""
) -> Dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(model, name(model, suffix), ns=parts.namespace, label_expr=parts.labels),
        "spec": {
            "type": "ClusterIP",
            "selector": selector if selector is not None else _pick(parts.selector, selector_labels(model)),
            "ports": [
                {"name": port_name, "port": number, "targetPort": port_name, "protocol": "TCP"}
                for port_name, number in ports(model)
            ],
        },
    }


def hpa(model: Model, replicas_floor: int, parts: Parts = PLAIN) -> Dict[str, Any]:
    low, high = hpa_bounds(model, replicas_floor)
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(model, name(model), ns=parts.namespace, label_expr=parts.labels),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name(model)},
            "minReplicas": _pick(parts.hpa_min, low),
            "maxReplicas": _pick(parts.hpa_max, high),
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": _pick(parts.hpa_cpu, target_cpu_percent(model)),
                        },
                    },
                }
            ],
        },
    }


def pdb(model: Model, parts: Parts = PLAIN) -> Dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(model, name(model), ns=parts.namespace, label_expr=parts.labels),
        "spec": {
            "maxUnavailable": _pick(parts.pdb_max_unavailable, 1),
            "selector": {"matchLabels": _pick(parts.selector, selector_labels(model))},
        },
    }


def ingress_controller(model: Model) -> Tuple[str, str]:
    return INGRESS_CONTROLLERS.get(model.cloud.provider or "", DEFAULT_INGRESS_CONTROLLER)


def _cidr(model: Model) -> Optional[str]:
    network = model.infrastructure.network
    if network is None or not network.cidr:
        return None
    if re.match(r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$", network.cidr):
        return network.cidr
    return None


def egress_rules(model: Model) -> List[Dict[str, Any]]:
    """DNS, then the database and cache (inside the network CIDR when 9.5.1 gives
    one), then the queue and object storage APIs."""
    infra = model.infrastructure
    cloud = model.cloud.provider or ""
    rules: List[Dict[str, Any]] = [
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }
            ],
            "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
        }
    ]
    private: Dict[int, None] = {}
    public: Dict[int, None] = {}
    if infra.database is not None:
        for number in DATABASE_PORTS.get(infra.database.engine, ()):
            (public if number == 443 else private).setdefault(number, None)
    if infra.cache is not None:
        cache_ports = CACHE_PORTS.get(infra.cache.engine, (6379,))
        if cloud == "azure" and infra.cache.engine == "redis":
            cache_ports = (6380,)
        for number in cache_ports:
            private.setdefault(number, None)
    if infra.queue is not None:
        for number in QUEUE_PORTS.get(infra.queue.kind, ()):
            (public if number in (443, 5671) else private).setdefault(number, None)
    if infra.storage is not None:
        for number in STORAGE_PORTS.get(infra.storage.kind, ()):
            public.setdefault(number, None)
    cidr = _cidr(model)
    if private:
        rule: Dict[str, Any] = {"ports": [{"port": p, "protocol": "TCP"} for p in sorted(private)]}
        if cidr:
            rule = {"to": [{"ipBlock": {"cidr": cidr}}], "ports": rule["ports"]}
        rules.append(rule)
    if public:
        rules.append({"ports": [{"port": p, "protocol": "TCP"} for p in sorted(public)]})
    return rules


def scraped(model: Model) -> bool:
    obs = model.observability
    return bool(obs.metrics is not None or obs.metric_definitions)


def network_policies(model: Model, parts: Parts = PLAIN) -> List[Dict[str, Any]]:
    controller_ns = _pick(parts.ingress_namespace, ingress_controller(model)[1])
    ingress: List[Dict[str, Any]] = [
        {
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": controller_ns}}}],
            "ports": [{"port": "http", "protocol": "TCP"}],
        }
    ]
    if scraped(model):
        ingress.append(
            {
                "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": MONITORING_NAMESPACE}}}],
                "ports": [{"port": named[0], "protocol": "TCP"} for named in ports(model)],
            }
        )
    deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(model, name(model, "default-deny"), ns=parts.namespace, label_expr=parts.labels),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    allow = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(model, name(model), ns=parts.namespace, label_expr=parts.labels),
        "spec": {
            "podSelector": {"matchLabels": _pick(parts.selector, selector_labels(model))},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress_rules(model),
        },
    }
    return [deny, allow]


def tls_domain(model: Model) -> Optional[str]:
    """The 9.5.6 domain when it is a host name an Ingress accepts, else None."""
    tls = model.security.tls
    if tls is None or not tls.domain:
        return None
    domain = tls.domain.strip().lower()
    return domain if len(domain) <= 253 and _HOSTNAME.match(domain) else None


def ingress(model: Model, parts: Parts = PLAIN) -> Optional[Dict[str, Any]]:
    domain = tls_domain(model)
    if domain is None:
        return None
    host = _pick(parts.ingress_host, domain)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(model, name(model), ns=parts.namespace, label_expr=parts.labels),
        "spec": {
            "ingressClassName": _pick(parts.ingress_class, ingress_controller(model)[0]),
            "tls": [{"hosts": [host], "secretName": _pick(parts.ingress_tls_secret, name(model, "tls"))}],
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": name(model), "port": {"name": "http"}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


# --------------------------------------------------------------------------- strategies


def strategy_environment(model: Model, strategy: str) -> Optional[Environment]:
    """The environment a strategy is rendered for: production when it uses it, else
    the first environment that does."""
    envs = [e for e in common.environments(model) if e.strategy == strategy]
    if not envs:
        return None
    prod = model.production
    return prod if prod is not None and prod in envs else envs[0]


def variant_deployment(model: Model, suffix: str, label_key: str, label: str, replicas: int) -> Dict[str, Any]:
    obj = deployment(model, replicas)
    obj["metadata"]["name"] = name(model, suffix)
    obj["metadata"]["labels"] = dict(obj["metadata"]["labels"], **{label_key: label})
    selector = dict(selector_labels(model), **{label_key: label})
    obj["spec"]["selector"] = {"matchLabels": selector}
    obj["spec"]["template"]["metadata"]["labels"] = dict(labels(model), **{label_key: label})
    return obj


COLOR_LABEL = "sdd.devops-flow/color"
TRACK_LABEL = "sdd.devops-flow/track"


def blue_green(model: Model, env: Environment) -> List[Tuple[str, Dict[str, Any]]]:
    replicas = max(1, common.environment_replicas(model, env))
    live = service(model, selector=dict(selector_labels(model), **{COLOR_LABEL: "blue"}))
    live["metadata"]["annotations"] = {"sdd.devops-flow/live-color": "blue"}
    preview = service(model, selector=dict(selector_labels(model), **{COLOR_LABEL: "green"}), suffix="preview")
    return [
        ("deployment-blue.yaml", variant_deployment(model, "blue", COLOR_LABEL, "blue", replicas)),
        ("deployment-green.yaml", variant_deployment(model, "green", COLOR_LABEL, "green", replicas)),
        ("service.yaml", live),
        ("service-preview.yaml", preview),
    ]


def canary_split(total: int, first_step: int) -> Tuple[int, int]:
    """(stable, canary) replicas for the first canary step: at least one canary pod."""
    canary = max(1, math.ceil(total * first_step / 100.0))
    stable = max(1, total - canary) if first_step < 100 else 0
    return stable, canary


def canary_steps(model: Model, env: Environment) -> List[Dict[str, Any]]:
    hold = common.hold_seconds(model)
    steps: List[Dict[str, Any]] = []
    for weight in common.canary_steps(model, env):
        steps.append({"setWeight": int(weight)})
        steps.append({"pause": {"duration": "%ds" % hold}})
    return steps


@dataclass(frozen=True)
class AnalysisMetric:
    name: str
    query: str
    threshold: float
    failure_limit: int
    field: str


def _format_number(value: float) -> str:
    text = format(Decimal(repr(float(value))).normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _counter(model: Model) -> Optional[Tuple[MetricDefinition, str]]:
    best: Optional[Tuple[int, MetricDefinition, str]] = None
    for i, metric in enumerate(model.observability.metric_definitions):
        if metric.type != "counter" or not _METRIC_NAME.match(metric.name):
            continue
        status = next((lb for lb in metric.labels if _LABEL_NAME.match(lb) and ("status" in lb or "code" in lb)), None)
        if status is None:
            continue
        rank = i - (1000 if "request" in metric.name else 0)
        if best is None or rank < best[0]:
            best = (rank, metric, status)
    return (best[1], best[2]) if best else None


def _histogram(model: Model) -> Optional[MetricDefinition]:
    best: Optional[Tuple[int, MetricDefinition]] = None
    for i, metric in enumerate(model.observability.metric_definitions):
        if metric.type != "histogram" or not _METRIC_NAME.match(metric.name):
            continue
        rank = i - (1000 if ("duration" in metric.name or "latency" in metric.name) else 0)
        if best is None or rank < best[0]:
            best = (rank, metric)
    return best[1] if best else None


def _failure_limit(model: Model, metric: str) -> int:
    for rule in model.observability.alert_rules:
        if rule.metric == metric and rule.for_seconds:
            return max(DEFAULT_FAILURE_LIMIT, rule.for_seconds // ANALYSIS_INTERVAL_SECONDS - 1)
    return DEFAULT_FAILURE_LIMIT


def analysis_metrics(model: Model) -> List[AnalysisMetric]:
    """The canary checks the model supports: an error-rate check when it gives an
    error-rate threshold and a request counter with a status label, a p95 latency
    check when it gives a p95 threshold and a duration histogram."""
    thresholds = model.observability.thresholds
    selector = 'namespace="{{args.namespace}}",service="{{args.service-name}}"'
    out: List[AnalysisMetric] = []
    counter = _counter(model)
    # the canary's traffic, not its probes: a starting pod answers its readiness checks with 503
    # (paths with an Argo Rollouts template in them are left as they are)
    probes = tuple(p for p in probe_paths(model.service.health) if "{{" not in p)
    if thresholds.error_rate_ratio is not None and counter is not None:
        metric, status = counter
        traffic = selector + probe_matchers(route_label(metric.labels), probes)
        errors = 'sum(rate(%s{%s,%s=~"5.."}[%s]))' % (metric.name, traffic, status, ANALYSIS_WINDOW)
        total = "sum(rate(%s{%s}[%s]))" % (metric.name, traffic, ANALYSIS_WINDOW)
        out.append(
            AnalysisMetric(
                "error-rate",
                "%s / %s" % (errors, total),
                float(thresholds.error_rate_ratio),
                _failure_limit(model, "error_rate"),
                "observability.thresholds.error_rate_ratio",
            )
        )
    histogram = _histogram(model)
    if thresholds.p95_latency_ms is not None and histogram is not None:
        value = float(thresholds.p95_latency_ms)
        if histogram.name.endswith("_seconds") or not histogram.name.endswith(("_milliseconds", "_ms")):
            value = value / 1000.0
        query = "histogram_quantile(0.95, sum by (le) (rate(%s_bucket{%s}[%s])))" % (
            histogram.name,
            selector + probe_matchers(route_label(histogram.labels), probes),
            ANALYSIS_WINDOW,
        )
        out.append(
            AnalysisMetric(
                "p95-latency",
                query,
                value,
                _failure_limit(model, "p95_latency"),
                "observability.thresholds.p95_latency_ms",
            )
        )
    return out


def analysis_template(model: Model) -> Optional[Dict[str, Any]]:
    metrics = analysis_metrics(model)
    if not metrics:
        return None
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": metadata(model, name(model, "analysis"), component="analysis"),
        "spec": {
            "args": [
                {"name": "service-name"},
                {"name": "namespace"},
                {"name": "prometheus-address", "value": DEFAULT_PROMETHEUS_ADDRESS},
            ],
            "metrics": [
                {
                    "name": m.name,
                    "interval": "%ds" % ANALYSIS_INTERVAL_SECONDS,
                    "failureLimit": m.failure_limit,
                    "successCondition": "isNaN(result[0]) || result[0] <= %s" % _format_number(m.threshold),
                    "provider": {"prometheus": {"address": "{{args.prometheus-address}}", "query": m.query}},
                }
                for m in metrics
            ],
        },
    }


def rollout(model: Model, env: Environment, with_analysis: bool) -> Dict[str, Any]:
    replicas = max(1, common.environment_replicas(model, env))
    canary: Dict[str, Any] = {"maxSurge": 1, "maxUnavailable": 0, "steps": canary_steps(model, env)}
    if with_analysis:
        canary["analysis"] = {
            "templates": [{"templateName": name(model, "analysis")}],
            "startingStep": 1,
            "args": [
                {"name": "service-name", "value": name(model)},
                {"name": "namespace", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            ],
        }
    template = pod_template(model, labels(model), image_ref(model), "IfNotPresent", resources(model))
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": metadata(model, name(model), annotations=skip_annotations(workload_skips(model))),
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector_labels(model)},
            "template": template,
            "strategy": {"canary": canary},
        },
    }


def canary(model: Model, env: Environment) -> List[Tuple[str, Dict[str, Any]]]:
    total = max(1, common.environment_replicas(model, env))
    steps = common.canary_steps(model, env)
    stable_count, canary_count = canary_split(total, steps[0] if steps else 100)
    out: List[Tuple[str, Dict[str, Any]]] = [
        ("deployment-stable.yaml", variant_deployment(model, "stable", TRACK_LABEL, "stable", stable_count)),
        ("deployment-canary.yaml", variant_deployment(model, "canary", TRACK_LABEL, "canary", canary_count)),
    ]
    template = analysis_template(model)
    out.append(("rollout.yaml", rollout(model, env, template is not None)))
    if template is not None:
        out.append(("analysis-template.yaml", template))
    return out


def namespace_object(model: Model, env: Environment) -> Dict[str, Any]:
    ns_labels = {
        "kubernetes.io/metadata.name": namespace(model, env),
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
    }
    meta = metadata(model, namespace(model, env), extra_labels=ns_labels)
    del meta["namespace"]
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}
