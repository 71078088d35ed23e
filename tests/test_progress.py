"""The core's one convention: `progress(done, total)` and a cancel threading.Event."""

from __future__ import annotations

import threading

import pytest

from app.core.errors import Cancelled
from app.core.immunizer.errors import ImmunizeCancelled
from app.core.immunizer.types import PROGRESS_TOTAL, stepper
from app.core.leaks.errors import FetchCancelled
from app.core.progress import raise_if_cancelled
from app.core.vision.errors import VisionCancelled


def test_raise_if_cancelled_raises_the_kind_asked_for():
    event = threading.Event()
    raise_if_cancelled(event)
    raise_if_cancelled(None)
    event.set()
    with pytest.raises(VisionCancelled, match="after 3"):
        raise_if_cancelled(event, VisionCancelled, "after 3")


def test_the_immunizer_takes_an_event_and_reports_done_of_total():
    event = threading.Event()
    seen = []
    step = stepper(lambda done, total: seen.append((done, total)), event, "immunizing")
    step(0.5)
    event.set()
    with pytest.raises(ImmunizeCancelled):
        step(0.6)
    assert seen == [(PROGRESS_TOTAL // 2, PROGRESS_TOTAL)]


def test_every_kind_of_cancel_is_a_cancelled():
    for kind in (ImmunizeCancelled, FetchCancelled, VisionCancelled):
        assert issubclass(kind, Cancelled)
