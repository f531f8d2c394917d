"""backup_store: one interface over a folder, S3 (moto in-process), GCS and Azure Blob (faked SDK clients).

The GCS and Azure fakes implement the calls the stores make, with the SDKs' names and
argument shapes (google-cloud-storage: ``Client.list_blobs(bucket, prefix=)``,
``Client.bucket(name).blob(name)`` with ``upload_from_filename``, ``download_to_filename``,
``delete``, ``storage_class``; azure-storage-blob: ``ContainerClient.list_blobs(name_starts_with=)``,
``upload_blob(name, data, overwrite=, standard_blob_tier=)``, ``download_blob(name).readinto(f)``,
``delete_blob(name)``), and record every call, so the tests can assert what would be sent.
"""

from __future__ import annotations

import datetime
import os
from types import SimpleNamespace

import boto3
import moto
import pytest

from ansible_collections.sdd.devops_flow.plugins.module_utils import backup_store as stores

NOW = datetime.datetime(2025, 1, 31, 2, 0, tzinfo=datetime.timezone.utc)


class FakeGcsBlob:
    def __init__(self, client, bucket, name):
        self.client, self.bucket_name, self.name = client, bucket, name
        self.storage_class = None

    @property
    def size(self):
        return len(self.client.objects[(self.bucket_name, self.name)])

    updated = NOW

    def upload_from_filename(self, filename):
        self.client.calls.append(("upload", self.name, self.storage_class))
        with open(filename, "rb") as handle:
            self.client.objects[(self.bucket_name, self.name)] = handle.read()

    def download_to_filename(self, filename):
        if (self.bucket_name, self.name) not in self.client.objects:
            raise LookupError("404 No such object: %s" % self.name)
        with open(filename, "wb") as handle:
            handle.write(self.client.objects[(self.bucket_name, self.name)])

    def delete(self):
        self.client.calls.append(("delete", self.name))
        del self.client.objects[(self.bucket_name, self.name)]


class FakeGcsClient:
    def __init__(self):
        self.objects, self.calls = {}, []

    def bucket(self, name):
        return SimpleNamespace(blob=lambda key: FakeGcsBlob(self, name, key))

    def list_blobs(self, bucket, prefix=None):
        return [
            FakeGcsBlob(self, b, n) for (b, n) in sorted(self.objects) if b == bucket and n.startswith(prefix or "")
        ]


class FakeAzureContainer:
    def __init__(self):
        self.objects, self.calls = {}, []

    def list_blobs(self, name_starts_with=None):
        return [
            SimpleNamespace(name=n, size=len(d), last_modified=NOW)
            for n, d in sorted(self.objects.items())
            if n.startswith(name_starts_with or "")
        ]

    def upload_blob(self, name, data, overwrite=False, standard_blob_tier=None):
        self.calls.append(("upload", name, overwrite, standard_blob_tier))
        self.objects[name] = data.read()

    def download_blob(self, name):
        data = self.objects[name]
        return SimpleNamespace(readinto=lambda handle: handle.write(data))

    def delete_blob(self, name):
        self.calls.append(("delete", name))
        del self.objects[name]


def exercise(store, tmp_path):
    """The same life cycle on every store: put, list, get, bytes, delete."""
    source = tmp_path / "artifact"
    source.write_bytes(b"backup data" * 100)
    store.put_file(str(source), "svc/20250131T020000Z/files/a.tar.gz")
    store.put_bytes("svc/20250131T020000Z/manifest.json", b'{"ok": true}')
    store.put_bytes("other/20250131T020000Z/manifest.json", b"{}")
    listed = store.list("svc/")
    assert [o.key for o in listed] == ["svc/20250131T020000Z/files/a.tar.gz", "svc/20250131T020000Z/manifest.json"]
    assert listed[0].size == 1100 and listed[0].modified > 0
    store.get_file("svc/20250131T020000Z/files/a.tar.gz", str(tmp_path / "back"))
    assert (tmp_path / "back").read_bytes() == source.read_bytes()
    assert store.get_bytes("svc/20250131T020000Z/manifest.json") == b'{"ok": true}'
    store.delete([o.key for o in listed])
    assert store.list("svc/") == []
    assert [o.key for o in store.list("other/")] == ["other/20250131T020000Z/manifest.json"]


def test_local_store(tmp_path):
    store = stores.open_store({"type": "local", "path": str(tmp_path / "dest"), "prefix": "nightly"})
    exercise(store, tmp_path)
    assert store.describe() == "file://%s" % (tmp_path / "dest" / "nightly")
    # folders of deleted backups go too, files are private
    assert not (tmp_path / "dest" / "nightly" / "svc").exists()
    store.put_bytes("x/1/manifest.json", b"{}")
    assert oct(os.stat(tmp_path / "dest" / "nightly" / "x" / "1" / "manifest.json").st_mode & 0o777) == "0o600"
    with pytest.raises(stores.StoreError, match="leaves the destination"):
        store.put_bytes("../escape", b"")
    with pytest.raises(stores.StoreError, match="no object"):
        store.get_file("missing", str(tmp_path / "m"))


def test_s3_store_on_moto(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with moto.mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="bk-unit")
        store = stores.open_store(
            {"type": "s3", "bucket": "bk-unit", "prefix": "p/", "region": "us-east-1", "sse": "AES256"}
        )
        exercise(store, tmp_path)
        assert store.describe() == "s3://bk-unit/p (us-east-1)"
        store.put_bytes("svc/1/manifest.json", b"{}")
        head = boto3.client("s3", region_name="us-east-1").head_object(Bucket="bk-unit", Key="p/svc/1/manifest.json")
        assert head["ServerSideEncryption"] == "AES256"
        missing = stores.open_store({"type": "s3", "bucket": "nope", "region": "us-east-1"})
        with pytest.raises(stores.StoreError, match="cannot list"):
            missing.list("svc/")


def test_s3_store_takes_explicit_keys_and_endpoint(monkeypatch):
    seen = {}

    class Session:
        def __init__(self, **kwargs):
            seen["session"] = kwargs

        def client(self, service, **kwargs):
            seen["client"] = (service, kwargs)
            return object()

    monkeypatch.setattr(boto3.session, "Session", Session)
    store = stores.open_store(
        {
            "type": "s3",
            "bucket": "b",
            "region": "eu-west-1",
            "endpoint_url": "http://10.0.0.1:9000",
            "access_key": "AK",
            "secret_key": "SK",
        }
    )
    assert store.client is not None
    assert seen["session"] == {"aws_access_key_id": "AK", "aws_secret_access_key": "SK"}
    assert seen["client"] == ("s3", {"region_name": "eu-west-1", "endpoint_url": "http://10.0.0.1:9000"})
    assert "SK" not in str(store.public()) and "AK" not in str(store.public())


def test_gcs_store_with_a_faked_client(tmp_path):
    client = FakeGcsClient()
    store = stores.open_store(
        {"type": "gcs", "bucket": "bk", "prefix": "p", "storage_class": "NEARLINE"}, client=client
    )
    exercise(store, tmp_path)
    assert store.describe() == "gs://bk/p"
    assert ("upload", "p/svc/20250131T020000Z/files/a.tar.gz", "NEARLINE") in client.calls
    assert ("delete", "p/svc/20250131T020000Z/manifest.json") in client.calls
    with pytest.raises(stores.StoreError, match="cannot download"):
        store.get_file("missing", str(tmp_path / "m"))


def test_azure_store_with_a_faked_client(tmp_path):
    container = FakeAzureContainer()
    store = stores.open_store(
        {"type": "azure", "container": "bk", "account_url": "https://acct.blob.core.windows.net", "credential": "K"},
        client=container,
    )
    exercise(store, tmp_path)
    assert store.describe() == "https://acct.blob.core.windows.net/bk"
    assert container.calls[0] == ("upload", "svc/20250131T020000Z/files/a.tar.gz", True, None)
    assert "K" not in store.public().values()


def test_destination_specs_are_checked():
    with pytest.raises(stores.StoreError, match="unknown destination type"):
        stores.open_store({"type": "ftp"})
    with pytest.raises(stores.StoreError, match="needs a path"):
        stores.open_store({"type": "local"})
    with pytest.raises(stores.StoreError, match="needs a bucket"):
        stores.open_store({"type": "s3"})
    with pytest.raises(stores.StoreError, match="account_url or a connection_string"):
        stores.open_store({"type": "azure", "container": "c"})
