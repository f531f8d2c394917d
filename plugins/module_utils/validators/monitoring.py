# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Monitoring: promtool, amtool, and structural checks for Grafana dashboards,
OpenTelemetry Collector configurations and Prometheus file_sd target lists.

=====================  ========================  ===========================================
validator              kind                      tool
=====================  ========================  ===========================================
PromtoolConfig         prometheus-config         ``promtool check config`` (also loads the
                                                 rule files and file_sd lists it names)
PromtoolRules          prometheus-rules          ``promtool check rules``
PromtoolTest           prometheus-rule-tests     ``promtool test rules``
Amtool                 alertmanager-config       ``amtool check-config``
GrafanaDashboard       grafana-dashboard         JSON structure, and every query through
                                                 ``promtool check rules``
OtelCollector          otel-collector            YAML structure (no collector binary here)
PrometheusTargets      prometheus-targets        file_sd JSON / YAML structure
=====================  ========================  ===========================================

Every tool runs in the validated (staged) folder, so the relative paths of a
configuration (``rule_files``, ``file_sd_configs``, a test file's
``rule_files``) resolve as they will on the server.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from ..errors import Finding
from .base import Tool, Validator, rel, run_tool

PROMTOOL = Tool(
    "promtool",
    "promtool",
    "apt-get install prometheus (promtool ships with it), or promtool from a Prometheus release archive",
)
AMTOOL = Tool(
    "amtool",
    "amtool",
    "apt-get install prometheus-alertmanager (amtool ships with it), or amtool from an Alertmanager release archive",
)

_FILE_LINE = re.compile(r"^(?P<file>[^\s:][^:]*?):\s*(?P<line>\d+):(?:\d+:)?\s*(?P<msg>.*)$")
_LINE = re.compile(r"\bline (\d+)\b")


def _read(root: str, path: str) -> Optional[str]:
    try:
        with open(os.path.join(root, path), encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def _promtool_findings(validator: Validator, output: str, root: str, default: str) -> List[Finding]:
    """Findings of ``promtool check config|rules`` output: ``Checking <file>`` blocks
    whose ``FAILED:`` lines (and the lines after them) are the errors."""
    findings: List[Finding] = []
    current = default
    failed = False
    for raw in output.splitlines():
        line = raw.strip()
        if not line:
            failed = False
            continue
        if line.startswith("Checking "):
            current = rel(line[len("Checking ") :].strip().strip("'\""), root)
            failed = False
            continue
        if line.startswith("SUCCESS"):
            continue
        if line.startswith("FAILED"):
            failed = True
            line = line[len("FAILED") :].lstrip(":").strip()
            if not line:
                continue
        if not failed and not line.startswith(("WARNING", "Warning")):
            continue
        if line.endswith(":"):
            continue  # the header of the error lines that follow
        severity = "warning" if line.startswith(("WARNING", "Warning")) else "error"
        match = _FILE_LINE.match(line)
        if match and os.path.exists(os.path.join(root, match.group("file"))):
            findings.append(
                validator.finding(
                    match.group("msg"), rel(match.group("file"), root), int(match.group("line")), severity
                )
            )
            continue
        number = _LINE.search(line)
        findings.append(validator.finding(line, current, int(number.group(1)) if number else 0, severity))
    return findings


class PromtoolConfig(Validator):
    """``promtool check config`` on each prometheus.yml (rule files and file_sd lists
    it references are checked too, relative to the configuration's folder)."""

    name = "promtool check config"
    kinds = ("prometheus-config",)
    tools = (PROMTOOL,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        findings: List[Finding] = []
        for path in files:
            result = run_tool([tools["promtool"], "check", "config", path], cwd=root)
            if result.returncode == 0:
                continue
            found = _promtool_findings(self, result.stdout + "\n" + result.stderr, root, path)
            findings.extend(found or [self.failed_to_run(result, [path])])
        return findings


class PromtoolRules(Validator):
    """``promtool check rules`` (syntax, PromQL, duplicate rules)."""

    name = "promtool check rules"
    kinds = ("prometheus-rules",)
    tools = (PROMTOOL,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        if not files:
            return []
        result = run_tool([tools["promtool"], "check", "rules", *files], cwd=root)
        found = _promtool_findings(self, result.stdout + "\n" + result.stderr, root, files[0])
        if result.returncode != 0 and not [f for f in found if f.severity == "error"]:
            found.append(self.failed_to_run(result, files))
        return found


class PromtoolTest(Validator):
    """``promtool test rules``: the unit tests of the alerting rules."""

    name = "promtool test rules"
    kinds = ("prometheus-rule-tests",)
    tools = (PROMTOOL,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        findings: List[Finding] = []
        for path in files:
            result = run_tool([tools["promtool"], "test", "rules", path], cwd=root)
            if result.returncode == 0:
                continue
            failures = _test_failures(result.stdout + "\n" + result.stderr)
            if not failures:
                findings.append(self.failed_to_run(result, [path]))
                continue
            for failure in failures[:20]:
                match = _FILE_LINE.match(failure)
                if match and os.path.exists(os.path.join(root, match.group("file"))):
                    findings.append(
                        self.finding(match.group("msg"), rel(match.group("file"), root), int(match.group("line")))
                    )
                else:
                    findings.append(self.finding(failure[:1500], path))
        return findings


def _test_failures(output: str) -> List[str]:
    """One message per failed check of ``promtool test rules`` output (an
    ``alertname:`` or ``expr:`` block collapsed to one line), or the distinct error
    lines when the tests could not run at all (a rule file that does not load)."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip() and not ln.strip().startswith("Unit Testing")]
    blocks: List[List[str]] = []
    loose: Dict[str, None] = {}
    for line in lines:
        if line.startswith("FAILED"):
            line = line[len("FAILED") :].lstrip(":").strip()
            if not line:
                continue
        if line.startswith(("alertname:", "expr:")):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
        else:
            loose.setdefault(line, None)
    if blocks:
        return [" ".join(block) for block in blocks]
    return [line for line in loose if not line.endswith(":") and line != "SUCCESS"]


class Amtool(Validator):
    """``amtool check-config`` on each alertmanager.yml."""

    name = "amtool check-config"
    kinds = ("alertmanager-config",)
    tools = (AMTOOL,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        findings: List[Finding] = []
        for path in files:
            result = run_tool([tools["amtool"], "check-config", path], cwd=root)
            if result.returncode == 0:
                continue
            text = (result.stdout + "\n" + result.stderr).strip()
            lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("amtool: error")]
            messages = [ln for ln in lines if (_LINE.search(ln) or "FAILED" in ln) and not ln.endswith(":")]
            if not messages:
                findings.append(self.failed_to_run(result, [path]))
                continue
            for message in messages:
                message = re.sub(r"^Checking '[^']*'\s*", "", message)
                number = _LINE.search(message)
                findings.append(self.finding(message, path, int(number.group(1)) if number else 0))
        return findings


# --------------------------------------------------------------------------- Grafana

_GRAFANA_BUILTINS = ("__rate_interval", "__interval", "__range", "__range_s", "__interval_ms", "__range_ms")
_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]")


def _json_line(text: str, needle: str, start: int = 0) -> Tuple[int, int]:
    """(line, offset) of the first match of the regular expression ``needle`` at or
    after ``start`` (line 0 when not found)."""
    match = re.compile(needle).search(text, start)
    if not match:
        return 0, start
    return text.count("\n", 0, match.start()) + 1, match.end()


class GrafanaDashboard(Validator):
    """A Grafana dashboard (classic JSON model): JSON, a title and a schemaVersion,
    panels with unique ids and a valid gridPos on the 24-column grid, a data source
    on every panel that queries (a ``${name}`` data source must be a datasource
    variable of the dashboard), targets with a unique refId and an expression, and
    every Prometheus expression accepted by ``promtool check rules`` (Grafana's
    ``$__rate_interval`` and friends become ``5m``)."""

    name = "grafana dashboard"
    kinds = ("grafana-dashboard",)
    tools = (PROMTOOL,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        findings: List[Finding] = []
        for path in files:
            findings.extend(self._one(root, path, tools["promtool"]))
        return findings

    def _one(self, root: str, path: str, promtool: str) -> List[Finding]:
        text = _read(root, path)
        if text is None:
            return [self.finding("cannot be read as UTF-8 text", path)]
        try:
            data = json.loads(text)
        except ValueError as exc:
            return [self.finding("not valid JSON: %s" % exc, path, getattr(exc, "lineno", 0))]
        if not isinstance(data, dict):
            return [self.finding("a dashboard is a JSON object", path, 1)]
        out: List[Finding] = []
        if not isinstance(data.get("title"), str) or not data["title"].strip():
            out.append(self.finding("the dashboard has no title", path, _json_line(text, r'"title"')[0]))
        if not isinstance(data.get("schemaVersion"), int):
            out.append(self.finding("schemaVersion must be an integer", path, _json_line(text, r'"schemaVersion"')[0]))
        uid = data.get("uid")
        if uid is not None and (not isinstance(uid, str) or not re.match(r"^[A-Za-z0-9_-]{1,40}$", uid)):
            out.append(self.finding("uid must be 1-40 letters, digits, - or _", path, _json_line(text, r'"uid"')[0]))
        variables: Dict[str, str] = {}
        templating = data.get("templating", {})
        for variable in templating.get("list", []) if isinstance(templating, dict) else []:
            if not isinstance(variable, dict) or not isinstance(variable.get("name"), str):
                out.append(self.finding("a template variable has no name", path, _json_line(text, r'"templating"')[0]))
                continue
            if variable["name"] in variables:
                out.append(self.finding("template variable %s is defined twice" % variable["name"], path))
            variables[variable["name"]] = str(variable.get("type", ""))
        panels = data.get("panels")
        if not isinstance(panels, list):
            return [*out, self.finding("the dashboard has no panels list", path, _json_line(text, r'"panels"')[0])]
        flat: List[Dict[str, Any]] = []
        for panel in panels:
            if isinstance(panel, dict):
                flat.append(panel)
                nested = panel.get("panels")
                if panel.get("type") == "row" and isinstance(nested, list):
                    flat.extend(p for p in nested if isinstance(p, dict))
            else:
                out.append(self.finding("a panel is not a JSON object", path))
        seen: Set[Any] = set()
        queries: List[Tuple[str, int, str]] = []  # (expr, line, where)
        offset = 0
        boxes: List[Tuple[int, int, int, int, Any]] = []
        for panel in flat:
            pid = panel.get("id")
            line, offset = _json_line(text, r'"id"\s*:\s*%s\b' % re.escape(json.dumps(pid)), offset)
            where = "panel %s (%s)" % (pid, panel.get("title", ""))
            if not isinstance(pid, int) or isinstance(pid, bool):
                out.append(self.finding("%s: id must be an integer" % where, path, line))
            elif pid in seen:
                out.append(self.finding("%s: id %d is used by another panel" % (where, pid), path, line))
            seen.add(pid)
            out.extend(self._grid(panel, where, path, line, boxes))
            if panel.get("type") in ("row", "text", "news", "dashlist", "welcome"):
                continue
            out.extend(self._datasource(panel.get("datasource"), variables, where, path, line))
            targets = panel.get("targets")
            if not isinstance(targets, list) or not targets:
                out.append(self.finding("%s: no targets (queries)" % where, path, line))
                continue
            refs: Set[str] = set()
            for target in targets:
                if not isinstance(target, dict):
                    out.append(self.finding("%s: a target is not an object" % where, path, line))
                    continue
                ref = target.get("refId")
                if not isinstance(ref, str) or not ref:
                    out.append(self.finding("%s: a target has no refId" % where, path, line))
                elif ref in refs:
                    out.append(self.finding("%s: refId %s is used twice" % (where, ref), path, line))
                refs.add(str(ref))
                if "datasource" in target:
                    out.extend(self._datasource(target.get("datasource"), variables, where, path, line))
                expr = target.get("expr")
                if not isinstance(expr, str) or not expr.strip():
                    out.append(self.finding("%s: target %s has no expr" % (where, ref), path, line))
                else:
                    queries.append((expr, line, "%s target %s" % (where, ref)))
        out.extend(self._promql(queries, variables, path, promtool))
        return out

    def _grid(
        self, panel: Dict[str, Any], where: str, path: str, line: int, boxes: List[Tuple[int, int, int, int, Any]]
    ) -> List[Finding]:
        grid = panel.get("gridPos")
        if not isinstance(grid, dict):
            return [self.finding("%s: no gridPos" % where, path, line)]
        values = [grid.get(k) for k in ("h", "w", "x", "y")]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
            return [self.finding("%s: gridPos needs h, w, x, y as integers >= 0" % where, path, line)]
        h, w, x, y = (int(v) for v in values)  # type: ignore[arg-type]
        out = []
        if h < 1 or w < 1 or x + w > 24:
            out.append(
                self.finding("%s: gridPos outside the 24-column grid (x + w <= 24, h, w >= 1)" % where, path, line)
            )
        for ox, oy, ow, oh, other in boxes:
            if x < ox + ow and ox < x + w and y < oy + oh and oy < y + h:
                out.append(
                    self.finding(
                        "%s: overlaps panel %s (Grafana moves one of them)" % (where, other), path, line, "warning"
                    )
                )
        boxes.append((x, y, w, h, panel.get("id")))
        return out

    def _datasource(self, source: Any, variables: Mapping[str, str], where: str, path: str, line: int) -> List[Finding]:
        if source is None:
            return [self.finding("%s: no datasource" % where, path, line)]
        uid = source.get("uid") if isinstance(source, dict) else source
        if not isinstance(uid, str) or not uid:
            return [self.finding("%s: the datasource has no uid" % where, path, line)]
        match = re.match(r"^\$\{?([A-Za-z0-9_]+)\}?$", uid)
        if match and variables.get(match.group(1)) != "datasource":
            return [
                self.finding(
                    "%s: datasource %s is not a datasource variable of the dashboard" % (where, uid), path, line
                )
            ]
        return []

    def _promql(
        self, queries: List[Tuple[str, int, str]], variables: Mapping[str, str], path: str, promtool: str
    ) -> List[Finding]:
        if not queries:
            return []

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2) or match.group(3)
            return "5m" if name in _GRAFANA_BUILTINS else "x"

        rules = [
            {"record": "grafana:query_%d" % index, "expr": _VARIABLE.sub(substitute, expr)}
            for index, (expr, _line, _where) in enumerate(queries)
        ]
        with tempfile.TemporaryDirectory(prefix="devops-flow-grafana-") as folder:
            rules_path = os.path.join(folder, "queries.rules.json")
            with open(rules_path, "w", encoding="utf-8") as handle:
                json.dump({"groups": [{"name": "grafana", "rules": rules}]}, handle, indent=1)
            result = run_tool([promtool, "check", "rules", rules_path], cwd=folder)
            if result.returncode == 0:
                return []
            out = []
            for match in re.finditer(r'"grafana:query_(\d+)": (.*)', result.stdout + "\n" + result.stderr):
                expr, line, where = queries[int(match.group(1))]
                out.append(self.finding("%s: PromQL %r: %s" % (where, expr, match.group(2).strip()), path, line))
            return out or [self.failed_to_run(result, [path])]


# --------------------------------------------------------------------------- OpenTelemetry Collector

_SECTIONS = ("receivers", "processors", "exporters", "extensions", "connectors", "service")
_SIGNALS = ("traces", "metrics", "logs", "profiles")
_COMPONENT = re.compile(r"^[a-zA-Z][0-9a-zA-Z_]{0,62}(?:/[^\s/]+)?$")
_ENV = re.compile(r"\$\{(?:env:)?[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}|\$\$")
_SECRET_KEYS = re.compile(
    r"(?:^|_)(password|passwd|secret|token|api_?key|access_key|private_key|connection_string|instrumentation_key)$"
)


def _yaml_line(node: Any, keys: Sequence[Any]) -> int:
    """The line of the node at ``keys`` in a composed YAML document (0: unknown)."""
    import yaml

    for key in keys:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == key), None)
            if found is None:
                break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
    return int(node.start_mark.line) + 1 if node is not None else 0


class OtelCollector(Validator):
    """An OpenTelemetry Collector configuration, checked for structure: there is no
    collector binary here (``otelcol validate`` needs the distribution that runs it),
    so this checks what the collector checks first: known top-level sections, valid
    component ids, every pipeline of a known signal with receivers and exporters,
    every component a pipeline or ``service.extensions`` names defined, environment
    references well formed, and no credential written inline (use ``${env:NAME}``).
    Unused components are warnings (the collector ignores them)."""

    name = "otel collector structure"
    kinds = ("otel-collector",)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        findings: List[Finding] = []
        for path in files:
            findings.extend(self._one(root, path))
        return findings

    def _one(self, root: str, path: str) -> List[Finding]:
        import yaml

        text = _read(root, path)
        if text is None:
            return [self.finding("cannot be read as UTF-8 text", path)]
        try:
            data = yaml.safe_load(text)
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            return [self.finding("not valid YAML: %s" % exc, path, (mark.line + 1) if mark else 0)]
        if not isinstance(data, dict):
            return [self.finding("a collector configuration is a YAML mapping", path, 1)]
        out: List[Finding] = []
        for key in data:
            if key not in _SECTIONS:
                out.append(self.finding("unknown top-level section %r" % key, path, _yaml_line(node, [key])))
        defined: Dict[str, Set[str]] = {}
        for section in _SECTIONS[:-1]:
            body = data.get(section) or {}
            if not isinstance(body, dict):
                out.append(self.finding("%s must be a mapping" % section, path, _yaml_line(node, [section])))
                body = {}
            for component in body:
                if not _COMPONENT.match(str(component)):
                    out.append(
                        self.finding(
                            "%s id %r is not type[/name]" % (section, component),
                            path,
                            _yaml_line(node, [section, component]),
                        )
                    )
            defined[section] = {str(c) for c in body}
        service = data.get("service")
        if not isinstance(service, dict):
            return [*out, self.finding("no service section: nothing would run", path, 0)]
        used: Dict[str, Set[str]] = {s: set() for s in defined}
        for extension in service.get("extensions") or []:
            used["extensions"].add(str(extension))
            if str(extension) not in defined["extensions"]:
                out.append(
                    self.finding(
                        "service.extensions names %r, which extensions does not define" % extension,
                        path,
                        _yaml_line(node, ["service", "extensions"]),
                    )
                )
        pipelines = service.get("pipelines")
        if not isinstance(pipelines, dict) or not pipelines:
            out.append(self.finding("service.pipelines defines no pipeline", path, _yaml_line(node, ["service"])))
            pipelines = {}
        for pipeline, body in pipelines.items():
            line = _yaml_line(node, ["service", "pipelines", pipeline])
            signal = str(pipeline).split("/", 1)[0]
            if signal not in _SIGNALS:
                out.append(self.finding("pipeline %r is not traces, metrics, logs or profiles" % pipeline, path, line))
            if not isinstance(body, dict):
                out.append(self.finding("pipeline %s must be a mapping" % pipeline, path, line))
                continue
            for role, sections in (
                ("receivers", ("receivers", "connectors")),
                ("processors", ("processors",)),
                ("exporters", ("exporters", "connectors")),
            ):
                names = body.get(role) or []
                if role != "processors" and not names:
                    out.append(self.finding("pipeline %s has no %s" % (pipeline, role), path, line))
                for name in names if isinstance(names, list) else []:
                    home = next((s for s in sections if str(name) in defined[s]), None)
                    if home is None:
                        out.append(
                            self.finding(
                                "pipeline %s uses %s %r, which is not defined" % (pipeline, role[:-1], name),
                                path,
                                _yaml_line(node, ["service", "pipelines", pipeline, role]),
                            )
                        )
                    else:
                        used[home].add(str(name))
        for section, names in defined.items():
            for name in sorted(names - used[section]):
                out.append(
                    self.finding(
                        "%s %r is defined but no pipeline uses it (the collector ignores it)" % (section[:-1], name),
                        path,
                        _yaml_line(node, [section, name]),
                        "warning",
                    )
                )
        out.extend(self._values(data, node, path, []))
        return out

    def _values(self, data: Any, node: Any, path: str, keys: List[Any]) -> List[Finding]:
        out: List[Finding] = []
        if isinstance(data, dict):
            for key, value in data.items():
                if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                    text = str(value)
                    if _SECRET_KEYS.search(str(key).lower()) and text and not _ENV.fullmatch(text.strip()):
                        out.append(
                            self.finding(
                                "%s holds a credential inline: use ${env:NAME} (or a file the component reads)"
                                % ".".join(str(k) for k in [*keys, key]),
                                path,
                                _yaml_line(node, [*keys, key]),
                            )
                        )
                out.extend(self._values(value, node, path, [*keys, key]))
        elif isinstance(data, list):
            for index, value in enumerate(data):
                out.extend(self._values(value, node, path, [*keys, index]))
        elif isinstance(data, str) and "${" in data:
            rest = _ENV.sub("", data)
            if "${" in rest:
                out.append(
                    self.finding(
                        "malformed environment reference in %r (expected ${env:NAME})" % data,
                        path,
                        _yaml_line(node, keys),
                    )
                )
        return out


# --------------------------------------------------------------------------- file_sd targets


class PrometheusTargets(Validator):
    """A Prometheus file_sd list (JSON, or YAML for .yml/.yaml): a list of groups,
    each with ``targets`` (host:port strings) and optional ``labels`` (valid label
    names, string values) - what Prometheus itself refuses to load."""

    name = "prometheus file_sd"
    kinds = ("prometheus-targets",)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        findings: List[Finding] = []
        for path in files:
            findings.extend(self._one(root, path))
        return findings

    def _one(self, root: str, path: str) -> List[Finding]:
        text = _read(root, path)
        if text is None:
            return [self.finding("cannot be read as UTF-8 text", path)]
        try:
            if path.endswith((".yml", ".yaml")):
                import yaml

                data = yaml.safe_load(text)
            else:
                data = json.loads(text)
        except ValueError as exc:
            return [self.finding("does not parse: %s" % exc, path, getattr(exc, "lineno", 0))]
        except Exception as exc:  # yaml.YAMLError without importing yaml for JSON files
            return [self.finding("does not parse: %s" % exc, path)]
        if not isinstance(data, list):
            return [self.finding("a file_sd list is a list of target groups", path, 1)]
        out: List[Finding] = []
        offset = 0
        for index, group in enumerate(data):
            line, offset = _json_line(text, r'"targets"|targets:', offset)
            if not isinstance(group, dict):
                out.append(self.finding("group %d is not a mapping" % index, path, line))
                continue
            for key in group:
                if key not in ("targets", "labels"):
                    out.append(self.finding("group %d: unknown key %r" % (index, key), path, line))
            targets = group.get("targets")
            if not isinstance(targets, list):
                out.append(self.finding("group %d: targets must be a list" % index, path, line))
                continue
            if not targets:
                out.append(self.finding("group %d: no targets" % index, path, line, "warning"))
            for target in targets:
                if not isinstance(target, str) or not re.match(
                    r"^(?:\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):\d{1,5}$", target
                ):
                    out.append(self.finding("group %d: target %r is not host:port" % (index, target), path, line))
            labels = group.get("labels") or {}
            if not isinstance(labels, dict):
                out.append(self.finding("group %d: labels must be a mapping" % index, path, line))
                continue
            for name, value in labels.items():
                if not re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*$", str(name)):
                    out.append(self.finding("group %d: %r is not a label name" % (index, name), path, line))
                if not isinstance(value, str):
                    out.append(self.finding("group %d: label %s must be a string" % (index, name), path, line))
        return out


__all__ = [
    "AMTOOL",
    "PROMTOOL",
    "Amtool",
    "GrafanaDashboard",
    "OtelCollector",
    "PrometheusTargets",
    "PromtoolConfig",
    "PromtoolRules",
    "PromtoolTest",
]
