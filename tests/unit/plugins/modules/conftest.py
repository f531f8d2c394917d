"""Shared helpers of the module tests."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args


@pytest.fixture
def run(request, capsys):
    """Runs the main() of the test file's MODULE with arguments; returns (exit code, result dict)."""
    main = request.module.MODULE.main

    def call(args, check=False, diff=False):
        args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
        with patch_module_args(args), pytest.raises(SystemExit) as exc:
            main()
        return exc.value.code, json.loads(capsys.readouterr().out)

    return call
