"""The CLI contract, run as a user would: a real `sanctum` process per command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from .conftest import PASSPHRASE, PHOTOS


def sanctum(*args: str, vault: Path, env_extra: dict | None = None, check: bool = True):
    env = {**os.environ, "SANCTUM_PASSPHRASE": PASSPHRASE, "SANCTUM_VAULT": str(vault), **(env_extra or {})}
    result = subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, env=env,
                            timeout=120, stdin=subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise AssertionError(f"sanctum {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


@pytest.fixture(scope="module")
def cli_vault(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "vault"
    out = json.loads(sanctum("init", "--no-totp", "--json", vault=path).stdout)
    assert out["totp_uri"] is None and len(out["recovery_key"]) > 50
    return path


def test_import_list_export_delete(cli_vault, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"definitely not a jpeg")
    imported = json.loads(sanctum("import", str(PHOTOS), str(bad), "--json", vault=cli_vault).stdout)
    assert len(imported["imported"]) == len(list(PHOTOS.iterdir()))
    assert imported["duplicates"] == []
    assert imported["errors"] == [{"path": str(bad), "reason": imported["errors"][0]["reason"]}]

    again = json.loads(sanctum("import", str(PHOTOS / "dog.jpg"), "--json", vault=cli_vault).stdout)
    assert again["imported"] == [] and len(again["duplicates"]) == 1

    listed = json.loads(sanctum("list", "--json", vault=cli_vault).stdout)["photos"]
    assert {p["id"] for p in listed} == set(imported["imported"])
    for photo in listed:
        assert {"id", "filename", "sha256", "taken_at", "width", "height", "tags", "people"} <= photo.keys()
        assert photo["tags"] == [] and photo["people"] == []
    dog = next(p for p in listed if p["filename"] == "dog.jpg")
    assert (dog["width"], dog["height"]) == (768, 576)

    filtered = json.loads(sanctum("list", "--after", "2014-01-01", "--before", "2015-01-01", "--json",
                                  vault=cli_vault).stdout)["photos"]
    assert [p["filename"] for p in filtered] == ["dog.jpg"]

    out = tmp_path / "out"
    sanctum("export", str(dog["id"]), "--out", str(out), vault=cli_vault)
    assert (out / "dog.jpg").read_bytes() == (PHOTOS / "dog.jpg").read_bytes()

    deleted = json.loads(sanctum("delete", str(dog["id"]), "--json", vault=cli_vault).stdout)
    assert deleted == {"deleted": [dog["id"]]}
    missing = sanctum("export", str(dog["id"]), "--out", str(out), vault=cli_vault, check=False)
    assert missing.returncode == 1 and "No photo with id" in missing.stderr


def test_errors_are_one_line_and_non_zero(cli_vault, tmp_path):
    wrong = sanctum("list", vault=cli_vault, env_extra={"SANCTUM_PASSPHRASE": "wrong passphrase"}, check=False)
    assert wrong.returncode == 1 and wrong.stderr.strip() == "sanctum: Wrong passphrase."
    assert wrong.stdout == ""
    not_vault = sanctum("list", vault=tmp_path, check=False)
    (tmp_path / "x.txt").write_text("x")
    not_vault = sanctum("list", vault=tmp_path, check=False)
    assert not_vault.returncode == 1 and "not a Sanctum vault" in not_vault.stderr
    no_pass = sanctum("list", vault=cli_vault, env_extra={"SANCTUM_PASSPHRASE": ""}, check=False)
    assert no_pass.returncode == 2 and "SANCTUM_PASSPHRASE" in no_pass.stderr


def test_init_with_totp_then_codes(tmp_path):
    vault = tmp_path / "vault"
    shown = sanctum("init", vault=vault)
    assert "RECOVERY KEY" in shown.stdout and "otpauth://totp/" in shown.stdout
    assert "█" in shown.stdout or "▀" in shown.stdout  # the QR code
    uri = next(word for word in shown.stdout.split() if word.startswith("otpauth://"))
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    needs_code = sanctum("list", vault=vault, check=False)
    assert needs_code.returncode == 1 and "--totp" in needs_code.stderr
    code = pyotp.TOTP(secret).now()
    assert sanctum("list", "--json", "--totp", code, vault=vault).returncode == 0
    reused = sanctum("list", "--totp", code, vault=vault, check=False)
    assert reused.returncode == 1 and "already used" in reused.stderr
    # the next step's code is accepted (±1 step), so scripts need not wait 30 s
    later = pyotp.TOTP(secret).at(time.time() + 30)
    assert sanctum("list", "--totp", later, vault=vault).returncode == 0


def test_recovery_key_then_new_passphrase(tmp_path):
    vault = tmp_path / "vault"
    key = json.loads(sanctum("init", "--no-totp", "--json", vault=vault).stdout)["recovery_key"]
    changed = sanctum("passwd", "--recovery-key", vault=vault,
                      env_extra={"SANCTUM_RECOVERY_KEY": key, "SANCTUM_NEW_PASSPHRASE": "another long passphrase"})
    assert "Passphrase changed" in changed.stdout
    assert sanctum("list", vault=vault, check=False).returncode == 1
    assert sanctum("list", vault=vault, env_extra={"SANCTUM_PASSPHRASE": "another long passphrase"}).returncode == 0


def test_share_inspect_pubkey(cli_vault, tmp_path):
    imported = json.loads(sanctum("import", str(PHOTOS / "horses.jpg"), "--json", vault=cli_vault).stdout)
    photo_id = (imported["imported"] or [imported["duplicates"][0]["photo_id"]])[0]
    out = tmp_path / "for-ana.jpg"
    shared = json.loads(sanctum("share", str(photo_id), "--recipient", "Ana", "--platform", "Signal",
                                "--out", str(out), "--json", vault=cli_vault).stdout)
    assert {"share_id", "photo_id", "out"} <= shared.keys() and shared["photo_id"] == photo_id
    assert Path(shared["out"]) == out and out.exists()

    inspected = json.loads(sanctum("inspect", str(out), "--json", vault=cli_vault).stdout)
    assert inspected["share_id"] == shared["share_id"]
    assert inspected["watermark"]["share_id"] == shared["share_id"]
    assert inspected["signature"] == "valid"
    assert inspected["share"]["recipient"] == "Ana"

    pem = tmp_path / "sanctum.pub"
    sanctum("pubkey", "--out", str(pem), vault=cli_vault)
    third_party = json.loads(sanctum("inspect", str(out), "--pubkey", str(pem), "--json", vault=tmp_path / "none").stdout)
    assert third_party["signature"] == "valid" and third_party["share"] is None

    listed = json.loads(sanctum("shares", "--json", vault=cli_vault).stdout)["shares"]
    assert any(s["share_id"] == shared["share_id"] and s["recipient"] == "Ana" for s in listed)


def test_share_keeps_the_capture_date_only_with_keep_date(cli_vault, tmp_path):
    import piexif
    from PIL import Image

    source = tmp_path / "dated.jpg"
    exif = piexif.dump({"0th": {piexif.ImageIFD.Artist: b"Jane Identity"},
                        "Exif": {piexif.ExifIFD.DateTimeOriginal: b"2021:06:15 21:04:33"}})
    Image.open(PHOTOS / "coffee.jpg").convert("RGB").save(source, "JPEG", quality=90, exif=exif)
    imported = json.loads(sanctum("import", str(source), "--json", vault=cli_vault).stdout)
    photo_id = (imported["imported"] or [imported["duplicates"][0]["photo_id"]])[0]
    taken = {}
    for flag in ((), ("--keep-date",)):
        out = tmp_path / f"copy{len(flag)}.jpg"
        sanctum("share", str(photo_id), "--recipient", "Ana", "--out", str(out), *flag, vault=cli_vault)
        shared = piexif.load(out.read_bytes())
        assert b"Jane Identity" not in out.read_bytes()
        taken[flag] = shared["Exif"].get(piexif.ExifIFD.DateTimeOriginal)
    assert taken == {(): None, ("--keep-date",): b"2021:06:15 21:04:33"}


def test_immunize_verify_and_immunized_share(cli_vault, tmp_path):
    from PIL import Image

    source = tmp_path / "kodim23.png"
    Image.open(PHOTOS / "kodim23.png").convert("RGB").resize((384, 256)).save(source)
    out = tmp_path / "immunized.png"
    done = json.loads(sanctum("immunize", str(source), str(out), "--mode", "lossless", "--json", vault=cli_vault).stdout)
    assert done["mode"] == "lossless" and out.exists()

    pem = tmp_path / "sanctum.pub"
    sanctum("pubkey", "--out", str(pem), vault=cli_vault)
    mask, recovered = tmp_path / "mask.png", tmp_path / "recovered.png"
    # No vault is needed to verify: anyone can, and --pubkey says who signed.
    clean = json.loads(sanctum("verify", str(out), "--mask", str(mask), "--recovered", str(recovered),
                               "--pubkey", str(pem), "--json", vault=tmp_path / "none").stdout)
    assert clean["verdict"] == "authentic" and clean["mode"] == "lossless" and clean["tampered_fraction"] == 0
    assert clean["bit_exact"] and clean["signed_by_pubkey"] is True
    assert Image.open(recovered).tobytes() == Image.open(source).tobytes()

    edited = Image.open(out).convert("RGB")
    edited.paste((250, 20, 20), (100, 60, 180, 140))
    suspect = tmp_path / "suspect.png"
    edited.save(suspect)
    found = json.loads(sanctum("verify", str(suspect), "--mask", str(mask), "--recovered", str(recovered), "--json",
                               vault=tmp_path / "none").stdout)
    assert found["verdict"] == "tampered" and 0.04 < found["tampered_fraction"] < 0.09
    with Image.open(mask) as m:
        assert m.size == (384, 256) and m.getpixel((140, 100)) == 255 and m.getpixel((10, 10)) == 0
    with Image.open(recovered) as r:
        assert r.size == (384, 256)
    human = sanctum("verify", str(suspect), vault=tmp_path / "none").stdout
    assert "tampered" in human and "lossless" in human

    plain = json.loads(sanctum("verify", str(source), "--json", vault=tmp_path / "none").stdout)
    assert plain["verdict"] == "not_immunized" and plain["mode"] is None

    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    failed = sanctum("verify", str(garbage), vault=tmp_path / "none", check=False)
    assert failed.returncode != 0 and "Traceback" not in failed.stderr and failed.stderr.strip()

    imported = json.loads(sanctum("import", str(PHOTOS / "kodim04.png"), "--json", vault=cli_vault).stdout)
    photo_id = (imported["imported"] or [imported["duplicates"][0]["photo_id"]])[0]
    shared_out = tmp_path / "for-bo.png"
    shared = json.loads(sanctum("share", str(photo_id), "--recipient", "Bo", "--out", str(shared_out),
                                "--immunize", "lossless", "--json", vault=cli_vault).stdout)
    assert any("immunization" in line for line in shared["embedded"])
    checked = json.loads(sanctum("verify", str(shared_out), "--json", vault=tmp_path / "none").stdout)
    assert checked["verdict"] == "authentic" and checked["bit_exact"]
    inspected = json.loads(sanctum("inspect", str(shared_out), "--json", vault=cli_vault).stdout)
    assert inspected["watermark"]["share_id"] == shared["share_id"] and inspected["signature"] == "valid"

    refused = sanctum("share", str(photo_id), "--recipient", "Bo", "--out", str(tmp_path / "x.jpg"),
                      "--immunize", "lossless", vault=cli_vault, check=False)
    assert refused.returncode != 0 and "PNG" in refused.stderr


def test_delete_keeps_or_forgets_the_record_of_found_copies(tmp_path):
    vault = tmp_path / "vault"
    sanctum("init", "--no-totp", "--json", vault=vault)
    imported = json.loads(sanctum("import", str(PHOTOS / "dog.jpg"), str(PHOTOS / "horses.jpg"), "--json",
                                  vault=vault).stdout)["imported"]
    found = tmp_path / "found"
    found.mkdir()
    for name in ("dog.jpg", "horses.jpg"):
        (found / name).write_bytes((PHOTOS / name).read_bytes())
    sanctum("scan", str(found), "--json", vault=vault)
    by_photo = {m["photo_id"]: m for m in json.loads(sanctum("matches", "--json", vault=vault).stdout)["matches"]}
    assert set(by_photo) == set(imported)
    dog, horses = imported
    sanctum("delete", str(dog), vault=vault)
    sanctum("delete", str(horses), "--forget-leak-records", vault=vault)
    left = json.loads(sanctum("matches", "--json", vault=vault).stdout)["matches"]
    assert [(m["id"], m["photo_id"], m["source"]) for m in left] == [(by_photo[dog]["id"], None,
                                                                       by_photo[dog]["source"])]


def test_vault_option_without_a_command_opens_the_app():
    from app.__main__ import GuiLaunch, gui_launch

    assert gui_launch([]) == GuiLaunch(vault=None, smoke_test=False)
    assert gui_launch(["--vault", "/v"]) == GuiLaunch(vault=Path("/v"), smoke_test=False)
    assert gui_launch(["--vault=/v", "--smoke-test"]) == GuiLaunch(vault=Path("/v"), smoke_test=True)
    # Anything else is the CLI's: a command, an option only commands take, help, a bad call.
    for argv in (["--vault", "/v", "list"], ["list"], ["--json"], ["--help"], ["--vault"], ["--va", "/v"]):
        assert gui_launch(argv) is None, argv


def test_vault_option_opens_the_app_on_that_vault(tmp_path):
    # A real start, offscreen: the wizard opens for the folder given, not for $SANCTUM_VAULT.
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "SANCTUM_VAULT": str(tmp_path / "elsewhere")}
    vault = tmp_path / "chosen"
    result = subprocess.run([sys.executable, "-m", "app", "--vault", str(vault), "--smoke-test"],
                            capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert "ok (SetupWizard shown" in result.stdout and f"vault {vault}" in result.stdout
    assert not vault.exists()
