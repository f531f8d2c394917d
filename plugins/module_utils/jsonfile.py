# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small JSON files that modules keep on hosts (feature flags, deployment state): read as one
JSON object, written atomically (a temporary file in the same folder, then a rename), so a reader
never sees half a file and a crash leaves the previous content."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict, Optional


class JsonFileError(Exception):
    """The file cannot be read as a JSON object, or cannot be written."""


def read_object(path: str, what: str) -> Optional[Dict[str, Any]]:
    """The file's JSON object; None when there is no file, {} when it is empty."""
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        data = json.loads(text) if text.strip() else {}
    except (OSError, ValueError) as exc:
        raise JsonFileError("cannot read the %s %s: %s; expected a JSON object" % (what, path, exc)) from None
    if not isinstance(data, dict):
        raise JsonFileError("the %s %s holds %s; expected a JSON object" % (what, path, type(data).__name__))
    return data


def dump(data: Dict[str, Any]) -> str:
    """The text these files hold: sorted keys, two-space indent, a final newline."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def write_atomic(path: str, text: str, mode: int, keep_mode: bool = True) -> None:
    """Replaces ``path`` with ``text`` (a temporary file in the same folder, then a rename); an existing
    file keeps its permissions unless ``keep_mode`` is false, a new one gets ``mode``."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = ""
    try:
        if keep_mode and os.path.exists(path):
            mode = os.stat(path).st_mode & 0o7777
        fd, tmp = tempfile.mkstemp(prefix=".%s-" % os.path.basename(path), dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        raise JsonFileError("cannot write %s: %s" % (path, exc)) from None
