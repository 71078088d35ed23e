"""Typed exceptions of the immunizer (no heavy imports: the UI's error table imports them)."""

from __future__ import annotations

from app.core.errors import SanctumError


class ImmunizerError(SanctumError):
    """Base of the immunizer's errors."""


class ImageTooSmallToImmunize(ImmunizerError):
    """The photo has too few pixels to carry its own recovery data."""


class ImmunizeCancelled(ImmunizerError):
    """The user cancelled immunizing or verifying."""
