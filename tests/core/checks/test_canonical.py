"""Canonical URLs: the seed card's three addresses are one, and the fast path equals w3lib's."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.core.checks import canonical as C

SEED = [Path(__file__).resolve().parents[3] / "seeds" / "000_63d795e8c7832238.txt"]
_SEED_DATA = yaml.safe_load(SEED[0].read_text(encoding="utf-8").split("---")[1])


def test_seed_card_amp_and_cache_urls_are_its_source_url() -> None:
    articles = [_SEED_DATA, *_SEED_DATA["related"]]
    for item in articles:
        source = C.canonical_url(item["sourceUrl"])
        assert source and "www." not in source and "amp" not in source
        assert C.canonical_url(item["ampUrl"]) == source
        assert C.canonical_url(item["cdnAmpUrl"]) == source
        assert C.amp_cache_url(item["ampUrl"]) == item["cdnAmpUrl"]


@pytest.mark.parametrize(("url", "expected"), [
    ("HTTP://WWW.Example.COM:80/News/Item/#frag", "https://example.com/News/Item"),
    ("https://example.com/a?utm_source=x&utm_medium=y&fbclid=1&gclid=2&mc_cid=3&igshid=4&ref_src=5",
     "https://example.com/a"),
    ("https://example.com/story?id=42&utm_campaign=z", "https://example.com/story?id=42"),
    ("https://example.com/story?page=2&id=42", "https://example.com/story?id=42&page=2"),
    ("https://amp.example.com/a/b", "https://example.com/a/b"),
    ("https://example.com/a/b/amp", "https://example.com/a/b"),
    ("https://example.com/a/b/amp/", "https://example.com/a/b"),
    ("https://example.com/news/amp/world-123", "https://example.com/news/world-123"),
    ("https://example.com/world-123.amp", "https://example.com/world-123"),
    ("https://example.com/world-123.amp.html", "https://example.com/world-123.html"),
    ("https://example.com/a?amp=1", "https://example.com/a"),
    ("https://example.com/a?amp", "https://example.com/a"),
    ("https://example.com/a?outputType=amp", "https://example.com/a"),
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("https://example.com/", "https://example.com/"),
    ("https://example-com.cdn.ampproject.org/v/s/example.com/a?amp_js_v=0.1&usqp=mq331AQ", "https://example.com/a"),
    ("https://example-com.cdn.ampproject.org/i/s/example.com/img.jpg", "https://example.com/img.jpg"),
    ("https://example-com.cdn.ampproject.org/c/example.com/a", "https://example.com/a"),
    ("https://xn--bcher-de-65a.cdn.ampproject.org/c/s/xn--bcher-kva.de/a", "https://xn--bcher-kva.de/a"),
    ("https://example.com/caf%C3%A9?q=%7e", "https://example.com/caf%C3%A9?q=~"),
    ("https://bücher.de/a", "https://xn--bcher-kva.de/a"),
])  # fmt: skip
def test_canonical_forms(url: str, expected: str) -> None:
    assert C.canonical_url(url) == expected


@pytest.mark.parametrize("bad", ["", "mailto:a@b.c", "ftp://x.org/a", "not a url", "https://", "http://[::1"])
def test_no_web_link_is_none(bad: str) -> None:
    assert C.canonical_url(bad) is None


@pytest.mark.parametrize(("host", "label"), [
    ("amp.dw.com", "amp-dw-com"),
    ("a-b.example.com", "a--b-example-com"),
    ("en-us.example.com", "0-en--us-example-com-0"),  # 3rd and 4th characters would be "--"
    ("xn--bcher-kva.de", "xn--bcher-de-65a"),  # punycode: decoded, encoded, re-encoded
])  # fmt: skip
def test_amp_cache_subdomain_round_trip(host: str, label: str) -> None:
    assert C.amp_cache_subdomain(host) == label
    assert C.decode_amp_cache_subdomain(label) == host


def test_long_host_falls_back_to_the_sha256_form() -> None:
    host = "a" * 40 + "." + "b" * 30 + ".com"
    label = C.amp_cache_subdomain(host)
    assert len(label) == 52 and label.isalnum()
    assert C.decode_amp_cache_subdomain(label) is None


_PATH = st.text(alphabet="abcXYZ019._~/!$,;=:@+-%é", max_size=14)
_QUERY = st.text(alphabet="abXY09._~=&+,:/-%", max_size=14)


@settings(max_examples=600, deadline=None)
@given(scheme=st.sampled_from(["http", "HTTPS", "https"]),
       host=st.sampled_from(["www.Ex.com", "amp.a-b.org", "x.y.z.", "WWW.AMP.foo.com"]),
       port=st.sampled_from(["", ":80", ":8080", ":443"]), path=_PATH, query=st.none() | _QUERY,
       frag=st.booleans())
def test_fast_path_equals_w3lib(scheme: str, host: str, port: str, path: str, query: str | None,
                                frag: bool) -> None:
    url = f"{scheme}://{host}{port}/{path}" + (f"?{query}" if query is not None else "") + ("#f" if frag else "")
    m = C._PLAIN.fullmatch(url)
    if m:
        assert C._fast(m) == C._slow(url)
        _counts["fast"] += 1
    assert C.canonical_url(url) == C._slow(url) or "cdn.ampproject" in url


_counts = {"fast": 0}


def test_fast_path_was_exercised() -> None:
    test_fast_path_equals_w3lib()
    assert _counts["fast"] > 100
