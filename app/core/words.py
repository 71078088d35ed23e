"""Counts in words: "1 minute", "2 minutes", "1,204 photos" (never "1 minutes")."""

from __future__ import annotations

import math


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`count` and the noun that agrees with it; the plural is `singular + "s"` unless given."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def duration(seconds: float) -> str:
    """A wait or a period as people say it: "45 seconds", "1 minute", "2 hours 30 minutes"."""
    if seconds < 60:
        return plural(math.ceil(max(0.0, seconds)), "second")  # 0.3 s is "1 second", not "0 seconds"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return plural(minutes, "minute")
    return plural(hours, "hour") + (f" {plural(minutes, 'minute')}" if minutes else "")


def byte_size(n: float) -> str:
    """A file size as people read it: "812 bytes", "1.4 MB" (GB is the largest unit)."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)
