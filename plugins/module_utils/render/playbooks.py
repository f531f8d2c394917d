# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``playbooks`` target: the Ansible playbooks of REQ 9.5.4 and what they need.

``devops-flow generate-ansible-playbooks`` writes, under ``ansible/``:

* one playbook per 9.5.4 row (the document's file name, its purpose as the play
  name, its tags on the plays), or the six playbooks of the framework when the
  documents have no 9.5.4 table: provision_infra.yml, configure_instances.yml,
  deploy_app.yml, configure_monitoring.yml, configure_security.yml,
  backup_restore.yml.  A row is mapped to what its playbook does by its name,
  then its tags, then its purpose (``KIND_WORDS``); a row that matches nothing
  configures the hosts.  Rows whose purpose is N/A are left out.
* ``inventory/``: the dynamic inventory of the cloud (amazon.aws.aws_ec2,
  google.cloud.gcp_compute or azure.azcollection.azure_rm) filtered by the
  requirement tag and the environments, with the hosts keyed into the groups
  lb / app / monitoring / backup by their ``Role`` tag (label on GCP) and into
  one group per environment by their ``Environment`` tag; and
  ``inventory/hosts.example.yml``, a static inventory of the same groups.
* ``group_vars/all.yml`` (the service, the documents, the cloud and the
  settings every playbook shares) and ``group_vars/<env>.yml`` per 9.5.2
  environment (strategy, replicas, rollback time, regions, canary steps and
  hold, the 9.5.1 sizes, and the deploy role's settings for that environment).
* ``ansible.cfg`` and ``requirements.yml`` (this collection and the collections
  the playbooks use, with version ranges).

When the documents mark 9.5.4 Not Applicable, or every row is N/A, nothing is
generated and the notes of the file set say why.

Plays on ``localhost`` read the environment named by ``sdd_environment``
(``-e sdd_environment=prod``; the first environment by default); plays on hosts
get it from the host's environment group.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from ..errors import UsageError
from ..fileset import FileSet, GeneratedFile
from ..model import Environment, Model
from . import common
from . import playbooks_plays as plays
from . import playbooks_yaml as y
from .terraform_aws_plan import DEFAULT_REGION as AWS_DEFAULT_REGION
from .terraform_aws_plan import aws_region, project_name
from .terraform_gcp_support import backup_retention_days, cloud_region, env_region
from .terraform_gcp_support import environments as slugged_environments

if TYPE_CHECKING:  # pragma: no cover
    from ..generate import Options

OUTPUT_DIR = "ansible"
KINDS: Tuple[str, ...] = ("provision", "instances", "deploy", "monitoring", "security", "backup")

#: The framework's six playbooks: (file, kind, purpose, tags), used when 9.5.4 has no table.
DEFAULT_PLAYBOOKS: Tuple[Tuple[str, str, str, Tuple[str, ...]], ...] = (
    ("provision_infra.yml", "provision", "Provision the infrastructure of one environment", ("infra", "provision")),
    ("configure_instances.yml", "instances", "Configure the hosts of the service", ("config", "instances")),
    ("deploy_app.yml", "deploy", "Deploy a release of the service", ("deploy", "app")),
    ("configure_monitoring.yml", "monitoring", "Configure monitoring and alerting", ("monitoring", "observability")),
    ("configure_security.yml", "security", "Apply the security baseline", ("security", "hardening")),
    ("backup_restore.yml", "backup", "Back up the data of one environment", ("backup", "recovery")),
)

#: Words that map a row to a kind, tried in this order on the file name, then the
#: tags, then the purpose.  A word matches a whole word, or the start of one when
#: it ends with "*".
KIND_WORDS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("backup", ("backup*", "restore*", "recover*", "snapshot*", "dr")),
    ("monitoring", ("monitor*", "observab*", "alert*", "alarm*", "dashboard*", "metric*", "logging")),
    ("security", ("secur*", "harden*", "firewall*", "tls", "cert*", "secret*", "iam", "patch*", "compliance")),
    ("provision", ("provision*", "infra*", "terraform", "cloudformation", "pulumi", "bootstrap*")),
    ("deploy", ("deploy*", "release*", "rollout*", "app", "application")),
    ("instances", ("instance*", "configur*", "config", "host*", "server*", "bastion", "setup", "vm*")),
)

#: Tested versions of the collections the generated content uses (the ``ansible``
#: 14 package) up to the next major version.
COLLECTION_VERSIONS: Dict[str, str] = {
    "amazon.aws": ">=11.4.0,<12.0.0",
    "google.cloud": ">=1.15.0,<2.0.0",
    "azure.azcollection": ">=3.21.0,<4.0.0",
    "community.general": ">=13.5.0,<14.0.0",
}
#: The inventory plugin of each cloud and its file (each plugin accepts only some names).
INVENTORY_PLUGINS: Dict[str, Tuple[str, str]] = {
    "aws": ("amazon.aws.aws_ec2", "inventory/aws_ec2.yml"),
    "gcp": ("google.cloud.gcp_compute", "inventory/gcp_compute.yml"),
    "azure": ("azure.azcollection.azure_rm", "inventory/azure_rm.yml"),
}
EXAMPLE_INVENTORY = "inventory/hosts.example.yml"
#: Packages the hosts get from configure_instances (the deploy role and the scripts use them).
DEFAULT_PACKAGES: Tuple[str, ...] = ("python3", "curl", "socat", "tar")
#: The example inventory lists at most this many application hosts.
EXAMPLE_APP_HOSTS = 4

_NOT_APPLICABLE = re.compile(r"^\s*`?\s*(n/?a|none|not applicable|not required|not used|-|\u2014)(\W|$)", re.IGNORECASE)
_RESERVED_GROUPS = frozenset(plays.HOST_GROUPS + ("all", "ungrouped", "localhost"))
_RESERVED_FILES = frozenset(("requirements.yml", "requirements.yaml", "ansible.cfg"))
_FQCN = re.compile(r"^([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+$")
_SQL_ENGINES = ("postgresql", "mysql", "mariadb", "sqlserver", "oracle")


@dataclass(frozen=True)
class PlaybookSpec:
    """One playbook to write: its file, what it does, its play name and tags."""

    file: str
    kind: str
    purpose: str
    tags: Tuple[str, ...]
    index: Optional[int] = None  # row of model.playbooks.items
    target: str = ""
    variables: str = ""


@dataclass(frozen=True)
class EnvInfo:
    """An environment as the generated Ansible content names it."""

    env: Environment
    index: Optional[int]  # in model.environments (None for the documented defaults)
    group: str  # inventory group and group_vars file
    slug: str  # its name in the generated infrastructure code (tfvars, workspace, stack)
    resource: str  # name of its resources in the generated infrastructure code
    region: str


# --------------------------------------------------------------------------- rows


def not_applicable(text: str) -> bool:
    """True for N/A, none, not applicable, -, and the like."""
    return bool(_NOT_APPLICABLE.match(text or ""))


def _words(text: str) -> List[str]:
    return [w for w in re.split(r"[^a-z0-9]+", (text or "").lower()) if w]


def _matches(words: Sequence[str], patterns: Sequence[str]) -> bool:
    for pattern in patterns:
        if pattern.endswith("*"):
            if any(w.startswith(pattern[:-1]) for w in words):
                return True
        elif pattern in words:
            return True
    return False


def kind_of(name: str, tags: Sequence[str], purpose: str) -> Optional[str]:
    """What a 9.5.4 row's playbook does (None when nothing matches)."""
    stem = re.sub(r"\.ya?ml$", "", name.strip().lower())
    for words in (_words(stem), _words(" ".join(tags)), _words(purpose)):
        for kind, patterns in KIND_WORDS:
            if _matches(words, patterns):
                return kind
    return None


def file_name(name: str, fallback: str) -> str:
    """A safe playbook file name from a document's: its last path part, lower case,
    [a-z0-9_.-], ending in .yml or .yaml."""
    text = name.strip().strip("`'\"").strip()
    text = re.split(r"[\\/]", text)[-1].lower()
    text = re.sub(r"[^a-z0-9_.-]+", "_", text).strip("._-")
    stem = re.sub(r"\.ya?ml$", "", text).strip("._-")
    if not stem:
        return fallback
    ext = ".yaml" if text.endswith(".yaml") else ".yml"
    name = stem[:80] + ext
    return "playbook_" + name if name in _RESERVED_FILES else name


def _applicability(model: Model) -> Optional[bool]:
    """False when the documents mark 9.5.4 Not Applicable (``Playbooks.applicable``)."""
    value = getattr(model.playbooks, "applicable", None)
    return value if isinstance(value, bool) else None


def playbook_specs(model: Model) -> Tuple[List[PlaybookSpec], List[str]]:
    """The playbooks to write and notes on the rows left out."""
    notes: List[str] = []
    if _applicability(model) is False:
        where = common.source_note(model, "playbooks.applicable") or common.source_note(model, "playbooks")
        notes.append(
            "9.5.4 Ansible Playbook Requirements is marked Not Applicable%s: no playbooks are generated"
            % (" (%s)" % where if where else "")
        )
        return [], notes
    items = model.playbooks.items
    if not items:
        return [PlaybookSpec(*row) for row in DEFAULT_PLAYBOOKS], notes
    defaults = {kind: file for file, kind, _purpose, _tags in DEFAULT_PLAYBOOKS}
    specs: List[PlaybookSpec] = []
    seen: Dict[str, int] = {}
    for index, row in enumerate(items):
        where = common.source_note(model, "playbooks.items[%d]" % index) or "9.5.4 row %d" % (index + 1)
        if not_applicable(row.purpose) or not_applicable(row.name):
            notes.append("%s (%s) is N/A: not generated" % (y.one_line(row.name)[:80] or "a row", where))
            continue
        kind = kind_of(row.name, row.tags, row.purpose)
        if kind is None:
            kind = "instances"
            notes.append(
                "%s (%s): its name, tags and purpose name no known task; generated as a host configuration "
                "playbook" % (y.one_line(row.name)[:80], where)
            )
        name = file_name(row.name, defaults[kind])
        if name in seen:
            notes.append("%s (%s) repeats the file of row %d: left out" % (name, where, seen[name] + 1))
            continue
        seen[name] = index
        specs.append(
            PlaybookSpec(
                name,
                kind,
                row.purpose,
                tuple(t for t in row.tags if t.strip()),
                index,
                row.target,
                row.variables,
            )
        )
    if not specs:
        notes.append("every 9.5.4 row is N/A: no playbooks are generated")
    return specs, notes


# --------------------------------------------------------------------------- environments


def _group_name(name: str, used: Dict[str, int]) -> str:
    group = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    if not group or not group[0].isalpha() or group in _RESERVED_GROUPS:
        group = ("env_" + group).strip("_")
    group = group[:40]
    used[group] = used.get(group, 0) + 1
    return group if used[group] == 1 else "%s_%d" % (group, used[group])


def _aws_default_region(model: Model) -> str:
    candidates = [model.cloud.primary_region or ""] + list(model.cloud.regions)
    for env in common.environments(model):
        candidates.extend(env.regions)
    return next((r for r in candidates if aws_region(r)), AWS_DEFAULT_REGION)


def _default_region(model: Model, cloud: str) -> str:
    if cloud == "aws":
        return _aws_default_region(model)
    return cloud_region(model, cloud, "us-central1" if cloud == "gcp" else "eastus2")


def environment_infos(model: Model, cloud: str, iac: str) -> List[EnvInfo]:
    envs = common.environments(model)
    slugs = {id(env): slug for slug, env in slugged_environments(model)}
    used: Dict[str, int] = {}
    default_region = _default_region(model, cloud)
    service = model.service.name
    infos: List[EnvInfo] = []
    for env in envs:
        index = next((i for i, e in enumerate(model.environments) if e is env), None)
        if iac == "terraform" and cloud == "aws":
            slug = env.name
        elif iac == "terraform":
            slug = slugs.get(id(env), common.safe_name(env.name, 24, "env"))
        else:
            slug = common.safe_name(env.name, 24, "env")
        if cloud == "aws":
            region = next((r for r in env.regions if aws_region(r)), default_region)
            resource = "%s-%s" % (project_name(model), slug)
        else:
            region = env_region(model, env, cloud, default_region)
            resource = "%s-%s" % (service, slug)
        infos.append(EnvInfo(env, index, _group_name(env.name, used), slug, resource, region))
    return infos


# --------------------------------------------------------------------------- settings


def _database_kind(model: Model, cloud: str) -> str:
    db = model.infrastructure.database
    if db is None:
        return ""
    engine = (db.engine or "").lower()
    if cloud == "aws":
        if engine not in _SQL_ENGINES:
            return ""
        return "aurora" if db.service == "aurora" and engine != "mariadb" else "rds"
    if cloud == "azure":
        return "postgresql-flexible" if engine == "postgresql" else ""
    return "cloud-sql" if engine in ("postgresql", "mysql", "sqlserver") else ""


def _backup_schedule(model: Model) -> Tuple[str, bool]:
    """(AWS Backup cron expression, continuous backups) from the backup frequency."""
    backup = model.backup
    words = _words(backup.frequency or "")
    interval = backup.interval_seconds
    continuous = "continuous" in words or "pitr" in words or "point" in _words(backup.strategy or "")
    if (interval and interval <= 3600) or "hourly" in words:
        return "cron(0 * ? * * *)", continuous
    if (interval and interval > 86400) or "weekly" in words:
        return "cron(0 5 ? * 1 *)", continuous
    return "cron(0 5 ? * * *)", continuous


def _error_log_filter(model: Model, resource: str) -> str:
    """Cloud Logging filter of the service's errors on GCP (by where it runs)."""
    compute = model.infrastructure.compute
    kind = compute.kind if compute else "unknown"
    if kind in ("eks", "gke", "aks", "kubernetes"):
        return 'resource.type="k8s_container" AND resource.labels.container_name="%s" AND severity>=ERROR' % (
            common.label_value(model.service.name) or "app"
        )
    if kind in ("ec2", "vm", "compute-engine", "azure-vm", "unknown"):
        return 'resource.type="gce_instance" AND severity>=ERROR'
    return 'resource.type="cloud_run_revision" AND resource.labels.service_name="%s" AND severity>=ERROR' % resource


def _resource_tags(model: Model, cloud: str, env: Optional[str]) -> Dict[str, str]:
    if cloud == "gcp":
        return common.labels(model, env)
    return common.tags(model, env, cloud)


def _thresholds(model: Model) -> Dict[str, Any]:
    t = model.observability.thresholds
    return {
        "p95_latency_ms": t.p95_latency_ms,
        "p99_latency_ms": t.p99_latency_ms,
        "error_rate_ratio": t.error_rate_ratio,
        "availability_percent": t.availability_percent,
    }


def _allowed_ports(model: Model) -> List[int]:
    ports = {int(p) for rule in model.security.network_rules for p in rule.ports if 0 < int(p) < 65536}
    return sorted(ports)


def _relative(path: str, output: Optional[str]) -> str:
    """A document path relative to the generated ansible/ folder (absolute when the
    output folder is unknown)."""
    full = os.path.abspath(path)
    if not output:
        return full.replace(os.sep, "/")
    base = os.path.join(os.path.abspath(output), OUTPUT_DIR)
    try:
        return os.path.relpath(full, base).replace(os.sep, "/")
    except ValueError:  # another drive (Windows)
        return full.replace(os.sep, "/")


def _documents(model: Model, output: Optional[str]) -> Dict[str, str]:
    found = {"req": "", "spec": ""}
    for doc in model.traceability.documents:
        kind = doc.kind.lower()
        if kind in found and doc.path and not found[kind]:
            found[kind] = _relative(doc.path, output)
    return found


def _canary_steps(model: Model, env: Environment) -> List[int]:
    steps: List[int] = []
    for step in common.canary_steps(model, env):
        if 0 < int(step) <= 100 and (not steps or int(step) > steps[-1]):
            steps.append(int(step))
    return steps or list(common.DEFAULT_CANARY_STEPS)


def _sizes(model: Model) -> Dict[str, Any]:
    sizes = common.compute_sizes(model)
    compute = model.infrastructure.compute
    out: Dict[str, Any] = {
        "compute": compute.kind if compute else "unknown",
        "vcpu": sizes.vcpu,
        "memory_mib": sizes.memory_mib,
        "min_instances": sizes.min_instances,
        "max_instances": sizes.max_instances,
        "instance_type": compute.instance_type if compute else None,
    }
    db = model.infrastructure.database
    if db is not None:
        out["database"] = {
            "engine": db.engine,
            "version": db.version,
            "storage_gb": db.storage_gb,
            "instance_class": db.instance_class,
            "ha": db.ha,
        }
    cache = model.infrastructure.cache
    if cache is not None:
        out["cache"] = {"engine": cache.engine, "memory_mib": cache.memory_mib}
    return out


# --------------------------------------------------------------------------- files


@dataclass
class _Context:
    model: Model
    cloud: str
    iac: str
    envs: List[EnvInfo]
    documents: Dict[str, str]
    database: str


def _play_names(purpose: str, fallback: str, parts: Sequence[str]) -> List[str]:
    """The play names of one playbook: its purpose, then ": <part>" when it has several plays."""
    base = y.one_line(purpose) or fallback
    if len(parts) < 2:
        return [y.display_name(base, fallback)]
    return [y.display_name("%s: %s" % (base, part), fallback) for part in parts]


def _playbook(ctx: _Context, spec: PlaybookSpec) -> Tuple[str, Tuple[str, ...]]:
    """The text of one playbook and the model fields it used."""
    model = ctx.model
    fallback = next(purpose for _file, kind, purpose, _tags in DEFAULT_PLAYBOOKS if kind == spec.kind)
    purpose = spec.purpose if spec.purpose.strip() else fallback
    tags = [y.text(t) for t in spec.tags]
    fields: List[str] = ["cloud.provider", "environments"]
    if spec.index is not None:
        fields.append("playbooks.items[%d]" % spec.index)
    if spec.kind == "provision":
        built = plays.provision_plays(_play_names(purpose, fallback, ())[0], tags, ctx.cloud, ctx.iac)
        fields += ["iac_provider"]
    elif spec.kind == "instances":
        built = plays.instances_plays(_play_names(purpose, fallback, ())[0], tags)
    elif spec.kind == "deploy":
        names = _play_names(purpose, fallback, [p[0] for p in plays.DEPLOY_PLAYS])
        built = plays.deploy_plays(names, tags)
        fields += ["traceability.documents", "service.feature_flags", "rollout.canary_steps", "rollout.hold_seconds"]
    elif spec.kind == "monitoring":
        names = _play_names(purpose, fallback, ["cloud alerting"] + plays.role_parts("monitoring"))
        built = plays.monitoring_plays(names, tags, ctx.cloud)
        fields += ["traceability.documents", "observability"]
    elif spec.kind == "security":
        names = _play_names(purpose, fallback, plays.role_parts("security") + ["cloud network rules"])
        built = plays.security_plays(names, tags, ctx.cloud)
        fields += ["traceability.documents", "security"]
    else:
        names = _play_names(purpose, fallback, ["cloud backups"] + plays.role_parts("backup"))
        built = plays.backup_plays(names, tags, ctx.cloud, ctx.database)
        fields += ["traceability.documents", "backup", "infrastructure.database"]
    head: List[Optional[str]] = []
    if spec.index is not None:
        head.append(common.source_note(model, "playbooks.items[%d]" % spec.index))
        if spec.target.strip():
            head.append("Target (9.5.4): %s" % spec.target)
        if spec.variables.strip():
            head.append("Variables (9.5.4): %s" % spec.variables)
    head.append(
        "Run: ansible-playbook %s%s" % (spec.file, " -e sdd_environment=<environment>" if spec.kind != "deploy" else "")
    )
    if spec.kind == "deploy":
        head.append("with -e deploy_version=<release> -e deploy_artifact=<archive>; hosts: groups lb and app")
    items: List[Tuple[Any, Sequence[Optional[str]]]] = [(play, []) for play in built]
    return y.dump_list(items, head), tuple(fields)


def _collections(texts: Sequence[str]) -> List[str]:
    found: Dict[str, None] = {}
    for text in texts:
        for match in re.finditer(r"(?m)^\s*-?\s*([a-z0-9_]+\.[a-z0-9_]+\.[a-z0-9_]+):", text):
            fqcn = _FQCN.match(match.group(1))
            if fqcn and fqcn.group(1) in COLLECTION_VERSIONS:
                found.setdefault(fqcn.group(1), None)
        for match in re.finditer(r"group/([a-z0-9_]+\.[a-z0-9_]+)\.", text):
            if match.group(1) in COLLECTION_VERSIONS:
                found.setdefault(match.group(1), None)
    return sorted(found)


def _own_version_range() -> str:
    from ..cli import version

    match = re.match(r"^(\d+)\.(\d+)\.(\d+)", version())
    if not match:
        return "*"
    major, minor, patch = (int(g) for g in match.groups())
    upper = "%d.0.0" % (major + 1) if major > 0 else "0.%d.0" % (minor + 1)
    return ">=%d.%d.%d,<%s" % (major, minor, patch, upper)


def _requirements(ctx: _Context, texts: Sequence[str]) -> str:
    used = _collections(texts)
    plugin = INVENTORY_PLUGINS[ctx.cloud][0].rsplit(".", 1)[0]
    if plugin not in used:
        used = sorted(used + [plugin])
    entries = [{"name": "sdd.devops_flow", "version": _own_version_range()}]
    entries += [{"name": name, "version": COLLECTION_VERSIONS[name]} for name in used]
    head = ["Install with: ansible-galaxy collection install -r requirements.yml -p collections"]
    return y.dump_mapping([("collections", entries, [])], head)


def _ansible_cfg(ctx: _Context) -> str:
    inventory = INVENTORY_PLUGINS[ctx.cloud][1]
    lines = [
        "# Settings of ansible-playbook run from this folder (ansible-playbook deploy_app.yml ...).",
        "# The example inventory instead of the cloud's: -i %s" % EXAMPLE_INVENTORY,
        "[defaults]",
        "inventory = %s" % inventory,
        "roles_path = roles",
        "collections_path = collections:~/.ansible/collections:/usr/share/ansible/collections",
        "retry_files_enabled = False",
        "interpreter_python = auto_silent",
        "",
        "[connection]",
        "pipelining = True",
    ]
    return "\n".join(lines) + "\n"


def _keyed(key: str) -> Dict[str, Any]:
    return {"key": key, "prefix": "", "separator": ""}


def _inventory(ctx: _Context) -> str:
    model = ctx.model
    plugin, _path = INVENTORY_PLUGINS[ctx.cloud]
    note = common.source_note(model, "cloud.provider")
    envs = [e.slug for e in ctx.envs]
    items: List[Tuple[str, Any, Sequence[Optional[str]]]] = [("plugin", plugin, [note])]
    if ctx.cloud == "aws":
        regions = sorted({e.region for e in ctx.envs})
        items += [
            ("regions", regions, []),
            (
                "filters",
                y.data(
                    {
                        "tag:" + common.REQ_TAG: model.req_id,
                        "tag:Environment": envs,
                        "instance-state-name": ["running"],
                    }
                ),
                ["the hosts of this requirement in its environments"],
            ),
            ("hostnames", ["private-dns-name", "private-ip-address"], []),
            ("compose", {"ansible_host": "private_ip_address"}, []),
            (
                "keyed_groups",
                [_keyed("tags.Environment"), _keyed("tags.Role")],
                ["groups: the environment, and lb / app / monitoring / backup from the Role tag"],
            ),
            ("leading_separator", False, []),
        ]
    elif ctx.cloud == "gcp":
        req = common.label_value(model.req_id)
        items += [
            (
                "auth_kind",
                "application",
                ["credentials: Application Default Credentials (gcloud auth application-default login)"],
            ),
            (
                "filters",
                y.data(["labels.sdd-devops-flow-req = %s" % req, "status = RUNNING"]),
                [
                    "the hosts of this requirement; add the project of the service:",
                    "projects: [<project id>] (the documents name none)",
                ],
            ),
            ("hostnames", ["private_ip", "name"], []),
            (
                "keyed_groups",
                [_keyed("labels.environment"), _keyed("labels.role")],
                ["groups: the environment, and lb / app / monitoring / backup from the role label"],
            ),
            ("leading_separator", False, []),
        ]
    else:
        groups = sorted({"rg-%s" % e.resource for e in ctx.envs})
        items += [
            ("auth_source", "auto", []),
            (
                "include_vm_resource_groups",
                y.data(groups),
                ["the resource groups of the environments (generate-infra)"],
            ),
            ("plain_host_names", True, []),
            (
                "keyed_groups",
                [_keyed("tags.Environment"), _keyed("tags.Role")],
                ["groups: the environment, and lb / app / monitoring / backup from the Role tag"],
            ),
            ("leading_separator", False, []),
        ]
    return y.dump_mapping(items)


def _example_inventory(ctx: _Context) -> str:
    """A static inventory of the production environment with documentation addresses."""
    model = ctx.model
    prod = model.production
    info = next((e for e in ctx.envs if prod is not None and e.env.name == prod.name), ctx.envs[-1])
    count = max(1, min(EXAMPLE_APP_HOSTS, common.environment_replicas(model, info.env)))
    address = iter(range(10, 250))
    children: Dict[str, Any] = {}
    for group in plays.HOST_GROUPS:
        hosts: Dict[str, Any] = {}
        for number in range(1, (count if group == "app" else 1) + 1):
            hosts["%s-%s-%d" % (info.group.replace("_", "-"), group, number)] = {
                "ansible_host": "192.0.2.%d" % next(address)
            }
        children[group] = {"hosts": hosts}
    data = {"all": {"children": {info.group: {"children": children}}}}
    head = [
        "An example of the inventory (192.0.2.0/24 is a documentation range): use it with -i %s" % EXAMPLE_INVENTORY,
        "or as a model for the hosts of one environment (the group %s gets group_vars/%s.yml)."
        % (info.group, info.group),
    ]
    return y.dump_mapping([("all", data["all"], [])], head)


def _all_vars(ctx: _Context) -> str:
    model = ctx.model
    backup = model.backup
    schedule, continuous = _backup_schedule(model)
    retention = backup_retention_days(model)
    default_env = next((e.group for e in ctx.envs if e.env.name == "dev"), ctx.envs[0].group)
    db = model.infrastructure.database
    items: List[Tuple[str, Any, Sequence[Optional[str]]]] = [
        ("sdd_service", y.text(model.service.name), [common.source_note(model, "service.name")]),
        ("sdd_requirement", y.text(model.req_id), []),
        ("sdd_cloud", ctx.cloud, [common.source_note(model, "cloud.provider")]),
        ("sdd_iac", ctx.iac, []),
        (
            "sdd_environments",
            [e.group for e in ctx.envs],
            ["9.5.2; the plays on localhost use sdd_environment (-e sdd_environment=...)"],
        ),
        ("sdd_environment", default_env, []),
        ("sdd_region", ctx.envs[0].region if ctx.envs else _default_region(model, ctx.cloud), []),
        (
            "sdd_documents",
            y.data(ctx.documents),
            ["the documents, relative to this folder (the deploy role reads them)"],
        ),
        (
            "sdd_iac_dir",
            "{{ playbook_dir }}/..",
            ["the infrastructure code of devops-flow generate-infra, written to the same output folder"],
        ),
        (
            "sdd_terraform_backend_config",
            {},
            ["terraform init -backend-config values (for example the bucket of the state)"],
        ),
        ("sdd_resource_tags", y.data(_resource_tags(model, ctx.cloud, None)), []),
        ("sdd_thresholds", _thresholds(model), [common.source_note(model, "observability.thresholds")]),
        ("sdd_allowed_ports", _allowed_ports(model), [common.source_note(model, "security.network_rules")]),
        (
            "sdd_backup",
            {
                "frequency": y.text(backup.frequency) if backup.frequency else None,
                "schedule_expression": schedule,
                "continuous": continuous and retention <= 35,
                "retention_days": retention,
                "rpo_seconds": backup.rpo_seconds,
                "rto_seconds": backup.rto_seconds,
            },
            [common.source_note(model, "backup.retention_days") or common.source_note(model, "backup")],
        ),
        ("sdd_database", {"engine": db.engine if db else None, "backup": ctx.database or None}, []),
        ("sdd_instance_packages", list(DEFAULT_PACKAGES), []),
    ]
    if ctx.cloud == "gcp":
        items += [
            ("sdd_gcp_auth_kind", "application", []),
            (
                "sdd_gcp_project",
                "{{ lookup('ansible.builtin.env', 'GCP_PROJECT') }}",
                ["the project of the service (the documents name none)"],
            ),
        ]
    return y.dump_mapping(items)


def _env_vars(ctx: _Context, info: EnvInfo) -> Tuple[str, Tuple[str, ...]]:
    model = ctx.model
    env = info.env
    path = "environments[%d]" % info.index if info.index is not None else None
    note = common.source_note(model, path) if path else "no 9.5.2 table: the documented default environments"
    strategy = env.strategy or "rolling"
    steps = _canary_steps(model, env)
    prod = model.production
    items: List[Tuple[str, Any, Sequence[Optional[str]]]] = [
        ("sdd_environment", info.group, [note]),
        ("sdd_environment_label", y.text(env.label or env.name), []),
        ("sdd_production", bool(prod is not None and prod.name == env.name), []),
        ("sdd_iac_environment", y.text(info.slug), ["its name in the generated infrastructure code"]),
        ("sdd_resource_name", y.text(info.resource), []),
    ]
    if ctx.cloud == "azure":
        items.append(("sdd_resource_group", y.text("rg-%s" % info.resource), []))
    if ctx.cloud == "gcp":
        items.append(("sdd_error_log_filter", y.text(_error_log_filter(model, info.resource)), []))
    items += [
        ("sdd_region", info.region, []),
        ("sdd_regions", y.data(list(env.regions)), []),
        ("sdd_zones", y.data(list(env.zones)), []),
        ("sdd_multi_az", env.multi_az, []),
        ("sdd_strategy", strategy, []),
        ("sdd_replicas", env.replicas, []),
        ("sdd_rollback_seconds", env.rollback_seconds, []),
        ("sdd_canary_steps", steps, [common.source_note(model, "rollout.canary_steps")]),
        ("sdd_canary_hold_seconds", common.hold_seconds(model), [common.source_note(model, "rollout.hold_seconds")]),
        ("sdd_resource_tags", y.data(_resource_tags(model, ctx.cloud, env.name)), []),
        ("sdd_sizes", _sizes(model), [common.source_note(model, "infrastructure.compute")]),
        (
            "deploy_environment",
            y.text(env.name),
            ["the environment as the roles of the collection name it (deploy_app.yml, configure_security.yml)"],
        ),
        ("security_environment", y.text(env.name), []),
        ("deploy_strategy", strategy, []),
        ("deploy_canary_steps", steps, []),
        ("deploy_canary_hold_seconds", common.hold_seconds(model), []),
    ]
    fields = tuple(
        f
        for f in (
            path,
            "rollout.canary_steps",
            "rollout.hold_seconds",
            "infrastructure.compute",
            "infrastructure.database",
            "infrastructure.cache",
            "service.scaling",
        )
        if f
    )
    return y.dump_mapping(items), fields


def render(model: Model, cloud: Optional[str] = None, output: Optional[str] = None) -> FileSet:
    """The Ansible content of the documents under ``ansible/`` (see the module doc)."""
    provider = cloud or model.cloud.provider
    if provider not in ("aws", "gcp", "azure"):
        raise UsageError(
            "no cloud provider could be determined from the documents; pass --cloud aws|gcp|azure (or the cloud option)"
        )
    files = FileSet()
    specs, notes = playbook_specs(model)
    files.notes.extend(notes)
    if not specs:
        return files
    iac = model.iac_provider if model.iac_provider in ("terraform", "cloudformation", "pulumi") else "terraform"
    if iac == "cloudformation" and provider != "aws":
        files.notes.append("CloudFormation describes AWS only: provisioning on %s runs the Terraform code" % provider)
        iac = "terraform"
    ctx = _Context(
        model,
        provider,
        iac,
        environment_infos(model, provider, iac),
        _documents(model, output),
        _database_kind(model, provider),
    )
    texts: List[str] = []
    for spec in specs:
        text, fields = _playbook(ctx, spec)
        texts.append(text)
        files.add(GeneratedFile(posixpath.join(OUTPUT_DIR, spec.file), text, "ansible-playbook", fields, "hash"))
    base = ("service.name", "traceability.req", "cloud.provider")
    files.add(
        GeneratedFile(
            posixpath.join(OUTPUT_DIR, "group_vars", "all.yml"),
            _all_vars(ctx),
            "ansible-data",
            base
            + (
                "traceability.documents",
                "iac_provider",
                "observability.thresholds",
                "security.network_rules",
                "backup",
                "infrastructure.database",
            ),
            "hash",
        )
    )
    for info in ctx.envs:
        text, fields = _env_vars(ctx, info)
        files.add(
            GeneratedFile(
                posixpath.join(OUTPUT_DIR, "group_vars", "%s.yml" % info.group), text, "ansible-data", fields, "hash"
            )
        )
    files.add(
        GeneratedFile(
            posixpath.join(OUTPUT_DIR, INVENTORY_PLUGINS[provider][1]),
            _inventory(ctx),
            "ansible-data",
            base + ("environments", "cloud.regions"),
            "hash",
        )
    )
    files.add(
        GeneratedFile(
            posixpath.join(OUTPUT_DIR, EXAMPLE_INVENTORY),
            _example_inventory(ctx),
            "ansible-data",
            ("environments", "service.scaling"),
            "hash",
        )
    )
    files.add(
        GeneratedFile(posixpath.join(OUTPUT_DIR, "ansible.cfg"), _ansible_cfg(ctx), "text", ("cloud.provider",), "hash")
    )
    files.add(
        GeneratedFile(
            posixpath.join(OUTPUT_DIR, "requirements.yml"),
            _requirements(ctx, texts),
            "ansible-data",
            ("cloud.provider",),
            "hash",
        )
    )
    return files


def render_playbooks(model: Model, options: Options) -> FileSet:
    """The ``playbooks`` target (``devops-flow generate-ansible-playbooks``)."""
    return render(model, options.cloud, getattr(options, "output", None))
