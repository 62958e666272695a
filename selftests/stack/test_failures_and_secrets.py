"""A run against a host that is gone, and a run whose failures involve secrets."""

from __future__ import annotations

from conftest import reference

PLANTED = {"private_password": "PLANTED-private-7f3a91", "readonly_db_password": "PLANTED-readonly-c2e8d4"}


def test_unreachable_host_gives_one_line_errors(deploycheck) -> None:
    inv = reference("idr")
    db = inv["all"]["children"]["database"]["hosts"]
    db["idr-database-gone"] = db.pop("idr-database")
    run = deploycheck(inv, "tests/idr", "tests/omero")
    assert run.rc == 1, run.output[-800:]
    gone = [c for c in run.controls() if c["host"] == "idr-database-gone"]
    others = [c for c in run.controls() if c["host"] not in ("idr-database-gone", "-")]
    assert gone and all(c["outcome"] in ("error", "skipped") for c in gone), [(c["id"], c["outcome"]) for c in gone]
    assert sum(c["outcome"] == "error" for c in gone) >= 10
    assert all("idr-database-gone" in c["message"] and "\n" not in c["message"] for c in gone)
    assert others and all(c["outcome"] in ("passed", "skipped") for c in others), \
        [(c["id"], c["host"], c["outcome"]) for c in others if c["outcome"] not in ("passed", "skipped")]
    assert run.seconds < 60, f"run took {run.seconds:.0f} s"


def test_planted_secrets_never_appear(deploycheck) -> None:
    inv = reference("idr")
    inv["all"]["vars"].update(PLANTED)
    run = deploycheck(inv, "-vv", "-k", "private_page or readonly or plate_and_dataset")
    assert run.rc == 1, run.output[-800:]
    failed = {c["id"] for c in run.controls() if c["outcome"] in ("failed", "error")}
    assert {"IDR-LEAK-01", "IDR-DB-02"} <= failed, failed
    text = run.all_text()
    leaked = [name for name, secret in PLANTED.items() if secret in text]
    assert not leaked, f"secrets of {leaked} appear in the output or reports"


SECRETS_OF_EVERY_KIND = {"private_password": 'PLANTED "quoted" \\ back\tslash', "readonly_db_password": 73519284,
                         "db_password": "PLANTED-db-e91b7c"}


def test_secrets_of_every_kind_stay_out_of_logs_and_reports(deploycheck, tmp_path) -> None:
    """Numeric and escaped secrets, a failing control at default verbosity with
    its locals (-l), live DEBUG logs and a log file: none shows a secret, in
    any of the forms it may be written in (as is, repr, JSON, XML)."""
    import json
    from xml.sax.saxutils import escape

    inv = reference("idr")
    inv["all"]["vars"].update(SECRETS_OF_EVERY_KIND)
    run = deploycheck(inv, "-l", "--log-cli-level=DEBUG", f"--log-file={tmp_path / 'reports' / 'debug.log'}",
                      "-k", "private_page or readonly or plate_and_dataset")
    assert run.rc == 1, run.output[-800:]
    assert (run.reports / "debug.log").is_file() and "DEBUG" in (run.reports / "debug.log").read_text()
    text = run.all_text()
    for name, secret in SECRETS_OF_EVERY_KIND.items():
        for form in {str(secret), repr(str(secret))[1:-1], json.dumps(str(secret))[1:-1], escape(str(secret))}:
            assert form not in text, f"{name} appears ({form!r})"


def test_refused_and_unresolvable_ssh_hosts(deploycheck) -> None:
    """A refused SSH port and a name that does not resolve: quick, one line each, exit 1."""
    inv = reference("idr")
    inv["all"]["children"]["database"]["hosts"] = {
        "db-refused": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1,
                       "ansible_timeout": 3},
        "db-nodns": {"ansible_connection": "ssh", "ansible_host": "no-such-host.invalid", "ansible_timeout": 3},
    }
    run = deploycheck(inv, "tests/idr/test_data.py", "tests/idr/test_db.py", "tests/omero/test_backup.py")
    assert run.rc == 1, run.output[-800:]
    bad = [c for c in run.controls() if c["host"] in ("db-refused", "db-nodns")]
    assert bad and all(c["outcome"] == "error" and c["host"] in c["message"] and "\n" not in c["message"]
                       for c in bad), [(c["id"], c["host"], c["outcome"], c["message"][:80]) for c in bad]
    assert run.seconds < 3 + 5 + 10, f"run took {run.seconds:.1f} s"  # timeout + 5 s + pytest start-up


def test_tls_failure_is_one_line_per_control(deploycheck) -> None:
    """HTTPS pointed at a plain-HTTP port: the TLS-dependent controls fail quickly, one line each."""
    inv = reference("vidjil")
    inv["all"]["children"]["vidjil"]["hosts"]["vidjil-reference"]["public_https_url"] = "https://localhost:28080"
    run = deploycheck(inv, "tests/vidjil/test_http.py", "tests/vidjil/test_tls.py", "tests/vidjil/test_auth.py",
                     "tests/vidjil/test_mon.py", "tests/vidjil/test_cfg.py::test_germlines")
    assert run.rc == 1, run.output[-800:]
    broken = [c for c in run.controls() if c["outcome"] in ("failed", "error")]
    assert {"VIDJIL-TLS-01", "VIDJIL-TLS-02", "VIDJIL-AUTH-02"} <= {c["id"] for c in broken}, broken
    assert all(c["message"] and "\n" not in c["message"] for c in broken)
    assert run.seconds < 30, f"run took {run.seconds:.1f} s"


def test_session_cookies_are_masked(deploycheck) -> None:
    """A failing render control shown with its locals (-l) would print the public session cookie."""
    import re

    inv = reference("idr")
    # the image exists (its rendering settings load) but is not the size the inventory says: the render control fails
    inv["all"]["vars"]["test_image"] = {"id": 1, "size_x": 64, "size_y": 64, "size_z": 5, "size_c": 3}
    run = deploycheck(inv, "-vv", "-l", "-n", "0", "-k", "render_image_plane")
    assert run.rc == 1, run.output[-800:]
    text = run.all_text()
    assert "sessionid_idr" in text, "the cookie name should show in the locals; the test proves nothing"
    exposed = re.findall(r"sessionid_idr\W{1,6}([a-z0-9]{20,})", text)
    assert not exposed, f"session cookie values appear in the output: {exposed[:2]}"
