"""libyaml's emitter is used for the data formats only where it writes PyYAML's bytes.

kubernetes_yaml.dump picks libyaml's emitter (several times faster) when
``_fast_emitter_writes_the_same`` says the data is of the kind where both emitters
agree; these tests hold it to that on random data and on every example service.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import Options
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import kubernetes_yaml as ky
from ansible_collections.sdd.devops_flow.plugins.module_utils.render.container import render_container
from ansible_collections.sdd.devops_flow.plugins.module_utils.render.kubernetes import render_k8s

EXAMPLES = Path(__file__).resolve().parents[5] / "examples" / "docs" / "07_REQ"

pytestmark = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml: one emitter only")

_SCALARS = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="ascii"), max_size=120),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.sampled_from(["a\nb\n", "x  \ny", " lead", "trail ", "a\n\n", "\n", "é", "#x", "- y", "a: b", "{{ x }}", "'"]),
)
_KEYS = st.one_of(st.text(min_size=1, max_size=12), st.from_regex(r"\A[A-Za-z0-9_./@-]{1,40}\Z"))


def _collections(children):
    return st.one_of(
        st.lists(children, min_size=1, max_size=4), st.dictionaries(_KEYS, children, min_size=1, max_size=4)
    )


_DATA = _collections(st.recursive(_SCALARS, _collections, max_leaves=20))


def _c_dump(data):
    return yaml.dump(
        data, Dumper=ky._Dumper, sort_keys=False, default_flow_style=False, allow_unicode=False, width=4096, indent=2
    )


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(_DATA)
def test_where_the_fast_emitter_is_chosen_it_writes_pythons_bytes(data):
    if ky._fast_emitter_writes_the_same(data):
        assert _c_dump(data) == ky.dump(data, pure=True)


def test_known_differences_take_the_pure_emitter():
    # libyaml writes an explicit "? " key for these and a "..." end after a kept block
    for data in ([{"": None}], [{"\r": None}], ["\n", ""]):
        assert not ky._fast_emitter_writes_the_same(data)
        assert ky.dump(data) == ky.dump(data, pure=True)


@pytest.mark.parametrize("req", sorted(p.name for p in EXAMPLES.glob("*.md")))
def test_examples_are_written_identically_by_both_emitters(req, monkeypatch):
    model = load_model(req=str(EXAMPLES / req))
    files = {}
    for renderer in (render_k8s, render_container):
        for file in renderer(model, Options(target="k8s")):
            files[file.path] = file.content
    monkeypatch.setattr(ky, "_Dumper", ky._PyDumper)
    for renderer in (render_k8s, render_container):
        for file in renderer(model, Options(target="k8s")):
            assert files[file.path] == file.content, file.path
