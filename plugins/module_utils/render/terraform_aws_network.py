# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Terraform for AWS: ``modules/network`` (VPC, subnets, NAT, flow logs, security groups).

The security groups are all here, in one place, so that a reviewer sees the whole
traffic matrix at once: internet -> ALB 443 (and 80, answered only with a redirect),
ALB -> service port, service -> database port, service -> cache port, and the
service's HTTPS egress to AWS APIs through the NAT gateway.  Nothing else.
"""

from __future__ import annotations

from typing import Dict, List

from .hcl import Block, Comment
from .terraform_aws_plan import (
    AUDIT_LOG_RETENTION_DAYS,
    Item,
    Plan,
    interp,
    output,
    ref,
    render,
    resource,
    skip,
    variable,
    versions_block,
)


def app_security_group(p: Plan) -> bool:
    """Whether the service runs inside the VPC (and so has a security group)."""
    return p.compute in ("ecs", "ec2") or p.lambda_in_vpc


def _rule(kind: str, name: str, sg: str, description: str, **attrs: object) -> Block:
    block = resource("aws_vpc_security_group_%s_rule" % kind, name)
    block.attr("security_group_id", ref("aws_security_group.%s.id" % sg))
    block.attr("description", description)
    block.attrs(attrs)
    return block


def _security_groups(p: Plan) -> List[Item]:
    items: List[Item] = []
    groups: Dict[str, str] = {"alb": "Application Load Balancer of the service"}
    if app_security_group(p):
        groups["app"] = "The service (%s)" % {"ecs": "ECS tasks", "ec2": "EC2 instances", "lambda": "Lambda"}[p.compute]
    if p.db_port:
        groups["database"] = "The database: reachable from the service only"
    if p.cache_port:
        groups["cache"] = "The cache: reachable from the service only"
    for key, description in groups.items():
        sg = resource("aws_security_group", key)
        sg.attr("name", interp(ref("var.name"), "-%s" % key))
        sg.attr("description", description)
        sg.attr("vpc_id", ref("aws_vpc.this.id"))
        sg.block("lifecycle", create_before_destroy=True)
        skip(
            sg,
            "CKV2_AWS_5",
            "attached in modules/%s; every group is declared here so that the whole traffic "
            "matrix is reviewed in one file" % ("compute" if key in ("alb", "app") else key),
        )
        items.append(sg)
    items.append(Comment("internet -> ALB: HTTPS, and HTTP only for the redirect to HTTPS"))
    items.append(
        _rule(
            "ingress",
            "alb_https",
            "alb",
            "HTTPS from the internet",
            cidr_ipv4="0.0.0.0/0",
            from_port=443,
            to_port=443,
            ip_protocol="tcp",
        )
    )
    http = _rule(
        "ingress",
        "alb_http_redirect",
        "alb",
        "HTTP from the internet, answered only with a redirect to HTTPS",
        cidr_ipv4="0.0.0.0/0",
        from_port=80,
        to_port=80,
        ip_protocol="tcp",
    )
    skip(http, "CKV_AWS_260", "port 80 is open only for the listener that redirects every request to HTTPS (443)")
    items.append(http)
    if p.compute in ("ecs", "ec2"):
        items.append(Comment("ALB -> service port"))
        items.append(
            _rule(
                "egress",
                "alb_to_app",
                "alb",
                "To the service port",
                referenced_security_group_id=ref("aws_security_group.app.id"),
                from_port=ref("var.app_port"),
                to_port=ref("var.app_port"),
                ip_protocol="tcp",
            )
        )
        items.append(
            _rule(
                "ingress",
                "app_from_alb",
                "app",
                "Service port from the load balancer only",
                referenced_security_group_id=ref("aws_security_group.alb.id"),
                from_port=ref("var.app_port"),
                to_port=ref("var.app_port"),
                ip_protocol="tcp",
            )
        )
    if app_security_group(p):
        items.append(Comment("service -> AWS APIs (ECR, Secrets Manager, CloudWatch, SQS, S3) over HTTPS via NAT"))
        items.append(
            _rule(
                "egress",
                "app_https",
                "app",
                "HTTPS to AWS APIs through the NAT gateway and the gateway endpoints",
                cidr_ipv4="0.0.0.0/0",
                from_port=443,
                to_port=443,
                ip_protocol="tcp",
            )
        )
    if p.db_port:
        items.append(Comment("service -> database port"))
        items.append(
            _rule(
                "egress",
                "app_to_database",
                "app",
                "To the database port",
                referenced_security_group_id=ref("aws_security_group.database.id"),
                from_port=ref("var.database_port"),
                to_port=ref("var.database_port"),
                ip_protocol="tcp",
            )
        )
        items.append(
            _rule(
                "ingress",
                "database_from_app",
                "database",
                "Database port from the service only",
                referenced_security_group_id=ref("aws_security_group.app.id"),
                from_port=ref("var.database_port"),
                to_port=ref("var.database_port"),
                ip_protocol="tcp",
            )
        )
    if p.cache_port:
        items.append(Comment("service -> cache port"))
        items.append(
            _rule(
                "egress",
                "app_to_cache",
                "app",
                "To the cache port",
                referenced_security_group_id=ref("aws_security_group.cache.id"),
                from_port=ref("var.cache_port"),
                to_port=ref("var.cache_port"),
                ip_protocol="tcp",
            )
        )
        items.append(
            _rule(
                "ingress",
                "cache_from_app",
                "cache",
                "Cache port from the service only",
                referenced_security_group_id=ref("aws_security_group.app.id"),
                from_port=ref("var.cache_port"),
                to_port=ref("var.cache_port"),
                ip_protocol="tcp",
            )
        )
    return items


def _main(p: Plan) -> str:
    items: List[Item] = []
    items.append(
        Block("locals").attrs(
            {
                "az_count": ref("length(var.availability_zones)"),
                "nat_count": ref("var.nat_gateway_per_az ? length(var.availability_zones) : 1"),
            }
        )
    )
    vpc = resource(
        "aws_vpc",
        "this",
        {"cidr_block": ref("var.vpc_cidr"), "enable_dns_support": True, "enable_dns_hostnames": True},
    )
    vpc.attr("tags", {"Name": ref("var.name")})
    items.append(vpc)
    items.append(Comment("The default security group allows nothing: every resource gets its own group below."))
    items.append(resource("aws_default_security_group", "this", {"vpc_id": ref("aws_vpc.this.id")}))

    items.append(Comment("Public subnets hold the load balancer and the NAT gateways; no public IPs on launch."))
    items.append(
        resource(
            "aws_subnet",
            "public",
            {
                "count": ref("local.az_count"),
                "vpc_id": ref("aws_vpc.this.id"),
                "availability_zone": ref("var.availability_zones[count.index]"),
                "cidr_block": ref("cidrsubnet(var.vpc_cidr, var.subnet_newbits, count.index)"),
                "map_public_ip_on_launch": False,
                "tags": {"Name": interp(ref("var.name"), "-public-", ref("var.availability_zones[count.index]"))},
            },
        )
    )
    items.append(Comment("Private subnets hold the service, the database and the cache."))
    items.append(
        resource(
            "aws_subnet",
            "private",
            {
                "count": ref("local.az_count"),
                "vpc_id": ref("aws_vpc.this.id"),
                "availability_zone": ref("var.availability_zones[count.index]"),
                "cidr_block": ref("cidrsubnet(var.vpc_cidr, var.subnet_newbits, count.index + 8)"),
                "tags": {"Name": interp(ref("var.name"), "-private-", ref("var.availability_zones[count.index]"))},
            },
        )
    )
    items.append(
        resource("aws_internet_gateway", "this", {"vpc_id": ref("aws_vpc.this.id"), "tags": {"Name": ref("var.name")}})
    )
    items.append(
        Comment("One NAT gateway per availability zone when var.nat_gateway_per_az (HA), else one shared gateway.")
    )
    items.append(
        resource(
            "aws_eip",
            "nat",
            {
                "count": ref("local.nat_count"),
                "domain": "vpc",
                "tags": {"Name": interp(ref("var.name"), "-nat-", ref("count.index"))},
            },
        )
    )
    nat = resource(
        "aws_nat_gateway",
        "this",
        {
            "count": ref("local.nat_count"),
            "allocation_id": ref("aws_eip.nat[count.index].id"),
            "subnet_id": ref("aws_subnet.public[count.index].id"),
            "tags": {"Name": interp(ref("var.name"), "-", ref("count.index"))},
            "depends_on": [ref("aws_internet_gateway.this")],
        },
    )
    items.append(nat)
    public_rt = resource("aws_route_table", "public", {"vpc_id": ref("aws_vpc.this.id")})
    public_rt.attr("tags", {"Name": interp(ref("var.name"), "-public")})
    items.append(public_rt)
    items.append(
        resource(
            "aws_route",
            "public_internet",
            {
                "route_table_id": ref("aws_route_table.public.id"),
                "destination_cidr_block": "0.0.0.0/0",
                "gateway_id": ref("aws_internet_gateway.this.id"),
            },
        )
    )
    items.append(
        resource(
            "aws_route_table_association",
            "public",
            {
                "count": ref("local.az_count"),
                "subnet_id": ref("aws_subnet.public[count.index].id"),
                "route_table_id": ref("aws_route_table.public.id"),
            },
        )
    )
    items.append(
        resource(
            "aws_route_table",
            "private",
            {
                "count": ref("local.az_count"),
                "vpc_id": ref("aws_vpc.this.id"),
                "tags": {"Name": interp(ref("var.name"), "-private-", ref("var.availability_zones[count.index]"))},
            },
        )
    )
    items.append(
        resource(
            "aws_route",
            "private_nat",
            {
                "count": ref("local.az_count"),
                "route_table_id": ref("aws_route_table.private[count.index].id"),
                "destination_cidr_block": "0.0.0.0/0",
                "nat_gateway_id": ref("aws_nat_gateway.this[var.nat_gateway_per_az ? count.index : 0].id"),
            },
        )
    )
    items.append(
        resource(
            "aws_route_table_association",
            "private",
            {
                "count": ref("local.az_count"),
                "subnet_id": ref("aws_subnet.private[count.index].id"),
                "route_table_id": ref("aws_route_table.private[count.index].id"),
            },
        )
    )
    endpoints = ["s3"] + (["dynamodb"] if p.dynamodb else [])
    for service in endpoints:
        items.append(Comment("Gateway endpoint (free): %s traffic stays off the NAT gateway." % service.upper()))
        items.append(
            resource(
                "aws_vpc_endpoint",
                service,
                {
                    "vpc_id": ref("aws_vpc.this.id"),
                    "service_name": interp("com.amazonaws.", ref("var.region"), ".%s" % service),
                    "vpc_endpoint_type": "Gateway",
                    "route_table_ids": ref("aws_route_table.private[*].id"),
                    "tags": {"Name": interp(ref("var.name"), "-%s" % service)},
                },
            )
        )

    items.append(Comment("VPC flow logs: every accepted and rejected connection, to CloudWatch Logs (KMS)."))
    items.append(
        resource(
            "aws_cloudwatch_log_group",
            "flow_logs",
            {
                "name": interp("/aws/vpc/", ref("var.name"), "/flow-logs"),
                "retention_in_days": ref("var.flow_log_retention_days"),
                "kms_key_id": ref("var.kms_key_arn"),
            },
        )
    )
    role = resource("aws_iam_role", "flow_logs")
    role.attr("name_prefix", interp(ref("substr(var.name, 0, 24)"), "-flow-"))
    role.attr("assume_role_policy", ref("data.aws_iam_policy_document.flow_logs_assume.json"))
    items.append(_flow_assume())
    items.append(role)
    items.append(_flow_policy())
    items.append(
        resource(
            "aws_iam_role_policy",
            "flow_logs",
            {
                "name": "write-flow-logs",
                "role": ref("aws_iam_role.flow_logs.id"),
                "policy": ref("data.aws_iam_policy_document.flow_logs.json"),
            },
        )
    )
    items.append(
        resource(
            "aws_flow_log",
            "this",
            {
                "vpc_id": ref("aws_vpc.this.id"),
                "traffic_type": "ALL",
                "log_destination_type": "cloud-watch-logs",
                "log_destination": ref("aws_cloudwatch_log_group.flow_logs.arn"),
                "iam_role_arn": ref("aws_iam_role.flow_logs.arn"),
                "max_aggregation_interval": 60,
            },
        )
    )
    items.extend(_security_groups(p))
    return render(items)


def _flow_assume() -> Block:
    from .terraform_aws_plan import policy_document

    return policy_document(
        "flow_logs_assume",
        [
            {
                "actions": ["sts:AssumeRole"],
                "principals": [("Service", ["vpc-flow-logs.amazonaws.com"])],
                "conditions": [
                    ("StringEquals", "aws:SourceAccount", [ref("data.aws_caller_identity.current.account_id")])
                ],
            }
        ],
    )


def _flow_policy() -> Block:
    from .terraform_aws_plan import policy_document

    return policy_document(
        "flow_logs",
        [
            {
                "sid": "WriteFlowLogs",
                "actions": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "resources": [interp(ref("aws_cloudwatch_log_group.flow_logs.arn"), ":*")],
            }
        ],
    )


def _variables(p: Plan) -> str:
    items: List[Item] = [
        variable("name", "string", "Name prefix of every resource (project-environment).", has_default=False),
        variable("region", "string", "AWS region (for the gateway endpoint service names).", has_default=False),
        variable(
            "vpc_cidr",
            "string",
            "CIDR block of the VPC.",
            has_default=False,
            validations=[("can(cidrhost(var.vpc_cidr, 0))", "vpc_cidr must be a CIDR block such as 10.0.0.0/16.")],
        ),
        variable(
            "subnet_newbits",
            "number",
            "Bits added to the VPC prefix for each subnet (4 turns a /16 into /20 subnets).",
            default=4,
            validations=[("var.subnet_newbits >= 2 && var.subnet_newbits <= 8", "subnet_newbits must be 2 to 8.")],
        ),
        variable(
            "availability_zones",
            "list(string)",
            "Availability zones: one public and one private subnet in each.",
            has_default=False,
            validations=[
                (
                    "length(var.availability_zones) >= 2 && length(var.availability_zones) <= 8",
                    "The load balancer needs at least two availability zones (at most 8).",
                )
            ],
        ),
        variable("nat_gateway_per_az", "bool", "One NAT gateway per availability zone (HA) instead of one.", False),
        variable("kms_key_arn", "string", "KMS key that encrypts the flow logs.", has_default=False),
        variable(
            "flow_log_retention_days",
            "number",
            "Days the VPC flow logs are kept.",
            AUDIT_LOG_RETENTION_DAYS,
        ),
        variable("app_port", "number", "Port the service listens on.", has_default=False),
    ]
    if p.db_port:
        items.append(variable("database_port", "number", "Port of the database.", has_default=False))
    if p.cache_port:
        items.append(variable("cache_port", "number", "Port of the cache.", has_default=False))
    return render(items)


def _outputs(p: Plan) -> str:
    items: List[Item] = [
        output("vpc_id", ref("aws_vpc.this.id"), "ID of the VPC."),
        output("public_subnet_ids", ref("aws_subnet.public[*].id"), "Public subnets (load balancer, NAT)."),
        output("private_subnet_ids", ref("aws_subnet.private[*].id"), "Private subnets (service, data)."),
        output("private_route_table_ids", ref("aws_route_table.private[*].id"), "Route tables of the private subnets."),
        output("alb_security_group_id", ref("aws_security_group.alb.id"), "Security group of the load balancer."),
    ]
    if app_security_group(p):
        items.append(
            output("app_security_group_id", ref("aws_security_group.app.id"), "Security group of the service.")
        )
    if p.db_port:
        items.append(
            output(
                "database_security_group_id", ref("aws_security_group.database.id"), "Security group of the database."
            )
        )
    if p.cache_port:
        items.append(
            output("cache_security_group_id", ref("aws_security_group.cache.id"), "Security group of the cache.")
        )
    return render(items)


def files(p: Plan) -> Dict[str, str]:
    main = _main(p)
    main = render([Block("data", ("aws_caller_identity", "current"))]) + "\n" + main
    return {
        "modules/network/main.tf": main,
        "modules/network/variables.tf": _variables(p),
        "modules/network/outputs.tf": _outputs(p),
        "modules/network/versions.tf": render([versions_block(True)]),
    }


__all__ = ["app_security_group", "files"]
