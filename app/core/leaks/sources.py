"""What a scan looks at: local files and folders, image URLs, and web pages.

A page URL is fetched once and read by `page_reader` (its images on any host, its pagination
and same-site links); this module turns what the user typed into candidates to check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..urls import is_url
from .page_reader import (
    MAX_IMAGES_PER_PAGE,
    MAX_PAGE_BYTES,
    images_on_page,
    looks_like_html,
    read_page,
    site_of,
)

__all__ = ["MAX_IMAGES_PER_PAGE", "MAX_PAGE_BYTES", "Candidate", "images_on_page", "is_url", "local_candidates",
           "looks_like_html", "read_page", "site_of"]


@dataclass(frozen=True)
class Candidate:
    """One image to check: a local path or a URL, and where it was found."""

    location: str
    found_on: str | None = None  # the page that linked it, if any
    # The address the user typed that led here (a page deep in a site: that site's first page);
    # it decides which networks fetching the image may reach.
    origin: str | None = None

    @property
    def is_url(self) -> bool:
        return is_url(self.location)


def local_candidates(path: Path) -> list[Candidate]:
    if path.is_dir():
        return [
            Candidate(str(p)) for p in sorted(path.rglob("*"))
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        ]
    return [Candidate(str(path))]
