"""The generated Terraform for AWS applies against moto and is then stable.

REQ-14 is rendered, a test-only ``override.tf`` points the AWS provider at a moto
server started by the test (dummy keys, every service endpoint on the loopback
address) and the state at a local file.  ``terraform apply`` creates the network
(VPC, subnets, NAT, routes, flow logs, security groups and their rules), the data
bucket with its log bucket and every bucket setting, the KMS key, and the queue with
its dead-letter queue and policy; a second ``terraform plan -detailed-exitcode`` on
the resources moto gives back as written (``STABLE``) must then report no change
(exit 0), and on everything applied the only changes may be moto's known round-trip
gaps (``MOTO_GAPS``), checked attribute by attribute in the JSON plan.

Left out, because moto cannot stand in for them (measured with moto 5.2):
- the database: moto reports the instance ``available`` but the provider's create
  waiter keeps polling until its timeout;
- ``aws_sqs_queue_redrive_allow_policy``: moto does not store ``RedriveAllowPolicy``,
  so the provider waits for it forever.

Run it with ``PYTHONPATH=.build/collections .venv/bin/pytest tests/integration/test_terraform_moto.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
from motoserver import moto_server

from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import Options, render
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model

REPO = Path(__file__).resolve().parents[2]
REQ = REPO / "examples" / "docs" / "07_REQ" / "REQ-14_order_intake_api.md"
MIRROR = os.environ.get("DEVOPS_FLOW_TF_PLUGIN_DIR", "/opt/tf-plugins")

#: What is applied: the network (and its security groups), storage and the queue.
TARGETS = [
    "module.network",
    "module.storage",
    "module.queue.aws_sqs_queue.this",
    "module.queue.aws_sqs_queue.dead_letter",
    "module.queue.aws_sqs_queue_policy.this",
]

#: Applied resources whose every attribute moto returns as written: the second plan on
#: these must report no change at all (exit code 0).
STABLE = [
    "module.network.aws_vpc.this",
    "module.network.aws_default_security_group.this",
    "module.network.aws_subnet.public",
    "module.network.aws_subnet.private",
    "module.network.aws_nat_gateway.this",
    "module.network.aws_route.public_internet",
    "module.network.aws_route.private_nat",
    "module.network.aws_route_table_association.public",
    "module.network.aws_route_table_association.private",
    "module.network.aws_vpc_endpoint.s3",
    "module.network.aws_flow_log.this",
    "module.network.aws_iam_role_policy.flow_logs",
    "module.network.aws_security_group.alb",
    "module.network.aws_security_group.app",
    "module.network.aws_security_group.database",
    "module.network.aws_security_group.cache",
    "module.network.aws_vpc_security_group_ingress_rule.alb_https",
    "module.network.aws_vpc_security_group_ingress_rule.alb_http_redirect",
    "module.network.aws_vpc_security_group_egress_rule.app_https",
    "module.storage.aws_s3_bucket_public_access_block.this",
    "module.storage.aws_s3_bucket_ownership_controls.this",
    "module.storage.aws_s3_bucket_versioning.this",
    "module.storage.aws_s3_bucket_server_side_encryption_configuration.this",
    "module.storage.aws_s3_bucket_lifecycle_configuration.this",
    "module.storage.aws_s3_bucket_logging.this",
    "module.storage.aws_s3_bucket_policy.this",
    "module.queue.aws_sqs_queue.dead_letter",
]

#: What moto (5.2) does not give back as written, per resource type: the description of a
#: rule that references a security group, the whitespace of a queue's redrive policy (and
#: so the queue policy document read after it), and S3's EventBridge notification flag.
MOTO_GAPS = {
    "aws_vpc_security_group_ingress_rule": {"description"},
    "aws_vpc_security_group_egress_rule": {"description"},
    "aws_sqs_queue": {"redrive_policy"},
    "aws_sqs_queue_policy": {"policy"},
    "aws_s3_bucket_notification": {"eventbridge"},
}

#: Provider endpoint names of the services the configuration touches.
SERVICES = [
    "acm",
    "applicationautoscaling",
    "budgets",
    "cloudwatch",
    "codedeploy",
    "dynamodb",
    "ec2",
    "ecr",
    "ecs",
    "elasticache",
    "elbv2",
    "iam",
    "kms",
    "lambda",
    "logs",
    "rds",
    "route53",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "sts",
    "wafv2",
]

#: Seconds the whole test may take (start, init, apply, two plans): a guard against a
#: provider waiter that never ends.  Measured: 264 s on a 2-core machine at load 12-16
#: (73 s of CPU); most of the rest is the provider's SQS and S3 consistency waiters.
BUDGET_SECONDS = 420


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``http://127.0.0.1:<port>``: a moto server started for this module and stopped after it."""
    with moto_server(tmp_path_factory.mktemp("moto"), timeout=30) as url:
        yield url


def _override(endpoint: str, state: Path) -> str:
    endpoints = "\n".join("    %-22s = %s" % (name, '"%s"' % endpoint) for name in SERVICES)
    return (
        "# Test only: the AWS provider talks to moto, the state stays in the test's folder.\n"
        "terraform {\n"
        '  backend "local" {\n'
        '    path = "%s"\n'
        "  }\n"
        "}\n\n"
        'provider "aws" {\n'
        '  access_key                  = "testing"\n'
        '  secret_key                  = "testing"\n'
        "  skip_credentials_validation = true\n"
        "  skip_metadata_api_check     = true\n"
        "  skip_region_validation      = true\n"
        "  s3_use_path_style           = true\n\n"
        "  endpoints {\n%s\n  }\n"
        "}\n" % (state.as_posix(), endpoints)
    )


def _terraform() -> str:
    found = shutil.which("terraform")
    if not found:
        pytest.fail("terraform is not installed (https://developer.hashicorp.com/terraform/install)")
    return found


def _run(argv: List[str], cwd: Path, env: Dict[str, str], ok: tuple = (0,)) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode not in ok:
        pytest.fail(
            "%s exited %d\n%s\n%s"
            % (" ".join(argv[:2]), result.returncode, result.stdout[-6000:], result.stderr[-6000:])
        )
    return result


def test_apply_then_plan_reports_no_change(moto_endpoint: str, tmp_path: Path) -> None:
    started = time.monotonic()
    if not os.path.isdir(MIRROR):
        pytest.fail("the provider mirror %s is missing (hashicorp/aws 5.100.0)" % MIRROR)
    model = load_model(req=str(REQ))
    files = render(model, Options("infra", iac="terraform"))
    workdir = tmp_path / "terraform"
    for file in files:
        path = workdir / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file.content, encoding="utf-8")
    (workdir / "override.tf").write_text(_override(moto_endpoint, tmp_path / "terraform.tfstate"), encoding="utf-8")
    cli_config = tmp_path / "terraformrc"
    cli_config.write_text(
        'provider_installation {\n  filesystem_mirror {\n    path = "%s"\n  }\n}\n' % MIRROR, encoding="utf-8"
    )
    env = dict(os.environ)
    env.update(
        {
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_DATA_DIR": str(tmp_path / "tf-data"),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    terraform = _terraform()
    common = ["-input=false", "-no-color", "-var-file=environments/dev.tfvars", "-parallelism=20"]
    targets = ["-target=%s" % t for t in TARGETS]
    _run([terraform, "init", "-input=false", "-no-color"], workdir, env)
    applied = _run([terraform, "apply", "-auto-approve", *common, *targets], workdir, env)
    assert "Apply complete!" in applied.stdout

    state = _run([terraform, "state", "list"], workdir, env).stdout.split()
    for address in (
        "module.network.aws_vpc.this",
        "module.network.aws_flow_log.this",
        "module.network.aws_vpc_security_group_ingress_rule.alb_https",
        "module.network.aws_vpc_security_group_ingress_rule.database_from_app",
        "module.storage.aws_s3_bucket.this",
        "module.storage.aws_s3_bucket_lifecycle_configuration.this",
        "module.queue.aws_sqs_queue.this",
        "module.queue.aws_sqs_queue.dead_letter",
        "aws_kms_key.this",
        "aws_s3_bucket.logs",
    ):
        assert address in state, address

    stable = ["-target=%s" % t for t in STABLE]
    plan = _run([terraform, "plan", "-detailed-exitcode", *common, *stable], workdir, env, ok=(0, 2))
    assert plan.returncode == 0, "the second plan wants changes:\n%s" % plan.stdout[-6000:]

    # Everything that was applied: only moto's known round-trip gaps may show up as changes.
    _run([terraform, "plan", "-out=second.plan", *common, *targets], workdir, env)
    shown = json.loads(_run([terraform, "show", "-json", "second.plan"], workdir, env).stdout)
    for change in shown.get("resource_changes", []):
        actions = change["change"]["actions"]
        if actions in (["no-op"], ["read"]):
            continue
        assert actions == ["update"], (change["address"], actions)
        before, after = change["change"]["before"] or {}, change["change"]["after"] or {}
        unknown = change["change"].get("after_unknown") or {}
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k) or unknown.get(k) is True}
        allowed = MOTO_GAPS.get(change["type"], set())
        assert changed <= allowed, (change["address"], sorted(changed - allowed))
        if change["type"] == "aws_sqs_queue":
            assert json.loads(before["redrive_policy"]) == json.loads(after["redrive_policy"])
    elapsed = time.monotonic() - started
    print("moto: init, apply and plan took %.0f s" % elapsed)
    assert elapsed < BUDGET_SECONDS, "took %.0f s" % elapsed
