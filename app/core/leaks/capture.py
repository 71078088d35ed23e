"""What a scan saw when it found a copy, kept as evidence: the facts of the fetch and the page.

For every found copy the scan keeps the SHA-256 of the exact bytes it fetched, the HTTP status,
the server's `Date` header and its own clock (UTC); for a file from a local folder, the hash and
the file's modification time. The page an image was found on is kept as fetched (its HTML,
compressed and capped), once per page per scan. The vault stores these in its encrypted DB
(`capture_store`); an evidence report shows them even after the copy is removed.

Light on purpose: the scan imports it for every candidate, the report reads its dataclasses.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from .. import fingerprint, imaging, metadata

if TYPE_CHECKING:
    from .fetch import Fetched

# A page's HTML is kept up to this many bytes (then compressed): many times a real gallery
# page, and what the scan itself reads of a page (sources.MAX_PAGE_BYTES is 4 MB).
MAX_CAPTURED_HTML = 2 * 2**20


class SignatureState:
    """What a Sanctum claim in the found copy's metadata says, checked with the vault's key."""

    ABSENT = "absent"  # no Sanctum claim in the file's metadata
    NOT_CHECKED = "not-checked"  # no key to check it with
    INVALID = "invalid"  # a claim that this vault's key did not sign (forged or damaged)
    VALID = "valid"  # signed by this vault, and these are exactly the signed pixels
    PIXELS_CHANGED = "pixels-changed"  # signed by this vault; an edit of that copy (the cascade agrees)
    OTHER_IMAGE = "other-image"  # a genuine claim copied onto pixels it does not vouch for


@dataclass(frozen=True)
class Capture:
    """The facts of one look at a found copy. HTTP fields are None for a local file."""

    sha256: str  # of the exact bytes fetched (or read)
    size_bytes: int
    fetched_at: datetime  # UTC, aware
    http_status: int | None = None  # 200, or 304 when the server said it had not changed
    server_date: str | None = None  # the response's Date header, verbatim
    final_url: str | None = None  # after redirects, when it differs from the address asked for
    file_modified: datetime | None = None  # UTC, aware: a local file's modification time
    signature: str = SignatureState.ABSENT


@dataclass(frozen=True)
class PageSnapshot:
    """A page as the scan fetched it: the HTML compressed and capped, with the fetch's facts."""

    url: str
    final_url: str | None
    http_status: int
    server_date: str | None
    fetched_at: datetime  # UTC, aware
    sha256: str  # of the page bytes as fetched (all of them, not just the kept part)
    size_bytes: int
    html_z: bytes  # zlib of at most MAX_CAPTURED_HTML bytes of the page
    truncated: bool

    def html(self) -> str:
        return page_html(self.html_z)


def page_html(html_z: bytes) -> str:
    return zlib.decompress(html_z).decode("utf-8", "replace")


def utc_now() -> datetime:
    return datetime.now(UTC)


def http_capture(fetched: Fetched, data: bytes, asked: str, signature: str) -> Capture:
    return Capture(
        sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data),
        fetched_at=fetched.fetched_at or utc_now(), http_status=fetched.status,
        server_date=fetched.server_date, final_url=fetched.url if fetched.url != asked else None,
        signature=signature,
    )


def not_modified(earlier: Capture, fetched: Fetched) -> Capture:
    """A 304: the server says the bytes are the ones hashed before; this look's own facts."""
    return Capture(earlier.sha256, earlier.size_bytes, fetched.fetched_at or utc_now(), 304,
                   fetched.server_date, earlier.final_url, None, earlier.signature)


def file_capture(path: Path, data: bytes, signature: str) -> Capture:
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return Capture(hashlib.sha256(data).hexdigest(), len(data), utc_now(), file_modified=modified,
                   signature=signature)


def page_snapshot(fetched: Fetched, asked: str) -> PageSnapshot:
    content = fetched.content or b""
    kept = content[:MAX_CAPTURED_HTML]
    return PageSnapshot(
        url=asked, final_url=fetched.url if fetched.url != asked else None, http_status=fetched.status,
        server_date=fetched.server_date, fetched_at=fetched.fetched_at or utc_now(),
        sha256=hashlib.sha256(content).hexdigest(), size_bytes=len(content),
        html_z=zlib.compress(kept, 6), truncated=len(content) > len(kept),
    )


def signature_state(data: bytes, public_key: bytes | None, share_ids: set[str]) -> str:
    """The state of a Sanctum claim in `data`'s metadata. `share_ids`: the shares the matcher
    named for these pixels (a claim about one of them vouches for an edit of that copy)."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            found = metadata.read_ids(opened)
    except Exception:  # noqa: BLE001 - unreadable metadata is no claim
        return SignatureState.ABSENT
    if found is None:
        return SignatureState.ABSENT
    if public_key is None:
        return SignatureState.NOT_CHECKED
    ids = found.ids
    if not fingerprint.verify_claim(public_key, ids.claim(), ids.signature):
        return SignatureState.INVALID
    # The full-size decode is paid only for a genuine claim: the signature binds exact pixels.
    rgb = np.asarray(imaging.decode(data).oriented.convert("RGB"))
    if fingerprint.pixel_sha256(rgb) == ids.pixel_sha256:
        return SignatureState.VALID
    return SignatureState.PIXELS_CHANGED if ids.share_id in share_ids else SignatureState.OTHER_IMAGE
