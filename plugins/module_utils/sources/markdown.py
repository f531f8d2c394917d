# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Markdown reader for requirement documents.

It knows what the documents use and nothing more: YAML front matter, ATX
headings (and whole-line bold "pseudo headings" such as
``**9.1.1 Infrastructure Requirements**``), pipe tables, bullet and numbered
lists, ``**Label**: value`` lines and block quotes, each with its 1-based line
number.  Fenced code blocks are skipped, so a ``#`` inside one is no heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..errors import Finding
from ..textio import load_yaml

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_PSEUDO = re.compile(r"^\*\*([^*]+?)\*\*\s*$")
_NUMBER = re.compile(r"^(?:§\s*)?(\d+(?:\.\d+)*)\.?\s+(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_DELIM_CELL = re.compile(r"^\s*:?-{2,}:?\s*$")
_LIST = re.compile(r"^(\s*)(?:[-*+]|(\d+)[.)])\s+(.*)$")
_LABEL = re.compile(r"^\s*(?:[-*+]\s+)?\*\*([^*]+?)\*\*\s*:?\s*(?::\s*)?(.*)$")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)(?:\s+\"[^\"]*\")?\)")
_ANCHOR = re.compile(r"\s*\{#[^}]*\}\s*$")
#: A character every rewrite of ``strip_markup`` needs (links, tags, emphasis, code).
_MARKUP = re.compile(r"[\[<*_`]")


def strip_markup(text: str) -> str:
    """Cell or line text without Markdown emphasis, code ticks, links and HTML breaks."""
    if not _MARKUP.search(text):
        return " ".join(text.split())
    return _rewrite_markup(text)


def _rewrite_markup(text: str) -> str:
    text = _LINK.sub(lambda m: m.group(1), text)
    text = re.sub(r"<br\s*/?>", ", ", text, flags=re.IGNORECASE)
    text = re.sub(r"</?[a-zA-Z][^>]*>", "", text)
    text = text.replace("**", "").replace("__", "").replace("`", "")
    text = re.sub(r"(?<![\w*])\*(?!\s)([^*]+?)\*(?![\w*])", r"\1", text)
    return " ".join(text.split())


def links_in(text: str) -> List[Tuple[str, str]]:
    """``[label](target)`` pairs in a text."""
    return [(m.group(1), m.group(2)) for m in _LINK.finditer(text)]


@dataclass(frozen=True)
class Heading:
    level: int
    number: str
    title: str
    line: int
    index: int
    pseudo: bool = False

    @property
    def text(self) -> str:
        return ("%s %s" % (self.number, self.title)).strip()


@dataclass(frozen=True)
class Cell:
    text: str
    raw: str
    line: int


@dataclass(frozen=True)
class Table:
    header: Tuple[str, ...]
    rows: Tuple[Tuple[Cell, ...], ...]
    line: int

    def column(self, *keywords: str, exclude: Tuple[str, ...] = ()) -> Optional[int]:
        """Index of the first column whose header holds one of ``keywords``."""
        for keyword in keywords:
            for i, name in enumerate(self.header):
                low = name.lower()
                if keyword in low and not any(x in low for x in exclude):
                    return i
        return None


@dataclass(frozen=True)
class ListItem:
    text: str
    raw: str
    line: int
    ordered: bool
    indent: int


@dataclass
class MarkdownDoc:
    path: str
    lines: List[str]
    front_matter: Dict[str, Any] = field(default_factory=dict)
    front_matter_line: int = 0
    body_start: int = 0
    headings: List[Heading] = field(default_factory=list)
    code: List[bool] = field(default_factory=list)
    warnings: List[Finding] = field(default_factory=list)

    # ------------------------------------------------------------------ structure

    def section_end(self, heading: Heading) -> int:
        """Index (exclusive) where the section under ``heading`` ends."""
        for other in self.headings:
            if other.index <= heading.index:
                continue
            if other.pseudo and not heading.pseudo:
                continue
            if other.level <= heading.level:
                return other.index
        return len(self.lines)

    def find_heading(
        self,
        number: Optional[str] = None,
        words: Tuple[str, ...] = (),
        start: int = 0,
        end: Optional[int] = None,
        min_level: int = 1,
    ) -> Optional[Heading]:
        """The first heading with that number, or else whose title holds all ``words``."""
        stop = len(self.lines) if end is None else end
        candidates = [h for h in self.headings if start <= h.index < stop and h.level >= min_level]
        if number:
            for h in candidates:
                if h.number == number:
                    return h
        if words:
            for h in candidates:
                title = h.title.lower()
                if all(w in title for w in words):
                    return h
        return None

    def headings_between(self, start: int, end: int) -> List[Heading]:
        return [h for h in self.headings if start < h.index < end]

    # ------------------------------------------------------------------ content

    def tables(self, start: int, end: int) -> List[Table]:
        """Pipe tables between two line indexes."""
        found: List[Table] = []
        i = start
        while i < end:
            if self.code[i] or not self.lines[i].lstrip().startswith("|"):
                i += 1
                continue
            block: List[int] = []
            while i < end and not self.code[i] and self.lines[i].lstrip().startswith("|"):
                block.append(i)
                i += 1
            table = self._table(block)
            if table is not None:
                found.append(table)
        return found

    def _table(self, block: List[int]) -> Optional[Table]:
        rows = [(_split_row(self.lines[j]), j) for j in block]
        if not rows:
            return None
        header_cells, header_index = rows[0]
        body = rows[1:]
        if body and all(_DELIM_CELL.match(c) or not c.strip() for c in body[0][0]):
            body = body[1:]
        header = tuple(strip_markup(c).strip() for c in header_cells)
        out: List[Tuple[Cell, ...]] = []
        for cells, j in body:
            if all(_DELIM_CELL.match(c) for c in cells if c.strip()) and any(c.strip() for c in cells):
                continue
            padded = list(cells) + [""] * (len(header) - len(cells))
            out.append(tuple(Cell(strip_markup(c), c.strip(), j + 1) for c in padded))
        return Table(header, tuple(out), header_index + 1)

    def list_items(self, start: int, end: int) -> List[ListItem]:
        items: List[ListItem] = []
        for i in range(start, end):
            if self.code[i]:
                continue
            m = _LIST.match(self.lines[i])
            if not m or self.lines[i].lstrip().startswith("|"):
                continue
            items.append(
                ListItem(
                    strip_markup(m.group(3)), m.group(3), i + 1, m.group(2) is not None, len(m.group(1).expandtabs(4))
                )
            )
        return items

    def label(self, name: str, start: int, end: int) -> Optional[Tuple[str, int]]:
        """The value of a ``**Name**: value`` line (case-insensitive prefix match)."""
        want = name.lower()
        for i in range(start, end):
            if self.code[i]:
                continue
            line = self.lines[i].lstrip("> ").strip()
            m = _LABEL.match(line)
            if m and m.group(1).strip().rstrip(":").lower().startswith(want):
                value = m.group(2).strip()
                if value.startswith(":"):
                    value = value[1:].strip()
                return strip_markup(value), i + 1
        return None

    def text_lines(self, start: int, end: int) -> List[Tuple[str, int]]:
        """Non-code lines with their 1-based numbers."""
        return [(self.lines[i], i + 1) for i in range(start, end) if not self.code[i]]

    def applicability(self, start: int, end: int) -> Optional[Tuple[bool, int]]:
        """``> **Applicability**: Not Applicable`` -> (False, line)."""
        found = self.label("applicability", start, end)
        if not found:
            return None
        value, line = found
        low = value.lower()
        applicable = not ("not applicable" in low or low.startswith("n/a") or low.startswith("no"))
        return applicable, line


def _split_row(line: str) -> List[str]:
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    if "`" not in text and "\\" not in text:
        # no code span and no escaped pipe: every pipe separates cells
        return [cell.strip() for cell in text.split("|")]
    return _split_cells(text)


def _split_cells(text: str) -> List[str]:
    """The cells of a row without its outer pipes: a pipe in a code span or escaped
    with a backslash is text."""
    cells: List[str] = []
    current: List[str] = []
    in_code = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] == "|":
            current.append("|")
            i += 2
            continue
        if ch == "`":
            in_code = not in_code
        if ch == "|" and not in_code:
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        i += 1
    cells.append("".join(current).strip())
    return cells


def parse_markdown(text: str, path: str) -> MarkdownDoc:
    """Split a Markdown document into front matter, headings and line classes."""
    lines = text.split("\n")
    doc = MarkdownDoc(path=path, lines=lines)
    start = 0
    # front matter: '---' on the first non-empty line
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    if first < len(lines) and lines[first].strip() == "---":
        for j in range(first + 1, min(len(lines), first + 400)):
            if lines[j].strip() in ("---", "..."):
                block = "\n".join(lines[first + 1 : j])
                doc.front_matter_line = first + 1
                start = j + 1
                try:
                    loaded = load_yaml("\n" * (first + 1) + block, path)
                    if isinstance(loaded.data, dict):
                        doc.front_matter = loaded.data
                        doc.warnings.extend(loaded.warnings)
                    elif loaded.data is not None:
                        doc.warnings.append(
                            Finding(
                                "front matter is not a mapping; expected 'key: value' lines (it was ignored)",
                                path,
                                first + 1,
                            )
                        )
                except Exception as exc:
                    message = getattr(exc, "errors", None)
                    detail = message[0].message if message else str(exc)
                    line = message[0].line if message else first + 1
                    doc.warnings.append(Finding("front matter ignored: %s" % detail, path, line or first + 1))
                break
    doc.body_start = start
    in_fence = False
    fence = ""
    code = [False] * len(lines)
    for i, line in enumerate(lines):
        if i < start:
            code[i] = True
            continue
        m = _FENCE.match(line)
        if m:
            if not in_fence:
                in_fence, fence = True, m.group(1)
                code[i] = True
                continue
            if line.strip().startswith(fence):
                in_fence = False
                code[i] = True
                continue
        if in_fence:
            code[i] = True
            continue
        if line.startswith("<!--"):
            # HTML comments (AI context blocks) are not content
            j = i
            while j < len(lines) and "-->" not in lines[j]:
                j += 1
            for k in range(i, min(j + 1, len(lines))):
                code[k] = True
    doc.code = code
    for i, line in enumerate(lines):
        if code[i]:
            continue
        m = _HEADING.match(line)
        if m:
            title = _ANCHOR.sub("", strip_markup(m.group(2)))
            number, rest = _split_number(title)
            doc.headings.append(Heading(len(m.group(1)), number, rest, i + 1, i))
            continue
        m = _PSEUDO.match(line.strip())
        if m and not m.group(1).rstrip().endswith(":"):
            title = strip_markup(m.group(1))
            number, rest = _split_number(title)
            doc.headings.append(Heading(7, number, rest, i + 1, i, pseudo=True))
    return doc


def _split_number(title: str) -> Tuple[str, str]:
    m = _NUMBER.match(title)
    if m:
        return m.group(1), m.group(2).strip()
    return "", title.strip()
