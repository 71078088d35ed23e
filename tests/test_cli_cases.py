"""The JSON contracts of `sanctum cases` and `sanctum notice`, run as the real command on a real
vault: one case per site, a notice's missing elements named, `--send` refused (exit 1) while
one is missing, and the deadline started once it is sent."""

from __future__ import annotations

import json

from .test_cases import _record_copy, stock
from .test_cli import sanctum


def test_cases_and_notice_json_contracts(vault):
    vault, ids = stock(vault)
    first = _record_copy(vault, "https://img.pics.example/a.jpg", ids["dog"], found_on="https://pics.example/p/1")
    second = _record_copy(vault, "https://pics.example/b.jpg", ids["horses"])
    other = _record_copy(vault, "https://elsewhere.example/c.jpg", ids["dog"])
    _record_copy(vault, "http://127.0.0.1:9/d.jpg", ids["dog"])
    path = vault.path
    vault.lock()

    listed = json.loads(sanctum("cases", "--json", vault=path).stdout)
    assert set(listed) == {"cases"}
    by_host = {c["host"]: c for c in listed["cases"]}
    assert set(by_host) == {"pics.example", "elsewhere.example", "127.0.0.1"}
    case = by_host["pics.example"]
    assert {"id", "host", "photo_ids", "addresses", "status", "due_at"} <= set(case)
    assert case["addresses"] == ["https://img.pics.example/a.jpg", "https://pics.example/b.jpg"]
    assert sorted(case["photo_ids"]) == sorted([ids["dog"], ids["horses"]])
    assert case["match_ids"] == [first, second] and by_host["elsewhere.example"]["match_ids"] == [other]
    assert case["status"] == "open" and case["due_at"] is None

    me = ("--name", "Dana Example", "--email", "dana@example.org")
    drafted = json.loads(sanctum("notice", str(case["id"]), "--kind", "take-it-down", *me, "--json",
                                 vault=path).stdout)
    assert {"kind", "to", "subject", "text", "missing"} <= set(drafted)
    assert drafted["kind"] == "take-it-down" and drafted["missing"] == ["signature (your typed name)"]
    assert all(url in drafted["text"] for url in case["addresses"])

    refused = sanctum("notice", str(case["id"]), "--kind", "take-it-down", *me, "--send", "--json",
                      vault=path, check=False)
    assert refused.returncode == 1 and refused.stdout == ""
    assert "missing: signature" in refused.stderr

    sent = json.loads(sanctum("notice", str(case["id"]), "--kind", "take-it-down", *me, "--signature",
                              "Dana Example", "--send", "--json", vault=path).stdout)
    assert sent["missing"] == [] and sent["status"] == "sent" and "/s/ Dana Example" in sent["text"]

    delisting = json.loads(sanctum("notice", str(case["id"]), "--kind", "search-delisting", *me, "--json",
                                   vault=path).stdout)
    assert delisting["to"].startswith("https://support.google.com/")
    assert "search result pages or search terms that show them" in delisting["missing"]

    after = {c["host"]: c for c in json.loads(sanctum("cases", "--json", vault=path).stdout)["cases"]}
    assert after["pics.example"]["status"] == "waiting" and after["pics.example"]["due_at"] == sent["due_at"]

    replied = json.loads(sanctum("reply", str(case["id"]), "--outcome", "refused", "--text", "no", "--json",
                                 vault=path).stdout)
    assert replied["case"]["status"] == "overdue" and replied["case"]["next_step"] == "escalate-to-provider"
    listed = json.loads(sanctum("cases", "--json", vault=path).stdout)["cases"]
    assert listed[0]["host"] == "pics.example", "overdue first"

    # a site on this computer's own network has no public provider: never looked up
    local = sanctum("provider", str(by_host["127.0.0.1"]["id"]), "--json", vault=path, check=False)
    assert local.returncode == 1 and "private or special network" in local.stderr
