# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Units as people write them in requirement documents.

Every parser here takes the text of a cell or a YAML scalar and returns a typed
value, ``None`` for "unset" (``N/A``, empty, ``TBD``, an unfilled template
placeholder), or raises ``UnitError`` whose message says what was expected.
"""

from __future__ import annotations

import re
from typing import Any, Optional, Tuple

__all__ = [
    "UnitError",
    "is_unset",
    "parse_bool",
    "parse_cpu_millicores",
    "parse_days",
    "parse_duration_seconds",
    "parse_int",
    "parse_latency_ms",
    "parse_memory_mib",
    "parse_money",
    "parse_percent",
    "parse_range",
    "parse_ratio",
    "parse_storage_gb",
    "parse_vcpu",
]


class UnitError(ValueError):
    """A value could not be read; the message says what was expected."""


_UNSET = {
    "",
    "n/a",
    "na",
    "n.a.",
    "none",
    "null",
    "-",
    "--",
    "—",
    "–",
    "tbd",
    "tba",
    "not applicable",
    "not set",
    "unset",
    "unknown",
    "~",
}

_NUM = r"(\d+(?:[.,]\d+)*(?:\.\d+)?)"


def _clean(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.replace("`", "").replace("**", "").replace("\u00a0", " ").strip()
    return text


def is_unset(value: Any) -> bool:
    """True for empty cells, ``N/A`` and unfilled template placeholders like ``[Region]``."""
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return False
    text = _clean(value).lower().rstrip(".")
    if text in _UNSET:
        return True
    # "[X minutes]" or "[Region]": a template cell nobody filled in.
    return bool(re.fullmatch(r"\[[^\]]*\]", text))


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def parse_int(value: Any, what: str = "a whole number") -> Optional[int]:
    """``3``, ``"3"``, ``"3 replicas"`` -> 3.  Negative numbers are rejected."""
    if isinstance(value, bool):
        raise UnitError("expected %s, got %r" % (what, value))
    if isinstance(value, int):
        if value < 0:
            raise UnitError("expected %s (0 or more), got %d" % (what, value))
        return value
    if isinstance(value, float):
        if value < 0 or value != int(value):
            raise UnitError("expected %s, got %s" % (what, value))
        return int(value)
    if is_unset(value):
        return None
    text = _clean(value)
    m = re.match(r"^\s*([+-]?)\s*(\d[\d,]*)\b", text)
    if not m:
        raise UnitError("expected %s, got %r" % (what, text))
    if m.group(1) == "-":
        raise UnitError("expected %s (0 or more), got %r" % (what, text))
    return int(m.group(2).replace(",", ""))


def parse_bool(value: Any) -> Optional[bool]:
    """yes/no, true/false, enabled/disabled, required/optional."""
    if isinstance(value, bool):
        return value
    if is_unset(value):
        return None
    text = _clean(value).lower()
    first = re.split(r"[\s,(;:]+", text, maxsplit=1)[0]
    if first in ("yes", "y", "true", "on", "enabled", "enable", "required", "1", "✅", "mandatory"):
        return True
    if first in ("no", "n", "false", "off", "disabled", "disable", "optional", "0", "❌", "none"):
        return False
    raise UnitError("expected yes or no, got %r" % _clean(value))


_MEM_FACTORS = {
    # to MiB
    "ki": 1.0 / 1024,
    "kib": 1.0 / 1024,
    "k": 1.0 / 1024,
    "kb": 1.0 / 1024,
    "mi": 1.0,
    "mib": 1.0,
    "m": 1.0,
    "mb": 1.0,
    "gi": 1024.0,
    "gib": 1024.0,
    "g": 1024.0,
    "gb": 1024.0,
    "ti": 1024.0 * 1024,
    "tib": 1024.0 * 1024,
    "t": 1024.0 * 1024,
    "tb": 1024.0 * 1024,
}


def parse_memory_mib(value: Any) -> Optional[int]:
    """Memory as MiB: ``4GB``, ``4 GiB``, ``512Mi``, ``512MB``, ``1.5G``.

    Documents write GB for memory meaning GiB (``4GB`` of RAM is 4096 MiB), as
    the clouds' own consoles do.  A bare number is taken as MiB when it is at
    least 64, else as GiB.
    """
    if isinstance(value, bool):
        raise UnitError("expected a memory size such as 512Mi or 4GB, got %r" % value)
    if isinstance(value, (int, float)):
        if value < 0:
            raise UnitError("expected a memory size of 0 or more, got %s" % value)
        return int(value) if value >= 64 else round(value * 1024)
    if is_unset(value):
        return None
    text = _clean(value)
    m = re.search(r"(-?\d+(?:\.\d+)?)\s*(kib|ki|kb|k|mib|mi|mb|m|gib|gi|gb|g|tib|ti|tb|t)\b", text, re.IGNORECASE)
    if m:
        amount = float(m.group(1))
        if amount < 0:
            raise UnitError("expected a memory size of 0 or more, got %r" % text)
        return round(amount * _MEM_FACTORS[m.group(2).lower()])
    m = re.fullmatch(r"(\d+(?:\.\d+)?)", text)
    if m:
        return parse_memory_mib(float(m.group(1)))
    raise UnitError("expected a memory size such as 512Mi, 2Gi or 4GB, got %r" % text)


_STORAGE_FACTORS = {
    "mb": 1.0 / 1024,
    "mib": 1.0 / 1024,
    "mi": 1.0 / 1024,
    "gb": 1.0,
    "gib": 1.0,
    "gi": 1.0,
    "g": 1.0,
    "tb": 1024.0,
    "tib": 1024.0,
    "ti": 1024.0,
    "t": 1024.0,
    "pb": 1024.0 * 1024,
    "pib": 1024.0 * 1024,
}


def parse_storage_gb(value: Any) -> Optional[int]:
    """Storage as whole GB: ``100GB``, ``1 TB``, ``500GiB``; a bare number is GB."""
    if isinstance(value, bool):
        raise UnitError("expected a storage size such as 100GB, got %r" % value)
    if isinstance(value, (int, float)):
        if value < 0:
            raise UnitError("expected a storage size of 0 or more, got %s" % value)
        return round(value)
    if is_unset(value):
        return None
    text = _clean(value)
    m = re.search(r"(-?\d+(?:\.\d+)?)\s*(mib|mi|mb|gib|gi|gb|g|tib|ti|tb|t|pib|pb)\b", text, re.IGNORECASE)
    if m:
        amount = float(m.group(1))
        if amount < 0:
            raise UnitError("expected a storage size of 0 or more, got %r" % text)
        return max(1, round(amount * _STORAGE_FACTORS[m.group(2).lower()]))
    m = re.fullmatch(r"(\d+(?:\.\d+)?)", text)
    if m:
        return round(float(m.group(1)))
    raise UnitError("expected a storage size such as 100GB or 1TB, got %r" % text)


def parse_cpu_millicores(value: Any) -> Optional[int]:
    """CPU as millicores: ``500m`` -> 500, ``2`` -> 2000, ``0.5 vCPU`` -> 500."""
    if isinstance(value, bool):
        raise UnitError("expected a CPU amount such as 500m or 2 vCPU, got %r" % value)
    if isinstance(value, (int, float)):
        if value < 0:
            raise UnitError("expected a CPU amount of 0 or more, got %s" % value)
        return round(value * 1000)
    if is_unset(value):
        return None
    text = _clean(value)
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*m", text)
    if m:
        amount = float(m.group(1))
        if amount < 0:
            raise UnitError("expected a CPU amount of 0 or more, got %r" % text)
        return round(amount)
    m = re.search(r"(-?\d+(?:\.\d+)?)\s*(?:v?cpus?|cores?|vcores?)?\b", text, re.IGNORECASE)
    if m and re.fullmatch(r"\s*-?\d+(?:\.\d+)?\s*(?:v?cpus?|cores?|vcores?)?\s*(?:\(.*\))?\s*", text, re.IGNORECASE):
        amount = float(m.group(1))
        if amount < 0:
            raise UnitError("expected a CPU amount of 0 or more, got %r" % text)
        return round(amount * 1000)
    raise UnitError("expected a CPU amount such as 500m, 2 or 2 vCPU, got %r" % text)


def parse_vcpu(value: Any) -> Optional[float]:
    """CPU as vCPU (float): ``2 vCPU`` -> 2.0, ``500m`` -> 0.5."""
    milli = parse_cpu_millicores(value)
    return None if milli is None else milli / 1000.0


_DURATION_UNITS = [
    (r"ms|msec|millis(?:econds?)?|milliseconds?", 0.001),
    (r"s|sec|secs|seconds?", 1),
    (r"m|min|mins|minutes?", 60),
    (r"h|hr|hrs|hours?", 3600),
    (r"d|days?", 86400),
    (r"w|wk|weeks?", 604800),
    (r"mo|months?", 2592000),
    (r"y|yr|years?", 31536000),
]


def _unit_factor(unit: str) -> Optional[float]:
    for pattern, factor in _DURATION_UNITS:
        if re.fullmatch(pattern, unit, re.IGNORECASE):
            return factor
    return None


def parse_duration_seconds(value: Any, default_unit: str = "s") -> Optional[int]:
    """``5 minutes``, ``< 2 min``, ``30s``, ``1h 30m``, ``1.5 hours``; ``instant`` -> 0.

    A bare number is in ``default_unit``.  When a range is given (``5-15 minutes``)
    the upper bound is taken: a budget must hold for the worst case.
    """
    if isinstance(value, bool):
        raise UnitError("expected a duration such as 5 minutes, got %r" % value)
    if isinstance(value, (int, float)):
        if value < 0:
            raise UnitError("expected a duration of 0 or more, got %s" % value)
        factor = _unit_factor(default_unit) or 1
        return round(value * factor)
    if is_unset(value):
        return None
    text = _clean(value)
    low = text.lower()
    if re.match(r"^(instant(ly|aneous)?|immediate(ly)?|zero|0)\b", low) and not re.match(r"^0\s*[a-z]", low):
        return 0
    if re.search(r"-\s*\d", low) and not re.search(r"\d\s*-\s*\d", low):
        raise UnitError("expected a duration of 0 or more, got %r" % text)
    # ranges: "5-15 minutes" -> the upper bound
    low = re.sub(r"(\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(\d+(?:\.\d+)?)", r"\2", low)
    total = 0.0
    found = False
    for m in re.finditer(r"(\d+(?:\.\d+)?)\s*([a-z]+)?", low):
        amount = float(m.group(1))
        unit = m.group(2) or ""
        unit_factor = _unit_factor(unit) if unit else _unit_factor(default_unit)
        if unit_factor is None:
            continue
        total += amount * unit_factor
        found = True
        # "1h 30m" keeps going; "5 minutes (p95)" stops at the first number with a unit
        if not re.match(r"\s*\d", low[m.end() :]):
            break
    if not found:
        raise UnitError("expected a duration such as 30s, 5 minutes or 1 hour, got %r" % text)
    return round(total)


def parse_days(value: Any) -> Optional[int]:
    """Days: ``30 days``, ``every 30 days``, ``90-day``, ``1 year`` -> 365, ``2 weeks`` -> 14."""
    if isinstance(value, bool):
        raise UnitError("expected a number of days, got %r" % value)
    if isinstance(value, (int, float)):
        if value < 0:
            raise UnitError("expected a number of days (0 or more), got %s" % value)
        return round(value)
    if is_unset(value):
        return None
    text = _clean(value).lower()
    m = re.search(r"(-?\d+(?:\.\d+)?)[\s-]*(days?|d|weeks?|w|months?|mo|years?|yrs?|y|hours?|h)?\b", text)
    if not m:
        if re.search(r"\b(daily|every day)\b", text):
            return 1
        if re.search(r"\bweekly\b", text):
            return 7
        if re.search(r"\bmonthly\b", text):
            return 30
        if re.search(r"\b(yearly|annual(ly)?)\b", text):
            return 365
        raise UnitError("expected a number of days such as 30 days, got %r" % _clean(value))
    amount = float(m.group(1))
    if amount < 0:
        raise UnitError("expected a number of days (0 or more), got %r" % _clean(value))
    unit = (m.group(2) or "d")[0:2]
    factor = {
        "da": 1,
        "d": 1,
        "we": 7,
        "w": 7,
        "mo": 30,
        "ye": 365,
        "yr": 365,
        "y": 365,
        "ho": 1.0 / 24,
        "h": 1.0 / 24,
    }.get(unit, 1)
    return max(0, round(amount * factor))


def parse_latency_ms(value: Any) -> Optional[float]:
    """``500ms`` -> 500, ``0.5s`` -> 500, ``< 200 ms`` -> 200, a bare number is ms."""
    if isinstance(value, bool):
        raise UnitError("expected a latency such as 200ms, got %r" % value)
    if isinstance(value, (int, float)):
        return float(value)
    if is_unset(value):
        return None
    text = _clean(value).lower()
    m = re.search(r"(\d+(?:\.\d+)?)\s*(ms|msec|milliseconds?|s|sec|secs|seconds?)?\b", text)
    if not m:
        raise UnitError("expected a latency such as 200ms or 0.5s, got %r" % _clean(value))
    amount = float(m.group(1))
    unit = m.group(2) or "ms"
    if unit.startswith("m"):
        return amount
    return amount * 1000.0


def parse_money(value: Any) -> Optional[float]:
    """``$200``, ``Monthly: $1,500``, ``USD 200``, ``200 USD/month``, ``€50`` -> float."""
    if isinstance(value, bool):
        raise UnitError("expected an amount such as $200, got %r" % value)
    if isinstance(value, (int, float)):
        return float(value)
    if is_unset(value):
        return None
    text = _clean(value)
    m = re.search(r"[$€£]\s*(\d[\d,]*(?:\.\d+)?)\s*([kK])?", text)
    if not m:
        m = re.search(r"(?:usd|eur|gbp)\s*(\d[\d,]*(?:\.\d+)?)\s*([kK])?", text, re.IGNORECASE)
    if not m:
        m = re.search(r"(\d[\d,]*(?:\.\d+)?)\s*([kK])?\s*(?:usd|eur|gbp|dollars?)\b", text, re.IGNORECASE)
    if not m:
        raise UnitError("expected an amount of money such as $200, got %r" % text)
    amount = float(m.group(1).replace(",", ""))
    if m.group(2):
        amount *= 1000
    return round(amount, 2)


def parse_percent(value: Any) -> Optional[float]:
    """``80%`` -> 80.0; ``Threshold: 80% ($160)`` -> 80.0; a bare number is a percent."""
    if isinstance(value, bool):
        raise UnitError("expected a percentage such as 80%%, got %r" % value)
    if isinstance(value, (int, float)):
        if value < 0:
            raise UnitError("expected a percentage of 0 or more, got %s" % value)
        return float(value)
    if is_unset(value):
        return None
    text = _clean(value)
    m = re.search(r"(-?\d+(?:\.\d+)?)\s*%", text)
    if not m:
        m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*(?:percent|pct)?\s*", text, re.IGNORECASE)
    if not m:
        raise UnitError("expected a percentage such as 80%%, got %r" % text)
    amount = float(m.group(1))
    if amount < 0:
        raise UnitError("expected a percentage of 0 or more, got %r" % text)
    return amount


def parse_ratio(value: Any) -> Optional[float]:
    """A fraction in [0, 1]: ``10%`` -> 0.1, ``0.1`` -> 0.1, ``1`` -> 1.0."""
    if isinstance(value, bool):
        raise UnitError("expected a rate such as 10%% or 0.1, got %r" % value)
    if isinstance(value, (int, float)):
        ratio = float(value)
    elif is_unset(value):
        return None
    else:
        text = _clean(value)
        if "%" in text:
            pct = parse_percent(text)
            ratio = (pct or 0.0) / 100.0
        else:
            m = re.search(r"(-?\d+(?:\.\d+)?)", text)
            if not m:
                raise UnitError("expected a rate such as 10%% or 0.1, got %r" % text)
            ratio = float(m.group(1))
            if ratio > 1:
                ratio = ratio / 100.0
    if ratio < 0 or ratio > 1:
        raise UnitError("expected a rate between 0 and 1 (or 0%% to 100%%), got %r" % value)
    return round(ratio, 6)


def parse_range(value: Any) -> Tuple[Optional[int], Optional[int]]:
    """``2-10``, ``2 to 10``, ``min 2, max 10``, ``3`` -> (min, max).

    ``10-2`` (min above max) and negative bounds raise ``UnitError``.
    """
    if isinstance(value, bool):
        raise UnitError("expected a range such as 2-10, got %r" % value)
    if isinstance(value, int):
        if value < 0:
            raise UnitError("expected a range of 0 or more, got %d" % value)
        return value, value
    if is_unset(value):
        return None, None
    text = _clean(value).lower()
    if re.search(r"(^|[\s(:,])-\s*\d", text):
        raise UnitError("expected a range of 0 or more such as 2-10, got %r" % _clean(value))
    m = re.search(r"(\d+)\s*(?:-|–|—|to|\.\.)\s*(\d+)", text)
    if m:
        low, high = int(m.group(1)), int(m.group(2))
    else:
        mn = re.search(r"min(?:imum)?\s*[:=]?\s*(\d+)", text)
        mx = re.search(r"max(?:imum)?\s*[:=]?\s*(\d+)", text)
        if mn or mx:
            lowest = int(mn.group(1)) if mn else None
            highest = int(mx.group(1)) if mx else None
            if lowest is not None and highest is not None and lowest > highest:
                raise UnitError("expected min <= max, got min %d above max %d" % (lowest, highest))
            return lowest, highest
        m = re.search(r"(\d+)", text)
        if not m:
            raise UnitError("expected a range such as 2-10, got %r" % _clean(value))
        number = int(m.group(1))
        if re.search(r"\bmax|up to|at most|concurren|\blimit|\bcap\b", text):
            return None, number
        if re.search(r"\bmin|at least", text):
            return number, None
        low = high = number
    if low > high:
        raise UnitError("expected min-max with min <= max (such as %d-%d), got %r" % (high, low, _clean(value)))
    return low, high
