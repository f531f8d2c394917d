"""Pulumi renderer: the programs run under pulumi.runtime.set_mocks for every document set and
cloud, create the expected resources, are ruff-format clean and keep hostile values as values."""

from __future__ import annotations

import ast
import collections
import dataclasses
import functools
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.model import (
    Budget,
    Environment,
    EnvVar,
    Model,
    Service,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import cloudformation, pulumi
from ansible_collections.sdd.devops_flow.plugins.module_utils.render.pulumi_code import string
from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.pulumi import PulumiProgram, run_programs

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
CLOUDS = ("aws", "gcp", "azure")
HOSTILE = [
    "quote \" and ' both",
    "'''triple''' \"\"\"quotes\"\"\"",
    "${x} {y} %s %(z)s",
    "line one\nline two\r\n\ttab",
    "back\\slash \\n \\",
    "\x00\x1b[31m\u2028\u200b",
    "yes",
    "null",
    "*anchor",
    "__import__('os').system('id')",
    '"); import os; ("',
]

#: CloudFormation type -> Pulumi (pulumi_aws) type: the renderers must agree on these counts.
CFN_TO_PULUMI = {
    "AWS::EC2::VPC": "aws:ec2/vpc:Vpc",
    "AWS::EC2::Subnet": "aws:ec2/subnet:Subnet",
    "AWS::EC2::InternetGateway": "aws:ec2/internetGateway:InternetGateway",
    "AWS::EC2::NatGateway": "aws:ec2/natGateway:NatGateway",
    "AWS::EC2::RouteTable": "aws:ec2/routeTable:RouteTable",
    "AWS::EC2::FlowLog": "aws:ec2/flowLog:FlowLog",
    "AWS::EC2::SecurityGroup": "aws:ec2/securityGroup:SecurityGroup",
    "AWS::KMS::Key": "aws:kms/key:Key",
    "AWS::Logs::LogGroup": "aws:cloudwatch/logGroup:LogGroup",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "aws:lb/loadBalancer:LoadBalancer",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "aws:lb/targetGroup:TargetGroup",
    "AWS::ElasticLoadBalancingV2::Listener": "aws:lb/listener:Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule": "aws:lb/listenerRule:ListenerRule",
    "AWS::CertificateManager::Certificate": "aws:acm/certificate:Certificate",
    "AWS::ECR::Repository": "aws:ecr/repository:Repository",
    "AWS::ECS::Cluster": "aws:ecs/cluster:Cluster",
    "AWS::ECS::TaskDefinition": "aws:ecs/taskDefinition:TaskDefinition",
    "AWS::ECS::Service": "aws:ecs/service:Service",
    "AWS::ApplicationAutoScaling::ScalableTarget": "aws:appautoscaling/target:Target",
    "AWS::AutoScaling::AutoScalingGroup": "aws:autoscaling/group:Group",
    "AWS::EC2::LaunchTemplate": "aws:ec2/launchTemplate:LaunchTemplate",
    "AWS::Lambda::Function": "aws:lambda/function:Function",
    "AWS::Lambda::Alias": "aws:lambda/alias:Alias",
    "AWS::RDS::DBInstance": "aws:rds/instance:Instance",
    "AWS::DynamoDB::Table": "aws:dynamodb/table:Table",
    "AWS::ElastiCache::ReplicationGroup": "aws:elasticache/replicationGroup:ReplicationGroup",
    "AWS::S3::Bucket": "aws:s3/bucket:Bucket",
    "AWS::SQS::Queue": "aws:sqs/queue:Queue",
    "AWS::SecretsManager::Secret": "aws:secretsmanager/secret:Secret",
    "AWS::SNS::Topic": "aws:sns/topic:Topic",
    "AWS::CloudWatch::Alarm": "aws:cloudwatch/metricAlarm:MetricAlarm",
    "AWS::Budgets::Budget": "aws:budgets/budget:Budget",
    "AWS::IAM::Role": "aws:iam/role:Role",
}

#: Pulumi type -> Terraform type, for comparing with render/terraform_aws.py when it exists.
PULUMI_TO_TERRAFORM = {
    "aws:ec2/vpc:Vpc": "aws_vpc",
    "aws:ec2/subnet:Subnet": "aws_subnet",
    "aws:ec2/internetGateway:InternetGateway": "aws_internet_gateway",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:ecs/service:Service": "aws_ecs_service",
    "aws:ecs/cluster:Cluster": "aws_ecs_cluster",
    "aws:autoscaling/group:Group": "aws_autoscaling_group",
    "aws:ec2/launchTemplate:LaunchTemplate": "aws_launch_template",
    "aws:lambda/function:Function": "aws_lambda_function",
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:dynamodb/table:Table": "aws_dynamodb_table",
    "aws:elasticache/replicationGroup:ReplicationGroup": "aws_elasticache_replication_group",
    "aws:ecr/repository:Repository": "aws_ecr_repository",
    "aws:budgets/budget:Budget": "aws_budgets_budget",
}


@functools.cache
def model(name: str) -> Model:
    if name == "nodb":
        base = model("REQ-14")
        infra = dataclasses.replace(base.infrastructure, database=None, cache=None, queue=None, storage=None)
        return dataclasses.replace(base, infrastructure=infra)
    if name == "hostile":
        return hostile_model()
    if name == "minimal":  # a SPEC-only model: no environments, no infrastructure rows, no budgets
        return Model(service=Service(name="minimal-svc", ports=(8080,)))
    return load_model(req=str(REPO / DOCS[name]))


def hostile_model() -> Model:
    base = model("REQ-14")
    env = tuple(EnvVar(name="V%d" % i, default=text) for i, text in enumerate(HOSTILE)) + (
        EnvVar(name="TOKEN", sensitive=True),
    )
    service = dataclasses.replace(base.service, title='Hostile """title""" \\', env=env)
    environments = (
        Environment("dev", 'Dev "x"', "manual", None, 1),
        Environment("yes", "null", "blue-green", 60, 2),
        Environment("prod", "*anchor", "canary", 300, 3, multi_az=True),
    )
    cost = dataclasses.replace(base.cost, budgets=(Budget("comp\"ute ${x}\n')", 100.5, (50.0, 90.0)),))
    return dataclasses.replace(base, service=service, environments=environments, cost=cost)


#: (document set, cloud): every set on its own cloud and forced onto the two others, plus
#: REQ-14 without data services and with hostile values.
CASES: List[Tuple[str, str]] = [(name, cloud) for name in DOCS for cloud in CLOUDS] + [
    ("nodb", "aws"),
    ("minimal", "aws"),
    ("minimal", "gcp"),
    ("minimal", "azure"),
    ("hostile", "aws"),
    ("hostile", "gcp"),
    ("hostile", "azure"),
]


def _ruff() -> str:
    beside = os.path.join(os.path.dirname(sys.executable), "ruff")
    return beside if os.path.exists(beside) else "ruff"


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Dict[Tuple[str, str], Path]:
    """Every case rendered and written to its own folder."""
    root = tmp_path_factory.mktemp("pulumi")
    out = {}
    for name, cloud in CASES:
        folder = root / ("%s-%s" % (name, cloud))
        for generated in pulumi.render(model(name), cloud):
            (folder / generated.path).parent.mkdir(parents=True, exist_ok=True)
            (folder / generated.path).write_text(generated.content, encoding="utf-8")
        out[(name, cloud)] = folder
    return out


@pytest.fixture(scope="module")
def runs(projects: Dict[Tuple[str, str], Path]) -> Dict[Tuple[str, str], Dict[str, Any]]:
    """Each program run under mocks once per stack; one child Python per cloud."""
    results: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for cloud in CLOUDS:
        keys = [k for k in CASES if k[1] == cloud]
        jobs = []
        for key in keys:
            folder = projects[key]
            stacks = sorted(
                (p.name[len("Pulumi.") : -len(".yaml")], str(p))
                for p in folder.glob("Pulumi.*.yaml")
                if p.name != "Pulumi.yaml"
            )
            project = yaml.safe_load((folder / "Pulumi.yaml").read_text())["name"]
            jobs.append((str(folder / "__main__.py"), project, stacks))
        for key, data in zip(keys, run_programs(str(projects[keys[0]].parent), jobs)):
            assert "missing" not in data, "the Pulumi SDK must be installed in the test environment: %s" % data
            results[key] = data
    return results


def types(runs: Dict[Tuple[str, str], Dict[str, Any]], key: Tuple[str, str], stack: str) -> collections.Counter:
    return collections.Counter(r["type"] for r in runs[key][stack]["resources"])


def inputs(
    runs: Dict[Tuple[str, str], Dict[str, Any]], key: Tuple[str, str], stack: str, kind: str
) -> List[Dict[str, Any]]:
    return [r["inputs"] for r in runs[key][stack]["resources"] if r["type"] == kind]


# --------------------------------------------------------------------------- every program


def test_every_program_runs_under_mocks_for_every_stack(runs: Dict[Tuple[str, str], Dict[str, Any]]) -> None:
    errors = {
        "%s/%s/%s" % (key[0], key[1], stack): result["error"]
        for key, data in runs.items()
        for stack, result in data.items()
        if result["error"] or not result["resources"]
    }
    assert errors == {}


def test_every_program_is_ruff_format_clean_and_compiles(projects: Dict[Tuple[str, str], Path]) -> None:
    programs = [str(folder / "__main__.py") for folder in projects.values()]
    result = subprocess.run(
        [_ruff(), "format", "--isolated", "--check", "--diff", *programs], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    for path in programs:
        compile(Path(path).read_text(encoding="utf-8"), path, "exec")


def test_validator_accepts_a_generated_program(projects: Dict[Tuple[str, str], Path]) -> None:
    folder = projects[("REQ-14", "aws")]
    assert PulumiProgram().check(str(folder), ["__main__.py"]) == []


# --------------------------------------------------------------------------- AWS


def test_aws_order_intake_api(runs: Dict[Tuple[str, str], Dict[str, Any]]) -> None:
    key = ("REQ-14", "aws")
    prod, dev = types(runs, key, "prod"), types(runs, key, "dev")
    assert prod["aws:ecs/service:Service"] == 1
    assert prod["aws:lb/targetGroup:TargetGroup"] == 2  # staging blue-green, prod canary
    assert prod["aws:rds/instance:Instance"] == 1
    assert prod["aws:elasticache/replicationGroup:ReplicationGroup"] == 1
    assert prod["aws:sqs/queue:Queue"] == 2
    assert prod["aws:budgets/budget:Budget"] == 6 and dev["aws:budgets/budget:Budget"] == 0
    assert prod["aws:cloudwatch/metricAlarm:MetricAlarm"] == 2
    (db_prod,) = inputs(runs, key, "prod", "aws:rds/instance:Instance")
    (db_dev,) = inputs(runs, key, "dev", "aws:rds/instance:Instance")
    assert db_prod["multiAz"] is True and db_prod["deletionProtection"] is True
    assert db_dev["multiAz"] is False and db_dev["deletionProtection"] is False
    assert db_prod["manageMasterUserPassword"] is True and "password" not in db_prod
    assert db_prod["engineVersion"] == "15" and db_prod["backupRetentionPeriod"] == 14
    (service,) = inputs(runs, key, "prod", "aws:ecs/service:Service")
    assert service["deploymentConfiguration"]["strategy"] == "CANARY"
    assert service["deploymentConfiguration"]["canaryConfiguration"]["canaryPercent"] == 5
    (staging,) = inputs(runs, key, "staging", "aws:ecs/service:Service")
    assert staging["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert "deploymentConfiguration" not in inputs(runs, key, "dev", "aws:ecs/service:Service")[0]


def test_aws_payment_gateway_auto_scaling(runs: Dict[Tuple[str, str], Dict[str, Any]]) -> None:
    key = ("acme", "aws")
    prod = types(runs, key, "prod")
    assert prod["aws:autoscaling/group:Group"] == 1 and prod["aws:ecs/service:Service"] == 0
    (template,) = inputs(runs, key, "prod", "aws:ec2/launchTemplate:LaunchTemplate")
    assert template["metadataOptions"]["httpTokens"] == "required"
    assert template["instanceType"] == "m6i.large"
    (db,) = inputs(runs, key, "prod", "aws:rds/instance:Instance")
    assert db["engine"] == "mysql" and db["multiAz"] is False  # MySQL 8.0 without HA
    assert prod["aws:elasticache/replicationGroup:ReplicationGroup"] == 0
    assert all(q.get("fifoQueue") for q in inputs(runs, key, "prod", "aws:sqs/queue:Queue"))


def test_aws_notification_dispatcher_lambda(runs: Dict[Tuple[str, str], Dict[str, Any]]) -> None:
    prod = types(runs, ("initech", "aws"), "prod")
    assert prod["aws:lambda/function:Function"] == 1 and prod["aws:dynamodb/table:Table"] == 1
    assert prod["aws:rds/instance:Instance"] == 0
    assert prod["aws:lb/targetGroup:TargetGroup"] == 1


def test_aws_without_data_services(runs: Dict[Tuple[str, str], Dict[str, Any]]) -> None:
    prod = types(runs, ("nodb", "aws"), "prod")
    for kind in (
        "aws:rds/instance:Instance",
        "aws:elasticache/replicationGroup:ReplicationGroup",
        "aws:sqs/queue:Queue",
        "aws:dynamodb/table:Table",
    ):
        assert prod[kind] == 0, kind
    assert prod["aws:s3/bucket:Bucket"] == 1  # the access-log bucket only


@pytest.mark.parametrize("name", ["REQ-14", "acme", "initech", "REQ-21", "contoso", "nodb"])
def test_aws_program_matches_the_cloudformation_template(
    runs: Dict[Tuple[str, str], Dict[str, Any]], name: str
) -> None:
    """The same model gives the same resources in CloudFormation and Pulumi (production stack)."""
    template = yaml.safe_load(cloudformation.render(model(name), "aws").get("template.yaml").content)
    cfn = collections.Counter(
        r["Type"]
        for r in template["Resources"].values()
        if r["Type"] in CFN_TO_PULUMI and r.get("Condition") != "IsProduction"
    )
    cfn.update(r["Type"] for r in template["Resources"].values() if r.get("Condition") == "IsProduction")
    program = types(runs, (name, "aws"), "prod")
    assert {k: cfn[k] for k in CFN_TO_PULUMI} == {k: program[v] for k, v in CFN_TO_PULUMI.items()}


if importlib.util.find_spec("ansible_collections.sdd.devops_flow.plugins.module_utils.render.terraform_aws"):

    @pytest.mark.parametrize("name", ["REQ-14", "acme", "initech"])
    def test_aws_program_matches_terraform(runs: Dict[Tuple[str, str], Dict[str, Any]], name: str) -> None:
        from ansible_collections.sdd.devops_flow.plugins.module_utils.render import terraform_aws

        text = "\n".join(f.content for f in terraform_aws.render(model(name), "aws") if f.path.endswith(".tf"))
        terraform = collections.Counter(re.findall(r'^resource\s+"([a-z0-9_]+)"', text, re.M))
        program = types(runs, (name, "aws"), "prod")
        # Terraform writes repeated resources with count / for_each: compare which types exist.
        assert {v: terraform[v] > 0 for v in PULUMI_TO_TERRAFORM.values()} == {
            v: program[k] > 0 for k, v in PULUMI_TO_TERRAFORM.items()
        }


# --------------------------------------------------------------------------- GCP and Azure


def test_gcp_catalog_search(runs: Dict[Tuple[str, str], Dict[str, Any]]) -> None:
    key = ("REQ-21", "gcp")
    prod = types(runs, key, "prod")
    assert prod["gcp:cloudrunv2/service:Service"] == 1
    assert prod["gcp:sql/databaseInstance:DatabaseInstance"] == 1
    assert prod["gcp:redis/instance:Instance"] == 1
    assert prod["gcp:pubsub/topic:Topic"] == 2 and prod["gcp:pubsub/subscription:Subscription"] == 2
    assert prod["gcp:secretmanager/secret:Secret"] == 1
    assert prod["gcp:artifactregistry/repository:Repository"] == 1
    assert prod["gcp:billing/budget:Budget"] == 6 and types(runs, key, "dev")["gcp:billing/budget:Budget"] == 0
    (db_prod,) = inputs(runs, key, "prod", "gcp:sql/databaseInstance:DatabaseInstance")
    (db_dev,) = inputs(runs, key, "dev", "gcp:sql/databaseInstance:DatabaseInstance")
    assert db_prod["settings"]["availabilityType"] == "REGIONAL" and db_dev["settings"]["availabilityType"] == "ZONAL"
    assert db_prod["settings"]["ipConfiguration"]["ipv4Enabled"] is False
    assert db_prod["databaseVersion"] == "POSTGRES_15"
    (subscription,) = [
        s for s in inputs(runs, key, "prod", "gcp:pubsub/subscription:Subscription") if "deadLetterPolicy" in s
    ]
    assert subscription["deadLetterPolicy"]["maxDeliveryAttempts"] == 5


def test_gcp_northwind_gke(runs: Dict[Tuple[str, str], Dict[str, Any]]) -> None:
    prod = types(runs, ("northwind", "gcp"), "prod")
    assert prod["gcp:container/cluster:Cluster"] == 1 and prod["gcp:container/nodePool:NodePool"] == 1
    assert prod["gcp:cloudrunv2/service:Service"] == 0


def test_azure_ledger_events(runs: Dict[Tuple[str, str], Dict[str, Any]]) -> None:
    key = ("REQ-102", "azure")
    prod = types(runs, key, "prod")
    assert prod["azure-native:app:ContainerApp"] == 1
    assert prod["azure-native:dbforpostgresql:Server"] == 1
    assert prod["azure-native:redis:Redis"] == 1
    assert prod["azure-native:storage:StorageAccount"] == 1 and prod["azure-native:storage:BlobContainer"] == 1
    assert prod["azure-native:servicebus:Topic"] == 1 and prod["azure-native:servicebus:Subscription"] == 1
    assert prod["azure-native:keyvault:Vault"] == 1
    assert prod["azure-native:containerregistry:Registry"] == 1
    assert prod["azure-native:network:NetworkSecurityGroup"] == 2
    (db_prod,) = inputs(runs, key, "prod", "azure-native:dbforpostgresql:Server")
    (db_dev,) = inputs(runs, key, "dev", "azure-native:dbforpostgresql:Server")
    assert db_prod["highAvailability"]["mode"] == "ZoneRedundant" and db_dev["highAvailability"]["mode"] == "Disabled"
    assert db_prod["authConfig"]["passwordAuth"] == "Disabled" and "administratorLoginPassword" not in db_prod
    (app,) = inputs(runs, key, "prod", "azure-native:app:ContainerApp")
    assert app["configuration"]["activeRevisionsMode"] == "Multiple"  # staging canary


def test_azure_contoso_aks(runs: Dict[Tuple[str, str], Dict[str, Any]]) -> None:
    prod = types(runs, ("contoso", "azure"), "prod")
    assert prod["azure-native:containerservice:ManagedCluster"] == 1
    assert prod["azure-native:app:ContainerApp"] == 0
    assert prod["azure-native:redis:Redis"] == 0


@pytest.mark.parametrize(
    ("name", "cloud", "kind"),
    [
        ("REQ-14", "gcp", "gcp:cloudrunv2/service:Service"),
        ("REQ-14", "azure", "azure-native:app:ContainerApp"),
        ("acme", "gcp", "gcp:compute/regionInstanceGroupManager:RegionInstanceGroupManager"),
        ("acme", "azure", "azure-native:compute:VirtualMachineScaleSet"),
        ("initech", "gcp", "gcp:firestore/database:Database"),
        ("initech", "azure", "azure-native:cosmosdb:DatabaseAccount"),
        ("REQ-21", "aws", "aws:ecs/service:Service"),
        ("contoso", "gcp", "gcp:container/cluster:Cluster"),
        ("northwind", "azure", "azure-native:containerservice:ManagedCluster"),
    ],
)
def test_forced_clouds_map_to_the_nearest_service(
    runs: Dict[Tuple[str, str], Dict[str, Any]], name: str, cloud: str, kind: str
) -> None:
    assert types(runs, (name, cloud), "prod")[kind] == 1


# --------------------------------------------------------------------------- values, determinism, files


def test_hostile_values_arrive_as_values(runs: Dict[Tuple[str, str], Dict[str, Any]]) -> None:
    import json

    (task,) = inputs(runs, ("hostile", "aws"), "prod", "aws:ecs/taskDefinition:TaskDefinition")
    container = json.loads(task["containerDefinitions"])[0]
    values = {e["name"]: e["value"] for e in container["environment"]}
    assert [values["V%d" % i] for i in range(len(HOSTILE))] == HOSTILE
    assert [s["name"] for s in container["secrets"]] == ["TOKEN"]
    (app,) = inputs(runs, ("hostile", "azure"), "prod", "azure-native:app:ContainerApp")
    env = {e["name"]: e.get("value") for e in app["template"]["containers"][0]["env"]}
    assert [env["V%d" % i] for i in range(len(HOSTILE))] == HOSTILE


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_string_literals_read_back(text: str) -> None:
    literal = string(text)
    assert ast.literal_eval(literal) == text
    assert "\n" not in literal and "\r" not in literal


def test_same_model_same_bytes() -> None:
    for cloud in CLOUDS:
        first = pulumi.render(model("REQ-14"), cloud)
        second = pulumi.render(load_model(req=str(REPO / DOCS["REQ-14"])), cloud)
        assert [(f.path, f.content) for f in first] == [(f.path, f.content) for f in second]


def test_project_files_and_kinds() -> None:
    files = pulumi.render(model("REQ-14"), "aws")
    assert {f.path: f.kind for f in files} == {
        "Pulumi.yaml": "yaml-data",
        "Pulumi.dev.yaml": "yaml-data",
        "Pulumi.staging.yaml": "yaml-data",
        "Pulumi.prod.yaml": "yaml-data",
        "__main__.py": "pulumi",
        "requirements.txt": "text",
    }
    project = yaml.safe_load(files.get("Pulumi.yaml").content)
    assert project["name"] == "order-intake-api" and project["runtime"]["name"] == "python"
    prod = yaml.safe_load(files.get("Pulumi.prod.yaml").content)["config"]
    assert prod["aws:region"] == "us-east-1"
    assert prod["order-intake-api:desiredCount"] == 4 and prod["order-intake-api:multiAz"] is True
    assert not any("password" in k.lower() or "secret" in k.lower() for k in prod)
    assert files.get("requirements.txt").content.splitlines() == ["pulumi>=3.140,<4", "pulumi-aws>=7,<8"]
    program = files.get("__main__.py").content
    assert "# from REQ-14 9.5.1 Infrastructure Requirements (REQ-14_order_intake_api.md:313)\ndatabase = " in program


# --------------------------------------------------------------------------- the validator


def test_validator_reports_syntax_and_runtime_errors_with_lines(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "__main__.py").write_text("import pulumi\n\nx = (\n", encoding="utf-8")
    (tmp_path / "boom").mkdir()
    (tmp_path / "boom" / "Pulumi.yaml").write_text("name: boom\nruntime: python\n", encoding="utf-8")
    (tmp_path / "boom" / "Pulumi.dev.yaml").write_text("config:\n  boom:size: 3\n", encoding="utf-8")
    (tmp_path / "boom" / "__main__.py").write_text(
        "import pulumi\n\nsize = pulumi.Config().require_int('size')\nraise ValueError('boom %d' % size)\n",
        encoding="utf-8",
    )
    findings = PulumiProgram().check(str(tmp_path), ["bad/__main__.py", "boom/__main__.py"])
    assert [(f.file, f.line, f.severity) for f in findings] == [
        ("bad/__main__.py", 3, "error"),
        ("boom/__main__.py", 4, "error"),
    ]
    assert "ValueError: boom 3" in findings[1].message and "stack dev" in findings[1].message
