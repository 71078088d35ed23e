"""The CLI's key commands, run as a user would: `init`/`passwd` strength rule, `passwd` rotation,
`recovery-key --rotate`, `recovery-codes --new`, `totp --reenroll`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyotp

from .test_cli import sanctum

ROOT = Path(__file__).parent.parent


def test_init_refuses_a_weak_passphrase(tmp_path):
    for weak in ("password1", "12345678", "aaaaaaaaaa"):
        result = sanctum("init", "--no-totp", "--json", vault=tmp_path / "v", env_extra={"SANCTUM_PASSPHRASE": weak},
                         check=False)
        assert result.returncode == 1
        assert "too easy to guess" in result.stderr and result.stdout == ""
        assert not (tmp_path / "v" / "vault.json").exists()


def test_passwd_rotates_keys_and_refuses_weak(tmp_path):
    path = tmp_path / "vault"
    created = json.loads(sanctum("init", "--no-totp", "--json", vault=path).stdout)
    weak = sanctum("passwd", vault=path, env_extra={"SANCTUM_NEW_PASSPHRASE": "qwerty123"}, check=False)
    assert weak.returncode == 1 and "too easy to guess" in weak.stderr
    out = json.loads(sanctum("passwd", "--json", vault=path,
                             env_extra={"SANCTUM_NEW_PASSPHRASE": "violet tundra sings softly"}).stdout)
    assert out["changed"] is True and out["recovery_key"] is None  # the recovery key is kept
    assert sanctum("list", vault=path, check=False).returncode == 1  # the old passphrase is useless
    new_env = {"SANCTUM_PASSPHRASE": "violet tundra sings softly"}
    assert sanctum("list", vault=path, env_extra=new_env).returncode == 0
    recovered = sanctum("list", "--recovery-key", vault=path, env_extra={"SANCTUM_RECOVERY_KEY": created["recovery_key"]})
    assert recovered.returncode == 0

    rotated = json.loads(sanctum("recovery-key", "--rotate", "--json", vault=path, env_extra=new_env).stdout)
    assert rotated["recovery_key"] and rotated["recovery_key"] != created["recovery_key"]
    old_key = sanctum("list", "--recovery-key", vault=path, check=False,
                      env_extra={"SANCTUM_RECOVERY_KEY": created["recovery_key"]})
    assert old_key.returncode == 1 and "recovery key" in old_key.stderr
    assert sanctum("list", "--recovery-key", vault=path,
                   env_extra={"SANCTUM_RECOVERY_KEY": rotated["recovery_key"]}).returncode == 0


def test_recovery_codes_and_totp_reenrolment(tmp_path):
    path = tmp_path / "vault"
    created = json.loads(sanctum("init", "--json", vault=path).stdout)
    old_secret = parse_qs(urlparse(created["totp_uri"]).query)["secret"][0]
    code = pyotp.TOTP(old_secret).now()
    codes = json.loads(sanctum("recovery-codes", "--new", "--json", "--totp", code, vault=path).stdout)["recovery_codes"]
    assert len(codes) == 10 and not set(codes) & set(created["recovery_codes"])
    stale = sanctum("list", "--recovery-code", created["recovery_codes"][0], vault=path, check=False)
    assert stale.returncode == 1

    env = {**os.environ, "SANCTUM_PASSPHRASE": "correct horse battery staple", "SANCTUM_VAULT": str(path)}
    process = subprocess.Popen([sys.executable, "-m", "app", "totp", "--reenroll", "--json",
                                "--recovery-code", codes[0]],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=ROOT)
    lines = []
    while not any("}" in line for line in lines):
        lines.append(process.stdout.readline())
    uri = json.loads("".join(lines))["totp_uri"]
    new_secret = parse_qs(urlparse(uri).query)["secret"][0]
    assert new_secret != old_secret
    stdout, stderr = process.communicate(pyotp.TOTP(new_secret).now() + "\n", timeout=120)
    assert process.returncode == 0, stderr
    assert json.loads(stdout) == {"reenrolled": True}
    old_app = sanctum("list", "--totp", pyotp.TOTP(old_secret).now(), vault=path, check=False)
    assert old_app.returncode == 1 and "code" in old_app.stderr.lower()
