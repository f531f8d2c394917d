# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``scripts`` target: the deployment scripts of REQ 9.5.3.

The scripts are Jinja2 templates in ``roles/deploy/templates/`` (one source for the
deploy role, which renders them on hosts with ``ansible.builtin.template``, and for
``devops-flow generate-deployment-scripts``).  Every template reads one variable,
``deploy_script``: the dict ``script_context(model)`` builds here and the deploy role
builds from its own variables.  docs/scripts.md describes every key.

Templates are rendered with an environment configured like Ansible's template
module (``trim_blocks``, kept trailing newline, strict undefined) and the filters
they use registered under Ansible's names, with Ansible's behaviour (``quote`` is
``ansible.builtin.quote``: None becomes '', then ``shlex.quote``).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..errors import UsageError
from ..fileset import FileSet, GeneratedFile
from ..model import Environment, Model
from . import common
from .monitoring_yaml import route_label

if TYPE_CHECKING:  # pragma: no cover
    from ..generate import Options

#: The scripts REQ 9.5.3 names, in the order the framework lists them.
SCRIPT_NAMES: Tuple[str, ...] = (
    "setup.sh",
    "install.sh",
    "deploy.sh",
    "rollback.sh",
    "health-check.sh",
    "cleanup.sh",
)
#: What each script is for (help texts and the generated header).
SCRIPT_PURPOSES: Dict[str, str] = {
    "setup.sh": "check the tools the target needs and create the log and release folders",
    "install.sh": "install a release without sending traffic to it",
    "deploy.sh": "deploy a release with the environment's strategy",
    "rollback.sh": "return traffic to the previous release",
    "health-check.sh": "check the readiness of the live, idle or canary release",
    "cleanup.sh": "remove old releases, never the live or the previous one",
}
TARGETS: Tuple[str, ...] = ("local", "kubernetes", "ecs", "cloud-run", "container-apps")
OUTPUT_DIR = "scripts"

#: Documented defaults of the scripts (docs/scripts.md) for values no document gives.
DEFAULT_HEALTH_TIMEOUT_SECONDS = 5
DEFAULT_HEALTH_INTERVAL_SECONDS = 10
DEFAULT_HEALTH_RETRIES = 3
#: How long a new release may take to become ready before a deployment gives up.
DEFAULT_START_SECONDS = 120
#: How long a stopped process may take to exit after SIGTERM before it is killed.
DEFAULT_STOP_SECONDS = 30
DEFAULT_KEEP_RELEASES = 5
DEFAULT_LOG_FILE = "logs/deployment_YYYYMMDD_HHMMSS.log"
DEFAULT_BASH_VERSION = "4.0"
DEFAULT_ROLLBACK_SECONDS = 300
DEFAULT_HAPROXY_SOCKET = "/run/haproxy/admin.sock"
#: Address the local target's processes listen on and are checked at.
DEFAULT_BIND = "127.0.0.1"
DEFAULT_REQUESTS_METRIC = ("http_requests_total", "status")
DEFAULT_DURATION_METRIC = "http_request_duration_seconds"
#: The start command of the project's demo app (examples/app), the local target's
#: fallback when the SPEC names no entry point it knows how to start.
DEMO_COMMAND = "python3 {release}/app.py --bind {bind} --port {port}"
#: Rate window of the Prometheus queries of the canary gate.
METRICS_WINDOW = "5m"

#: compute.kind -> target, for kinds that run on Kubernetes or on hosts.
_KUBERNETES_KINDS = ("eks", "gke", "aks", "kubernetes")
_HOST_KINDS = ("ec2", "vm", "compute-engine", "azure-vm", "unknown")
#: The managed container service of each cloud: where container and function kinds
#: go (a Cloud Run service rendered for AWS runs on ECS, and so on).
_CLOUD_CONTAINER_TARGET = {"aws": "ecs", "gcp": "cloud-run", "azure": "container-apps"}
#: The same kinds when the cloud is unknown: the kind's own service.
_KIND_CONTAINER_TARGET = {
    "ecs-fargate": "ecs",
    "lambda": "ecs",
    "cloud-run": "cloud-run",
    "cloud-functions": "cloud-run",
    "container-apps": "container-apps",
    "app-service": "container-apps",
    "azure-functions": "container-apps",
}

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]{0,200}$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,100}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_SCRIPT_FIELDS: Tuple[str, ...] = (
    "service.name",
    "service.title",
    "service.ports",
    "service.image",
    "service.health.liveness",
    "service.health.readiness",
    "service.health.startup",
    "service.health.interval_seconds",
    "service.health.timeout_seconds",
    "service.health.failure_threshold",
    "service.feature_flags",
    "cloud.provider",
    "cloud.primary_region",
    "infrastructure.compute.kind",
    "environments",
    "rollout.canary_steps",
    "rollout.hold_seconds",
    "observability.thresholds.error_rate_ratio",
    "observability.thresholds.p95_latency_ms",
    "observability.metric_definitions",
    "scripts.items",
    "scripts.standards.log_file",
    "scripts.standards.min_bash_version",
    "security.tls.domain",
)


# --------------------------------------------------------------------------- context


def target_for(kind: Optional[str], cloud: Optional[str]) -> str:
    """The deployment target of a compute kind on a cloud (docs/scripts.md, "Targets")."""
    kind = kind or "unknown"
    if kind in _KUBERNETES_KINDS:
        return "kubernetes"
    if kind in _HOST_KINDS:
        return "local"
    if kind in _KIND_CONTAINER_TARGET:
        if cloud in _CLOUD_CONTAINER_TARGET:
            return _CLOUD_CONTAINER_TARGET[cloud]
        return _KIND_CONTAINER_TARGET[kind]
    return "local"


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())


def _dns_label(text: str, limit: int = 63) -> str:
    value = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if not value or not value[0].isalpha():
        value = "app-" + value if value else "app"
    return value[:limit].rstrip("-")


def _route_label(model: Model, metric: str) -> str:
    """The route label of a SPEC metric ("" when it has none, or the SPEC does not define it)."""
    for definition in model.observability.metric_definitions:
        if definition.name == metric:
            return route_label(definition.labels)
    return ""


def _requests_metric(model: Model) -> Tuple[str, str]:
    best: Optional[Tuple[int, str, str]] = None
    for index, metric in enumerate(model.observability.metric_definitions):
        if metric.type != "counter" or not _METRIC_NAME.match(metric.name):
            continue
        status = next(
            (lb for lb in metric.labels if _LABEL_NAME.match(lb) and ("status" in lb or "code" in lb)),
            None,
        )
        if status is None:
            continue
        rank = index - (1000 if "request" in metric.name else 0)
        if best is None or rank < best[0]:
            best = (rank, metric.name, status)
    return (best[1], best[2]) if best else DEFAULT_REQUESTS_METRIC


def _duration_metric(model: Model) -> str:
    best: Optional[Tuple[int, str]] = None
    for index, metric in enumerate(model.observability.metric_definitions):
        if metric.type != "histogram" or not _METRIC_NAME.match(metric.name):
            continue
        rank = index - (1000 if ("duration" in metric.name or "latency" in metric.name) else 0)
        if best is None or rank < best[0]:
            best = (rank, metric.name)
    return best[1] if best else DEFAULT_DURATION_METRIC


def _command(model: Model) -> str:
    """The local target's start command: from the SPEC's language and entry point
    when it names a file it can start, else the demo app's command."""
    service = model.service
    entry = (service.entry_point or "").strip()
    safe_entry = bool(entry) and not re.search(r"\s", entry) and not entry.startswith(("/", "-"))
    language = (service.language or "").lower()
    if safe_entry and language == "python" and entry.endswith(".py"):
        return "python3 {release}/%s" % entry
    if safe_entry and language in ("node", "javascript", "typescript") and entry.endswith((".js", ".mjs", ".cjs")):
        return "node {release}/%s" % entry
    return DEMO_COMMAND


def _selector(target: str) -> str:
    """PromQL label matchers of the canary's series (placeholders: docs/scripts.md)."""
    if target == "local":
        return 'instance=~".+:{port}"'
    if target == "kubernetes":
        return 'namespace="{namespace}",pod=~"{deployment}-canary-.+"'
    return 'service="{service}"'


def _environment(model: Model, env: Environment) -> Dict[str, Any]:
    strategy = env.strategy or "rolling"
    steps = [int(s) for s in common.canary_steps(model, env) if 0 < int(s) <= 100]
    return {
        "label": env.label or env.name,
        "strategy": strategy,
        "replicas": max(1, common.environment_replicas(model, env)),
        "rollback_seconds": env.rollback_seconds,
        "canary_steps": steps or list(common.DEFAULT_CANARY_STEPS),
        "hold_seconds": common.hold_seconds(model),
    }


def _scripts(model: Model) -> List[str]:
    """The scripts the documents list (in the framework's order), all six when none."""
    listed = {item.name.strip().lower() for item in model.scripts.items}
    chosen = [name for name in SCRIPT_NAMES if name in listed]
    return chosen or list(SCRIPT_NAMES)


def _script_info(model: Model) -> Dict[str, Dict[str, Any]]:
    info: Dict[str, Dict[str, Any]] = {}
    for name in SCRIPT_NAMES:
        info[name] = {"purpose": SCRIPT_PURPOSES[name], "environments": [], "source": ""}
    for index, item in enumerate(model.scripts.items):
        name = item.name.strip().lower()
        if name not in info:
            continue
        note = common.source_note(model, "scripts.items[%d]" % index)
        info[name] = {
            "purpose": _one_line(item.purpose) or SCRIPT_PURPOSES[name],
            "environments": [_one_line(e) for e in item.environments],
            "source": _one_line(note or ""),
        }
    return info


def _bash_version(text: Optional[str]) -> str:
    match = re.match(r"^\s*(\d+)(?:\.(\d+))?", text or "")
    if not match:
        return DEFAULT_BASH_VERSION
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    if (major, minor) < (4, 0):
        return DEFAULT_BASH_VERSION
    return "%d.%d" % (major, minor)


def _ports(port: int) -> Tuple[int, int]:
    """Ports of the blue and green processes of the local target, next to the service's."""
    if port + 2 <= 65535:
        return port + 1, port + 2
    return port - 2, port - 1


def script_context(model: Model, cloud: Optional[str] = None) -> Dict[str, Any]:
    """The ``deploy_script`` variable of the templates (docs/scripts.md)."""
    service = model.service
    provider = cloud or model.cloud.provider
    compute = model.infrastructure.compute
    target = target_for(compute.kind if compute else None, provider)
    name = common.service_name(model)
    port = int(service.ports[0]) if service.ports else 8080
    blue_port, green_port = _ports(port)
    health = service.health
    requests, status_label = _requests_metric(model)
    duration = _duration_metric(model)
    envs = common.environments(model)
    names = [env.name for env in envs]
    region = model.cloud.primary_region or (model.cloud.regions[0] if model.cloud.regions else "")
    k8s_name = _dns_label(name)
    per_env = "%s-{env}" % name
    domain = model.security.tls.domain if model.security.tls and model.security.tls.domain else ""
    domain = domain.strip().lower()
    root = "/opt/%s" % name
    thresholds = model.observability.thresholds
    return {
        "service": name,
        "title": service.title or name,
        "target": target,
        "cloud": {"provider": provider or "", "region": region},
        "port": port,
        "blue_port": blue_port,
        "green_port": green_port,
        "health": {
            "liveness": common.liveness_path(model),
            "readiness": common.readiness_path(model),
            "startup": common.startup_path(model) or "",
            "timeout": health.timeout_seconds or DEFAULT_HEALTH_TIMEOUT_SECONDS,
            "interval": health.interval_seconds or DEFAULT_HEALTH_INTERVAL_SECONDS,
            "retries": health.failure_threshold or DEFAULT_HEALTH_RETRIES,
            "start_seconds": DEFAULT_START_SECONDS,
        },
        "environments": {env.name: _environment(model, env) for env in envs},
        "default_environment": "dev" if "dev" in names else names[0],
        "thresholds": {
            "error_rate_ratio": thresholds.error_rate_ratio,
            "p95_latency_ms": thresholds.p95_latency_ms,
        },
        "prometheus_url": "",
        "metrics": {
            "requests": requests,
            "duration": duration,
            "status_label": status_label,
            "route_label": _route_label(model, requests),
            "duration_route_label": _route_label(model, duration),
            "selector": _selector(target),
            "window": METRICS_WINDOW,
        },
        "root": root,
        "command": _command(model),
        "stop_seconds": DEFAULT_STOP_SECONDS,
        "feature_flags": {flag.name: bool(flag.default) for flag in service.feature_flags},
        "flags_file": "%s/shared/flags.json" % root,
        "haproxy": {"socket": DEFAULT_HAPROXY_SOCKET, "backend": name, "server": name, "frontend_port": port},
        "bind": DEFAULT_BIND,
        "image": common.image(model),
        "url": "https://%s" % domain if re.match(r"^[a-z0-9.-]+$", domain) else "",
        "kubernetes": {
            "namespace": "%s-{env}" % k8s_name,
            "deployment": k8s_name,
            "container": k8s_name,
        },
        "ecs": {
            "cluster": per_env,
            "service": per_env,
            "container": per_env,
            "codedeploy_app": per_env,
            "deployment_group": per_env,
            "listener_port": 443,
        },
        "cloud_run": {"service": per_env, "region": region},
        "container_apps": {"name": per_env, "resource_group": "rg-%s" % per_env},
        "log_file": model.scripts.standards.log_file or DEFAULT_LOG_FILE,
        "bash_version": _bash_version(model.scripts.standards.min_bash_version),
        "keep_releases": DEFAULT_KEEP_RELEASES,
        "rollback_seconds": DEFAULT_ROLLBACK_SECONDS,
        "scripts": _scripts(model),
        "script_info": _script_info(model),
    }


# --------------------------------------------------------------------------- rendering


def template_dir() -> str:
    """``roles/deploy/templates`` of this collection."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(here))), "roles", "deploy", "templates")


def ansible_quote(value: Any) -> str:
    """``ansible.builtin.quote``: None becomes '', then shell quoting."""
    return shlex.quote("" if value is None else str(value))


def ansible_to_json(value: Any, **kwargs: Any) -> str:
    """``ansible.builtin.to_json`` for the plain data of a context."""
    return json.dumps(value, **kwargs)


def _bytecode_cache() -> Any:
    """Jinja's compiled-template cache in its per-user folder under the temporary directory
    (Jinja checks the folder's owner and mode), so a run does not compile the script
    templates again; ``DEVOPS_FLOW_TEMPLATE_CACHE=off`` turns it off."""
    import jinja2

    if os.environ.get("DEVOPS_FLOW_TEMPLATE_CACHE", "").lower() in ("off", "0", "no", "false"):
        return None
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


@functools.lru_cache(maxsize=8)
def _environment_for_templates(folder: str) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        bytecode_cache=_bytecode_cache(),
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - shell scripts, not HTML: every value goes through the quote filter
    )
    env.filters["quote"] = ansible_quote
    env.filters["to_json"] = ansible_to_json
    return env


def render_templates(context: Mapping[str, Any], names: Sequence[str], folder: Optional[str] = None) -> Dict[str, str]:
    """Script name -> text, from the role's templates with ``deploy_script = context``."""
    env = _environment_for_templates(folder or template_dir())
    out: Dict[str, str] = {}
    for name in names:
        if name not in SCRIPT_NAMES:
            raise UsageError("unknown deployment script %r; expected one of %s" % (name, ", ".join(SCRIPT_NAMES)))
        template = env.get_template("%s.j2" % name)
        out[name] = template.render(deploy_script=dict(context))
    return out


def render(model: Model, cloud: Optional[str] = None) -> FileSet:
    """The scripts the documents list under ``scripts/``, executable."""
    context = script_context(model, cloud)
    texts = render_templates(context, context["scripts"])
    files = FileSet()
    fields = _SCRIPT_FIELDS + tuple(
        "scripts.items[%d]" % i for i, item in enumerate(model.scripts.items) if item.name.strip().lower() in texts
    )
    for name, text in texts.items():
        files.add(GeneratedFile("%s/%s" % (OUTPUT_DIR, name), text, "shell", fields, "hash", 0o755))
    return files


def render_scripts(model: Model, options: Options) -> FileSet:
    """The ``scripts`` target (``devops-flow generate-deployment-scripts``)."""
    return render(model, options.cloud)
