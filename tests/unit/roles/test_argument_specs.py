"""Every role documents exactly the variables it defaults: meta/argument_specs.yml options
equal the keys of defaults/main.yml, each with a type and a description (AWX surveys are
generated from them)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROLES = Path(__file__).resolve().parents[3] / "roles"
TYPES = {"str", "int", "float", "bool", "list", "dict", "path", "raw"}


def _roles():
    return sorted(p.name for p in ROLES.iterdir() if (p / "defaults" / "main.yml").is_file())


def test_there_are_roles():
    assert "deploy" in _roles()


@pytest.mark.parametrize("role", _roles())
def test_argument_specs_match_defaults(role):
    defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text()) or {}
    specs = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    options = {}
    for entry in specs.values():
        options.update(entry.get("options") or {})
    assert set(options) == set(defaults), "only in defaults: %s; only in argument_specs: %s" % (
        sorted(set(defaults) - set(options)),
        sorted(set(options) - set(defaults)),
    )
    for name, option in options.items():
        assert option.get("type") in TYPES, name
        assert option.get("description"), name
        literal = isinstance(defaults[name], (str, int, float, bool)) and not (
            isinstance(defaults[name], str) and "{{" in defaults[name]
        )
        if "default" in option and literal:
            assert option["default"] == defaults[name], name


@pytest.mark.parametrize("role", _roles())
def test_role_has_a_readme_and_metadata(role):
    readme = ROLES / role / "README.md"
    assert readme.is_file() and len(readme.read_text()) > 200
    meta = yaml.safe_load((ROLES / role / "meta" / "main.yml").read_text())
    assert meta["galaxy_info"]["description"]
