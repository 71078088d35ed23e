"""Typed exceptions of the immunizer (no heavy imports: the UI's error table imports them)."""

from __future__ import annotations

from app.core.errors import Cancelled, SanctumError


class ImmunizerError(SanctumError):
    """Base of the immunizer's errors."""


class ImageTooSmallToImmunize(ImmunizerError):
    """The photo has too few pixels to carry its own recovery data."""


class ImmunizeCancelled(ImmunizerError, Cancelled):
    """The user cancelled immunizing or verifying (a `Cancelled`, so every front end treats it
    like any other cancel)."""
