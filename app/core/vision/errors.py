"""Typed errors of the vision core (subclasses of the core's, so one table maps them to words)."""

from __future__ import annotations

from app.core.errors import Cancelled, SanctumError


class VisionUnavailable(SanctumError):
    """A model package is missing or damaged; tagging/faces cannot run in this install."""

    default_message = "Automatic tagging is not available: a model package is missing or damaged."


class VisionCancelled(Cancelled):
    """A long vision job stopped because its cancel event was set."""

    default_message = "Indexing was cancelled."
