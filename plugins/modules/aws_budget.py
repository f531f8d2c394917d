#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: aws_budget
short_description: Manage an AWS Budgets budget, its alert notifications and its tags
version_added: "0.1.0"
description:
  - Creates, updates or deletes one budget of AWS Budgets, for example the monthly cost budgets of section 9.5.7
    (Cost Constraints) of a requirement document, with a notification per alert threshold.
  - Notifications are identified by their type, comparison operator, threshold and threshold type; the
    subscribers of each notification are made to match O(notifications[].subscribers) exactly.
  - Tags are the budget's resource tags (C(ResourceTags) of the Budgets API).
  - Idempotent - a budget that already matches is left alone. AWS Budgets is a global service; the API is
    reached in V(us-east-1) unless O(region) names another.
  - Neither amazon.aws nor community.aws has a module for AWS Budgets; this one uses boto3 directly.
author:
  - SDD DevOps Flow maintainers (@sdd-devops)
options:
  name:
    description:
      - Name of the budget, unique in the account.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the budget, V(absent) deletes it with its notifications.
    type: str
    choices: [present, absent]
    default: present
  amount:
    description:
      - The budget limit, in O(currency). Required with O(state=present).
    type: float
  currency:
    description:
      - Unit of O(amount), for example V(USD) (or V(GB) for usage budgets).
    type: str
    default: USD
  time_unit:
    description:
      - Period the budget covers, repeating.
    type: str
    choices: [DAILY, MONTHLY, QUARTERLY, ANNUALLY]
    default: MONTHLY
  budget_type:
    description:
      - What the budget tracks.
    type: str
    choices: [COST, USAGE, RI_UTILIZATION, RI_COVERAGE, SAVINGS_PLANS_UTILIZATION, SAVINGS_PLANS_COVERAGE]
    default: COST
  cost_filters:
    description:
      - Cost filters of the budget, a dictionary of filter name to a list of values, for example the filter
        C(Service) with the value V(Amazon Relational Database Service), or C(TagKeyValue) with
        V(user:Environment$prod).
      - An empty dictionary means the whole account.
    type: dict
    default: {}
  notifications:
    description:
      - Alerts of the budget. Each is sent to its subscribers when the actual (or forecasted) spend crosses the
        threshold.
    type: list
    elements: dict
    default: []
    suboptions:
      threshold:
        description:
          - The threshold, a percentage of the limit with O(notifications[].threshold_type=PERCENTAGE), else an amount.
        type: float
        required: true
      threshold_type:
        description:
          - How O(notifications[].threshold) is read.
        type: str
        choices: [PERCENTAGE, ABSOLUTE_VALUE]
        default: PERCENTAGE
      notification_type:
        description:
          - Whether the actual or the forecasted spend is compared.
        type: str
        choices: [ACTUAL, FORECASTED]
        default: ACTUAL
      comparison_operator:
        description:
          - How the spend is compared with the threshold.
        type: str
        choices: [GREATER_THAN, LESS_THAN, EQUAL_TO]
        default: GREATER_THAN
      subscribers:
        description:
          - Who is alerted, one to ten subscribers.
        type: list
        elements: dict
        required: true
        suboptions:
          type:
            description:
              - V(EMAIL) for an email address, V(SNS) for the ARN of an SNS topic.
            type: str
            choices: [EMAIL, SNS]
            default: EMAIL
          address:
            description:
              - The email address or the topic ARN.
            type: str
            required: true
  purge_notifications:
    description:
      - Remove the budget's notifications that O(notifications) does not list.
    type: bool
    default: true
  tags:
    description:
      - Resource tags of the budget. Tags are left alone when omitted.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description:
      - Remove the tags that O(tags) does not list.
    type: bool
    default: true
  account_id:
    description:
      - The account that owns the budget. Defaults to the account of the credentials (from STS).
    type: str
  region:
    description:
      - Region whose endpoint serves the Budgets API.
    type: str
    default: us-east-1
    aliases: [aws_region]
  endpoint_url:
    description:
      - URL of the Budgets (and STS) API instead of the default AWS endpoints.
    type: str
    aliases: [aws_endpoint_url]
  access_key:
    description:
      - AWS access key ID. The environment, the shared credentials files or an instance role are used when omitted.
    type: str
    aliases: [aws_access_key_id, aws_access_key]
  secret_key:
    description:
      - AWS secret access key.
    type: str
    aliases: [aws_secret_access_key, aws_secret_key]
  session_token:
    description:
      - AWS session token of temporary credentials.
    type: str
    aliases: [aws_session_token]
  profile:
    description:
      - Named profile of the shared credentials files.
    type: str
    aliases: [aws_profile]
  validate_certs:
    description:
      - Verify the TLS certificate of the endpoint.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Reads the budget and reports what would change without changing it.
  diff_mode:
    support: full
    description: Shows the budget, its notifications and its tags before and after.
requirements:
  - boto3
  - botocore
notes:
  - The credentials need C(budgets:ViewBudget), C(budgets:ModifyBudget) (and C(budgets:TagResource),
    C(budgets:UntagResource), C(budgets:ListTagsForResource) for tags) and C(sts:GetCallerIdentity) when
    O(account_id) is omitted.
seealso:
  - module: sdd.devops_flow.spec_info
"""

EXAMPLES = r"""
- name: Monthly database budget of REQ-14 9.5.7, alerting at 80 percent
  sdd.devops_flow.aws_budget:
    name: order-intake-api-prod-database
    amount: 380
    cost_filters:
      Service: [Amazon Relational Database Service]
    notifications:
      - threshold: 80
        subscribers:
          - address: platform-team@example.com
    tags:
      Project: order-intake-api
      Environment: prod
      sdd.devops-flow/req: REQ-14

- name: Remove it
  sdd.devops_flow.aws_budget:
    name: order-intake-api-prod-database
    state: absent
"""

RETURN = r"""
budget:
  description: The budget after the task (empty when it is absent).
  returned: always
  type: dict
  contains:
    name:
      description: Name of the budget.
      type: str
      sample: order-intake-api-prod-database
    arn:
      description: ARN of the budget.
      type: str
      sample: arn:aws:budgets::123456789012:budget/order-intake-api-prod-database
    amount:
      description: The limit.
      type: float
      sample: 380.0
    currency:
      description: Unit of the limit.
      type: str
      sample: USD
    time_unit:
      description: Period of the budget.
      type: str
      sample: MONTHLY
    budget_type:
      description: What the budget tracks.
      type: str
      sample: COST
    cost_filters:
      description: Filter name to values.
      type: dict
      sample: {"Service": ["Amazon Relational Database Service"]}
    notifications:
      description: The notifications with their subscribers.
      type: list
      elements: dict
      sample:
        - threshold: 80.0
          threshold_type: PERCENTAGE
          notification_type: ACTUAL
          comparison_operator: GREATER_THAN
          subscribers: [{"type": "EMAIL", "address": "platform-team@example.com"}]
    tags:
      description: Resource tags (only when O(tags) was given or the budget was read with them).
      type: dict
      sample: {"Environment": "prod"}
"""

import decimal
from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    import traceback

    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None

NotificationKey = Tuple[str, str, float, str]


def amount_text(value: float) -> str:
    """``380.0`` -> ``"380"``, ``12.5`` -> ``"12.5"`` (the Budgets API takes decimal strings)."""
    text = format(decimal.Decimal(str(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def same_amount(left: Any, right: Any) -> bool:
    try:
        return decimal.Decimal(str(left)) == decimal.Decimal(str(right))
    except decimal.InvalidOperation:
        return str(left) == str(right)


def normal_filters(filters: Optional[Dict[str, Any]]) -> Dict[str, List[str]]:
    return {str(k): sorted(str(v) for v in (values or [])) for k, values in (filters or {}).items() if values}


def notification_key(notification: Dict[str, Any]) -> NotificationKey:
    """The identity of a notification in the Budgets API (API field names)."""
    return (
        notification["NotificationType"],
        notification["ComparisonOperator"],
        float(notification["Threshold"]),
        notification.get("ThresholdType") or "PERCENTAGE",
    )


def api_notification(key: NotificationKey) -> Dict[str, Any]:
    return {
        "NotificationType": key[0],
        "ComparisonOperator": key[1],
        "Threshold": key[2],
        "ThresholdType": key[3],
    }


def wanted_notifications(params: List[Dict[str, Any]]) -> Dict[NotificationKey, List[Tuple[str, str]]]:
    wanted: Dict[NotificationKey, List[Tuple[str, str]]] = {}
    for item in params:
        key = (
            item["notification_type"],
            item["comparison_operator"],
            float(item["threshold"]),
            item["threshold_type"],
        )
        subscribers = sorted({(s["type"], s["address"]) for s in item["subscribers"]})
        wanted[key] = subscribers
    return wanted


def summary_notifications(notifications: Dict[NotificationKey, List[Tuple[str, str]]]) -> List[Dict[str, Any]]:
    return [
        {
            "notification_type": key[0],
            "comparison_operator": key[1],
            "threshold": key[2],
            "threshold_type": key[3],
            "subscribers": [{"type": kind, "address": address} for kind, address in subscribers],
        }
        for key, subscribers in sorted(notifications.items())
    ]


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class Budgets:
    """The Budgets API calls the module makes, with errors turned into ``fail_json``."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        params = module.params
        session = boto3.session.Session(
            aws_access_key_id=params["access_key"],
            aws_secret_access_key=params["secret_key"],
            aws_session_token=params["session_token"],
            profile_name=params["profile"],
            region_name=params["region"],
        )
        options = {
            "endpoint_url": params["endpoint_url"],
            "verify": params["validate_certs"],
            "config": Config(retries={"mode": "standard", "max_attempts": 8}),
        }
        self.session = session
        self.options = options
        self.client = session.client("budgets", **options)
        self.account_id = params["account_id"] or self._account()

    def _fail(self, error: Exception, action: str) -> None:
        code = ""
        if isinstance(error, ClientError):
            code = error.response.get("Error", {}).get("Code", "")
        self.module.fail_json(msg="AWS Budgets: %s failed: %s" % (action, error), error_code=code)

    def _account(self) -> str:
        try:
            return str(self.session.client("sts", **self.options).get_caller_identity()["Account"])
        except (BotoCoreError, ClientError) as error:
            self._fail(error, "finding the account (sts:GetCallerIdentity; or give account_id)")
        return ""

    def call(self, action: str, **kwargs: Any) -> Dict[str, Any]:
        try:
            result: Dict[str, Any] = getattr(self.client, action)(AccountId=self.account_id, **kwargs)
            return result
        except (BotoCoreError, ClientError) as error:
            self._fail(error, action)
        return {}

    def call_plain(self, action: str, **kwargs: Any) -> Dict[str, Any]:
        try:
            result: Dict[str, Any] = getattr(self.client, action)(**kwargs)
            return result
        except (BotoCoreError, ClientError) as error:
            self._fail(error, action)
        return {}

    def budget(self, name: str) -> Optional[Dict[str, Any]]:
        try:
            found: Dict[str, Any] = self.client.describe_budget(AccountId=self.account_id, BudgetName=name)["Budget"]
            return found
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NotFoundException":
                return None
            self._fail(error, "describe_budget")
        except BotoCoreError as error:
            self._fail(error, "describe_budget")
        return None

    def notifications(self, name: str) -> Dict[NotificationKey, List[Tuple[str, str]]]:
        found: Dict[NotificationKey, List[Tuple[str, str]]] = {}
        token: Optional[str] = None
        while True:
            kwargs: Dict[str, Any] = {"BudgetName": name, "MaxResults": 100}
            if token:
                kwargs["NextToken"] = token
            page = self.call("describe_notifications_for_budget", **kwargs)
            for notification in page.get("Notifications", []):
                key = notification_key(notification)
                found[key] = self.subscribers(name, key)
            token = page.get("NextToken")
            if not token:
                return found

    def subscribers(self, name: str, key: NotificationKey) -> List[Tuple[str, str]]:
        found = set()
        token: Optional[str] = None
        while True:
            kwargs: Dict[str, Any] = {"BudgetName": name, "Notification": api_notification(key), "MaxResults": 100}
            if token:
                kwargs["NextToken"] = token
            page = self.call("describe_subscribers_for_notification", **kwargs)
            for subscriber in page.get("Subscribers", []):
                found.add((subscriber["SubscriptionType"], subscriber["Address"]))
            token = page.get("NextToken")
            if not token:
                return sorted(found)

    def tags(self, arn: str) -> Dict[str, str]:
        page = self.call_plain("list_tags_for_resource", ResourceARN=arn)
        return {t["Key"]: t["Value"] for t in page.get("ResourceTags", [])}


def wanted_budget(params: Dict[str, Any]) -> Dict[str, Any]:
    budget: Dict[str, Any] = {
        "BudgetName": params["name"],
        "BudgetLimit": {"Amount": amount_text(params["amount"]), "Unit": params["currency"]},
        "TimeUnit": params["time_unit"],
        "BudgetType": params["budget_type"],
    }
    filters = normal_filters(params["cost_filters"])
    if filters:
        budget["CostFilters"] = filters
    return budget


def budget_differs(current: Dict[str, Any], wanted: Dict[str, Any]) -> bool:
    limit = current.get("BudgetLimit") or {}
    return (
        not same_amount(limit.get("Amount"), wanted["BudgetLimit"]["Amount"])
        or limit.get("Unit") != wanted["BudgetLimit"]["Unit"]
        or current.get("TimeUnit") != wanted["TimeUnit"]
        or current.get("BudgetType") != wanted["BudgetType"]
        or normal_filters(current.get("CostFilters")) != normal_filters(wanted.get("CostFilters"))
    )


def summary(
    budget: Optional[Dict[str, Any]],
    notifications: Dict[NotificationKey, List[Tuple[str, str]]],
    tags: Optional[Dict[str, str]],
    arn: str,
) -> Dict[str, Any]:
    if budget is None:
        return {}
    limit = budget.get("BudgetLimit") or {}
    result: Dict[str, Any] = {
        "name": budget["BudgetName"],
        "arn": arn,
        "amount": float(limit.get("Amount") or 0),
        "currency": limit.get("Unit", ""),
        "time_unit": budget.get("TimeUnit", ""),
        "budget_type": budget.get("BudgetType", ""),
        "cost_filters": normal_filters(budget.get("CostFilters")),
        "notifications": summary_notifications(notifications),
    }
    if tags is not None:
        result["tags"] = dict(sorted(tags.items()))
    return result


def api_subscribers(subscribers: List[Tuple[str, str]]) -> List[Dict[str, str]]:
    return [{"SubscriptionType": kind, "Address": address} for kind, address in subscribers]


def ensure_present(
    module: AnsibleModule,
    api: Budgets,
    current: Optional[Dict[str, Any]],
    have_notes: Dict[NotificationKey, List[Tuple[str, str]]],
    have_tags: Optional[Dict[str, str]],
    arn: str,
) -> Tuple[bool, Dict[str, Any]]:
    """Create the budget or bring it, its notifications and its tags to the wanted state."""
    params = module.params
    name = params["name"]
    wanted = wanted_budget(params)
    want_notes = wanted_notifications(params["notifications"])
    want_tags: Optional[Dict[str, str]] = (
        {str(k): str(v) for k, v in params["tags"].items()} if params["tags"] is not None else None
    )
    check = module.check_mode

    if current is None:
        if not check:
            kwargs: Dict[str, Any] = {
                "Budget": wanted,
                "NotificationsWithSubscribers": [
                    {"Notification": api_notification(key), "Subscribers": api_subscribers(subs)}
                    for key, subs in sorted(want_notes.items())
                ],
            }
            if want_tags:
                kwargs["ResourceTags"] = [{"Key": k, "Value": v} for k, v in sorted(want_tags.items())]
            api.call("create_budget", **kwargs)
        return True, summary(wanted, want_notes, want_tags, arn)

    changed = False
    if budget_differs(current, wanted):
        changed = True
        if not check:
            api.call("update_budget", NewBudget=wanted)

    after_notes: Dict[NotificationKey, List[Tuple[str, str]]] = dict(want_notes)
    for key, subs in have_notes.items():
        if key in want_notes:
            continue
        if params["purge_notifications"]:
            changed = True
            if not check:
                api.call("delete_notification", BudgetName=name, Notification=api_notification(key))
        else:
            after_notes[key] = subs
    for key, subs in want_notes.items():
        if key not in have_notes:
            changed = True
            if not check:
                api.call(
                    "create_notification",
                    BudgetName=name,
                    Notification=api_notification(key),
                    Subscribers=api_subscribers(subs),
                )
            continue
        have_subs = set(have_notes[key])
        for subscriber in sorted(set(subs) - have_subs):
            changed = True
            if not check:
                api.call(
                    "create_subscriber",
                    BudgetName=name,
                    Notification=api_notification(key),
                    Subscriber=api_subscribers([subscriber])[0],
                )
        for subscriber in sorted(have_subs - set(subs)):
            changed = True
            if not check:
                api.call(
                    "delete_subscriber",
                    BudgetName=name,
                    Notification=api_notification(key),
                    Subscriber=api_subscribers([subscriber])[0],
                )

    after_tags: Optional[Dict[str, str]] = None
    if want_tags is not None:
        have_tags = have_tags or {}
        add = {k: v for k, v in want_tags.items() if have_tags.get(k) != v}
        remove = sorted(k for k in have_tags if k not in want_tags) if params["purge_tags"] else []
        after_tags = dict(want_tags) if params["purge_tags"] else dict(have_tags, **want_tags)
        if add:
            changed = True
            if not check:
                api.call_plain(
                    "tag_resource",
                    ResourceARN=arn,
                    ResourceTags=[{"Key": k, "Value": v} for k, v in sorted(add.items())],
                )
        if remove:
            changed = True
            if not check:
                api.call_plain("untag_resource", ResourceARN=arn, ResourceTagKeys=remove)

    return changed, summary(wanted, after_notes, after_tags, arn)


def main() -> None:
    subscriber_spec = {
        "type": {"type": "str", "choices": ["EMAIL", "SNS"], "default": "EMAIL"},
        "address": {"type": "str", "required": True},
    }
    notification_spec = {
        "threshold": {"type": "float", "required": True},
        "threshold_type": {"type": "str", "choices": ["PERCENTAGE", "ABSOLUTE_VALUE"], "default": "PERCENTAGE"},
        "notification_type": {"type": "str", "choices": ["ACTUAL", "FORECASTED"], "default": "ACTUAL"},
        "comparison_operator": {
            "type": "str",
            "choices": ["GREATER_THAN", "LESS_THAN", "EQUAL_TO"],
            "default": "GREATER_THAN",
        },
        "subscribers": {"type": "list", "elements": "dict", "required": True, "options": subscriber_spec},
    }
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "amount": {"type": "float"},
            "currency": {"type": "str", "default": "USD"},
            "time_unit": {
                "type": "str",
                "choices": ["DAILY", "MONTHLY", "QUARTERLY", "ANNUALLY"],
                "default": "MONTHLY",
            },
            "budget_type": {
                "type": "str",
                "choices": [
                    "COST",
                    "USAGE",
                    "RI_UTILIZATION",
                    "RI_COVERAGE",
                    "SAVINGS_PLANS_UTILIZATION",
                    "SAVINGS_PLANS_COVERAGE",
                ],
                "default": "COST",
            },
            "cost_filters": {"type": "dict", "default": {}},
            "notifications": {"type": "list", "elements": "dict", "default": [], "options": notification_spec},
            "purge_notifications": {"type": "bool", "default": True},
            "tags": {"type": "dict", "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
            "account_id": {"type": "str"},
            "region": {"type": "str", "default": "us-east-1", "aliases": ["aws_region"]},
            "endpoint_url": {"type": "str", "aliases": ["aws_endpoint_url"]},
            "access_key": {"type": "str", "aliases": ["aws_access_key_id", "aws_access_key"], "no_log": False},
            "secret_key": {"type": "str", "aliases": ["aws_secret_access_key", "aws_secret_key"], "no_log": True},
            "session_token": {"type": "str", "aliases": ["aws_session_token"], "no_log": True},
            "profile": {"type": "str", "aliases": ["aws_profile"]},
            "validate_certs": {"type": "bool", "default": True},
        },
        required_if=[("state", "present", ("amount",))],
        supports_check_mode=True,
    )
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=BOTO3_IMPORT_ERROR)
    params = module.params
    for item in params["notifications"]:
        if not 1 <= len(item["subscribers"]) <= 10:
            module.fail_json(msg="notification at %s needs 1 to 10 subscribers" % item["threshold"])
    if params["state"] == "present" and params["amount"] is not None and params["amount"] < 0:
        module.fail_json(msg="amount must not be negative")

    api = Budgets(module)
    name = params["name"]
    arn = "arn:%s:budgets::%s:budget/%s" % (partition_of(params["region"]), api.account_id, name)
    current = api.budget(name)

    present = params["state"] == "present"
    # a deletion reads the notifications and tags only to show them in the diff
    have_notes = api.notifications(name) if current is not None and (present or module._diff) else {}
    have_tags = api.tags(arn) if current is not None and present and params["tags"] is not None else None
    before = summary(current, have_notes, have_tags, arn)

    if not present:
        if current is not None and not module.check_mode:
            api.call("delete_budget", BudgetName=name)
        result: Dict[str, Any] = {"changed": current is not None, "budget": {}}
        if module._diff:
            result["diff"] = {"before": before, "after": {}}
        module.exit_json(**result)

    changed, after = ensure_present(module, api, current, have_notes, have_tags, arn)
    result = {"changed": changed, "budget": after}
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
