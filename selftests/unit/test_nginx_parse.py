"""Reading nginx -T output."""

from __future__ import annotations

from deploycheck.facts import nginx

CONFIG = """
user www-data;
http {
    log_format main_timed_cache_upstream '$remote_addr "$request" '
        '$request_time $upstream_cache_status $upstream_addr';
    access_log /var/log/nginx/access.log main_timed_cache_upstream;
    access_log /var/log/nginx/plain.log;
    upstream omeroreadonly {
        ip_hash;
        server idr-omeroreadonly-1:80 max_fails=3;
        server idr-omeroreadonly-2;
    }
}
"""


def test_worker_user_and_upstream() -> None:
    assert nginx.worker_user(CONFIG) == "www-data"
    assert nginx.upstream_servers(CONFIG, "omeroreadonly") == ["idr-omeroreadonly-1", "idr-omeroreadonly-2"]
    assert nginx.upstream_servers(CONFIG, "missing") is None


def test_log_formats_and_access_logs() -> None:
    assert "$upstream_cache_status" in nginx.log_formats(CONFIG)["main_timed_cache_upstream"]
    assert nginx.access_logs(CONFIG) == [("/var/log/nginx/access.log", "main_timed_cache_upstream"),
                                         ("/var/log/nginx/plain.log", "combined")]
