"""The cloud_drift module, in process, against moto's in-memory AWS (mock_aws).

The whole check against a moto server, through ansible-playbook, is
tests/integration/test_cloud_drift_moto.py; here the module's options, results and
failures are covered: the model given as data or read from the documents, check
mode, fail_on_drift, the AWS reader's view of an account where production is only
half there, and the errors a user can make.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from moto import mock_aws

from ansible_collections.sdd.devops_flow.plugins.module_utils.drift import aws
from ansible_collections.sdd.devops_flow.plugins.module_utils.drift.compare import DriftError
from ansible_collections.sdd.devops_flow.plugins.module_utils.drift.expected import expectation
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.serialize import model_to_dict
from ansible_collections.sdd.devops_flow.plugins.modules import cloud_drift

REPO = Path(__file__).resolve().parents[4]
REQ = REPO / "examples" / "docs" / "07_REQ" / "REQ-14_order_intake_api.md"
TAGS = [
    {"Key": "Project", "Value": "order-intake-api"},
    {"Key": "Environment", "Value": "prod"},
    {"Key": "ManagedBy", "Value": "sdd.devops_flow"},
]


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@pytest.fixture(scope="module")
def model_data() -> Dict[str, Any]:
    return model_to_dict(load_model(req=str(REQ)))


def run(args: Dict[str, Any], capsys: pytest.CaptureFixture[str]) -> Tuple[int, Dict[str, Any]]:
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        cloud_drift.main()
    return int(exc.value.code or 0), json.loads(capsys.readouterr().out)


def _half_of_production() -> Dict[str, str]:
    """The VPC and its default group as the account has them, plus a group nobody declared."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(
        CidrBlock="10.20.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": TAGS + [{"Key": "Name", "Value": "order-intake-api-prod"}]}],
    )["Vpc"]["VpcId"]
    default = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    ec2.create_tags(Resources=[default], Tags=TAGS)
    # AWS's own default rule (all traffic from the group itself), which the Terraform removes
    ec2.authorize_security_group_ingress(
        GroupId=default, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": default}]}]
    )
    debug = ec2.create_security_group(
        GroupName="order-intake-api-prod-debug",
        Description="opened by hand",
        VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": TAGS}],
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=debug,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    sqs = boto3.client("sqs", region_name="us-east-1")
    sqs.create_queue(
        QueueName="order-intake-api-prod-dlq",
        Attributes={"MessageRetentionPeriod": "1209600", "SqsManagedSseEnabled": "true"},
        tags={t["Key"]: t["Value"] for t in TAGS},
    )
    sqs.create_queue(QueueName="order-intake-api-prod-untagged")
    return {"vpc": vpc, "default": default}


def test_reports_what_is_missing_extra_and_changed(
    account: None, model_data: Dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    _half_of_production()
    code, result = run({"model": model_data, "environment": "prod"}, capsys)
    assert code == 0
    assert result["changed"] is False and result["drift"] is True
    report = result["report"]
    assert report["cloud"] == "aws" and report["region"] == "us-east-1"
    assert report["scope"] == {"Project": "order-intake-api", "Environment": "prod"}
    statuses = {c["resource"]: c["status"] for c in report["checked"]}
    assert statuses["vpc/order-intake-api-prod"] == "ok"
    assert statuses["security_group/default"] == "changed"
    assert statuses["sqs_queue/order-intake-api-prod-dlq"] == "changed"
    assert statuses["db_instance/order-intake-api-prod"] == "missing"
    assert len(report["missing"]) == 10
    assert [e["resource"] for e in report["extra"]] == ["security_group/order-intake-api-prod-debug"]
    assert report["extra"][0]["attributes"]["ingress"] == ["tcp 22 from 0.0.0.0/0"]
    changed = {(c["resource"], c["attribute"]): c for c in report["changed"]}
    default = changed[("security_group/default", "ingress")]
    assert default["expected"] == [] and default["added"] == ["all all from sg:default"]
    encryption = changed[("sqs_queue/order-intake-api-prod-dlq", "encryption")]
    assert (encryption["expected"], encryption["actual"]) == ("kms", "sqs-managed")
    assert result["summary"] == report["summary"]
    assert result["summary"].startswith("order-intake-api prod on aws: drift - 10 missing, 1 extra, 2 changed")


def test_check_mode_and_the_documents_read_by_the_module(account: None, capsys: pytest.CaptureFixture[str]) -> None:
    _half_of_production()
    code, result = run({"req": str(REQ), "environment": "prod", "_ansible_check_mode": True}, capsys)
    assert code == 0 and result["changed"] is False and result["drift"] is True
    assert len(result["report"]["missing"]) == 10


def test_fail_on_drift_fails_with_the_summary(
    account: None, model_data: Dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = run({"model": model_data, "fail_on_drift": True}, capsys)
    assert code == 1 and result["failed"] is True
    assert result["msg"] == result["summary"] == result["report"]["summary"]
    assert result["msg"].startswith("order-intake-api prod on aws: drift - 13 missing, 0 extra, 0 changed: ")
    assert result["changed"] is False


def test_errors_a_user_can_make(account: None, model_data: Dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, result = run({"model": model_data, "environment": "qa"}, capsys)
    assert code == 1 and "no environment 'qa'" in result["msg"]
    code, result = run({"model": model_data, "cloud": "gcp", "endpoint_url": "http://127.0.0.1:1"}, capsys)
    assert code == 1 and result["msg"] == "endpoint_url is for AWS only (the check runs against gcp)"
    code, result = run({"model": {"service": {}}}, capsys)
    assert code == 1 and "not a deployment model" in result["msg"]
    code, result = run({"model": model_data, "req": str(REQ)}, capsys)
    assert code == 1 and "mutually exclusive" in result["msg"]
    code, result = run({"req": str(REQ) + ".missing"}, capsys)
    assert code == 1 and "errors" in result


def test_an_unreachable_endpoint_stops_the_check(
    model_data: Dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    args = {"model": model_data, "endpoint_url": "http://127.0.0.1:9", "region": "eu-west-1"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_MAX_ATTEMPTS", "1")
        code, result = run(args, capsys)
    assert code == 1 and result["msg"].startswith("AWS ec2 describe_vpcs failed: Could not connect")


def test_a_missing_sdk_names_the_package(model_data: Dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aws, "HAS_BOTO3", False)
    monkeypatch.setattr(aws, "BOTO3_IMPORT_ERROR", "No module named 'boto3'")
    model = load_model(req=str(REQ))
    with pytest.raises(DriftError, match=r"pip install boto3 \(No module named 'boto3'\)"):
        aws.AwsReader(expectation(model, "prod"))
