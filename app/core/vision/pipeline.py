"""One call for the indexing job: tags, categories, faces and the sensitive flag of photos.

The job queue decodes each photo once (EXIF orientation applied), passes the images here in
chunks, and persists the ``PhotoAnalysis`` results (face descriptors only in the encrypted DB),
then runs ``clustering.update_people`` over the new faces. Nothing here touches the disk.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from ..progress import Progress
from . import faces as faces_mod
from . import sensitive as sensitive_mod
from . import tagger
from .errors import VisionCancelled

CHUNK = 16


@dataclass(frozen=True, slots=True)
class PhotoAnalysis:
    tags: tagger.TagResult
    faces: tuple[faces_mod.Face, ...]
    categories: tuple[str, ...]  # main category first
    sensitive_score: float | None  # None when the sensitive check was not asked for
    sensitive: bool

    @property
    def search_terms(self) -> tuple[str, ...]:
        """Categories, then fine labels and their broad terms: what ``--tag`` should match."""
        seen: dict[str, None] = {}
        for term in (*self.categories, *self.tags.tags):
            seen.setdefault(term, None)
        return tuple(seen)


def analyze_photos(
    images: Sequence[Image.Image],
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    with_faces: bool = True,
    with_sensitive: bool = True,
) -> list[PhotoAnalysis]:
    """Analyse photos chunk by chunk; ``progress(done, total)`` after each chunk; raises
    ``VisionCancelled`` between chunks once ``cancel`` is set (finished chunks are returned
    to nobody: callers that want partial results call this per chunk themselves)."""
    out: list[PhotoAnalysis] = []
    total = len(images)
    for start in range(0, total, CHUNK):
        if cancel is not None and cancel.is_set():
            raise VisionCancelled(f"indexing cancelled after {start} of {total}")
        chunk = images[start : start + CHUNK]
        tags = tagger.tag_images(chunk)
        found = [faces_mod.detect_faces(im) for im in chunk] if with_faces else [[] for _ in chunk]
        scores: list[float | None] = (
            list(sensitive_mod.sensitive_scores(chunk)) if with_sensitive else [None] * len(chunk)
        )
        for tag, fs, score in zip(tags, found, scores, strict=True):
            out.append(
                PhotoAnalysis(
                    tags=tag,
                    faces=tuple(fs),
                    categories=tuple(tagger.categories_for(tag, len(fs))),
                    sensitive_score=score,
                    sensitive=score is not None and sensitive_mod.is_sensitive(score),
                )
            )
        if progress is not None:
            progress(len(out), total)
    return out
