"""Reading OMERO.web's sessions the way the image-region microservice does:
Django's cache session in Redis (``:1:django.contrib.sessions.cache<id>``),
pickled, holding the connector: a plain dict since omero-web 5.18, an
``omeroweb.connector.Connector`` object before."""

from __future__ import annotations

import base64
import io
import pickle
import shlex

from deploycheck.inventory.loader import Node
from deploycheck.report.redact import remember
from deploycheck.transport.remote import run_with_input, testinfra_host

KEY_FORMAT = ":1:django.contrib.sessions.cache{}"


class _Connector:
    """Attributes of omeroweb.connector.Connector, without importing OMERO.web."""


class _SessionUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        if (module, name) == ("omeroweb.connector", "Connector"):
            return _Connector
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in an OMERO.web session")


# The password arrives on standard input and goes to curl through a private
# file: it never stands in a command line (ps, sudo's log) on the host.
LOGIN_SCRIPT = (
    'umask 077; jar=$(mktemp) && pw=$(mktemp) && IFS= read -r secret && printf %s "$secret" >"$pw" && '
    'base="http://127.0.0.1" && '
    'curl -sS --globoff --max-time 20 -c "$jar" -o /dev/null --url "$base/webclient/login/" && '
    "token=$(awk '$6 == \"csrftoken\" {print $7}' \"$jar\") && "
    'curl -sS --globoff --max-time 20 -b "$jar" -c "$jar" -o /dev/null -H "Referer: $base/webclient/login/" '
    '--data-urlencode "csrfmiddlewaretoken=$token" --data-urlencode "server=$DC_SERVER" '
    '--data-urlencode "username=$DC_USER" --data-urlencode "password@$pw" --url "$base/webclient/login/" && '
    "awk -v n=\"$DC_COOKIE\" '$6 == n {print $7}' \"$jar\"; rm -f \"$jar\" \"$pw\""
)


def backend_login(web_host: Node, user: str, password: str, cookie_name: str, server: int = 1) -> str | None:
    """Log in on a backend host's own OMERO.web (never through the proxy) as
    its login form asks: CSRF token, server index, user name, password; the
    session id."""
    pairs = (("DC_USER", user), ("DC_COOKIE", cookie_name), ("DC_SERVER", str(int(server))))
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in pairs)
    rc, out, _ = run_with_input(web_host, f"{env} sh -c {shlex.quote(LOGIN_SCRIPT)}", password + "\n")
    value = out.strip().splitlines()[-1:] if rc == 0 else []
    remember(value[0] if value else None)
    return value[0] if value else None


def session_cache_key(session_id: str) -> str:
    """The Redis key under which OMERO.web keeps the session ``session_id``."""
    return KEY_FORMAT.format(session_id)


def session_in_redis(web_host: Node, session_id: str, redis_db: int = 0) -> bool:
    """Whether the host's Redis holds the OMERO.web session ``session_id``."""
    return testinfra_host(web_host).run(session_exists_command(session_id, redis_db)).stdout.strip() == "1"


def session_exists_command(session_id: str, redis_db: int = 0) -> str:
    """Prints 1 when the host's Redis holds the OMERO.web session ``session_id``, else 0."""
    return f"redis-cli -n {int(redis_db)} EXISTS {shlex.quote(session_cache_key(session_id))}"


def omero_session_key(web_host: Node, session_id: str, redis_db: int = 0) -> str | None:
    """The OMERO session key behind an OMERO.web session id, or None."""
    cache_key = shlex.quote(session_cache_key(session_id))
    out = testinfra_host(web_host).run(f"redis-cli -n {int(redis_db)} --raw GET {cache_key} | head -c -1 | base64 -w0")
    if out.rc != 0 or not out.stdout.strip():
        return None
    try:
        session = _SessionUnpickler(io.BytesIO(base64.b64decode(out.stdout.strip()))).load()
    except (pickle.UnpicklingError, EOFError, ValueError):
        return None
    key = connector_session_key(session)
    remember(key)
    return key


def connector_session_key(session: object) -> str | None:
    """The OMERO session key in an unpickled OMERO.web session, either form."""
    connector = session.get("connector") if isinstance(session, dict) else None
    key = connector.get("omero_session_key") if isinstance(connector, dict) else \
        getattr(connector, "omero_session_key", None)
    return key if isinstance(key, str) else None
