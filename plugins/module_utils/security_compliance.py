# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance report of one host: every 9.5.6 row and every hardening control.

The security role collects raw evidence on the host (the output of ``sshd -T``,
what ``security_sysctl`` found, file modes, the firewall it loaded, the secrets'
rotation checks, the scan) and this module judges it: each control gets a status
(pass, fail or not-applicable) and the evidence in words, and the 9.5.6 rows of
the model are matched with the evidence that answers them.  The report is
rendered as JSON and Markdown from the same data; nothing here reads the host.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

STATUSES = ("pass", "fail", "not-applicable")

#: sshd keywords whose value is a time (sshd -T prints seconds)
_TIME_KEYS = ("logingracetime", "clientaliveinterval")
#: values sshd -T prints differently from what a configuration may say
_ALIASES = {"prohibit-password": "without-password"}
_TIME = re.compile(r"(\d+)([smhdw]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class ReportError(Exception):
    """The evidence given to the report does not have the expected shape."""


def control(
    cid: str, title: str, status: str, evidence: str, requirement: str = "", source: str = "", group: str = "hardening"
) -> Dict[str, str]:
    if status not in STATUSES:
        raise ReportError("control %s has status %r; expected one of %s" % (cid, status, ", ".join(STATUSES)))
    return {
        "id": cid,
        "group": group,
        "title": title,
        "requirement": requirement,
        "status": status,
        "evidence": evidence,
        "source": source,
    }


def worst(statuses: Sequence[str]) -> str:
    """fail if any failed, else pass if any passed, else not-applicable."""
    if "fail" in statuses:
        return "fail"
    if "pass" in statuses:
        return "pass"
    return "not-applicable"


# --------------------------------------------------------------------------- ssh


def parse_sshd_t(text: str) -> Dict[str, str]:
    """``sshd -T`` output as keyword (lower case) -> value; the first line of a keyword wins."""
    out: Dict[str, str] = {}
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if parts and parts[0].lower() not in out:
            out[parts[0].lower()] = parts[1].strip() if len(parts) > 1 else ""
    return out


def _seconds(value: str) -> Optional[int]:
    """An sshd time (``90``, ``1m30s``) in seconds, None when it is not one."""
    text = value.strip().lower()
    if not re.fullmatch(r"(\d+[smhdw]?)+", text):
        return None
    return sum(int(number) * _UNITS[unit] for number, unit in _TIME.findall(text))


def sshd_value(key: str, value: Any) -> str:
    """A configured value as ``sshd -T`` prints it (for comparison)."""
    text = ("yes" if value else "no") if isinstance(value, bool) else " ".join(str(value).split())
    lowered = text.lower()
    if key.lower() in _TIME_KEYS:
        seconds = _seconds(lowered)
        if seconds is not None:
            return str(seconds)
    return _ALIASES.get(lowered, lowered)


def dropin_lines(text: str) -> List[Tuple[str, int, str, str]]:
    """``grep -rnH`` output (file:line:content) as (file, line, keyword, value)."""
    found = []
    for raw in text.splitlines():
        match = re.match(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<body>.*)$", raw)
        if not match:
            continue
        body = match.group("body").strip()
        if not body or body.startswith("#"):
            continue
        parts = body.split(None, 1)
        found.append((match.group("file"), int(match.group("line")), parts[0], parts[1] if len(parts) > 1 else ""))
    return found


def _effective_is_hardened(key: str, wanted: Any, effective: Mapping[str, str]) -> bool:
    have = effective.get(key.lower())
    return have is not None and sshd_value(key, have) == sshd_value(key, wanted)


def ssh_controls(ssh: Mapping[str, Any]) -> List[Dict[str, str]]:
    expected: Mapping[str, Any] = ssh.get("expected") or {}
    config = str(ssh.get("config") or "sshd_config")
    if ssh.get("skipped"):
        return [control("ssh", "SSH daemon hardening", "not-applicable", str(ssh["skipped"]))]
    effective = parse_sshd_t(str(ssh.get("effective") or ""))
    error = str(ssh.get("error") or "")
    out = []
    for key in sorted(expected, key=str.lower):
        want = sshd_value(key, expected[key])
        title = "sshd %s %s" % (key, expected[key])
        if not effective:
            out.append(control("ssh.%s" % key.lower(), title, "fail", "sshd -T -f %s failed: %s" % (config, error)))
            continue
        have = effective.get(key.lower())
        if have is None:
            out.append(control("ssh.%s" % key.lower(), title, "fail", "sshd -T shows no %s" % key.lower()))
        elif sshd_value(key, have) == want:
            out.append(control("ssh.%s" % key.lower(), title, "pass", "sshd -T: %s %s" % (key.lower(), have)))
        else:
            out.append(
                control(
                    "ssh.%s" % key.lower(),
                    title,
                    "fail",
                    "sshd -T: %s %s (expected %s)" % (key.lower(), have, expected[key]),
                )
            )
    lowered = {k.lower(): k for k in expected}
    conflicts = []
    for file, line, keyword, value in dropin_lines(str(ssh.get("dropins") or "")):
        name = lowered.get(keyword.lower())
        if name is not None and sshd_value(name, value) != sshd_value(name, expected[name]):
            conflicts.append((file, line, keyword, value, name))
    if conflicts:
        held = [c for c in conflicts if _effective_is_hardened(c[4], expected[c[4]], effective)]
        status = "pass" if len(held) == len(conflicts) else "fail"
        listed = ", ".join("%s:%d %s %s" % (f, n, k, v) for f, n, k, v, _key in conflicts)
        evidence = (
            "overridden by the hardening settings, which sshd reads first: %s" % listed
            if status == "pass"
            else "drop-in settings win over the hardening: %s" % listed
        )
        out.append(control("ssh.dropins", "sshd drop-in files do not weaken the hardening", status, evidence))
    else:
        out.append(
            control(
                "ssh.dropins",
                "sshd drop-in files do not weaken the hardening",
                "pass",
                "no drop-in file sets a hardened option to another value",
            )
        )
    return out


# --------------------------------------------------------------------------- sysctl, files


def sysctl_controls(results: Sequence[Mapping[str, Any]]) -> List[Dict[str, str]]:
    return [
        control(
            "sysctl.%s" % r["key"],
            "kernel parameter %s = %s" % (r["key"], r.get("expected")),
            str(r.get("status", "fail")),
            str(r.get("evidence", "")),
        )
        for r in results
    ]


def file_controls(results: Sequence[Mapping[str, Any]]) -> List[Dict[str, str]]:
    """The results of the security_files module (path, expected, status, evidence)."""
    return [
        control(
            "files.%s" % r["path"],
            "%s is %s (mode owner:group)" % (r["path"], r.get("expected", "-")),
            str(r.get("status", "fail")),
            str(r.get("evidence", "")),
        )
        for r in results
    ]


# --------------------------------------------------------------------------- firewall


def _listing(items: Sequence[Any]) -> str:
    return ", ".join(str(i) for i in items) if items else "nobody"


def firewall_controls(fw: Mapping[str, Any]) -> List[Dict[str, str]]:
    if not fw or not fw.get("enabled", False):
        reason = str((fw or {}).get("reason") or "the host firewall is switched off (security_firewall: false)")
        return [control("firewall", "Host firewall (nftables)", "not-applicable", reason)]
    out = []
    live = bool(fw.get("live"))
    table = "inet %s" % fw.get("table", "sdd_security")
    if live:
        evidence = "table %s loaded from %s (revision %s)" % (table, fw.get("file"), fw.get("revision"))
        out.append(control("firewall", "Host firewall (nftables) loaded, default drop", "pass", evidence))
    else:
        evidence = str(fw.get("error") or "table %s is not loaded (revision %s)" % (table, fw.get("revision")))
        out.append(control("firewall", "Host firewall (nftables) loaded, default drop", "fail", evidence))
    sources = list(fw.get("ssh_sources") or [])
    port = fw.get("ssh_port", 22)
    ssh_title = "SSH (tcp/%s) only from the controller and the admin networks, first rule" % port
    first = str(fw.get("first_rule") or "")
    first_is_ssh = bool(re.match(r"^tcp dport (\{ )?%s\b.*\baccept\b" % re.escape(str(port)), first))
    if not sources:
        out.append(
            control(
                "firewall.ssh",
                ssh_title,
                "fail",
                "no admin network and no controller address: SSH stays open to every address "
                "(set security_ssh_admin_networks)",
            )
        )
    elif not live or not first_is_ssh:
        out.append(
            control(
                "firewall.ssh",
                ssh_title,
                "fail",
                "the first rule of the input chain is %r, not SSH from %s" % (first or "missing", _listing(sources)),
            )
        )
    else:
        out.append(control("firewall.ssh", ssh_title, "pass", "first rule: %s" % first))
    roles = list(fw.get("roles") or [])
    if "app" in roles:
        out.append(
            control(
                "firewall.app",
                "Application ports only from the load balancer (and Prometheus for metrics)",
                "pass" if live else "fail",
                "tcp %s from %s" % (_listing(fw.get("app_ports") or []), _listing(fw.get("app_sources") or [])),
            )
        )
    else:
        out.append(
            control(
                "firewall.app",
                "Application ports only from the load balancer",
                "not-applicable",
                "not an application host (not in the application group)",
            )
        )
    monitoring = list(fw.get("monitoring_ports") or [])
    if monitoring:
        out.append(
            control(
                "firewall.monitoring",
                "Monitoring ports only from the Prometheus host",
                "pass" if live else "fail",
                "tcp %s from %s" % (_listing(monitoring), _listing(fw.get("monitoring_sources") or [])),
            )
        )
    if "lb" in roles:
        out.append(
            control(
                "firewall.public",
                "Load balancer ports open to clients",
                "pass" if live else "fail",
                "tcp %s from every address" % _listing(fw.get("public_ports") or []),
            )
        )
    return out


# --------------------------------------------------------------------------- secrets, scan


def secret_entries(secrets: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """One entry per secret from what the role gives: ``secrets`` (the settings of each secret without its
    value), ``reads`` and ``writes`` (the results of the security_secret runs that read it from its store and
    wrote it, in the same order, reduced to their public keys), ``default_backend`` and ``rotation_days``."""
    settings = list(secrets.get("secrets") or [])
    reads = list(secrets.get("reads") or [])
    writes = list(secrets.get("writes") or [])
    out = []
    for index, entry in enumerate(settings):
        read = reads[index] if index < len(reads) else {}
        write = writes[index] if index < len(writes) else {}
        backend = str(entry.get("backend") or secrets.get("default_backend") or "value")
        meta = write if backend == "value" else read
        error = ""
        for result in (read, write):
            if result and not result.get("skipped") and result.get("msg"):
                error = str(result["msg"])
                break
        out.append(
            {
                "name": str(entry.get("name") or entry.get("secret_id") or "secret"),
                "backend": backend,
                "secret_id": str(entry.get("secret_id") or ""),
                "dest": str(entry.get("dest") or ""),
                "mode": str(entry.get("mode") or "0600"),
                "rotation_days": entry.get("rotation_days") or secrets.get("rotation_days"),
                "status": str(meta.get("status") or "fail") if not error else "fail",
                "evidence": str(meta.get("evidence") or ""),
                "error": error,
            }
        )
    return out


def secret_controls(secrets: Mapping[str, Any]) -> List[Dict[str, str]]:
    out = []
    for entry in secret_entries(secrets):
        name = entry["name"]
        where = ("%s %s" % (entry["backend"], entry["secret_id"])).strip()
        if entry["error"]:
            out.append(control("secrets.%s" % name, "secret %s (%s)" % (name, where), "fail", entry["error"]))
            continue
        evidence = entry["evidence"]
        if entry["dest"]:
            evidence += "; written to %s only (mode %s)" % (entry["dest"], entry["mode"])
        out.append(
            control(
                "secrets.%s" % name,
                "secret %s (%s) rotated within %s days" % (name, where, entry["rotation_days"]),
                entry["status"],
                evidence,
            )
        )
    return out


def scan_control(scan: Mapping[str, Any]) -> Dict[str, str]:
    title = "Generated artifacts scanned (validators, checkov, hadolint, ShellCheck)"
    if not scan or not scan.get("ran"):
        reason = str((scan or {}).get("reason") or "no artifact folder given (security_scan_paths)")
        return control("scan", title, "not-applicable", reason)
    return control("scan", title, "pass" if scan.get("passed") else "fail", str(scan.get("summary") or ""))


# --------------------------------------------------------------------------- 9.5.6 rows


def _source(sources: Mapping[str, Any], key: str) -> str:
    value = sources.get(key)
    return str(value) if value else ""


def rows_9_5_6(
    security: Mapping[str, Any], sources: Mapping[str, Any], checks: Mapping[str, Any]
) -> List[Dict[str, str]]:
    """One control per 9.5.6 row of the model, answered by the evidence of the checks."""
    out: List[Dict[str, str]] = []
    secrets = security.get("secrets")
    if secrets:
        requirement = "secrets in %s%s, rotated every %s days" % (
            secrets.get("store") or "a secret store",
            " (%s)" % secrets["path"] if secrets.get("path") else "",
            secrets.get("rotation_days") or "(no period given)",
        )
        checked = secret_controls(checks.get("secrets") or {})
        if checked:
            status = worst([c["status"] for c in checked])
            evidence = "; ".join("%s: %s" % (c["id"].split(".", 1)[1], c["evidence"]) for c in checked)
        else:
            status, evidence = "not-applicable", "no secret of the store is used on this host (security_secrets)"
        out.append(
            control(
                "9.5.6.secrets",
                "Secrets Management",
                status,
                evidence,
                requirement,
                _source(sources, "security.secrets"),
                "9.5.6",
            )
        )
    tls = security.get("tls")
    if tls:
        requirement = "TLS %s+ for %s" % (tls.get("min_version") or "1.2", tls.get("domain") or "the service")
        out.append(
            control(
                "9.5.6.tls",
                "TLS/SSL",
                "not-applicable",
                "TLS ends at the load balancer%s; the hosts serve the application behind it"
                % (" (%s)" % tls["provider"] if tls.get("provider") else ""),
                requirement,
                _source(sources, "security.tls"),
                "9.5.6",
            )
        )
    iam = security.get("iam")
    if iam:
        out.append(
            control(
                "9.5.6.iam",
                "IAM",
                "not-applicable",
                "cloud identities and permissions are checked in the cloud account, not on hosts",
                "; ".join(p for p in (iam.get("model"), iam.get("permissions")) if p),
                _source(sources, "security.iam"),
                "9.5.6",
            )
        )
    fw = checks.get("firewall") or {}
    for index, rule in enumerate(security.get("network_rules") or []):
        out.append(_network_row(index, rule, fw, sources))
    scanning = security.get("image_scanning")
    if scanning:
        threshold = scanning.get("threshold")
        requirement = "no finding at or above %s%s" % (
            threshold or "the threshold",
            " (%s)" % scanning["tool"] if scanning.get("tool") else "",
        )
        check = scan_control(checks.get("scan") or {})
        out.append(
            control(
                "9.5.6.image_scanning",
                "Container Security / image scanning",
                check["status"],
                check["evidence"],
                requirement,
                _source(sources, "security.image_scanning"),
                "9.5.6",
            )
        )
    for index, item in enumerate(security.get("other") or []):
        out.append(
            control(
                "9.5.6.other[%d]" % index,
                str(item.get("aspect") or "Security"),
                "not-applicable",
                "no host check answers this row; verification: %s" % (item.get("verification") or "as documented"),
                str(item.get("requirement") or ""),
                _source(sources, "security.other[%d]" % index),
                "9.5.6",
            )
        )
    return out


def _network_row(
    index: int, rule: Mapping[str, Any], fw: Mapping[str, Any], sources: Mapping[str, Any]
) -> Dict[str, str]:
    ports = [int(p) for p in rule.get("ports") or []]
    requirement = str(rule.get("description") or "network rule")
    source = _source(sources, "security.network_rules[%d]" % index)
    cid = "9.5.6.network_rules[%d]" % index
    if not fw or not fw.get("enabled", False):
        return control(
            cid, "Network Security", "not-applicable", "the host firewall is switched off", requirement, source, "9.5.6"
        )
    live = bool(fw.get("live"))
    here = []
    elsewhere = []
    roles = list(fw.get("roles") or [])
    app_ports = [int(p) for p in fw.get("app_ports") or []]
    public_ports = [int(p) for p in fw.get("public_ports") or []]
    for port in ports:
        if "app" in roles and port in app_ports:
            here.append("%d only from %s" % (port, _listing(fw.get("app_sources") or [])))
        elif "lb" in roles and port in public_ports:
            here.append("%d open to clients on the load balancer" % port)
        else:
            elsewhere.append(str(port))
    cidrs = [str(c) for c in rule.get("cidrs") or []]
    opened = [p for p in ports if p in app_ports + public_ports]
    if cidrs and opened:
        here.append("%s also from %s (the networks of this rule)" % (_listing(opened), _listing(cidrs)))
    parts = []
    if here:
        parts.append("enforced by the host firewall: %s" % "; ".join(here))
    if elsewhere:
        parts.append("port(s) %s concern cloud resources (security groups), not this host" % ", ".join(elsewhere))
    if not ports and not here:
        parts.append("no port in this row; every other port is closed by the default drop" if live else "")
    status = "not-applicable"
    if here:
        status = "pass" if live else "fail"
    elif live and not ports:
        status = "pass"
    if not live:
        parts.append("the firewall is not loaded")
    return control(cid, "Network Security", status, "; ".join(p for p in parts if p), requirement, source, "9.5.6")


# --------------------------------------------------------------------------- the report


def build(
    host: str,
    service: str,
    environment: str,
    documents: Sequence[str],
    security: Mapping[str, Any],
    sources: Mapping[str, Any],
    checks: Mapping[str, Any],
) -> Dict[str, Any]:
    """The report of one host (without the time it was made)."""
    controls = rows_9_5_6(security or {}, sources or {}, checks)
    if "ssh" in checks:
        controls += ssh_controls(checks["ssh"] or {})
    controls += sysctl_controls((checks.get("sysctl") or {}).get("results") or [])
    controls += file_controls((checks.get("files") or {}).get("results") or [])
    if "firewall" in checks:
        controls += firewall_controls(checks["firewall"] or {})
    controls += secret_controls(checks.get("secrets") or {})
    if "scan" in checks:
        controls.append(scan_control(checks["scan"] or {}))
    for extra in checks.get("controls") or []:
        if not isinstance(extra, Mapping) or not extra.get("id"):
            raise ReportError("every entry of checks.controls needs an id, a title, a status and the evidence")
        controls.append(
            control(
                str(extra["id"]),
                str(extra.get("title") or extra["id"]),
                str(extra.get("status")),
                str(extra.get("evidence") or ""),
                str(extra.get("requirement") or ""),
                str(extra.get("source") or ""),
                str(extra.get("group") or "hardening"),
            )
        )
    summary = dict.fromkeys(STATUSES, 0)
    for entry in controls:
        summary[entry["status"]] += 1
    return {
        "report": "sdd.devops_flow.security compliance report",
        "host": host,
        "service": service,
        "environment": environment,
        "documents": list(documents),
        "summary": summary,
        "compliant": summary["fail"] == 0,
        "controls": controls,
    }


def _cell(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip() or "-"


_MARK = {"pass": "pass", "fail": "**FAIL**", "not-applicable": "n/a"}


def markdown(report: Mapping[str, Any]) -> str:
    """The report for people (the same data as the JSON)."""
    summary = report["summary"]
    lines = [
        "# Compliance report: %s" % report["host"],
        "",
        "- Service: %s (environment %s)" % (report.get("service") or "-", report.get("environment") or "-"),
        "- Documents: %s" % (", ".join(report.get("documents") or []) or "none (role defaults only)"),
        "- Generated: %s by sdd.devops_flow.security" % report.get("generated_at", "-"),
        "- Result: %d pass, %d fail, %d not applicable: %s"
        % (
            summary["pass"],
            summary["fail"],
            summary["not-applicable"],
            "compliant" if report.get("compliant") else "NOT compliant",
        ),
        "",
    ]
    sections = [("9.5.6", "9.5.6 Security Requirements"), ("hardening", "Host hardening")]
    for group, heading in sections:
        rows = [c for c in report["controls"] if c["group"] == group]
        if not rows:
            continue
        lines += ["## %s" % heading, ""]
        if group == "9.5.6":
            lines += ["| Control | Requirement | Status | Evidence | Source |", "|---|---|---|---|---|"]
            for c in rows:
                lines.append(
                    "| %s | %s | %s | %s | %s |"
                    % (
                        _cell(c["title"]),
                        _cell(c["requirement"]),
                        _MARK[c["status"]],
                        _cell(c["evidence"]),
                        _cell(c["source"]),
                    )
                )
        else:
            lines += ["| Control | Check | Status | Evidence |", "|---|---|---|---|"]
            for c in rows:
                lines.append(
                    "| %s | %s | %s | %s |"
                    % (_cell(c["id"]), _cell(c["title"]), _MARK[c["status"]], _cell(c["evidence"]))
                )
        lines.append("")
    return "\n".join(lines)


def to_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=False) + "\n"


def same_report(old_text: Optional[str], new: Mapping[str, Any]) -> Optional[str]:
    """The time of ``old_text`` when it holds the same report as ``new`` (ignoring the time), else None."""
    if not old_text:
        return None
    try:
        old = json.loads(old_text)
    except ValueError:
        return None
    if not isinstance(old, dict):
        return None
    stamp = old.pop("generated_at", None)
    fresh = dict(new)
    fresh.pop("generated_at", None)
    return str(stamp) if stamp and old == json.loads(json.dumps(fresh)) else None
