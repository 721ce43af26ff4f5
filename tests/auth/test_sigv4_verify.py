"""SigV4 verification against the real signer: botocore's SigV4Auth and SigV4QueryAuth, and a lambda client."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any
from urllib.parse import urlsplit

import botocore.auth
import botocore.credentials
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest, AWSResponse

from gateway.auth import sigv4
from gateway.auth.sigv4 import Credentials, Problem, SignatureError, verify
from gateway.models import HttpRequest

AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN+/="
NOW = datetime.datetime(2026, 5, 1, 12, 0, 0, tzinfo=datetime.UTC)
URL = "https://abc123.lambda-url.eu-west-1.on.aws/items/a%20b?z=1&a=%24x"


def keys(*known: Credentials) -> Any:
    table = {c.access_key_id: c for c in known}
    return table.get


def wire(request: AWSRequest) -> HttpRequest:
    """The request as the gateway receives it: botocore's headers plus the Host its HTTP client adds."""
    parts = urlsplit(request.url)
    headers = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()]
    headers = [("Host", sigv4.host_from_url(request.url)), *headers, ("User-Agent", "added/after-signing")]
    body = request.body or b""
    return HttpRequest(method=request.method, path=parts.path, query_string=parts.query, headers=tuple(headers),
                       body=body if isinstance(body, bytes) else body.encode(), scheme=parts.scheme)


def signed(monkeypatch: pytest.MonkeyPatch, *, url: str = URL, method: str = "POST", body: bytes = b'{"k": 1}',
           headers: dict[str, str] | None = None, token: str | None = None, service: str = "lambda",
           region: str = "eu-west-1", presign: int | None = None) -> HttpRequest:
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {"Content-Type": "application/json"})
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    creds = botocore.credentials.Credentials(AKID, SECRET, token)
    if presign is None:
        botocore.auth.SigV4Auth(creds, service, region).add_auth(request)
    else:
        botocore.auth.SigV4QueryAuth(creds, service, region, expires=presign).add_auth(request)
    return wire(request)


def check(request: HttpRequest, at: datetime.datetime = NOW, *, creds: Credentials | None = None,
          region: str = "eu-west-1", service: str = "lambda") -> sigv4.Verified:
    return verify(request, keys(creds or Credentials(AKID, SECRET)), region, service, at)


def refused(request: HttpRequest, problem: Problem, message: str, **kw: Any) -> None:
    with pytest.raises(SignatureError) as caught:
        check(request, **kw)
    assert caught.value.problem is problem
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_botocore_signature_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    request = signed(monkeypatch)
    result = check(request, NOW + datetime.timedelta(seconds=30))
    assert result.credentials.access_key_id == AKID
    assert result.signed_headers == ("content-type", "host", "x-amz-date")
    assert (result.timestamp, result.presigned) == ("20260501T120000Z", False)


def test_session_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    request = signed(monkeypatch, token=TOKEN)
    assert "x-amz-security-token" in check(request, creds=Credentials(AKID, SECRET, TOKEN)).signed_headers
    refused(request, Problem.UNKNOWN_KEY, sigv4.BAD_TOKEN)  # the key has no token: this one is not ours
    refused(request, Problem.UNKNOWN_KEY, sigv4.BAD_TOKEN, creds=Credentials(AKID, SECRET, "other"))


def test_a_presigned_url_verifies_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    request = signed(monkeypatch, method="GET", body=b"", headers={}, presign=300, token=TOKEN)
    assert "X-Amz-Signature=" in request.query_string and request.header("authorization") is None
    creds = Credentials(AKID, SECRET, TOKEN)
    assert check(request, NOW + datetime.timedelta(seconds=299), creds=creds).presigned
    refused(request, Problem.INVALID, "Signature expired: 20260501T120000Z is now earlier than 20260501T120001Z",
            at=NOW + datetime.timedelta(seconds=301), creds=creds)
    tampered = dataclasses.replace(request, query_string=request.query_string.replace("z=1", "z=2"))
    refused(tampered, Problem.INVALID, sigv4.MISMATCH, creds=creds)


def test_the_date_header_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore signs a request that has a Date header by rewriting that header (RFC 1123 form)."""
    request = signed(monkeypatch, headers={"Date": "Thu, 01 Jan 2026 00:00:00 GMT"})
    assert request.header("x-amz-date") is None
    assert request.header("date") == "Fri, 01 May 2026 12:00:00 -0000"
    assert "date" in check(request).signed_headers
    gmt = dataclasses.replace(request, headers=tuple(
        (k, "Fri, 01 May 2026 12:00:00 GMT") if k.lower() == "date" else (k, v) for k, v in request.headers))
    refused(gmt, Problem.INVALID, sigv4.MISMATCH)  # the same instant, but not the bytes that were signed


@pytest.mark.parametrize("skew", [-1, 1])
def test_five_minutes_of_clock_skew(monkeypatch: pytest.MonkeyPatch, skew: int) -> None:
    request = signed(monkeypatch)
    check(request, NOW + skew * datetime.timedelta(minutes=5))
    if skew > 0:
        refused(request, Problem.INVALID, "Signature expired: 20260501T120000Z is now earlier than 20260501T120001Z "
                "(20260501T120501Z - 5 min.)", at=NOW + datetime.timedelta(minutes=5, seconds=1))
    else:
        refused(request, Problem.INVALID, "Signature not yet current: 20260501T120000Z is still later than "
                "20260501T115959Z (20260501T115459Z + 5 min.)", at=NOW - datetime.timedelta(minutes=5, seconds=1))


def _tamper(request: HttpRequest, what: str) -> tuple[HttpRequest, dict[str, Any]]:
    headers = list(request.headers)
    if what == "method":
        return dataclasses.replace(request, method="PUT"), {}
    if what == "path":
        return dataclasses.replace(request, path="/items/a%20c"), {}
    if what == "query":
        return dataclasses.replace(request, query_string="z=1&a=%24y"), {}
    if what == "signed header":
        return dataclasses.replace(request, headers=tuple(
            (k, "text/plain") if k.lower() == "content-type" else (k, v) for k, v in headers)), {}
    if what == "body":
        return dataclasses.replace(request, body=b'{"k": 2}'), {}
    if what == "date":
        return dataclasses.replace(request, headers=tuple(
            (k, "20260501T120001Z") if k.lower() == "x-amz-date" else (k, v) for k, v in headers)), {}
    if what == "secret":
        return request, {"creds": Credentials(AKID, "not-the-secret")}
    if what == "region":
        return request, {"region": "eu-west-2"}
    return request, {"service": "execute-api"}


@pytest.mark.parametrize(("what", "message"), [
    ("method", sigv4.MISMATCH), ("path", sigv4.MISMATCH), ("query", sigv4.MISMATCH),
    ("signed header", sigv4.MISMATCH), ("body", sigv4.MISMATCH), ("secret", sigv4.MISMATCH),
    ("date", sigv4.MISMATCH),
    ("region", "Credential should be scoped to a valid region, not 'eu-west-1'."),
    ("service", "Credential should be scoped to correct service: 'execute-api'."),
])
def test_each_single_tampering_fails(monkeypatch: pytest.MonkeyPatch, what: str, message: str) -> None:
    request, options = _tamper(signed(monkeypatch), what)
    refused(request, Problem.INVALID, message, **options)


def test_unsigned_headers_may_change(monkeypatch: pytest.MonkeyPatch) -> None:
    request = signed(monkeypatch)
    check(dataclasses.replace(request, headers=(*request.headers, ("X-Forwarded-For", "10.0.0.1"))))


def test_a_declared_payload_hash_must_match_the_body(monkeypatch: pytest.MonkeyPatch) -> None:
    declared = {"X-Amz-Content-SHA256": sigv4.hashed_payload(b'{"k": 1}')}
    request = signed(monkeypatch, headers=declared)
    check(request)
    # Signed over the declared hash, so re-signing alone would not notice a different body.
    refused(dataclasses.replace(request, body=b"other"), Problem.INVALID,
            "The provided 'x-amz-content-sha256' header does not match what was computed.")
    unsigned = signed(monkeypatch, headers={"X-Amz-Content-SHA256": sigv4.UNSIGNED_PAYLOAD})
    check(dataclasses.replace(unsigned, body=b"anything"))


def test_missing_incomplete_and_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = HttpRequest(method="GET", path="/", headers=(("Host", "h"),))
    refused(plain, Problem.MISSING, "Missing Authentication Token")
    partial = dataclasses.replace(plain, headers=(("Host", "h"), ("Authorization", "AWS4-HMAC-SHA256 Credential=a")))
    refused(partial, Problem.INCOMPLETE, "Authorization header requires 'Signature' parameter. Authorization header "
            "requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or "
            "a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=a")
    other = dataclasses.replace(plain, headers=(("Host", "h"), ("Authorization", "Bearer x")))
    refused(other, Problem.INCOMPLETE, "Authorization header requires 'AWS4-HMAC-SHA256'")
    request = signed(monkeypatch)
    refused(request, Problem.UNKNOWN_KEY, sigv4.BAD_TOKEN, creds=Credentials("AKIDOTHER", SECRET))
    both = dataclasses.replace(request, query_string=request.query_string + "&X-Amz-Signature=00")
    refused(both, Problem.INVALID, "Only one auth mechanism allowed")


def test_a_lambda_client_invoke_verifies() -> None:
    """boto3's own request (ARN in the path, so the canonical URI is double-encoded), captured unsent."""
    captured: dict[str, Any] = {}

    def before_send(request: Any, **_: Any) -> Any:
        captured["request"] = request
        return AWSResponse(request.url, 200, {}, _Raw())

    client = botocore.session.get_session().create_client(
        "lambda", region_name="eu-west-1", aws_access_key_id=AKID, aws_secret_access_key=SECRET)
    client.meta.events.register("before-send.lambda.Invoke", before_send)
    client.invoke(FunctionName="arn:aws:lambda:eu-west-1:123456789012:function:app:live", Payload=b"{}", LogType="Tail")
    request = wire(captured["request"])
    stamp = request.header("x-amz-date") or ""
    at = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    assert check(request, at).signed_headers == ("host", "x-amz-date", "x-amz-log-type")


class _Raw:
    def stream(self, **_: Any) -> Any:
        yield b"{}"
