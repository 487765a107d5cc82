"""Download headers: a file name every client can show, and the exact one
for clients that read RFC 5987."""

from __future__ import annotations

import re
from urllib.parse import unquote

from read_api.downloads import ascii_file_name, content_disposition

_EXTENDED = re.compile(r"; filename\*=UTF-8''([A-Za-z0-9%._~-]+)$")


def parsed_name(header: str) -> str:
    """The name an RFC 6266 client takes: ``filename*`` (RFC 5987: UTF-8,
    every byte but unreserved ones percent-encoded)."""
    extended = _EXTENDED.search(header)
    assert extended is not None, header
    return unquote(extended.group(1), encoding="utf-8", errors="strict")


def test_a_plain_name_is_sent_once():
    header = content_disposition("ISO-9001-stage-2-Nordic-Valves-2026-12-04.pdf")
    assert header == (
        'attachment; filename="ISO-9001-stage-2-Nordic-Valves-2026-12-04.pdf"'
    )


def test_a_name_beyond_ascii_is_sent_exactly_and_as_an_ascii_stand_in():
    name = "ISO-9001-Łódź-Zürich-İstanbul-Ærøskøbing-Göteborg.pdf"
    header = content_disposition(name)
    assert parsed_name(header) == name
    assert 'filename="ISO-9001-_odz-Zurich-Istanbul-_r_sk_bing-Goteborg.pdf"' in header
    assert header.isascii()


def test_quotes_backslashes_and_controls_cannot_break_the_header():
    name = 'a"b\\c\r\nSet-Cookie: x.pdf'
    header = content_disposition(name)
    assert "\r" not in header
    assert "\n" not in header
    assert header.count('"') == 2
    assert parsed_name(header) == name
    assert ascii_file_name(name) == "a_b_c__Set-Cookie: x.pdf"
