"""Safe reading: binary files, bad UTF-8, size limits and YAML alias bombs."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from ansible_collections.sdd.devops_flow.plugins.module_utils import textio
from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import DocumentError


def _error(exc: pytest.ExceptionInfo) -> tuple:
    finding = exc.value.findings()[0]
    return finding.file, finding.line, finding.message


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "REQ-01.md"
    path.write_bytes(b"# REQ-01: ok\n\nline two\nbad \xff byte\n")
    with pytest.raises(DocumentError) as exc:
        textio.read_text(str(path))
    file, line, message = _error(exc)
    assert file.endswith("REQ-01.md") and line == 4
    assert "not valid UTF-8" in message and "expected a UTF-8 text" in message


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "image.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(DocumentError) as exc:
        textio.read_text(str(path), "SPEC document")
    assert "binary data" in _error(exc)[2]


def test_bom_and_crlf_are_accepted(tmp_path):
    path = tmp_path / "doc.md"
    path.write_bytes(b"\xef\xbb\xbf# Title\r\nline\r\n")
    assert textio.read_text(str(path)) == "# Title\nline\n"


def test_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(textio, "MAX_DOCUMENT_BYTES", 100)
    path = tmp_path / "big.md"
    path.write_text("x" * 200)
    with pytest.raises(DocumentError) as exc:
        textio.read_text(str(path))
    assert "bytes" in _error(exc)[2]


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DocumentError, match="cannot read"):
        textio.read_text(str(tmp_path / "nope.md"))
    with pytest.raises(DocumentError, match="is a folder"):
        textio.read_text(str(tmp_path))


def _laughs(levels: int, width: int = 9) -> str:
    lines = ['a0: &a0 ["lol"%s]' % (', "lol"' * (width - 1))]
    for i in range(1, levels):
        refs = ", ".join(["*a%d" % (i - 1)] * width)
        lines.append("a%d: &a%d [%s]" % (i, i, refs))
    return "\n".join(lines) + "\n"


def test_billion_laughs_fails_fast_in_bounded_memory():
    tracemalloc.start()
    start = time.monotonic()
    with pytest.raises(DocumentError) as exc:
        textio.load_yaml(_laughs(10), "bomb.yaml")
    elapsed = time.monotonic() - start
    _unused, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "alias" in _error(exc)[2]
    assert elapsed < 5
    assert peak < 50 * 1024 * 1024


def test_many_aliases_are_refused():
    text = "base: &b 1\nitems:\n" + "".join("  - *b\n" for _unused in range(textio.MAX_YAML_ALIASES + 5))
    with pytest.raises(DocumentError, match="aliases"):
        textio.load_yaml(text, "many.yaml")


def test_recursive_alias_is_refused():
    with pytest.raises(DocumentError, match="refers to itself"):
        textio.load_yaml("a: &a [*a]\n", "loop.yaml")


def test_small_anchor_use_is_fine():
    doc = textio.load_yaml("base: &b {cpu: 1}\nlimits: *b\nmerged:\n  <<: *b\n  mem: 2\n", "ok.yaml")
    assert doc.data["limits"] == {"cpu": 1}
    assert doc.data["merged"] == {"cpu": 1, "mem": 2}


@pytest.mark.parametrize(
    "text", ["x: !!python/object/apply:os.system ['true']\n", "x: !!python/name:os.system\n", "x: !custom 1\n"]
)
def test_unsafe_tags_are_refused(text):
    with pytest.raises(DocumentError) as exc:
        textio.load_yaml(text, "evil.yaml")
    assert _error(exc)[1] == 1


def test_lines_and_dates_and_duplicates():
    doc = textio.load_yaml("a:\n  b: 1\n  c: 2024-01-02\nd: x\nd: y\n", "f.yaml")
    assert doc.line(("a", "b")) == 2
    assert doc.line(("a", "missing")) == 1
    assert doc.data["a"]["c"] == "2024-01-02"
    assert doc.data["d"] == "y"
    assert doc.warnings and "duplicate key 'd'" in doc.warnings[0].message
    assert doc.warnings[0].line == 5


def test_syntax_error_names_the_line():
    with pytest.raises(DocumentError) as exc:
        textio.load_yaml("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml")
    file, line, message = _error(exc)
    assert file == "bad.yaml" and line >= 2 and "not valid YAML" in message


def test_deep_nesting_is_refused():
    with pytest.raises(DocumentError, match="nested"):
        textio.load_yaml("[" * 3000, "deep.yaml")


def test_multiple_documents_are_refused():
    with pytest.raises(DocumentError, match="not valid YAML"):
        textio.load_yaml("a: 1\n---\nb: 2\n", "two.yaml")
