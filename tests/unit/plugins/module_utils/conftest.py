"""Fixtures for the parser tests: documents written to a temporary docs root."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List

import pytest

REPO = Path(__file__).resolve().parents[4]
EXAMPLES = REPO / "examples" / "docs"
FOREIGN = REPO / "tests" / "fixtures" / "foreign"


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """write("07_REQ/REQ-01_x.md", text) -> path under a temporary docs root."""

    def _write(relative: str, text: str) -> Path:
        path = tmp_path / "docs" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


def _validate_cases(base: Path, cases: Dict[str, Iterable[Any]]) -> Dict[str, List[Any]]:
    """Write each case's files (``.path``, ``.content``, ``.kind``) under ``base/<case>`` and run
    every validator over all cases in one ``validate_files`` call (one checkov run, one
    ansible-lint pass, ... instead of one per case).  Returns case -> findings, with the file of
    each finding relative to its case folder, as a run on that folder alone reports it."""
    from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.registry import validate_files

    kinds: Dict[str, str] = {}
    for case, files in cases.items():
        for file in files:
            path = base / case / file.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(file.content, encoding="utf-8")
            kinds["%s/%s" % (case, file.path)] = file.kind
    by_case: Dict[str, List[Any]] = {case: [] for case in cases}
    for finding in validate_files(str(base), kinds):
        case, _sep, rest = finding.file.partition("/")
        by_case.setdefault(case, []).append(dataclasses.replace(finding, file=rest))
    return by_case


@pytest.fixture(scope="session")
def validate_cases() -> Callable[[Path, Dict[str, Iterable[Any]]], Dict[str, List[Any]]]:
    """validate_cases(base, {case: files}) -> {case: findings}; see _validate_cases."""
    return _validate_cases
