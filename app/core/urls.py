"""What counts as a web address, in one place (scans, removal requests, the CLI and the UI).

Light on purpose: the UI's error table and the scan dialog use it without loading the fetcher.
"""

from __future__ import annotations

WEB_SCHEMES = ("http://", "https://")


def is_url(text: str) -> bool:
    """A web address Sanctum can fetch (anything else typed as a source is a file path)."""
    return text.startswith(WEB_SCHEMES)
