"""The docs target: docs/RUNBOOK.md and docs/TRACEABILITY.md.

Markdown has no validator in the registry (kind "markdown" is unchecked on
purpose: documentation for people), so these tests check what breaks Markdown
in practice: every table row has as many cells as its header by GitHub's rules
(a cell ends at an unescaped pipe, also inside a code span), no HTML tag other
than the ``<br>`` the matrix uses, no template syntax outside code blocks, and
Mermaid labels always quoted.  They also check the content against the model:
every document row with its file:line, every file the other targets generate,
the runbook anchors the Prometheus rules link to, RTO/RPO and the commands.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
import yaml

from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import UsageError
from ansible_collections.sdd.devops_flow.plugins.module_utils.fileset import FileSet
from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import TARGETS, Options, model_from_flags, render
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.model import AlertRule, Budget, Cost, Model, Service
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import docs
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.registry import UNCHECKED

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
#: (case, document, forced cloud)
CASES: List[Tuple[str, str, Optional[str]]] = [
    *((key, key, None) for key in DOCUMENTS),
    ("REQ-14-azure", "REQ-14", "azure"),
    ("initech-gcp", "initech-notifications", "gcp"),
]
#: Sections of the model's deployment rows (REQ 9.5, SYS 9.1 / 9.2 and their unnumbered forms).
DEPLOYMENT = re.compile(r"^(9\.\d|Infrastructure|Environment|Deployment|Observability|Security|Cost|Ansible|Health)")

_MODELS: Dict[str, Model] = {}


def model_of(key: str) -> Model:
    if key not in _MODELS:
        _MODELS[key] = load_model(req=str(DOCUMENTS[key]))
    return _MODELS[key]


@pytest.fixture(scope="module")
def rendered() -> Dict[str, FileSet]:
    return {case: render(model_of(key), Options(target="docs", cloud=cloud)) for case, key, cloud in CASES}


def text_of(files: FileSet, path: str) -> str:
    file = files.get(path)
    assert file is not None, path
    return file.content


# --------------------------------------------------------------------------- Markdown that stays Markdown


def _cells(line: str) -> int:
    """Cells of a GitHub table row: split at pipes not escaped with a backslash
    (GitHub splits before it reads code spans, so a pipe in code must be escaped too)."""
    body = re.sub(r"\\.", "", line.strip())
    assert body.startswith("|") and body.endswith("|"), line
    return body.count("|") - 1


def check_markdown(text: str, where: str) -> None:
    fenced = False
    header: Optional[int] = None
    for number, line in enumerate(text.split("\n"), 1):
        if re.match(r"^`{3,}", line):
            fenced = not fenced
            header = None
            continue
        if fenced:
            continue
        if line.startswith("|"):
            cells = _cells(line)
            if header is None:
                header = cells
            assert cells == header, "%s:%d: %d cells, the header has %d: %s" % (where, number, cells, header, line)
        else:
            header = None
        bare = re.sub(r"`+[^`]*`+", "", line)  # text outside code spans
        tags = [t for t in re.findall(r"</?[A-Za-z][^>]*>", bare) if t != "<br>"]
        assert tags == [], "%s:%d: HTML %s" % (where, number, tags)
        assert not re.search(r"\{\{|\{%|\$\{", bare), "%s:%d: template syntax: %s" % (where, number, line)
    assert not fenced, "%s: a code block is not closed" % where


def test_markdown_stays_markdown(rendered: Dict[str, FileSet]) -> None:
    assert "markdown" in UNCHECKED
    for case, files in rendered.items():
        assert sorted(files.paths()) == [docs.RUNBOOK, docs.TRACEABILITY]
        for file in files:
            assert file.kind == "markdown" and file.fields, (case, file.path)
            check_markdown(file.content, "%s %s" % (case, file.path))


def test_same_model_same_bytes(rendered: Dict[str, FileSet]) -> None:
    again = render(model_of("REQ-102"), Options(target="docs"))
    assert [(f.path, f.content) for f in again] == [(f.path, f.content) for f in rendered["REQ-102"]]


# --------------------------------------------------------------------------- the traceability matrix


def test_every_document_row_is_listed_with_its_source_line(rendered: Dict[str, FileSet]) -> None:
    for case, key, _cloud in CASES:
        model = model_of(key)
        text = text_of(rendered[case], docs.TRACEABILITY)
        matrix = text.split("## Document rows", 1)[1].split("## Rows that produced nothing", 1)[0]
        rows = {}
        for line in matrix.split("\n"):
            match = re.match(r"^\| `([^`]+)` \|", line)
            if match:
                rows[match.group(1)] = line
        deployment = 0
        for path, source in model.sources.items():
            if not source.line:
                continue
            where = "%s:%d" % (os.path.basename(source.file), source.line)
            assert where in rows, (case, path, where)
            assert "`%s`" % path in rows[where] or " ..." in rows[where], (case, path)
            if DEPLOYMENT.match(source.section):
                deployment += 1
                row = rows[where]
                assert "`" in row.split(" | ")[3] or "nothing: " in row, (case, where)
        assert deployment > 0, case


def test_every_generated_file_is_listed(rendered: Dict[str, FileSet]) -> None:
    for case, key, cloud in CASES:
        model = model_of(key)
        text = text_of(rendered[case], docs.TRACEABILITY)
        listing = text.split("## Generated files", 1)[1].split("## Infrastructure", 1)[0]
        targets = text.split("## Generated targets", 1)[1].split("## Requirement elements", 1)[0]
        for name in TARGETS:
            if name in ("docs", "all"):
                continue
            try:
                files = render(model, Options(target=name, cloud=cloud))
            except UsageError:
                files = FileSet()
            if not len(files):
                assert re.search(r"^\| %s \| .* \| not generated: " % re.escape(name), targets, re.M), (case, name)
                continue
            assert "%d file(s)" % len(files) in targets
            for file in files:
                assert "| %s | `%s` | %s |" % (name, file.path, docs.md(file.kind)) in listing, (case, file.path)


def test_rows_that_produced_nothing_say_why(rendered: Dict[str, FileSet]) -> None:
    text = text_of(rendered["REQ-21"], docs.TRACEABILITY)
    nothing = text.split("## Rows that produced nothing", 1)[1].split("## Generated files", 1)[0]
    # "Slow requests > 1 second" cannot be a Prometheus alert (the SPEC's histogram ends at 1 s): its
    # row (the tracing row, which also gave the collector its exporter) says so
    row = next(line for line in text.split("\n") if "`observability.alert_rules[2]`" in line)
    assert "alert SlowRequests not generated: threshold 1 s is not below the largest finite bucket" in row
    assert "monitoring: `monitoring/otel/collector.yaml`" in row
    # acme: the tracing row's alert is a span, not a metric
    acme = text_of(rendered["acme-payments"], docs.TRACEABILITY)
    assert "alert AcquirerSpan not generated: no Prometheus metric" in acme
    for line in nothing.strip().split("\n"):
        assert re.match(r"^- `[^`]+:\d+` \(.*\): \S", line), line
    # a target that does not apply is listed with its reason
    contoso = text_of(rendered["contoso-ledger"], docs.TRACEABILITY)
    assert re.search(r"^\| container \| `devops-flow generate-container` \| not generated: .*csharp", contoso, re.M)


def test_matrix_names_the_resources_of_a_row(rendered: Dict[str, FileSet]) -> None:
    text = text_of(rendered["REQ-14"], docs.TRACEABILITY)
    row = next(line for line in text.split("\n") if line.startswith("| `REQ-14_order_intake_api.md:313` |"))
    assert "infrastructure.database" in row and "infra: `main.tf`" in row
    spec = next(line for line in text.split("\n") if line.startswith("| `SPEC-14_order_intake_api.yaml:304` |"))
    assert "monitoring: `monitoring/prometheus/rules/order-intake-api.rules.yml`" in spec
    assert "`- alert: OutboxPendingMessages`" in spec
    elements = text.split("## Requirement elements", 1)[1].split("## Document rows", 1)[0]
    for element in model_of("REQ-14").traceability.element_ids:
        assert "| `%s` |" % element in elements


def test_mermaid_flowcharts_of_infrastructure_and_pipeline(rendered: Dict[str, FileSet]) -> None:
    for case, files in rendered.items():
        text = text_of(files, docs.TRACEABILITY)
        blocks = re.findall(r"^```mermaid\n(.*?)^```$", text, re.M | re.S)
        assert len(blocks) == 2, case
        for block in blocks:
            lines = block.strip().split("\n")
            assert lines[0] == "flowchart LR"
            for line in lines[1:]:
                # node ids are generated; every label is one quoted string without a raw quote
                for label in re.findall(r'[\[\(]+"(.*?)"[\]\)]+', line):
                    assert '"' not in label and "`" not in label and "<" not in label, (case, line)
                stripped = re.sub(r'"[^"]*"', '""', line.strip())
                assert re.match(
                    r'^(subgraph [a-z0-9]+\[""\]|end|[a-z0-9]+(\(\[""\]\)|\[\(""\)\]|\[\[""\]\]|\[""\])|'
                    r"[a-z0-9]+( --> [a-z0-9]+)+)$",
                    stripped,
                ), (case, line)
    infra = text_of(rendered["REQ-14"], docs.TRACEABILITY).split("## Infrastructure", 1)[1]
    for word in ("ECS Fargate", "postgresql 15.5", "SQS", "S3", "prod: canary, 4 replica(s)"):
        assert word in infra
    assert "Approve the prod deployment" in infra.split("## Pipeline stages", 1)[1]


def test_docs_inside_the_all_tree_use_its_paths() -> None:
    model = model_of("REQ-14")
    tree = FileSet()
    tree.merge(render(model, Options(target="infra")), "terraform/")
    files = docs.render_docs(model, Options(target="docs"), tree)
    text = text_of(files, docs.TRACEABILITY)
    assert "infra: `terraform/main.tf`" in text
    assert "| infra | `main.tf` |" not in text


# --------------------------------------------------------------------------- the runbook


def _slugs(text: str) -> List[str]:
    """GitHub's anchors of the headings of a Markdown text."""
    out = []
    for line in text.split("\n"):
        match = re.match(r"^#{1,6} (.*)$", line)
        if match:
            out.append(re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-"))
    return out


def test_runbook_has_an_anchor_for_every_alert(rendered: Dict[str, FileSet]) -> None:
    for case, key, cloud in CASES:
        runbook = text_of(rendered[case], docs.RUNBOOK)
        slugs = _slugs(runbook)
        rules = render(model_of(key), Options(target="monitoring", cloud=cloud))
        text = next(f.content for f in rules if f.path.endswith(".rules.yml"))
        alerts = [r for g in yaml.safe_load(text)["groups"] for r in g["rules"] if "alert" in r]
        for alert in alerts:
            url = alert["annotations"]["runbook_url"]
            assert url.startswith("docs/RUNBOOK.md#")
            assert url.split("#", 1)[1] in slugs, (case, alert["alert"])
            assert "[%s](#%s)" % (alert["alert"], url.split("#", 1)[1]) in runbook


def test_runbook_has_recovery_objectives_contacts_budgets_and_commands(rendered: Dict[str, FileSet]) -> None:
    runbook = text_of(rendered["REQ-14"], docs.RUNBOOK)
    assert "| RTO | 1800 s (30 min) | REQ-14\\_order\\_intake\\_api.md:216 |" in runbook
    assert "| RPO | 300 s (5 min) | REQ-14\\_order\\_intake\\_api.md:215 |" in runbook
    assert "Owners and authors: the metadata of SPEC-14 (`SPEC-14_order_intake_api.yaml`)." in runbook
    assert "| compute | 450 | 80 % |" in runbook and "Total: 1080 USD a month." in runbook
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/order-intake-api:1.2.0"
    assert "scripts/deploy.sh --env prod --image %s" % image in runbook
    assert "`scripts/rollback.sh --env staging`, ready within 120 s (2 min)" in runbook
    assert "Canary: traffic 5% → 25% → 50% → 100%, holding 600 s (10 min)" in runbook
    assert "`ansible-playbook -i ansible/inventory/" in runbook
    assert "(tags: backup, recovery)" in runbook
    assert "| p95 latency | alert | 500 ms |" in runbook
    assert "| trace sampling | rate | 10 % |" in runbook
    # REQ-102: RTO 900 s, RPO 60 s; no 9.5.7, so no budget
    ledger = text_of(rendered["REQ-102"], docs.RUNBOOK)
    assert "| RTO | 900 s (15 min) |" in ledger and "| RPO | 60 s (1 min) |" in ledger
    assert "The documents give no budget." in ledger
    # every alert section has its expression and its actions
    for section in runbook.split("\n### ")[1:]:
        if section.startswith(("Development", "Staging", "Production", "Playbooks", "Document alerts")):
            continue
        assert "```promql" in section and "Actions:" in section, section[:40]


# --------------------------------------------------------------------------- hostile values


EVIL = "x\"y' {{ .Foo }} {% raw %} ${HOME} | `tick` <b>b</b> [l](http://e) \\ *em* _u_ # h\nnext"


def test_hostile_document_values_stay_text() -> None:
    model = model_of("REQ-14")
    obs = model.observability
    hostile = dataclasses.replace(
        model,
        service=dataclasses.replace(model.service, title=EVIL),
        observability=dataclasses.replace(
            obs,
            alert_rules=(*obs.alert_rules, AlertRule(name=EVIL, condition=EVIL, metric="error_rate", threshold=0.1)),
            notification_channels=(*obs.notification_channels, EVIL),
        ),
        cost=Cost(budgets=(Budget(resource=EVIL, monthly_usd=10.0, optimization=EVIL),)),
        backup=dataclasses.replace(model.backup, recovery_procedures=(EVIL, "a: " + EVIL)),
        environments=(dataclasses.replace(model.environments[0], label=EVIL), *model.environments[1:]),
    )
    files = render(hostile, Options(target="docs"))
    for file in files:
        check_markdown(file.content, file.path)
        assert "<b>" not in file.content and "&lt;b&gt;" in file.content
    runbook = text_of(files, docs.RUNBOOK)
    # the budget row is one row of five cells: the pipe and the backticks of the text are inert
    row = next(line for line in runbook.split("\n") if line.startswith("| x"))
    assert _cells(row) == 5
    assert "&#124;" in row and "\\`tick\\`" in row
    assert docs.mermaid_label('a"b#c<d>`e') == '"a#quot;b#35;c#lt;d#gt;#96;e"'
    assert docs.code("a|b`c") == "``a\\|b`c``"
    assert docs.md("a\nb|c") == "a b&#124;c"


@pytest.mark.parametrize(
    "model",
    [Model(service=Service(name="x")), model_from_flags("demo", "python", "canary")],
    ids=["bare", "from-flags"],
)
def test_models_without_documents(model: Model) -> None:
    files = render(model, Options(target="docs"))
    for file in files:
        check_markdown(file.content, file.path)
    text = text_of(files, docs.TRACEABILITY)
    # no cloud: the infrastructure is not generated, and the matrix says why
    assert re.search(r"^\| infra \| `devops-flow generate-infra` \| not generated: no cloud provider", text, re.M)
    assert "Every row produced at least one file." in text or "## Rows that produced nothing" in text
    runbook = text_of(files, docs.RUNBOOK)
    assert "| RTO | not stated |" in runbook
    assert "### TargetDown" in runbook and "### ServiceDown" in runbook


@pytest.mark.parametrize("case,key,cloud", CASES[:4])
def test_trace_finds_the_files_of_every_row_by_its_definition(case: str, key: str, cloud: Optional[str]) -> None:
    """The index ``trace`` uses gives each row the files, in target order, of which a
    field contains or is contained in one of the row's paths (``_related``)."""
    model = model_of(key)
    results = docs.other_targets(model, Options(target="docs", cloud=cloud))
    rows = docs.trace(model, results, docs.alert_plan(model))
    assert any(row.files for row in rows), case
    for row in rows:
        expected = [
            (r.name, f.path)
            for r in results
            if r.files is not None
            for f in r.files
            if any(docs._related(field, path) for field in f.fields for path in row.paths)
        ]
        assert [(name, f.path) for name, f in row.files] == expected, (case, row.source)
