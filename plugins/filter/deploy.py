# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the deploy role: load balancer server settings for a traffic split, and
the context of the deployment script templates."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence

from ansible.errors import AnsibleFilterError
from jinja2 import TemplateError

try:
    from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import UsageError
    from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import model_from_flags
    from ansible_collections.sdd.devops_flow.plugins.module_utils.render.scripts import render_templates
    from ansible_collections.sdd.devops_flow.plugins.module_utils.render.scripts import script_context as _context
    from ansible_collections.sdd.devops_flow.plugins.module_utils.serialize import model_from_dict

    IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - the collection is installed as a whole
    IMPORT_ERROR = exc


def _address(hostvars: Mapping[str, Any], host: str) -> str:
    """A host's ``ansible_host``, else its inventory name."""
    variables = hostvars.get(host) if hasattr(hostvars, "get") else None
    value = variables.get("ansible_host") if variables is not None and hasattr(variables, "get") else None
    return str(value) if value else host


def traffic_split(
    hosts: Sequence[str],
    live: str,
    idle: str,
    weight: Any,
    blue_port: Any = None,
    green_port: Any = None,
    hostvars: Mapping[str, Any] | None = None,
) -> Dict[str, Dict[str, Any]]:
    """Server settings that send ``weight`` percent of the traffic to the idle colour.

    At 100 the live colour drains (it keeps running for a rollback); at 0 the idle
    colour goes to maintenance.  With ``hostvars`` (for nginx) each server also
    gets its ``address:port`` (the host's ansible_host, else its name).
    """
    try:
        percent = int(weight)
    except (TypeError, ValueError):
        raise AnsibleFilterError("traffic_split: weight must be a whole percentage, got %r" % (weight,)) from None
    if not 0 <= percent <= 100:
        raise AnsibleFilterError("traffic_split: weight must be between 0 and 100, got %d" % percent)
    if {live, idle} != {"blue", "green"}:
        raise AnsibleFilterError("traffic_split: the colours are blue and green, got %r and %r" % (live, idle))
    ports = {"blue": blue_port, "green": green_port}
    servers: Dict[str, Dict[str, Any]] = {}
    for host in hosts:
        if percent == 100:
            live_server: Dict[str, Any] = {"state": "drain"}
        else:
            live_server = {"weight": 100 - percent, "state": "ready"}
        idle_server: Dict[str, Any] = {"weight": percent, "state": "maint" if percent == 0 else "ready"}
        if hostvars is not None:
            address = _address(hostvars, host)
            live_server["address"] = "%s:%s" % (address, ports[live])
            idle_server["address"] = "%s:%s" % (address, ports[idle])
        servers["%s_%s" % (host, live)] = live_server
        servers["%s_%s" % (host, idle)] = idle_server
    return servers


def colour_servers(
    hosts: Sequence[str], live: str, blue_port: Any, green_port: Any, hostvars: Mapping[str, Any]
) -> Dict[str, Dict[str, Any]]:
    """Every host's blue and green server with its address, the live colour at weight 100."""
    servers: Dict[str, Dict[str, Any]] = {}
    for host in hosts:
        for colour, port in (("blue", blue_port), ("green", green_port)):
            servers["%s_%s" % (host, colour)] = {
                "address": "%s:%s" % (_address(hostvars, host), port),
                "weight": 100 if colour == live else 0,
                "state": "ready" if colour == live else "maint",
            }
    return servers


def _merge(base: Dict[str, Any], overrides: Mapping[str, Any]) -> Dict[str, Any]:
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def script_context(model: Any, service: str = "app", overrides: Any = None) -> Dict[str, Any]:
    """The ``deploy_script`` context of the script templates: the one
    ``devops-flow generate-deployment-scripts`` builds from the same model, with the
    role's settings laid over it (nested mappings are merged key by key)."""
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError("script_context: the collection is incomplete: %s" % IMPORT_ERROR)
    if overrides is not None and not isinstance(overrides, Mapping):
        raise AnsibleFilterError("script_context: overrides must be a mapping, got %s" % type(overrides).__name__)
    if model:
        if not isinstance(model, Mapping):
            raise AnsibleFilterError("script_context: expected the model (a mapping), got %s" % type(model).__name__)
        try:
            built = model_from_dict(dict(model))
        except (TypeError, ValueError, KeyError) as exc:
            raise AnsibleFilterError("script_context: not a model of sdd.devops_flow.spec: %s" % exc) from exc
    else:
        built = model_from_flags(str(service), None, None)
    return _merge(_context(built), dict(overrides or {}))


def script_files(context: Any, folder: str) -> Dict[str, str]:
    """The deployment scripts of a ``deploy_script`` context (its ``scripts``), rendered on the
    controller from the role's templates exactly as ``devops-flow generate-deployment-scripts``
    renders them: ``{folder/name: text}``, for ``sdd.devops_flow.write_files``."""
    if IMPORT_ERROR is not None:
        raise AnsibleFilterError("script_files: the collection is incomplete: %s" % IMPORT_ERROR)
    if not isinstance(context, Mapping) or not isinstance(context.get("scripts"), Sequence):
        raise AnsibleFilterError("script_files: expected the deploy_script context (a mapping with scripts)")
    names = [str(name) for name in context["scripts"]]
    try:
        texts = render_templates(context, names)
    except UsageError as exc:
        raise AnsibleFilterError("script_files: %s" % exc) from exc
    except (TemplateError, TypeError, ValueError, KeyError) as exc:  # a template error names the template
        raise AnsibleFilterError("script_files: cannot render the scripts: %s" % exc) from exc
    base = str(folder).rstrip("/")
    return {"%s/%s" % (base, name): text for name, text in texts.items()}


class FilterModule:
    def filters(self) -> Dict[str, Any]:
        return {
            "traffic_split": traffic_split,
            "colour_servers": colour_servers,
            "script_context": script_context,
            "script_files": script_files,
        }
