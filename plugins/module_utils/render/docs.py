# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``docs`` target (``devops-flow generate-docs``): ``docs/RUNBOOK.md`` and
``docs/TRACEABILITY.md``.

The runbook is what on-call needs: how to deploy, roll back and restore (the
commands of the generated scripts and playbooks), what to do for each alert (one
heading per alert name: the ``runbook_url`` annotations of the Prometheus rules
point at these anchors), the recovery objectives, contacts, budgets and
thresholds.

The traceability matrix renders every other target through ``generate.render``
(a target that does not apply is listed as "not generated" with its reason) and
ties each requirement element and each document row (``Model.sources``: file and
line) to the generated files whose ``fields`` use it, and to the resources that
carry the row's source comment; rows that produced nothing say why.  Two Mermaid
flowcharts show the infrastructure and the pipeline stages.

Every document value goes through ``md`` (table cells and prose: Markdown, HTML
and template syntax escaped), ``code`` (inline code that survives a table) or
``mermaid_label``; no document text can open a table cell, a link, an HTML tag,
a code span or a Liquid / Go template action.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import shlex
from typing import TYPE_CHECKING, Dict, List, Mapping, Optional, Sequence, Set, Tuple, Union

from ..errors import UsageError
from ..fileset import FileSet, GeneratedFile
from ..model import Model, Source
from . import common
from .monitoring_rules import Alert, AlertPlan, alert_plan

if TYPE_CHECKING:  # pragma: no cover
    from ..generate import Options

OUTPUT_DIR = "docs"
RUNBOOK = "%s/RUNBOOK.md" % OUTPUT_DIR
TRACEABILITY = "%s/TRACEABILITY.md" % OUTPUT_DIR

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: Characters with a meaning in Markdown, HTML, Liquid or math, and how they are written.
_MD = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "{": "&#123;",
    "}": "&#125;",
    "$": "&#36;",
    "|": "&#124;",
    "\\": "\\\\",
    "`": "\\`",
    "*": "\\*",
    "_": "\\_",
    "[": "\\[",
    "]": "\\]",
    "#": "\\#",
    "~": "\\~",
    "!": "\\!",
}
_MERMAID = {'"': "#quot;", "#": "#35;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;", "\\": "#92;"}
#: Which targets use which part of the model (for "why did this row produce nothing").
_USERS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("infrastructure", ("infra", "k8s", "playbooks")),
    ("environments", ("infra", "pipeline", "k8s", "scripts", "playbooks")),
    ("scripts", ("scripts",)),
    ("playbooks", ("playbooks",)),
    ("observability", ("monitoring", "infra")),
    ("security", ("infra", "k8s", "pipeline")),
    ("cost", ("infra",)),
    ("rollout", ("pipeline", "k8s", "scripts")),
    ("backup", ("infra", "playbooks")),
    ("cloud", ("infra", "pipeline")),
    ("iac_provider", ("infra",)),
    ("service", ("container", "k8s", "pipeline", "scripts")),
)


# --------------------------------------------------------------------------- escaping


def one_line(text: object, limit: int = 500) -> str:
    clean = " ".join(_CONTROL.sub(" ", "" if text is None else str(text)).split())
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


def md(text: object, limit: int = 500) -> str:
    """Document text for Markdown prose and table cells: one line, inert."""
    return "".join(_MD.get(ch, ch) for ch in one_line(text, limit))


def code(text: object, limit: int = 300) -> str:
    """Inline code that survives a table cell (pipes escaped, fence longer than any
    backtick run inside)."""
    value = one_line(text, limit).replace("|", "\\|")
    if not value:
        return ""
    runs = [len(r) for r in re.findall(r"`+", value)]
    fence = "`" * (max(runs) + 1 if runs else 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return "%s%s%s%s%s" % (fence, pad, value, pad, fence)


def fence(text: str, language: str = "") -> List[str]:
    """A fenced code block (the fence is longer than any backtick run inside)."""
    runs = [len(r) for r in re.findall(r"`{3,}", text)]
    mark = "`" * (max(runs) + 1 if runs else 3)
    body = [_CONTROL.sub(" ", line) for line in text.split("\n")]
    return ["%s%s" % (mark, language), *body, mark]


def mermaid_label(text: object, limit: int = 80) -> str:
    return '"%s"' % "".join(_MERMAID.get(ch, ch) for ch in one_line(text, limit))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    """A GitHub table: cells are already escaped (``md``/``code``); empty cells get a dash."""
    out = ["| %s |" % " | ".join(headers), "|%s|" % "|".join(["---"] * len(headers))]
    for row in rows:
        cells = [cell.replace("\n", " ") if cell else "-" for cell in row]
        out.append("| %s |" % " | ".join(cells))
    return out


def location(source: Optional[Source]) -> str:
    """``REQ-14_x.md:131`` (the file name, as the generated comments write it)."""
    if source is None:
        return ""
    name = os.path.basename(source.file)
    return "%s:%d" % (name, source.line) if source.line else name


def duration_text(seconds: Optional[int]) -> str:
    if seconds is None:
        return ""
    if seconds >= 86400 and seconds % 3600 == 0:
        human = "%g h" % (seconds / 3600.0)
    elif seconds >= 60:
        human = "%g min" % (seconds / 60.0)
    else:
        return "%d s" % seconds
    return "%d s (%s)" % (seconds, human)


def _money(value: Optional[float]) -> str:
    if value is None:
        return ""
    return ("%.0f" % value) if value == int(value) else ("%.2f" % value)


# --------------------------------------------------------------------------- other targets


@dataclasses.dataclass
class TargetResult:
    name: str
    command: str
    files: Optional[FileSet]
    reason: str = ""


#: Targets the matrix does not render: this one, and the aggregate that contains it.
_NOT_TRACED = ("docs", "all")


def other_targets(
    model: Model,
    options: Options,
    tree: Optional[FileSet] = None,
    rendered: Optional[Mapping[str, Union[FileSet, str]]] = None,
) -> List[TargetResult]:
    """Every other target rendered through ``generate.render`` with the same options.

    ``tree``: the files of the ``all`` target rendered so far; file paths are then
    shown as they are in that tree (``terraform/main.tf`` for ``main.tf``).
    ``rendered``: what the ``all`` target already rendered, per target: its files
    (with their paths in the tree) or the reason it was left out; those targets
    are not rendered a second time."""
    from ..generate import COMMAND_NAMES, TARGETS, render

    results = []
    for name, target in TARGETS.items():
        if name in _NOT_TRACED:
            continue
        command = "devops-flow %s" % COMMAND_NAMES.get(name, name)
        done = (rendered or {}).get(name)
        if isinstance(done, str):
            results.append(TargetResult(name, command, None, one_line(done)))
            continue
        if done is not None:
            if not len(done):
                reason = "; ".join(done.notes) or "the documents give it nothing to generate"
                results.append(TargetResult(name, command, None, one_line(reason)))
            else:
                results.append(TargetResult(name, command, done))
            continue
        try:
            files = render(model, dataclasses.replace(options, target=name))
        except UsageError as exc:
            results.append(TargetResult(name, command, None, one_line(exc)))
            continue
        except ModuleNotFoundError as exc:
            if not (exc.name or "").endswith("render.%s" % target.module):
                raise
            results.append(
                TargetResult(name, command, None, "its renderer (render/%s.py) is not installed" % target.module)
            )
            continue
        if not len(files):
            reason = "; ".join(files.notes) or "the documents give it nothing to generate"
            results.append(TargetResult(name, command, None, one_line(reason)))
            continue
        if tree is not None:
            files = _as_in_tree(files, tree)
        results.append(TargetResult(name, command, files))
    return results


def _as_in_tree(files: FileSet, tree: FileSet) -> FileSet:
    """The files with the paths they have in ``tree`` (the same path, or the path
    under a folder prefix)."""
    out = FileSet(notes=list(files.notes))
    paths = tree.paths()
    for file in files:
        found = [p for p in paths if p == file.path or p.endswith("/" + file.path)]
        path = min(found, key=len) if found else file.path
        out.add(dataclasses.replace(file, path=path))
    return out


def _related(a: str, b: str) -> bool:
    """True when one field path is the other or contains it."""
    return a == b or a.startswith((b + ".", b + "[")) or b.startswith((a + ".", a + "["))


@functools.lru_cache(maxsize=8192)
def _lineage(path: str) -> Tuple[str, ...]:
    """The field path and every path that contains it (``a``, ``a.b``, ``a.b[0]``, ...); the same
    paths are asked for once per generated file, hence the cache."""
    return tuple(path[:i] for i, char in enumerate(path) if char in ".[") + (path,)


class _FileIndex:
    """One generated file's fields and source comments, indexed once for ``trace``:
    ``fields`` and the paths they are in (``contained``) for ``_TreeIndex``, and
    ``resources(marker)``, which is ``_resources(file, marker)`` without the quadratic scans."""

    _MARKER = re.compile(r"\(([^()\s]+)\)")

    def __init__(self, file: GeneratedFile) -> None:
        self.file = file
        self.fields = frozenset(file.fields)
        self.contained = frozenset(p for f in file.fields for p in _lineage(f))
        self.markers: Optional[Dict[str, List[str]]] = None

    def resources(self, marker: str) -> List[str]:
        if self._MARKER.fullmatch("(%s)" % marker) is None:
            return _resources(self.file, marker)
        if self.markers is None:
            self.markers = {}
            lines = self.file.content.split("\n")
            for index, line in enumerate(lines):
                if "(" not in line:
                    continue
                found = dict.fromkeys(self._MARKER.findall(line))
                if not found:
                    continue
                for following in lines[index + 1 : index + 6]:
                    text = following.strip()
                    if text and not text.startswith(("#", "//", "{{/*")):
                        for name in found:
                            self.markers.setdefault(name, []).append(text[:120])
                        break
        return list(self.markers.get(marker, ()))


@dataclasses.dataclass
class Row:
    """One document line and the model fields it gave."""

    source: Source
    section: str
    paths: List[str]
    files: List[Tuple[str, GeneratedFile]] = dataclasses.field(default_factory=list)
    resources: List[Tuple[str, str]] = dataclasses.field(default_factory=list)
    reason: str = ""


def document_rows(model: Model) -> List[Row]:
    """Model.sources grouped by document line, in document order."""
    rows: Dict[Tuple[str, int], Row] = {}
    for path, source in model.sources.items():
        if not isinstance(source, Source) or not source.line:
            continue
        key = (source.file, source.line)
        row = rows.get(key)
        if row is None:
            row = rows[key] = Row(source, source.section, [])
        row.paths.append(path)
    order = {doc.path: i for i, doc in enumerate(model.traceability.documents) if doc.path}
    return sorted(rows.values(), key=lambda r: (order.get(r.source.file, len(order)), r.source.file, r.source.line))


def _resources(file: GeneratedFile, marker: str) -> List[str]:
    """The lines that follow a source comment naming ``marker`` (``doc.md:131``)."""
    out: List[str] = []
    lines = file.content.split("\n")
    needle = "(%s)" % marker
    for index, line in enumerate(lines):
        if needle not in line:
            continue
        for following in lines[index + 1 : index + 6]:
            text = following.strip()
            if text and not text.startswith(("#", "//", "{{/*")):
                out.append(text[:120])
                break
    return out


def _reason(row: Row, results: Sequence[TargetResult], plan: AlertPlan) -> str:
    for skipped in plan.skipped:
        if skipped.path in row.paths:
            return "alert not generated: %s" % skipped.reason
    if all(p.startswith("traceability.") for p in row.paths):
        return "a traceability tag: listed here, carried by every generated file as the requirement id"
    by_name = {r.name: r for r in results}
    users: Dict[str, None] = {}
    for path in row.paths:
        for prefix, targets in _USERS:
            if _related(path, prefix):
                users.update(dict.fromkeys(targets))
    missing = [by_name[t] for t in users if t in by_name and by_name[t].files is None]
    if users and len(missing) == len([t for t in users if t in by_name]):
        return "not generated: %s" % "; ".join("%s (%s)" % (r.name, r.reason) for r in missing)
    return "no generator uses %s: documented here only" % ", ".join(row.paths[:4])


class _TreeIndex:
    """Every generated file, in target order, found by field path: ``related(paths)``
    are the positions of the files with a field ``f`` for which ``_related(f, p)``
    holds for one of the paths ``p`` (``p`` contains ``f`` or is in it), from two
    maps built once instead of a scan of every file for every row."""

    def __init__(self, results: Sequence[TargetResult]) -> None:
        self.files = [(r.name, _FileIndex(f)) for r in results if r.files is not None for f in r.files]
        #: a path -> the files with a field it contains (or is); the files with it as a field
        self.containing: Dict[str, List[int]] = {}
        self.having: Dict[str, List[int]] = {}
        for position, (_name, index) in enumerate(self.files):
            for path in index.contained:
                self.containing.setdefault(path, []).append(position)
            for path in index.fields:
                self.having.setdefault(path, []).append(position)

    def related(self, paths: Sequence[str]) -> List[int]:
        found: Set[int] = set()
        for path in paths:
            found.update(self.containing.get(path, ()))
            for part in _lineage(path):
                found.update(self.having.get(part, ()))
        return sorted(found)


def trace(model: Model, results: Sequence[TargetResult], plan: AlertPlan) -> List[Row]:
    rows = document_rows(model)
    tree = _TreeIndex(results)
    for row in rows:
        marker = location(row.source)
        for position in tree.related(row.paths):
            name, index = tree.files[position]
            row.files.append((name, index.file))
            row.resources.extend((index.file.path, r) for r in index.resources(marker))
        if not row.files:
            row.reason = _reason(row, results, plan)
        else:
            row.reason = "; ".join(
                "alert %s not generated: %s" % (s.name, s.reason) for s in plan.skipped if s.path in row.paths
            )
    return rows


# --------------------------------------------------------------------------- runbook


def _script_usage(files: Optional[FileSet], name: str) -> Optional[Tuple[str, str]]:
    """(path, usage line after the script name) of a generated script."""
    if files is None:
        return None
    for file in files:
        if file.path.rsplit("/", 1)[-1] == name:
            match = re.search(r"^Usage: \$SCRIPT_NAME(.*)$", file.content, re.MULTILINE)
            return file.path, (match.group(1).strip() if match else "")
    return None


def _command(path: str, usage: str, values: Dict[str, str]) -> str:
    """A script call from its usage line: required options with the given values."""
    words = [path]
    for option, metavar in re.findall(r"(?<!\[)(--[a-z-]+) ([A-Z_]+)(?![^\[]*\])", usage):
        words.extend([option, shlex.quote(values.get(metavar, metavar))])
    return " ".join(words)


def _alert_actions(alert: Alert, model: Model, scripts: Optional[FileSet]) -> List[str]:
    prod = model.production
    env = prod.name if prod else "prod"
    rollback = _script_usage(scripts, "rollback.sh")
    health = _script_usage(scripts, "health-check.sh")
    steps: List[str] = []
    if alert.kind in ("error_rate", "availability", "latency"):
        steps.append("Check whether a deployment is in progress or just finished (pipeline, release annotations).")
        if rollback:
            steps.append(
                "If it started with a release, roll back: %s"
                % code(_command(rollback[0], rollback[1], {"ENVIRONMENT": env}))
            )
        steps.append("Look at the dashboard's request, error and duration panels by route, and at the logs.")
        if alert.kind == "latency":
            steps.append("Check saturation (CPU, memory) and the database, cache and queue the service depends on.")
    elif alert.kind in ("target_down", "service_down"):
        if health:
            steps.append("Check health: %s" % code(_command(health[0], health[1], {"ENVIRONMENT": env})))
        steps.append("Check that the process or task runs and that Prometheus reaches it (the targets page).")
        if alert.kind == "service_down" and rollback:
            steps.append(
                "If the last release does not start, roll back: %s"
                % code(_command(rollback[0], rollback[1], {"ENVIRONMENT": env}))
            )
    elif alert.kind in ("cpu", "memory"):
        steps.append("Find the busiest process on the host; scale out (more replicas) or up if it is the service.")
        steps.append("Check for a leak or a runaway job if usage grows without more traffic.")
    else:
        steps.append("Check the metric on the dashboard and what feeds it (queue, outbox, consumer).")
        steps.append("Follow the recovery procedures below when the backlog does not drain.")
    return steps


def _environment_rows(model: Model) -> List[List[str]]:
    rows = []
    for index, env in enumerate(common.environments(model)):
        source = model.source("environments[%d]" % index) if model.environments else None
        rows.append(
            [
                code(env.name),
                md(env.label),
                md(env.strategy or ""),
                md(common.environment_replicas(model, env)),
                md(duration_text(env.rollback_seconds)),
                md(", ".join(env.regions)),
                md(", ".join(env.zones)),
                md(location(source)) if source else "default",
            ]
        )
    return rows


def _image(model: Model) -> str:
    return "%s:%s" % (common.image(model), common.image_tag(model))


def runbook(model: Model, results: Sequence[TargetResult], plan: AlertPlan) -> Tuple[str, Tuple[str, ...]]:
    by_name = {r.name: r for r in results}
    scripts = by_name["scripts"].files if "scripts" in by_name else None
    playbooks = by_name["playbooks"].files if "playbooks" in by_name else None
    service = model.service
    name = common.service_name(model)
    fields: Dict[str, None] = dict.fromkeys(("service.name", "environments", "backup", "cost", "observability"))
    out: List[str] = ["# Runbook: %s (%s)" % (md(service.title or name), md(name)), ""]
    documents = [d for d in model.traceability.documents if d.path]
    out.append(
        "Requirement %s. Generated by sdd.devops_flow from %s: edit the documents and generate again."
        % (md(model.req_id), ", ".join(code(os.path.basename(d.path or "")) for d in documents) or "no documents")
    )
    out += ["", "## Service", ""]
    compute = model.infrastructure.compute
    health = service.health
    out += table(
        ["Item", "Value", "Source"],
        [
            ["Service", code(name), md(location(model.source("service.name")))],
            ["Cloud", md(model.cloud.provider or "not decided"), md(location(model.source("cloud.provider")))],
            [
                "Compute",
                md(compute.service or compute.kind) if compute else "",
                md(location(model.source("infrastructure.compute"))),
            ],
            ["Ports", md(", ".join(str(p) for p in service.ports)), md(location(model.source("service.ports")))],
            ["Liveness", code(common.liveness_path(model)), md(location(model.source("service.health.liveness")))],
            ["Readiness", code(common.readiness_path(model)), md(location(model.source("service.health.readiness")))],
            ["Startup", code(health.startup or ""), md(location(model.source("service.health.startup")))],
            ["Image", code(_image(model)), md(location(model.source("service.image")))],
        ],
    )
    out += ["", "## Contacts", ""]
    spec = next((d for d in model.traceability.documents if d.kind == "SPEC" and d.path), None)
    if spec is not None:
        out.append(
            "Owners and authors: the metadata of %s (%s)." % (md(spec.id), code(os.path.basename(spec.path or "")))
        )
    else:
        out.append("Owners and authors: no SPEC was read; see the REQ's Document Control.")
    channels = [c for c in model.observability.notification_channels if c.strip()]
    out.append("")
    out.append(
        "Alerts notify: %s (routing in %s)."
        % (
            ", ".join(md(c) for c in channels) if channels else "no channel named by the documents",
            code("monitoring/alertmanager/alertmanager.yml"),
        )
    )
    out += ["", "## Recovery objectives", ""]
    backup = model.backup
    out += table(
        ["Objective", "Value", "Source"],
        [
            [
                "RTO",
                md(duration_text(backup.rto_seconds)) or "not stated",
                md(location(model.source("backup.rto_seconds"))),
            ],
            [
                "RPO",
                md(duration_text(backup.rpo_seconds)) or "not stated",
                md(location(model.source("backup.rpo_seconds"))),
            ],
            ["Backup strategy", md(backup.strategy or ""), md(location(model.source("backup.strategy")))],
            ["Frequency", md(backup.frequency or ""), md(location(model.source("backup.frequency")))],
            [
                "Retention",
                md("%d days" % backup.retention_days) if backup.retention_days is not None else "",
                md(location(model.source("backup.retention_days"))),
            ],
            ["Automated", md(_yes_no(backup.automated)), md(location(model.source("backup.automated")))],
            ["Cross-region copy", md(_yes_no(backup.cross_region)), md(location(model.source("backup.cross_region")))],
        ],
    )
    out += ["", "## Environments", ""]
    out += table(
        ["Environment", "Label", "Strategy", "Replicas", "Rollback time", "Regions", "Zones", "Source"],
        _environment_rows(model),
    )
    out += ["", "## Deploy", ""]
    out += _deploy_section(model, scripts, playbooks, by_name)
    out += ["", "## Rollback", ""]
    rollback = _script_usage(scripts, "rollback.sh")
    for env in common.environments(model):
        limit = duration_text(env.rollback_seconds)
        if rollback:
            out.append(
                "- %s: %s%s"
                % (
                    code(env.name),
                    code(_command(rollback[0], rollback[1], {"ENVIRONMENT": env.name})),
                    (", ready within %s" % md(limit)) if limit else "",
                )
            )
        else:
            out.append(
                "- %s: no rollback script is generated%s"
                % (code(env.name), (" (target: %s)" % md(limit)) if limit else "")
            )
    if model.rollout.auto_rollback:
        out += ["", "Automatic rollback is required by the documents (9.5.8)."]
    checks = [i for i in model.rollout.validation if i.phase in ("rollback", "monitoring", "post-deployment")]
    if checks:
        out += ["", "Checks after a deployment or a rollback (9.5.8):", ""]
        out += ["- %s: %s" % (md(item.phase), md(item.text)) for item in checks]
    out += ["", "## Restore", ""]
    out += _restore_section(model, playbooks)
    out += ["", "## Alerts", ""]
    out += _alerts_section(model, plan, scripts)
    out += ["", "## Alert thresholds", ""]
    out += _thresholds_section(model)
    out += ["", "## Cost budgets", ""]
    out += _cost_section(model)
    out += ["", "## Monitoring checks", ""]
    out += fence(
        "\n".join(
            [
                "promtool check config monitoring/prometheus/prometheus.yml",
                "promtool test rules monitoring/prometheus/tests/*.rules.test.yml",
                "amtool check-config monitoring/alertmanager/alertmanager.yml",
            ]
        ),
        "sh",
    )
    fields.update(dict.fromkeys(p for a in plan.alerts for p in a.paths))
    return "\n".join(out) + "\n", tuple(fields)


def _yes_no(value: Optional[bool]) -> str:
    return "" if value is None else ("yes" if value else "no")


def _deploy_section(
    model: Model, scripts: Optional[FileSet], playbooks: Optional[FileSet], by_name: Dict[str, TargetResult]
) -> List[str]:
    out: List[str] = []
    deploy = _script_usage(scripts, "deploy.sh")
    health = _script_usage(scripts, "health-check.sh")
    image = _image(model)
    if deploy is None:
        reason = by_name["scripts"].reason if "scripts" in by_name and by_name["scripts"].files is None else ""
        out.append("No deployment script is generated%s." % ((": " + md(reason)) if reason else ""))
    for env in common.environments(model):
        strategy = env.strategy or "rolling"
        out += ([""] if out else []) + ["### %s (%s)" % (md(env.label or env.name), md(strategy)), ""]
        commands: List[str] = []
        if deploy:
            commands.append(_command(deploy[0], deploy[1], {"ENVIRONMENT": env.name, "IMAGE": image}))
        if health:
            commands.append(_command(health[0], health[1], {"ENVIRONMENT": env.name}))
        if strategy == "canary":
            steps = " → ".join("%d%%" % s for s in common.canary_steps(model, env))
            out.append(
                "Canary: traffic %s, holding %s at each step while the error ratio and p95 latency are checked."
                % (steps, md(duration_text(common.hold_seconds(model))))
            )
        elif strategy == "blue-green":
            out.append("Blue-green: the idle colour gets the release and is checked, then traffic switches at once.")
        elif strategy == "manual":
            out.append("Manual: run the commands yourself; nothing is promoted automatically.")
        else:
            out.append("Rolling: replicas are replaced a few at a time while readiness holds.")
        if commands:
            out += [""] + fence("\n".join(commands), "sh")
    if deploy:
        out += ["", "Options of %s: %s" % (code(deploy[0]), code(deploy[1]))]
    if playbooks is not None:
        out += ["", "### Playbooks", ""]
        inventory = next((f.path for f in playbooks if "/inventory/" in f.path), None)
        tags = {os.path.basename(p.name.strip().strip("`")): p.tags for p in model.playbooks.items}
        for file in playbooks:
            if file.kind != "ansible-playbook":
                continue
            words = ["ansible-playbook"]
            if inventory:
                words += ["-i", inventory]
            words.append(file.path)
            base = os.path.basename(file.path)
            out.append(
                "- %s%s"
                % (code(" ".join(words)), (" (tags: %s)" % md(", ".join(tags[base]))) if tags.get(base) else "")
            )
    elif "playbooks" in by_name:
        out += ["", "Playbooks: not generated (%s)." % md(by_name["playbooks"].reason)]
    return out


def _restore_section(model: Model, playbooks: Optional[FileSet]) -> List[str]:
    backup = model.backup
    out: List[str] = []
    if backup.recovery_procedures:
        out.append("Recovery procedures (SPEC):")
        out.append("")
        for procedure in backup.recovery_procedures:
            head, colon, steps = procedure.partition(":")
            if colon and steps:
                out.append(
                    "- %s: %s" % (md(head.strip()), " → ".join(md(s.strip()) for s in steps.split(",") if s.strip()))
                )
            else:
                out.append("- %s" % md(procedure))
    else:
        out.append("The documents give no recovery procedure.")
    restore = None
    if playbooks is not None:
        restore = next(
            (f.path for f in playbooks if f.kind == "ansible-playbook" and re.search(r"backup|restore", f.path)), None
        )
    if restore:
        out += ["", "Restore drill: %s" % code("ansible-playbook %s" % restore)]
    out += [
        "",
        "A restore must end within the RTO, %s, and lose at most the RPO, %s, of data."
        % (
            md(duration_text(backup.rto_seconds)) or "not stated",
            md(duration_text(backup.rpo_seconds)) or "not stated",
        ),
    ]
    return out


def _alerts_section(model: Model, plan: AlertPlan, scripts: Optional[FileSet]) -> List[str]:
    out: List[str] = [
        "Every alert below is a Prometheus rule of %s; its %s annotation points at its heading."
        % (code("monitoring/prometheus/rules/"), code("runbook_url")),
        "",
    ]
    rows = []
    for alert in plan.alerts:
        source = next((location(model.source(p)) for p in alert.paths if model.source(p)), "")
        rows.append(
            [
                "[%s](#%s)" % (md(alert.name), alert.anchor),
                md(alert.severity),
                md(_threshold(alert)),
                md(duration_text(alert.for_seconds)) or "at once",
                md(", ".join(alert.channels)) or "severity route",
                md(source) or "default",
            ]
        )
    out += table(["Alert", "Severity", "Threshold", "For", "Channels", "Source"], rows)
    for name, group in plan.groups().items():
        first = group[0]
        out += ["", "### %s" % name, ""]
        out.append("Measures the %s." % md(first.summary))
        out.append("")
        for alert in group:
            sources = ", ".join(md(location(model.source(p))) for p in alert.paths if model.source(p))
            out.append(
                "- %s: %s%s%s%s"
                % (
                    md(alert.severity),
                    md(_threshold(alert)),
                    (" for %s" % md(duration_text(alert.for_seconds))) if alert.for_seconds else "",
                    (", notifies %s" % md(", ".join(alert.channels))) if alert.channels else "",
                    (" (%s)" % sources) if sources else " (default of sdd.devops_flow)",
                )
            )
            for condition in alert.conditions:
                out.append("  - documents: %s" % md(condition))
            for other in alert.also_named:
                out.append("  - also named %s in the documents" % md(other))
            for note in alert.notes:
                out.append("  - note: %s" % md(note))
        out += [""] + fence(first.expr, "promql") + ["", "Actions:", ""]
        out += ["%d. %s" % (i + 1, step) for i, step in enumerate(_alert_actions(first, model, scripts))]
    if plan.skipped:
        out += ["", "### Document alerts that are not Prometheus alerts", ""]
        out += table(
            ["Alert", "Condition", "Source", "Why"],
            [[md(s.name), md(s.condition), md(location(model.source(s.path))), md(s.reason)] for s in plan.skipped],
        )
    return out


def _threshold(alert: Alert) -> str:
    if alert.kind in ("target_down", "service_down"):
        return alert.threshold_text
    return "%s %s" % (alert.op, alert.threshold_text)


def _thresholds_section(model: Model) -> List[str]:
    rows = []
    for group, label in (("thresholds", "alert"), ("targets", "quality target")):
        holder = getattr(model.observability, group)
        for attr, title, fmt in (
            ("p95_latency_ms", "p95 latency", "%s ms"),
            ("p99_latency_ms", "p99 latency", "%s ms"),
            ("error_rate_ratio", "error rate", "ratio %s"),
            ("availability_percent", "availability", "%s %%"),
        ):
            value = getattr(holder, attr)
            if value is None:
                continue
            path = "observability.%s.%s" % (group, attr)
            rows.append([md(title), md(label), md(fmt % ("%g" % value)), md(location(model.source(path)))])
    if model.observability.tracing_sample_rate is not None:
        rows.append(
            [
                "trace sampling",
                "rate",
                md("%g %%" % (model.observability.tracing_sample_rate * 100)),
                md(location(model.source("observability.tracing_sample_rate"))),
            ]
        )
    if not rows:
        return ["The documents give no threshold."]
    return table(["Measure", "Kind", "Value", "Source"], rows)


def _cost_section(model: Model) -> List[str]:
    cost = model.cost
    if not cost.budgets and cost.total_monthly_usd is None:
        return ["The documents give no budget."]
    rows = []
    for index, budget in enumerate(cost.budgets):
        rows.append(
            [
                md(budget.resource),
                md(_money(budget.monthly_usd)),
                md(", ".join("%g %%" % p for p in budget.threshold_percents)),
                md(budget.optimization),
                md(location(model.source("cost.budgets[%d]" % index))),
            ]
        )
    out = table(["Resource", "Monthly (%s)" % md(cost.currency or "USD"), "Alert at", "Optimization", "Source"], rows)
    if cost.total_monthly_usd is not None:
        out += ["", "Total: %s %s a month." % (md(_money(cost.total_monthly_usd)), md(cost.currency or "USD"))]
    return out


# --------------------------------------------------------------------------- traceability


def _infrastructure_diagram(model: Model) -> List[str]:
    infra = model.infrastructure
    name = common.service_name(model)
    compute = infra.compute
    lines = ["flowchart LR", '  clients(["Clients"])']
    app_label = "%s: %s" % (name, (compute.service or compute.kind) if compute else "compute not stated")
    lines.append("  app[%s]" % mermaid_label(app_label))
    if infra.network and (infra.network.load_balancer or infra.network.service):
        lines.append(
            "  lb[%s]" % mermaid_label("Load balancer: %s" % (infra.network.load_balancer or infra.network.service))
        )
        lines.append("  clients --> lb --> app")
    else:
        lines.append("  clients --> app")
    parts: List[Tuple[str, str, str]] = []
    if infra.database is not None:
        parts.append(("db", "[(%s)]", "Database: %s %s" % (infra.database.engine, infra.database.version or "")))
    if infra.cache is not None:
        parts.append(("cache", "[(%s)]", "Cache: %s" % (infra.cache.service or infra.cache.engine)))
    if infra.queue is not None:
        parts.append(("queue", "[[%s]]", "Queue: %s" % (infra.queue.service or infra.queue.kind)))
    if infra.storage is not None:
        parts.append(("storage", "[(%s)]", "Storage: %s" % (infra.storage.service or infra.storage.kind)))
    for node, shape, label in parts:
        lines.append("  %s%s" % (node, shape % mermaid_label(label)))
        lines.append("  app --> %s" % node)
    lines.append('  subgraph environments["Environments"]')
    envs = common.environments(model)
    for index, env in enumerate(envs):
        lines.append(
            "    env%d[%s]"
            % (
                index,
                mermaid_label(
                    "%s: %s, %d replica(s)"
                    % (env.name, env.strategy or "rolling", common.environment_replicas(model, env))
                ),
            )
        )
    lines.append("  end")
    for index in range(1, len(envs)):
        lines.append("  env%d --> env%d" % (index - 1, index))
    return lines


def _pipeline_diagram(model: Model, options: Options) -> List[str]:
    from .pipelines_plan import build_plan

    try:
        plan = build_plan(model, dataclasses.replace(options, target="pipeline"))
    except UsageError as exc:
        return ["flowchart LR", "  none[%s]" % mermaid_label("no pipeline: %s" % exc)]
    lines = ["flowchart LR"]
    ids: Dict[str, str] = {}
    for stage_index, stage in enumerate(plan.stages):
        lines.append("  subgraph s%d[%s]" % (stage_index, mermaid_label(stage.title)))
        for job in stage.jobs:
            ids[job.id] = "j%d" % len(ids)
            lines.append("    %s[%s]" % (ids[job.id], mermaid_label(job.title)))
        lines.append("  end")
    for job in plan.jobs:
        for need in job.needs:
            if need in ids:
                lines.append("  %s --> %s" % (ids[need], ids[job.id]))
    return lines


def _element_sources(model: Model, element: str) -> List[str]:
    found: Dict[str, None] = {}
    for tag in model.traceability.tags:
        if tag.value == element and tag.file:
            found.setdefault("%s:%d" % (os.path.basename(tag.file), tag.line) if tag.line else tag.file, None)
    return list(found)


def traceability(
    model: Model, options: Options, results: Sequence[TargetResult], plan: AlertPlan
) -> Tuple[str, Tuple[str, ...]]:
    name = common.service_name(model)
    rows = trace(model, results, plan)
    out: List[str] = [
        "# Traceability: %s (%s)" % (md(model.service.title or name), md(name)),
        "",
        "Requirement %s: which document rows produced which generated files and resources, "
        "and which produced nothing, and why." % md(model.req_id),
        "",
        "## Documents",
        "",
    ]
    out += table(
        ["Id", "Kind", "File", "Title"],
        [
            [md(d.id), md(d.kind), code(d.path) if d.path else "referenced, not bundled", md(d.title, 120)]
            for d in model.traceability.documents
        ],
    )
    out += ["", "## Generated targets", ""]
    out += table(
        ["Target", "Command", "Files"],
        [
            [
                md(r.name),
                code(r.command),
                ("%d file(s)" % len(r.files)) if r.files is not None else "not generated: %s" % md(r.reason),
            ]
            for r in results
        ],
    )
    out += ["", "## Requirement elements", ""]
    element_rows = []
    for element in model.traceability.element_ids:
        sources = _element_sources(model, element)
        produced = [r for r in rows if element in r.section]
        files = sorted({pair[1].path for r in produced for pair in r.files})
        element_rows.append(
            [
                code(element),
                md(element.split(".", 1)[0]),
                md(", ".join(sources)),
                ", ".join(code(f) for f in files[:8])
                if files
                else "carried by every generated file as %s: the documents tie no deployment value to it"
                % md(model.req_id),
            ]
        )
    out += table(["Element", "Kind", "Tagged at", "Produced"], element_rows) if element_rows else ["No element ids."]
    out += ["", "## Document rows", ""]
    out.append(
        "Each line of the documents that gave the model a value (9.5 rows, SPEC keys, quality attributes), "
        "the model fields it gave, and the generated files that use them."
    )
    out.append("")
    matrix = []
    for row in rows:
        files = [
            "%s: %s" % (md(target), code(file.path))
            for target, file in sorted({(t, f.path): (t, f) for t, f in row.files}.values(), key=lambda x: x[1].path)
        ]
        resources = [code(pair[1]) for pair in row.resources[:6]]
        matrix.append(
            [
                code(location(row.source)),
                md(row.section),
                ", ".join(code(p) for p in row.paths[:6]) + (" ..." if len(row.paths) > 6 else ""),
                "<br>".join([*files, md(row.reason)] if row.reason else files)
                if files
                else "nothing: %s" % md(row.reason),
                "<br>".join(resources),
            ]
        )
    out += table(["Source", "Section", "Model fields", "Generated files", "Resources"], matrix)
    nothing = [r for r in rows if not r.files]
    out += ["", "## Rows that produced nothing", ""]
    if nothing:
        out += ["- %s (%s): %s" % (code(location(r.source)), md(r.section), md(r.reason)) for r in nothing]
    else:
        out.append("Every row produced at least one file.")
    out += ["", "## Generated files", ""]
    file_rows = []
    # (target, path) -> locations of the rows that produced the file, in row order
    traced_by: Dict[Tuple[str, str], List[str]] = {}
    for row in rows:
        for key in dict.fromkeys((t, f.path) for t, f in row.files):
            traced_by.setdefault(key, []).append(location(row.source))
    for result in results:
        if result.files is None:
            continue
        for file in result.files:
            traced = traced_by.get((result.name, file.path), [])
            file_rows.append(
                [
                    md(result.name),
                    code(file.path),
                    md(file.kind),
                    md(len(file.fields)),
                    ", ".join(code(t) for t in traced[:8]) + (" ..." if len(traced) > 8 else ""),
                ]
            )
    out += table(["Target", "File", "Kind", "Model fields", "Document rows"], file_rows)
    out += ["", "## Infrastructure", ""]
    out += fence("\n".join(_infrastructure_diagram(model)), "mermaid")
    out += ["", "## Pipeline stages", ""]
    out += fence("\n".join(_pipeline_diagram(model, options)), "mermaid")
    return "\n".join(out) + "\n", ("traceability", "environments", "infrastructure")


# --------------------------------------------------------------------------- target


def render_docs(
    model: Model,
    options: Options,
    tree: Optional[FileSet] = None,
    rendered: Optional[Mapping[str, Union[FileSet, str]]] = None,
) -> FileSet:
    """The ``docs`` target (``devops-flow generate-docs``); ``tree`` and ``rendered``
    are given by the ``all`` target (the files of the other families, as they are
    in its tree, and per family its files or why it was left out)."""
    results = other_targets(model, options, tree, rendered)
    plan = alert_plan(model)
    files = FileSet()
    text, fields = runbook(model, results, plan)
    files.add(GeneratedFile(RUNBOOK, text, "markdown", fields, "none"))
    text, fields = traceability(model, options, results, plan)
    files.add(GeneratedFile(TRACEABILITY, text, "markdown", fields, "none"))
    return files


__all__ = ["RUNBOOK", "TRACEABILITY", "code", "md", "mermaid_label", "other_targets", "render_docs", "trace"]
