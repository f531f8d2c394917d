"""The generated playbooks in check mode against real, empty hosts, and their AWS checks
against moto.

A test bed of its own (a load balancer and an application host: network namespaces
with sshd, nothing of the service installed) and the playbooks generated from the
documents.  ``ansible-playbook --check`` of the generated deploy_app.yml (the deploy
role with the environment of the hosts' group: REQ-14's production, a canary with
analysis, the longest path through its plays) must pass and change nothing on the
hosts, and so must configure_instances.yml (the host play of the generated content that is no
role's; the monitoring, security and backup roles test their own check mode, and the
cloud plays run in --check in the unit tests).  The runs on the bed go in parallel;
the other strategies of the deploy role are its own tests' (test_deploy.py).

Then the cloud plays of configure_security.yml and configure_monitoring.yml run for
real against a moto server: a port open to the internet that 9.5.6 does not allow
fails the security play, and the monitoring play fails until the environment's
alarms exist.
"""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import testbed
from conftest import REPO, ansible_env
from motoserver import moto_server

from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import document_names, version
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import playbooks

EXAMPLES = REPO / "examples" / "docs" / "07_REQ"
APP = REPO / "examples" / "app"
BIN = Path(sys.executable).parent
VERSION = "1.0.0"


def _generate(req: Path, output: Path) -> Path:
    model = load_model(req=str(req))
    files = playbooks.render(model, None, str(output)).finalize(
        "generate playbooks", version(), document_names(model), model.req_id
    )
    for file in files:
        target = output / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.content, encoding="utf-8")
    return output / "ansible"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("playbooks-check")
    releases = tmp / "releases"
    subprocess.run(["bash", str(APP / "build-release.sh"), VERSION, str(releases)], check=True, capture_output=True)
    generated = {
        "req14": _generate(EXAMPLES / "REQ-14_order_intake_api.md", tmp / "req14"),
    }
    with testbed.Testbed(["lb1", "app1"], subnet="10.125.0", bridge="sddbr2", prefix="spb") as bed:
        yield {"bed": bed, "tmp": tmp, "artifact": releases / ("demo-app-%s.tar.gz" % VERSION), "generated": generated}


def _inventory(site: Dict[str, Any], case: str, environment: str) -> str:
    path = site["tmp"] / ("hosts-%s-%s.ini" % (case, environment))
    groups = {"lb": ["lb1"], "app": ["app1"], environment: ["lb1", "app1"]}
    return str(site["bed"].inventory(str(path), groups=groups))


def _check(
    site: Dict[str, Any], case: str, environment: str, names: List[str], extra: Optional[List[str]] = None
) -> subprocess.CompletedProcess[str]:
    folder = site["generated"][case]
    argv = [str(BIN / "ansible-playbook"), "--check", "-i", _inventory(site, case, environment), *names]
    argv += ["-e", "sdd_environment=%s" % environment]
    for item in extra or []:
        argv += ["-e", item]
    env = ansible_env(site["tmp"])
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(name, None)
    return subprocess.run(argv, cwd=str(folder), env=env, capture_output=True, text=True, timeout=1200, check=False)


def _untouched(site: Dict[str, Any]) -> None:
    """Check mode changed nothing: no release folder, no load balancer configuration or state."""
    bed = site["bed"]
    for host in ("lb1", "app1"):
        found = bed.ssh(
            host, "ls -d /opt/order-intake-api /opt/ledger-events /var/lib/sdd-devops-flow 2>/dev/null; true"
        )
        assert found.stdout.strip() == "", (host, found.stdout)
    config = bed.ssh("lb1", "grep -c order-intake-api /etc/haproxy/haproxy.cfg; true").stdout.strip()
    assert config in ("", "0"), config


Runs = Dict[str, "subprocess.CompletedProcess[str]"]

#: The check-mode runs on the bed: name -> (documents, environment of the hosts, playbook).
RUNS: Dict[str, Any] = {
    "req14-canary": ("req14", "prod", "deploy_app.yml"),
    "req14-instances": ("req14", "staging", "configure_instances.yml"),
}


@pytest.fixture(scope="module")
def runs(site: Dict[str, Any]) -> Runs:
    """Every check-mode run on the bed, in parallel (check mode writes nothing on the hosts)."""
    extra = ["deploy_version=%s" % VERSION, "deploy_artifact=%s" % site["artifact"]]

    def one(name: str) -> subprocess.CompletedProcess[str]:
        case, environment, playbook = RUNS[name]
        return _check(site, case, environment, [playbook], extra if playbook == "deploy_app.yml" else None)

    with ThreadPoolExecutor(max_workers=len(RUNS)) as pool:
        done = dict(zip(RUNS, pool.map(one, RUNS)))
    _untouched(site)
    return done


def _reached_without_failure(proc: subprocess.CompletedProcess[str]) -> None:
    """Both hosts of the bed are in the recap, none unreachable or failed."""
    recap = dict(re.findall(r"^(\S+)\s+:\s+(.*)$", proc.stdout.split("PLAY RECAP")[-1], re.M))
    assert {"lb1", "app1"} <= set(recap), recap
    for host, counts in recap.items():
        assert "unreachable=0" in counts.split() and "failed=0" in counts.split(), (host, counts)


def test_deploy_app_check_mode_passes_on_empty_hosts(runs: Runs) -> None:
    proc = runs["req14-canary"]
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "fatal:" not in proc.stdout and "failed=0" in proc.stdout
    # both hosts were reached: the load balancer play and the plays of the application host
    _reached_without_failure(proc)


def test_configure_instances_check_mode_passes_on_empty_hosts(runs: Runs) -> None:
    proc = runs["req14-instances"]
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "fatal:" not in proc.stdout
    _reached_without_failure(proc)


# --------------------------------------------------------------------------- AWS checks against moto


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    """A moto server for this module, and the REQ-14 playbooks generated for it."""
    tmp = tmp_path_factory.mktemp("playbooks-moto")
    with moto_server(tmp, timeout=30) as url:
        yield {"url": url, "tmp": tmp, "folder": _generate(EXAMPLES / "REQ-14_order_intake_api.md", tmp / "req14")}


def _aws_env(moto: Dict[str, Any]) -> Dict[str, str]:
    env: Dict[str, str] = ansible_env(moto["tmp"])
    env.update(
        {
            "AWS_ENDPOINT_URL": moto["url"],
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    env.pop("AWS_PROFILE", None)
    return env


def _client(moto: Dict[str, Any], service: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=moto["url"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _run(moto: Dict[str, Any], playbook: str) -> subprocess.CompletedProcess[str]:
    argv = [str(BIN / "ansible-playbook"), "-i", "localhost,", playbook, "-e", "sdd_environment=staging"]
    return subprocess.run(
        argv, cwd=str(moto["folder"]), env=_aws_env(moto), capture_output=True, text=True, timeout=600, check=False
    )


def test_security_play_fails_on_a_port_the_documents_do_not_allow(moto: Dict[str, Any]) -> None:
    """443 (allowed by 9.5.6) passes the check and 22 open to the internet fails it, in one run."""
    ec2 = _client(moto, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    tags = [{"Key": "sdd.devops-flow/req", "Value": "REQ-14"}, {"Key": "Environment", "Value": "staging"}]
    group = ec2.create_security_group(
        GroupName="order-intake-api-staging-alb",
        Description="alb",
        VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": tags}],
    )["GroupId"]
    world = [{"CidrIp": "0.0.0.0/0"}]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": world},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": world},
        ],
    )
    proc = _run(moto, "configure_security.yml")
    assert proc.returncode != 0, proc.stdout[-4000:]
    assert re.search(r"^ok: \[localhost\] => \(item=443/tcp\)", proc.stdout, re.M), proc.stdout[-4000:]
    assert re.search(r"^failed: \[localhost\] \(item=22/tcp\)", proc.stdout, re.M), proc.stdout[-4000:]
    assert "every port open to the internet must be one of 443, 5432, 6379, 8080" in proc.stdout


def test_monitoring_play_needs_the_alarms_of_the_environment(moto: Dict[str, Any]) -> None:
    missing = _run(moto, "configure_monitoring.yml")
    assert missing.returncode != 0
    assert "no CloudWatch alarm named order-intake-api-staging-*" in missing.stdout
    _client(moto, "cloudwatch").put_metric_alarm(
        AlarmName="order-intake-api-staging-p95-latency",
        MetricName="TargetResponseTime",
        Namespace="AWS/ApplicationELB",
        ExtendedStatistic="p95",
        Period=60,
        EvaluationPeriods=10,
        Threshold=0.5,
        ComparisonOperator="GreaterThanThreshold",
    )
    present = _run(moto, "configure_monitoring.yml")
    assert present.returncode == 0, present.stdout[-4000:] + present.stderr[-2000:]
