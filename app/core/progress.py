"""The one convention for long core work: `progress(done, total)` and a cancel `threading.Event`.

Core functions report progress as two counts (photos, chunks, steps) and look at a cancel event
at item or chunk boundaries; when they stop early they raise a `Cancelled` (or a subclass), or
return a report marked `cancelled` when the work done so far is kept.

The immunizer predates this: it reports fractions of 0..1 and accepted a callable for cancel.
It now takes either kind of cancel through `cancel_check`; its fractions are adapted for the
jobs by `app.workers.immunize_jobs`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .errors import Cancelled

Progress = Callable[[int, int], None]  # progress(done, total)
CancelCheck = Callable[[], bool]  # the older form: True once the work should stop
CancelSignal = threading.Event | CancelCheck


def cancel_check(cancel: CancelSignal | None) -> CancelCheck | None:
    """Either kind of cancel as one callable (None stays None: nothing can cancel)."""
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel


def raise_if_cancelled(cancel: CancelSignal | None, error: type[Cancelled] = Cancelled,
                       message: str | None = None) -> None:
    """Raise `error` when the cancel (an event or a check) says stop."""
    check = cancel_check(cancel)
    if check is not None and check():
        raise error(message)
