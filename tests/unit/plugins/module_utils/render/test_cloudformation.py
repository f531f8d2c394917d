"""CloudFormation renderer: cfn-lint and checkov on every document set, resources, escaping."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import UsageError
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.model import (
    Budget,
    Environment,
    EnvVar,
    Model,
    Service,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import cloudformation
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.registry import validate_files

REPO = Path(__file__).resolve().parents[5]
DOCS = {
    "REQ-14": "examples/docs/07_REQ/REQ-14_order_intake_api.md",
    "REQ-21": "examples/docs/07_REQ/REQ-21_catalog_search.md",
    "REQ-102": "examples/docs/07_REQ/REQ-102_ledger_events.md",
    "acme": "tests/fixtures/foreign/acme-payments/docs/07_REQ/REQ-07_payment_gateway.md",
    "northwind": "tests/fixtures/foreign/northwind-catalog/docs/07_REQ/REQ-12_catalog_search.md",
    "contoso": "tests/fixtures/foreign/contoso-ledger/docs/07_REQ/REQ-21_ledger_event_publisher/"
    "REQ-21_ledger_event_publisher.md",
    "initech": "tests/fixtures/foreign/initech-notifications/docs/07_REQ/REQ-15_notification_dispatcher.md",
}

HOSTILE = [
    "quote \" and ' both",
    "${AWS::AccountId} and ${!Literal}",
    "line one\nline two: value\n- item",
    "back\\slash \\n",
    "yes",
    "null",
    "*anchor",
    "&anchor",
    "!Ref Vpc",
    "{{resolve:ssm:/x}}",
    "# not a comment",
    "%TAG ! tag:x",
]


@functools.cache
def model(name: str) -> Model:
    return load_model(req=str(REPO / DOCS[name]))


def hostile_model() -> Model:
    """REQ-14 with document values that try to break YAML, CloudFormation and Fn::Sub."""
    base = model("REQ-14")
    env = tuple(EnvVar(name="V%d" % i, default=text) for i, text in enumerate(HOSTILE)) + (
        EnvVar(name="TOKEN", sensitive=True),
    )
    service = dataclasses.replace(base.service, title='Hostile "title" ${x}\nnext', env=env)
    environments = (
        Environment("dev", 'Dev "x"', "manual", None, 1),
        Environment("yes", "null", "blue-green", 60, 2),
        Environment("qa ${x}: [y]", "qa", "rolling", 60, 1),
        Environment("prod", "*anchor", "canary", 300, 3, multi_az=True),
    )
    cost = dataclasses.replace(base.cost, budgets=(Budget('comp"ute ${x}', 100.0, (50.0, 90.0)),))
    return dataclasses.replace(base, service=service, environments=environments, cost=cost)


def template(files: Any) -> Dict[str, Any]:
    data: Dict[str, Any] = yaml.safe_load(files.get(cloudformation.TEMPLATE).content)
    return data


def of_type(tpl: Dict[str, Any], kind: str) -> Dict[str, Dict[str, Any]]:
    return {k: v for k, v in tpl["Resources"].items() if v["Type"] == kind}


def joined(value: Any) -> Any:
    """The text CloudFormation makes of a literal or an ``Fn::Join`` of literals."""
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(joined(p) for p in parts)
    return value


def params(files: Any, env: str) -> Dict[str, str]:
    data: List[Dict[str, str]] = json.loads(files.get("parameters/%s.json" % env).content)
    return {p["ParameterKey"]: p["ParameterValue"] for p in data}


# --------------------------------------------------------------------------- real validators


def test_every_document_set_passes_cfn_lint_and_checkov(tmp_path: Path) -> None:
    """All templates in one validator run (one cfn-lint, one checkov): no finding at all."""
    kinds: Dict[str, str] = {}
    cases = {name: model(name) for name in DOCS}
    cases["hostile"] = hostile_model()
    cases["minimal"] = Model(service=Service(name="minimal-svc", ports=(8080,)))  # SPEC only: no rows at all
    infra = dataclasses.replace(model("REQ-14").infrastructure, database=None, cache=None, queue=None, storage=None)
    cases["nodb"] = dataclasses.replace(model("REQ-14"), infrastructure=infra)
    for name, m in cases.items():
        for generated in cloudformation.render(m, "aws"):
            path = tmp_path / name / generated.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(generated.content, encoding="utf-8")
            if generated.kind == "cloudformation":
                kinds["%s/%s" % (name, generated.path)] = generated.kind
    findings = validate_files(str(tmp_path), kinds)
    assert [f.format() for f in findings] == []


# --------------------------------------------------------------------------- resources


def test_order_intake_api_resources() -> None:
    files = cloudformation.render(model("REQ-14"), "aws")
    tpl = template(files)
    assert len(of_type(tpl, "AWS::ECS::Service")) == 1
    assert len(of_type(tpl, "AWS::ElasticLoadBalancingV2::TargetGroup")) == 2  # blue-green and canary
    db = of_type(tpl, "AWS::RDS::DBInstance")["Database"]
    props = db["Properties"]
    assert props["Engine"] == "postgres"
    assert props["ManageMasterUserPassword"] is True
    assert "MasterUserPassword" not in props
    assert props["MultiAZ"] == {"Fn::If": ["UseMultiAz", True, False]}
    assert props["DeletionProtection"] == {"Fn::If": ["IsProduction", True, False]}
    assert props["BackupRetentionPeriod"] == 14
    assert props["PubliclyAccessible"] is False
    assert db["DeletionPolicy"] == "Snapshot"
    assert tpl["Parameters"]["DbEngineVersion"]["Default"] == "15"
    assert params(files, "prod")["MultiAz"] == "true"
    assert params(files, "dev")["MultiAz"] == "false"
    assert params(files, "prod")["DeploymentStrategy"] == "CANARY"
    assert params(files, "staging")["DeploymentStrategy"] == "BLUE_GREEN"
    assert params(files, "prod")["CanaryPercent"] == "5"
    assert params(files, "prod")["DesiredCount"] == "4"
    cache = of_type(tpl, "AWS::ElastiCache::ReplicationGroup")["Cache"]["Properties"]
    assert cache["AtRestEncryptionEnabled"] is True and cache["TransitEncryptionEnabled"] is True
    queues = of_type(tpl, "AWS::SQS::Queue")
    assert set(queues) == {"Queue", "DeadLetterQueue"}
    assert queues["Queue"]["Properties"]["MessageRetentionPeriod"] == 4 * 86400
    bucket = of_type(tpl, "AWS::S3::Bucket")["Bucket"]["Properties"]
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert {
        "Id": "retention",
        "Status": "Enabled",
        "ExpirationInDays": 90,
        "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
    } in bucket["LifecycleConfiguration"]["Rules"]
    secrets = of_type(tpl, "AWS::SecretsManager::Secret")
    assert len(secrets) == 3  # DATABASE_URL, PARTNER_OAUTH_CLIENT_SECRET, the cache auth token
    assert all("SecretString" not in s["Properties"] for s in secrets.values())
    budgets = of_type(tpl, "AWS::Budgets::Budget")
    assert len(budgets) == 6 and all(b["Condition"] == "IsProduction" for b in budgets.values())
    assert len(of_type(tpl, "AWS::CloudWatch::Alarm")) == 2  # p95 latency and error rate
    certificate = of_type(tpl, "AWS::CertificateManager::Certificate")["Certificate"]["Properties"]
    assert certificate["DomainName"] == "orders.api.example.com"
    assert tpl["Parameters"]["Environment"]["AllowedValues"] == ["dev", "staging", "prod"]
    assert len(of_type(tpl, "AWS::EC2::Subnet")) == 6
    tags = {t["Key"]: t["Value"] for t in tpl["Resources"]["Vpc"]["Properties"]["Tags"]}
    assert tags["sdd.devops-flow/req"] == "REQ-14" and tags["Environment"] == {"Ref": "Environment"}
    text = files.get(cloudformation.TEMPLATE).content
    assert "# from REQ-14 9.5.1 Infrastructure Requirements (REQ-14_order_intake_api.md:313)\n  Database:" in text


def test_payment_gateway_auto_scaling_group_and_mysql() -> None:
    files = cloudformation.render(model("acme"), "aws")
    tpl = template(files)
    assert not of_type(tpl, "AWS::ECS::Service")
    launch = of_type(tpl, "AWS::EC2::LaunchTemplate")["LaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert launch["MetadataOptions"]["HttpTokens"] == "required"
    assert tpl["Parameters"]["InstanceType"]["Default"] == "m6i.large"
    assert len(of_type(tpl, "AWS::AutoScaling::AutoScalingGroup")) == 1
    db = of_type(tpl, "AWS::RDS::DBInstance")["Database"]["Properties"]
    assert db["Engine"] == "mysql" and tpl["Parameters"]["DbEngineVersion"]["Default"] == "8.0"
    assert params(files, "prod")["MultiAz"] == "false"  # the documents say no HA
    assert not of_type(tpl, "AWS::ElastiCache::ReplicationGroup")
    queue = of_type(tpl, "AWS::SQS::Queue")["Queue"]["Properties"]
    assert queue["FifoQueue"] is True
    assert len(of_type(tpl, "AWS::ElasticLoadBalancingV2::TargetGroup")) == 2


def test_notification_dispatcher_lambda_and_dynamodb() -> None:
    files = cloudformation.render(model("initech"), "aws")
    tpl = template(files)
    assert len(of_type(tpl, "AWS::Lambda::Function")) == 1
    assert len(of_type(tpl, "AWS::DynamoDB::Table")) == 1
    assert not of_type(tpl, "AWS::RDS::DBInstance")
    assert not of_type(tpl, "AWS::ElastiCache::ReplicationGroup")
    groups = of_type(tpl, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert [g["Properties"]["TargetType"] for g in groups.values()] == ["lambda"]
    assert "CertificateArn" in tpl["Parameters"]  # no 9.5.6 domain
    assert sorted(p.split("/")[1] for p in files.paths() if p.startswith("parameters/")) == [
        "dev.json",
        "prod.json",
        "qa.json",
    ]
    assert "DesiredCount" not in params(files, "prod")


@pytest.mark.parametrize("name", ["REQ-21", "REQ-102", "northwind", "contoso"])
def test_other_clouds_map_to_the_nearest_aws_services(name: str) -> None:
    tpl = template(cloudformation.render(model(name), "aws"))
    assert len(of_type(tpl, "AWS::ECS::Service")) == 1  # Cloud Run, GKE, Container Apps, AKS -> ECS Fargate
    assert len(of_type(tpl, "AWS::RDS::DBInstance")) == 1
    has_cache = model(name).infrastructure.cache is not None
    assert bool(of_type(tpl, "AWS::ElastiCache::ReplicationGroup")) == has_cache


def test_only_aws() -> None:
    with pytest.raises(UsageError):
        cloudformation.render(model("REQ-21"), "gcp")


# --------------------------------------------------------------------------- determinism and escaping


def test_same_model_same_bytes() -> None:
    first = cloudformation.render(model("REQ-14"), "aws")
    second = cloudformation.render(load_model(req=str(REPO / DOCS["REQ-14"])), "aws")
    assert [(f.path, f.content) for f in first] == [(f.path, f.content) for f in second]


def test_hostile_values_stay_values() -> None:
    files = cloudformation.render(hostile_model(), "aws")
    tpl = template(files)
    container = tpl["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    values = {e["Name"]: joined(e["Value"]) for e in container["Environment"]}
    for index, text in enumerate(HOSTILE):
        assert values["V%d" % index] == text
    assert "TOKEN" not in values and [s["Name"] for s in container["Secrets"]] == ["TOKEN"]
    assert tpl["Parameters"]["Environment"]["AllowedValues"] == ["dev", "yes", "qa-x-y", "prod"]
    assert params(files, "yes")["Environment"] == "yes"
    assert params(files, "qa-x-y")["Environment"] == "qa-x-y"  # tag values cannot hold $ { } [ ]
    assert tpl["Description"].endswith('Hostile "title" ${x} next')
    budget = of_type(tpl, "AWS::Budgets::Budget")["Budget1"]["Properties"]["Budget"]
    assert budget["BudgetName"] == "order-intake-api-comp-ute-x-monthly"
    text = files.get(cloudformation.TEMPLATE).content
    assert "${x}" not in text.split("\nResources:", 1)[1]  # split by Fn::Join: no substitution can happen


def test_generated_file_kinds_and_fields() -> None:
    files = cloudformation.render(model("REQ-14"), "aws")
    kinds = {f.path: f.kind for f in files}
    assert kinds == {
        "template.yaml": "cloudformation",
        "parameters/dev.json": "json-data",
        "parameters/staging.json": "json-data",
        "parameters/prod.json": "json-data",
    }
    assert "infrastructure.database" in files.get("template.yaml").fields
