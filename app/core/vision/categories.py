"""The eight user categories every photo is sorted into, in the order they are shown.

Defined once, here, and imported by the tagger, the organise summary and the sidebar: a module
with no imports, so the sidebar can list them without loading the vision stack.
"""

from __future__ import annotations

PEOPLE = "people"
ANIMALS = "animals"
VEHICLES = "vehicles"
FOOD = "food & drink"
NATURE = "nature & landscape"
PLACES = "buildings & places"
DOCUMENTS = "documents & screenshots"
OBJECTS = "objects"
CATEGORIES: tuple[str, ...] = (PEOPLE, ANIMALS, VEHICLES, FOOD, NATURE, PLACES, DOCUMENTS, OBJECTS)
