"""An inventory written the way IDR writes theirs (INI, IDR's group names,
every setting in group_vars/ beside the playbooks under IDR's and the ome
roles' variable names, nothing deploycheck-specific but the addresses) runs
the IDR profile against the reference stack: the roles are IDR's groups, the
expectations come from IDR's variables, and controls really run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

IDR_STYLE = ROOT / "inventories" / "idr-style"
ARGS = [f"--inventory={IDR_STYLE / 'hosts'}", f"--playbook-dir={IDR_STYLE / 'ansible'}"]


def test_expectations_come_from_idr_variables() -> None:
    done = subprocess.run([sys.executable, "-m", "deploycheck.inventory", "-i", str(IDR_STYLE / "hosts"),
                           "--playbook-dir", str(IDR_STYLE / "ansible"), "--expectations"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for line in ("role proxy: group proxy-hosts", "role database: group database-hosts",
                 "cachebuster_port = 9000  (deployment variable nginx_proxy_cachebuster_port",
                 "pg_data_dir = \"/var/lib/pgsql/15/data\"  (deployment variable postgresql_version",
                 "session_cookie_name = \"sessionid_idr\"  (deployment variable omero_web_config_set",
                 "readonly_db_user = \"omeroreadonly\"  (deployment variable idr_omero_readonly_database"):
        assert line in done.stdout, done.stdout


def test_idr_profile_runs_from_an_idr_style_inventory(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", *ARGS, f"--reports-dir={tmp_path}", "-n", "2",
                           "-m", "not disruptive", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "roles: proxy=proxy-hosts (1), omeroreadonly=omeroreadonly-hosts (1)" in done.stdout, done.stdout[:2000]
    records = json.loads((tmp_path / "controls.json").read_text())["controls"]
    verdicts = {(r["id"], r["host"]): r["outcome"] for r in records}
    ran = [k for k, v in verdicts.items() if v in ("passed", "failed", "error")]
    assert len(ran) >= 60, f"only {len(ran)} controls ran: {done.stdout[-2000:]}"
    problems = {(r["id"], r["host"]): r["message"] for r in records if r["outcome"] in ("failed", "error")}
    assert set(problems) == EXPECTED_PROBLEMS, json.dumps({f"{k[0]}[{k[1]}]": m for k, m in problems.items()},
                                                          indent=1)
    # the database controls log in with the password IDR's variables give, and pass
    assert verdicts[("IDR-DB-02", "idr-database")] == "passed"


# Controls that cannot pass without a deploycheck-specific setting the
# inventory leaves out on purpose (each with its reason), pinned so that any
# other change of verdict shows.
EXPECTED_PROBLEMS = {
    # the site's certificate is signed by the stack's own CA, and the inventory names no tls_ca_file
    ("IDR-TLS-01", "idr-proxy"), ("IDR-LOGIN-01", "idr-proxy"),
    # the backup folders are seed 002 practice, not Ansible variables of IDR's: the defaults
    # (/OMERO/backup/...) differ from the reference stack's, and only pg_dump_dir/config_backup set them
    ("OMERO-BACKUP-02", "idr-database"), ("OMERO-BACKUP-03", "idr-database"),
    ("OMERO-BACKUP-05", "idr-omeroreadwrite"),
}
