# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where backups are kept: a local (or mounted) folder, S3, Google Cloud Storage, Azure Blob.

Every store offers the same small interface on keys relative to its prefix
(``<service>/<backup id>/<artifact>``): list, put a file, get a file, put and get
bytes, delete. The SDK clients are created lazily and can be passed in, which is how
the unit tests drive the GCS and Azure paths with recorded fakes.

Runs on the managed host under Python 3.9+, with no Ansible import.
"""

from __future__ import annotations

import abc
import datetime
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional


class StoreError(Exception):
    """A destination could not be read or written."""


@dataclass(frozen=True)
class StoredObject:
    key: str  # relative to the store's prefix
    size: int
    modified: float  # seconds since the epoch


def _join(prefix: str, key: str) -> str:
    prefix = prefix.strip("/")
    return "%s/%s" % (prefix, key) if prefix else key


def _strip(prefix: str, full: str) -> str:
    prefix = prefix.strip("/")
    return full[len(prefix) + 1 :] if prefix and full.startswith(prefix + "/") else full


def _epoch(value: Any) -> float:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return float(value.timestamp())
    return float(value or 0)


class Store(abc.ABC):
    """A destination: the four storage operations each kind implements, and what is built on them."""

    kind = "abstract"

    def __init__(self, spec: Dict[str, Any]) -> None:
        self.spec = spec
        self.name = str(spec.get("name") or spec.get("type") or self.kind)
        self.prefix = str(spec.get("prefix") or "").strip("/")

    @abc.abstractmethod
    def describe(self) -> str:
        """A one-line name of the destination for messages (no credentials)."""

    @abc.abstractmethod
    def list(self, prefix: str) -> List[StoredObject]:
        """The objects under ``prefix``."""

    @abc.abstractmethod
    def put_file(self, path: str, key: str) -> None:
        """Store the local file ``path`` as ``key``."""

    @abc.abstractmethod
    def get_file(self, key: str, path: str) -> None:
        """Fetch ``key`` into the local file ``path``."""

    def put_bytes(self, key: str, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".sdd-backup-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            self.put_file(tmp, key)
        finally:
            os.unlink(tmp)

    def get_bytes(self, key: str) -> bytes:
        fd, tmp = tempfile.mkstemp(prefix=".sdd-backup-")
        os.close(fd)
        try:
            self.get_file(key, tmp)
            with open(tmp, "rb") as handle:
                return handle.read()
        finally:
            os.unlink(tmp)

    @abc.abstractmethod
    def delete(self, keys: Iterable[str]) -> None:
        """Remove ``keys``."""

    def public(self) -> Dict[str, Any]:
        """The destination without credentials, for manifests and results."""
        secret = {"access_key", "secret_key", "session_token", "connection_string", "credential"}
        return {k: v for k, v in sorted(self.spec.items()) if v not in (None, "", []) and k not in secret}


class LocalStore(Store):
    """A folder on the host (local disk, NFS or any mounted file system)."""

    kind = "local"

    def __init__(self, spec: Dict[str, Any]) -> None:
        super().__init__(spec)
        if not spec.get("path"):
            raise StoreError("a local destination needs a path")
        self.root = os.path.join(str(spec["path"]), self.prefix) if self.prefix else str(spec["path"])

    def describe(self) -> str:
        return "file://%s" % self.root

    def _path(self, key: str) -> str:
        path = os.path.normpath(os.path.join(self.root, key))
        if not (path + os.sep).startswith(os.path.normpath(self.root) + os.sep):
            raise StoreError("key %s leaves the destination folder" % key)
        return path

    def list(self, prefix: str) -> List[StoredObject]:
        base = self._path(prefix) if prefix else self.root
        found: List[StoredObject] = []
        if not os.path.isdir(base):
            return found
        for folder, dirs, files in os.walk(base):
            dirs.sort()
            for name in sorted(files):
                if name.startswith(".sdd-partial-"):
                    continue
                full = os.path.join(folder, name)
                stat = os.stat(full)
                found.append(StoredObject(os.path.relpath(full, self.root), stat.st_size, stat.st_mtime))
        return sorted(found, key=lambda o: o.key)

    def put_file(self, path: str, key: str) -> None:
        dest = self._path(key)
        os.makedirs(os.path.dirname(dest), mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".sdd-partial-", dir=os.path.dirname(dest))
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            os.chmod(tmp, 0o600)
            os.replace(tmp, dest)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def get_file(self, key: str, path: str) -> None:
        source = self._path(key)
        if not os.path.isfile(source):
            raise StoreError("%s: no object %s" % (self.describe(), key))
        shutil.copyfile(source, path)

    def delete(self, keys: Iterable[str]) -> None:
        folders = set()
        for key in keys:
            path = self._path(key)
            if os.path.exists(path):
                os.unlink(path)
            folders.add(os.path.dirname(path))
        for folder in sorted(folders, key=len, reverse=True):
            while folder.startswith(self.root + os.sep) and os.path.isdir(folder) and not os.listdir(folder):
                os.rmdir(folder)
                folder = os.path.dirname(folder)


class S3Store(Store):
    """Amazon S3 (or an S3-compatible endpoint) through boto3."""

    kind = "s3"

    def __init__(self, spec: Dict[str, Any], client: Any = None) -> None:
        super().__init__(spec)
        if not spec.get("bucket"):
            raise StoreError("an s3 destination needs a bucket")
        self.bucket = str(spec["bucket"])
        self._client = client

    def describe(self) -> str:
        where = "s3://%s/%s" % (self.bucket, self.prefix) if self.prefix else "s3://%s" % self.bucket
        return where + (" (%s)" % self.spec["region"] if self.spec.get("region") else "")

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws_client("s3", self.spec)
        return self._client

    def _extra(self) -> Dict[str, str]:
        extra: Dict[str, str] = {}
        if self.spec.get("sse"):
            extra["ServerSideEncryption"] = str(self.spec["sse"])
        if self.spec.get("kms_key_id"):
            extra["SSEKMSKeyId"] = str(self.spec["kms_key_id"])
        if self.spec.get("storage_class"):
            extra["StorageClass"] = str(self.spec["storage_class"])
        return extra

    def list(self, prefix: str) -> List[StoredObject]:
        found: List[StoredObject] = []
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=_join(self.prefix, prefix)):
                for item in page.get("Contents", []):
                    found.append(
                        StoredObject(_strip(self.prefix, item["Key"]), int(item["Size"]), _epoch(item["LastModified"]))
                    )
        except Exception as exc:
            raise StoreError("%s: cannot list %s: %s" % (self.describe(), prefix, exc)) from exc
        return sorted(found, key=lambda o: o.key)

    def put_file(self, path: str, key: str) -> None:
        try:
            self.client.upload_file(path, self.bucket, _join(self.prefix, key), ExtraArgs=self._extra() or None)
        except Exception as exc:
            raise StoreError("%s: cannot upload %s: %s" % (self.describe(), key, exc)) from exc

    def get_file(self, key: str, path: str) -> None:
        try:
            self.client.download_file(self.bucket, _join(self.prefix, key), path)
        except Exception as exc:
            raise StoreError("%s: cannot download %s: %s" % (self.describe(), key, exc)) from exc

    def delete(self, keys: Iterable[str]) -> None:
        names = [_join(self.prefix, k) for k in keys]
        for start in range(0, len(names), 1000):
            batch = names[start : start + 1000]
            try:
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
                )
            except Exception as exc:
                raise StoreError("%s: cannot delete: %s" % (self.describe(), exc)) from exc
            errors = answer.get("Errors") or []
            if errors:
                raise StoreError(
                    "%s: cannot delete %s"
                    % (self.describe(), ", ".join("%s (%s)" % (e.get("Key"), e.get("Message")) for e in errors))
                )


class GcsStore(Store):
    """Google Cloud Storage through google-cloud-storage."""

    kind = "gcs"

    def __init__(self, spec: Dict[str, Any], client: Any = None) -> None:
        super().__init__(spec)
        if not spec.get("bucket"):
            raise StoreError("a gcs destination needs a bucket")
        self.bucket_name = str(spec["bucket"])
        self._client = client

    def describe(self) -> str:
        return "gs://%s/%s" % (self.bucket_name, self.prefix) if self.prefix else "gs://%s" % self.bucket_name

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                from google.cloud import storage  # type: ignore[attr-defined,unused-ignore]
            except ImportError as exc:
                raise StoreError(
                    "a gcs destination needs the Python package google-cloud-storage on the host: %s" % exc
                ) from exc
            if self.spec.get("credentials_file"):
                self._client = storage.Client.from_service_account_json(
                    self.spec["credentials_file"], project=self.spec.get("project") or None
                )
            else:
                self._client = storage.Client(project=self.spec.get("project") or None)
        return self._client

    def _bucket(self) -> Any:
        return self.client.bucket(self.bucket_name)

    def list(self, prefix: str) -> List[StoredObject]:
        try:
            blobs = self.client.list_blobs(self.bucket_name, prefix=_join(self.prefix, prefix))
            found = [StoredObject(_strip(self.prefix, b.name), int(b.size or 0), _epoch(b.updated)) for b in blobs]
        except Exception as exc:
            raise StoreError("%s: cannot list %s: %s" % (self.describe(), prefix, exc)) from exc
        return sorted(found, key=lambda o: o.key)

    def put_file(self, path: str, key: str) -> None:
        try:
            blob = self._bucket().blob(_join(self.prefix, key))
            if self.spec.get("storage_class"):
                blob.storage_class = self.spec["storage_class"]
            blob.upload_from_filename(path)
        except Exception as exc:
            raise StoreError("%s: cannot upload %s: %s" % (self.describe(), key, exc)) from exc

    def get_file(self, key: str, path: str) -> None:
        try:
            self._bucket().blob(_join(self.prefix, key)).download_to_filename(path)
        except Exception as exc:
            raise StoreError("%s: cannot download %s: %s" % (self.describe(), key, exc)) from exc

    def delete(self, keys: Iterable[str]) -> None:
        bucket = self._bucket()
        for key in keys:
            try:
                bucket.blob(_join(self.prefix, key)).delete()
            except Exception as exc:
                raise StoreError("%s: cannot delete %s: %s" % (self.describe(), key, exc)) from exc


class AzureStore(Store):
    """Azure Blob Storage through azure-storage-blob."""

    kind = "azure"

    def __init__(self, spec: Dict[str, Any], client: Any = None) -> None:
        super().__init__(spec)
        if not spec.get("container"):
            raise StoreError("an azure destination needs a container")
        if client is None and not (spec.get("account_url") or spec.get("connection_string")):
            raise StoreError("an azure destination needs an account_url or a connection_string")
        self.container = str(spec["container"])
        self._client = client

    def describe(self) -> str:
        account = str(self.spec.get("account_url") or "azure").rstrip("/")
        return (
            "%s/%s/%s" % (account, self.container, self.prefix) if self.prefix else "%s/%s" % (account, self.container)
        )

    @property
    def client(self) -> Any:
        """A ContainerClient."""
        if self._client is None:
            try:
                from azure.storage.blob import ContainerClient
            except ImportError as exc:
                raise StoreError(
                    "an azure destination needs the Python package azure-storage-blob on the host: %s" % exc
                ) from exc
            if self.spec.get("connection_string"):
                self._client = ContainerClient.from_connection_string(
                    self.spec["connection_string"], container_name=self.container
                )
            else:
                credential = self.spec.get("credential") or None
                if credential is None:
                    try:
                        from azure.identity import DefaultAzureCredential
                    except ImportError as exc:
                        raise StoreError(
                            "an azure destination without a credential needs azure-identity on the host: %s" % exc
                        ) from exc
                    credential = DefaultAzureCredential()
                self._client = ContainerClient(
                    account_url=self.spec["account_url"], container_name=self.container, credential=credential
                )
        return self._client

    def list(self, prefix: str) -> List[StoredObject]:
        try:
            blobs = self.client.list_blobs(name_starts_with=_join(self.prefix, prefix))
            found = [
                StoredObject(_strip(self.prefix, b.name), int(b.size or 0), _epoch(b.last_modified)) for b in blobs
            ]
        except Exception as exc:
            raise StoreError("%s: cannot list %s: %s" % (self.describe(), prefix, exc)) from exc
        return sorted(found, key=lambda o: o.key)

    def put_file(self, path: str, key: str) -> None:
        try:
            with open(path, "rb") as handle:
                kwargs: Dict[str, Any] = {"overwrite": True}
                if self.spec.get("storage_class"):
                    kwargs["standard_blob_tier"] = self.spec["storage_class"]
                self.client.upload_blob(_join(self.prefix, key), handle, **kwargs)
        except Exception as exc:
            raise StoreError("%s: cannot upload %s: %s" % (self.describe(), key, exc)) from exc

    def get_file(self, key: str, path: str) -> None:
        try:
            with open(path, "wb") as handle:
                self.client.download_blob(_join(self.prefix, key)).readinto(handle)
        except Exception as exc:
            raise StoreError("%s: cannot download %s: %s" % (self.describe(), key, exc)) from exc

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            try:
                self.client.delete_blob(_join(self.prefix, key))
            except Exception as exc:
                raise StoreError("%s: cannot delete %s: %s" % (self.describe(), key, exc)) from exc


def aws_client(service: str, spec: Dict[str, Any]) -> Any:
    """A boto3 client from a destination or secret-store spec (explicit keys, profile, or the default chain)."""
    try:
        import boto3
    except ImportError as exc:
        raise StoreError(
            "%s needs the Python package boto3 on the host (Debian/Ubuntu: python3-boto3): %s" % (service, exc)
        ) from exc
    session_args: Dict[str, Any] = {}
    if spec.get("profile"):
        session_args["profile_name"] = spec["profile"]
    if spec.get("access_key"):
        session_args["aws_access_key_id"] = spec["access_key"]
        session_args["aws_secret_access_key"] = spec.get("secret_key")
        if spec.get("session_token"):
            session_args["aws_session_token"] = spec["session_token"]
    try:
        session = boto3.session.Session(**session_args)
        return session.client(
            service, region_name=spec.get("region") or None, endpoint_url=spec.get("endpoint_url") or None
        )
    except Exception as exc:
        raise StoreError("cannot create the %s client: %s" % (service, exc)) from exc


STORES = {"local": LocalStore, "s3": S3Store, "gcs": GcsStore, "azure": AzureStore}


def open_store(spec: Dict[str, Any], client: Optional[Any] = None) -> Store:
    """The store of a destination spec (``type`` is local, s3, gcs or azure)."""
    kind = str(spec.get("type") or "local")
    if kind not in STORES:
        raise StoreError("unknown destination type %s; expected one of %s" % (kind, ", ".join(sorted(STORES))))
    if kind == "local":
        return LocalStore(spec)
    if kind == "s3":
        return S3Store(spec, client=client)
    if kind == "gcs":
        return GcsStore(spec, client=client)
    return AzureStore(spec, client=client)
