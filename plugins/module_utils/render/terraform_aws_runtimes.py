# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Terraform for AWS: the EC2 Auto Scaling and Lambda flavours of ``modules/compute``, and the
IAM helpers every flavour shares."""

from __future__ import annotations

from typing import Any, Dict, List

from .hcl import Block, Comment, Raw
from .terraform_aws_plan import (
    Item,
    Plan,
    interp,
    policy_document,
    ref,
    resource,
    skip,
)


def role(name: str, service: str) -> List[Item]:
    assume = policy_document(
        "%s_assume" % name,
        [
            {
                "actions": ["sts:AssumeRole"],
                "principals": [("Service", [service])],
                "conditions": [
                    ("StringEquals", "aws:SourceAccount", [ref("data.aws_caller_identity.current.account_id")])
                ],
            }
        ],
    )
    role = resource(
        "aws_iam_role",
        name,
        {
            "name_prefix": interp(ref("local.short_name"), "-%s-" % name.replace("_", "-")[:6]),
            "assume_role_policy": ref("data.aws_iam_policy_document.%s_assume.json" % name),
        },
    )
    return [assume, role]


def runtime_statements(p: Plan, pull: bool = True) -> List[Dict[str, Any]]:
    """What starting the service needs: pull the image, write its logs, read its secrets."""
    statements: List[Dict[str, Any]] = []
    if pull:
        statements.append({"sid": "EcrLogin", "actions": ["ecr:GetAuthorizationToken"], "resources": ["*"]})
        statements.append(
            {
                "sid": "PullOwnImage",
                "actions": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                "resources": [ref("aws_ecr_repository.this.arn")],
            }
        )
    statements.append(
        {
            "sid": "WriteOwnLogs",
            "actions": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "resources": [interp(ref("aws_cloudwatch_log_group.app.arn"), ":*")],
        }
    )
    if p.secrets:
        statements.append(
            {
                "sid": "ReadOwnSecrets",
                "actions": ["secretsmanager:GetSecretValue"],
                "resources": ref("values(var.secret_arns)"),
            }
        )
    statements.append(
        {"sid": "DecryptWithServiceKey", "actions": ["kms:Decrypt"], "resources": [ref("var.kms_key_arn")]}
    )
    return statements


# --------------------------------------------------------------------------- EC2


def _user_data() -> Raw:
    """Boot script: Docker, the image from ECR, the settings as an env file (base64, so no
    value is ever interpreted by the shell), the secrets read from Secrets Manager at boot."""
    head = [
        "#!/bin/bash",
        "set -euo pipefail",
        "dnf install -y docker",
        "systemctl enable --now docker",
        interp("echo '", ref("local.env_file_base64"), "' | base64 -d > /etc/app.env"),
        "chmod 600 /etc/app.env",
    ]
    tail = [
        interp(
            "aws ecr get-login-password --region ",
            ref("var.region"),
            " | docker login --username AWS --password-stdin ",
            ref('split("/", local.image)[0]'),
        ),
        interp(
            "docker run -d --name app --restart always --network host --read-only --tmpfs /tmp "
            "--env-file /etc/app.env --log-driver awslogs --log-opt awslogs-region=",
            ref("var.region"),
            " --log-opt awslogs-group=",
            ref("aws_cloudwatch_log_group.app.name"),
            " ",
            ref("local.image_ref"),
        ),
    ]
    secret_line = interp(
        "printf '%s=%s\\n' '",
        ref("k"),
        "' \"$(aws secretsmanager get-secret-value --region ",
        ref("var.region"),
        " --secret-id '",
        ref("v"),
        "' --query SecretString --output text)\" >> /etc/app.env",
    )
    return Raw(
        'base64encode(join("\\n", concat(\n    %s,\n    [for k, v in var.secret_arns : %s],\n    %s,\n  )))'
        % (_list(head, 2), secret_line, _list(tail, 2))
    )


def _list(values: List[Any], indent: int) -> str:
    from .hcl import expr

    return expr(values, indent)


def ec2(p: Plan) -> List[Item]:
    items: List[Item] = [
        Comment("Amazon Linux 2023, the latest AMI published by AWS (read from the public SSM parameter)."),
        Block(
            "data",
            ("aws_ssm_parameter", "ami"),
            [],
        ).attr("name", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"),
    ]
    items.append(Comment("Instance role: pull the image, write logs, read its secrets, the service's own access, SSM."))
    items.extend(role("instance", "ec2.amazonaws.com"))
    items.append(policy_document("instance", runtime_statements(p)))
    items.append(
        resource(
            "aws_iam_role_policy",
            "instance",
            {
                "name": "start-service",
                "role": ref("aws_iam_role.instance.id"),
                "policy": ref("data.aws_iam_policy_document.instance.json"),
            },
        )
    )
    items.append(
        resource(
            "aws_iam_role_policy",
            "service",
            {"name": "service", "role": ref("aws_iam_role.instance.id"), "policy": ref("var.app_policy_json")},
        )
    )
    items.append(Comment("Session Manager instead of SSH: no key pair, no port 22."))
    items.append(
        resource(
            "aws_iam_role_policy_attachment",
            "ssm",
            {
                "role": ref("aws_iam_role.instance.name"),
                "policy_arn": interp(
                    "arn:", ref("data.aws_partition.current.partition"), ":iam::aws:policy/AmazonSSMManagedInstanceCore"
                ),
            },
        )
    )
    items.append(
        resource(
            "aws_iam_instance_profile",
            "this",
            {"name_prefix": interp(ref("local.short_name"), "-"), "role": ref("aws_iam_role.instance.name")},
        )
    )
    lt = resource("aws_launch_template", "this")
    lt.attrs(
        {
            "name_prefix": interp(ref("local.short_name"), "-"),
            "image_id": ref("data.aws_ssm_parameter.ami.value"),
            "instance_type": ref("var.instance_type"),
            "ebs_optimized": True,
            "update_default_version": True,
            "user_data": _user_data(),
        }
    )
    lt.block("iam_instance_profile", arn=ref("aws_iam_instance_profile.this.arn"))
    lt.block(
        "network_interfaces",
        associate_public_ip_address=False,
        delete_on_termination=True,
        security_groups=[ref("var.app_security_group_id")],
    )
    lt.comment("IMDSv2 only, one hop: the container runs with --network host and reaches the role credentials.")
    lt.block(
        "metadata_options",
        http_endpoint="enabled",
        http_tokens="required",
        http_put_response_hop_limit=1,
        instance_metadata_tags="disabled",
    )
    lt.block("monitoring", enabled=True)
    bdm = lt.block("block_device_mappings", device_name="/dev/xvda")
    bdm.block(
        "ebs",
        volume_size=30,
        volume_type="gp3",
        encrypted=True,
        kms_key_id=ref("var.kms_key_arn"),
        delete_on_termination=True,
    )
    tags = lt.block("tag_specifications", resource_type="instance")
    tags.attr("tags", {"Name": ref("var.name")})
    items.append(lt)
    colours = ["blue", "green"] if p.traffic_split else ["blue"]
    for colour in colours:
        asg = resource("aws_autoscaling_group", colour)
        blue = colour == "blue"
        asg.attrs(
            {
                "name": ref("var.name") if blue else interp(ref("var.name"), "-green"),
                "min_size": ref("var.min_capacity") if blue else 0,
                "max_size": ref("var.max_capacity"),
                "desired_capacity": ref("var.desired_count") if blue else 0,
                "vpc_zone_identifier": ref("var.private_subnet_ids"),
                "target_group_arns": [ref("aws_lb_target_group.%s.arn" % colour)],
                "health_check_type": "ELB",
                "health_check_grace_period": 120,
            }
        )
        if not blue:
            asg.comment("The green group starts empty: the pipeline scales it up, shifts traffic, then swaps.")
        asg.block(
            "launch_template",
            id=ref("aws_launch_template.this.id"),
            version=ref("aws_launch_template.this.latest_version"),
        )
        refresh = asg.block("instance_refresh", strategy="Rolling")
        refresh.block("preferences", min_healthy_percentage=90)
        tag = asg.block("dynamic", "tag")
        tag.attr("for_each", ref("local.asg_tags"))
        tag.block("content", key=ref("tag.key"), value=ref("tag.value"), propagate_at_launch=True)
        asg.block(
            "lifecycle",
            ignore_changes=[Raw("desired_capacity")] if blue else [Raw("desired_capacity"), Raw("min_size")],
        )
        items.append(asg)
    policy = resource(
        "aws_autoscaling_policy",
        "cpu",
        {
            "name": interp(ref("var.name"), "-cpu"),
            "autoscaling_group_name": ref("aws_autoscaling_group.blue.name"),
            "policy_type": "TargetTrackingScaling",
        },
    )
    config = policy.block("target_tracking_configuration", target_value=ref("var.cpu_target_percent"))
    config.block("predefined_metric_specification", predefined_metric_type="ASGAverageCPUUtilization")
    items.append(policy)
    return items


# --------------------------------------------------------------------------- Lambda


def function(p: Plan) -> List[Item]:
    items: List[Item] = []
    dlq = resource(
        "aws_sqs_queue",
        "function_dlq",
        {
            "name": interp(ref("var.name"), "-function-dlq"),
            "message_retention_seconds": 1209600,
            "kms_master_key_id": ref("var.kms_key_arn"),
            "kms_data_key_reuse_period_seconds": 300,
        },
    )
    items.append(
        Comment(
            "The API is served through the load balancer (a lambda target group), not a function URL:\n"
            "the same certificate, WAF, access logs and latency alarms as every other flavour."
        )
    )
    items.append(Comment("Failed asynchronous invocations are kept 14 days in the function's dead-letter queue."))
    items.append(dlq)
    items.append(Comment("Function role: its logs, traces, dead-letter queue, secrets and the service's own access."))
    items.extend(role("function", "lambda.amazonaws.com"))
    statements = runtime_statements(p, pull=False)
    statements.append(
        {"sid": "DeadLetter", "actions": ["sqs:SendMessage"], "resources": [ref("aws_sqs_queue.function_dlq.arn")]}
    )
    statements.append(
        {
            "sid": "Tracing",
            "actions": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "resources": ["*"],
        }
    )
    items.append(policy_document("function", statements))
    items.append(
        resource(
            "aws_iam_role_policy",
            "function",
            {
                "name": "run-function",
                "role": ref("aws_iam_role.function.id"),
                "policy": ref("data.aws_iam_policy_document.function.json"),
            },
        )
    )
    items.append(
        resource(
            "aws_iam_role_policy",
            "service",
            {"name": "service", "role": ref("aws_iam_role.function.id"), "policy": ref("var.app_policy_json")},
        )
    )
    if p.lambda_in_vpc:
        items.append(
            resource(
                "aws_iam_role_policy_attachment",
                "vpc",
                {
                    "role": ref("aws_iam_role.function.name"),
                    "policy_arn": interp(
                        "arn:",
                        ref("data.aws_partition.current.partition"),
                        ":iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
                    ),
                },
            )
        )
    fn = resource("aws_lambda_function", "this")
    fn.attrs(
        {
            "function_name": ref("var.name"),
            "role": ref("aws_iam_role.function.arn"),
            "package_type": "Image",
            "image_uri": ref("local.image_ref"),
            "architectures": ["x86_64"],
            "memory_size": ref("var.memory_size"),
            "timeout": ref("var.timeout"),
            "publish": True,
            "reserved_concurrent_executions": ref("var.max_capacity"),
            "kms_key_arn": ref("var.kms_key_arn"),
        }
    )
    fn.comment("Settings as values; each secret only as the ARN of its Secrets Manager secret (<NAME>_SECRET_ARN).")
    env = fn.block("environment")
    env.attr(
        "variables",
        Raw('merge(var.environment_variables, { for k, v in var.secret_arns : "${k}_SECRET_ARN" => v })'),
    )
    fn.block("tracing_config", mode="Active")
    fn.block("dead_letter_config", target_arn=ref("aws_sqs_queue.function_dlq.arn"))
    fn.block("logging_config", log_format="JSON", log_group=ref("aws_cloudwatch_log_group.app.name"))
    if p.lambda_in_vpc:
        fn.block(
            "vpc_config",
            subnet_ids=ref("var.private_subnet_ids"),
            security_group_ids=[ref("var.app_security_group_id")],
        )
    else:
        skip(
            fn,
            "CKV_AWS_117",
            "the function reaches only regional AWS APIs (no database or cache inside the VPC), "
            "as the documents' network row says; the ALB in front of it is in the VPC",
        )
    skip(
        fn,
        "CKV_AWS_272",
        "Lambda code signing applies to .zip packages only; this function is a container image scanned on push in ECR",
    )
    fn.attr(
        "depends_on",
        [ref("aws_iam_role_policy.function"), ref("aws_ecr_repository_policy.lambda")]
        + ([ref("aws_iam_role_policy_attachment.vpc")] if p.lambda_in_vpc else []),
    )
    items.append(fn)
    colours = ["blue", "green"] if p.traffic_split else ["blue"]
    items.append(Comment("Aliases the load balancer invokes; the deployment moves them to new versions."))
    for colour in colours:
        alias = resource(
            "aws_lambda_alias",
            colour,
            {
                "name": colour,
                "function_name": ref("aws_lambda_function.this.function_name"),
                "function_version": ref("aws_lambda_function.this.version"),
            },
        )
        alias.block("lifecycle", ignore_changes=[Raw("function_version")])
        items.append(alias)
        items.append(
            resource(
                "aws_lambda_permission",
                "alb_%s" % colour,
                {
                    "statement_id": "AllowLoadBalancer",
                    "action": "lambda:InvokeFunction",
                    "function_name": ref("aws_lambda_function.this.function_name"),
                    "qualifier": ref("aws_lambda_alias.%s.name" % colour),
                    "principal": "elasticloadbalancing.amazonaws.com",
                    "source_arn": ref("aws_lb_target_group.%s.arn" % colour),
                },
            )
        )
        items.append(
            resource(
                "aws_lb_target_group_attachment",
                colour,
                {
                    "target_group_arn": ref("aws_lb_target_group.%s.arn" % colour),
                    "target_id": ref("aws_lambda_alias.%s.arn" % colour),
                    "depends_on": [ref("aws_lambda_permission.alb_%s" % colour)],
                },
            )
        )
    return items


__all__ = ["ec2", "function", "role", "runtime_statements"]
