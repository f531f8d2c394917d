#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: spec_info
short_description: Read REQ / SYS / SPEC / ADR documents into the deployment model
version_added: "0.1.0"
description:
  - Parses spec-driven requirement documents (REQ Markdown with section 9.5, SYS section 9.1/9.2,
    SPEC YAML and ADR Markdown) into one validated deployment model.
  - Every value of the model records the document, line and section it came from in RV(model.sources).
  - Conflicts between documents and values that could not be read are returned as warnings;
    a document that cannot be used fails the task with C(path:line) and what was expected.
  - The model is what the collection's generators and roles consume; its JSON Schema ships in
    C(schemas/model.schema.json).
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
extends_documentation_fragment:
  - sdd.devops_flow.documents
options:
  strict:
    description:
      - Fail when the documents produce warnings.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: The module only reads files; it runs the same way in check mode.
  diff_mode:
    support: none
    description: The module changes nothing, so there is nothing to diff.
requirements:
  - PyYAML
notes:
  - Relative paths are relative to the working folder of the module, usually the playbook folder
    when the task runs on localhost. Use the P(sdd.devops_flow.spec#lookup) lookup to read the model
    on the controller without a task.
seealso:
  - plugin: sdd.devops_flow.spec
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Read the deployment model of the order intake service
  sdd.devops_flow.spec_info:
    req: docs/07_REQ/REQ-14_order_intake_api.md
    spec: docs/09_SPEC/SPEC-14_order_intake_api.yaml
  delegate_to: localhost
  register: order_intake

- name: Show the production strategy
  ansible.builtin.debug:
    msg: >-
      {{ (order_intake.model.environments | selectattr('name', 'equalto', 'prod') | first).strategy }}

- name: A REQ whose deployment data lives in a SYS document; the cloud is forced to GCP
  sdd.devops_flow.spec_info:
    req: docs/07_REQ/REQ-21_catalog_search.md
    docs_root: docs
    cloud: gcp
    strict: true
  delegate_to: localhost
"""

RETURN = r"""
model:
  description:
    - The deployment model. Its layout is described by C(schemas/model.schema.json).
  returned: success
  type: dict
  contains:
    service:
      description: Name, language, image, ports, health paths and timings, resources, scaling,
        environment variables, feature flags (REQ 7.2) and parameters (REQ 7.1).
      type: dict
      returned: always
      sample: {"name": "order-intake-api", "ports": [8080], "health": {"liveness": "/health/live"}}
    cloud:
      description: The cloud provider, the rule that decided it (option, adr, parameter, inference),
        regions and zones.
      type: dict
      returned: always
      sample: {"provider": "aws", "decided_by": "adr", "regions": ["us-east-1"]}
    infrastructure:
      description: Compute, database, storage, network, cache and queue with typed sizes.
      type: dict
      returned: always
    environments:
      description: The environments of REQ 9.5.2 with strategy, rollback time in seconds, replicas
        and regions.
      type: list
      elements: dict
      returned: always
      sample: [{"name": "prod", "strategy": "canary", "replicas": 4, "rollback_seconds": 300}]
    rollout:
      description: Canary steps, hold time, automation level and validation requirements (9.5.8).
      type: dict
      returned: always
      sample: {"canary_steps": [5, 25, 50, 100], "hold_seconds": 600}
    backup:
      description: Backup frequency, retention, RPO and RTO in seconds.
      type: dict
      returned: always
    traceability:
      description: Document ids, tags by kind and element ids.
      type: dict
      returned: always
    sources:
      description: Field path to C(file:line) of the document the value came from.
      type: dict
      returned: always
      sample: {"environments[2].strategy": "docs/07_REQ/REQ-14_order_intake_api.md:331"}
warnings_found:
  description: Problems in the documents that did not stop the parse, each with file and line.
  returned: success
  type: list
  elements: dict
  sample: [{"severity": "warning", "file": "docs/09_SPEC/SPEC-14.yaml", "line": 40,
            "message": "readiness path: the SPEC says /ready but the REQ/SYS Health Endpoints says /health/ready"}]
errors:
  description: The errors that made a document unusable, each with file and line.
  returned: failure
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils.arguments import (
    ansible_argument_spec,
    document_kwargs,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import DevopsFlowError
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.serialize import model_to_dict
from ansible_collections.sdd.devops_flow.plugins.module_utils.textio import (
    HAS_YAML,
    YAML_IMPORT_ERROR,
)


def main() -> None:
    argument_spec = ansible_argument_spec()
    argument_spec["strict"] = {"type": "bool", "default": False}
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_one_of=[("req", "spec")],
        supports_check_mode=True,
    )
    if not HAS_YAML:
        from ansible.module_utils.basic import missing_required_lib

        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)
    try:
        model = load_model(**document_kwargs(module.params))
    except DevopsFlowError as exc:
        module.fail_json(**exc.to_fail_kwargs())
    data = model_to_dict(model)
    warnings = data.pop("warnings")
    for warning in warnings:
        where = "%s:%s: " % (warning["file"], warning["line"]) if warning["file"] else ""
        module.warn(where + warning["message"])
    if module.params["strict"] and warnings:
        module.fail_json(
            msg="the documents produced %d warning(s) and strict is set" % len(warnings),
            warnings_found=warnings,
            model=data,
        )
    data["warnings"] = warnings
    module.exit_json(changed=False, model=data, warnings_found=warnings)


if __name__ == "__main__":
    main()
