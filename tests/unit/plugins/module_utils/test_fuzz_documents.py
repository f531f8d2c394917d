"""Property-based tests: mutated and random documents give a model or a clean error.

"Clean" means a DocumentError (or UsageError) whose every finding names a file and says
what was wrong; never another exception, never a traceback from the CLI.  Together these
tests run several thousand documents.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.sdd.devops_flow.plugins.module_utils import cli
from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import (
    DocumentError,
    UsageError,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.model import Model

REPO = Path(__file__).resolve().parents[4]
EXAMPLES = REPO / "examples" / "docs"
FOREIGN = REPO / "tests" / "fixtures" / "foreign"

MARKDOWN = [
    p.read_text()
    for p in sorted(EXAMPLES.glob("0[67]_*/**/*.md")) + sorted(FOREIGN.glob("*/docs/0[67]_*/**/*.md"))
    if len(p.read_text()) > 400
]
SPECS = [p.read_text() for p in sorted(EXAMPLES.glob("09_SPEC/*.yaml")) + sorted(FOREIGN.glob("*/docs/09_SPEC/*.yaml"))]

TRICKY = [
    "N/A",
    "",
    "-5",
    "10-2",
    "-3 instances",
    "999999",
    "0",
    "Scaling: 10-2",
    "CIDR: 10.0.0.0/33",
    "CIDR: 999.1.1.1/8",
    "5% → 2% → 100%",
    "150%",
    "`",
    "**",
    "|",
    "```",
    "[@adr: ADR-99](../../nowhere.md#ADR-99)",
    "@sys: SYS.77.01.01",
    "\u202e",
    "💥",
    "x$(touch /tmp/pwned)",
    "'\"; rm -rf /",
    "\t",
    "Type: ECS Fargate",
    "TBD",
    "yes",
    "no",
    "1e309",
    "NaN",
    "${HOME}",
    "{{ lookup('env','HOME') }}",
    "\\",
    "<br>",
    "- Liveness: `relative/path`",
    "- Readiness: `/a b`",
    "### 9.5.2 Environment",
    "## 9.5 Deployment Requirements",
    "| Environment | Replicas |",
    "|---|---|",
]


def fuzz(examples: int) -> settings:
    """Deterministic runs (the same cases every time, no example database)."""
    return settings(
        max_examples=examples, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )


def _clean(outcome: object) -> None:
    """A model, or an error whose findings are all well-formed."""
    if isinstance(outcome, Model):
        for finding in outcome.warnings:
            assert finding.message and finding.severity == "warning"
        return
    assert isinstance(outcome, (DocumentError, UsageError)), repr(outcome)
    for finding in outcome.findings():
        assert finding.message
        assert finding.severity == "error"
        if isinstance(outcome, DocumentError):
            assert finding.file, finding


def _parse(**paths: str) -> object:
    try:
        return load_model(**paths)
    except (DocumentError, UsageError) as exc:
        return exc


@st.composite
def mutated(draw, sources):
    lines = draw(st.sampled_from(sources)).split("\n")
    for _unused in range(draw(st.integers(1, 6))):
        action = draw(
            st.sampled_from(["delete", "duplicate", "swap", "replace_cell", "insert", "truncate", "digits", "unicode"])
        )
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        if action == "delete" and len(lines) > 1:
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "replace_cell" and "|" in lines[i]:
            cells = lines[i].split("|")
            k = draw(st.integers(0, len(cells) - 1))
            cells[k] = " %s " % draw(st.sampled_from(TRICKY))
            lines[i] = "|".join(cells)
        elif action == "insert":
            lines.insert(i, draw(st.sampled_from(TRICKY)))
        elif action == "truncate":
            lines = lines[: i + 1]
        elif action == "digits":
            lines[i] = "".join(
                draw(st.sampled_from(["-", "0", "99999", "1.5"])) if c.isdigit() and draw(st.booleans()) else c
                for c in lines[i]
            )
        elif action == "unicode":
            lines[i] = lines[i] + draw(st.text(max_size=20))
    return "\n".join(lines)


def _write(folder: str, relative: str, text: str) -> str:
    path = os.path.join(folder, "docs", relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", errors="surrogatepass") as handle:
        handle.write(text)
    return path


@fuzz(1200)
@given(text=mutated(MARKDOWN))
def test_mutated_requirement_documents(text):
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = _write(folder, "07_REQ/REQ-01_fuzz.md", text)
        except UnicodeEncodeError:
            return
        _clean(_parse(req=path))


@fuzz(900)
@given(text=mutated(SPECS))
def test_mutated_spec_documents(text):
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = _write(folder, "09_SPEC/SPEC-01_fuzz.yaml", text)
        except UnicodeEncodeError:
            return
        _clean(_parse(spec=path))


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True)
    | st.text(max_size=30)
    | st.sampled_from(TRICKY),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "implementation",
                    "deployment",
                    "ports_exposed",
                    "scaling",
                    "min_instances",
                    "max_instances",
                    "cpu",
                    "memory",
                    "health_check_path",
                    "environment_variables",
                    "name",
                    "sensitive",
                    "observability",
                    "metrics",
                    "operations",
                    "alerting_rules",
                    "condition",
                    "backup_and_recovery",
                    "data_backup",
                    "resource_limits",
                    "resource_requests",
                    "health_checks",
                    "endpoints",
                    "path",
                    "traceability",
                    "cumulative_tags",
                    "verification",
                    "deployment_tests",
                    "distributed_tracing",
                    "sampling_rate",
                ]
            )
            | st.text(max_size=10),
            children,
            max_size=6,
        )
    ),
    max_leaves=40,
)


@fuzz(900)
@given(
    data=JSONISH,
    placement=st.sampled_from(
        [
            (),
            ("implementation",),
            ("implementation", "deployment"),
            ("implementation", "deployment", "scaling"),
            ("observability",),
            ("operations", "monitoring_dashboard"),
            ("implementation", "environment_variables"),
            ("observability", "health_checks"),
            ("operations", "backup_and_recovery"),
        ]
    ),
)
def test_random_spec_structures(data, placement):
    for key in reversed(placement):
        data = {key: data}
    text = yaml.safe_dump(data, allow_unicode=True)
    with tempfile.TemporaryDirectory() as folder:
        path = _write(folder, "09_SPEC/SPEC-02_random.yaml", text)
        _clean(_parse(spec=path))


@fuzz(300)
@given(blob=st.binary(max_size=400), kind=st.sampled_from(["req", "spec"]))
def test_random_bytes(blob, kind):
    with tempfile.TemporaryDirectory() as folder:
        relative = "07_REQ/REQ-03_x.md" if kind == "req" else "09_SPEC/SPEC-03_x.yaml"
        path = os.path.join(folder, "docs", relative)
        os.makedirs(os.path.dirname(path))
        with open(path, "wb") as handle:
            handle.write(blob)
        _clean(_parse(**{kind: path}))


@fuzz(250)
@given(text=mutated(MARKDOWN), fmt=st.sampled_from(["json", "yaml"]))
def test_cli_never_shows_a_traceback(text, fmt):
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = _write(folder, "07_REQ/REQ-04_cli.md", text)
        except UnicodeEncodeError:
            return
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(["parse", "--format", fmt, "--req", path], out, err)
        assert code in (0, 2), err.getvalue()
        assert "Traceback" not in err.getvalue()
        assert "internal error" not in err.getvalue()
        if code == 2:
            assert "error:" in err.getvalue() and out.getvalue() == ""
        else:
            assert out.getvalue()
