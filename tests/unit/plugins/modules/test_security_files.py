"""security_files: owner, group and mode of the baseline's paths in one run, with the evidence."""

from __future__ import annotations

import grp
import json
import os
import pwd

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.sdd.devops_flow.plugins.modules import security_files

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def run(args, capsys, check=False):
    with (
        patch_module_args(dict(args, _ansible_check_mode=check, _ansible_diff=True)),
        pytest.raises(SystemExit) as exc,
    ):
        security_files.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_check_fix_and_nothing_left(tmp_path, capsys):
    crontab, cron_d = tmp_path / "crontab", tmp_path / "cron.d"
    crontab.write_text("# m h dom mon dow\n")
    crontab.chmod(0o644)
    cron_d.mkdir()
    cron_d.chmod(0o755)
    files = [
        {"path": str(crontab), "mode": "0600", "owner": ME, "group": MY_GROUP},
        {"path": str(cron_d), "mode": "700"},
        {"path": str(tmp_path / "grub.cfg"), "mode": "0400"},
    ]
    code, result = run({"files": files}, capsys, check=True)
    assert code == 0 and result["changed"]
    first, folder, missing = result["results"]
    assert first["status"] == "fail" and first["evidence"] == "mode 0644 (expected 0600); would be fixed"
    assert folder["status"] == "fail" and missing["status"] == "not-applicable" and not missing["exists"]
    assert oct(crontab.stat().st_mode & 0o777) == "0o644"
    assert "%s 0600 %s:%s" % (crontab, ME, MY_GROUP) in result["diff"]["after"]
    assert "%s 0644 %s:%s" % (crontab, ME, MY_GROUP) in result["diff"]["before"]

    code, result = run({"files": files}, capsys)
    assert code == 0 and result["changed"]
    first, folder, missing = result["results"]
    assert first == {
        "path": str(crontab),
        "exists": True,
        "expected": "0600 %s:%s" % (ME, MY_GROUP),
        "before": "0644 %s:%s" % (ME, MY_GROUP),
        "after": "0600 %s:%s" % (ME, MY_GROUP),
        "status": "pass",
        "evidence": "0600 %s:%s" % (ME, MY_GROUP),  # the state reached: the same on the next run
    }
    assert oct(crontab.stat().st_mode & 0o777) == "0o600" and oct(cron_d.stat().st_mode & 0o777) == "0o700"
    assert folder["expected"] == "700 -:-"
    assert not (tmp_path / "grub.cfg").exists()

    code, again = run({"files": files}, capsys)
    assert code == 0 and not again["changed"] and "diff" not in again
    assert [r["evidence"] for r in again["results"]] == [r["evidence"] for r in result["results"]]


def test_an_owner_that_differs_is_reported(tmp_path, capsys):
    path = tmp_path / "shadow"
    path.write_text("")
    code, result = run({"files": [{"path": str(path), "owner": "nobody-such-user-x"}]}, capsys, check=True)
    assert code == 0 and result["results"][0]["status"] == "fail"
    assert "owner %s (expected nobody-such-user-x)" % ME in result["results"][0]["evidence"]


def test_a_mode_that_is_not_octal(tmp_path, capsys):
    code, result = run({"files": [{"path": str(tmp_path), "mode": "u=rw"}]}, capsys)
    assert code == 1 and "must be octal" in result["msg"]


def test_content_is_written_when_it_differs(tmp_path, capsys):
    banner, existing = tmp_path / "issue.net", tmp_path / "issue"
    existing.write_text("Debian GNU/Linux 12\n")
    existing.chmod(0o664)
    text = "Authorised access only.\n"
    files = [{"path": str(banner), "content": text, "mode": "0644"}, {"path": str(existing), "content": text}]
    code, result = run({"files": files}, capsys, check=True)
    assert code == 0 and result["changed"] and not banner.exists()
    assert [r["evidence"] for r in result["results"]] == [
        "missing; would be fixed",
        "content differs; would be fixed",
    ]
    assert "%s (missing)" % banner in result["diff"]["before"] and "%s 0644 " % banner in result["diff"]["after"]
    code, result = run({"files": files}, capsys)
    assert code == 0 and result["changed"] and banner.read_text() == text and existing.read_text() == text
    assert oct(banner.stat().st_mode & 0o777) == "0o644" and oct(existing.stat().st_mode & 0o777) == "0o664"
    assert result["results"][0]["evidence"] == "content in place, 0644 %s:%s" % (ME, MY_GROUP)
    assert result["results"][0]["content"] is True
    code, again = run({"files": files}, capsys)
    assert code == 0 and not again["changed"]
    assert [r["evidence"] for r in again["results"]] == [r["evidence"] for r in result["results"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["issue", "issue.net"]
