# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The child modules of the GCP Terraform configuration.

Each function returns a ``Module`` (main.tf, variables.tf, outputs.tf) for one
family: network, compute (Cloud Run or GKE), database (Cloud SQL or
Firestore), cache (Memorystore), storage (Cloud Storage) and queue (Pub/Sub).
What a module contains is decided here from the model; what changes between
environments (sizes, HA, deletion protection) are the module's variables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ..model import Model
from .hcl import Attr, Block, Raw
from .terraform_gcp_support import (
    REQUIRED,
    Item,
    Module,
    dynamic,
    interp,
    note,
    output,
    resource,
    validation,
    variable,
)

#: Google front-end ranges that send load balancer health checks.
GOOGLE_HEALTH_CHECK_RANGES = ["130.211.0.0/22", "35.191.0.0/16"]
#: Control plane range of a private GKE cluster (outside the VPC range).
GKE_MASTER_CIDR = "172.16.0.32/28"

_LABELS = variable("labels", "map(string)", "Labels of every resource (project, environment, requirement id)")


@dataclass
class GcpPlan:
    """What the GCP configuration holds, decided once from the model."""

    name: str
    compute: str  # cloud-run or gke
    gke_autopilot: bool
    machine_type: str
    port: int
    cpu: str
    memory: str
    database: Optional[str]  # cloud-sql, firestore or None
    engine: str  # postgresql, mysql, sqlserver, or the document engine
    database_version: str
    database_tier: str
    database_disk_gb: int
    cache: bool
    cache_version: str
    storage: bool
    queue: bool
    tls_domain: Optional[str]
    dual_region: bool
    region: str
    secondary_region: Optional[str]
    mapped_compute: str = ""
    skips: Dict[str, List[Tuple[str, str]]] = field(default_factory=dict)

    @property
    def private_services(self) -> bool:
        return self.database == "cloud-sql" or self.cache

    @property
    def connector(self) -> bool:
        return self.compute == "cloud-run" and self.private_services


def _service_variables() -> List[Block]:
    return [
        variable("name", "string", "Name of the resources (service and environment)"),
        variable("region", "string", "Region of the resources"),
        _LABELS,
    ]


# --------------------------------------------------------------------------- network


def network_module(model: Model, plan: GcpPlan) -> Module:
    src = note(model, "infrastructure.network")
    main: List[Item] = []
    vpc = resource("google_compute_network", "this", src)
    vpc.attrs(
        {
            "name": Raw("var.name"),
            "auto_create_subnetworks": False,
            "routing_mode": "REGIONAL",
            "delete_default_routes_on_create": False,
        }
    )
    main.append(vpc)
    deny = resource("google_compute_firewall", "deny_ingress")
    deny.comment("Explicit, logged deny of all other ingress (narrower allow rules have a higher priority).")
    deny.attrs(
        {
            "name": interp(Raw("var.name"), "-deny-ingress"),
            "network": Raw("google_compute_network.this.id"),
            "direction": "INGRESS",
            "priority": 65534,
            "source_ranges": ["0.0.0.0/0"],
        }
    )
    deny.block("deny", protocol="all")
    deny.block("log_config", metadata="INCLUDE_ALL_METADATA")
    main.append(deny)
    subnet = resource("google_compute_subnetwork", "app", src)
    subnet.attrs(
        {
            "name": interp(Raw("var.name"), "-app"),
            "region": Raw("var.region"),
            "network": Raw("google_compute_network.this.id"),
            "ip_cidr_range": Raw("cidrsubnet(var.cidr, 4, 0)"),
            "private_ip_google_access": True,
        }
    )
    subnet.block(
        "log_config", aggregation_interval="INTERVAL_5_SEC", flow_sampling=0.5, metadata="INCLUDE_ALL_METADATA"
    )
    if plan.compute == "gke":
        subnet.block("secondary_ip_range", range_name="pods", ip_cidr_range=Raw("cidrsubnet(var.cidr, 2, 1)"))
        subnet.block("secondary_ip_range", range_name="services", ip_cidr_range=Raw("cidrsubnet(var.cidr, 4, 3)"))
    main.append(subnet)
    router = resource("google_compute_router", "this")
    router.attrs(
        {
            "name": interp(Raw("var.name"), "-router"),
            "region": Raw("var.region"),
            "network": Raw("google_compute_network.this.id"),
        }
    )
    main.append(router)
    nat = resource("google_compute_router_nat", "this")
    nat.comment("Outbound internet access for private workloads, without public IP addresses.")
    nat.attrs(
        {
            "name": interp(Raw("var.name"), "-nat"),
            "router": Raw("google_compute_router.this.name"),
            "region": Raw("var.region"),
            "nat_ip_allocate_option": "AUTO_ONLY",
            "source_subnetwork_ip_ranges_to_nat": "ALL_SUBNETWORKS_ALL_IP_RANGES",
        }
    )
    nat.block("log_config", enable=True, filter="ERRORS_ONLY")
    main.append(nat)
    outputs = [
        output("network_id", Raw("google_compute_network.this.id"), "ID of the VPC network"),
        output("network_name", Raw("google_compute_network.this.name"), "Name of the VPC network"),
        output("subnet_id", Raw("google_compute_subnetwork.app.id"), "ID of the application subnet"),
        output("subnet_name", Raw("google_compute_subnetwork.app.name"), "Name of the application subnet"),
    ]
    if plan.private_services:
        psa = resource("google_compute_global_address", "private_services")
        psa.comment("Range reserved for private services access (Cloud SQL and Memorystore private IPs).")
        psa.attrs(
            {
                "name": interp(Raw("var.name"), "-psa"),
                "purpose": "VPC_PEERING",
                "address_type": "INTERNAL",
                "address": Raw("cidrhost(cidrsubnet(var.cidr, 4, 2), 0)"),
                "prefix_length": Raw('tonumber(split("/", cidrsubnet(var.cidr, 4, 2))[1])'),
                "network": Raw("google_compute_network.this.id"),
            }
        )
        main.append(psa)
        conn = resource("google_service_networking_connection", "private_services")
        conn.attrs(
            {
                "network": Raw("google_compute_network.this.id"),
                "service": "servicenetworking.googleapis.com",
                "reserved_peering_ranges": [Raw("google_compute_global_address.private_services.name")],
            }
        )
        main.append(conn)
        outputs.append(
            output(
                "private_services_connection",
                Raw("google_service_networking_connection.private_services.id"),
                "Private services access peering (databases and caches wait for it)",
            )
        )
    if plan.connector:
        connector = resource("google_vpc_access_connector", "this")
        connector.comment("Serverless VPC Access: Cloud Run reaches the private IPs of the database and cache.")
        connector.attrs(
            {
                "name": Raw("var.connector_name"),
                "region": Raw("var.region"),
                "network": Raw("google_compute_network.this.name"),
                "ip_cidr_range": Raw("cidrsubnet(var.cidr, 12, 256)"),
                "machine_type": "e2-micro",
                "min_instances": 2,
                "max_instances": 3,
            }
        )
        main.append(connector)
        outputs.append(output("connector_id", Raw("google_vpc_access_connector.this.id"), "Serverless VPC connector"))
    if plan.compute == "gke":
        fw = resource("google_compute_firewall", "lb_health_checks")
        fw.comment("Only Google's load balancer and health check ranges reach the application port.")
        fw.attrs(
            {
                "name": interp(Raw("var.name"), "-allow-lb"),
                "network": Raw("google_compute_network.this.id"),
                "direction": "INGRESS",
                "priority": 1000,
                "source_ranges": GOOGLE_HEALTH_CHECK_RANGES,
            }
        )
        fw.block("allow", protocol="tcp", ports=[Raw("tostring(var.app_port)")])
        fw.block("log_config", metadata="INCLUDE_ALL_METADATA")
        main.append(fw)
        outputs.append(output("pods_range_name", "pods", "Secondary range of the GKE pods"))
        outputs.append(output("services_range_name", "services", "Secondary range of the GKE services"))
    variables = [
        variable("name", "string", "Name of the network resources"),
        variable("region", "string", "Region of the subnet, router and NAT"),
        variable(
            "cidr",
            "string",
            "IPv4 range of the VPC (a /8 to /20): the app subnet, connector, private services "
            "and GKE ranges are carved from it",
            validations=[
                validation(
                    'can(cidrhost(var.cidr, 0)) && tonumber(split("/", var.cidr)[1]) <= 20',
                    "cidr must be an IPv4 range of /20 or larger.",
                )
            ],
        ),
    ]
    if plan.connector:
        variables.append(
            variable(
                "connector_name",
                "string",
                "Name of the Serverless VPC Access connector",
                validations=[
                    validation(
                        'can(regex("^[a-z][-a-z0-9]{0,23}[a-z0-9]$", var.connector_name))',
                        "connector_name must be 2-25 lower case letters, digits or hyphens.",
                    )
                ],
            )
        )
    if plan.compute == "gke":
        variables.append(variable("app_port", "number", "Port the application listens on"))
    return Module(
        "network",
        "VPC network (custom mode), subnet with private Google access and flow logs, Cloud NAT.",
        main,
        variables,
        outputs,
        ("infrastructure.network.cidr", "infrastructure.network.zones", "cloud.primary_region"),
    )


# --------------------------------------------------------------------------- compute


# --------------------------------------------------------------------------- database


_POSTGRES_FLAGS = [
    ("cloudsql.enable_pgaudit", "on"),
    ("log_checkpoints", "on"),
    ("log_connections", "on"),
    ("log_disconnections", "on"),
    ("log_duration", "on"),
    ("log_hostname", "on"),
    ("log_lock_waits", "on"),
    ("log_min_duration_statement", "-1"),
    ("log_min_error_statement", "error"),
    ("log_min_messages", "warning"),
    ("log_statement", "ddl"),
    ("log_temp_files", "0"),
]
_MYSQL_FLAGS = [("local_infile", "off"), ("skip_show_database", "on")]
_SQLSERVER_FLAGS = [
    ("3625", "on"),
    ("contained database authentication", "off"),
    ("cross db ownership chaining", "off"),
    ("external scripts enabled", "off"),
    ("remote access", "off"),
    ("user connections", "0"),
    ("user options", "0"),
]


def database_module(model: Model, plan: GcpPlan) -> Module:
    if plan.database == "firestore":
        return _firestore_module(model, plan)
    src = note(model, "infrastructure.database")
    main: List[Item] = []
    skips = plan.skips.get("database", [])
    inst = resource("google_sql_database_instance", "this", src, skips=skips)
    inst.attrs(
        {
            "name": Raw("var.name"),
            "region": Raw("var.region"),
            "database_version": plan.database_version,
            "deletion_protection": Raw("var.deletion_protection"),
        }
    )
    settings = inst.block("settings")
    settings.attrs(
        {
            "tier": Raw("var.tier"),
            "edition": "ENTERPRISE",
            "availability_type": Raw('var.high_availability ? "REGIONAL" : "ZONAL"'),
            "disk_type": "PD_SSD",
            "disk_size": Raw("var.disk_gb"),
            "disk_autoresize": True,
            "deletion_protection_enabled": Raw("var.deletion_protection"),
            "user_labels": Raw("var.labels"),
        }
    )
    ip = settings.block("ip_configuration")
    ip.comment("Private IP only: no public address, TLS required for every connection.")
    ip.attrs(
        {
            "ipv4_enabled": False,
            "private_network": Raw("var.network_id"),
            "ssl_mode": "ENCRYPTED_ONLY",
        }
    )
    backup = settings.block("backup_configuration")
    backup.comment(note(model, "backup.retention_days") or "Backups kept as long as the documents say.")
    backup.attr("enabled", True)
    if plan.engine == "postgresql":
        backup.attr("point_in_time_recovery_enabled", True)
    elif plan.engine == "mysql":
        backup.attr("binary_log_enabled", True)
    if plan.engine != "sqlserver":
        backup.attr("transaction_log_retention_days", Raw("min(7, var.backup_retention_days)"))
    backup.attr("location", Raw("var.backup_location"))
    backup.block("backup_retention_settings", retained_backups=Raw("var.backup_retention_days"), retention_unit="COUNT")
    settings.block("maintenance_window", day=7, hour=3, update_track="stable")
    settings.block(
        "insights_config",
        query_insights_enabled=True,
        record_application_tags=True,
        record_client_address=False,
    )
    flags = {"postgresql": _POSTGRES_FLAGS, "mysql": _MYSQL_FLAGS, "sqlserver": _SQLSERVER_FLAGS}[plan.engine]
    for flag, value in flags:
        settings.block("database_flags", name=flag, value=value)
    main.append(inst)
    db = resource("google_sql_database", "app")
    db.attrs({"name": Raw("var.database_name"), "instance": Raw("google_sql_database_instance.this.name")})
    main.append(db)
    password = Block("ephemeral", ("random_password", "admin"))
    password.comment(
        "Generated at apply time, never stored in the state or in these files: it is written "
        "once to the database user and to Secret Manager (write-only arguments)."
    )
    password.attrs({"length": 32, "special": True, "override_special": "-_.~"})
    main.append(password)
    user = resource("google_sql_user", "app")
    user.attrs(
        {
            "name": Raw("var.user_name"),
            "instance": Raw("google_sql_database_instance.this.name"),
            "password_wo": Raw("ephemeral.random_password.admin.result"),
            "password_wo_version": Raw("var.password_version"),
        }
    )
    main.append(user)
    version = resource("google_secret_manager_secret_version", "password")
    version.attrs(
        {
            "secret": Raw("var.password_secret_id"),
            "secret_data_wo": Raw("ephemeral.random_password.admin.result"),
            "secret_data_wo_version": Raw("var.password_version"),
        }
    )
    main.append(version)
    variables = _service_variables() + [
        variable("tier", "string", "Machine tier (db-custom-<vCPU>-<MiB>)"),
        variable("disk_gb", "number", "Disk size in GB (grows automatically)"),
        variable("high_availability", "bool", "Regional (primary and standby in two zones) instead of zonal"),
        variable("deletion_protection", "bool", "Refuse to delete the instance"),
        variable("backup_retention_days", "number", "Daily backups kept"),
        variable("backup_location", "string", "Where backups are stored (a region or multi-region)"),
        variable("network_id", "string", "VPC network of the private IP"),
        variable("database_name", "string", "Database of the service"),
        variable("user_name", "string", "Database user of the service"),
        variable("password_secret_id", "string", "Secret Manager secret that receives the generated password"),
        variable("password_version", "number", "Increase to generate and store a new password"),
    ]
    outputs = [
        output(
            "connection_name", Raw("google_sql_database_instance.this.connection_name"), "Cloud SQL connection name"
        ),
        output("private_ip", Raw("google_sql_database_instance.this.private_ip_address"), "Private IP of the instance"),
        output("instance_name", Raw("google_sql_database_instance.this.name"), "Cloud SQL instance"),
        output("database_name", Raw("google_sql_database.app.name"), "Database of the service"),
    ]
    return Module(
        "database",
        "Cloud SQL (%s) with private IP only, TLS, automated backups and point-in-time recovery."
        % plan.database_version,
        main,
        variables,
        outputs,
        (
            "infrastructure.database.engine",
            "infrastructure.database.version",
            "infrastructure.database.storage_gb",
            "infrastructure.database.ha",
            "backup.retention_days",
            "backup.cross_region",
        ),
    )


def _firestore_module(model: Model, plan: GcpPlan) -> Module:
    src = note(model, "infrastructure.database")
    db = resource("google_firestore_database", "this", src)
    db.comment("A document database (the documents name %s): Firestore in native mode." % plan.engine)
    db.attrs(
        {
            "name": Raw("var.name"),
            "location_id": Raw("var.region"),
            "type": "FIRESTORE_NATIVE",
            "point_in_time_recovery_enablement": "POINT_IN_TIME_RECOVERY_ENABLED",
            "delete_protection_state": Raw(
                'var.deletion_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"'
            ),
            "deletion_policy": Raw('var.deletion_protection ? "ABANDON" : "DELETE"'),
        }
    )
    db.block("cmek_config", kms_key_name=Raw("var.kms_key_id"))
    schedule = resource("google_firestore_backup_schedule", "daily")
    schedule.attrs(
        {
            "database": Raw("google_firestore_database.this.name"),
            "retention": interp(Raw("var.backup_retention_days * 86400"), "s"),
        }
    )
    schedule.add(Block("daily_recurrence"))
    variables = _service_variables() + [
        variable("deletion_protection", "bool", "Refuse to delete the database"),
        variable("backup_retention_days", "number", "Days daily backups are kept (at most 98)"),
        variable("kms_key_id", "string", "Customer-managed key of the database"),
    ]
    outputs = [output("database_name", Raw("google_firestore_database.this.name"), "Firestore database")]
    return Module(
        "database",
        "Firestore (native mode) with point-in-time recovery, daily backups and a customer-managed key.",
        [db, schedule],
        variables,
        outputs,
        ("infrastructure.database.engine", "infrastructure.database.ha", "backup.retention_days"),
    )


# --------------------------------------------------------------------------- cache


def cache_module(model: Model, plan: GcpPlan) -> Module:
    src = note(model, "infrastructure.cache")
    cache = resource("google_redis_instance", "this", src)
    engine = model.infrastructure.cache.engine if model.infrastructure.cache else "redis"
    if engine != "redis":
        cache.comment("The documents name %s; Memorystore for Redis is the managed equivalent." % engine)
    cache.attrs(
        {
            "name": Raw("var.name"),
            "region": Raw("var.region"),
            "tier": Raw('var.high_availability ? "STANDARD_HA" : "BASIC"'),
            "memory_size_gb": Raw("var.memory_gb"),
            "redis_version": plan.cache_version,
            "authorized_network": Raw("var.network_id"),
            "connect_mode": "PRIVATE_SERVICE_ACCESS",
            "auth_enabled": True,
            "transit_encryption_mode": "SERVER_AUTHENTICATION",
            "customer_managed_key": Raw("var.kms_key_id"),
            "labels": Raw("var.labels"),
        }
    )
    cache.block("persistence_config", persistence_mode="RDB", rdb_snapshot_period="TWELVE_HOURS")
    window = cache.block("maintenance_policy").block("weekly_maintenance_window", day="SUNDAY")
    window.block("start_time", hours=3, minutes=0, seconds=0, nanos=0)
    variables = _service_variables() + [
        variable("memory_gb", "number", "Memory of the instance in GB"),
        variable("high_availability", "bool", "Standard tier with a replica in another zone"),
        variable("network_id", "string", "VPC network of the private IP"),
        variable("kms_key_id", "string", "Customer-managed key of the instance"),
    ]
    outputs = [
        output("host", Raw("google_redis_instance.this.host"), "Private IP of the cache"),
        output("port", Raw("google_redis_instance.this.port"), "Port of the cache (TLS)"),
        output("auth_string", Raw("google_redis_instance.this.auth_string"), "AUTH string of the cache", True),
    ]
    return Module(
        "cache",
        "Memorystore for Redis: private service access, AUTH, in-transit encryption, RDB persistence.",
        [cache],
        variables,
        outputs,
        ("infrastructure.cache.engine", "infrastructure.cache.memory_mib", "infrastructure.cache.ha"),
    )


# --------------------------------------------------------------------------- storage


def _bucket(name: str, logs: bool, model: Model, plan: GcpPlan, src: Optional[str]) -> Block:
    skips: List[Tuple[str, str]] = []
    if logs:
        skips.append(
            ("CKV_GCP_62", "this is the access-log bucket itself; logging its own access would write into itself")
        )
    bucket = resource("google_storage_bucket", name, src, skips=skips)
    dual = plan.dual_region and name == "data"
    if name == "replica":
        location: Raw = Raw("upper(var.secondary_location)")
    elif dual:
        location = Raw("var.dual_region ? var.dual_region_location : upper(var.region)")
    else:
        location = Raw("upper(var.region)")
    bucket.attrs(
        {
            "name": interp(Raw("var.name"), "-" + ("logs" if logs else name)),
            "location": location,
            "storage_class": "STANDARD",
            "force_destroy": False,
            "uniform_bucket_level_access": True,
            "public_access_prevention": "enforced",
            "labels": Raw("var.labels"),
        }
    )
    if dual:
        bucket.add(
            dynamic(
                "custom_placement_config",
                "var.dual_region ? [var.data_locations] : []",
                [Attr("data_locations", Raw("custom_placement_config.value"))],
            )
        )
    bucket.block("versioning", enabled=True)
    if dual:
        bucket.comment("A dual-region bucket uses Google-managed encryption (a regional key cannot cover two regions).")
        bucket.add(
            dynamic(
                "encryption",
                "var.dual_region ? [] : [var.kms_key_id]",
                [Attr("default_kms_key_name", Raw("encryption.value"))],
            )
        )
    elif name != "replica":
        bucket.block("encryption", default_kms_key_name=Raw("var.kms_key_id"))
    bucket.block("soft_delete_policy", retention_duration_seconds=604800)
    if not logs:
        bucket.block("logging", log_bucket=Raw("google_storage_bucket.logs.name"))
    rule = bucket.block("lifecycle_rule")
    rule.block("condition", age=Raw("var.retention_days") if not logs else 365)
    rule.block("action", type="Delete")
    old = bucket.block("lifecycle_rule")
    old.block("condition", days_since_noncurrent_time=30, with_state="ARCHIVED")
    old.block("action", type="Delete")
    return bucket


def storage_module(model: Model, plan: GcpPlan) -> Module:
    src = note(model, "infrastructure.storage")
    storage = model.infrastructure.storage
    main: List[Item] = [_bucket("logs", True, model, plan, None), _bucket("data", False, model, plan, src)]
    immutable = storage is not None and any(
        word in (storage.service + " " + (storage.bucket_type or "")).lower() for word in ("immutable", "worm")
    )
    if immutable:
        data = main[1]
        retention = Block("retention_policy")
        retention.comment("The documents ask for an immutable (WORM) store: objects cannot be deleted early.")
        retention.attr("retention_period", Raw("var.retention_days * 86400"))
        retention.attr("is_locked", False)
        if isinstance(data, Block):
            data.add(retention)
    if plan.secondary_region and not plan.dual_region:
        replica = _bucket("replica", False, model, plan, src)
        replica.comment("Copy in the second region the documents ask for (fill it with a Storage Transfer job).")
        main.append(replica)
    variables = _service_variables() + [
        variable("retention_days", "number", "Days objects are kept (lifecycle rule)"),
        variable("kms_key_id", "string", "Customer-managed key of the buckets"),
    ]
    if plan.dual_region:
        variables += [
            variable("dual_region", "bool", "Store the data bucket in two regions"),
            variable("dual_region_location", "string", "Multi-region of the dual-region bucket (US, EU, ASIA)"),
            variable("data_locations", "list(string)", "The two regions of the dual-region bucket"),
        ]
    if plan.secondary_region and not plan.dual_region:
        variables.append(variable("secondary_location", "string", "Region of the replica bucket"))
    outputs = [
        output("bucket_name", Raw("google_storage_bucket.data.name"), "Data bucket"),
        output("bucket_url", Raw("google_storage_bucket.data.url"), "gs:// URL of the data bucket"),
    ]
    return Module(
        "storage",
        "Cloud Storage: uniform access, public access prevention, versioning, access logs, "
        "lifecycle from the retention.",
        main,
        variables,
        outputs,
        (
            "infrastructure.storage.retention_days",
            "infrastructure.storage.versioning",
            "infrastructure.storage.replication",
        ),
    )


# --------------------------------------------------------------------------- queue


def queue_module(model: Model, plan: GcpPlan) -> Module:
    src = note(model, "infrastructure.queue")
    queue = model.infrastructure.queue
    dead_letter = not (queue is not None and queue.dead_letter is False)
    main: List[Item] = []
    topic = resource("google_pubsub_topic", "this", src)
    if queue is not None and queue.kind not in ("pubsub", "unknown"):
        topic.comment("The documents name %s; Pub/Sub is the managed equivalent." % queue.kind)
    topic.attrs(
        {
            "name": Raw("var.name"),
            "kms_key_name": Raw("var.kms_key_id"),
            "message_retention_duration": interp(Raw("var.retention_days * 86400"), "s"),
            "labels": Raw("var.labels"),
        }
    )
    main.append(topic)
    sub = resource("google_pubsub_subscription", "this", src)
    sub.attrs(
        {
            "name": interp(Raw("var.name"), "-sub"),
            "topic": Raw("google_pubsub_topic.this.id"),
            "ack_deadline_seconds": 60,
            "message_retention_duration": interp(Raw("min(var.retention_days, 7) * 86400"), "s"),
            "retain_acked_messages": False,
            "labels": Raw("var.labels"),
        }
    )
    sub.block("expiration_policy", ttl="")
    sub.block("retry_policy", minimum_backoff="10s", maximum_backoff="600s")
    if dead_letter:
        sub.block(
            "dead_letter_policy",
            dead_letter_topic=Raw("google_pubsub_topic.dead_letter.id"),
            max_delivery_attempts=Raw("var.max_delivery_attempts"),
        )
    main.append(sub)
    if dead_letter:
        dlq = resource("google_pubsub_topic", "dead_letter")
        dlq.attrs(
            {
                "name": interp(Raw("var.name"), "-dlq"),
                "kms_key_name": Raw("var.kms_key_id"),
                "message_retention_duration": interp(Raw("var.retention_days * 86400"), "s"),
                "labels": Raw("var.labels"),
            }
        )
        main.append(dlq)
        dlq_sub = resource("google_pubsub_subscription", "dead_letter")
        dlq_sub.comment("Keeps dead-lettered messages for inspection and replay.")
        dlq_sub.attrs(
            {
                "name": interp(Raw("var.name"), "-dlq-sub"),
                "topic": Raw("google_pubsub_topic.dead_letter.id"),
                "message_retention_duration": "604800s",
                "labels": Raw("var.labels"),
            }
        )
        dlq_sub.block("expiration_policy", ttl="")
        main.append(dlq_sub)
        agent = interp("serviceAccount:service-", Raw("var.project_number"), "@gcp-sa-pubsub.iam.gserviceaccount.com")
        publisher = resource("google_pubsub_topic_iam_member", "dead_letter_publisher")
        publisher.comment("The Pub/Sub service agent forwards undeliverable messages to the dead-letter topic.")
        publisher.attrs(
            {"topic": Raw("google_pubsub_topic.dead_letter.id"), "role": "roles/pubsub.publisher", "member": agent}
        )
        main.append(publisher)
        subscriber = resource("google_pubsub_subscription_iam_member", "dead_letter_subscriber")
        subscriber.attrs(
            {
                "subscription": Raw("google_pubsub_subscription.this.id"),
                "role": "roles/pubsub.subscriber",
                "member": agent,
            }
        )
        main.append(subscriber)
    for role, target, kind in (
        ("roles/pubsub.publisher", "google_pubsub_topic.this.id", "topic"),
        ("roles/pubsub.subscriber", "google_pubsub_subscription.this.id", "subscription"),
    ):
        grant = resource("google_pubsub_%s_iam_member" % kind, "runtime_%s" % kind)
        grant.attrs(
            {kind: Raw(target), "role": role, "member": interp("serviceAccount:", Raw("var.runtime_service_account"))}
        )
        main.append(grant)
    variables = [
        variable("name", "string", "Name of the topic (the subscription and dead-letter topic derive from it)"),
        _LABELS,
        variable("retention_days", "number", "Days messages are kept on the topic (at most 31)"),
        variable("kms_key_id", "string", "Customer-managed key of the topics"),
        variable("project_number", "string", "Project number (Pub/Sub service agent)"),
        variable("runtime_service_account", "string", "Service account that publishes and consumes"),
    ]
    if dead_letter:
        variables.append(variable("max_delivery_attempts", "number", "Deliveries before a message is dead-lettered"))
    outputs = [
        output("topic_id", Raw("google_pubsub_topic.this.id"), "Topic"),
        output("topic_name", Raw("google_pubsub_topic.this.name"), "Topic name"),
        output("subscription_id", Raw("google_pubsub_subscription.this.id"), "Subscription"),
    ]
    return Module(
        "queue",
        "Pub/Sub topic and subscription with retention%s, encrypted with a customer-managed key."
        % (" and a dead-letter topic" if dead_letter else ""),
        main,
        variables,
        outputs,
        (
            "infrastructure.queue.kind",
            "infrastructure.queue.retention_days",
            "infrastructure.queue.dead_letter",
            "infrastructure.queue.max_receive_count",
        ),
    )


__all__ = [
    "REQUIRED",
    "GcpPlan",
    "cache_module",
    "database_module",
    "network_module",
    "queue_module",
    "storage_module",
]
