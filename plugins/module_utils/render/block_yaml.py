# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PyYAML's block output, written without its event machinery.

The pipelines, playbooks and monitoring files are dumped with SafeDumper
subclasses that indent block sequences under their key (``IndentedDumper``).
libyaml's emitter cannot indent sequences that way, and PyYAML's own emitter
spends most of its time on events and states.  ``BlockEmitter`` writes the same
bytes straight from the data for the cases those files use: dicts (keys in
insertion order), lists and tuples, str, bool, int, float and None, each string
with the style its dumper's representer picks.  It follows PyYAML's emitter
step by step (indentation, simple keys, tags, style choice and the scalar
analysis), writes the common scalars directly and hands the rest (folded
blocks, escapes, lines PyYAML would fold at the width) to PyYAML's own scalar
writers.  Anything else (other types, keys PyYAML writes as ``? key``) is not
handled: ``dump`` returns None and the caller uses PyYAML.  Property tests
compare the two on random data.

``reads_back`` answers "does this plain scalar load as the same string" without
running the pure-Python loader for the strings the dumpers ask about.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Pattern, Tuple

try:
    import yaml
    from yaml.emitter import Emitter as _PyEmitter
    from yaml.nodes import ScalarNode as _ScalarNode

    _SafeDumper: Any = yaml.SafeDumper
    _RESOLVER: Any = yaml.resolver.Resolver()
    #: What ``represent_float`` writes as ``.inf`` (infinity, found its own way).
    _INF_VALUE = float(yaml.representer.SafeRepresenter.inf_value)
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None  # type: ignore[assignment]
    _PyEmitter = _ScalarNode = _RESOLVER = None  # type: ignore[assignment,misc]
    _SafeDumper = object
    _INF_VALUE = float("inf")

#: PyYAML is there (it ships with ansible-core).
HAVE_YAML = yaml is not None
STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"


#: What a (tag, text, style) scalar is.
Scalar = Tuple[str, str, Optional[str]]


class IndentedDumper(_SafeDumper):  # type: ignore[misc]
    """SafeDumper that indents sequences under their key and never uses aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


# --------------------------------------------------------------------------- string styles

_WORDS = ("y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf", "infinity")
#: Words a YAML 1.1 or 1.2 reader takes for a bool, a null or a number.
SPECIAL_WORDS = frozenset(["~", *_WORDS, *(w.upper() for w in _WORDS), *(w.capitalize() for w in _WORDS)])


def plain_or_quoted(value: str, plain: Pattern[str], control: Pattern[str]) -> Optional[str]:
    """The style of a one-line string: plain (None) when ``plain`` matches, it is no
    special word, has no trailing space and reads back; else single quotes when it
    has no single quote and nothing ``control`` finds; else double quotes."""
    if plain.match(value) and value not in SPECIAL_WORDS and not value.endswith(" ") and reads_back(value):
        return None
    if "'" not in value and not control.search(value):
        return "'"
    return '"'


# --------------------------------------------------------------------------- reads_back

#: Strings that the loader can only read as one plain scalar: they start with a
#: letter, digit or "/" and hold none of ``: # ' " [ ] { } ! & * | > ? ` \`` nor a
#: line break or tab, so nothing but the implicit resolvers decides what they are.
_ONE_PLAIN_SCALAR = re.compile(r"\A[A-Za-z0-9/][A-Za-z0-9 _./@(),%+=-]*\Z")


def _loads_as_itself(value: str) -> bool:
    try:
        return bool(yaml.safe_load(value) == value)
    except (yaml.YAMLError, ValueError):  # ValueError: "0x_" resolves to an int it cannot build
        return False


#: Answers already found (the same names recur across files), for strings of at
#: most _CACHED_LENGTH characters and at most _CACHE_SIZE of them.
_READS_BACK: Dict[str, bool] = {}
_ANALYSES: Dict[str, Analysis] = {}
_RESOLVED: Dict[str, str] = {}
_CACHE_SIZE = 65536
_CACHED_LENGTH = 256


def reads_back(value: str) -> bool:
    """True when ``yaml.safe_load(value) == value``.

    For a string of ``_ONE_PLAIN_SCALAR`` without a trailing space the loader reads
    one plain scalar whose text is the string; it comes back as the same string
    exactly when the implicit resolvers leave it a ``str``. Other strings are
    loaded."""
    known = _READS_BACK.get(value)
    if known is None:
        if _ONE_PLAIN_SCALAR.match(value) and not value.endswith(" "):
            known = _resolves_to(value) == STR_TAG
        else:
            known = _loads_as_itself(value)
        if len(_READS_BACK) < _CACHE_SIZE and len(value) <= _CACHED_LENGTH:
            _READS_BACK[value] = known
    return known


# --------------------------------------------------------------------------- scalar analysis

_BREAKS = "\n\x85\u2028\u2029"
_SPECIAL = re.compile(r"[^\n\x20-\x7e]")  # with allow_unicode=False every other character
_BREAK_SPACE = re.compile("[\n\x85\u2028\u2029] ")
_SPACE_BREAK = re.compile(" [\n\x85\u2028\u2029]")
_ANY_BREAK = re.compile("[\n\x85\u2028\u2029]")
#: After the first character, a block indicator: ":" before whitespace or at the
#: end, "#" after whitespace.
_INNER_BLOCK = re.compile(r":(?=[\0 \t\r\n\x85\u2028\u2029]|\Z)|(?<=[\0 \t\r\n\x85\u2028\u2029])#")
_WHITESPACE = "\0 \t\r\n\x85\u2028\u2029"


class Analysis:
    """What PyYAML's ``Emitter.analyze_scalar`` finds with ``allow_unicode=False``,
    as far as block context needs it."""

    __slots__ = ("allow_block", "allow_block_plain", "allow_single_quoted", "empty", "multiline")

    def __init__(self, scalar: str) -> None:
        self.empty = not scalar
        self.multiline = False
        self.allow_block_plain = self.allow_single_quoted = True
        self.allow_block = bool(scalar)
        if not scalar:
            return
        first = scalar[0]
        followed_by_whitespace = len(scalar) == 1 or scalar[1] in _WHITESPACE
        block_indicators = (
            scalar.startswith(("---", "..."))
            or first in "#,[]{}&*!|>'\"%@`"
            or (first in "?:-" and followed_by_whitespace)
            or _INNER_BLOCK.search(scalar, 1) is not None
        )
        self.multiline = _ANY_BREAK.search(scalar) is not None
        trailing_space = scalar[-1] == " "
        if first in " " + _BREAKS or trailing_space or scalar[-1] in _BREAKS or self.multiline or block_indicators:
            self.allow_block_plain = False
        if trailing_space:
            self.allow_block = False
        if _BREAK_SPACE.search(scalar):
            self.allow_block_plain = self.allow_single_quoted = False
        if _SPECIAL.search(scalar) or _SPACE_BREAK.search(scalar):
            self.allow_block_plain = self.allow_single_quoted = self.allow_block = False


def analyze(scalar: str) -> Analysis:
    found = _ANALYSES.get(scalar)
    if found is None:
        found = Analysis(scalar)
        if len(_ANALYSES) < _CACHE_SIZE and len(scalar) <= _CACHED_LENGTH:
            _ANALYSES[scalar] = found
    return found


def _resolves_to(text: str) -> str:
    """The tag the implicit resolvers give a plain scalar of this text."""
    tag = _RESOLVED.get(text)
    if tag is None:
        tag = str(_RESOLVER.resolve(_ScalarNode, text, (True, False)))
        if len(_RESOLVED) < _CACHE_SIZE and len(text) <= _CACHED_LENGTH:
            _RESOLVED[text] = tag
    return tag


def _float_text(value: float) -> str:
    """``SafeRepresenter.represent_float``'s text."""
    if math.isnan(value):
        return ".nan"
    if value == _INF_VALUE:
        return ".inf"
    if value == -_INF_VALUE:
        return "-.inf"
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    return text


class Unsupported(Exception):
    """Data ``BlockEmitter`` does not write the way PyYAML would: use PyYAML."""


# --------------------------------------------------------------------------- emitter

_PRINTABLE_UNQUOTED = re.compile(r"\A[\x20-\x21\x23-\x5b\x5d-\x7e]*\Z")  # no '"' nor "\"


class BlockEmitter:
    """``yaml.dump(data, Dumper=<IndentedDumper subclass>, sort_keys=False,
    default_flow_style=False, allow_unicode=False, width=width, indent=2)``, for
    the data of the dumpers that use it.

    ``str_style(value)`` is the style the dumper's ``str`` representer asks for
    (None, ``'``, ``"``, ``|`` or ``>``); ``types`` maps other exact types (``str``
    subclasses with a representer of their own) to their ``(tag, text, style)``.
    ``indentless``: a SafeDumper subclass that keeps PyYAML's own ``increase_indent``,
    which writes the sequences of a mapping at the indentation of its keys."""

    def __init__(
        self,
        width: int,
        str_style: Callable[[str], Optional[str]],
        types: Optional[Mapping[type, Callable[[Any], Scalar]]] = None,
        indentless: bool = False,
    ) -> None:
        self.width = width
        self.indentless = indentless
        self.str_style = str_style
        self.types: Dict[type, Callable[[Any], Scalar]] = dict(types or {})
        self._tags: Dict[str, str] = {}
        #: str key -> how it is written with its ":" (None: PyYAML writes it as "? key")
        self._keys: Dict[str, Optional[str]] = {}
        #: str value -> its style
        self._values: Dict[str, str] = {}

    # ------------------------------------------------------------------ entry

    def dump(self, data: Any) -> Optional[str]:
        """The YAML text, or None when PyYAML has to write it."""
        if yaml is None or type(data) not in (dict, list, tuple):
            return None
        run = _Run(self)
        try:
            run.node(data)
        except Unsupported:
            return None
        return run.finish()

    # ------------------------------------------------------------------ scalars

    def scalar(self, value: Any) -> Scalar:
        kind = type(value)
        if kind is str:
            return STR_TAG, value, self.str_style(value)
        if kind is bool:
            return _BOOL_TAG, "true" if value else "false", None
        if kind is int:
            return _INT_TAG, str(value), None
        if kind is float:
            return _FLOAT_TAG, _float_text(value), None
        if value is None:
            return _NULL_TAG, "null", None
        own = self.types.get(kind)
        if own is None:
            raise Unsupported(kind.__name__)
        return own(value)

    def value_style(self, value: str) -> str:
        """The style PyYAML writes a ``str`` value in (not a key); such a value never
        gets a tag: plain is only chosen when the resolvers read it as a ``str``."""
        style = self._values.get(value)
        if style is None:
            requested = self.str_style(value)
            style = _choose(requested, _resolves_to(value) == STR_TAG, analyze(value), False)
            if len(self._values) < _CACHE_SIZE and len(value) <= _CACHED_LENGTH:
                self._values[value] = style
        return style

    def key_text(self, key: str) -> Optional[str]:
        """A ``str`` key and its ``:``, as written after the indentation of a block
        mapping. The text is the same wherever the key stands: a key is never split
        at the width and always follows whitespace (the indentation or ``- ``)."""
        if key in self._keys:
            return self._keys[key]
        run = _Run(self)
        try:
            run.key(key)
        except Unsupported:
            text = None
        else:
            run.indicator(":", False)
            text = "".join(run.out)
        if len(self._keys) < _CACHE_SIZE and len(key) <= _CACHED_LENGTH:
            self._keys[key] = text
        return text

    def tag_text(self, tag: str) -> str:
        """The tag as PyYAML writes it (``!!str``, ``!unsafe``)."""
        text = self._tags.get(tag)
        if text is None:
            emitter: Any = _PyEmitter(None)  # type: ignore[arg-type]
            emitter.tag_prefixes = dict(_PyEmitter.DEFAULT_TAG_PREFIXES)
            text = self._tags[tag] = str(emitter.prepare_tag(tag))
        return text


class _Run:
    """One document: PyYAML's emitter state, kept by hand."""

    def __init__(self, owner: BlockEmitter) -> None:
        self.owner = owner
        # PyYAML's best_width
        self.width = owner.width if owner.width > 4 else 80
        self.out: List[str] = []
        self.write = self.out.append
        self.indent: Optional[int] = None
        self.indents: List[Optional[int]] = []
        self.column = 0
        self.whitespace = True
        self.indention = True
        self.open_ended = False
        self._emitter: Any = None

    # ------------------------------------------------------------------ PyYAML's writers

    def indicator(self, text: str, need_whitespace: bool, whitespace: bool = False, indention: bool = False) -> None:
        if need_whitespace and not self.whitespace:
            text = " " + text
        self.whitespace = whitespace
        self.indention = self.indention and indention
        self.column += len(text)
        self.open_ended = False
        self.write(text)

    def write_indent(self) -> None:
        indent = self.indent or 0
        if not self.indention or self.column > indent or (self.column == indent and not self.whitespace):
            self.write("\n")
            self.whitespace = self.indention = True
            self.column = 0
        if self.column < indent:
            self.whitespace = True
            self.write(" " * (indent - self.column))
            self.column = indent

    def pyyaml(self, method: str, *args: Any) -> None:
        """Run one of PyYAML's scalar writers from this state."""
        emitter = self._emitter
        if emitter is None:
            emitter = self._emitter = _PyEmitter(self, width=self.width, allow_unicode=False)
        emitter.indent = self.indent
        emitter.column = self.column
        emitter.whitespace = self.whitespace
        emitter.indention = self.indention
        emitter.open_ended = self.open_ended
        emitter.root_context = False
        getattr(emitter, method)(*args)
        self.column = emitter.column
        self.whitespace = emitter.whitespace
        self.indention = emitter.indention
        self.open_ended = emitter.open_ended

    # ------------------------------------------------------------------ nodes

    def node(self, data: Any, mapping_value: bool = False) -> None:
        kind = type(data)
        if kind is dict:
            if not data:
                self.indicator("{", True, whitespace=True)
                self.indicator("}", False)
                return
            self.increase_indent(0)
            for key, value in data.items():
                self.write_indent()
                key_kind = type(key)  # the exact type, as PyYAML picks a representer
                if key_kind is str:
                    text = self.owner.key_text(key)
                    if text is None:
                        raise Unsupported("explicit key")
                    self.write(text)
                    self.column += len(text)
                    self.whitespace = self.indention = self.open_ended = False
                else:
                    self.key(key)
                    self.indicator(":", False)
                self.node(value, True)
            self.indent = self.indents.pop()
        elif kind is list or kind is tuple:
            if not data:
                self.indicator("[", True, whitespace=True)
                self.indicator("]", False)
                return
            if mapping_value and self.owner.indentless:
                # after "key:" PyYAML's indention flag is off: an indentless sequence
                self.indents.append(self.indent)
            else:
                self.increase_indent(0)
            for item in data:
                self.write_indent()
                self.indicator("-", True, indention=True)
                self.node(item)
            self.indent = self.indents.pop()
        else:
            indent = self.indent
            self.indent = 2 if indent is None else indent + 2  # increase_indent(flow=True)
            if kind is str:
                self.write_scalar(data, self.owner.value_style(data), True)
            else:
                self.scalar(self.owner.scalar(data), False)
            self.indent = indent

    def increase_indent(self, first: int) -> None:
        """PyYAML's ``increase_indent`` (not indentless): ``first`` at the root
        (0 for a block collection, 2 for a scalar), else two more than now."""
        self.indents.append(self.indent)
        self.indent = first if self.indent is None else self.indent + 2

    def key(self, key: Any) -> None:
        if type(key) in (dict, list, tuple):
            raise Unsupported("collection key")
        scalar = self.owner.scalar(key)
        tag, text, _style = scalar
        analysis = analyze(text)
        # check_simple_key: PyYAML counts the tag even when it is not written
        if len(self.owner.tag_text(tag)) + len(text) >= 128 or analysis.empty or analysis.multiline:
            raise Unsupported("explicit key")
        self.increase_indent(2)
        self.scalar(scalar, True)
        self.indent = self.indents.pop()

    def scalar(self, scalar: Scalar, simple_key: bool) -> None:
        tag, text, requested = scalar
        analysis = analyze(text)
        implicit_plain = _resolves_to(text) == tag
        style = _choose(requested, implicit_plain, analysis, simple_key)
        if not ((style == "" and implicit_plain) or (style != "" and tag == STR_TAG)):
            self.indicator(self.owner.tag_text(tag), True)
        self.write_scalar(text, style, not simple_key)

    def write_scalar(self, text: str, style: str, split: bool) -> None:
        """``process_scalar`` once the style is chosen."""
        if style == "":
            self.plain(text, split)
        elif style == "'":
            self.single_quoted(text, split)
        elif style == '"':
            self.double_quoted(text, split)
        elif style == "|":
            self.literal(text)
        else:
            self.pyyaml("write_folded", text)

    def fits(self, extra: int, text: str, split: bool) -> bool:
        """No space of ``text`` can be where PyYAML breaks the line: the whole text
        ends at or before the width (or it is not split, or has no space)."""
        return not split or " " not in text or self.column + extra + len(text) <= self.width

    def plain(self, text: str, split: bool) -> None:
        if not text:
            return
        if not self.fits(0 if self.whitespace else 1, text, split):
            self.pyyaml("write_plain", text, split)
            return
        if not self.whitespace:
            text = " " + text
        self.whitespace = self.indention = False
        self.column += len(text)
        self.write(text)

    def single_quoted(self, text: str, split: bool) -> None:
        simple = "'" not in text and not analyze(text).multiline
        self.quoted("'", text, split, simple, "write_single_quoted")

    def double_quoted(self, text: str, split: bool) -> None:
        simple = _PRINTABLE_UNQUOTED.match(text) is not None
        self.quoted('"', text, split, simple, "write_double_quoted")

    def quoted(self, quote: str, text: str, split: bool, simple: bool, method: str) -> None:
        """A quoted scalar: written here when it needs no escape and no line break
        (``simple``, and ``fits``), else by PyYAML's ``method``."""
        if not simple or not self.fits(1 if self.whitespace else 2, text, split):
            self.pyyaml(method, text, split)
            return
        self.indicator(quote, True)
        self.column += len(text)
        self.write(text)
        self.indicator(quote, False)

    def literal(self, text: str) -> None:
        """``write_literal`` for text whose only line break is ``\\n`` (a literal
        block is only chosen for text without special characters)."""
        hints = ""
        if text[0] in " \n":
            hints += "2"
        if text[-1] != "\n":
            hints += "-"
        elif len(text) == 1 or text[-2] == "\n":
            hints += "+"
        self.indicator("|" + hints, True)
        if hints.endswith("+"):
            self.open_ended = True
        indent = " " * (self.indent or 0)
        body = text[:-1] if text.endswith("\n") else text
        self.write("\n")
        self.write("".join((indent + line if line else "") + "\n" for line in body.split("\n")))
        self.column = 0
        self.whitespace = self.indention = True

    def finish(self) -> str:
        # expect_document_end, then the stream end
        self.write_indent()
        if self.open_ended:
            self.indicator("...", True)
            self.write_indent()
        return "".join(self.out)


def _choose(requested: Optional[str], implicit_plain: bool, analysis: Analysis, simple_key: bool) -> str:
    """``Emitter.choose_scalar_style`` in block context."""
    if requested == '"':
        return '"'
    if (
        not requested
        and implicit_plain
        and not (simple_key and (analysis.empty or analysis.multiline))
        and analysis.allow_block_plain
    ):
        return ""
    if requested and requested in "|>" and not simple_key and analysis.allow_block:
        return requested
    if (not requested or requested == "'") and analysis.allow_single_quoted and not (simple_key and analysis.multiline):
        return "'"
    return '"'


def dumper(
    name: str,
    width: int,
    str_style: Callable[[str], Optional[str]],
    types: Optional[Mapping[type, Callable[[Any], Scalar]]] = None,
) -> Tuple[Any, BlockEmitter]:
    """An ``IndentedDumper`` subclass whose representers write ``str`` in the style
    ``str_style`` picks and ``types`` as they say, with the ``BlockEmitter`` that
    writes the same."""
    cls: Any = type(name, (IndentedDumper,), {"__doc__": "IndentedDumper with the styles of %s." % name})
    if HAVE_YAML:
        cls.add_representer(str, lambda d, value: d.represent_scalar(STR_TAG, value, style=str_style(value)))
        for kind, scalar in (types or {}).items():
            cls.add_representer(kind, lambda d, value, scalar=scalar: d.represent_scalar(*scalar(value)))
    return cls, BlockEmitter(width, str_style, types)


def dump(data: Any, dumper: Any, fast: BlockEmitter) -> str:
    """``data`` as ``yaml.dump`` with ``dumper`` writes it, through ``fast`` where it can."""
    text = fast.dump(data)
    if text is None:
        text = str(
            yaml.dump(
                data,
                Dumper=dumper,
                sort_keys=False,
                default_flow_style=False,
                allow_unicode=False,
                width=fast.width,
                indent=2,
            )
        )
    return text
