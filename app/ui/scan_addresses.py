"""What a pasted list of places to scan means: one source a line, web addresses as typed
(https:// added when left out) or paths, and the lines that cannot be an address, with why."""

from __future__ import annotations

from urllib.parse import urlsplit

from app.core.urls import is_url


def _is_path(line: str) -> bool:
    return line.startswith(("/", "~", "\\\\")) or (len(line) > 2 and line[1] == ":")


def _address_problem(source: str) -> str | None:
    """Why a typed web address cannot be fetched, or None when it looks like one. Caught here,
    so that "not a url" is not sent off as https://not a url and reported as unreachable."""
    if any(ch.isspace() for ch in source):
        return "it has spaces in it"
    try:
        parts = urlsplit(source)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "it is not a valid web address"
    host = parts.hostname or ""
    if not host:
        return "it has no site name"
    if host != "localhost" and "." not in host and ":" not in host:
        return "the site name has no dot (like example.com)"
    if any(not (ch.isalnum() or ch in ".-:[]") for ch in host):
        return "the site name has characters a web address cannot have"
    return None


def read_addresses(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The pasted lines, one source each: web addresses as typed (https:// added when left out),
    paths as they are. Returns (the sources, once each; the lines refused with the reason)."""
    sources: list[str] = []
    refused: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.strip().strip("<>\"'")
        if not line or line.startswith("#"):
            continue
        if _is_path(line):
            source = line  # a path pasted with the addresses
        else:
            source = line if is_url(line) else "https://" + line
            problem = _address_problem(source)
            if problem:
                refused.append((line, problem))
                continue
        if source not in sources:
            sources.append(source)
    return sources, refused


def parse_addresses(text: str) -> list[str]:
    """The sources in pasted text (lines that are no address are left out: `read_addresses`)."""
    return read_addresses(text)[0]
