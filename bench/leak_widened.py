"""The widened sets of `bench/leak_eval.py --widened` (issue 23, "unseen cases").

An independent evaluation found what the original sets never tried: heavier crops and chains,
collages of other sizes, photos inside social-media screenshots, text overlays, and false
matches of *text against text* (a social-media screenshot matched to a vault photo of street
signs through the UI's text). This module adds, on top of the original sets:

* vault photos that are mostly text: the street-sign photos (natural/easyocr), scanned pages
  (natural/documents), photos of book pages (ibm_max OCR), scikit-image's page and text, and
  rendered chat screenshots, social-media post screenshots and document pages;
* vault photos with a look-alike that is not a copy: the left motorcycle of the stereo pair,
  one photo of several people of `faces/`;
* transformation chains of vault photos: heavy crops (50–70 % cut), crop → resize → JPEG chains,
  2–5° rotation + JPEG 70, collages of 2–6, a vault photo inside a social-media or a chat
  screenshot, text overlays of three sizes;
* distractors: chat and social-media screenshots rendered with the same UI and other text and
  photos, document pages with other text, the other camera of the stereo pair, other photos of
  the same people.

Rendered screenshots use the same layout, fonts and UI chrome as the vault's own: that is what a
second screenshot of the same app looks like, and exactly what must not count as a copy.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

WORDS = (
    "the and you that was for are with his they this have from one had word but not what all were "
    "when your can said there use each which she how their will other about out many then them these "
    "some her would make like him into time has look two more write see number way could people than "
    "first water been call who its now find long down day did get come made may part over new sound "
    "take only little work know place year live back give most very after thing our just name good "
    "sentence man think say great where help through much before line right too mean old any same tell "
    "boy follow came want show also around form three small set put end does another well large must "
    "big even such because turn here why ask went men read need land different home move try kind hand "
    "picture again change off play spell air away animal house point page letter mother answer found "
    "study still learn should world high every near add food between own below country plant last school "
    "father keep tree never start city earth eye light thought head under story saw left few while along "
    "might close something seem next hard open example begin life always those both paper together got "
    "group often run important until children side feet car mile night walk white sea began grow took "
    "river four carry state once book hear stop without second later miss idea enough eat face watch far "
    "lol omg ok yes no haha tonight tomorrow sorry thanks love miss call text send photo sure wait"
).split()

NAMES = ("jess_m", "alex.r", "sam", "mia_k", "chris", "taylor", "jordan.b", "casey", "riley", "nat")

TEXT_FILES = (
    "natural/easyocr/chinese.jpg", "natural/easyocr/english.png", "natural/easyocr/french.jpg",
    "natural/easyocr/japanese.jpg", "natural/easyocr/korean.png", "natural/easyocr/thai.jpg",
    "natural/documents/DuTillet1004Pg2LG.jpg", "natural/documents/eurotext.png", "natural/documents/hebtypo.jpg",
    "natural/ibm_max/OCR__chap4_summary.jpg", "natural/ibm_max/OCR__quick_start_watson_studio.jpg",
    "natural/ibm_max/OCR__text_with_numbers.png", "natural/skimage/page.png", "natural/skimage/text.png",
)
SAME_SCENE_VAULT = "natural/skimage/motorcycle_left.png"
SAME_SCENE_OTHER = "natural/skimage/motorcycle_right.png"
FACE_IDENTITIES = ("barack_obama", "deepface_p01", "deepface_p02", "deepface_p03", "guido_van_rossum",
                   "steve_wozniak")
# Photos of those people that are copies (crops) of another photo of theirs, not other shots.
FACE_COPIES = ("obama_small.jpg",)  # a crop of obama.jpg, resized


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def wrap(draw: ImageDraw.ImageDraw, text: str, face, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=face) > width and line:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


def _status_bar(draw: ImageDraw.ImageDraw, width: int, rng: random.Random, dark: bool = False) -> None:
    colour = (255, 255, 255) if dark else (0, 0, 0)
    draw.text((48, 28), f"{rng.randint(0, 23)}:{rng.randint(0, 59):02d}", fill=colour, font=font(34))
    for i in range(4):  # signal bars
        draw.rectangle((width - 250 + i * 16, 60 - i * 9, width - 240 + i * 16, 66), fill=colour)
    draw.text((width - 170, 28), f"{rng.randint(5, 100)}%", fill=colour, font=font(34))
    draw.rounded_rectangle((width - 85, 34, width - 40, 62), radius=6, outline=colour, width=3)


def chat_screenshot(rng: random.Random, photo: Image.Image | None = None, scale: float = 0.5) -> Image.Image:
    """A messenger screenshot: status bar, contact header, bubbles of text, an input bar; with
    `photo`, one bubble holds that photo."""
    width, height = 1080, 2340
    screen = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(screen)
    _status_bar(draw, width, rng)
    draw.rectangle((0, 100, width, 250), fill=(246, 246, 246))
    draw.line((0, 250, width, 250), fill=(220, 220, 220), width=2)
    draw.text((40, 150), "<", fill=(0, 122, 255), font=font(54))
    draw.ellipse((110, 120, 210, 220), fill=(150, 170, 210))
    draw.text((240, 130), rng.choice(NAMES), fill=(0, 0, 0), font=font(42))
    draw.text((240, 185), "online", fill=(120, 120, 120), font=font(30))
    y = 290
    photo_at = rng.randint(1, 3) if photo is not None else -1
    bubble = 0
    while y < height - 360:
        mine = rng.random() < 0.5
        if bubble == photo_at:
            shown = photo.convert("RGB")
            shown.thumbnail((700, 800))
            if y + shown.height > height - 360:
                break
            x = width - 60 - shown.width if mine else 60
            draw.rounded_rectangle((x - 12, y - 12, x + shown.width + 12, y + shown.height + 12), radius=30,
                                   fill=(0, 132, 255) if mine else (233, 233, 235))
            screen.paste(shown, (x, y))
            y += shown.height + 50
        else:
            face = font(38)
            lines = wrap(draw, words(rng, rng.randint(2, 22)), face, 640)
            text_w = max(draw.textlength(line, font=face) for line in lines)
            box_h = 30 + 50 * len(lines)
            if y + box_h > height - 360:
                break
            x = width - 60 - text_w - 60 if mine else 60
            draw.rounded_rectangle((x, y, x + text_w + 60, y + box_h), radius=36,
                                   fill=(0, 132, 255) if mine else (233, 233, 235))
            for i, line in enumerate(lines):
                draw.text((x + 30, y + 15 + 50 * i), line, fill=(255, 255, 255) if mine else (0, 0, 0), font=face)
            y += box_h + 24
            if rng.random() < 0.3:
                draw.text((width // 2 - 60, y), f"{rng.randint(1, 12)}:{rng.randint(0, 59):02d} PM",
                          fill=(150, 150, 150), font=font(28))
                y += 50
        bubble += 1
    draw.rectangle((0, height - 200, width, height), fill=(246, 246, 246))
    draw.rounded_rectangle((120, height - 170, width - 160, height - 90), radius=40, outline=(200, 200, 200),
                           width=3, fill=(255, 255, 255))
    draw.text((160, height - 152), "Message", fill=(160, 160, 160), font=font(38))
    draw.text((40, height - 160), "+", fill=(0, 122, 255), font=font(60))
    draw.ellipse((width - 130, height - 170, width - 50, height - 90), fill=(0, 122, 255))
    return screen.resize((round(width * scale), round(height * scale)), Image.Resampling.LANCZOS)


def social_screenshot(rng: random.Random, photo: Image.Image, scale: float = 0.5,
                      caption_size: int = 36) -> Image.Image:
    """A social-media post screenshot: status bar, poster, the photo, action icons, likes,
    caption and comments, a bottom navigation bar."""
    width, height = 1080, 2340
    screen = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(screen)
    _status_bar(draw, width, rng)
    draw.text((40, 120), "Instaface", fill=(0, 0, 0), font=font(58))
    draw.line((0, 215, width, 215), fill=(225, 225, 225), width=2)
    draw.ellipse((30, 240, 130, 340), fill=(rng.randint(80, 220), 120, 200))
    draw.text((150, 255), rng.choice(NAMES), fill=(0, 0, 0), font=font(38))
    draw.text((150, 300), f"{rng.randint(1, 23)}h", fill=(120, 120, 120), font=font(30))
    draw.text((width - 90, 250), "...", fill=(0, 0, 0), font=font(46))
    shown = photo.convert("RGB")
    shown = ImageOps.contain(shown, (width, 1300))
    screen.paste(shown, ((width - shown.width) // 2, 370))
    y = 370 + shown.height + 30
    for i, x in enumerate((40, 140, 240)):  # heart, bubble, paper plane outlines
        if i == 0:
            draw.ellipse((x, y, x + 30, y + 30), outline=(0, 0, 0), width=5)
            draw.ellipse((x + 25, y, x + 55, y + 30), outline=(0, 0, 0), width=5)
            draw.polygon(((x + 2, y + 22), (x + 53, y + 22), (x + 28, y + 55)), outline=(0, 0, 0))
        elif i == 1:
            draw.ellipse((x, y, x + 56, y + 52), outline=(0, 0, 0), width=5)
        else:
            draw.polygon(((x, y + 20), (x + 56, y), (x + 30, y + 56)), outline=(0, 0, 0), width=5)
    draw.rectangle((width - 90, y, width - 45, y + 56), outline=(0, 0, 0), width=5)
    y += 90
    draw.text((40, y), f"Liked by {rng.choice(NAMES)} and {rng.randint(2, 9999):,} others", fill=(0, 0, 0),
              font=font(34))
    y += 60
    face = font(caption_size)
    for comment in range(rng.randint(2, 5)):
        if y > height - 260:
            break
        for line in wrap(draw, f"{rng.choice(NAMES)}  {words(rng, rng.randint(4, 26))}", face, width - 80)[:3]:
            if y > height - 260:
                break
            draw.text((40, y), line, fill=(0, 0, 0), font=face)
            y += round(caption_size * 1.35)
        if comment == 0:
            draw.text((40, y), f"View all {rng.randint(2, 300)} comments", fill=(140, 140, 140), font=font(32))
            y += 55
        y += 10
    draw.rectangle((0, height - 170, width, height), fill=(255, 255, 255))
    draw.line((0, height - 170, width, height - 170), fill=(225, 225, 225), width=2)
    for i in range(5):  # bottom navigation icons
        cx = 108 + i * 216
        draw.rounded_rectangle((cx - 32, height - 120, cx + 32, height - 60), radius=10, outline=(0, 0, 0), width=5)
    return screen.resize((round(width * scale), round(height * scale)), Image.Resampling.LANCZOS)


def document_page(rng: random.Random) -> Image.Image:
    """A printed page: title, paragraphs of wrapped text, a page number."""
    width, height = 1240, 1754
    page = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(page)
    draw.text((120, 120), words(rng, rng.randint(2, 6)).title(), fill=(0, 0, 0), font=font(56))
    y = 240
    face = font(rng.choice((28, 32, 36)))
    step = round(face.size * 1.45)
    while y < height - 220:
        for line in wrap(draw, words(rng, rng.randint(30, 90)), face, width - 240):
            if y >= height - 220:
                break
            draw.text((120, y), line, fill=(20, 20, 20), font=face)
            y += step
        y += step
    draw.text((width // 2 - 10, height - 120), str(rng.randint(1, 300)), fill=(0, 0, 0), font=font(30))
    return page


# --- transformation chains of vault photos -----------------------------------------------------

def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def _crop(image: Image.Image, keep: float, rng: random.Random) -> Image.Image:
    aspect = rng.uniform(0.75, 1.33)  # not always the photo's own shape
    w = min(image.width, round(image.width * (keep * aspect) ** 0.5))
    h = min(image.height, round(image.width * image.height * keep / max(w, 1)))
    x, y = rng.randint(0, image.width - w), rng.randint(0, image.height - h)
    return image.crop((x, y, x + w, y + h))


def heavy_crop(image: Image.Image, rng: random.Random) -> Image.Image:
    return _crop(image, 1 - rng.uniform(0.5, 0.7), rng)


def crop_resize_jpeg(image: Image.Image, rng: random.Random) -> Image.Image:
    cropped = _crop(image, rng.uniform(0.4, 0.8), rng)
    factor = rng.uniform(0.35, 0.7)
    resized = cropped.resize((max(1, round(cropped.width * factor)), max(1, round(cropped.height * factor))),
                             Image.Resampling.BILINEAR)
    once = _jpeg(resized, rng.randint(60, 85))
    return _jpeg(once, rng.randint(55, 75)) if rng.random() < 0.5 else once


def small_rotation_jpeg(image: Image.Image, rng: random.Random) -> Image.Image:
    angle = rng.uniform(2, 5) * rng.choice((-1, 1))
    return _jpeg(image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=rng.random() < 0.5), 70)


def collage_n(image: Image.Image, fillers: list[Image.Image], rng: random.Random) -> Image.Image:
    n = rng.randint(2, 6)
    tiles = [image, *rng.sample(fillers, n - 1)]
    rng.shuffle(tiles)
    columns = 2 if n <= 4 else 3
    rows = -(-n // columns)
    cell = rng.choice((360, 480, 600))
    gap = 8
    out = Image.new("RGB", (columns * (cell + gap) + gap, rows * (cell + gap) + gap), (255, 255, 255))
    for i, tile in enumerate(tiles):
        fitted = ImageOps.fit(tile.convert("RGB"), (cell, cell))
        out.paste(fitted, (gap + (i % columns) * (cell + gap), gap + (i // columns) * (cell + gap)))
    return out


def text_overlay(image: Image.Image, rng: random.Random, relative: float) -> Image.Image:
    """Meme-style caption: white text with a black outline, `relative` of the height per line."""
    out = image.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    size = max(10, round(out.height * relative))
    face = font(size)
    for top in (True, False):
        lines = wrap(draw, words(rng, rng.randint(3, 8)).upper(), face, round(out.width * 0.92))[:2]
        y = round(out.height * 0.03) if top else round(out.height * 0.97) - len(lines) * round(size * 1.15)
        for line in lines:
            x = (out.width - draw.textlength(line, font=face)) / 2
            draw.text((x, y), line, fill=(255, 255, 255), font=face, stroke_width=max(1, size // 12),
                      stroke_fill=(0, 0, 0))
            y += round(size * 1.15)
    return out


def transforms(rng: random.Random, fillers: list[Image.Image]) -> dict:
    return {
        "heavy crop 50-70 %": lambda im: heavy_crop(im, rng),
        "chain crop>resize>jpeg (2×)": lambda im: crop_resize_jpeg(im, rng),
        "rotate 2-5° + jpeg70": lambda im: small_rotation_jpeg(im, rng),
        "collage 2-6": lambda im: collage_n(im, fillers, rng),
        "in social screenshot": lambda im: _jpeg(social_screenshot(rng, im, scale=rng.choice((0.5, 0.75))), 80),
        "in chat screenshot": lambda im: _jpeg(chat_screenshot(rng, im, scale=rng.choice((0.5, 0.75))), 80),
        "text overlay small": lambda im: text_overlay(im, rng, 0.04),
        "text overlay medium": lambda im: text_overlay(im, rng, 0.08),
        "text overlay large": lambda im: text_overlay(im, rng, 0.14),
    }


# --- the sets ---------------------------------------------------------------------------------

def face_sets(data: Path) -> tuple[list[Path], list[Path]]:
    """(one photo of each listed person, that goes into the vault; their other photos)."""
    vault, others = [], []
    for identity in FACE_IDENTITIES:
        files = sorted((data / "faces" / identity).glob("*.jpg"))
        if files:
            vault.append(files[0])
            others.extend(f for f in files[1:] if f.name not in FACE_COPIES)
    return vault, others


def synthetic_vault(rng: random.Random, embedded: list[Image.Image]) -> list[tuple[str, Image.Image]]:
    """Text-heavy pictures the user keeps: chat screenshots, post screenshots, document pages."""
    made = [(f"chat-{i}.png", chat_screenshot(rng, scale=rng.choice((0.5, 1.0)))) for i in range(4)]
    made += [(f"post-{i}.png", social_screenshot(rng, photo, scale=0.5)) for i, photo in enumerate(embedded)]
    made += [(f"page-{i}.png", document_page(rng)) for i in range(2)]
    return made


HARD_KINDS = ("chat screenshot, other text", "chat screenshot, other photo", "social screenshot, other photo",
              "document page, other text", "same scene/person, not a copy")


def hard_distractors(rng: random.Random, photos: list[Image.Image], same_scene: list[Image.Image]):
    """Endless (kind, image) of distractors that share UI, text or scene with vault photos."""
    while True:
        yield "chat screenshot, other text", _jpeg(chat_screenshot(rng, scale=rng.choice((0.5, 0.75))), 80)
        yield "chat screenshot, other photo", _jpeg(chat_screenshot(rng, rng.choice(photos), scale=0.5), 80)
        yield "social screenshot, other photo", _jpeg(
            social_screenshot(rng, rng.choice(photos), scale=rng.choice((0.5, 0.75))), 80)
        yield "document page, other text", _jpeg(document_page(rng), rng.choice((70, 90)))
        if same_scene:
            picked = rng.choice(same_scene)
            yield "same scene/person, not a copy", picked if rng.random() < 0.5 else _jpeg(picked, 75)
