# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``container`` target: Dockerfile, .dockerignore, compose.yaml and .env.example.

The Dockerfile is text: every document value in it goes through
``dockerfile_quote`` (LABEL values), ``exec_form`` (JSON arrays: CMD,
ENTRYPOINT, HEALTHCHECK, which Docker never expands) or is checked against a
strict pattern before it reaches a shell (``safe_path``).  compose.yaml is
Python data serialised as YAML; every document string has its ``$`` doubled so
Compose interpolation only happens where this renderer asks for it (secrets and
required settings read from a git-ignored ``.env``).

Images (``IMAGES``) are pinned to a minor version (or the runtime's major where
the vendor publishes no minor tags: distroless), never ``latest``.  Each runtime
runs as the numeric user ``APP_UID``; the health check uses a client that exists
in the runtime image: Python's urllib, Node's http, or a tiny static Go binary
built in its own stage for the distroless Go and Java runtimes (they have no
shell and no curl).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple
from urllib.parse import quote

from ..errors import UsageError
from ..fileset import FileSet, GeneratedFile
from ..model import Model
from . import common
from .kubernetes_objects import APP_UID, dns_label, health_path, sensitive_names, usable_env
from .kubernetes_yaml import comment, dump

if TYPE_CHECKING:  # pragma: no cover
    from ..generate import Options

LANGUAGES = ("python", "node", "go", "java")


@dataclass(frozen=True)
class Images:
    build: str
    runtime: str


#: Base images per language: (build stage, runtime stage).
IMAGES: Dict[str, Images] = {
    "python": Images("python:3.14-slim-trixie", "python:3.14-slim-trixie"),
    "node": Images("node:24.11-trixie-slim", "gcr.io/distroless/nodejs24-debian13:nonroot"),
    "go": Images("golang:1.25-trixie", "gcr.io/distroless/static-debian13:nonroot"),
    "java": Images("maven:3.9-eclipse-temurin-25", "gcr.io/distroless/java25-debian13:nonroot"),
}
#: Builds the static health check binary of the distroless Go and Java images.
HEALTHCHECK_BUILDER = "golang:1.25-trixie"

#: Images of the services compose.yaml starts beside the application.
SERVICE_IMAGES: Dict[str, str] = {
    "postgresql": "postgres:%s",
    "mysql": "mysql:%s",
    "mariadb": "mariadb:%s",
    "mongodb": "mongo:%s",
    "redis": "redis:%s-alpine",
    "valkey": "valkey/valkey:%s-alpine",
    "memcached": "memcached:%s-alpine",
    "localstack": "localstack/localstack:2026.9.0",
    "gcloud-emulators": "gcr.io/google.com/cloudsdktool/google-cloud-cli:583.0.0-emulators",
    "azurite": "mcr.microsoft.com/azure-storage/azurite:3.37.0",
    "servicebus": "mcr.microsoft.com/azure-messaging/servicebus-emulator:1.1.2",
    "mssql": "mcr.microsoft.com/mssql/server:2022-CU14-ubuntu-22.04",
    "kafka": "apache/kafka:4.1.0",
    "rabbitmq": "rabbitmq:4.1-management-alpine",
}
#: Versions used when 9.5.1 names the engine without one.
DEFAULT_VERSIONS: Dict[str, str] = {
    "postgresql": "18",
    "mysql": "8.4",
    "mariadb": "11.8",
    "mongodb": "8.0",
    "redis": "8",
    "valkey": "8.1",
    "memcached": "1.6",
}

#: The Go health check: GET the URL given as its argument, exit 0 on a status below 400.
GO_HEALTHCHECK = (
    'package main;import("net/http";"os";"time");func main(){c:=http.Client{Timeout:5*time.Second};'
    "r,err:=c.Get(os.Args[1]);if err!=nil{os.Exit(1)};r.Body.Close();if r.StatusCode>=400{os.Exit(1)}}"
)
PYTHON_HEALTHCHECK = (
    "import sys, http.client, urllib.parse as p; u = p.urlsplit(sys.argv[1]); "
    "c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=%d); c.request('GET', u.path or '/'); "
    "sys.exit(0 if c.getresponse().status < 400 else 1)"
)
NODE_HEALTHCHECK = (
    "require('http').get(process.argv[1],{timeout:%d},r=>process.exit(r.statusCode<400?0:1))"
    ".on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"
)

_SAFE_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./@+-]{0,254}$")
_JAVA_CLASS = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*(\.[A-Za-z_$][A-Za-z0-9_$]*)+$")
_PY_MODULE_APP = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


# --------------------------------------------------------------------------- escaping


def dockerfile_quote(value: str) -> str:
    """A Dockerfile double-quoted word (LABEL, ENV): ``"`` and ``$`` escaped, control
    characters (which would end the instruction) replaced by spaces, and ``\\``
    written as ``/`` (a backslash before the closing quote or the end of the line
    would read as an escape or a line continuation)."""
    clean = _CONTROL.sub(" ", value).replace("\\", "/")
    return '"%s"' % clean.replace('"', '\\"').replace("$", "\\$")


def exec_form(argv: List[str]) -> str:
    """The JSON (exec) form of CMD / ENTRYPOINT / HEALTHCHECK: no shell, no expansion."""
    return json.dumps([_CONTROL.sub(" ", a) for a in argv], ensure_ascii=True)


def safe_path(value: Optional[str]) -> Optional[str]:
    """A relative path or name that is safe in a shell word and a COPY: letters,
    digits and ``_ . / @ + -`` only, no ``..``, not absolute; else None."""
    if not value:
        return None
    text = value.strip()
    if not _SAFE_PATH.match(text) or ".." in text.split("/"):
        return None
    return text


def compose_escape(value: str) -> str:
    """A literal string in compose.yaml: ``$`` doubled (no interpolation)."""
    return value.replace("$", "$$")


class Interpolated(str):
    """A compose value this renderer interpolates on purpose (``${NAME:?...}``)."""


def _escape_tree(node: Any) -> Any:
    if isinstance(node, Interpolated):
        return str(node)
    if isinstance(node, str):
        return compose_escape(node)
    if isinstance(node, dict):
        return {_escape_tree(k): _escape_tree(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_escape_tree(v) for v in node]
    return node


# --------------------------------------------------------------------------- choices


def language(model: Model, options: Optional[Options]) -> str:
    chosen = (options.language if options is not None else None) or model.service.language
    if not chosen:
        raise UsageError("the SPEC gives no implementation.language; pass --language %s" % "|".join(LANGUAGES))
    value = chosen.strip().lower()
    aliases = {"nodejs": "node", "javascript": "node", "typescript": "node", "golang": "go", "py": "python"}
    value = aliases.get(value, value)
    if value not in LANGUAGES:
        raise UsageError(
            "no Dockerfile template for language %r (from %s); supported: %s; pass --language to choose one"
            % (chosen, "--language" if options is not None and options.language else "the SPEC", ", ".join(LANGUAGES))
        )
    return value


def health_url(model: Model) -> str:
    path = quote(health_path(common.liveness_path(model)), safe="/-._~!$&'()*+,;=:@%?")
    return "http://127.0.0.1:%d%s" % (_port(model), path)


def _port(model: Model) -> int:
    return common.port(model) if model.service.ports else 8080


def _ports(model: Model) -> List[int]:
    found = [p for p in dict.fromkeys(model.service.ports) if 0 < p < 65536]
    return found or [8080]


def _timeout(model: Model) -> int:
    return model.service.health.timeout_seconds or 3


def healthcheck_argv(model: Model, lang: str) -> List[str]:
    url = health_url(model)
    if lang == "python":
        return ["python", "-c", PYTHON_HEALTHCHECK % _timeout(model), url]
    if lang == "node":
        return ["/nodejs/bin/node", "-e", NODE_HEALTHCHECK % (_timeout(model) * 1000), url]
    return ["/healthcheck", url]


def entrypoint(model: Model, lang: str) -> Tuple[List[str], List[str]]:
    """(ENTRYPOINT, CMD) from the SPEC's entry point."""
    entry = model.service.entry_point or ""
    path = safe_path(entry)
    if lang == "python":
        if path and path.endswith(".py"):
            return [], ["python", path]
        if _PY_MODULE_APP.match(entry.strip()):
            return [], ["python", "-m", "uvicorn", entry.strip(), "--host", "0.0.0.0", "--port", str(_port(model))]  # noqa: S104
        if path and re.match(r"^[A-Za-z_][A-Za-z0-9_.]*$", path):
            return [], ["python", "-m", path]
        return [], ["python", "-m", dns_label(common.service_name(model)).replace("-", "_")]
    if lang == "node":
        return ["/nodejs/bin/node"], [path if path and path.endswith((".js", ".mjs", ".cjs")) else "."]
    if lang == "java":
        if _JAVA_CLASS.match(entry.strip()):
            return ["java", "-XX:MaxRAMPercentage=75", "-cp", "/app/app.jar:/app/lib/*", entry.strip()], []
        return ["java", "-XX:MaxRAMPercentage=75", "-jar", "/app/app.jar"], []
    return ["/app"], []


def go_package(model: Model) -> str:
    path = safe_path(model.service.entry_point)
    if not path:
        return "."
    if path.endswith(".go"):
        path = path.rsplit("/", 1)[0] if "/" in path else "."
    elif "." in path.rsplit("/", 1)[-1]:
        return "."
    return path if path == "." else "./" + path.lstrip("./")


# --------------------------------------------------------------------------- Dockerfile


def _labels(model: Model) -> str:
    title = model.service.title or model.service.name
    pairs = [
        ("org.opencontainers.image.title", title),
        ("org.opencontainers.image.version", common.image_tag(model)),
        (common.REQ_TAG.replace("/", "."), model.req_id),
    ]
    return "LABEL " + " \\\n      ".join("%s=%s" % (key, dockerfile_quote(value)) for key, value in pairs)


def _healthcheck(model: Model, lang: str) -> str:
    h = model.service.health
    opts = []
    if h.interval_seconds:
        opts.append("--interval=%ds" % h.interval_seconds)
    if h.timeout_seconds:
        opts.append("--timeout=%ds" % h.timeout_seconds)
    if h.failure_threshold:
        opts.append("--retries=%d" % h.failure_threshold)
    return "HEALTHCHECK %sCMD %s" % ("".join(o + " " for o in opts), exec_form(healthcheck_argv(model, lang)))


def _run(*commands: str) -> str:
    return "RUN " + " \\\n    && ".join(commands)


def _healthcheck_stage() -> List[str]:
    return [
        "# A static HTTP health check: the runtime image has no shell and no curl.",
        "FROM %s AS healthcheck" % HEALTHCHECK_BUILDER,
        "WORKDIR /healthcheck",
        _run(
            "printf '%%s\\n' '%s' > main.go" % GO_HEALTHCHECK,
            "go mod init healthcheck",
            'CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/healthcheck .',
        ),
        "",
    ]


def dockerfile(model: Model, lang: str) -> str:
    images = IMAGES[lang]
    notes = [
        n
        for n in (
            common.source_note(model, "service.language"),
            common.source_note(model, "service.entry_point"),
            common.source_note(model, "service.ports"),
            common.source_note(model, "service.health.liveness"),
        )
        if n
    ]
    lines: List[str] = [comment(n) for n in dict.fromkeys(notes)]
    entry, cmd = entrypoint(model, lang)
    uid = "%d:%d" % (APP_UID, APP_UID)
    if lang == "python":
        lines += [
            "FROM %s AS build" % images.build,
            "ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1",
            "WORKDIR /app",
            "COPY requirements.txt ./",
            _run("python -m venv /opt/venv", "/opt/venv/bin/pip install --no-cache-dir -r requirements.txt"),
            "COPY . .",
            "",
            "FROM %s" % images.runtime,
            _labels(model),
            "ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1",
            _run(
                "groupadd --system --gid %d app" % APP_UID,
                "useradd --system --no-log-init --uid %d --gid app --no-create-home --shell /usr/sbin/nologin app"
                % APP_UID,
            ),
            "WORKDIR /app",
            "COPY --from=build /opt/venv /opt/venv",
            "COPY --from=build /app /app",
        ]
    elif lang == "node":
        lines += [
            "FROM %s AS build" % images.build,
            "ENV NODE_ENV=production",
            "WORKDIR /app",
            "COPY package.json package-lock.json ./",
            "RUN npm ci --omit=dev",
            "COPY . .",
            "",
            "FROM %s" % images.runtime,
            _labels(model),
            "ENV NODE_ENV=production",
            "WORKDIR /app",
            "COPY --from=build /app /app",
        ]
    elif lang == "go":
        lines += _healthcheck_stage()
        lines += [
            "FROM %s AS build" % images.build,
            "WORKDIR /src",
            "COPY go.mod go.sum ./",
            "RUN go mod download",
            "COPY . .",
            'RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/app %s' % go_package(model),
            "",
            "FROM %s" % images.runtime,
            _labels(model),
            "COPY --from=build /out/app /app",
            "COPY --from=healthcheck /out/healthcheck /healthcheck",
        ]
    else:
        lines += _healthcheck_stage()
        lines += [
            "FROM %s AS build" % images.build,
            "WORKDIR /src",
            "COPY pom.xml ./",
            "RUN mvn -B -q dependency:go-offline",
            "COPY src ./src",
            _run(
                "mvn -B -q -DskipTests%s package dependency:copy-dependencies "
                "-DincludeScope=runtime -DoutputDirectory=target/lib"
                % (" -Dspring-boot.repackage.skip=true" if not cmd and "-cp" in entry else ""),
                "mkdir -p /out",
                "cp target/*.jar /out/app.jar",
                "cp -r target/lib /out/lib",
            ),
            "",
            "FROM %s" % images.runtime,
            _labels(model),
            "WORKDIR /app",
            "COPY --from=build /out /app",
            "COPY --from=healthcheck /out/healthcheck /healthcheck",
        ]
    lines += [
        "USER %s" % uid,
        "EXPOSE %s" % " ".join("%d/tcp" % p for p in _ports(model)),
        _healthcheck(model, lang),
    ]
    if entry:
        lines.append("ENTRYPOINT %s" % exec_form(entry))
    if cmd:
        lines.append("CMD %s" % exec_form(cmd))
    return "\n".join(lines) + "\n"


def dockerignore(lang: str) -> str:
    common_rules = [
        "# Keep the build context small and free of secrets.",
        ".git",
        ".gitignore",
        ".env",
        ".env.*",
        "*.pem",
        "*.key",
        "secrets/",
        ".devops-flow/",
        "Dockerfile",
        ".dockerignore",
        "compose.yaml",
        "k8s/",
        "helm/",
        "terraform/",
        ".terraform/",
        "**/.DS_Store",
    ]
    per_language = {
        "python": [
            "**/__pycache__/",
            "**/*.py[cod]",
            ".venv/",
            "venv/",
            ".pytest_cache/",
            ".mypy_cache/",
            "dist/",
            "build/",
        ],
        "node": ["node_modules/", "npm-debug.log*", "coverage/", ".npm/"],
        "go": ["bin/", "vendor/", "*.test", "coverage.out"],
        "java": ["target/", "build/", ".gradle/", ".idea/", "*.iml"],
    }
    return "\n".join(common_rules + per_language[lang]) + "\n"


# --------------------------------------------------------------------------- compose


def _version(engine: str, version: Optional[str], parts: int) -> str:
    if version and re.match(r"^\d+(\.\d+)*$", version.strip()):
        return ".".join(version.strip().split(".")[:parts])
    return DEFAULT_VERSIONS[engine]


def _secret(name: str) -> Interpolated:
    return Interpolated("${%s:?set %s in .env}" % (name, name))


def _health(test: List[str], interval: int = 10, retries: int = 10) -> Dict[str, Any]:
    return {"test": test, "interval": "%ds" % interval, "timeout": "5s", "retries": retries, "start_period": "20s"}


@dataclass
class ComposeParts:
    services: Dict[str, Dict[str, Any]]
    volumes: Dict[str, Dict[str, Any]]
    secrets_needed: List[str]
    notes: List[str]


def _database(model: Model, parts: ComposeParts, db_name: str) -> Optional[str]:
    db = model.infrastructure.database
    if db is None:
        return None
    cloud = model.cloud.provider or ""
    engine = db.engine
    if engine == "postgresql":
        version = _version(engine, db.version, 1)
        data_dir = "/var/lib/postgresql" if int(version.split(".")[0]) >= 18 else "/var/lib/postgresql/data"
        parts.services["db"] = {
            "image": SERVICE_IMAGES[engine] % version,
            "environment": {
                "POSTGRES_DB": db_name,
                "POSTGRES_USER": db_name,
                "POSTGRES_PASSWORD": _secret("DB_PASSWORD"),
            },
            "volumes": ["db-data:%s" % data_dir],
            "healthcheck": _health(["CMD", "pg_isready", "-U", db_name, "-d", db_name]),
        }
    elif engine in ("mysql", "mariadb"):
        version = _version(engine, db.version, 2)
        prefix = "MYSQL" if engine == "mysql" else "MARIADB"
        test = (
            ["CMD-SHELL", 'mysqladmin ping -h 127.0.0.1 -u "$$MYSQL_USER" -p"$$MYSQL_PASSWORD" --silent']
            if engine == "mysql"
            else ["CMD", "healthcheck.sh", "--connect", "--innodb_initialized"]
        )
        parts.services["db"] = {
            "image": SERVICE_IMAGES[engine] % version,
            "environment": {
                prefix + "_DATABASE": db_name,
                prefix + "_USER": db_name,
                prefix + "_PASSWORD": _secret("DB_PASSWORD"),
                prefix + "_RANDOM_ROOT_PASSWORD": "yes",
            },
            "volumes": ["db-data:/var/lib/mysql"],
            "healthcheck": _health([Interpolated(t) if "$$" in t else t for t in test]),
        }
    elif engine == "mongodb":
        version = _version(engine, db.version, 2)
        parts.services["db"] = {
            "image": SERVICE_IMAGES[engine] % version,
            "environment": {
                "MONGO_INITDB_ROOT_USERNAME": db_name,
                "MONGO_INITDB_ROOT_PASSWORD": _secret("DB_PASSWORD"),
            },
            "volumes": ["db-data:/data/db"],
            "healthcheck": _health(["CMD", "mongosh", "--quiet", "--eval", "db.adminCommand('ping')"]),
        }
    elif engine in ("dynamodb", "firestore", "cosmosdb"):
        if cloud == "aws" or (not cloud and engine == "dynamodb"):
            _localstack(parts, "dynamodb")
            return "localstack"
        if cloud == "gcp":
            parts.services["firestore"] = {
                "image": SERVICE_IMAGES["gcloud-emulators"],
                "command": ["gcloud", "emulators", "firestore", "start", "--host-port=0.0.0.0:8080"],
                "healthcheck": _health(["CMD", "curl", "-fsS", "http://127.0.0.1:8080/"]),
            }
            return "firestore"
        parts.notes.append("no local emulator for %s on %s: the application uses the cloud service" % (engine, cloud))
        return None
    else:
        parts.notes.append("no local container for the %s database: the application uses the cloud service" % engine)
        return None
    parts.volumes["db-data"] = {}
    parts.secrets_needed.append("DB_PASSWORD")
    return "db"


def _localstack(parts: ComposeParts, service: str) -> None:
    existing = parts.services.get("localstack")
    if existing is None:
        parts.services["localstack"] = {
            "image": SERVICE_IMAGES["localstack"],
            "environment": {"SERVICES": service, "LOCALSTACK_AUTH_TOKEN": _secret("LOCALSTACK_AUTH_TOKEN")},
            "volumes": ["localstack-data:/var/lib/localstack"],
            "healthcheck": _health(["CMD", "curl", "-fsS", "http://127.0.0.1:4566/_localstack/health"]),
        }
        parts.volumes["localstack-data"] = {}
        parts.secrets_needed.append("LOCALSTACK_AUTH_TOKEN")
    else:
        names = existing["environment"]["SERVICES"].split(",")
        if service not in names:
            existing["environment"]["SERVICES"] = ",".join(sorted(names + [service]))


def _cache(model: Model, parts: ComposeParts) -> Optional[str]:
    cache = model.infrastructure.cache
    if cache is None:
        return None
    engine = cache.engine if cache.engine in ("redis", "valkey", "memcached") else "redis"
    version = _version(engine, cache.version, 2 if engine != "redis" else 1)
    if engine == "memcached":
        test: List[str] = ["CMD-SHELL", "echo stats | nc 127.0.0.1 11211 | grep -q uptime"]
        volumes: List[str] = []
    else:
        test = ["CMD", "%s-cli" % engine, "ping"]
        volumes = ["cache-data:/data"]
    service: Dict[str, Any] = {"image": SERVICE_IMAGES[engine] % version, "healthcheck": _health(test)}
    if volumes:
        service["volumes"] = volumes
        parts.volumes["cache-data"] = {}
    parts.services["cache"] = service
    return "cache"


def _queue(model: Model, parts: ComposeParts) -> Optional[str]:
    queue = model.infrastructure.queue
    if queue is None or queue.kind == "unknown":
        return None
    cloud = model.cloud.provider or ""
    if queue.kind == "kafka":
        parts.services["kafka"] = {
            "image": SERVICE_IMAGES["kafka"],
            "volumes": ["kafka-data:/var/lib/kafka/data"],
            "healthcheck": _health(
                ["CMD", "/opt/kafka/bin/kafka-broker-api-versions.sh", "--bootstrap-server", "localhost:9092"]
            ),
        }
        parts.volumes["kafka-data"] = {}
        return "kafka"
    if queue.kind == "rabbitmq":
        parts.services["rabbitmq"] = {
            "image": SERVICE_IMAGES["rabbitmq"],
            "volumes": ["rabbitmq-data:/var/lib/rabbitmq"],
            "healthcheck": _health(["CMD", "rabbitmq-diagnostics", "-q", "ping"]),
        }
        parts.volumes["rabbitmq-data"] = {}
        return "rabbitmq"
    target = cloud or {"sqs": "aws", "sns": "aws", "pubsub": "gcp", "servicebus": "azure", "eventhubs": "azure"}.get(
        queue.kind, ""
    )
    if target == "aws":
        _localstack(parts, "sns" if queue.kind == "sns" else "sqs")
        return "localstack"
    if target == "gcp":
        parts.services["pubsub"] = {
            "image": SERVICE_IMAGES["gcloud-emulators"],
            "command": [
                "gcloud",
                "beta",
                "emulators",
                "pubsub",
                "start",
                "--host-port=0.0.0.0:8085",
                "--project=local",
            ],
            "healthcheck": _health(["CMD", "curl", "-fsS", "http://127.0.0.1:8085/"]),
        }
        return "pubsub"
    if target == "azure":
        parts.services["servicebus-sql"] = {
            "image": SERVICE_IMAGES["mssql"],
            "environment": {"ACCEPT_EULA": "Y", "MSSQL_SA_PASSWORD": _secret("MSSQL_SA_PASSWORD")},
            "healthcheck": _health(
                [
                    "CMD-SHELL",
                    Interpolated(
                        '/opt/mssql-tools18/bin/sqlcmd -C -S localhost -U sa -P "$$MSSQL_SA_PASSWORD" -Q "SELECT 1" -b'
                    ),
                ]
            ),
        }
        parts.services["servicebus"] = {
            "image": SERVICE_IMAGES["servicebus"],
            "environment": {
                "SQL_SERVER": "servicebus-sql",
                "MSSQL_SA_PASSWORD": _secret("MSSQL_SA_PASSWORD"),
                "ACCEPT_EULA": "Y",
            },
            "depends_on": {"servicebus-sql": {"condition": "service_healthy"}},
            "healthcheck": _health(["CMD-SHELL", "bash -c 'exec 3<>/dev/tcp/127.0.0.1/5672'"]),
        }
        parts.secrets_needed.append("MSSQL_SA_PASSWORD")
        return "servicebus"
    return None


def _storage(model: Model, parts: ComposeParts) -> Optional[str]:
    storage = model.infrastructure.storage
    if storage is None or storage.kind not in ("s3", "gcs", "blob"):
        return None
    cloud = model.cloud.provider or {"s3": "aws", "gcs": "gcp", "blob": "azure"}[storage.kind]
    if cloud == "aws":
        _localstack(parts, "s3")
        return "localstack"
    if cloud == "azure":
        parts.services["azurite"] = {
            "image": SERVICE_IMAGES["azurite"],
            "command": ["azurite-blob", "--blobHost", "0.0.0.0", "--location", "/data"],  # noqa: S104
            "volumes": ["azurite-data:/data"],
            "healthcheck": _health(["CMD", "nc", "-z", "127.0.0.1", "10000"]),
        }
        parts.volumes["azurite-data"] = {}
        return "azurite"
    return None


def _app_environment(model: Model) -> Dict[str, Any]:
    env: Dict[str, Any] = {}
    for var in usable_env(model):
        if not _IDENT.match(var.name):
            continue
        if var.sensitive:
            env[var.name] = _secret(var.name)
        elif var.default is not None:
            env[var.name] = var.default
        elif var.required:
            env[var.name] = _secret(var.name)
        else:
            env[var.name] = Interpolated("${%s:-}" % var.name)
    return env


def compose(model: Model, lang: str) -> Tuple[str, List[str]]:
    """compose.yaml text and the names .env must define."""
    app = dns_label(common.service_name(model))
    db_name = re.sub(r"[^a-z0-9_]", "_", app)[:63]
    parts = ComposeParts({}, {}, [], [])
    dependencies = [
        d
        for d in (_database(model, parts, db_name), _cache(model, parts), _queue(model, parts), _storage(model, parts))
        if d
    ]
    h = model.service.health
    health: Dict[str, Any] = {"test": ["CMD"] + healthcheck_argv(model, lang)}
    if h.interval_seconds:
        health["interval"] = "%ds" % h.interval_seconds
    if h.timeout_seconds:
        health["timeout"] = "%ds" % h.timeout_seconds
    if h.failure_threshold:
        health["retries"] = h.failure_threshold
    service: Dict[str, Any] = {
        "build": {"context": ".", "dockerfile": "Dockerfile"},
        "image": "%s:%s" % (common.image(model), common.image_tag(model)),
        "user": "%d:%d" % (APP_UID, APP_UID),
        "read_only": True,
        "tmpfs": ["/tmp"],  # noqa: S108 - a tmpfs inside the container
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "ports": ["127.0.0.1:%d:%d" % (p, p) for p in _ports(model)],
    }
    env = _app_environment(model)
    if env:
        service["environment"] = env
    if dependencies:
        service["depends_on"] = {d: {"condition": "service_healthy"} for d in dict.fromkeys(dependencies)}
    service["healthcheck"] = health
    service["restart"] = "unless-stopped"
    services: Dict[str, Any] = {app: service}
    services.update(parts.services)
    data: Dict[str, Any] = {"name": app, "services": services}
    if parts.volumes:
        data["volumes"] = parts.volumes
    needed = list(dict.fromkeys(parts.secrets_needed + [n for n in sensitive_names(model) if _IDENT.match(n)]))
    needed += [
        v.name
        for v in usable_env(model)
        if not v.sensitive and v.required and v.default is None and _IDENT.match(v.name)
    ]
    notes = [
        "Local development stack: start it with `docker compose up --build`.",
        "Secrets and required settings come from .env (git-ignored; see .env.example): %s."
        % (", ".join(dict.fromkeys(needed)) or "none"),
    ]
    for path in ("infrastructure.database", "infrastructure.cache", "infrastructure.queue", "infrastructure.storage"):
        note = common.source_note(model, path)
        if note:
            notes.append(note)
    notes += parts.notes
    return dump(_escape_tree(data), notes), list(dict.fromkeys(needed))


def env_example(model: Model, needed: List[str]) -> str:
    lines = [
        "# Copy to .env (never commit .env) and fill in the values: compose.yaml reads them.",
    ]
    described = {v.name: v for v in model.service.env}
    for key in needed:
        var = described.get(key)
        if var is not None and var.description:
            lines.append(comment(var.description))
        lines.append("%s=" % key)
    return "\n".join(lines) + "\n"


def render_container(model: Model, options: Options) -> FileSet:
    lang = language(model, options)
    files = FileSet()
    files.add(
        GeneratedFile(
            "Dockerfile",
            dockerfile(model, lang),
            "dockerfile",
            (
                "service.language",
                "service.entry_point",
                "service.ports",
                "service.health.liveness",
                "service.health.interval_seconds",
                "service.health.timeout_seconds",
                "service.health.failure_threshold",
                "service.title",
                "service.version",
                "service.image",
                "traceability.req",
            ),
        )
    )
    files.add(GeneratedFile(".dockerignore", dockerignore(lang), "text", ("service.language",)))
    text, needed = compose(model, lang)
    files.add(
        GeneratedFile(
            "compose.yaml",
            text,
            "compose",
            (
                "service.name",
                "service.image",
                "service.ports",
                "service.env",
                "service.health.liveness",
                "infrastructure.database.engine",
                "infrastructure.database.version",
                "infrastructure.cache.engine",
                "infrastructure.cache.version",
                "infrastructure.queue.kind",
                "infrastructure.storage.kind",
                "cloud.provider",
            ),
        )
    )
    files.add(GeneratedFile(".env.example", env_example(model, needed), "text", ("service.env",)))
    return files
