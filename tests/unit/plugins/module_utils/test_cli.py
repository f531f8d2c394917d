"""The devops-flow CLI: names scripts rely on, exit codes, errors without tracebacks."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from ansible_collections.sdd.devops_flow.plugins.module_utils import cli
from ansible_collections.sdd.devops_flow.plugins.module_utils.serialize import model_json_schema

REPO = Path(__file__).resolve().parents[4]
EXAMPLES = REPO / "examples" / "docs"
FOREIGN = REPO / "tests" / "fixtures" / "foreign"

SCHEMA = json.loads((REPO / "schemas" / "model.schema.json").read_text())


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_shipped_schema_is_the_generated_one():
    assert model_json_schema() == SCHEMA, "run: devops-flow schema > schemas/model.schema.json"


@pytest.mark.parametrize(
    "req",
    [
        EXAMPLES / "07_REQ/REQ-14_order_intake_api.md",
        EXAMPLES / "07_REQ/REQ-21_catalog_search.md",
        EXAMPLES / "07_REQ/REQ-102_ledger_events.md",
        *sorted(FOREIGN.glob("*/docs/07_REQ/**/REQ-*.md")),
    ],
    ids=lambda p: p.name,
)
def test_parse_output_matches_the_schema_and_documented_names(req):
    code, out, _unused = run("parse", "--req", str(req))
    assert code == 0
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    assert data["service"]["name"] and data["service"]["ports"]
    assert set(data["service"]["health"]) >= {"liveness", "readiness", "startup"}
    assert {"provider", "decided_by"} <= set(data["cloud"])
    for env in data["environments"]:
        assert {"name", "strategy", "replicas", "rollback_seconds"} <= set(env)
    assert "canary_steps" in data["rollout"]
    assert {"rpo_seconds", "rto_seconds"} <= set(data["backup"])
    assert "req" in data["traceability"]
    assert isinstance(data["warnings"], list)
    assert all(isinstance(v, str) for v in data["sources"].values())


def test_sources_point_at_real_lines():
    _unused, out, _unused = run("parse", "--req", str(EXAMPLES / "07_REQ/REQ-14_order_intake_api.md"))
    data = json.loads(out)
    ref = data["sources"]["environments[2].strategy"]
    file, line = ref.rsplit(":", 1)
    path = Path(file) if os.path.isabs(file) else Path.cwd() / file
    text = path.read_text().split("\n")[int(line) - 1]
    assert "Production" in text and "Canary" in text
    assert data["source_sections"]["environments[2].strategy"].startswith("9.5.2")


def test_yaml_format():
    code, out, _unused = run("parse", "--format", "yaml", "--req", str(EXAMPLES / "07_REQ/REQ-21_catalog_search.md"))
    assert code == 0
    assert yaml.safe_load(out)["cloud"]["provider"] == "gcp"


def test_cloud_option():
    out = run("parse", "--cloud", "azure", "--req", str(EXAMPLES / "07_REQ/REQ-14_order_intake_api.md"))[1]
    assert json.loads(out)["cloud"]["decided_by"] == "option"


def test_warnings_go_to_stderr_and_strict_exits_1():
    req = str(EXAMPLES / "07_REQ/REQ-102_ledger_events.md")
    code, _unused, err = run("parse", "--req", req)
    assert code == 0 and "warning: ADR-07" in err
    assert ":1" in err.split("warning")[0] or "REQ-102" in err
    code, _unused, _unused = run("parse", "--strict", "--req", req)
    assert code == 1
    code, _unused, err = run("parse", "--quiet", "--req", req)
    assert err == ""


def test_input_errors_exit_2_with_path_and_line(tmp_path):
    bad = tmp_path / "SPEC-01.yaml"
    bad.write_text("id: x\nimplementation:\n  deployment:\n    ports_exposed: [99999]\n")
    code, out, err = run("parse", "--spec", str(bad))
    assert code == 2 and out == ""
    assert "SPEC-01.yaml:4: error: port 99999 is outside 1-65535" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv", [[], ["parse"], ["parse", "--cloud", "ibm", "--req", "x"], ["nope"], ["parse", "--req", "/no/such/file.md"]]
)
def test_usage_errors_exit_2(argv):
    code, _unused, err = run(*argv)
    assert code == 2
    assert "Traceback" not in err


def test_help_and_version():
    code, _unused, _unused = run("--version")
    assert code == 0
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["parse", "--help"])


def test_schema_command():
    code, out, _unused = run("schema")
    assert code == 0 and json.loads(out) == SCHEMA


def test_bin_launcher_runs_from_a_checkout_of_any_name(tmp_path):
    env = dict(os.environ, PYTHONPATH="")
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "bin" / "devops-flow"),
            "parse",
            "--req",
            str(EXAMPLES / "07_REQ/REQ-21_catalog_search.md"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["service"]["name"] == "catalog-search"
