"""security_sysctl against a /proc/sys of the test's own (a folder of files), and its boot file."""

from __future__ import annotations

import errno
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.sdd.devops_flow.plugins.modules import security_sysctl


@pytest.fixture
def proc(tmp_path, monkeypatch):
    root = tmp_path / "proc-sys"
    for key, value in {
        "net.ipv4.ip_forward": "1",
        "net.ipv4.conf.all.accept_redirects": "1",
        "net.ipv4.tcp_syncookies": "1",
        "net.ipv4.ip_local_port_range": "32768\t60999",
    }.items():
        path = root.joinpath(*key.split("."))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    monkeypatch.setattr(security_sysctl, "PROC_SYS", str(root))
    return root


def run(args, capsys, check=False):
    with (
        patch_module_args(dict(args, _ansible_check_mode=check, _ansible_diff=True)),
        pytest.raises(SystemExit) as exc,
    ):
        security_sysctl.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


SETTINGS = {
    "net.ipv4.ip_forward": 0,
    "net.ipv4.conf.all.accept_redirects": False,
    "net.ipv4.tcp_syncookies": 1,
    "net.ipv4.ip_local_port_range": "32768   60999",
    "kernel.not_here": 1,
}


def test_check_mode_then_set_then_nothing_to_do(proc, tmp_path, capsys):
    conf = tmp_path / "60-sdd-security.conf"
    args = {"settings": SETTINGS, "path": str(conf)}
    code, result = run(args, capsys, check=True)
    assert code == 0 and result["changed"] and not conf.exists()
    assert (proc / "net" / "ipv4" / "ip_forward").read_text() == "1\n"
    by_key = {r["key"]: r for r in result["results"]}
    assert by_key["net.ipv4.ip_forward"]["status"] == "fail"
    assert "would be set to 0" in by_key["net.ipv4.ip_forward"]["evidence"]
    assert "net.ipv4.ip_forward = 0" in result["diff"]["after"] and result["diff"]["before"] == ""

    code, result = run(args, capsys)
    assert code == 0 and result["changed"]
    assert (proc / "net" / "ipv4" / "ip_forward").read_text() == "0\n"
    by_key = {r["key"]: r for r in result["results"]}
    assert by_key["net.ipv4.ip_forward"] == {
        "key": "net.ipv4.ip_forward",
        "expected": "0",
        "before": "1",
        "after": "0",
        "status": "pass",
        "evidence": "net.ipv4.ip_forward = 0",
    }
    assert by_key["net.ipv4.tcp_syncookies"]["status"] == "pass"
    assert by_key["net.ipv4.ip_local_port_range"]["status"] == "pass"  # whitespace as the kernel prints it
    assert by_key["kernel.not_here"]["status"] == "not-applicable"
    text = conf.read_text()
    assert text.startswith("# Managed by sdd.devops_flow.security\n")
    assert "net.ipv4.conf.all.accept_redirects = 0\n" in text and "kernel.not_here" not in text
    assert oct(conf.stat().st_mode & 0o777) == "0o644"

    code, result = run(args, capsys)
    assert code == 0 and not result["changed"] and "diff" not in result


def test_only_the_file_when_not_applied(proc, tmp_path, capsys):
    conf = tmp_path / "boot.conf"
    code, result = run({"settings": {"net.ipv4.ip_forward": 0}, "path": str(conf), "apply": False}, capsys)
    assert code == 0 and result["changed"] and conf.exists()
    assert result["results"][0]["status"] == "fail" and "not applied" in result["results"][0]["evidence"]
    assert (proc / "net" / "ipv4" / "ip_forward").read_text() == "1\n"


def test_no_file(proc, capsys):
    code, result = run({"settings": {"net.ipv4.tcp_syncookies": 1}, "path": ""}, capsys)
    assert code == 0 and not result["changed"] and result["path"] == ""


def test_a_read_only_proc_is_not_applicable(proc, tmp_path, capsys, monkeypatch):
    real_open = open

    def fake_open(path, mode="r", **kwargs):
        if "w" in mode and str(path).startswith(str(proc)):
            raise OSError(errno.EROFS, "Read-only file system")
        return real_open(path, mode, **kwargs)

    monkeypatch.setattr(security_sysctl, "open", fake_open, raising=False)
    code, result = run({"settings": {"net.ipv4.ip_forward": 0}, "path": str(tmp_path / "c.conf")}, capsys)
    entry = result["results"][0]
    assert code == 0 and entry["status"] == "not-applicable" and "container host" in entry["evidence"]
    assert (proc / "net" / "ipv4" / "ip_forward").read_text() == "1\n"


def test_a_value_the_kernel_does_not_keep_fails(proc, tmp_path, capsys, monkeypatch):
    real_open = open

    def stubborn(path, mode="r", **kwargs):
        if "w" in mode and str(path).startswith(str(proc)):
            return real_open("/dev/null", mode, **kwargs)
        return real_open(path, mode, **kwargs)

    monkeypatch.setattr(security_sysctl, "open", stubborn, raising=False)
    _code, result = run({"settings": {"net.ipv4.ip_forward": 0}, "path": str(tmp_path / "c.conf")}, capsys)
    entry = result["results"][0]
    assert entry["status"] == "fail" and "did not keep it" in entry["evidence"]


@pytest.mark.parametrize("name", ["net..ipv4", "../etc/passwd", "net.ipv4 x", ""])
def test_names_that_are_not_parameters(proc, capsys, name):
    code, result = run({"settings": {name: 1}, "path": ""}, capsys)
    assert code == 1 and "not a kernel parameter name" in result["msg"]
