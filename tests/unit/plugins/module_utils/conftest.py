"""Fixtures for the parser tests: documents written to a temporary docs root."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

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
