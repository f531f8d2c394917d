"""The Google Cloud drift check, with the real google-cloud-compute (REST transport),
google-cloud-storage and google-auth clients answering from recorded API responses.

The recorded project holds production of REQ-21 (catalog-search) as the generated
Terraform makes it: the VPC network and its deny rule, Cloud SQL, Memorystore, the
data and log buckets and the Cloud Run service, plus what must be ignored (a rule of
the default network, a bucket without the service's labels).
"""

from __future__ import annotations

from typing import Any, Dict

import pytest
from drift_recorded import GCP_PROJECT, Recorded, gcp_options

from ansible_collections.sdd.devops_flow.plugins.module_utils.drift import gcp
from ansible_collections.sdd.devops_flow.plugins.module_utils.drift.compare import DriftError
from ansible_collections.sdd.devops_flow.plugins.module_utils.drift.expected import expectation
from ansible_collections.sdd.devops_flow.plugins.module_utils.drift.run import check

COMPUTE = "compute.googleapis.com/compute/v1/projects/acme-shop/global"
SQL = "sqladmin.googleapis.com/v1/projects/acme-shop/instances"
RUN = "run.googleapis.com/v2/projects/acme-shop/locations/us-central1/services"
REDIS = "redis.googleapis.com/v1/projects/acme-shop/locations/us-central1/instances"
BUCKETS = "storage.googleapis.com/storage/v1/b"


def run_check(model: Any, recorded: Recorded) -> Dict[str, Any]:
    return check(model, "prod", options=gcp_options(recorded))


def changes(report: Dict[str, Any]) -> Dict[tuple, Dict[str, Any]]:
    return {(c["resource"], c["attribute"]): c for c in report["changed"]}


def test_no_drift_when_the_project_matches_the_documents(gcp_model: Any, gcp_recorded: Recorded) -> None:
    report = run_check(gcp_model, gcp_recorded)
    assert report["drift"] is False, report["summary"]
    assert report["cloud"] == "gcp" and report["region"] == "us-central1"
    assert report["summary"].startswith("catalog-search prod on gcp: no drift (7 resources")
    statuses = {c["resource"]: c["status"] for c in report["checked"]}
    assert statuses == {
        "network/catalog-search-prod": "ok",
        "firewall/catalog-search-prod-deny-ingress": "ok",
        "cloud_run_service/catalog-search-prod": "ok",
        "sql_instance/catalog-search-prod": "ok",
        "redis_instance/catalog-search-prod": "ok",
        "storage_bucket/catalog-sear-prod-acme-shop-data": "ok",
        "storage_bucket/catalog-sear-prod-acme-shop-logs": "ok",
    }
    # the rule of the default network and the unlabelled state bucket are not the service's
    assert report["extra"] == []
    assert report["skipped"] == ["the Pub/Sub topic and subscriptions are not compared"]
    # every API was asked through the SDKs, read calls only
    hosts = {call[1].split("/")[0] for call in gcp_recorded.calls}
    assert hosts == {
        "compute.googleapis.com",
        "storage.googleapis.com",
        "sqladmin.googleapis.com",
        "redis.googleapis.com",
        "run.googleapis.com",
    }
    assert {call[0] for call in gcp_recorded.calls} == {"GET"}
    storage_call = next(c for c in gcp_recorded.calls if c[1] == BUCKETS)
    assert "project=acme-shop" in storage_call[2]


def test_a_missing_database_is_reported_with_what_was_expected(gcp_model: Any, gcp_recorded: Recorded) -> None:
    gcp_recorded[SQL] = {"kind": "sql#instancesList"}
    report = run_check(gcp_model, gcp_recorded)
    assert report["drift"] is True
    assert [m["resource"] for m in report["missing"]] == ["sql_instance/catalog-search-prod"]
    missing = report["missing"][0]
    assert missing["address"] == "module.database.google_sql_database_instance.this"
    assert missing["expected"]["tier"] == "db-custom-2-8192"
    assert missing["expected"]["availability_type"] == "REGIONAL"
    assert missing["expected"]["database_version"] == "POSTGRES_15"
    assert report["changed"] == []
    assert "1 missing" in report["summary"] and "missing sql_instance/catalog-search-prod" in report["summary"]


def test_an_extra_open_port_on_the_network_is_reported(gcp_model: Any, gcp_recorded: Recorded) -> None:
    firewalls = gcp_recorded[COMPUTE + "/firewalls"]
    firewalls["items"].append(
        {
            "kind": "compute#firewall",
            "id": "7730012044153300112",
            "creationTimestamp": "2026-03-10T11:02:09.514-07:00",
            "name": "catalog-search-prod-allow-ssh",
            "description": "debugging",
            "network": "https://www.googleapis.com/compute/v1/projects/acme-shop/global/networks/catalog-search-prod",
            "priority": 1000,
            "sourceRanges": ["0.0.0.0/0"],
            "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}],
            "direction": "INGRESS",
            "logConfig": {"enable": False},
            "disabled": False,
            "selfLink": "https://www.googleapis.com/compute/v1/projects/acme-shop/global/firewalls/"
            "catalog-search-prod-allow-ssh",
        }
    )
    report = run_check(gcp_model, gcp_recorded)
    assert report["drift"] is True and report["missing"] == [] and report["changed"] == []
    assert len(report["extra"]) == 1
    extra = report["extra"][0]
    assert extra["resource"] == "firewall/catalog-search-prod-allow-ssh"
    assert extra["attributes"]["rules"] == ["tcp:22"]
    assert extra["attributes"]["source_ranges"] == ["0.0.0.0/0"]
    assert extra["attributes"]["action"] == "allow"
    assert extra["id"].endswith("/firewalls/catalog-search-prod-allow-ssh")


def test_an_opened_deny_rule_is_a_changed_attribute(gcp_model: Any, gcp_recorded: Recorded) -> None:
    rule = gcp_recorded[COMPUTE + "/firewalls"]["items"][0]
    rule.pop("denied")
    rule["allowed"] = [{"IPProtocol": "tcp", "ports": ["22", "8080-8090"]}]
    report = run_check(gcp_model, gcp_recorded)
    found = changes(report)
    action = found[("firewall/catalog-search-prod-deny-ingress", "action")]
    assert (action["expected"], action["actual"]) == ("deny", "allow")
    rules = found[("firewall/catalog-search-prod-deny-ingress", "rules")]
    assert rules["added"] == ["tcp:22,8080-8090"] and rules["removed"] == ["all"]


def test_a_bucket_that_lost_its_key_is_reported(gcp_model: Any, gcp_recorded: Recorded) -> None:
    bucket = gcp_recorded[BUCKETS]["items"][0]
    del bucket["encryption"]
    bucket["versioning"] = {"enabled": False}
    report = run_check(gcp_model, gcp_recorded)
    found = changes(report)
    assert set(found) == {
        ("storage_bucket/catalog-sear-prod-acme-shop-data", "customer_managed_key"),
        ("storage_bucket/catalog-sear-prod-acme-shop-data", "versioning"),
    }
    key = found[("storage_bucket/catalog-sear-prod-acme-shop-data", "customer_managed_key")]
    assert key["expected"] == "set" and key["actual"] is None and key["comparison"] == "present"
    assert key["field"] == "infrastructure.storage" and key["source"].endswith("SYS-05_search_platform.md:125")
    versioning = found[("storage_bucket/catalog-sear-prod-acme-shop-data", "versioning")]
    assert (versioning["expected"], versioning["actual"]) == (True, False)


def test_changed_sizes_are_reported_with_both_values(gcp_model: Any, gcp_recorded: Recorded) -> None:
    gcp_recorded[SQL]["items"][0]["settings"]["tier"] = "db-custom-1-3840"
    gcp_recorded[SQL]["items"][0]["settings"]["availabilityType"] = "ZONAL"
    gcp_recorded[SQL]["items"][0]["settings"]["dataDiskSizeGb"] = "80"  # grown by itself: fine
    gcp_recorded[REDIS]["instances"][0]["memorySizeGb"] = 1
    service = gcp_recorded[RUN]["services"][0]
    service["template"]["containers"][0]["resources"]["limits"]["memory"] = "1024Mi"
    service["template"]["scaling"]["maxInstanceCount"] = 4
    report = run_check(gcp_model, gcp_recorded)
    found = {key: (c["expected"], c["actual"]) for key, c in changes(report).items()}
    assert found == {
        ("sql_instance/catalog-search-prod", "tier"): ("db-custom-2-8192", "db-custom-1-3840"),
        ("sql_instance/catalog-search-prod", "availability_type"): ("REGIONAL", "ZONAL"),
        ("redis_instance/catalog-search-prod", "memory_size_gb"): (2, 1),
        ("cloud_run_service/catalog-search-prod", "memory"): ("2048Mi", "1024Mi"),
        ("cloud_run_service/catalog-search-prod", "max_instances"): (12, 4),
    }
    assert report["summary"].startswith("catalog-search prod on gcp: drift - 0 missing, 0 extra, 5 changed")


def test_a_refused_api_call_stops_the_check(gcp_model: Any, gcp_recorded: Recorded) -> None:
    gcp_recorded.fail(
        SQL,
        403,
        {"error": {"code": 403, "message": "Cloud SQL Admin API has not been used in project acme-shop"}},
    )
    with pytest.raises(DriftError, match=r"HTTP 403.*Cloud SQL Admin API"):
        run_check(gcp_model, gcp_recorded)


def test_the_project_comes_from_the_options_or_the_credentials(
    gcp_model: Any, gcp_recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.auth.credentials import AnonymousCredentials

    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.delenv("CLOUDSDK_CORE_PROJECT", raising=False)
    expect = expectation(gcp_model, "prod", "gcp")
    with pytest.raises(DriftError, match="set project"):
        gcp.GcpReader(expect, credentials=AnonymousCredentials())
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", GCP_PROJECT)
    assert gcp.GcpReader(expect, credentials=AnonymousCredentials()).project == GCP_PROJECT
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/credentials.json")
    with pytest.raises(DriftError, match="no Google Cloud credentials"):
        gcp.GcpReader(expect)


def test_a_missing_sdk_names_the_packages(gcp_model: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gcp, "HAS_GOOGLE", False)
    monkeypatch.setattr(gcp, "GOOGLE_IMPORT_ERROR", "No module named 'google.cloud.compute_v1'")
    with pytest.raises(DriftError, match="pip install google-cloud-compute google-cloud-storage"):
        gcp.GcpReader(expectation(gcp_model, "prod", "gcp"), project=GCP_PROJECT)
