# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The words documents use for clouds, services, strategies and environments."""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Tuple

# (pattern, value) pairs are tried in order: specific names before general ones.

PROVIDER_NAMES: List[Tuple[str, str]] = [
    (r"\bamazon web services\b|\baws\b|\bamazon\b", "aws"),
    (r"\bgoogle cloud( platform)?\b|\bgcp\b|\bgoogle\b", "gcp"),
    (r"\bmicrosoft azure\b|\bazure\b", "azure"),
]

# Service names that imply a cloud (used for the "inference" rule).
PROVIDER_SERVICES: List[Tuple[str, str]] = [
    (
        r"\becs\b|\bfargate\b|\beks\b|\bec2\b|\blambda\b|\brds\b|\baurora\b|\bdynamodb\b"
        r"|\belasticache\b|\bsqs\b|\bsns\b|\bs3\b|\balb\b|\bnlb\b|\bcloudfront\b|\broute ?53\b"
        r"|\bcloudwatch\b|\becr\b|\bkinesis\b|\bmsk\b|\belastic beanstalk\b|\bamazon mq\b"
        r"|\bx-ray\b|\bacm\b|\bwaf\b|\bguardduty\b|\bsecrets manager\b|\bparameter store\b",
        "aws",
    ),
    (
        r"\bcloud run\b|\bcloud sql\b|\bmemorystore\b|\bpub/?sub\b|\bgke\b|\bcloud storage\b"
        r"|\bgcs\b|\bbigquery\b|\bcloud functions\b|\bapp engine\b|\bspanner\b|\bfirestore\b"
        r"|\bartifact registry\b|\bcloud load balancing\b|\bcloud armor\b|\bsecret manager\b"
        r"|\bcloud monitoring\b|\bcloud logging\b|\bcloud trace\b|\bcompute engine\b|\balloydb\b"
        r"|\bcloud build\b|\bcloud deploy\b|\bcloud dns\b|\bcloud nat\b",
        "gcp",
    ),
    (
        r"\bcontainer apps\b|\baks\b|\bazure database\b|\bservice bus\b|\bblob\b|\bcosmos ?db\b"
        r"|\bkey vault\b|\bapp service\b|\bevent hubs?\b|\bfront door\b|\bapplication gateway\b"
        r"|\bacr\b|\bazure monitor\b|\blog analytics\b|\bapplication insights\b|\bvnet\b"
        r"|\bflexible server\b|\bfunction app\b|\bentra\b|\bbicep\b",
        "azure",
    ),
]

# Region names: weaker evidence, used only when nothing else decides.
REGION_PATTERNS: List[Tuple[str, str]] = [
    (
        r"\b(us|eu|ap|sa|ca|me|af|il|mx)-(east|west|north|south|central|northeast|southeast"
        r"|northwest|southwest)-\d[a-z]?\b",
        "aws",
    ),
    (
        r"\b(us|europe|asia|australia|northamerica|southamerica|me|africa)-(east|west|north|south"
        r"|central|northeast|southeast|southwest|northwest)\d{1,2}(-[a-z])?\b",
        "gcp",
    ),
    (
        r"\b(eastus2?|westus[23]?|centralus|northcentralus|southcentralus|westcentralus"
        r"|northeurope|westeurope|uksouth|ukwest|francecentral|germanywestcentral"
        r"|swedencentral|norwayeast|switzerlandnorth|eastasia|southeastasia|japaneast"
        r"|japanwest|australiaeast|australiasoutheast|canadacentral|canadaeast"
        r"|brazilsouth|centralindia|koreacentral|southafricanorth|uaenorth)\b",
        "azure",
    ),
]


def provider_named(text: str) -> Optional[str]:
    """The cloud a text names outright (first mention wins), or None."""
    low = text.lower()
    best: Optional[Tuple[int, str]] = None
    for pattern, provider in PROVIDER_NAMES:
        m = re.search(pattern, low)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), provider)
    return best[1] if best else None


def provider_votes(text: str, regions: bool = False) -> Dict[str, int]:
    """Counts of service names (and optionally region names) per cloud."""
    low = text.lower()
    votes: Dict[str, int] = {}
    table = PROVIDER_NAMES + PROVIDER_SERVICES + (REGION_PATTERNS if regions else [])
    for pattern, provider in table:
        hits = len(re.findall(pattern, low))
        if hits:
            votes[provider] = votes.get(provider, 0) + hits
    # "Secret Manager" (GCP) also matches inside "AWS Secrets Manager"? no: plural differs.
    return votes


COMPUTE_KINDS: List[Tuple[str, str]] = [
    (r"fargate", "ecs-fargate"),
    (r"\beks\b|elastic kubernetes", "eks"),
    (r"\becs\b|elastic container service", "ecs-fargate"),
    (r"\blambda\b", "lambda"),
    (r"\bec2\b|auto ?scaling group|\basg\b", "ec2"),
    (r"elastic beanstalk", "ec2"),
    (r"cloud run", "cloud-run"),
    (r"\bgke\b|google kubernetes", "gke"),
    (r"cloud functions", "cloud-functions"),
    (r"compute engine|\bgce\b|managed instance group", "compute-engine"),
    (r"app engine", "cloud-run"),
    (r"container apps?", "container-apps"),
    (r"\baks\b|azure kubernetes", "aks"),
    (r"app service|web app", "app-service"),
    (r"azure functions|function app", "azure-functions"),
    (r"scale set|\bvmss\b|azure vm|azure virtual machine", "azure-vm"),
    (r"kubernetes|\bk8s\b", "kubernetes"),
    (r"\bvms?\b|virtual machine|bare metal", "vm"),
]

DATABASE_ENGINES: List[Tuple[str, str]] = [
    (r"postgre(s|sql)?\b|\bpg\b|\bpsql\b", "postgresql"),
    (r"mariadb", "mariadb"),
    (r"mysql", "mysql"),
    (r"sql server|mssql|azure sql\b", "sqlserver"),
    (r"dynamo ?db", "dynamodb"),
    (r"firestore", "firestore"),
    (r"cosmos ?db", "cosmosdb"),
    (r"mongo", "mongodb"),
    (r"spanner", "spanner"),
    (r"oracle", "oracle"),
]

DATABASE_SERVICES: List[Tuple[str, str]] = [
    (r"aurora", "aurora"),
    (r"\brds\b|relational database service", "rds"),
    (r"cloud sql", "cloud-sql"),
    (r"alloydb", "alloydb"),
    (r"azure database|flexible server|azure sql", "azure-database"),
    (r"dynamo ?db", "dynamodb"),
    (r"firestore", "firestore"),
    (r"cosmos ?db", "cosmosdb"),
    (r"spanner", "spanner"),
]

STORAGE_KINDS: List[Tuple[str, str]] = [
    (r"\bs3\b", "s3"),
    (r"\befs\b", "efs"),
    (r"\bebs\b", "ebs"),
    (r"cloud storage|\bgcs\b", "gcs"),
    (r"filestore", "filestore"),
    (r"blob|storage account|azure storage|adls", "blob"),
]

CACHE_ENGINES: List[Tuple[str, str]] = [
    (r"memcache", "memcached"),
    (r"valkey", "valkey"),
    (r"redis|elasticache|memorystore|azure cache", "redis"),
]

CACHE_SERVICES: List[Tuple[str, str]] = [
    (r"elasticache", "elasticache"),
    (r"memorystore", "memorystore"),
    (r"azure cache", "azure-cache"),
]

QUEUE_KINDS: List[Tuple[str, str]] = [
    (r"\bsqs\b|simple queue", "sqs"),
    (r"\bsns\b", "sns"),
    (r"pub/?sub", "pubsub"),
    (r"service bus", "servicebus"),
    (r"event ?hubs?", "eventhubs"),
    (r"kafka|\bmsk\b|confluent", "kafka"),
    (r"rabbit", "rabbitmq"),
    (r"kinesis", "kinesis"),
    (r"amazon mq|activemq", "rabbitmq"),
    (r"nats\b", "nats"),
]

LOAD_BALANCERS: List[Tuple[str, str]] = [
    (r"\balb\b|application load balancer", "alb"),
    (r"\bnlb\b|network load balancer", "nlb"),
    (r"application gateway|app gateway", "app-gateway"),
    (r"front door", "front-door"),
    (r"cloud load balanc|https load balancer|\bgclb\b|global load balancer", "gclb"),
    (r"load balanc|\blb\b|ingress", "load-balancer"),
]

RESOURCE_TYPES: List[Tuple[str, str]] = [
    (r"cache|redis|memcache", "cache"),
    (r"queue|messag|pub/?sub|event|stream|kafka|service bus|broker", "queue"),
    (r"data ?base|\bdb\b|data ?store|\bsql\b|\brds\b", "database"),
    (r"storage|bucket|object|blob|file", "storage"),
    (r"network|vpc|vnet|load balanc|\blb\b|cdn|dns|subnet", "network"),
    (
        r"compute|app|container|runtime|server|instance|function|service|cluster|hosting"
        r"|workload",
        "compute",
    ),
]

STRATEGIES: List[Tuple[str, str]] = [
    (r"blue[\s/_-]*green|\bb/g\b", "blue-green"),
    (r"canary|progressive", "canary"),
    (r"rolling|rolling update", "rolling"),
    (r"manual|\bci\b|recreate|direct|all[- ]at[- ]once|on demand|push", "manual"),
]

ENV_NAMES: List[Tuple[str, str]] = [
    (r"^(dev|development|develop|local)\b", "dev"),
    (r"^(stag|staging|stage|pre-?prod|preprod)\b", "staging"),
    (r"^(prod|production|live|prd)\b", "prod"),
]


def first_match(table: Sequence[Tuple[str, str]], text: str) -> Optional[str]:
    low = text.lower()
    for pattern, value in table:
        if re.search(pattern, low):
            return value
    return None


def canonical_env(label: str) -> str:
    """``Production`` -> prod, ``Development`` -> dev, ``QA`` -> qa."""
    low = label.strip().lower()
    for pattern, value in ENV_NAMES:
        if re.search(pattern, low):
            return value
    slug = re.sub(r"[^a-z0-9]+", "-", low).strip("-")
    return slug or "env"
