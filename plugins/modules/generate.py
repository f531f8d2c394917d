#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: generate
short_description: Generate infrastructure, pipelines and deployment files from REQ / SPEC documents
version_added: "0.1.0"
description:
  - Reads the documents into the deployment model (see M(sdd.devops_flow.spec_info)), renders the files of
    one O(target), validates every file with the real tool of its ecosystem, and writes them into O(output).
  - Files are written atomically - rendered into a staging folder, validated, then moved into place. A file
    that is replaced is backed up under C(.devops-flow/backups/) in the output folder.
  - A file that was edited by hand since it was generated (its content hash no longer matches the hash in its
    header or in C(.devops-flow/manifest.json)), or that this collection did not generate, is never
    overwritten - the task fails and shows the diff - unless O(force) is set.
  - The same inputs always give the same bytes, so a second run reports no change. The C(devops-flow) command
    line writes the same bytes as this module.
  - The action plugin runs everything on the controller; relative paths are relative to the playbook folder.
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
extends_documentation_fragment:
  - sdd.devops_flow.documents
options:
  target:
    description:
      - Which family of files to generate.
      - V(infra) - Terraform (AWS, GCP, Azure), CloudFormation (AWS) or Pulumi (Python), chosen by O(iac).
      - V(pipeline) - a CI/CD pipeline for the system O(pipeline). Runs without documents too, from
        O(language) and O(deploy_strategy).
      - V(container) - Dockerfile, C(.dockerignore) and C(compose.yaml).
      - V(k8s) - Kubernetes manifests, blue-green or canary manifests (Argo Rollouts), Kustomize overlays
        per environment and a Helm chart.
      - V(scripts) - the deployment scripts of REQ 9.5.3 (C(setup.sh), C(install.sh), C(deploy.sh),
        C(rollback.sh), C(health-check.sh), C(cleanup.sh)), from the templates of the
        P(sdd.devops_flow.deploy#role) role.
      - V(playbooks) - the Ansible playbooks of REQ 9.5.4, an inventory, group_vars per environment, C(ansible.cfg)
        and C(requirements.yml).
      - V(monitoring) - C(prometheus.yml), alert rules with C(promtool) unit tests, C(alertmanager.yml), a Grafana
        dashboard and an OpenTelemetry Collector configuration.
      - V(docs) - a runbook and a traceability matrix.
      - V(all) - every family above in one tree (C(terraform/), C(k8s/), C(helm/), C(scripts/), C(ansible/),
        C(monitoring/), C(docs/), the pipeline and the container files at the top), validated in one pass. A family
        that does not apply to the documents is left out and named in RV(notes).
    type: str
    required: true
    choices: [all, container, docs, infra, k8s, monitoring, pipeline, playbooks, scripts]
  output:
    description:
      - Folder to write into. It is created when missing.
    type: path
    required: true
  iac:
    description:
      - Infrastructure as code flavour for O(target=infra).
      - Defaults to the C(iac_provider) of the REQ front matter, else V(terraform).
    type: str
    choices: [terraform, cloudformation, pulumi]
  pipeline:
    description:
      - CI/CD system for O(target=pipeline).
    type: str
    choices: [github-actions, gitlab-ci, jenkins, circleci, azure-devops]
  language:
    description:
      - Language toolchain for O(target=pipeline) and O(target=container); overrides the SPEC's
        C(implementation.language).
    type: str
    choices: [python, node, go, java]
  deploy_strategy:
    description:
      - Production deployment strategy for O(target=pipeline); overrides the documents' 9.5.2.
    type: str
    choices: [blue-green, canary, rolling]
  replicas:
    description:
      - Replicas of the base Kubernetes manifests for O(target=k8s); overrides the documents.
    type: int
  validate:
    description:
      - Run the validators of every generated file (for example C(terraform fmt -check), C(terraform validate),
        C(cfn-lint), C(checkov)) before writing. Nothing is written when a validator reports an error.
      - A validator whose tool is not installed reports an error that names the tool and how to install it.
    type: bool
    default: true
  force:
    description:
      - Overwrite files that were edited by hand or are not managed by this collection. A backup is kept.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Renders and validates in a temporary folder and reports what would change; writes nothing.
  diff_mode:
    support: full
    description: Returns the before and after text of every created, updated or removed file.
  action:
    support: full
    description: Runs on the controller through the action plugin.
requirements:
  - PyYAML
  - Jinja2
  - The validators of the target (terraform, python-hcl2, cfn-lint, checkov) when O(validate=true).
seealso:
  - module: sdd.devops_flow.spec_info
"""

EXAMPLES = r"""
- name: Generate the Terraform of the order intake service
  sdd.devops_flow.generate:
    target: infra
    req: docs/07_REQ/REQ-14_order_intake_api.md
    spec: docs/09_SPEC/SPEC-14_order_intake_api.yaml
    output: infrastructure/
  register: infra

- name: CloudFormation instead, shown as a diff first
  sdd.devops_flow.generate:
    target: infra
    iac: cloudformation
    req: docs/07_REQ/REQ-14_order_intake_api.md
    output: cloudformation/
  check_mode: true
  diff: true

- name: GCP, without validators (for example on a machine without terraform)
  sdd.devops_flow.generate:
    target: infra
    req: docs/07_REQ/REQ-21_catalog_search.md
    cloud: gcp
    output: infrastructure-gcp/
    validate: false
"""

RETURN = r"""
output:
  description: Absolute path of the output folder.
  returned: success
  type: str
  sample: /srv/app/infrastructure
files:
  description: Every generated file and what happened to it.
  returned: success
  type: list
  elements: dict
  contains:
    path:
      description: Path relative to O(output).
      type: str
      returned: always
      sample: main.tf
    status:
      description: V(created), V(updated), V(unchanged), V(refused), V(removed) (no longer generated and not
        edited), or V(kept) (no longer generated, but edited by hand).
      type: str
      returned: always
      sample: created
    reason:
      description: Why a file was refused, removed or kept.
      type: str
      returned: when there is one
    backup:
      description: Where the previous version was saved, relative to O(output).
      type: str
      returned: when a file was replaced or removed
      sample: .devops-flow/backups/20261128T101500/main.tf
  sample: [{"path": "main.tf", "status": "created"}]
findings:
  description: What the validators reported, each with file, line, severity, tool and message.
  returned: success
  type: list
  elements: dict
  sample: [{"severity": "error", "file": "main.tf", "line": 12, "tool": "terraform validate",
            "message": "Unsupported argument"}]
warnings_found:
  description: Problems in the documents that did not stop the generation.
  returned: success
  type: list
  elements: dict
notes:
  description: What was left out and why (for example a family that does not apply to the documents).
  returned: success
  type: list
  elements: str
  sample: ["container: not generated: no Dockerfile template for language csharp; pass language"]
written:
  description: Whether files were moved into O(output) (false in check mode, on refusals and on validation errors).
  returned: success
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils.task import argument_spec, execute


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    result = execute(module.params, check_mode=module.check_mode, diff=module._diff)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
