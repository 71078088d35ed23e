"""Entry point of the packaged app: no command opens the GUI (`--vault DIR`, `--smoke-test`
included), a subcommand runs the CLI; `app.__main__` decides."""

import sys

from app.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
