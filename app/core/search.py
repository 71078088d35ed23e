"""Which photos a query selects: a tag, a person, the sensitive flag, and free search text.

Search text is split into words and every word must match the photo (so "boat 2026" finds the
boats of 2026, not the boats plus everything from 2026). A word matches a photo when it matches
one of its tags (category or fine label), the name of a person in it, its file name, its year
("2026") or its month ("june", "jun"). Words of one or two letters match tags and names only
whole, so "ox" does not find every "box".
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime

import peewee

from .db import Face, Person, Photo, PhotoTag

SHORT_WORD = 3  # shorter words match tags and names only as whole words


@dataclass(frozen=True)
class PhotoQuery:
    """A gallery filter run in the DB: a tag, a person (id), the flag, free search text. Set
    fields combine (all must hold)."""

    tag: str | None = None
    person: int | None = None
    sensitive: bool | None = None
    text: str | None = None


def search_words(text: str) -> list[str]:
    """The words of a search, case-folded, each once, in order."""
    words: dict[str, None] = {}
    for word in text.casefold().split():
        words.setdefault(word, None)
    return list(words)


def _matches(column, word: str, *, whole_word: bool):
    """`column` contains `word` (any case), or has it as a whole word when `whole_word`.

    instr() rather than LIKE: a "%" or "_" the user types is a character, not a wildcard.
    SQLite's lower() folds ASCII only; names and tags in other scripts still match as typed.
    """
    text = peewee.fn.LOWER(column)
    if not whole_word:
        return peewee.fn.INSTR(text, word) > 0
    return peewee.fn.INSTR(peewee.Value(" ").concat(text).concat(" "), f" {word} ") > 0


def _month(word: str) -> int | None:
    """1-12 for a month name or its first three letters or more ("jun", "june"), else None."""
    if len(word) < 3 or not word.isalpha():
        return None
    for number in range(1, 13):
        if calendar.month_name[number].casefold().startswith(word):
            return number
    return None


def word_filter(word: str):
    """A peewee expression: photos that `word` matches (see the module docstring)."""
    whole = len(word) < SHORT_WORD
    tagged = PhotoTag.select(PhotoTag.photo).where(_matches(PhotoTag.term, word, whole_word=whole))
    named = Person.select(Person.id).where(_matches(Person.name, word, whole_word=whole))
    with_person = Face.select(Face.photo).where(Face.person.in_(named) & (Face.rejected == False))  # noqa: E712
    expression = (Photo.id.in_(tagged) | Photo.id.in_(with_person)
                  | _matches(Photo.filename, word, whole_word=False))
    if word.isdigit() and len(word) == 4 and 1000 <= int(word) < 9999:
        year = int(word)  # a range on the indexed column, not strftime() on every row
        expression |= (Photo.taken_at >= datetime(year, 1, 1)) & (Photo.taken_at < datetime(year + 1, 1, 1))
    month = _month(word)
    if month is not None:
        expression |= peewee.fn.strftime("%m", Photo.taken_at) == f"{month:02d}"
    return expression


def text_filter(text: str):
    """Every word of `text` matches (None when the text has no words)."""
    words = search_words(text)
    if not words:
        return None
    expression = word_filter(words[0])
    for word in words[1:]:
        expression &= word_filter(word)
    return expression


def find_photo_ids(query: PhotoQuery) -> set[int]:
    """The ids of the photos `query` selects (empty for search text without words)."""
    from . import organize

    select = Photo.select(Photo.id)
    if query.text is not None:
        expression = text_filter(query.text)
        if expression is None:
            return set()
        select = select.where(expression)
    if query.tag or query.person is not None or query.sensitive is not None:
        select = select.where(organize.photo_filter(
            query.tag, str(query.person) if query.person is not None else None, query.sensitive))
    return {photo_id for (photo_id,) in select.tuples()}


def tag_counts() -> dict[tuple[str, str], int]:
    """Photos per (kind, term) of tag: what the sidebar counts."""
    query = (PhotoTag.select(PhotoTag.kind, PhotoTag.term, peewee.fn.COUNT(PhotoTag.photo.distinct()))
             .group_by(PhotoTag.kind, PhotoTag.term).tuples())
    return {(kind, term): count for kind, term, count in query}
