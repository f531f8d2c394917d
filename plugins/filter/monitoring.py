# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the monitoring role: the monitoring files of a model, rendered on the
controller by the same renderer as ``devops-flow generate-monitoring``, with the
scrape targets of an inventory.

``monitoring_files`` calls ``render.monitoring.monitoring_files`` (what
``generate-monitoring`` calls), adds the managed headers the same way
(``FileSet.finalize``), and applies the few timing overrides a role needs that the
documents do not give (scrape and evaluation intervals, an alert's ``for``,
Alertmanager's grouping timers).  Without overrides the bytes are those of
``generate-monitoring`` for the same settings.  Overrides are applied to the
rendered files without touching anything else:

* an alert's ``for``: the alert plan of the renderer is built again, the alert's
  ``for`` changed, and the rules file (its summary says the ``for``) and the
  promtool unit tests are rendered again from that plan by the renderer's own
  functions;
* the intervals and timers: the one line that holds the value is replaced, and the
  result is parsed and compared with the expected data, so an override can never
  change another value; a comment says what was generated.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml
from ansible.errors import AnsibleFilterError

try:  # ansible-core before 2.19 templates variables again: generated text must stay as it is
    from ansible.utils.unsafe_proxy import wrap_var
except ImportError:  # pragma: no cover - ansible-core without the module marks filter results itself

    def wrap_var(v: Any) -> Any:
        return v


from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import DevopsFlowError, UsageError
from ansible_collections.sdd.devops_flow.plugins.module_utils.fileset import FileSet
from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import document_names, version
from ansible_collections.sdd.devops_flow.plugins.module_utils.model import Model
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import monitoring as render
from ansible_collections.sdd.devops_flow.plugins.module_utils.render.monitoring_rules import (
    alert_plan,
    tests_document,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.render.monitoring_yaml import (
    comment_line,
    dump,
    duration,
    key_line,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.serialize import model_from_dict

#: The tool name in the managed header: the same as ``generate-monitoring`` writes.
TOOL = "generate monitoring"
#: Prometheus durations as the role accepts them (whole seconds and larger units).
_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_UNITS = (31536000, 604800, 86400, 3600, 60, 1)
_COMPONENTS = {
    "prometheus-config": "prometheus",
    "prometheus-rules": "prometheus",
    "prometheus-rule-tests": "prometheus",
    "prometheus-targets": "prometheus",
    "alertmanager-config": "alertmanager",
    "grafana-dashboard": "grafana",
    "otel-collector": "otel",
}


def _plain(value: Any) -> Any:
    """Template values without ansible-core 2.19+ data tags (plain str, int, list, dict)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _given(value: Any) -> Any:
    """None for the empty values role variables use for "not set"."""
    return None if value in ("", None) or (isinstance(value, (list, dict)) and not value) else value


def seconds(value: Any, what: str) -> int:
    """Whole seconds of a Prometheus duration (``90s``, ``1m30s``, ``2h``) or a number of seconds."""
    if isinstance(value, bool):
        raise UsageError("%s must be a duration such as 30s or 5m, not %r" % (what, value))
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        number = int(value)
        if number < 0:
            raise UsageError("%s must not be negative, got %r" % (what, value))
        return number
    text = str(value).strip() if isinstance(value, str) else ""
    match = _DURATION.match(text)
    if not text or not match:
        raise UsageError("%s must be a duration such as 30s, 5m or 1h30m (or whole seconds), not %r" % (what, value))
    return sum(int(part or 0) * unit for part, unit in zip(match.groups(), _UNITS))


def _interval(value: Any, what: str) -> str:
    """A positive duration as Prometheus and Alertmanager write it."""
    total = seconds(value, what)
    if total <= 0:
        raise UsageError("%s must be longer than 0s, got %r" % (what, value))
    return duration(total)


def _model(data: Any) -> Model:
    if isinstance(data, Model):
        return data
    if not isinstance(data, Mapping) or "service" not in data:
        raise UsageError(
            "monitoring_files: the input must be the deployment model (the sdd.devops_flow.spec lookup or the "
            "model of sdd.devops_flow.spec_info), got %s" % type(data).__name__
        )
    try:
        return model_from_dict(_plain(data))
    except (TypeError, ValueError, KeyError) as exc:
        raise UsageError("monitoring_files: the input is not a deployment model: %s" % exc) from None


# --------------------------------------------------------------------------- overrides


def set_block_value(text: str, block: str, key: str, value: str, note: str) -> str:
    """Set ``block.key`` (a top-level mapping and one of its keys) to ``value`` in a
    YAML file written by the renderer's dumper, keeping every comment; ``note`` goes
    in a comment before the line.  The result is parsed and compared with the
    expected data, so nothing else can change."""
    before = yaml.safe_load(text)
    if not isinstance(before, dict) or not isinstance(before.get(block), dict):
        raise UsageError("the generated file has no %s mapping to set %s in" % (block, key))
    if before[block].get(key) == value:
        return text
    lines = text.split("\n")
    try:
        start = lines.index("%s:" % block)
    except ValueError:
        raise UsageError("the generated file has no top-level %s: line" % block) from None
    new_line = "  " + key_line(key, value)
    position = None
    end = start + 1
    while end < len(lines) and (not lines[end] or lines[end].startswith((" ", "#"))):
        if lines[end].startswith("  %s:" % key):
            position = end
            break
        end += 1
    if position is None:
        lines[start + 1 : start + 1] = ["  " + comment_line(note), new_line]
    else:
        lines[position : position + 1] = ["  " + comment_line(note), new_line]
    result = "\n".join(lines)
    expected = copy.deepcopy(before)
    expected[block][key] = value
    if yaml.safe_load(result) != expected:
        raise UsageError("cannot set %s.%s in the generated file without changing other values" % (block, key))
    return result


def _comment_prefix(text: str) -> str:
    """The leading comment lines of a generated body (its own header)."""
    out = []
    for line in text.split("\n"):
        if not line.startswith("#"):
            break
        out.append(line + "\n")
    return "".join(out)


def _override_for(
    model: Model, files: FileSet, runbook_url: Optional[str], alert_for: Mapping[str, Any]
) -> Tuple[Dict[str, str], List[str]]:
    """The rules and rule test files rendered again with other ``for`` durations."""
    plan = alert_plan(model, runbook_url)
    _config, rules_path, tests_path, _targets, _nodes = render.paths(model)
    rules_file = files.get(rules_path)
    tests_file = files.get(tests_path)
    if rules_file is None or tests_file is None:
        raise UsageError("the renderer produced no rules file (%s)" % rules_path)
    tests_ref = "../rules/%s" % rules_path.rsplit("/", 1)[1]
    if render._rules_text(model, plan) != rules_file.content:
        raise UsageError(
            "the alert plan built again differs from the rendered rules: the monitoring renderer changed, "
            "so alert_for cannot be applied"
        )
    names = sorted({a.name for a in plan.alerts})
    unknown = sorted(set(alert_for) - set(names))
    if unknown:
        raise UsageError(
            "alert_for names %s, which the rules do not have; the alerts are %s"
            % (", ".join(unknown), ", ".join(names))
        )
    notes = []
    for alert in plan.alerts:
        if alert.name in alert_for:
            wanted = seconds(alert_for[alert.name], "alert_for of %s" % alert.name)
            if wanted != (alert.for_seconds or 0):
                notes.append(
                    "%s: for %s instead of the generated %s"
                    % (alert.name, duration(wanted), duration(alert.for_seconds or 0))
                )
            alert.for_seconds = wanted
    tests_text = _comment_prefix(tests_file.content) + dump(tests_document(model, plan, tests_ref))
    rules_text = render._rules_text(model, plan)
    if notes:
        head = _comment_prefix(rules_text)
        rules_text = (
            head
            + "".join(comment_line("Overridden by the monitoring role: %s." % note) + "\n" for note in notes)
            + rules_text[len(head) :]
        )
    return {rules_path: rules_text, tests_path: tests_text}, notes


def _apply_overrides(
    model: Model,
    files: FileSet,
    runbook_url: Optional[str],
    intervals: Mapping[str, Optional[str]],
    timers: Mapping[str, Optional[str]],
    alert_for: Mapping[str, Any],
) -> Tuple[FileSet, List[str]]:
    contents = {f.path: f.content for f in files}
    notes: List[str] = []
    config_path = render.paths(model)[0]
    manager_path = "%s/alertmanager/alertmanager.yml" % render.OUTPUT_DIR
    for key, value in intervals.items():
        if value is not None:
            generated = (yaml.safe_load(contents[config_path]).get("global") or {}).get(key)
            text = set_block_value(
                contents[config_path],
                "global",
                key,
                value,
                "%s overridden by the monitoring role (generated: %s)" % (key, generated or "unset"),
            )
            if text != contents[config_path]:
                notes.append("%s %s instead of the generated %s" % (key, value, generated))
            contents[config_path] = text
    for key, value in timers.items():
        if value is not None and manager_path in contents:
            generated = (yaml.safe_load(contents[manager_path]).get("route") or {}).get(key)
            text = set_block_value(
                contents[manager_path],
                "route",
                key,
                value,
                "%s overridden by the monitoring role (generated: %s)" % (key, generated or "unset"),
            )
            if text != contents[manager_path]:
                notes.append("%s %s instead of the generated %s" % (key, value, generated))
            contents[manager_path] = text
    if alert_for:
        changed, for_notes = _override_for(model, files, runbook_url, alert_for)
        contents.update(changed)
        notes.extend(for_notes)
    out = FileSet(notes=list(files.notes) + ["monitoring role: %s" % note for note in notes])
    for file in files:
        out.add(replace(file, content=contents[file.path]) if contents[file.path] != file.content else file)
    return out, notes


# --------------------------------------------------------------------------- filters


def rendered_files(
    model: Any,
    targets: Optional[Sequence[Any]] = None,
    node_targets: Optional[Sequence[Any]] = None,
    alertmanagers: Optional[Sequence[str]] = None,
    runbook_url: Optional[str] = None,
    secrets_dir: Optional[str] = None,
    email_to: Optional[str] = None,
    smtp_smarthost: Optional[str] = None,
    smtp_from: Optional[str] = None,
    smtp_auth_username: Optional[str] = None,
    relay_urls: Optional[Mapping[str, str]] = None,
    cloud: Optional[str] = None,
    scrape_interval: Any = None,
    evaluation_interval: Any = None,
    alert_for: Optional[Mapping[str, Any]] = None,
    group_wait: Any = None,
    group_interval: Any = None,
    repeat_interval: Any = None,
) -> Tuple[FileSet, List[str]]:
    """The finished monitoring files (with managed headers) and the overrides applied."""
    the_model = _model(model)
    runbook = _given(runbook_url)
    files = render.monitoring_files(
        the_model,
        targets=_plain(targets) if targets is not None else None,
        node_targets=_plain(node_targets) if node_targets is not None else None,
        cloud=_given(cloud),
        alertmanagers=_plain(_given(alertmanagers)),
        runbook_url=runbook,
        secrets_dir=_given(secrets_dir),
        email_to=_given(email_to),
        smtp_smarthost=_given(smtp_smarthost),
        smtp_from=_given(smtp_from),
        smtp_auth_username=_given(smtp_auth_username),
        relay_urls=_plain(_given(relay_urls)),
    )
    intervals = {
        "scrape_interval": _interval(scrape_interval, "scrape_interval") if _given(scrape_interval) else None,
        "evaluation_interval": (
            _interval(evaluation_interval, "evaluation_interval") if _given(evaluation_interval) else None
        ),
    }
    timers = {
        name: _interval(value, name) if _given(value) else None
        for name, value in (
            ("group_wait", group_wait),
            ("group_interval", group_interval),
            ("repeat_interval", repeat_interval),
        )
    }
    overrides = _plain(_given(alert_for)) or {}
    if not isinstance(overrides, dict):
        raise UsageError("alert_for must map alert names to durations, not %r" % (alert_for,))
    files, notes = _apply_overrides(the_model, files, runbook, intervals, timers, overrides)
    finished = files.finalize(TOOL, version(), document_names(the_model), the_model.req_id)
    return finished, notes


def monitoring_files(model: Any, **settings: Any) -> List[Dict[str, Any]]:
    """Every monitoring file of a model as ``{path, kind, component, relative, content}``."""
    try:
        files = rendered_files(model, **settings)[0]
    except DevopsFlowError as exc:
        raise AnsibleFilterError("monitoring_files: %s" % exc) from None
    except TypeError as exc:
        raise AnsibleFilterError("monitoring_files: %s" % exc) from None
    out = []
    for file in files:
        component = _COMPONENTS.get(file.kind, "other")
        prefix = "%s/%s/" % (render.OUTPUT_DIR, component)
        relative = file.path[len(prefix) :] if file.path.startswith(prefix) else file.path
        out.append(
            {
                "path": file.path,
                "kind": file.kind,
                "component": component,
                "relative": relative,
                "content": wrap_var(file.content),
            }
        )
    return out


def _address(hostvars: Any, host: str) -> str:
    """A host's ``ansible_host``, else its inventory name."""
    variables = hostvars.get(host) if hasattr(hostvars, "get") else None
    value = variables.get("ansible_host") if variables is not None and hasattr(variables, "get") else None
    return str(value) if value else str(host)


def monitoring_targets(
    hosts: Sequence[str], hostvars: Any, ports: Any, labels: Optional[Mapping[str, Any]] = None
) -> List[Dict[str, Any]]:
    """Scrape targets of hosts: one per colour and host when ``ports`` maps colours to
    ports (label ``colour``), one per host when it is a single port; every target also
    has the label ``host`` (the inventory name) and ``labels``."""
    if isinstance(hosts, str):
        raise AnsibleFilterError("monitoring_targets: the input must be a list of inventory host names")
    extra = {str(k): str(v) for k, v in (labels or {}).items()}
    pairs = [(str(colour), port) for colour, port in ports.items()] if isinstance(ports, Mapping) else [("", ports)]
    out = []
    for host in hosts:
        for colour, port in pairs:
            try:
                number = int(port)
            except (TypeError, ValueError):
                raise AnsibleFilterError("monitoring_targets: port %r is not a number" % (port,)) from None
            if not 0 < number <= 65535:
                raise AnsibleFilterError("monitoring_targets: port %d is not from 1 to 65535" % number)
            address = _address(hostvars, str(host))
            if ":" in address and not address.startswith("["):
                address = "[%s]" % address
            target_labels = dict(extra)
            target_labels["host"] = str(host)
            if colour:
                target_labels["colour"] = colour
            out.append({"address": "%s:%d" % (address, number), "labels": target_labels})
    return out


class FilterModule:
    def filters(self) -> Dict[str, Any]:
        return {"monitoring_files": monitoring_files, "monitoring_targets": monitoring_targets}
