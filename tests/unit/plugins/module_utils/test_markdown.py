"""The Markdown reader: headings, tables, lists, labels, front matter."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sdd.devops_flow.plugins.module_utils.sources import markdown
from ansible_collections.sdd.devops_flow.plugins.module_utils.sources.markdown import (
    parse_markdown,
    strip_markup,
)

DOC = """---
title: "REQ-01: Example"
custom_fields:
  iac_provider: terraform
---

# REQ-01: [API] Example

## 9.5 Deployment Requirements

```bash
# not a heading
| not | a table |
```

### 9.5.1 Infrastructure Requirements

| Resource Type | Provider | Configuration |
|:--|--|--:|
| **Compute** | `ECS` | Type: ECS Fargate \\| spot, `a|b` |

**9.1.2 Environment Configuration**

- Liveness: `/health/live`
  1. nested item

**Automation Level**: Fully automated
"""


def test_front_matter_and_headings():
    doc = parse_markdown(DOC, "REQ-01.md")
    assert doc.front_matter["custom_fields"]["iac_provider"] == "terraform"
    titles = [(h.level, h.number, h.title, h.line) for h in doc.headings]
    assert (1, "", "REQ-01: [API] Example", 7) in titles
    assert (2, "9.5", "Deployment Requirements", 9) in titles
    assert (3, "9.5.1", "Infrastructure Requirements", 16) in titles
    assert any(h.pseudo and h.number == "9.1.2" for h in doc.headings)
    assert not any("not a heading" in h.title for h in doc.headings)


def test_tables_skip_code_and_keep_escaped_pipes():
    doc = parse_markdown(DOC, "REQ-01.md")
    tables = doc.tables(0, len(doc.lines))
    assert len(tables) == 1
    table = tables[0]
    assert table.header == ("Resource Type", "Provider", "Configuration")
    row = table.rows[0]
    assert row[0].text == "Compute" and row[0].line == 20
    assert row[1].text == "ECS"
    assert row[2].text == "Type: ECS Fargate | spot, a|b"
    assert table.column("config") == 2


def test_list_items_and_labels():
    doc = parse_markdown(DOC, "REQ-01.md")
    items = doc.list_items(0, len(doc.lines))
    assert items[0].text == "Liveness: /health/live" and items[0].line == 24
    assert items[1].ordered and items[1].indent == 2
    assert doc.label("automation level", 0, len(doc.lines)) == ("Fully automated", 27)


def test_bad_front_matter_is_a_warning_not_a_failure():
    doc = parse_markdown("---\ntitle: [unclosed\n---\n# REQ-02: x\n", "REQ-02.md")
    assert doc.front_matter == {}
    assert doc.warnings and doc.warnings[0].file == "REQ-02.md"
    assert any(h.title.startswith("REQ-02") for h in doc.headings)


def test_strip_markup():
    assert strip_markup("[@adr: ADR-02](../x.md#ADR-02)") == "@adr: ADR-02"
    assert strip_markup("**bold** and `code`<br>next") == "bold and code, next"


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="ab |`\\*_[]()<>/r\t\n", max_size=40))
def test_the_shortcuts_give_what_the_full_rules_give(text: str) -> None:
    """strip_markup and _split_row skip their rules for text that has nothing they
    rewrite: the same result as the rules themselves."""
    assert markdown.strip_markup(text) == markdown._rewrite_markup(text)
    row = "|" + text.replace("\n", " ") + "|"
    inner = row.strip()[1:]
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    assert markdown._split_row(row) == markdown._split_cells(inner)
