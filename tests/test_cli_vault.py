"""The CLI's `decoy` and `check` commands, run as a user would, and the rollback warning."""

from __future__ import annotations

import json
import shutil

from app.core.vault import Vault

from .conftest import PHOTOS
from .test_cli import sanctum

SECOND = {"SANCTUM_DECOY_PASSPHRASE": "orchard kettle under snow"}
AS_SECOND = {"SANCTUM_PASSPHRASE": "orchard kettle under snow"}


def test_decoy_and_every_command_with_either_passphrase(tmp_path):
    path = tmp_path / "vault"
    sanctum("init", "--no-totp", "--json", vault=path)
    sanctum("import", str(PHOTOS / "cat.jpg"), "--json", vault=path)
    assert json.loads(sanctum("decoy", "--json", vault=path, env_extra=SECOND).stdout) == {"set": True}
    assert json.loads(sanctum("list", "--json", vault=path, env_extra=AS_SECOND).stdout)["photos"] == []
    sanctum("import", str(PHOTOS / "dog.jpg"), vault=path, env_extra=AS_SECOND)
    second = json.loads(sanctum("list", "--json", vault=path, env_extra=AS_SECOND).stdout)["photos"]
    first = json.loads(sanctum("list", "--json", vault=path).stdout)["photos"]
    assert [p["filename"] for p in second] == ["dog.jpg"] and [p["filename"] for p in first] == ["cat.jpg"]
    for env in ({}, AS_SECOND):
        checked = json.loads(sanctum("check", "--json", vault=path, env_extra=env).stdout)
        assert checked["ok"] is True and checked["problems"] == [] and checked["checked"] == 3
    # From the second vault, setting one is refused (it would overwrite the first), in words.
    refused = sanctum("decoy", vault=path, env_extra={**AS_SECOND, **SECOND}, check=False)
    assert refused.returncode == 1 and refused.stderr.startswith("sanctum: ") and "\n" == refused.stderr[-1]
    weak = sanctum("decoy", vault=path, env_extra={"SANCTUM_DECOY_PASSPHRASE": "password1"}, check=False)
    assert weak.returncode == 1 and "too easy to guess" in weak.stderr


def test_check_reports_and_repairs(tmp_path):
    path = tmp_path / "vault"
    sanctum("init", "--no-totp", "--json", vault=path)
    sanctum("import", str(PHOTOS / "cat.jpg"), str(PHOTOS / "dog.jpg"), vault=path)
    with Vault.unlock(path, "correct horse battery staple") as vault:
        cat = next(p.id for p in vault.list_photos() if p.filename == "cat.jpg")
        original = vault._blob_row(cat, "original").name
    target = path / "blobs" / original[:2] / original
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    found = sanctum("check", "--json", vault=path, check=False)
    assert found.returncode == 1
    report = json.loads(found.stdout)
    assert report["ok"] is False and report["rolled_back"] is False
    # (A vault's own orphans are cleared at every unlock: tests/test_vault_slots.py makes one mid-session.)
    assert [(p["kind"], p["photo_id"], p["part"]) for p in report["problems"]] == [("damaged", cat, "original")]
    text = sanctum("check", vault=path, check=False).stdout
    assert "failed its integrity check" in text and "--repair" in text
    repaired = json.loads(sanctum("check", "--repair", "--json", vault=path, check=False).stdout)
    assert repaired["removed_photos"] == []
    assert [p["kind"] for p in repaired["problems"]] == ["damaged"]  # a photo is never removed unasked
    final = json.loads(sanctum("check", "--repair", "--remove-unreadable", "--json", vault=path).stdout)
    assert final["removed_photos"] == [cat] and final["ok"] is True
    listed = json.loads(sanctum("list", "--json", vault=path).stdout)["photos"]
    assert [p["filename"] for p in listed] == ["dog.jpg"]


def test_an_older_copy_warns_on_stderr(tmp_path):
    path, older = tmp_path / "vault", tmp_path / "older"
    sanctum("init", "--no-totp", "--json", vault=path)
    shutil.copytree(path, older)
    sanctum("import", str(PHOTOS / "cat.jpg"), vault=path)
    shutil.rmtree(path)
    shutil.copytree(older, path)
    listed = sanctum("list", "--json", vault=path)
    assert "older than the one last opened" in listed.stderr
    assert json.loads(listed.stdout)["photos"] == []
    assert sanctum("list", vault=path).stderr == ""  # said once
