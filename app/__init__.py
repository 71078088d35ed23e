"""Sanctum: an encrypted vault for private photos, with protected sharing and leak scanning."""

__version__ = "0.1.0"
