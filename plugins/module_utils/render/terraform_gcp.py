# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Terraform for Google Cloud: ``render(model, cloud) -> FileSet``.

Layout (the same on every cloud): versions.tf, providers.tf, backend.tf (partial
GCS configuration), variables.tf (defaults are the production values, so a
policy scan sees what production gets), main.tf, outputs.tf,
environments/<env>.tfvars and modules/{network,compute,database,cache,storage,
queue}/ where the documents ask for them (network always).

Compute: Cloud Run behind an external HTTPS load balancer, or GKE when the
documents name GKE / Kubernetes (any Kubernetes service of another cloud maps to
GKE; every other kind, such as ECS Fargate, Lambda, Container Apps or VMs, maps
to Cloud Run, the nearest managed runtime for the service's container image).
"""

from __future__ import annotations

import math
import re
from typing import Any, Dict, List, Optional, Tuple

from ..fileset import FileSet
from ..model import Model
from . import common
from .hcl import Block, Comment, Raw, expr, q
from .terraform_gcp_compute import cloud_run_module, gke_module
from .terraform_gcp_modules import (
    GcpPlan,
    cache_module,
    database_module,
    network_module,
    queue_module,
    storage_module,
)
from .terraform_gcp_root import (
    alert_policies,
    budget_resources,
    region_continent,
    tfvars_items,
    variables_file,
)
from .terraform_gcp_support import (
    Item,
    Module,
    Tree,
    cloud_region,
    document_engine,
    environments,
    interp,
    lifecycle,
    module_call,
    multi_region,
    note,
    output,
    resource,
    secondary_region,
    sensitive_env,
    service_name,
)

GOOGLE_VERSION = "~> 7.0"
RANDOM_VERSION = "~> 3.7"
TERRAFORM_VERSION = ">= 1.11.0"
DEFAULT_REGION = "us-central1"
#: Cloud Run CPU steps and the memory range (MiB) each allows.
_RUN_CPU = [(1, 512, 4096), (2, 512, 8192), (4, 2048, 16384), (6, 4096, 24576), (8, 4096, 32768)]
_KUBERNETES = ("gke", "kubernetes", "eks", "aks")
_ENV_WIRING = (
    (r"^(REDIS|CACHE)_(HOST|HOSTNAME)$", "cache", "module.cache.host"),
    (r"^(REDIS|CACHE)_PORT$", "cache", "module.cache.port"),
    (r"^(REDIS|CACHE)_(ADDR|ADDRESS)$", "cache", '"${module.cache.host}:${module.cache.port}"'),
    (r"^(REDIS|CACHE)_URL$", "cache", '"rediss://${module.cache.host}:${module.cache.port}"'),
    (r"^(DB|DATABASE|PG|POSTGRES|MYSQL)_(HOST|HOSTNAME)$", "cloud-sql", "module.database.private_ip"),
    (r"^(DB|DATABASE|PG|POSTGRES|MYSQL)_NAME$", "cloud-sql", "module.database.database_name"),
    (r"BUCKET", "storage", "module.storage.bucket_name"),
    (r"(TOPIC|QUEUE)", "queue", "module.queue.topic_name"),
    (r"^(GOOGLE_CLOUD_PROJECT|GCP_PROJECT|PROJECT_ID)$", "always", "var.project_id"),
)
_SECRET_WIRING = (
    (r"^(DB|DATABASE|PG|POSTGRES|MYSQL)_PASS(WORD)?$", "database-password"),
    (r"^(REDIS|CACHE)_(PASSWORD|AUTH|AUTH_STRING)$", "cache-auth"),
)


# --------------------------------------------------------------------------- the plan


def _cloud_run_size(model: Model) -> Tuple[str, str]:
    sizes = common.compute_sizes(model)
    memory = max(512, int(sizes.memory_mib))
    for cpu, low, high in _RUN_CPU:
        if cpu >= sizes.vcpu and memory <= high:
            return str(cpu), "%dMi" % max(memory, low)
    return "8", "%dMi" % min(max(memory, 4096), 32768)


def _database_version(model: Model) -> Tuple[Optional[str], str, str]:
    """(kind, engine, database version) on GCP."""
    db = model.infrastructure.database
    family = document_engine(model)
    if db is None or family is None:
        return None, "", ""
    if family == "document":
        return "firestore", db.engine, ""
    major = (db.version or "").strip()
    if db.engine == "postgresql":
        m = re.match(r"^(\d+)", major)
        number_ = int(m.group(1)) if m else 18
        return "cloud-sql", "postgresql", "POSTGRES_%d" % (number_ if 9 <= number_ <= 18 else 18)
    if db.engine in ("mysql", "mariadb"):
        m = re.match(r"^(\d+)\.(\d+)", major)
        pick = {"5.6": "MYSQL_5_6", "5.7": "MYSQL_5_7", "8.0": "MYSQL_8_0", "8.4": "MYSQL_8_4"}
        key = "%s.%s" % (m.group(1), m.group(2)) if m else "8.4"
        return "cloud-sql", "mysql", pick.get(key, "MYSQL_8_4")
    return "cloud-sql", "sqlserver", "SQLSERVER_2022_STANDARD"


def _database_tier(model: Model) -> str:
    db = model.infrastructure.database
    vcpu = math.ceil(db.vcpu) if db and db.vcpu else 2
    vcpu = max(1, min(vcpu, 96))
    memory = db.memory_mib if db and db.memory_mib else vcpu * 4096
    memory = math.ceil(memory / 256.0) * 256
    memory = max(math.ceil(vcpu * 0.9 * 1024 / 256.0) * 256, min(memory, int(vcpu * 6.5 * 1024) // 256 * 256))
    return "db-custom-%d-%d" % (vcpu, memory)


def plan_for(model: Model) -> GcpPlan:
    infra = model.infrastructure
    compute = infra.compute
    kind = compute.kind if compute else "unknown"
    text = ((compute.service if compute else "") or "").lower()
    gke = kind in _KUBERNETES
    mapped = ""
    if gke and kind != "gke":
        mapped = "The documents name %s; GKE is the Kubernetes service of Google Cloud." % kind
    elif not gke and kind not in ("cloud-run", "unknown"):
        mapped = (
            "The documents name %s; Cloud Run is the nearest managed runtime on Google Cloud for the "
            "service's container image." % kind
        )
    cpu, memory = _cloud_run_size(model)
    db_kind, engine, version = _database_version(model)
    db = infra.database
    cache = infra.cache
    region = cloud_region(model, "gcp", DEFAULT_REGION)
    second = secondary_region(model, "gcp") if multi_region(model) else None
    dual = bool(second and region_continent(region) and region_continent(region) == region_continent(second))
    machine = (compute.instance_type if compute else None) or ""
    if not re.match(r"^[a-z][a-z0-9]*-[a-z0-9-]+$", machine) or machine.startswith(("db.", "standard_")):
        machine = "e2-standard-4"
    cache_version = "REDIS_7_2"
    if cache and cache.version:
        m = re.match(r"^(\d+)(?:\.(\d+))?", cache.version.strip())
        if m and m.group(1) == "6":
            cache_version = "REDIS_6_X"
        elif m and m.group(1) == "7" and m.group(2) == "0":
            cache_version = "REDIS_7_0"
    plan = GcpPlan(
        name=service_name(model),
        compute="gke" if gke else "cloud-run",
        gke_autopilot=gke and "autopilot" in text,
        machine_type=machine,
        port=common.port(model),
        cpu=cpu,
        memory=memory,
        database=db_kind,
        engine=engine,
        database_version=version,
        database_tier=_database_tier(model),
        database_disk_gb=max(10, (db.storage_gb if db and db.storage_gb else 20)),
        cache=cache is not None,
        cache_version=cache_version,
        storage=infra.storage is not None,
        queue=infra.queue is not None,
        tls_domain=model.security.tls.domain if model.security.tls else None,
        dual_region=dual,
        region=region,
        secondary_region=second,
        mapped_compute=mapped,
    )
    if db_kind == "cloud-sql" and engine != "sqlserver":
        plan.skips.setdefault("database", []).append(
            (
                "CKV_GCP_6",
                "TLS is required for every connection (ssl_mode ENCRYPTED_ONLY); client certificates are not, "
                "because the service connects over the private IP with the user and password of its secret",
            )
        )
    if db_kind == "cloud-sql" and version not in ("POSTGRES_18", "MYSQL_8_0", "MYSQL_8_4", "SQLSERVER_2022_STANDARD"):
        plan.skips.setdefault("database", []).append(
            (
                "CKV_GCP_79",
                "the documents pin %s %s; moving to the latest major version is a change of the documents"
                % (engine, db.version if db else ""),
            )
        )
    return plan


# --------------------------------------------------------------------------- helpers


def _labels(model: Model) -> Dict[str, Any]:
    data: Dict[str, Any] = dict(common.labels(model))
    data["environment"] = Raw("var.environment")
    return data


def _secret_keys(model: Model, plan: GcpPlan) -> Tuple[Dict[str, str], Dict[str, str]]:
    """(secret key -> description, env var -> secret key) of the Secret Manager secrets."""
    secrets: Dict[str, str] = {}
    env_map: Dict[str, str] = {}
    if plan.database == "cloud-sql":
        secrets["database-password"] = "Generated password of the database user"
    if plan.cache:
        secrets["cache-auth"] = "AUTH string of the cache"
    for name in sensitive_env(model):
        key = None
        for pattern, wired in _SECRET_WIRING:
            if re.search(pattern, name) and wired in secrets:
                key = wired
        if key is None:
            key = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "secret"
            if key in secrets:
                key = "env-" + key
            secrets[key] = "Value of %s (added by an operator; never in these files)" % name
        env_map[name] = key
    return dict(sorted(secrets.items())), env_map


def _plain_env(model: Model, plan: GcpPlan) -> Tuple[Dict[str, Any], List[str]]:
    """(env var -> value expression, required names the operator must give)."""
    present = {
        "cache": plan.cache,
        "cloud-sql": plan.database == "cloud-sql",
        "storage": plan.storage,
        "queue": plan.queue,
        "always": True,
    }
    values: Dict[str, Any] = {}
    required: List[str] = []
    for var in model.service.env:
        if var.sensitive or var.name in values:
            continue
        if plan.compute == "cloud-run" and var.name == "PORT":
            continue  # Cloud Run sets PORT itself and refuses it in env
        wired = None
        for pattern, needs, target in _ENV_WIRING:
            if re.search(pattern, var.name) and present[needs]:
                wired = target
                break
        if wired is not None:
            values[var.name] = Raw(wired)
        elif var.default is not None:
            values[var.name] = var.default
        elif var.required:
            required.append(var.name)
    return values, sorted(required)


# --------------------------------------------------------------------------- files


def _versions(plan: GcpPlan) -> List[Item]:
    providers: Dict[str, Any] = {"google": {"source": "hashicorp/google", "version": GOOGLE_VERSION}}
    if plan.database == "cloud-sql":
        providers["random"] = {"source": "hashicorp/random", "version": RANDOM_VERSION}
    tf = Block("terraform")
    tf.comment(
        "1.11 or later: write-only arguments and ephemeral resources keep the database password out of the state."
    )
    tf.attr("required_version", TERRAFORM_VERSION)
    tf.block("required_providers").attrs(providers)
    return [tf]


def _module_versions(plan: GcpPlan, module: str) -> List[Item]:
    providers: Dict[str, Any] = {"google": {"source": "hashicorp/google", "version": GOOGLE_VERSION}}
    if module == "database" and plan.database == "cloud-sql":
        providers["random"] = {"source": "hashicorp/random", "version": RANDOM_VERSION}
    tf = Block("terraform")
    tf.attr("required_version", TERRAFORM_VERSION)
    tf.block("required_providers").attrs(providers)
    return [tf]


def _providers(model: Model) -> List[Item]:
    provider = Block("provider", ("google",))
    provider.attrs({"project": Raw("var.project_id"), "region": Raw("var.region")})
    provider.comment("Every resource that takes labels gets these (requirement id included).")
    provider.attr("default_labels", _labels(model))
    return [provider]


def _backend(model: Model, plan: GcpPlan) -> List[Item]:
    return [
        Comment(
            "Partial configuration: the state bucket and prefix are given at init, one prefix per environment:\n"
            '  terraform init -backend-config="bucket=<state bucket>" -backend-config="prefix=%s/<environment>"'
            % plan.name
        ),
        Block("terraform", (), [Block("backend", ("gcs",))]),
    ]


def _apis(plan: GcpPlan) -> List[str]:
    apis = {
        "cloudkms.googleapis.com",
        "compute.googleapis.com",
        "artifactregistry.googleapis.com",
        "containerscanning.googleapis.com",
        "secretmanager.googleapis.com",
        "monitoring.googleapis.com",
        "logging.googleapis.com",
        "iam.googleapis.com",
        "pubsub.googleapis.com",
    }
    apis.add("container.googleapis.com" if plan.compute == "gke" else "run.googleapis.com")
    if plan.connector:
        apis.add("vpcaccess.googleapis.com")
    if plan.private_services:
        apis.add("servicenetworking.googleapis.com")
    if plan.database == "cloud-sql":
        apis.add("sqladmin.googleapis.com")
    if plan.database == "firestore":
        apis.add("firestore.googleapis.com")
    if plan.cache:
        apis.add("redis.googleapis.com")
    if plan.compute == "gke":
        apis.add("binaryauthorization.googleapis.com")
    return sorted(apis)


def _agents(plan: GcpPlan) -> Dict[str, str]:
    agents = {
        "artifactregistry": "gcp-sa-artifactregistry.iam.gserviceaccount.com",
        "pubsub": "gcp-sa-pubsub.iam.gserviceaccount.com",
        "secretmanager": "gcp-sa-secretmanager.iam.gserviceaccount.com",
    }
    if plan.storage:
        agents["storage"] = "gs-project-accounts.iam.gserviceaccount.com"
    if plan.cache:
        agents["redis"] = "cloud-redis.iam.gserviceaccount.com"
    if plan.compute == "gke":
        agents["gke"] = "container-engine-robot.iam.gserviceaccount.com"
    if plan.database == "firestore":
        agents["firestore"] = "gcp-sa-firestore.iam.gserviceaccount.com"
    return dict(sorted(agents.items()))


def _main(model: Model, plan: GcpPlan, modules: List[Module]) -> List[Item]:
    items: List[Item] = []
    labels = _labels(model)
    locals_ = Block("locals")
    locals_.attr("name", interp(Raw("var.service_name"), "-", Raw("var.environment")))
    locals_.attr(
        "short_name",
        interp(Raw("substr(var.service_name, 0, 12)"), "-", Raw('trimsuffix(substr(var.environment, 0, 7), "-")')),
    )
    locals_.attr("labels", labels)
    locals_.attr(
        "image",
        Raw(
            'coalesce(var.image, "${var.region}-docker.pkg.dev/${var.project_id}/'
            '${google_artifact_registry_repository.images.repository_id}/${var.service_name}:%s")'
            % _escape_template(common.image_tag(model))
        ),
    )
    secrets, env_secret = _secret_keys(model, plan)
    plain = _plain_env(model, plan)[0]
    locals_.attr("document_env", dict(sorted(plain.items())))
    locals_.attr("plain_env", Raw("merge(local.document_env, var.app_env)"))
    locals_.attr(
        "secret_env",
        {
            name: Raw('google_secret_manager_secret.this["%s"].secret_id' % key)
            for name, key in sorted(env_secret.items())
        },
    )
    items.append(locals_)
    items.append(Block("data", ("google_project", "this")))
    apis = resource("google_project_service", "apis")
    apis.attr("for_each", Raw("toset(%s)" % _list_expr(_apis(plan))))
    apis.attrs({"service": Raw("each.value"), "disable_on_destroy": False})
    items.append(apis)
    items.extend(_kms(plan))
    items.extend(_identity(model, plan))
    items.extend(_secrets(model, plan, secrets))
    items.extend(_registry(model, plan))
    for module in modules:
        items.append(_module_block(model, plan, module.name))
    if plan.cache:
        auth = resource("google_secret_manager_secret_version", "cache_auth")
        auth.comment("The cache AUTH string goes to Secret Manager without passing through these files.")
        auth.attrs(
            {
                "secret": Raw('google_secret_manager_secret.this["cache-auth"].id'),
                "secret_data_wo": Raw("module.cache.auth_string"),
                "secret_data_wo_version": 1,
            }
        )
        items.append(auth)
    items.extend(alert_policies(model, plan))
    items.extend(budget_resources(model))
    return items


def _escape_template(text: str) -> str:
    """Text for the inside of an HCL template string."""
    return str(q(text))[1:-1]


def _list_expr(values: List[str]) -> str:
    return expr(values, 1)


def _kms(plan: GcpPlan) -> List[Item]:
    ring = resource("google_kms_key_ring", "this")
    ring.attrs({"name": interp(Raw("local.name"), "-keys"), "location": Raw("var.region")})
    ring.attr("depends_on", [Raw("google_project_service.apis")])
    key = resource("google_kms_crypto_key", "this")
    key.comment("Customer-managed key of the registry, buckets, topics, secrets and cache, rotated every 90 days.")
    key.attrs(
        {
            "name": Raw("local.name"),
            "key_ring": Raw("google_kms_key_ring.this.id"),
            "purpose": "ENCRYPT_DECRYPT",
            "rotation_period": "7776000s",
            "labels": Raw("local.labels"),
        }
    )
    key.add(lifecycle(prevent_destroy=True))
    grant = resource("google_kms_crypto_key_iam_member", "service_agents")
    grant.comment("The Google service agents that encrypt with the key.")
    grant.attr("for_each", _agent_map(plan))
    grant.attrs(
        {
            "crypto_key_id": Raw("google_kms_crypto_key.this.id"),
            "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
            "member": interp("serviceAccount:", Raw("each.value")),
        }
    )
    return [ring, key, grant]


def _agent_map(plan: GcpPlan) -> Dict[str, Any]:
    return {
        name: interp("service-", Raw("data.google_project.this.number"), "@" + domain)
        for name, domain in _agents(plan).items()
    }


def _identity(model: Model, plan: GcpPlan) -> List[Item]:
    iam = note(model, "security.iam")
    items: List[Item] = []
    sa = resource("google_service_account", "runtime", iam)
    sa.attrs(
        {
            "account_id": interp(Raw("local.short_name"), "-run"),
            "display_name": interp("Runtime identity of ", Raw("local.name")),
        }
    )
    items.append(sa)
    roles = ["roles/cloudtrace.agent", "roles/logging.logWriter", "roles/monitoring.metricWriter"]
    if plan.database == "cloud-sql":
        roles.append("roles/cloudsql.client")
    if plan.database == "firestore":
        roles.append("roles/datastore.user")
    grant = resource("google_project_iam_member", "runtime")
    grant.comment(
        "Least privilege: project roles only for telemetry and the database client; the rest is per resource."
    )
    grant.attr("for_each", Raw("toset(%s)" % _list_expr(sorted(roles))))
    grant.attrs(
        {
            "project": Raw("var.project_id"),
            "role": Raw("each.value"),
            "member": interp("serviceAccount:", Raw("google_service_account.runtime.email")),
        }
    )
    items.append(grant)
    if plan.compute == "gke":
        nodes = resource("google_service_account", "nodes")
        nodes.attrs(
            {
                "account_id": interp(Raw("local.short_name"), "-gke"),
                "display_name": interp("GKE nodes of ", Raw("local.name")),
            }
        )
        items.append(nodes)
        node_roles = [
            "roles/logging.logWriter",
            "roles/monitoring.metricWriter",
            "roles/monitoring.viewer",
            "roles/stackdriver.resourceMetadata.writer",
        ]
        node_grant = resource("google_project_iam_member", "nodes")
        node_grant.attr("for_each", Raw("toset(%s)" % _list_expr(node_roles)))
        node_grant.attrs(
            {
                "project": Raw("var.project_id"),
                "role": Raw("each.value"),
                "member": interp("serviceAccount:", Raw("google_service_account.nodes.email")),
            }
        )
        items.append(node_grant)
    return items


def _secrets(model: Model, plan: GcpPlan, secrets: Dict[str, str]) -> List[Item]:
    src = note(model, "security.secrets")
    rotation = model.security.secrets.rotation_days if model.security.secrets else None
    items: List[Item] = []
    if not secrets:
        return items
    if rotation:
        topic = resource("google_pubsub_topic", "secret_rotation", src)
        topic.comment("Secret Manager announces due rotations here (9.5.6 rotation period).")
        topic.attrs(
            {
                "name": interp(Raw("local.name"), "-secret-rotation"),
                "kms_key_name": Raw("google_kms_crypto_key.this.id"),
                "labels": Raw("local.labels"),
            }
        )
        topic.attr("depends_on", [Raw("google_kms_crypto_key_iam_member.service_agents")])
        items.append(topic)
        pub = resource("google_pubsub_topic_iam_member", "secret_rotation")
        pub.attrs(
            {
                "topic": Raw("google_pubsub_topic.secret_rotation.id"),
                "role": "roles/pubsub.publisher",
                "member": interp(
                    "serviceAccount:service-",
                    Raw("data.google_project.this.number"),
                    "@gcp-sa-secretmanager.iam.gserviceaccount.com",
                ),
            }
        )
        items.append(pub)
    secret = resource("google_secret_manager_secret", "this", src)
    secret.comment(
        "Secrets hold no value here: generated ones are written by Terraform (write-only), the others by an operator."
    )
    secret.attr("for_each", dict(secrets))
    secret.attrs({"secret_id": interp(Raw("local.name"), "-", Raw("each.key")), "labels": Raw("local.labels")})
    replicas = secret.block("replication").block("user_managed").block("replicas", location=Raw("var.region"))
    replicas.block("customer_managed_encryption", kms_key_name=Raw("google_kms_crypto_key.this.id"))
    depends = [Raw("google_kms_crypto_key_iam_member.service_agents")]
    if rotation:
        secret.block("topics", name=Raw("google_pubsub_topic.secret_rotation.id"))
        secret.block(
            "rotation",
            rotation_period=interp(Raw("var.secret_rotation_days * 86400"), "s"),
            next_rotation_time=Raw('timeadd(plantimestamp(), "${var.secret_rotation_days * 24}h")'),
        )
        secret.comment("The first rotation is scheduled at creation; Secret Manager moves it forward afterwards.")
        secret.add(lifecycle(ignore=["rotation[0].next_rotation_time"]))
        depends.append(Raw("google_pubsub_topic_iam_member.secret_rotation"))
    secret.attr("depends_on", depends)
    items.append(secret)
    access = resource("google_secret_manager_secret_iam_member", "runtime")
    access.comment("The runtime identity reads each secret, nothing else in Secret Manager.")
    access.attr("for_each", Raw("google_secret_manager_secret.this"))
    access.attrs(
        {
            "secret_id": Raw("each.value.id"),
            "role": "roles/secretmanager.secretAccessor",
            "member": interp("serviceAccount:", Raw("google_service_account.runtime.email")),
        }
    )
    items.append(access)
    return items


def _registry(model: Model, plan: GcpPlan) -> List[Item]:
    scan = note(model, "security.image_scanning")
    repo = resource("google_artifact_registry_repository", "images", scan)
    repo.comment("Immutable tags and scanning on push (9.5.6 image scanning).")
    repo.attrs(
        {
            "location": Raw("var.region"),
            "repository_id": Raw("local.name"),
            "format": "DOCKER",
            "description": interp("Images of ", Raw("var.service_name")),
            "kms_key_name": Raw("google_kms_crypto_key.this.id"),
            "labels": Raw("local.labels"),
        }
    )
    repo.block("docker_config", immutable_tags=True)
    repo.block("vulnerability_scanning_config", enablement_config="ENABLED")
    repo.attr("depends_on", [Raw("google_kms_crypto_key_iam_member.service_agents")])
    items: List[Item] = [repo]
    if plan.compute == "gke":
        reader = resource("google_artifact_registry_repository_iam_member", "nodes")
        reader.attrs(
            {
                "location": Raw("google_artifact_registry_repository.images.location"),
                "repository": Raw("google_artifact_registry_repository.images.name"),
                "role": "roles/artifactregistry.reader",
                "member": interp("serviceAccount:", Raw("google_service_account.nodes.email")),
            }
        )
        items.append(reader)
    return items


def _module_block(model: Model, plan: GcpPlan, name: str) -> Block:
    source = "./modules/%s" % name
    labels = Raw('merge(local.labels, { component = "%s" })' % name)
    kms = Raw("google_kms_crypto_key.this.id")
    depends: List[str] = []
    values: Dict[str, Any]
    if name == "network":
        values = {"name": Raw("local.name"), "region": Raw("var.region"), "cidr": Raw("var.network_cidr")}
        if plan.connector:
            values["connector_name"] = Raw("local.short_name")
        if plan.compute == "gke":
            values["app_port"] = Raw("var.container_port")
        depends = ["google_project_service.apis"]
    elif name == "compute" and plan.compute == "cloud-run":
        values = {
            "name": Raw("local.name"),
            "region": Raw("var.region"),
            "labels": labels,
            "image": Raw("local.image"),
            "port": Raw("var.container_port"),
            "cpu": Raw("var.cpu"),
            "memory": Raw("var.memory"),
            "min_instances": Raw("var.min_instances"),
            "max_instances": Raw("var.max_instances"),
            "service_account_email": Raw("google_service_account.runtime.email"),
            "deletion_protection": Raw("var.deletion_protection"),
            "plain_env": Raw("local.plain_env"),
            "secret_env": Raw("local.secret_env"),
            "tls_domain": Raw("var.tls_domain"),
        }
        if plan.connector:
            values["connector_id"] = Raw("module.network.connector_id")
        depends = ["google_project_iam_member.runtime"]
        if _secret_keys(model, plan)[0]:
            depends.append("google_secret_manager_secret_iam_member.runtime")
    elif name == "compute":
        values = {
            "name": Raw("local.name"),
            "region": Raw("var.region"),
            "labels": labels,
            "project_id": Raw("var.project_id"),
            "network_id": Raw("module.network.network_id"),
            "subnet_id": Raw("module.network.subnet_id"),
            "pods_range_name": Raw("module.network.pods_range_name"),
            "services_range_name": Raw("module.network.services_range_name"),
            "deletion_protection": Raw("var.deletion_protection"),
            "kms_key_id": kms,
            "node_service_account_email": Raw("google_service_account.nodes.email"),
            "service_account_id": Raw("google_service_account.runtime.name"),
            "namespace": Raw("var.service_name"),
            "tls_domain": Raw("var.tls_domain"),
            "admin_cidrs": Raw("var.admin_cidrs"),
        }
        if not plan.gke_autopilot:
            values.update(
                {
                    "machine_type": Raw("var.machine_type"),
                    "min_nodes": Raw("var.min_nodes"),
                    "max_nodes": Raw("var.max_nodes"),
                }
            )
        depends = ["google_kms_crypto_key_iam_member.service_agents", "google_project_iam_member.nodes"]
    elif name == "database" and plan.database == "cloud-sql":
        db_name = re.sub(r"[^a-z0-9_]", "_", plan.name.lower())
        values = {
            "name": Raw("local.name"),
            "region": Raw("var.region"),
            "labels": labels,
            "tier": Raw("var.database_tier"),
            "disk_gb": Raw("var.database_disk_gb"),
            "high_availability": Raw("var.database_high_availability"),
            "deletion_protection": Raw("var.deletion_protection"),
            "backup_retention_days": Raw("var.backup_retention_days"),
            "backup_location": Raw("var.backup_location"),
            "network_id": Raw("module.network.network_id"),
            "database_name": db_name,
            "user_name": db_name[:16].strip("_") or "app",
            "password_secret_id": Raw('google_secret_manager_secret.this["database-password"].id'),
            "password_version": Raw("var.database_password_version"),
        }
        depends = ["module.network"]
    elif name == "database":
        values = {
            "name": Raw("local.name"),
            "region": Raw("var.region"),
            "labels": labels,
            "deletion_protection": Raw("var.deletion_protection"),
            "backup_retention_days": Raw("min(var.backup_retention_days, 98)"),
            "kms_key_id": kms,
        }
        depends = ["google_kms_crypto_key_iam_member.service_agents"]
    elif name == "cache":
        values = {
            "name": Raw("local.name"),
            "region": Raw("var.region"),
            "labels": labels,
            "memory_gb": Raw("var.cache_memory_gb"),
            "high_availability": Raw("var.cache_high_availability"),
            "network_id": Raw("module.network.network_id"),
            "kms_key_id": kms,
        }
        depends = ["module.network", "google_kms_crypto_key_iam_member.service_agents"]
    elif name == "storage":
        values = {
            "name": interp(Raw("local.short_name"), "-", Raw("var.project_id")),
            "region": Raw("var.region"),
            "labels": labels,
            "retention_days": Raw("var.storage_retention_days"),
            "kms_key_id": kms,
        }
        if plan.dual_region and plan.secondary_region:
            values["dual_region"] = Raw("var.storage_dual_region")
            values["dual_region_location"] = region_continent(plan.region)
            values["data_locations"] = [plan.region.upper(), plan.secondary_region.upper()]
        elif plan.secondary_region:
            values["secondary_location"] = plan.secondary_region
        depends = ["google_kms_crypto_key_iam_member.service_agents"]
    else:
        queue = model.infrastructure.queue
        values = {
            "name": Raw("local.name"),
            "labels": labels,
            "retention_days": Raw("var.queue_retention_days"),
            "kms_key_id": kms,
            "project_number": Raw("data.google_project.this.number"),
            "runtime_service_account": Raw("google_service_account.runtime.email"),
        }
        if not (queue is not None and queue.dead_letter is False):
            values["max_delivery_attempts"] = queue.max_receive_count if queue and queue.max_receive_count else 5
        depends = ["google_kms_crypto_key_iam_member.service_agents"]
    block = module_call(name, source, values, depends)
    return block


def _outputs(plan: GcpPlan) -> List[Item]:
    out: List[Item] = [
        output("load_balancer_ip", Raw("module.compute.load_balancer_ip"), "Address to point the DNS record at"),
        output("url", interp("https://", Raw("var.tls_domain")), "Public URL of the service"),
        output("runtime_service_account", Raw("google_service_account.runtime.email"), "Runtime identity"),
        output(
            "image_repository",
            interp(
                Raw("var.region"),
                "-docker.pkg.dev/",
                Raw("var.project_id"),
                "/",
                Raw("google_artifact_registry_repository.images.repository_id"),
            ),
            "Artifact Registry repository of the images",
        ),
    ]
    if plan.compute == "cloud-run":
        out.append(output("service_name", Raw("module.compute.service_name"), "Cloud Run service"))
    else:
        out.append(output("cluster_name", Raw("module.compute.cluster_name"), "GKE cluster"))
        out.append(output("ingress_annotations", Raw("module.compute.ingress_annotations"), "Ingress annotations"))
    if plan.database == "cloud-sql":
        out.append(output("database_connection_name", Raw("module.database.connection_name"), "Cloud SQL connection"))
        out.append(output("database_private_ip", Raw("module.database.private_ip"), "Private IP of the database"))
    if plan.cache:
        out.append(output("cache_host", Raw("module.cache.host"), "Private IP of the cache"))
    if plan.storage:
        out.append(output("bucket_name", Raw("module.storage.bucket_name"), "Data bucket"))
    if plan.queue:
        out.append(output("topic_name", Raw("module.queue.topic_name"), "Pub/Sub topic"))
    return out


# --------------------------------------------------------------------------- entry point


def render(model: Model, cloud: str = "gcp") -> FileSet:
    """The Terraform configuration of the model on Google Cloud."""
    plan = plan_for(model)
    modules: List[Module] = [network_module(model, plan)]
    modules.append(gke_module(model, plan) if plan.compute == "gke" else cloud_run_module(model, plan))
    if plan.database:
        modules.append(database_module(model, plan))
    if plan.cache:
        modules.append(cache_module(model, plan))
    if plan.storage:
        modules.append(storage_module(model, plan))
    if plan.queue:
        modules.append(queue_module(model, plan))
    tree = Tree()
    required = _plain_env(model, plan)[1]
    base_fields = ("service.name", "traceability.req", "cloud.provider", "cloud.primary_region")
    tree.add("versions.tf", _versions(plan), ("infrastructure.database.engine",))
    tree.add("providers.tf", _providers(model), base_fields)
    tree.add("backend.tf", _backend(model, plan), ("service.name",))
    tree.add(
        "variables.tf",
        variables_file(model, plan, required),
        base_fields
        + (
            "environments",
            "infrastructure.compute",
            "infrastructure.database",
            "infrastructure.cache",
            "infrastructure.storage",
            "infrastructure.queue",
            "infrastructure.network.cidr",
            "security.tls.domain",
            "security.secrets.rotation_days",
            "backup.retention_days",
            "service.ports",
            "service.image",
        ),
    )
    tree.add(
        "main.tf",
        _main(model, plan, modules),
        base_fields
        + (
            "service.env",
            "security.secrets",
            "security.iam",
            "security.image_scanning",
            "observability.thresholds",
            "observability.alert_rules",
            "cost.budgets",
            "cost.total_monthly_usd",
        ),
    )
    tree.add("outputs.tf", _outputs(plan), ("service.name",))
    for index, (slug, env) in enumerate(environments(model)):
        tree.add_vars(
            "environments/%s.tfvars" % slug,
            tfvars_items(model, plan, slug, env, index),
            ("environments", "infrastructure.database.ha", "infrastructure.cache.ha", "infrastructure.compute"),
        )
    for module in modules:
        tree.add_module(module, _module_versions(plan, module.name))
    return tree.files


__all__ = ["plan_for", "render"]
