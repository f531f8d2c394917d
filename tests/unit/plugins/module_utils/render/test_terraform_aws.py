"""Terraform for AWS (render/terraform_aws.py): every generated tree goes through the real
validators (terraform fmt, python-hcl2, terraform validate with the provider mirror, checkov)
and must have no error; the structure is then checked on the parsed HCL."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

import hcl2
import pytest

from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import Finding
from ansible_collections.sdd.devops_flow.plugins.module_utils.fileset import FileSet
from ansible_collections.sdd.devops_flow.plugins.module_utils.generate import Options, render
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model
from ansible_collections.sdd.devops_flow.plugins.module_utils.model import (
    Cache,
    Compute,
    Database,
    Model,
    Queue,
    Service,
    Storage,
    Tls,
)
from ansible_collections.sdd.devops_flow.plugins.module_utils.render import terraform_aws
from ansible_collections.sdd.devops_flow.plugins.module_utils.render.terraform_aws_plan import (
    fargate_size,
    log_retention,
    plan,
)

REPO = Path(__file__).resolve().parents[5]
EXAMPLES = REPO / "examples" / "docs" / "07_REQ"
FOREIGN = REPO / "tests" / "fixtures" / "foreign"

DOCUMENTS: Dict[str, Tuple[Path, Any]] = {
    "req14": (EXAMPLES / "REQ-14_order_intake_api.md", None),
    "acme": (FOREIGN / "acme-payments" / "docs" / "07_REQ" / "REQ-07_payment_gateway.md", None),
    "initech": (FOREIGN / "initech-notifications" / "docs" / "07_REQ" / "REQ-15_notification_dispatcher.md", None),
    "req21": (EXAMPLES / "REQ-21_catalog_search.md", "aws"),
    "req102": (EXAMPLES / "REQ-102_ledger_events.md", "aws"),
    "contoso": (
        FOREIGN
        / "contoso-ledger"
        / "docs"
        / "07_REQ"
        / "REQ-21_ledger_event_publisher"
        / "REQ-21_ledger_event_publisher.md",
        "aws",
    ),
}

EVIL = 'quote " back \\ ${evil} %{ if x } new\nline'


def _model(case: str) -> Model:
    path, cloud = DOCUMENTS[case]
    return load_model(req=str(path), cloud=cloud)


def _edge_models() -> Dict[str, Model]:
    """Models no fixture has: unsupported services, other engines, nothing at all, hostile text."""
    base = _model("req14")
    infra = base.infrastructure
    unsupported = dataclasses.replace(
        base,
        infrastructure=dataclasses.replace(
            infra,
            compute=Compute(kind="vm", vcpu=4, memory_mib=16384),
            database=Database(engine="sqlserver", service="rds"),
            cache=Cache(engine="memcached", memory_mib=512),
            queue=Queue(kind="kafka"),
            storage=Storage(kind="efs"),
        ),
        security=dataclasses.replace(base.security, tls=None),
    )
    aurora = dataclasses.replace(
        base,
        infrastructure=dataclasses.replace(
            infra,
            compute=Compute(kind="cloud-functions", memory_mib=512, max_instances=20),
            database=Database(engine="mysql", service="aurora", version="8.0", ha=True),
            cache=Cache(engine="valkey", version="8", ha=True),
            queue=Queue(kind="sns", queue_type="fifo"),
            storage=Storage(kind="blob", retention_days=30, replication=True),
        ),
    )
    bare = Model(service=Service(name="bare-minimum", ports=(8080,)))
    env = list(base.service.env)
    env[3] = dataclasses.replace(env[3], name="GREETING", default=EVIL)
    env[0] = dataclasses.replace(env[0], description=EVIL)
    hostile = dataclasses.replace(
        base,
        service=dataclasses.replace(
            base.service,
            env=tuple(env),
            health=dataclasses.replace(base.service.health, readiness='/ready"${x}'),
        ),
        security=dataclasses.replace(base.security, tls=Tls(domain='api.example.com" ${evil}')),
    )
    return {"unsupported": unsupported, "aurora": aurora, "bare": bare, "hostile": hostile}


def _files(model: Model) -> FileSet:
    return render(model, Options("infra", iac="terraform", cloud="aws"))


@pytest.fixture(scope="module")
def models() -> Dict[str, Model]:
    out = {case: _model(case) for case in DOCUMENTS}
    out.update(_edge_models())
    return out


@pytest.fixture(scope="module")
def rendered(models: Dict[str, Model]) -> Dict[str, FileSet]:
    return {case: _files(model) for case, model in models.items()}


@pytest.fixture(scope="module")
def validated(
    rendered: Dict[str, FileSet], tmp_path_factory: pytest.TempPathFactory, validate_cases: Any
) -> Dict[str, List[Finding]]:
    """Each case written to its own folder; every validator of its kinds runs once over all of them."""
    return validate_cases(tmp_path_factory.mktemp("aws"), rendered)


# --------------------------------------------------------------------------- helpers


def _unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    return value


def _parse(files: FileSet, path: str) -> Dict[str, Any]:
    file = files.get(path)
    assert file is not None, path
    data: Dict[str, Any] = hcl2.loads(file.content)
    data.pop("__comments__", None)
    return data


def _resources(files: FileSet, path: str) -> Dict[Tuple[str, str], Dict[str, Any]]:
    out: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for entry in _parse(files, path).get("resource", []):
        for rtype, named in entry.items():
            for name, body in named.items():
                out[(_unquote(rtype), _unquote(name))] = body
    return out


def _all_resources(files: FileSet) -> Dict[Tuple[str, str, str], Dict[str, Any]]:
    out: Dict[Tuple[str, str, str], Dict[str, Any]] = {}
    for file in files:
        if file.path.endswith(".tf"):
            for (rtype, name), body in _resources(files, file.path).items():
                out[(file.path, rtype, name)] = body
    return out


def _tfvars(files: FileSet, env: str) -> Dict[str, Any]:
    data = _parse(files, "environments/%s.tfvars" % env)
    return {k: _unquote(v) for k, v in data.items()}


def _variables(files: FileSet) -> Dict[str, Dict[str, Any]]:
    out: Dict[str, Dict[str, Any]] = {}
    for entry in _parse(files, "variables.tf").get("variable", []):
        for name, body in entry.items():
            out[_unquote(name)] = body
    return out


# --------------------------------------------------------------------------- validators


@pytest.mark.parametrize("case", list(DOCUMENTS) + ["unsupported", "aurora", "bare", "hostile"])
def test_every_validator_passes(case: str, validated: Dict[str, List[Finding]]) -> None:
    errors = [f.format() for f in validated[case] if f.severity == "error"]
    assert errors == [], "\n".join(errors)
    warnings = [f.format() for f in validated[case] if f.severity == "warning"]
    assert warnings == [], "\n".join(warnings)


def test_all_four_validators_ran(rendered: Dict[str, FileSet]) -> None:
    from ansible_collections.sdd.devops_flow.plugins.module_utils.validators.registry import validators_for

    names = {v.name for v in validators_for("terraform")}
    assert names == {"terraform fmt", "python-hcl2", "terraform validate", "checkov"}
    for files in rendered.values():
        assert {f.kind for f in files} == {"terraform"}


# --------------------------------------------------------------------------- layout


def test_layout_and_fields(rendered: Dict[str, FileSet]) -> None:
    files = rendered["req14"]
    for path in ("versions.tf", "providers.tf", "backend.tf", "variables.tf", "main.tf", "outputs.tf"):
        assert path in files
    for env in ("dev", "staging", "prod"):
        assert "environments/%s.tfvars" % env in files
    for module in ("network", "compute", "database", "storage", "cache", "queue"):
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
            assert "modules/%s/%s" % (module, name) in files
    for file in files:
        assert file.fields, file.path
    bare = rendered["bare"]
    assert sorted({p.split("/")[1] for p in bare.paths() if p.startswith("modules/")}) == ["compute", "network"]


def test_versions_backend_and_providers(rendered: Dict[str, FileSet]) -> None:
    files = rendered["req14"]
    versions = files.get("versions.tf")
    assert versions is not None
    assert 'version = ">= 5.100, < 7.0"' in versions.content
    backend = _parse(files, "backend.tf")["terraform"][0]["backend"][0]['"s3"']
    assert backend["use_lockfile"] is True and backend["encrypt"] is True
    assert "bucket" not in backend and "region" not in backend
    provider = _parse(files, "providers.tf")["provider"][0]['"aws"']
    tags = provider["default_tags"][0]["tags"]
    assert tags['"sdd.devops-flow/req"'] == '"REQ-14"'
    assert set(tags) == {"Project", "Environment", "ManagedBy", '"sdd.devops-flow/req"'}
    assert provider["region"] == "${var.region}"


def test_tfvars_set_declared_variables_only(rendered: Dict[str, FileSet], models: Dict[str, Model]) -> None:
    for case, files in rendered.items():
        declared = _variables(files)
        for path in files.paths():
            if path.endswith(".tfvars"):
                values = _parse(files, path)
                unknown = set(values) - set(declared)
                assert not unknown, (case, path, unknown)
                env = _unquote(values["environment"])
                assert path == "environments/%s.tfvars" % env
                assert values["min_capacity"] <= values["desired_count"] <= values["max_capacity"]


def test_production_is_ha_where_the_documents_say_so(rendered: Dict[str, FileSet]) -> None:
    req14 = rendered["req14"]
    prod, dev = _tfvars(req14, "prod"), _tfvars(req14, "dev")
    assert prod["db_multi_az"] is True and prod["deletion_protection"] is True
    assert prod["nat_gateway_per_az"] is True and prod["cache_multi_az"] is True
    assert dev["db_multi_az"] is False and dev["deletion_protection"] is False
    assert prod["desired_count"] == 4 and prod["min_capacity"] == 4 and prod["max_capacity"] == 10
    assert prod["task_cpu"] == 2048 and prod["task_memory"] == 4096
    # acme: 9.5.1 says HA: no for the database
    assert _tfvars(rendered["acme"], "prod")["db_multi_az"] is False


def test_blue_green_target_groups_exactly_when_used(rendered: Dict[str, FileSet], models: Dict[str, Model]) -> None:
    for case, files in rendered.items():
        envs = models[case].environments
        split = any(e.strategy in ("blue-green", "canary") for e in envs)
        groups = {
            name for (rtype, name) in _resources(files, "modules/compute/main.tf") if rtype == "aws_lb_target_group"
        }
        assert groups == ({"blue", "green"} if split else {"blue"}), case
    assert not any(e.strategy in ("blue-green", "canary") for e in models["contoso"].environments)


def test_compute_flavour_per_kind(rendered: Dict[str, FileSet]) -> None:
    expected = {
        "req14": "aws_ecs_service",
        "acme": "aws_autoscaling_group",
        "initech": "aws_lambda_function",
        "req21": "aws_ecs_service",
        "req102": "aws_ecs_service",
        "contoso": "aws_ecs_service",
        "unsupported": "aws_autoscaling_group",
        "aurora": "aws_lambda_function",
        "bare": "aws_ecs_service",
    }
    for case, rtype in expected.items():
        types = {t for (t, _name) in _resources(rendered[case], "modules/compute/main.tf")}
        assert rtype in types, case
        assert {"aws_lb", "aws_wafv2_web_acl_association", "aws_ecr_repository"} <= types
    compute = rendered["req21"].get("modules/compute/main.tf")
    assert compute is not None and "Cloud Run runs containers" in compute.content
    contoso = rendered["contoso"].get("modules/compute/main.tf")
    assert contoso is not None and "EKS is out of scope" in contoso.content


def test_ecs_service_details(rendered: Dict[str, FileSet]) -> None:
    res = _resources(rendered["req14"], "modules/compute/main.tf")
    service = res[("aws_ecs_service", "this")]
    assert service["network_configuration"][0]["assign_public_ip"] is False
    assert "CODE_DEPLOY" in service["deployment_controller"][0]["type"]
    assert ("aws_codedeploy_deployment_group", "this") in res
    task = res[("aws_ecs_task_definition", "this")]
    text = str(task["container_definitions"])
    assert "secret_arns" in text and "valueFrom" in text and "readonlyRootFilesystem" in text
    ecr = res[("aws_ecr_repository", "this")]
    assert _unquote(ecr["image_tag_mutability"]) == "IMMUTABLE"
    assert ecr["image_scanning_configuration"][0]["scan_on_push"] is True
    assert _unquote(ecr["encryption_configuration"][0]["encryption_type"]) == "KMS"
    lb = res[("aws_lb", "this")]
    assert lb["drop_invalid_header_fields"] is True and lb["access_logs"][0]["enabled"] is True
    https = res[("aws_lb_listener", "https")]
    assert https["port"] == 443 and _unquote(https["protocol"]) == "HTTPS"
    redirect = res[("aws_lb_listener", "http_redirect")]["default_action"][0]
    assert _unquote(redirect["type"]) == "redirect"
    blue = res[("aws_lb_target_group", "blue")]
    assert blue["health_check"][0]["path"] == "${var.health_check_path}"
    root = _resources(rendered["req14"], "main.tf")
    assert ("aws_acm_certificate", "this") in root
    variables = _variables(rendered["req14"])
    assert _unquote(variables["domain_name"]["default"]) == "orders.api.example.com"


def test_ec2_and_lambda_details(rendered: Dict[str, FileSet]) -> None:
    ec2 = _resources(rendered["acme"], "modules/compute/main.tf")
    template = ec2[("aws_launch_template", "this")]
    assert _unquote(template["metadata_options"][0]["http_tokens"]) == "required"
    assert template["block_device_mappings"][0]["ebs"][0]["encrypted"] is True
    assert template["network_interfaces"][0]["associate_public_ip_address"] is False
    fn = _resources(rendered["initech"], "modules/compute/main.tf")[("aws_lambda_function", "this")]
    assert fn["reserved_concurrent_executions"] == "${var.max_capacity}"
    assert _unquote(fn["tracing_config"][0]["mode"]) == "Active"
    assert "dead_letter_config" in fn
    assert "vpc_config" not in fn  # DynamoDB only: the function stays outside the VPC
    assert _variables(rendered["initech"])["max_capacity"]["default"] == 100
    with_db = _resources(rendered["aurora"], "modules/compute/main.tf")[("aws_lambda_function", "this")]
    assert "vpc_config" in with_db  # Aurora and a cache are inside the VPC
    targets = _resources(rendered["initech"], "modules/compute/main.tf")[("aws_lb_target_group", "blue")]
    assert _unquote(targets["target_type"]) == "lambda"


def test_security_groups_are_exactly_the_narrow_set(rendered: Dict[str, FileSet]) -> None:
    res = _resources(rendered["req14"], "modules/network/main.tf")
    rules: Set[Tuple[str, str, str, str]] = set()
    for (rtype, name), body in res.items():
        if rtype == "aws_security_group":
            assert "ingress" not in body and "egress" not in body, name
        if rtype.startswith("aws_vpc_security_group_"):
            direction = "in" if rtype.endswith("ingress_rule") else "out"
            group = re.sub(r"^\$\{aws_security_group\.(\w+)\.id\}$", r"\1", body["security_group_id"])
            peer = _unquote(body.get("cidr_ipv4", "")) or re.sub(
                r"^\$\{aws_security_group\.(\w+)\.id\}$", r"\1", body["referenced_security_group_id"]
            )
            assert body["from_port"] == body["to_port"]
            assert _unquote(body["description"])
            rules.add((direction, group, str(body["from_port"]), peer))
    assert rules == {
        ("in", "alb", "443", "0.0.0.0/0"),
        ("in", "alb", "80", "0.0.0.0/0"),
        ("out", "alb", "${var.app_port}", "app"),
        ("in", "app", "${var.app_port}", "alb"),
        ("out", "app", "443", "0.0.0.0/0"),
        ("out", "app", "${var.database_port}", "database"),
        ("in", "database", "${var.database_port}", "app"),
        ("out", "app", "${var.cache_port}", "cache"),
        ("in", "cache", "${var.cache_port}", "app"),
    }
    network_call = _parse(rendered["req14"], "main.tf")["module"]
    ports = {k: v for m in network_call for k, v in m.get('"network"', {}).items()}
    assert ports["database_port"] == 5432 and ports["cache_port"] == 6379
    # the default group allows nothing
    assert set(res[("aws_default_security_group", "this")]) <= {"vpc_id", "__is_block__"}


def test_data_stores(rendered: Dict[str, FileSet]) -> None:
    db = _resources(rendered["req14"], "modules/database/main.tf")[("aws_db_instance", "this")]
    assert db["manage_master_user_password"] is True and db["publicly_accessible"] is False
    assert db["storage_encrypted"] is True and db["iam_database_authentication_enabled"] is True
    assert db["multi_az"] == "${var.multi_az}" and db["performance_insights_enabled"] is True
    assert db["copy_tags_to_snapshot"] is True and db["auto_minor_version_upgrade"] is True
    variables = _variables(rendered["req14"])
    assert variables["db_backup_retention_days"]["default"] == 14  # SPEC data_backup retention
    assert _unquote(variables["db_engine_version"]["default"]) == "15"
    table = _resources(rendered["initech"], "modules/database/main.tf")[("aws_dynamodb_table", "this")]
    assert table["point_in_time_recovery"][0]["enabled"] is True
    assert table["server_side_encryption"][0]["enabled"] is True
    cache = _resources(rendered["req14"], "modules/cache/main.tf")[("aws_elasticache_replication_group", "this")]
    assert cache["at_rest_encryption_enabled"] is True and cache["transit_encryption_enabled"] is True
    assert cache["automatic_failover_enabled"] == "${var.multi_az}"
    assert "auth_token" not in cache and cache["user_group_ids"]
    queue = _resources(rendered["req14"], "modules/queue/main.tf")
    assert "redrive_policy" in queue[("aws_sqs_queue", "this")]
    assert _variables(rendered["req14"])["queue_retention_seconds"]["default"] == 345600
    assert _variables(rendered["req14"])["queue_max_receive_count"]["default"] == 5
    storage = _resources(rendered["req14"], "modules/storage/main.tf")
    assert ("aws_s3_bucket_public_access_block", "this") in storage
    assert ("aws_s3_bucket_logging", "this") in storage
    assert ("aws_s3_bucket_replication_configuration", "this") not in storage
    assert variables["storage_retention_days"]["default"] == 90
    # initech: prod is multi-region, so the bucket is replicated to the second region
    replicated = _resources(rendered["initech"], "modules/storage/main.tf")
    assert ("aws_s3_bucket_replication_configuration", "this") in replicated
    assert _unquote(_variables(rendered["initech"])["replica_region"]["default"]) == "us-east-1"
    assert _tfvars(rendered["initech"], "prod")["replication_enabled"] is True
    assert _tfvars(rendered["initech"], "dev")["replication_enabled"] is False


def test_unsupported_services_are_named_not_generated(rendered: Dict[str, FileSet]) -> None:
    files = rendered["unsupported"]
    main = files.get("main.tf")
    assert main is not None
    for word in ("sqlserver", "kafka", "efs"):
        assert word in main.content
    modules = {p.split("/")[1] for p in files.paths() if p.startswith("modules/")}
    assert modules == {"network", "compute", "cache"}
    cluster = _resources(files, "modules/cache/main.tf")
    assert ("aws_elasticache_cluster", "this") in cluster
    variables = _variables(files)
    assert variables["domain_name"]["default"] is None
    aurora = _resources(rendered["aurora"], "modules/database/main.tf")
    assert ("aws_rds_cluster", "this") in aurora and ("aws_rds_cluster_instance", "this") in aurora
    queue = _resources(rendered["aurora"], "modules/queue/main.tf")
    assert set(queue) == {("aws_sns_topic", "this")}


def test_alarms_and_budgets(rendered: Dict[str, FileSet]) -> None:
    res = _resources(rendered["req14"], "main.tf")
    alarms = {name for (rtype, name) in res if rtype == "aws_cloudwatch_metric_alarm"}
    # p95 and the error rate from the thresholds, p99 from the quality targets (section 6)
    assert alarms == {"p95_latency", "p99_latency", "error_rate", "unhealthy_targets", "cpu"}
    p95 = res[("aws_cloudwatch_metric_alarm", "p95_latency")]
    assert _unquote(p95["extended_statistic"]) == "p95" and p95["evaluation_periods"] == 10
    assert _variables(rendered["req14"])["p95_latency_threshold_ms"]["default"] == 500
    assert _variables(rendered["req14"])["error_rate_threshold"]["default"] == 0.01
    topic = res[("aws_sns_topic", "alerts")]
    assert "kms_master_key_id" in topic
    budgets = {name: body for (rtype, name), body in res.items() if rtype == "aws_budgets_budget"}
    assert set(budgets) == {
        "budget_compute",
        "budget_database",
        "budget_cache",
        "budget_storage",
        "budget_network",
        "budget_total",
    }
    assert _unquote(budgets["budget_compute"]["limit_amount"]) == "450"
    assert budgets["budget_total"]["notification"][0]["threshold"] == 80
    assert "cost_filter" not in budgets["budget_total"]
    assert not any(rtype == "aws_budgets_budget" for (rtype, _name) in _resources(rendered["req102"], "main.tf"))


def test_iam_is_limited_to_the_services_own_resources(rendered: Dict[str, FileSet]) -> None:
    for case, files in rendered.items():
        for file in files:
            if not file.path.endswith(".tf"):
                continue
            for entry in _parse(files, file.path).get("data", []):
                for dtype, named in entry.items():
                    if _unquote(dtype) != "aws_iam_policy_document":
                        continue
                    for name, body in named.items():
                        for statement in body.get("statement", []):
                            if _unquote(statement.get("effect", '"Allow"')) != "Allow":
                                continue
                            actions = [_unquote(a) for a in statement.get("actions", [])]
                            assert all("*" not in a for a in actions if a.split(":")[0] != "kms"), (case, name)
                            if statement.get("resources") == ['"*"']:
                                assert set(actions) <= {
                                    "ecr:GetAuthorizationToken",
                                    "xray:PutTraceSegments",
                                    "xray:PutTelemetryRecords",
                                }, (case, name, actions)


def test_no_secret_values(rendered: Dict[str, FileSet], models: Dict[str, Model]) -> None:
    for case, files in rendered.items():
        sensitive = {e.name for e in models[case].service.env if e.sensitive}
        for file in files:
            text = file.content
            assert "aws_secretsmanager_secret_version" not in text
            assert not re.search(r"\b(password|auth_token)\s*=", text), (case, file.path)
        main = _parse(files, "main.tf")
        plain = {}
        for block in main.get("locals", []):
            plain.update(block.get("environment_variables", {}))
        assert not (sensitive & set(plain)), case
    secrets = _resources(rendered["req14"], "main.tf")[("aws_secretsmanager_secret", "env")]
    assert set(secrets["for_each"]) == {"DATABASE_URL", "PARTNER_OAUTH_CLIENT_SECRET"}


def test_source_comments(rendered: Dict[str, FileSet]) -> None:
    files = rendered["req14"]
    main = files.get("main.tf")
    assert main is not None
    assert "# from REQ-14 9.5.1 Infrastructure Requirements (REQ-14_order_intake_api.md:313)" in main.content
    assert "# from REQ-14 9.5.7" in main.content
    prod = files.get("environments/prod.tfvars")
    assert prod is not None and "(REQ-14_order_intake_api.md:329)" in prod.content


def test_deterministic(models: Dict[str, Model]) -> None:
    for case in ("req14", "acme", "initech", "aurora"):
        first = terraform_aws.render(models[case], "aws")
        second = terraform_aws.render(models[case], "aws")
        assert [(f.path, f.content) for f in first] == [(f.path, f.content) for f in second], case


def test_document_text_is_escaped(rendered: Dict[str, FileSet]) -> None:
    files = rendered["hostile"]
    main = files.get("main.tf")
    assert main is not None
    assert 'GREETING                = "quote \\" back \\\\ $${evil} %%{ if x } new\\nline"' in main.content
    variables = files.get("variables.tf")
    assert variables is not None and '"api.example.com\\" $${evil}"' in variables.content
    # python-hcl2 sees one string per value (no interpolation, no broken line)
    for block in _parse(files, "main.tf")["locals"]:
        if "environment_variables" in block:
            assert block["environment_variables"]["GREETING"].startswith('"quote')


def test_plan_helpers() -> None:
    assert fargate_size(2, 4096) == (2048, 4096)
    assert fargate_size(0.25, 512) == (256, 512)
    assert fargate_size(1, 3000) == (1024, 3072)
    assert fargate_size(0.5, 9000) == (2048, 9216)
    assert log_retention(30) == 30 and log_retention(31) == 60 and log_retention(None) == 30
    assert log_retention(5000) == 3653
    forced = plan(_model("req21"))
    assert forced.region == "us-east-1" and forced.compute == "ecs" and forced.queue == "sns+sqs"
    assert "not an AWS region" in forced.compute_note


def test_renders_without_files_on_disk(tmp_path: Path) -> None:
    before = set(os.listdir(tmp_path))
    terraform_aws.render(_model("req14"), "aws")
    assert set(os.listdir(tmp_path)) == before
