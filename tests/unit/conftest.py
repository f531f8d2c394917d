"""sys.path setup for the unit tests (fixtures live in other files).

Tests import the collection as ``ansible_collections.sdd.devops_flow...``. That
needs a folder on sys.path holding ``ansible_collections/sdd/devops_flow`` pointing
at this checkout:

* when the checkout already sits in such a tree (an installed collection, or the
  copy ansible-test uses), the folder above ``ansible_collections`` is used;
* otherwise ``.build/collections`` of the checkout, where ``make`` (and, when it is
  missing, this file) links ``ansible_collections/sdd/devops_flow`` to the checkout.

``make unit`` also puts ``.build/collections`` on PYTHONPATH; this file makes a
plain ``pytest tests/unit`` work too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NAMESPACE, NAME = "sdd", "devops_flow"


def _collections_root() -> Path:
    """Return the folder that holds ansible_collections/sdd/devops_flow for this checkout."""
    parts = REPO_ROOT.parts
    if len(parts) > 3 and parts[-3:] == ("ansible_collections", NAMESPACE, NAME):
        return REPO_ROOT.parents[2]

    root = REPO_ROOT / ".build" / "collections"
    link = root / "ansible_collections" / NAMESPACE / NAME
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():  # a dangling link
            link.unlink()
        os.symlink(os.path.join("..", "..", "..", ".."), link)
    return root


_root = str(_collections_root())
if _root not in sys.path:
    sys.path.insert(0, _root)
