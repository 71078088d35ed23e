"""The `sanctum` command line: every core operation, with `--json` for scripts.

Each module here owns one subject's commands: its `register` adds their arguments and names the
function that runs them. Errors are turned into words in `main`, in one place: a typed core
exception becomes one line on stderr and a non-zero exit code. `--json` prints exactly one JSON
document on stdout.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..core import errors
from . import backup, cases, evidence, keys, leaks, library, sharing, vault, watch
from .common import EXIT_ERROR, EXIT_USAGE, CliError, common_options

# In the order `sanctum --help` lists them.
SUBJECTS = (library, sharing, leaks, watch, cases, evidence, keys, vault, backup)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sanctum",
        description="Sanctum keeps private photos in an encrypted vault. Run without arguments "
                    "to open the app.",
        parents=[common_options(sub=False)],
        epilog="The passphrase is read from $SANCTUM_PASSPHRASE, else asked for.",
    )
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = [common_options(sub=True)]
    for subject in SUBJECTS:
        subject.register(subs, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.run(args)
    except errors.SanctumError as exc:
        print(f"sanctum: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except CliError as exc:
        print(f"sanctum: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("sanctum: interrupted", file=sys.stderr)
        return 130
