"""Faces: detection, 5-point landmarks and 128-d descriptors with dlib.

Models come from ``face-recognition-models`` (dlib's HOG frontal detector is built into dlib;
the 5-point shape predictor and the ResNet descriptor are files of that package). The 68-point
predictor in the same package is not used: its training data is not licensed for commercial
use. The ``face_recognition`` package is not used either: it builds dlib from source.

Face crops are never written anywhere: dlib aligns the face chip in memory from the landmarks.

Detection runs on a copy scaled to ``DETECT_SIDE`` with ``UPSAMPLE`` pyramid up-sampling; the
benchmark (``bench/organize_eval.py``) chose HOG with these values: every face in the group
photos of the evaluation set is found, at about a tenth of the CNN detector's cost. Descriptors
are computed on a copy scaled to at most ``DESCRIBE_SIDE`` so the aligned 150 px chip is sharp.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..progress import Progress
from .errors import VisionCancelled, VisionUnavailable

log = logging.getLogger(__name__)

DETECTOR = "hog"  # or "cnn" (dlib's MMOD CNN): slower on CPU, see the benchmark
DETECT_SIDE = 800  # longest side of the image the detector sees
UPSAMPLE = 1  # pyramid up-sampling: HOG finds faces down to ~40 px at this setting
DESCRIBE_SIDE = 1600  # longest side of the image descriptors are computed on
MIN_SCORE = 0.0  # HOG decision value threshold (dlib's default); CNN uses its confidence
NUM_JITTERS = 0  # 0 = one forward pass per face; 1+ averages jittered crops (slower)



@dataclass(frozen=True, slots=True)
class Face:
    """One detected face in original-image pixel coordinates.

    ``box`` is (left, top, right, bottom); ``landmarks5`` is float32 (5, 2) in dlib's order
    (right eye outer, right eye inner, left eye outer, left eye inner, nose base);
    ``descriptor`` is float32[128], comparable by Euclidean distance (same person ≲ 0.5);
    ``score`` is the detector's confidence; ``quality`` in [0, 1] combines it with the face's
    size (small or doubtful faces make poor cluster seeds and thumbnails).
    """

    box: tuple[int, int, int, int]
    landmarks5: np.ndarray
    descriptor: np.ndarray
    score: float
    quality: float

    @property
    def area(self) -> int:
        left, top, right, bottom = self.box
        return max(0, right - left) * max(0, bottom - top)


def model_file(name: str) -> str:
    """Path of a model file shipped in ``face-recognition-models``.

    The package's own ``__init__`` imports ``pkg_resources`` (gone from current setuptools),
    so it is located without being imported.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise VisionUnavailable("faces need the face-recognition-models package")
    for base in spec.submodule_search_locations:
        path = Path(base) / "models" / name
        if path.is_file():
            return str(path)
    raise VisionUnavailable(f"face-recognition-models lacks {name}")


class _Models:
    _lock = threading.Lock()
    _instances: dict[str, _Models] = {}

    def __init__(self, detector: str) -> None:
        try:
            import dlib
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise VisionUnavailable(f"faces need dlib-bin: {exc}") from exc
        self.dlib = dlib
        self.kind = detector
        if detector == "cnn":
            self.detector = dlib.cnn_face_detection_model_v1(model_file("mmod_human_face_detector.dat"))
        else:
            self.detector = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(model_file("shape_predictor_5_face_landmarks.dat"))
        self.encoder = dlib.face_recognition_model_v1(model_file("dlib_face_recognition_resnet_model_v1.dat"))
        # dlib objects are not documented as thread-safe: serialise calls into them.
        self.run_lock = threading.Lock()

    @classmethod
    def get(cls, detector: str = DETECTOR) -> _Models:
        with cls._lock:
            if detector not in cls._instances:
                log.info("loading dlib face models (%s detector)", detector)
                cls._instances[detector] = cls(detector)
            return cls._instances[detector]


def _scaled_array(image: Image.Image, side: int) -> tuple[np.ndarray, float]:
    """RGB uint8 array of ``image`` with its longest side at most ``side``; and the scale."""
    img = image if image.mode == "RGB" else image.convert("RGB")
    longest = max(img.size)
    if longest <= side:
        return np.asarray(img), 1.0
    scale = side / longest
    factor = int(1 / scale) // 2  # reduce() by an integer first: fast and alias-free
    if factor >= 2:
        img = img.reduce(factor)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return np.asarray(img.resize(size, Image.Resampling.BILINEAR)), scale


def detect_raw(models: _Models, array: np.ndarray, upsample: int) -> list[tuple[object, float]]:
    """The bare detector call: [(dlib.rectangle, score)] on a uint8 RGB array."""
    with models.run_lock:
        if models.kind == "cnn":
            dets = models.detector(array, upsample)
            return [(d.rect, float(d.confidence)) for d in dets]
        rects, scores, _ = models.detector.run(array, upsample, MIN_SCORE)
        return list(zip(rects, (float(s) for s in scores), strict=True))


def describe_raw(models: _Models, array: np.ndarray, rects: Sequence[object]) -> tuple[list[object], np.ndarray]:
    """The bare landmark + descriptor calls for ``rects`` on ``array``: (shapes, (n,128))."""
    dlib = models.dlib
    with models.run_lock:
        shapes = [models.shape(array, r) for r in rects]
        if not shapes:
            return [], np.zeros((0, 128), dtype=np.float32)
        full = dlib.full_object_detections()
        for s in shapes:
            full.append(s)
        desc = models.encoder.compute_face_descriptor(array, full, NUM_JITTERS)
    return shapes, np.asarray([np.asarray(d) for d in desc], dtype=np.float32)


def detect_faces(
    image: Image.Image,
    *,
    detector: str = DETECTOR,
    detect_side: int = DETECT_SIDE,
    upsample: int = UPSAMPLE,
) -> list[Face]:
    """Find faces in ``image`` (EXIF orientation already applied) and describe each."""
    models = _Models.get(detector)
    dlib = models.dlib
    small, s_det = _scaled_array(image, detect_side)
    found = detect_raw(models, small, upsample)
    if not found:
        return []
    big, s_desc = (small, s_det) if s_det == 1.0 else _scaled_array(image, DESCRIBE_SIDE)
    ratio = s_desc / s_det
    h, w = big.shape[:2]
    rects = []
    for rect, _score in found:
        rects.append(
            dlib.rectangle(
                int(max(0, rect.left() * ratio)),
                int(max(0, rect.top() * ratio)),
                int(min(w - 1, rect.right() * ratio)),
                int(min(h - 1, rect.bottom() * ratio)),
            )
        )
    shapes, descriptors = describe_raw(models, big, rects)
    faces: list[Face] = []
    for (_, score), rect, shape, desc in zip(found, rects, shapes, descriptors, strict=True):
        pts = np.array([(shape.part(i).x, shape.part(i).y) for i in range(5)], dtype=np.float32) / s_desc
        box = (
            round(rect.left() / s_desc),
            round(rect.top() / s_desc),
            round(rect.right() / s_desc),
            round(rect.bottom() / s_desc),
        )
        faces.append(Face(box, pts, desc, score, _quality(box, score, image.size, detector)))
    faces.sort(key=lambda f: -f.area)
    return faces


def _quality(box: tuple[int, int, int, int], score: float, size: tuple[int, int], detector: str) -> float:
    side = min(box[2] - box[0], box[3] - box[1])
    size_q = min(1.0, side / 100.0)  # the descriptor chip is 150 px; under ~50 px it degrades
    conf_q = min(1.0, max(0.0, (score + 0.5) / 1.5)) if detector == "hog" else min(1.0, max(0.0, score))
    return float(round(size_q * (0.5 + 0.5 * conf_q), 4))


def detect_faces_batch(
    images: Sequence[Image.Image],
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    detector: str = DETECTOR,
) -> list[list[Face]]:
    """``detect_faces`` over many photos, with progress and cancel between photos."""
    out: list[list[Face]] = []
    total = len(images)
    for i, image in enumerate(images):
        if cancel is not None and cancel.is_set():
            raise VisionCancelled(f"face detection cancelled after {i} of {total}")
        out.append(detect_faces(image, detector=detector))
        if progress is not None:
            progress(i + 1, total)
    return out


def face_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between descriptor(s) ``a`` (128,) or (n,128) and ``b`` (m,128)."""
    a2 = np.atleast_2d(a).astype(np.float32)
    b2 = np.atleast_2d(b).astype(np.float32)
    d = (a2 * a2).sum(1)[:, None] + (b2 * b2).sum(1)[None, :] - 2.0 * a2 @ b2.T
    return np.sqrt(np.maximum(d, 0.0))
