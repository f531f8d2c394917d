# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plain data files (parameter files, stack configurations): they must parse, with the
line of the problem when they do not."""

from __future__ import annotations

import json
import os
from typing import List, Mapping, Sequence

from ..errors import DocumentError, Finding
from ..textio import load_yaml
from .base import Validator


class JsonParse(Validator):
    name = "json"
    kinds = ("json-data",)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        findings = []
        for path in files:
            with open(os.path.join(root, path), encoding="utf-8") as handle:
                text = handle.read()
            try:
                json.loads(text)
            except ValueError as exc:
                findings.append(self.finding("is not valid JSON: %s" % exc, path, getattr(exc, "lineno", 0)))
        return findings


class YamlParse(Validator):
    name = "yaml"
    kinds = ("yaml-data",)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        findings = []
        for path in files:
            with open(os.path.join(root, path), encoding="utf-8") as handle:
                text = handle.read()
            try:
                load_yaml(text, path)
            except DocumentError as exc:
                for finding in exc.findings():
                    findings.append(self.finding(finding.message, path, finding.line))
        return findings
