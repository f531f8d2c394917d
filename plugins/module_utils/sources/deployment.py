# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployment tables: REQ section 9.5 and SYS section 9.1 share them.

``parse_deployment`` finds the subsections (by number or heading text, as
``###``/``####`` headings or bold lines), maps table columns by their header
text and turns each row into model parts, recording the source of every value
under its final field path.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from ..model import (
    AlertRule,
    AlertThresholds,
    Budget,
    Cache,
    Compute,
    Cost,
    Database,
    Environment,
    ExitCode,
    Iam,
    ImageScanning,
    InfraItem,
    Network,
    NetworkRule,
    Playbook,
    Queue,
    Rollout,
    Script,
    ScriptStandards,
    Secrets,
    SecurityItem,
    Storage,
    TelemetrySignal,
    Tls,
    ValidationRequirement,
)
from ..units import (
    is_unset,
    parse_bool,
    parse_days,
    parse_duration_seconds,
    parse_int,
    parse_latency_ms,
    parse_memory_mib,
    parse_money,
    parse_range,
    parse_ratio,
    parse_storage_gb,
    parse_vcpu,
)
from . import vocab
from .context import ParseContext, kv_get, kv_pairs
from .markdown import Cell, Heading, MarkdownDoc, Table, links_in, strip_markup
from .tags import find_tags

KINDS = (
    "tier",
    "infrastructure",
    "environments",
    "scripts",
    "playbooks",
    "observability",
    "security",
    "cost",
    "automation",
)

_KIND_WORDS: List[Tuple[str, str]] = [
    (r"\btier\b", "tier"),
    (r"infrastructure", "infrastructure"),
    (r"environment", "environments"),
    (r"script", "scripts"),
    (r"playbook|ansible", "playbooks"),
    (r"observability|monitoring|logging", "observability"),
    (r"security", "security"),
    (r"\bcost|budget", "cost"),
    (r"automation|deployment workflow|pipeline", "automation"),
]


def classify_heading(heading: Heading) -> Optional[str]:
    """Which deployment subsection a heading opens, by its words, else by its number."""
    title = heading.title.lower()
    for pattern, kind in _KIND_WORDS:
        if re.search(pattern, title):
            return kind
    m = re.match(r"^9\.[15]\.(\d)$", heading.number)
    if m and int(m.group(1)) < len(KINDS):
        return KINDS[int(m.group(1))]
    return None


@dataclass
class Subsection:
    kind: str
    heading: Heading
    start: int
    end: int
    applicable: bool = True
    applicability_line: int = 0

    @property
    def title(self) -> str:
        return self.heading.text


@dataclass
class DeploymentData:
    """What a deployment section holds.  ``present`` names the subsections
    that had data; every model part is filled only when its subsection did."""

    file: str
    root: Optional[Heading] = None
    present: Set[str] = field(default_factory=set)
    not_applicable: Set[str] = field(default_factory=set)
    tier: Optional[int] = None
    compute: Optional[Compute] = None
    database: Optional[Database] = None
    storage: Optional[Storage] = None
    network: Optional[Network] = None
    cache: Optional[Cache] = None
    queue: Optional[Queue] = None
    infra_other: List[InfraItem] = field(default_factory=list)
    provider_text: List[Tuple[str, int]] = field(default_factory=list)
    adr_refs: List[Tuple[str, str, int]] = field(default_factory=list)
    environments: List[Environment] = field(default_factory=list)
    health: Dict[str, Tuple[str, int]] = field(default_factory=dict)
    scripts: List[Script] = field(default_factory=list)
    script_standards: Optional[ScriptStandards] = None
    playbooks: List[Playbook] = field(default_factory=list)
    playbook_standards: List[str] = field(default_factory=list)
    signals: Dict[str, TelemetrySignal] = field(default_factory=dict)
    sample_rate: Optional[float] = None
    thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    alert_rules: List[AlertRule] = field(default_factory=list)
    secrets: Optional[Secrets] = None
    tls: Optional[Tls] = None
    iam: Optional[Iam] = None
    network_rules: List[NetworkRule] = field(default_factory=list)
    image_scanning: Optional[ImageScanning] = None
    security_other: List[SecurityItem] = field(default_factory=list)
    cost: Optional[Cost] = None
    rollout: Optional[Rollout] = None
    # source of each value, relative field path -> (line, section)
    src: Dict[str, Tuple[int, str]] = field(default_factory=dict)

    def has_data(self) -> bool:
        return bool(self.present)


# --------------------------------------------------------------------------- finding sections


def find_deployment_root(doc: MarkdownDoc) -> Optional[Heading]:
    """The heading of REQ 9.5 / SYS 9.1 "Deployment Requirements"."""
    real = [h for h in doc.headings if not h.pseudo]
    for h in real:
        title = h.title.lower()
        if re.match(r"^deployment\s+requirements\b", title) or (h.number in ("9.5", "9.1") and "deploy" in title):
            return h
    for h in real:
        title = h.title.lower()
        if "deployment" in title and "requirement" in title and "operation" not in title:
            return h
    for h in real:
        title = h.title.lower()
        if "deployment" in title and ("operations" in title or "requirement" in title):
            return h
    return None


def find_subsections(doc: MarkdownDoc, root: Heading) -> List[Subsection]:
    end = doc.section_end(root)
    markers: List[Tuple[Heading, Optional[str]]] = []
    for h in doc.headings_between(root.index, end):
        markers.append((h, classify_heading(h)))
    subsections: List[Subsection] = []
    for i, (h, kind) in enumerate(markers):
        if kind is None:
            continue
        stop = end
        for other, other_kind in markers[i + 1 :]:
            if other_kind is not None or (not other.pseudo and not h.pseudo and other.level <= h.level):
                stop = other.index
                break
        sub = Subsection(kind, h, h.index + 1, stop)
        found = doc.applicability(sub.start, min(sub.end, sub.start + 6))
        if found is not None:
            sub.applicable, sub.applicability_line = found
        subsections.append(sub)
    return subsections


# --------------------------------------------------------------------------- helpers


def _row_map(table: Table, columns: Dict[str, Tuple[str, ...]]) -> Dict[str, int]:
    """Map canonical column names to indexes by header words; a column is used once."""
    used: Set[int] = set()
    found: Dict[str, int] = {}
    for name, words in columns.items():
        for word in words:
            hit = None
            for i, header in enumerate(table.header):
                if i in used:
                    continue
                if word in header.lower():
                    hit = i
                    break
            if hit is not None:
                found[name] = hit
                used.add(hit)
                break
    return found


def _cell(row: Tuple[Cell, ...], cols: Dict[str, int], name: str) -> Optional[Cell]:
    index = cols.get(name)
    if index is None or index >= len(row):
        return None
    return row[index]


def _text(cell: Optional[Cell]) -> str:
    return cell.text if cell is not None else ""


def _extras(row: Tuple[Cell, ...], cols: Dict[str, int]) -> str:
    used = set(cols.values())
    return ", ".join(c.text for i, c in enumerate(row) if i not in used and c.text)


def expand_zones(text: str) -> List[str]:
    """``us-east-1a,1b,1c`` -> us-east-1a, us-east-1b, us-east-1c; ``us-central1-a,b`` too.

    Words (``zones``, ``multi-AZ``) and region names are skipped; a short token
    completes the zone before it; digits are Azure zone numbers only when they follow
    the word zone(s) (``zones 1,2,3``), while ``3 zones`` is a count, not a zone.
    """
    azure_zones: List[str] = []
    for m in re.finditer(r"\bzones?\b\s*[:=]?\s*(\d(?:\s*(?:,|and|/)\s*\d)*)\b", text, re.IGNORECASE):
        azure_zones.extend(re.findall(r"\d", m.group(1)))
    text = re.sub(r"\b\d+\s*(?:availability\s+)?(?:zones?|azs?)\b", " ", text, flags=re.IGNORECASE)
    tokens = [t for t in re.split(r"[\s,;/()]+|\band\b", text) if t]
    zones: List[str] = []
    previous = ""
    for token in tokens:
        token = token.strip(".:").lower()
        if not token or re.fullmatch(r"\d", token):
            continue
        if previous and region_of_zone(previous) and re.fullmatch(r"\d?[a-z]", token) and len(token) < len(previous):
            token = previous[: len(previous) - len(token)] + token
        if is_region(token):
            continue
        if re.search(r"[a-z]", token) and re.search(r"\d", token):
            zones.append(token)
            previous = token
    for zone in azure_zones:
        if zone not in zones:
            zones.append(zone)
    return zones


def is_region(token: str) -> bool:
    """A region name (us-east-1, europe-west1, eastus2), not a zone."""
    low = token.lower()
    if _AWS_REGION.match(low) or _GCP_REGION.match(low):
        return True
    return any(re.fullmatch(p, low) for p, _unused in vocab.REGION_PATTERNS[2:])


_AWS_ZONE = re.compile(r"^([a-z]{2}(?:-gov)?-[a-z]+-\d)[a-z]$")
_GCP_ZONE = re.compile(r"^([a-z]+-[a-z]+\d{1,2})-[a-z]$")
_AWS_REGION = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-\d$")
_GCP_REGION = re.compile(r"^[a-z]+-[a-z]+\d{1,2}$")


def region_of_zone(zone: str) -> Optional[str]:
    for pattern in (_AWS_ZONE, _GCP_ZONE):
        m = pattern.match(zone)
        if m:
            return m.group(1)
    return None


def split_regions(text: str) -> Tuple[List[str], List[str]]:
    """A Regions cell -> (regions, zones): region names as written, zones expanded, and
    the region of every zone."""
    regions: List[str] = []
    for token in re.split(r"[\s,;/()]+|\band\b", text):
        low = token.strip(".:").lower()
        if low and is_region(low) and low not in regions:
            regions.append(low)
    zones = expand_zones(text)
    for zone in zones:
        region = region_of_zone(zone)
        if region and region not in regions:
            regions.append(region)
    return regions, zones


def parse_cidr(value: str, ctx: ParseContext, file: str, line: int, section: str, what: str = "CIDR") -> Optional[str]:
    """A CIDR block, strictly: host bits must be zero.  Errors name the line."""
    text = value.strip().strip("`").rstrip(".,;")
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        hint = ""
        try:
            loose = ipaddress.ip_network(text, strict=False)
            hint = " (did you mean %s?)" % loose
        except ValueError:
            pass
        ctx.error(
            "%s %r does not parse: %s; expected a network such as 10.0.0.0/16%s" % (what, text, exc, hint),
            file,
            line,
            section,
        )
        return None
    return str(net)


_CIDR_TOKEN = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){2,3}(?:/\d{1,3})?(?![\w.])")


_PORT_WORDS = re.compile(
    r"port|from|\bto\b|allow|tcp|udp|inbound|ingress|egress|open|only|"
    r"https?|ssh|listen",
    re.IGNORECASE,
)


def _ports(text: str) -> List[int]:
    """Port numbers in a network rule: ``Ports: 443, 8080``, ``443 from internet``,
    ``5432/6379 from tasks``, ``8080/tcp``.  Addresses and CIDRs are skipped."""
    cleaned = _CIDR_TOKEN.sub(" ", text)
    ports: List[int] = []
    for m in re.finditer(
        r"(?<![\d.$])(\d{2,6})((?:\s*/\s*\d{2,6})*)(?![\d.%])(?!\s*(?:days?|"
        r"hours?|minutes?|ms|s\b|gb|mb|%|x\b))",
        cleaned,
        re.IGNORECASE,
    ):
        around = cleaned[max(0, m.start() - 25) : m.end() + 25]
        if not _PORT_WORDS.search(around):
            continue
        for n in re.findall(r"\d{2,6}", m.group(0)):
            value = int(n)
            if value >= 20 and value not in ports:
                ports.append(value)
    return ports


# --------------------------------------------------------------------------- the parser


class DeploymentParser:
    """Parses one deployment section (REQ 9.5 or SYS 9.1) into ``DeploymentData``."""

    def __init__(self, doc: MarkdownDoc, ctx: ParseContext, label: str) -> None:
        self.doc = doc
        self.ctx = ctx
        self.file = doc.path
        self.label = label  # "REQ 9.5" or "SYS 9.1"
        self.data = DeploymentData(doc.path)

    def warn(self, message: str, line: int, section: str) -> None:
        self.ctx.warn(message, self.file, line, section)

    def error(self, message: str, line: int, section: str) -> None:
        self.ctx.error(message, self.file, line, section)

    def src(self, path: str, line: int, section: str) -> None:
        self.data.src[path] = (line, section)

    def parse(self) -> DeploymentData:
        root = find_deployment_root(self.doc)
        self.data.root = root
        if root is None:
            return self.data
        for sub in find_subsections(self.doc, root):
            if not sub.applicable:
                self.data.not_applicable.add(sub.kind)
                continue
            if sub.kind in self.data.present:
                self.warn("a second %s subsection; the first one is used" % sub.kind, sub.heading.line, sub.title)
                continue
            handler = getattr(self, "_" + sub.kind)
            if handler(sub):
                self.data.present.add(sub.kind)
        return self.data

    def _table(self, sub: Subsection, columns: Dict[str, Tuple[str, ...]]) -> Optional[Tuple[Table, Dict[str, int]]]:
        """The subsection's first table and its columns mapped by header words."""
        tables = self.doc.tables(sub.start, sub.end)
        if not tables:
            return None
        return tables[0], _row_map(tables[0], columns)

    # ------------------------------------------------------------------ 9.5.0

    def _tier(self, sub: Subsection) -> bool:
        lines = self.doc.text_lines(sub.start, sub.end)
        chosen: Optional[Tuple[int, int]] = None
        mentioned: Set[int] = set()
        for text, line in lines:
            for m in re.finditer(r"tier\s*([123])\b", text, re.IGNORECASE):
                mentioned.add(int(m.group(1)))
                low = text.lower()
                if re.search(
                    r"selected|chosen|choice|this (service|requirement)|✅|\[x\]"
                    r"|\*\*tier\*\*\s*:|deployment tier\s*\**\s*:",
                    low,
                ):
                    chosen = chosen or (int(m.group(1)), line)
        if chosen is None and len(mentioned) == 1:
            value = mentioned.pop()
            line = next(line for text, line in lines if re.search(r"tier\s*%d" % value, text, re.IGNORECASE))
            chosen = (value, line)
        if chosen is None:
            return False
        self.data.tier = chosen[0]
        self.src("deployment_tier", chosen[1], sub.title)
        return True

    # ------------------------------------------------------------------ 9.5.1

    def _infrastructure(self, sub: Subsection) -> bool:
        found_table = self._table(
            sub,
            {
                "resource": ("resource", "component", "category", "layer", "type"),
                "provider": ("provider", "platform", "service", "vendor"),
                "configuration": ("config", "specification", "spec", "setting", "detail"),
                "requirements": ("requirement", "siz", "capacity", "constraint"),
            },
        )
        if found_table is None:
            return False
        table, cols = found_table
        if "resource" not in cols:
            self.warn(
                "the infrastructure table has no Resource Type column; expected "
                "columns Resource Type, Provider, Configuration, Requirements",
                table.line,
                sub.title,
            )
            return False
        for row in table.rows:
            self._infra_row(row, cols, sub)
        # Reference lines and provider links after the table
        for text, line in self.doc.text_lines(sub.start, sub.end):
            if "@adr" in text.lower():
                self._adr_refs(text, line)
        return True

    def _adr_refs(self, raw: str, line: int) -> None:
        linked = {}
        for label, target in links_in(raw):
            for tag in find_tags(label, self.file, line):
                if tag.kind == "adr":
                    linked[tag.value] = target
        for tag in find_tags(raw, self.file, line):
            if tag.kind != "adr":
                continue
            entry = (tag.value, linked.get(tag.value, ""), line)
            if not any(e[0] == entry[0] and e[2] == line for e in self.data.adr_refs):
                self.data.adr_refs.append(entry)

    def _infra_row(self, row: Tuple[Cell, ...], cols: Dict[str, int], sub: Subsection) -> None:
        resource = _text(_cell(row, cols, "resource"))
        provider = _text(_cell(row, cols, "provider"))
        config = _text(_cell(row, cols, "configuration"))
        reqs = _text(_cell(row, cols, "requirements"))
        extra = _extras(row, cols)
        line = row[0].line
        if all(is_unset(t) for t in (provider, config, reqs)) and not extra:
            return
        whole = ", ".join(t for t in (provider, config, reqs, extra) if t and not is_unset(t))
        provider_cell = _cell(row, cols, "provider")
        if provider_cell is not None and "@adr" in provider_cell.raw.lower():
            self._adr_refs(provider_cell.raw, line)
        kind = vocab.first_match(vocab.RESOURCE_TYPES, resource) or vocab.first_match(vocab.RESOURCE_TYPES, whole)
        no_details = is_unset(config) and is_unset(reqs) and kind not in ("compute", "network")
        if no_details and (
            not provider or is_unset(provider) or re.fullmatch(r"\[?optional\]?", provider, re.IGNORECASE)
        ):
            return
        self.data.provider_text.append((whole, line))
        pairs = kv_pairs(config) + kv_pairs(reqs) + kv_pairs(extra)
        section = sub.title
        handler = {
            "compute": self._compute,
            "database": self._database,
            "storage": self._storage,
            "network": self._network,
            "cache": self._cache,
            "queue": self._queue,
        }.get(kind or "")
        if handler is None:
            self.data.infra_other.append(InfraItem(resource, provider, config, reqs))
            return
        existing = getattr(self.data, kind or "")
        if existing is not None:
            self.warn("a second %s row; the first one is used" % kind, line, section)
            return
        self._provider = _service_in_provider(provider)
        handler(whole, pairs, line, section)

    _provider = ""

    def _common_type(self, pairs: List[Tuple[str, str]], whole: str) -> str:
        """The service as written: a ``Type:`` value, the Provider cell when it names a
        service (SYS style), else the first free text."""
        found = kv_get(pairs, "type", "service", "engine")
        if found:
            return found
        if self._provider and re.search(r"[A-Za-z]", self._provider):
            return self._provider
        for key, value in pairs:
            if key == "" and value and "@" not in value and not is_unset(value):
                return value
        return re.sub(r"@[a-z]+\s*:\s*\S+,?\s*", "", whole)

    def _compute(self, whole: str, pairs: List[Tuple[str, str]], line: int, section: str) -> None:
        label = self._common_type(pairs, whole)
        kind = (
            vocab.first_match(vocab.COMPUTE_KINDS, label) or vocab.first_match(vocab.COMPUTE_KINDS, whole) or "unknown"
        )
        f, p = self.file, "infrastructure.compute"
        vcpu_text = kv_get(pairs, "cpu", "vcpu")
        if vcpu_text is None:
            m = re.search(r"(\d+(?:\.\d+)?)\s*v?cpus?\b", whole, re.IGNORECASE)
            vcpu_text = m.group(0) if m else None
        vcpu = self.ctx.read(parse_vcpu, vcpu_text, "compute CPU", f, line, section) if vcpu_text else None
        mem_text = kv_get(pairs, "memory", "mem", "ram")
        memory = self.ctx.read(parse_memory_mib, mem_text, "compute memory", f, line, section) if mem_text else None
        scale_text = kv_get(pairs, "scaling", "auto-scaling", "autoscaling", "instances", "replicas", "count")
        low = high = None
        if scale_text:
            rng = self.ctx.read(parse_range, scale_text, "compute scaling", f, line, section, fatal=True)
            if rng:
                low, high = rng
        itype = kv_get(pairs, "instance type", "instance", "machine type", "size", "sku")
        if itype is None:
            m = re.search(
                r"\b([a-z][0-9][a-z]{0,3}\.(?:nano|micro|small|medium|large|"
                r"\d*xlarge))\b|\b([a-z]\d[a-z]?-(?:standard|highmem|highcpu)-\d+)\b"
                r"|\b(Standard_[A-Za-z0-9_]+)\b",
                whole,
            )
            itype = next((g for g in m.groups() if g), None) if m else None
        self.data.compute = Compute(
            kind=kind,
            service=strip_markup(label)[:80],
            vcpu=vcpu,
            memory_mib=memory,
            min_instances=low,
            max_instances=high,
            instance_type=itype.split()[0] if itype else None,
        )
        self.src(p, line, section)
        for name, value in (
            ("kind", kind),
            ("vcpu", vcpu),
            ("memory_mib", memory),
            ("min_instances", low),
            ("max_instances", high),
            ("instance_type", itype),
        ):
            if value is not None:
                self.src("%s.%s" % (p, name), line, section)

    def _database(self, whole: str, pairs: List[Tuple[str, str]], line: int, section: str) -> None:
        f, p = self.file, "infrastructure.database"
        label = self._common_type(pairs, whole)
        engine = (
            vocab.first_match(vocab.DATABASE_ENGINES, label)
            or vocab.first_match(vocab.DATABASE_ENGINES, whole)
            or "unknown"
        )
        service = vocab.first_match(vocab.DATABASE_SERVICES, whole) or ""
        version = kv_get(pairs, "version", "engine version")
        if version is None:
            m = re.search(
                r"(?:postgre(?:s|sql)?|mysql|mariadb|sql server|mongo(?:db)?)"
                r"\s*(?:version\s*)?v?(\d+(?:\.\d+){0,2})\b",
                whole,
                re.IGNORECASE,
            )
            version = m.group(1) if m else None
        if version is not None:
            m = re.search(r"\d+(?:\.\d+){0,2}", version)
            version = m.group(0) if m else None
        storage_text = kv_get(pairs, "storage", "disk", "size", "allocated")
        storage = (
            self.ctx.read(parse_storage_gb, storage_text, "database storage", f, line, section)
            if storage_text
            else None
        )
        ha_text = kv_get(pairs, "ha", "high availability", "multi-az", "multi az", "availability")
        ha: Optional[bool] = None
        if ha_text is not None:
            ha = self.ctx.read(parse_bool, ha_text, "database HA", f, line, section)
            if ha is None and re.search(
                r"multi-?az|zone[- ]redundant|regional|standby|"
                r"replica",
                ha_text,
                re.IGNORECASE,
            ):
                ha = True
        else:
            low = whole.lower()
            if re.search(r"single[- ]az|no (ha|standby)|single instance|without ha", low):
                ha = False
            elif re.search(
                r"multi-?az|high availability|zone[- ]redundant|\bha\b|standby"
                r"|regional",
                low,
            ):
                ha = True
        iclass = kv_get(pairs, "instance class", "instance", "tier", "class", "sku")
        if iclass is None:
            m = re.search(
                r"\b(db\.[a-z0-9]+\.[a-z0-9]+|db-[a-z0-9-]+|"
                r"(?:GP|B|MO)_[A-Za-z0-9_]+)\b",
                whole,
            )
            iclass = m.group(1) if m else None
        backup_text = kv_get(pairs, "backup", "backups", "backup retention", "retention")
        backup_days = (
            self.ctx.read(parse_days, backup_text, "database backup retention", f, line, section)
            if backup_text
            else None
        )
        replicas_text = kv_get(pairs, "read replica", "replicas")
        replicas = (
            self.ctx.read(parse_int, replicas_text, "database read replicas", f, line, section)
            if replicas_text
            else None
        )
        vcpu_text = kv_get(pairs, "cpu", "vcpu")
        mem_text = kv_get(pairs, "memory", "ram")
        self.data.database = Database(
            engine=engine,
            service=service,
            version=version,
            storage_gb=storage,
            ha=ha,
            instance_class=iclass.split()[0] if iclass else None,
            vcpu=self.ctx.read(parse_vcpu, vcpu_text, "database CPU", f, line, section) if vcpu_text else None,
            memory_mib=self.ctx.read(parse_memory_mib, mem_text, "database memory", f, line, section)
            if mem_text
            else None,
            backup_retention_days=backup_days,
            read_replicas=replicas,
        )
        self.src(p, line, section)
        for name in (
            "engine",
            "service",
            "version",
            "storage_gb",
            "ha",
            "instance_class",
            "backup_retention_days",
            "read_replicas",
            "vcpu",
            "memory_mib",
        ):
            if getattr(self.data.database, name) not in (None, ""):
                self.src("%s.%s" % (p, name), line, section)

    def _storage(self, whole: str, pairs: List[Tuple[str, str]], line: int, section: str) -> None:
        f, p = self.file, "infrastructure.storage"
        kind = vocab.first_match(vocab.STORAGE_KINDS, whole) or "unknown"
        btype = kv_get(pairs, "bucket type", "class", "storage class", "tier", "bucket")
        retention_text = kv_get(pairs, "retention", "lifecycle", "expir", "expire")
        if retention_text is None:
            m = re.search(r"(?:retain|expire|delete)\w*\s+(?:after\s+)?(\d+\s*\w+)", whole, re.IGNORECASE)
            retention_text = m.group(1) if m else None
        retention = (
            self.ctx.read(parse_days, retention_text, "storage retention", f, line, section) if retention_text else None
        )
        size_text = kv_get(pairs, "size", "capacity", "storage")
        size = (
            self.ctx.read(parse_storage_gb, size_text, "storage size", f, line, section)
            if size_text and re.search(r"\d", size_text)
            else None
        )
        low = whole.lower()
        versioning = (
            False
            if re.search(r"no versioning|versioning:\s*(no|off|disabled)", low)
            else (True if "versioning" in low else None)
        )
        replication = (
            True
            if re.search(
                r"cross[- ]region|replicat|multi[- ]region|geo[- ]"
                r"redundant|\bgrs\b|\bgzrs\b|dual[- ]region",
                low,
            )
            else None
        )
        self.data.storage = Storage(
            kind=kind,
            service=strip_markup(self._common_type(pairs, whole))[:80],
            bucket_type=btype,
            size_gb=size,
            retention_days=retention,
            versioning=versioning,
            replication=replication,
        )
        self.src(p, line, section)
        for name in ("kind", "bucket_type", "size_gb", "retention_days", "versioning", "replication"):
            if getattr(self.data.storage, name) is not None:
                self.src("%s.%s" % (p, name), line, section)

    def _network(self, whole: str, pairs: List[Tuple[str, str]], line: int, section: str) -> None:
        p = "infrastructure.network"
        cidr_text = kv_get(pairs, "cidr", "vpc cidr", "address space", "ip range")
        cidr: Optional[str] = None
        subnets: List[str] = []
        if cidr_text:
            first = re.split(r"[\s,;]+", cidr_text.strip())[0]
            cidr = parse_cidr(first, self.ctx, self.file, line, section)
        subnet_text = kv_get(pairs, "subnets", "subnet")
        for token in _CIDR_TOKEN.findall(whole):
            if cidr_text and token == re.split(r"[\s,;]+", cidr_text.strip())[0]:
                continue
            if cidr is None and not cidr_text and "/" in token:
                cidr = parse_cidr(token, self.ctx, self.file, line, section)
                continue
            if subnet_text and token in subnet_text and "/" in token:
                parsed = parse_cidr(token, self.ctx, self.file, line, section, "subnet CIDR")
                if parsed:
                    subnets.append(parsed)
        if cidr and subnets:
            net = ipaddress.ip_network(cidr)
            for s in subnets:
                sub = ipaddress.ip_network(s)
                if sub.version != net.version or not sub.subnet_of(net):  # type: ignore[arg-type]
                    self.error(
                        "subnet %s is outside the network %s; expected subnets inside the VPC CIDR" % (s, cidr),
                        line,
                        section,
                    )
        zone_text = kv_get(pairs, "azs", "az", "availability zones", "zones", "zone")
        zones = [z.lower() for z in expand_zones("zones: " + zone_text)] if zone_text else []
        lb = vocab.first_match(vocab.LOAD_BALANCERS, whole)
        self.data.network = Network(
            cidr=cidr,
            zones=tuple(zones),
            subnets=tuple(subnets),
            load_balancer=lb,
            service=strip_markup(self._common_type(pairs, whole))[:80],
        )
        self.src(p, line, section)
        for name, value in (("cidr", cidr), ("zones", zones), ("subnets", subnets), ("load_balancer", lb)):
            if value:
                self.src("%s.%s" % (p, name), line, section)

    def _cache(self, whole: str, pairs: List[Tuple[str, str]], line: int, section: str) -> None:
        f, p = self.file, "infrastructure.cache"
        engine = vocab.first_match(vocab.CACHE_ENGINES, whole) or "redis"
        service = vocab.first_match(vocab.CACHE_SERVICES, whole) or ""
        mem_text = kv_get(pairs, "memory", "size", "capacity")
        memory = self.ctx.read(parse_memory_mib, mem_text, "cache memory", f, line, section) if mem_text else None
        ttl_text = kv_get(pairs, "ttl", "expiry", "expiration")
        ttl = self.ctx.read(parse_duration_seconds, ttl_text, "cache TTL", f, line, section) if ttl_text else None
        version = kv_get(pairs, "version")
        if version is None:
            m = re.search(r"(?:redis|memcached|valkey)\s*v?(\d+(?:\.\d+){0,2})", whole, re.IGNORECASE)
            version = m.group(1) if m else None
        else:
            number = re.search(r"\d+(?:\.\d+){0,2}", version)
            version = number.group(0) if number else None
        low = whole.lower()
        ha: Optional[bool] = None
        ha_text = kv_get(pairs, "ha", "high availability", "replication")
        if ha_text is not None:
            ha = self.ctx.read(parse_bool, ha_text, "cache HA", f, line, section)
        elif re.search(
            r"cluster mode|replica|multi-?az|standard tier|\bha\b|zone[- ]"
            r"redundant",
            low,
        ):
            ha = True
        self.data.cache = Cache(
            engine=engine, service=service, version=version, memory_mib=memory, ttl_seconds=ttl, ha=ha
        )
        self.src(p, line, section)
        for name in ("engine", "service", "version", "memory_mib", "ttl_seconds", "ha"):
            if getattr(self.data.cache, name) not in (None, ""):
                self.src("%s.%s" % (p, name), line, section)

    def _queue(self, whole: str, pairs: List[Tuple[str, str]], line: int, section: str) -> None:
        f, p = self.file, "infrastructure.queue"
        kind = vocab.first_match(vocab.QUEUE_KINDS, whole) or "unknown"
        low = whole.lower()
        qtype = kv_get(pairs, "queue type", "mode", "delivery")
        if qtype is not None:
            for word in ("fifo", "standard", "topic", "stream"):
                if word in qtype.lower():
                    qtype = word
                    break
        if qtype is None:
            if "fifo" in low:
                qtype = "fifo"
            elif "standard" in low:
                qtype = "standard"
            elif "topic" in low:
                qtype = "topic"
        retention_text = kv_get(pairs, "retention", "message retention")
        retention = (
            self.ctx.read(parse_days, retention_text, "queue retention", f, line, section) if retention_text else None
        )
        dlq = True if re.search(r"\bdlq\b|dead[- ]letter", low) else None
        mrc = None
        m = re.search(
            r"(?:max(?:imum)? ?receives?|max(?:imum)? delivery|retries|attempts)"
            r"\s*[:=]?\s*(\d+)|after (\d+) (?:attempts|retries|failures)",
            low,
        )
        if m:
            mrc = int(m.group(1) or m.group(2))
        self.data.queue = Queue(
            kind=kind,
            service=strip_markup(self._common_type(pairs, whole))[:80],
            queue_type=qtype.lower() if qtype else None,
            retention_days=retention,
            dead_letter=dlq,
            max_receive_count=mrc,
        )
        self.src(p, line, section)
        for name in ("kind", "queue_type", "retention_days", "dead_letter", "max_receive_count"):
            if getattr(self.data.queue, name) is not None:
                self.src("%s.%s" % (p, name), line, section)

    # ------------------------------------------------------------------ 9.5.2

    def _environments(self, sub: Subsection) -> bool:
        found = False
        tables = self.doc.tables(sub.start, sub.end)
        env_table = None
        for table in tables:
            if (
                table.column("environment", "env", "stage") is not None
                and table.column("strategy", "deploy", "replica", "rollback", "region") is not None
            ):
                env_table = table
                break
        if env_table is not None:
            found = True
            cols = _row_map(
                env_table,
                {
                    "name": ("environment", "env", "stage", "name"),
                    "strategy": ("strategy", "deployment", "deploy", "release"),
                    "rollback": ("rollback",),
                    "replicas": ("replica", "instances", "count", "capacity"),
                    "regions": ("region", "zone", "location"),
                },
            )
            for row in env_table.rows:
                self._env_row(row, cols, sub)
        candidates = [(item.raw, item.line) for item in self.doc.list_items(sub.start, sub.end)]
        candidates += [
            (text, line)
            for text, line in self.doc.text_lines(sub.start, sub.end)
            if re.match(r"^\s*\|?\s*\**(liveness|readiness|startup)", text, re.IGNORECASE)
        ]
        for item in candidates:
            m = re.match(r"^\s*\|?\s*\**(liveness|readiness|startup)\b[^:|]*[:|]\s*\**\s*(.*)$", item[0], re.IGNORECASE)
            if not m:
                continue
            kind = m.group(1).lower()
            rest = m.group(2)
            if re.match(r"^\s*`?(n/?a|none|not applicable|not used|-|—)\b", rest, re.IGNORECASE):
                continue
            path_m = re.search(r"`([^`]+)`", rest) or re.search(r"(?<!\S)(/[^\s|,)]*)", rest)
            if not path_m:
                if is_unset(rest.split(" - ")[0].strip(" |")):
                    continue
                self.warn(
                    "%s endpoint %r has no path; expected a path such as /health/%s"
                    % (kind, strip_markup(rest)[:60], kind[:5]),
                    item[1],
                    sub.title,
                )
                continue
            path = path_m.group(1).strip()
            if is_unset(path):
                continue
            if kind not in self.data.health:
                self.data.health[kind] = (path, item[1])
                found = True
        return found

    def _env_row(self, row: Tuple[Cell, ...], cols: Dict[str, int], sub: Subsection) -> None:
        name_cell = _cell(row, cols, "name")
        if name_cell is None or is_unset(name_cell.text):
            return
        f, section, line = self.file, sub.title, name_cell.line
        label = name_cell.text.strip()
        name = vocab.canonical_env(label)
        index = len(self.data.environments)
        if any(e.name == name for e in self.data.environments):
            self.warn("environment %r appears twice; the first row is used" % label, line, section)
            return
        p = "environments[%d]" % index
        strategy_text = _text(_cell(row, cols, "strategy"))
        strategy = None
        steps: Tuple[int, ...] = ()
        if not is_unset(strategy_text):
            strategy = vocab.first_match(vocab.STRATEGIES, strategy_text)
            if strategy is None:
                self.warn(
                    "deployment strategy %r of %s is not one of manual, rolling, "
                    "blue-green, canary (ignored)" % (strategy_text, label),
                    line,
                    section,
                )
            steps = tuple(canary_steps(strategy_text, self.ctx, f, line, section))
        rollback_text = _text(_cell(row, cols, "rollback"))
        rollback = (
            self.ctx.read(parse_duration_seconds, rollback_text, "rollback time of %s" % label, f, line, section)
            if rollback_text
            else None
        )
        replicas_text = _text(_cell(row, cols, "replicas"))
        replicas = max_replicas = None
        if replicas_text and not is_unset(replicas_text):
            if re.search(r"\d", replicas_text):
                rng = self.ctx.read(parse_range, replicas_text, "replicas of %s" % label, f, line, section, fatal=True)
                if rng:
                    replicas, max_replicas = rng
                    if max_replicas == replicas:
                        max_replicas = None
            else:
                self.warn("replicas of %s: expected a number, got %r (ignored)" % (label, replicas_text), line, section)
        regions_text = _text(_cell(row, cols, "regions"))
        regions: List[str] = []
        zones: List[str] = []
        multi_az = multi_region = False
        if regions_text and not is_unset(regions_text):
            regions, zones = split_regions(regions_text)
            low = regions_text.lower()
            multi_az = bool(re.search(r"multi[- ]?az|multi[- ]zone|zone[- ]redundant|\bha\b", low)) or len(zones) > 1
            multi_region = bool(re.search(r"multi[- ]?region|geo|\bdr\b|disaster", low)) or len(regions) > 1
        env = Environment(
            name=name,
            label=label,
            strategy=strategy,
            rollback_seconds=rollback,
            replicas=replicas,
            max_replicas=max_replicas,
            regions=tuple(regions),
            zones=tuple(zones),
            multi_az=multi_az,
            multi_region=multi_region,
            canary_steps=steps,
            notes=_extras(row, cols),
        )
        self.data.environments.append(env)
        self.src(p, line, section)
        self.src(p + ".name", line, section)
        for attr, value in (
            ("strategy", strategy),
            ("rollback_seconds", rollback),
            ("replicas", replicas),
            ("max_replicas", max_replicas),
            ("regions", regions),
            ("zones", zones),
            ("canary_steps", steps),
        ):
            if value not in (None, [], ()):
                self.src("%s.%s" % (p, attr), line, section)

    # ------------------------------------------------------------------ 9.5.3

    def _scripts(self, sub: Subsection) -> bool:
        tables = self.doc.tables(sub.start, sub.end)
        found = False
        if tables:
            table = tables[0]
            cols = _row_map(
                table,
                {
                    "name": ("script", "name", "file"),
                    "purpose": ("purpose", "description"),
                    "automation": ("automation", "level"),
                    "environments": ("environment", "required", "target"),
                },
            )
            if "name" in cols:
                for row in table.rows:
                    cell = _cell(row, cols, "name")
                    if cell is None or is_unset(cell.text):
                        continue
                    name = cell.text.strip()
                    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,80}", name):
                        self.error(
                            "script name %r is not a plain file name; expected a name such as deploy.sh" % name,
                            cell.line,
                            sub.title,
                        )
                        continue
                    envs = _env_list(_text(_cell(row, cols, "environments")))
                    self.data.scripts.append(
                        Script(name, _text(_cell(row, cols, "purpose")), _text(_cell(row, cols, "automation")), envs)
                    )
                    self.src("scripts.items[%d]" % (len(self.data.scripts) - 1), cell.line, sub.title)
                    found = True
        standards = self._standards_items(sub, "script standards")
        if standards:
            found = True
            self.data.script_standards = _script_standards(standards)
            self.src("scripts.standards", standards[0][1], sub.title)
        return found

    def _standards_items(self, sub: Subsection, label: str) -> List[Tuple[str, int]]:
        hit = self.doc.label(label.split()[0], sub.start, sub.end)
        if not hit:
            return []
        _unused, line = hit
        items: List[Tuple[str, int]] = []
        for item in self.doc.list_items(line, sub.end):
            if items and item.line > items[-1][1] + 1:
                break
            items.append((item.raw, item.line))
        return items

    # ------------------------------------------------------------------ 9.5.4

    def _playbooks(self, sub: Subsection) -> bool:
        tables = self.doc.tables(sub.start, sub.end)
        found = False
        if tables:
            table = tables[0]
            cols = _row_map(
                table,
                {
                    "name": ("playbook", "name", "file"),
                    "purpose": ("purpose", "description"),
                    "target": ("target", "host"),
                    "variables": ("variable", "vars"),
                    "tags": ("tag",),
                },
            )
            if "name" in cols:
                for row in table.rows:
                    cell = _cell(row, cols, "name")
                    if cell is None or is_unset(cell.text):
                        continue
                    name = cell.text.strip()
                    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,80}", name):
                        self.error(
                            "playbook name %r is not a plain file name; expected a name such as deploy_app.yml" % name,
                            cell.line,
                            sub.title,
                        )
                        continue
                    if not name.endswith((".yml", ".yaml")):
                        name += ".yml"
                    tags = tuple(
                        t
                        for t in re.split(r"[\s,;`]+", _text(_cell(row, cols, "tags")))
                        if t and re.fullmatch(r"[A-Za-z0-9_.-]+", t)
                    )
                    self.data.playbooks.append(
                        Playbook(
                            name,
                            _text(_cell(row, cols, "purpose")),
                            _text(_cell(row, cols, "target")),
                            _text(_cell(row, cols, "variables")),
                            tags,
                        )
                    )
                    self.src("playbooks.items[%d]" % (len(self.data.playbooks) - 1), cell.line, sub.title)
                    found = True
        standards = self._standards_items(sub, "playbook standards")
        if standards:
            found = True
            self.data.playbook_standards = [strip_markup(t) for t, _unused in standards]
            self.src("playbooks.standards", standards[0][1], sub.title)
        return found

    # ------------------------------------------------------------------ 9.5.5

    def _observability(self, sub: Subsection) -> bool:
        found_table = self._table(
            sub,
            {
                "type": ("type", "signal", "category", "aspect", "pillar"),
                "tool": ("tool", "platform", "service", "stack"),
                "details": ("metric", "log", "detail", "what", "data", "scope"),
                "retention": ("retention",),
                "alerts": ("alert", "threshold"),
            },
        )
        if found_table is None:
            return False
        table, cols = found_table
        if "type" not in cols:
            return False
        f = self.file
        thresholds = {}
        for row in table.rows:
            type_text = _text(_cell(row, cols, "type")).lower()
            line = row[0].line
            kind = None
            for word, name in (
                ("log", "logging"),
                ("metric", "metrics"),
                ("trac", "tracing"),
                ("dashboard", "dashboards"),
                ("apm", "tracing"),
            ):
                if word in type_text:
                    kind = name
                    break
            if kind is None:
                continue
            details = _text(_cell(row, cols, "details"))
            retention_text = _text(_cell(row, cols, "retention"))
            retention = (
                self.ctx.read(parse_days, retention_text, "%s retention" % kind, f, line, sub.title)
                if retention_text
                else None
            )
            alerts = _text(_cell(row, cols, "alerts"))
            tool = _text(_cell(row, cols, "tool"))
            self.data.signals[kind] = TelemetrySignal(
                tool=None if is_unset(tool) else tool,
                details=details,
                retention_days=retention,
                alerts="" if is_unset(alerts) else alerts,
            )
            self.src("observability.%s" % kind, line, sub.title)
            if kind == "tracing":
                m = re.search(
                    r"sampl\w*\s*(?:rate)?\s*[:=]?\s*(\d+(?:\.\d+)?\s*%?)", details + " " + alerts, re.IGNORECASE
                ) or re.search(r"(\d+(?:\.\d+)?\s*%)", details)
                if m:
                    rate = self.ctx.read(parse_ratio, m.group(1), "tracing sample rate", f, line, sub.title)
                    if rate is not None:
                        self.data.sample_rate = rate
                        self.src("observability.tracing_sample_rate", line, sub.title)
            for rule in alert_rules_from_text(alerts, "9.5.5 %s" % kind):
                self.data.alert_rules.append(rule)
            for key, value in thresholds_from_text(alerts + " , " + details).items():
                if key not in thresholds:
                    thresholds[key] = (value, line)
        if thresholds:
            self.data.thresholds = AlertThresholds(**{k: v for k, (v, _unused) in thresholds.items()})
            for key, (_unused, line) in thresholds.items():
                self.src("observability.thresholds.%s" % key, line, sub.title)
        return True

    # ------------------------------------------------------------------ 9.5.6

    def _security(self, sub: Subsection) -> bool:
        found_table = self._table(
            sub,
            {
                "aspect": ("aspect", "area", "category", "control", "domain"),
                "requirement": ("requirement", "standard", "policy"),
                "tool": ("tool", "service", "implementation"),
                "verification": ("verification", "validation", "check", "audit"),
            },
        )
        if found_table is None:
            return False
        table, cols = found_table
        if "aspect" not in cols:
            return False
        f, section = self.file, sub.title
        for row in table.rows:
            aspect = _text(_cell(row, cols, "aspect"))
            req = _text(_cell(row, cols, "requirement"))
            tool = _text(_cell(row, cols, "tool"))
            verify = _text(_cell(row, cols, "verification"))
            extra = _extras(row, cols)
            whole = ", ".join(t for t in (req, tool, verify, extra) if t)
            line = row[0].line
            low_aspect = aspect.lower()
            if "secret" in low_aspect or "key management" in low_aspect:
                store = secret_store(whole)
                rotation = None
                m = re.search(
                    r"(?:rotat\w*|every)[^.;]*?(\d+[\s-]*(?:days?|weeks?|months?|"
                    r"years?|d))\b|(\d+)[\s-]*day\s+rotation",
                    whole,
                    re.IGNORECASE,
                )
                if m:
                    rotation = self.ctx.read(parse_days, m.group(1) or m.group(2), "secret rotation", f, line, section)
                path = None
                pm = re.search(r"(?:path|name|prefix)\s*[:=]\s*([A-Za-z0-9/_.${}-]+)", whole, re.IGNORECASE)
                if pm:
                    path = pm.group(1)
                self.data.secrets = Secrets(store=store, tool=tool, path=path, rotation_days=rotation)
                self.src("security.secrets", line, section)
                if rotation is not None:
                    self.src("security.secrets.rotation_days", line, section)
            elif re.search(r"tls|ssl|certificate|https|encryption in transit", low_aspect):
                dm = re.search(r"domains?\s*[:=]\s*([A-Za-z0-9*.-]+\.[A-Za-z]{2,})", whole, re.IGNORECASE) or re.search(
                    r"(?<![@\w.-])((?:\*\.)?(?:[a-z0-9-]+\.)+(?:com|net|org|io|dev|app|cloud|"
                    r"co|us|eu|uk|de|internal|example|local|tech|ai|info|biz)(?:\.[a-z]{2})?)\b",
                    whole,
                    re.IGNORECASE,
                )
                vm = re.search(r"tls\s*v?(1\.[0-3])", whole, re.IGNORECASE)
                ct = None
                cm = re.search(r"\b(DV|OV|EV|wildcard|managed|self-signed)\b", whole, re.IGNORECASE)
                if cm:
                    ct = cm.group(1)
                provider = None
                for pattern, name in (
                    (r"\bacm\b|certificate manager", "certificate-manager"),
                    (r"let'?s ?encrypt|cert-manager|acme", "letsencrypt"),
                    (r"key vault", "key-vault"),
                ):
                    if re.search(pattern, whole, re.IGNORECASE):
                        provider = name
                        break
                self.data.tls = Tls(
                    domain=dm.group(1).lower() if dm else None,
                    min_version=vm.group(1) if vm else None,
                    provider=provider,
                    certificate_type=ct,
                )
                self.src("security.tls", line, section)
                if dm:
                    self.src("security.tls.domain", line, section)
            elif re.search(r"\biam\b|identity|access|rbac|authori", low_aspect):
                lp = True if re.search(r"least[- ]privilege", whole, re.IGNORECASE) else None
                self.data.iam = Iam(model=req, permissions=tool, least_privilege=lp)
                self.src("security.iam", line, section)
            elif re.search(r"network|firewall|ingress|perimeter", low_aspect):
                cidrs: List[str] = []
                for token in _CIDR_TOKEN.findall(whole):
                    if "/" not in token:
                        continue
                    parsed = parse_cidr(token, self.ctx, f, line, section)
                    if parsed:
                        cidrs.append(parsed)
                ports = _ports(whole)
                for port in ports:
                    if not 1 <= port <= 65535:
                        self.error("port %d in the network rules is outside 1-65535" % port, line, section)
                ports = [p for p in ports if 1 <= p <= 65535]
                self.data.network_rules.append(NetworkRule(description=whole, ports=tuple(ports), cidrs=tuple(cidrs)))
                self.src("security.network_rules[%d]" % (len(self.data.network_rules) - 1), line, section)
            elif re.search(r"container|image|scan|vulnerab", low_aspect):
                self.data.image_scanning = ImageScanning(tool=tool or None, threshold=scan_threshold(whole))
                self.src("security.image_scanning", line, section)
            elif aspect:
                self.data.security_other.append(SecurityItem(aspect, req, tool, verify))
        return True

    # ------------------------------------------------------------------ 9.5.7

    def _cost(self, sub: Subsection) -> bool:
        found_table = self._table(
            sub,
            {
                "resource": ("resource", "category", "item", "component", "area"),
                "budget": ("budget", "monthly", "cost", "limit", "amount"),
                "alerts": ("alert", "threshold", "notif"),
                "optimization": ("optimi", "strateg", "note", "saving"),
            },
        )
        if found_table is None:
            return False
        table, cols = found_table
        if "resource" not in cols or "budget" not in cols:
            return False
        f, section = self.file, sub.title
        budgets: List[Budget] = []
        total = None
        for row in table.rows:
            resource = _text(_cell(row, cols, "resource"))
            if is_unset(resource):
                continue
            line = row[0].line
            budget_text = _text(_cell(row, cols, "budget"))
            amount = None
            if budget_text and not is_unset(budget_text):
                if re.search(r"\d", budget_text):
                    amount = self.ctx.read(parse_money, budget_text, "budget of %s" % resource, f, line, section)
                else:
                    self.warn(
                        "budget of %s: expected an amount such as $200, got %r (ignored)" % (resource, budget_text),
                        line,
                        section,
                    )
            alerts = _text(_cell(row, cols, "alerts"))
            percents = tuple(float(x) for x in re.findall(r"(\d+(?:\.\d+)?)\s*%", alerts))
            name = re.sub(r"[^a-z0-9]+", "-", resource.lower()).strip("-") or "item"
            budgets.append(Budget(name, amount, percents, _text(_cell(row, cols, "optimization"))))
            self.src("cost.budgets[%d]" % (len(budgets) - 1), line, section)
            if name.startswith("total") and amount is not None:
                total = amount
                self.src("cost.total_monthly_usd", line, section)
        if not budgets:
            return False
        if total is None:
            amounts = [b.monthly_usd for b in budgets if b.monthly_usd is not None]
            total = round(sum(amounts), 2) if amounts else None
            if total is not None:
                self.src("cost.total_monthly_usd", table.line, section)
        self.data.cost = Cost(budgets=tuple(budgets), total_monthly_usd=total)
        return True

    # ------------------------------------------------------------------ 9.5.8

    def _automation(self, sub: Subsection) -> bool:
        f, section = self.file, sub.title
        found = False
        level_hit = self.doc.label("automation level", sub.start, sub.end)
        level = text = None
        if level_hit:
            text = level_hit[0]
            level = automation_level(text)
            self.src("rollout.automation_level", level_hit[1], section)
            found = True
        labels: List[Tuple[str, int]] = []
        for i in range(sub.start, sub.end):
            if self.doc.code[i]:
                continue
            m = re.match(r"^\s*\*\*([^*]+?)\*\*\s*:?", self.doc.lines[i])
            if m:
                labels.append((m.group(1).strip().rstrip(":").lower(), i + 1))
        items = self.doc.list_items(sub.start, sub.end)

        def owner(line: int) -> str:
            name = ""
            for label, at in labels:
                if at <= line:
                    name = label
            return name

        workflow: List[Tuple[str, int]] = []
        validation: List[ValidationRequirement] = []
        rollback_ready = None
        for item in items:
            label = owner(item.line)
            if "workflow" in label or "steps" in label or "process" in label:
                workflow.append((item.text, item.line))
            elif "validation" in label or "gate" in label or "check" in label:
                m = re.match(r"^([A-Za-z][A-Za-z /-]{1,30}?)\s*:\s*(.*)$", item.text)
                phase = (m.group(1) if m else "general").strip().lower().replace(" ", "-")
                body = m.group(2) if m else item.text
                validation.append(ValidationRequirement(phase, body))
                self.src("rollout.validation[%d]" % (len(validation) - 1), item.line, section)
                if "rollback" in phase:
                    rm = re.search(r"(\d+(?:\.\d+)?\s*[a-z]+)", body, re.IGNORECASE)
                    if rm:
                        rollback_ready = self.ctx.read(
                            parse_duration_seconds, rm.group(1), "rollback readiness", f, item.line, section
                        )
                        if rollback_ready is not None:
                            self.src("rollout.rollback_ready_seconds", item.line, section)
        steps: List[int] = []
        hold = None
        for text_line, line in self.doc.text_lines(sub.start, sub.end):
            if not steps:
                found_steps = canary_steps(text_line, self.ctx, f, line, section)
                if found_steps:
                    steps = found_steps
                    self.src("rollout.canary_steps", line, section)
            if hold is None:
                hold_text = hold_time(text_line)
                if hold_text:
                    hold = self.ctx.read(parse_duration_seconds, hold_text, "canary hold time", f, line, section)
                    if hold is not None:
                        self.src("rollout.hold_seconds", line, section)
        joined = " ".join(t for t, _unused in workflow).lower() + " " + " ".join(v.text for v in validation).lower()
        auto_rollback = (
            True
            if re.search(
                r"auto[- ]?rollback|automatic(ally)? roll\s*back|"
                r"roll\s*back automatically|auto[- ]revert",
                joined,
            )
            else None
        )
        if workflow:
            found = True
            self.src("rollout.workflow", workflow[0][1], section)
        if validation or steps:
            found = True
        self.data.rollout = Rollout(
            canary_steps=tuple(steps),
            hold_seconds=hold,
            automation_level=level,
            automation_text=text or "",
            workflow=tuple(t for t, _unused in workflow),
            validation=tuple(validation),
            auto_rollback=auto_rollback,
            rollback_ready_seconds=rollback_ready,
        )
        return found


def _service_in_provider(provider: str) -> str:
    """The Provider cell when it names a service (``Cloud Run``), not a cloud
    (``AWS``) or an ADR link."""
    text = provider.strip()
    if not text or "@" in text or is_unset(text) or text.startswith("["):
        return ""
    bare = re.sub(
        r"\b(aws|amazon( web services)?|gcp|google( cloud( platform)?)?|"
        r"microsoft|azure|cloud provider|provider|from|adr-\d+)\b",
        "",
        text.lower(),
    )
    return text if re.search(r"[a-z]{2,}", bare) else ""


def _env_list(text: str) -> Tuple[str, ...]:
    if is_unset(text):
        return ()
    low = text.lower()
    if re.search(r"\ball\b|every", low):
        return ("all",)
    names: List[str] = []
    for token in re.split(r"[,;/&]|\band\b", text):
        token = token.strip()
        if token:
            name = vocab.canonical_env(token)
            if name not in names:
                names.append(name)
    return tuple(names)


def _script_standards(items: List[Tuple[str, int]]) -> ScriptStandards:
    shell = "bash"
    version = log_file = None
    codes: List[ExitCode] = []
    strict = idempotent = None
    notes: List[str] = []
    for raw, _unused in items:
        text = strip_markup(raw)
        low = text.lower()
        notes.append(text)
        m = re.search(r"bash\s*v?(\d+(?:\.\d+)?)", low)
        if m:
            version = m.group(1)
        if "log" in low:
            lm = re.search(r"`([^`]*\.log)`", raw) or re.search(r"(\S+\.log)\b", text)
            if lm:
                log_file = lm.group(1)
        if "exit" in low:
            for cm in re.finditer(r"\b(\d{1,3})\s*\(([^)]+)\)", text):
                codes.append(ExitCode(int(cm.group(1)), cm.group(2).strip().lower()))
            if not codes:
                for cm in re.finditer(r"\b(\d{1,3})\s*[=:-]\s*([A-Za-z]+)", text):
                    codes.append(ExitCode(int(cm.group(1)), cm.group(2).strip().lower()))
        if "pipefail" in low or "set -e" in low:
            strict = True
        if "idempot" in low:
            idempotent = True
    return ScriptStandards(
        shell=shell,
        min_bash_version=version,
        log_file=log_file,
        exit_codes=tuple(codes),
        strict_mode=strict,
        idempotent=idempotent,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- shared text rules


_STEP_SEQ = re.compile(
    r"(\d{1,3}(?:\.\d+)?)\s*%(?:\s*(?:→|->|=>|⇒|➔|>|,|/|then|to|and|–|—|-|\|)\s*"
    r"(\d{1,3}(?:\.\d+)?)\s*%)+"
)


def canary_steps(text: str, ctx: ParseContext, file: str, line: int, section: str) -> List[int]:
    """``5% → 25% → 50% → 100%`` -> [5, 25, 50, 100].  Needs two or more steps
    joined by arrows or commas; decreasing or out-of-range steps are errors."""
    m = _STEP_SEQ.search(text)
    if not m:
        return []
    numbers = [float(n) for n in re.findall(r"(\d{1,3}(?:\.\d+)?)\s*%", m.group(0))]
    # a bare list like "1%, 5%" in an alert sentence is not a rollout: need an arrow,
    # or the word canary/traffic/step nearby, or a final 100%
    has_arrow = bool(re.search(r"→|->|=>|⇒|➔", m.group(0)))
    context = text.lower()
    if not has_arrow and not re.search(r"canary|traffic|step|rollout|shift|weight", context):
        return []
    steps: List[int] = []
    for n in numbers:
        if n <= 0 or n > 100:
            ctx.error(
                "canary step %s%% is outside 1-100%%; expected steps such as 5%% → 25%% → 50%% → 100%%" % _fmt(n),
                file,
                line,
                section,
            )
            return []
        steps.append(round(n))
    for a, b in zip(steps, steps[1:]):
        if b <= a:
            ctx.error(
                "canary steps %s do not increase; expected steps such as "
                "5%% → 25%% → 50%% → 100%%" % " → ".join("%d%%" % s for s in steps),
                file,
                line,
                section,
            )
            return []
    if steps[-1] != 100:
        ctx.warn("canary steps end at %d%%; a last step of 100%% is added" % steps[-1], file, line, section)
        steps.append(100)
    return steps


def _fmt(n: float) -> str:
    return "%g" % n


def hold_time(text: str) -> Optional[str]:
    low = text.lower()
    m = re.search(
        r"(?:hold|wait|pause|bake|soak|observe|monitor|dwell)\w*[^.;\n]{0,40}?"
        r"(\d+(?:\.\d+)?\s*(?:seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h))\b",
        low,
    )
    if m:
        return m.group(1)
    m = re.search(
        r"\(\s*(\d+(?:\.\d+)?\s*(?:seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h))"
        r"\s*(?:each|per step|between steps)\s*\)",
        low,
    )
    if m:
        return m.group(1)
    m = re.search(
        r"(\d+(?:\.\d+)?\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?))\s*"
        r"(?:at each step|per step|between steps|each step)",
        low,
    )
    return m.group(1) if m else None


def automation_level(text: str) -> str:
    low = text.lower()
    if re.search(r"semi|partial|approval|gate|hybrid", low):
        return "semi-automated"
    if re.search(r"fully|full|automat", low):
        return "fully-automated"
    if "manual" in low:
        return "manual"
    return re.sub(r"[^a-z0-9]+", "-", low).strip("-") or "unknown"


def secret_store(text: str) -> Optional[str]:
    low = text.lower()
    for pattern, name in (
        (r"aws secrets manager|secrets manager", "aws-secrets-manager"),
        (r"parameter store|\bssm\b", "aws-ssm-parameter-store"),
        (r"gcp secret manager|google secret manager|secret manager", "gcp-secret-manager"),
        (r"key vault", "azure-key-vault"),
        (r"hashicorp|\bvault\b", "vault"),
        (r"ansible[- ]vault", "ansible-vault"),
        (r"kubernetes secrets?|k8s secrets?|sealed secrets|external secrets", "kubernetes"),
    ):
        if re.search(pattern, low):
            if name == "vault" and "ansible" in low and "ansible-vault" in low.replace(" ", "-"):
                return "ansible-vault"
            return name
    return None


def scan_threshold(text: str) -> Optional[str]:
    """``No critical vulnerabilities`` -> critical; ``no critical/high`` -> high."""
    low = text.lower()
    cvss = re.search(r"cvss\s*(?:score)?\s*(?:>=|≥|>)\s*(\d+(?:\.\d+)?)", low)
    if cvss:
        score = float(cvss.group(1))
        if score >= 9:
            return "critical"
        if score >= 7:
            return "high"
        if score >= 4:
            return "medium"
        return "low"
    found = [s for s in ("low", "medium", "high", "critical") if re.search(r"\b%s\b" % s, low)]
    if not found:
        return None
    if not re.search(r"\bno\b|\bzero\b|\b0\b|block|fail|reject|none", low):
        return None
    return found[0]


_COMPARATORS = r"(>=|<=|≥|≤|>|<|=|above|below|over|under|exceeds?)"


def thresholds_from_text(text: str) -> Dict[str, float]:
    """Alert thresholds in prose: ``p95 latency > 500ms``, ``error rate > 1%``."""
    out: Dict[str, float] = {}
    low = text.lower()
    for pct in ("95", "99"):
        m = re.search(
            r"p%s\s*(?:latency|response time)?\s*%s?\s*(\d+(?:\.\d+)?\s*(?:ms|s|"
            r"seconds?|milliseconds?)\b)" % (pct, _COMPARATORS),
            low,
        )
        if m:
            value = parse_latency_ms(m.group(2))
            if value is not None:
                out["p%s_latency_ms" % pct] = value
    m = re.search(r"error[ _-]?rate\s*%s?\s*(\d+(?:\.\d+)?\s*%%)" % _COMPARATORS, low)
    if m:
        ratio = parse_ratio(m.group(2))
        if ratio is not None:
            out["error_rate_ratio"] = ratio
    m = re.search(r"availability\s*%s?\s*(\d{2,3}(?:\.\d+)?)\s*%%" % _COMPARATORS, low)
    if m:
        out["availability_percent"] = float(m.group(2))
    return out


_METRIC_WORDS: List[Tuple[str, str, str]] = [
    (r"p95\s*(?:latency|response time)?|p95_latency|latency_p95", "p95_latency", "ms"),
    (r"p99\s*(?:latency|response time)?|p99_latency|latency_p99", "p99_latency", "ms"),
    (r"p50\s*(?:latency|response time)?|p50_latency|median latency", "p50_latency", "ms"),
    (r"slow requests?|latency|duration|response[ _]time", "latency", "ms"),
    (r"error[ _-]?rate|5xx[ _-]?rate|errors?", "error_rate", "ratio"),
    (r"availability|uptime", "availability", "percent"),
    (r"cpu[ _-]?(?:utili[sz]ation|usage)?|cpu", "cpu_utilization", "percent"),
    (r"memory[ _-]?(?:utili[sz]ation|usage)?", "memory_utilization", "percent"),
    (r"queue[ _-]?depth|backlog", "queue_depth", "count"),
    (r"throughput|rps|requests per second", "throughput", "rps"),
]


def parse_condition(condition: str) -> Tuple[str, str, Optional[float], str, Optional[int], Optional[str]]:
    """``error_rate > 1% for 5 minutes`` -> (metric, op, threshold, unit, for_seconds, ref)."""
    low = condition.lower()
    metric, unit = "", ""
    head_text = re.split(_COMPARATORS, low, maxsplit=1)[0].split("@threshold")[0]
    head_text = re.sub(r"\s+for\s+\d.*$", "", head_text).strip().rstrip(":").strip()
    identifier = re.fullmatch(r"[a-z_:][a-z0-9_:]*", head_text)
    standard = {
        "error_rate",
        "errors",
        "p95_latency",
        "p99_latency",
        "p50_latency",
        "latency",
        "availability",
        "cpu",
        "cpu_utilization",
        "memory_utilization",
        "queue_depth",
        "throughput",
    }
    if identifier and head_text not in standard:
        # a metric named as the service exports it: kept as written, its unit from its suffix
        metric = head_text
        for suffix, suffix_unit in (
            ("_seconds", "seconds"),
            ("_ms", "ms"),
            ("_milliseconds", "ms"),
            ("_ratio", "ratio"),
            ("_percent", "percent"),
            ("_bytes", "bytes"),
            ("_total", "count"),
        ):
            if metric.endswith(suffix):
                unit = suffix_unit
                break
    else:
        for pattern, name, u in _METRIC_WORDS:
            if re.search(pattern, low):
                metric, unit = name, u
                break
    if not metric:
        metric = re.sub(r"[^a-z0-9]+", "_", head_text).strip("_")[:60] or "condition"
    op = ">"
    m = re.search(_COMPARATORS, low)
    if m:
        op = {
            "≥": ">=",
            "≤": "<=",
            "above": ">",
            "over": ">",
            "exceeds": ">",
            "exceed": ">",
            "below": "<",
            "under": "<",
        }.get(m.group(1), m.group(1))
    ref = None
    rm = re.search(r"@threshold\s*:\s*([A-Za-z0-9._-]+)", condition)
    if rm:
        ref = rm.group(1).rstrip(".")
    threshold: Optional[float] = None
    after = low[m.end() :] if m else ""
    if not ref and after:
        vm = re.match(r"\s*(\d+(?:\.\d+)?)\s*(%|ms|milliseconds?|s\b|sec\w*|min\w*|hours?|h\b|rps)?", after)
        if vm:
            number = float(vm.group(1))
            suffix = vm.group(2) or ""
            if unit == "ms":
                threshold = number * 1000.0 if suffix.startswith("s") else number
            elif unit == "ratio":
                threshold = number / 100.0 if suffix == "%" or number > 1 else number
            elif suffix.startswith(("min", "h", "s")) and unit in ("", "seconds"):
                # a duration: "oldest_message_age > 15 minutes" is 900 seconds
                threshold = number * (60.0 if suffix.startswith("min") else 3600.0 if suffix.startswith("h") else 1.0)
                unit = "seconds"
            else:
                threshold = number
                if suffix == "%" and not unit:
                    unit = "percent"
    for_seconds = None
    fm = re.search(r"\bfor\s+(\d+(?:\.\d+)?\s*[a-z]+)", low)
    if fm:
        try:
            for_seconds = parse_duration_seconds(fm.group(1), default_unit="m")
        except ValueError:
            for_seconds = None
    return metric, op, threshold, unit, for_seconds, ref


def alert_rules_from_text(text: str, origin: str) -> List[AlertRule]:
    """Alert conditions written in a 9.5.5 Alerts cell (comma separated)."""
    rules: List[AlertRule] = []
    if is_unset(text):
        return rules
    for part in re.split(r"[,;]\s*(?![^()]*\))", text):
        part = part.strip()
        if not re.search(_COMPARATORS, part):
            continue
        label = part.partition(":")[0] if ":" in part else ""
        metric, op, threshold, unit, for_s, ref = parse_condition(part)
        if threshold is None and ref is None:
            continue
        name = re.sub(r"[^A-Za-z0-9]+", " ", (label or metric)).title().replace(" ", "")
        rules.append(
            AlertRule(
                name=name or "Alert",
                condition=part,
                metric=metric,
                operator=op,
                threshold=threshold,
                unit=unit,
                for_seconds=for_s,
                severity="critical" if re.search(r"sla|breach|critical|outage", part, re.IGNORECASE) else "warning",
                threshold_ref=ref,
                origin=origin,
            )
        )
    return rules
