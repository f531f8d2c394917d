# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One drift check: expectation, cloud reader, comparison."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from ..model import Model
from .compare import DriftError, Expectation, Observation, compare
from .expected import cloud_of, expectation


def observe(expect: Expectation, options: Mapping[str, Any]) -> Observation:
    """Read the cloud of ``expect`` with the reader options (credentials, endpoints)."""
    if expect.cloud == "aws":
        from .aws import observe as aws_observe

        return aws_observe(
            expect,
            profile=options.get("profile"),
            endpoint_url=options.get("endpoint_url"),
            session=options.get("session"),
        )
    if expect.cloud == "gcp":
        from .gcp import observe as gcp_observe

        return gcp_observe(
            expect,
            project=options.get("project"),
            credentials=options.get("credentials"),
            adapter=options.get("adapter"),
        )
    from .azure import observe as azure_observe

    return azure_observe(
        expect,
        subscription_id=options.get("subscription_id"),
        resource_group=options.get("resource_group"),
        credential=options.get("credential"),
        transport=options.get("transport"),
    )


def check(
    model: Model,
    environment: str,
    cloud: Optional[str] = None,
    region: Optional[str] = None,
    options: Optional[Mapping[str, Any]] = None,
) -> Dict[str, Any]:
    """The drift report of ``environment`` (see the cloud_drift module's RETURN)."""
    opts: Mapping[str, Any] = options or {}
    chosen = cloud_of(model, cloud)
    if opts.get("endpoint_url") and chosen != "aws":
        raise DriftError("endpoint_url is for AWS only (the check runs against %s)" % chosen)
    expect = expectation(model, environment, chosen, region, project=opts.get("project"))
    return compare(expect, observe(expect, opts), model)


__all__ = ["DriftError", "check", "observe"]
