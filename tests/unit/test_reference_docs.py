"""docs/reference/ is rendered from the collection's own documentation and kept current."""

from __future__ import annotations

import importlib.util
import io
import os
from contextlib import redirect_stdout

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load():
    spec = importlib.util.spec_from_file_location("reference_docs", os.path.join(ROOT, "scripts", "reference_docs.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_module_plugin_role_and_playbook_has_a_page():
    pages = load().render()
    expected = {"index.md"}
    modules = os.listdir(os.path.join(ROOT, "plugins", "modules"))
    expected |= {"modules/%s.md" % f[:-3] for f in modules if f.endswith(".py")}
    expected |= {"playbooks/%s.md" % f[:-4] for f in os.listdir(os.path.join(ROOT, "playbooks")) if f.endswith(".yml")}
    expected |= {"roles/%s.md" % r for r in os.listdir(os.path.join(ROOT, "roles"))}
    assert expected <= set(pages)
    index = pages["index.md"]
    for page in expected - {"index.md"}:
        assert "(%s)" % page in index, page


def test_option_tables_come_from_the_documentation():
    page = load().render()["modules/traffic_switch.md"]
    assert "| `backend` | str | Name of the HAProxy backend" in page
    assert "choices: `haproxy`, `nginx`" in page
    # documentation fragments are merged into the modules that extend them
    assert "| `req` | path |" in load().render()["modules/generate.md"]


def test_docs_reference_is_current():
    out = io.StringIO()
    with redirect_stdout(out):
        code = load().main(["--check"])
    assert code == 0, out.getvalue()[-4000:] + "\nrun: make docs"
