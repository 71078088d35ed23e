"""`sanctum backup`, `sanctum backup --verify` and `sanctum restore`, run as a user would, with
their --json contracts."""

from __future__ import annotations

import json

from app.core.backup.manifest import blob_path, read_manifest

from .conftest import PHOTOS
from .test_cli import sanctum


def test_backup_verify_restore_from_the_command_line(tmp_path):
    vault = tmp_path / "vault"
    created = json.loads(sanctum("init", "--no-totp", "--json", vault=vault).stdout)
    sanctum("import", str(PHOTOS / "cat.jpg"), str(PHOTOS / "kodim23.png"), vault=vault)
    dest = tmp_path / "backup"

    made = json.loads(sanctum("backup", str(dest), "--json", vault=vault).stdout)
    assert made == {"dest": str(dest), "photos": 2, "bytes_written": made["bytes_written"]}
    assert made["bytes_written"] > (PHOTOS / "cat.jpg").stat().st_size
    blobs = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (dest / "blobs").rglob("*") if p.is_file()}
    again = json.loads(sanctum("backup", str(dest), "--json", vault=vault).stdout)
    # Only a new database snapshot: no photo's blob is written again (the same files, untouched).
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (dest / "blobs").rglob("*") if p.is_file()} == blobs
    assert 0 < again["bytes_written"] < made["bytes_written"]

    assert json.loads(sanctum("backup", "--verify", str(dest), "--json", vault=vault).stdout) == {
        "ok": True, "problems": []}
    human = sanctum("backup", "--verify", str(dest), "--hashes-only", vault=vault).stdout
    assert human.startswith("OK:") and "not decrypted" in human

    restored = json.loads(sanctum("restore", str(dest), "--to", str(tmp_path / "restored"), "--json",
                                  vault=vault).stdout)
    assert restored == {"vault": str(tmp_path / "restored"), "photos": 2}
    listed = json.loads(sanctum("list", "--json", vault=tmp_path / "restored").stdout)["photos"]
    assert sorted(p["filename"] for p in listed) == ["cat.jpg", "kodim23.png"]

    wrong = sanctum("restore", str(dest), "--to", str(tmp_path / "other"), vault=vault, check=False,
                    env_extra={"SANCTUM_PASSPHRASE": "not the right passphrase"})
    assert wrong.returncode == 1 and "passphrase" in wrong.stderr and not (tmp_path / "other").exists()
    by_key = sanctum("restore", str(dest), "--to", str(tmp_path / "by-key"), "--recovery-key", "--json", vault=vault,
                     env_extra={"SANCTUM_RECOVERY_KEY": created["recovery_key"]})
    assert json.loads(by_key.stdout)["photos"] == 2

    name = sorted(read_manifest(dest).blobs)[0]
    data = bytearray(blob_path(dest, name).read_bytes())
    data[200] ^= 0x80
    blob_path(dest, name).write_bytes(bytes(data))
    damaged = sanctum("backup", "--verify", str(dest), "--json", vault=vault, check=False)
    assert damaged.returncode == 1
    report = json.loads(damaged.stdout)
    assert report["ok"] is False and len(report["problems"]) == 1 and name in report["problems"][0]

    # A damaged database snapshot: named, and every other file still checked.
    manifest = read_manifest(dest)
    snapshot = dest / "files" / manifest.files[manifest.database].digest
    data = bytearray(snapshot.read_bytes())
    data[5000] ^= 0x01
    snapshot.write_bytes(bytes(data))
    worse = json.loads(sanctum("backup", "--verify", str(dest), "--json", vault=vault, check=False).stdout)
    assert worse["ok"] is False and any(manifest.database in problem for problem in worse["problems"])
    assert any(name in problem for problem in worse["problems"])


def test_a_folder_that_is_not_a_backup_is_refused(tmp_path):
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "letter.txt").write_text("mine")
    result = sanctum("backup", "--verify", str(folder), "--hashes-only", vault=tmp_path / "none", check=False)
    assert result.returncode == 1 and "no Sanctum backup" in result.stderr
