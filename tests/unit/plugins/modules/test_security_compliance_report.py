"""compliance_report and security_compliance: every 9.5.6 row and every hardening control judged from the
evidence of the security role, written as JSON and Markdown, unchanged when it says the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.sdd.devops_flow.plugins.module_utils import security_compliance as compliance
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.serialize import model_to_dict
from ansible_collections.sdd.devops_flow.plugins.modules import compliance_report

REPO = Path(__file__).resolve().parents[4]
REQ = REPO / "examples" / "docs" / "07_REQ" / "REQ-14_order_intake_api.md"

SSHD_T = """port 22
permitrootlogin without-password
passwordauthentication no
x11forwarding no
logingracetime 30
clientaliveinterval 300
maxauthtries 3
"""
EXPECTED = {
    "PermitRootLogin": "prohibit-password",
    "PasswordAuthentication": "no",
    "X11Forwarding": False,
    "LoginGraceTime": "30s",
    "ClientAliveInterval": "5m",
    "MaxAuthTries": 3,
}
SECRET = "never-in-a-report-7f3a"


@pytest.fixture(scope="module")
def model():
    return model_to_dict(load_model(req=str(REQ)))


def firewall(**changes):
    fw = {
        "enabled": True,
        "live": True,
        "table": "sdd_security",
        "file": "/etc/nftables.d/sdd-security.nft",
        "revision": "0123456789abcdef",
        "roles": ["app"],
        "ssh_port": 22,
        "ssh_sources": ["10.0.0.1"],
        "app_ports": [8080, 8081],
        "app_sources": ["10.0.0.10"],
        "monitoring_ports": [9100],
        "monitoring_sources": ["10.0.0.20"],
        "public_ports": [],
        "document_rules": [],
        "first_rule": 'tcp dport 22 ip saddr 10.0.0.1 accept comment "ssh: controller and admin networks"',
        "error": "",
    }
    fw.update(changes)
    return fw


SECRETS = {
    "secrets": [
        {"name": "database", "backend": "aws-secrets-manager", "secret_id": "orders/prod/db", "dest": "/s/db"},
        {"name": "api-token", "backend": "value", "rotated_on": "2020-01-15", "dest": "/s/api", "mode": "0400"},
        {"name": "partner", "secret_id": "orders/prod/partner"},
    ],
    "reads": [
        {"status": "pass", "evidence": "last changed 2025-01-01 (LastChangedDate, 3 days ago)", "changed": False},
        {"skipped": True},
        {"msg": "secret partner: AWS Secrets Manager: cannot describe orders/prod/partner: ResourceNotFoundException"},
    ],
    "writes": [
        {"changed": True},
        {"status": "fail", "evidence": "last changed 2020-01-15 (rotated_on, 1900 days ago); older", "changed": True},
        {"skipped": True},
    ],
    "default_backend": "aws-secrets-manager",
    "rotation_days": 30,
}


def checks(**changes):
    data = {
        "ssh": {
            "config": "/etc/ssh/sshd_config",
            "expected": EXPECTED,
            "effective": SSHD_T,
            "error": "",
            "dropins": "",
        },
        "sysctl": {"results": [{"key": "net.ipv4.ip_forward", "expected": "0", "status": "pass", "evidence": "= 0"}]},
        "files": {
            "results": [
                {
                    "path": "/etc/shadow",
                    "expected": "0640 root:shadow",
                    "status": "pass",
                    "evidence": "0640 root:shadow",
                }
            ]
        },
        "firewall": firewall(),
        "secrets": SECRETS,
        "scan": {"ran": True, "passed": True, "summary": "2 file(s) in 1 folder(s): 0 critical, 0 high"},
        "controls": [{"id": "audit", "title": "auditd", "status": "not-applicable", "evidence": "no auditd"}],
    }
    data.update(changes)
    return data


# --------------------------------------------------------------------------- ssh


def test_sshd_values_compare_as_sshd_prints_them():
    assert compliance.sshd_value("LoginGraceTime", "1m30s") == "90"
    assert compliance.sshd_value("ClientAliveInterval", "5m") == "300"
    assert compliance.sshd_value("PermitRootLogin", "prohibit-password") == "without-password"
    assert compliance.sshd_value("X11Forwarding", False) == "no"
    assert compliance.sshd_value("Ciphers", " aes256-ctr ") == "aes256-ctr"
    assert compliance.parse_sshd_t("Port 22\nport 2222\nbanner none") == {"port": "22", "banner": "none"}


def test_ssh_controls():
    controls = {c["id"]: c for c in compliance.ssh_controls(checks()["ssh"])}
    assert {c["status"] for c in controls.values()} == {"pass"}
    assert controls["ssh.logingracetime"]["evidence"] == "sshd -T: logingracetime 30"
    weak = compliance.ssh_controls(
        dict(checks()["ssh"], effective=SSHD_T.replace("x11forwarding no", "x11forwarding yes"))
    )
    failed = [c for c in weak if c["status"] == "fail"]
    assert [c["id"] for c in failed] == ["ssh.x11forwarding"]
    assert failed[0]["evidence"] == "sshd -T: x11forwarding yes (expected False)"
    broken = compliance.ssh_controls(dict(checks()["ssh"], effective="", error="Bad configuration option"))
    assert all(c["status"] == "fail" for c in broken if c["id"] != "ssh.dropins")
    assert "Bad configuration option" in broken[0]["evidence"]
    assert compliance.ssh_controls({"skipped": "no SSH daemon"})[0]["status"] == "not-applicable"


def test_dropins_that_are_overridden_and_that_win():
    dropins = "/etc/ssh/sshd_config.d/50-cloud-init.conf:1:PasswordAuthentication yes\n/x.conf:3:Port 2222\n"
    held = {c["id"]: c for c in compliance.ssh_controls(dict(checks()["ssh"], dropins=dropins))}
    assert held["ssh.dropins"]["status"] == "pass"
    assert "overridden" in held["ssh.dropins"]["evidence"] and "50-cloud-init.conf:1" in held["ssh.dropins"]["evidence"]
    effective = SSHD_T.replace("passwordauthentication no", "passwordauthentication yes")
    lost = {c["id"]: c for c in compliance.ssh_controls(dict(checks()["ssh"], dropins=dropins, effective=effective))}
    assert lost["ssh.dropins"]["status"] == "fail" and "win over the hardening" in lost["ssh.dropins"]["evidence"]


# --------------------------------------------------------------------------- firewall


def test_firewall_controls():
    controls = {c["id"]: c for c in compliance.firewall_controls(firewall())}
    assert controls["firewall"]["status"] == "pass" and "revision 0123456789abcdef" in controls["firewall"]["evidence"]
    assert controls["firewall.ssh"]["status"] == "pass"
    assert controls["firewall.ssh"]["evidence"].startswith("first rule: tcp dport 22 ip saddr 10.0.0.1 accept")
    assert controls["firewall.app"]["evidence"] == "tcp 8080, 8081 from 10.0.0.10"
    assert controls["firewall.monitoring"]["evidence"] == "tcp 9100 from 10.0.0.20"
    assert "firewall.public" not in controls
    not_first = {c["id"]: c for c in compliance.firewall_controls(firewall(first_rule="ct state established accept"))}
    assert not_first["firewall.ssh"]["status"] == "fail"
    open_ssh = {c["id"]: c for c in compliance.firewall_controls(firewall(ssh_sources=[]))}
    assert (
        open_ssh["firewall.ssh"]["status"] == "fail"
        and "security_ssh_admin_networks" in open_ssh["firewall.ssh"]["evidence"]
    )
    not_loaded = compliance.firewall_controls(firewall(live=False, error="Error: No such file or directory"))
    assert [c["status"] for c in not_loaded][:2] == ["fail", "fail"]
    lb = {c["id"]: c for c in compliance.firewall_controls(firewall(roles=["lb"], app_ports=[], public_ports=[80]))}
    assert lb["firewall.app"]["status"] == "not-applicable" and lb["firewall.public"]["status"] == "pass"
    off = compliance.firewall_controls({"enabled": False, "reason": "switched off (security_firewall: false)"})
    assert off == [
        compliance.control(
            "firewall", "Host firewall (nftables)", "not-applicable", "switched off (security_firewall: false)"
        )
    ]


# --------------------------------------------------------------------------- secrets, scan


def test_secret_controls_never_hold_a_value():
    controls = {c["id"]: c for c in compliance.secret_controls(SECRETS)}
    assert controls["secrets.database"]["status"] == "pass"
    assert controls["secrets.database"]["evidence"].endswith("written to /s/db only (mode 0600)")
    assert (
        controls["secrets.database"]["title"]
        == "secret database (aws-secrets-manager orders/prod/db) rotated within 30 days"
    )
    assert (
        controls["secrets.api-token"]["status"] == "fail" and "(mode 0400)" in controls["secrets.api-token"]["evidence"]
    )
    assert controls["secrets.partner"]["status"] == "fail"
    assert "ResourceNotFoundException" in controls["secrets.partner"]["evidence"]


def test_scan_control():
    assert compliance.scan_control({})["status"] == "not-applicable"
    assert compliance.scan_control({"ran": False, "reason": "no artifact folder"})["evidence"] == "no artifact folder"
    assert compliance.scan_control({"ran": True, "passed": False, "summary": "1 critical"})["status"] == "fail"


# --------------------------------------------------------------------------- 9.5.6 rows and the report


def test_every_9_5_6_row_of_the_documents(model):
    rows = {c["id"]: c for c in compliance.rows_9_5_6(model["security"], model["sources"], checks())}
    assert sorted(rows) == [
        "9.5.6.iam",
        "9.5.6.image_scanning",
        "9.5.6.network_rules[0]",
        "9.5.6.secrets",
        "9.5.6.tls",
    ]
    assert all(c["group"] == "9.5.6" and "REQ-14_order_intake_api.md:" in c["source"] for c in rows.values())
    assert rows["9.5.6.secrets"]["requirement"] == (
        "secrets in aws-secrets-manager (order-intake/{env}/database), rotated every 30 days"
    )
    assert rows["9.5.6.secrets"]["status"] == "fail"  # the API token is overdue, the partner secret missing
    network = rows["9.5.6.network_rules[0]"]
    assert network["status"] == "pass" and "8080 only from 10.0.0.10" in network["evidence"]
    assert "443, 5432, 6379 concern cloud resources" in network["evidence"]
    assert rows["9.5.6.image_scanning"]["status"] == "pass"
    assert rows["9.5.6.image_scanning"]["requirement"].startswith("no finding at or above high")
    assert rows["9.5.6.tls"]["status"] == "not-applicable" and rows["9.5.6.tls"]["requirement"] == (
        "TLS 1.2+ for orders.api.example.com"
    )
    cidr_rule = {"description": "443 from the office", "ports": [443, 8080], "cidrs": ["192.0.2.0/24"]}
    lb_fw = firewall(roles=["lb"], app_ports=[], public_ports=[80, 443])
    row = compliance.rows_9_5_6({"network_rules": [cidr_rule]}, {}, {"firewall": lb_fw})[0]
    assert row["status"] == "pass" and "443 also from 192.0.2.0/24" in row["evidence"]
    off = compliance.rows_9_5_6({"network_rules": [cidr_rule]}, {}, {"firewall": {"enabled": False}})[0]
    assert off["status"] == "not-applicable"


def test_build_markdown_and_json(model):
    report = compliance.build(
        "app1", "order-intake-api", "prod", [str(REQ)], model["security"], model["sources"], checks()
    )
    assert report["summary"] == {
        "pass": sum(c["status"] == "pass" for c in report["controls"]),
        "fail": sum(c["status"] == "fail" for c in report["controls"]),
        "not-applicable": sum(c["status"] == "not-applicable" for c in report["controls"]),
    }
    assert report["compliant"] is False
    ids = [c["id"] for c in report["controls"]]
    assert ids.index("9.5.6.secrets") < ids.index("ssh.passwordauthentication") < ids.index("audit")
    report["generated_at"] = "2025-01-01T00:00:00+00:00"
    text = compliance.markdown(report)
    assert text.startswith("# Compliance report: app1\n")
    assert "| Secrets Management | secrets in aws-secrets-manager (order-intake/{env}/database)" in text
    assert "| ssh.passwordauthentication | sshd PasswordAuthentication no | pass |" in text
    assert "**FAIL**" in text and "NOT compliant" in text
    assert SECRET not in compliance.to_json(report) + text
    with pytest.raises(compliance.ReportError):
        compliance.build("h", "", "", [], {}, {}, {"controls": [{"title": "no id"}]})
    with pytest.raises(compliance.ReportError):
        compliance.control("x", "x", "maybe", "")


def test_same_report_keeps_the_time():
    report = {"host": "a", "controls": []}
    text = json.dumps(dict(report, generated_at="T1"))
    assert compliance.same_report(text, dict(report, generated_at="T2")) == "T1"
    assert compliance.same_report(text, {"host": "b", "controls": []}) is None
    assert compliance.same_report("not json", report) is None
    assert compliance.same_report("[]", report) is None
    assert compliance.same_report(None, report) is None


# --------------------------------------------------------------------------- the module


def run(args, capsys, check=False):
    with (
        patch_module_args(dict(args, _ansible_check_mode=check, _ansible_diff=True)),
        pytest.raises(SystemExit) as exc,
    ):
        compliance_report.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_module_writes_once_and_keeps_the_time(model, tmp_path, capsys):
    folder = tmp_path / "security"
    args = {
        "host": "app1",
        "service": "order-intake-api",
        "environment": "prod",
        "documents": [str(REQ)],
        "security": model["security"],
        "sources": model["sources"],
        "checks": checks(),
        "json_path": str(folder / "compliance.json"),
        "markdown_path": str(folder / "compliance.md"),
    }
    code, result = run(args, capsys)
    assert code == 1 and "does not exist (folder_mode creates it)" in result["msg"]
    code, result = run(dict(args, folder_mode="0750"), capsys, check=True)
    assert code == 0 and result["changed"] and not folder.exists()
    assert result["diff"]["after"].startswith("# Compliance report: app1")
    code, result = run(dict(args, folder_mode="0750"), capsys)
    assert code == 0 and result["changed"] and oct(folder.stat().st_mode & 0o777) == "0o750"
    written = json.loads((folder / "compliance.json").read_text())
    assert written == result["report"] and oct((folder / "compliance.json").stat().st_mode & 0o777) == "0o640"
    assert list(written)[:2] == ["report", "generated_at"]
    assert "secrets.api-token" in result["failed_controls"] and result["summary"]["fail"] >= 2
    code, again = run(dict(args, folder_mode="0750"), capsys)
    assert code == 0 and not again["changed"] and again["report"]["generated_at"] == written["generated_at"]
    fixed = checks(secrets={"secrets": []})
    code, changed = run(dict(args, checks=fixed), capsys)
    assert code == 0 and changed["changed"] and "secrets.api-token" not in changed["failed_controls"]


def test_module_refuses_evidence_of_another_shape(capsys, tmp_path):
    code, result = run({"host": "h", "checks": {"controls": [{"id": "x", "status": "maybe"}]}}, capsys)
    assert code == 1 and "cannot build the compliance report of h" in result["msg"]
    code, result = run({"host": "h", "mode": "rw-"}, capsys)
    assert code == 1
