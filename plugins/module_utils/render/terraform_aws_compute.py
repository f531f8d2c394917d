# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Terraform for AWS: ``modules/compute`` (image repository, load balancer, WAF and the
service on ECS Fargate, an EC2 Auto Scaling group or Lambda).

The front door is the same for every flavour: an internet-facing ALB with an HTTPS
listener (TLS 1.2+), an HTTP listener that only redirects to HTTPS, a WAF with the
AWS managed rule groups, and access logs.  When an environment deploys blue-green
or canary, a blue and a green target group exist and the HTTPS listener forwards
by weight; the deployment tool (CodeDeploy for ECS, the pipeline for EC2 and
Lambda) moves the weights, so Terraform ignores them after creation.

Lambda is reached through the ALB (a ``lambda`` target group), not a function
URL: the same certificate, WAF, access logs and latency alarms then apply to every
flavour.
"""

from __future__ import annotations

from typing import Any, Dict, List

from ..model import Model
from . import common
from .hcl import Block, Comment, Raw, jsonencode
from .terraform_aws_plan import (
    Item,
    Plan,
    interp,
    output,
    policy_document,
    ref,
    render,
    resource,
    retention_skip,
    short_name,
    variable,
    versions_block,
)
from .terraform_aws_runtimes import ec2, function, role, runtime_statements


def _health(model: Model) -> Dict[str, int]:
    h = model.service.health
    interval = h.interval_seconds or 15
    timeout = h.timeout_seconds or 5
    if timeout >= interval:
        timeout = max(2, interval - 1)
    return {
        "interval": max(5, min(interval, 300)),
        "timeout": max(2, min(timeout, 120)),
        "threshold": max(2, min(h.failure_threshold or 3, 10)),
    }


# --------------------------------------------------------------------------- front door


def _ecr(p: Plan) -> List[Item]:
    repo = resource("aws_ecr_repository", "this")
    repo.attrs({"name": ref("var.name"), "image_tag_mutability": "IMMUTABLE", "force_delete": False})
    repo.block("image_scanning_configuration", scan_on_push=True)
    repo.block("encryption_configuration", encryption_type="KMS", kms_key=ref("var.kms_key_arn"))
    policy = jsonencode(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "Expire untagged images after 14 days",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": 14,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": "Keep the last 30 images",
                    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30},
                    "action": {"type": "expire"},
                },
            ]
        }
    )
    items: List[Item] = [
        Comment("The image repository: immutable tags, scan on push, KMS encryption, and a lifecycle policy."),
        repo,
        resource(
            "aws_ecr_lifecycle_policy", "this", {"repository": ref("aws_ecr_repository.this.name"), "policy": policy}
        ),
    ]
    if p.compute == "lambda":
        items.append(
            policy_document(
                "ecr_lambda",
                [
                    {
                        "sid": "LambdaPullsImage",
                        "actions": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                        "principals": [("Service", ["lambda.amazonaws.com"])],
                        "conditions": [
                            ("StringEquals", "aws:SourceAccount", [ref("data.aws_caller_identity.current.account_id")])
                        ],
                    }
                ],
            )
        )
        items.append(
            resource(
                "aws_ecr_repository_policy",
                "lambda",
                {
                    "repository": ref("aws_ecr_repository.this.name"),
                    "policy": ref("data.aws_iam_policy_document.ecr_lambda.json"),
                },
            )
        )
    return items


def _alb(p: Plan) -> List[Item]:
    model = p.model
    items: List[Item] = []
    lb = resource("aws_lb", "this")
    lb.attrs(
        {
            "name": interp(ref("local.short_name"), "-alb"),
            "internal": False,
            "load_balancer_type": "application",
            "security_groups": [ref("var.alb_security_group_id")],
            "subnets": ref("var.public_subnet_ids"),
            "drop_invalid_header_fields": True,
            "desync_mitigation_mode": "strictest",
            "enable_deletion_protection": ref("var.deletion_protection"),
        }
    )
    lb.block("access_logs", bucket=ref("var.log_bucket_id"), prefix=interp("alb/", ref("var.name")), enabled=True)
    items.append(lb)

    health = _health(model)
    colours = ["blue", "green"] if p.traffic_split else ["blue"]
    target_type = {"ecs": "ip", "ec2": "instance", "lambda": "lambda"}[p.compute]
    if p.traffic_split:
        items.append(
            Comment(
                "Blue and green target groups: the documents deploy blue-green or canary (%s)."
                % ", ".join("%s %s" % (e.name, e.strategy) for e in common.environments(model) if e.strategy)
            )
        )
    for colour in colours:
        tg = resource("aws_lb_target_group", colour)
        tg.attr("name", interp(ref("local.short_name"), "-%s" % colour))
        tg.attr("target_type", target_type)
        if p.compute != "lambda":
            tg.attrs(
                {
                    "port": ref("var.app_port"),
                    "protocol": "HTTP",
                    "vpc_id": ref("var.vpc_id"),
                    "deregistration_delay": 30,
                }
            )
        check = tg.block("health_check")
        check.attrs(
            {
                "enabled": True,
                "path": ref("var.health_check_path"),
                "matcher": "200-399" if p.compute != "lambda" else "200",
                "interval": max(health["interval"], health["timeout"] + 1),
                "timeout": health["timeout"],
                "healthy_threshold": 2,
                "unhealthy_threshold": health["threshold"],
            }
        )
        items.append(tg)

    https = resource("aws_lb_listener", "https")
    https.attrs(
        {
            "load_balancer_arn": ref("aws_lb.this.arn"),
            "port": 443,
            "protocol": "HTTPS",
            "ssl_policy": ref("var.ssl_policy"),
            "certificate_arn": ref("var.certificate_arn"),
        }
    )
    action = https.block("default_action", type="forward")
    if p.traffic_split:
        forward = action.block("forward")
        forward.block("target_group", arn=ref("aws_lb_target_group.blue.arn"), weight=100)
        forward.block("target_group", arn=ref("aws_lb_target_group.green.arn"), weight=0)
        https.comment("The deployment moves traffic between blue and green: Terraform leaves the weights alone.")
        https.block("lifecycle", ignore_changes=[Raw("default_action")])
    else:
        action.attr("target_group_arn", ref("aws_lb_target_group.blue.arn"))
    items.append(https)
    http = resource("aws_lb_listener", "http_redirect")
    http.attrs({"load_balancer_arn": ref("aws_lb.this.arn"), "port": 80, "protocol": "HTTP"})
    redirect = http.block("default_action", type="redirect")
    redirect.block("redirect", port="443", protocol="HTTPS", status_code="HTTP_301")
    items.append(http)
    items.extend(_waf())
    return items


def _waf() -> List[Item]:
    acl = resource("aws_wafv2_web_acl", "this")
    acl.attrs({"name": ref("var.name"), "scope": "REGIONAL"})
    acl.block("default_action").block("allow")
    rules = [
        ("AWSManagedRulesCommonRuleSet", "common"),
        ("AWSManagedRulesKnownBadInputsRuleSet", "known-bad-inputs"),
        ("AWSManagedRulesAmazonIpReputationList", "ip-reputation"),
        ("AWSManagedRulesAnonymousIpList", "anonymous-ip"),
    ]
    for priority, (group, metric) in enumerate(rules, start=1):
        rule = acl.block("rule", name=group, priority=priority)
        rule.block("override_action").block("none")
        statement = rule.block("statement")
        managed = statement.block("managed_rule_group_statement", name=group, vendor_name="AWS")
        if group == "AWSManagedRulesAnonymousIpList":
            managed.comment("Anonymizers (Tor, VPNs) are blocked; clients on cloud hosts (partners) are only counted.")
            override = managed.block("rule_action_override", name="HostingProviderIPList")
            override.block("action_to_use").block("count")
        rule.block(
            "visibility_config",
            cloudwatch_metrics_enabled=True,
            metric_name=metric,
            sampled_requests_enabled=True,
        )
    acl.block(
        "visibility_config",
        cloudwatch_metrics_enabled=True,
        metric_name=ref("var.name"),
        sampled_requests_enabled=True,
    )
    return [
        Comment(
            "WAF in front of the load balancer: AWS managed rules (common, known bad inputs, IP reputation,\n"
            "anonymous IPs)."
        ),
        acl,
        resource(
            "aws_wafv2_web_acl_association",
            "this",
            {"resource_arn": ref("aws_lb.this.arn"), "web_acl_arn": ref("aws_wafv2_web_acl.this.arn")},
        ),
        resource(
            "aws_cloudwatch_log_group",
            "waf",
            {
                "name": interp("aws-waf-logs-", ref("var.name")),
                "retention_in_days": ref("var.audit_log_retention_days"),
                "kms_key_id": ref("var.kms_key_arn"),
            },
        ),
        resource(
            "aws_wafv2_web_acl_logging_configuration",
            "this",
            {
                "resource_arn": ref("aws_wafv2_web_acl.this.arn"),
                "log_destination_configs": [ref("aws_cloudwatch_log_group.waf.arn")],
            },
        ),
    ]


def _log_group(p: Plan) -> Block:
    name = {
        "ecs": interp("/ecs/", ref("var.name")),
        "ec2": interp("/ec2/", ref("var.name")),
        "lambda": interp("/aws/lambda/", ref("var.name")),
    }[p.compute]
    group = resource(
        "aws_cloudwatch_log_group",
        "app",
        {"name": name, "retention_in_days": ref("var.log_retention_days"), "kms_key_id": ref("var.kms_key_arn")},
    )
    return group


def _ecs(p: Plan) -> List[Item]:
    model = p.model
    items: List[Item] = []
    cluster = resource("aws_ecs_cluster", "this", {"name": ref("var.name")})
    cluster.block("setting", name="containerInsights", value="enabled")
    exec_cfg = cluster.block("configuration").block("execute_command_configuration")
    exec_cfg.attrs({"kms_key_id": ref("var.kms_key_arn"), "logging": "OVERRIDE"})
    exec_cfg.block(
        "log_configuration",
        cloud_watch_encryption_enabled=True,
        cloud_watch_log_group_name=ref("aws_cloudwatch_log_group.app.name"),
    )
    items.append(cluster)
    cap = resource(
        "aws_ecs_cluster_capacity_providers",
        "this",
        {"cluster_name": ref("aws_ecs_cluster.this.name"), "capacity_providers": ["FARGATE"]},
    )
    cap.block("default_capacity_provider_strategy", capacity_provider="FARGATE", weight=1)
    items.append(cap)

    items.append(Comment("Execution role: what ECS needs to start the task (image, logs, secrets)."))
    items.extend(role("execution", "ecs-tasks.amazonaws.com"))
    items.append(policy_document("execution", runtime_statements(p)))
    items.append(
        resource(
            "aws_iam_role_policy",
            "execution",
            {
                "name": "start-task",
                "role": ref("aws_iam_role.execution.id"),
                "policy": ref("data.aws_iam_policy_document.execution.json"),
            },
        )
    )
    items.append(Comment("Task role: what the service itself may do (its own queue, bucket, table, cache)."))
    items.extend(role("task", "ecs-tasks.amazonaws.com"))
    items.append(
        resource(
            "aws_iam_role_policy",
            "task",
            {"name": "service", "role": ref("aws_iam_role.task.id"), "policy": ref("var.app_policy_json")},
        )
    )
    health = _health(model)
    container: Dict[str, Any] = {
        "name": ref("var.name"),
        "image": ref("local.image_ref"),
        "essential": True,
        "readonlyRootFilesystem": True,
        "portMappings": [{"containerPort": ref("var.app_port"), "protocol": "tcp"}],
        "environment": Raw("[for k, v in var.environment_variables : { name = k, value = v }]"),
        "secrets": Raw("[for k, v in var.secret_arns : { name = k, valueFrom = v }]"),
        "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],  # noqa: S108 - a task volume
        "linuxParameters": {"initProcessEnabled": True},
        "healthCheck": {
            "command": [
                "CMD-SHELL",
                interp("curl -fsS http://localhost:", ref("var.app_port"), ref("var.liveness_path"), " || exit 1"),
            ],
            "interval": health["interval"] if health["interval"] <= 300 else 300,
            "timeout": min(health["timeout"], 60),
            "retries": min(health["threshold"], 10),
            "startPeriod": 60,
        },
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": ref("aws_cloudwatch_log_group.app.name"),
                "awslogs-region": ref("var.region"),
                "awslogs-stream-prefix": "app",
            },
        },
    }
    task = resource("aws_ecs_task_definition", "this")
    task.attrs(
        {
            "family": ref("var.name"),
            "requires_compatibilities": ["FARGATE"],
            "network_mode": "awsvpc",
            "cpu": ref("var.task_cpu"),
            "memory": ref("var.task_memory"),
            "execution_role_arn": ref("aws_iam_role.execution.arn"),
            "task_role_arn": ref("aws_iam_role.task.arn"),
        }
    )
    task.comment("The container health check calls the liveness path with curl, which the image must contain.")
    task.attr("container_definitions", jsonencode([container]))
    task.block("runtime_platform", operating_system_family="LINUX", cpu_architecture="X86_64")
    task.block("volume", name="tmp")
    items.append(task)

    service = resource("aws_ecs_service", "this")
    service.attrs(
        {
            "name": ref("var.name"),
            "cluster": ref("aws_ecs_cluster.this.id"),
            "task_definition": ref("aws_ecs_task_definition.this.arn"),
            "desired_count": ref("var.desired_count"),
            "launch_type": "FARGATE",
            "platform_version": "LATEST",
            "propagate_tags": "SERVICE",
            "enable_ecs_managed_tags": True,
            "health_check_grace_period_seconds": 60,
            "deployment_minimum_healthy_percent": 100,
            "deployment_maximum_percent": 200,
        }
    )
    service.block(
        "network_configuration",
        subnets=ref("var.private_subnet_ids"),
        security_groups=[ref("var.app_security_group_id")],
        assign_public_ip=False,
    )
    service.block(
        "load_balancer",
        target_group_arn=ref("aws_lb_target_group.blue.arn"),
        container_name=ref("var.name"),
        container_port=ref("var.app_port"),
    )
    if p.traffic_split:
        service.comment("Blue-green and canary environments deploy through CodeDeploy; the others roll with ECS.")
        service.block("deployment_controller", type=ref('local.codedeploy ? "CODE_DEPLOY" : "ECS"'))
        breaker = service.block("dynamic", "deployment_circuit_breaker")
        breaker.attr("for_each", ref("local.codedeploy ? [] : [true]"))
        breaker.block("content", enable=True, rollback=True)
        service.comment(
            "CodeDeploy and the deploy script own the running task definition and target group;\n"
            "autoscaling owns the task count."
        )
        service.block("lifecycle", ignore_changes=[Raw("desired_count"), Raw("task_definition"), Raw("load_balancer")])
    else:
        service.block("deployment_controller", type="ECS")
        service.block("deployment_circuit_breaker", enable=True, rollback=True)
        service.comment("Autoscaling owns the task count.")
        service.block("lifecycle", ignore_changes=[Raw("desired_count")])
    service.attr("depends_on", [ref("aws_lb_listener.https")])
    items.append(service)

    items.append(Comment("Autoscaling between var.min_capacity and var.max_capacity on average CPU."))
    items.append(
        resource(
            "aws_appautoscaling_target",
            "this",
            {
                "service_namespace": "ecs",
                "resource_id": interp(
                    "service/", ref("aws_ecs_cluster.this.name"), "/", ref("aws_ecs_service.this.name")
                ),
                "scalable_dimension": "ecs:service:DesiredCount",
                "min_capacity": ref("var.min_capacity"),
                "max_capacity": ref("var.max_capacity"),
            },
        )
    )
    policy = resource(
        "aws_appautoscaling_policy",
        "cpu",
        {
            "name": interp(ref("var.name"), "-cpu"),
            "policy_type": "TargetTrackingScaling",
            "service_namespace": ref("aws_appautoscaling_target.this.service_namespace"),
            "resource_id": ref("aws_appautoscaling_target.this.resource_id"),
            "scalable_dimension": ref("aws_appautoscaling_target.this.scalable_dimension"),
        },
    )
    tracking = policy.block("target_tracking_scaling_policy_configuration")
    tracking.attrs({"target_value": ref("var.cpu_target_percent"), "scale_in_cooldown": 300, "scale_out_cooldown": 60})
    tracking.block("predefined_metric_specification", predefined_metric_type="ECSServiceAverageCPUUtilization")
    items.append(policy)
    if p.traffic_split:
        items.extend(_codedeploy(p))
    return items


def _codedeploy(p: Plan) -> List[Item]:
    steps = common.canary_steps(p.model)
    items: List[Item] = [
        Comment(
            "CodeDeploy blue-green for the environments whose strategy is blue-green or canary.\n"
            "Canary: CodeDeploy shifts var.canary_percentage, waits var.canary_interval_minutes, then shifts the rest\n"
            "(the documents' steps: %s percent; further steps are the pipeline's)." % ", ".join(str(s) for s in steps)
        )
    ]
    assume = policy_document(
        "codedeploy_assume",
        [{"actions": ["sts:AssumeRole"], "principals": [("Service", ["codedeploy.amazonaws.com"])]}],
        ref("local.codedeploy ? 1 : 0"),
    )
    items.append(assume)
    items.append(
        resource(
            "aws_iam_role",
            "codedeploy",
            {
                "count": ref("local.codedeploy ? 1 : 0"),
                "name_prefix": interp(ref("local.short_name"), "-cd-"),
                "assume_role_policy": ref("data.aws_iam_policy_document.codedeploy_assume[0].json"),
            },
        )
    )
    items.append(
        resource(
            "aws_iam_role_policy_attachment",
            "codedeploy",
            {
                "count": ref("local.codedeploy ? 1 : 0"),
                "role": ref("aws_iam_role.codedeploy[0].name"),
                "policy_arn": interp(
                    "arn:", ref("data.aws_partition.current.partition"), ":iam::aws:policy/AWSCodeDeployRoleForECS"
                ),
            },
        )
    )
    items.append(
        resource(
            "aws_codedeploy_app",
            "this",
            {"count": ref("local.codedeploy ? 1 : 0"), "name": ref("var.name"), "compute_platform": "ECS"},
        )
    )
    config = resource(
        "aws_codedeploy_deployment_config",
        "canary",
        {
            "count": ref('var.deployment_strategy == "canary" ? 1 : 0'),
            "deployment_config_name": interp(ref("var.name"), "-canary"),
            "compute_platform": "ECS",
        },
    )
    routing = config.block("traffic_routing_config", type="TimeBasedCanary")
    routing.block(
        "time_based_canary",
        interval=ref("var.canary_interval_minutes"),
        percentage=ref("var.canary_percentage"),
    )
    items.append(config)
    group = resource("aws_codedeploy_deployment_group", "this")
    group.attrs(
        {
            "count": ref("local.codedeploy ? 1 : 0"),
            "app_name": ref("aws_codedeploy_app.this[0].name"),
            "deployment_group_name": ref("var.name"),
            "service_role_arn": ref("aws_iam_role.codedeploy[0].arn"),
            "deployment_config_name": ref(
                'var.deployment_strategy == "canary" ? aws_codedeploy_deployment_config.canary[0].id : '
                '"CodeDeployDefault.ECSAllAtOnce"'
            ),
        }
    )
    group.block("deployment_style", deployment_option="WITH_TRAFFIC_CONTROL", deployment_type="BLUE_GREEN")
    bg = group.block("blue_green_deployment_config")
    bg.block("deployment_ready_option", action_on_timeout="CONTINUE_DEPLOYMENT")
    bg.block(
        "terminate_blue_instances_on_deployment_success",
        action="TERMINATE",
        termination_wait_time_in_minutes=ref("var.blue_termination_wait_minutes"),
    )
    group.block(
        "ecs_service", cluster_name=ref("aws_ecs_cluster.this.name"), service_name=ref("aws_ecs_service.this.name")
    )
    pair = group.block("load_balancer_info").block("target_group_pair_info")
    pair.block("prod_traffic_route", listener_arns=[ref("aws_lb_listener.https.arn")])
    pair.block("target_group", name=ref("aws_lb_target_group.blue.name"))
    pair.block("target_group", name=ref("aws_lb_target_group.green.name"))
    group.block(
        "auto_rollback_configuration",
        enabled=True,
        events=["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
    )
    group.block(
        "alarm_configuration",
        alarms=ref("var.rollback_alarm_names"),
        enabled=ref("length(var.rollback_alarm_names) > 0"),
    )
    items.append(group)
    return items


# --------------------------------------------------------------------------- module files


def _variables(p: Plan) -> List[Item]:
    items: List[Item] = [
        variable("name", "string", "Name prefix of every resource (project-environment).", has_default=False),
        variable("region", "string", "AWS region.", has_default=False),
        variable("vpc_id", "string", "VPC of the service.", has_default=False),
        variable("public_subnet_ids", "list(string)", "Subnets of the load balancer.", has_default=False),
        variable("private_subnet_ids", "list(string)", "Subnets of the service.", has_default=False),
        variable("alb_security_group_id", "string", "Security group of the load balancer.", has_default=False),
    ]
    if p.compute != "lambda" or p.lambda_in_vpc:
        items.append(variable("app_security_group_id", "string", "Security group of the service.", has_default=False))
    items.extend(
        [
            variable("kms_key_arn", "string", "KMS key of the environment.", has_default=False),
            variable("log_bucket_id", "string", "Bucket of the load balancer access logs.", has_default=False),
            variable("log_retention_days", "number", "Days the service's logs are kept.", has_default=False),
            variable("audit_log_retention_days", "number", "Days the WAF logs are kept.", 365),
            variable("certificate_arn", "string", "ACM certificate of the HTTPS listener.", has_default=False),
            variable("ssl_policy", "string", "TLS policy of the HTTPS listener.", has_default=False),
            variable("deletion_protection", "bool", "Refuse to delete the load balancer.", True),
            variable("app_port", "number", "Port the service listens on.", has_default=False),
            variable("health_check_path", "string", "Readiness path the load balancer checks.", has_default=False),
            variable("liveness_path", "string", "Liveness path of the container health check.", has_default=False),
            variable("image", "string", "Image repository (null: this module's ECR repository).", default=None),
            variable("image_tag", "string", "Image tag to run.", has_default=False),
            variable("environment_variables", "map(string)", "Settings passed as plain values.", default={}),
            variable("secret_arns", "map(string)", "Secret settings: name -> Secrets Manager secret ARN.", default={}),
            variable("app_policy_json", "string", "IAM policy of the service's own permissions.", has_default=False),
            variable("desired_count", "number", "Instances started at creation.", has_default=False),
            variable("min_capacity", "number", "Fewest instances autoscaling keeps.", has_default=False),
            variable("max_capacity", "number", "Most instances (Lambda: reserved concurrency).", has_default=False),
            variable("cpu_target_percent", "number", "Average CPU autoscaling aims at.", 70),
            variable("deployment_strategy", "string", "manual, rolling, blue-green or canary.", "rolling"),
        ]
    )
    if p.compute == "ecs":
        items.extend(
            [
                variable("task_cpu", "number", "Fargate task CPU units.", has_default=False),
                variable("task_memory", "number", "Fargate task memory (MiB).", has_default=False),
            ]
        )
        if p.traffic_split:
            items.extend(
                [
                    variable(
                        "rollback_alarm_names",
                        "list(string)",
                        "Alarms that stop and roll back a deployment.",
                        default=[],
                    ),
                    variable("canary_percentage", "number", "Traffic the canary gets first (percent).", 10),
                    variable("canary_interval_minutes", "number", "Minutes before the rest of the traffic moves.", 5),
                    variable(
                        "blue_termination_wait_minutes",
                        "number",
                        "Minutes the previous colour is kept for a rollback.",
                        5,
                    ),
                ]
            )
    elif p.compute == "ec2":
        items.append(variable("instance_type", "string", "EC2 instance type.", has_default=False))
    else:
        items.extend(
            [
                variable("memory_size", "number", "Function memory (MiB).", has_default=False),
                variable("timeout", "number", "Function timeout (seconds).", 30),
            ]
        )
    return items


def _outputs(p: Plan) -> List[Item]:
    items: List[Item] = [
        output("alb_arn_suffix", ref("aws_lb.this.arn_suffix"), "ARN suffix of the load balancer (CloudWatch)."),
        output("alb_dns_name", ref("aws_lb.this.dns_name"), "DNS name of the load balancer."),
        output("alb_zone_id", ref("aws_lb.this.zone_id"), "Route 53 zone of the load balancer (alias records)."),
        output(
            "target_group_arn_suffixes",
            {
                c: ref("aws_lb_target_group.%s.arn_suffix" % c)
                for c in (["blue", "green"] if p.traffic_split else ["blue"])
            },
            "ARN suffixes of the target groups (CloudWatch).",
        ),
        output("https_listener_arn", ref("aws_lb_listener.https.arn"), "ARN of the HTTPS listener."),
        output("ecr_repository_url", ref("aws_ecr_repository.this.repository_url"), "URL of the image repository."),
        output("log_group_name", ref("aws_cloudwatch_log_group.app.name"), "Log group of the service."),
    ]
    if p.compute == "ecs":
        items.extend(
            [
                output("cluster_name", ref("aws_ecs_cluster.this.name"), "Name of the ECS cluster."),
                output("service_name", ref("aws_ecs_service.this.name"), "Name of the ECS service."),
                output("task_role_arn", ref("aws_iam_role.task.arn"), "Role of the running service."),
            ]
        )
    elif p.compute == "ec2":
        items.extend(
            [
                output(
                    "autoscaling_group_name", ref("aws_autoscaling_group.blue.name"), "Name of the Auto Scaling group."
                ),
                output("instance_role_arn", ref("aws_iam_role.instance.arn"), "Role of the instances."),
            ]
        )
    else:
        items.extend(
            [
                output("function_name", ref("aws_lambda_function.this.function_name"), "Name of the function."),
                output("function_role_arn", ref("aws_iam_role.function.arn"), "Role of the function."),
            ]
        )
    return items


def files(p: Plan) -> Dict[str, str]:
    locals_attrs: Dict[str, Any] = {
        "short_name": short_name("var.name", 24),
        "image": ref("coalesce(var.image, aws_ecr_repository.this.repository_url)"),
        "image_ref": interp(ref("local.image"), ":", ref("var.image_tag")),
    }
    if p.compute == "ecs" and p.traffic_split:
        locals_attrs["codedeploy"] = ref('contains(["blue-green", "canary"], var.deployment_strategy)')
    if p.compute == "ec2":
        locals_attrs["env_file_base64"] = ref(
            'base64encode(join("", [for k, v in var.environment_variables : "${k}=${replace(v, "\\n", " ")}\\n"]))'
        )
        locals_attrs["asg_tags"] = {"Name": ref("var.name")}
    main: List[Item] = [
        Block("data", ("aws_caller_identity", "current")),
        Block("data", ("aws_partition", "current")),
        Block("locals").attrs(locals_attrs),
    ]
    if p.compute_note:
        main.append(Comment(p.compute_note))
    main.extend(_ecr(p))
    group = retention_skip(_log_group(p), p.model)
    main.append(Comment("The service's logs, encrypted with the environment's KMS key."))
    main.append(group)
    main.extend(_alb(p))
    main.extend({"ecs": _ecs, "ec2": ec2, "lambda": function}[p.compute](p))
    return {
        "modules/compute/main.tf": render(main),
        "modules/compute/variables.tf": render(_variables(p)),
        "modules/compute/outputs.tf": render(_outputs(p)),
        "modules/compute/versions.tf": render([versions_block(True)]),
    }


__all__ = ["files"]
