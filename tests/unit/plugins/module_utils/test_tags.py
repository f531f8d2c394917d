"""Traceability tags in all the forms the documents use."""

from __future__ import annotations

from ansible_collections.sdd.devops_flow.plugins.module_utils.sources.tags import (
    doc_ids,
    doc_number,
    element_ids,
    expand_range,
    find_tags,
)

TEXT = """@brd: BRD.01.01.05
@brd: BRD-01:BRD.01.01.30 and @brd: BRD-06, @brd:BRD-07
Provider: [@adr: ADR-02](../05_ADR/ADR-02_x.md#ADR-02)
@ears: EARS.11.01.01-04
@threshold: PRD.03.perf.api.p95_latency.
@deployment: scripts/ @ansible: ansible/ @iac: terraform/
@depends: REQ-09, REQ-10
"""


def test_every_tag_form():
    tags = [(t.kind, t.value, t.line) for t in find_tags(TEXT, "REQ.md")]
    assert ("brd", "BRD.01.01.05", 1) in tags
    assert ("brd", "BRD-01:BRD.01.01.30", 2) in tags
    assert ("brd", "BRD-06", 2) in tags
    assert ("brd", "BRD-07", 2) in tags
    assert ("adr", "ADR-02", 3) in tags
    assert ("ears", "EARS.11.01.01-04", 4) in tags
    assert ("threshold", "PRD.03.perf.api.p95_latency", 5) in tags
    assert ("deployment", "scripts/", 6) in tags
    assert ("ansible", "ansible/", 6) in tags
    assert ("iac", "terraform/", 6) in tags
    assert ("depends", "REQ-09", 7) in tags and ("depends", "REQ-10", 7) in tags


def test_element_ids_and_ranges():
    assert expand_range("EARS.11.01.01-04") == ["EARS.11.01.01", "EARS.11.01.02", "EARS.11.01.03", "EARS.11.01.04"]
    ids = element_ids(TEXT + "\n| REQ.14.06.01 | x |\n")
    assert "BRD.01.01.05" in ids and "EARS.11.01.03" in ids and "REQ.14.06.01" in ids


def test_doc_ids_and_numbers():
    assert doc_ids(TEXT, "ADR") == ["ADR-02"]
    assert doc_number("SYS.05.01.04") == ("SYS", "05")
    assert doc_number("SYS-114") == ("SYS", "114")
    assert doc_number("nothing") == ("", "")
