# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``infra`` target: picks the cloud and the IaC flavour, then the renderer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict, Tuple

from ..errors import UsageError
from ..fileset import FileSet
from ..model import Model

if TYPE_CHECKING:  # pragma: no cover
    from ..generate import Options

#: (iac, cloud) -> (module, function) under render/
RENDERERS: Dict[Tuple[str, str], Tuple[str, str]] = {
    ("terraform", "aws"): ("terraform_aws", "render"),
    ("terraform", "gcp"): ("terraform_gcp", "render"),
    ("terraform", "azure"): ("terraform_azure", "render"),
    ("cloudformation", "aws"): ("cloudformation", "render"),
    ("pulumi", "aws"): ("pulumi", "render"),
    ("pulumi", "gcp"): ("pulumi", "render"),
    ("pulumi", "azure"): ("pulumi", "render"),
}


def choose(model: Model, options: Options) -> Tuple[str, str]:
    """(iac, cloud) for a model and the user's options."""
    cloud = options.cloud or model.cloud.provider
    if cloud is None:
        raise UsageError(
            "no cloud provider could be determined from the documents; pass --cloud aws|gcp|azure (or the cloud option)"
        )
    iac = options.iac or model.iac_provider
    if iac not in ("terraform", "cloudformation", "pulumi"):
        iac = "terraform"
    if (iac, cloud) not in RENDERERS:
        raise UsageError("%s describes AWS only; the cloud is %s: use --iac terraform or --iac pulumi" % (iac, cloud))
    return iac, cloud


def render_infra(model: Model, options: Options) -> FileSet:
    import importlib

    iac, cloud = choose(model, options)
    module_name, function = RENDERERS[(iac, cloud)]
    module = importlib.import_module("%s.%s" % (__package__, module_name))
    renderer: Callable[[Model, str], FileSet] = getattr(module, function)
    return renderer(model, cloud)
