# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The plays of the generated playbooks, one builder per purpose of REQ 9.5.4.

Each builder returns plays as Python data (``playbooks.py`` serialises them).
Jinja expressions here are fixed strings; every value from the documents is in
the variable files (``group_vars/``) or marked inert by ``playbooks_yaml``.

How the work is split with the other generated files:

* ``provision``: runs the generated infrastructure code (Terraform with the
  environment's tfvars and workspace, the CloudFormation stack with its
  parameter file, or the Pulumi stack); in check mode a plan / change set /
  preview.
* ``instances``: the packages the hosts of the service need.
* ``deploy``: the plays of the collection's ``playbooks/deploy.yml`` (the
  ``sdd.devops_flow.deploy`` role with ``deploy_phase`` lb, release, switch,
  rolling and flags), reading the same documents.
* ``monitoring``: the plays of the collection's ``playbooks/monitoring.yml`` (the
  ``sdd.devops_flow.monitoring`` role: node exporters, Prometheus and
  Alertmanager from the documents), and a check that the cloud alerting the
  generated infrastructure creates is in place (on GCP a log-based error metric).
* ``security``: the play of ``playbooks/security.yml`` (the
  ``sdd.devops_flow.security`` role: hardening, firewall, compliance report) on
  the hosts of the service, and a check that no port is open to the internet
  that 9.5.6 does not allow.
* ``backup``: the play of ``playbooks/backup.yml`` (the ``sdd.devops_flow.backup``
  role: backups with the documents' schedule and retention, verified by a
  restore) on the backup hosts; and the cloud's own backups: on AWS a Backup
  vault, plan (frequency and retention of the documents) and tag-based
  selection, and an on-demand RDS snapshot; on Azure an on-demand backup of a
  PostgreSQL flexible server; on GCP a check that the Cloud SQL instance has
  automated backups.

The role plays read the same documents as deploy_app.yml (``<role>_req`` and
``<role>_spec``) and set nothing else but the role's phase: every other setting
comes from the documents through the role's defaults (or from the user's
``-e``/group_vars).  They run on the groups of the generated inventory (lb, app,
monitoring, backup); their tests and check-mode behaviour are the roles'.

Cloud plays run on ``localhost`` with the controller's Python.  Their first
task asks the cloud who the credentials are; without access a real run stops
there, while a check-mode run says so and skips the cloud tasks, so that
``--check`` works anywhere.  Host plays are check-mode safe as written (modules
with check-mode support, ``check_mode: false`` only on read-only commands).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from .common import REQ_TAG

#: Host groups of the inventory (dynamic and example): what each kind of host does.
HOST_GROUPS: Tuple[str, ...] = ("lb", "app", "monitoring", "backup")
ALL_HOSTS = "lb:app:monitoring:backup"

Task = Dict[str, Any]
Play = Dict[str, Any]

_CLOUD_NAMES = {"aws": "AWS", "gcp": "Google Cloud", "azure": "Azure"}


def _task(name: str, module: str, args: Optional[Dict[str, Any]] = None, **extra: Any) -> Task:
    task: Task = {"name": name, module: args if args is not None else {}}
    task.update(extra)
    return task


# --------------------------------------------------------------------------- shared tasks


def environment_tasks() -> List[Task]:
    """Localhost plays: check ``sdd_environment`` and load its variables (hosts get
    them from their environment group)."""
    return [
        _task(
            "Check the environment",
            "ansible.builtin.assert",
            {
                "that": ["sdd_environment in sdd_environments"],
                "fail_msg": "sdd_environment must be one of {{ sdd_environments | join(', ') }} (9.5.2)",
                "quiet": True,
            },
        ),
        _task(
            "Settings of the environment",
            "ansible.builtin.include_vars",
            {"file": "{{ playbook_dir }}/group_vars/{{ sdd_environment }}.yml"},
        ),
    ]


def cloud_access_tasks(cloud: str) -> List[Task]:
    """Who the credentials are: fails a real run without access, only reports in check mode."""
    if cloud == "aws":
        probe = _task("AWS account of the credentials", "amazon.aws.aws_caller_info")
        ready = "{{ sdd_cloud.account is defined }}"
    elif cloud == "gcp":
        probe = _task(
            "Google Cloud projects of the credentials",
            "google.cloud.gcp_resourcemanager_project_info",
            {"page_size": 1},
        )
        ready = "{{ sdd_cloud.resources is defined }}"
    else:
        probe = _task(
            "Resource group of the environment",
            "azure.azcollection.azure_rm_resourcegroup_info",
            {"name": "{{ sdd_resource_group }}"},
        )
        ready = "{{ sdd_cloud.resourcegroups is defined }}"
    condition = ready[3:-3]
    probe["register"] = "sdd_cloud"
    probe["failed_when"] = "not (%s) and not ansible_check_mode" % condition
    return [
        probe,
        _task("Cloud access", "ansible.builtin.set_fact", {"sdd_cloud_ready": ready}),
        _task(
            "Check mode without cloud access",
            "ansible.builtin.debug",
            {
                "msg": "No access to %s (%s): the cloud tasks of this play are skipped in check mode"
                % (_CLOUD_NAMES[cloud], "{{ sdd_cloud.msg | default('no credentials') }}")
            },
            when="not sdd_cloud_ready",
        ),
    ]


def _module_defaults(cloud: str) -> Dict[str, Any]:
    if cloud == "aws":
        return {"group/amazon.aws.aws": {"region": "{{ sdd_region }}"}}
    if cloud == "gcp":
        return {"group/google.cloud.gcp": {"auth_kind": "{{ sdd_gcp_auth_kind }}", "project": "{{ sdd_gcp_project }}"}}
    return {}


def localhost_play(name: str, tags: List[str], tasks: List[Task], cloud: Optional[str] = None) -> Play:
    """A play that calls cloud APIs (or local programs) from the controller."""
    play: Play = {
        "name": name,
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
    }
    if tags:
        play["tags"] = tags
    play["vars"] = {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    defaults = _module_defaults(cloud) if cloud else {}
    if defaults:
        play["module_defaults"] = defaults
    play["tasks"] = tasks
    return play


def hosts_play(name: str, tags: List[str], tasks: List[Task], hosts: str = ALL_HOSTS, facts: bool = True) -> Play:
    """A play on the hosts of the service (the inventory groups)."""
    play: Play = {"name": name, "hosts": hosts, "become": True, "gather_facts": facts}
    if tags:
        play["tags"] = tags
    play["tasks"] = tasks
    return play


def _when_ready(tasks: List[Task], extra: Optional[List[str]] = None) -> Task:
    """Cloud tasks in a block that runs when the cloud answered."""
    conditions = ["sdd_cloud_ready | bool"] + list(extra or [])
    return {
        "name": "Cloud tasks",
        "when": conditions if len(conditions) > 1 else conditions[0],
        "block": tasks,
    }


# --------------------------------------------------------------------------- provision


def provision_plays(name: str, tags: List[str], cloud: str, iac: str) -> List[Play]:
    tasks = environment_tasks()
    if iac == "cloudformation":
        tasks += cloud_access_tasks(cloud)
        tasks += [
            _task(
                "Parameters of the environment (generate-infra --iac cloudformation)",
                "ansible.builtin.include_vars",
                {"file": "{{ sdd_iac_dir }}/parameters/{{ sdd_iac_environment }}.json", "name": "sdd_stack_parameters"},
                when="sdd_cloud_ready | bool",
            ),
            _task(
                "Stack of the environment (a change set in check mode)",
                "amazon.aws.cloudformation",
                {
                    "stack_name": "{{ sdd_resource_name }}",
                    "state": "present",
                    "template": "{{ sdd_iac_dir }}/template.yaml",
                    "template_parameters": (
                        "{{ sdd_stack_parameters | ansible.builtin.items2dict("
                        "key_name='ParameterKey', value_name='ParameterValue') }}"
                    ),
                    "tags": "{{ sdd_resource_tags }}",
                    "termination_protection": "{{ sdd_production | bool }}",
                },
                when="sdd_cloud_ready | bool",
            ),
        ]
        return [localhost_play(name, tags, tasks, cloud)]
    tool = "pulumi" if iac == "pulumi" else "terraform"
    marker = "Pulumi.yaml" if iac == "pulumi" else "main.tf"
    tasks += cloud_access_tasks(cloud)
    tasks += [
        _task(
            "Is %s installed" % tool.capitalize(),
            "ansible.builtin.command",
            {"cmd": "%s version" % tool},
            register="sdd_iac_tool",
            changed_when=False,
            failed_when=False,
            check_mode=False,
        ),
        _task(
            "Infrastructure code of the documents (generate-infra)",
            "ansible.builtin.stat",
            {"path": "{{ sdd_iac_dir }}/%s" % marker},
            register="sdd_iac_code",
        ),
        _task(
            "Provisioning needs %s and the generated code" % tool.capitalize(),
            "ansible.builtin.fail",
            {
                "msg": "%s must be installed and {{ sdd_iac_dir }} must hold the code of "
                "devops-flow generate-infra (%s)" % (tool, marker)
            },
            when=["not ansible_check_mode", "sdd_iac_tool.rc != 0 or not sdd_iac_code.stat.exists"],
        ),
        _task(
            "Check mode without %s or without the generated code" % tool.capitalize(),
            "ansible.builtin.debug",
            {"msg": "Nothing to plan here: %s or {{ sdd_iac_dir }}/%s is missing" % (tool, marker)},
            when="sdd_iac_tool.rc != 0 or not sdd_iac_code.stat.exists",
        ),
    ]
    ready = ["sdd_cloud_ready | bool", "sdd_iac_tool.rc == 0", "sdd_iac_code.stat.exists"]
    if iac == "pulumi":
        tasks += [
            _task(
                "Preview the stack of the environment",
                "ansible.builtin.command",
                {
                    "cmd": "pulumi preview --non-interactive --stack {{ sdd_iac_environment }}",
                    "chdir": "{{ sdd_iac_dir }}",
                },
                changed_when=False,
                check_mode=False,
                when=ready + ["ansible_check_mode"],
            ),
            _task(
                "Update the stack of the environment",
                "ansible.builtin.command",
                {
                    "cmd": "pulumi up --yes --non-interactive --stack {{ sdd_iac_environment }}",
                    "chdir": "{{ sdd_iac_dir }}",
                },
                register="sdd_pulumi_up",
                changed_when="sdd_pulumi_up.stdout is search('[0-9]+ (created|updated|deleted|replaced)')",
                when=ready,
            ),
        ]
    else:
        tasks.append(
            _task(
                "Apply the Terraform code of the environment (a plan in check mode)",
                "community.general.terraform",
                {
                    "project_path": "{{ sdd_iac_dir }}",
                    "workspace": "{{ sdd_iac_environment }}",
                    "variables_files": ["environments/{{ sdd_iac_environment }}.tfvars"],
                    "backend_config": "{{ sdd_terraform_backend_config }}",
                    "force_init": True,
                    "state": "present",
                },
                when=ready,
            )
        )
    return [localhost_play(name, tags, tasks, cloud)]


# --------------------------------------------------------------------------- instances


def instances_plays(name: str, tags: List[str]) -> List[Play]:
    tasks = [
        _task(
            "Packages the service and the deployment need",
            "ansible.builtin.package",
            {"name": "{{ sdd_instance_packages }}", "state": "present"},
            when="sdd_instance_packages | length > 0",
        ),
    ]
    return [hosts_play(name, tags, tasks)]


# --------------------------------------------------------------------------- deploy

#: The role, the role with a deploy phase: what the tasks of the deploy plays include.
_ROLE = {"name": "sdd.devops_flow.deploy"}
_MODEL = {"name": "sdd.devops_flow.deploy", "tasks_from": "model.yml"}

#: (play suffix, hosts, tasks as (task name, include_role arguments, deploy_phase or None),
#: extra play keywords): the plays of playbooks/deploy.yml, in its order.
DEPLOY_PLAYS: Tuple[
    Tuple[str, str, Tuple[Tuple[str, Dict[str, str], Optional[str]], ...], Tuple[Tuple[str, Any], ...]], ...
] = (
    (
        "documents",
        "{{ deploy_lb_group | default('lb') }}:{{ deploy_app_group | default('app') }}",
        (("The deployment model as a fact of every host", _MODEL, None),),
        (),
    ),
    (
        "load balancer",
        "{{ deploy_lb_group | default('lb') }}",
        (("Load balancer with a blue and a green server per application host", _ROLE, "lb"),),
        (),
    ),
    (
        "blue-green, canary and manual deployments",
        "{{ deploy_app_group | default('app') }}",
        (
            ("New release in the idle colour on every host", _ROLE, "release"),
            ("Traffic to the new release", _ROLE, "switch"),
        ),
        (("any_errors_fatal", True),),
    ),
    (
        "rolling deployments",
        "{{ deploy_app_group | default('app') }}",
        (("One batch of hosts at a time", _ROLE, "rolling"),),
        (("serial", "{{ deploy_serial | default(1) }}"), ("max_fail_percentage", 0)),
    ),
    (
        "feature flags",
        "{{ deploy_app_group | default('app') }}",
        (("Flags of REQ 7.2 (or deploy_feature_flags)", _ROLE, "flags"),),
        (),
    ),
)

#: The documents, as absolute paths built at run time from the generated folder.
DEPLOY_VARS: Dict[str, str] = {
    "deploy_req": "{{ [playbook_dir, sdd_documents.req] | ansible.builtin.path_join if sdd_documents.req else '' }}",
    "deploy_spec": "{{ [playbook_dir, sdd_documents.spec] | ansible.builtin.path_join if sdd_documents.spec else '' }}",
}


def deploy_plays(names: List[str], tags: List[str]) -> List[Play]:
    """``names``: one play name per entry of DEPLOY_PLAYS."""
    plays: List[Play] = []
    for name, (_suffix, hosts, phases, extra) in zip(names, DEPLOY_PLAYS):
        play: Play = {"name": name, "hosts": hosts, "gather_facts": False}
        for key, value in extra:
            play[key] = value
        if tags:
            play["tags"] = tags
        play["vars"] = dict(DEPLOY_VARS)
        play["tasks"] = [
            _task(
                task_name,
                "ansible.builtin.include_role",
                dict(role),
                **({"vars": {"deploy_phase": phase}} if phase else {}),
            )
            for task_name, role, phase in phases
        ]
        plays.append(play)
    return plays


# --------------------------------------------------------------------------- the other roles

#: role -> its plays, as in the collection's playbooks/<role>.yml: (play part, hosts, tasks as
#: (task name, role variables)).  The hosts are the groups of the generated inventory; the
#: roles get only their main switches (the documents, ``<role>_phase``) and take every other
#: setting from the documents through their defaults, so that the generated playbooks keep
#: working while the roles grow.  security runs on the hosts of the service instead of "all"
#: (the controller is in "all" when the inventory names localhost).
ROLE_PLAYS: Dict[str, Tuple[Tuple[str, str, Tuple[Tuple[str, Dict[str, str]], ...]], ...]] = {
    "monitoring": (
        (
            "node exporters",
            "monitoring:app",
            (("Node exporter on every monitored host", {"monitoring_phase": "node_exporter"}),),
        ),
        (
            "Prometheus and Alertmanager",
            "monitoring",
            (("Prometheus and Alertmanager from the documents", {"monitoring_phase": "server"}),),
        ),
    ),
    "security": (
        (
            "hosts",
            ALL_HOSTS,
            (("Hardening, firewall, secrets, scan and report", {}),),
        ),
    ),
    "backup": (
        (
            "backup hosts",
            "backup",
            (("Backups of the documents' data with their schedule, retention and objectives", {}),),
        ),
    ),
}


def _document_vars(role: str) -> Dict[str, str]:
    return {
        "%s_req" % role: DEPLOY_VARS["deploy_req"],
        "%s_spec" % role: DEPLOY_VARS["deploy_spec"],
    }


def role_plays(role: str, names: List[str], tags: List[str]) -> List[Play]:
    """The plays of the collection's playbook of ``role``; ``names``: one per play."""
    plays: List[Play] = []
    for name, (_part, hosts, tasks) in zip(names, ROLE_PLAYS[role]):
        play: Play = {"name": name, "hosts": hosts, "gather_facts": False}
        if tags:
            play["tags"] = tags
        play["vars"] = _document_vars(role)
        play["tasks"] = []
        for task_name, variables in tasks:
            task = _task(task_name, "ansible.builtin.include_role", {"name": "sdd.devops_flow.%s" % role})
            if variables:
                task["vars"] = dict(variables)
            play["tasks"].append(task)
        plays.append(play)
    return plays


def role_parts(role: str) -> List[str]:
    return [part for part, _hosts, _tasks in ROLE_PLAYS[role]]


# --------------------------------------------------------------------------- monitoring


def _monitoring_cloud_tasks(cloud: str) -> List[Task]:
    if cloud == "aws":
        return [
            _task(
                "Alarms of the environment (created by the generated infrastructure)",
                "amazon.aws.cloudwatch_metric_alarm_info",
                {"alarm_name_prefix": "{{ sdd_resource_name }}-"},
                register="sdd_alarms",
            ),
            _task(
                "The alerting of the documents is in place",
                "ansible.builtin.assert",
                {
                    "that": ["sdd_alarms.metric_alarms | length > 0"],
                    "fail_msg": "no CloudWatch alarm named {{ sdd_resource_name }}-*: provision the environment first",
                    "quiet": True,
                },
                when="sdd_thresholds.values() | select('number') | list | length > 0",
            ),
        ]
    if cloud == "gcp":
        return [
            _task(
                "Log-based metric of the service's errors",
                "google.cloud.gcp_logging_metric",
                {
                    "name": "{{ sdd_resource_name }}-errors",
                    "description": "Error log entries of {{ sdd_service }} in {{ sdd_environment }}",
                    "filter": "{{ sdd_error_log_filter }}",
                    "metric_descriptor": {"metric_kind": "DELTA", "value_type": "INT64", "unit": "1"},
                    "state": "present",
                },
            ),
        ]
    return [
        _task(
            "Action groups of the environment (created by the generated infrastructure)",
            "azure.azcollection.azure_rm_monitoractiongroups_info",
            {"resource_group": "{{ sdd_resource_group }}"},
            register="sdd_action_groups",
        ),
        _task(
            "The alerting of the documents is in place",
            "ansible.builtin.assert",
            {
                "that": ["sdd_action_groups.action_groups | default([]) | length > 0"],
                "fail_msg": "no action group in {{ sdd_resource_group }}: provision the environment first",
                "quiet": True,
            },
        ),
    ]


def monitoring_plays(names: List[str], tags: List[str], cloud: str) -> List[Play]:
    """``names``: the cloud play's, then one per play of ROLE_PLAYS["monitoring"]."""
    cloud_tasks = environment_tasks() + cloud_access_tasks(cloud) + [_when_ready(_monitoring_cloud_tasks(cloud))]
    return [localhost_play(names[0], tags, cloud_tasks, cloud)] + role_plays("monitoring", names[1:], tags)


# --------------------------------------------------------------------------- security


def _security_cloud_tasks(cloud: str) -> List[Task]:
    open_ports = (
        "every port open to the internet must be one of {{ sdd_allowed_ports | join(', ') }} (9.5.6 Network Security)"
    )
    if cloud == "aws":
        return [
            _task(
                "Security groups of the environment",
                "amazon.aws.ec2_security_group_info",
                {
                    "filters": {
                        "tag:" + REQ_TAG: "{{ sdd_requirement }}",
                        "tag:Environment": "{{ sdd_iac_environment }}",
                    }
                },
                register="sdd_security_groups",
            ),
            _task(
                "No port open to the internet beyond the documents",
                "ansible.builtin.assert",
                {"that": ["item.from_port | default(-1) in sdd_allowed_ports"], "fail_msg": open_ports, "quiet": True},
                loop="{{ sdd_security_groups.security_groups | map(attribute='ip_permissions') | flatten }}",
                loop_control={"label": "{{ item.from_port | default('all') }}/{{ item.ip_protocol }}"},
                when="'0.0.0.0/0' in (item.ip_ranges | default([]) | map(attribute='cidr_ip'))",
            ),
        ]
    if cloud == "gcp":
        return [
            _task("Firewall rules of the project", "google.cloud.gcp_compute_firewall_info", register="sdd_firewalls"),
            _task(
                "No port open to the internet beyond the documents",
                "ansible.builtin.assert",
                {
                    "that": [
                        "item.allowed | default([]) | map(attribute='ports') | flatten | map('string')"
                        " | difference(sdd_allowed_ports | map('string')) | length == 0"
                    ],
                    "fail_msg": open_ports,
                    "quiet": True,
                },
                loop=(
                    "{{ sdd_firewalls.resources | default([])"
                    " | selectattr('name', 'match', sdd_resource_name | ansible.builtin.regex_escape) }}"
                ),
                loop_control={"label": "{{ item.name }}"},
                when="'0.0.0.0/0' in (item.sourceRanges | default([]))",
            ),
        ]
    return [
        _task(
            "Network security groups of the environment",
            "azure.azcollection.azure_rm_securitygroup_info",
            {"resource_group": "{{ sdd_resource_group }}"},
            register="sdd_security_groups",
        ),
        _task(
            "No port open to the internet beyond the documents",
            "ansible.builtin.assert",
            {
                "that": ["item.destination_port_range in (sdd_allowed_ports | map('string'))"],
                "fail_msg": open_ports,
                "quiet": True,
            },
            loop="{{ sdd_security_groups.securitygroups | map(attribute='rules') | flatten }}",
            loop_control={"label": "{{ item.name }}"},
            when=[
                "item.direction == 'Inbound'",
                "item.access == 'Allow'",
                "item.source_address_prefix in ['*', 'Internet', '0.0.0.0/0']",
            ],
        ),
    ]


def security_plays(names: List[str], tags: List[str], cloud: str) -> List[Play]:
    """``names``: one per play of ROLE_PLAYS["security"], then the cloud play's."""
    checks = [_when_ready(_security_cloud_tasks(cloud), ["sdd_allowed_ports | length > 0"])]
    cloud_tasks = environment_tasks() + cloud_access_tasks(cloud) + checks
    return role_plays("security", names[:-1], tags) + [localhost_play(names[-1], tags, cloud_tasks, cloud)]


# --------------------------------------------------------------------------- backup


def _backup_cloud_tasks(cloud: str, database: str) -> List[Task]:
    """``database``: rds, aurora, postgresql-flexible, cloud-sql or "" (none the cloud backs up here)."""
    stamp = _task(
        "Name of the on-demand backup",
        "ansible.builtin.set_fact",
        {"sdd_backup_name": "{{ sdd_resource_name }}-{{ now(utc=true, fmt='%Y%m%d%H%M%S') }}"},
    )
    if cloud == "aws":
        tasks = [
            _task(
                "Backup vault of the environment",
                "amazon.aws.backup_vault",
                {"backup_vault_name": "{{ sdd_resource_name }}", "tags": "{{ sdd_resource_tags }}"},
            ),
            _task(
                "Backup plan (frequency and retention of the documents)",
                "amazon.aws.backup_plan",
                {
                    "backup_plan_name": "{{ sdd_resource_name }}",
                    "rules": [
                        {
                            "rule_name": "{{ sdd_resource_name }}-scheduled",
                            "target_backup_vault_name": "{{ sdd_resource_name }}",
                            "schedule_expression": "{{ sdd_backup.schedule_expression }}",
                            "lifecycle": {"delete_after_days": "{{ sdd_backup.retention_days }}"},
                            "enable_continuous_backup": "{{ sdd_backup.continuous }}",
                            "recovery_point_tags": "{{ sdd_resource_tags }}",
                        }
                    ],
                    "tags": "{{ sdd_resource_tags }}",
                },
            ),
            _task(
                "Everything of this requirement and environment is backed up",
                "amazon.aws.backup_selection",
                {
                    "backup_plan_name": "{{ sdd_resource_name }}",
                    "backup_selection_name": "{{ sdd_resource_name }}-tagged",
                    "iam_role_arn": "{{ sdd_backup_role_arn | default(sdd_backup_default_role_arn) }}",
                    "resources": ["*"],
                    "conditions": {
                        "string_equals": [
                            {"condition_key": "aws:ResourceTag/" + REQ_TAG, "condition_value": "{{ sdd_requirement }}"},
                            {
                                "condition_key": "aws:ResourceTag/Environment",
                                "condition_value": "{{ sdd_iac_environment }}",
                            },
                        ]
                    },
                },
                vars={
                    "sdd_backup_default_role_arn": (
                        "arn:aws:iam::{{ sdd_cloud.account }}:role/service-role/AWSBackupDefaultServiceRole"
                    )
                },
            ),
        ]
        if database in ("rds", "aurora"):
            module = "amazon.aws.rds_cluster_snapshot" if database == "aurora" else "amazon.aws.rds_instance_snapshot"
            key = "db_cluster_identifier" if database == "aurora" else "db_instance_identifier"
            snapshot = "db_cluster_snapshot_identifier" if database == "aurora" else "db_snapshot_identifier"
            tasks += [
                stamp,
                _task(
                    "On-demand snapshot of the database",
                    module,
                    {
                        key: "{{ sdd_resource_name }}",
                        snapshot: "{{ sdd_backup_name }}",
                        "state": "present",
                        "wait": True,
                        "tags": "{{ sdd_resource_tags }}",
                    },
                ),
            ]
        return tasks
    if cloud == "azure":
        if database != "postgresql-flexible":
            return [
                _task(
                    "Automated backups of the database",
                    "ansible.builtin.debug",
                    {"msg": "The {{ sdd_database.engine }} database is backed up by the service's automated backups"},
                )
            ]
        return [
            stamp,
            _task(
                "On-demand backup of the database",
                "azure.azcollection.azure_rm_postgresqlflexiblebackup",
                {
                    "resource_group": "{{ sdd_resource_group }}",
                    "server_name": "{{ sdd_resource_name }}",
                    "backup_name": "{{ sdd_backup_name }}",
                    "state": "present",
                },
            ),
        ]
    if database != "cloud-sql":
        return [
            _task(
                "Automated backups of the database",
                "ansible.builtin.debug",
                {"msg": "The {{ sdd_database.engine }} database is backed up by the service's automated backups"},
            )
        ]
    return [
        _task("Cloud SQL instances of the project", "google.cloud.gcp_sql_instance_info", register="sdd_sql"),
        _task(
            "Automated backups are on",
            "ansible.builtin.assert",
            {
                "that": [
                    "sdd_sql.resources | default([]) | selectattr('name', 'equalto', sdd_resource_name)"
                    " | map(attribute='settings.backupConfiguration.enabled') | select | list | length > 0"
                ],
                "fail_msg": "Cloud SQL instance {{ sdd_resource_name }} is missing or has no automated backups",
                "quiet": True,
            },
        ),
    ]


def backup_plays(names: List[str], tags: List[str], cloud: str, database: str) -> List[Play]:
    """``names``: the cloud play's, then one per play of ROLE_PLAYS["backup"]."""
    tasks = environment_tasks() + cloud_access_tasks(cloud) + [_when_ready(_backup_cloud_tasks(cloud, database))]
    return [localhost_play(names[0], tags, tasks, cloud)] + role_plays("backup", names[1:], tags)
