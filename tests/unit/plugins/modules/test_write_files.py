"""write_files: several files in one call, each written only when its content or mode differs."""

from __future__ import annotations

import os
from pathlib import Path

from ansible_collections.sdd.devops_flow.plugins.modules import write_files

MODULE = write_files


def test_writes_new_files_then_reports_no_change(tmp_path, run):
    files = {str(tmp_path / "a.sh"): "#!/bin/sh\necho a\n", str(tmp_path / "b.sh"): "#!/bin/sh\necho b\n"}
    code, result = run({"files": files, "mode": "0755"})
    assert code == 0 and result["changed"] and result["written"] == list(files)
    for path, text in files.items():
        assert Path(path).read_text(encoding="utf-8") == text
        assert os.stat(path).st_mode & 0o7777 == 0o755
    code, result = run({"files": files, "mode": "0755"})
    assert code == 0 and not result["changed"] and result["written"] == []


def test_only_the_changed_file_is_written_and_diffed(tmp_path, run):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("same\n")
    b.write_text("old\n")
    os.chmod(a, 0o644)
    os.chmod(b, 0o644)
    inode = a.stat().st_ino
    code, result = run({"files": {str(a): "same\n", str(b): "new\n"}}, diff=True)
    assert code == 0 and result["changed"] and result["written"] == [str(b)]
    assert result["diff"] == [{"before": "old\n", "after": "new\n", "before_header": str(b), "after_header": str(b)}]
    assert a.stat().st_ino == inode and b.read_text() == "new\n"
    # no temporary file is left beside them
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_a_mode_change_alone_is_a_change(tmp_path, run):
    path = tmp_path / "run.sh"
    path.write_text("x\n")
    os.chmod(path, 0o644)
    code, result = run({"files": {str(path): "x\n"}, "mode": "0755"}, diff=True)
    assert code == 0 and result["written"] == [str(path)]
    assert "0644 -> 0755" in result["diff"][0]["before_header"]
    assert path.stat().st_mode & 0o7777 == 0o755


def test_check_mode_writes_nothing(tmp_path, run):
    old = tmp_path / "old"
    old.write_text("before\n")
    new = tmp_path / "new"
    code, result = run({"files": {str(old): "after\n", str(new): "x\n"}}, check=True, diff=True)
    assert code == 0 and result["changed"] and result["written"] == [str(old), str(new)]
    assert old.read_text() == "before\n" and not new.exists()
    assert [d["after"] for d in result["diff"]] == ["after\n", "x\n"]


def test_bad_arguments_fail_with_the_reason(tmp_path, run):
    code, result = run({"files": {"relative/path": "x"}})
    assert code == 1 and "relative/path: expected an absolute path" in result["msg"]
    code, result = run({"files": {str(tmp_path / "x"): "x"}, "mode": "rwx"})
    assert code == 1 and "octal" in result["msg"]
    code, result = run({"files": {str(tmp_path / "missing" / "x"): "x"}})
    assert code == 1 and "cannot write %s" % (tmp_path / "missing" / "x") in result["msg"]
    assert not (tmp_path / "x").exists()
