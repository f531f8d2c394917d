# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shell lines the pipeline systems share: the image reference, the registry
login and the federated (OIDC) cloud login.

Only fixed text, tokens of the plan and ``$VARIABLE`` references of the CI
system's own variables appear here; a secret is only ever read from an
environment variable the system fills from its secret store.
"""

from __future__ import annotations

from typing import List

from .pipelines_plan import DriftJob, Job, Plan, shq

#: The commit SHA variable of each system (the image tag).
SHA_VARIABLES = {
    "github-actions": "GITHUB_SHA",
    "gitlab-ci": "CI_COMMIT_SHA",
    "jenkins": "GIT_COMMIT",
    "circleci": "CIRCLE_SHA1",
    "azure-devops": "BUILD_SOURCEVERSION",
}


def image_lines(plan: Plan, registry: str = "", image_path: str = "") -> List[str]:
    """``REGISTRY``, ``IMAGE`` and ``IMAGE_REF`` (tagged with the commit SHA)."""
    sha = SHA_VARIABLES.get(plan.system, "GIT_COMMIT")
    return [
        'REGISTRY="%s"' % (registry or plan.cloud.registry),
        'IMAGE="${REGISTRY}/%s"' % (image_path or plan.cloud.image_path),
        'IMAGE_REF="${IMAGE}:${%s}"' % sha,
    ]


def registry_login(plan: Plan) -> List[str]:
    """Docker login to the registry with the cloud CLI that is already logged in."""
    key = plan.cloud.key
    if key == "aws":
        return [
            'aws ecr get-login-password --region "$AWS_REGION"'
            ' | docker login --username AWS --password-stdin "$REGISTRY"'
        ]
    if key == "gcp":
        return [
            'gcloud auth print-access-token | docker login --username oauth2accesstoken --password-stdin "https://$REGISTRY"'
        ]
    if key == "azure":
        return ['az acr login --name "${REGISTRY%%.*}"']
    return [
        'printf "%s\\n" "$REGISTRY_PASSWORD" | docker login --username "$REGISTRY_USER" --password-stdin "$REGISTRY"'
    ]


def oidc_login(plan: Plan, variable: str = "OIDC_TOKEN") -> List[str]:
    """Log the cloud CLI in with the CI system's OIDC token (no stored cloud key)."""
    key = plan.cloud.key
    token = "$%s" % variable
    if key == "aws":
        return [
            'AWS_WEB_IDENTITY_TOKEN_FILE="$(mktemp)"',
            "export AWS_WEB_IDENTITY_TOKEN_FILE",
            'printf "%%s" "%s" > "$AWS_WEB_IDENTITY_TOKEN_FILE"' % token,
            "export AWS_ROLE_SESSION_NAME=%s" % shq("ci-%s" % plan.service),
            "aws sts get-caller-identity",
        ]
    if key == "gcp":
        return [
            'GCP_TOKEN_FILE="$(mktemp)"',
            'GCP_CRED_FILE="$(mktemp)"',
            'printf "%%s" "%s" > "$GCP_TOKEN_FILE"' % token,
            'gcloud iam workload-identity-pools create-cred-config "$GCP_WORKLOAD_IDENTITY_PROVIDER"'
            ' --service-account="$GCP_SERVICE_ACCOUNT" --credential-source-file="$GCP_TOKEN_FILE"'
            ' --output-file="$GCP_CRED_FILE"',
            'gcloud auth login --cred-file="$GCP_CRED_FILE" --quiet',
            'gcloud config set project "$GCP_PROJECT_ID"',
        ]
    if key == "azure":
        return [
            'az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID"'
            ' --federated-token "%s" --output none' % token,
            'az account set --subscription "$AZURE_SUBSCRIPTION_ID"',
        ]
    return []


#: Python that writes a google-auth external account file (workload identity federation):
#: the CI system's OIDC token file, exchanged by google-auth itself for the service account.
GCP_EXTERNAL_ACCOUNT = (
    "import json, os; e = os.environ; print(json.dumps({"
    "'type': 'external_account', "
    "'audience': '//iam.googleapis.com/' + e['GCP_WORKLOAD_IDENTITY_PROVIDER'], "
    "'subject_token_type': 'urn:ietf:params:oauth:token-type:jwt', "
    "'token_url': 'https://sts.googleapis.com/v1/token', "
    "'credential_source': {'file': e['GCP_TOKEN_FILE']}, "
    "'service_account_impersonation_url': 'https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/'"
    " + e['GCP_SERVICE_ACCOUNT'] + ':generateAccessToken'}))"
)


def sdk_federation(plan: Plan, variable: str = "OIDC_TOKEN") -> List[str]:
    """Credentials for the cloud SDKs the drift check uses (boto3, google-auth,
    azure-identity) from the CI system's OIDC token, with each SDK's own web identity
    support and no cloud CLI: the same identity the deploy jobs federate to."""
    key = plan.cloud.key
    token = "$%s" % variable
    if key == "aws":
        return [
            'AWS_WEB_IDENTITY_TOKEN_FILE="$(mktemp)"',
            'printf "%%s" "%s" > "$AWS_WEB_IDENTITY_TOKEN_FILE"' % token,
            "export AWS_WEB_IDENTITY_TOKEN_FILE AWS_ROLE_ARN",
            "export AWS_ROLE_SESSION_NAME=%s" % shq("drift-%s" % plan.service),
        ]
    if key == "gcp":
        return [
            'GCP_TOKEN_FILE="$(mktemp)"',
            'printf "%%s" "%s" > "$GCP_TOKEN_FILE"' % token,
            'GOOGLE_APPLICATION_CREDENTIALS="$(mktemp)"',
            "export GCP_TOKEN_FILE GCP_WORKLOAD_IDENTITY_PROVIDER GCP_SERVICE_ACCOUNT GOOGLE_APPLICATION_CREDENTIALS",
            'python3 -c "%s" > "$GOOGLE_APPLICATION_CREDENTIALS"' % GCP_EXTERNAL_ACCOUNT,
            'export GOOGLE_CLOUD_PROJECT="$GCP_PROJECT_ID"',
        ]
    if key == "azure":
        return [
            'AZURE_FEDERATED_TOKEN_FILE="$(mktemp)"',
            'printf "%%s" "%s" > "$AZURE_FEDERATED_TOKEN_FILE"' % token,
            "export AZURE_FEDERATED_TOKEN_FILE AZURE_CLIENT_ID AZURE_TENANT_ID AZURE_SUBSCRIPTION_ID",
        ]
    return []


def drift_lines(plan: Plan, job: DriftJob) -> List[str]:
    """Install ansible-core, the collection and its requirements, then run the drift playbook."""
    return [
        *plan.drift.install,
        'export ANSIBLE_HOME="$PWD/.drift/ansible" ANSIBLE_REMOTE_TEMP="$PWD/.drift/ansible/tmp"',
        job.command,
    ]


def containerized_registry_login(plan: Plan) -> List[str]:
    """Registry login from a job that has Docker but no cloud CLI: the CLI runs as
    a container, logs in with the OIDC token (``$OIDC_TOKEN``) and prints only the
    registry password, which goes straight to ``docker login``."""
    key = plan.cloud.key
    image = plan.cloud.cli_image
    if key == "aws":
        inner = (
            'printf "%s" "$OIDC_TOKEN" > /tmp/token &&'
            ' AWS_WEB_IDENTITY_TOKEN_FILE=/tmp/token aws ecr get-login-password --region "$AWS_REGION"'
        )
        return [
            "docker run --rm -e OIDC_TOKEN -e AWS_ROLE_ARN -e AWS_REGION --entrypoint /bin/sh %s -c '%s'"
            ' | docker login --username AWS --password-stdin "$REGISTRY"' % (image, inner)
        ]
    if key == "gcp":
        inner = (
            'printf "%s" "$OIDC_TOKEN" > /tmp/token &&'
            ' gcloud iam workload-identity-pools create-cred-config "$GCP_WORKLOAD_IDENTITY_PROVIDER"'
            ' --service-account="$GCP_SERVICE_ACCOUNT" --credential-source-file=/tmp/token'
            " --output-file=/tmp/cred.json >/dev/null &&"
            " gcloud auth login --cred-file=/tmp/cred.json --quiet >/dev/null 2>&1 &&"
            " gcloud auth print-access-token"
        )
        return [
            "docker run --rm -e OIDC_TOKEN -e GCP_WORKLOAD_IDENTITY_PROVIDER -e GCP_SERVICE_ACCOUNT"
            " --entrypoint /bin/bash %s -c '%s'"
            ' | docker login --username oauth2accesstoken --password-stdin "https://$REGISTRY"' % (image, inner)
        ]
    if key == "azure":
        inner = (
            'az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID"'
            ' --federated-token "$OIDC_TOKEN" --allow-no-subscriptions --output none &&'
            ' az acr login --name "$ACR" --expose-token --output tsv --query accessToken'
        )
        return [
            'ACR="${REGISTRY%%.*}"',
            "export ACR",
            "docker run --rm -e OIDC_TOKEN -e AZURE_CLIENT_ID -e AZURE_TENANT_ID -e ACR"
            " --entrypoint /bin/bash %s -c '%s'"
            ' | docker login "$REGISTRY" --username 00000000-0000-0000-0000-000000000000 --password-stdin'
            % (image, inner),
        ]
    return registry_login(plan)


def deploy_lines(job: Job) -> List[str]:
    """The commands of a deploy or rollback job, with its hold and gate."""
    lines = list(job.commands)
    if job.hold_seconds:
        lines.append("sleep %d" % job.hold_seconds)
    lines += list(job.after_hold)
    return lines


def strict(lines: List[str]) -> List[str]:
    """A script that stops at the first failing command (and pipe)."""
    return ["set -euo pipefail", *lines]
