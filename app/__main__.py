"""Entry point: `sanctum` / `python -m app`. No command opens the app; a subcommand runs the CLI.

`sanctum --vault DIR` (no command) opens the app on that vault, like `SANCTUM_VAULT=DIR sanctum`.
This module stays light: the GUI and the CLI are imported only once it is known which one runs,
so starting the app does not pay for the CLI's imports and the reverse.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GuiLaunch:
    """What to open when the arguments name no command."""

    vault: Path | None      # None: $SANCTUM_VAULT, else the platform data folder
    smoke_test: bool        # open the first window, report it, quit (packaging checks)


def _gui_options() -> argparse.ArgumentParser:
    # The only options that make sense without a command. Anything else (a command, --json,
    # --help, a typo) goes to the CLI parser, which owns the help text and usage errors.
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--vault", type=Path)
    parser.add_argument("--smoke-test", action="store_true")
    return parser


def gui_launch(argv: list[str]) -> GuiLaunch | None:
    """The GUI launch `argv` asks for, or None when it is a CLI call."""
    try:
        known, rest = _gui_options().parse_known_args(argv)
    except SystemExit:  # e.g. `--vault` without a folder: let the CLI parser say so
        return None
    if rest:
        return None
    return GuiLaunch(vault=known.vault.expanduser() if known.vault else None, smoke_test=known.smoke_test)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--install-desktop-entry"]:
        from .desktop_entry import main as install_main

        return install_main()
    launch = gui_launch(argv)
    if launch is not None:
        from .ui.application import run_gui

        return run_gui(["sanctum", *(["--smoke-test"] if launch.smoke_test else [])], vault_path=launch.vault)
    from .cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
