"""The serialised model round-trips, and sources keep file and line."""

from __future__ import annotations

from pathlib import Path

from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.serialize import (
    model_from_dict,
    model_to_dict,
)

REPO = Path(__file__).resolve().parents[4]
EXAMPLES = REPO / "examples" / "docs"


def test_round_trip():
    for req in ("REQ-14_order_intake_api.md", "REQ-21_catalog_search.md", "REQ-102_ledger_events.md"):
        model = load_model(req=str(EXAMPLES / "07_REQ" / req))
        data = model_to_dict(model)
        again = model_from_dict(data)
        assert again == model
        assert model_to_dict(again) == data


def test_model_is_immutable():
    import dataclasses

    import pytest

    model = load_model(req=str(EXAMPLES / "07_REQ/REQ-14_order_intake_api.md"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.service.name = "x"  # type: ignore[misc]
    assert isinstance(model.environments, tuple)
    hash(model)
