"""Leak recognition: recall and precision per transform, Sanctum vs plain PDQ and pHash.

60 real photos from ../shared/data/natural go into a fresh vault, each also shared once as a
protected copy. Every transform of the protected-copies issue plus a 5–30 % crop, ±15°
rotation, 20 % letterbox, a text/emoji overlay, a collage of four and a screenshot with a UI
frame is applied to the originals (unprotected: only fingerprints can find them) and to the
protected copies; ≥ 1,000 distractors (other photos and their transforms) are mixed in. Each
query is matched by Sanctum's cascade and, side by side, by plain whole-image PDQ (≤ 31) and
pHash (≤ 10) nearest-neighbour thresholds. Throughput of a real scan over HTTP on 127.0.0.1
is reported as a ratio to plain download + decode of the same images.

    python bench/leak_eval.py [--photos 60] [--distractors 1000] [--out bench/out/leak_eval.md]

`--vault-size N` (issue 23) fills the vault with distractor photos up to N (`bench/leak_scale.py`
says which and how) and reports the feature index's build time and the peak memory; `--matcher
pool` measures the local-feature stage as it was before the shortlist, `exact` the shortlist
without the inverted file.

`--widened` (issue 23) adds, in the same run, text-heavy vault photos (signs, pages, rendered chat,
post and document screenshots), look-alikes that are not copies, nine new transformation chains
and hard distractors (screenshots with the same UI and other text or photos, document pages, the
other camera of a stereo pair, other photos of the same people): see `bench/leak_widened.py`.
False matches are then reported per distractor kind. `--transforms`, `--kinds`, `--hard-distractors`
and `--no-throughput` cut a run short for quick loops; without `--widened` the run is the original.
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core import crypto, pdq, perceptual  # noqa: E402
from app.core.sharing import ShareOptions  # noqa: E402
from app.core.vault import Vault  # noqa: E402
from bench import leak_scale, leak_widened  # noqa: E402
from bench.report import publish  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# Sets whose files contain other files of the data set (screenshots of sign photos, a stereo
# pair, re-encodes of one photo): as distractors they would be true matches, so they are left out.
EXCLUDED = ("natural/easyocr/example", "natural/skimage/motorcycle_right", "neardup/", "tamper/")


def load_sets(n_vault: int, seed: int) -> tuple[list[Path], list[Path]]:
    natural = sorted(p for p in (DATA / "natural").rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")
                     and not any(str(p.relative_to(DATA)).startswith(x) for x in EXCLUDED))
    rng = random.Random(seed)
    rng.shuffle(natural)
    usable = [p for p in natural if min(Image.open(p).size) >= 200]
    vault_set = usable[:n_vault]
    others = usable[n_vault:] + sorted((DATA / "faces").rglob("*.jpg")) + sorted((DATA / "faces").rglob("*.png"))
    return vault_set, others


# --- transforms ----------------------------------------------------------------------------------

def jpeg(image: Image.Image, quality: int) -> Image.Image:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def crop_area(image: Image.Image, keep: float, rng: random.Random) -> Image.Image:
    side = keep ** 0.5
    w, h = round(image.width * side), round(image.height * side)
    x, y = rng.randint(0, image.width - w), rng.randint(0, image.height - h)
    return image.crop((x, y, x + w, y + h))


def pad(image: Image.Image, fraction: float, colour=(0, 0, 0)) -> Image.Image:
    w, h = image.size
    out = Image.new("RGB", (w, round(h * (1 + fraction))), colour)
    out.paste(image, (0, round(h * fraction / 2)))
    return out


def overlay(image: Image.Image, rng: random.Random) -> Image.Image:
    out = image.copy()
    draw = ImageDraw.Draw(out)
    w, h = out.size
    draw.rectangle((0, round(h * 0.82), w, h), fill=(0, 0, 0))
    draw.text((round(w * 0.05), round(h * 0.86)), "omg look at this lol", fill=(255, 255, 255))
    for _ in range(3):  # emoji-like stickers
        r = round(min(w, h) * 0.07)
        cx, cy = rng.randint(r, w - r), rng.randint(r, round(h * 0.7))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 204, 0))
        draw.ellipse((cx - r // 3, cy - r // 3, cx - r // 6, cy), fill=(0, 0, 0))
    return out


def collage(image: Image.Image, fillers: list[Image.Image], rng: random.Random) -> Image.Image:
    tiles = [image, *fillers[:3]]
    rng.shuffle(tiles)
    cell = 600
    out = Image.new("RGB", (2 * cell + 30, 2 * cell + 30), (245, 245, 245))
    for i, tile in enumerate(tiles):
        t = ImageOps.fit(tile.convert("RGB"), (cell, cell))
        out.paste(t, (10 + (i % 2) * (cell + 10), 10 + (i // 2) * (cell + 10)))
    return out


def screenshot_ui(image: Image.Image) -> Image.Image:
    screen = Image.new("RGB", (1080, 2340), (255, 255, 255))
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, 1080, 90), fill=(20, 20, 20))
    draw.text((40, 30), "12:41  ▂▄▆ 87%", fill=(255, 255, 255))
    draw.rectangle((0, 90, 1080, 260), fill=(248, 248, 248))
    draw.ellipse((40, 120, 150, 230), fill=(180, 120, 200))
    draw.text((180, 160), "someone_posted  ·  2h", fill=(0, 0, 0))
    shown = image.convert("RGB")
    shown.thumbnail((1080, 1400))
    screen.paste(shown, ((1080 - shown.width) // 2, 280))
    draw.text((40, 300 + shown.height), "♡ 1,204   💬 88", fill=(0, 0, 0))
    return screen.resize((540, 1170))


def screenshot_border(image: Image.Image) -> Image.Image:
    shown = image.resize((round(image.width * 0.8), round(image.height * 0.8)))
    out = Image.new("RGB", (shown.width + 120, shown.height + 200), (30, 30, 35))
    out.paste(shown, (60, 120))
    return out


def transforms(rng: random.Random, fillers: list[Image.Image]) -> dict:
    def sign() -> int:
        return rng.choice((-1, 1))

    return {
        "jpeg50": lambda im: jpeg(im, 50),
        "jpeg70": lambda im: jpeg(im, 70),
        "resize50": lambda im: im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS),
        "resize25 (≥2MP)": lambda im: (im.resize((im.width // 4, im.height // 4), Image.Resampling.LANCZOS)
                                       if im.width * im.height >= 2_000_000 else None),
        "crop50": lambda im: crop_area(im, 0.5, rng),
        "rotate5": lambda im: im.rotate(5 * sign(), resample=Image.Resampling.BICUBIC, expand=True),
        "flip": ImageOps.mirror,
        "brightness25": lambda im: ImageEnhance.Brightness(im).enhance(1 + 0.25 * sign()),
        "contrast25": lambda im: ImageEnhance.Contrast(im).enhance(1 + 0.25 * sign()),
        "saturation25": lambda im: ImageEnhance.Color(im).enhance(1 + 0.25 * sign()),
        "grayscale": lambda im: ImageOps.grayscale(im).convert("RGB"),
        "screenshot border": screenshot_border,
        "crop5-30": lambda im: crop_area(im, 1 - rng.uniform(0.05, 0.30), rng),
        "rotate15": lambda im: im.rotate(15 * sign(), resample=Image.Resampling.BICUBIC, expand=True),
        "letterbox20": lambda im: pad(im, 0.20),
        "overlay": lambda im: overlay(im, rng),
        "collage4": lambda im: collage(im, rng.sample(fillers, 3), rng),
        "screenshot UI": screenshot_ui,
        "chain crop>resize>jpeg70": lambda im: jpeg(crop_area(im, 0.5, rng).resize(
            (max(1, round(im.width * 0.5 ** 0.5 / 2)), max(1, round(im.height * 0.5 ** 0.5 / 2)))), 70),
    }


def encoded(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


# --- plain baselines -----------------------------------------------------------------------------

class PlainHash:
    def __init__(self, name: str, bits: int, threshold: int, compute):
        self.name, self.threshold, self.compute = name, threshold, compute
        self.index = perceptual.HammingIndex(bits)

    def add(self, photo_id: int, image: Image.Image) -> None:
        self.index.add(photo_id, self.compute(image))

    def predict(self, image: Image.Image) -> set[int]:
        hits = self.index.nearest(self.compute(image), 1)
        return {int(h.id) for h in hits if h.distance <= self.threshold}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--distractors", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "leak_eval.md")
    parser.add_argument("--widened", action="store_true", help="add the sets of issue 23 (unseen cases)")
    parser.add_argument("--hard-distractors", type=int, default=300,
                        help="with --widened: screenshots, pages and look-alikes mixed in")
    parser.add_argument("--transforms", default="",
                        help="comma-separated transform names to run (default: all); 'new' = the widened ones")
    parser.add_argument("--kinds", default="unprotected,protected", help="unprotected, protected or both")
    parser.add_argument("--no-throughput", action="store_true", help="skip the HTTP scan throughput")
    parser.add_argument("--throughput-every", type=int, default=25, help="every k-th query joins the 100 "
                        "images of the throughput run")
    parser.add_argument("--vault-size", type=int, default=0, help="fill the vault with distractor photos up to N")
    parser.add_argument("--matcher", choices=("shortlist", "exact", "pool"), default="shortlist",
                        help="exact: the shortlist without the inverted file; pool: before issue 23")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} not found")
        return 0
    rng = random.Random(args.seed)
    vault_paths, other_paths = load_sets(args.photos, args.seed)
    work = Path(tempfile.mkdtemp(prefix="sanctum-leak-eval-"))
    try:
        return run(args, rng, vault_paths, other_paths, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def widen(rng: random.Random, vault_paths: list[Path], other_paths: list[Path], work: Path):
    """Vault paths with the text-heavy photos, look-alikes and rendered screenshots added; the
    distractor paths without them; (photos to embed in distractor screenshots, look-alikes)."""
    face_vault, face_others = leak_widened.face_sets(DATA)
    extra = [DATA / name for name in (*leak_widened.TEXT_FILES, leak_widened.SAME_SCENE_VAULT)] + face_vault
    extra = [p for p in extra if p.exists() and p not in vault_paths]
    taken = set(extra) | set(face_others)
    other_paths = [p for p in other_paths if p not in taken]
    # Two non-vault photos become part of vault post screenshots: never distractors then.
    embedded = [ImageOps.exif_transpose(Image.open(p)).convert("RGB") for p in other_paths[-2:]]
    other_paths = other_paths[:-2]
    (work / "rendered").mkdir(parents=True)
    rendered = []
    for name, image in leak_widened.synthetic_vault(rng, embedded):
        image.save(work / "rendered" / name)
        rendered.append(work / "rendered" / name)
    look_alikes = [ImageOps.exif_transpose(Image.open(p)).convert("RGB")
                   for p in [DATA / leak_widened.SAME_SCENE_OTHER, *face_others] if p.exists()]
    return vault_paths + extra + rendered, other_paths, look_alikes


def run(args, rng, vault_paths, other_paths, work: Path) -> int:
    vault, _ = Vault.create(work / "vault", "benchmark passphrase", enable_totp=False,
                            kdf=crypto.KdfParams.new(1, 8192, 1))
    look_alikes: list[Image.Image] = []
    if args.widened:
        vault_paths, other_paths, look_alikes = widen(rng, vault_paths, other_paths, work)
    vault.import_paths(vault_paths)
    by_name = {p.filename: p.id for p in vault.list_photos()}
    names = {photo_id: name for name, photo_id in by_name.items()}
    originals: dict[int, Image.Image] = {}
    protected: dict[int, Image.Image] = {}
    plain = [
        PlainHash("PDQ ≤ 31", 256, 31, lambda im: pdq.pdq_hash(np.asarray(im.convert("RGB"))).bits),
        PlainHash("pHash ≤ 10", 64, 10, lambda im: perceptual.phash(np.asarray(im.convert("RGB")))),
    ]
    print(f"vault: {len(vault_paths)} photos; sharing each once ...", flush=True)
    # Originals and shared copies stay in memory (2 × 60 photos); queries are made on the fly.
    for path in vault_paths:
        photo_id = by_name[path.name]
        image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        originals[photo_id] = image
        for method in plain:
            method.add(photo_id, image)
        out = vault.share(photo_id, work / "shares" / f"{photo_id}.jpg", ShareOptions(recipient=f"r{photo_id}"))
        protected[photo_id] = Image.open(out.out).convert("RGB")
    fillers = [ImageOps.exif_transpose(Image.open(p)).convert("RGB") for p in other_paths[:40]]
    table = transforms(rng, fillers)
    scale_lines, vault_sources = [], {}
    if args.vault_size > len(vault_paths):
        vault, scale_lines, vault_sources = grow(args, vault, vault_paths, other_paths[:40], work)
    new_names: list[str] = []
    if args.widened:
        widened = leak_widened.transforms(rng, fillers)
        new_names = list(widened)
        table.update(widened)
    wanted = {n.strip() for n in args.transforms.split(",") if n.strip()}
    if "new" in wanted:
        wanted = (wanted - {"new"}) | set(new_names)
    if wanted:
        table = {name: fn for name, fn in table.items() if name in wanted}
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    hard = leak_widened.hard_distractors(rng, fillers, look_alikes) if args.widened else None
    matcher = vault.build_matcher()
    if args.matcher == "pool":
        matcher = leak_scale.PoolMatcher(matcher.references, matcher.shares, matcher.keys, matcher.share_sources,
                                         feature_index=matcher.feature_index)

    def distractors():
        made = 0
        while True:
            for path in other_paths:
                base = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
                name = "none" if made < len(other_paths) else rng.choice(list(table))
                # Distractors stay other photos with today's transforms; a widened transform that
                # renders a random screenshot around them is a hard distractor below instead.
                image = base if name == "none" or name in new_names else table[name](base)
                if image is not None:
                    made += 1
                    yield "distractor", name, None, image, path

    def queries():
        """(set, transform, expected photo id or None, image), made one at a time (thousands of
        decoded images at once would need gigabytes), distractors interleaved evenly so that a
        run stopped early still measures precision."""
        per_photo = -(-args.distractors // len(originals))
        per_photo_hard = -(-args.hard_distractors // len(originals))
        unrelated = distractors()
        made = made_hard = 0
        for photo_id in originals:
            for name, fn in table.items():
                for kind, source in (("unprotected", originals[photo_id]), ("protected", protected[photo_id])):
                    if kind not in kinds:
                        continue
                    result = fn(source)
                    if result is not None:
                        yield kind, name, photo_id, result, None
            for _ in range(min(per_photo, args.distractors - made)):
                made += 1
                yield next(unrelated)
            if hard is not None:
                for _ in range(min(per_photo_hard, args.hard_distractors - made_hard)):
                    made_hard += 1
                    hard_kind, image = next(hard)
                    yield "distractor", hard_kind, None, image, None

    hits = defaultdict(lambda: defaultdict(lambda: [0, 0]))  # method -> (set, transform) -> [found, n]
    text_heavy = {Path(name).name for name in leak_widened.TEXT_FILES} if args.widened else set()
    by_picture = defaultdict(lambda: [0, 0])  # (set, transform, text-heavy?) -> Sanctum's [found, n]
    false_positives = defaultdict(int)
    false_by_kind = defaultdict(lambda: defaultdict(lambda: [0, 0]))  # method -> distractor kind -> [false, n]
    false_seen: list[str] = []
    predictions = defaultdict(int)
    throughput_sample: list[bytes] = []
    n_queries = n_distractors = 0
    print("matching ...", flush=True)
    started = time.perf_counter()
    distractor_copies = 0
    for kind, name, expected, image, source in queries():
        data = encoded(image)
        n_queries += 1
        n_distractors += expected is None
        if n_queries % args.throughput_every == 0 and len(throughput_sample) < 100:
            throughput_sample.append(data)
        matches = matcher.match_bytes(data)
        # A distractor query whose crops are in the vault (--vault-size) is a copy of those.
        copies = {m.photo_id for m in matches if source is not None and vault_sources.get(m.photo_id) == source}
        distractor_copies += len(copies)
        matches = [m for m in matches if m.photo_id not in copies]
        sanctum = {m.photo_id for m in matches}
        decoded = Image.open(io.BytesIO(data)).convert("RGB")
        outcomes = {"Sanctum": sanctum, **{m.name: m.predict(decoded) for m in plain}}
        group = distractor_group(kind, name, new_names)
        for m in matches:
            if m.photo_id != expected:
                false_seen.append(f"{group or kind + ' / ' + name} → {names.get(m.photo_id, m.photo_id)} "
                                  f"({m.method}, {m.inliers} inliers, score {m.score})")
                print("  false match:", false_seen[-1], flush=True)
        for method, predicted in outcomes.items():
            predictions[method] += len(predicted)
            false_positives[method] += len(predicted - {expected})
            cell = false_by_kind[method][group or "copies of vault photos (extra ids)"]
            cell[0] += len(predicted - {expected})
            cell[1] += 1
            if expected is not None:
                cell = hits[method][(kind, name)]
                cell[0] += expected in predicted
                cell[1] += 1
        if expected is not None:
            filename = names.get(expected, "")
            cell = by_picture[(kind, name, filename in text_heavy or filename.startswith(("chat-", "post-", "page-")))]
            cell[0] += expected in sanctum
            cell[1] += 1
        if n_queries % 250 == 0:
            elapsed = time.perf_counter() - started
            print(f"  {n_queries} queries  {elapsed:.0f} s", flush=True)
            partial = render(args, hits, false_positives, predictions, n_queries, n_distractors,
                             elapsed / n_queries, None, table, kinds, new_names, false_by_kind, false_seen,
                             len(originals), by_picture)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text("(partial run)\n\n" + partial, encoding="utf-8")
    match_seconds = (time.perf_counter() - started) / n_queries

    throughput = None if args.no_throughput else scan_throughput(vault, throughput_sample)
    vault.lock()
    report = render(args, hits, false_positives, predictions, n_queries, n_distractors, match_seconds,
                    throughput, table, kinds, new_names, false_by_kind, false_seen, len(originals),
                    by_picture)
    if scale_lines:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        report += "\n".join(["", *scale_lines, f"Matches of distractor queries to vault crops of the same photo "
                             f"(copies, not counted as false): {distractor_copies}.",
                             f"Peak memory of the benchmark process (max RSS): {peak:.0f} MB.", ""])
    publish(report, args.out)
    return 0


def grow(args, vault: Vault, vault_paths: list[Path], fillers: list[Path], work: Path):
    """Fill the vault with distractors up to --vault-size; time the feature index's build from
    scratch (vocabulary trained, every cell assigned) and its reload from the DB at unlock."""
    from app.core.leaks import feature_store

    if args.matcher == "exact":
        feature_store.TRAIN_MIN_PHOTOS = 10**9
    sources = leak_scale.distractor_sources(DATA, set(vault_paths) | set(fillers))
    count = args.vault_size - vault.count()
    started = time.perf_counter()
    vault_sources = leak_scale.fill_vault(sources, count, args.seed)
    fill = time.perf_counter() - started
    started = time.perf_counter()
    photos = vault.rebuild_feature_index()
    build = time.perf_counter() - started
    vault.lock()
    vault = Vault.unlock(work / "vault", "benchmark passphrase")
    started = time.perf_counter()
    vault.build_matcher()
    reload = time.perf_counter() - started
    per_thousand = 1000 / photos
    lines = [f"Vault of {vault.count()} photos: the evaluation photos and {len(vault_sources)} distractors "
             f"from {len(set(vault_sources.values()))} real photos (features computed in {fill:.0f} s, 2 processes).",
             f"Feature index ({args.matcher}): built from scratch in {build:.1f} s ({build * per_thousand:.2f} s per "
             f"1,000 photos, vocabulary training included); loaded at unlock from the stored cells in "
             f"{reload:.1f} s ({reload * per_thousand:.2f} s per 1,000 photos, with the matcher's other parts)."]
    print("\n".join(lines), flush=True)
    return vault, lines, vault_sources


def scan_throughput(vault: Vault, images: list[bytes]) -> tuple[float, float, int]:
    """Images per second: a real `vault.scan` of URLs on a local host vs plain GET + decode."""
    from app.core.leaks.fetch import Fetcher, FetchPolicy
    from tests.leakhost import ImageHost

    host = ImageHost().start()
    try:
        urls = [host.upload(data)[0] for data in images]
        policy = FetchPolicy(min_host_interval=0.0)
        with Fetcher(policy) as fetcher:
            start = time.perf_counter()
            for url in urls:
                Image.open(io.BytesIO(fetcher.get(url).content)).load()
            plain = len(urls) / (time.perf_counter() - start)
        with Fetcher(policy) as fetcher:
            start = time.perf_counter()
            vault.scan(urls, fetcher=fetcher)
            scan = len(urls) / (time.perf_counter() - start)
    finally:
        host.stop()
    return scan, plain, len(urls)


def distractor_group(kind: str, name: str, new_names: list[str]) -> str | None:
    """The row of the false-match table a query counts in (None: a copy of a vault photo)."""
    if kind != "distractor":
        return None
    if name == "none" or name in new_names or name not in leak_widened.HARD_KINDS:
        return "other photos, plain or with an original transform"
    return name


def render(args, hits, false_positives, predictions, n_queries, n_distractors, match_seconds, throughput,
           table, kinds, new_names, false_by_kind, false_seen, n_vault, by_picture) -> str:
    methods = ["Sanctum", "PDQ ≤ 31", "pHash ≤ 10"]
    lines = [
        f"{n_vault} vault photos (each also shared once), {n_queries} queries of which {n_distractors} "
        f"distractors; seed {args.seed}{'; widened sets (issue 23)' if args.widened else ''}. "
        "Recall per transform (found / queries):",
        "",
        "| set | transform | " + " | ".join(methods) + " |",
        "|---|---|" + "---|" * len(methods),
    ]
    totals = {m: {"unprotected": [0, 0], "protected": [0, 0]} for m in methods}
    for kind in kinds:
        for name in table:
            cells = []
            for method in methods:
                found, n = hits[method].get((kind, name), [0, 0])
                totals[method][kind][0] += found
                totals[method][kind][1] += n
                cells.append(f"{100 * found / n:.1f} %" if n else "–")
            label = f"{name} (new)" if name in new_names else name
            lines.append(f"| {kind} | {label} | " + " | ".join(cells) + " |")
    lines += ["", "| method | recall, unprotected | recall, protected | false matches | precision |",
              "|---|---|---|---|---|"]
    for method in methods:
        u, p = totals[method]["unprotected"], totals[method]["protected"]
        fp = false_positives[method]
        precision = 1 - fp / predictions[method] if predictions[method] else 1.0
        recall = [f"{100 * found / n:.2f} %" if n else "–" for found, n in (u, p)]
        lines.append(f"| {method} | {recall[0]} | {recall[1]} | {fp} | {100 * precision:.3f} % |")
    if args.widened:
        lines += ["", "False matches per query kind (vault photos predicted that the query is not a copy of):",
                  "", "| queries | n | " + " | ".join(methods) + " |", "|---|---|" + "---|" * len(methods)]
        for group in sorted(false_by_kind["Sanctum"]):
            n = false_by_kind["Sanctum"][group][1]
            cells = [str(false_by_kind[m][group][0]) for m in methods]
            lines.append(f"| {group} | {n} | " + " | ".join(cells) + " |")
        lines += ["", "Sanctum's recall by kind of vault picture (text-heavy: signs, pages, book pages and the "
                  "rendered chat, post and page screenshots):", "",
                  "| set | transform | photos | text-heavy pictures |", "|---|---|---|---|"]
        for kind in kinds:
            for name in table:
                cells = []
                for texty in (False, True):
                    found, n = by_picture.get((kind, name, texty), [0, 0])
                    cells.append(f"{100 * found / n:.1f} % ({found}/{n})" if n else "–")
                lines.append(f"| {kind} | {name} | " + " | ".join(cells) + " |")
        if false_seen:
            lines += ["", "Sanctum's false matches:", ""] + [f"- {line}" for line in false_seen]
    lines += ["", f"Matching time: {match_seconds * 1000:.0f} ms per query (whole cascade)."]
    if throughput:
        scan, plain, n = throughput
        lines.append(f"Scan throughput over HTTP on 127.0.0.1 ({n} images): {scan:.2f} images/s vs plain "
                     f"download + decode {plain:.2f} images/s → ratio {scan / plain:.3f}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
