"""Background jobs: one job base (`base.Job`), a manager, and the jobs the app runs."""

from app import qtcompat as _qtcompat  # noqa: F401 - see qtcompat: a binding bug on some versions
