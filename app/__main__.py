"""Entry point: `sanctum` / `python -m app`. No arguments opens the app; a subcommand runs the CLI."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv == ["--smoke-test"]:
        from .ui.application import run_gui

        return run_gui(["sanctum", *argv])
    from .cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
