# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The document options shared by every module and plugin that reads documents."""

    DOCUMENTATION = r"""
options:
  req:
    description:
      - Path of the REQ document (Markdown).
      - A flat file that only holds C(@redirect) / C(@index:) is followed to the nested document.
      - Either O(req) or O(spec) is required.
    type: path
  spec:
    description:
      - Path of the SPEC document (YAML).
      - When omitted, the SPEC that the REQ names (or that has the REQ's number) is looked up under the docs root.
    type: path
  sys:
    description:
      - Path of the SYS document.
      - When omitted and the REQ has no section 9.5, the SYS document it names through an C(@sys) tag
        or its Source Document field is looked up under the docs root.
    type: path
  adr:
    description:
      - ADR documents that decide the cloud provider.
      - When omitted, the ADR named by C(@adr) in REQ 9.5.1 (or SYS 9.1) is used; a missing ADR file is a warning.
    type: list
    elements: path
  docs_root:
    description:
      - Folder that holds C(05_ADR), C(06_SYS), C(07_REQ) and C(09_SPEC).
      - Defaults to the parent of the REQ's C(NN_REQ) folder.
    type: path
  cloud:
    description:
      - Cloud provider. Overrides the provider the documents decide
        (ADR, then the C(CLOUD_PROVIDER) parameter of REQ 7.1, then service names).
    type: str
    choices: [aws, gcp, azure]
"""
