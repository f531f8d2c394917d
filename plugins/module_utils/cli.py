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
}


def register(
    name: str,
    help_text: str,
    arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace, TextIO, TextIO], int],
) -> None:
    """Add a subcommand (used by the generator families)."""
    COMMANDS[name] = {"help": help_text, "arguments": arguments, "run": run}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Turn REQ / SYS / SPEC / ADR documents into a validated deployment model "
        "and the files a service needs to ship.",
        epilog="Exit codes: 0 success, 1 validation findings, 2 usage or input errors.",
    )
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
