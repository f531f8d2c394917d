"""Render docs/reference/ from the collection's own documentation.

Modules and plugins: their DOCUMENTATION / EXAMPLES / RETURN (documentation fragments merged,
filter docs from their .yml files); roles: meta/argument_specs.yml; playbooks: the comment
block at the top of each playbook. The pages are Markdown, one per item, and an index.

    python scripts/reference_docs.py            # write docs/reference/
    python scripts/reference_docs.py --check    # exit 1 when docs/reference/ is out of date

`make docs` runs the first, the unit tests run the second.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import re
import sys
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FQCN = "sdd.devops_flow"
OUT = os.path.join("docs", "reference")
HEADER = "<!-- Rendered by scripts/reference_docs.py from the collection's own documentation; do not edit. -->\n"


def _constants(path: str) -> Dict[str, str]:
    """Top-level string constants of a Python file (DOCUMENTATION, EXAMPLES, RETURN)."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), filename=path)
    found: Dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
                    found.setdefault(target.id, node.value.value)
    return found


def _fragment_options(name: str) -> Dict[str, Any]:
    short = name[len(FQCN) + 1 :]
    path = os.path.join(ROOT, "plugins", "doc_fragments", short + ".py")
    data = yaml.safe_load(_constants(path)["DOCUMENTATION"]) or {}
    return dict(data.get("options") or {})


def _markup(text: Any) -> str:
    """Ansible documentation markup to Markdown."""
    if isinstance(text, (list, tuple)):
        return " ".join(_markup(t) for t in text)
    value = str(text if text is not None else "")
    value = re.sub(r"\b[CVO]\(([^()]*)\)", r"`\1`", value)
    value = re.sub(r"\bM\(([^()]*)\)", r"`\1`", value)
    value = re.sub(r"\bI\(([^()]*)\)", r"*\1*", value)
    value = re.sub(r"\bB\(([^()]*)\)", r"**\1**", value)
    value = re.sub(r"\bU\(([^()]*)\)", r"<\1>", value)
    value = re.sub(r"\bL\(([^,()]*),\s*([^()]*)\)", r"[\1](\2)", value)
    return value.replace("|", "\\|").replace("\n", " ")


def _options_table(options: Mapping[str, Any], nested: str = "") -> List[str]:
    rows: List[str] = []
    for name in sorted(options):
        spec = options[name] or {}
        kind = spec.get("type", "str")
        if spec.get("elements"):
            kind += " of " + str(spec["elements"])
        details = []
        if spec.get("required"):
            details.append("**required**")
        if "default" in spec and spec["default"] not in (None, ""):
            details.append("default: `%s`" % (spec["default"],))
        if spec.get("choices"):
            details.append("choices: " + ", ".join("`%s`" % c for c in spec["choices"]))
        if spec.get("aliases"):
            details.append("aliases: " + ", ".join(spec["aliases"]))
        text = _markup(spec.get("description"))
        if details:
            text += " (" + "; ".join(details) + ")"
        rows.append("| `%s%s` | %s | %s |" % (nested, name, kind, text))
        if spec.get("options") or spec.get("suboptions"):
            rows.extend(_options_table(spec.get("options") or spec.get("suboptions"), nested + name + "."))
    return rows


def _returns_table(values: Mapping[str, Any], nested: str = "") -> List[str]:
    rows: List[str] = []
    for name in sorted(values or {}):
        spec = values[name] or {}
        rows.append(
            "| `%s%s` | %s | %s | %s |"
            % (nested, name, spec.get("type", ""), spec.get("returned", ""), _markup(spec.get("description")))
        )
        if spec.get("contains"):
            rows.extend(_returns_table(spec["contains"], nested + name + "."))
    return rows


def _plugin_page(kind: str, name: str, doc: Mapping[str, Any], examples: str, returns: Mapping[str, Any]) -> str:
    lines = [HEADER, "# %s.%s (%s)" % (FQCN, name, kind), "", _markup(doc.get("short_description")), ""]
    for paragraph in doc.get("description") or []:
        lines += [_markup(paragraph), ""]
    requirements = doc.get("requirements")
    if requirements:
        lines += ["Requirements: " + "; ".join(_markup(r) for r in requirements), ""]
    options = doc.get("options") or {}
    if options:
        lines += ["## Options", "", "| Option | Type | Description |", "|---|---|---|"]
        lines += _options_table(options) + [""]
    attributes = doc.get("attributes") or {}
    if attributes:
        lines += ["## Attributes", "", "| Attribute | Support | Description |", "|---|---|---|"]
        for attr in sorted(attributes):
            spec = attributes[attr] or {}
            lines.append("| %s | %s | %s |" % (attr, spec.get("support", ""), _markup(spec.get("description"))))
        lines.append("")
    if examples and examples.strip():
        lines += ["## Examples", "", "```yaml", examples.strip("\n"), "```", ""]
    if returns:
        lines += ["## Return values", "", "| Key | Type | Returned | Description |", "|---|---|---|---|"]
        lines += _returns_table(returns) + [""]
    return "\n".join(lines).rstrip() + "\n"


def _python_plugin(path: str) -> Tuple[Dict[str, Any], str, Dict[str, Any]]:
    found = _constants(path)
    doc = yaml.safe_load(found.get("DOCUMENTATION", "")) or {}
    options: Dict[str, Any] = {}
    for fragment in doc.get("extends_documentation_fragment") or []:
        if fragment.startswith(FQCN + "."):
            options.update(_fragment_options(fragment))
    options.update(doc.get("options") or {})
    doc["options"] = options
    returns = yaml.safe_load(found.get("RETURN", "")) or {}
    return doc, found.get("EXAMPLES", ""), returns


def _playbook_summary(path: str) -> Tuple[str, str]:
    """(first sentence, whole comment block) of a playbook's leading comments."""
    comment: List[str] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("---"):
                continue
            if not line.startswith("#"):
                break
            comment.append(line[1:].rstrip("\n")[1:] if line.startswith("# ") else line[1:].rstrip("\n"))
    text = "\n".join(comment).strip("\n")
    first = re.split(r"(?<=\.)\s", " ".join(text.split("\n\n")[0].split()), maxsplit=1)[0] if text else ""
    return first, text


def render() -> Dict[str, str]:
    """Relative path under docs/reference -> content."""
    pages: Dict[str, str] = {}
    index = [HEADER, "# %s reference" % FQCN, ""]
    index += [
        "Rendered from the documentation each module, plugin, role and playbook carries "
        "(`ansible-doc %s.<name>` shows the same for modules and plugins). "
        "Regenerate with `make docs`." % FQCN,
        "",
    ]

    modules = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "plugins", "modules")) if f.endswith(".py"))
    actions = {f[:-3] for f in os.listdir(os.path.join(ROOT, "plugins", "action")) if f.endswith(".py")}
    index += ["## Modules", "", "| Module | What it does |", "|---|---|"]
    for name in modules:
        doc, examples, returns = _python_plugin(os.path.join(ROOT, "plugins", "modules", name + ".py"))
        kind = "module, runs on the controller as an action plugin" if name in actions else "module"
        pages["modules/%s.md" % name] = _plugin_page(kind, name, doc, examples, returns)
        index.append("| [%s.%s](modules/%s.md) | %s |" % (FQCN, name, name, _markup(doc.get("short_description"))))
    index.append("")

    index += ["## Plugins", "", "| Plugin | Type | What it does |", "|---|---|---|"]
    for kind in ("lookup", "filter"):
        folder = os.path.join(ROOT, "plugins", kind)
        entries: List[Tuple[str, Dict[str, Any], str, Dict[str, Any]]] = []
        for file in sorted(os.listdir(folder)):
            path = os.path.join(folder, file)
            if file.endswith(".yml"):
                with open(path, encoding="utf-8") as handle:
                    data = yaml.safe_load(handle) or {}
                doc = data.get("DOCUMENTATION") or {}
                entries.append((doc.get("name", file[:-4]), doc, data.get("EXAMPLES", ""), data.get("RETURN") or {}))
            elif file.endswith(".py") and kind == "lookup":
                doc, examples, returns = _python_plugin(path)
                entries.append((doc.get("name", file[:-3]), doc, examples, returns))
        for name, doc, examples, returns in entries:
            pages["%s/%s.md" % (kind, name)] = _plugin_page(kind + " plugin", name, doc, examples, returns)
            index.append(
                "| [%s.%s](%s/%s.md) | %s | %s |"
                % (FQCN, name, kind, name, kind, _markup(doc.get("short_description")))
            )
    index.append("")

    index += ["## Roles", "", "| Role | Entry point | What it does |", "|---|---|---|"]
    for role in sorted(os.listdir(os.path.join(ROOT, "roles"))):
        path = os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as handle:
            specs = (yaml.safe_load(handle) or {}).get("argument_specs") or {}
        lines = [HEADER, "# %s.%s (role)" % (FQCN, role), ""]
        for entry, spec in specs.items():
            lines += ["## Entry point `%s`" % entry, "", _markup(spec.get("short_description")), ""]
            for paragraph in spec.get("description") or []:
                lines += [_markup(paragraph), ""]
            lines += ["| Variable | Type | Description |", "|---|---|---|"]
            lines += _options_table(spec.get("options") or {}) + [""]
            index.append(
                "| [%s.%s](roles/%s.md) | %s | %s |" % (FQCN, role, role, entry, _markup(spec.get("short_description")))
            )
        readme = os.path.join("roles", role, "README.md")
        if os.path.isfile(os.path.join(ROOT, readme)):
            lines += ["The role's README (../../../%s) has examples." % readme.replace(os.sep, "/"), ""]
        pages["roles/%s.md" % role] = "\n".join(lines).rstrip() + "\n"
    index.append("")

    index += ["## Playbooks", "", "| Playbook | What it does |", "|---|---|"]
    for file in sorted(os.listdir(os.path.join(ROOT, "playbooks"))):
        if not file.endswith((".yml", ".yaml")):
            continue
        name = file.rsplit(".", 1)[0]
        first, text = _playbook_summary(os.path.join(ROOT, "playbooks", file))
        pages["playbooks/%s.md" % name] = "\n".join(
            [HEADER, "# %s.%s (playbook)" % (FQCN, name), "", "```text", text, "```", ""]
        )
        index.append("| [%s.%s](playbooks/%s.md) | %s |" % (FQCN, name, name, _markup(first)))
    index.append("")
    pages["index.md"] = "\n".join(index).rstrip() + "\n"
    return pages


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/reference is out of date")
    args = parser.parse_args(argv)
    pages = render()
    out = os.path.join(ROOT, OUT)
    existing = {}
    if os.path.isdir(out):
        for folder, _dirs, names in os.walk(out):
            for file in names:
                path = os.path.join(folder, file)
                with open(path, encoding="utf-8") as handle:
                    existing[os.path.relpath(path, out).replace(os.sep, "/")] = handle.read()
    if args.check:
        stale = sorted(p for p in set(pages) | set(existing) if pages.get(p) != existing.get(p))
        for path in stale:
            sys.stdout.writelines(
                difflib.unified_diff(
                    (existing.get(path) or "").splitlines(True),
                    (pages.get(path) or "").splitlines(True),
                    "a/%s/%s" % (OUT, path),
                    "b/%s/%s" % (OUT, path),
                )
            )
        if stale:
            print("%s is out of date (%d page(s)); run: make docs" % (OUT, len(stale)))
            return 1
        return 0
    for path in set(existing) - set(pages):
        os.remove(os.path.join(out, path))
    for path, content in sorted(pages.items()):
        target = os.path.join(out, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if existing.get(path) != content:
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(content)
    print("%s: %d page(s)" % (OUT, len(pages)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
