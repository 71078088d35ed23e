"""Train the learned predictor of the image immunizer's lossless coupling layers.

    nice -n 10 /tmp/venv/bin/python models/train_immunizer_predictor.py            # train + eval
    nice -n 10 /tmp/venv/bin/python models/train_immunizer_predictor.py --eval-only

Reproducible CPU training (fixed seeds, one thread). Data: the TRAINING split of
../shared/data/natural only (ibm_max without the OCR__ text images, cameratrap, the colour
photos of skimage), random 8×8 blocks at full size and downscaled ×0.5. The evaluation split
(kodak, usc_sipi colour, darknet) is read only by `evaluate`, after the weights are written.

Model (see app/core/immunizer/learned.py): per channel one head, shared by both parities,
features = pixels of the mirrored 5×5 window as ``4·x − sum4`` (this channel: the 12
other-parity pixels; earlier channels: all 25; later channels: the 4 rhombus neighbours),
Linear(d, 32) → ReLU → Linear(32, 1) plus a linear skip Linear(d, 1); output = correction
added to the rhombus mean; L1 loss; a quarter of the blocks get sensor-like noise. The float
weights are then quantized to fixed-point integers and checked through the real integer
predictor (learned.py), which is also what `evaluate` measures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")      # one core, also for numpy's BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.immunizer.learned import (  # noqa: E402
    LearnedPredictor,
    parity_values,
    training_samples,
)
from app.core.immunizer.predictors import ClassicalPredictor  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
# Written straight into the package: the shipped weights are the one copy (package data).
OUT = Path(__file__).resolve().parents[1] / "app" / "core" / "immunizer" / "immunizer_predictor.npz"

SEED = 20240917
HIDDEN = 32
INPUT_SCALE = 64.0          # float model sees features / 64 (features are 4 × pixel differences)
BLOCKS_FULL = 2400          # random blocks per training image at full size
BLOCKS_HALF = 1200          # ... and at half size
VALID_FRACTION = 0.05       # held-out training blocks (for the quantization check), never eval data
# Sensor-noise augmentation: JPEG photos (most of the training data) have chroma subsampled
# and denoised, so their channels move together far more than in raw scans (usc_sipi); a share
# of blocks gets independent per-pixel, per-channel Gaussian noise so that the heads learn not
# to over-trust the inter-channel correlation.
NOISE_FRACTION = 0.25
NOISE_SIGMA = (0.5, 4.0)
EPOCHS = 6
BATCH = 4096
LR = 3e-3

# Quantization: the largest weight of each layer becomes ≈ 2**14 (learned.py checks at load
# time that no partial sum can reach 2**50 for any pixel values).
W_BITS = 14

SKIMAGE_SKIP = {"page.png", "text.png", "coins.png", "camera.png", "clock_motion.png"}


def training_files() -> list[Path]:
    natural = SHARED / "natural"
    files = [p for p in sorted((natural / "ibm_max").iterdir()) if not p.name.startswith("OCR__")]
    files += sorted((natural / "cameratrap").iterdir())
    files += [p for p in sorted((natural / "skimage").iterdir()) if p.name not in SKIMAGE_SKIP]
    return files


def evaluation_files() -> dict[str, list[Path]]:
    natural = SHARED / "natural"
    usc = [p for p in sorted((natural / "usc_sipi").iterdir()) if Image.open(p).mode == "RGB"]
    return {"kodak": sorted((natural / "kodak").iterdir()), "usc_sipi": usc,
            "darknet": sorted((natural / "darknet").iterdir())}


def load_rgb(path: Path) -> np.ndarray | None:
    """RGB int32 pixels, or None for an image that is really grayscale."""
    with Image.open(path) as im:
        if im.mode not in ("RGB", "RGBA", "P", "CMYK", "YCbCr"):
            return None
        rgb = np.asarray(im.convert("RGB"), dtype=np.int32)
    if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
        return None
    return rgb


def half(rgb: np.ndarray) -> np.ndarray:
    im = Image.fromarray(rgb.astype(np.uint8)).reduce(2)     # 2×2 box average, deterministic
    return np.asarray(im, dtype=np.int32)


def random_blocks(rgb: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    h, w = rgb.shape[:2]
    ys = rng.integers(0, h - 7, count)
    xs = rng.integers(0, w - 7, count)
    idx = np.arange(8)
    return rgb[ys[:, None, None] + idx[None, :, None], xs[:, None, None] + idx[None, None, :]]


def augment_noise(blocks: np.ndarray, rng: np.random.Generator, fraction: float = NOISE_FRACTION) -> np.ndarray:
    pick = rng.random(len(blocks)) < fraction
    sigma = rng.uniform(*NOISE_SIGMA, len(blocks))[:, None, None, None]
    noisy = np.clip(blocks + np.rint(rng.normal(0.0, 1.0, blocks.shape) * sigma), 0, 255)
    return np.where(pick[:, None, None, None], noisy, blocks).astype(np.int32)


def tile_blocks(rgb: np.ndarray) -> np.ndarray:
    """All aligned 8×8 blocks of an image (as the immunizer tiles it), (N, 8, 8, 3)."""
    h, w = (rgb.shape[0] // 8) * 8, (rgb.shape[1] // 8) * 8
    t = rgb[:h, :w].reshape(h // 8, 8, w // 8, 8, 3).transpose(0, 2, 1, 3, 4)
    return np.ascontiguousarray(t.reshape(-1, 8, 8, 3), dtype=np.int32)


def add_context_noise(blocks: np.ndarray, parity: int, channel: int, amplitude: int,
                      rng: np.random.Generator) -> np.ndarray:
    """Blocks with uniform ±amplitude noise on every pixel the step may read (targets keep
    their original value): a rough stand-in for the embedding changes of earlier steps."""
    if amplitude <= 0:
        return blocks
    noisy = np.clip(blocks + rng.integers(-amplitude, amplitude + 1, blocks.shape), 0, 255)
    mask = (np.add.outer(np.arange(8), np.arange(8)) % 2) == parity
    noisy[:, mask, channel:] = blocks[:, mask, channel:]
    return noisy.astype(np.int32)


class Head(torch.nn.Module):
    def __init__(self, d: int, hidden: int):
        super().__init__()
        self.fc1 = torch.nn.Linear(d, hidden)
        self.fc2 = torch.nn.Linear(hidden, 1)
        self.skip = torch.nn.Linear(d, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.fc2(torch.relu(self.fc1(x))) + self.skip(x)).squeeze(-1)


def samples(blocks: np.ndarray, channel: int, noise: int, rng: np.random.Generator):
    feats, sum4, target = [], [], []
    for parity in (0, 1):
        f, s, t = training_samples(add_context_noise(blocks, parity, channel, noise, rng), parity, channel)
        t = parity_values(blocks[..., channel], parity)    # targets are always the originals
        feats.append(f), sum4.append(s), target.append(t)
    return np.concatenate(feats), np.concatenate(sum4), np.concatenate(target)


def train_head(channel: int, blocks: np.ndarray, noise: int, seed: int) -> Head:
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    feats, sum4, target = samples(blocks, channel, noise, rng)
    x = torch.from_numpy(feats.astype(np.float32) / INPUT_SCALE)
    y = torch.from_numpy((target - sum4 / 4.0).astype(np.float32))   # correction to learn
    d = feats.shape[1]
    head = Head(d, HIDDEN)
    # Start the skip path at the least-squares linear predictor (fast, stable start).
    sub = torch.from_numpy(rng.choice(len(x), min(len(x), 400_000), replace=False))
    sol = torch.linalg.lstsq(x[sub].double(), y[sub].double().unsqueeze(1)).solution
    with torch.no_grad():
        head.skip.weight.copy_(sol.T.float())
        head.fc2.weight.mul_(0.1)
    opt = torch.optim.Adam(head.parameters(), lr=LR)
    steps = EPOCHS * math.ceil(len(x) / BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(EPOCHS):
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(0, len(x), BATCH):
            idx = order[i:i + BATCH]
            loss = torch.nn.functional.l1_loss(head(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        print(f"  channel {channel} epoch {epoch + 1}/{EPOCHS}: train L1 {total / len(x):.4f}", flush=True)
    return head


def float_predictions(head: Head, feats: np.ndarray, sum4: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        corr = head(torch.from_numpy(feats.astype(np.float32) / INPUT_SCALE)).double().numpy()
    return np.clip(np.floor(sum4 / 4.0 + corr + 0.5), 0, 255).astype(np.int64)


def quantize(heads: list[Head]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for c, head in enumerate(heads):
        a1 = head.fc1.weight.detach().double().numpy() / INPUT_SCALE     # (H, d), per integer feature
        c1 = head.fc1.bias.detach().double().numpy()
        a2 = head.fc2.weight.detach().double().numpy()[0]
        c2 = float(head.fc2.bias.detach().double().numpy()[0])
        s = head.skip.weight.detach().double().numpy()[0] / INPUT_SCALE
        q1 = int(math.floor(math.log2(2 ** W_BITS / np.abs(a1).max())))
        q2 = int(math.floor(math.log2(2 ** W_BITS / np.abs(a2).max())))
        q = q1 + q2
        out[f"c{c}_w1"] = np.round(a1.T * 2.0 ** q1).astype(np.int32)
        out[f"c{c}_b1"] = np.round(c1 * 2.0 ** q1).astype(np.int64)
        out[f"c{c}_w2"] = np.round(a2 * 2.0 ** q2).astype(np.int32)
        out[f"c{c}_skip"] = np.round(s * 2.0 ** q).astype(np.int64)
        out[f"c{c}_b2"] = np.array(round(c2 * 2.0 ** q), dtype=np.int64)
        out[f"c{c}_q"] = np.array(q, dtype=np.int32)
    return out


def stats(err: np.ndarray) -> tuple[float, float]:
    a = np.abs(err)
    return float(a.mean()), float((a <= 1).mean())


def evaluate(model_path: Path, noise: int = 0) -> dict:
    """Learned vs classical on the evaluation split, every aligned block, original pixels as
    context (or ±noise on the readable context when noise > 0)."""
    predictors = {"classical": ClassicalPredictor(), "learned": LearnedPredictor(model_path)}
    rng = np.random.default_rng(SEED + 99)
    acc = {name: {(p, c): [] for p in (0, 1) for c in range(3)} for name in predictors}
    per_set = {name: {} for name in predictors}
    images = 0
    blocks_total = 0
    for set_name, files in evaluation_files().items():
        set_err = {name: [] for name in predictors}
        for path in files:
            rgb = load_rgb(path)
            if rgb is None:
                continue
            images += 1
            blocks = tile_blocks(rgb)
            blocks_total += len(blocks)
            for parity in (0, 1):
                for channel in range(3):
                    ctx = add_context_noise(blocks, parity, channel, noise, rng)
                    target = parity_values(blocks[..., channel], parity)
                    for name, pred in predictors.items():
                        p, _ = pred.predict(ctx, parity, channel)
                        e = parity_values(p, parity) - target
                        acc[name][parity, channel].append(e)
                        set_err[name].append(e)
        for name in predictors:
            per_set[name][set_name] = stats(np.concatenate(set_err[name]))
    result = {"images": images, "blocks": blocks_total, "noise": noise, "per_step": {}, "overall": {},
              "per_set": per_set}
    for name in predictors:
        allerr = []
        for key, errs in acc[name].items():
            e = np.concatenate(errs)
            allerr.append(e)
            result["per_step"].setdefault(f"p{key[0]}c{key[1]}", {})[name] = stats(e)
        result["overall"][name] = stats(np.concatenate(allerr))
    return result


def simulate_chain(threshold: int, bits_seed: int = SEED + 7) -> dict:
    """A rough stand-in for the real lossless encoder, on the evaluation split: the six steps
    (parity 0 then 1; R, G, B) run in order with plain prediction-error expansion (|e| <
    threshold: x' = pred + 2e + bit; otherwise x' = x ± threshold; no complexity skipping,
    no overflow handling), so every step sees the context the earlier steps left, as the
    decoder will. Returns, per predictor, mean |e| and the share of expandable pixels."""
    predictors = {"classical": ClassicalPredictor(), "learned": LearnedPredictor(OUT)}
    out = {}
    for name, pred in predictors.items():
        rng = np.random.default_rng(bits_seed)
        errs = []
        for files in evaluation_files().values():
            for path in files:
                rgb = load_rgb(path)
                if rgb is None:
                    continue
                state = tile_blocks(rgb)
                for parity in (0, 1):
                    mask = (np.add.outer(np.arange(8), np.arange(8)) % 2) == parity
                    for channel in range(3):
                        p, _ = pred.predict(state, parity, channel)
                        x = state[..., channel]
                        e = x - p
                        errs.append(e[:, mask].reshape(-1))
                        bit = rng.integers(0, 2, x.shape)
                        expanded = np.where(np.abs(e) < threshold, p + 2 * e + bit,
                                            np.where(e >= threshold, x + threshold, x - threshold))
                        state[..., channel] = np.where(mask, expanded, x)
        e = np.abs(np.concatenate(errs))
        out[name] = (float(e.mean()), float((e < threshold).mean()))
    return out


def print_eval(res: dict) -> None:
    print(f"\nEvaluation split: {res['images']} images, {res['blocks']} blocks, context noise ±{res['noise']}")
    print("| step | classical mean abs err | learned mean abs err | classical abs err ≤ 1 | learned abs err ≤ 1 |")
    print("|---|---|---|---|---|")
    for key, v in res["per_step"].items():
        print(f"| parity {key[1]}, channel {'RGB'[int(key[3])]} | {v['classical'][0]:.3f} | {v['learned'][0]:.3f} "
              f"| {v['classical'][1]:.3f} | {v['learned'][1]:.3f} |")
    o = res["overall"]
    print(f"| **all** | {o['classical'][0]:.3f} | {o['learned'][0]:.3f} | {o['classical'][1]:.3f} | {o['learned'][1]:.3f} |")
    for s in res["per_set"]["classical"]:
        cl, le = res["per_set"]["classical"][s], res["per_set"]["learned"][s]
        print(f"  {s}: classical {cl[0]:.3f} ({cl[1]:.3f} ≤1)  learned {le[0]:.3f} ({le[1]:.3f} ≤1)")


def time_predict() -> None:
    rgb = load_rgb(SHARED / "natural" / "kodak" / "kodim01.png")
    blocks = tile_blocks(rgb)
    for pred in (ClassicalPredictor(), LearnedPredictor(OUT)):
        pred.predict(blocks[:8], 0, 2)
        times = []
        for channel in range(3):
            t = time.perf_counter()
            pred.predict(blocks, 1, channel)
            times.append(time.perf_counter() - t)
        print(f"predict() on {len(blocks)} blocks, {pred.name}: "
              + ", ".join(f"channel {c}: {t * 1000:.0f} ms" for c, t in enumerate(times)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval-only", action="store_true", help="skip training, evaluate the saved weights")
    ap.add_argument("--context-noise", type=int, default=0,
                    help="train with uniform ±N noise on the readable context (default 0: original pixels)")
    args = ap.parse_args()
    torch.set_num_threads(1)

    if not args.eval_only:
        t0 = time.perf_counter()
        rng = np.random.default_rng(SEED)
        files = training_files()
        train, valid, used = [], [], 0
        for path in files:
            rgb = load_rgb(path)
            if rgb is None:
                print(f"  skipped (grayscale): {path.relative_to(SHARED)}")
                continue
            used += 1
            for img, count in ((rgb, BLOCKS_FULL), (half(rgb), BLOCKS_HALF)):
                b = augment_noise(random_blocks(img, count, rng), rng)
                nv = int(round(count * VALID_FRACTION))
                valid.append(b[:nv])
                train.append(b[nv:])
        train_blocks = np.concatenate(train).astype(np.int32)
        valid_blocks = np.concatenate(valid).astype(np.int32)
        print(f"training images: {used}; blocks: {len(train_blocks)} train + {len(valid_blocks)} held out "
              f"({32 * len(train_blocks)} pixel samples per parity and channel)", flush=True)

        heads = []
        for channel in range(3):
            heads.append(train_head(channel, train_blocks, args.context_noise, SEED + channel))
        train_seconds = time.perf_counter() - t0
        weights = quantize(heads)
        np.savez_compressed(OUT, **weights)
        print(f"training took {train_seconds:.0f} s; wrote {OUT.name} ({OUT.stat().st_size} bytes)")

        # Quantized integer predictor vs the float model, on held-out training blocks.
        learned = LearnedPredictor(OUT)
        print("held-out training blocks: mean |error| float model vs quantized integer predictor")
        for channel in range(3):
            for parity in (0, 1):
                feats, sum4, target = training_samples(valid_blocks, parity, channel)
                fl = float_predictions(heads[channel], feats, sum4)
                p, _ = learned.predict(valid_blocks, parity, channel)
                qi = parity_values(p, parity)
                cl = parity_values(ClassicalPredictor().predict(valid_blocks, parity, channel)[0], parity)
                print(f"  parity {parity} channel {channel}: float {stats(fl - target)[0]:.4f}  "
                      f"quantized {stats(qi - target)[0]:.4f}  (classical {stats(cl - target)[0]:.4f}; "
                      f"quantized ≠ float on {np.mean(fl != qi):.4%} of pixels)")

    res = evaluate(OUT)
    print_eval(res)
    res2 = evaluate(OUT, noise=2)
    print_eval(res2)
    chains = {t: simulate_chain(t) for t in (2, 4)}
    for t, r in chains.items():
        print(f"simulated PEE chain, threshold {t}: " + "  ".join(
            f"{name}: mean |e| {v[0]:.3f}, expandable {v[1]:.3f}" for name, v in r.items()))
    time_predict()
    print(json.dumps({"clean": res["overall"], "noise2": res2["overall"], "chain": chains}))


if __name__ == "__main__":
    main()
