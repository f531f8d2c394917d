# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX / Automation Controller job templates and surveys, derived from the collection's own docs.

``extensions/awx/job_templates.yml`` lists the job templates and the variables each one asks
for; every question's type, choices, default, required flag and text come from where the
variable is documented: a role's ``meta/argument_specs.yml`` or a module's DOCUMENTATION
(with its documentation fragments). ``check_survey`` applies the rules AWX applies when a
survey spec is saved, so a spec this module writes is one AWX accepts.
"""

from __future__ import annotations

import ast
import json
import os
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .errors import UsageError
from .fileset import FileSet, GeneratedFile

try:
    import yaml

    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None  # type: ignore[assignment]
    HAS_YAML = False

NAMESPACE = "sdd"
COLLECTION = "devops_flow"
#: Question types AWX knows.
SURVEY_TYPES = ("text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect")
#: Argument spec / option types a survey can ask for (lists as comma-separated text).
_SCALAR_TYPES = {"str": "text", "path": "text", "raw": "text", "int": "integer", "float": "float"}
#: Collections the collection's roles and generated playbooks call, for the project's requirements.
PROJECT_COLLECTIONS = (
    "ansible.posix",
    "community.general",
    "amazon.aws",
    "community.aws",
    "google.cloud",
    "azure.azcollection",
)


def collection_root() -> str:
    """The root of this collection (the folder holding galaxy.yml or MANIFEST.json)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _load_yaml(path: str) -> Any:
    if yaml is None:
        raise UsageError("PyYAML is required to read %s (pip install PyYAML)" % path)
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as exc:
        raise UsageError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = "%s:%d" % (path, mark.line + 1) if mark is not None else path
        raise UsageError("%s: not valid YAML: %s" % (where, getattr(exc, "problem", None) or exc)) from None


def _python_constant(path: str, name: str, klass: Optional[str] = None) -> str:
    """A string constant of a Python file, read without importing it."""
    try:
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), filename=path)
    except OSError as exc:
        raise UsageError("cannot read %s: %s" % (path, exc.strerror or exc)) from None
    body: Sequence[ast.stmt] = tree.body
    if klass is not None:
        classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == klass]
        if not classes:
            raise UsageError("%s: no class %s" % (path, klass))
        body = classes[0].body
    for node in body:
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Constant):
            continue
        named = any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        if named and isinstance(node.value.value, str):
            return node.value.value
    raise UsageError("%s: no %s string" % (path, name))


def module_options(root: str, module: str) -> Dict[str, Dict[str, Any]]:
    """The options of a module of this collection, with its documentation fragments merged."""
    path = os.path.join(root, "plugins", "modules", module + ".py")
    if not os.path.isfile(path):
        raise UsageError("no module %s.%s.%s (%s)" % (NAMESPACE, COLLECTION, module, path))
    doc = yaml.safe_load(_python_constant(path, "DOCUMENTATION")) if yaml is not None else None
    if not isinstance(doc, dict):
        raise UsageError("%s: DOCUMENTATION is not a mapping" % path)
    options: Dict[str, Dict[str, Any]] = {}
    for fragment in doc.get("extends_documentation_fragment") or []:
        prefix = "%s.%s." % (NAMESPACE, COLLECTION)
        if not fragment.startswith(prefix):
            continue
        name = fragment[len(prefix) :]
        attr = "DOCUMENTATION"
        if "." in name:
            name, attr = name.split(".", 1)
            attr = attr.upper()
        fragment_path = os.path.join(root, "plugins", "doc_fragments", name + ".py")
        data = yaml.safe_load(_python_constant(fragment_path, attr, "ModuleDocFragment"))
        options.update((data or {}).get("options") or {})
    options.update(doc.get("options") or {})
    return options


def role_options(root: str, role: str, entry_point: str = "main") -> Dict[str, Dict[str, Any]]:
    """The options of a role's entry point, from its meta/argument_specs.yml."""
    path = os.path.join(root, "roles", role, "meta", "argument_specs.yml")
    if not os.path.isfile(path):
        raise UsageError("role %s has no argument specs (%s)" % (role, path))
    data = _load_yaml(path) or {}
    entry = (data.get("argument_specs") or {}).get(entry_point)
    if not isinstance(entry, dict):
        raise UsageError("%s: no entry point %r" % (path, entry_point))
    return dict(entry.get("options") or {})


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    text = str(value or "")
    # Ansible documentation markup: C(x), V(x), O(x), M(x), I(x), B(x), U(x) -> x.
    text = re.sub(r"\b[CVOMIBURE]\(([^()]*)\)", r"\1", text)
    text = re.sub(r"\bL\(([^,()]*),[^()]*\)", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


_LABELS = {
    "req": "REQ document",
    "spec": "SPEC document",
    "docs root": "Documents folder",
    "pg": "PostgreSQL",
    "iac": "IaC tool",
    "id": "ID",
}


def _label(variable: str, prefix: str) -> str:
    name = variable[len(prefix) :] if prefix and variable.startswith(prefix) else variable
    words = name.replace("_", " ").strip()
    label = _LABELS.get(words) or " ".join(_LABELS.get(w, w) for w in words.split())
    return label[:1].upper() + label[1:]


def _answer(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def question(variable: str, option: Mapping[str, Any], prefix: str = "") -> Dict[str, Any]:
    """One survey question for a documented variable (role option or module option)."""
    kind = option.get("type", "str")
    choices = option.get("choices")
    default = option.get("default")
    description = _text(option.get("description"))
    entry: Dict[str, Any] = {
        "question_name": _label(variable, prefix),
        "question_description": description,
        "variable": variable,
        "required": bool(option.get("required", False)),
    }
    if kind == "bool":
        entry["type"] = "multiplechoice"
        entry["choices"] = ["true", "false"]
        entry["default"] = _answer(default) if isinstance(default, bool) else ""
    elif kind == "list":
        if option.get("elements", "str") not in ("str", "path", "int", "raw"):
            raise UsageError("%s: a list of %s cannot be a survey question" % (variable, option.get("elements")))
        if choices:
            entry["type"] = "multiselect"
            entry["choices"] = [_answer(c) for c in choices]
            entry["default"] = "\n".join(_answer(c) for c in default or [])
        else:
            entry["type"] = "text"
            entry["question_description"] = (description + " Several values: separate them with commas.").strip()
            entry["default"] = ",".join(_answer(c) for c in default or [])
    elif kind in _SCALAR_TYPES:
        if choices:
            entry["type"] = "multiplechoice"
            entry["choices"] = [_answer(c) for c in choices]
        elif option.get("no_log"):
            entry["type"] = "password"
        else:
            entry["type"] = _SCALAR_TYPES[kind]
        if default is None:
            entry["default"] = ""
        elif entry["type"] in ("integer", "float"):
            entry["default"] = default
        else:
            entry["default"] = _answer(default)
    else:
        raise UsageError("%s: an option of type %s cannot be a survey question" % (variable, kind))
    if option.get("no_log") and entry["type"] == "text":
        entry["type"] = "password"
    if entry["type"] == "multiplechoice" and entry["default"] not in ["", None, *entry["choices"]]:
        entry["default"] = ""
    if entry.get("choices") is not None:
        # AWX stores choices as one string, one choice per line (a list is accepted by newer versions).
        entry["choices"] = "\n".join(entry["choices"])
    return entry


def check_survey(spec: Mapping[str, Any]) -> List[str]:
    """The problems AWX would report when this survey spec is saved (empty: accepted)."""
    problems: List[str] = []
    for key in ("name", "description"):
        if not isinstance(spec.get(key), str):
            problems.append("%r is missing or not a string" % key)
    items = spec.get("spec")
    if not isinstance(items, list) or not items:
        return problems + ["'spec' must be a non-empty list of questions"]
    seen: Dict[str, int] = {}
    for index, item in enumerate(items):
        where = "question %d" % (index + 1)
        if not isinstance(item, dict):
            problems.append("%s is not a mapping" % where)
            continue
        for key in ("type", "question_name", "variable", "required"):
            if key not in item:
                problems.append("%s: %r missing" % (where, key))
        if item.get("type") not in SURVEY_TYPES:
            problems.append("%s: type %r is not one of %s" % (where, item.get("type"), ", ".join(SURVEY_TYPES)))
        variable = item.get("variable")
        if not isinstance(variable, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", variable):
            problems.append("%s: variable %r is not a valid variable name" % (where, variable))
        elif variable in seen:
            problems.append("%s: variable %s repeats question %d" % (where, variable, seen[variable]))
        else:
            seen[variable] = index + 1
        if not isinstance(item.get("required"), bool):
            problems.append("%s: 'required' must be true or false" % where)
        default = item.get("default", "")
        if item.get("type") in ("multiplechoice", "multiselect"):
            choices = item.get("choices")
            lines = choices.split("\n") if isinstance(choices, str) else choices
            if not lines or not all(isinstance(c, str) and c for c in lines):
                problems.append("%s: %s needs its choices" % (where, item.get("type")))
                continue
            wanted = [d for d in (default.split("\n") if isinstance(default, str) else [default]) if d != ""]
            if item["type"] == "multiplechoice" and len(wanted) > 1:
                problems.append("%s: multiplechoice has one default" % where)
            for value in wanted:
                if value not in lines:
                    problems.append("%s: default %r is not one of the choices" % (where, value))
        elif item.get("type") == "integer" and default != "" and not isinstance(default, int):
            problems.append("%s: default %r is not an integer" % (where, default))
        elif item.get("type") == "float" and default != "" and not isinstance(default, (int, float)):
            problems.append("%s: default %r is not a number" % (where, default))
        elif item.get("type") in ("text", "textarea", "password") and not isinstance(default, str):
            problems.append("%s: default %r is not text" % (where, default))
    return problems


def _template_options(root: str, template: Mapping[str, Any]) -> Tuple[Dict[str, Dict[str, Any]], str]:
    """variable -> documented option, and the prefix of the variable names."""
    source = template.get("source") or {}
    if "role" in source:
        return role_options(root, source["role"]), source["role"] + "_"
    if "module" in source:
        prefix = source.get("prefix", "")
        options = module_options(root, source["module"])
        mapping = dict(template.get("variables") or {})
        documented = {prefix + name: spec for name, spec in options.items()}
        for variable, name in mapping.items():
            if name not in options:
                raise UsageError(
                    "job template %r: %s maps to %s, which module %s does not document"
                    % (template.get("name"), variable, name, source["module"])
                )
            documented[variable] = options[name]
        return documented, prefix
    raise UsageError("job template %r: source must name a role or a module" % template.get("name"))


def slug(name: str) -> str:
    """The file name part of a job template name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("%s.%s" % (NAMESPACE, COLLECTION), "")).strip("-")


def survey_spec(root: str, template: Mapping[str, Any]) -> Dict[str, Any]:
    """The survey spec of one job template, checked with AWX's rules."""
    options, prefix = _template_options(root, template)
    questions = []
    for variable in template.get("survey") or []:
        if variable not in options:
            raise UsageError(
                "job template %r asks for %s, which %s does not document"
                % (template.get("name"), variable, _describe(template.get("source") or {}))
            )
        try:
            questions.append(question(variable, options[variable], prefix))
        except UsageError as exc:
            raise UsageError("job template %r: %s" % (template.get("name"), exc)) from None
    spec = {"name": template["name"], "description": template.get("description", ""), "spec": questions}
    problems = check_survey(spec)
    if problems:
        raise UsageError("job template %r: %s" % (template.get("name"), "; ".join(problems)))
    return spec


def _describe(source: Mapping[str, Any]) -> str:
    if "role" in source:
        return "roles/%s/meta/argument_specs.yml" % source["role"]
    return "module %s.%s.%s" % (NAMESPACE, COLLECTION, source.get("module"))


def load_templates(root: str, path: Optional[str] = None) -> List[Dict[str, Any]]:
    """The job templates of ``extensions/awx/job_templates.yml`` (or ``path``)."""
    path = path or os.path.join(root, "extensions", "awx", "job_templates.yml")
    data = _load_yaml(path)
    templates = (data or {}).get("job_templates") if isinstance(data, dict) else None
    if not isinstance(templates, list) or not templates:
        raise UsageError("%s: expected a list under job_templates" % path)
    names = set()
    for template in templates:
        if not isinstance(template, dict) or not template.get("name") or not template.get("playbook"):
            raise UsageError("%s: every job template needs a name and a playbook" % path)
        if template["name"] in names:
            raise UsageError("%s: job template %r appears twice" % (path, template["name"]))
        names.add(template["name"])
        playbook = os.path.join(root, "playbooks", template["playbook"] + ".yml")
        if not os.path.isfile(playbook):
            raise UsageError(
                "%s: job template %r runs %s.%s.%s, which does not exist (%s)"
                % (path, template["name"], NAMESPACE, COLLECTION, template["playbook"], playbook)
            )
    return templates


def _dump_yaml(data: Any) -> str:
    return str(yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100, allow_unicode=True))


def sources(templates: Sequence[Mapping[str, Any]]) -> Tuple[str, ...]:
    """The files the surveys are derived from, for the generated files' headers."""
    found = ["extensions/awx/job_templates.yml"]
    for template in templates:
        source = template.get("source") or {}
        path = (
            "roles/%s/meta/argument_specs.yml" % source["role"]
            if "role" in source
            else "plugins/modules/%s.py" % source.get("module")
        )
        if path not in found:
            found.append(path)
    return tuple(found)


def awx_files(root: str, templates: Sequence[Mapping[str, Any]], version: str) -> FileSet:
    """Survey specs, job template definitions and a project folder for AWX."""
    files = FileSet()
    definitions = []
    for template in templates:
        name = slug(template["name"])
        spec = survey_spec(root, template)
        files.add(
            GeneratedFile("surveys/%s.json" % name, json.dumps(spec, indent=2) + "\n", "json-data", comment="none")
        )
        playbook = "playbooks/%s.yml" % name
        files.add(
            GeneratedFile(
                "project/" + playbook,
                "---\n"
                + _dump_yaml(
                    [
                        {
                            "name": template.get("description") or template["name"],
                            "ansible.builtin.import_playbook": "%s.%s.%s"
                            % (NAMESPACE, COLLECTION, template["playbook"]),
                        }
                    ]
                ),
                "yaml-data",
            )
        )
        definition: Dict[str, Any] = {
            "name": template["name"],
            "description": template.get("description", ""),
            "job_type": "run",
            "playbook": playbook,
            "ask_inventory_on_launch": True,
            "ask_variables_on_launch": True,
            "become_enabled": bool(template.get("become", False)),
            "survey_enabled": True,
            "survey_spec": "surveys/%s.json" % name,
        }
        if template.get("extra_vars"):
            definition["extra_vars"] = dict(template["extra_vars"])
        definitions.append(definition)
    files.add(GeneratedFile("job_templates.yml", "---\n" + _dump_yaml({"job_templates": definitions}), "yaml-data"))
    requirements = [{"name": "%s.%s" % (NAMESPACE, COLLECTION), "version": ">=%s" % version}]
    requirements.extend({"name": name} for name in PROJECT_COLLECTIONS)
    files.add(
        GeneratedFile(
            "project/collections/requirements.yml", "---\n" + _dump_yaml({"collections": requirements}), "yaml-data"
        )
    )
    return files
