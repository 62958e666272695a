"""Loaded with ``-p interrupt_plugin`` by the interrupt self-test: presses
Ctrl-C (raises KeyboardInterrupt) at the first maintenance-page request,
i.e. while the maintenance flag is set."""

from __future__ import annotations

import os
import subprocess

from deploycheck.transport.http import Client

FLAG = "/srv/www/omero-maintenance.flag"

_original_get = Client.get


def _interrupting_get(self: Client, path: str, *args, **kwargs):
    if path.startswith("/webclient/?dc="):
        seen = subprocess.run(["docker", "exec", "idr-proxy", "test", "-e", FLAG], timeout=30).returncode == 0
        with open(os.environ["DC_INTERRUPT_MARK"], "w") as mark:  # proof the flag was set when interrupted
            mark.write("flag-set" if seen else "flag-absent")
        raise KeyboardInterrupt
    return _original_get(self, path, *args, **kwargs)


Client.get = _interrupting_get
