from app.core.errors import LockedOut
from app.core.words import byte_size, duration, plural


def test_plural_agrees_with_the_count():
    assert plural(1, "minute") == "1 minute"
    assert plural(2, "minute") == "2 minutes"
    assert plural(0, "photo") == "0 photos"
    assert plural(1204, "photo") == "1,204 photos"
    assert plural(3, "copy", "copies") == "3 copies"


def test_duration_in_words():
    assert duration(1) == "1 second" and duration(0.3) == "1 second"
    assert duration(45) == "45 seconds"
    assert duration(60) == "1 minute"
    assert duration(300) == "5 minutes"
    assert duration(3600) == "1 hour"
    assert duration(9000) == "2 hours 30 minutes"


def test_lockout_message_says_1_second():
    assert str(LockedOut(0, 0.4)).endswith("Try again in 1 second.")
    assert str(LockedOut(0, 90)).endswith("Try again in 90 seconds.")


def test_byte_size_in_words():
    assert byte_size(812) == "812 bytes"
    assert byte_size(1536) == "1.5 KB"
    assert byte_size(3 * 1024 ** 2) == "3.0 MB"
    assert byte_size(5 * 1024 ** 4) == "5,120.0 GB"  # GB is the largest unit
