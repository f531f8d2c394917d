# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes manifests, Kustomize overlays and Helm charts.

- ``KubernetesValidate`` (kind ``kubernetes``): every object against the strict
  OpenAPI schemas that kubernetes-validate ships, for Kubernetes 1.30 (the oldest
  version the generated manifests support) and the newest version the installed
  kubernetes-validate knows.  Argo Rollouts objects (``Rollout``,
  ``AnalysisTemplate``) have no schema there: they are checked against the
  structural schemas below, written from the Argo Rollouts CRD reference, whose
  pod template is the Kubernetes ``PodTemplateSpec`` of the same version.  A kind
  with no schema at all is an error, never a silent pass.
- ``Kustomize`` (kind ``kustomize``): ``kubectl kustomize`` of every
  kustomization, then the same schema check on what it builds.
- ``HelmChart`` (kind ``helm``): Helm 4 as a library (helm-python-sdk): ``lint``
  in strict mode, a render with the default values, the schema check on the
  rendered objects, and checkov's Kubernetes policies on the render (checkov's
  own ``helm`` framework needs the helm program, which this validator does not).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from ..errors import Finding
from .base import Tool, Validator, rel, run_tool

#: The oldest Kubernetes version the generated manifests must work on.
MIN_KUBERNETES = "1.30"

KUBECTL = Tool(
    "kubectl",
    "kubectl",
    "https://kubernetes.io/docs/tasks/tools/ (kubectl includes kustomize), or install kustomize and "
    "point DEVOPS_FLOW_KUBECTL at a kubectl",
)

_DEFS = "https://kubernetes.io/api/_definitions.json#/$defs/"
_INT_OR_STRING: Dict[str, Any] = {"anyOf": [{"type": "integer"}, {"type": "string"}]}
_ARGS: Dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "value": {"type": "string"},
            "valueFrom": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "podTemplateHashValue": {"enum": ["Stable", "Latest"]},
                    "fieldRef": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["fieldPath"],
                        "properties": {"fieldPath": {"type": "string"}},
                    },
                    "secretKeyRef": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "key"],
                        "properties": {"name": {"type": "string"}, "key": {"type": "string"}},
                    },
                },
            },
        },
    },
}
_ANALYSIS_REF: Dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["templates"],
    "properties": {
        "templates": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["templateName"],
                "properties": {"templateName": {"type": "string", "minLength": 1}, "clusterScope": {"type": "boolean"}},
            },
        },
        "args": _ARGS,
        "startingStep": {"type": "integer", "minimum": 0},
        "dryRun": {"type": "array"},
        "measurementRetention": {"type": "array"},
    },
}
_OBJECT_HEAD: Dict[str, Any] = {
    "apiVersion": {"const": "argoproj.io/v1alpha1"},
    "metadata": {"$ref": _DEFS + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
}

#: Structural schema of ``argoproj.io/v1alpha1`` ``Rollout`` (canary and blue-green
#: strategies, the fields of the Argo Rollouts specification; strict: unknown
#: fields are errors).
ROLLOUT_SCHEMA: Dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://sdd-devops-flow.invalid/schemas/argoproj.io/v1alpha1/rollout.json",
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": dict(
        _OBJECT_HEAD,
        kind={"const": "Rollout"},
        spec={
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "replicas": {"type": "integer", "minimum": 0},
                "selector": {"$ref": _DEFS + "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"},
                "template": {"$ref": _DEFS + "io.k8s.api.core.v1.PodTemplateSpec"},
                "workloadRef": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["apiVersion", "kind", "name"],
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "name": {"type": "string"},
                        "scaleDown": {"enum": ["never", "onsuccess", "progressively"]},
                    },
                },
                "minReadySeconds": {"type": "integer", "minimum": 0},
                "revisionHistoryLimit": {"type": "integer", "minimum": 0},
                "paused": {"type": "boolean"},
                "progressDeadlineSeconds": {"type": "integer", "minimum": 0},
                "progressDeadlineAbort": {"type": "boolean"},
                "restartAt": {"type": "string"},
                "rollbackWindow": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"revisions": {"type": "integer", "minimum": 0}},
                },
                "analysis": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "successfulRunHistoryLimit": {"type": "integer"},
                        "unsuccessfulRunHistoryLimit": {"type": "integer"},
                    },
                },
                "strategy": {
                    "type": "object",
                    "additionalProperties": False,
                    "minProperties": 1,
                    "maxProperties": 1,
                    "properties": {
                        "canary": {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {
                                "canaryService": {"type": "string"},
                                "stableService": {"type": "string"},
                                "maxSurge": _INT_OR_STRING,
                                "maxUnavailable": _INT_OR_STRING,
                                "scaleDownDelaySeconds": {"type": "integer"},
                                "abortScaleDownDelaySeconds": {"type": "integer"},
                                "dynamicStableScale": {"type": "boolean"},
                                "minPodsPerReplicaSet": {"type": "integer", "minimum": 1},
                                "analysis": _ANALYSIS_REF,
                                "trafficRouting": {"type": "object"},
                                "canaryMetadata": {"type": "object"},
                                "stableMetadata": {"type": "object"},
                                "antiAffinity": {"type": "object"},
                                "steps": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "additionalProperties": False,
                                        "minProperties": 1,
                                        "maxProperties": 1,
                                        "properties": {
                                            "setWeight": {"type": "integer", "minimum": 0, "maximum": 100},
                                            "pause": {
                                                "type": "object",
                                                "additionalProperties": False,
                                                "properties": {
                                                    "duration": {
                                                        "anyOf": [
                                                            {"type": "integer", "minimum": 0},
                                                            {"type": "string", "pattern": "^[0-9]+(s|m|h)$"},
                                                        ]
                                                    }
                                                },
                                            },
                                            "analysis": _ANALYSIS_REF,
                                            "experiment": {"type": "object"},
                                            "setCanaryScale": {"type": "object"},
                                            "setHeaderRoute": {"type": "object"},
                                            "setMirrorRoute": {"type": "object"},
                                            "plugin": {"type": "object"},
                                        },
                                    },
                                },
                            },
                        },
                        "blueGreen": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["activeService"],
                            "properties": {
                                "activeService": {"type": "string"},
                                "previewService": {"type": "string"},
                                "autoPromotionEnabled": {"type": "boolean"},
                                "autoPromotionSeconds": {"type": "integer"},
                                "previewReplicaCount": {"type": "integer"},
                                "scaleDownDelaySeconds": {"type": "integer"},
                                "scaleDownDelayRevisionLimit": {"type": "integer"},
                                "prePromotionAnalysis": _ANALYSIS_REF,
                                "postPromotionAnalysis": _ANALYSIS_REF,
                            },
                        },
                    },
                },
            },
            "anyOf": [{"required": ["selector", "template"]}, {"required": ["workloadRef"]}],
            "required": ["strategy"],
        },
    ),
}

_PROMETHEUS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["address", "query"],
    "properties": {
        "address": {"type": "string", "minLength": 1},
        "query": {"type": "string", "minLength": 1},
        "timeout": {"type": "integer"},
        "insecure": {"type": "boolean"},
        "headers": {"type": "array"},
        "authentication": {"type": "object"},
    },
}

#: Structural schema of ``argoproj.io/v1alpha1`` ``AnalysisTemplate`` (metrics with the
#: Prometheus provider checked field by field; other providers as objects).
ANALYSIS_TEMPLATE_SCHEMA: Dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://sdd-devops-flow.invalid/schemas/argoproj.io/v1alpha1/analysistemplate.json",
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": dict(
        _OBJECT_HEAD,
        kind={"const": "AnalysisTemplate"},
        spec={
            "type": "object",
            "additionalProperties": False,
            "required": ["metrics"],
            "properties": {
                "args": _ARGS,
                "dryRun": {"type": "array"},
                "measurementRetention": {"type": "array"},
                "metrics": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "provider"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "interval": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                            "initialDelay": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                            "count": _INT_OR_STRING,
                            "successCondition": {"type": "string"},
                            "failureCondition": {"type": "string"},
                            "failureLimit": _INT_OR_STRING,
                            "inconclusiveLimit": _INT_OR_STRING,
                            "consecutiveErrorLimit": _INT_OR_STRING,
                            "consecutiveSuccessLimit": _INT_OR_STRING,
                            "provider": {
                                "type": "object",
                                "minProperties": 1,
                                "maxProperties": 1,
                                "properties": {"prometheus": _PROMETHEUS},
                            },
                        },
                    },
                },
            },
        },
    ),
}

#: (apiVersion, kind) -> schema of the custom resources the generators write.
CRD_SCHEMAS: Dict[Tuple[str, str], Dict[str, Any]] = {
    ("argoproj.io/v1alpha1", "Rollout"): ROLLOUT_SCHEMA,
    ("argoproj.io/v1alpha1", "AnalysisTemplate"): ANALYSIS_TEMPLATE_SCHEMA,
}

_INSTALL_KV = "pip install kubernetes-validate"
_LOCK = threading.Lock()
_CACHE: Dict[Tuple[str, str, str], Any] = {}


def _kubernetes_validate() -> Any:
    try:
        import kubernetes_validate.utils as kv_utils
    except ImportError:
        return None
    return kv_utils


def kubernetes_versions(kv_utils: Any) -> List[str]:
    """Kubernetes 1.30 and the newest version kubernetes-validate ships."""
    newest = kv_utils.major_minor(kv_utils.latest_version())
    return [MIN_KUBERNETES] if newest == MIN_KUBERNETES else [MIN_KUBERNETES, newest]


def _schema_dir(kv_utils: Any, version: str) -> str:
    known = [v for v in kv_utils.all_versions() if kv_utils.major_minor(v) == version]
    if not known:
        raise LookupError("kubernetes-validate has no schemas for Kubernetes %s" % version)
    return "v%s-local-strict" % known[-1]


def _validator(kv_utils: Any, version: str, api_version: str, kind: str) -> Any:
    """A cached jsonschema validator for one kind in one Kubernetes version (None:
    no schema for the kind)."""
    import re

    import jsonschema
    from referencing import Registry, Resource

    key = (version, api_version, kind)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        folder = _schema_dir(kv_utils, version)
        defs_key = (version, "", "_definitions")
        if defs_key not in _CACHE:
            _CACHE[defs_key] = kv_utils.schema_contents("kubernetes-json-schema/%s/_definitions.json" % folder, version)
        definitions = _CACHE[defs_key]
        crd = CRD_SCHEMAS.get((api_version, kind))
        if crd is not None:
            schema = crd
        else:
            group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
            try:
                schema = kv_utils.schema_contents(
                    "kubernetes-json-schema/%s/%s-%s.json" % (folder, kind.lower(), group_version), version
                )
            except (FileNotFoundError, OSError):
                _CACHE[key] = None
                return None
        registry: Any = Resource.from_contents(schema) @ Registry()
        registry = Resource.from_contents(definitions) @ registry
        validator = jsonschema.validators.Draft202012Validator(schema, registry=registry)
        _CACHE[key] = validator
        return validator


def _line_of(node: Any, path: Sequence[Any]) -> int:
    """1-based line of the value at ``path`` inside a composed YAML node."""
    import yaml

    current = node
    for step in path:
        if isinstance(current, yaml.MappingNode):
            found = None
            for key_node, value_node in current.value:
                if key_node.value == str(step):
                    found = value_node
                    break
            if found is None:
                break
            current = found
        elif isinstance(current, yaml.SequenceNode) and isinstance(step, int) and step < len(current.value):
            current = current.value[step]
        else:
            break
    return int(current.start_mark.line) + 1


def load_documents(text: str) -> List[Tuple[Any, Any]]:
    """(object, composed node) of every non-empty YAML document."""
    import yaml

    nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    datas = list(yaml.safe_load_all(text))
    return [(data, node) for data, node in zip(datas, nodes) if data]


def check_objects(kv_utils: Any, documents: Sequence[Tuple[Any, Any]]) -> List[Tuple[str, int]]:
    """(message, line) of every schema error, for every version."""
    problems: List[Tuple[str, int]] = []
    for data, node in documents:
        line = int(node.start_mark.line) + 1 if node is not None else 0
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("kind"), str)
            or not isinstance(data.get("apiVersion"), str)
        ):
            problems.append(("not a Kubernetes object (no apiVersion and kind)", line))
            continue
        name = (data.get("metadata") or {}).get("name", "") if isinstance(data.get("metadata"), dict) else ""
        what = "%s/%s" % (data["kind"], name)
        for version in kubernetes_versions(kv_utils):
            validator = _validator(kv_utils, version, data["apiVersion"], data["kind"])
            if validator is None:
                problems.append(
                    (
                        "%s: no schema for %s %s in Kubernetes %s: the object cannot be checked"
                        % (what, data["apiVersion"], data["kind"], version),
                        line,
                    )
                )
                continue
            errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
            for error in errors:
                path = list(error.absolute_path)
                where = ".".join(str(p) for p in path) or "(object)"
                at = _line_of(node, path) if node is not None else line
                problems.append(("%s: Kubernetes %s: %s: %s" % (what, version, where, error.message[:300]), at))
    return problems


class KubernetesValidate(Validator):
    """Strict schema validation of Kubernetes manifests (and the Argo Rollouts kinds)."""

    name = "kubernetes-validate"
    kinds = ("kubernetes",)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        kv_utils = _kubernetes_validate()
        if kv_utils is None:
            return [self._missing(files)]
        findings: List[Finding] = []
        for path in files:
            if not path.endswith((".yaml", ".yml", ".json")):
                continue
            with open(os.path.join(root, path), encoding="utf-8") as handle:
                text = handle.read()
            try:
                documents = load_documents(text)
            except Exception as exc:
                findings.append(self.finding("does not parse as YAML: %s" % " ".join(str(exc).split())[:300], path))
                continue
            for message, line in check_objects(kv_utils, documents):
                findings.append(self.finding(message, path, line))
        return findings

    def _missing(self, files: Sequence[str]) -> Finding:
        return self.finding(
            "kubernetes-validate is not installed, so the Kubernetes schema check could not run; "
            "install it with: %s" % _INSTALL_KV,
            files[0] if files else "",
            code="tool-missing",
        )


class Kustomize(Validator):
    """``kubectl kustomize`` of every kustomization, then the schema check of the result."""

    name = "kustomize"
    kinds = ("kustomize",)
    tools = (KUBECTL,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        kv_utils = _kubernetes_validate()
        if kv_utils is None:
            return [
                self.finding(
                    "kubernetes-validate is not installed, so the built overlays could not be checked; "
                    "install it with: %s" % _INSTALL_KV,
                    files[0] if files else "",
                    code="tool-missing",
                )
            ]
        findings: List[Finding] = []
        for path in files:
            if os.path.basename(path) not in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
                continue
            folder = os.path.dirname(path) or "."
            result = run_tool([tools["kubectl"], "kustomize", folder], cwd=root)
            if result.returncode != 0:
                detail = " ".join((result.stderr or result.stdout).split())[:400]
                findings.append(self.finding("kubectl kustomize %s failed: %s" % (folder, detail), path))
                continue
            try:
                documents = [(pair[0], None) for pair in load_documents(result.stdout)]
            except Exception as exc:
                findings.append(self.finding("the build of %s is not YAML: %s" % (folder, exc), path))
                continue
            if not documents:
                findings.append(self.finding("kubectl kustomize %s built no object" % folder, path))
            for message, _line in check_objects(kv_utils, documents):
                findings.append(self.finding("built from %s: %s" % (folder, message), path))
        return findings


class HelmChart(Validator):
    """Helm 4 (helm-python-sdk): lint --strict, render, schema check and checkov on the render."""

    name = "helm"
    kinds = ("helm",)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        try:
            import helm_python
        except ImportError:
            return [
                self.finding(
                    "helm-python-sdk is not installed, so the Helm chart could not be linted or rendered; "
                    "install it with: pip install helm-python-sdk (Python 3.10 or later)",
                    files[0] if files else "",
                    code="tool-missing",
                )
            ]
        kv_utils = _kubernetes_validate()
        if kv_utils is None:
            return [
                self.finding(
                    "kubernetes-validate is not installed, so the rendered chart could not be checked; "
                    "install it with: %s" % _INSTALL_KV,
                    files[0] if files else "",
                    code="tool-missing",
                )
            ]
        findings: List[Finding] = []
        charts = sorted({os.path.dirname(p) for p in files if os.path.basename(p) == "Chart.yaml"})
        if not charts:
            return [self.finding("no Chart.yaml among the Helm files", files[0] if files else "")]
        for chart in charts:
            findings.extend(self._chart(helm_python, kv_utils, root, chart))
        return findings

    def _chart(self, helm_python: Any, kv_utils: Any, root: str, chart: str) -> List[Finding]:
        findings: List[Finding] = []
        folder = os.path.join(root, chart)
        chart_file = (chart + "/Chart.yaml").lstrip("/")
        for version in kubernetes_versions(kv_utils):
            try:
                report = helm_python.lint(folder, strict=True, kube_version="v%s.0" % version)
            except Exception as exc:
                return [self.finding("helm lint could not run: %s" % exc, chart_file, code="tool-error")]
            for message in report.get("messages") or []:
                severity = int(message.get("severity") or 0)
                if severity < 2:
                    continue
                where = message.get("path") or "Chart.yaml"
                findings.append(
                    self.finding(
                        "helm lint (Kubernetes %s): %s" % (version, message.get("error", "")),
                        "%s/%s" % (chart, where) if chart else where,
                        0,
                        "error",
                    )
                )
            for error in report.get("errors") or []:
                findings.append(self.finding("helm lint: %s" % error, chart_file))
        name = os.path.basename(os.path.normpath(folder))
        try:
            with helm_python.Chart.load(folder) as loaded:
                rendered: Dict[str, str] = loaded.render(name=name, namespace=name)
        except Exception as exc:
            findings.append(self.finding("helm template failed: %s" % " ".join(str(exc).split())[:400], chart_file))
            return findings
        manifests: Dict[str, str] = {}
        for template, text in sorted(rendered.items()):
            if not template.endswith((".yaml", ".yml")) or not text.strip():
                continue
            relative = template.split("/", 1)[1] if "/" in template else template
            source = ("%s/%s" % (chart, relative)).lstrip("/")
            manifests[source] = text
            try:
                documents = load_documents(text)
            except Exception as exc:
                findings.append(self.finding("renders to invalid YAML: %s" % exc, source))
                continue
            for message, line in check_objects(kv_utils, documents):
                findings.append(self.finding("rendered: %s" % message, source, line))
        findings.extend(self._checkov(root, manifests))
        return findings

    def _checkov(self, root: str, manifests: Mapping[str, str]) -> List[Finding]:
        """checkov's Kubernetes framework on the rendered templates (same file names)."""
        from .checkov import CHECKOV, Checkov

        if not manifests:
            return []
        path = CHECKOV.find()
        if path is None:
            return [CHECKOV.missing(self.name, sorted(manifests))]
        scratch = tempfile.mkdtemp(prefix="devops-flow-helm-")
        try:
            for source, text in manifests.items():
                target = os.path.join(scratch, source)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "w", encoding="utf-8") as handle:
                    handle.write(text)
            checker = Checkov("kubernetes")
            findings = checker.run(scratch, sorted(manifests), {"checkov": path})
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return [
            self.finding(
                "rendered: %s" % f.message,
                rel(f.file, scratch) if os.path.isabs(f.file) else f.file,
                0,
                f.severity,
                f.code,
            )
            for f in findings
        ]
