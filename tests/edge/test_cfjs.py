"""CloudFront Functions with the real engine (QuickJS): loading, the runtime CloudFront gives a
function, its restrictions and limits, the event (edge/cfjs/events.py) and the return rules.
AWS's published example functions (aws-samples/amazon-cloudfront-functions), rewritten in our own
words under tests/edge/cfjs/, give the results their READMEs document. Rules: ../shared/reference/edge.md 1b.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from edge.cfjs import CloudFrontFunction, JsLoadError, run_request, run_response
from edge.cfjs.engine import MAX_CODE_SIZE, words
from edge.cfjs.events import function_event, parse_cookies, parse_querystring, parse_set_cookies
from edge.events import EdgeExecutionError, EdgeRequest, EdgeResponse, EdgeValidationError
from gateway.config import GatewayConfig
from gateway.errors import ConfigError

JS = Path(__file__).parent / "cfjs"
CONFIG = {"distributionDomainName": "d111111abcdef8.cloudfront.net", "distributionId": "EDFDVBD6EXAMPLE",
          "eventType": "viewer-request", "requestId": "EXAMPLEntjQpEXAMPLE_SG5Z-EXAMPLEPmPfEXAMPLEu3EqEXAMPLE=="}
NOW = 1_700_000_000_123


def fn(name: str, runtime: str = "cloudfront-js-1.0", kvs: str | None = None) -> CloudFrontFunction:
    return CloudFrontFunction(JS / f"{name}.js", runtime, JS / kvs if kvs else None)


def request(uri: str = "/index.html", query: str = "test=true&arg=val1", *extra: tuple[str, str]) -> EdgeRequest:
    """The request of the AWS samples' test objects."""
    headers = (("Host", "www.example.com"), ("Accept", "text/html"), ("Cookie", "loggedIn=false; id=CookeIdValue"),
               *extra)
    return EdgeRequest(method="GET", uri=uri, querystring=query, headers=headers, client_ip="1.2.3.4")


def response(*headers: tuple[str, str]) -> EdgeResponse:
    return EdgeResponse(status=200, status_description="OK", body=b"origin body", headers=(
        ("Server", "CustomOriginServer"), ("Content-Type", "text/html; charset=UTF-8"), ("Content-Length", "9593"),
        ("Set-Cookie", "loggedIn=true; Secure; Path=/; Domain=example.com; Expires=Wed, 05 Jan 2024 07:28:00 GMT"),
        ("Set-Cookie", "id=a3fWa; Expires=Wed, 05 Jan 2024 07:28:00 GMT"), *headers))


def run_req(f: CloudFrontFunction, req: EdgeRequest) -> EdgeRequest | EdgeResponse:
    return run_request(f, req, CONFIG, NOW)


def run_resp(f: CloudFrontFunction, resp: EdgeResponse, req: EdgeRequest | None = None) -> EdgeResponse:
    return run_response(f, req or request(), resp, {**CONFIG, "eventType": "viewer-response"}, NOW)


# -- AWS's example functions -----------------------------------------------------------------------

@pytest.mark.parametrize(("uri", "rewritten"), [
    ("/blog", "/blog/index.html"), ("/blog/", "/blog/index.html"), ("/", "/index.html"),
    ("/assets/app.js", "/assets/app.js"), ("/a.b/c", "/a.b/c/index.html"),
])
def test_url_rewrite_appends_index_html(uri: str, rewritten: str) -> None:
    out = run_req(fn("url_rewrite"), request(uri))
    assert isinstance(out, EdgeRequest)
    assert out.uri == rewritten
    assert out.querystring == "test=true&arg=val1"  # untouched: byte for byte
    assert out.headers == (("Host", "www.example.com"), ("Accept", "text/html"),
                           ("Cookie", "loggedIn=false; id=CookeIdValue"))


def test_redirect_based_on_country() -> None:
    out = run_req(fn("redirect_country"), request("/", "", ("CloudFront-Viewer-Country", "DE")))
    assert out == EdgeResponse(status=302, status_description="Found", generated=True,
                               headers=(("Location", "https://www.example.com/de/index.html"),))
    passed = run_req(fn("redirect_country"), request("/", "", ("CloudFront-Viewer-Country", "FR")))
    assert isinstance(passed, EdgeRequest) and passed.uri == "/"


def test_add_security_headers() -> None:
    out = run_resp(fn("security_headers"), response())
    assert out.headers[3:] == (
        ("Strict-Transport-Security", "max-age=63072000; includeSubdomains; preload"),
        ("Content-Security-Policy", "default-src 'none'; img-src 'self'; script-src 'self'; style-src 'self'; "
                                    "object-src 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("X-Xss-Protection", "1; mode=block"),
        ("Referrer-Policy", "same-origin"),
        ("Set-Cookie", "loggedIn=true; Secure; Path=/; Domain=example.com; Expires=Wed, 05 Jan 2024 07:28:00 GMT"),
        ("Set-Cookie", "id=a3fWa; Expires=Wed, 05 Jan 2024 07:28:00 GMT"),
    )
    assert out.status == 200 and out.body == b"origin body"


def test_add_cache_control_header() -> None:
    out = run_resp(fn("cache_control"), response())
    assert out.headers[:4] == (("Server", "CustomOriginServer"), ("Content-Type", "text/html; charset=UTF-8"),
                               ("Content-Length", "9593"), ("Cache-Control", "public, max-age=63072000;"))
    assert out.body == b"origin body" and out.status_description == "OK"


def test_true_client_ip() -> None:
    out = run_req(fn("true_client_ip"), request())
    assert isinstance(out, EdgeRequest)
    assert ("True-Client-Ip", "1.2.3.4") in out.headers and out.uri == "/index.html"


@pytest.mark.parametrize(("cookie", "uri"), [("x-experiment=b", "/experiment-b/index.html"),
                                             ("x-experiment=a", "/experiment-a/index.html"),
                                             ("x-experiment=zzz", "/experiment-a/index.html")])
def test_ab_testing_by_cookie(cookie: str, uri: str) -> None:
    req = EdgeRequest(method="GET", uri="/index.html", querystring="", headers=(("Cookie", cookie),))
    out = run_req(fn("ab_testing"), req)
    assert isinstance(out, EdgeRequest) and out.uri == uri
    assert out.headers == (("Cookie", f"x-experiment={uri[12]}"),)


def test_ab_testing_assigns_a_new_viewer_to_a_group() -> None:
    out = run_req(fn("ab_testing"), EdgeRequest(method="GET", uri="/p", querystring="", headers=()))
    assert isinstance(out, EdgeRequest)
    assert (out.uri, out.headers) in [("/experiment-a/p", (("Cookie", "x-experiment=a"),)),
                                      ("/experiment-b/p", (("Cookie", "x-experiment=b"),))]


def test_kvs_key_value_pairs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="gateway.edge.functions")
    f = fn("kvs_rewrite", "cloudfront-js-2.0", "kvs.json")
    out = run_req(f, request("/old/page.html"))
    assert isinstance(out, EdgeRequest) and out.uri == "/new/page.html"
    missing = run_req(f, request("/absent/page.html"))
    assert isinstance(missing, EdgeRequest) and missing.uri == "/absent/page.html"
    assert [r.getMessage() for r in caplog.records] == [
        "CloudFront Function kvs_rewrite: /old/page.html -> /new/page.html",
        "CloudFront Function kvs_rewrite: /absent/page.html | Error: Key not found: absent",
    ]


def test_kvs_formats_exists_and_meta() -> None:
    out = run_req(fn("kvs_formats", "cloudfront-js-2.0", "kvs.json"), request())
    assert out == EdgeResponse(status=200, status_description="OK", generated=True, headers=(
        ("X-Color", "blue"), ("X-Size", "3"), ("X-Bytes", "true 6e6577"), ("X-Exists", "true false"), ("X-Keys", "2")))


# -- the runtime ------------------------------------------------------------------------------------

def test_runtime_modules_fixed_date_and_no_timers_or_network() -> None:
    out = run_req(fn("runtime_features", "cloudfront-js-2.0"), request())
    assert isinstance(out, EdgeResponse)
    assert json.loads(out.body) == {
        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "md5": "kAFQmDzST7DWlj99KOF/cg==",
        "sha1": "qZk-NkcGgWq6PiVxeFDCbJzQ2J0",
        "hmac": "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
        "raw": True,
        "qs": {"a": ["1", "2"], "b": "x y!"},
        "qs2": "a=1&a=2&b=x%20y!",
        "buf": ["aMOpbGxv", "hi", 2, "ab"],
        "sameDate": True,
        "now": NOW,
        "types": ["undefined"] * 7,
        "awaited": "ok",
    }


@pytest.mark.parametrize("data", [b"", b"abc", b"x" * 55, b"x" * 56, b"x" * 64, bytes(range(256)) * 3])
@pytest.mark.parametrize("algo", ["md5", "sha1", "sha256"])
def test_crypto_matches_hashlib(tmp_path: Path, algo: str, data: bytes) -> None:
    import base64
    import hashlib
    import hmac

    code = ("const c = require('crypto');\nfunction handler(e) {\n"
            "  const d = Buffer.from(e.request.uri.slice(1), 'hex');\n"
            f"  return {{statusCode: 200, body: [c.createHash('{algo}').update(d).digest('hex'),\n"
            f"    c.createHmac('{algo}', 'k' + 'e'.repeat(70)).update(d).digest('base64')].join(' ')}};\n}}\n")
    (tmp_path / "h.js").write_text(code)
    out = run_req(CloudFrontFunction(tmp_path / "h.js"), EdgeRequest(method="GET", uri="/" + data.hex(),
                                                                       querystring="", headers=()))
    assert isinstance(out, EdgeResponse)
    mac = base64.b64encode(hmac.new(b"k" + b"e" * 70, data, algo).digest()).decode()
    assert out.body.decode() == f"{hashlib.new(algo, data).hexdigest()} {mac}"


@pytest.mark.parametrize(("name", "message"), [
    ("use_eval", "execution error: EvalError: eval is not supported"),
    ("use_function", "execution error: EvalError: Function constructor is not supported"),
    ("use_timer", "execution error: ReferenceError: 'setTimeout' is not defined"),
    ("throws", "execution error: Error: boom from the function"),
    ("endless", "the function exceeded its compute budget (0.05 s)"),
    ("allocate", "the function exceeded its memory limit (2 MB)"),
])
def test_forbidden_constructs_and_limits_are_execution_errors(name: str, message: str) -> None:
    f = fn(name)
    with pytest.raises(EdgeExecutionError) as info:
        run_req(f, request())
    assert str(info.value).startswith(f"CloudFront Function {name}: {message}")


def test_an_endless_async_handler_is_stopped_too() -> None:
    with pytest.raises(EdgeExecutionError, match="exceeded its compute budget"):
        run_req(fn("endless_async", "cloudfront-js-2.0"), request())


def test_context_is_reused_per_thread_and_fresh_after_a_failure(tmp_path: Path) -> None:
    (tmp_path / "count.js").write_text(
        "var calls = 0;\nfunction handler(event) {\n  calls += 1;\n"
        "  if (event.request.uri === '/fail') throw new Error('x');\n"
        "  return {statusCode: 200, body: String(calls)};\n}\n")
    f = CloudFrontFunction(tmp_path / "count.js")
    ok = EdgeRequest(method="GET", uri="/", querystring="", headers=())
    assert [run_req(f, ok).body for _ in range(3)] == [b"1", b"2", b"3"]
    seen: list[bytes] = []
    thread = threading.Thread(target=lambda: seen.extend(run_req(f, ok).body for _ in range(2)))
    thread.start()
    thread.join()
    assert seen == [b"1", b"2"]  # another thread: its own context
    with pytest.raises(EdgeExecutionError):
        run_req(f, EdgeRequest(method="GET", uri="/fail", querystring="", headers=()))
    assert run_req(f, ok).body == b"1"


# -- loading ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "runtime", "message"), [
    ("let_in_10", "cloudfront-js-1.0", "let_in_10.js:4: let is not supported by cloudfront-js-1.0"),
    ("no_handler", "cloudfront-js-1.0", "no_handler.js: the code defines no function named 'handler'"),
    ("syntax_error", "cloudfront-js-1.0", "syntax_error.js: SyntaxError: "),
    ("import_other", "cloudfront-js-2.0", "import_other.js:1: only `import cf from 'cloudfront'` (first line, js-2.0)"),
    ("kvs_rewrite", "cloudfront-js-1.0", "kvs_rewrite.js: the 'cloudfront' module needs runtime cloudfront-js-2.0"),
    ("runtime_features", "cloudfront-js-1.0", "runtime_features.js:2: const is not supported by cloudfront-js-1.0"),
    ("endless_async", "cloudfront-js-1.0", "endless_async.js:1: async functions is not supported by cloudfront-js-1.0"),
])
def test_load_errors_name_the_file(name: str, runtime: str, message: str) -> None:
    with pytest.raises(JsLoadError) as info:
        fn(name, runtime)
    assert str(info.value).startswith(f"{JS}/{message}")


def test_let_is_fine_on_js_2_0() -> None:
    assert isinstance(run_req(fn("let_in_10", "cloudfront-js-2.0"), request()), EdgeRequest)


def test_code_over_10_kb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.js"
    path.write_text("function handler(e) { return e.request; }\n" + "//" + "x" * MAX_CODE_SIZE)
    with pytest.raises(JsLoadError, match=r"big.js: the function is 10284 bytes; CloudFront allows 10240"):
        CloudFrontFunction(path)


def test_the_syntax_gate_skips_strings_comments_templates_and_regexes() -> None:
    code = ("var a = 'let'; // const\n/* class */ var b = `x ${ {k: 'const'}.k } let`;\n"
            "var r = /let|const/g; var c = a / 2 / 1; let z = 1;")
    assert [w for w, _ in words(code)] == ["var", "a", "var", "b", "k", "k", "var", "r", "g", "var", "c", "a", "let",
                                           "z"]
    assert words(code)[-2] == ("let", 3)


def test_kvs_file_must_have_the_import_shape(tmp_path: Path) -> None:
    (tmp_path / "kvs.json").write_text('{"data": [{"key": "a", "value": 1}]}')
    with pytest.raises(JsLoadError, match=r"kvs.json: data\[0\] needs a string 'key' and a string 'value'"):
        CloudFrontFunction(JS / "kvs_rewrite.js", "cloudfront-js-2.0", tmp_path / "kvs.json")


# -- the event and the return rules (pure) ----------------------------------------------------------

def test_viewer_response_event_has_every_field() -> None:
    req = EdgeRequest(method="GET", uri="/media/index.mpd", client_ip="198.51.100.11",
                      querystring="ID=42&NoValue=&querymv=val1&querymv=val2,val3", headers=(
                          ("Host", "video.example.com"), ("Accept", "application/json"), ("Accept", "application/xml"),
                          ("Cookie", "Cookie1=value1; cookiemv=value3"), ("Cookie", "cookiemv=value4"),
                          ("X-Amz-Cf-Id", "hidden"), ("Accept-Language", "en-GB,en;q=0.5")))
    resp = EdgeResponse(status=200, status_description="OK", headers=(
        ("Content-Type", "application/json"), ("Set-Cookie", "ID=id1234; Expires=Wed, 05 Apr 2021 07:28:00 GMT"),
        ("Set-Cookie", "Cookie1=val1; Secure; Path=/"), ("Set-Cookie", "Cookie1=val2; Path=/cat"), ("X-Cache", "h"),
        ("Set-Cookie", "bare=1")))
    event = function_event("viewer-response", req, resp, {**CONFIG, "eventType": "ignored"})
    assert event == {
        "version": "1.0",
        "context": {"distributionDomainName": "d111111abcdef8.cloudfront.net", "distributionId": "EDFDVBD6EXAMPLE",
                    "eventType": "viewer-response", "requestId": CONFIG["requestId"]},
        "viewer": {"ip": "198.51.100.11"},
        "request": {
            "method": "GET", "uri": "/media/index.mpd",
            "querystring": {"ID": {"value": "42"}, "NoValue": {"value": ""},
                            "querymv": {"value": "val1", "multiValue": [{"value": "val1"}, {"value": "val2,val3"}]}},
            "headers": {"host": {"value": "video.example.com"},
                        "accept": {"value": "application/json",
                                   "multiValue": [{"value": "application/json"}, {"value": "application/xml"}]},
                        "accept-language": {"value": "en-GB,en;q=0.5"}},
            "cookies": {"Cookie1": {"value": "value1"},
                        "cookiemv": {"value": "value3", "multiValue": [{"value": "value3"}, {"value": "value4"}]}},
        },
        "response": {
            "statusCode": 200, "statusDescription": "OK",
            "headers": {"content-type": {"value": "application/json"}},
            "cookies": {"ID": {"value": "id1234", "attributes": "Expires=Wed, 05 Apr 2021 07:28:00 GMT"},
                        "Cookie1": {"value": "val1", "attributes": "Secure; Path=/",
                                    "multiValue": [{"value": "val1", "attributes": "Secure; Path=/"},
                                                   {"value": "val2", "attributes": "Path=/cat"}]},
                        "bare": {"value": "1"}},
        },
    }


def test_empty_query_string_and_no_cookies() -> None:
    assert parse_querystring("") == {} and parse_cookies(()) == {} and parse_set_cookies(()) == {}
    event = function_event("viewer-request", EdgeRequest(method="HEAD", uri="/", querystring="", headers=()), None,
                           CONFIG)
    assert event["request"] == {"method": "HEAD", "uri": "/", "querystring": {}, "headers": {}, "cookies": {}}
    assert "response" not in event


def test_request_write_rules() -> None:
    req = EdgeRequest(method="GET", uri="/p", querystring="a=1&a=2&drop=x&b",
                      headers=(("Host", "h"), ("X-Multi", "m1"), ("X-Multi", "m2"), ("X-Remove", "r"),
                               ("Cookie", "c1=v1; c2=v2"), ("X-Amz-Cf-Id", "kept")))
    out = run_req(fn("modify_request", "cloudfront-js-2.0"), req)
    assert out == EdgeRequest(
        method="GET", uri="/changed/p", querystring="a=1&a=2&b=&added=yes",
        headers=(("Host", "h"), ("X-Multi", "first-changed"), ("X-Multi", "m2"), ("X-Added", "one"), ("X-Added", "two"),
                 ("Cookie", "c1=v1; c2=v2; session=abc"), ("X-Amz-Cf-Id", "kept")))


def test_response_write_rules() -> None:
    out = run_resp(fn("modify_response", "cloudfront-js-2.0"), response(("Via", "1.1 x")))
    assert out.status == 201 and out.status_description == "Created" and out.body == b"new body"
    assert out.headers == (
        ("Server", "CustomOriginServer"), ("Content-Type", "text/html; charset=UTF-8"), ("Content-Length", "9593"),
        ("Via", "1.1 x"), ("X-Seen-Status", "201"),
        ("Set-Cookie", "loggedIn=true; Secure; Path=/; Domain=example.com; Expires=Wed, 05 Jan 2024 07:28:00 GMT"),
        ("Set-Cookie", "id=a3fWa; Expires=Wed, 05 Jan 2024 07:28:00 GMT"),
        ("Set-Cookie", "theme=dark; Path=/; Secure"), ("Set-Cookie", "pair=a; Path=/a"), ("Set-Cookie", "pair=b"))


@pytest.mark.parametrize(("name", "message"), [
    ("returns_string", "viewer-request: the function must return the request or a response object"),
    ("disallowed_header", "viewer-request: the function added the disallowed header 'x-cache'"),
    ("change_host", "viewer-request: The function tried to add, delete, or change a read-only header."),
    ("bad_status", "viewer-request: statusCode 700 is outside 200-599"),
])
def test_invalid_results_are_validation_errors(name: str, message: str) -> None:
    with pytest.raises(EdgeValidationError) as info:
        run_req(fn(name), request())
    assert str(info.value) == message


@pytest.mark.parametrize(("result", "message"), [
    ({"statusCode": "200"}, "statusCode must be an integer"),
    ({"statusCode": 204, "body": "x"}, "a 204 response cannot have a body"),
    ({"statusCode": 200, "body": {"data": "%%", "encoding": "base64"}}, "the body is not valid base64"),
    ({"statusCode": 200, "body": {"data": "x", "encoding": "gzip"}}, "body encoding must be 'text' or 'base64'"),
    ({"statusCode": 200, "headers": {"X-Upper": {"value": "v"}}}, "header name 'X-Upper' must be lowercase"),
    ({"statusCode": 200, "headers": {"x-n": {"value": 1}}}, "header 'x-n' has a value that is not a string"),
    ({"uri": "no-slash"}, "uri must be a string that begins with '/'"),
    ({"uri": "/", "querystring": "a b"}, "querystring must not contain spaces"),
])
def test_bad_return_values(tmp_path: Path, result: dict[str, Any], message: str) -> None:
    (tmp_path / "r.js").write_text(f"function handler(event) {{ return {json.dumps(result)}; }}")
    with pytest.raises(EdgeValidationError, match=message):
        run_req(CloudFrontFunction(tmp_path / "r.js"), request())


# -- config -----------------------------------------------------------------------------------------

def _config(assoc: dict[str, Any], event: str = "viewer_request") -> dict[str, Any]:
    return {"functions": {"fn": {"handler": "x.y", "code_uri": "."}},
            "distributions": [{"name": "d", "listen": "127.0.0.1:0", "origins": [{"id": "o", "url": "http://127.0.0.1:9"}],
                               "behaviors": [{"path": "*", "origin": "o", event: assoc}]}]}


@pytest.mark.parametrize(("assoc", "event", "message"), [
    ({"js": "cfjs/url_rewrite.js"}, "origin_request", "behaviors[0].origin_request.js: CloudFront Functions run at "
                                                     "viewer events only"),
    ({"js": "cfjs/url_rewrite.js", "function": "fn"}, "viewer_request",
     "behaviors[0].viewer_request: needs exactly one of 'function' (Lambda@Edge) or 'js' (CloudFront Function)"),
    ({"js": "cfjs/kvs_rewrite.js", "runtime": "cloudfront-js-1.0", "kvs": "cfjs/kvs.json"}, "viewer_request",
     "behaviors[0].viewer_request.kvs: a key value store needs runtime = \"cloudfront-js-2.0\""),
    ({"function": "fn", "kvs": "cfjs/kvs.json"}, "viewer_response",
     "behaviors[0].viewer_response.kvs: a key value store goes with a CloudFront Function ('js'), not with 'function'"),
    ({"js": "cfjs/missing.js"}, "viewer_request", "behaviors[0].viewer_request.js: file "),
    ({"js": "cfjs/url_rewrite.js", "include_body": True}, "viewer_request",
     "behaviors[0].viewer_request.include_body: a CloudFront Function never sees the request body"),
    ({"js": "cfjs/let_in_10.js", "runtime": "cloudfront-js-1.0"}, "viewer_request",
     "behaviors[0].viewer_request.js: "),
    ({"js": "cfjs/url_rewrite.js", "runtime": "cloudfront-js-3.0"}, "viewer_request",
     "behaviors[0].viewer_request.runtime: must be one of 'cloudfront-js-1.0', 'cloudfront-js-2.0'"),
])
def test_config_errors(assoc: dict[str, Any], event: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        GatewayConfig.from_mapping(_config(assoc, event), base_dir=JS.parent)
    assert f"distributions[0].{message}" in str(info.value)


def test_config_loads_a_function_with_runtime_and_kvs() -> None:
    cfg = GatewayConfig.from_mapping(_config({"js": "cfjs/kvs_rewrite.js", "runtime": "cloudfront-js-2.0",
                                              "kvs": "cfjs/kvs.json"}), base_dir=JS.parent)
    assoc = cfg.distributions[0].behaviors[0].viewer_request
    assert assoc is not None and assoc.js == JS / "kvs_rewrite.js" and assoc.kvs == JS / "kvs.json"


def test_without_the_engine_the_config_says_what_to_install() -> None:
    code = ("import sys, json, pathlib\nsys.modules['quickjs'] = None\nfrom gateway.config import GatewayConfig\n"
            f"try:\n    GatewayConfig.from_mapping(json.loads(sys.argv[1]),\n"
            f"                               base_dir=pathlib.Path({str(JS.parent)!r}))\n"
            "except Exception as exc:\n    print(type(exc).__name__, exc)\n")
    out = subprocess.run([sys.executable, "-c", code, json.dumps(_config({"js": "cfjs/url_rewrite.js"}))],
                         capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.startswith("ConfigError ")
    assert ("distributions[0].behaviors[0].viewer_request.js: CloudFront Functions need a JavaScript engine: "
            "pip install 'lambda-gateway[js]'") in out.stdout
