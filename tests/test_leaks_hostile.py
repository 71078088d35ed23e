"""Scanning hostile pages and hosts: a page or a server that misbehaves on purpose costs the
scan no more than a normal one, ends no more than its own item, cannot lead the fetcher into
the user's own network, and cannot recognise the user from one scan to the next."""

from __future__ import annotations

import time

import pytest

from app.core.leaks import sources
from app.core.leaks.sources import css_image_urls, images_on_page

# --- item 13: pages are read in linear time, with caps -------------------------------------------

# Each is 100 KB or more. Before: the CSS regex took 9 s on 86 KB of "background:", and Python's
# html.parser 21 s on 100 KB of "<a", 18 s on "<!--" repeated (one C call holding the GIL).
HOSTILE_PAGES = {
    "style attribute of background: without url": '<div style="' + "background:" * 10_000 + '">',
    "style element of background: without url": "<style>" + "background:" * 10_000 + "</style>",
    "unclosed url( in a background": "<style>x{background: " + "url(url(" * 20_000 + "}</style>",
    "unclosed start tags": "<a" * 100_000,
    "unclosed end tags": "</" * 100_000,
    "unclosed comments": "<!--" * 50_000,
    "processing instructions": "<?" * 100_000,
    "deep nesting": "<div>" * 100_000,
    "many attributes": "<img " + "a=b " * 50_000,
}


@pytest.mark.parametrize("name", list(HOSTILE_PAGES))
def test_hostile_page_is_parsed_in_linear_time(name):
    html = HOSTILE_PAGES[name]
    assert len(html) >= 100_000
    started = time.perf_counter()
    images_on_page(html, "https://www.site.example/p")
    # A guard against the quadratic cases (seconds to tens of seconds before), not a benchmark.
    assert time.perf_counter() - started < 1.0


def test_images_after_hostile_css_are_still_found():
    html = ('<div style="' + "background:" * 10_000 + ' background-image: url(a.jpg)"></div>'
            "<style>" + "background: red;" * 5_000 + ".x{background:#fff url('b.png') no-repeat}</style>"
            '<img src="c.jpg">')
    started = time.perf_counter()
    urls = images_on_page(html, "https://site.example/p/")
    assert time.perf_counter() - started < 1.0
    assert urls == ["https://site.example/p/a.jpg", "https://site.example/p/b.png", "https://site.example/p/c.jpg"]


def test_css_scanner_reads_background_urls_only():
    css = """.a { background: #000 url( "one.jpg" ) no-repeat; color: red }
             .b { background-image:url(two.webp) } .c { list-style-image: url(no.png) }
             .d { BACKGROUND-IMAGE: URL('three.png') } .e { background: url(bad url.jpg) }"""
    assert css_image_urls(css) == ["one.jpg", "two.webp", "three.png"]


def test_a_page_costs_at_most_its_caps(monkeypatch):
    # Addresses beyond MAX_URLS_SEEN and bytes beyond MAX_PAGE_BYTES are not read at all.
    monkeypatch.setattr(sources, "MAX_URLS_SEEN", 100)
    many = "".join(f'<img src="https://other.example/{i}.jpg">' for i in range(200)) + '<img src="mine.jpg">'
    assert images_on_page(many, "https://site.example/") == []
    monkeypatch.setattr(sources, "MAX_PAGE_BYTES", 10_000)
    late = '<img src="early.jpg">' + " " * 20_000 + '<img src="late.jpg">'
    assert images_on_page(late, "https://site.example/") == ["https://site.example/early.jpg"]


def test_same_site_follows_the_public_suffix_list():
    page = "https://alice.github.io/gallery"
    html = """<img src="https://alice.github.io/a.jpg"><img src="https://bob.github.io/b.jpg">
              <img src="https://img.alice.github.io/c.jpg">"""
    assert images_on_page(html, page) == ["https://alice.github.io/a.jpg", "https://img.alice.github.io/c.jpg"]
    # A country-code second level: example.co.uk, not "co.uk", is the site.
    html = '<img src="https://cdn.example.co.uk/a.jpg"><img src="https://other.co.uk/b.jpg">'
    assert images_on_page(html, "https://www.example.co.uk/") == ["https://cdn.example.co.uk/a.jpg"]
    # An IP address is its own site: 10.0.0.2 is not "0.2", shared with 10.1.0.2.
    html = '<img src="http://10.0.0.2/a.jpg"><img src="http://10.1.0.2/b.jpg"><img src="http://[::1]/c.jpg">'
    assert images_on_page(html, "http://10.0.0.2/") == ["http://10.0.0.2/a.jpg"]
