"""One masking path for every output: secrets by name anywhere in it,
declared ones, whole vaulted files, the kept part of a cut secret, URL
passwords, and what logging, warnings and load errors print."""

from __future__ import annotations

import json
import logging
import textwrap
import threading
import warnings
from pathlib import Path

import pytest
from _pytest._io.saferepr import saferepr

from deploycheck.inventory import __main__ as inventory_cli
from deploycheck.inventory import roles, variables
from deploycheck.inventory.loader import load
from deploycheck.inventory.variables import VARIABLES, Variable, validate
from deploycheck.report.redact import MASK, Redactor, declared_secrets, is_secret_name, mask_output, mask_warning
from selftests.unit.tmp_suite import run_tmp_suite

VAULT_PASSWORD = "deploycheck-masking-test-vault"  # this test's own throwaway vault
LONG_SECRET = "head-of-a-long-secret-" + "x" * 300 + "-tail-of-a-long-secret"


@pytest.mark.parametrize("name", [
    "idr_secret_postgresql_password_ro", "db_password_ro", "mysql_passwd_old", "ldap_pass", "rootpass",
    "stripe_api_key_live", "aws_credentials", "vault_db_host", "omero_server_dbpassword", "github-token-ci",
    "session_key", "ssh_key", "cookie_value", "idr_secret_anything",
])
def test_secret_words_anywhere_in_a_name(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", [
    "ansible_ssh_private_key_file", "vault_password_file", "password_hash_rounds", "password_min_length",
    "postgresql_password_encryption", "session_cookie_name", "proxy_bypass", "cache_key_prefix", "public_url",
    "passenger_count",
])
def test_names_about_a_secret_are_not_secrets(name: str) -> None:
    assert not is_secret_name(name)


def _inventory(tmp_path: Path, hostvars: str, extra: str = "") -> Path:
    path = tmp_path / "inv.yml"
    path.write_text(f"all:\n  hosts:\n    db:\n{textwrap.indent(hostvars, ' ' * 6)}{extra}")
    return path


def test_a_name_with_words_after_the_secret_word_is_masked(tmp_path: Path) -> None:
    inv = load([_inventory(tmp_path, "idr_secret_postgresql_password_ro: ro-s3cr3t-pw\n")])
    assert Redactor.from_inventory(inv)("psql with ro-s3cr3t-pw") == f"psql with {MASK}"
    assert inventory_cli.ansible_list(inv)["_meta"]["hostvars"]["db"]["idr_secret_postgresql_password_ro"] == MASK


def test_declared_secrets_are_masked_whatever_their_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(VARIABLES, "plain_setting", Variable("plain_setting", None, "t", secret=True,
                                                             deployment=(variables._var("their_setting"),)))
    inv = load([_inventory(tmp_path, "plain_setting: plain-looking-1\ntheir_setting: plain-looking-2\n")])
    redact = Redactor.from_inventory(inv)
    assert redact("plain-looking-1 plain-looking-2") == f"{MASK} {MASK}"
    assert set(inventory_cli.ansible_list(inv)["_meta"]["hostvars"]["db"].values()) == {MASK}


def test_every_variable_said_to_be_a_secret_is_declared_one() -> None:
    said = {v.name for v in VARIABLES.values() if "(secret)" in v.description}
    assert said and said <= declared_secrets()
    assert "idr_secret_postgresql_password_ro" in declared_secrets()


def _vault_encrypt(path: Path) -> None:
    from ansible.parsing.vault import VaultLib, VaultSecret

    cipher = VaultLib([("default", VaultSecret(VAULT_PASSWORD.encode()))]).encrypt(path.read_text())
    path.write_bytes(cipher)


def test_values_of_a_whole_vaulted_file_are_secrets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _inventory(tmp_path, "ansible_connection: local\n")
    (tmp_path / "group_vars" / "all").mkdir(parents=True)
    vaulted = tmp_path / "group_vars" / "all" / "vault.yml"
    vaulted.write_text("db_note: plain-looking-vaulted\nsettings: {inner: nested-vaulted-value}\n")
    _vault_encrypt(vaulted)
    password = tmp_path / "vault-password"
    password.write_text(VAULT_PASSWORD + "\n")
    inv = load([source], None, str(password))
    assert inv.hosts["db"].vars["db_note"] == "plain-looking-vaulted"
    redact = Redactor.from_inventory(inv)
    assert redact("plain-looking-vaulted, nested-vaulted-value") == f"{MASK}, {MASK}"
    assert inventory_cli.main(["-i", str(source), "--vault-password-file", str(password), "--list"]) == 0
    listed = capsys.readouterr().out
    assert json.loads(listed)["_meta"]["hostvars"]["db"]["db_note"] == MASK
    assert "vaulted-value" not in listed and "plain-looking-vaulted" not in listed


def test_the_kept_part_of_a_secret_pytest_cut_is_masked() -> None:
    shown = saferepr({"password": LONG_SECRET}, maxsize=80)  # how pytest shows values in an assertion or with -l
    assert "..." in shown and "head-of-a-long" in shown and LONG_SECRET not in shown
    masked = Redactor([LONG_SECRET])(f"assert {shown} == {{}}")
    assert "head-of-a" not in masked and "xxxxxxxx" not in masked and "tail-of-a" not in masked, masked
    assert Redactor([LONG_SECRET])("the kept ...x words") == "the kept ...x words"  # not a fragment: too short


def test_validation_masks_a_value_before_cutting_it(tmp_path: Path) -> None:
    secret = "/srv/" + "p" * 50 + "-long-path-secret"
    inv = load([_inventory(tmp_path, f"db_password: {secret}\nansible_connection: local\nexpected_units: "
                                     f"['{secret}']\nomero_data_dir: 'rel/{secret}'\n")])
    roles.assign(inv, {})
    problems = "; ".join(validate(inv))
    assert "expected_units" in problems and "omero_data_dir" in problems, problems
    assert "ppppppppp" not in problems and problems.count(MASK) == 2, problems


def test_a_baseline_url_password_is_masked_in_reports_and_on_stderr(tmp_path: Path) -> None:
    _inventory(tmp_path, "ansible_connection: local\n", "  children:\n    database:\n      hosts: {db: {}}\n")
    (tmp_path / "test_gate.py").write_text(textwrap.dedent("""\
        import logging, threading, warnings
        import pytest
        from deploycheck.control import control
        from deploycheck.plugin import baseline_of

        pytestmark = pytest.mark.hosts("database")

        @control("IDR-GATE-01", "t", "high", "r")
        def test_gate(node, request):
            url = baseline_of(request.config)
            thread = threading.Thread(target=lambda: warnings.warn(f"thread saw {url}"))
            thread.start()
            thread.join()
            try:
                raise ValueError(url)
            except ValueError:
                logging.getLogger("testinfra").debug("ran curl %s", url, exc_info=True)
            assert False, f"baseline {url} differs"
        """))
    done = run_tmp_suite(tmp_path, tmp_path / "test_gate.py", tmp_path / "inv.yml",
                         "--baseline=https://gate:Url-Pa55word@baseline.example/", "--log-level=DEBUG",
                         f"--log-file={tmp_path / 'run.log'}", "--log-file-level=DEBUG", "-rA")
    assert "1 failed" in done.stdout, done.stdout[-1500:] + done.stderr[-1500:]
    written = [(tmp_path / "reports" / name).read_text() for name in ("controls.json", "summary.md", "junit.xml")]
    for text in [done.stdout, done.stderr, (tmp_path / "run.log").read_text(), *written]:
        assert "Url-Pa55word" not in text, text[-2000:]
    assert f"https://gate:{MASK}@baseline.example" in written[0]
    assert "thread saw https://gate:" in done.stdout and "ran curl" in (tmp_path / "run.log").read_text()


def test_a_bad_baseline_url_is_refused_masked(tmp_path: Path) -> None:
    _inventory(tmp_path, "ansible_connection: local\n", "  children:\n    database:\n      hosts: {db: {}}\n")
    (tmp_path / "test_none.py").write_text("def test_none():\n    pass\n")
    done = run_tmp_suite(tmp_path, tmp_path / "test_none.py", tmp_path / "inv.yml", "--baseline=https://u:Pa55-word@")
    assert done.returncode == 2 and "no host in the URL" in done.stderr and "Pa55-word" not in done.stderr, done.stderr


def test_records_and_warnings_from_threads_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    mask_output(Redactor(["s3cr3t-in-thread"]))

    def work() -> None:
        try:
            raise RuntimeError("s3cr3t-in-thread")
        except RuntimeError:
            logging.getLogger("testinfra").debug("RUN %s", "s3cr3t-in-thread", exc_info=True)

    with caplog.at_level(logging.DEBUG):
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert caplog.records and "s3cr3t-in-thread" not in caplog.text and MASK in caplog.text
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        warnings.warn("warned s3cr3t-in-thread", UserWarning, stacklevel=1)
    mask_warning(seen[0])
    assert str(seen[0].message) == f"warned {MASK}"


def test_a_failed_command_quoted_cut_keeps_no_part_of_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from deploycheck.facts import hostfacts
    from deploycheck.inventory.loader import Node

    secret = "command-output-secret-" + "s" * 200
    monkeypatch.setattr(hostfacts, "command", lambda node, cmd: (1, "", f"psql: bad password {secret}"))
    with pytest.raises(AssertionError) as failed:
        hostfacts.output(Node("db"), "psql -c 'select 1'")
    assert "command-output" not in Redactor([secret])(str(failed.value)), str(failed.value)
