# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``all`` target: every family in one tree, for one validation pass.

    terraform/ (or cloudformation/, pulumi/)   infrastructure
    .github/workflows/ (or the chosen system)  the pipeline
    Dockerfile, .dockerignore, compose.yaml    the container
    k8s/, helm/                                Kubernetes
    scripts/                                   deployment scripts
    ansible/                                   playbooks
    monitoring/                                Prometheus, Alertmanager, Grafana, OpenTelemetry
    docs/                                      runbook and traceability matrix (last: it lists the others)

A family that does not apply to the documents (for example a container for a
language without a Dockerfile template) is left out with the reason in
``FileSet.notes``; the others are still generated.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Dict, List, Tuple, Union

from ..errors import UsageError
from ..fileset import FileSet
from ..model import Model

if TYPE_CHECKING:  # pragma: no cover
    from ..generate import Options

#: (target, folder prefix) in the order they are rendered; docs comes last.
FAMILIES: Tuple[Tuple[str, str], ...] = (
    ("infra", ""),
    ("pipeline", ""),
    ("container", ""),
    ("k8s", ""),
    ("scripts", ""),
    ("playbooks", ""),
    ("monitoring", ""),
    ("docs", ""),
)

IAC_FOLDERS = {"terraform": "terraform", "cloudformation": "cloudformation", "pulumi": "pulumi"}


def render_all(model: Model, options: Options) -> FileSet:
    from ..generate import TARGETS
    from .infra import choose

    out = FileSet()
    notes: List[str] = []
    #: per family: its files as they are in the tree, or why it was left out
    rendered: Dict[str, Union[FileSet, str]] = {}
    for target, prefix in FAMILIES:
        spec = TARGETS[target]
        family_options = replace(options, target=target)
        if target == "infra":
            try:
                iac, _cloud = choose(model, family_options)
            except UsageError as exc:
                notes.append("infra: not generated: %s" % exc)
                rendered[target] = str(exc)
                continue
            prefix = IAC_FOLDERS[iac] + "/"
            family_options = replace(family_options, iac=iac)
        try:
            renderer = spec.renderer()
            # the documentation lists what the other families produced: it gets them
            extra = {"tree": out, "rendered": rendered} if target == "docs" else {}
            files = renderer(model, family_options, **extra)
        except UsageError as exc:
            notes.append("%s: not generated: %s" % (target, exc))
            rendered[target] = str(exc)
            continue
        placed = FileSet()
        placed.merge(files, prefix)
        rendered[target] = placed
        out.merge(placed)
    out.notes.extend(notes)
    return out
