# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The generate task, shared by the ``sdd.devops_flow.generate`` action plugin (on the
controller) and module (wherever it runs): arguments in, an Ansible result out."""

from __future__ import annotations

import os
from typing import Any, Dict, Mapping, Optional

from .arguments import DOCUMENT_OPTIONS, ansible_argument_spec, document_kwargs
from .errors import DevopsFlowError
from .generate import GENERATE_OPTIONS, TARGETS, WITHOUT_DOCUMENTS, Options, model_from_flags, run
from .loader import load_model, slugify


def argument_spec() -> Dict[str, Dict[str, Any]]:
    """The task's argument spec: target, the document options and the generation options."""
    spec = {"target": {"type": "str", "required": True, "choices": sorted(TARGETS)}}
    spec.update(ansible_argument_spec(DOCUMENT_OPTIONS))
    for name, option in GENERATE_OPTIONS.items():
        spec[name] = {k: v for k, v in option.items() if k not in ("cli", "targets", "flag")}
    return spec


def execute(params: Mapping[str, Any], check_mode: bool, diff: bool, base: Optional[str] = None) -> Dict[str, Any]:
    """Generate; the result has changed, files, findings, and diff when asked.

    Relative document and output paths are taken from ``base`` when given (the
    playbook folder for the action plugin).
    """
    plain: Dict[str, Any] = {k: (str(v) if isinstance(v, str) else v) for k, v in params.items()}
    try:
        if plain["target"] in WITHOUT_DOCUMENTS and not (plain.get("req") or plain.get("spec")):
            name = slugify(os.path.basename(os.path.abspath(base or os.getcwd()))) or "app"
            model = model_from_flags(name, plain.get("language"), plain.get("deploy_strategy"))
        else:
            model = load_model(iac=plain.get("iac"), **document_kwargs(plain, base))
        output = plain["output"]
        if base and not os.path.isabs(output):
            output = os.path.join(base, output)
        options = Options.from_params(plain["target"], plain)
        report = run(
            model,
            options,
            output,
            validate=bool(plain.get("validate", True)),
            force=bool(plain.get("force", False)),
            check_mode=check_mode,
        )
    except DevopsFlowError as exc:
        failure = exc.to_fail_kwargs()
        failure["failed"] = True
        return failure
    result: Dict[str, Any] = {
        "changed": report.changed,
        "output": report.output,
        "files": [c.to_dict() for c in report.changes],
        "findings": [f.to_dict() for f in report.findings],
        "warnings_found": [w.to_dict() for w in model.warnings],
        "notes": list(report.notes),
        "written": report.written,
    }
    if diff:
        result["diff"] = report.diffs()
    if report.refused:
        result["failed"] = True
        result["msg"] = (
            "%d file(s) were edited by hand or are not managed by sdd.devops_flow: %s; nothing was "
            "written (set force: true to overwrite, a backup is kept)"
            % (len(report.refused), ", ".join(c.path for c in report.refused))
        )
        result["diff"] = report.diffs()
    elif report.errors:
        result["failed"] = True
        result["msg"] = "validation found %d error(s); nothing was written: %s" % (
            len(report.errors),
            "; ".join(f.format() for f in report.errors[:5]),
        )
    else:
        verb = "would change" if check_mode else "changed"
        result["msg"] = "%d file(s) %s in %s" % (
            len([c for c in report.changes if c.status in ("created", "updated", "removed")]),
            verb,
            report.output,
        )
    return result
