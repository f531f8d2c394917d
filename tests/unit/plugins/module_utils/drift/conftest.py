"""Fixtures of the drift tests: the example models and the recorded API responses."""

from __future__ import annotations

from typing import Any

import pytest
from drift_recorded import EXAMPLES, Recorded, azure_routes, gcp_routes

from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model


@pytest.fixture
def gcp_recorded() -> Recorded:
    """Production of REQ-21 (catalog-search) on Google Cloud, as recorded."""
    return gcp_routes()


@pytest.fixture(scope="session")
def gcp_model() -> Any:
    return load_model(req=str(EXAMPLES / "REQ-21_catalog_search.md"))


@pytest.fixture
def azure_recorded() -> Recorded:
    """Production of REQ-102 (ledger-events) on Azure, as recorded."""
    return azure_routes()


@pytest.fixture(scope="session")
def azure_model() -> Any:
    return load_model(req=str(EXAMPLES / "REQ-102_ledger_events.md"))


@pytest.fixture(scope="session")
def aws_model() -> Any:
    return load_model(req=str(EXAMPLES / "REQ-14_order_intake_api.md"))
