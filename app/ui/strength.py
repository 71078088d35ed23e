"""The passphrase strength estimate now lives in the core (the CLI applies the same rule); the
words under a new passphrase typed twice, shared by every form that sets one."""

from app.core.strength import LEVELS, MIN_PASSPHRASE_LENGTH, MIN_SCORE, Strength, estimate  # noqa: F401 - re-exported for the UI


def pair_hint(first: str, second: str, repeat_field: str = "above") -> tuple[str, bool]:
    """(the hint to show, whether the passphrase may be used): strong enough, typed the same
    twice. `repeat_field` says where the second field is, for "Type it again above/below"."""
    if not first:
        return " ", False
    s = estimate(first, MIN_PASSPHRASE_LENGTH)
    if s.score < MIN_SCORE:
        return f"{s.label}: {s.advice}", False
    if second != first:
        return f"{s.label}. Type it again {repeat_field}.", False
    return f"{s.label}. ✓ They match.", True
