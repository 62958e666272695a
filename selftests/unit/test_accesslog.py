"""Access-log lines in IDR's main_timed_cache_upstream format."""

from __future__ import annotations

from deploycheck.facts.accesslog import parse_line

LINE = ('172.19.0.1 - - [24/Nov/2026:05:25:58 +0000] "GET /webgateway/render_image_region/1/2/0/?c=1 HTTP/1.1" '
        '200 1013 "-" "deploycheck/0.1.0 dc-abc-1-7" "-" 0.021 MISS 172.18.0.4:80')


def test_fields() -> None:
    entry = parse_line(LINE)
    assert entry is not None
    assert (entry.status, entry.cache, entry.upstream) == (200, "MISS", "172.18.0.4:80")


def test_hit_without_upstream() -> None:
    entry = parse_line(LINE.replace("0.021 MISS 172.18.0.4:80", "0.000 HIT -"))
    assert entry is not None and entry.cache == "HIT" and entry.upstream == "-"


def test_other_format_is_not_guessed() -> None:
    assert parse_line('1.2.3.4 - - [x] "GET / HTTP/1.1" 200 5 "-" "curl"') is None
