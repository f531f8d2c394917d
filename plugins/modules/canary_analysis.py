#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: canary_analysis
short_description: Decide whether a canary is healthy from Prometheus metrics
version_added: "0.1.0"
description:
  - Runs an analysis in the style of Argo Rollouts - each metric is a Prometheus query with a success condition
    (and optionally a failure condition); the analysis takes O(count) measurements O(interval) seconds apart.
  - The analysis fails as soon as one metric has more failed measurements than its C(failure_limit), is
    inconclusive when a metric had no data more often than its C(inconclusive_limit), and succeeds otherwise.
  - The task fails when the analysis fails (or is inconclusive and O(fail_on_inconclusive) is set), so a rollout
    that runs it aborts and rolls back by itself.
  - The deploy role builds the metrics from the documents' thresholds (9.5.5 and the SPEC alerting rules) -
    the canary's error ratio and p95 latency.
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
options:
  prometheus_url:
    description:
      - Base URL of Prometheus, for example C(http://127.0.0.1:9090).
    type: str
    required: true
  metrics:
    description:
      - The metrics to measure.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: A name for reports.
        type: str
        required: true
      query:
        description: A PromQL instant query; its first value is the measurement.
        type: str
        required: true
      success_condition:
        description: A comparison of C(result) with a number, for example C(result < 0.01).
        type: str
        required: true
      failure_condition:
        description: A comparison that fails the measurement even when the success condition holds.
        type: str
      failure_limit:
        description: How many failed measurements are tolerated.
        type: int
        default: 0
      inconclusive_limit:
        description: How many measurements without data are tolerated.
        type: int
        default: 0
  count:
    description:
      - Number of measurements of each metric.
    type: int
    default: 3
  interval:
    description:
      - Seconds between measurements.
    type: float
    default: 10
  initial_delay:
    description:
      - Seconds to wait before the first measurement (so the canary has traffic in the query window).
    type: float
    default: 0
  fail_on_inconclusive:
    description:
      - Fail the task when the analysis is inconclusive.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: The module only queries Prometheus; it runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes.
seealso:
  - module: sdd.devops_flow.traffic_switch
"""

EXAMPLES = r"""
- name: Analyse the canary at 5 percent
  sdd.devops_flow.canary_analysis:
    prometheus_url: http://prometheus.internal:9090
    count: 3
    interval: 10
    metrics:
      - name: error-ratio
        query: >-
          sum(rate(http_requests_total{job="orders",colour="green",status=~"5.."}[1m]))
          / sum(rate(http_requests_total{job="orders",colour="green"}[1m]))
        success_condition: result < 0.01
      - name: p95-latency-ms
        query: >-
          1000 * histogram_quantile(0.95,
          sum by (le) (rate(http_request_duration_seconds_bucket{job="orders",colour="green"}[1m])))
        success_condition: result <= 500
        failure_limit: 1
  delegate_to: localhost
"""

RETURN = r"""
phase:
  description: V(Successful), V(Failed) or V(Inconclusive).
  returned: always
  type: str
  sample: Successful
message:
  description: Why the analysis ended as it did.
  returned: always
  type: str
  sample: "error-ratio: value 0.25 does not meet result < 0.01 (1 failed measurement(s), limit 0)"
measurements:
  description: Every measurement with the metric, the value, its phase and the second it was taken at.
  returned: always
  type: list
  elements: dict
  sample: [{"metric": "error-ratio", "value": 0.0, "phase": "Successful", "at": 0.01, "message": ""}]
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sdd.devops_flow.plugins.module_utils.prometheus import Metric, analyse, parse_condition


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "prometheus_url": {"type": "str", "required": True},
            "metrics": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "name": {"type": "str", "required": True},
                    "query": {"type": "str", "required": True},
                    "success_condition": {"type": "str", "required": True},
                    "failure_condition": {"type": "str"},
                    "failure_limit": {"type": "int", "default": 0},
                    "inconclusive_limit": {"type": "int", "default": 0},
                },
            },
            "count": {"type": "int", "default": 3},
            "interval": {"type": "float", "default": 10},
            "initial_delay": {"type": "float", "default": 0},
            "fail_on_inconclusive": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    metrics = []
    for item in module.params["metrics"]:
        for key in ("success_condition", "failure_condition"):
            if item.get(key):
                try:
                    parse_condition(item[key])
                except ValueError as exc:
                    module.fail_json(msg="metric %s: %s" % (item["name"], exc))
        metrics.append(
            Metric(
                item["name"],
                item["query"],
                item["success_condition"],
                item.get("failure_condition"),
                item["failure_limit"],
                item["inconclusive_limit"],
            )
        )
    if module.params["count"] < 1 or module.params["interval"] < 0:
        module.fail_json(msg="count must be 1 or more and interval 0 or more")
    if module.params["initial_delay"] > 0:
        time.sleep(module.params["initial_delay"])
    analysis = analyse(module.params["prometheus_url"], metrics, module.params["count"], module.params["interval"])
    result = dict(changed=False, **analysis.to_dict())
    if analysis.phase == "Failed" or (analysis.phase == "Inconclusive" and module.params["fail_on_inconclusive"]):
        module.fail_json(msg="canary analysis %s: %s" % (analysis.phase.lower(), analysis.message), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
