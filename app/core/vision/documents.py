"""A cheap detector for documents and screenshots (ImageNet knows neither).

Signals, all from a grey image scaled to at most ``_WORK_SIDE`` pixels:

* **text lines** — small, stroke-like connected components (darker or lighter than their
  surroundings) that have a neighbour of similar height on the same baseline, as letters do;
  ``text_fraction`` is the share of the image covered by the boxes of such aligned glyphs;
* **flat colour** — share of 8×8 blocks with almost no variation (paper, UI panels);
* **straight lines** — long exactly horizontal or vertical edges (UI frames, tables, rules);

Only chained glyphs and straight lines are scored (see ``_combine``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageFilter
from scipy import ndimage
from scipy.spatial import cKDTree

_WORK_SIDE = 1000
_MIN_SIDE = 640


@dataclass(frozen=True, slots=True)
class DocumentEvidence:
    """What the document detector measured; ``score`` in [0, 1] is its verdict."""

    score: float
    text_fraction: float  # share of the image covered by aligned glyph boxes
    glyphs: int  # number of aligned glyph-like components
    flat_fraction: float  # share of near-constant 8x8 blocks
    line_fraction: float  # share of rows/columns crossed by a long straight edge


def _grey(image: Image.Image) -> Image.Image:
    img = image
    side = max(img.size)
    if side > _WORK_SIDE and side // _WORK_SIDE >= 2:
        img = img.reduce(side // _WORK_SIDE)  # integer box filter first: cheap and alias-free
    img = img.convert("L")
    if side > _WORK_SIDE:
        scale = _WORK_SIDE / side
        img = img.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
    elif side < _MIN_SIDE:  # small screenshots: letters must be a few pixels tall to be seen
        scale = _MIN_SIDE / side
        img = img.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BICUBIC)
    return img


def _box_sums(integral: np.ndarray, y0, x0, y1, x1) -> np.ndarray:
    return integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]


def _integral(mask: np.ndarray) -> np.ndarray:
    out = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), dtype=np.int32)
    np.cumsum(np.cumsum(mask, axis=0, dtype=np.int32), axis=1, out=out[1:, 1:])
    return out


def _aligned_glyphs(contrast: np.ndarray, ground_sat: np.ndarray, polarity: int) -> tuple[int, float]:
    """Count glyph-like components in a row of similar ones on a plain background.

    Returns (count, share of the image covered by their boxes). Letters sit in chains of
    similar height on one baseline, over a plain ground; texture (fur, foliage, stone) makes
    blobs of the same size but neither the chains nor the plain ground.
    """
    h, w = contrast.shape
    ink = (contrast > 25.0) if polarity > 0 else (contrast < -25.0)  # darker / lighter than around
    labels, n = ndimage.label(ink)
    if n < 3 or n > 80000:
        return 0, 0.0
    slices = ndimage.find_objects(labels)
    counts = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    ys = np.array([s[0].start for s in slices])
    ye = np.array([s[0].stop for s in slices])
    xs = np.array([s[1].start for s in slices])
    xe = np.array([s[1].stop for s in slices])
    bh, bw = ye - ys, xe - xs
    fill = counts / np.maximum(bh * bw, 1)
    max_h = max(8, int(0.08 * min(h, w)))
    cand = (bh >= 5) & (bh <= max_h) & (bw >= 2) & (bw <= 4 * bh) & (counts >= 8) & (fill > 0.12) & (fill < 0.9)
    idx = np.nonzero(cand)[0]
    if len(idx) < 3:
        return 0, 0.0
    # plain ground: share of smooth pixels in the box grown by half its height
    pad = bh[idx] // 2 + 1
    y0, y1 = np.clip(ys[idx] - pad, 0, h), np.clip(ye[idx] + pad, 0, h)
    x0, x1 = np.clip(xs[idx] - pad, 0, w), np.clip(xe[idx] + pad, 0, w)
    ground = _box_sums(ground_sat, y0, x0, y1, x1) / np.maximum((y1 - y0) * (x1 - x0), 1)
    keep = ground > 0.25
    idx = idx[keep]
    if len(idx) < 3:
        return 0, 0.0
    yc = (ys[idx] + ye[idx]) / 2.0
    xc = (xs[idx] + xe[idx]) / 2.0
    hh = bh[idx].astype(np.float64)
    tree = cKDTree(np.column_stack([xc, yc * 4.0]))  # flatten vertically: neighbours lie on a line
    pairs = tree.query_pairs(r=2.5 * max_h, output_type="ndarray")
    if len(pairs) == 0:
        return 0, 0.0
    a, b = pairs[:, 0], pairs[:, 1]
    hmax, hmin = np.maximum(hh[a], hh[b]), np.minimum(hh[a], hh[b])
    same_line = (np.abs(yc[a] - yc[b]) < 0.25 * hmax) & (hmin / hmax > 0.6)
    near = np.abs(xc[a] - xc[b]) < 2.0 * hmax
    ok = same_line & near
    degree = np.bincount(np.concatenate([a[ok], b[ok]]), minlength=len(idx))
    good = degree >= 2  # inside a chain of at least three
    if good.sum() < 3:
        return 0, 0.0
    area = float((bh[idx][good] * bw[idx][good]).sum())
    return int(good.sum()), area / float(h * w)


def _line_fraction(grey: np.ndarray) -> float:
    """Share of rows+columns holding an exactly straight edge at least 30 % of the side long."""
    g = grey[::2, ::2]  # half resolution is plenty for lines this long
    h, w = g.shape
    dy = np.abs(np.diff(g, axis=0)) > 30  # horizontal edges between rows
    dx = np.abs(np.diff(g, axis=1)) > 30
    run_w, run_h = max(2, int(0.3 * w)), max(2, int(0.3 * h))
    rows = ndimage.minimum_filter1d(dy.view(np.uint8), run_w, axis=1).any(axis=1)
    cols = ndimage.minimum_filter1d(dx.view(np.uint8), run_h, axis=0).any(axis=0)
    return float(rows.sum() + cols.sum()) / float(h + w)


def document_evidence(image: Image.Image) -> DocumentEvidence:
    grey_img = _grey(image)
    grey = np.asarray(grey_img, dtype=np.int16)
    h, w = grey.shape
    # Pillow's box blurs are far cheaper than scipy's filters at this size.
    local = np.asarray(grey_img.filter(ImageFilter.BoxBlur(12)), dtype=np.int16)  # 25x25 mean
    contrast = local - grey  # > 0 where darker than around
    mean5 = grey_img.filter(ImageFilter.BoxBlur(2))
    deviation = ImageChops.difference(grey_img, mean5).filter(ImageFilter.BoxBlur(2))
    smooth = np.asarray(deviation) < 8  # mean absolute deviation in 5x5 under 4 grey levels
    ground_sat = _integral(smooth)
    best = max((_aligned_glyphs(contrast, ground_sat, p) for p in (1, -1)), key=lambda t: t[1])
    glyphs, text_fraction = best
    bh, bw = h // 8, w // 8
    blocks = grey[: bh * 8, : bw * 8].reshape(bh, 8, bw, 8).std(axis=(1, 3))
    flat = float((blocks < 2.5).mean()) if blocks.size else 0.0
    lines = _line_fraction(grey)
    score = _combine(text_fraction, glyphs, lines)
    return DocumentEvidence(score, text_fraction, glyphs, flat, lines)


def _combine(text_fraction: float, glyphs: int, lines: float) -> float:
    # Chains of glyphs are the main signal: benign photos reach ~20 chained glyphs covering
    # under 1 % of the frame (fur, foliage); pages and screenshots 45+ covering 3 %+. Long
    # straight edges (UI frames) make a modest amount of text convincing (small screenshots).
    # ``flat_fraction`` is reported but not scored: portraits on studio backdrops are as flat
    # as paper.
    s_glyphs = min(1.0, max(0.0, (glyphs - 15) / 35.0))
    s_text = min(1.0, max(0.0, (text_fraction - 0.01) / 0.02))
    s_lines = min(1.0, lines / 0.02)
    return float(min(1.0, s_glyphs * s_text + 0.3 * s_text * s_lines))
