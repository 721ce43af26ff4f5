"""The edge cache over loopback: a gateway with distributions in front of a real upstream that counts
its requests and answers with the Cache-Control / Expires / ETag / status the test asks for (request
headers X-Respond-*, forwarded to the origin on a miss), Lambda@Edge functions that count their runs,
and invalidations through the admin listener and the ``gateway invalidate`` command as a child process.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.config import GatewayConfig
from gateway.testing import RunningGateway, start_gateway
from tests.edge.conftest import serve_asgi

HERE = Path(__file__).parent
REPO = HERE.parent.parent
HITS: Counter[str] = Counter()
SEEN: dict[str, list[dict[str, str]]] = {}
RESPOND = ("Cache-Control", "Expires", "ETag", "Last-Modified")


async def origin(request: Request) -> Response:
    """Counts each request per path and query; answers 304 when If-None-Match names X-Respond-ETag."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    HITS[target] += 1
    SEEN.setdefault(target, []).append({k.lower(): v for k, v in request.headers.items()})
    headers = {"X-Hit": str(HITS[target])}
    headers.update({name: request.headers[f"x-respond-{name}"] for name in RESPOND
                    if f"x-respond-{name}" in request.headers})
    if "ETag" in headers and request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    pad = b" " * int(request.headers.get("x-respond-size", "0"))
    body = json.dumps({"target": target, "hit": HITS[target], "method": request.method}).encode() + pad
    return Response(body, status_code=int(request.headers.get("x-respond-status", "200")), headers=headers,
                    media_type="application/json")


upstream_app = Starlette(routes=[Route("/{path:path}", origin, methods=["GET", "HEAD", "POST", "OPTIONS"])])


@pytest.fixture(scope="module")
def counting_upstream() -> Iterator[str]:
    with serve_asgi(upstream_app) as url:
        yield url


def _fn(handler: str) -> dict[str, Any]:
    return {"handler": f"cache_fns.{handler}", "code_uri": str(HERE / "handlers"), "isolation": "inprocess",
            "timeout": 10}


def cache_config(upstream: str) -> dict[str, Any]:
    count = {"function": "count"}
    return {
        "functions": {"count": _fn("count"), "generate": _fn("generate")},
        "admin": {"listen": "127.0.0.1:0"},
        "distributions": [
            {"name": "cached", "listen": "127.0.0.1:0", "origins": [{"id": "up", "url": upstream}], "behaviors": [
                {"path": "/hooks/*", "origin": "up", "cache": {"default_ttl": 300}, "viewer_request": count,
                 "origin_request": count, "origin_response": count, "viewer_response": count},
                {"path": "/ogen/*", "origin": "up", "cache": {}, "origin_request": {"function": "generate"}},
                {"path": "/vgen/*", "origin": "up", "cache": {}, "viewer_request": {"function": "generate"}},
                {"path": "/keyed/*", "origin": "up",
                 "cache": {"query_strings": ["v"], "headers": ["X-Lang"], "cookies": ["session"]}},
                {"path": "/short/*", "origin": "up", "cache": {"default_ttl": 1, "max_ttl": 1}},
                {"path": "/opts/*", "origin": "up", "cache": {}, "cached_methods": ["GET", "HEAD", "OPTIONS"]},
                {"path": "/nocache/*", "origin": "up"},
                {"path": "*", "origin": "up", "cache": {}},
            ]},
            {"name": "tiny", "listen": "127.0.0.1:0", "cache_size_mb": 0.004,
             "origins": [{"id": "up", "url": upstream}], "behaviors": [{"path": "*", "origin": "up", "cache": {}}]},
        ],
    }


@pytest.fixture(scope="module")
def gateway(counting_upstream: str) -> Iterator[RunningGateway]:
    config = GatewayConfig.from_mapping(cache_config(counting_upstream), base_dir=HERE)
    with start_gateway(config, ephemeral_ports=True) as running:
        yield running


@pytest.fixture(scope="module")
def cf(gateway: RunningGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.urls["cached"].rstrip("/"), timeout=20) as client:
        yield client


def _cache(r: httpx.Response) -> str:
    return r.headers["x-cache"]


def test_miss_then_hit_with_age_and_one_origin_request(cf: httpx.Client) -> None:
    first = cf.get("/plain/a", headers={"X-Respond-Cache-Control": "max-age=60"})
    assert first.status_code == 200 and _cache(first) == "Miss from cloudfront" and "age" not in first.headers
    second = cf.get("/plain/a")
    assert second.status_code == 200 and _cache(second) == "Hit from cloudfront"
    assert second.headers["age"] == "0" and second.content == first.content
    assert second.headers["cache-control"] == "max-age=60" and second.headers["x-hit"] == "1"
    assert second.headers["x-amz-cf-id"] != first.headers["x-amz-cf-id"] and "via" in second.headers
    assert HITS["/plain/a"] == 1


def _shape(r: httpx.Response) -> list[tuple[bytes, bytes]]:
    """The raw headers, in order, with the per-response X-Amz-Cf-Id and Date values masked."""
    return [(n, b"<id>" if n.lower() == b"x-amz-cf-id" else b"<date>" if n.lower() == b"date" else v)
            for n, v in r.headers.raw]


def test_a_plain_hit_answers_header_for_header_as_a_hit_through_the_full_path(cf: httpx.Client) -> None:
    """A plain GET hit is answered from the ASGI scope (DistributionFront.answer_from_cache); a conditional
    GET goes down the full request path and, when the stored object has no validator, gets the same 200."""
    first = cf.get("/plain/same", headers={"X-Respond-Cache-Control": "max-age=60"})
    fast = cf.get("/plain/same")
    full = cf.get("/plain/same", headers={"If-Modified-Since": "Mon, 02 Jan 2006 15:04:05 GMT"})
    assert [_cache(r) for r in (first, fast, full)] == ["Miss from cloudfront"] + ["Hit from cloudfront"] * 2

    assert _shape(fast) == _shape(full)
    assert [n for n, _ in fast.headers.raw] == [
        b"x-hit", b"cache-control", b"content-type", b"server", b"Age", b"X-Cache", b"Via", b"X-Amz-Cf-Pop",
        b"X-Amz-Cf-Id", b"content-length", b"date"]
    assert (fast.status_code, fast.content, fast.reason_phrase) == (200, first.content, "OK")
    assert fast.headers["x-amz-cf-id"] != full.headers["x-amz-cf-id"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{54}==", fast.headers["x-amz-cf-id"])  # 40 random bytes, URL-safe base64
    assert HITS["/plain/same"] == 1


@pytest.mark.parametrize(("method", "status", "state"), [("HEAD", "200", "Hit"), ("GET", "404", "Error")])
def test_fast_and_full_path_hits_agree_for_head_and_for_a_cached_error(
    cf: httpx.Client, method: str, status: str, state: str,
) -> None:
    """As above for a HEAD answered from a stored GET, and for an origin's 404 kept for the error caching
    minimum TTL (X-Cache: Error from cloudfront)."""
    path = f"/plain/agree-{method}-{status}"
    first = cf.get(path, headers={"X-Respond-Status": status})
    fast = cf.request(method, path)
    full = cf.request(method, path, headers={"If-Modified-Since": "Mon, 02 Jan 2006 15:04:05 GMT"})
    assert [_cache(r) for r in (fast, full)] == [f"{state} from cloudfront"] * 2
    assert (fast.status_code, fast.content) == (full.status_code, full.content) == (
        int(status), b"" if method == "HEAD" else first.content)

    assert _shape(fast) == _shape(full)
    assert HITS[path] == 1


def test_no_store_private_and_a_past_expires_are_not_cached(cf: httpx.Client) -> None:
    for path, header in (("/plain/ns", {"X-Respond-Cache-Control": "no-store"}),
                         ("/plain/pv", {"X-Respond-Cache-Control": "private, max-age=60"}),
                         ("/plain/ex", {"X-Respond-Expires": "Thu, 01 Jan 1970 00:00:00 GMT"})):
        assert [_cache(cf.get(path, headers=header)) for _ in range(2)] == ["Miss from cloudfront"] * 2, path
        assert HITS[path] == 2


def test_a_behavior_without_a_cache_policy_never_caches(cf: httpx.Client) -> None:
    assert [_cache(cf.get("/nocache/x")) for _ in range(2)] == ["Miss from cloudfront"] * 2
    assert HITS["/nocache/x"] == 2


def test_s_maxage_bounded_by_max_ttl_expires_then_refresh_hit_on_304(cf: httpx.Client) -> None:
    tagged = {"X-Respond-Cache-Control": "max-age=600, s-maxage=300", "X-Respond-ETag": '"v1"'}
    first = cf.get("/short/tagged", headers=tagged)
    assert _cache(first) == "Miss from cloudfront"
    assert _cache(cf.get("/short/tagged", headers=tagged)) == "Hit from cloudfront"
    assert _cache(cf.get("/short/plain")) == "Miss from cloudfront"
    time.sleep(1.1)  # max_ttl = 1 bounds s-maxage=300
    refreshed = cf.get("/short/tagged", headers=tagged)
    assert refreshed.status_code == 200 and _cache(refreshed) == "RefreshHit from cloudfront"
    assert refreshed.content == first.content and refreshed.headers["age"] == "0"
    assert HITS["/short/tagged"] == 2 and SEEN["/short/tagged"][1]["if-none-match"] == '"v1"'
    assert "if-none-match" not in SEEN["/short/tagged"][0]
    assert _cache(cf.get("/short/tagged", headers=tagged)) == "Hit from cloudfront"
    assert _cache(cf.get("/short/plain")) == "Miss from cloudfront"  # expired, no validator: fetched again
    assert HITS["/short/plain"] == 2


def test_cache_key_has_only_the_chosen_query_strings_headers_and_cookies(cf: httpx.Client) -> None:
    def get(query: str, lang: str = "fr", cookie: str = "session=s1; theme=dark") -> str:
        return _cache(cf.get(f"/keyed/x?{query}", headers={"X-Lang": lang, "Cookie": cookie}))

    assert get("v=1&z=1") == "Miss from cloudfront"
    assert get("v=1&z=2") == "Hit from cloudfront"  # z is not in the key
    assert get("v=1&z=3", cookie="theme=light; session=s1") == "Hit from cloudfront"  # nor the theme cookie
    assert get("v=2&z=1") == "Miss from cloudfront"
    assert get("v=1&z=1", lang="en") == "Miss from cloudfront"
    assert get("v=1&z=1", cookie="session=s2") == "Miss from cloudfront"
    assert HITS["/keyed/x?v=1&z=1"] == 3 and HITS["/keyed/x?v=1&z=2"] == 0  # the origin gets the full query


def test_only_cached_methods_are_cached_and_head_is_answered_from_get(cf: httpx.Client) -> None:
    assert [_cache(cf.post("/plain/post", content=b"x")) for _ in range(2)] == ["Miss from cloudfront"] * 2
    assert [_cache(cf.options("/plain/opt")) for _ in range(2)] == ["Miss from cloudfront"] * 2
    assert [_cache(cf.options("/opts/opt")) for _ in range(2)] == ["Miss from cloudfront", "Hit from cloudfront"]
    assert (HITS["/plain/post"], HITS["/plain/opt"], HITS["/opts/opt"]) == (2, 2, 1)
    cf.get("/plain/head")
    head = cf.head("/plain/head")
    assert head.status_code == 200 and _cache(head) == "Hit from cloudfront" and head.content == b""
    assert _cache(cf.head("/plain/head-first")) == "Miss from cloudfront"
    assert _cache(cf.get("/plain/head-first")) == "Miss from cloudfront"  # a HEAD's answer is not stored
    assert HITS["/plain/head"] == 1 and HITS["/plain/head-first"] == 2


def test_origin_hooks_run_only_on_a_miss_viewer_hooks_on_every_request(cf: httpx.Client) -> None:
    runs = []
    for _ in range(3):
        r = cf.get("/hooks/x")
        runs.append((_cache(r), r.headers["x-runs-origin-response"], r.headers["x-runs-viewer-response"]))
    assert runs == [("Miss from cloudfront", "1", "1"), ("Hit from cloudfront", "1", "2"),
                    ("Hit from cloudfront", "1", "3")]
    seen = SEEN["/hooks/x"]
    assert len(seen) == 1 and seen[0]["x-runs-origin-request"] == "1" and seen[0]["x-runs-viewer-request"] == "1"


def test_a_response_generated_at_origin_request_is_cached(cf: httpx.Client) -> None:
    first, second = cf.get("/ogen/x"), cf.get("/ogen/x")
    assert first.json() == second.json() == {"stage": "origin-request", "runs": 1}
    assert _cache(second) == "Hit from cloudfront" and HITS["/ogen/x"] == 0


def test_a_response_generated_at_viewer_request_is_not_cached(cf: httpx.Client) -> None:
    bodies = [cf.get("/vgen/x") for _ in range(2)]
    assert [r.json()["runs"] for r in bodies] == [1, 2]
    assert {_cache(r) for r in bodies} == {"LambdaGeneratedResponse from cloudfront"}


def test_origin_errors_cached_for_the_error_caching_minimum_ttl(cf: httpx.Client) -> None:
    for path, status, expected in (("/plain/e404", "404", 1), ("/plain/e403", "403", 2), ("/plain/e503", "503", 1)):
        answers = [cf.get(path, headers={"X-Respond-Status": status}) for _ in range(2)]
        assert [r.status_code for r in answers] == [int(status)] * 2
        assert {_cache(r) for r in answers} == {"Error from cloudfront"}
        assert HITS[path] == expected, path  # 403 only with max-age / s-maxage


def test_memory_bound_evicts_the_least_recently_used(gateway: RunningGateway) -> None:
    with httpx.Client(base_url=gateway.urls["tiny"].rstrip("/"), timeout=20) as tiny:
        def get(name: str) -> str:
            return _cache(tiny.get(f"/big/{name}", headers={"X-Respond-Size": "1200"}))

        # 4 KB holds two ~1.6 KB objects
        assert [get(n) for n in "abacbc"] == ["Miss from cloudfront", "Miss from cloudfront", "Hit from cloudfront",
                                              "Miss from cloudfront", "Miss from cloudfront", "Hit from cloudfront"]
    assert (HITS["/big/a"], HITS["/big/b"], HITS["/big/c"]) == (1, 2, 1)


def _admin(gateway: RunningGateway) -> str:
    return gateway.urls["admin"].rstrip("/")


def test_invalidation_through_the_admin_listener(cf: httpx.Client, gateway: RunningGateway) -> None:
    for path in ("/inv/a", "/inv/b", "/keep/c"):
        cf.get(path)
    r = httpx.post(f"{_admin(gateway)}/distributions/cached/invalidations", json={"paths": ["/inv/*"]})
    assert r.status_code == 201 and r.headers["content-type"] == "application/json"
    inv = r.json()["Invalidation"]
    assert inv["Status"] == "Completed" and len(inv["Id"]) == 14 and inv["Id"].startswith("I")
    assert inv["InvalidationBatch"]["Paths"] == {"Quantity": 1, "Items": ["/inv/*"]}
    assert r.headers["location"] == r.json()["Location"] and r.json()["Location"].endswith(f"/invalidation/{inv['Id']}")
    assert [_cache(cf.get(p)) for p in ("/inv/a", "/inv/b", "/keep/c")] == [
        "Miss from cloudfront", "Miss from cloudfront", "Hit from cloudfront"]


def test_invalidation_refuses_bad_paths_and_unknown_distributions(gateway: RunningGateway) -> None:
    r = httpx.post(f"{_admin(gateway)}/distributions/cached/invalidations", json={"paths": ["/a*b"]})
    assert r.status_code == 400 and r.json()["Error"]["Code"] == "InvalidArgument"
    assert "'*' is allowed only as the last character" in r.json()["Error"]["Message"]
    assert httpx.post(f"{_admin(gateway)}/distributions/nope/invalidations", json={"paths": ["/*"]}).status_code == 404
    assert httpx.get(f"{_admin(gateway)}/distributions/cached/invalidations").status_code == 405


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", "invalidate", *args], capture_output=True, text=True,
                          timeout=60, cwd=REPO, check=False)


def test_invalidate_command_with_admin_url_and_with_config(cf: httpx.Client, gateway: RunningGateway,
                                                          tmp_path: Path) -> None:
    cf.get("/cli/a")
    cf.get("/cli2/a")
    done = _cli("cached", "/cli/*", "--admin", _admin(gateway))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == ["/cli/*"]
    toml = tmp_path / "gateway.toml"
    toml.write_text(f'[admin]\nlisten = "127.0.0.1:{gateway.ports["admin"]}"\n')
    done = _cli("cached", "/cli2/a", "--config", str(toml))
    assert done.returncode == 0, done.stderr
    assert [_cache(cf.get(p)) for p in ("/cli/a", "/cli2/a")] == ["Miss from cloudfront"] * 2


def test_invalidate_command_errors(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = _cli("cached", "/*", "--admin", f"http://127.0.0.1:{port}")
    assert done.returncode == 1 and "cannot reach the gateway's admin listener" in done.stderr
    toml = tmp_path / "gateway.toml"
    toml.write_text("")
    done = _cli("cached", "/*", "--config", str(toml))
    assert done.returncode == 2 and "admin.listen" in done.stderr and "--admin URL" in done.stderr
