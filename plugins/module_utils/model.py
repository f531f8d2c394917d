# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one deployment model of sdd.devops_flow.

Parsers build it from REQ / SYS / SPEC / ADR documents; renderers, the action
plugin, the CLI and the roles only read it.  Every class is a frozen dataclass
holding tuples, so a model cannot change once built.  Units are in the field
names: ``memory_mib``, ``storage_gb``, ``rollback_seconds``, ``sample_rate``
(a fraction from 0 to 1), ``threshold_percent`` (0 to 100).

``Model.sources`` maps a field path as it appears in the serialised model
(``environments[2].strategy``, ``infrastructure.database.engine``) to the
document, line and section the value came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

from .errors import Finding

#: Version of the serialised model layout (``model_version`` in the JSON).
MODEL_VERSION = "1.0"

CLOUDS = ("aws", "gcp", "azure")
STRATEGIES = ("manual", "rolling", "blue-green", "canary")
CLOUD_RULES = ("option", "adr", "parameter", "inference", "none")
IAC_PROVIDERS = ("terraform", "cloudformation", "ansible", "pulumi", "kubernetes", "helm")
SEVERITY_ORDER = ("low", "medium", "high", "critical")


class FrozenMap(Mapping[str, Any]):
    """A read-only, hashable mapping with a stable (insertion) order."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> None:
        merged: Dict[str, Any] = dict(data or {})
        merged.update(kwargs)
        self._data = merged
        self._hash: Optional[int] = None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._data) == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return "FrozenMap(%r)" % (self._data,)


@dataclass(frozen=True)
class Source:
    """Where a value came from."""

    file: str
    line: int
    section: str = ""

    def ref(self) -> str:
        """``file:line``."""
        return "%s:%d" % (self.file, self.line) if self.line else self.file


# --------------------------------------------------------------------------- service


@dataclass(frozen=True)
class HealthChecks:
    """Health endpoints (URL paths) and probe timings."""

    liveness: Optional[str] = None
    readiness: Optional[str] = None
    startup: Optional[str] = None
    interval_seconds: Optional[int] = None
    timeout_seconds: Optional[int] = None
    failure_threshold: Optional[int] = None


@dataclass(frozen=True)
class ResourceAmount:
    """CPU in millicores and memory in MiB (Kubernetes ``500m`` / ``512Mi``)."""

    cpu_millicores: Optional[int] = None
    memory_mib: Optional[int] = None


@dataclass(frozen=True)
class Resources:
    requests: ResourceAmount = field(default_factory=ResourceAmount)
    limits: ResourceAmount = field(default_factory=ResourceAmount)


@dataclass(frozen=True)
class Scaling:
    """Horizontal scaling bounds and the metrics that drive it."""

    min_replicas: Optional[int] = None
    max_replicas: Optional[int] = None
    metrics: Tuple[str, ...] = ()
    target_cpu_percent: Optional[int] = None


@dataclass(frozen=True)
class EnvVar:
    """An environment variable of the service.  Sensitive ones never get a value
    in generated files, only a reference to the secret store."""

    name: str
    required: bool = False
    sensitive: bool = False
    default: Optional[str] = None
    allowed_values: Tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class FeatureFlag:
    """A feature flag from REQ 7.2."""

    name: str
    default: Optional[bool] = None
    description: str = ""


@dataclass(frozen=True)
class Parameter:
    """A configuration parameter from REQ 7.1."""

    name: str
    type: str = ""
    default: Optional[str] = None
    description: str = ""


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str = ""


@dataclass(frozen=True)
class Service:
    """The service itself, mostly from the SPEC."""

    name: str
    title: str = ""
    version: Optional[str] = None
    language: Optional[str] = None
    language_version: Optional[str] = None
    framework: Optional[str] = None
    entry_point: Optional[str] = None
    image: Optional[str] = None
    ports: Tuple[int, ...] = ()
    health: HealthChecks = field(default_factory=HealthChecks)
    resources: Resources = field(default_factory=Resources)
    scaling: Scaling = field(default_factory=Scaling)
    env: Tuple[EnvVar, ...] = ()
    feature_flags: Tuple[FeatureFlag, ...] = ()
    parameters: Tuple[Parameter, ...] = ()
    dependencies: Tuple[Dependency, ...] = ()
    rolling_deployment_safe: Optional[bool] = None


# --------------------------------------------------------------------------- cloud


@dataclass(frozen=True)
class Cloud:
    """The cloud provider, which rule decided it, and where it runs."""

    provider: Optional[str] = None
    decided_by: str = "none"
    evidence: str = ""
    regions: Tuple[str, ...] = ()
    zones: Tuple[str, ...] = ()
    primary_region: Optional[str] = None


# --------------------------------------------------------------------------- infrastructure


@dataclass(frozen=True)
class Compute:
    """Where the service runs.  ``kind`` is one of ecs-fargate, ec2, lambda, eks,
    cloud-run, gke, compute-engine, cloud-functions, container-apps, aks,
    app-service, azure-functions, azure-vm, kubernetes, vm, unknown."""

    kind: str = "unknown"
    service: str = ""
    vcpu: Optional[float] = None
    memory_mib: Optional[int] = None
    min_instances: Optional[int] = None
    max_instances: Optional[int] = None
    instance_type: Optional[str] = None


@dataclass(frozen=True)
class Database:
    """``engine``: postgresql, mysql, mariadb, sqlserver, dynamodb, firestore,
    cosmosdb, mongodb, unknown.  ``service``: rds, aurora, cloud-sql,
    azure-database, dynamodb, ...."""

    engine: str = "unknown"
    service: str = ""
    version: Optional[str] = None
    storage_gb: Optional[int] = None
    ha: Optional[bool] = None
    instance_class: Optional[str] = None
    vcpu: Optional[float] = None
    memory_mib: Optional[int] = None
    backup_retention_days: Optional[int] = None
    read_replicas: Optional[int] = None


@dataclass(frozen=True)
class Storage:
    """Object storage.  ``kind``: s3, gcs, blob, efs, ebs, filestore, unknown."""

    kind: str = "unknown"
    service: str = ""
    bucket_type: Optional[str] = None
    size_gb: Optional[int] = None
    retention_days: Optional[int] = None
    versioning: Optional[bool] = None
    replication: Optional[bool] = None


@dataclass(frozen=True)
class Network:
    """Virtual network, zones and load balancer."""

    cidr: Optional[str] = None
    zones: Tuple[str, ...] = ()
    subnets: Tuple[str, ...] = ()
    load_balancer: Optional[str] = None
    service: str = ""


@dataclass(frozen=True)
class Cache:
    """``engine``: redis, memcached, valkey."""

    engine: str = "redis"
    service: str = ""
    version: Optional[str] = None
    memory_mib: Optional[int] = None
    ttl_seconds: Optional[int] = None
    ha: Optional[bool] = None


@dataclass(frozen=True)
class Queue:
    """``kind``: sqs, sns, pubsub, servicebus, eventhubs, kafka, rabbitmq, unknown."""

    kind: str = "unknown"
    service: str = ""
    queue_type: Optional[str] = None
    retention_days: Optional[int] = None
    dead_letter: Optional[bool] = None
    max_receive_count: Optional[int] = None


@dataclass(frozen=True)
class InfraItem:
    """A 9.5.1 row that is not one of the resource types above, kept as written."""

    resource_type: str
    provider: str = ""
    configuration: str = ""
    requirements: str = ""


@dataclass(frozen=True)
class Infrastructure:
    compute: Optional[Compute] = None
    database: Optional[Database] = None
    storage: Optional[Storage] = None
    network: Optional[Network] = None
    cache: Optional[Cache] = None
    queue: Optional[Queue] = None
    other: Tuple[InfraItem, ...] = ()


# --------------------------------------------------------------------------- environments


@dataclass(frozen=True)
class Environment:
    """A 9.5.2 row.  ``name`` is canonical (dev, staging, prod, or the name in
    lower case); ``label`` is what the document wrote."""

    name: str
    label: str = ""
    strategy: Optional[str] = None
    rollback_seconds: Optional[int] = None
    replicas: Optional[int] = None
    max_replicas: Optional[int] = None
    regions: Tuple[str, ...] = ()
    zones: Tuple[str, ...] = ()
    multi_az: bool = False
    multi_region: bool = False
    canary_steps: Tuple[int, ...] = ()
    notes: str = ""


# --------------------------------------------------------------------------- scripts, playbooks


@dataclass(frozen=True)
class Script:
    """A 9.5.3 row: ``environments`` holds canonical names or ``all``."""

    name: str
    purpose: str = ""
    automation: str = ""
    environments: Tuple[str, ...] = ()


@dataclass(frozen=True)
class ExitCode:
    code: int
    meaning: str


@dataclass(frozen=True)
class ScriptStandards:
    """9.5.3 Script Standards: the defaults are the framework's own standards."""

    shell: str = "bash"
    min_bash_version: Optional[str] = None
    log_file: Optional[str] = None
    exit_codes: Tuple[ExitCode, ...] = ()
    strict_mode: Optional[bool] = None
    idempotent: Optional[bool] = None
    notes: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Scripts:
    items: Tuple[Script, ...] = ()
    standards: ScriptStandards = field(default_factory=ScriptStandards)


@dataclass(frozen=True)
class Playbook:
    """A 9.5.4 row."""

    name: str
    purpose: str = ""
    target: str = ""
    variables: str = ""
    tags: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Playbooks:
    items: Tuple[Playbook, ...] = ()
    standards: Tuple[str, ...] = ()


# --------------------------------------------------------------------------- observability


@dataclass(frozen=True)
class TelemetrySignal:
    """One 9.5.5 row (logging, metrics, tracing or dashboards)."""

    tool: Optional[str] = None
    details: str = ""
    retention_days: Optional[int] = None
    alerts: str = ""


@dataclass(frozen=True)
class MetricDefinition:
    """A metric the service exposes (SPEC ``observability.metrics``)."""

    name: str
    type: str = "counter"
    labels: Tuple[str, ...] = ()
    buckets: Tuple[float, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class AlertRule:
    """An alert from 9.5.5 or the SPEC alerting rules.

    ``metric`` is a normalised name (error_rate, p95_latency, p99_latency,
    availability, cpu_utilization, memory_utilization, or the document's own
    word); ``threshold`` is in ``unit`` (ratio, ms, percent, count, ...).
    ``threshold_ref`` keeps an unresolved ``@threshold:`` reference.
    """

    name: str
    condition: str
    metric: str = ""
    operator: str = ">"
    threshold: Optional[float] = None
    unit: str = ""
    for_seconds: Optional[int] = None
    severity: str = "warning"
    channels: Tuple[str, ...] = ()
    threshold_ref: Optional[str] = None
    origin: str = ""


@dataclass(frozen=True)
class AlertThresholds:
    """The thresholds the generators use (alerts, canary analysis)."""

    p95_latency_ms: Optional[float] = None
    p99_latency_ms: Optional[float] = None
    error_rate_ratio: Optional[float] = None
    availability_percent: Optional[float] = None


@dataclass(frozen=True)
class Observability:
    logging: Optional[TelemetrySignal] = None
    metrics: Optional[TelemetrySignal] = None
    tracing: Optional[TelemetrySignal] = None
    dashboards: Optional[TelemetrySignal] = None
    log_level: Optional[str] = None
    log_format: Optional[str] = None
    tracing_sample_rate: Optional[float] = None
    thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    targets: AlertThresholds = field(default_factory=AlertThresholds)
    alert_rules: Tuple[AlertRule, ...] = ()
    metric_definitions: Tuple[MetricDefinition, ...] = ()
    dashboard_charts: Tuple[str, ...] = ()
    notification_channels: Tuple[str, ...] = ()


# --------------------------------------------------------------------------- security


@dataclass(frozen=True)
class Secrets:
    """``store``: aws-secrets-manager, gcp-secret-manager, azure-key-vault,
    vault, kubernetes, ansible-vault, or the document's words."""

    store: Optional[str] = None
    tool: str = ""
    path: Optional[str] = None
    rotation_days: Optional[int] = None


@dataclass(frozen=True)
class Tls:
    domain: Optional[str] = None
    min_version: Optional[str] = None
    provider: Optional[str] = None
    certificate_type: Optional[str] = None


@dataclass(frozen=True)
class Iam:
    model: str = ""
    permissions: str = ""
    least_privilege: Optional[bool] = None


@dataclass(frozen=True)
class NetworkRule:
    """Allowed traffic from 9.5.6 Network Security."""

    description: str
    ports: Tuple[int, ...] = ()
    cidrs: Tuple[str, ...] = ()


@dataclass(frozen=True)
class ImageScanning:
    """``threshold``: the lowest severity that fails a scan (critical, high, medium, low)."""

    tool: Optional[str] = None
    threshold: Optional[str] = None


@dataclass(frozen=True)
class SecurityItem:
    aspect: str
    requirement: str = ""
    tool: str = ""
    verification: str = ""


@dataclass(frozen=True)
class Security:
    secrets: Optional[Secrets] = None
    tls: Optional[Tls] = None
    iam: Optional[Iam] = None
    network_rules: Tuple[NetworkRule, ...] = ()
    image_scanning: Optional[ImageScanning] = None
    other: Tuple[SecurityItem, ...] = ()


# --------------------------------------------------------------------------- cost


@dataclass(frozen=True)
class Budget:
    """A 9.5.7 row: ``resource`` is compute, storage, network, database, total, ..."""

    resource: str
    monthly_usd: Optional[float] = None
    threshold_percents: Tuple[float, ...] = ()
    optimization: str = ""


@dataclass(frozen=True)
class Cost:
    budgets: Tuple[Budget, ...] = ()
    total_monthly_usd: Optional[float] = None
    currency: str = "USD"


# --------------------------------------------------------------------------- rollout, backup


@dataclass(frozen=True)
class ValidationRequirement:
    """A 9.5.8 Validation Requirements bullet: ``phase`` is pre-deployment,
    post-deployment, monitoring, rollback, or the document's word."""

    phase: str
    text: str


@dataclass(frozen=True)
class Rollout:
    """9.5.8 Deployment Automation: canary steps as percentages of traffic."""

    canary_steps: Tuple[int, ...] = ()
    hold_seconds: Optional[int] = None
    automation_level: Optional[str] = None
    automation_text: str = ""
    workflow: Tuple[str, ...] = ()
    validation: Tuple[ValidationRequirement, ...] = ()
    auto_rollback: Optional[bool] = None
    rollback_ready_seconds: Optional[int] = None
    deployment_tests: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Backup:
    """Backup and recovery objectives (REQ 6.3, SYS 9.2, SPEC operations)."""

    strategy: Optional[str] = None
    frequency: Optional[str] = None
    interval_seconds: Optional[int] = None
    retention_days: Optional[int] = None
    rpo_seconds: Optional[int] = None
    rto_seconds: Optional[int] = None
    automated: Optional[bool] = None
    cross_region: Optional[bool] = None
    recovery_procedures: Tuple[str, ...] = ()


# --------------------------------------------------------------------------- traceability


@dataclass(frozen=True)
class DocumentRef:
    """A document that was read (``path`` set) or referenced."""

    id: str
    kind: str
    path: Optional[str] = None
    title: str = ""


@dataclass(frozen=True)
class Tag:
    """One ``@kind: value`` tag as written, with where it was."""

    kind: str
    value: str
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Traceability:
    req: Optional[str] = None
    spec: Optional[str] = None
    sys: Tuple[str, ...] = ()
    adr: Tuple[str, ...] = ()
    documents: Tuple[DocumentRef, ...] = ()
    tags: Tuple[Tag, ...] = ()
    element_ids: Tuple[str, ...] = ()
    depends: Tuple[str, ...] = ()

    def tag_values(self, kind: str) -> Tuple[str, ...]:
        """Every value of one tag kind, in document order, without repeats."""
        seen: Dict[str, None] = {}
        for tag in self.tags:
            if tag.kind == kind:
                seen.setdefault(tag.value, None)
        return tuple(seen)


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Model:
    """Everything the generators and roles need, with where each value came from."""

    service: Service
    cloud: Cloud = field(default_factory=Cloud)
    infrastructure: Infrastructure = field(default_factory=Infrastructure)
    environments: Tuple[Environment, ...] = ()
    scripts: Scripts = field(default_factory=Scripts)
    playbooks: Playbooks = field(default_factory=Playbooks)
    observability: Observability = field(default_factory=Observability)
    security: Security = field(default_factory=Security)
    cost: Cost = field(default_factory=Cost)
    rollout: Rollout = field(default_factory=Rollout)
    backup: Backup = field(default_factory=Backup)
    traceability: Traceability = field(default_factory=Traceability)
    iac_provider: Optional[str] = None
    deployment_tier: Optional[int] = None
    warnings: Tuple[Finding, ...] = ()
    sources: FrozenMap = field(default_factory=FrozenMap)

    def source(self, path: str) -> Optional[Source]:
        """Where the value at ``path`` came from, or its nearest recorded parent."""
        probe = path
        while probe:
            found = self.sources.get(probe)
            if found is not None:
                return found  # type: ignore[no-any-return]
            cut = max(probe.rfind("."), probe.rfind("["))
            if cut <= 0:
                break
            probe = probe[:cut]
        return None

    def environment(self, name: str) -> Optional[Environment]:
        for env in self.environments:
            if env.name == name:
                return env
        return None

    @property
    def production(self) -> Optional[Environment]:
        """The production environment, else the last one listed."""
        return self.environment("prod") or (self.environments[-1] if self.environments else None)

    @property
    def req_id(self) -> str:
        """The requirement id generated resources are tagged with."""
        return self.traceability.req or self.traceability.spec or self.service.name
