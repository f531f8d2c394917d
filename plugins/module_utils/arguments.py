# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One argument spec for the documents, shared by the modules, the action and
lookup plugins (Ansible argument specs) and the CLI (argparse options)."""

from __future__ import annotations

import argparse
import os
from typing import Any, Dict, Mapping, Optional

from .model import CLOUDS

#: Ansible-style argument spec of the document options.  ``cli`` is the
#: argparse help; everything else is what AnsibleModule understands.
DOCUMENT_OPTIONS: Dict[str, Dict[str, Any]] = {
    "req": {"type": "path", "cli": "REQ document (Markdown); a @redirect file is followed"},
    "spec": {"type": "path", "cli": "SPEC document (YAML)"},
    "sys": {
        "type": "path",
        "cli": "SYS document; by default found through the REQ's @sys tag or Source Document under the docs root",
    },
    "adr": {
        "type": "list",
        "elements": "path",
        "cli": "ADR document that decides the cloud (repeatable); by default the ADR named by @adr in 9.5.1",
    },
    "docs_root": {
        "type": "path",
        "cli": "folder holding 05_ADR, 06_SYS, 07_REQ, 09_SPEC (default: found from the REQ's path)",
    },
    "cloud": {"type": "str", "choices": list(CLOUDS), "cli": "cloud provider; overrides what the documents decide"},
}


def ansible_argument_spec(options: Optional[Mapping[str, Dict[str, Any]]] = None) -> Dict[str, Dict[str, Any]]:
    """The options (default: the document options) as an AnsibleModule ``argument_spec``."""
    spec: Dict[str, Dict[str, Any]] = {}
    for name, option in (DOCUMENT_OPTIONS if options is None else options).items():
        spec[name] = {k: v for k, v in option.items() if k != "cli"}
    return spec


def add_to_argparse(
    parser: argparse.ArgumentParser, options: Optional[Mapping[str, Dict[str, Any]]] = None, title: str = "documents"
) -> None:
    """Add the options (default: the document options) to an argparse parser
    (``docs_root`` becomes ``--docs-root``)."""
    group = parser.add_argument_group(title)
    for name, option in (DOCUMENT_OPTIONS if options is None else options).items():
        flag = "--" + name.replace("_", "-")
        kwargs: Dict[str, Any] = {"help": option.get("cli", ""), "dest": name}
        if option.get("choices"):
            kwargs["choices"] = option["choices"]
        if option.get("type") == "list":
            kwargs["action"] = "append"
            kwargs["metavar"] = "FILE" if option.get("elements") == "path" else "VALUE"
        elif option.get("type") == "bool":
            kwargs["action"] = "store_true"
        else:
            kwargs["metavar"] = {"path": "FILE", "str": None}.get(option.get("type", "str"))
            if name.endswith("root") or name == "output":
                kwargs["metavar"] = "DIR"
            if kwargs["metavar"] is None:
                del kwargs["metavar"]
        if option.get("default") is not None and option.get("type") != "bool":
            kwargs["default"] = option["default"]
        group.add_argument(flag, **kwargs)


def document_kwargs(params: Mapping[str, Any], base: Optional[str] = None) -> Dict[str, Any]:
    """``load_model`` keyword arguments from module/plugin params; relative paths are
    taken from ``base`` when given."""

    def resolve(path: Optional[str]) -> Optional[str]:
        if path is None or base is None or os.path.isabs(path):
            return path
        return os.path.join(base, path)

    adr = params.get("adr")
    return {
        "req": resolve(params.get("req")),
        "spec": resolve(params.get("spec")),
        "sys": resolve(params.get("sys")),
        "adr": [resolve(p) for p in adr] if adr else None,
        "docs_root": resolve(params.get("docs_root")),
        "cloud": params.get("cloud"),
    }
