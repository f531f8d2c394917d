"""The spec lookup's field selection."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.sdd.devops_flow.plugins.lookup.spec import select

MODEL = {"service": {"health": {"liveness": "/live"}}, "environments": [{"name": "dev"}, {"name": "prod"}]}


def test_select_dotted_paths():
    assert select(MODEL, "service.health.liveness") == "/live"
    assert select(MODEL, "environments.1.name") == "prod"
    assert select(MODEL, "environments.-1.name") == "prod"


@pytest.mark.parametrize("field", ["service.nope", "environments.5", "environments.x"])
def test_select_missing_field(field):
    with pytest.raises(AnsibleLookupError, match="not found"):
        select(MODEL, field)
