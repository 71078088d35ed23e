"""The one convention for long core work: `progress(done, total)` and a cancel `threading.Event`.

Core functions report progress as two counts (photos, chunks, steps) and look at a cancel event
at item or chunk boundaries; when they stop early they raise a `Cancelled` (or a subclass), or
return a report marked `cancelled` when the work done so far is kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .errors import Cancelled

Progress = Callable[[int, int], None]  # progress(done, total)


def raise_if_cancelled(cancel: threading.Event | None, error: type[Cancelled] = Cancelled,
                       message: str | None = None) -> None:
    """Raise `error` once `cancel` is set (None: nothing can cancel)."""
    if cancel is not None and cancel.is_set():
        raise error(message)
