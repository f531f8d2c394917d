# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Helm chart ``helm/<service>/`` of a service.

The templates are the base manifests built by ``kubernetes_objects`` with
``Expr`` values where the chart reads ``.Values`` (image, replicas, resources,
configuration, autoscaling, disruption budget, ingress, network policy), so the
chart rendered with its default values gives the same objects as ``k8s/base``
(a test compares them).  Document text in templates is escaped (``{{`` is never
executed); values live in values.yaml, which is data.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Tuple

from ..fileset import FileSet, GeneratedFile
from ..model import Model
from . import common
from . import kubernetes_objects as ko
from .kubernetes_yaml import Expr, dump, dump_template, escape_template_text, values_expr

CHART_FIELDS = ("service.name", "service.version", "service.image", "service.title", "traceability.req")
KUBE_VERSION = ">=1.30.0-0"


def chart_dir(model: Model) -> str:
    return "helm/%s" % ko.name(model)


def chart_version(model: Model) -> str:
    """SemVer 2 of the chart: the service version (x.y becomes x.y.0), else 0.1.0."""
    version = (model.service.version or "").strip().lstrip("vV")
    m = re.match(r"^(\d+)\.(\d+)(?:\.(\d+))?([-+][0-9A-Za-z.+-]*)?$", version)
    if not m:
        return "0.1.0"
    suffix = m.group(4) or ""
    if suffix and not re.match(r"^(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$", suffix):
        suffix = ""
    return "%d.%d.%d%s" % (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), suffix)


def _parts(chart: str, with_ingress: bool) -> ko.Parts:
    return ko.Parts(
        namespace=Expr("{{ .Release.Namespace | toJson }}"),
        labels=Expr('{{ include "%s.labels" . | fromYaml | toJson }}' % chart),
        selector=Expr('{{ include "%s.selectorLabels" . | fromYaml | toJson }}' % chart),
        replicas=values_expr("replicaCount"),
        image=Expr('{{ printf "%s:%s" .Values.image.repository .Values.image.tag | toJson }}'),
        pull_policy=values_expr("image.pullPolicy"),
        resources=values_expr("resources"),
        config=values_expr("config"),
        hpa_min=values_expr("autoscaling.minReplicas"),
        hpa_max=values_expr("autoscaling.maxReplicas"),
        hpa_cpu=values_expr("autoscaling.targetCPUUtilizationPercentage"),
        pdb_max_unavailable=values_expr("podDisruptionBudget.maxUnavailable"),
        ingress_class=values_expr("ingress.className") if with_ingress else None,
        ingress_host=values_expr("ingress.host") if with_ingress else None,
        ingress_tls_secret=values_expr("ingress.tlsSecretName") if with_ingress else None,
        ingress_namespace=values_expr("networkPolicy.ingressControllerNamespace"),
    )


def values(model: Model, replicas: int) -> Dict[str, Any]:
    low, high = ko.hpa_bounds(model, replicas)
    data: Dict[str, Any] = {
        "replicaCount": replicas,
        "image": {"repository": common.image(model), "tag": common.image_tag(model), "pullPolicy": "IfNotPresent"},
        "resources": ko.resources(model),
        "config": ko.config_data(model),
        "autoscaling": {
            "enabled": True,
            "minReplicas": low,
            "maxReplicas": high,
            "targetCPUUtilizationPercentage": ko.target_cpu_percent(model),
        },
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        "networkPolicy": {"enabled": True, "ingressControllerNamespace": ko.ingress_controller(model)[1]},
    }
    domain = ko.tls_domain(model)
    if domain is not None:
        data["ingress"] = {
            "enabled": True,
            "className": ko.ingress_controller(model)[0],
            "host": domain,
            "tlsSecretName": ko.name(model, "tls"),
        }
    return data


def values_schema(with_ingress: bool) -> Dict[str, Any]:
    quantity = {
        "anyOf": [{"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"}, {"type": "number"}]
    }
    amounts = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"cpu": quantity, "memory": quantity},
    }
    label = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}
    props: Dict[str, Any] = {
        "replicaCount": {"type": "integer", "minimum": 0},
        "image": {
            "type": "object",
            "additionalProperties": False,
            "required": ["repository", "tag", "pullPolicy"],
            "properties": {
                "repository": {"type": "string", "minLength": 1},
                "tag": {"type": "string", "minLength": 1, "not": {"const": "latest"}},
                "pullPolicy": {"enum": ["IfNotPresent", "Always", "Never"]},
            },
        },
        "resources": {
            "type": "object",
            "additionalProperties": False,
            "required": ["requests", "limits"],
            "properties": {"requests": amounts, "limits": amounts},
        },
        "config": {"type": "object", "additionalProperties": {"type": "string"}},
        "autoscaling": {
            "type": "object",
            "additionalProperties": False,
            "required": ["enabled", "minReplicas", "maxReplicas", "targetCPUUtilizationPercentage"],
            "properties": {
                "enabled": {"type": "boolean"},
                "minReplicas": {"type": "integer", "minimum": 1},
                "maxReplicas": {"type": "integer", "minimum": 1},
                "targetCPUUtilizationPercentage": {"type": "integer", "minimum": 1, "maximum": 100},
            },
        },
        "podDisruptionBudget": {
            "type": "object",
            "additionalProperties": False,
            "required": ["enabled", "maxUnavailable"],
            "properties": {
                "enabled": {"type": "boolean"},
                "maxUnavailable": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]},
            },
        },
        "networkPolicy": {
            "type": "object",
            "additionalProperties": False,
            "required": ["enabled", "ingressControllerNamespace"],
            "properties": {"enabled": {"type": "boolean"}, "ingressControllerNamespace": label},
        },
    }
    required = ["replicaCount", "image", "resources", "config", "autoscaling", "podDisruptionBudget", "networkPolicy"]
    if with_ingress:
        props["ingress"] = {
            "type": "object",
            "additionalProperties": False,
            "required": ["enabled", "className", "host", "tlsSecretName"],
            "properties": {
                "enabled": {"type": "boolean"},
                "className": {"type": "string", "minLength": 1},
                "host": {"type": "string", "minLength": 1},
                "tlsSecretName": label,
            },
        }
        required.append("ingress")
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "values",
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": props,
    }


def helpers(model: Model, chart: str) -> str:
    selector = escape_template_text(dump(ko.selector_labels(model)).rstrip("\n"))
    rest = {k: v for k, v in ko.labels(model).items() if k not in ko.selector_labels(model)}
    other = escape_template_text(dump(rest).rstrip("\n"))
    return (
        "{{/*\nSelector labels: what the Deployment, Service, PodDisruptionBudget and\n"
        "NetworkPolicy select on.\n*/}}\n"
        '{{- define "%s.selectorLabels" -}}\n%s\n{{- end }}\n\n'
        "{{/*\nAll labels: the selector labels, the version, the component, the generator\n"
        "and the requirement the service implements.\n*/}}\n"
        '{{- define "%s.labels" -}}\n{{ include "%s.selectorLabels" . }}\n%s\n{{- end }}\n'
        % (chart, selector, chart, chart, other)
    )


def notes(model: Model) -> str:
    lines = [
        "%s %s is installed in namespace {{ .Release.Namespace }}." % (ko.name(model), common.image_tag(model)),
        "",
        "Before the pods can start:",
    ]
    secrets = ko.sensitive_names(model)
    if secrets:
        lines.append(
            "- the Secret %s must hold the keys %s (synchronised from the secret store; "
            "this chart never carries their values)" % (ko.name(model, "secrets"), ", ".join(secrets))
        )
    required = [
        v.name for v in ko.usable_env(model) if not v.sensitive and v.required and v.name not in ko.config_data(model)
    ]
    if required:
        lines.append(
            "- set %s under config: in your values (required, no default in the documents)" % ", ".join(required)
        )
    if not secrets and not required:
        lines.append("- nothing: every setting has a default")
    domain = ko.tls_domain(model)
    if domain:
        lines += [
            "",
            "The service answers on https://{{ .Values.ingress.host }}/ once the TLS secret "
            "{{ .Values.ingress.tlsSecretName }} exists.",
        ]
    lines += [
        "",
        "Health: %s (liveness), %s (readiness)." % (common.liveness_path(model), common.readiness_path(model)),
    ]
    text = "\n".join(lines) + "\n"
    # document values are escaped; the three actions above are the chart's own
    own = ("{{ .Release.Namespace }}", "{{ .Values.ingress.host }}", "{{ .Values.ingress.tlsSecretName }}")
    parts = re.split("(%s)" % "|".join(re.escape(action) for action in own), text)
    return "".join(p if i % 2 else escape_template_text(p) for i, p in enumerate(parts))


def templates(model: Model, replicas: int, chart: str) -> List[Tuple[str, str]]:
    with_ingress = ko.tls_domain(model) is not None
    parts = _parts(chart, with_ingress)
    from .kubernetes import notes_for

    def one(obj: Dict[str, Any], guard: Optional[str] = None) -> str:
        before = "{{- if .Values.%s }}\n" % guard if guard else ""
        after = "{{- end }}\n" if guard else ""
        return dump_template(obj, notes_for(model, obj), before, after)

    out: List[Tuple[str, str]] = [
        ("serviceaccount.yaml", one(ko.service_account(model, parts))),
        ("configmap.yaml", one(ko.config_map(model, parts))),
        ("deployment.yaml", one(ko.deployment(model, replicas, parts))),
        ("service.yaml", one(ko.service(model, parts))),
        ("hpa.yaml", one(ko.hpa(model, replicas, parts), "autoscaling.enabled")),
        ("pdb.yaml", one(ko.pdb(model, parts), "podDisruptionBudget.enabled")),
    ]
    policies = ko.network_policies(model, parts)
    out.append(
        (
            "networkpolicy.yaml",
            "{{- if .Values.networkPolicy.enabled }}\n"
            + "---\n".join(dump_template(p, notes_for(model, p)) for p in policies)
            + "{{- end }}\n",
        )
    )
    ing = ko.ingress(model, parts)
    if ing is not None:
        out.append(("ingress.yaml", one(ing, "ingress.enabled")))
    return out


def chart_yaml(model: Model) -> str:
    title = " ".join((model.service.title or model.service.name).split())[:200]
    data = {
        "apiVersion": "v2",
        "name": ko.name(model),
        "description": "%s (%s)" % (title, model.req_id) if title else model.req_id,
        "type": "application",
        "version": chart_version(model),
        "appVersion": common.image_tag(model),
        "kubeVersion": KUBE_VERSION,
    }
    return dump(data)


def render_chart(model: Model, replicas: int) -> FileSet:
    folder = chart_dir(model)
    chart = ko.name(model)
    files = FileSet()
    files.add(GeneratedFile(folder + "/Chart.yaml", chart_yaml(model), "helm", CHART_FIELDS))
    files.add(
        GeneratedFile(
            folder + "/values.yaml",
            dump(values(model, replicas), ["Default values: rendering the chart with them gives k8s/base."]),
            "helm",
            (
                "service.image",
                "service.resources",
                "service.env",
                "service.feature_flags",
                "service.scaling",
                "security.tls.domain",
                "cloud.provider",
            ),
        )
    )
    files.add(
        GeneratedFile(
            folder + "/values.schema.json",
            json.dumps(values_schema(ko.tls_domain(model) is not None), indent=2) + "\n",
            "helm",
            ("service.name",),
            comment="none",
        )
    )
    # Templates get no managed header: the header holds document text (the requirement
    # id, document names) that Go templates would execute; the writer's manifest
    # tracks these files instead.
    files.add(
        GeneratedFile(folder + "/templates/_helpers.tpl", helpers(model, chart), "helm", CHART_FIELDS, comment="none")
    )
    for file_name, text in templates(model, replicas, chart):
        files.add(GeneratedFile("%s/templates/%s" % (folder, file_name), text, "helm", CHART_FIELDS, comment="none"))
    files.add(
        GeneratedFile(
            folder + "/templates/NOTES.txt",
            notes(model),
            "helm",
            ("service.env", "security.tls.domain", "service.health.liveness", "service.health.readiness"),
            comment="none",
        )
    )
    return files
