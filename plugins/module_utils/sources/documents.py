# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""REQ, SYS and ADR documents (Markdown), and finding documents under a docs root."""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..errors import DocumentError
from ..model import FeatureFlag, Parameter, Tag
from ..textio import display_path, read_text
from ..units import is_unset, parse_bool, parse_duration_seconds, parse_latency_ms, parse_ratio
from . import vocab
from .context import ParseContext
from .deployment import DeploymentData, DeploymentParser, thresholds_from_text
from .markdown import MarkdownDoc, links_in, parse_markdown, strip_markup
from .tags import doc_ids, element_ids, find_tags

FOLDERS = {"ADR": "05_ADR", "SYS": "06_SYS", "REQ": "07_REQ", "SPEC": "09_SPEC"}
_MAX_REDIRECTS = 3


# --------------------------------------------------------------------------- files


def is_redirect(text: str) -> bool:
    """A flat file that only points to the nested document."""
    body = [ln for ln in text.split("\n") if ln.strip() and not ln.strip().startswith("#")]
    joined = "\n".join(body)
    return bool(re.search(r"@redirect|@index\s*:", joined)) and len(body) <= 40


def redirect_target(path: str, text: str) -> Optional[str]:
    """Where a redirect file points: a link, an ``@index:`` path, or the nested folder."""
    base = os.path.dirname(path)
    candidates: List[str] = []
    for m in re.finditer(r"@(?:index|redirect)\s*:?\s*`?([^\s`)]+\.(?:md|ya?ml))", text):
        candidates.append(m.group(1))
    for _unused, target in links_in(text):
        candidates.append(target.split("#", 1)[0])
    stem = os.path.splitext(os.path.basename(path))[0]
    candidates.append(os.path.join(stem, os.path.basename(path)))
    for cand in candidates:
        if not cand:
            continue
        full = os.path.normpath(os.path.join(base, cand))
        if os.path.isfile(full) and os.path.abspath(full) != os.path.abspath(path):
            return full
    return None


def read_document(path: str, what: str) -> Tuple[str, str]:
    """Read a Markdown document, following ``@redirect`` files.  -> (path, text)."""
    seen = set()
    current = path
    for _unused in range(_MAX_REDIRECTS + 1):
        text = read_text(current, what)
        if not is_redirect(text):
            return current, text
        seen.add(os.path.abspath(current))
        target = redirect_target(current, text)
        if target is None or os.path.abspath(target) in seen:
            raise DocumentError.at(
                display_path(current),
                1,
                "is a redirect (@redirect / @index) whose target was not "
                "found; expected a link or path to the nested document",
            )
        current = target
    raise DocumentError.at(display_path(path), 1, "redirects more than %d times" % _MAX_REDIRECTS)


def docs_root_of(path: str) -> Optional[str]:
    """The docs root above a document: the parent of its ``NN_TYPE`` folder."""
    folder = os.path.dirname(os.path.abspath(path))
    for _unused in range(4):
        if re.match(r"^\d{2}_[A-Z]+$", os.path.basename(folder)):
            return os.path.dirname(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return None


def find_document(docs_root: str, kind: str, number: str) -> Optional[str]:
    """``find_document(root, "SYS", "05")`` -> the SYS-05 file, flat or nested."""
    if not docs_root or not os.path.isdir(docs_root):
        return None
    folders = [os.path.join(docs_root, FOLDERS.get(kind, ""))]
    folders += sorted(glob.glob(os.path.join(glob.escape(docs_root), "*_%s" % kind)))
    ext = "yaml" if kind == "SPEC" else "md"
    numbers = {number, number.lstrip("0").zfill(2)}
    for folder in folders:
        if not os.path.isdir(folder):
            continue
        for num in sorted(numbers):
            patterns = [
                "%s-%s_*.%s" % (kind, num, ext),
                "%s-%s.%s" % (kind, num, ext),
                "%s-%s_*/%s-%s*.%s" % (kind, num, kind, num, ext),
            ]
            if ext == "yaml":
                patterns += ["%s-%s_*.yml" % (kind, num), "%s-%s*/%s-%s*.yaml" % (kind, num, kind, num)]
            for pattern in patterns:
                hits = sorted(glob.glob(os.path.join(glob.escape(folder), pattern)))
                hits = [h for h in hits if os.path.isfile(h)]
                if hits:
                    return hits[0]
    return None


# --------------------------------------------------------------------------- shared parts


def doc_title(doc: MarkdownDoc, kind: str) -> Tuple[str, str, int]:
    """(id, title, line) from the H1 ``# REQ-14: [TYPE] Title``, the front matter or
    the file name."""
    for h in doc.headings:
        if h.level == 1 and not h.pseudo:
            m = re.match(r"^(%s-\d{2,9})\s*[:\u2014\u2013-]?\s*(.*)$" % kind, h.text)
            if m:
                return m.group(1), m.group(2).strip(), h.line
    fm_title = str(doc.front_matter.get("title", "")) if doc.front_matter else ""
    m = re.match(r"^(%s-\d{2,9})\s*:?\s*(.*)$" % kind, fm_title)
    if m:
        return m.group(1), m.group(2).strip(), doc.front_matter_line
    m = re.match(r"^(%s-\d{2,9})" % kind, os.path.basename(doc.path))
    first_h1 = next((h for h in doc.headings if h.level == 1), None)
    title = first_h1.text if first_h1 else ""
    return (m.group(1) if m else ""), title, first_h1.line if first_h1 else 1


def control_table(doc: MarkdownDoc) -> Dict[str, Tuple[str, int]]:
    """The Document Control table as field -> (value, line)."""
    heading = doc.find_heading(words=("document control",))
    if heading is None:
        return {}
    tables = doc.tables(heading.index + 1, doc.section_end(heading))
    fields: Dict[str, Tuple[str, int]] = {}
    for table in tables[:1]:
        rows = [table.header] + [tuple(c.text for c in r) for r in table.rows]
        lines = [table.line] + [r[0].line for r in table.rows]
        for cells, line in zip(rows, lines):
            if len(cells) >= 2:
                key = strip_markup(cells[0]).strip().lower()
                fields[key] = (strip_markup(cells[1]).strip(), line)
    return fields


def backup_facts(lines: List[Tuple[str, int]]) -> Dict[str, Tuple[Any, int]]:
    """RPO, RTO, frequency, retention and cross-region copies from prose lines."""
    facts: Dict[str, Tuple[Any, int]] = {}
    for raw, line in lines:
        text = strip_markup(raw.replace("|", " : "))
        low = text.lower()
        for key, word in (("rpo_seconds", "rpo"), ("rto_seconds", "rto")):
            if key in facts:
                continue
            long = "recovery point" if word == "rpo" else "recovery time"
            m = re.search(
                r"(?:\b%s\b|%s(?: objective)?)\s*(?:\(%s\))?[^0-9a-z]{0,12}"
                r"(?:of|within|under|less than|at most|max(?:imum)?)?\s*[^0-9a-z]{0,4}"
                r"(\d+(?:\.\d+)?\s*[a-z]+|instant\w*|zero|near[- ]zero)" % (word, long, word),
                low,
            )
            if m:
                amount = m.group(1)
                if amount.startswith("near"):
                    amount = "0"
                try:
                    value = parse_duration_seconds(amount, default_unit="m")
                except ValueError:
                    value = None
                if value is not None:
                    facts[key] = (value, line)
        if "frequency" not in facts and re.search(r"backup|snapshot|dump|frequency|schedule", low):
            m = re.search(
                r"\b(continuous|hourly|daily|nightly|weekly|monthly|every\s+\d+\s*"
                r"(?:minutes?|mins?|hours?|h|days?))\b",
                low,
            )
            if m:
                facts["frequency"] = (m.group(1), line)
        if "retention_days" not in facts and re.search(r"retention|retain|kept|keep|stored for", low):
            m = re.search(r"(\d+)\s*(days?|weeks?|months?|years?)", low)
            if m:
                n = int(m.group(1))
                unit = m.group(2)[0:2]
                factor = {"da": 1, "we": 7, "mo": 30, "ye": 365}[unit]
                facts["retention_days"] = (n * factor, line)
        if "cross_region" not in facts and re.search(
            r"cross[- ]region|geo[- ]redundant|multi[- ]region|second(ary)? region|"
            r"another region|other region|\bdr region\b|replicat\w* to",
            low,
        ):
            facts["cross_region"] = (True, line)
        if "strategy" not in facts:
            m = re.search(
                r"(point[- ]in[- ]time|pitr|snapshot\w*|full backup|incremental|"
                r"pg_dump|logical dump)",
                low,
            )
            if m and re.search(r"backup|snapshot|recovery", low):
                facts["strategy"] = (m.group(1), line)
    return facts


def quality_facts(doc: MarkdownDoc) -> Tuple[Dict[str, Tuple[float, int]], Dict[str, Tuple[Any, int]], str]:
    """Section 6 (Quality Attributes / Non-functional): targets and RPO/RTO."""
    heading = (
        doc.find_heading(words=("quality",))
        or doc.find_heading(words=("non-functional",))
        or doc.find_heading(words=("nonfunctional",))
    )
    if heading is None:
        return {}, {}, ""
    start, end = heading.index + 1, doc.section_end(heading)
    lines: List[Tuple[str, int]] = []
    for table in doc.tables(start, end):
        for row in table.rows:
            lines.append((" : ".join(c.text for c in row), row[0].line))
    for item in doc.list_items(start, end):
        lines.append((item.text, item.line))
    for text, line in doc.text_lines(start, end):
        if not text.lstrip().startswith(("|", "-", "*")):
            lines.append((text, line))
    targets: Dict[str, Tuple[float, int]] = {}
    for text, line in lines:
        low = strip_markup(text).lower()
        for pct in ("95", "99"):
            key = "p%s_latency_ms" % pct
            if key in targets:
                continue
            m = re.search(
                r"p%s\b[^0-9@]{0,40}?(\d+(?:\.\d+)?\s*(?:ms|s|seconds?|"
                r"milliseconds?)\b)" % pct,
                low,
            )
            if m:
                value = parse_latency_ms(m.group(1))
                if value is not None:
                    targets[key] = (value, line)
        if "error_rate_ratio" not in targets:
            m = re.search(r"error[ _-]?rate[^0-9@]{0,30}?(\d+(?:\.\d+)?\s*%)", low)
            if m:
                ratio = parse_ratio(m.group(1))
                if ratio is not None:
                    targets["error_rate_ratio"] = (ratio, line)
        if "availability_percent" not in targets:
            m = re.search(r"(?:availability|uptime)[^0-9@]{0,30}?(\d{2,3}(?:\.\d+)?)\s*%", low)
            if m:
                targets["availability_percent"] = (float(m.group(1)), line)
    return targets, backup_facts(lines), heading.text


def _param_rows(doc: MarkdownDoc, words: Tuple[str, ...]) -> Tuple[List[Any], str]:
    heading = doc.find_heading(words=words)
    if heading is None:
        return [], ""
    tables = doc.tables(heading.index + 1, doc.section_end(heading))
    return (tables[:1], heading.text) if tables else ([], heading.text)


# --------------------------------------------------------------------------- REQ


@dataclass
class ReqData:
    path: str
    doc: MarkdownDoc
    id: str = ""
    title: str = ""
    title_line: int = 1
    resource_type: str = ""
    control: Dict[str, Tuple[str, int]] = field(default_factory=dict)
    iac_provider: Optional[Tuple[str, int]] = None
    parameters: List[Tuple[Parameter, int]] = field(default_factory=list)
    parameters_section: str = ""
    flags: List[Tuple[FeatureFlag, int]] = field(default_factory=list)
    flags_section: str = ""
    cloud_parameter: Optional[Tuple[str, int]] = None
    targets: Dict[str, Tuple[float, int]] = field(default_factory=dict)
    backup: Dict[str, Tuple[Any, int]] = field(default_factory=dict)
    quality_section: str = ""
    deployment: Optional[DeploymentData] = None
    tags: List[Tag] = field(default_factory=list)
    element_ids: List[str] = field(default_factory=list)
    mentioned: Dict[str, List[str]] = field(default_factory=dict)


def _front_matter_iac(doc: MarkdownDoc, ctx: ParseContext) -> Optional[Tuple[str, int]]:
    fields = doc.front_matter.get("custom_fields") if doc.front_matter else None
    value = fields.get("iac_provider") if isinstance(fields, dict) else None
    if value is None and doc.front_matter:
        value = doc.front_matter.get("iac_provider")
    if value is None:
        return None
    line = doc.front_matter_line
    for i, text in enumerate(doc.lines[: doc.body_start]):
        if "iac_provider" in text:
            line = i + 1
    name = str(value).strip().lower()
    from ..model import IAC_PROVIDERS

    if name not in IAC_PROVIDERS:
        ctx.warn(
            "iac_provider %r is not one of %s (ignored)" % (value, ", ".join(IAC_PROVIDERS)),
            doc.path,
            line,
            "front matter",
        )
        return None
    return name, line


def parse_req(path: str, ctx: ParseContext) -> ReqData:
    """Read a REQ document (following a redirect) into ``ReqData``."""
    real, text = read_document(path, "REQ document")
    shown = display_path(real)
    doc = parse_markdown(text, shown)
    ctx.warnings.extend(doc.warnings)
    data = ReqData(shown, doc)
    data.id, title, data.title_line = doc_title(doc, "REQ")
    m = re.match(r"^\[([^\]]+)\]\s*(.*)$", title)
    if m:
        data.resource_type, title = m.group(1), m.group(2)
    data.title = title
    if not data.id and not doc.headings:
        raise DocumentError.at(
            shown, 1, "has no headings; expected a REQ document with a '# REQ-NN: Title' heading and numbered sections"
        )
    data.control = control_table(doc)
    data.iac_provider = _front_matter_iac(doc, ctx)
    # 7.1 parameters
    tables, data.parameters_section = _param_rows(doc, ("parameter",))
    for table in tables:
        name_i = table.column("parameter", "name", "key", "setting")
        if name_i is None:
            continue
        type_i = table.column("type")
        default_i = table.column("default", "value")
        desc_i = table.column("description", "purpose")
        for row in table.rows:
            name = row[name_i].text.strip()
            if is_unset(name):
                continue
            default = row[default_i].text.strip() if default_i is not None else ""
            param = Parameter(
                name,
                row[type_i].text if type_i is not None else "",
                None if is_unset(default) else default,
                row[desc_i].text if desc_i is not None else "",
            )
            data.parameters.append((param, row[name_i].line))
            if re.sub(r"[^a-z]", "", name.lower()) in ("cloudprovider", "cloud"):
                data.cloud_parameter = (default, row[name_i].line)
    # 7.2 feature flags
    tables, data.flags_section = _param_rows(doc, ("feature", "flag"))
    for table in tables:
        name_i = table.column("flag", "name", "feature")
        if name_i is None:
            continue
        default_i = table.column("default", "initial", "state", "value")
        desc_i = table.column("description", "purpose", "when")
        for row in table.rows:
            name = row[name_i].text.strip()
            if is_unset(name):
                continue
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]{0,100}", name):
                ctx.warn(
                    "feature flag name %r is not a plain identifier; expected letters, "
                    "digits, '_', '.' or '-' (ignored)" % name,
                    shown,
                    row[name_i].line,
                    data.flags_section,
                )
                continue
            flag_default: Optional[bool] = None
            if default_i is not None:
                flag_default = ctx.read(
                    parse_bool,
                    row[default_i].text,
                    "default of flag %s" % name,
                    shown,
                    row[name_i].line,
                    data.flags_section,
                )
            data.flags.append(
                (FeatureFlag(name, flag_default, row[desc_i].text if desc_i is not None else ""), row[name_i].line)
            )
    data.targets, data.backup, data.quality_section = quality_facts(doc)
    parser = DeploymentParser(doc, ctx, "REQ 9.5")
    data.deployment = parser.parse()
    for i, text_line in enumerate(doc.lines):
        if i >= doc.body_start:
            data.tags.extend(find_tags(text_line, shown, i + 1))
    body = "\n".join(ln for i, ln in enumerate(doc.lines) if i >= doc.body_start)
    data.element_ids = element_ids(body)
    for kind in ("SYS", "ADR", "SPEC", "BRD", "PRD", "CTR"):
        data.mentioned[kind] = doc_ids(body, kind)
    return data


# --------------------------------------------------------------------------- SYS


@dataclass
class SysData:
    path: str
    doc: MarkdownDoc
    id: str = ""
    title: str = ""
    deployment: Optional[DeploymentData] = None
    iac_provider: Optional[Tuple[str, int]] = None
    backup: Dict[str, Tuple[Any, int]] = field(default_factory=dict)
    backup_section: str = ""
    tags: List[Tag] = field(default_factory=list)
    element_ids: List[str] = field(default_factory=list)


def parse_sys(path: str, ctx: ParseContext) -> SysData:
    real, text = read_document(path, "SYS document")
    shown = display_path(real)
    doc = parse_markdown(text, shown)
    ctx.warnings.extend(doc.warnings)
    data = SysData(shown, doc)
    data.id, data.title, _unused = doc_title(doc, "SYS")
    data.iac_provider = _front_matter_iac(doc, ctx)
    data.deployment = DeploymentParser(doc, ctx, "SYS 9.1").parse()
    ops = doc.find_heading(number="9.2") or doc.find_heading(words=("operational",))
    lines: List[Tuple[str, int]] = []
    if ops is not None:
        start, end = ops.index + 1, doc.section_end(ops)
        data.backup_section = ops.text
        for table in doc.tables(start, end):
            for row in table.rows:
                lines.append((" : ".join(c.text for c in row), row[0].line))
        lines += [(t, ln) for t, ln in doc.text_lines(start, end) if not t.lstrip().startswith("|")]
    else:
        heading = doc.find_heading(words=("backup",))
        if heading is not None:
            data.backup_section = heading.text
            lines = doc.text_lines(heading.index + 1, doc.section_end(heading))
    data.backup = backup_facts(lines)
    for i, text_line in enumerate(doc.lines):
        if i >= doc.body_start:
            data.tags.extend(find_tags(text_line, shown, i + 1))
    data.element_ids = element_ids("\n".join(doc.lines[doc.body_start :]))
    return data


# --------------------------------------------------------------------------- ADR


@dataclass
class AdrData:
    path: str
    id: str = ""
    title: str = ""
    status: str = ""
    provider: Optional[str] = None
    evidence: str = ""
    line: int = 0
    section: str = ""
    tags: List[Tag] = field(default_factory=list)


def parse_adr(path: str, ctx: ParseContext) -> AdrData:
    """Read an ADR and the cloud it decides, per the format guide: the
    ``**We will use**:`` line of 3.1, then the 3.2 Key Components table."""
    real, text = read_document(path, "ADR document")
    shown = display_path(real)
    doc = parse_markdown(text, shown)
    ctx.warnings.extend(doc.warnings)
    data = AdrData(shown)
    data.id, data.title, _unused = doc_title(doc, "ADR")
    control = control_table(doc)
    data.status = control.get("status", ("", 0))[0]
    chosen = (
        doc.find_heading(number="3.1") or doc.find_heading(words=("chosen",)) or doc.find_heading(words=("decision",))
    )
    if chosen is not None:
        end = doc.section_end(chosen)
        found = doc.label("we will use", chosen.index, end) or doc.label("decision", chosen.index, end)
        if found:
            value, line = found
            provider = vocab.provider_named(value)
            if provider is None:
                votes = vocab.provider_votes(value)
                provider = _winner(votes)
            if provider:
                data.provider, data.evidence, data.line = provider, value, line
                data.section = chosen.text
    if data.provider is None:
        comps = doc.find_heading(number="3.2") or doc.find_heading(words=("key components",))
        if comps is not None:
            texts: List[str] = []
            first_line = comps.line
            for table in doc.tables(comps.index + 1, doc.section_end(comps)):
                col = table.column("technology", "tech", "service", "product")
                for row in table.rows:
                    cells = [row[col]] if col is not None else list(row)
                    texts.extend(c.text for c in cells)
            provider = _winner(vocab.provider_votes(" , ".join(texts)))
            if provider:
                data.provider, data.line, data.section = provider, first_line, comps.text
                data.evidence = "key components: %s" % ", ".join(t for t in texts[:6] if t)
    for i, text_line in enumerate(doc.lines):
        if i >= doc.body_start:
            data.tags.extend(find_tags(text_line, shown, i + 1))
    return data


def _winner(votes: Dict[str, int]) -> Optional[str]:
    if not votes:
        return None
    ranked = sorted(votes.items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def winner(votes: Dict[str, int]) -> Optional[str]:
    """The cloud with the most votes, or None on a tie."""
    return _winner(votes)


__all__ = [
    "AdrData",
    "ReqData",
    "SysData",
    "docs_root_of",
    "find_document",
    "parse_adr",
    "parse_req",
    "parse_sys",
    "read_document",
    "thresholds_from_text",
    "winner",
]
