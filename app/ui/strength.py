"""The passphrase strength estimate now lives in the core (the CLI applies the same rule)."""

from app.core.strength import LEVELS, Strength, estimate  # noqa: F401 - re-exported for the UI
