"""block_yaml writes PyYAML's bytes for the pipelines, playbooks, monitoring and Kubernetes dumpers.

BlockEmitter replaces PyYAML's pure-Python emitter for the first three (sequences
indented under their key, which libyaml cannot write) and PyYAML's representer and
serializer in front of libyaml's emitter for Kubernetes.  These tests hold it to
``yaml.dump`` with the same Dumper on random data, on data built to reach the
line-width folding, the tags, the keys PyYAML writes as ``? key`` and the kept block
ends, and on every example service; the scalar analysis and ``reads_back`` are
compared with PyYAML's own on random strings.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from yaml.emitter import Emitter

from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import Options
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import block_yaml
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import kubernetes_yaml as ky
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import monitoring_yaml as my
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import pipelines_yaml as py
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import playbooks_yaml as ay
from ansible_collections.sdd.devops_flow.plugins.module_utils.render.everything import render_all

EXAMPLES = Path(__file__).resolve().parents[5] / "examples" / "docs" / "07_REQ"

#: (PyYAML Dumper, the BlockEmitter that stands for it, width) of the dumpers that use one;
#: Kubernetes keeps PyYAML's indentless sequences
DUMPERS = {
    "pipelines": (py._Dumper, py._EMITTER, py.WIDTH),
    "monitoring": (my._Dumper, my._EMITTER, my.WIDTH),
    "playbooks": (ay._Dumper, ay._EMITTER, ay.WIDTH),
    "kubernetes": (ky._PyDumper, ky._EMITTER, ky.WIDTH),
}

_TRICKY = [
    "",
    " ",
    "a\nb\n",
    "a\nb",
    "x  \ny",
    " lead",
    "trail ",
    "a\n\n",
    "\n",
    "\n\nx",
    " \nx",
    "é",
    "#x",
    "a #b",
    "a#b",
    "- y",
    "-y",
    "-",
    "?",
    "? x",
    ":x",
    "a: b",
    "a:",
    "a:b",
    "{{ x }}",
    "'",
    "it's",
    '"q"',
    "back\\slash",
    "---",
    "...x",
    "yes",
    "No",
    "~",
    "null",
    "1",
    "0o17",
    "1e3",
    "1.5",
    "12:30",
    "2024-01-01",
    ".inf",
    "<<",
    "=",
    "tab\there",
    "cr\rx",
    "\x85",
    "\u2028",
    "\ufeff",
    "@at",
    "`x`",
    "%p",
    "a,b",
    "[x]",
    "a b  c",
    "x" * 130,
]
_WORDS = st.one_of(st.text(alphabet="ab", min_size=1, max_size=12), st.text(alphabet="ab -:#'\"\\\n", max_size=12))
#: long lines with spaces: they reach the playbooks' width of 110 columns
_LONG = st.lists(_WORDS, min_size=1, max_size=40).map(" ".join)
_SCALARS = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="ascii"), max_size=160),
    _LONG,
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(),
    st.sampled_from(_TRICKY),
    st.builds(ay.Unsafe, st.text(max_size=120)),
)
_KEYS = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\A[A-Za-z0-9_./@-]{1,40}\Z"),
    st.sampled_from(_TRICKY),
    st.integers(),
    st.booleans(),
    st.none(),
    st.text(alphabet="ab", min_size=118, max_size=130),
)


def _collections(children):
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=3).map(tuple),
        st.dictionaries(_KEYS, children, max_size=4),
    )


_DATA = _collections(st.recursive(_SCALARS, _collections, max_leaves=25))


def _pyyaml(name, data):
    dumper, _emitter, width = DUMPERS[name]
    return yaml.dump(
        data,
        Dumper=dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=False,
        width=width,
        indent=2,
    )


def _check(name, data):
    written = DUMPERS[name][1].dump(data)
    if written is not None:
        assert written == _pyyaml(name, data)
    return written is not None


@pytest.mark.parametrize("name", sorted(DUMPERS))
@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=_DATA)
@example(data={"a": ["x" * 60 + " " + "y" * 60]})
@example(data=[{"k": "a\n\n"}])
@example(data={"k": ["a\n\n", "b"]})
@example(data={"on": {"push": None}, "x": [[1, [2]], {}, [], ()]})
@example(data={"a" * 123: 1, "b" * 122: 2})
def test_writes_what_pyyaml_writes(name, data):
    _check(name, data)


@pytest.mark.parametrize("name", sorted(DUMPERS))
def test_most_data_is_written_without_pyyaml(name):
    """The comparison above is not vacuous: plain data takes the fast path."""
    data = {
        "name": "Deploy order-intake-api",
        "on": {"push": {"branches": ["main"]}},
        "steps": [{"run": "make test\nmake build\n"}, {"if": "x == 'y'", "n": [1, 2.5, True, None]}],
        "long": " ".join(["word"] * 40),
        "empty": [{}, []],
    }
    if name == "playbooks":
        data["unsafe"] = ay.Unsafe("{{ not a template }}")
    assert _check(name, data)


@pytest.mark.parametrize(
    "data",
    [
        {"": 1},
        {"a\nb": 1},
        {("tuple", "key"): 1},
        {"x" * 130: 1},
        {"set": {1, 2}},
        {"bytes": b"x"},
    ],
)
def test_what_it_does_not_write_is_left_to_pyyaml(data):
    assert py._EMITTER.dump(data) is None
    assert py._EMITTER.dump([data]) is None
    assert py.dump(data) == _pyyaml("pipelines", data)


def test_a_scalar_document_and_unknown_types_are_left_to_pyyaml():
    assert py._EMITTER.dump("scalar") is None
    assert py.dump("scalar") == _pyyaml("pipelines", "scalar")
    other = type("Str", (str,), {})("x")
    assert py._EMITTER.dump({"k": other}) is None
    with pytest.raises(yaml.representer.RepresenterError):
        py.dump({"k": other})


def test_strings_the_loader_cannot_build_are_quoted():
    # "0x_" resolves to an int that the constructor cannot build (a ValueError, not
    # a YAMLError): it does not read back, so it is quoted
    assert not block_yaml.reads_back("0x_")
    assert my.dump({"k": "0x_"}) == "k: '0x_'\n"


def _nested(depth, value, kind):
    for level in range(depth):
        value = {"k%d" % level: value} if (kind == "map" or (kind == "mixed" and level % 2)) else [value]
    return value


@pytest.mark.parametrize("name", sorted(DUMPERS))
def test_lines_that_reach_the_width(name):
    """PyYAML breaks plain and quoted scalars at a space past the width: every
    column a line can end at around the width, in every style, at many depths."""
    width = DUMPERS[name][2]
    narrow = width < 1000  # the same code at 4096 columns: a few sizes (PyYAML is slow there)
    texts = []
    for size in range(width - 30, width + 8) if narrow else range(width - 5, width + 3):
        for template in ("ab cd", "ab: c", "it's x", "a\tb", "a #b", "{{ x }}")[: 6 if narrow else 3]:
            text = (template * (size // len(template) + 1))[:size].rstrip() + "z"
            texts.extend([text, text.replace(" ", "  ")])
    checked = 0
    for depth in (0, 1, 2, 5, 9, 14) if narrow else (0, 3):
        for kind in ("map", "list", "mixed") if narrow else ("map", "list"):
            for text in texts if depth in (0, 3, 5, 14) else texts[::7]:
                checked += _check(name, _nested(depth, {"key": text, "list": [text], text[:100]: [text[:20]]}, kind))
    assert checked > len(texts)


def _analysis(text):
    found = Emitter(None, allow_unicode=False).analyze_scalar(text)
    return (found.empty, found.multiline, found.allow_block_plain, found.allow_single_quoted, found.allow_block)


@settings(max_examples=2000, deadline=None)
@given(st.one_of(st.text(max_size=30), st.text(alphabet="ab #:-?.,[]{}'\"!|>%@`\n\t\r\x85\u2028 é", max_size=12)))
@example("#")
@example("a #")
@example("a:")
@example("a: b")
@example("?")
@example("- ")
@example("---")
def test_scalar_analysis_is_pyyamls(text):
    ours = block_yaml.Analysis(text)
    assert (ours.empty, ours.multiline, ours.allow_block_plain, ours.allow_single_quoted, ours.allow_block) == (
        _analysis(text)
    )


def _loads_as_itself(value):
    try:
        return yaml.safe_load(value) == value
    except (yaml.YAMLError, ValueError):
        return False


_PLAIN_CHARS = "Aaz09/ _./@(),%+=-:#'x1e"


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.text(alphabet=_PLAIN_CHARS, max_size=16), st.text(max_size=8)))
def test_reads_back_is_what_the_loader_says(value):
    block_yaml._READS_BACK.clear()
    assert block_yaml.reads_back(value) == _loads_as_itself(value)


def test_reads_back_on_every_short_string_of_the_plain_characters():
    alphabet = "Aa0/ _.@(),%+=-19eEx:"
    for size in (1, 2, 3):
        for chars in itertools.product(alphabet, repeat=size):
            value = "".join(chars)
            block_yaml._READS_BACK.clear()
            assert block_yaml.reads_back(value) == _loads_as_itself(value), value


@pytest.mark.parametrize("req", sorted(p.name for p in EXAMPLES.glob("*.md")))
def test_examples_are_written_identically_without_the_fast_emitter(req, monkeypatch):
    model = load_model(req=str(EXAMPLES / req))
    fast = {f.path: f.content for f in render_all(model, Options(target="all"))}
    used = []
    original = block_yaml.BlockEmitter.dump

    def counted(self, data):
        text = original(self, data)
        used.append(text is not None)
        return text

    monkeypatch.setattr(block_yaml.BlockEmitter, "dump", counted)
    render_all(model, Options(target="all"))
    assert used and all(used), "every pipeline, playbook, monitoring and Kubernetes document takes the fast path"
    monkeypatch.setattr(block_yaml.BlockEmitter, "dump", lambda self, data: None)
    slow = {f.path: f.content for f in render_all(model, Options(target="all"))}
    assert fast == slow
