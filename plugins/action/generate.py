# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of sdd.devops_flow.generate: renders, validates and writes on the
controller (where the documents, the output folder and the validators are)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from ansible.plugins.action import ActionBase

from ansible_collections.sdd.devops_flow.plugins.module_utils.task import argument_spec, execute


def _plain(value: Any) -> Any:
    """Task arguments without ansible-core 2.19+ data tags (plain str, list, dict)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(argument_spec())

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        _spec, params = self.validate_argument_spec(argument_spec=argument_spec())
        base = self._loader.get_basedir() if self._loader else None
        outcome = execute(
            _plain(dict(params)), check_mode=bool(self._task.check_mode), diff=bool(self._task.diff), base=base
        )
        result.update(outcome)
        return result
