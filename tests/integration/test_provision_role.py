"""The provision role against moto's server: both engines, check mode, idempotence and teardown.

``provision_engine: ansible`` (amazon.aws / community.aws modules) creates the VPC, subnets, internet
gateway and route table, security groups, the data bucket (encryption, public access block, versioning,
lifecycle), the queue with its dead-letter queue, the database secret, an RDS instance in its subnet
group, and an ALB with blue and green target groups; every resource is checked through boto3 with its
tags (requirement, environment, cost category of 9.5.7). A second run changes nothing, no task output
holds the secret's value, ``--check`` on a fresh account creates nothing, and ``provision_state: absent``
removes everything.

``provision_engine: terraform`` generates the Terraform of REQ-14 with ``sdd.devops_flow.generate``,
points the AWS provider at moto with a test-only ``override.tf`` given through
``provision_terraform_extra_files`` (and the providers at the local mirror through ``TF_CLI_CONFIG_FILE``),
and applies the network: ``--check`` plans in a temporary folder and creates nothing, the apply creates
the resources, and a second run reports ``changed=0`` with a plan of "No changes".

To keep the test short on two cores, a thread runs the ansible engine's ``--check`` and then the Terraform
engine while the ansible engine's three runs go on in the main thread, each against its own moto server;
every run prints its wall and CPU seconds.

Left out, because moto (5.2) cannot stand in for them (each is a role setting the test turns off):
- the NAT gateway: moto files its tags under the resource type ``nat-gateway`` instead of ``natgateway``,
  so ec2_vpc_nat_gateway re-tags it on every run;
- the cache: community.aws.elasticache reads ``CacheNodes``, which moto does not return;
- the ECS cluster: community.aws.ecs_tag reads ``tags``, which moto leaves out when there are none;
- budgets: moto has no UpdateBudget, DescribeSubscribersForNotification or budget tagging
  (sdd.devops_flow.aws_budget is tested with botocore's Stubber in tests/unit);
- the ALB's ``routing.http.drop_invalid_header_fields`` attribute and RDS gp3 storage (moto returns no
  such attribute / no ``StorageThroughput``): the test uses the ALB default and gp2;
- in the Terraform: everything but the network (database waiters, SQS and S3 consistency waiters, as in
  test_terraform_moto.py; they would also triple the time of this test).

Run it with
``PYTHONPATH=.build/collections .venv/bin/pytest -p no:cacheprovider tests/integration/test_provision_role.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import boto3
import pytest
import yaml
from conftest import ansible_env
from motoserver import moto_server

REPO = Path(__file__).resolve().parents[2]
REQ = REPO / "examples" / "docs" / "07_REQ" / "REQ-14_order_intake_api.md"
PLAYBOOK = REPO / "playbooks" / "provision.yml"
MIRROR = os.environ.get("DEVOPS_FLOW_TF_PLUGIN_DIR", "/opt/tf-plugins")
NAME = "order-intake-api-dev"
REGION = "us-east-1"
TAGS = {
    "Project": "order-intake-api",
    "ManagedBy": "sdd.devops_flow",
    "sdd.devops-flow/req": "REQ-14",
    "Environment": "dev",
}
COST_TAG = "sdd.devops-flow/cost"

#: The network of the generated Terraform: every resource here reads back from moto as written.
TF_TARGETS = [
    "module.network.aws_vpc.this",
    "module.network.aws_default_security_group.this",
    "module.network.aws_subnet.public",
    "module.network.aws_subnet.private",
    "module.network.aws_route.public_internet",
    "module.network.aws_route_table_association.public",
    "module.network.aws_security_group.alb",
    "module.network.aws_security_group.app",
    "module.network.aws_security_group.database",
    "module.network.aws_security_group.cache",
    "module.network.aws_vpc_security_group_ingress_rule.alb_https",
    "module.network.aws_vpc_security_group_ingress_rule.alb_http_redirect",
    "module.network.aws_vpc_security_group_egress_rule.app_https",
]

#: Seconds a playbook run may take before the test gives up on it.
RUN_TIMEOUT = 900


def aws(url: str, service: str) -> Any:
    return boto3.client(
        service, endpoint_url=url, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def _environment(folder: Path) -> Dict[str, str]:
    env = ansible_env(folder)
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
            "ANSIBLE_DEPRECATION_WARNINGS": "False",
            # modules unzip a little faster from a stored archive (about 5 % of this test's CPU)
            "ANSIBLE_MODULE_COMPRESSION": "ZIP_STORED",
        }
    )
    return env


class Run:
    """One ansible-playbook run of sdd.devops_flow.provision: exit code, output, recap, wall and CPU seconds."""

    def __init__(self, rc: int, output: str, seconds: float, cpu: float) -> None:
        self.rc, self.output, self.seconds, self.cpu = rc, output, seconds, cpu
        found = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", output)
        self.ok, self.changed, self.failed = (int(g) for g in found.groups()) if found else (0, -1, -1)

    def check(self, what: str) -> None:
        assert self.rc == 0 and self.failed == 0, "%s failed:\n%s" % (what, self.output[-8000:])


def provision(
    folder: Path, settings: Dict[str, Any], label: str, check: bool = False, env: Optional[Dict[str, str]] = None
) -> Run:
    """Run the playbook with ``settings`` as extra variables; its output is kept in ``folder/<label>.log``."""
    folder.mkdir(parents=True, exist_ok=True)
    extra = folder / ("%s.json" % label)
    extra.write_text(json.dumps(settings), encoding="utf-8")
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(PLAYBOOK), "-e", "@%s" % extra]
    if check:
        argv += ["--check", "--diff"]
    log = folder / ("%s.log" % label)
    started = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=folder, env=env or _environment(folder), stdout=out, stderr=subprocess.STDOUT)
    # wait4 gives the CPU time of this run's whole process tree, even with the other engine running alongside
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("%s took longer than %d s" % (label, RUN_TIMEOUT))
        time.sleep(0.5)
    proc.returncode = os.waitstatus_to_exitcode(status)
    run = Run(
        proc.returncode, log.read_text(errors="replace"), time.monotonic() - started, usage.ru_utime + usage.ru_stime
    )
    print("%s: %.0f s, %.0f s of CPU, changed=%d" % (label, run.seconds, run.cpu, run.changed))
    return run


def tags_of(items: List[Dict[str, str]]) -> Dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or []}


def assert_tagged(found: Dict[str, str], cost: Optional[str], what: str) -> None:
    for key, value in TAGS.items():
        assert found.get(key) == value, (what, key, found)
    if cost is not None:
        assert found.get(COST_TAG) == cost, (what, found)


# --------------------------------------------------------------------------- in a thread


class Background(threading.Thread):
    """What runs beside the ansible engine's main runs, each part against its own moto server: the ansible
    engine's --check on a fresh account, then the Terraform engine's --check, apply and second run."""

    def __init__(self, folder: Path) -> None:
        super().__init__(name="provision-background", daemon=True)
        self.folder = folder
        self.runs: Dict[str, Run] = {}
        self.error: Optional[str] = None
        self.checked = threading.Event()
        self.after_check: Dict[str, Any] = {}
        self.before_apply: Dict[str, Any] = {}
        self.after_apply: Dict[str, Any] = {}

    def run(self) -> None:
        try:
            folder = self.folder / "ansible-check"
            folder.mkdir()
            with moto_server(folder) as url:
                self.runs["ansible-check"] = provision(folder, _ansible_settings(url, folder), "check", check=True)
                self.after_check = _inventory(url)
            self.checked.set()
            with moto_server(self.folder) as url:
                self._flow(url)
        except BaseException:
            self.error = traceback.format_exc()
        finally:
            self.checked.set()

    def _flow(self, url: str) -> None:
        folder = self.folder / "terraform-engine"
        folder.mkdir()
        override = folder / "override.tf"
        override.write_text(
            "# Test only: the AWS provider talks to moto, the state stays in the project folder.\n"
            'terraform {\n  backend "local" {}\n}\n\n'
            'provider "aws" {\n'
            '  access_key                  = "testing"\n'
            '  secret_key                  = "testing"\n'
            "  skip_credentials_validation = true\n"
            "  skip_metadata_api_check     = true\n"
            "  skip_region_validation      = true\n"
            "  s3_use_path_style           = true\n\n"
            "  endpoints {\n%s\n  }\n}\n"
            % "\n".join('    %-8s = "%s"' % (name, url) for name in ("ec2", "iam", "kms", "logs", "s3", "sqs", "sts")),
            encoding="utf-8",
        )
        cli_config = folder / "terraformrc"
        cli_config.write_text(
            'provider_installation {\n  filesystem_mirror {\n    path = "%s"\n  }\n}\n' % MIRROR, encoding="utf-8"
        )
        env = _environment(folder)
        env["TF_CLI_CONFIG_FILE"] = str(cli_config)
        temporary = folder / "tmp"
        temporary.mkdir()
        env["TMPDIR"] = str(temporary)
        settings = {
            "provision_req": str(REQ),
            "provision_engine": "terraform",
            "provision_environment": "dev",
            "provision_terraform_dir": str(folder / "terraform"),
            "provision_terraform_extra_files": [str(override)],
            "provision_terraform_targets": TF_TARGETS,
            "provision_terraform_validate": False,
            "provision_outputs_file": str(folder / "outputs.yml"),
        }
        self.runs["terraform-check"] = provision(folder / "check", settings, "check", check=True, env=env)
        self.before_apply = {
            "vpcs": _vpcs(url),
            "folder": (folder / "terraform").exists(),
            "temporary": sorted(p.name for p in temporary.glob("sdd-provision-*")),
        }
        self.runs["terraform-apply"] = provision(folder, settings, "apply", env=env)
        ec2 = aws(url, "ec2")
        vpcs = _vpcs(url)
        self.after_apply = {"vpcs": vpcs}
        if vpcs:
            where = [{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}]
            self.after_apply["subnets"] = ec2.describe_subnets(Filters=where)["Subnets"]
            self.after_apply["groups"] = ec2.describe_security_groups(Filters=where)["SecurityGroups"]
        self.runs["terraform-again"] = provision(folder, settings, "again", env=env)


def _vpcs(url: str) -> List[Dict[str, Any]]:
    return aws(url, "ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [NAME]}])["Vpcs"]


@pytest.fixture(scope="module")
def background(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Background]:
    if not shutil.which("terraform"):
        pytest.fail("terraform is not installed (https://developer.hashicorp.com/terraform/install)")
    if not os.path.isdir(MIRROR):
        pytest.fail("the provider mirror %s is missing (hashicorp/aws 5.100.0)" % MIRROR)
    flow = Background(tmp_path_factory.mktemp("background"))
    flow.start()
    try:
        yield flow
    finally:
        flow.join(timeout=3 * RUN_TIMEOUT)


# --------------------------------------------------------------------------- the ansible engine


def _ansible_settings(url: str, folder: Path) -> Dict[str, Any]:
    return {
        "provision_req": str(REQ),
        "provision_engine": "ansible",
        "provision_environment": "dev",
        "provision_aws_endpoint_url": url,
        "provision_zones": ["us-east-1a", "us-east-1b"],
        "provision_outputs_file": str(folder / "outputs.yml"),
        "provision_secret_recovery_days": 0,
        # moto cannot stand in for these (see the module docstring)
        "provision_nat_gateway": False,
        "provision_cache": False,
        "provision_compute": False,
        "provision_create_budgets": False,
        "provision_lb_drop_invalid_headers": False,
        "provision_database_storage_type": "gp2",
    }


def _inventory(url: str) -> Dict[str, Any]:
    """What exists in moto, by kind."""
    ec2, s3, sqs, rds, elb = aws(url, "ec2"), aws(url, "s3"), aws(url, "sqs"), aws(url, "rds"), aws(url, "elbv2")
    return {
        "vpcs": _vpcs(url),
        "buckets": [b["Name"] for b in s3.list_buckets().get("Buckets", [])],
        "queues": sqs.list_queues().get("QueueUrls", []),
        "secrets": [s["Name"] for s in aws(url, "secretsmanager").list_secrets().get("SecretList", [])],
        "databases": [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]],
        "subnet_groups": [g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]],
        "load_balancers": [lb["LoadBalancerName"] for lb in elb.describe_load_balancers()["LoadBalancers"]],
        "target_groups": [g["TargetGroupName"] for g in elb.describe_target_groups()["TargetGroups"]],
        "groups": [
            g["GroupName"]
            for g in ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [NAME + "-*"]}])[
                "SecurityGroups"
            ]
        ],
    }


def _assert_provisioned(url: str, outputs: Dict[str, Any]) -> str:
    """Every resource exists with its settings and tags; returns the secret's password."""
    ec2 = aws(url, "ec2")
    vpcs = _vpcs(url)
    assert len(vpcs) == 1 and vpcs[0]["CidrBlock"] == "10.20.0.0/16", vpcs
    vpc_id = vpcs[0]["VpcId"]
    assert outputs["vpc_id"] == vpc_id
    assert_tagged(tags_of(vpcs[0]["Tags"]), "network", "vpc")

    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    cidrs = sorted(s["CidrBlock"] for s in subnets)
    assert cidrs == ["10.20.0.0/20", "10.20.128.0/20", "10.20.144.0/20", "10.20.16.0/20"], cidrs
    for subnet in subnets:
        assert_tagged(tags_of(subnet["Tags"]), "network", "subnet")
    assert sorted(outputs["public_subnet_ids"] + outputs["private_subnet_ids"]) == sorted(
        s["SubnetId"] for s in subnets
    )

    gateways = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])
    assert len(gateways["InternetGateways"]) == 1
    tables = ec2.describe_route_tables(Filters=[{"Name": "tag:Name", "Values": [NAME + "-public"]}])["RouteTables"]
    assert len(tables) == 1 and any(r.get("GatewayId", "").startswith("igw-") for r in tables[0]["Routes"])
    assert sorted(a["SubnetId"] for a in tables[0]["Associations"] if "SubnetId" in a) == sorted(
        outputs["public_subnet_ids"]
    )

    groups = {
        g["GroupName"]: g
        for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
    }
    for name, cost in (("alb", "network"), ("app", "compute"), ("database", "database")):
        group = groups["%s-%s" % (NAME, name)]
        assert_tagged(tags_of(group.get("Tags", [])), cost, name)
    alb_in = groups[NAME + "-alb"]["IpPermissions"]
    assert sorted(p["FromPort"] for p in alb_in) == [80, 443]
    database_in = groups[NAME + "-database"]["IpPermissions"]
    assert database_in[0]["FromPort"] == 5432
    assert database_in[0]["UserIdGroupPairs"][0]["GroupId"] == groups[NAME + "-app"]["GroupId"]

    s3 = aws(url, "s3")
    bucket = outputs["bucket_name"]
    assert bucket == NAME + "-data-123456789012"
    assert_tagged(tags_of(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]), "storage", "bucket")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert lifecycle[0]["Expiration"]["Days"] == 90

    sqs = aws(url, "sqs")
    queue = sqs.get_queue_url(QueueName=NAME)["QueueUrl"]
    dead_letter = sqs.get_queue_url(QueueName=NAME + "-dlq")["QueueUrl"]
    arns = [
        sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for u in (queue, dead_letter)
    ]
    assert [outputs["queue_arn"], outputs["dead_letter_queue_arn"]] == arns
    for url_ in (queue, dead_letter):
        assert_tagged(sqs.list_queue_tags(QueueUrl=url_)["Tags"], "total", "queue")
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["MessageRetentionPeriod"] == str(4 * 86400)
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(":" + NAME + "-dlq") and int(redrive["maxReceiveCount"]) == 5

    secrets = aws(url, "secretsmanager")
    described = secrets.describe_secret(SecretId="order-intake/dev/database")
    assert outputs["secret_arn"] == described["ARN"]
    assert_tagged(tags_of(described["Tags"]), "total", "secret")
    value = json.loads(secrets.get_secret_value(SecretId="order-intake/dev/database")["SecretString"])
    assert value["username"] == "app_admin" and value["engine"] == "postgresql" and value["port"] == 5432
    assert len(value["password"]) == 32

    rds = aws(url, "rds")
    database = rds.describe_db_instances(DBInstanceIdentifier=NAME)["DBInstances"][0]
    assert database["Engine"] == "postgres" and database["EngineVersion"] == "15.5"
    assert database["AllocatedStorage"] == 100 and database["StorageEncrypted"] is True
    assert database["MultiAZ"] is False and database["PubliclyAccessible"] is False
    assert database["DBSubnetGroup"]["DBSubnetGroupName"] == NAME
    assert database["VpcSecurityGroups"][0]["VpcSecurityGroupId"] == groups[NAME + "-database"]["GroupId"]
    assert_tagged(tags_of(database["TagList"]), "database", "database")
    assert outputs["database_endpoint"] == database["Endpoint"]["Address"]

    elb = aws(url, "elbv2")
    balancer = elb.describe_load_balancers(Names=[NAME + "-alb"])["LoadBalancers"][0]
    assert balancer["Scheme"] == "internet-facing" and outputs["load_balancer_dns_name"] == balancer["DNSName"]
    assert sorted(z["SubnetId"] for z in balancer["AvailabilityZones"]) == sorted(outputs["public_subnet_ids"])
    target_groups = elb.describe_target_groups(Names=[NAME + "-blue", NAME + "-green"])["TargetGroups"]
    assert {g["HealthCheckPath"] for g in target_groups} == {"/health/ready"}
    assert {g["Port"] for g in target_groups} == {8080}
    arns = [balancer["LoadBalancerArn"]] + [g["TargetGroupArn"] for g in target_groups]
    for described_tags in elb.describe_tags(ResourceArns=arns)["TagDescriptions"]:
        assert_tagged(tags_of(described_tags["Tags"]), "network", described_tags["ResourceArn"])
    listeners = elb.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
    assert [(listener["Port"], listener["DefaultActions"][0]["TargetGroupArn"]) for listener in listeners] == [
        (80, outputs["target_group_arns"]["blue"])
    ]
    return str(value["password"])


def test_ansible_engine_create_again_and_remove(background: Background, tmp_path: Path) -> None:
    started = time.monotonic()
    with moto_server(tmp_path) as url:
        settings = _ansible_settings(url, tmp_path)

        first = provision(tmp_path, settings, "create")
        first.check("the first run")
        assert first.changed > 0
        outputs = yaml.safe_load((tmp_path / "outputs.yml").read_text())["outputs"]
        password = _assert_provisioned(url, outputs)

        again = provision(tmp_path, settings, "again")
        again.check("the second run")
        assert again.changed == 0, "the second run changed something:\n%s" % again.output[-8000:]

        for run in (first, again):
            assert password not in run.output
        assert password not in (tmp_path / "outputs.yml").read_text()

        removed = provision(tmp_path, dict(settings, provision_state="absent"), "absent")
        removed.check("provision_state=absent")
        left = _inventory(url)
        assert not any(left.values()), left
    print("ansible engine: %.0f s" % (time.monotonic() - started))


def test_ansible_engine_check_changes_nothing(background: Background) -> None:
    background.checked.wait(timeout=RUN_TIMEOUT)
    assert "ansible-check" in background.runs, background.error
    check = background.runs["ansible-check"]
    check.check("--check on a fresh account")
    assert check.changed > 0
    assert not any(background.after_check.values()), background.after_check
    assert "does not exist yet" in check.output


def test_terraform_engine_check_apply_and_again(background: Background) -> None:
    background.join(timeout=3 * RUN_TIMEOUT)
    assert background.error is None, background.error
    runs = background.runs

    check = runs["terraform-check"]
    check.check("--check of the Terraform engine")
    assert re.search(r"Plan: \d+ to add, 0 to change, 0 to destroy", check.output), check.output[-6000:]
    assert background.before_apply["vpcs"] == [], "--check created the VPC"
    assert background.before_apply["folder"] is False, "--check wrote the Terraform folder"
    assert background.before_apply["temporary"] == []

    apply = runs["terraform-apply"]
    apply.check("terraform apply")
    assert apply.changed > 0 and "Apply complete!" in apply.output
    vpcs = background.after_apply["vpcs"]
    assert len(vpcs) == 1 and vpcs[0]["CidrBlock"] == "10.20.0.0/16"
    assert_tagged(tags_of(vpcs[0]["Tags"]), None, "vpc")
    subnets = background.after_apply["subnets"]
    assert len(subnets) == 6 and all(s["MapPublicIpOnLaunch"] is False for s in subnets)
    for subnet in subnets:
        assert_tagged(tags_of(subnet["Tags"]), None, "subnet")
    groups = {g["GroupName"] for g in background.after_apply["groups"]}
    assert {NAME + "-alb", NAME + "-app", NAME + "-database", NAME + "-cache"} <= groups, groups
    outputs = yaml.safe_load((background.folder / "terraform-engine" / "outputs.yml").read_text())["outputs"]
    assert outputs["vpc_id"] == vpcs[0]["VpcId"]

    again = runs["terraform-again"]
    again.check("the second Terraform run")
    assert again.changed == 0, "the second run changed something:\n%s" % again.output[-8000:]
    assert "No changes." in again.output
