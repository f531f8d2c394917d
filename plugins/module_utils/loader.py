# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""From documents to one Model: find the documents, parse each, merge them.

The merge follows the format guide: the SPEC is the more specific source for
the service itself (ports, health paths, resources, scaling, tracing, alert
thresholds) and REQ/SYS for environments and infrastructure; every
disagreement is a warning that names both places.  The cloud provider is
decided, in order, by the user's option, the ADR named in 9.5.1, the
``CLOUD_PROVIDER`` parameter of REQ 7.1, and inference from service names.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .errors import DocumentError, Finding, UsageError
from .model import (
    CLOUDS,
    IAC_PROVIDERS,
    AlertRule,
    AlertThresholds,
    Backup,
    Cloud,
    Cost,
    DocumentRef,
    Environment,
    FrozenMap,
    HealthChecks,
    Infrastructure,
    Model,
    Observability,
    Playbooks,
    ResourceAmount,
    Resources,
    Rollout,
    Scaling,
    Scripts,
    Security,
    Service,
    Source,
    Tag,
    Traceability,
)
from .sources import vocab
from .sources.context import ParseContext
from .sources.deployment import DeploymentData
from .sources.documents import (
    AdrData,
    ReqData,
    SysData,
    docs_root_of,
    find_document,
    parse_adr,
    parse_req,
    parse_sys,
    winner,
)
from .sources.spec import SpecData, parse_spec
from .sources.tags import doc_number
from .textio import display_path

DEFAULT_PORT = 8080


def slugify(text: str, limit: int = 48) -> str:
    """A name safe for every resource naming rule (DNS label, Terraform, shell)."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    slug = re.sub(r"-{2,}", "-", slug)[:limit].strip("-")
    if slug and not slug[0].isalpha():
        slug = "svc-" + slug
    return slug[:limit].strip("-")


class _Merge:
    """Builds the model from parsed documents with ``ctx`` for sources and warnings."""

    def __init__(self, ctx: ParseContext) -> None:
        self.ctx = ctx

    def conflict(
        self, what: str, used: Tuple[Any, str], other: Tuple[Any, str], used_name: str, other_name: str
    ) -> None:
        self.ctx.warn(
            "%s: the %s says %s but the %s (%s) says %s; the %s value is used"
            % (what, used_name, _show(used[0]), other_name, other[1], _show(other[0]), used_name),
            *_split_ref(used[1]),
        )


def _show(value: Any) -> str:
    if isinstance(value, float) and value == int(value):
        value = int(value)
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(str(v) for v in value)
    return str(value)


def _split_ref(ref: str) -> Tuple[str, int]:
    m = re.match(r"^(.*):(\d+)$", ref)
    return (m.group(1), int(m.group(2))) if m else (ref, 0)


def _ref(file: str, line: int) -> str:
    return "%s:%d" % (file, line)


def load_model(
    req: Optional[str] = None,
    spec: Optional[str] = None,
    sys: Optional[str] = None,
    adr: Optional[Sequence[str]] = None,
    docs_root: Optional[str] = None,
    cloud: Optional[str] = None,
    iac: Optional[str] = None,
) -> Model:
    """Parse the documents and return the model.

    Raises ``DocumentError`` (every error found, each with file and line) when a
    document cannot be used and ``UsageError`` when the arguments are wrong.
    """
    if not req and not spec:
        raise UsageError("give at least a REQ document (--req) or a SPEC document (--spec)")
    if cloud is not None and cloud not in CLOUDS:
        raise UsageError("cloud must be one of %s, got %r" % (", ".join(CLOUDS), cloud))
    if iac is not None and iac not in IAC_PROVIDERS:
        raise UsageError("iac must be one of %s, got %r" % (", ".join(IAC_PROVIDERS), iac))
    if docs_root is not None and not os.path.isdir(docs_root):
        raise UsageError("docs root %r is not a folder" % docs_root)
    ctx = ParseContext()
    errors: List[Finding] = []

    def attempt(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except DocumentError as exc:
            errors.extend(exc.findings())
            return None

    req_data: Optional[ReqData] = attempt(parse_req, req, ctx) if req else None
    root = docs_root or docs_root_of(req or spec or "")
    spec_path = spec
    if spec_path is None and req_data is not None and root:
        spec_path = _find_spec(req_data, root)
    spec_data: Optional[SpecData] = attempt(parse_spec, spec_path, ctx) if spec_path else None
    sys_data: Optional[SysData] = None
    sys_path = sys
    if sys_path is None and req_data is not None:
        sys_path = _find_sys(req_data, root, ctx)
    if sys_path:
        sys_data = attempt(parse_sys, sys_path, ctx)
    if errors:
        raise DocumentError(errors + ctx.errors)
    deployment = _pick_deployment(req_data, sys_data, ctx)
    adrs = _load_adrs(adr or (), deployment, req_data, sys_data, root, ctx, errors)
    model = _build(ctx, req_data, spec_data, sys_data, adrs, deployment, cloud, iac)
    errors.extend(ctx.errors)
    if errors:
        raise DocumentError(errors)
    return model


# --------------------------------------------------------------------------- finding documents


def _find_spec(req: ReqData, root: str) -> Optional[str]:
    numbers = [doc_number(i)[1] for i in req.mentioned.get("SPEC", [])]
    if req.id:
        numbers.append(doc_number(req.id)[1])
    for number in numbers:
        found = find_document(root, "SPEC", number)
        if found:
            return found
    return None


def _find_sys(req: ReqData, root: Optional[str], ctx: ParseContext) -> Optional[str]:
    """The SYS document a REQ defers to: Source Document, then ``@sys`` tags."""
    needs = req.deployment is None or not req.deployment.has_data()
    candidates: List[Tuple[str, int]] = []
    source = req.control.get("source document")
    if source:
        for m in re.finditer(r"SYS[-.](\d{2,9})", source[0]):
            candidates.append((m.group(1), source[1]))
    for tag in req.tags:
        if tag.kind == "sys":
            kind, number = doc_number(tag.value)
            if kind == "SYS":
                candidates.append((number, tag.line))
    if not candidates:
        if needs and req.deployment is not None and req.deployment.root is None:
            ctx.warn(
                "the REQ has no section 9.5 Deployment Requirements and names no SYS "
                "document (@sys tag or Source Document); the model has no deployment data",
                req.path,
                req.title_line,
                "9.5 Deployment Requirements",
            )
        return None
    if not root:
        if needs:
            ctx.warn(
                "the REQ defers to SYS-%s but its docs root is unknown; pass --docs-root or --sys" % candidates[0][0],
                req.path,
                candidates[0][1],
            )
        return None
    tried: List[str] = []
    for number, _unused in candidates:
        if number in tried:
            continue
        tried.append(number)
        found = find_document(root, "SYS", number)
        if found:
            return found
    if needs:
        ctx.warn(
            "the REQ defers to %s but no such document was found under %s; pass --sys"
            % (", ".join("SYS-%s" % n for n in tried), display_path(root)),
            req.path,
            candidates[0][1],
        )
    return None


def _pick_deployment(req: Optional[ReqData], sys: Optional[SysData], ctx: ParseContext) -> Dict[str, DeploymentData]:
    """For each subsection kind, the deployment data that holds it: REQ 9.5
    first, SYS 9.1 for what the REQ does not have (unless the REQ marks it Not
    Applicable)."""
    chosen: Dict[str, DeploymentData] = {}
    primary = req.deployment if req else None
    secondary = sys.deployment if sys else None
    for data in (primary, secondary):
        if data is None:
            continue
        for kind in sorted(data.present):
            if kind in chosen:
                continue
            if data is secondary and primary is not None and kind in primary.not_applicable:
                continue
            chosen[kind] = data
    return chosen


def _resolve_adr_path(ident: str, link: str, base: str, root: Optional[str]) -> Optional[str]:
    if link:
        target = link.split("#", 1)[0]
        if target:
            full = os.path.normpath(os.path.join(os.path.dirname(base), target))
            if os.path.isfile(full):
                return full
    if root:
        return find_document(root, "ADR", doc_number(ident)[1])
    return None


def _load_adrs(
    explicit: Sequence[str],
    deployment: Dict[str, DeploymentData],
    req: Optional[ReqData],
    sys: Optional[SysData],
    root: Optional[str],
    ctx: ParseContext,
    errors: List[Finding],
) -> List[AdrData]:
    adrs: List[AdrData] = []
    for path in explicit:
        try:
            adrs.append(parse_adr(path, ctx))
        except DocumentError as exc:
            errors.extend(exc.findings())
    if explicit:
        return adrs
    infra = deployment.get("infrastructure")
    if infra is None:
        return adrs
    seen: List[str] = []
    for ident, link, line in infra.adr_refs:
        if ident in seen:
            continue
        seen.append(ident)
        adr_path = _resolve_adr_path(ident, link, infra.file, root)
        if adr_path is None:
            ctx.warn(
                "%s is referenced but no ADR file was found%s; the cloud is decided by the "
                "next rule" % (ident, " at %s" % link if link else " under the docs root"),
                infra.file,
                line,
                "9.5.1 Infrastructure Requirements",
            )
            continue
        try:
            adrs.append(parse_adr(adr_path, ctx))
        except DocumentError as exc:
            for f in exc.findings():
                ctx.warn("%s could not be read: %s" % (ident, f.message), f.file, f.line)
    return adrs


# --------------------------------------------------------------------------- cloud


def _cloud(
    ctx: ParseContext,
    option: Optional[str],
    adrs: List[AdrData],
    req: Optional[ReqData],
    deployment: Dict[str, DeploymentData],
    environments: Sequence[Environment],
) -> Cloud:
    infra = deployment.get("infrastructure")
    texts = infra.provider_text if infra else []
    votes = vocab.provider_votes(" , ".join(t for t, _unused in texts))
    inferred = winner(votes)
    provider: Optional[str] = None
    decided_by = "none"
    evidence = ""
    if option:
        provider, decided_by, evidence = option, "option", "--cloud %s" % option
        ctx.src("cloud.provider", "option", 0, "command line")
    if provider is None:
        for adr in adrs:
            if adr.status and re.search(r"reject|supersed|deprecat", adr.status, re.IGNORECASE):
                ctx.warn(
                    "%s has status %r and does not decide the cloud" % (adr.id or adr.path, adr.status), adr.path, 1
                )
                continue
            if adr.provider:
                provider, decided_by = adr.provider, "adr"
                evidence = "%s: %s" % (adr.id or os.path.basename(adr.path), adr.evidence)
                ctx.src("cloud.provider", adr.path, adr.line, adr.section)
                break
    if provider is None and req is not None and req.cloud_parameter:
        value, line = req.cloud_parameter
        named = _provider_word(value)
        if named:
            provider, decided_by = named, "parameter"
            evidence = "CLOUD_PROVIDER = %s" % value
            ctx.src("cloud.provider", req.path, line, req.parameters_section)
        elif value:
            ctx.warn(
                "CLOUD_PROVIDER %r is not aws, gcp or azure (ignored)" % value, req.path, line, req.parameters_section
            )
    if provider is None and inferred:
        provider, decided_by = inferred, "inference"
        names = ", ".join("%s x%d" % (k, v) for k, v in sorted(votes.items(), key=lambda kv: -kv[1]))
        evidence = "service names in the infrastructure table (%s)" % names
        line = next((ln for t, ln in texts if vocab.provider_votes(t).get(inferred)), 0)
        ctx.src("cloud.provider", infra.file if infra else "", line, "9.5.1 Infrastructure Requirements")
    if provider is None:
        region_votes = vocab.provider_votes(" ".join(" ".join(e.regions + e.zones) for e in environments), regions=True)
        by_region = winner(region_votes)
        if by_region:
            provider, decided_by = by_region, "inference"
            evidence = "region names of the environments"
            env_src = ctx.sources.get("environments[0].regions")
            ctx.src_from("cloud.provider", env_src)
    if provider is None and (req is not None or deployment):
        where = req.path if req else ""
        ctx.warn(
            "no cloud provider could be determined (no ADR, CLOUD_PROVIDER parameter or "
            "cloud service names); pass --cloud aws|gcp|azure",
            where,
            0,
        )
    if provider and inferred and inferred != provider and decided_by in ("adr", "parameter"):
        line = next((ln for t, ln in texts if vocab.provider_votes(t).get(inferred)), 0)
        ctx.warn(
            "the cloud is %s (decided by %s) but the infrastructure table names %s "
            "services" % (provider, decided_by, inferred),
            infra.file if infra else "",
            line,
            "9.5.1 Infrastructure Requirements",
        )
    regions: List[str] = []
    zones: List[str] = []
    ordered = sorted(environments, key=lambda e: 0 if e.name == "prod" else 1)
    for env in ordered:
        for region in env.regions:
            if region not in regions:
                regions.append(region)
    network = infra.network if infra else None
    if network and network.zones:
        zones = list(network.zones)
    else:
        for env in ordered:
            if env.zones:
                zones = list(env.zones)
                break
    if not regions:
        from .sources.deployment import region_of_zone

        for zone in zones:
            zone_region = region_of_zone(zone)
            if zone_region and zone_region not in regions:
                regions.append(zone_region)
    primary = regions[0] if regions else None
    return Cloud(
        provider=provider,
        decided_by=decided_by,
        evidence=evidence,
        regions=tuple(regions),
        zones=tuple(zones),
        primary_region=primary,
    )


def _provider_word(value: str) -> Optional[str]:
    low = value.strip().strip("`'\"").lower()
    if low in CLOUDS:
        return low
    return vocab.provider_named(low)


# --------------------------------------------------------------------------- the model


def _build(
    ctx: ParseContext,
    req: Optional[ReqData],
    spec: Optional[SpecData],
    sys: Optional[SysData],
    adrs: List[AdrData],
    deployment: Dict[str, DeploymentData],
    cloud_option: Optional[str],
    iac_option: Optional[str],
) -> Model:
    merge = _Merge(ctx)
    # copy the sources of the chosen deployment subsections
    prefixes = {
        "tier": ("deployment_tier",),
        "infrastructure": ("infrastructure.",),
        "environments": ("environments",),
        "scripts": ("scripts.",),
        "playbooks": ("playbooks.",),
        "observability": ("observability.",),
        "security": ("security.",),
        "cost": ("cost.",),
        "automation": ("rollout.",),
    }
    for kind, data in deployment.items():
        for path, (line, section) in data.src.items():
            if path.startswith(prefixes[kind]):
                ctx.src(path, data.file, line, section)
    infra = deployment.get("infrastructure")
    envs = deployment.get("environments")
    environments = tuple(envs.environments) if envs else ()
    service = _service(ctx, merge, req, spec, infra, envs)
    cloud = _cloud(ctx, cloud_option, adrs, req, deployment, environments)
    infrastructure = Infrastructure()
    if infra is not None:
        infrastructure = Infrastructure(
            compute=infra.compute,
            database=infra.database,
            storage=infra.storage,
            network=infra.network,
            cache=infra.cache,
            queue=infra.queue,
            other=tuple(infra.infra_other),
        )
    scripts_data = deployment.get("scripts")
    scripts = Scripts()
    if scripts_data is not None:
        scripts = Scripts(
            items=tuple(scripts_data.scripts), standards=scripts_data.script_standards or Scripts().standards
        )
    pb = deployment.get("playbooks")
    playbooks = Playbooks(items=tuple(pb.playbooks), standards=tuple(pb.playbook_standards)) if pb else Playbooks()
    observability = _observability(ctx, merge, req, spec, deployment.get("observability"))
    sec = deployment.get("security")
    security = (
        Security(
            secrets=sec.secrets,
            tls=sec.tls,
            iam=sec.iam,
            network_rules=tuple(sec.network_rules),
            image_scanning=sec.image_scanning,
            other=tuple(sec.security_other),
        )
        if sec
        else Security()
    )
    cost_data = deployment.get("cost")
    cost = cost_data.cost if cost_data and cost_data.cost else Cost()
    rollout = _rollout(ctx, deployment.get("automation"), environments)
    if spec is not None and spec.deployment_tests:
        rollout = replace(
            rollout, deployment_tests=tuple(name for name, enabled in spec.deployment_tests.items() if enabled)
        )
        ctx.src("rollout.deployment_tests", spec.path, spec.deployment_tests_line, "SPEC")
    backup = _backup(ctx, merge, req, sys, spec)
    traceability = _traceability(req, spec, sys, adrs, deployment)
    iac: Optional[str] = None
    if iac_option:
        iac = iac_option
        ctx.src("iac_provider", "option", 0, "command line")
    elif req is not None and req.iac_provider:
        iac = req.iac_provider[0]
        ctx.src("iac_provider", req.path, req.iac_provider[1], "front matter")
    elif sys is not None and sys.iac_provider:
        iac = sys.iac_provider[0]
        ctx.src("iac_provider", sys.path, sys.iac_provider[1], "front matter")
    tier = None
    tier_data = deployment.get("tier")
    if tier_data is not None:
        tier = tier_data.tier
    elif req is not None:
        complexity = req.control.get("deployment complexity") or req.control.get("infrastructure type")
        if complexity:
            for word, value in (("simple", 1), ("paas", 1), ("standard", 2), ("enterprise", 3)):
                if word in complexity[0].lower():
                    tier = value
                    ctx.src("deployment_tier", req.path, complexity[1], "1 Document Control")
                    break
    _checks(ctx, service, environments, rollout)
    # keep warnings in document order, no repeats
    warnings: List[Finding] = []
    for w in ctx.warnings:
        if w not in warnings:
            warnings.append(w)
    return Model(
        service=service,
        cloud=cloud,
        infrastructure=infrastructure,
        environments=environments,
        scripts=scripts,
        playbooks=playbooks,
        observability=observability,
        security=security,
        cost=cost,
        rollout=rollout,
        backup=backup,
        traceability=traceability,
        iac_provider=iac,
        deployment_tier=tier,
        warnings=tuple(warnings),
        sources=FrozenMap(dict(sorted(ctx.sources.items()))),
    )


def _service(
    ctx: ParseContext,
    merge: _Merge,
    req: Optional[ReqData],
    spec: Optional[SpecData],
    infra: Optional[DeploymentData],
    envs: Optional[DeploymentData],
) -> Service:
    # name
    raw_name = ""
    if spec is not None and spec.id:
        raw_name = str(spec.id[0])
        ctx.src("service.name", spec.path, spec.id[1], "SPEC id")
    elif req is not None and req.title:
        raw_name = req.title
        ctx.src("service.name", req.path, req.title_line, "title")
    elif req is not None:
        raw_name = req.id or os.path.splitext(os.path.basename(req.path))[0]
        ctx.src("service.name", req.path, 1, "file name")
    else:
        raw_name = os.path.splitext(os.path.basename(spec.path if spec else "service"))[0]
    name = slugify(raw_name)
    if not name:
        name = slugify(req.id if req and req.id else "service") or "service"
    if name != re.sub(r"[_\s]+", "-", raw_name.strip().lower()):
        src = ctx.sources.get("service.name")
        ctx.warn(
            "service name %r is not a valid resource name; using %r" % (raw_name, name),
            src.file if src else "",
            src.line if src else 0,
        )
    title = req.title if req and req.title else raw_name
    if req is not None and req.title:
        ctx.src("service.title", req.path, req.title_line, "title")

    def spec_value(attr: str, path: str) -> Optional[Any]:
        if spec is None:
            return None
        found = getattr(spec, attr)
        if found is None:
            return None
        ctx.src(path, spec.path, found[1], "SPEC")
        return found[0]

    version = spec_value("version", "service.version")
    language = spec_value("language", "service.language")
    if language:
        language = str(language).lower()
        aliases = {
            "javascript": "node",
            "typescript": "node",
            "nodejs": "node",
            "node.js": "node",
            "golang": "go",
            "python3": "python",
            "kotlin": "java",
        }
        language = aliases.get(language, language)
    # health
    health: Dict[str, Optional[str]] = {"liveness": None, "readiness": None, "startup": None}
    req_health = envs.health if envs else {}
    for kind in health:
        spec_h = spec.health.get(kind) if spec else None
        req_h = req_health.get(kind)
        if spec_h and spec is not None:
            health[kind] = spec_h[0]
            ctx.src("service.health.%s" % kind, spec.path, spec_h[1], "SPEC")
            if req_h and req_h[0] != spec_h[0] and envs is not None:
                merge.conflict(
                    "%s path" % kind,
                    (spec_h[0], _ref(spec.path, spec_h[1])),
                    (req_h[0], _ref(envs.file, req_h[1])),
                    "SPEC",
                    "REQ/SYS Health Endpoints",
                )
        elif req_h and envs is not None:
            from .sources.spec import check_path

            value = check_path(req_h[0], "%s path" % kind, ctx, envs.file, req_h[1], "Health Endpoints")
            health[kind] = value
            if value:
                ctx.src("service.health.%s" % kind, envs.file, req_h[1], "Health Endpoints")
    hc = HealthChecks(
        liveness=health["liveness"],
        readiness=health["readiness"],
        startup=health["startup"],
        interval_seconds=spec_value("interval", "service.health.interval_seconds"),
        timeout_seconds=spec_value("timeout", "service.health.timeout_seconds"),
        failure_threshold=spec_value("failures", "service.health.failure_threshold"),
    )
    # ports
    ports: Tuple[int, ...] = ()
    if spec is not None and spec.ports and spec.ports[0]:
        ports = spec.ports[0]
        ctx.src("service.ports", spec.path, spec.ports[1], "SPEC")
    elif req is not None:
        for param, line in req.parameters:
            named_port = re.sub(r"[^a-z]", "", param.name.lower()) in (
                "port",
                "appport",
                "httpport",
                "serverport",
                "listenport",
            )
            if named_port and param.default and param.default.isdigit() and 1 <= int(param.default) <= 65535:
                ports = (int(param.default),)
                ctx.src("service.ports", req.path, line, req.parameters_section)
                break
    if not ports:
        ports = (DEFAULT_PORT,)
        ctx.src("service.ports", "default", 0, "default")
        where = spec.path if spec else (req.path if req else "")
        ctx.warn("no port is given (SPEC implementation.deployment.ports_exposed); %d is used" % DEFAULT_PORT, where, 0)
    # scaling and resources
    spec_path = spec.path if spec is not None else ""
    compute = infra.compute if infra else None
    compute_line = infra.src.get("infrastructure.compute", (0, ""))[0] if infra else 0
    min_r = spec_value("min_replicas", "service.scaling.min_replicas")
    max_r = spec_value("max_replicas", "service.scaling.max_replicas")
    if compute is not None and infra is not None:
        for attr, value, other in (("min", min_r, compute.min_instances), ("max", max_r, compute.max_instances)):
            if value is not None and other is not None and value != other:
                found = getattr(spec, attr + "_replicas")
                merge.conflict(
                    "scaling %s" % attr,
                    (value, _ref(spec_path, found[1])),
                    (other, _ref(infra.file, compute_line)),
                    "SPEC",
                    "infrastructure table",
                )
        if min_r is None and compute.min_instances is not None:
            min_r = compute.min_instances
            ctx.src("service.scaling.min_replicas", infra.file, compute_line, "9.5.1 Infrastructure Requirements")
        if max_r is None and compute.max_instances is not None:
            max_r = compute.max_instances
            ctx.src("service.scaling.max_replicas", infra.file, compute_line, "9.5.1 Infrastructure Requirements")
    target_cpu = None
    metrics = spec.scaling_metrics if spec else ()
    for metric in metrics:
        m = re.search(r"cpu\w*\D*(\d{1,3})\s*%", metric, re.IGNORECASE)
        if m:
            target_cpu = int(m.group(1))
    if metrics and spec is not None:
        ctx.src("service.scaling.metrics", spec.path, spec.scaling_line, "SPEC")
    requests = spec.requests[0] if spec and spec.requests else ResourceAmount()
    limits = spec.limits[0] if spec and spec.limits else ResourceAmount()
    if spec is not None and spec.requests:
        ctx.src("service.resources.requests", spec.path, spec.requests[1], "SPEC")
    if spec is not None and spec.limits:
        ctx.src("service.resources.limits", spec.path, spec.limits[1], "SPEC")
    if compute is not None and infra is not None:
        size = ResourceAmount(round(compute.vcpu * 1000) if compute.vcpu is not None else None, compute.memory_mib)
        for attr, label in (("cpu_millicores", "CPU (millicores)"), ("memory_mib", "memory (MiB)")):
            mine, theirs = getattr(limits, attr), getattr(size, attr)
            if mine is not None and theirs is not None and mine != theirs:
                merge.conflict(
                    "resource limit %s" % label,
                    (mine, _ref(spec_path, spec.limits[1] if spec and spec.limits else 0)),
                    (theirs, _ref(infra.file, compute_line)),
                    "SPEC",
                    "infrastructure table",
                )
        if limits.cpu_millicores is None and size.cpu_millicores is not None:
            limits = replace(limits, cpu_millicores=size.cpu_millicores)
            ctx.src(
                "service.resources.limits.cpu_millicores", infra.file, compute_line, "9.5.1 Infrastructure Requirements"
            )
        if limits.memory_mib is None and size.memory_mib is not None:
            limits = replace(limits, memory_mib=size.memory_mib)
            ctx.src(
                "service.resources.limits.memory_mib", infra.file, compute_line, "9.5.1 Infrastructure Requirements"
            )
    if min_r is not None and max_r is not None and min_r > max_r:
        ctx.error(
            "scaling minimum %d is above the maximum %d; expected min <= max" % (min_r, max_r),
            *_split_ref(ctx.sources["service.scaling.min_replicas"].ref()),
        )
    env_vars: Tuple[Any, ...] = ()
    if spec is not None:
        env_vars = tuple(item[0] for item in spec.env)
        for i, item in enumerate(spec.env):
            ctx.src("service.env[%d]" % i, spec.path, item[1], "SPEC")
    flags: Tuple[Any, ...] = ()
    params: Tuple[Any, ...] = ()
    if req is not None:
        flags = tuple(flag[0] for flag in req.flags)
        for i, flag in enumerate(req.flags):
            ctx.src("service.feature_flags[%d]" % i, req.path, flag[1], req.flags_section)
        params = tuple(entry[0] for entry in req.parameters)
        for i, entry in enumerate(req.parameters):
            ctx.src("service.parameters[%d]" % i, req.path, entry[1], req.parameters_section)
    deps = tuple(spec.dependencies) if spec else ()
    if deps and spec is not None:
        ctx.src("service.dependencies", spec.path, spec.dependencies_line, "SPEC")
    return Service(
        name=name,
        title=title,
        version=str(version) if version is not None else None,
        language=language,
        language_version=spec_value("language_version", "service.language_version"),
        framework=spec_value("framework", "service.framework"),
        entry_point=spec_value("entry_point", "service.entry_point"),
        image=spec_value("image", "service.image"),
        ports=ports,
        health=hc,
        resources=Resources(requests, limits),
        scaling=Scaling(min_r, max_r, tuple(metrics), target_cpu),
        env=env_vars,
        feature_flags=flags,
        parameters=params,
        dependencies=deps,
        rolling_deployment_safe=spec_value("rolling_safe", "service.rolling_deployment_safe"),
    )


def _observability(
    ctx: ParseContext, merge: _Merge, req: Optional[ReqData], spec: Optional[SpecData], obs: Optional[DeploymentData]
) -> Observability:
    signals = obs.signals if obs else {}
    rate = None
    if spec is not None and spec.sample_rate:
        rate = spec.sample_rate[0]
        ctx.src("observability.tracing_sample_rate", spec.path, spec.sample_rate[1], "SPEC")
        if obs is not None and obs.sample_rate is not None and obs.sample_rate != rate:
            merge.conflict(
                "tracing sample rate",
                (rate, _ref(spec.path, spec.sample_rate[1])),
                (obs.sample_rate, _ref(obs.file, obs.src.get("observability.tracing_sample_rate", (0, ""))[0])),
                "SPEC",
                "9.5.5",
            )
    elif obs is not None:
        rate = obs.sample_rate
    # thresholds: SPEC alert rules first (service-specific), then 9.5.5
    spec_thresholds: Dict[str, Tuple[float, int]] = {}
    rules: List[AlertRule] = []
    for rule, line in spec.alert_rules if spec else []:
        rules.append(rule)
        key = {
            "p95_latency": "p95_latency_ms",
            "p99_latency": "p99_latency_ms",
            "error_rate": "error_rate_ratio",
            "availability": "availability_percent",
        }.get(rule.metric)
        if key and rule.threshold is not None and key not in spec_thresholds:
            spec_thresholds[key] = (rule.threshold, line)
    if obs is not None:
        rules = list(obs.alert_rules) + rules
    values: Dict[str, float] = {}
    spec_path = spec.path if spec is not None else ""
    for key in ("p95_latency_ms", "p99_latency_ms", "error_rate_ratio", "availability_percent"):
        req_value = getattr(obs.thresholds, key) if obs is not None else None
        if key in spec_thresholds:
            value, line = spec_thresholds[key]
            values[key] = value
            ctx.src("observability.thresholds.%s" % key, spec_path, line, "SPEC")
            if req_value is not None and req_value != value and obs is not None:
                merge.conflict(
                    key.replace("_", " "),
                    (value, _ref(spec_path, line)),
                    (req_value, _ref(obs.file, obs.src.get("observability.thresholds.%s" % key, (0, ""))[0])),
                    "SPEC",
                    "9.5.5",
                )
        elif req_value is not None:
            values[key] = req_value
    targets: Dict[str, float] = {}
    for key in ("p95_latency_ms", "p99_latency_ms", "error_rate_ratio", "availability_percent"):
        if spec is not None and key in spec.targets:
            targets[key] = spec.targets[key][0]
            ctx.src("observability.targets.%s" % key, spec.path, spec.targets[key][1], "SPEC")
        elif req is not None and key in req.targets:
            targets[key] = req.targets[key][0]
            ctx.src("observability.targets.%s" % key, req.path, req.targets[key][1], req.quality_section)
    channels: List[str] = []
    for rule in rules:
        for c in rule.channels:
            if c not in channels:
                channels.append(c)
    log_level = spec.log_level if spec else None
    log_format = spec.log_format if spec else None
    if log_level and spec is not None:
        ctx.src("observability.log_level", spec.path, log_level[1], "SPEC")
    if log_format and spec is not None:
        ctx.src("observability.log_format", spec.path, log_format[1], "SPEC")
    for i, rule in enumerate(rules):
        if rule.origin == "SPEC" and spec is not None:
            line = next((ln for r, ln in spec.alert_rules if r is rule), 0)
            ctx.src("observability.alert_rules[%d]" % i, spec.path, line, "SPEC")
        elif obs is not None:
            kind = rule.origin.split()[-1]
            line, section = obs.src.get("observability.%s" % kind, (0, ""))
            ctx.src("observability.alert_rules[%d]" % i, obs.file, line, section)
    if spec is not None and spec.metrics:
        ctx.src("observability.metric_definitions", spec.path, spec.metrics_line, "SPEC")
    if spec is not None and spec.charts:
        ctx.src("observability.dashboard_charts", spec.path, spec.charts_line, "SPEC")
    return Observability(
        logging=signals.get("logging"),
        metrics=signals.get("metrics"),
        tracing=signals.get("tracing"),
        dashboards=signals.get("dashboards"),
        log_level=str(log_level[0]).upper() if log_level else None,
        log_format=str(log_format[0]).lower() if log_format else None,
        tracing_sample_rate=rate,
        thresholds=AlertThresholds(**values),
        targets=AlertThresholds(**targets),
        alert_rules=tuple(rules),
        metric_definitions=tuple(spec.metrics) if spec else (),
        dashboard_charts=spec.charts if spec else (),
        notification_channels=tuple(channels),
    )


def _rollout(ctx: ParseContext, automation: Optional[DeploymentData], environments: Sequence[Environment]) -> Rollout:
    rollout = automation.rollout if automation and automation.rollout else Rollout()
    if not rollout.canary_steps:
        ordered = sorted(environments, key=lambda e: 0 if e.name == "prod" else 1)
        for env in ordered:
            if env.canary_steps:
                rollout = replace(rollout, canary_steps=env.canary_steps)
                index = list(environments).index(env)
                src = ctx.sources.get("environments[%d].canary_steps" % index)
                ctx.src_from("rollout.canary_steps", src)
                break
    return rollout


_FREQUENCIES = {"hourly": 3600, "daily": 86400, "nightly": 86400, "weekly": 604800, "monthly": 2592000}


def _backup(
    ctx: ParseContext, merge: _Merge, req: Optional[ReqData], sys: Optional[SysData], spec: Optional[SpecData]
) -> Backup:
    values: Dict[str, Any] = {}
    docs: List[Tuple[Dict[str, Tuple[Any, int]], str, str]] = []
    if req is not None:
        docs.append((req.backup, req.path, req.quality_section))
    if sys is not None:
        docs.append((sys.backup, sys.path, sys.backup_section))
    for facts, path, section in docs:
        for key, (value, line) in facts.items():
            if key not in values:
                values[key] = value
                ctx.src("backup.%s" % key, path, line, section)
    if spec is not None:
        for key, (value, line) in spec.backup.items():
            if key not in values:
                values[key] = value
                ctx.src("backup.%s" % key, spec.path, line, "SPEC")
            elif key in ("retention_days", "rpo_seconds", "rto_seconds") and values[key] != value:
                used = ctx.sources["backup.%s" % key]
                merge.conflict(
                    "backup %s" % key.replace("_", " "),
                    (values[key], used.ref()),
                    (value, _ref(spec.path, line)),
                    "REQ/SYS",
                    "SPEC",
                )
    frequency = values.get("frequency")
    interval = None
    if frequency:
        low = str(frequency).lower()
        interval = _FREQUENCIES.get(low)
        m = re.search(r"every\s+(\d+)\s*(minutes?|mins?|hours?|h|days?)", low)
        if m:
            n = int(m.group(1))
            interval = n * (60 if m.group(2).startswith("m") else 3600 if m.group(2).startswith("h") else 86400)
        if interval is not None:
            ctx.src_from("backup.interval_seconds", ctx.sources.get("backup.frequency"))
    recovery = tuple(spec.recovery) if spec else ()
    return Backup(
        strategy=values.get("strategy"),
        frequency=str(frequency) if frequency else None,
        interval_seconds=interval,
        retention_days=values.get("retention_days"),
        rpo_seconds=values.get("rpo_seconds"),
        rto_seconds=values.get("rto_seconds"),
        automated=values.get("automated"),
        cross_region=values.get("cross_region"),
        recovery_procedures=recovery,
    )


def _traceability(
    req: Optional[ReqData],
    spec: Optional[SpecData],
    sys: Optional[SysData],
    adrs: List[AdrData],
    deployment: Dict[str, DeploymentData],
) -> Traceability:
    tags: List[Tag] = []
    seen = set()
    for source_tags in (req.tags if req else [], sys.tags if sys else [], spec.tags if spec else []):
        for tag in source_tags:
            key = (tag.kind, tag.value)
            if key not in seen:
                seen.add(key)
                tags.append(tag)
    # grouped by kind (kinds in order of first use), as the serialised form lists them
    kinds = {t.kind: None for t in tags}
    order = {kind: i for i, kind in enumerate(kinds)}
    tags.sort(key=lambda t: order[t.kind])
    documents: List[DocumentRef] = []
    if req is not None:
        documents.append(DocumentRef(req.id or "REQ", "REQ", req.path, req.title))
    if sys is not None:
        documents.append(DocumentRef(sys.id or "SYS", "SYS", sys.path, sys.title))
    spec_id: Optional[str] = None
    if spec is not None:
        m = re.match(r"^(SPEC-\d{2,9})", os.path.basename(spec.path))
        spec_id = m.group(1) if m else (str(spec.id[0]) if spec.id else None)
        documents.append(DocumentRef(spec_id or "SPEC", "SPEC", spec.path, spec.summary[:120]))
    for adr in adrs:
        documents.append(DocumentRef(adr.id or "ADR", "ADR", adr.path, adr.title))
    read_ids = {d.id for d in documents}
    for tag in tags:
        if tag.kind in ("brd", "prd", "ears", "bdd", "adr", "sys", "req", "spec", "ctr", "depends"):
            kind, number = doc_number(tag.value)
            if kind and number:
                ident = "%s-%s" % (kind, number)
                if ident not in read_ids:
                    read_ids.add(ident)
                    documents.append(DocumentRef(ident, kind))
    elements: List[str] = []
    for source_ids in (req.element_ids if req else [], sys.element_ids if sys else []):
        for ident in source_ids:
            if ident not in elements:
                elements.append(ident)
    sys_ids = [d.id for d in documents if d.kind == "SYS"]
    adr_ids = [d.id for d in documents if d.kind == "ADR"]
    infra = deployment.get("infrastructure")
    for ref in infra.adr_refs if infra else []:
        ident = ref[0]
        if ident not in adr_ids:
            adr_ids.append(ident)
    depends = [t.value for t in tags if t.kind == "depends"]
    return Traceability(
        req=req.id if req and req.id else None,
        spec=spec_id,
        sys=tuple(sys_ids),
        adr=tuple(adr_ids),
        documents=tuple(documents),
        tags=tuple(tags),
        element_ids=tuple(elements),
        depends=tuple(depends),
    )


def _checks(ctx: ParseContext, service: Service, environments: Sequence[Environment], rollout: Rollout) -> None:
    """Cross-field checks that make the output wrong when they fail."""
    for i, env in enumerate(environments):
        if env.strategy == "canary" and not (env.canary_steps or rollout.canary_steps):
            src = ctx.sources.get("environments[%d].strategy" % i)
            ctx.warn(
                "%s uses canary but no canary steps are given (9.5.8 Deployment Workflow "
                "or the strategy cell); generators use 10%% -> 25%% -> 50%% -> 100%%" % env.label,
                src.file if src else "",
                src.line if src else 0,
            )
        if env.name == "prod" and env.replicas is not None:
            lo, hi = service.scaling.min_replicas, service.scaling.max_replicas
            src = ctx.sources.get("environments[%d].replicas" % i)
            if (lo is not None and env.replicas < lo) or (hi is not None and env.replicas > hi):
                scale_src = ctx.sources.get("service.scaling.min_replicas")
                ctx.warn(
                    "%s has %d replicas, outside the service scaling range %s-%s (%s)"
                    % (env.label, env.replicas, lo, hi, scale_src.ref() if scale_src else "SPEC"),
                    src.file if src else "",
                    src.line if src else 0,
                )


__all__ = ["DEFAULT_PORT", "Source", "load_model", "slugify"]
