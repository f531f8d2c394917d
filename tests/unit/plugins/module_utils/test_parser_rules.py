"""Parser rules, one small document each: sections, columns, clouds, conflicts, errors."""

from __future__ import annotations

import pytest

from ansible_collections.sdd.devops_flow.plugins.module_utils.errors import DocumentError
from ansible_collections.sdd.devops_flow.plugins.module_utils.loader import load_model

INFRA = """
### 9.5.1 Infrastructure Requirements

| Resource Type | Provider | Configuration | Requirements |
|---|---|---|---|
| Compute | {provider} | Type: {compute} | CPU: 2 vCPU, Memory: 4GB, Scaling: 2-10 instances |
| Database | {provider} | Type: RDS PostgreSQL | Version: 15.3, Storage: 100GB, HA: yes |
| Network | {provider} | VPC, Subnets, ALB | CIDR: {cidr}, AZs: us-east-1a,1b,1c |
"""

ENVS = """
### 9.5.2 Environment Configuration

| Environment | Deployment Strategy | Rollback Time | Replicas | Regions |
|---|---|---|---|---|
| Development | Manual | N/A | 1 | us-east-1a |
| Staging | Blue-Green | 5 minutes | 2 | us-east-1a,1b |
| Production | Canary | 10 minutes | {replicas} | us-east-1a,1b,1c (multi-AZ HA) |

**Health Endpoints**:
- Liveness: `/health/live` - Container health check
- Readiness: `/health/ready` - Service availability check
- Startup: `/health/startup` - Initialization complete check
"""

AUTOMATION = """
### 9.5.8 Deployment Automation Requirements

**Automation Level**: Fully automated (no manual steps)

**Deployment Workflow**:
1. CI/CD pipeline triggers on merge to main
2. Canary: {steps}, hold 10 minutes at each step
3. If health-check fails: auto-rollback

**Validation Requirements**:
- Pre-deployment: All tests pass
- Rollback: Ready within 5 minutes
"""


def req(
    number="01",
    title="Orders API",
    infra=True,
    envs=True,
    automation=True,
    extra="",
    provider="AWS",
    compute="ECS Fargate",
    cidr="10.0.0.0/16",
    replicas="4",
    steps="5% → 25% → 50% → 100%",
    params="",
):
    body = (
        "# REQ-%s: [API] %s\n\n## 1. Document Control\n\n| Item | Details |\n|---|---|\n"
        "| **Status** | Draft |\n\n" % (number, title)
    )
    if params:
        body += (
            "## 7. Configuration\n\n### 7.1 Parameters\n\n| Parameter | Type | Default | "
            "Description |\n|---|---|---|---|\n%s\n\n" % params
        )
    body += "## 9.5 Deployment Requirements\n"
    if infra:
        body += INFRA.format(provider=provider, compute=compute, cidr=cidr)
    if envs:
        body += ENVS.format(replicas=replicas)
    if automation:
        body += AUTOMATION.format(steps=steps)
    body += extra
    body += "\n## 10. Traceability\n\n@brd: BRD.01.01.05\n"
    return body


def test_req_section_95_by_number(write):
    path = write("07_REQ/REQ-01_orders.md", req())
    model = load_model(req=str(path))
    assert model.traceability.req == "REQ-01"
    assert model.service.name == "orders-api"
    assert [e.name for e in model.environments] == ["dev", "staging", "prod"]
    assert [e.strategy for e in model.environments] == ["manual", "blue-green", "canary"]
    assert [e.rollback_seconds for e in model.environments] == [None, 300, 600]
    assert model.environments[2].zones == ("us-east-1a", "us-east-1b", "us-east-1c")
    assert model.environments[2].regions == ("us-east-1",)
    assert model.environments[2].multi_az
    assert model.service.health.liveness == "/health/live"
    assert model.service.health.startup == "/health/startup"
    assert model.infrastructure.compute.kind == "ecs-fargate"
    assert model.infrastructure.compute.vcpu == 2.0
    assert model.infrastructure.compute.memory_mib == 4096
    assert model.infrastructure.database.engine == "postgresql"
    assert model.infrastructure.database.version == "15.3"
    assert model.infrastructure.database.storage_gb == 100
    assert model.infrastructure.database.ha is True
    assert model.infrastructure.network.cidr == "10.0.0.0/16"
    assert model.rollout.canary_steps == (5, 25, 50, 100)
    assert model.rollout.hold_seconds == 600
    assert model.rollout.auto_rollback is True
    assert model.rollout.rollback_ready_seconds == 300
    assert model.cloud.provider == "aws"
    assert model.cloud.decided_by == "inference"


def test_sources_name_file_line_and_section(write):
    path = write("07_REQ/REQ-01_orders.md", req())
    model = load_model(req=str(path))
    src = model.sources["environments[2].strategy"]
    assert src.file.endswith("REQ-01_orders.md")
    lines = path.read_text().split("\n")
    assert lines[src.line - 1].startswith("| Production")
    assert src.section == "9.5.2 Environment Configuration"
    db = model.sources["infrastructure.database.engine"]
    assert "RDS PostgreSQL" in lines[db.line - 1]
    assert model.source("infrastructure.database.engine.whatever") == db


def test_columns_are_mapped_by_header_text(write):
    text = req(
        envs=False,
        extra="""
### 9.5.2 Environment Configuration

| Replicas | Regions | Environment | Notes | Rollback Time | Deployment Strategy |
|---|---|---|---|---|---|
| 3 | us-east-1 | Production | extra | 2 minutes | Rolling |
""",
    )
    model = load_model(req=str(write("07_REQ/REQ-02_x.md", text)))
    env = model.environments[0]
    assert (env.name, env.strategy, env.replicas, env.rollback_seconds) == ("prod", "rolling", 3, 120)
    assert env.notes == "extra"


def test_na_and_empty_cells_are_unset_not_errors(write):
    text = req(
        infra=False,
        envs=False,
        extra="""
### 9.5.2 Environment Configuration

| Environment | Deployment Strategy | Rollback Time | Replicas | Regions |
|---|---|---|---|---|
| Development | N/A |  | N/A | [Region] |
""",
    )
    model = load_model(req=str(write("07_REQ/REQ-03_x.md", text)))
    env = model.environments[0]
    assert env.strategy is None and env.replicas is None and env.regions == ()
    assert not [w for w in model.warnings if "Development" in w.message]


def test_not_applicable_subsection_is_skipped(write):
    text = req(
        infra=False,
        extra="""
### 9.5.4 Ansible Playbook Requirements

> **Applicability**: Not Applicable

| Playbook Name | Purpose | Target | Variables | Tags |
|---|---|---|---|---|
| `deploy_app.yml` | Deploy | hosts | v | `deploy` |
""",
    )
    model = load_model(req=str(write("07_REQ/REQ-04_x.md", text)))
    assert model.playbooks.items == ()


def test_sys_fallback_through_sys_tag_with_bold_pseudo_headings(write):
    write(
        "06_SYS/SYS-05_platform.md",
        """
# SYS-05: Platform

## 9. Deployment and Operations Requirements

### 9.1 Deployment Requirements

**9.1.1 Infrastructure Requirements**

> **Applicability**: Required

| Resource Type | Provider | Configuration | Requirements |
|---|---|---|---|
| Compute | Cloud Run | CPU: 1 vCPU, Memory: 512Mi | Scaling: 1-5 |
| Database | Cloud SQL | PostgreSQL 14 | Storage: 20GB, HA: no |

**9.1.2 Environment Configuration**

| Environment | Deployment Strategy | Rollback Time | Replicas | Regions |
|---|---|---|---|---|
| Production | Canary (10% → 50% → 100%) | 3 minutes | 2 | us-central1 |

### 9.2 Operational Requirements

- RPO: 15 minutes
- RTO: 1 hour
- Backups: daily, retained 14 days, copied to a second region
""",
    )
    path = write(
        "07_REQ/REQ-21_search.md",
        """
# REQ-21: [SEARCH] Catalog Search

## 1. Document Control

| Item | Details |
|---|---|
| **Source Document** | SYS-05 section 9.1 |

## 10. Traceability

@sys: SYS.05.01.04
""",
    )
    model = load_model(req=str(path))
    assert model.traceability.sys == ("SYS-05",)
    assert model.cloud.provider == "gcp" and model.cloud.decided_by == "inference"
    assert model.infrastructure.compute.kind == "cloud-run"
    assert model.infrastructure.compute.memory_mib == 512
    assert model.infrastructure.database.engine == "postgresql"
    assert model.infrastructure.database.version == "14"
    assert model.infrastructure.database.ha is False
    assert model.environments[0].canary_steps == (10, 50, 100)
    assert model.rollout.canary_steps == (10, 50, 100)
    assert model.backup.rpo_seconds == 900 and model.backup.rto_seconds == 3600
    assert model.backup.retention_days == 14 and model.backup.cross_region is True
    assert model.backup.interval_seconds == 86400
    assert model.sources["environments[0].strategy"].file.endswith("SYS-05_platform.md")


def test_missing_sys_is_a_warning(write):
    path = write("07_REQ/REQ-22_x.md", "# REQ-22: X\n\n## 10. Traceability\n\n@sys: SYS.09.01.01\n")
    model = load_model(req=str(path))
    assert any("SYS-09" in w.message for w in model.warnings)
    assert model.environments == ()


def test_adr_decides_the_cloud(write):
    write(
        "05_ADR/ADR-02_cloud.md",
        """
# ADR-02: Cloud platform

## 1. Document Control

| Item | Details |
|---|---|
| **Status** | Accepted |

## 3. Decision

### 3.1 Chosen Solution (ADR.02.10.01)

**We will use**: Microsoft Azure with Container Apps

**Because**:
1. The team knows AWS less well than Azure.
""",
    )
    text = req(provider="[@adr: ADR-02](../05_ADR/ADR-02_cloud.md#ADR-02)")
    model = load_model(req=str(write("07_REQ/REQ-05_x.md", text)))
    assert model.cloud.provider == "azure"
    assert model.cloud.decided_by == "adr"
    assert model.sources["cloud.provider"].file.endswith("ADR-02_cloud.md")
    assert "ADR-02" in model.traceability.adr
    # the ADR contradicts the services named in 9.5.1: a warning, the ADR wins
    assert any("names aws services" in w.message for w in model.warnings)


def test_missing_adr_is_a_warning_and_the_next_rule_decides(write):
    text = req(
        provider="[@adr: ADR-07](../05_ADR/ADR-07_gone.md#ADR-07)",
        params="| `CLOUD_PROVIDER` | string | `gcp` | Target cloud |",
    )
    model = load_model(req=str(write("07_REQ/REQ-06_x.md", text)))
    assert any("ADR-07" in w.message and "no ADR file" in w.message for w in model.warnings)
    assert model.cloud.provider == "gcp" and model.cloud.decided_by == "parameter"


def test_cloud_option_wins(write):
    model = load_model(req=str(write("07_REQ/REQ-07_x.md", req())), cloud="azure")
    assert model.cloud.provider == "azure" and model.cloud.decided_by == "option"


def test_iac_provider_from_front_matter(write):
    text = "---\ncustom_fields:\n  iac_provider: pulumi\n---\n" + req()
    model = load_model(req=str(write("07_REQ/REQ-08_x.md", text)))
    assert model.iac_provider == "pulumi"
    assert load_model(req=str(write("07_REQ/REQ-08_x.md", text)), iac="terraform").iac_provider == "terraform"


def test_spec_wins_for_the_service_and_conflicts_name_both_places(write):
    write(
        "09_SPEC/SPEC-09_x.yaml",
        """
id: orders_api
implementation:
  language: Python
  deployment:
    ports_exposed: [8000]
    health_check_path: /live
    readiness_check_path: /health/ready
    scaling: {min_instances: 3, max_instances: 10}
    resource_limits: {cpu: "1", memory: 2Gi}
""",
    )
    path = write("07_REQ/REQ-09_x.md", req(number="09"))
    model = load_model(req=str(path))  # the SPEC is found under the docs root
    assert model.service.ports == (8000,)
    assert model.service.language == "python"
    assert model.service.health.liveness == "/live"
    assert model.service.health.readiness == "/health/ready"
    assert model.service.scaling.min_replicas == 3
    assert model.service.resources.limits.cpu_millicores == 1000
    messages = [w.message for w in model.warnings]
    live = next(m for m in messages if m.startswith("liveness path"))
    assert "/live" in live and "/health/live" in live and "REQ-09_x.md:" in live
    assert any(m.startswith("scaling min") for m in messages)
    assert any(m.startswith("resource limit CPU") for m in messages)
    assert not any(m.startswith("readiness path") for m in messages)


@pytest.mark.parametrize(
    "kwargs,needle",
    [
        ({"cidr": "10.0.0.0/33"}, "does not parse"),
        ({"cidr": "10.0.0.1/16"}, "did you mean 10.0.0.0/16"),
        ({"cidr": "300.1.2.0/24"}, "does not parse"),
        ({"replicas": "-2"}, "0 or more"),
        ({"steps": "50% → 25% → 100%"}, "do not increase"),
        ({"steps": "5% → 150%"}, "outside 1-100"),
    ],
)
def test_values_that_would_make_output_wrong_are_errors(write, kwargs, needle):
    path = write("07_REQ/REQ-10_x.md", req(**kwargs))
    with pytest.raises(DocumentError) as exc:
        load_model(req=str(path))
    findings = exc.value.findings()
    assert any(needle in f.message for f in findings), findings
    assert all(f.file.endswith("REQ-10_x.md") and f.line > 0 for f in findings)


def test_scaling_min_above_max_is_an_error(write):
    text = req().replace("Scaling: 2-10 instances", "Scaling: 10-2")
    with pytest.raises(DocumentError) as exc:
        load_model(req=str(write("07_REQ/REQ-11_x.md", text)))
    finding = exc.value.findings()[0]
    assert "min" in finding.message and finding.line > 0


@pytest.mark.parametrize(
    "ports,needle",
    [("[0]", "outside 1-65535"), ("[70000]", "outside"), ("[http]", "not a number"), ("[-1]", "outside")],
)
def test_spec_ports_outside_range_are_errors(write, ports, needle):
    spec = write("09_SPEC/SPEC-12_x.yaml", "id: x\nimplementation:\n  deployment:\n    ports_exposed: %s\n" % ports)
    with pytest.raises(DocumentError) as exc:
        load_model(spec=str(spec))
    finding = exc.value.findings()[0]
    assert needle in finding.message and finding.line == 4


@pytest.mark.parametrize(
    "text,needle",
    [
        ("- a\n- b\n", "a list at the top level"),
        ("just text\n", "a string at the top level"),
        ("", "is empty"),
    ],
)
def test_spec_that_is_not_a_mapping_is_an_error(write, text, needle):
    spec = write("09_SPEC/SPEC-13_x.yaml", text)
    with pytest.raises(DocumentError, match=needle):
        load_model(spec=str(spec))


def test_spec_type_mistakes_are_warnings(write):
    spec = write(
        "09_SPEC/SPEC-14_x.yaml",
        """
id: x
implementation: just prose
observability:
  distributed_tracing: {sampling_rate: lots}
""",
    )
    model = load_model(spec=str(spec))
    messages = [w.message for w in model.warnings]
    assert any("implementation is a string; expected a mapping" in m for m in messages)
    assert any("sampling_rate" in m for m in messages)


def test_spec_env_vars_and_sensitive_defaults(write):
    spec = write(
        "09_SPEC/SPEC-15_x.yaml",
        """
id: x
implementation:
  environment_variables:
    - {name: DATABASE_URL, required: true, sensitive: true, default: "postgres://u:p@h/db"}
    - {name: LOG_LEVEL, default: INFO, values: [DEBUG, INFO]}
""",
    )
    model = load_model(spec=str(spec))
    db, log = model.service.env
    assert db.sensitive and db.default is None
    assert log.allowed_values == ("DEBUG", "INFO") and log.default == "INFO"
    assert any("sensitive variable DATABASE_URL" in w.message for w in model.warnings)


def test_invalid_env_var_name_is_an_error(write):
    spec = write("09_SPEC/SPEC-16_x.yaml", "implementation:\n  environment_variables:\n    - name: 'BAD NAME;rm'\n")
    with pytest.raises(DocumentError, match="not valid"):
        load_model(spec=str(spec))


def test_malicious_service_name_is_made_safe(write):
    spec = write("09_SPEC/SPEC-17_x.yaml", "id: 'x$(touch /tmp/p)`id`'\n")
    model = load_model(spec=str(spec))
    assert model.service.name == "x-touch-tmp-p-id"
    assert any("not a valid resource name" in w.message for w in model.warnings)


def test_health_path_must_be_a_url_path(write):
    spec = write("09_SPEC/SPEC-18_x.yaml", "implementation:\n  deployment:\n    health_check_path: '/x; rm -rf /'\n")
    with pytest.raises(DocumentError, match="not a URL path"):
        load_model(spec=str(spec))


def test_feature_flags_and_parameters(write):
    text = """
## 7. Configuration

### 7.1 Parameters

| Parameter | Type | Default | Description |
|---|---|---|---|
| `DB_POOL` | int | 20 | pool |

### 7.2 Feature Flags

| Flag | Default | Description |
|---|---|---|
| `NEW_CHECKOUT` | false | new flow |
| `FAST_PATH` | true | cache |
"""
    text = req().replace("## 9.5 Deployment", text + "\n## 9.5 Deployment")
    model = load_model(req=str(write("07_REQ/REQ-19_x.md", text)))
    assert [(f.name, f.default) for f in model.service.feature_flags] == [("NEW_CHECKOUT", False), ("FAST_PATH", True)]
    assert model.service.parameters[0].name == "DB_POOL"
    assert model.service.parameters[0].default == "20"


def test_observability_security_cost_rows(write):
    text = req(
        extra="""
### 9.5.5 Observability Requirements

| Type | Tool | Metrics/Logs | Retention | Alerts |
|---|---|---|---|---|
| Logging | CloudWatch | Format: JSON | 30 days | Error rate > 1% |
| Metrics | Prometheus | p50/p95/p99 latency | 15 days | Degradation: p95 latency > 500ms |
| Tracing | OpenTelemetry | Sample rate: 10% | 7 days | Slow requests |

### 9.5.6 Security Requirements

| Security Aspect | Requirement | Tool/Service | Verification |
|---|---|---|---|
| Secrets Management | AWS Secrets Manager | Path: orders/prod | Rotated: every 30 days |
| TLS/SSL | ACM | Domain: api.example.com | TLS 1.3+ |
| Network Security | Security Groups | Ports: 443, 8080; Allowed: 10.0.0.0/8 | audited |
| Container Security | Image scanning | Trivy | No critical or high vulnerabilities |

### 9.5.7 Cost Constraints

| Resource | Budget | Alerts | Optimization |
|---|---|---|---|
| Compute | Monthly: $200 | Threshold: 80% ($160) | Savings plans |
| Total | Monthly: $500 | Threshold: 50%, 80%, 100% | Rightsizing |
"""
    )
    model = load_model(req=str(write("07_REQ/REQ-20_x.md", text)))
    obs = model.observability
    assert obs.logging.retention_days == 30
    assert obs.tracing_sample_rate == 0.1
    assert obs.thresholds.p95_latency_ms == 500.0
    assert obs.thresholds.error_rate_ratio == 0.01
    sec = model.security
    assert sec.secrets.store == "aws-secrets-manager" and sec.secrets.rotation_days == 30
    assert sec.tls.domain == "api.example.com" and sec.tls.min_version == "1.3"
    assert sec.network_rules[0].ports == (443, 8080)
    assert sec.network_rules[0].cidrs == ("10.0.0.0/8",)
    assert sec.image_scanning.threshold == "high"
    assert model.cost.budgets[0].monthly_usd == 200.0
    assert model.cost.budgets[0].threshold_percents == (80.0,)
    assert model.cost.total_monthly_usd == 500.0
    assert model.cost.budgets[1].threshold_percents == (50.0, 80.0, 100.0)


def test_redirect_file_is_followed(write):
    nested = write("07_REQ/REQ-30_x/REQ-30_x.md", req(number="30"))
    flat = write("07_REQ/REQ-30_x.md", "@redirect\n@index: REQ-30_x/REQ-30_x.md\n")
    model = load_model(req=str(flat))
    assert model.traceability.req == "REQ-30"
    assert model.traceability.documents[0].path.endswith("REQ-30_x/REQ-30_x.md")
    assert nested.exists()


def test_headings_in_code_fences_do_not_open_sections(write):
    text = (
        "# REQ-31: X\n\n```markdown\n## 9.5 Deployment Requirements\n### 9.5.2 Environment "
        "Configuration\n| Environment | Deployment Strategy |\n|---|---|\n| Production | "
        "Canary |\n```\n"
    )
    model = load_model(req=str(write("07_REQ/REQ-31_x.md", text)))
    assert model.environments == ()


def test_unknown_strategy_is_a_warning(write):
    text = req().replace("| Production | Canary |", "| Production | Shadow traffic |")
    model = load_model(req=str(write("07_REQ/REQ-32_x.md", text)))
    assert model.environments[2].strategy is None
    assert any("Shadow traffic" in w.message for w in model.warnings)
