# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``devops-flow`` command line.

Every subcommand that reads documents takes the same document options
(``--req --spec --sys --adr --docs-root --cloud``).  Exit codes, for every
subcommand: 0 success, 1 validation findings, 2 usage or input errors.
Problems are printed as ``path:line: message``; a traceback is never shown.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO

from .arguments import DOCUMENT_OPTIONS, add_to_argparse, document_kwargs
from .errors import DevopsFlowError, DocumentError, Finding, UsageError
from .loader import load_model
from .model import Model
from .serialize import dumps_json, model_json_schema, model_to_dict

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

PROG = "devops-flow"


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors with exit code 2 and no traceback."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, "%s: error: %s\n" % (self.prog, message))


def add_document_options(parser: argparse.ArgumentParser) -> None:
    """The document options every document-reading subcommand shares."""
    add_to_argparse(parser, DOCUMENT_OPTIONS, "documents")


def model_from_args(args: argparse.Namespace, iac: Optional[str] = None) -> Model:
    """Load the model from the shared document options."""
    for option in ("req", "spec", "sys"):
        path = getattr(args, option, None)
        if path is not None and not os.path.exists(path):
            raise UsageError("--%s %s: no such file" % (option, path))
    for path in getattr(args, "adr", None) or ():
        if not os.path.exists(path):
            raise UsageError("--adr %s: no such file" % path)
    return load_model(iac=iac, **document_kwargs(vars(args)))


def print_findings(findings: Sequence[Finding], stream: TextIO) -> None:
    for finding in findings:
        stream.write(finding.format() + "\n")


# --------------------------------------------------------------------------- subcommands


def _parse_arguments(parser: argparse.ArgumentParser) -> None:
    add_document_options(parser)
    parser.add_argument("--format", choices=("json", "yaml"), default="json", help="output format (default: json)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the documents produce warnings")
    parser.add_argument("--quiet", "-q", action="store_true", help="do not print warnings on standard error")


def _parse_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    model = model_from_args(args)
    data = model_to_dict(model)
    if args.format == "yaml":
        import yaml

        out.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))
    else:
        out.write(dumps_json(data))
    if not args.quiet:
        print_findings(model.warnings, err)
    if args.strict and model.warnings:
        return EXIT_FINDINGS
    return EXIT_OK


def _schema_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def _schema_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    del args, err
    out.write(dumps_json(model_json_schema()))
    return EXIT_OK


def _generate_arguments_for(target: str) -> Callable[[argparse.ArgumentParser], None]:
    def arguments(parser: argparse.ArgumentParser) -> None:
        from .generate import GENERATE_OPTIONS

        add_document_options(parser)
        group = parser.add_argument_group("generation")
        group.add_argument("--output", "-o", metavar="DIR", required=True, help=GENERATE_OPTIONS["output"]["cli"])
        for name, option in GENERATE_OPTIONS.items():
            if name in ("output", "validate", "force"):
                continue
            if target not in option.get("targets", (target,)):
                continue
            kwargs: Dict[str, Any] = {"dest": name, "help": option["cli"]}
            if option.get("choices"):
                kwargs["choices"] = option["choices"]
            if option.get("type") == "int":
                kwargs["type"] = int
                kwargs["metavar"] = "N"
            group.add_argument(option.get("flag") or "--" + name.replace("_", "-"), **kwargs)
        group.add_argument(
            "--no-validate", dest="validate", action="store_false", help="write without running the validators"
        )
        group.add_argument("--force", action="store_true", help=GENERATE_OPTIONS["force"]["cli"])
        group.add_argument(
            "--check", action="store_true", help="show what would change (and validate) without writing anything"
        )
        group.add_argument("--diff", action="store_true", help="print a unified diff of every change")

    return arguments


def _generate_run_for(target: str) -> Callable[[argparse.Namespace, TextIO, TextIO], int]:
    def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
        from .generate import WITHOUT_DOCUMENTS, Options, model_from_flags
        from .generate import run as generate_run
        from .loader import slugify

        if target in WITHOUT_DOCUMENTS and not (args.req or args.spec):
            name = slugify(os.path.basename(os.path.abspath(os.getcwd()))) or "app"
            model = model_from_flags(name, getattr(args, "language", None), getattr(args, "deploy_strategy", None))
        else:
            model = model_from_args(args, iac=getattr(args, "iac", None))
        print_findings(model.warnings, err)
        options = Options.from_params(target, vars(args))
        report = generate_run(
            model, options, args.output, validate=args.validate, force=args.force, check_mode=args.check
        )
        return print_report(report, out, err, args.diff, args.check)

    return run


def print_report(report: Any, out: TextIO, err: TextIO, diff: bool, check: bool) -> int:
    """A table with a line per file (what happened, its kind, its validation result), the
    findings, what was left out, and the exit code (1 on refusals or validation errors)."""
    verbs = {"created": "create", "updated": "update", "removed": "remove"} if check else {}
    per_file: Dict[str, List[Any]] = {}
    for finding in report.findings:
        per_file.setdefault(finding.file, []).append(finding)
    width = max([len(c.path) for c in report.changes] + [4])
    for change in report.changes:
        status = verbs.get(change.status, change.status)
        found = per_file.get(change.path, [])
        errors = len([f for f in found if f.severity == "error"])
        warnings = len(found) - errors
        if change.status in ("removed", "kept"):
            checked = "-"
        elif errors or warnings:
            checked = ", ".join(
                part
                for part in ("%d error(s)" % errors if errors else "", "%d warning(s)" % warnings if warnings else "")
                if part
            )
        else:
            checked = "ok" if report.validated else "not validated"
        line = "%-9s %-*s  %s" % (status, width, change.path, checked)
        if change.reason:
            line += "  (%s)" % change.reason
        out.write(line.rstrip() + "\n")
        if (diff or change.status == "refused") and change.status in ("created", "updated", "removed", "refused"):
            text = change.diff()
            if text:
                out.write(text if text.endswith("\n") else text + "\n")
    print_findings(report.findings, err)
    for note in report.notes:
        err.write("%s: note: %s\n" % (PROG, note))
    counts: Dict[str, int] = {}
    for change in report.changes:
        counts[change.status] = counts.get(change.status, 0) + 1
    summary = ", ".join("%d %s" % (n, k) for k, n in sorted(counts.items()))
    errors = len(report.errors)
    warnings = len([f for f in report.findings if f.severity == "warning"])
    state = "checked (nothing written)" if check else ("written" if report.written else "not written")
    out.write(
        "%s: %s; %d validation error(s), %d warning(s); %s\n"
        % (report.output, summary or "no files", errors, warnings, state)
    )
    if report.refused:
        err.write(
            "%s: error: %d file(s) were edited by hand or are not managed; nothing was written "
            "(use --force to overwrite, a backup is kept)\n" % (PROG, len(report.refused))
        )
    if errors and not check:
        err.write("%s: error: validation failed; nothing was written\n" % PROG)
    return EXIT_FINDINGS if (report.refused or errors) else EXIT_OK


def _validate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="DIR", help="the tree to check (generated by devops-flow or not)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")


def _validate_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import json

    from .detect import detect
    from .validators.registry import summarize, validate_files

    if not os.path.isdir(args.folder):
        raise UsageError("%s is not a folder" % args.folder)
    kinds, unchecked = detect(args.folder)
    findings = validate_files(args.folder, kinds)
    counts = summarize(findings)
    if args.format == "json":
        out.write(
            json.dumps(
                {
                    "files": dict(sorted(kinds.items())),
                    "unchecked": unchecked,
                    "findings": [f.to_dict() for f in findings],
                    "summary": counts,
                },
                indent=2,
            )
            + "\n"
        )
    else:
        per_file: Dict[str, int] = {}
        for finding in findings:
            if finding.severity == "error":
                per_file[finding.file] = per_file.get(finding.file, 0) + 1
        width = max([len(p) for p in kinds] + [4])
        for path, kind in sorted(kinds.items()):
            result = "%d error(s)" % per_file[path] if path in per_file else "ok"
            out.write("%-*s  %-22s %s\n" % (width, path, kind, result))
        for path in unchecked:
            out.write("%-*s  %-22s %s\n" % (width, path, "-", "not checked (kind not recognised)"))
        print_findings(findings, err)
        out.write(
            "%s: %d file(s) checked, %d not recognised; %d error(s), %d warning(s)\n"
            % (args.folder, len(kinds), len(unchecked), counts["error"], counts["warning"])
        )
    return EXIT_FINDINGS if counts["error"] else EXIT_OK


def _awx_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", required=True, metavar="DIR", help="folder to write the AWX files into")
    parser.add_argument(
        "--templates",
        metavar="FILE",
        help="job template list (default: extensions/awx/job_templates.yml of the collection)",
    )
    parser.add_argument("--check", action="store_true", help="show what would change; write nothing")
    parser.add_argument("--force", action="store_true", help="overwrite files edited by hand (a backup is kept)")


def _awx_run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from .awx import awx_files, collection_root, load_templates, sources
    from .validators.registry import validate_files
    from .writer import write

    root = collection_root()
    templates = load_templates(root, args.templates)
    files = awx_files(root, templates, version()).finalize("awx-surveys", version(), sources(templates), "none")
    report = write(files, args.output, force=args.force, check_mode=args.check, validate=validate_files, scope="awx")
    return print_report(report, out, err, diff=False, check=args.check)


Command = Dict[str, Any]
COMMANDS: Dict[str, Command] = {
    "parse": {
        "help": "read REQ/SYS/SPEC/ADR documents and print the model",
        "arguments": _parse_arguments,
        "run": _parse_run,
    },
    "schema": {
        "help": "print the JSON Schema of the model that parse prints",
        "arguments": _schema_arguments,
        "run": _schema_run,
    },
    "awx-surveys": {
        "help": "write AWX job templates, their survey specs (derived from the roles' argument specs) and a project",
        "arguments": _awx_arguments,
        "run": _awx_run,
    },
    "validate": {
        "help": "find the artifact kinds in a folder and run each one's real validator (exit 1 on findings)",
        "arguments": _validate_arguments,
        "run": _validate_run,
    },
}


def register(
    name: str,
    help_text: str,
    arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace, TextIO, TextIO], int],
) -> None:
    """Add a subcommand (used by the generator families)."""
    COMMANDS[name] = {"help": help_text, "arguments": arguments, "run": run}


def _register_generators() -> None:
    from .generate import COMMAND_NAMES, TARGETS

    for target, command in COMMAND_NAMES.items():
        if command not in COMMANDS:
            register(
                command,
                "generate %s" % TARGETS[target].help,
                _generate_arguments_for(target),
                _generate_run_for(target),
            )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Turn REQ / SYS / SPEC / ADR documents into a validated deployment model "
        "and the files a service needs to ship.",
        epilog="Exit codes: 0 success, 1 validation findings, 2 usage or input errors.",
    )
    _register_generators()
    parser.add_argument("--version", action="version", version="%(prog)s " + version())
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subs.required = True
    for name, command in COMMANDS.items():
        sub = subs.add_parser(name, help=command["help"], description=command["help"])
        command["arguments"](sub)
        sub.set_defaults(_run=command["run"])
    return parser


def version() -> str:
    """The collection version from galaxy.yml (or MANIFEST.json once installed)."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    for name in ("MANIFEST.json", "galaxy.yml"):
        path = os.path.join(root, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    stripped = line.strip().strip(",")
                    if stripped.startswith(("version:", '"version":')):
                        return stripped.split(":", 1)[1].strip().strip('"').strip("'")
    return "unknown"


def main(argv: Optional[List[str]] = None, out: Optional[TextIO] = None, err: Optional[TextIO] = None) -> int:
    """Run the CLI; returns the exit code (never raises, never prints a traceback)."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return int(args._run(args, out, err))
    except DocumentError as exc:
        print_findings(exc.findings(), err)
        return EXIT_USAGE
    except DevopsFlowError as exc:
        for finding in exc.findings():
            err.write(
                "%s: error: %s\n" % (PROG, finding.format().replace("error: ", "", 1))
                if not finding.file
                else finding.format() + "\n"
            )
        return exc.exit_code
    except KeyboardInterrupt:
        err.write("%s: interrupted\n" % PROG)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        err.write(
            "%s: internal error: %s: %s\n(this is a bug in %s; please report it with the "
            "documents that caused it)\n" % (PROG, type(exc).__name__, exc, PROG)
        )
        return EXIT_INTERNAL
