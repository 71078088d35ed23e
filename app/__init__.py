"""Sanctum: an encrypted vault for private photos, with protected sharing and leak scanning."""

__version__ = "0.1.0"

import os as _os

# numpy's OpenBLAS would start a thread per core for the small matrix products of PDQ and the
# watermark; on a busy 2-core laptop that made one hash 25x slower. Set before numpy loads.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
