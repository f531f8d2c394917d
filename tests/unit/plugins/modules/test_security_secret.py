"""security_secret: AWS Secrets Manager (moto in the process), HashiCorp Vault (a faked hvac client) and
ansible-vault values; the rotation age against 9.5.6; the value only in its destination file."""

from __future__ import annotations

import datetime
import json
import sys
import types

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.sdd.devops_flow.plugins.module_utils import security_secrets
from ansible_collections.sdd.devops_flow.plugins.module_utils.security_secrets import (
    SecretError,
    SecretRead,
    parse_time,
    rotation,
)
from ansible_collections.sdd.devops_flow.plugins.modules import security_secret

VALUE = "s3cret-Value-9c2e41"
UTC = datetime.timezone.utc


def run(args, capsys, check=False, diff=True):
    with (
        patch_module_args(dict(args, _ansible_check_mode=check, _ansible_diff=diff)),
        pytest.raises(SystemExit) as exc,
    ):
        security_secret.main()
    out = capsys.readouterr().out
    return exc.value.code, json.loads(out), out


def days_ago(days):
    return datetime.datetime.now(UTC) - datetime.timedelta(days=days)


# --------------------------------------------------------------------------- times and rotation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01", datetime.datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024-05-01T10:00:00Z", datetime.datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01 10:00", datetime.datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2018-03-22T02:24:06.945319214Z", datetime.datetime(2018, 3, 22, 2, 24, 6, 945319, tzinfo=UTC)),
        ("2024-05-01T12:00:00+02:00", datetime.datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T05:30:00-0430", datetime.datetime(2024, 5, 1, 10, tzinfo=UTC)),
        (datetime.date(2024, 5, 1), datetime.datetime(2024, 5, 1, tzinfo=UTC)),
        (datetime.datetime(2024, 5, 1, 10), datetime.datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_parse_time(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "01/05/2024"])
def test_parse_time_refuses_what_is_not_a_date(text):
    with pytest.raises(SecretError):
        parse_time(text)


def test_rotation_within_and_beyond_the_period():
    now = datetime.datetime(2025, 3, 1, tzinfo=UTC)
    fresh = rotation(SecretRead(None, datetime.datetime(2025, 2, 20, tzinfo=UTC), "LastChangedDate"), 30, now)
    assert fresh["status"] == "pass" and fresh["age_days"] == 9
    assert "within the 30 days" in fresh["evidence"] and "LastChangedDate" in fresh["evidence"]
    old = rotation(SecretRead(None, datetime.datetime(2024, 12, 1, tzinfo=UTC), "rotated_on"), 30, now)
    assert old["status"] == "fail" and old["age_days"] == 90 and "older than the 30 days" in old["evidence"]
    # an automatic schedule longer than the period fails even when the value is fresh
    slow = SecretRead(None, datetime.datetime(2025, 2, 28, tzinfo=UTC), "LastRotatedDate", None, True, 90)
    result = rotation(slow, 30, now)
    assert result["status"] == "fail" and "every 90 days is longer" in result["evidence"]
    unknown = rotation(SecretRead(None, None, ""), 30, now)
    assert unknown["status"] == "fail" and "rotated_on" in unknown["evidence"]
    assert rotation(SecretRead(None, None, ""), None, now)["status"] == "not-applicable"


# --------------------------------------------------------------------------- ansible-vault values


def test_a_value_goes_to_its_file_only(tmp_path, capsys):
    dest = tmp_path / "api-token"
    args = {"name": "api-token", "backend": "value", "value": VALUE, "dest": str(dest), "rotation_days": 90}
    args["rotated_on"] = (datetime.date.today() - datetime.timedelta(days=10)).isoformat()
    code, result, out = run(args, capsys, check=True)
    assert code == 0 and result["changed"] and not dest.exists()
    assert VALUE not in out and "not shown" in result["diff"]["after"]
    code, result, out = run(args, capsys)
    assert code == 0 and result["changed"] and dest.read_text() == VALUE
    assert oct(dest.stat().st_mode & 0o777) == "0o600"
    assert VALUE not in out
    assert result["status"] == "pass" and result["age_days"] == 10 and result["changed_from"] == "rotated_on"
    code, result, out = run(args, capsys)
    assert code == 0 and not result["changed"]
    code, result, out = run(dict(args, mode="0400"), capsys)
    assert code == 0 and result["changed"] and oct(dest.stat().st_mode & 0o777) == "0o400"
    assert not [p for p in tmp_path.iterdir() if p.name != "api-token"]  # no temporary file left


def test_one_field_of_a_json_value(tmp_path, capsys):
    dest = tmp_path / "password"
    value = json.dumps({"username": "orders", "password": VALUE})
    args = {"backend": "value", "value": value, "key": "password", "dest": str(dest), "name": "db"}
    code, result, out = run(args, capsys)
    assert code == 0 and dest.read_text() == VALUE and VALUE not in out
    code, result, out = run(dict(args, key="missing"), capsys)
    assert code == 1 and "has no field 'missing'" in result["msg"] and VALUE not in out


def test_an_overdue_secret_fails_only_when_asked(tmp_path, capsys):
    args = {"backend": "value", "value": VALUE, "rotated_on": "2020-01-15", "rotation_days": 30, "name": "old"}
    code, result, out = run(args, capsys)
    assert code == 0 and result["status"] == "fail" and "older than the 30 days" in result["evidence"]
    code, result, out = run(dict(args, fail_on_overdue=True, dest=str(tmp_path / "old")), capsys)
    assert code == 1 and "secret old: last changed 2020-01-15" in result["msg"]
    assert (tmp_path / "old").read_text() == VALUE  # written first, then reported
    assert VALUE not in out


def test_return_value_is_only_given_when_asked(monkeypatch, capsys):
    fake = FakeSecretsManager({"CreatedDate": days_ago(1)}, {"SecretString": VALUE, "VersionId": "v1"})
    monkeypatch.setitem(security_secret.CLIENTS, "aws-secrets-manager", lambda params: fake)
    args = {"backend": "aws-secrets-manager", "secret_id": "x"}
    code, result, out = run(args, capsys)
    assert code == 0 and "value" not in result and VALUE not in out and fake.calls == [("describe", "x")]
    code, result, out = run(dict(args, return_value=True), capsys)
    assert code == 0 and result["value"] == VALUE
    # a value given as an option is a no_log option: Ansible masks it wherever it would appear
    code, result, out = run({"backend": "value", "value": VALUE, "return_value": True}, capsys)
    assert code == 0 and VALUE not in out


def test_settings_that_cannot_work(tmp_path, capsys):
    code, result, out = run({"backend": "value"}, capsys)
    assert code == 1 and "value is required" in result["msg"]
    code, result, out = run({"backend": "aws-secrets-manager"}, capsys)
    assert code == 1 and "secret_id is required" in result["msg"]
    code, result, out = run({"backend": "value", "value": VALUE, "mode": "rw"}, capsys)
    assert code == 1 and "octal" in result["msg"]
    code, result, out = run({"backend": "value", "value": VALUE, "dest": str(tmp_path / "no" / "file")}, capsys)
    assert code == 1 and "does not exist" in result["msg"] and VALUE not in out


# --------------------------------------------------------------------------- AWS Secrets Manager


@pytest.fixture
def aws(monkeypatch):
    moto = pytest.importorskip("moto")
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        import boto3

        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(Name="orders/prod/database", SecretString=json.dumps({"password": VALUE, "port": 5432}))
        yield client


def test_aws_secret_to_its_file(aws, tmp_path, capsys):
    dest = tmp_path / "database-password"
    args = {
        "name": "database",
        "backend": "aws-secrets-manager",
        "secret_id": "orders/prod/database",
        "key": "password",
        "aws_region": "us-east-1",
        "rotation_days": 30,
        "dest": str(dest),
    }
    code, result, out = run(args, capsys)
    assert code == 0 and result["changed"] and dest.read_text() == VALUE and VALUE not in out
    assert result["status"] == "pass" and result["age_days"] == 0 and result["version"]
    assert result["rotation_enabled"] is False
    code, result, out = run(args, capsys)
    assert code == 0 and not result["changed"]
    code, result, out = run(dict(args, key="port", dest=str(tmp_path / "port")), capsys)
    assert (tmp_path / "port").read_text() == "5432"


def test_aws_metadata_only_and_a_missing_secret(aws, capsys):
    code, result, out = run({"backend": "aws-secrets-manager", "secret_id": "orders/prod/database"}, capsys)
    assert code == 0 and not result["changed"] and result["status"] == "not-applicable" and VALUE not in out
    code, result, out = run({"backend": "aws-secrets-manager", "secret_id": "orders/prod/nothing"}, capsys)
    assert code == 1 and "ResourceNotFoundException" in result["msg"]


class FakeSecretsManager:
    """What DescribeSecret answers for a secret rotated long ago on a slow schedule."""

    def __init__(self, described, value=None):
        self.described, self.value, self.calls = described, value, []

    def describe_secret(self, SecretId):
        self.calls.append(("describe", SecretId))
        return self.described

    def get_secret_value(self, SecretId):
        self.calls.append(("get", SecretId))
        return self.value


def test_aws_age_comes_from_the_latest_change(monkeypatch, capsys):
    fake = FakeSecretsManager(
        {
            "CreatedDate": days_ago(400),
            "LastChangedDate": days_ago(45),
            "LastRotatedDate": days_ago(50),
            "RotationEnabled": True,
            "RotationRules": {"AutomaticallyAfterDays": 60},
            "VersionIdsToStages": {"v-old": ["AWSPREVIOUS"], "v-now": ["AWSCURRENT"]},
        }
    )
    monkeypatch.setitem(security_secret.CLIENTS, "aws-secrets-manager", lambda params: fake)
    code, result, _out = run({"backend": "aws-secrets-manager", "secret_id": "x", "rotation_days": 30}, capsys)
    assert code == 0 and result["status"] == "fail" and result["age_days"] == 45
    assert result["changed_from"] == "LastChangedDate" and result["version"] == "v-now"
    assert "every 60 days is longer than the 30 days" in result["evidence"]
    assert fake.calls == [("describe", "x")]  # no GetSecretValue without dest


def test_aws_binary_secret(monkeypatch, tmp_path, capsys):
    fake = FakeSecretsManager({"CreatedDate": days_ago(1)}, {"SecretBinary": VALUE.encode(), "VersionId": "v1"})
    monkeypatch.setitem(security_secret.CLIENTS, "aws-secrets-manager", lambda params: fake)
    dest = tmp_path / "blob"
    code, result, _out = run({"backend": "aws-secrets-manager", "secret_id": "x", "dest": str(dest)}, capsys)
    assert code == 0 and dest.read_bytes() == VALUE.encode() and result["changed_from"] == "CreatedDate"


def test_aws_client_without_boto3(monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(SecretError, match="boto3 is needed"):
        security_secrets.aws_client({})


# --------------------------------------------------------------------------- HashiCorp Vault (faked hvac)


class FakeKv:
    def __init__(self, store):
        self.store = store
        self.v1 = types.SimpleNamespace(read_secret=self.read_v1)
        self.v2 = types.SimpleNamespace(read_secret_metadata=self.metadata, read_secret_version=self.version)

    def read_v1(self, path, mount_point):
        if (mount_point, path) not in self.store:
            raise FakeInvalidPath("no secret at %s" % path)
        return {"data": self.store[(mount_point, path)]["data"]}

    def metadata(self, path, mount_point):
        if (mount_point, path) not in self.store:
            raise FakeInvalidPath("")
        entry = self.store[(mount_point, path)]
        return {"data": {"current_version": 3, "versions": {"3": {"created_time": entry["created"]}}}}

    def version(self, path, mount_point, raise_on_deleted_version):
        assert raise_on_deleted_version is True
        return {"data": {"data": self.store[(mount_point, path)]["data"]}}


class FakeInvalidPath(Exception):
    pass


class FakeVault:
    """The parts of hvac.Client the module uses."""

    def __init__(self, store, token_ok=True):
        self.secrets = types.SimpleNamespace(kv=FakeKv(store))
        self.token_ok = token_ok
        self.logins = []
        self.auth = types.SimpleNamespace(approle=types.SimpleNamespace(login=self.login))

    def login(self, role_id, secret_id):
        self.logins.append(role_id)
        self.token_ok = secret_id == "right"

    def is_authenticated(self):
        return self.token_ok


STORE = {
    ("secret", "orders/prod/partner-oauth"): {
        "data": {"client_id": "orders", "client_secret": VALUE},
        "created": (datetime.datetime.now(UTC) - datetime.timedelta(days=12)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    },
    ("kv1", "orders/prod/token"): {"data": {"token": VALUE}, "created": None},
}


@pytest.fixture
def vault(monkeypatch):
    fake = FakeVault(STORE)
    monkeypatch.setitem(security_secret.CLIENTS, "vault", lambda params: fake)
    return fake


def test_vault_kv2_field_to_its_file(vault, tmp_path, capsys):
    dest = tmp_path / "client-secret"
    args = {
        "backend": "vault",
        "secret_id": "orders/prod/partner-oauth",
        "key": "client_secret",
        "rotation_days": 30,
        "dest": str(dest),
    }
    code, result, out = run(args, capsys)
    assert code == 0 and dest.read_text() == VALUE and VALUE not in out
    assert result["status"] == "pass" and result["age_days"] == 12 and result["version"] == "3"
    assert result["changed_from"] == "metadata.versions[3].created_time"
    # the whole secret, several fields: a JSON object
    code, result, out = run(dict(args, key=None, dest=str(tmp_path / "all")), capsys)
    assert json.loads((tmp_path / "all").read_text()) == {"client_id": "orders", "client_secret": VALUE}


def test_vault_kv1_keeps_no_time(vault, tmp_path, capsys):
    args = {"backend": "vault", "secret_id": "orders/prod/token", "vault_mount": "kv1", "vault_kv_version": 1}
    args.update(rotation_days=30, dest=str(tmp_path / "token"))
    code, result, _out = run(args, capsys)
    assert code == 0 and (tmp_path / "token").read_text() == VALUE  # one field: its value
    assert result["status"] == "fail" and "give rotated_on" in result["evidence"]
    code, result, _out = run(dict(args, rotated_on="2099-01-01"), capsys)
    assert result["status"] == "pass" and result["changed_from"] == "rotated_on"


def test_vault_missing_secret(vault, capsys):
    code, result, _out = run({"backend": "vault", "secret_id": "orders/none"}, capsys)
    assert code == 1 and "cannot read secret/orders/none: FakeInvalidPath" in result["msg"]


def fake_hvac(monkeypatch, client):
    module = types.ModuleType("hvac")
    module.made = []

    def make(**kwargs):
        module.made.append(kwargs)
        return client

    module.Client = make
    monkeypatch.setitem(sys.modules, "hvac", module)
    return module


def test_vault_client_logs_in(monkeypatch):
    client = FakeVault(STORE, token_ok=False)
    hvac = fake_hvac(monkeypatch, client)
    params = {
        "vault_url": "https://vault:8200",
        "vault_auth": "approle",
        "vault_role_id": "r",
        "vault_secret_id": "right",
    }
    assert security_secrets.vault_client(params) is client and client.logins == ["r"]
    assert hvac.made[0]["url"] == "https://vault:8200" and hvac.made[0]["verify"] is True
    with pytest.raises(SecretError, match="was refused"):
        security_secrets.vault_client(dict(params, vault_secret_id="wrong"))
    params = {"vault_url": "https://vault:8200", "vault_token": "t", "vault_ca_cert": "/etc/ca.pem"}
    client.token_ok = True
    security_secrets.vault_client(params)
    assert hvac.made[-1]["verify"] == "/etc/ca.pem" and hvac.made[-1]["token"] == "t"


def test_vault_client_needs_an_address_and_hvac(monkeypatch):
    fake_hvac(monkeypatch, FakeVault(STORE))
    with pytest.raises(SecretError, match="vault_url is required"):
        security_secrets.vault_client({})
    monkeypatch.setitem(sys.modules, "hvac", None)
    with pytest.raises(SecretError, match="hvac is needed"):
        security_secrets.vault_client({"vault_url": "https://vault:8200"})
