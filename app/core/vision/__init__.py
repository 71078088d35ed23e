"""Vision core: tags and categories, faces and people, sensitive-photo flag.

Qt-free and DB-free. Heavy modules (torch, onnxruntime, dlib) are imported only when a
function that needs them is called, so importing ``app.core.vision`` is cheap and works in an
install without the ML extras (the functions then raise ``VisionUnavailable``).

* ``tagger.tag_images`` / ``tagger.categories_for`` — fine labels, user categories
* ``faces.detect_faces`` / ``faces.detect_faces_batch`` — boxes, 5 landmarks, 128-d descriptors
* ``clustering`` — pure functions over (face_id, descriptor, person_id) for people
* ``sensitive.sensitive_scores`` / ``sensitive.is_sensitive`` — open_nsfw flag
* ``pipeline.analyze_photos`` — all of the above for a batch of decoded photos
"""

from .errors import VisionCancelled, VisionUnavailable

__all__ = ["VisionCancelled", "VisionUnavailable"]
