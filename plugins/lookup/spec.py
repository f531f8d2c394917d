# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: spec
short_description: The deployment model of REQ / SYS / SPEC / ADR documents, on the controller
version_added: "0.1.0"
description:
  - Parses the documents on the controller and returns the deployment model, or one part of it
    selected with O(field).
  - The same parser as the P(sdd.devops_flow.spec_info#module) module; parsed models are cached
    for the run, keyed on the documents' paths and modification times.
  - Relative paths are looked up from the playbook folder (or the role's folder).
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
extends_documentation_fragment:
  - sdd.devops_flow.documents
options:
  _terms:
    description:
      - Optional REQ document paths. Each term gives one model, with the other options shared.
    type: list
    elements: path
    required: false
  field:
    description:
      - Dotted path of the part of the model to return, for example V(service.health) or
        V(environments.2.strategy) (list items by index). The whole model when omitted.
    type: str
  strict:
    description:
      - Fail when the documents produce warnings.
    type: bool
    default: false
notes:
  - Warnings found in the documents are shown as Ansible warnings.
seealso:
  - module: sdd.devops_flow.spec_info
"""

EXAMPLES = r"""
- name: Deploy with the strategy and health path the documents choose
  vars:
    model: "{{ lookup('sdd.devops_flow.spec', req='docs/07_REQ/REQ-14_order_intake_api.md',
                      spec='docs/09_SPEC/SPEC-14_order_intake_api.yaml') }}"
  ansible.builtin.debug:
    msg: "{{ model.service.health.readiness }} / {{ model.environments | map(attribute='strategy') }}"

- name: Only the canary steps
  ansible.builtin.debug:
    msg: "{{ lookup('sdd.devops_flow.spec', 'docs/07_REQ/REQ-14_order_intake_api.md',
                    field='rollout.canary_steps') }}"
"""

RETURN = r"""
_raw:
  description:
    - The model (see C(schemas/model.schema.json)) or the part selected by O(field), one per term.
  type: list
  elements: raw
"""

import copy
import os
from typing import Any, Dict, List, Tuple

from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.sdd.devops_flow.plugins.module_utils.arguments import document_kwargs
from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import DevopsFlowError
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.serialize import model_to_dict

display = Display()

_CACHE: Dict[Tuple[Any, ...], Dict[str, Any]] = {}


def _stamp(kwargs: Dict[str, Any]) -> Tuple[Any, ...]:
    parts: List[Any] = []
    for key in sorted(kwargs):
        value = kwargs[key]
        paths = value if isinstance(value, list) else [value]
        for path in paths:
            mtime = None
            if isinstance(path, str) and os.path.exists(path):
                mtime = os.stat(path).st_mtime_ns
            parts.append((key, path, mtime))
    return tuple(parts)


def select(data: Any, field: str) -> Any:
    """``service.health`` / ``environments.2.strategy`` inside the model."""
    node = data
    for part in field.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            raise AnsibleLookupError("field %r: %r not found in the model" % (field, part))
    return node


class LookupModule(LookupBase):
    def _resolve(self, variables: Dict[str, Any], path: Any) -> Any:
        if not path or os.path.isabs(path):
            return path
        found = self.find_file_in_search_path(variables, "files", path, ignore_missing=True)
        if found:
            return found
        base = self._loader.get_basedir() if self._loader else os.getcwd()
        return os.path.join(base, path)

    def run(self, terms: List[Any], variables: Any = None, **kwargs: Any) -> List[Any]:
        self.set_options(var_options=variables, direct=kwargs)
        variables = variables or {}
        # empty values (for example unset role variables) mean "not given"; the path type would
        # otherwise turn '' into the current folder
        params = {
            name: (self.get_option(name) or None) if kwargs.get(name, True) not in ("", None, []) else None
            for name in ("req", "spec", "sys", "adr", "docs_root", "cloud")
        }
        field = self.get_option("field")
        strict = self.get_option("strict")
        requests = [dict(params, req=term) for term in terms] if terms else [params]
        results: List[Any] = []
        for request in requests:
            for key in ("req", "spec", "sys", "docs_root"):
                request[key] = self._resolve(variables, request.get(key))
            if request.get("adr"):
                request["adr"] = [self._resolve(variables, p) for p in request["adr"]]
            kwargs_model = document_kwargs(request)
            key = _stamp(kwargs_model)
            data = _CACHE.get(key)
            if data is None:
                try:
                    model = load_model(**kwargs_model)
                except DevopsFlowError as exc:
                    raise AnsibleError("sdd.devops_flow.spec: %s" % exc) from None
                data = model_to_dict(model)
                _CACHE[key] = data
                for warning in data["warnings"]:
                    where = "%s:%s: " % (warning["file"], warning["line"]) if warning["file"] else ""
                    display.warning("sdd.devops_flow.spec: " + where + warning["message"])
            if strict and data["warnings"]:
                raise AnsibleError(
                    "sdd.devops_flow.spec: the documents produced %d warning(s) "
                    "and strict is set" % len(data["warnings"])
                )
            results.append(copy.deepcopy(select(data, field) if field else data))
        return results
