# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""YAML output of the generated Ansible content (playbooks, group_vars, inventory).

Everything is Python data serialised here, so a document value never changes the
structure of a file.  Ansible evaluates Jinja in strings of playbooks and
variable files (play names, tags, variables), so text that came from a document
and holds a ``{`` is written with Ansible's ``!unsafe`` tag: Ansible then keeps
it as data and never templates it.  The Jinja expressions of the generated
files are fixed strings of the renderer (``"{{ sdd_region }}"``), never built
from document text.

Play names are for people: ``display_name`` also breaks Jinja delimiters apart
(``{{`` becomes ``{ {``) so that ansible-lint does not take document text for a
template, and starts the name with a capital letter as ansible-lint asks.
Comments are single lines without control characters.
"""

from __future__ import annotations

import re
from typing import Any, List, Optional, Sequence, Tuple

from ..errors import UsageError
from . import block_yaml
from .block_yaml import SPECIAL_WORDS, Scalar, reads_back

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None  # type: ignore[assignment]

#: Strings written without quotes: they start with a letter or "/", hold only
#: these characters, are none of the YAML 1.1 / 1.2 special words and read back
#: as the same string.
_PLAIN = re.compile(r"^[A-Za-z/][A-Za-z0-9 _./@(),+=-]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: Jinja's delimiters, broken apart in display names.
_DELIMITERS = re.compile(r"(\{)(?=[{%#])|([}%#])(?=\})")
#: Longest comment line (yamllint's limit is 160 with the indentation).
COMMENT_WIDTH = 150
#: PyYAML folds longer scalars (yamllint's line-length limit is 160).
WIDTH = 110
#: Strings longer than this are written as folded blocks.
FOLD = 90


class Unsafe(str):
    """Document text that holds a ``{``: written as ``!unsafe "..."`` so that Ansible
    never evaluates it as a template."""


def _str_style(value: str) -> Optional[str]:
    plain = _PLAIN.match(value) and value not in SPECIAL_WORDS and not value.endswith(" ") and "  " not in value
    if plain and reads_back(value):
        return None
    if len(value) > FOLD and "\n" not in value:
        # a folded block (">-"), as Ansible's own long expressions are written; PyYAML falls
        # back to double quotes when the text cannot be folded exactly
        return ">"
    return '"'


def _unsafe_scalar(value: Unsafe) -> Scalar:
    return "!unsafe", str(value), '"'


#: Deterministic, conservative scalar styles, sequences indented under their key
#: (the style of Ansible's own examples), no aliases.
_Dumper, _EMITTER = block_yaml.dumper("PlaybooksDumper", WIDTH, _str_style, {Unsafe: _unsafe_scalar})


def one_line(text: str) -> str:
    """Text on one line: control characters become spaces, runs of spaces one."""
    return " ".join(_CONTROL.sub(" ", str(text)).split())


def text(value: str) -> str:
    """A document string as data: marked ``!unsafe`` when Ansible could template it."""
    value = str(value)
    return Unsafe(value) if "{" in value else value


def data(value: Any) -> Any:
    """Document data (dicts, lists, scalars) with every string made inert."""
    if isinstance(value, dict):
        return {str(k): data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [data(v) for v in value]
    if isinstance(value, str):
        return text(value)
    return value


def display_name(value: str, fallback: str) -> str:
    """A play name from document text: one line, Jinja delimiters broken apart, a
    capital first letter; ``fallback`` when the text is empty."""
    name = one_line(value)
    while True:
        broken = _DELIMITERS.sub(lambda m: (m.group(1) or m.group(2)) + " ", name)
        if broken == name:
            break
        name = broken
    if not name:
        name = fallback
    if name[0].isalpha() and name[0].islower():
        name = name[0].upper() + name[1:]
    return text(name)


def comment(value: str) -> str:
    """One comment line (``# text``), at most COMMENT_WIDTH characters."""
    clean = one_line(value)
    if len(clean) > COMMENT_WIDTH:
        clean = clean[: COMMENT_WIDTH - 3].rstrip() + "..."
    return "# " + clean if clean else "#"


def _need_yaml() -> None:
    if yaml is None:
        raise UsageError("PyYAML is required to write YAML files (it ships with ansible-core): pip install PyYAML")


def _dump(value: Any) -> str:
    _need_yaml()
    return block_yaml.dump(value, _Dumper, _EMITTER)


def _notes(notes: Sequence[Optional[str]]) -> str:
    return "".join(comment(n) + "\n" for n in notes if n)


def dump_list(items: Sequence[Tuple[Any, Sequence[Optional[str]]]], head: Sequence[Optional[str]] = ()) -> str:
    """A YAML document whose top level is a list (a playbook), each item with its
    own comment lines before it."""
    out: List[str] = [_notes(head), "---\n"]
    for item, notes in items:
        out.append(_notes(notes))
        out.append(_dump([item]))
    return "".join(out)


def dump_mapping(items: Sequence[Tuple[str, Any, Sequence[Optional[str]]]], head: Sequence[Optional[str]] = ()) -> str:
    """A YAML document whose top level is a mapping (variables, an inventory), each
    key with its own comment lines before it."""
    out: List[str] = [_notes(head), "---\n"]
    if not items:
        out.append("{}\n")
    for key, value, notes in items:
        out.append(_notes(notes))
        out.append(_dump({key: value}))
    return "".join(out)


def load(value: str) -> Any:
    """Parse generated YAML (tests): ``!unsafe`` strings come back as ``Unsafe``."""
    _need_yaml()

    class _Loader(yaml.SafeLoader):
        pass

    def _unsafe(loader: Any, node: Any) -> Unsafe:
        return Unsafe(loader.construct_scalar(node))

    _Loader.add_constructor("!unsafe", _unsafe)
    # a SafeLoader that knows one more tag
    return yaml.load(value, Loader=_Loader)
