"""compare: how attributes are compared, how resources are matched, and the report."""

from __future__ import annotations

import pytest

from ansible_collections.sdd.devops_flow.plugins.module_utils.drift.compare import (
    ActualResource,
    Expectation,
    ExpectedResource,
    Observation,
    Want,
    compare,
    same,
    summary,
)


@pytest.mark.parametrize(
    ("want", "actual", "ok"),
    [
        (Want(2048), 2048, True),
        (Want(2048), "2048", True),  # APIs give int64 values as strings
        (Want("2"), "2", True),
        (Want(1.0), 1, True),
        (Want(True), True, True),
        (Want(True), 1, False),
        (Want(False), None, False),
        (Want(None), None, True),
        (Want(["b", "a"], "set"), ["a", "b"], True),
        (Want(["a"], "set"), ["a", "b"], False),
        (Want([], "set"), None, True),
        (Want(100, "at_least"), 120, True),
        (Want(100, "at_least"), 80, False),
        (Want(100, "at_least"), None, False),
        (Want("15", "version"), "15.5", True),
        (Want("15", "version"), "16.1", False),
        (Want("7.1", "version"), "7.1.0", True),
        (Want("7.1", "version"), "7.10", False),
        (Want("16", "version"), None, False),
        (Want(True, "present"), "projects/p/keys/k", True),
        (Want(True, "present"), None, False),
        (Want(False, "present"), None, True),
        (Want(False, "present"), "key", False),
    ],
)
def test_comparisons(want: Want, actual: object, ok: bool) -> None:
    assert same(want, actual) is ok


def _expectation() -> Expectation:
    return Expectation(
        cloud="aws",
        environment="prod",
        service="svc",
        region="us-east-1",
        scope={"Project": "svc", "Environment": "prod"},
        resources=[
            ExpectedResource("security_group", "svc-prod-alb", {"ingress": Want(["tcp 443 from 0.0.0.0/0"], "set")}),
            ExpectedResource(
                "s3_bucket",
                "svc-prod-<account-id>-data",
                {"encryption": Want("aws:kms", field="infrastructure.storage")},
                "module.storage.aws_s3_bucket.this",
                pattern=r"svc-prod-\d{12}-data",
            ),
            ExpectedResource("db_instance", "svc-prod", {"multi_az": Want(True)}),
        ],
        kinds=("security_group", "s3_bucket", "db_instance"),
    )


def test_a_report_with_every_kind_of_difference() -> None:
    observed = Observation(
        resources=[
            ActualResource(
                "security_group", "svc-prod-alb", {"ingress": ["tcp 443 from 0.0.0.0/0", "tcp 22 from 0.0.0.0/0"]}
            ),
            ActualResource("s3_bucket", "svc-prod-123456789012-data", {"encryption": None}, "arn:aws:s3:::x"),
            ActualResource("security_group", "svc-prod-debug", {"ingress": []}, "sg-1"),
            ActualResource("vpc", "not-a-listed-kind", {}),
        ]
    )
    report = compare(_expectation(), observed)
    assert report["drift"] is True
    assert [m["resource"] for m in report["missing"]] == ["db_instance/svc-prod"]
    assert report["missing"][0]["expected"] == {"multi_az": True}
    assert [e["resource"] for e in report["extra"]] == ["security_group/svc-prod-debug"]
    changed = {(c["resource"], c["attribute"]): c for c in report["changed"]}
    port = changed[("security_group/svc-prod-alb", "ingress")]
    assert port["added"] == ["tcp 22 from 0.0.0.0/0"] and port["removed"] == []
    bucket = changed[("s3_bucket/svc-prod-123456789012-data", "encryption")]
    assert bucket["expected"] == "aws:kms" and bucket["actual"] is None and bucket["field"] == "infrastructure.storage"
    assert bucket["address"] == "module.storage.aws_s3_bucket.this"
    statuses = [(c["resource"], c["status"]) for c in report["checked"]]
    assert statuses == [
        ("security_group/svc-prod-alb", "changed"),
        ("s3_bucket/svc-prod-<account-id>-data", "changed"),
        ("db_instance/svc-prod", "missing"),
    ]
    assert report["summary"] == (
        "svc prod on aws: drift - 1 missing, 1 extra, 2 changed: missing db_instance/svc-prod; "
        "extra security_group/svc-prod-debug; security_group/svc-prod-alb ingress +tcp 22 from 0.0.0.0/0; "
        "s3_bucket/svc-prod-123456789012-data encryption expected aws:kms, actual none"
    )


def test_no_drift_summary_counts_what_was_compared() -> None:
    observed = Observation(
        resources=[
            ActualResource("security_group", "svc-prod-alb", {"ingress": ["tcp 443 from 0.0.0.0/0"]}),
            ActualResource("s3_bucket", "svc-prod-123456789012-data", {"encryption": "aws:kms"}),
            ActualResource("db_instance", "svc-prod", {"multi_az": True}),
        ],
        skipped=["something the reader could not read"],
    )
    report = compare(_expectation(), observed)
    assert report["drift"] is False
    assert report["summary"] == "svc prod on aws: no drift (3 resources, 3 attributes compared)"
    assert report["skipped"] == ["something the reader could not read"]


def test_a_long_summary_is_cut() -> None:
    report = {
        "service": "svc",
        "environment": "prod",
        "cloud": "aws",
        "drift": True,
        "checked": [],
        "missing": [{"resource": "db_instance/x%d" % i} for i in range(9)],
        "extra": [],
        "changed": [],
    }
    text = summary(report)
    assert text.endswith("; ...") and text.count("missing db_instance") == 6
