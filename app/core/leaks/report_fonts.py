"""Fonts for the evidence report: every name must come out as written, in any script.

1. DejaVu Sans (and Bold, Sans Mono), shipped inside matplotlib (installed with the watermark's
   LDPC decoder) or, in the one-folder build, beside this module: Latin, Greek, Cyrillic,
   Armenian, Georgian, Hebrew, Arabic and more.
2. For characters DejaVu lacks (Chinese, Japanese, Korean, Indic, Thai...), the fonts of the
   computer itself: whoever can type a name in a script has a font for it. Only looked for when
   the report holds such characters; the fewest fonts covering them are embedded (as subsets).
3. Last, matplotlib's Last Resort font: a placeholder glyph for any code point left, naming its
   script, so a character never vanishes. The PDF's text keeps the exact characters either way
   (searchable, copyable).

Nothing is downloaded.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import EvidenceError

log = logging.getLogger(__name__)

FONT_FILES = {("DejaVu", ""): "DejaVuSans.ttf", ("DejaVu", "B"): "DejaVuSans-Bold.ttf",
              ("DejaVuMono", ""): "DejaVuSansMono.ttf"}
LAST_RESORT = "LastResortHE-Regular.ttf"
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
MAX_SYSTEM_FONTS = 4000  # font files looked at, at most: a folder of fonts is not a reason to hang


@dataclass(frozen=True)
class FallbackFont:
    path: Path
    number: int  # the font's index in a collection (.ttc); 0 otherwise


def font_folders() -> list[Path]:
    """Where the bundled files are: beside this module in the one-folder build (its spec copies
    them there), else in the installed matplotlib package (found, not imported)."""
    folders = [Path(__file__).parent / "fonts"]
    spec = importlib.util.find_spec("matplotlib")
    for location in (spec.submodule_search_locations or []) if spec else []:
        folders.append(Path(location) / "mpl-data" / "fonts" / "ttf")
    return folders


@cache
def bundled_fonts() -> dict[tuple[str, str], Path]:
    """The DejaVu files by (family, style), and the Last Resort font as ("LastResort", "")."""
    wanted = {**FONT_FILES, ("LastResort", ""): LAST_RESORT}
    for folder in font_folders():
        if all((folder / name).is_file() for name in wanted.values()):
            return {key: folder / name for key, name in wanted.items()}
    raise EvidenceError("The report's font (DejaVu, from the matplotlib package) is missing: reinstall Sanctum.")


@cache
def _dejavu_characters() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    fonts = bundled_fonts()
    covered: set[int] = set()
    for key in FONT_FILES:
        with TTFont(fonts[key], lazy=True) as font:
            covered.update(font.getBestCmap() or {})
    return frozenset(covered)


def texts_of(record: object) -> Iterator[str]:
    """Every string in a tree of dataclasses, tuples and lists (what a report will print)."""
    if isinstance(record, str):
        yield record
    elif dataclasses.is_dataclass(record) and not isinstance(record, type):
        for item in dataclasses.fields(record):
            yield from texts_of(getattr(record, item.name))
    elif isinstance(record, tuple | list):
        for item in record:
            yield from texts_of(item)


def missing_characters(texts: Iterator[str] | list[str]) -> set[int]:
    """Code points of `texts` no DejaVu file draws (spaces and controls aside)."""
    wanted = {ord(char) for text in texts for char in text if char.isprintable() and not char.isspace()}
    return wanted - _dejavu_characters()


def system_font_folders() -> list[Path]:
    home = Path.home()
    if sys.platform == "win32":
        return [Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts",
                Path(os.environ.get("LOCALAPPDATA", home)) / "Microsoft" / "Windows" / "Fonts"]
    if sys.platform == "darwin":
        return [Path("/System/Library/Fonts"), Path("/Library/Fonts"), home / "Library" / "Fonts"]
    return [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), home / ".local" / "share" / "fonts",
            home / ".fonts"]


def _font_files(folders: tuple[Path, ...] | list[Path]) -> Iterator[Path]:
    seen = 0
    for folder in folders:
        if not folder.is_dir():
            continue
        for root, dirs, files in os.walk(folder):
            dirs.sort()  # the same fonts chosen on every run
            for name in sorted(files):
                if name.lower().endswith(FONT_SUFFIXES):
                    seen += 1
                    if seen > MAX_SYSTEM_FONTS:
                        return
                    yield Path(root) / name


def _coverage(path: Path, wanted: set[int]) -> Iterator[tuple[FallbackFont, set[int]]]:
    from fontTools.ttLib import TTCollection, TTFont

    try:
        if path.suffix.lower() == ".ttc":
            with TTCollection(path, lazy=True) as collection:
                for number, font in enumerate(collection.fonts):
                    yield FallbackFont(path, number), wanted & set(font.getBestCmap() or {})
        else:
            with TTFont(path, lazy=True) as font:
                if "glyf" in font or "CFF " in font:  # outlines fpdf2 can embed
                    yield FallbackFont(path, 0), wanted & set(font.getBestCmap() or {})
    except Exception as exc:  # noqa: BLE001 - a damaged or odd font file is simply not used
        log.debug("a system font could not be read: %s", type(exc).__name__)


def system_fallbacks(missing: set[int], folders: tuple[Path, ...] | list[Path] | None = None) -> list[FallbackFont]:
    """The fewest system fonts (greedily) that draw the `missing` code points."""
    if not missing:
        return []
    candidates = [(font, covered) for path in _font_files(folders or system_font_folders())
                  for font, covered in _coverage(path, missing) if covered]
    chosen, left = [], set(missing)
    while left and candidates:
        font, covered = max(candidates, key=lambda item: len(item[1] & left))  # the first of equals: walk order
        if not covered & left:
            break
        chosen.append(font)
        left -= covered
    return chosen
