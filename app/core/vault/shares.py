"""Protected copies of an open vault: make them, record them, and recognise them again.

A mixin of `Vault`: the share keys come from its master secret, the signing key from its DB.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .. import crypto, db, fingerprint
from ..db import Share
from ..progress import Progress
from .files import write_new_file
from .keys import SIGNING_KEY
from .records import ShareInfo, ShareOutcome, share_info

if TYPE_CHECKING:
    from .. import sharing
    from ..leaks.matcher import ShareSource


class VaultShares:
    """Sharing of an open `Vault`; the facade sets the master secret, `_require_open` and
    `build_matcher`."""

    _master: bytes | None

    def share_keys(self) -> sharing.ShareKeys:
        from .. import sharing  # the watermark's numeric stack loads only when sharing is used

        self._require_open()
        return sharing.ShareKeys(
            watermark=crypto.hkdf(self._master, "sanctum robust watermark v1"),
            fragile=crypto.hkdf(self._master, "sanctum fragile watermark v1"),
            mac=crypto.hkdf(self._master, "sanctum share hmac v1"),
            signing_private=self._signing_key(),
        )

    def _signing_key(self) -> bytes:
        # Made with the vault and kept in the encrypted DB; vaults made before sharing existed
        # get one on first use.
        stored = db.get_setting(SIGNING_KEY)
        if stored is None:
            with db.database.atomic():
                stored = db.get_setting(SIGNING_KEY)
                if stored is None:
                    stored = crypto.b64e(fingerprint.new_signing_key())
                    db.put_setting(SIGNING_KEY, stored)
        return crypto.b64d(stored)

    def signing_public_key(self) -> bytes:
        return fingerprint.public_key_of(self._signing_key())

    def immunize_image(self, data: bytes, mode: str, *, progress: Progress | None = None,
                       cancel: threading.Event | None = None) -> bytes:
        """An immunized PNG of any image file, signed with this vault's key (the key never
        leaves the vault object). Reports `progress(done, total)`; raises `ImmunizeCancelled`
        once `cancel` is set."""
        from app.core.immunizer.files import immunize_bytes
        return immunize_bytes(data, mode, self._signing_key(), progress=progress, cancel=cancel)

    def share(self, photo_id: int, out_path: str | Path, options: sharing.ShareOptions, *,
              progress: Progress | None = None, cancel: threading.Event | None = None) -> ShareOutcome:
        """Write a protected copy of a photo and record who it is for.

        The record is committed before the file appears: a copy that exists always has a
        record, so a leaked copy can always be traced. A failed write removes the record.
        """
        from .. import sharing

        self._require_open()
        out_path = Path(out_path)
        info = self.photo(photo_id)
        original = self.read_original(photo_id)
        keys = self.share_keys()
        with db.database.atomic():
            taken = {sid for (sid,) in Share.select(Share.share_id).tuples()}
        share_int = fingerprint.new_share_id()
        while fingerprint.format_share_id(share_int) in taken:
            share_int = fingerprint.new_share_id()
        copy = sharing.make_protected_copy(
            original, share_id=share_int, keys=keys, options=options,
            progress=progress, cancel=cancel,  # immunizing takes seconds: Cancel stops it (`Cancelled`)
        )
        # "srgb": the copy was made from the photo's pixels converted to sRGB (share_sources).
        options_json = {**options.to_json(), "removed": list(copy.removed), "srgb": True}
        with db.database.atomic():
            row = Share.create(
                share_id=copy.share_id,
                photo=photo_id,
                image_uid=info.image_uid,
                recipient=options.recipient,
                platform=options.platform,
                created_at=copy.signed_at.astimezone().replace(tzinfo=None),
                options=json.dumps(options_json),
                pixel_sha256=copy.pixel_sha256,
                width=copy.width,
                height=copy.height,
                pdq=copy.fingerprint.pdq,
                pdq_quality=copy.fingerprint.pdq_quality,
            )
        try:
            written = write_new_file(out_path, copy.data)
        except BaseException:
            Share.delete().where(Share.id == row.id).execute()
            raise
        return ShareOutcome(share_info(row), str(written), copy.embedded, copy.removed)

    def list_shares(self, photo_id: int | None = None) -> list[ShareInfo]:
        self._require_open()
        query = Share.select().order_by(Share.created_at.desc(), Share.id.desc())
        if photo_id is not None:
            query = query.where(Share.photo == photo_id)
        return [share_info(row) for row in query]

    def find_share(self, share_id: str) -> ShareInfo | None:
        self._require_open()
        row = Share.get_or_none(Share.share_id == share_id.lower())
        return share_info(row) if row else None

    def inspect(self, data: bytes) -> tuple[sharing.InspectReport, ShareInfo | None]:
        """What a (possibly leaked) copy carries, and which of this vault's shares it is."""
        from .. import sharing

        share_ids = [share_id for (share_id,) in Share.select(Share.share_id).tuples()]
        report = sharing.inspect_image(data, keys=self.share_keys(), known_share_ids=share_ids)
        matches = functools.cache(lambda: self.build_matcher().match_bytes(data, thorough=True))
        if report.watermark_share_id is None and share_ids:
            # Too damaged to read alone: if the copy shows a shared photo, read it again against
            # the pixels that photo's shares were made from.
            for match in matches():
                if match.read_against_original and match.share_id:
                    report = dataclasses.replace(report, watermark_share_id=match.share_id,
                                                 watermark_confidence=round(match.score, 3),
                                                 watermark_matched=False, watermark_against_original=True)
                    break
        if report.metadata is not None and report.mac == "other-image":
            # A genuine claim of ours about other pixels: an edit of the shared copy when the
            # matcher finds the claimed share's photo in them, or the share's own PDQ.
            claimed = self.find_share(report.metadata.ids.share_id)
            if claimed is not None and any(
                    m.share_id == claimed.share_id or (claimed.photo_id is not None and m.photo_id == claimed.photo_id)
                    for m in matches()):
                report = dataclasses.replace(
                    report, mac="pixels-changed",
                    signature="pixels-changed" if report.signature == "other-image" else report.signature)
        share = self.find_share(report.share_id) if report.share_id else None
        return report, share

    def share_sources(self, photo_id: int) -> list[ShareSource]:
        """The pixels this photo's shares were made from, before their marks: one entry per
        size they were made at, with the shares made at it."""
        from .. import sharing
        from ..leaks.matcher import ShareSource

        self._require_open()
        by_size: dict[tuple[int | None, bool], list[str]] = {}
        for share_id, options in Share.select(Share.share_id, Share.options).where(Share.photo == photo_id).tuples():
            recorded = json.loads(options or "{}")
            # Older shares were made from the pixels as decoded, newer ones converted to sRGB.
            key = (recorded.get("max_long_side"), bool(recorded.get("srgb")))
            by_size.setdefault(key, []).append(share_id)
        if not by_size:
            return []
        original = self.read_original(photo_id)
        return [ShareSource(sharing.share_source_pixels(original, size, to_srgb=srgb), tuple(ids))
                for (size, srgb), ids in by_size.items()]
