"""The distribution front over loopback: HTTP upstream, a front in process, a directory as S3."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import httpx

HERE = Path(__file__).parent


def _headers(doc: dict[str, object]) -> dict[str, str]:
    return {k.lower(): v for k, v in doc["headers"]}  # type: ignore[attr-defined]


def test_proxies_to_the_upstream_with_cloudfronts_headers(cf: httpx.Client, upstream: str) -> None:
    r = cf.get("/hello/world?a=1&b=%20x", headers={"X-Custom": "v", "Cookie": "c=1"})
    assert r.status_code == 200
    doc = r.json()
    assert doc["method"] == "GET" and doc["raw_path"] == "/hello/world" and doc["query"] == "a=1&b=%20x"
    sent = _headers(doc)
    assert sent["host"] == upstream.removeprefix("http://")  # the origin's own host:port
    assert sent["x-custom"] == "v" and sent["cookie"] == "c=1"
    assert sent["x-origin-secret"] == "s3cr3t"  # custom origin headers
    assert sent["x-forwarded-for"] == "127.0.0.1"
    assert re.fullmatch(r"1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)", sent["via"])
    assert len(sent["x-amz-cf-id"]) == 56
    assert r.headers["x-cache"] == "Miss from cloudfront"
    assert r.headers["via"] == sent["via"]
    assert r.headers["x-amz-cf-pop"] == "IAD89-C1"
    assert r.headers["x-amz-cf-id"] == sent["x-amz-cf-id"]  # one id for the request, viewer and origin side
    assert r.headers["x-upstream"] == "yes"
    assert len(r.headers.get_list("date")) == 1


def test_the_origin_sees_amazon_cloudfront_as_user_agent_unless_the_viewers_is_forwarded(cf: httpx.Client) -> None:
    with httpx.Client(base_url=str(cf.base_url), timeout=20) as bare:
        del bare.headers["User-Agent"]  # a viewer sending none
        anonymous = _headers(bare.get("/ua/none").json())
    assert anonymous["user-agent"] == "Amazon CloudFront"
    assert _headers(cf.get("/ua/some", headers={"User-Agent": "Viewer/1.0"}).json())["user-agent"] == "Viewer/1.0"


def test_post_body_and_method_reach_the_upstream(cf: httpx.Client) -> None:
    doc = cf.post("/submit", content=b"payload", headers={"Content-Type": "text/plain"}).json()
    assert doc["method"] == "POST" and doc["body"] == "payload"


def test_encoded_bodies_pass_through_untouched(cf: httpx.Client) -> None:
    r = cf.get("/gzip", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert json.loads(r.content)["path"] == "/gzip"  # httpx decoded the bytes the origin compressed
    with httpx.stream("GET", str(cf.base_url) + "/gzip", headers={"Accept-Encoding": "gzip"}) as raw:
        assert json.loads(gzip.decompress(b"".join(raw.iter_raw())))["path"] == "/gzip"


def test_origin_error_status_is_passed_with_x_cache_error(cf: httpx.Client) -> None:
    r = cf.get("/status/404")
    assert r.status_code == 404 and r.headers["x-cache"] == "Error from cloudfront"


def test_all_viewer_policy_forwards_the_viewers_host(cf: httpx.Client) -> None:
    doc = cf.get("/hostall/x", headers={"Host": "viewer.example.com"}).json()
    assert _headers(doc)["host"] == "viewer.example.com"


def test_origin_path_and_question_mark_pattern(cf: httpx.Client) -> None:
    doc = cf.get("/path/file").json()
    assert doc["raw_path"] == "/base/path/file"
    assert cf.get("/pth/file").json()["raw_path"] == "/pth/file"  # '?' is exactly one character: default


def test_method_not_allowed_by_the_behavior_is_403(cf: httpx.Client) -> None:
    r = cf.post("/getonly/x", content=b"x")
    assert r.status_code == 403
    assert r.headers["x-cache"] == "Error from cloudfront"
    assert "not configured to allow the HTTP request method" in r.text
    assert cf.get("/getonly/x").status_code == 200


def test_unreachable_origin_is_502(cf: httpx.Client) -> None:
    r = cf.get("/down/x")
    assert r.status_code == 502
    assert r.headers["content-type"] == "text/html"
    assert r.headers["x-cache"] == "Error from cloudfront" and "x-amz-cf-id" in r.headers
    assert "502 ERROR" in r.text


def test_origin_read_timeout_is_504(cf: httpx.Client) -> None:
    r = cf.get("/slow/x")
    assert r.status_code == 504 and "504 ERROR" in r.text


def test_front_origin_called_in_process_with_the_full_path(cf: httpx.Client) -> None:
    r = cf.post("/api/items/7?x=1", content=b'{"a":1}', headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    event = r.json()
    assert event["rawPath"] == "/api/items/7" and event["rawQueryString"] == "x=1"
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["body"] == '{"a":1}'
    assert "x-amz-cf-id" in event["headers"] and "via" in event["headers"]
    # CloudFront's X-Forwarded-For, then the HTTP API appends the peer it saw, as API Gateway does.
    assert event["headers"]["x-forwarded-for"].startswith("127.0.0.1")
    assert r.headers["x-cache"] == "Miss from cloudfront"


def test_directory_origin_serves_objects_like_s3(cf: httpx.Client) -> None:
    r = cf.get("/site/app.js")
    assert r.status_code == 200 and r.content == (HERE / "site" / "app.js").read_bytes()
    assert r.headers["content-type"] in ("text/javascript", "application/javascript")
    etag = r.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag) and r.headers["last-modified"].endswith("GMT")
    assert cf.get("/site/app.js", headers={"If-None-Match": etag}).status_code == 304
    ranged = cf.get("/site/app.js", headers={"Range": "bytes=0-6"})
    assert ranged.status_code == 206 and ranged.content == b"console"
    assert ranged.headers["content-range"].startswith("bytes 0-6/")
    assert cf.get("/site/app.js", headers={"Range": "bytes=999-"}).status_code == 416
    assert cf.get("/site/assets/style.css").headers["content-type"].startswith("text/css")


def test_directory_origin_missing_key_is_403_access_denied(cf: httpx.Client) -> None:
    for path in ("/site/nope.txt", "/site/", "/site/assets", "/site/%2e%2e/%2e%2e/pyproject.toml"):
        r = cf.get(path)
        assert r.status_code == 403, path
        assert "<Code>AccessDenied</Code>" in r.text
        assert r.headers["x-cache"] == "Error from cloudfront"


def test_single_page_app_rewritten_to_index_html(cf: httpx.Client) -> None:
    for path in ("/spa", "/spa/deep/route"):
        r = cf.get(path)
        assert r.status_code == 200 and r.text.startswith("<!doctype html>"), path
        assert r.headers["content-type"].startswith("text/html")
