"""The families of one ``generate-all`` tree agree with each other and with the model.

The Dockerfile, compose, the Kubernetes manifests, the Helm chart, the Terraform, the
deployment scripts and every CI/CD system must name the same image, listen on the
same port and probe the same health paths: a service whose Dockerfile checks
``/health`` while Kubernetes probes ``/healthz`` is broken however valid each file is.
Each value is read back from the files with the parser of its format, never by
comparing two renderings of the same helper.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any, Dict, List, Tuple

import hcl2
import pytest
import yaml

from ansible_collections.sdd.devops_flow.plugins.module_utils.fileset import FileSet
from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import PIPELINE_TYPES, Options, render
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.model import Model

REPO = Path(__file__).resolve().parents[5]
EXAMPLES = REPO / "examples" / "docs" / "07_REQ"
FOREIGN = REPO / "tests" / "fixtures" / "foreign"

REQS = {
    "REQ-14": EXAMPLES / "REQ-14_order_intake_api.md",
    "REQ-21": EXAMPLES / "REQ-21_catalog_search.md",
    "REQ-102": EXAMPLES / "REQ-102_ledger_events.md",
}

_TREES: Dict[Tuple[str, str], Tuple[Model, FileSet]] = {}


def tree(req: str, pipeline: str = "github-actions") -> Tuple[Model, FileSet]:
    key = (req, pipeline)
    if key not in _TREES:
        model = load_model(req=str(REQS[req]))
        _TREES[key] = (model, render(model, Options(target="all", pipeline=pipeline)))
    return _TREES[key]


def text(files: FileSet, path: str) -> str:
    found = files.get(path)
    assert found is not None, "%s not generated; have %s" % (path, sorted(files.paths()))
    return found.content


def yaml_docs(files: FileSet, path: str) -> List[Any]:
    return [d for d in yaml.safe_load_all(text(files, path)) if d is not None]


def facts(model: Model) -> Dict[str, Any]:
    service = model.service
    health = service.health
    return {
        "port": service.ports[0] if service.ports else None,
        "ports": {str(p) for p in service.ports},
        "liveness": health.liveness,
        "readiness": health.readiness,
        "startup": health.startup,
    }


def split_image(ref: str) -> Tuple[str, str]:
    """``registry/name:tag`` -> (``registry/name``, ``tag``)."""
    repository, _sep, tag = ref.rpartition(":")
    if "/" in tag or not repository:
        return ref, ""
    return repository, tag


@pytest.mark.parametrize("req", sorted(REQS))
def test_dockerfile_compose_kubernetes_helm_terraform_and_scripts_agree(req: str) -> None:
    model, files = tree(req)
    want = facts(model)
    assert want["port"], "the example has a port"

    # Dockerfile: EXPOSE and the HEALTHCHECK URL
    dockerfile = text(files, "Dockerfile")
    exposed = re.findall(r"^EXPOSE (.+)$", dockerfile, re.M)
    assert len(exposed) == 1, dockerfile
    assert {p.split("/")[0] for p in exposed[0].split()} == want["ports"]
    check = re.search(r"^HEALTHCHECK .* CMD (\[.*\])$", dockerfile, re.M)
    assert check, dockerfile
    url = [a for a in json.loads(check.group(1)) if a.startswith("http")]
    assert url == ["http://127.0.0.1:%d%s" % (want["port"], want["liveness"])]

    # compose: the service's image, container port and health check
    compose = yaml_docs(files, "compose.yaml")[0]
    app = compose["services"][model.service.name]
    image, tag = split_image(app["image"])
    container_ports = {str(p).rsplit(":", 1)[-1].split("/")[0] for p in app["ports"]}
    assert str(want["port"]) in container_ports and container_ports <= want["ports"]
    assert "http://127.0.0.1:%d%s" % (want["port"], want["liveness"]) in app["healthcheck"]["test"]

    # Kubernetes: the Deployment's container
    deployment = next(d for d in yaml_docs(files, "k8s/base/deployment.yaml") if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert split_image(container["image"]) == (image, tag)
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert {str(p) for p in named.values()} == want["ports"]
    for probe, key in (("livenessProbe", "liveness"), ("readinessProbe", "readiness"), ("startupProbe", "startup")):
        if want[key] is None:
            assert probe not in container
            continue
        get = container[probe]["httpGet"]
        assert get["path"] == want[key], probe
        assert named.get(get["port"], get["port"]) == want["port"], probe

    # the Kubernetes Service sends its port to the container port
    service = next(d for d in yaml_docs(files, "k8s/base/service.yaml") if d["kind"] == "Service")
    targets = {named.get(p["targetPort"], p["targetPort"]) for p in service["spec"]["ports"]}
    assert want["port"] in targets and {str(t) for t in targets} <= want["ports"]

    # Helm: the default values give the same image; the template the same probes
    chart = "helm/%s/" % model.service.name
    values = yaml_docs(files, chart + "values.yaml")[0]
    assert (values["image"]["repository"], str(values["image"]["tag"])) == (image, tag)
    template = text(files, chart + "templates/deployment.yaml")
    assert "containerPort: %d" % want["port"] in template
    for key in ("liveness", "readiness", "startup"):
        if want[key]:
            assert "path: %s" % want[key] in template

    # deployment scripts: the settings block every script shares
    for script in ("deploy.sh", "health-check.sh", "rollback.sh"):
        body = text(files, "scripts/" + script)
        settings = dict(re.findall(r"^\s+([A-Z_]+)=(\S+)$", body, re.M))
        assert settings.get("PORT") == str(want["port"]), script
        for key in ("liveness", "readiness"):
            assert shlex.split(settings["%s_PATH" % key.upper()]) == [want[key]], script

    # infrastructure: the root takes the container port (default: the service's), and
    # the load balancer or platform probes the readiness path
    infra = {p: hcl2.loads(text(files, p)) for p in files.paths() if p.endswith(".tf")}
    if infra:
        root = min({p.split("/", 1)[0] for p in infra}, key=len)
        variables = infra["%s/variables.tf" % root].get("variable", [])
        # python-hcl2 keeps the quotes of block labels
        ports = [b.get("default") for v in variables for k, b in v.items() if k.strip('"') == "container_port"]
        assert ports == [want["port"]], ports
        paths = set(re.findall(r'"(/[^"]*)"', json.dumps(list(infra.values())).replace('\\"', '"')))
        assert want["readiness"] in paths


@pytest.mark.parametrize("pipeline", PIPELINE_TYPES)
@pytest.mark.parametrize("req", sorted(REQS))
def test_every_pipeline_builds_and_checks_the_image_the_manifests_run(req: str, pipeline: str) -> None:
    model, files = tree(req, pipeline)
    want = facts(model)
    deployment = next(d for d in yaml_docs(files, "k8s/base/deployment.yaml") if d["kind"] == "Deployment")
    image, _tag = split_image(deployment["spec"]["template"]["spec"]["containers"][0]["image"])
    # the scheduled drift check (its own GitHub workflow) builds no image
    workflows = [
        f
        for f in files
        if f.kind in ("github-actions", "gitlab-ci", "jenkinsfile", "circleci", "azure-pipelines")
        and f.path != ".github/workflows/drift.yml"
    ]
    assert workflows, "no pipeline in the tree"
    for workflow in workflows:
        body = workflow.content
        # the image the pipeline builds and deploys (IMAGE="${REGISTRY}/...") is the one the
        # manifests run
        registries = set(re.findall(r"""\bREGISTRY=["']?([^"'\s$]+)""", body))
        images = set(re.findall(r"""\bIMAGE=["']?\$\{?REGISTRY\}?/([^"'\s:]+)""", body))
        assert len(registries) == 1 and len(images) == 1, (workflow.path, registries, images)
        assert "%s/%s" % (registries.pop(), images.pop()) == image, workflow.path
        # it checks the service through the same readiness path
        assert want["readiness"] in body, workflow.path
        # and deploys through the generated scripts, which carry the port
        assert "scripts/deploy.sh" in body, workflow.path
