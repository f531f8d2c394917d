# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets for the security role: read, rotation age, written to one file.

A secret is read from AWS Secrets Manager (boto3), HashiCorp Vault (hvac, KV
version 1 or 2) or taken as a given value (an ansible-vault variable), checked
against the rotation period of 9.5.6 (``security.secrets.rotation_days``) and
written to one destination file.  Nothing in this module puts a secret's value
into a message, an exception or a returned structure other than the ``value``
of :class:`SecretRead` itself: callers decide where the value goes.

The clients are passed in (``client`` arguments), so the tests use fakes and
the module builds the real ones with :func:`aws_client` and :func:`vault_client`.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import tempfile
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Union

#: backend names the module accepts
BACKENDS = ("aws-secrets-manager", "vault", "value")

#: 9.5.6 store names (model ``security.secrets.store``) -> backend
STORE_BACKENDS = {
    "aws-secrets-manager": "aws-secrets-manager",
    "vault": "vault",
    "hashicorp-vault": "vault",
    "ansible-vault": "value",
}

_TIMESTAMP = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<fraction>\.\d+)?)?"
    r"\s*(?P<zone>Z|[+-]\d{2}:?\d{2})?$"
)


class SecretError(Exception):
    """A secret could not be read or written.  The message never holds the value."""


@dataclass
class SecretRead:
    """What a backend gave: the value (when asked for) and when it last changed."""

    value: Optional[bytes]
    last_changed: Optional[datetime.datetime]
    changed_from: str
    version: Optional[str] = None
    rotation_enabled: Optional[bool] = None
    rotation_interval_days: Optional[int] = None


def parse_time(text: Union[str, datetime.datetime, datetime.date, None]) -> Optional[datetime.datetime]:
    """A timestamp as Vault, AWS or a person writes it, in UTC (None when empty).

    Accepts ``2024-05-01``, ``2024-05-01T10:00:00Z`` and Vault's nanosecond
    ``2018-03-22T02:24:06.945319214Z``; a time without a zone is taken as UTC.
    """
    if text is None or text == "":
        return None
    if isinstance(text, datetime.datetime):
        return text if text.tzinfo else text.replace(tzinfo=datetime.timezone.utc)
    if isinstance(text, datetime.date):
        return datetime.datetime(text.year, text.month, text.day, tzinfo=datetime.timezone.utc)
    match = _TIMESTAMP.match(str(text).strip())
    if not match:
        raise SecretError("%r is not a date or time; expected YYYY-MM-DD or an ISO 8601 time" % (text,))
    clock = match.group("time") or "00:00:00"
    if clock.count(":") == 1:
        clock += ":00"
    fraction = (match.group("fraction") or ".0")[1:7].ljust(6, "0")
    zone = match.group("zone") or "Z"
    offset = datetime.timedelta(0)
    if zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if zone[0] == "-":
            offset = -offset
    try:
        stamp = datetime.datetime.strptime("%s %s.%s" % (match.group("date"), clock, fraction), "%Y-%m-%d %H:%M:%S.%f")
    except ValueError as exc:
        raise SecretError("%r is not a valid date or time: %s" % (text, exc)) from None
    return (stamp - offset).replace(tzinfo=datetime.timezone.utc)


def select_key(text: Union[str, bytes], key: Optional[str], name: str) -> bytes:
    """The secret itself, or one field of a JSON secret when ``key`` is given."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if not key:
        return raw
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SecretError("secret %s is not a JSON object, so it has no field %r" % (name, key)) from None
    if not isinstance(data, dict) or key not in data:
        raise SecretError("secret %s has no field %r" % (name, key))
    return _field(data[key])


def _field(item: Any) -> bytes:
    if isinstance(item, (dict, list)):
        return json.dumps(item, sort_keys=True).encode("utf-8")
    if isinstance(item, bytes):
        return item
    return str(item).encode("utf-8")


# --------------------------------------------------------------------------- AWS Secrets Manager


def aws_client(params: Mapping[str, Any]) -> Any:
    """A boto3 Secrets Manager client from the module's aws_* options."""
    try:
        import boto3
    except ImportError:
        raise SecretError(
            "boto3 is needed to read AWS Secrets Manager on the host that reads secrets "
            "(security_secrets_fetch_host); install it with: pip install boto3"
        ) from None
    session = boto3.session.Session(
        profile_name=params.get("aws_profile") or None,
        aws_access_key_id=params.get("aws_access_key_id") or None,
        aws_secret_access_key=params.get("aws_secret_access_key") or None,
        aws_session_token=params.get("aws_session_token") or None,
        region_name=params.get("aws_region") or None,
    )
    return session.client("secretsmanager", endpoint_url=params.get("aws_endpoint_url") or None)


def aws_read(client: Any, secret_id: str, want_value: bool, key: Optional[str]) -> SecretRead:
    """Metadata (DescribeSecret) and, when asked, the value (GetSecretValue)."""
    try:
        described = client.describe_secret(SecretId=secret_id)
    except Exception as exc:
        raise SecretError("AWS Secrets Manager: cannot describe %s: %s" % (secret_id, _aws_reason(exc))) from None
    rotated = parse_time(described.get("LastRotatedDate"))
    changed = parse_time(described.get("LastChangedDate"))
    created = parse_time(described.get("CreatedDate"))
    candidates = [(t, n) for t, n in ((rotated, "LastRotatedDate"), (changed, "LastChangedDate")) if t is not None]
    last: Optional[datetime.datetime] = created
    origin = "CreatedDate"
    if candidates:
        last, origin = max(candidates, key=lambda pair: pair[0])
    rules = described.get("RotationRules") or {}
    interval = rules.get("AutomaticallyAfterDays")
    version = None
    for version_id, stages in (described.get("VersionIdsToStages") or {}).items():
        if "AWSCURRENT" in stages:
            version = str(version_id)
    value: Optional[bytes] = None
    if want_value:
        try:
            answer = client.get_secret_value(SecretId=secret_id)
        except Exception as exc:
            raise SecretError("AWS Secrets Manager: cannot read %s: %s" % (secret_id, _aws_reason(exc))) from None
        if answer.get("SecretString") is not None:
            value = select_key(answer["SecretString"], key, secret_id)
        elif answer.get("SecretBinary") is not None:
            value = select_key(answer["SecretBinary"], key, secret_id)
        else:
            raise SecretError("AWS Secrets Manager: %s has no value" % secret_id)
        version = str(answer.get("VersionId") or version or "") or None
    return SecretRead(
        value=value,
        last_changed=last,
        changed_from=origin if last is not None else "",
        version=version,
        rotation_enabled=bool(described.get("RotationEnabled", False)),
        rotation_interval_days=int(interval) if interval is not None else None,
    )


def _aws_reason(exc: Exception) -> str:
    """An AWS error as ``Code: message`` (botocore's ClientError) or the exception's text."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error") or {}
        if error.get("Code"):
            return "%s: %s" % (error.get("Code"), error.get("Message", ""))
    return "%s: %s" % (type(exc).__name__, exc)


# --------------------------------------------------------------------------- HashiCorp Vault


def vault_client(params: Mapping[str, Any]) -> Any:
    """An authenticated hvac client from the module's vault_* options."""
    try:
        import hvac
    except ImportError:
        raise SecretError(
            "hvac is needed to read HashiCorp Vault on the host that reads secrets "
            "(security_secrets_fetch_host); install it with: pip install hvac"
        ) from None
    if not params.get("vault_url"):
        raise SecretError("vault_url is required to read HashiCorp Vault (or set VAULT_ADDR)")
    verify: Union[bool, str] = bool(params.get("vault_validate_certs", True))
    if verify and params.get("vault_ca_cert"):
        verify = str(params["vault_ca_cert"])
    client = hvac.Client(
        url=params["vault_url"],
        token=params.get("vault_token") or None,
        namespace=params.get("vault_namespace") or None,
        verify=verify,
    )
    try:
        if params.get("vault_auth") == "approle":
            client.auth.approle.login(role_id=params.get("vault_role_id"), secret_id=params.get("vault_secret_id"))
        authenticated = client.is_authenticated()
    except Exception as exc:
        raise SecretError("HashiCorp Vault at %s: cannot log in: %s" % (params["vault_url"], exc)) from None
    if not authenticated:
        raise SecretError("HashiCorp Vault at %s: the token or AppRole login was refused" % params["vault_url"])
    return client


def vault_read(client: Any, path: str, mount: str, kv_version: int, want_value: bool, key: Optional[str]) -> SecretRead:
    """KV version 2: the current version's time from the metadata; KV version 1 keeps no times."""
    try:
        if kv_version == 1:
            answer = client.secrets.kv.v1.read_secret(path=path, mount_point=mount)
            data = (answer or {}).get("data") or {}
            value = _vault_value(data, key, path) if want_value else None
            return SecretRead(value=value, last_changed=None, changed_from="")
        metadata = (client.secrets.kv.v2.read_secret_metadata(path=path, mount_point=mount) or {}).get("data") or {}
        current = str(metadata.get("current_version", ""))
        versions = metadata.get("versions") or {}
        created = (versions.get(current) or {}).get("created_time") or metadata.get("updated_time")
        value = None
        if want_value:
            answer = client.secrets.kv.v2.read_secret_version(
                path=path, mount_point=mount, raise_on_deleted_version=True
            )
            value = _vault_value(((answer or {}).get("data") or {}).get("data") or {}, key, path)
    except SecretError:
        raise
    except Exception as exc:
        raise SecretError("HashiCorp Vault: cannot read %s/%s: %s" % (mount, path, _vault_reason(exc))) from None
    return SecretRead(
        value=value,
        last_changed=parse_time(created),
        changed_from="metadata.versions[%s].created_time" % current if current else "metadata.updated_time",
        version=current or None,
    )


def _vault_value(data: Mapping[str, Any], key: Optional[str], path: str) -> bytes:
    if key:
        if key not in data:
            raise SecretError("secret %s has no field %r" % (path, key))
        return _field(data[key])
    if len(data) == 1:
        return _field(next(iter(data.values())))
    return json.dumps(dict(data), sort_keys=True).encode("utf-8")


def _vault_reason(exc: Exception) -> str:
    name = type(exc).__name__
    text = str(exc).strip()
    return "%s: %s" % (name, text) if text else name


# --------------------------------------------------------------------------- rotation


def rotation(read: SecretRead, rotation_days: Optional[int], now: Optional[datetime.datetime] = None) -> Dict[str, Any]:
    """The rotation check: age in days against the required period.

    ``status`` is pass (changed within the period), fail (older, a rotation
    schedule longer than the period, or an age that cannot be told), or
    not-applicable (no period required).
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    out: Dict[str, Any] = {
        "last_changed": read.last_changed.isoformat() if read.last_changed else None,
        "changed_from": read.changed_from,
        "age_days": None,
        "rotation_days": rotation_days,
        "rotation_enabled": read.rotation_enabled,
        "rotation_interval_days": read.rotation_interval_days,
    }
    if read.last_changed is not None:
        out["age_days"] = max(0, (now - read.last_changed).days)
    if not rotation_days:
        out["status"] = "not-applicable"
        out["evidence"] = "no rotation period is required (9.5.6 gives none)"
        return out
    if read.last_changed is None:
        out["status"] = "fail"
        out["evidence"] = (
            "the age cannot be told (the store keeps no change time); give rotated_on, the date of the last "
            "rotation, to check the %d-day period" % rotation_days
        )
        return out
    age = out["age_days"]
    parts = ["last changed %s (%s, %s days ago)" % (read.last_changed.date().isoformat(), read.changed_from, age)]
    status = "pass" if age <= rotation_days else "fail"
    if age > rotation_days:
        parts.append("older than the %d days 9.5.6 allows: rotate it" % rotation_days)
    else:
        parts.append("within the %d days 9.5.6 allows" % rotation_days)
    if read.rotation_enabled and read.rotation_interval_days and read.rotation_interval_days > rotation_days:
        status = "fail"
        parts.append(
            "automatic rotation every %d days is longer than the %d days required"
            % (read.rotation_interval_days, rotation_days)
        )
    elif read.rotation_enabled and read.rotation_interval_days:
        parts.append("automatic rotation every %d days" % read.rotation_interval_days)
    out["status"] = status
    out["evidence"] = "; ".join(parts)
    return out


# --------------------------------------------------------------------------- destination


def same_content(path: str, data: bytes) -> bool:
    """Whether ``path`` already holds exactly ``data``."""
    try:
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def write_atomic(path: str, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data``: a 0600 temporary file in the same folder, then a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise SecretError("the folder of %s does not exist" % path)
    handle, tmp = tempfile.mkstemp(prefix=".sdd-secret-", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise SecretError("cannot write %s: %s" % (path, exc.strerror or exc)) from None
