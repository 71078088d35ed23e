"""The desktop app (PySide6). The core (`app.core`) never imports anything from here."""

from app import qtcompat as _qtcompat  # noqa: F401 - guards against a binding bug before any signal
