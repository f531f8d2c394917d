"""aws_budget: create, no change, update (limit, filters, notifications, subscribers, tags), check mode, diff
and delete, against botocore's Stubber (every request and response is checked against the Budgets API model)."""

from __future__ import annotations

import datetime
import json

import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from botocore.stub import Stubber

from ansible_collections.sdd.devops_flow.plugins.modules import aws_budget

ACCOUNT = "123456789012"
NAME = "order-intake-api-prod-database"
ARN = "arn:aws:budgets::%s:budget/%s" % (ACCOUNT, NAME)
NOTE_80 = {
    "NotificationType": "ACTUAL",
    "ComparisonOperator": "GREATER_THAN",
    "Threshold": 80.0,
    "ThresholdType": "PERCENTAGE",
}
NOTE_90 = dict(NOTE_80, Threshold=90.0)
OPS = {"SubscriptionType": "EMAIL", "Address": "ops@example.com"}
DBA = {"SubscriptionType": "EMAIL", "Address": "dba@example.com"}
TAG_LIST = [{"Key": "Environment", "Value": "prod"}, {"Key": "sdd.devops-flow/req", "Value": "REQ-14"}]
KEY = {"AccountId": ACCOUNT, "BudgetName": NAME}


class Clients:
    """Stubbed budgets and sts clients handed to the module instead of real ones."""

    def __init__(self):
        kwargs = {"region_name": "us-east-1", "aws_access_key_id": "x", "aws_secret_access_key": "y"}
        self.budgets = boto3.client("budgets", **kwargs)
        self.sts = boto3.client("sts", **kwargs)
        self.stub = Stubber(self.budgets)
        self.sts_stub = Stubber(self.sts)
        self.sessions = []

    def session(self, **kwargs):
        outer = self
        self.sessions.append(kwargs)

        class Session:
            def client(self, name, **options):
                outer.options = options
                return outer.budgets if name == "budgets" else outer.sts

        return Session()


@pytest.fixture
def clients(monkeypatch):
    found = Clients()
    monkeypatch.setattr(aws_budget.boto3.session, "Session", found.session)
    with found.stub, found.sts_stub:
        yield found
        found.stub.assert_no_pending_responses()
        found.sts_stub.assert_no_pending_responses()


def run(args, capsys, check=False):
    base = {"name": NAME, "account_id": ACCOUNT}
    args = dict(base, **args, _ansible_check_mode=check, _ansible_diff=True)
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        aws_budget.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def budget(amount="380.0", filters=None):
    data = {
        "BudgetName": NAME,
        "BudgetLimit": {"Amount": amount, "Unit": "USD"},
        "TimeUnit": "MONTHLY",
        "BudgetType": "COST",
        "TimePeriod": {"Start": datetime.datetime(2026, 1, 1), "End": datetime.datetime(2087, 6, 15)},
    }
    data["CostFilters"] = filters if filters is not None else {"Service": ["Amazon Relational Database Service"]}
    return data


def expect_budget(clients, found):
    if found is None:
        clients.stub.add_client_error("describe_budget", "NotFoundException", "no budget", expected_params=KEY)
    else:
        clients.stub.add_response("describe_budget", {"Budget": found}, {"AccountId": ACCOUNT, "BudgetName": NAME})


def expect_notifications(clients, notes):
    clients.stub.add_response(
        "describe_notifications_for_budget",
        {"Notifications": [n for n, subs in notes]},
        {"AccountId": ACCOUNT, "BudgetName": NAME, "MaxResults": 100},
    )
    for note, subs in notes:
        clients.stub.add_response(
            "describe_subscribers_for_notification",
            {"Subscribers": subs},
            {"AccountId": ACCOUNT, "BudgetName": NAME, "Notification": note, "MaxResults": 100},
        )


def expect_tags(clients, tags):
    clients.stub.add_response(
        "list_tags_for_resource",
        {"ResourceTags": [{"Key": k, "Value": v} for k, v in tags.items()]},
        {"ResourceARN": ARN},
    )


PRESENT = {
    "amount": 380,
    "cost_filters": {"Service": ["Amazon Relational Database Service"]},
    "notifications": [{"threshold": 80, "subscribers": [{"address": "ops@example.com"}]}],
    "tags": {"Environment": "prod", "sdd.devops-flow/req": "REQ-14"},
}


def test_creates_the_budget_with_its_notifications_and_tags(clients, capsys):
    expect_budget(clients, None)
    clients.stub.add_response(
        "create_budget",
        {},
        {
            "AccountId": ACCOUNT,
            "Budget": {
                "BudgetName": NAME,
                "BudgetLimit": {"Amount": "380", "Unit": "USD"},
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST",
                "CostFilters": {"Service": ["Amazon Relational Database Service"]},
            },
            "NotificationsWithSubscribers": [{"Notification": NOTE_80, "Subscribers": [OPS]}],
            "ResourceTags": TAG_LIST,
        },
    )
    code, result = run(PRESENT, capsys)
    assert code == 0 and result["changed"], result
    assert result["budget"]["arn"] == ARN and result["budget"]["amount"] == 380.0
    assert result["budget"]["notifications"][0]["subscribers"] == [{"type": "EMAIL", "address": "ops@example.com"}]
    assert result["diff"]["before"] == {} and result["diff"]["after"]["tags"]["Environment"] == "prod"


def test_a_matching_budget_is_left_alone(clients, capsys):
    expect_budget(clients, budget())
    expect_notifications(clients, [(NOTE_80, [OPS])])
    expect_tags(clients, {"Environment": "prod", "sdd.devops-flow/req": "REQ-14"})
    code, result = run(PRESENT, capsys)
    assert code == 0 and not result["changed"], result
    assert result["diff"]["before"] == result["diff"]["after"]


def test_updates_limit_notifications_subscribers_and_tags(clients, capsys):
    expect_budget(clients, budget(amount="300.0"))
    expect_notifications(clients, [(NOTE_80, [OPS, DBA]), (NOTE_90, [OPS])])
    expect_tags(clients, {"Environment": "staging", "Owner": "someone"})
    clients.stub.add_response(
        "update_budget",
        {},
        {
            "AccountId": ACCOUNT,
            "NewBudget": {
                "BudgetName": NAME,
                "BudgetLimit": {"Amount": "380", "Unit": "USD"},
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST",
                "CostFilters": {"Service": ["Amazon Relational Database Service"]},
            },
        },
    )
    clients.stub.add_response("delete_notification", {}, dict(KEY, Notification=NOTE_90))
    clients.stub.add_response(
        "delete_subscriber", {}, {"AccountId": ACCOUNT, "BudgetName": NAME, "Notification": NOTE_80, "Subscriber": DBA}
    )
    clients.stub.add_response(
        "tag_resource",
        {},
        {
            "ResourceARN": ARN,
            "ResourceTags": TAG_LIST,
        },
    )
    clients.stub.add_response("untag_resource", {}, {"ResourceARN": ARN, "ResourceTagKeys": ["Owner"]})
    code, result = run(PRESENT, capsys)
    assert code == 0 and result["changed"], result
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert before["amount"] == 300.0 and after["amount"] == 380.0
    assert len(before["notifications"]) == 2 and len(after["notifications"]) == 1
    assert after["tags"] == {"Environment": "prod", "sdd.devops-flow/req": "REQ-14"}


def test_adds_a_notification_and_a_subscriber_and_keeps_others_without_purge(clients, capsys):
    expect_budget(clients, budget(filters={}))
    expect_notifications(clients, [(NOTE_80, [OPS]), (NOTE_90, [OPS])])
    args = {
        "amount": 380,
        "purge_notifications": False,
        "notifications": [
            {"threshold": 80, "subscribers": [{"address": "ops@example.com"}, {"address": "dba@example.com"}]},
            {
                "threshold": 100,
                "notification_type": "FORECASTED",
                "subscribers": [{"type": "SNS", "address": "arn:aws:sns:us-east-1:123456789012:alerts"}],
            },
        ],
    }
    note_100 = dict(NOTE_80, Threshold=100.0, NotificationType="FORECASTED")
    clients.stub.add_response(
        "create_subscriber", {}, {"AccountId": ACCOUNT, "BudgetName": NAME, "Notification": NOTE_80, "Subscriber": DBA}
    )
    clients.stub.add_response(
        "create_notification",
        {},
        {
            "AccountId": ACCOUNT,
            "BudgetName": NAME,
            "Notification": note_100,
            "Subscribers": [{"SubscriptionType": "SNS", "Address": "arn:aws:sns:us-east-1:123456789012:alerts"}],
        },
    )
    code, result = run(args, capsys)
    assert code == 0 and result["changed"], result
    assert len(result["budget"]["notifications"]) == 3
    assert "tags" not in result["budget"]


def test_delete_without_diff_reads_only_the_budget(clients, capsys):
    expect_budget(clients, budget())
    clients.stub.add_response("delete_budget", {}, KEY)
    with patch_module_args({"name": NAME, "account_id": ACCOUNT, "state": "absent"}), pytest.raises(SystemExit) as exc:
        aws_budget.main()
    result = json.loads(capsys.readouterr().out)
    assert exc.value.code == 0 and result["changed"] and "diff" not in result


def test_check_mode_reports_and_changes_nothing(clients, capsys):
    expect_budget(clients, budget(amount="1"))
    expect_notifications(clients, [])
    expect_tags(clients, {})
    code, result = run(PRESENT, capsys, check=True)
    assert code == 0 and result["changed"], result
    assert result["diff"]["after"]["amount"] == 380.0


def test_check_mode_on_a_new_budget(clients, capsys):
    expect_budget(clients, None)
    code, result = run(PRESENT, capsys, check=True)
    assert code == 0 and result["changed"]


def test_delete_and_delete_again(clients, capsys):
    expect_budget(clients, budget())
    expect_notifications(clients, [(NOTE_80, [OPS])])
    clients.stub.add_response("delete_budget", {}, {"AccountId": ACCOUNT, "BudgetName": NAME})
    code, result = run({"state": "absent"}, capsys)
    assert code == 0 and result["changed"] and result["budget"] == {}
    assert result["diff"]["before"]["notifications"][0]["threshold"] == 80.0
    expect_budget(clients, None)
    code, result = run({"state": "absent"}, capsys)
    assert code == 0 and not result["changed"]


def test_the_account_comes_from_sts(clients, capsys):
    identity = {"Account": ACCOUNT, "Arn": "arn:aws:iam::%s:user/x" % ACCOUNT, "UserId": "x"}
    clients.sts_stub.add_response("get_caller_identity", identity, {})
    expect_budget(clients, None)
    args = {"name": NAME, "state": "absent", "endpoint_url": "http://127.0.0.1:1", "_ansible_diff": False}
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        aws_budget.main()
    result = json.loads(capsys.readouterr().out)
    assert exc.value.code == 0 and not result["changed"]
    assert clients.options["endpoint_url"] == "http://127.0.0.1:1"


def test_api_errors_fail_with_their_code(clients, capsys):
    clients.stub.add_client_error("describe_budget", "AccessDeniedException", "not allowed", expected_params=KEY)
    code, result = run(PRESENT, capsys)
    assert code == 1 and result["error_code"] == "AccessDeniedException"
    assert "describe_budget" in result["msg"]


def test_settings_are_checked(capsys):
    code, result = run({"notifications": [{"threshold": 80, "subscribers": []}], "amount": 1}, capsys)
    assert code == 1 and "1 to 10 subscribers" in result["msg"]
    code, result = run({}, capsys)
    assert code == 1 and "amount" in result["msg"]


def test_without_boto3(monkeypatch, capsys):
    monkeypatch.setattr(aws_budget, "HAS_BOTO3", False)
    code, result = run({"amount": 1}, capsys)
    assert code == 1 and "boto3" in result["msg"]


@pytest.mark.parametrize(
    "value, text", [(380, "380"), (380.0, "380"), (12.5, "12.5"), (0.25, "0.25"), (1000, "1000"), (1080.10, "1080.1")]
)
def test_amount_text(value, text):
    assert aws_budget.amount_text(value) == text
    assert aws_budget.same_amount(text, "%s" % value)


def test_partitions():
    assert aws_budget.partition_of("us-east-1") == "aws"
    assert aws_budget.partition_of("cn-north-1") == "aws-cn"
    assert aws_budget.partition_of("us-gov-west-1") == "aws-us-gov"
