"""Scans of real-world page structures on a local test site: images on a "CDN" (another host
name for 127.0.0.1), lazy-loaded, in <noscript>, in JSON-LD, on a thread's page 3, on a linked
post, and inserted by JavaScript (through a real headless browser, when one is installed)."""

from __future__ import annotations

import json

import pytest

from app.core.leaks.browser import find_browser
from app.core.leaks.crawl import PageOptions

from .test_cli import sanctum
from .test_leaks import fetcher, host, jpeg, photo, stocked_vault  # noqa: F401 - fixtures


def _cdn(url: str) -> str:
    return url.replace("127.0.0.1", "localhost")  # another host, the same test server


@pytest.fixture
def forum(stocked_vault, host):  # noqa: F811 - the fixtures imported above
    """A thread of three pages and a post it links to, each showing a copy differently."""
    vault, ids = stocked_vault
    parrots = photo("kodim23.png")
    parrots_url, _ = host.upload(jpeg(parrots.crop((0, 0, parrots.width * 2 // 3, parrots.height)), 75))
    horses_url, _ = host.upload(jpeg(photo("horses.jpg").resize((420, 278)), 70))
    dog = photo("dog.jpg")
    dog_url, _ = host.upload(jpeg(dog.resize((dog.width // 2, dog.height // 2)), 70))
    cat_url, _ = host.upload(jpeg(photo("cat.jpg"), 80))
    post = host.add_page("post-17", f"""<html><head><script type="application/ld+json">
        {{"@type": "SocialMediaPosting", "image": {{"@type": "ImageObject", "url": "{_cdn(dog_url)}"}}}}
        </script></head><body><p>A post</p></body></html>""")
    host.add_page("thread-3", f"""<html><body><noscript><img src="{_cdn(horses_url)}"></noscript>
        <a href="/page/thread-2">2</a></body></html>""")
    host.add_page("thread-2", """<html><body><p>nothing here</p>
        <a href="/page/thread">1</a><a rel="next" href="/page/thread-3">Next ›</a></body></html>""")
    first = host.add_page("thread", f"""<html><body>
        <img src="/static/spinner.gif" data-src="{_cdn(cat_url)}">
        <img data-srcset="{_cdn(parrots_url)}?w=200 200w, {_cdn(parrots_url)} 900w">
        <a href="{post}">a post</a> <a href="/page/thread-2">2</a> <a href="/page/thread-3">3</a>
        </body></html>""")
    pages = {"thread": first, "thread-3": host.base + "/page/thread-3", "post": post}
    return vault, ids, pages


def _found(outcome) -> dict[int, str]:
    return {m.photo_id: m.found_on for m in outcome.matches}


def test_depth_0_reads_only_the_page_given(forum, fetcher, host):  # noqa: F811
    vault, ids, pages = forum
    outcome = vault.scan([pages["thread"]], fetcher=fetcher)
    assert _found(outcome) == {ids["parrots"]: pages["thread"]}  # on the CDN, lazy srcset
    assert outcome.scanned == 2  # the cat and the parrots; the placeholder is not on the host:
    assert [e.path for e in outcome.errors] == [host.base + "/static/spinner.gif"]
    assert host.hits["/page/thread-2"] == host.hits["/page/thread-3"] == host.hits["/page/post-17"] == 0


def test_a_deeper_scan_finds_every_planted_copy(forum, fetcher):  # noqa: F811
    vault, ids, pages = forum
    outcome = vault.scan([pages["thread"]], fetcher=fetcher, pages=PageOptions(depth=1))
    assert _found(outcome) == {ids["parrots"]: pages["thread"], ids["horses"]: pages["thread-3"],
                               ids["dog"]: pages["post"]}
    assert [m.source for m in outcome.matches if m.photo_id == ids["horses"]][0].startswith("http://localhost:")


def test_the_page_budget_stops_the_reading(forum, fetcher, host):  # noqa: F811
    vault, ids, pages = forum
    # Pagination first: the thread, then its page 2; the budget ends there.
    outcome = vault.scan([pages["thread"]], fetcher=fetcher, pages=PageOptions(depth=1, max_pages=2))
    assert _found(outcome) == {ids["parrots"]: pages["thread"]}
    assert host.hits["/page/thread-2"] == 1 and host.hits["/page/thread-3"] == host.hits["/page/post-17"] == 0


def test_page_options_are_bounded():
    with pytest.raises(ValueError, match="depth"):
        PageOptions(depth=-1)
    with pytest.raises(ValueError, match="page budget"):
        PageOptions(max_pages=0)


BUILT_BY_SCRIPT = """<!doctype html><html><body><div id="feed"></div><script>
  fetch('/page/feed.json').then(r => r.json()).then(items => {{ for (const item of items) {{
    const img = document.createElement('img'); img.src = item.picture;
    document.getElementById('feed').appendChild(img); }} }});
</script></body></html>"""


@pytest.mark.skipif(find_browser() is None, reason="no Chromium, Chrome or Edge installed")
def test_cli_scan_with_a_browser_finds_images_built_by_javascript(stocked_vault, host):  # noqa: F811
    vault, ids = stocked_vault
    horses_url, _ = host.upload(jpeg(photo("horses.jpg").resize((500, 331)), 70))
    host.add_page("feed.json", json.dumps([{"picture": horses_url}]))
    page = host.add_page("feed", BUILT_BY_SCRIPT.format())
    vault_path = vault.path
    vault.lock()
    plain = json.loads(sanctum("scan", page, "--json", vault=vault_path, check=False).stdout or "{}")
    assert plain.get("matches", []) == []  # without a browser, the page shows no picture
    result = json.loads(sanctum("scan", page, "--browser", "--json", vault=vault_path).stdout)
    assert [(m["photo_id"], m["source"], m["found_on"]) for m in result["matches"]] == [
        (ids["horses"], horses_url, page)]


def test_cli_scan_refuses_a_depth_out_of_range(stocked_vault, host):  # noqa: F811
    vault, _ = stocked_vault
    vault_path = vault.path
    vault.lock()
    result = sanctum("scan", host.base + "/page/x", "--depth", "9", "--json", vault=vault_path, check=False)
    assert result.returncode == 2 and "depth must be between 0 and 5" in result.stderr
