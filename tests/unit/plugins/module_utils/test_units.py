"""Every unit rule of units.py: sizes, durations, money, percentages, ranges."""

from __future__ import annotations

import pytest

from ansible_collections.sdd.devops_flow.plugins.module_utils import units
from ansible_collections.sdd.devops_flow.plugins.module_utils.units import UnitError


@pytest.mark.parametrize("text", ["", "N/A", "n/a", "TBD", "-", "—", "[X minutes]", "[Region]", None, "  none "])
def test_unset_values(text):
    assert units.is_unset(text)
    assert units.parse_duration_seconds(text) is None
    assert units.parse_memory_mib(text) is None


@pytest.mark.parametrize(
    "text,mib",
    [
        ("4GB", 4096),
        ("4 GB", 4096),
        ("512Mi", 512),
        ("2Gi", 2048),
        ("512MB", 512),
        ("1.5G", 1536),
        ("Memory: 1GB", 1024),
        ("256", 256),
        (2, 2048),
        (1024, 1024),
    ],
)
def test_memory(text, mib):
    assert units.parse_memory_mib(text) == mib


@pytest.mark.parametrize(
    "text,gb", [("100GB", 100), ("1TB", 1024), ("500 GiB", 500), ("20", 20), (50, 50), ("512MB", 1)]
)
def test_storage(text, gb):
    assert units.parse_storage_gb(text) == gb


@pytest.mark.parametrize(
    "text,milli",
    [
        ("2000m", 2000),
        ("500m", 500),
        ("1", 1000),
        ("0.5", 500),
        ("2 vCPU", 2000),
        ("0.25 vCPU", 250),
        (2, 2000),
        ("4 cores", 4000),
    ],
)
def test_cpu(text, milli):
    assert units.parse_cpu_millicores(text) == milli
    assert units.parse_vcpu(text) == milli / 1000


@pytest.mark.parametrize(
    "text,seconds",
    [
        ("5 minutes", 300),
        ("< 2 min", 120),
        ("30s", 30),
        ("1 hour", 3600),
        ("1h 30m", 5400),
        ("Instant", 0),
        ("immediate", 0),
        ("300 seconds", 300),
        ("5-15 minutes", 900),
        ("2 hours", 7200),
        ("0 minutes", 0),
        ("≤ 4 hours", 14400),
    ],
)
def test_duration(text, seconds):
    assert units.parse_duration_seconds(text) == seconds


def test_duration_bare_number_uses_default_unit():
    assert units.parse_duration_seconds(5, default_unit="m") == 300
    assert units.parse_duration_seconds("45") == 45


@pytest.mark.parametrize(
    "text,days",
    [
        ("30 days", 30),
        ("every 30 days", 30),
        ("90-day", 90),
        ("1 year", 365),
        ("2 weeks", 14),
        ("daily", 1),
        ("Rotated: every 30 days", 30),
        (7, 7),
    ],
)
def test_days(text, days):
    assert units.parse_days(text) == days


@pytest.mark.parametrize(
    "text,amount",
    [
        ("$200", 200.0),
        ("Monthly: $1,500", 1500.0),
        ("USD 200", 200.0),
        ("200 USD/month", 200.0),
        ("$2k", 2000.0),
        ("€50.5", 50.5),
    ],
)
def test_money(text, amount):
    assert units.parse_money(text) == amount


@pytest.mark.parametrize("text,pct", [("80%", 80.0), ("Threshold: 80% ($160)", 80.0), ("50", 50.0), ("12.5 %", 12.5)])
def test_percent(text, pct):
    assert units.parse_percent(text) == pct


@pytest.mark.parametrize("text,ratio", [("10%", 0.1), ("0.1", 0.1), ("Sample rate: 5%", 0.05), (1, 1.0), ("25", 0.25)])
def test_ratio(text, ratio):
    assert units.parse_ratio(text) == ratio


@pytest.mark.parametrize(
    "text,rng",
    [
        ("2-10", (2, 10)),
        ("2 to 10 instances", (2, 10)),
        ("min 2, max 10", (2, 10)),
        ("3", (3, 3)),
        ("Scaling: 2-10 instances", (2, 10)),
        ("reserved concurrency 100", (None, 100)),
        ("at least 2", (2, None)),
    ],
)
def test_range(text, rng):
    assert units.parse_range(text) == rng


@pytest.mark.parametrize("text", ["10-2", "Scaling: 10-2", "min 5, max 2"])
def test_range_min_above_max_is_an_error(text):
    with pytest.raises(UnitError, match="min"):
        units.parse_range(text)


@pytest.mark.parametrize(
    "call,value",
    [
        (units.parse_int, -3),
        (units.parse_int, "-3"),
        (units.parse_range, "-2"),
        (units.parse_memory_mib, "-4GB"),
        (units.parse_duration_seconds, "-5 minutes"),
        (units.parse_storage_gb, -1),
        (units.parse_percent, "-5%"),
    ],
)
def test_negative_values_are_errors(call, value):
    with pytest.raises(UnitError, match=r"0 or more|expected"):
        call(value)


@pytest.mark.parametrize(
    "call,value",
    [
        (units.parse_memory_mib, "lots"),
        (units.parse_duration_seconds, "soon"),
        (units.parse_money, "cheap"),
        (units.parse_bool, "perhaps"),
        (units.parse_int, "many"),
        (units.parse_ratio, "150%"),
        (units.parse_cpu_millicores, "fast"),
    ],
)
def test_prose_where_a_number_was_expected_says_what_was_expected(call, value):
    with pytest.raises(UnitError, match="expected"):
        call(value)


@pytest.mark.parametrize(
    "text,value",
    [("yes", True), ("No", False), ("enabled", True), ("yes (multi-AZ)", True), ("false", False), (True, True)],
)
def test_bool(text, value):
    assert units.parse_bool(text) is value


@pytest.mark.parametrize(
    "text,ms", [("500ms", 500.0), ("0.5s", 500.0), ("< 200 ms", 200.0), ("2 seconds", 2000.0), (300, 300.0)]
)
def test_latency(text, ms):
    assert units.parse_latency_ms(text) == ms
