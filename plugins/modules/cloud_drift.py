#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloud_drift
short_description: Compare what runs in AWS, Google Cloud or Azure with what the deployment model expects
version_added: "0.1.0"
description:
  - Reads the resources of one service and environment with the cloud's own SDK (boto3, google-cloud-compute and
    google-cloud-storage, azure-mgmt-resource, azure-mgmt-network and azure-mgmt-storage) and compares them with
    what the model expects - the resources the generated Terraform declares for that environment, with the same
    sizes, engine versions, high availability, encryption, versioning, open ports and scaling bounds.
  - Resources are found by the tags (labels on Google Cloud) the generated Terraform sets on everything -
    C(Project) and C(Environment) on AWS and Azure, C(project) and C(environment) on Google Cloud - and, for the
    resources that take no labels (VPC networks and firewall rules on Google Cloud), by the generated names.
  - Returns a drift report - RV(report.missing) (expected, not found), RV(report.extra) (found with the
    service's tags, not expected), RV(report.changed) (each with the resource, the attribute, the expected and the
    actual value) and RV(report.checked) (what was compared). O(fail_on_drift=true) fails the task with a one-line
    summary, for pipelines.
  - Only read calls are made; the task never reports a change.
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
extends_documentation_fragment:
  - sdd.devops_flow.documents
options:
  model:
    description:
      - The deployment model, as returned by M(sdd.devops_flow.spec_info) (its
        RV(sdd.devops_flow.spec_info#module:model)) or the P(sdd.devops_flow.spec#lookup) lookup. Used instead of
        reading the documents.
      - Either O(model), O(req) or O(spec) is required.
    type: dict
  environment:
    description:
      - The environment to check (a canonical name of the documents' 9.5.2, such as V(staging) or V(prod)).
    type: str
    default: prod
  region:
    description:
      - The region to read (AWS region, Google Cloud region). Defaults to the environment's region in the documents.
    type: str
  profile:
    description:
      - AWS only. The shared credentials profile. Without it boto3 finds credentials the usual way
        (C(AWS_ACCESS_KEY_ID) and C(AWS_SECRET_ACCESS_KEY), C(AWS_PROFILE), web identity, instance role).
    type: str
  endpoint_url:
    description:
      - AWS only. Send every API call to this endpoint instead of AWS (for example a moto server in tests).
    type: str
    aliases: [aws_endpoint_url]
  project:
    description:
      - Google Cloud only. The project to read. Defaults to the project of the application default credentials,
        else C(GOOGLE_CLOUD_PROJECT).
    type: str
  subscription_id:
    description:
      - Azure only. The subscription to read. Defaults to C(AZURE_SUBSCRIPTION_ID).
      - Credentials come from C(DefaultAzureCredential) (environment, workload identity, managed identity, Azure CLI).
    type: str
  resource_group:
    description:
      - Azure only. Read this resource group only. By default the whole subscription is searched by tags.
    type: str
  fail_on_drift:
    description:
      - Fail the task when there is drift, with a one-line summary as the message (the report is returned too).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same way in check mode.
  diff_mode:
    support: none
    description: The module changes nothing; the report holds the expected and the actual values.
requirements:
  - boto3 and botocore (AWS)
  - google-cloud-compute, google-cloud-storage and google-auth (Google Cloud)
  - azure-identity, azure-mgmt-resource, azure-mgmt-network and azure-mgmt-storage (Azure)
notes:
  - The expected values are the generated Terraform's values for the environment (its C(tfvars) over the
    variable defaults), so a drift check and a C(terraform plan) of the generated code agree on what is right.
  - Pub/Sub, SNS, GKE, AKS, App Service, Firestore, Cosmos DB and Azure SQL are not compared yet; RV(report.skipped)
    says so for the documents that use them.
  - Read permissions are enough (for example the C(ReadOnlyAccess) policy on AWS, C(roles/viewer) on Google Cloud,
    C(Reader) on Azure).
seealso:
  - module: sdd.devops_flow.spec_info
  - plugin: sdd.devops_flow.spec
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Production of the order intake service, as the documents describe it
  sdd.devops_flow.cloud_drift:
    req: docs/07_REQ/REQ-14_order_intake_api.md
    environment: prod
  delegate_to: localhost
  register: drift

- name: Show what differs
  ansible.builtin.debug:
    var: drift.changed

- name: In a pipeline, fail on any drift
  sdd.devops_flow.cloud_drift:
    model: "{{ lookup('sdd.devops_flow.spec', req='docs/07_REQ/REQ-21_catalog_search.md') }}"
    environment: staging
    project: acme-shop-staging
    fail_on_drift: true
  delegate_to: localhost

- name: Against a moto server
  sdd.devops_flow.cloud_drift:
    req: docs/07_REQ/REQ-14_order_intake_api.md
    environment: prod
    endpoint_url: http://127.0.0.1:5000
  delegate_to: localhost
"""

RETURN = r"""
drift:
  description: Whether anything is missing, extra or changed.
  returned: success
  type: bool
  sample: true
summary:
  description: One line with the counts and the first differences.
  returned: success
  type: str
  sample: "order-intake-api prod on aws: drift - 0 missing, 0 extra, 1 changed: security_group/order-intake-api-prod-alb
    ingress +tcp 22 from 0.0.0.0/0"
report:
  description:
    - The drift report. The list of changed attributes is RV(report.changed), because the top-level C(changed)
      is Ansible's own flag (always false here).
  returned: success
  type: dict
  contains:
    cloud:
      description: The cloud that was read.
      returned: success
      type: str
      sample: aws
    environment:
      description: The environment that was checked.
      returned: success
      type: str
      sample: prod
    service:
      description: The service name of the documents.
      returned: success
      type: str
      sample: order-intake-api
    region:
      description: The region that was read.
      returned: success
      type: str
      sample: us-east-1
    scope:
      description: The tags or labels (and names) that selected the service's resources.
      returned: success
      type: dict
      sample: {"Project": "order-intake-api", "Environment": "prod"}
    missing:
      description: Resources the model expects that were not found.
      returned: success
      type: list
      elements: dict
      contains:
        resource:
          description: C(kind/name).
          type: str
          sample: db_instance/order-intake-api-prod
        kind:
          description: The resource kind.
          type: str
          sample: db_instance
        name:
          description: The name the generated Terraform gives it (C(<account-id>) and similar stand for the parts only
            the cloud knows).
          type: str
          sample: order-intake-api-prod
        address:
          description: The Terraform address of the resource in the generated code.
          type: str
          sample: module.database.aws_db_instance.this
        expected:
          description: The expected attributes.
          type: dict
          sample: {"instance_class": "db.m7g.large", "multi_az": true}
    extra:
      description: Resources with the service's tags (or on its network) that the model does not expect.
      returned: success
      type: list
      elements: dict
      contains:
        resource:
          description: C(kind/name).
          type: str
          sample: firewall/catalog-search-prod-allow-ssh
        kind:
          description: The resource kind.
          type: str
          sample: firewall
        name:
          description: Its name.
          type: str
          sample: catalog-search-prod-allow-ssh
        id:
          description: Its cloud id (ARN, URL, resource id).
          type: str
          sample: projects/acme/global/firewalls/catalog-search-prod-allow-ssh
        attributes:
          description: Its attributes, read the same way as the expected ones.
          type: dict
          sample: {"action": "allow", "rules": ["tcp:22"], "source_ranges": ["0.0.0.0/0"]}
    changed:
      description: One entry per attribute that differs.
      returned: success
      type: list
      elements: dict
      contains:
        resource:
          description: C(kind/name).
          type: str
          sample: s3_bucket/order-intake-api-prod-123456789012-data
        kind:
          description: The resource kind.
          type: str
          sample: s3_bucket
        name:
          description: Its name.
          type: str
          sample: order-intake-api-prod-123456789012-data
        address:
          description: The Terraform address.
          type: str
          sample: module.storage.aws_s3_bucket.this
        attribute:
          description: The attribute.
          type: str
          sample: encryption
        expected:
          description: The expected value (C(set) or C(unset) for presence checks).
          type: raw
          sample: aws:kms
        actual:
          description: The value found.
          type: raw
          sample: null
        comparison:
          description: How the values were compared - V(equal), V(set) (members in any order), V(at_least),
            V(version) (the expected version is a prefix) or V(present).
          type: str
          sample: equal
        added:
          description: For V(set) comparisons, the members found that are not expected (an extra open port).
          type: list
          elements: str
          returned: when comparison is set
          sample: ["tcp 22 from 0.0.0.0/0"]
        removed:
          description: For V(set) comparisons, the expected members not found.
          type: list
          elements: str
          returned: when comparison is set
          sample: []
        field:
          description: The model field the expected value comes from.
          type: str
          returned: when known
          sample: infrastructure.storage
        source:
          description: The document and line of that field.
          type: str
          returned: when known
          sample: examples/docs/07_REQ/REQ-14_order_intake_api.md:314
    checked:
      description: Every expected resource with its status (V(ok), V(changed) or V(missing)) and the attributes
        compared.
      returned: success
      type: list
      elements: dict
      sample: [{"resource": "vpc/order-intake-api-prod", "status": "ok", "attributes": ["cidr_block"]}]
    skipped:
      description: What was not compared, and why.
      returned: success
      type: list
      elements: str
      sample: ["the Pub/Sub topic and subscriptions are not compared"]

    drift:
      description: Whether anything is missing, extra or changed (the same as RV(drift)).
      type: bool
      sample: true
    summary:
      description: The same as RV(summary).
      type: str
"""

from typing import Any, Dict

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils.arguments import (
    ansible_argument_spec,
    document_kwargs,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.drift.compare import DriftError
from ansible_collections.sdd.devops_flow.plugins.module_utils.drift.run import check
from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import DevopsFlowError
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.serialize import model_from_dict
from ansible_collections.sdd.devops_flow.plugins.module_utils.textio import (
    HAS_YAML,
    YAML_IMPORT_ERROR,
)


def argument_spec() -> Dict[str, Dict[str, Any]]:
    spec = ansible_argument_spec()
    spec.update(
        {
            "model": {"type": "dict"},
            "environment": {"type": "str", "default": "prod"},
            "region": {"type": "str"},
            "profile": {"type": "str"},
            "endpoint_url": {"type": "str", "aliases": ["aws_endpoint_url"]},
            "project": {"type": "str"},
            "subscription_id": {"type": "str"},
            "resource_group": {"type": "str"},
            "fail_on_drift": {"type": "bool", "default": False},
        }
    )
    return spec


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_one_of=[("model", "req", "spec")],
        mutually_exclusive=[("model", "req"), ("model", "spec")],
        supports_check_mode=True,
    )
    params = module.params
    try:
        if params["model"] is not None:
            model = model_from_dict(params["model"])
        else:
            if not HAS_YAML:
                from ansible.module_utils.basic import missing_required_lib

                module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)
            model = load_model(**document_kwargs(params))
    except DevopsFlowError as exc:
        module.fail_json(**exc.to_fail_kwargs())
    except (KeyError, TypeError, ValueError) as exc:
        module.fail_json(msg="model is not a deployment model as spec_info returns it: %s" % exc)
    options = {key: params[key] for key in ("profile", "endpoint_url", "project", "subscription_id", "resource_group")}
    try:
        report = check(model, params["environment"], params["cloud"], params["region"], options)
    except DriftError as exc:
        module.fail_json(msg=str(exc))
    result = {"changed": False, "drift": report["drift"], "summary": report["summary"], "report": report}
    if params["fail_on_drift"] and report["drift"]:
        module.fail_json(msg=report["summary"], **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
