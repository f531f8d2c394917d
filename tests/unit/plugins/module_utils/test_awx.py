"""AWX job templates and surveys derived from the roles' argument specs and the modules' docs."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible_collections.sdd.devops_flow.plugins.module_utils import awx
from ansible_collections.sdd.devops_flow.plugins.module_utils.cli import main
from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import UsageError

ROOT = awx.collection_root()


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------- questions


def test_bool_becomes_a_true_false_choice_with_its_default():
    entry = awx.question("x_enabled", {"type": "bool", "default": False, "description": ["On or off."]}, "x_")
    assert entry == {
        "question_name": "Enabled",
        "question_description": "On or off.",
        "variable": "x_enabled",
        "required": False,
        "type": "multiplechoice",
        "choices": "true\nfalse",
        "default": "false",
    }


def test_choices_int_password_and_lists():
    strategy = awx.question("strategy", {"type": "str", "choices": ["rolling", "canary"], "default": "canary"})
    assert (strategy["type"], strategy["choices"], strategy["default"]) == (
        "multiplechoice",
        "rolling\ncanary",
        "canary",
    )
    count = awx.question("count", {"type": "int", "default": 3, "required": True})
    assert (count["type"], count["default"], count["required"]) == ("integer", 3, True)
    secret = awx.question("token", {"type": "str", "no_log": True, "default": ""})
    assert secret["type"] == "password"
    hosts = awx.question("hosts", {"type": "list", "elements": "str", "default": ["a", "b"]})
    assert (hosts["type"], hosts["default"]) == ("text", "a,b")
    assert "commas" in hosts["question_description"]
    picks = awx.question("picks", {"type": "list", "elements": "str", "choices": ["a", "b", "c"], "default": ["b"]})
    assert (picks["type"], picks["choices"], picks["default"]) == ("multiselect", "a\nb\nc", "b")


def test_markup_is_removed_from_descriptions():
    entry = awx.question("v", {"type": "str", "description": "Set O(x) to V(true); see M(sdd.devops_flow.generate)."})
    assert entry["question_description"] == "Set x to true; see sdd.devops_flow.generate."


def test_a_dict_option_cannot_be_asked():
    with pytest.raises(UsageError, match="type dict"):
        awx.question("settings", {"type": "dict"})


# --------------------------------------------------------------------------- AWX's rules


def valid_spec():
    return {
        "name": "t",
        "description": "",
        "spec": [awx.question("a", {"type": "str", "choices": ["x", "y"]}), awx.question("b", {"type": "int"})],
    }


def test_check_survey_accepts_what_question_builds():
    assert awx.check_survey(valid_spec()) == []


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s["spec"][0].update(type="list"), "type 'list'"),
        (lambda s: s["spec"][0].update(default="z"), "not one of the choices"),
        (lambda s: s["spec"][1].update(variable="a"), "repeats question 1"),
        (lambda s: s["spec"][1].pop("required"), "'required' missing"),
        (lambda s: s["spec"][1].update(default="three"), "not an integer"),
        (lambda s: s["spec"][0].update(choices=""), "needs its choices"),
        (lambda s: s["spec"][1].update(variable="not valid"), "not a valid variable name"),
        (lambda s: s.update(spec=[]), "non-empty list"),
        (lambda s: s.pop("name"), "'name' is missing"),
    ],
)
def test_check_survey_reports_what_awx_refuses(change, message):
    spec = valid_spec()
    change(spec)
    problems = awx.check_survey(spec)
    assert problems and any(message in p for p in problems), problems


# --------------------------------------------------------------------------- the collection's own templates


def test_every_job_template_has_a_survey_awx_accepts():
    templates = awx.load_templates(ROOT)
    wanted = {"generate", "provision", "deploy", "rollback", "backup", "restore", "drift"}
    assert wanted <= {t["playbook"] for t in templates}
    for template in templates:
        spec = awx.survey_spec(ROOT, template)
        assert awx.check_survey(spec) == []
        assert [q["variable"] for q in spec["spec"]] == template["survey"]


def test_survey_variables_are_the_ones_the_roles_and_playbooks_read():
    for template in awx.load_templates(ROOT):
        source = template["source"]
        if "role" in source:
            with open(os.path.join(ROOT, "roles", source["role"], "defaults", "main.yml"), encoding="utf-8") as handle:
                defaults = yaml.safe_load(handle)
            missing = [v for v in template["survey"] if v not in defaults]
        else:
            with open(os.path.join(ROOT, "playbooks", template["playbook"] + ".yml"), encoding="utf-8") as handle:
                playbook = handle.read()
            missing = [v for v in template["survey"] if not re.search(r"\b%s\b" % v, playbook)]
        assert not missing, "%s asks for variables its playbook never reads: %s" % (template["name"], missing)


def test_secrets_are_password_questions():
    for template in awx.load_templates(ROOT):
        for entry in awx.survey_spec(ROOT, template)["spec"]:
            if re.search(r"password|secret|token|_key$", entry["variable"]):
                assert entry["type"] == "password", entry["variable"]


def test_unknown_variable_names_the_template_and_the_spec(tmp_path):
    path = tmp_path / "jt.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "job_templates": [
                    {"name": "x", "playbook": "deploy", "source": {"role": "deploy"}, "survey": ["deploy_nope"]}
                ]
            }
        )
    )
    code, _out, err = run_cli("awx-surveys", "--templates", str(path), "--output", str(tmp_path / "out"))
    assert code == 2
    assert "job template 'x' asks for deploy_nope, which roles/deploy/meta/argument_specs.yml does not document" in err
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- the command


def test_awx_surveys_writes_surveys_templates_and_a_project_idempotently(tmp_path):
    out_dir = tmp_path / "awx"
    code, out, err = run_cli("awx-surveys", "--output", str(out_dir))
    assert code == 0, err
    templates = awx.load_templates(ROOT)
    with open(out_dir / "job_templates.yml", encoding="utf-8") as handle:
        definitions = yaml.safe_load(handle)["job_templates"]
    assert [d["name"] for d in definitions] == [t["name"] for t in templates]
    for definition in definitions:
        assert (out_dir / "project" / definition["playbook"]).is_file()
        with open(out_dir / definition["survey_spec"], encoding="utf-8") as handle:
            assert awx.check_survey(json.load(handle)) == []
    with open(out_dir / "project" / "collections" / "requirements.yml", encoding="utf-8") as handle:
        requirements = yaml.safe_load(handle)
    assert requirements["collections"][0]["name"] == "sdd.devops_flow"

    code, out, err = run_cli("awx-surveys", "--output", str(out_dir))
    assert code == 0 and "0 validation error(s)" in out
    assert "created" not in out and "updated" not in out


def test_project_playbooks_pass_ansible_syntax_check(tmp_path):
    out_dir = tmp_path / "awx"
    assert run_cli("awx-surveys", "--output", str(out_dir))[0] == 0
    playbooks = sorted(str(p) for p in (out_dir / "project" / "playbooks").glob("*.yml"))
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.dirname(os.path.dirname(os.path.dirname(ROOT))))
    if not ROOT.endswith(os.path.join("ansible_collections", "sdd", "devops_flow")):
        env["ANSIBLE_COLLECTIONS_PATH"] = os.path.join(ROOT, ".build", "collections")
    env["ANSIBLE_HOME"] = str(tmp_path / "ansible-home")
    result = subprocess.run(
        [os.path.join(bindir, "ansible-playbook"), "--syntax-check", "-i", "localhost,", *playbooks],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
