# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Terraform for AWS: alarms (9.5.5 thresholds) and budgets (9.5.7) of the root module."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from . import common
from .hcl import Block, Comment, ident
from .terraform_aws_plan import (
    Context,
    Item,
    interp,
    note,
    policy_document,
    ref,
    resource,
)

#: budget row -> the AWS cost explorer "Service" values it covers (None: no filter known)
_BUDGET_SERVICES: Dict[str, Tuple[str, ...]] = {
    "database": ("Amazon Relational Database Service",),
    "cache": ("Amazon ElastiCache",),
    "storage": ("Amazon Simple Storage Service",),
    "network": ("Amazon Elastic Load Balancing", "Amazon Virtual Private Cloud", "EC2 - Other"),
    "queue": ("Amazon Simple Queue Service",),
    "messaging": ("Amazon Simple Queue Service", "Amazon Simple Notification Service"),
    "monitoring": ("AmazonCloudWatch",),
    "observability": ("AmazonCloudWatch",),
    "security": ("AWS Secrets Manager", "AWS Key Management Service", "AWS WAF"),
}
_COMPUTE_SERVICES = {
    "ecs": ("Amazon Elastic Container Service",),
    "ec2": ("Amazon Elastic Compute Cloud - Compute",),
    "lambda": ("AWS Lambda",),
}


class Monitoring(Context):
    """Alarms, the alerts topic and the budgets."""

    def _alarm(self, name: str, description: str, attrs: Dict[str, Any]) -> Block:
        alarm = resource("aws_cloudwatch_metric_alarm", name)
        alarm.attrs(
            {
                "alarm_name": interp(ref("local.name"), "-%s" % name.replace("_", "-")),
                "alarm_description": description,
                "actions_enabled": True,
                "alarm_actions": [ref("aws_sns_topic.alerts.arn")],
                "ok_actions": [ref("aws_sns_topic.alerts.arn")],
                "treat_missing_data": "notBreaching",
            }
        )
        alarm.attrs(attrs)
        return alarm

    def _alerts(self) -> List[Item]:
        p = self.p
        items: List[Item] = [Comment("Alerts: alarms and budgets publish to one encrypted topic.")]
        items.append(
            resource(
                "aws_sns_topic",
                "alerts",
                {"name": interp(ref("local.name"), "-alerts"), "kms_master_key_id": ref("aws_kms_key.this.id")},
            )
        )
        items.append(
            policy_document(
                "alerts",
                [
                    {
                        "sid": "AlarmsAndBudgetsPublish",
                        "actions": ["sns:Publish"],
                        "resources": [ref("aws_sns_topic.alerts.arn")],
                        "principals": [("Service", ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"])],
                        "conditions": [("StringEquals", "aws:SourceAccount", [ref("local.account_id")])],
                    }
                ],
            )
        )
        items.append(
            resource(
                "aws_sns_topic_policy",
                "alerts",
                {"arn": ref("aws_sns_topic.alerts.arn"), "policy": ref("data.aws_iam_policy_document.alerts.json")},
            )
        )
        items.append(
            resource(
                "aws_sns_topic_subscription",
                "alerts_email",
                {
                    "for_each": ref("toset(var.alert_emails)"),
                    "topic_arn": ref("aws_sns_topic.alerts.arn"),
                    "protocol": "email",
                    "endpoint": ref("each.value"),
                },
            )
        )
        lb = {"LoadBalancer": ref("module.compute.alb_arn_suffix")}
        for field, name, stat in (("p95_latency_ms", "p95_latency", "p95"), ("p99_latency_ms", "p99_latency", "p99")):
            value = self._threshold(field)
            if value is None:
                continue
            periods = self._periods(name)
            items.extend(note(self.model, self._threshold_path(field)))
            items.append(
                self._alarm(
                    name,
                    "%s latency of the load balancer's targets above the documents' threshold for %d minutes"
                    % (stat, periods),
                    {
                        "namespace": "AWS/ApplicationELB",
                        "metric_name": "TargetResponseTime",
                        "extended_statistic": stat,
                        "dimensions": lb,
                        "period": 60,
                        "evaluation_periods": periods,
                        "datapoints_to_alarm": periods,
                        "comparison_operator": "GreaterThanThreshold",
                        "threshold": ref("var.%s_threshold_ms / 1000" % name),
                    },
                )
            )
        if self._threshold("error_rate_ratio") is not None:
            periods = self._periods("error_rate")
            items.extend(note(self.model, self._threshold_path("error_rate_ratio")))
            alarm = self._alarm(
                "error_rate",
                "5xx responses / requests above the documents' error rate for %d minutes" % periods,
                {
                    "evaluation_periods": periods,
                    "datapoints_to_alarm": periods,
                    "comparison_operator": "GreaterThanThreshold",
                    "threshold": ref("var.error_rate_threshold"),
                },
            )
            for query_id, metric in (("errors", "HTTPCode_Target_5XX_Count"), ("requests", "RequestCount")):
                query = alarm.block("metric_query", id=query_id)
                query.block(
                    "metric",
                    namespace="AWS/ApplicationELB",
                    metric_name=metric,
                    dimensions=lb,
                    period=60,
                    stat="Sum",
                )
            alarm.block(
                "metric_query",
                id="error_rate",
                expression="IF(requests > 0, FILL(errors, 0) / requests, 0)",
                label="5xx error ratio",
                return_data=True,
            )
            items.append(alarm)
        items.append(
            self._alarm(
                "unhealthy_targets",
                "Targets failing the readiness check (%s)" % common.readiness_path(self.model),
                {
                    "namespace": "AWS/ApplicationELB",
                    "metric_name": "UnHealthyHostCount",
                    "statistic": "Maximum",
                    "dimensions": {
                        "LoadBalancer": ref("module.compute.alb_arn_suffix"),
                        "TargetGroup": ref('module.compute.target_group_arn_suffixes["blue"]'),
                    },
                    "period": 60,
                    "evaluation_periods": 3,
                    "comparison_operator": "GreaterThanThreshold",
                    "threshold": 0,
                },
            )
        )
        if p.compute == "lambda":
            items.append(
                self._alarm(
                    "throttles",
                    "The function is throttled: it reached its reserved concurrency (var.max_capacity)",
                    {
                        "namespace": "AWS/Lambda",
                        "metric_name": "Throttles",
                        "statistic": "Sum",
                        "dimensions": {"FunctionName": ref("module.compute.function_name")},
                        "period": 60,
                        "evaluation_periods": 5,
                        "comparison_operator": "GreaterThanThreshold",
                        "threshold": 0,
                    },
                )
            )
        else:
            dims = (
                {"ClusterName": ref("module.compute.cluster_name"), "ServiceName": ref("module.compute.service_name")}
                if p.compute == "ecs"
                else {"AutoScalingGroupName": ref("module.compute.autoscaling_group_name")}
            )
            periods = self._periods("cpu_utilization")
            items.append(
                self._alarm(
                    "cpu",
                    "Average CPU above var.cpu_alarm_percent for %d minutes" % periods,
                    {
                        "namespace": "AWS/ECS" if p.compute == "ecs" else "AWS/EC2",
                        "metric_name": "CPUUtilization",
                        "statistic": "Average",
                        "dimensions": dims,
                        "period": 60,
                        "evaluation_periods": periods,
                        "comparison_operator": "GreaterThanThreshold",
                        "threshold": ref("var.cpu_alarm_percent"),
                    },
                )
            )
        return items

    def _budget_services(self, resource_name: str) -> Optional[Tuple[str, ...]]:
        key = resource_name.lower()
        if key == "compute":
            return _COMPUTE_SERVICES[self.p.compute]
        if key == "database" and self.p.dynamodb:
            return ("Amazon DynamoDB",)
        return _BUDGET_SERVICES.get(key)

    def _budgets(self) -> List[Item]:
        cost = self.model.cost
        items: List[Item] = []
        used: Dict[str, int] = {}
        total_done = False
        rows: List[Tuple[int, str, float, Tuple[float, ...], Optional[Tuple[str, ...]]]] = []
        skipped: List[str] = []
        for index, budget in enumerate(cost.budgets):
            if budget.monthly_usd is None:
                continue
            if budget.resource.lower() == "total":
                rows.append((index, "total", budget.monthly_usd, budget.threshold_percents, None))
                total_done = True
                continue
            services = self._budget_services(budget.resource)
            if services is None:
                skipped.append(budget.resource)
                continue
            rows.append((index, budget.resource, budget.monthly_usd, budget.threshold_percents, services))
        if cost.total_monthly_usd is not None and not total_done:
            thresholds = next((b.threshold_percents for b in cost.budgets if b.threshold_percents), ())
            rows.append((-1, "total", cost.total_monthly_usd, thresholds, None))
        if not rows:
            return items
        items.append(
            Comment(
                "AWS Budgets (9.5.7): the monthly amounts of the documents, alerting at their thresholds.\n"
                "Budgets are account-wide: create them from one environment only (create_budgets)."
                + ("\nNo AWS cost filter is known for: %s (no budget)." % ", ".join(skipped) if skipped else "")
            )
        )
        for index, name, amount, thresholds, services in rows:
            key = ident(name, "budget")
            used[key] = used.get(key, 0) + 1
            if used[key] > 1:
                key = "%s_%d" % (key, used[key])
            if index >= 0:
                items.extend(note(self.model, "cost.budgets[%d]" % index))
            else:
                items.extend(note(self.model, "cost.total_monthly_usd"))
            block = resource("aws_budgets_budget", "budget_%s" % key if not key.startswith("budget") else key)
            block.attrs(
                {
                    "count": ref("var.create_budgets ? 1 : 0"),
                    "name": interp(ref("local.name"), "-%s" % key.replace("_", "-")),
                    "budget_type": "COST",
                    "limit_amount": _amount(amount),
                    "limit_unit": self.model.cost.currency or "USD",
                    "time_unit": "MONTHLY",
                }
            )
            if services:
                block.block("cost_filter", name="Service", values=list(services))
            for percent in thresholds or (80.0,):
                notification = block.block("notification")
                notification.attrs(
                    {
                        "comparison_operator": "GREATER_THAN",
                        "threshold": percent,
                        "threshold_type": "PERCENTAGE",
                        "notification_type": "ACTUAL",
                        "subscriber_email_addresses": ref("var.alert_emails"),
                        "subscriber_sns_topic_arns": [ref("aws_sns_topic.alerts.arn")],
                    }
                )
            items.append(block)
        return items


def _amount(value: float) -> str:
    return str(int(value)) if value == int(value) else "%.2f" % value


__all__ = ["Monitoring"]
