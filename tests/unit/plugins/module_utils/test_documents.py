"""The bundled examples and the documents written by someone else parse to the right facts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.serialize import model_to_dict

REPO = Path(__file__).resolve().parents[4]
EXAMPLES = REPO / "examples" / "docs"
FOREIGN = REPO / "tests" / "fixtures" / "foreign"


def _env_table(model):
    return [(e.name, e.strategy, e.replicas, e.rollback_seconds) for e in model.environments]


def test_order_intake_api_aws_decided_by_adr():
    model = load_model(req=str(EXAMPLES / "07_REQ/REQ-14_order_intake_api.md"))
    assert model.service.name == "order-intake-api"
    assert model.traceability.spec == "SPEC-14"  # found under the docs root
    assert (model.cloud.provider, model.cloud.decided_by) == ("aws", "adr")
    assert model.sources["cloud.provider"].file.endswith("ADR-02_cloud_platform.md")
    assert model.iac_provider == "terraform" and model.deployment_tier == 2
    assert _env_table(model) == [
        ("dev", "manual", 1, None),
        ("staging", "blue-green", 2, 120),
        ("prod", "canary", 4, 300),
    ]
    assert model.environments[2].zones == ("us-east-1a", "us-east-1b", "us-east-1c")
    assert model.rollout.canary_steps == (5, 25, 50, 100) and model.rollout.hold_seconds == 600
    health = model.service.health
    assert (health.liveness, health.readiness, health.startup) == ("/health/live", "/health/ready", "/health/startup")
    assert (health.interval_seconds, health.timeout_seconds, health.failure_threshold) == (15, 3, 3)
    db = model.infrastructure.database
    assert (db.engine, db.version, db.storage_gb, db.ha) == ("postgresql", "15.5", 100, True)
    assert model.infrastructure.network.cidr == "10.20.0.0/16"
    assert model.infrastructure.cache.ttl_seconds == 86400
    assert model.infrastructure.queue.kind == "sqs"
    assert model.infrastructure.queue.retention_days == 4
    assert (model.backup.rpo_seconds, model.backup.rto_seconds) == (300, 1800)
    assert model.backup.retention_days == 14 and model.backup.frequency == "daily"
    assert model.service.ports == (8080,)
    assert [s.name for s in model.scripts.items] == [
        "setup.sh",
        "install.sh",
        "deploy.sh",
        "rollback.sh",
        "health-check.sh",
        "cleanup.sh",
    ]
    assert model.scripts.standards.log_file == "logs/deployment_YYYYMMDD_HHMMSS.log"
    assert model.playbooks.items[0].tags == ("infra", "provision")
    assert model.observability.tracing_sample_rate == 0.1
    assert model.security.tls.domain == "orders.api.example.com"
    assert model.cost.total_monthly_usd == 1080.0
    assert [f.name for f in model.service.feature_flags][:2] == [
        "STRICT_PRICE_REVALIDATION",
        "ASYNC_FULFILMENT_HANDOFF",
    ]
    assert "EARS.14.01.04" in model.traceability.element_ids
    assert model.traceability.tag_values("prd") == ("PRD.01.07.02",)
    assert model.traceability.tag_values("iac") == ("terraform/",)
    assert model.warnings == ()


def test_catalog_search_gcp_from_sys():
    model = load_model(req=str(EXAMPLES / "07_REQ/REQ-21_catalog_search.md"))
    assert model.traceability.sys == ("SYS-05",)
    assert (model.cloud.provider, model.cloud.decided_by) == ("gcp", "inference")
    assert _env_table(model) == [
        ("dev", "manual", 1, None),
        ("staging", "rolling", 2, 180),
        ("prod", "blue-green", 3, 120),
    ]
    assert model.environments[2].zones == ("us-central1-a", "us-central1-b", "us-central1-c")
    assert model.service.health.startup is None
    assert model.service.ports == (3000,)
    assert model.service.language == "node"
    assert model.infrastructure.compute.kind == "cloud-run"
    db = model.infrastructure.database
    assert (db.engine, db.version, db.storage_gb, db.ha) == ("postgresql", "15", 50, True)
    assert model.infrastructure.network.cidr == "10.30.0.0/16"
    assert model.playbooks.items == ()
    assert [s.name for s in model.scripts.items] == ["deploy.sh", "rollback.sh", "health-check.sh"]
    assert (model.backup.rpo_seconds, model.backup.rto_seconds) == (900, 3600)
    assert model.backup.cross_region is True
    assert model.rollout.canary_steps == ()
    assert model.sources["environments[0].name"].file.endswith("SYS-05_search_platform.md")


def test_ledger_events_azure_through_redirect():
    model = load_model(req=str(EXAMPLES / "07_REQ/REQ-102_ledger_events.md"))
    assert model.traceability.req == "REQ-102"
    assert (model.cloud.provider, model.cloud.decided_by) == ("azure", "parameter")
    assert _env_table(model) == [("dev", "manual", 1, None), ("staging", "canary", 2, 180), ("prod", "rolling", 3, 600)]
    assert model.rollout.canary_steps == (10, 50, 100) and model.rollout.hold_seconds == 900
    assert model.environments[2].zones == ("1", "2", "3")
    assert model.service.ports == (8080, 9090)
    assert model.service.scaling.max_replicas == 10
    assert model.infrastructure.database.service == "azure-database"
    assert model.infrastructure.database.ha is True
    assert model.infrastructure.network.cidr == "10.40.0.0/16"
    assert (model.backup.rpo_seconds, model.backup.rto_seconds) == (60, 900)
    assert model.cost.budgets == ()
    messages = [w.message for w in model.warnings]
    assert len(messages) == 2
    assert any("ADR-07" in m for m in messages)
    assert any(m.startswith("scaling max") and "REQ-102_ledger_events.md:" in m for m in messages)


def _foreign_sets():
    return sorted(p for p in FOREIGN.iterdir() if (p / "expected.yaml").is_file())


@pytest.mark.parametrize("folder", _foreign_sets(), ids=lambda p: p.name)
def test_documents_written_by_someone_else(folder: Path):
    expected = yaml.safe_load((folder / "expected.yaml").read_text())
    model = load_model(req=str(folder / expected["req"]), spec=str(folder / expected["spec"]))
    data = model_to_dict(model)
    assert data["cloud"]["provider"] == expected["cloud"]["provider"]
    assert data["cloud"]["decided_by"] == expected["cloud"]["decided_by"]
    assert data["service"]["ports"] == expected["service"]["ports"]
    for kind, path in expected["service"]["health"].items():
        assert data["service"]["health"][kind] == path, kind
    got_envs = [{k: e[k] for k in ("name", "strategy", "replicas", "rollback_seconds")} for e in data["environments"]]
    want_envs = [
        {k: e.get(k) for k in ("name", "strategy", "replicas", "rollback_seconds")} for e in expected["environments"]
    ]
    assert got_envs == want_envs
    for key, value in (expected["infrastructure"].get("database") or {}).items():
        assert data["infrastructure"]["database"][key] == value, key
    network = expected["infrastructure"].get("network") or {}
    got_network = data["infrastructure"]["network"] or {}
    assert got_network.get("cidr") == network.get("cidr")
    want_steps = (expected.get("rollout") or {}).get("canary_steps") or []
    assert data["rollout"]["canary_steps"] == want_steps
    for key, value in (expected.get("backup") or {}).items():
        assert data["backup"][key] == value, key
    # every expected warning is reported, and only as many as expected
    assert len(data["warnings"]) >= len(expected.get("warnings_expected") or [])
    # every value has a source that points into one of the documents
    for path, ref in data["sources"].items():
        assert ref == "default" or ref.startswith(("option",)) or ":" in ref, path
