# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Google Cloud project holds for one service and environment.

The VPC network and its firewall rules are read with google-cloud-compute (REST
transport), the buckets with google-cloud-storage, and Cloud SQL, Memorystore and
Cloud Run (which google-cloud-compute does not cover) with their v1 / v2 REST APIs
through google-auth's ``AuthorizedSession``.  Networks and firewall rules take no
labels: they are found by the generated names (the network) and by the network
they belong to (every rule on it); everything else by the labels the generated
Terraform sets (``project`` and ``environment``).  Credentials are the application
default credentials (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud, workload identity).
Only read calls are made.

``adapter`` (a ``requests`` transport adapter) is mounted for ``https://`` on every
session the reader makes: a proxy, or recorded responses in the tests.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator, List, Mapping, Optional

from .compare import ActualResource, DriftError, Expectation, Observation
from .expected import firewall_rule

try:
    import google.auth
    from google.api_core import exceptions as google_exceptions
    from google.auth import exceptions as google_auth_exceptions
    from google.auth.transport.requests import AuthorizedSession
    from google.cloud import compute_v1
    from google.cloud import storage as google_storage  # type: ignore[attr-defined]

    HAS_GOOGLE = True
    GOOGLE_IMPORT_ERROR: Optional[str] = None
except ImportError as exc:  # pragma: no cover - depends on the environment
    google = compute_v1 = google_storage = google_exceptions = google_auth_exceptions = None  # type: ignore[assignment]
    AuthorizedSession = None  # type: ignore[assignment,misc]
    HAS_GOOGLE = False
    GOOGLE_IMPORT_ERROR = str(exc)

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
SQLADMIN = "https://sqladmin.googleapis.com/v1"
REDIS = "https://redis.googleapis.com/v1"
RUN = "https://run.googleapis.com/v2"


def _last(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


class GcpReader:
    """Reads the service's resources in one project and region."""

    def __init__(
        self,
        expectation: Expectation,
        project: Optional[str] = None,
        credentials: Any = None,
        adapter: Any = None,
    ) -> None:
        if not HAS_GOOGLE:
            raise DriftError(
                "the Google Cloud drift check needs google-cloud-compute, google-cloud-storage and google-auth: "
                "pip install google-cloud-compute google-cloud-storage (%s)" % GOOGLE_IMPORT_ERROR
            )
        self.x = expectation
        self.adapter = adapter
        default_project = None
        if credentials is None:
            try:
                credentials, default_project = google.auth.default(scopes=SCOPES)
            except google_auth_exceptions.DefaultCredentialsError as exc:
                raise DriftError("no Google Cloud credentials: %s" % exc) from exc
        self.credentials = credentials
        self.project = (
            project
            or default_project
            or os.environ.get("GOOGLE_CLOUD_PROJECT")
            or os.environ.get("CLOUDSDK_CORE_PROJECT")
        )
        if not self.project:
            raise DriftError("set project: no Google Cloud project in the options, the credentials or the environment")
        self.labels = {k: v for k, v in expectation.scope.items() if k in ("project", "environment")}
        self.network_name = expectation.scope.get("network", "")
        self._session: Any = None
        self.found: List[ActualResource] = []

    # ----------------------------------------------------------------- plumbing

    def _mount(self, session: Any) -> Any:
        if self.adapter is not None:
            session.mount("https://", self.adapter)
        return session

    @property
    def session(self) -> Any:
        if self._session is None:
            self._session = self._mount(AuthorizedSession(self.credentials))  # type: ignore[no-untyped-call]
        return self._session

    def _compute(self, client_class: Any) -> Any:
        client = client_class(credentials=self.credentials, transport="rest")
        inner = getattr(client.transport, "_session", None)
        if inner is not None:
            self._mount(inner)
        return client

    def rest(self, url: str, key: str) -> Iterator[Dict[str, Any]]:
        """Every item of a paged REST list (``key`` holds the items); a 404 is an empty list."""
        token = None
        while True:
            params = {"pageToken": token} if token else None
            try:
                response = self.session.get(url, params=params, timeout=60)
            except (OSError, ValueError, google_auth_exceptions.GoogleAuthError) as exc:  # requests errors are OSErrors
                raise DriftError("Google Cloud GET %s failed: %s" % (url, exc)) from exc
            if response.status_code == 404:
                return
            if response.status_code != 200:
                raise DriftError(
                    "Google Cloud GET %s failed: HTTP %d %s" % (url, response.status_code, response.text[:300])
                )
            data = response.json()
            yield from data.get(key, [])
            token = data.get("nextPageToken")
            if not token:
                return

    def ours(self, labels: Optional[Mapping[str, str]]) -> bool:
        found = labels or {}
        return all(found.get(k) == v for k, v in self.labels.items())

    def add(self, kind: str, name: str, attributes: Dict[str, Any], ident: str = "") -> None:
        self.found.append(ActualResource(kind, name, attributes, ident))

    # ----------------------------------------------------------------- resources

    def network(self) -> None:
        try:
            net = self._compute(compute_v1.NetworksClient).get(project=self.project, network=self.network_name)
        except google_exceptions.NotFound:
            net = None
        except google_exceptions.GoogleAPICallError as exc:
            raise DriftError("Google Cloud networks.get %s failed: %s" % (self.network_name, exc)) from exc
        if net is not None:
            self.add(
                "network",
                net.name,
                {
                    "auto_create_subnetworks": bool(net.auto_create_subnetworks),
                    "routing_mode": net.routing_config.routing_mode or None,
                },
                net.self_link,
            )
        try:
            rules = list(self._compute(compute_v1.FirewallsClient).list(project=self.project))
        except google_exceptions.GoogleAPICallError as exc:
            raise DriftError("Google Cloud firewalls.list failed: %s" % exc) from exc
        suffix = "/global/networks/%s" % self.network_name
        for rule in rules:
            if not rule.network.endswith(suffix):
                continue
            entries = [firewall_rule(a.I_p_protocol, list(a.ports)) for a in rule.allowed]
            entries += [firewall_rule(d.I_p_protocol, list(d.ports)) for d in rule.denied]
            self.add(
                "firewall",
                rule.name,
                {
                    "direction": rule.direction or "INGRESS",
                    "action": "allow" if len(rule.allowed) else "deny",
                    "priority": int(rule.priority),
                    "rules": sorted(entries),
                    "source_ranges": sorted(rule.source_ranges),
                    "disabled": bool(rule.disabled),
                },
                rule.self_link,
            )

    def buckets(self) -> None:
        client = google_storage.Client(project=self.project, credentials=self.credentials, _http=self.session)
        try:
            listed = list(client.list_buckets())
        except google_exceptions.GoogleAPICallError as exc:
            raise DriftError("Google Cloud Storage buckets.list failed: %s" % exc) from exc
        for bucket in listed:
            if not self.ours(bucket.labels):
                continue
            iam = bucket.iam_configuration
            self.add(
                "storage_bucket",
                bucket.name,
                {
                    "versioning": bool(bucket.versioning_enabled),
                    "customer_managed_key": bucket.default_kms_key_name,
                    "uniform_access": bool(iam.uniform_bucket_level_access_enabled),
                    "public_access_prevention": iam.public_access_prevention,
                    "storage_class": bucket.storage_class,
                },
                "gs://%s" % bucket.name,
            )

    def sql(self) -> None:
        for item in self.rest("%s/projects/%s/instances" % (SQLADMIN, self.project), "items"):
            settings = item.get("settings") or {}
            if not self.ours(settings.get("userLabels")):
                continue
            ip = settings.get("ipConfiguration") or {}
            disk = settings.get("dataDiskSizeGb")
            self.add(
                "sql_instance",
                item.get("name", ""),
                {
                    "database_version": item.get("databaseVersion"),
                    "tier": settings.get("tier"),
                    "disk_size_gb": int(disk) if disk is not None else None,
                    "availability_type": settings.get("availabilityType"),
                    "ipv4_enabled": bool(ip.get("ipv4Enabled")),
                    "ssl_mode": ip.get("sslMode"),
                    "backups_enabled": bool((settings.get("backupConfiguration") or {}).get("enabled")),
                },
                item.get("selfLink", ""),
            )

    def redis(self) -> None:
        url = "%s/projects/%s/locations/%s/instances" % (REDIS, self.project, self.x.region)
        for item in self.rest(url, "instances"):
            if not self.ours(item.get("labels")):
                continue
            self.add(
                "redis_instance",
                _last(item.get("name", "")),
                {
                    "tier": item.get("tier"),
                    "memory_size_gb": item.get("memorySizeGb"),
                    "redis_version": item.get("redisVersion"),
                    "transit_encryption_mode": item.get("transitEncryptionMode"),
                    "auth_enabled": bool(item.get("authEnabled")),
                    "customer_managed_key": item.get("customerManagedKey"),
                },
                item.get("name", ""),
            )

    def cloud_run(self) -> None:
        url = "%s/projects/%s/locations/%s/services" % (RUN, self.project, self.x.region)
        for item in self.rest(url, "services"):
            if not self.ours(item.get("labels")):
                continue
            template = item.get("template") or {}
            scaling = template.get("scaling") or {}
            containers = template.get("containers") or [{}]
            limits = (containers[0].get("resources") or {}).get("limits") or {}
            self.add(
                "cloud_run_service",
                _last(item.get("name", "")),
                {
                    "cpu": limits.get("cpu"),
                    "memory": limits.get("memory"),
                    "min_instances": int(scaling.get("minInstanceCount", 0)),
                    "max_instances": int(scaling["maxInstanceCount"]) if "maxInstanceCount" in scaling else None,
                    "ingress": item.get("ingress"),
                },
                item.get("name", ""),
            )

    def read(self) -> Observation:
        self.network()
        self.buckets()
        if self.x.of_kind("sql_instance"):
            self.sql()
        if self.x.of_kind("redis_instance"):
            self.redis()
        if self.x.of_kind("cloud_run_service"):
            self.cloud_run()
        return Observation(resources=list(self.found))


def observe(
    expectation: Expectation,
    project: Optional[str] = None,
    credentials: Any = None,
    adapter: Any = None,
) -> Observation:
    """What the project holds for the expectation's service and environment."""
    reader = GcpReader(expectation, project=project, credentials=credentials, adapter=adapter)
    return reader.read()


__all__ = ["GOOGLE_IMPORT_ERROR", "HAS_GOOGLE", "GcpReader", "observe"]
