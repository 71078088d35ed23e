"""The one atomic write: all or nothing, with the mode set from the start."""

from __future__ import annotations

import os
import stat

import pytest

from app.core.files import SHAREABLE_MODE, write_atomically


def test_writes_bytes_or_pieces_and_counts_them(tmp_path):
    target = tmp_path / "out.bin"
    assert write_atomically(target, b"abc") == 3
    assert write_atomically(target, iter([b"de", b"fgh"])) == 5
    assert target.read_bytes() == b"defgh"
    assert os.listdir(tmp_path) == ["out.bin"]


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_private_by_default_shareable_on_request(tmp_path):
    write_atomically(tmp_path / "private", b"x")
    write_atomically(tmp_path / "public", b"x", mode=SHAREABLE_MODE, durable=False)
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "public").stat().st_mode) == SHAREABLE_MODE


def test_a_failure_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def pieces():
        yield b"new"
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_atomically(target, pieces())
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_the_temporary_can_live_elsewhere_on_the_same_disk(tmp_path):
    spool = tmp_path / "tmp"
    spool.mkdir()
    write_atomically(tmp_path / "out.bin", b"x", temp_dir=spool)
    assert (tmp_path / "out.bin").read_bytes() == b"x"
    assert not list(spool.iterdir())
