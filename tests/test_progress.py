"""The core's one cancel convention: a threading.Event, also where a callable used to be."""

from __future__ import annotations

import threading

import pytest

from app.core.errors import Cancelled
from app.core.immunizer.errors import ImmunizeCancelled
from app.core.immunizer.types import stepper
from app.core.leaks.errors import FetchCancelled
from app.core.progress import cancel_check, raise_if_cancelled
from app.core.vision.errors import VisionCancelled


def test_an_event_and_a_callable_say_the_same():
    event = threading.Event()
    assert cancel_check(None) is None
    assert cancel_check(event)() is False and cancel_check(event.is_set)() is False
    event.set()
    assert cancel_check(event)() is True and cancel_check(event.is_set)() is True


def test_raise_if_cancelled_raises_the_kind_asked_for():
    event = threading.Event()
    raise_if_cancelled(event)
    raise_if_cancelled(None)
    event.set()
    with pytest.raises(VisionCancelled, match="after 3"):
        raise_if_cancelled(event, VisionCancelled, "after 3")


def test_the_immunizer_takes_an_event():
    event = threading.Event()
    seen = []
    step = stepper(seen.append, event, "immunizing")
    step(0.5)
    event.set()
    with pytest.raises(ImmunizeCancelled):
        step(0.6)
    assert seen == [0.5]


def test_every_kind_of_cancel_is_a_cancelled():
    for kind in (ImmunizeCancelled, FetchCancelled, VisionCancelled):
        assert issubclass(kind, Cancelled)
