# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading documents safely: size limits, binary detection, strict UTF-8, and YAML
with bounded alias expansion and a line number for every value."""

from __future__ import annotations

import datetime
import math
import os
from typing import Any, Dict, List, Optional, Set, Tuple

from .errors import DocumentError, Finding

try:
    import yaml
    from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

    HAS_YAML = True
    YAML_IMPORT_ERROR: Optional[str] = None
except ImportError as exc:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None  # type: ignore[assignment]
    HAS_YAML = False
    YAML_IMPORT_ERROR = str(exc)

#: Largest document read, in bytes.  Real REQ/SPEC files are well under 1 MiB.
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
#: Most YAML aliases (``*name``) accepted in one document.
MAX_YAML_ALIASES = 200
#: Most nodes a YAML document may expand to once aliases are followed.
MAX_YAML_EXPANDED_NODES = 200_000
#: Deepest nesting accepted.
MAX_YAML_DEPTH = 64

Path = Tuple[Any, ...]


def display_path(path: str) -> str:
    """A path as it appears in messages: relative to the working folder when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # other drive on Windows
        return path
    return path if rel.startswith("..") else rel


def read_text(path: str, what: str = "document") -> str:
    """Read a text document, refusing what is not one.

    Raises ``DocumentError`` naming the file and line for: a missing or
    unreadable file, a folder, a file over ``MAX_DOCUMENT_BYTES``, a binary file
    (NUL bytes) and invalid UTF-8 (with the line of the first bad byte).
    """
    shown = display_path(path)
    if os.path.isdir(path):
        raise DocumentError.at(shown, 0, "is a folder; expected a %s file" % what)
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise DocumentError.at(shown, 0, "cannot read the %s: %s" % (what, exc.strerror or exc)) from None
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentError.at(shown, 0, "is %d bytes; expected a %s under %d bytes" % (size, what, MAX_DOCUMENT_BYTES))
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise DocumentError.at(shown, 0, "cannot read the %s: %s" % (what, exc.strerror or exc)) from None
    return decode_text(data, shown, what)


def decode_text(data: bytes, shown: str, what: str = "document") -> str:
    """Decode bytes as UTF-8 text, refusing binary data."""
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DocumentError.at(shown, line, "contains binary data (a NUL byte); expected a UTF-8 text %s" % what)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocumentError.at(
            shown,
            line,
            "is not valid UTF-8 (byte 0x%02x at offset %d); expected a UTF-8 text %s"
            % (data[exc.start], exc.start, what),
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


class LocatedYaml:
    """A YAML document as plain Python data plus the line of every value.

    ``data`` holds dicts, lists, str, int, float, bool and None (dates become
    ISO strings).  ``line(path)`` gives the 1-based line of the value at
    ``path`` (a tuple of keys and list indexes), falling back to the nearest
    parent that has one.
    """

    def __init__(self, data: Any, lines: Dict[Path, int], file: str, warnings: List[Finding]) -> None:
        self.data = data
        self.lines = lines
        self.file = file
        self.warnings = warnings

    def line(self, path: Path) -> int:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def get(self, *path: Any) -> Any:
        node = self.data
        for key in path:
            if isinstance(node, dict):
                node = node.get(key)
            elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                node = node[key]
            else:
                return None
        return node


class _Cycle(Exception):
    pass


def _expanded_size(root: Node) -> int:
    """Number of nodes once every alias is followed, computed without expanding.

    Raises ``_Cycle`` for a recursive alias (an anchor used inside itself).
    """
    memo: Dict[int, int] = {}
    visiting: Set[int] = set()
    stack: List[Tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if isinstance(node, ScalarNode):
            memo[key] = 1
            continue
        if isinstance(node, SequenceNode):
            children = list(node.value)
        else:
            children = [part for pair in node.value for part in pair]
        if done:
            visiting.discard(key)
            total = 1
            for child in children:
                total += memo.get(id(child), 1)
                if total > MAX_YAML_EXPANDED_NODES:
                    return total
            memo[key] = total
            continue
        if key in memo:
            continue
        visiting.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in visiting:
                raise _Cycle()
            if id(child) not in memo:
                stack.append((child, False))
    return memo.get(id(root), 1)


def _make_loader(text: str, shown: str) -> Any:
    class _Loader(yaml.SafeLoader):
        aliases_seen = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                _Loader.aliases_seen += 1
                if _Loader.aliases_seen > MAX_YAML_ALIASES:
                    mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                    raise DocumentError.at(
                        shown,
                        mark.line + 1,
                        "uses more than %d YAML aliases; expected a plain document "
                        "(alias bombs are refused)" % MAX_YAML_ALIASES,
                    )
            return super().compose_node(parent, index)

    _Loader.aliases_seen = 0
    return _Loader(text)


def load_yaml(text: str, shown: str) -> LocatedYaml:
    """Parse one YAML document safely.

    Refuses more than one document, alias bombs (too many aliases or too many
    nodes once expanded), nesting deeper than ``MAX_YAML_DEPTH`` and anything
    but the safe tags.  Duplicate keys are warnings (the last one wins, as in
    every YAML reader).
    """
    if yaml is None:
        raise DocumentError.at(
            shown, 0, "PyYAML is not installed; install it with 'pip install PyYAML' to read YAML documents"
        )
    try:
        loader = _make_loader(text, shown)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except DocumentError:
        raise
    except yaml.reader.ReaderError as exc:
        line = text[: max(0, exc.position)].count("\n") + 1
        raise DocumentError.at(
            shown,
            line,
            "contains the control character #x%04x; expected printable text" % exc.character,
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = "%s %s" % (exc.context, problem)
        raise DocumentError.at(shown, line, "is not valid YAML: %s" % problem) from None
    except yaml.YAMLError as exc:
        raise DocumentError.at(shown, 0, "is not valid YAML: %s" % exc) from None
    except RecursionError:
        raise DocumentError.at(shown, 1, "is nested too deeply; expected at most %d levels" % MAX_YAML_DEPTH) from None
    if root is None:
        return LocatedYaml(None, {(): 1}, shown, [])
    try:
        size = _expanded_size(root)
    except _Cycle:
        raise DocumentError.at(
            shown,
            root.start_mark.line + 1,
            "has a YAML alias that refers to itself; expected a document without cycles",
        ) from None
    if size > MAX_YAML_EXPANDED_NODES:
        raise DocumentError.at(
            shown,
            root.start_mark.line + 1,
            "expands to more than %d YAML nodes through aliases; expected a plain document "
            "(alias bombs are refused)" % MAX_YAML_EXPANDED_NODES,
        )
    constructor = yaml.SafeLoader("")
    lines: Dict[Path, int] = {}
    warnings: List[Finding] = []
    data = _convert(root, (), lines, warnings, constructor, shown, 0)
    return LocatedYaml(data, lines, shown, warnings)


def _scalar(node: ScalarNode, constructor: Any, shown: str) -> Any:
    try:
        value = constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError:
        line = node.start_mark.line + 1
        raise DocumentError.at(
            shown,
            line,
            "uses an unsupported YAML tag %s; expected plain YAML data" % node.tag,
        ) from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise DocumentError.at(shown, node.start_mark.line + 1, "has a value YAML cannot read (%s)" % exc) from None
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        raise DocumentError.at(shown, node.start_mark.line + 1, "holds binary data (!!binary); expected text")
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _convert(
    node: Node, path: Path, lines: Dict[Path, int], warnings: List[Finding], constructor: Any, shown: str, depth: int
) -> Any:
    if depth > MAX_YAML_DEPTH:
        raise DocumentError.at(
            shown,
            node.start_mark.line + 1,
            "is nested deeper than %d levels; expected a plainer document" % MAX_YAML_DEPTH,
        )
    lines[path] = node.start_mark.line + 1
    if isinstance(node, ScalarNode):
        return _scalar(node, constructor, shown)
    if isinstance(node, SequenceNode):
        if node.tag not in ("tag:yaml.org,2002:seq",):
            raise DocumentError.at(shown, node.start_mark.line + 1, "uses an unsupported YAML tag %s" % node.tag)
        return [
            _convert(child, path + (i,), lines, warnings, constructor, shown, depth + 1)
            for i, child in enumerate(node.value)
        ]
    if isinstance(node, MappingNode):
        if node.tag not in ("tag:yaml.org,2002:map",):
            raise DocumentError.at(
                shown,
                node.start_mark.line + 1,
                "uses an unsupported YAML tag %s (sets and ordered maps are not read)" % node.tag,
            )
        result: Dict[Any, Any] = {}
        # YAML merge keys ("<<: *base") are applied first; explicit keys win.
        merged: List[Tuple[Node, Node]] = []
        explicit: List[Tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for src in sources:
                    if isinstance(src, MappingNode):
                        merged.extend(src.value)
            else:
                explicit.append((key_node, value_node))
        seen: Dict[Any, int] = {}
        for is_explicit, pairs in ((False, merged), (True, explicit)):
            for key_node, value_node in pairs:
                key = _mapping_key(key_node, constructor, shown)
                key_line = key_node.start_mark.line + 1
                if is_explicit:
                    if key in seen:
                        warnings.append(
                            Finding(
                                "duplicate key %r (first at line %d); the last value is used" % (key, seen[key]),
                                shown,
                                key_line,
                            )
                        )
                    seen[key] = key_line
                result[key] = _convert(value_node, path + (key,), lines, warnings, constructor, shown, depth + 1)
                lines[path + (key,)] = key_line
        return result
    raise DocumentError.at(shown, node.start_mark.line + 1, "holds an unknown YAML node")


def _mapping_key(key_node: Node, constructor: Any, shown: str) -> Any:
    if not isinstance(key_node, ScalarNode):
        raise DocumentError.at(
            shown, key_node.start_mark.line + 1, "uses a list or mapping as a key; expected a plain key"
        )
    key = _scalar(key_node, constructor, shown)
    if isinstance(key, bool):
        return str(key).lower()
    if key is None or isinstance(key, float):
        return str(key) if key is not None else "null"
    return key
