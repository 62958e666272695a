"""The IDR stand-ins refuse what the real software refuses, as it refuses
it: omero-ms-image-region 0.10.0 through the public proxy (bare channels,
missing model, request order, worker failures, clipped regions, its
/metrics), OMERO.web 5.26's login form, JSON api root and session format.
A stand-in more permissive than the real one would hide suite defects."""

from __future__ import annotations

import pickle
import subprocess
import uuid

import pytest
import requests

SITE = "http://127.0.0.1:18080"
REGION = SITE + "/webgateway/render_image_region/1/0/0/"
FULL = "c=1|0:4095$FF0000&m=c"
MISSING_WINDOW = "Must include window and color in each channel. Missing in channel"


def _exec(container: str, script: str) -> str:
    done = subprocess.run(["docker", "exec", container, "sh", "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def cookies() -> dict[str, str]:
    r = requests.get(SITE + "/webclient/?experimenter=-1", timeout=10)
    assert r.cookies.get("sessionid_idr"), "no public session cookie"
    return {"sessionid_idr": r.cookies["sessionid_idr"]}


def _get(query: str, cookies: dict[str, str] | None) -> requests.Response:
    return requests.get(f"{REGION}?{query}&u={uuid.uuid4().hex}", cookies=cookies, timeout=20)


@pytest.mark.parametrize(("query", "status", "body"), [
    ("c=1&m=c&region=0,0,8,8", 400, f"{MISSING_WINDOW} 1"),
    ("c=1,2,3&m=c", 400, f"{MISSING_WINDOW} 1"),
    ("c=1|0:255&m=c", 400, f"{MISSING_WINDOW} 1"),
    ("c=1|0:255$FF0000,-2&m=c", 400, f"{MISSING_WINDOW} -2"),
    ("m=c", 400, "Must provide channels in parameter 'c'"),
    ("c=1|0:255$FF0000", 400, "Must provide rendering model parameter 'm' with value either 'g' or 'c'"),
    ("c=1&m=c&tile=a", 400, "Failed to parse 'tile' parameter"),  # tile is parsed before c
    ("c=1|0:255$FF0000&m=c&format=jpg", 400, "Unsupported format request.Supported formats are jpeg, png, and tif"),
    (f"c={','.join(f'{n}|0:1$FF0000' for n in range(1, 12))}&m=c", 400,
     "Too many active channels. Cannot process more than 10 per request"),
    (f"{FULL}&region=300,0,10,10", 404, "Cannot find Image:1"),
    (f"{FULL}&tile=9,0,0", 404, "Cannot find Image:1"),
])
def test_microservice_refuses_as_the_real_one(cookies: dict[str, str], query: str, status: int, body: str) -> None:
    r = _get(query, cookies)
    assert r.status_code == status and r.text.startswith(body), (r.status_code, r.text[:200])


def test_no_session_is_refused_before_parameters() -> None:
    r = _get("c=1&m=c", None)
    assert (r.status_code, r.text) == (403, "")


def test_full_channel_specs_render_and_regions_are_clipped(cookies: dict[str, str]) -> None:
    from io import BytesIO

    from PIL import Image

    r = _get(f"{FULL}&region=250,250,100,100&format=png", cookies)
    assert r.status_code == 200 and Image.open(BytesIO(r.content)).size == (6, 6)
    whole = _get(f"{FULL}&format=png", cookies)  # neither tile nor region: the whole plane
    assert whole.status_code == 200 and Image.open(BytesIO(whole.content)).size == (256, 256)
    tile = requests.get(f"{SITE}/webgateway/render_image_region/3/0/0/?{FULL}&tile=0,0,0&u={uuid.uuid4().hex}",
                        cookies=cookies, timeout=20)
    assert tile.status_code == 200 and Image.open(BytesIO(tile.content)).size == (512, 512)


def test_metrics_hold_spans_and_no_request_counters() -> None:
    text = _exec("idr-omeroreadonly-1", "curl -sS http://127.0.0.1:8081/metrics")
    assert "# TYPE spanDuration summary" in text
    assert "requests" not in text and "vertx_http_server" not in text and "_created" not in text


def test_web_login_form_requires_server() -> None:
    script = ('jar=$(mktemp); curl -sS -c $jar -o /dev/null http://127.0.0.1/webclient/login/; '
              't=$(awk \'$6 == "csrftoken" {print $7}\' $jar); '
              'curl -sS -b $jar -w "%{http_code}" -H "Referer: http://127.0.0.1/webclient/login/" '
              '--data-urlencode csrfmiddlewaretoken=$t --data-urlencode username=researcher '
              '--data-urlencode password=researcher-secret-pw http://127.0.0.1/webclient/login/')
    out = _exec("idr-omeroreadonly-1", script)
    assert out.endswith("200") and "This field is required." in out


def test_web_api_root_and_shipped_icon() -> None:
    root = requests.get(SITE + "/api/v0/", timeout=10)
    assert root.headers.get("X-OMERO-ApiVersion") == "0.2"
    assert {"url:images", "url:login", "url:token", "url:schema"} <= set(root.json())
    icon = requests.get(SITE + "/static/webgateway/img/ome.ico", timeout=10)
    assert icon.status_code == 200 and icon.content[:4] == b"\x00\x00\x01\x00"


def test_web_session_connector_is_a_plain_dict(cookies: dict[str, str]) -> None:
    key = ":1:django.contrib.sessions.cache" + cookies["sessionid_idr"]
    raw = _exec("idr-omeroreadonly-1", f"redis-cli --raw GET '{key}' | head -c -1 | base64 -w0")
    import base64

    session = pickle.loads(base64.b64decode(raw))  # plain types only: no class to import
    assert set(session["connector"]) == {"server_id", "is_secure", "is_public", "omero_session_key", "user_id"}
    assert session["connector"]["server_id"] == 1 and session["connector"]["is_public"] is True
