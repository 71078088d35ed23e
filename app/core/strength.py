"""A passphrase strength estimate: the setup wizard's meter, and the rule every new passphrase
must pass (wizard, unlock screen, Settings, CLI `init` and `passwd`: one rule, here). Qt-free.

A rough guessing-entropy estimate, deliberately pessimistic about the patterns people use
(common passwords, repeats, sequences, a word plus digits). It guides; it is not a guarantee.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .errors import WeakPassphrase

_COMMON = frozenset("""
password passw0rd password1 12345678 123456789 1234567890 qwerty qwertyuiop qwerty123 iloveyou
letmein sunshine princess football baseball welcome admin123 monkey dragon master shadow
abc12345 trustno1 11111111 00000000 88888888 superman batman whatever starwars freedom
qazwsxedc zaq12wsx 1q2w3e4r 1qaz2wsx passphrase secret123 changeme
""".split())

MIN_PASSPHRASE_LENGTH = 8  # every new passphrase: wizard, unlock screen, Settings, CLI

LEVELS = ("Too short", "Weak", "Fair", "Good", "Strong")


@dataclass(frozen=True)
class Strength:
    score: int  # 0..4, index into LEVELS
    bits: float
    advice: str

    @property
    def label(self) -> str:
        return LEVELS[self.score]


def estimate(passphrase: str, min_length: int = 8) -> Strength:
    if len(passphrase) < min_length:
        return Strength(0, 0.0, f"Use at least {min_length} characters.")
    lowered = passphrase.lower()
    if lowered in _COMMON or lowered.rstrip("0123456789!") in _COMMON:
        return Strength(1, 10.0, "This is one of the most common passwords. Choose something else.")
    pool = 0
    if re.search(r"[a-z]", passphrase):
        pool += 26
    if re.search(r"[A-Z]", passphrase):
        pool += 26
    if re.search(r"[0-9]", passphrase):
        pool += 10
    if re.search(r"[^a-zA-Z0-9]", passphrase):
        pool += 33
    # Repeats and runs ("aaaa", "1234", "abcd") add almost nothing: count them once.
    effective = 0
    prev = None
    for ch in passphrase:
        if prev is not None and (ord(ch) - ord(prev)) in (-1, 0, 1):
            effective += 0.25
        else:
            effective += 1
        prev = ch
    bits = effective * math.log2(max(pool, 2))
    words = [w for w in re.split(r"[\s\-_.,]+", passphrase) if len(w) >= 3]
    if len(words) >= 3:
        # Several words: count ~11 bits per word (a big dictionary), whichever is lower.
        bits = min(bits, len(words) * 11.0 + 4)
    if re.fullmatch(r"[A-Za-z]+[0-9]{1,4}[^A-Za-z0-9]?", passphrase):
        bits = min(bits, 30.0)  # "Summer2024!" style
    if bits < 30:
        score, advice = 1, "Easy to guess. Add more words or characters."
    elif bits < 45:
        score, advice = 2, "Fair. Four or more unrelated words would make it much stronger."
    elif bits < 65:
        score, advice = 3, "A longer passphrase would be stronger still."
    else:
        score, advice = 4, "Hard to guess."
    return Strength(score, bits, advice)


MIN_SCORE = 2  # "Fair": the level the wizard has always required


def require_strong(passphrase: str, min_length: int = 8) -> Strength:
    """Raise WeakPassphrase (with the advice) unless the passphrase reaches MIN_SCORE."""
    s = estimate(passphrase, min_length)
    if s.score < MIN_SCORE:
        raise WeakPassphrase(f"This passphrase is too easy to guess ({s.label.lower()}). {s.advice}")
    return s
