"""Ansible playbooks (render/playbooks.py, REQ 9.5.4) and their validators (validators/ansible.py).

Every generated tree (the three example services, the four foreign sets, forced clouds
and edge models) is written out and run through the real tools in one go: ansible-lint
with the production profile and ``ansible-playbook --syntax-check``; none may report
anything.  A deliberately broken tree in the same run shows that both validators look
at the files and report file:line.  Then the content is checked against the documents
(play names, tags, group_vars, the deploy plays of the collection), check mode is run
with ansible-playbook on every playbook, and hostile document text is shown to stay
inert (it never runs, in --syntax-check nor in --check).

Decision for documents that mark 9.5.4 Not Applicable (REQ-21's SYS-05, contoso's REQ):
no playbooks at all, and a note says why; it needs ``Playbooks.applicable`` in the
model (see test_not_applicable_*).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

import pytest

from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import Finding, UsageError
from ansible_collections.sdd.devops_flow.plugins.module_utils.fileset import FileSet
from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import document_names, version
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.model import (
    Backup,
    Cloud,
    Environment,
    FrozenMap,
    Infrastructure,
    Model,
    Playbook,
    Playbooks,
    Service,
    Source,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import common
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import playbooks as pb
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import playbooks_yaml as y
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators import ansible as validators
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators import registry

REPO = Path(__file__).resolve().parents[5]
DEPLOY_REQ = "{{ [playbook_dir, sdd_documents.req] | ansible.builtin.path_join if sdd_documents.req else '' }}"
EXAMPLES = REPO / "examples" / "docs" / "07_REQ"
FOREIGN = REPO / "tests" / "fixtures" / "foreign"
BIN = Path(sys.executable).parent

DOCUMENTS: Dict[str, Tuple[Path, Optional[str]]] = {
    "req14": (EXAMPLES / "REQ-14_order_intake_api.md", None),
    "req21": (EXAMPLES / "REQ-21_catalog_search.md", None),
    "req102": (EXAMPLES / "REQ-102_ledger_events.md", None),
    "acme": (FOREIGN / "acme-payments" / "docs" / "07_REQ" / "REQ-07_payment_gateway.md", None),
    "contoso": (
        FOREIGN
        / "contoso-ledger"
        / "docs"
        / "07_REQ"
        / "REQ-21_ledger_event_publisher"
        / "REQ-21_ledger_event_publisher.md",
        None,
    ),
    "initech": (FOREIGN / "initech-notifications" / "docs" / "07_REQ" / "REQ-15_notification_dispatcher.md", None),
    "northwind": (FOREIGN / "northwind-catalog" / "docs" / "07_REQ" / "REQ-12_catalog_search.md", None),
    # forced clouds: a service written for one cloud, rendered for another
    "req14-gcp": (EXAMPLES / "REQ-14_order_intake_api.md", "gcp"),
    "req14-azure": (EXAMPLES / "REQ-14_order_intake_api.md", "azure"),
    "acme-gcp": (FOREIGN / "acme-payments" / "docs" / "07_REQ" / "REQ-07_payment_gateway.md", "gcp"),
}
#: Every document, for every cloud (rendered and parsed; the linted cases above cover each shape).
ALL_DOCUMENTS = sorted({path for path, _cloud in DOCUMENTS.values()})

HOSTILE = "{{ lookup('pipe', 'touch %s') }} $(touch %s) `touch %s`"
#: The validators of the two kinds (validators/registry.py).
REGISTRY: Dict[str, Tuple[Tuple[str, str, Tuple[Any, ...]], ...]] = {
    "ansible-playbook": (("ansible", "AnsibleLint", ()), ("ansible", "PlaybookSyntax", ())),
    "ansible-data": (("ansible", "AnsibleLint", ()),),
}
_HAS_APPLICABILITY = "applicable" in {f.name for f in dataclasses.fields(Playbooks)}


# --------------------------------------------------------------------------- helpers


def _model(case: str) -> Model:
    path, cloud = DOCUMENTS[case]
    return load_model(req=str(path), cloud=cloud)


def _render(model: Model, cloud: Optional[str], output: Path) -> FileSet:
    files = pb.render(model, cloud, str(output))
    return files.finalize("generate playbooks", version(), document_names(model), model.req_id)


def _write(files: FileSet, root: Path) -> Dict[str, str]:
    kinds: Dict[str, str] = {}
    for file in files:
        target = root / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.content, encoding="utf-8")
        kinds[file.path] = file.kind
    return kinds


def _plays(files: FileSet, name: str) -> List[Dict[str, Any]]:
    file = files.get("ansible/" + name)
    assert file is not None, "%s not generated: %s" % (name, files.paths())
    return y.load(file.content)  # type: ignore[no-any-return]


def _yaml(files: FileSet, path: str) -> Any:
    file = files.get("ansible/" + path)
    assert file is not None, "%s not generated: %s" % (path, files.paths())
    return y.load(file.content)


def _ansible_env(tmp: Path) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": validators.collections_path(),
            "ANSIBLE_HOME": str(tmp / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "PATH": "%s:%s" % (BIN, env.get("PATH", "")),
        }
    )
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(name, None)
    return env


def _playbook(folder: Path, *argv: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    program = BIN / "ansible-playbook"
    if not program.exists():
        pytest.fail("ansible-playbook is not installed beside %s: pip install 'ansible>=14,<15'" % sys.executable)
    return subprocess.run(
        [str(program), *argv],
        cwd=str(folder),
        env=_ansible_env(tmp),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _words(variables: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """Role variables with the whitespace of expressions normalised (a folded block keeps the
    line breaks of its more-indented lines)."""
    if variables is None:
        return None
    return {k: " ".join(v.split()) if isinstance(v, str) else v for k, v in variables.items()}


def _edge_models() -> Dict[str, Tuple[Model, Optional[str]]]:
    """Models no fixture has: other IaC flavours, rows of every shape, nothing at all."""
    base = _model("req14")
    rows = (
        Playbook("site.yml", "Configure everything", "all", "", ("site",)),
        Playbook("rotate_certs.yml", "Rotate the TLS certificates", "lb", "", ("certs",)),
        Playbook("db_restore.yaml", "Restore drill", "localhost", "", ()),
        Playbook("requirements.yml", "Tidy up", "all", "", ("tidy",)),
        Playbook("site.yml", "Configure everything again", "all", "", ()),
        Playbook("none.yml", "N/A", "N/A", "N/A", ()),
    )
    cfn = dataclasses.replace(base, iac_provider="cloudformation", playbooks=Playbooks(items=rows))
    pulumi = dataclasses.replace(base, iac_provider="pulumi", playbooks=Playbooks())
    bare = Model(service=Service(name="bare-minimum", ports=(8080,)), cloud=Cloud(provider="gcp"))
    acme = _model("acme")
    infra = acme.infrastructure
    assert infra.database is not None
    aurora = dataclasses.replace(
        acme,
        infrastructure=dataclasses.replace(infra, database=dataclasses.replace(infra.database, service="aurora")),
        playbooks=Playbooks(),
    )
    return {
        "edge-cfn": (cfn, "aws"),
        "edge-pulumi-azure": (pulumi, "azure"),
        "edge-bare": (bare, None),
        "edge-aurora": (aurora, None),
    }


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def models() -> Dict[str, Tuple[Model, Optional[str]]]:
    out: Dict[str, Tuple[Model, Optional[str]]] = {case: (_model(case), DOCUMENTS[case][1]) for case in DOCUMENTS}
    out.update(_edge_models())
    return out


@pytest.fixture(scope="module")
def tree(models: Dict[str, Tuple[Model, Optional[str]]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("playbooks")


@pytest.fixture(scope="module")
def rendered(models: Dict[str, Tuple[Model, Optional[str]]], tree: Path) -> Dict[str, FileSet]:
    return {case: _render(model, cloud, tree / case) for case, (model, cloud) in models.items()}


@pytest.fixture(scope="module")
def validated(rendered: Dict[str, FileSet], tree: Path) -> Dict[str, List[Finding]]:
    """Every case and a broken copy of req14, validated in one validate_files run."""
    kinds: Dict[str, str] = {}
    for case, files in rendered.items():
        for path, kind in _write(files, tree / case).items():
            kinds["%s/%s" % (case, path)] = kind
    broken = tree / "broken"
    shutil.copytree(tree / "req14", broken)
    kept = ("ansible/configure_instances.yml", "ansible/deploy_app.yml")
    for path, file in rendered["req14"].files.items():
        if file.kind == "ansible-playbook" and path not in kept:
            (broken / path).unlink()
    playbook = broken / "ansible" / "configure_instances.yml"
    text = playbook.read_text()
    text = text.replace("ansible.builtin.package:", "package:").replace("- name: Packages", "- name: packages")
    playbook.write_text(text)
    deploy = broken / "ansible" / "deploy_app.yml"
    deploy.write_text(deploy.read_text().replace("ansible.builtin.include_role:", "sdd.devops_flow.no_such_module:", 1))
    for path, file in rendered["req14"].files.items():
        if file.kind != "ansible-playbook" or path in kept:
            kinds["broken/%s" % path] = file.kind
    findings = registry.validate_files(str(tree), kinds)
    by_case: Dict[str, List[Finding]] = {case: [] for case in list(rendered) + ["broken"]}
    for finding in findings:
        by_case.setdefault(finding.file.split("/", 1)[0], []).append(finding)
    return by_case


# --------------------------------------------------------------------------- the real tools


@pytest.mark.parametrize("case", list(DOCUMENTS) + list(_edge_models()))
def test_ansible_lint_and_syntax_check_pass(case: str, validated: Dict[str, List[Finding]]) -> None:
    found = [f.format() + " [%s]" % f.tool for f in validated[case]]
    assert not found, "\n".join(found)


def test_validators_report_file_and_line(validated: Dict[str, List[Finding]], tree: Path) -> None:
    found = validated["broken"]
    lint = [f for f in found if f.tool == "ansible-lint"]
    codes = {f.code for f in lint if f.file == "broken/ansible/configure_instances.yml"}
    assert {"fqcn[action-core]", "name[casing]"} <= codes, [f.format() for f in found]
    lines = (tree / "broken" / "ansible" / "configure_instances.yml").read_text().splitlines()
    for finding in lint:
        if finding.code == "fqcn[action-core]":
            assert lines[finding.line - 1].strip() == "package:"
    syntax = [f for f in found if f.tool == "ansible-playbook --syntax-check"]
    assert [(f.file, f.severity) for f in syntax] == [("broken/ansible/deploy_app.yml", "error")]
    assert "sdd.devops_flow.no_such_module" in syntax[0].message and syntax[0].line > 0
    # nothing is written next to the validated files
    assert not (tree / "broken" / "ansible" / ".ansible").exists()


def test_a_missing_tool_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEVOPS_FLOW_ANSIBLE_LINT", str(tmp_path / "missing"))
    monkeypatch.setenv("DEVOPS_FLOW_ANSIBLE_PLAYBOOK", str(tmp_path / "missing"))
    for validator in (validators.AnsibleLint(), validators.PlaybookSyntax()):
        found = validator.check(str(tmp_path), ["ansible/site.yml"])
        assert [(f.severity, f.code) for f in found] == [("error", "tool-missing")]


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_every_document_renders_for_every_cloud(cloud: str, tmp_path: Path) -> None:
    """No crash and well-formed content for any document forced to any cloud (the linted cases
    above run the tools on each shape of content)."""
    for path in ALL_DOCUMENTS:
        model = load_model(req=str(path), cloud=cloud)
        files = _render(model, cloud, tmp_path)
        playbooks = [f for f in files if f.kind == "ansible-playbook"]
        assert playbooks or files.notes, path
        for file in files:
            if file.kind in ("ansible-playbook", "ansible-data"):
                assert y.load(file.content) is not None, file.path
        for file in playbooks:
            for play in y.load(file.content):
                assert play["name"] and play["hosts"] and play["tasks"], (path, file.path)
        if playbooks:
            inventory = _yaml(files, pb.INVENTORY_PLUGINS[cloud][1])
            assert inventory["plugin"] == pb.INVENTORY_PLUGINS[cloud][0]


def test_collections_path_finds_this_collection() -> None:
    first = validators.collections_path().split(os.pathsep, maxsplit=1)[0]
    assert (Path(first) / "ansible_collections" / "sdd" / "devops_flow" / "galaxy.yml").is_file()


# --------------------------------------------------------------------------- playbooks and the 9.5.4 table


def test_req14_has_the_six_playbooks_of_its_table(rendered: Dict[str, FileSet], models: Dict[str, Any]) -> None:
    files = rendered["req14"]
    model = models["req14"][0]
    names = [p[len("ansible/") :] for p in files.paths() if files.files[p].kind == "ansible-playbook"]
    assert names == [item.name for item in model.playbooks.items]
    for item in model.playbooks.items:
        plays = _plays(files, item.name)
        assert all(play["name"].startswith(item.purpose) for play in plays), item.name
        assert plays[0]["name"] in (
            item.purpose,
            item.purpose + ": documents",
            item.purpose + ": load balancer",
            item.purpose + ": cloud alerting",
            item.purpose + ": hosts",
            item.purpose + ": cloud backups",
        )


@pytest.mark.parametrize("case", ["req14", "req102", "acme", "northwind", "req14-gcp", "edge-cfn"])
def test_tags_are_the_documents(case: str, rendered: Dict[str, FileSet], models: Dict[str, Any]) -> None:
    files = rendered[case]
    model = models[case][0]
    specs, _notes = pb.playbook_specs(model)
    assert specs and all(spec.index is not None for spec in specs)
    for spec in specs:
        row = model.playbooks.items[spec.index]
        for play in _plays(files, spec.file):
            assert play.get("tags", []) == list(row.tags), (spec.file, play["name"])


def test_all_six_when_the_table_is_absent(rendered: Dict[str, FileSet]) -> None:
    files = rendered["initech"]
    names = [p for p in files.paths() if files.files[p].kind == "ansible-playbook"]
    assert names == ["ansible/%s" % f for f, _k, _p, _t in pb.DEFAULT_PLAYBOOKS]
    for file, _kind, purpose, tags in pb.DEFAULT_PLAYBOOKS:
        for play in _plays(files, file):
            assert play["name"].startswith(purpose) and play["tags"] == list(tags)


def test_req102_reordered_columns_and_an_all_na_row(rendered: Dict[str, FileSet], models: Dict[str, Any]) -> None:
    files = rendered["req102"]
    model = models["req102"][0]
    assert [i.name for i in model.playbooks.items][:3] == [
        "deploy_app.yml",
        "configure_monitoring.yml",
        "backup_restore.yml",
    ]
    names = sorted(p for p in files.paths() if files.files[p].kind == "ansible-playbook")
    assert names == ["ansible/backup_restore.yml", "ansible/configure_monitoring.yml", "ansible/deploy_app.yml"]
    plays = _plays(files, "deploy_app.yml")
    assert [play["name"] for play in plays[:2]] == [
        "Create a revision and set traffic weights: documents",
        "Create a revision and set traffic weights: load balancer",
    ]
    assert any(
        "configure_instances.yml" in n and "N/A" in n and "REQ-102_ledger_events.md:223" in n for n in files.notes
    )


def test_northwind_takes_the_table_of_its_sys(rendered: Dict[str, FileSet]) -> None:
    files = rendered["northwind"]
    names = sorted(p for p in files.paths() if files.files[p].kind == "ansible-playbook")
    assert names == [
        "ansible/backup_restore.yml",
        "ansible/configure_monitoring.yml",
        "ansible/deploy_app.yml",
        "ansible/provision_infra.yml",
    ]
    header = "# from REQ-12 9.1.4 Ansible Playbook Requirements (SYS-02_catalog_platform.md:143)\n"
    assert header in files.files["ansible/deploy_app.yml"].content


def _not_applicable(model: Model) -> Model:
    @dataclasses.dataclass(frozen=True)
    class MarkedPlaybooks(Playbooks):  # type: ignore[misc]
        applicable: Optional[bool] = None

    sources = dict(model.sources)
    sources["playbooks.applicable"] = Source(
        "docs/06_SYS/SYS-05_search_platform.md", 163, "Ansible Playbook Requirements"
    )
    return dataclasses.replace(model, playbooks=MarkedPlaybooks(applicable=False), sources=FrozenMap(sources))


def test_not_applicable_gives_no_playbooks_and_a_note(models: Dict[str, Any]) -> None:
    files = pb.render(_not_applicable(models["req21"][0]))
    assert len(files) == 0
    assert files.notes == [
        "9.5.4 Ansible Playbook Requirements is marked Not Applicable (from REQ-21 Ansible Playbook Requirements "
        "(SYS-05_search_platform.md:163)): no playbooks are generated"
    ]


@pytest.mark.xfail(
    not _HAS_APPLICABILITY,
    reason="the model does not record that 9.5.4 is Not Applicable yet (Playbooks.applicable)",
    strict=True,
)
@pytest.mark.parametrize("case", ["req21", "contoso"])
def test_not_applicable_documents_get_no_playbooks(case: str, models: Dict[str, Any]) -> None:
    model = models[case][0]
    files = pb.render(model)
    assert len(files) == 0 and "Not Applicable" in files.notes[0]


def test_rows_of_every_shape(rendered: Dict[str, FileSet]) -> None:
    files = rendered["edge-cfn"]
    kinds = {p: f.kind for p, f in files.files.items()}
    names = [p for p, k in kinds.items() if k == "ansible-playbook"]
    # site.yml: host configuration; rotate_certs: security; db_restore: backup; the name of the
    # requirements file is taken by requirements.yml; the repeated site.yml and the N/A row are left out
    assert names == [
        "ansible/site.yml",
        "ansible/rotate_certs.yml",
        "ansible/db_restore.yaml",
        "ansible/playbook_requirements.yml",
    ]
    assert "sdd.devops_flow.security" in files.files["ansible/rotate_certs.yml"].content
    assert "amazon.aws.backup_plan" in files.files["ansible/db_restore.yaml"].content
    notes = " | ".join(files.notes)
    assert "site.yml" in notes and "repeats" in notes and "none.yml" in notes and "N/A" in notes
    assert "tidy" in notes or "host configuration" in notes


def test_kind_and_file_name_rules() -> None:
    assert pb.kind_of("backup_restore.yml", (), "") == "backup"
    assert pb.kind_of("configure_monitoring.yml", (), "") == "monitoring"
    assert pb.kind_of("configure_instances.yml", (), "") == "instances"
    assert pb.kind_of("deploy_app.yml", (), "") == "deploy"
    assert pb.kind_of("x.yml", ("security",), "") == "security"
    assert pb.kind_of("x.yml", (), "Apply the Terraform stack") == "provision"
    assert pb.kind_of("x.yml", (), "make coffee") is None
    assert pb.file_name("`deploy_app.yml`", "d.yml") == "deploy_app.yml"
    assert pb.file_name("../../etc/Passwd", "d.yml") == "passwd.yml"
    assert pb.file_name("a b{{c}}.YAML", "d.yml") == "a_b_c.yaml"
    assert pb.file_name("...", "d.yml") == "d.yml"
    assert pb.file_name("requirements.yml", "d.yml") == "playbook_requirements.yml"
    assert pb.file_name("ansible.cfg", "d.yml") == "ansible.cfg.yml"
    assert pb.not_applicable("N/A (no virtual machines)") and pb.not_applicable("none") and pb.not_applicable("-")
    assert not pb.not_applicable("Nagios checks") and not pb.not_applicable("Nonstop deploy")


def test_a_model_without_a_cloud_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--cloud"):
        pb.render(Model(service=Service(name="x", ports=(8080,))))


# --------------------------------------------------------------------------- deploy_app.yml


def test_deploy_app_has_the_plays_of_the_collections_deploy_playbook(rendered: Dict[str, FileSet]) -> None:
    reference = y.load((REPO / "playbooks" / "deploy.yml").read_text())
    for case in ("req14", "req102", "acme", "initech", "northwind", "req14-azure"):
        plays = _plays(rendered[case], "deploy_app.yml")
        assert len(plays) == len(reference)
        for play, ref in zip(plays, reference):
            for key in ("hosts", "gather_facts", "any_errors_fatal", "serial", "max_fail_percentage"):
                assert play.get(key) == ref.get(key), (case, key)
            assert [(t["name"], t["ansible.builtin.include_role"], t.get("vars")) for t in play["tasks"]] == [
                (t["name"], t["ansible.builtin.include_role"], t.get("vars")) for t in ref["tasks"]
            ]
            assert play["vars"] == {"deploy_req": DEPLOY_REQ, "deploy_spec": DEPLOY_REQ.replace(".req", ".spec")}


#: The groups of the generated inventory each role play runs on.
ROLE_HOSTS: Dict[str, List[str]] = {
    "monitoring": ["monitoring:app", "monitoring"],
    "security": ["lb:app:monitoring:backup"],
    "backup": ["backup"],
}


@pytest.mark.parametrize(
    "playbook, role, first",
    [
        ("configure_monitoring.yml", "monitoring", 1),
        ("configure_security.yml", "security", 0),
        ("backup_restore.yml", "backup", 1),
    ],
)
def test_role_plays_are_the_collections_playbooks(
    playbook: str, role: str, first: int, rendered: Dict[str, FileSet]
) -> None:
    """monitoring, security and backup run the collection's roles as its playbooks do, with the
    documents and the phase only, on the groups of the generated inventory."""
    reference = y.load((REPO / "playbooks" / ("%s.yml" % role)).read_text())
    phase = "%s_phase" % role
    for case in ("req14", "req14-gcp", "initech"):
        plays = _plays(rendered[case], playbook)[first : first + len(reference)]
        assert len(plays) == len(reference)
        assert [play["hosts"] for play in plays] == ROLE_HOSTS[role]
        for play, ref in zip(plays, reference):
            assert play["gather_facts"] == ref.get("gather_facts")
            assert [(t["name"], t["ansible.builtin.include_role"]) for t in play["tasks"]] == [
                (t["name"], t["ansible.builtin.include_role"]) for t in ref["tasks"]
            ]
            for task, ref_task in zip(play["tasks"], ref["tasks"]):
                ours = task.get("vars") or {}
                assert set(ours) <= {phase}
                assert ours.get(phase) == (ref_task.get("vars") or {}).get(phase)
            assert play["vars"] == {
                "%s_req" % role: DEPLOY_REQ,
                "%s_spec" % role: DEPLOY_REQ.replace(".req", ".spec"),
            }


def _role_variables(files: FileSet) -> Dict[str, Set[str]]:
    """role -> the variables of that role the generated files set (play and task vars, group_vars)."""
    found: Dict[str, Set[str]] = {}

    def add(names: Any) -> None:
        for name in names:
            role = str(name).split("_", 1)[0]
            if role in ("deploy", "monitoring", "security", "backup"):
                found.setdefault(role, set()).add(str(name))

    for file in files:
        if file.kind == "ansible-playbook":
            for play in y.load(file.content):
                add(play.get("vars") or {})
                for task in play.get("tasks") or []:
                    add(task.get("vars") or {})
        elif file.path.startswith("ansible/group_vars/"):
            add(y.load(file.content) or {})
    return found


@pytest.mark.parametrize("case", ["req14", "req102", "northwind", "initech", "edge-cfn"])
def test_role_variables_exist_in_the_roles(case: str, rendered: Dict[str, FileSet]) -> None:
    """Every role variable the generated content sets is one of the role's defaults (few, stable names)."""
    used = _role_variables(rendered[case])
    assert "deploy" in used
    for role, names in used.items():
        defaults = y.load((REPO / "roles" / role / "defaults" / "main.yml").read_text())
        assert names <= set(defaults), (role, sorted(names - set(defaults)))
    assert used.get("monitoring", set()) <= {"monitoring_req", "monitoring_spec", "monitoring_phase"}
    assert used.get("backup", set()) <= {"backup_req", "backup_spec"}
    assert used.get("security", set()) <= {"security_req", "security_spec", "security_environment"}


def test_the_kinds_are_registered() -> None:
    for kind, specs in REGISTRY.items():
        assert registry.VALIDATORS[kind] == specs
    assert [type(v).__name__ for v in registry.validators_for("ansible-playbook")] == ["AnsibleLint", "PlaybookSyntax"]
    assert "text" in registry.UNCHECKED


def test_deploy_app_points_at_the_documents_relative_to_the_generated_folder(
    rendered: Dict[str, FileSet], models: Dict[str, Any], tree: Path
) -> None:
    for case in ("req14", "req102", "acme"):
        documents = _yaml(rendered[case], "group_vars/all.yml")["sdd_documents"]
        model = models[case][0]
        req = next(d.path for d in model.traceability.documents if d.kind == "REQ" and d.path)
        spec = next(d.path for d in model.traceability.documents if d.kind == "SPEC" and d.path)
        assert not os.path.isabs(documents["req"]) and not os.path.isabs(documents["spec"])
        base = tree / case / "ansible"
        assert os.path.normpath(base / documents["req"]) == os.path.abspath(req)
        assert os.path.normpath(base / documents["spec"]) == os.path.abspath(spec)


# --------------------------------------------------------------------------- group_vars, inventory, cfg


@pytest.mark.parametrize("case", ["req14", "req102", "acme", "initech", "northwind", "req14-gcp", "edge-bare"])
def test_group_vars_are_the_environments_of_952(
    case: str, rendered: Dict[str, FileSet], models: Dict[str, Any]
) -> None:
    model = models[case][0]
    files = rendered[case]
    common_vars = _yaml(files, "group_vars/all.yml")
    envs = common.environments(model)
    assert len(common_vars["sdd_environments"]) == len(envs)
    sizes = common.compute_sizes(model)
    for env, group in zip(envs, common_vars["sdd_environments"]):
        data = _yaml(files, "group_vars/%s.yml" % group)
        steps = list(env.canary_steps or model.rollout.canary_steps or common.DEFAULT_CANARY_STEPS)
        assert data["sdd_environment"] == group
        assert data["deploy_environment"] == env.name
        assert data["sdd_strategy"] == data["deploy_strategy"] == (env.strategy or "rolling")
        assert data["sdd_replicas"] == env.replicas
        assert data["sdd_rollback_seconds"] == env.rollback_seconds
        assert data["sdd_regions"] == list(env.regions) and data["sdd_zones"] == list(env.zones)
        assert data["sdd_canary_steps"] == data["deploy_canary_steps"] == steps
        assert data["sdd_canary_hold_seconds"] == data["deploy_canary_hold_seconds"] == common.hold_seconds(model)
        assert data["sdd_sizes"]["vcpu"] == sizes.vcpu and data["sdd_sizes"]["memory_mib"] == sizes.memory_mib
        assert (data["sdd_sizes"]["min_instances"], data["sdd_sizes"]["max_instances"]) == (
            sizes.min_instances,
            sizes.max_instances,
        )
    if model.environments:
        first = files.files["ansible/group_vars/%s.yml" % common_vars["sdd_environments"][0]]
        assert "# from %s 9." % model.req_id in first.content


def test_req14_environment_values(rendered: Dict[str, FileSet]) -> None:
    prod = _yaml(rendered["req14"], "group_vars/prod.yml")
    staging = _yaml(rendered["req14"], "group_vars/staging.yml")
    assert (prod["sdd_strategy"], prod["sdd_replicas"], prod["sdd_rollback_seconds"]) == ("canary", 4, 300)
    assert (prod["sdd_canary_steps"], prod["sdd_canary_hold_seconds"]) == ([5, 25, 50, 100], 600)
    assert prod["sdd_zones"] == ["us-east-1a", "us-east-1b", "us-east-1c"] and prod["sdd_multi_az"] is True
    assert (staging["sdd_strategy"], staging["sdd_replicas"], staging["sdd_rollback_seconds"]) == ("blue-green", 2, 120)
    assert prod["sdd_sizes"]["database"] == {
        "engine": "postgresql",
        "version": "15.5",
        "storage_gb": 100,
        "instance_class": None,
        "ha": True,
    }
    assert prod["sdd_resource_name"] == "order-intake-api-prod" and prod["sdd_region"] == "us-east-1"


@pytest.mark.parametrize(
    "case, plugin, path",
    [
        ("req14", "amazon.aws.aws_ec2", "inventory/aws_ec2.yml"),
        ("northwind", "google.cloud.gcp_compute", "inventory/gcp_compute.yml"),
        ("req102", "azure.azcollection.azure_rm", "inventory/azure_rm.yml"),
        ("req14-gcp", "google.cloud.gcp_compute", "inventory/gcp_compute.yml"),
    ],
)
def test_dynamic_inventory_of_the_cloud(
    case: str, plugin: str, path: str, rendered: Dict[str, FileSet], models: Dict[str, Any]
) -> None:
    model = models[case][0]
    files = rendered[case]
    data = _yaml(files, path)
    assert data["plugin"] == plugin
    groups = _yaml(files, "group_vars/all.yml")["sdd_environments"]
    keys = [g["key"] for g in data["keyed_groups"]]
    assert data["leading_separator"] is False and all(
        g["prefix"] == "" and g["separator"] == "" for g in data["keyed_groups"]
    )
    if plugin == "amazon.aws.aws_ec2":
        assert data["filters"]["tag:sdd.devops-flow/req"] == model.req_id
        assert data["filters"]["tag:Environment"] == [e.name for e in common.environments(model)]
        assert keys == ["tags.Environment", "tags.Role"]
    elif plugin == "google.cloud.gcp_compute":
        assert "labels.sdd-devops-flow-req = %s" % common.label_value(model.req_id) in data["filters"]
        assert keys == ["labels.environment", "labels.role"]
    else:
        assert len(data["include_vm_resource_groups"]) == len(groups)
        assert all(g.startswith("rg-%s-" % model.service.name) for g in data["include_vm_resource_groups"])
        assert keys == ["tags.Environment", "tags.Role"]
    cfg = files.files["ansible/ansible.cfg"].content
    assert "inventory = %s\n" % path in cfg and "pipelining = True" in cfg and "retry_files_enabled = False" in cfg
    assert "callback" not in cfg


def test_example_inventory_has_the_groups(rendered: Dict[str, FileSet]) -> None:
    data = _yaml(rendered["req14"], "inventory/hosts.example.yml")
    prod = data["all"]["children"]["prod"]["children"]
    assert list(prod) == ["lb", "app", "monitoring", "backup"]
    assert len(prod["app"]["hosts"]) == 4  # the production replicas of 9.5.2
    assert all(h["ansible_host"].startswith("192.0.2.") for g in prod.values() for h in g["hosts"].values())


@pytest.mark.parametrize("case", ["req14", "req102", "northwind", "acme-gcp"])
def test_requirements_name_every_collection_used(case: str, rendered: Dict[str, FileSet]) -> None:
    files = rendered[case]
    entries = _yaml(files, "requirements.yml")["collections"]
    names = [e["name"] for e in entries]
    assert names[0] == "sdd.devops_flow" and entries[0]["version"].startswith(">=")
    text = "\n".join(f.content for f in files if f.kind in ("ansible-playbook", "ansible-data"))
    for name in names[1:]:
        assert name + "." in text
    used = set()
    for match in re.finditer(r"(?m)^\s*-?\s*(?:group/)?([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+:", text):
        if match.group(1) not in ("ansible.builtin", "sdd.devops_flow"):
            used.add(match.group(1))
    assert used and used <= set(names)
    assert all("<" in e["version"] and ">=" in e["version"] for e in entries)


def test_fields_kinds_and_source_comments(rendered: Dict[str, FileSet]) -> None:
    files = rendered["req14"]
    for index, name in enumerate(
        [
            "provision_infra.yml",
            "configure_instances.yml",
            "deploy_app.yml",
            "configure_monitoring.yml",
            "configure_security.yml",
            "backup_restore.yml",
        ]
    ):
        file = files.files["ansible/" + name]
        assert file.kind == "ansible-playbook" and "playbooks.items[%d]" % index in file.fields
        assert "# from REQ-14 9.5.4 Ansible Playbook Requirements (REQ-14_order_intake_api.md:%d)" % (358 + index) in (
            file.content
        )
    assert files.files["ansible/ansible.cfg"].kind == "text"
    for path in ("group_vars/all.yml", "group_vars/prod.yml", "inventory/aws_ec2.yml", "requirements.yml"):
        assert files.files["ansible/" + path].kind == "ansible-data" and files.files["ansible/" + path].fields


def test_deterministic(models: Dict[str, Any], tmp_path: Path) -> None:
    for case in ("req14", "northwind", "edge-cfn"):
        model, cloud = models[case]
        first = _render(model, cloud, tmp_path)
        second = _render(model, cloud, tmp_path)
        assert [(f.path, f.content) for f in first] == [(f.path, f.content) for f in second]


def test_renders_without_touching_the_disk(models: Dict[str, Any], tmp_path: Path) -> None:
    before = sorted(os.listdir(tmp_path))
    pb.render(models["req14"][0], None, str(tmp_path / "out"))
    assert sorted(os.listdir(tmp_path)) == before


# --------------------------------------------------------------------------- check mode and hostile text


@pytest.mark.parametrize("case", ["req14", "req14-gcp", "req14-azure", "initech", "edge-cfn", "edge-pulumi-azure"])
def test_check_mode_passes_on_an_empty_machine(
    case: str, rendered: Dict[str, FileSet], tree: Path, tmp_path: Path, validated: Dict[str, List[Finding]]
) -> None:
    """Every playbook in --check with no cloud credentials and no hosts but localhost: nothing fails."""
    folder = tree / case / "ansible"
    names = sorted(p[len("ansible/") :] for p, f in rendered[case].files.items() if f.kind == "ansible-playbook")
    proc = _playbook(folder, "--check", "-i", "localhost,", *names, tmp=tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "failed=0" in proc.stdout and "fatal:" not in proc.stdout


def _hostile_documents(tmp: Path, marker: Path) -> Path:
    """REQ-14's documents with Jinja and shell in the 9.5.4 purpose and variables cells."""
    docs = tmp / "docs"
    shutil.copytree(REPO / "examples" / "docs", docs)
    req = docs / "07_REQ" / "REQ-14_order_intake_api.md"
    text = req.read_text()
    row = "| `provision_infra.yml` | Apply the Terraform stack for one environment | localhost (AWS API) | "
    assert row in text
    evil = HOSTILE % (marker, marker, marker)
    text = text.replace(row, "| `provision_infra.yml` | %s | localhost (AWS API) | %s " % (evil, evil))
    text = text.replace(
        "| Configure the bastion host used for database access |", "| {%% raw %%}{{ %s {# x #} |" % evil
    )
    req.write_text(text)
    return req


def test_hostile_document_text_is_inert(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    req = _hostile_documents(tmp_path, marker)
    model = load_model(req=str(req))
    assert model.playbooks.items[0].purpose.startswith("{{ lookup('pipe'")
    # and in the fields the parser would refuse: tags, environment names and labels, backup text
    evil = HOSTILE % (marker, marker, marker)
    items = list(model.playbooks.items)
    items[2] = dataclasses.replace(items[2], tags=(evil, "$(touch %s)" % marker, "deploy"))
    envs = list(model.environments)
    envs[0] = dataclasses.replace(envs[0], name="{{ lookup('pipe', 'touch %s') }}" % marker, label=evil)
    model = dataclasses.replace(
        model,
        playbooks=dataclasses.replace(model.playbooks, items=tuple(items)),
        environments=tuple(envs),
        backup=dataclasses.replace(model.backup, frequency=evil),
    )
    out = tmp_path / "out"
    files = _render(model, None, out)
    _write(files, out)
    folder = out / "ansible"
    play = _plays(files, "provision_infra.yml")[0]
    assert isinstance(play["name"], y.Unsafe) and "lookup('pipe'" in play["name"]
    assert "{{" not in play["name"]  # ansible-lint reads a name with {{ }} inside as a template
    deploy = _plays(files, "deploy_app.yml")[0]
    assert deploy["tags"] == [evil, "$(touch %s)" % marker, "deploy"] and isinstance(deploy["tags"][0], y.Unsafe)
    groups = _yaml(files, "group_vars/all.yml")["sdd_environments"]
    first = _yaml(files, "group_vars/%s.yml" % groups[0])
    assert isinstance(first["deploy_environment"], y.Unsafe) and isinstance(first["sdd_environment_label"], y.Unsafe)
    assert isinstance(_yaml(files, "group_vars/all.yml")["sdd_backup"]["frequency"], y.Unsafe)
    names = sorted(p[len("ansible/") :] for p, f in files.files.items() if f.kind == "ansible-playbook")
    syntax = _playbook(folder, "--syntax-check", "-i", "localhost,", *names, tmp=tmp_path)
    assert syntax.returncode == 0, syntax.stdout + syntax.stderr
    for env_group in (groups[0], groups[-1]):
        check = _playbook(
            folder, "--check", "-i", "localhost,", "-e", "sdd_environment=%s" % env_group, *names, tmp=tmp_path
        )
        assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]
        assert "lookup('pipe'" in check.stdout  # the play name is shown as written, not run
    # the tags are listed as written, without running them
    listed = _playbook(folder, "--list-tags", "-i", "localhost,", "deploy_app.yml", tmp=tmp_path)
    assert listed.returncode == 0 and "touch %s" % marker in listed.stdout, listed.stdout + listed.stderr
    assert not marker.exists()
    assert not list(tmp_path.glob("pwned*"))


def test_display_names_and_data_are_inert() -> None:
    assert y.display_name("{{ x }} then", "f") == "{ { x } } then"
    assert y.display_name("{%- if %}{#c#}", "f") == "{ %- if % }{ #c# }"
    assert y.display_name("lower case", "f") == "Lower case"
    assert y.display_name("  \n ", "Fallback") == "Fallback"
    assert isinstance(y.text("a {b"), y.Unsafe) and not isinstance(y.text("plain"), y.Unsafe)
    dumped = y.dump_mapping([("k", y.data({"a": ["{{ x }}", 1, None]}), ["note\nwith newline"])])
    assert '# note with newline\nk:\n  a:\n    - !unsafe "{{ x }}"\n    - 1\n    - null\n' in dumped
    assert y.load(dumped) == {"k": {"a": ["{{ x }}", 1, None]}}
    long = "word " * 80
    assert all(len(line) <= 160 for line in y.dump_mapping([("k", long, [])]).splitlines())


def test_environment_groups_are_safe_names(tmp_path: Path) -> None:
    model = Model(
        service=Service(name="svc", ports=(8080,)),
        cloud=Cloud(provider="aws"),
        environments=(
            Environment("Pre Prod", "Pre Prod", "rolling"),
            Environment("app", "App"),
            Environment("pre-prod", "pre-prod"),
            Environment("1st", "First"),
        ),
        infrastructure=Infrastructure(),
        backup=Backup(),
    )
    files = pb.render(model, None, str(tmp_path))
    groups = _yaml(files, "group_vars/all.yml")["sdd_environments"]
    assert groups == ["pre_prod", "env_app", "pre_prod_2", "env_1st"]
    assert all(files.get("ansible/group_vars/%s.yml" % g) for g in groups)
