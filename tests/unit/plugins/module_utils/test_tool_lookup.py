"""Where validators find their tools (validators/base.py, Tool.find).

Order: ``$DEVOPS_FLOW_<NAME>``, the folder of the running Python, then PATH.  A wrapper on
PATH that does not run the tool (a pyenv shim for a tool another Python version installed
prints "pyenv: <tool>: command not found") must not win over the venv's own copy.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ansible_collections.sdd.devops_flow.plugins.module_utils.validators import base


def _program(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_the_venv_copy_wins_over_a_shim_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    venv_bin = tmp_path / "venv" / "bin"
    own = _program(venv_bin, "sdd-fake-linter")
    shim = _program(tmp_path / "shims", "sdd-fake-linter")
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python"))
    monkeypatch.setenv("PATH", "%s%s%s" % (shim.parent, os.pathsep, os.environ.get("PATH", "")))
    monkeypatch.delenv("DEVOPS_FLOW_SDD_FAKE_LINTER", raising=False)
    tool = base.Tool("sdd-fake-linter", "sdd-fake-linter", "pip install sdd-fake-linter")
    assert tool.find() == str(own)


def test_path_is_used_when_the_venv_has_no_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = _program(tmp_path / "bin", "sdd-fake-linter")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    monkeypatch.setenv("PATH", str(on_path.parent))
    monkeypatch.delenv("DEVOPS_FLOW_SDD_FAKE_LINTER", raising=False)
    assert base.Tool("sdd-fake-linter", "sdd-fake-linter", "").find() == str(on_path)


def test_the_environment_variable_wins_and_a_wrong_one_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = _program(tmp_path / "elsewhere", "linter-2")
    _program(tmp_path / "venv" / "bin", "sdd-fake-linter")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    tool = base.Tool("sdd-fake-linter", "sdd-fake-linter", "pip install sdd-fake-linter")
    monkeypatch.setenv(tool.env_var, str(chosen))
    assert tool.find() == str(chosen)
    monkeypatch.setenv(tool.env_var, str(tmp_path / "nothing-here"))
    assert tool.find() is None
    finding = tool.missing("fake", ["a.yml"])
    assert finding.file == "a.yml" and "DEVOPS_FLOW_SDD_FAKE_LINTER" in finding.message
    assert "pip install sdd-fake-linter" in finding.message


def test_nothing_anywhere_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("DEVOPS_FLOW_SDD_FAKE_LINTER", raising=False)
    assert base.Tool("sdd-fake-linter", "sdd-fake-linter", "").find() is None
