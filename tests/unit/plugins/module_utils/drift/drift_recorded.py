"""Recorded API responses for the drift readers: the real SDK clients, no network.

Google Cloud: a ``requests`` transport adapter (mounted on every session the reader
makes, including the REST transport's session inside google-cloud-compute clients)
answers from a table of recorded responses keyed by host and path.

Azure: an azure-core ``HttpTransport`` answers from the same kind of table; the
management clients run their whole pipeline (headers, authentication with a fake
token, retries, deserialisation) over it.

A request nobody recorded gets a 404 in the API's error format, and every request is
kept in ``calls`` so a test can check what the SDK asked for.
"""

from __future__ import annotations

import io
import json
import time
import urllib.parse
from pathlib import Path
from typing import Any, Dict, List, Tuple

import requests
import urllib3
from requests.adapters import BaseAdapter

REPO = Path(__file__).resolve().parents[5]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "drift"
EXAMPLES = REPO / "examples" / "docs" / "07_REQ"


def fixture(cloud: str, name: str) -> Any:
    return json.loads((FIXTURES / cloud / name).read_text(encoding="utf-8"))


def _response(request_url: str, status: int, body: Any) -> requests.Response:
    data = json.dumps(body).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=UTF-8", "Content-Length": str(len(data))}
    response = requests.Response()
    response.status_code = status
    response.raw = urllib3.HTTPResponse(
        body=io.BytesIO(data), headers=headers, status=status, preload_content=False, decode_content=False
    )
    response.headers.update(headers)
    response.encoding = "utf-8"
    response.url = request_url
    response.reason = "OK" if status < 400 else "Error"
    return response


class Recorded:
    """Recorded responses by ``host/path`` (lower case), and the requests made."""

    def __init__(self, routes: Dict[str, Any]) -> None:
        self.routes = {k.lower(): v for k, v in routes.items()}
        self.errors: Dict[str, Tuple[int, Any]] = {}
        self.calls: List[Tuple[str, str, str]] = []

    def fail(self, key: str, status: int, body: Any) -> None:
        """Answer ``key`` with an error status (as the API would, for example a 403)."""
        self.errors[key.lower()] = (status, body)

    def answer(self, method: str, url: str) -> Tuple[int, Any]:
        parts = urllib.parse.urlsplit(url)
        key = (parts.netloc + urllib.parse.unquote(parts.path)).lower()
        self.calls.append((method, key, parts.query))
        if method != "GET":
            return 405, {"error": {"code": 405, "message": "the drift readers only read"}}
        if key in self.errors:
            return self.errors[key]
        if key in self.routes:
            return 200, self.routes[key]
        return 404, {"error": {"code": 404, "message": "not recorded: %s" % key, "status": "NOT_FOUND"}}

    def __setitem__(self, key: str, value: Any) -> None:
        self.routes[key.lower()] = value

    def __getitem__(self, key: str) -> Any:
        return self.routes[key.lower()]

    def pop(self, key: str) -> Any:
        return self.routes.pop(key.lower())


class RecordedAdapter(BaseAdapter):
    """A requests adapter serving ``Recorded`` responses."""

    def __init__(self, recorded: Recorded) -> None:
        super().__init__()
        self.recorded = recorded

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        status, body = self.recorded.answer(str(request.method), str(request.url))
        response = _response(str(request.url), status, body)
        response.request = request
        return response

    def close(self) -> None:
        return None


# --------------------------------------------------------------------------- Google Cloud

GCP_PROJECT = "acme-shop"
GCP_ROUTES = {
    "compute.googleapis.com/compute/v1/projects/acme-shop/global/networks/catalog-search-prod": (
        "compute.networks.get.json"
    ),
    "compute.googleapis.com/compute/v1/projects/acme-shop/global/firewalls": "compute.firewalls.list.json",
    "storage.googleapis.com/storage/v1/b": "storage.buckets.list.json",
    "sqladmin.googleapis.com/v1/projects/acme-shop/instances": "sqladmin.instances.list.json",
    "redis.googleapis.com/v1/projects/acme-shop/locations/us-central1/instances": "redis.instances.list.json",
    "run.googleapis.com/v2/projects/acme-shop/locations/us-central1/services": "run.services.list.json",
}


def gcp_options(recorded: Recorded) -> Dict[str, Any]:
    from google.auth.credentials import AnonymousCredentials

    return {"project": GCP_PROJECT, "credentials": AnonymousCredentials(), "adapter": RecordedAdapter(recorded)}


# --------------------------------------------------------------------------- Azure

AZURE_SUBSCRIPTION = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"


class FakeCredential:
    """A TokenCredential that hands out a token nobody checks."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("recorded-token", int(time.time()) + 3600)


class RecordedTransport:
    """An azure-core HttpTransport serving ``Recorded`` responses."""

    def __init__(self, recorded: Recorded) -> None:
        from azure.core.pipeline.transport import HttpTransport

        self.recorded = recorded
        transport = self

        class _Transport(HttpTransport):  # type: ignore[misc]
            def __enter__(self) -> Any:
                return self

            def __exit__(self, *args: Any) -> None:
                return None

            def open(self) -> None:
                return None

            def close(self) -> None:
                return None

            def send(self, request: Any, **kwargs: Any) -> Any:
                return transport.send(request, **kwargs)

        self.transport = _Transport()

    def send(self, request: Any, **kwargs: Any) -> Any:
        from azure.core.rest._requests_basic import RestRequestsTransportResponse

        assert request.headers.get("Authorization") == "Bearer recorded-token"
        status, body = self.recorded.answer(request.method, request.url)
        internal = _response(request.url, status, body)
        response = RestRequestsTransportResponse(request=request, internal_response=internal, block_size=4096)
        if not kwargs.get("stream"):
            response.read()
        return response


def _arm(path: str) -> str:
    return "management.azure.com/subscriptions/%s%s" % (AZURE_SUBSCRIPTION, path)


RG = "/resourceGroups/rg-ledger-events-prod/providers"
AZURE_ROUTES = {
    _arm("/resources"): "resources.list.json",
    _arm(RG + "/Microsoft.Network/virtualNetworks/ledger-events-prod"): "network.virtualNetworks.get.json",
    _arm(RG + "/Microsoft.Network/networkSecurityGroups/ledger-events-prod-gateway-nsg"): "nsg.gateway.json",
    _arm(RG + "/Microsoft.Network/networkSecurityGroups/ledger-events-prod-app-nsg"): "nsg.app.json",
    _arm(RG + "/Microsoft.Network/networkSecurityGroups/ledger-events-prod-endpoints-nsg"): "nsg.endpoints.json",
    _arm(RG + "/Microsoft.Network/networkSecurityGroups/ledger-events-prod-database-nsg"): "nsg.database.json",
    _arm(RG + "/Microsoft.Storage/storageAccounts/stledgereventsprod3fa91c"): "storage.storageAccounts.get.json",
    _arm(RG + "/Microsoft.Storage/storageAccounts/stledgereventsprod3fa91c/blobServices/default"): (
        "storage.blobServices.get.json"
    ),
    _arm(RG + "/Microsoft.DBforPostgreSQL/flexibleServers/ledger-events-prod"): "postgresql.flexibleServers.get.json",
    _arm(RG + "/Microsoft.Cache/Redis/redis-ledger-events-prod-3fa91c"): "cache.redis.get.json",
    _arm(RG + "/Microsoft.App/containerApps/ledger-events-prod"): "app.containerApps.get.json",
    _arm(RG + "/Microsoft.ServiceBus/namespaces/sb-ledger-events-prod-3fa91c"): "servicebus.namespaces.get.json",
}


def azure_options(recorded: Recorded) -> Dict[str, Any]:
    return {
        "subscription_id": AZURE_SUBSCRIPTION,
        "credential": FakeCredential(),
        "transport": RecordedTransport(recorded).transport,
    }


def arm(path: str) -> str:
    """The route of an ARM path under the recorded subscription."""
    return _arm(path)


def gcp_routes() -> Recorded:
    """Production of REQ-21 (catalog-search) as the generated Terraform makes it."""
    return Recorded({route: fixture("gcp", name) for route, name in GCP_ROUTES.items()})


def azure_routes() -> Recorded:
    """Production of REQ-102 (ledger-events) as the generated Terraform makes it."""
    return Recorded({route: fixture("azure", name) for route, name in AZURE_ROUTES.items()})
