"""Entry point of the packaged app: no arguments opens the GUI, a subcommand runs the CLI."""

import sys

from app.__main__ import main

if __name__ == "__main__":
    if "--smoke-test" in sys.argv[1:]:  # the packaged build's smoke test (see smoke_test.sh)
        from app.ui.application import run_gui

        sys.exit(run_gui(sys.argv))
    sys.exit(main())
