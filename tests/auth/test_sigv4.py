"""SigV4 signing against known answers: the AWS SigV4 test suite and botocore's SigV4Auth, at a fixed time."""

from __future__ import annotations

import datetime
from typing import Any

import botocore.auth
import botocore.credentials
import botocore.session
import pytest
from botocore.awsrequest import AWSRequest

from gateway.auth import sigv4

# The credentials and time of the AWS SigV4 test suite (aws-sig-v4-test-suite).
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = datetime.datetime(2015, 8, 30, 12, 36, 0, tzinfo=datetime.UTC)
TOKEN = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx"
    "7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q"
    "6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
)
HOST = "https://example.amazonaws.com"

# (name, method, URL, headers, body, session token, the signature the test suite publishes)
SUITE: list[tuple[str, str, str, list[tuple[str, str]], bytes, str | None, str]] = [
    ("get-vanilla", "GET", f"{HOST}/", [], b"", None,
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("post-vanilla", "POST", f"{HOST}/", [], b"", None,
     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    ("get-vanilla-query-order-key-case", "GET", f"{HOST}/?Param2=value2&Param1=value1", [], b"", None,
     "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
    ("get-vanilla-utf8-query", "GET", f"{HOST}/?%E1%88%B4=bar", [], b"", None,
     "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
    ("get-relative-relative", "GET", f"{HOST}/example1/example2/../..", [], b"", None,
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("get-slash-dot-slash", "GET", f"{HOST}/./", [], b"", None,
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    ("post-sts-header-before", "POST", f"{HOST}/", [], b"", TOKEN,
     "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"),
]

# Requests with no published answer here: the expected value is botocore's.
OTHERS: list[tuple[str, str, str, list[tuple[str, str]], bytes, str | None]] = [
    ("header-value-trim", "GET", f"{HOST}/", [("My-Header1", " value1"), ("My-Header2", ' "a   b   c"')], b"", None),
    ("form-body", "POST", f"{HOST}/", [("Content-Type", "application/x-www-form-urlencoded")], b"Param1=value1",
     None),
    ("encoded-space", "GET", f"{HOST}/example%20space/", [], b"", None),
    ("double-slash", "GET", f"{HOST}//a//b/", [], b"", None),
    ("query-empty-value", "GET", f"{HOST}/?b=&a=1&a=0", [], b"", None),
    ("query-reserved", "GET", f"{HOST}/?k=%24LATEST&sp=a%20b&t=~&u=%2F", [], b"", None),
    ("lambda-invoke-arn", "POST",
     "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012"
     "%3Afunction%3Amy-func/invocations?Qualifier=%24LATEST",
     [("X-Amz-Invocation-Type", "RequestResponse"), ("X-Amz-Log-Type", "Tail")], b'{"k": "v"}', TOKEN),
    ("port-and-unsigned", "PUT", "http://127.0.0.1:9000/x",
     [("User-Agent", "test/1"), ("X-Amzn-Trace-Id", "Root=1-0-0"), ("Content-Type", "application/json")],
     b"{}", None),
]


def botocore_sign(method: str, url: str, headers: list[tuple[str, str]], body: bytes, token: str | None,
                  service: str = "service", region: str = "us-east-1", *,
                  monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Sign with botocore's SigV4Auth at NOW; return the headers it set."""
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        request.headers[name] = value
    creds = botocore.credentials.Credentials(AKID, SECRET, token)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    botocore.auth.SigV4Auth(creds, service, region).add_auth(request)
    return {name: request.headers[name] for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")
            if name in request.headers}


def ours(method: str, url: str, headers: list[tuple[str, str]], body: bytes, token: str | None,
         service: str = "service", region: str = "us-east-1") -> dict[str, str]:
    return dict(sigv4.sign(method, url, headers, body, sigv4.Credentials(AKID, SECRET, token), region, service, NOW))


@pytest.mark.parametrize(("name", "method", "url", "headers", "body", "token", "expected"), SUITE,
                         ids=[s[0] for s in SUITE])
def test_aws_test_suite(name: str, method: str, url: str, headers: list[tuple[str, str]], body: bytes,
                        token: str | None, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    signed = ours(method, url, headers, body, token)
    signed_names = "host;x-amz-date" + (";x-amz-security-token" if token else "")
    assert signed["Authorization"] == (
        f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        f"SignedHeaders={signed_names}, Signature={expected}"
    )
    assert signed == botocore_sign(method, url, headers, body, token, monkeypatch=monkeypatch)


@pytest.mark.parametrize(("name", "method", "url", "headers", "body", "token"), OTHERS, ids=[o[0] for o in OTHERS])
def test_same_as_botocore(name: str, method: str, url: str, headers: list[tuple[str, str]], body: bytes,
                          token: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    for service, region in (("service", "us-east-1"), ("lambda", "eu-west-3")):
        expected = botocore_sign(method, url, headers, body, token, service, region, monkeypatch=monkeypatch)
        assert ours(method, url, headers, body, token, service, region) == expected


def test_steps_of_get_vanilla() -> None:
    """The intermediate values the test suite publishes for get-vanilla."""
    canonical = sigv4.canonical_request(
        "GET", "/", "", [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")], sigv4.EMPTY_SHA256)
    assert canonical == (
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    to_sign = sigv4.string_to_sign("20150830T123600Z", "20150830/us-east-1/service/aws4_request", canonical)
    assert to_sign == (
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
    )
    key = sigv4.signing_key(SECRET, "20150830", "us-east-1", "service")
    assert sigv4.signature(key, to_sign) == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"


def test_query_components_are_encoded_again() -> None:
    """``%7E`` and ``~``, ``$`` and ``%24`` sign the same (botocore signs a URL's query as it is)."""
    assert sigv4.canonical_query_string("t=%7E&k=$LATEST&p=a+b&e") == "e=&k=%24LATEST&p=a%2Bb&t=~"
    assert sigv4.canonical_query_string("") == ""


def test_repeated_headers_are_joined_with_commas() -> None:
    block, names = sigv4.canonical_headers([("X-Repeat", "a"), ("Host", "h"), ("x-repeat", "  b   c ")])
    assert block == "host:h\nx-repeat:a,b c\n"
    assert names == "host;x-repeat"


def test_declared_payload_hash_is_used_verbatim(monkeypatch: pytest.MonkeyPatch) -> None:
    headers = [("X-Amz-Content-SHA256", sigv4.UNSIGNED_PAYLOAD)]
    signed = ours("PUT", f"{HOST}/o", headers, b"anything", None)
    assert signed == ours("PUT", f"{HOST}/o", headers, b"something else", None)
    assert "x-amz-content-sha256" in signed["Authorization"]
    assert signed == botocore_sign("PUT", f"{HOST}/o", headers, b"anything", None, monkeypatch=monkeypatch)


def test_signer_headers_given_by_the_caller_are_replaced() -> None:
    stale = [("Authorization", "AWS4-HMAC-SHA256 old"), ("X-Amz-Date", "20000101T000000Z"),
             ("X-Amz-Security-Token", "old")]
    assert ours("GET", f"{HOST}/", stale, b"", TOKEN) == ours("GET", f"{HOST}/", [], b"", TOKEN)


@pytest.mark.parametrize(("url", "host"), [
    ("https://Example.AmazonAWS.com/", "example.amazonaws.com"),
    ("https://example.amazonaws.com:443/", "example.amazonaws.com"),
    ("http://127.0.0.1:80/", "127.0.0.1"),
    ("http://127.0.0.1:9000/", "127.0.0.1:9000"),
    ("http://[::1]:9000/", "[::1]:9000"),
    ("https://user:pw@example.com/", "example.com"),
])
def test_host_from_url(url: str, host: str) -> None:
    assert sigv4.host_from_url(url) == host


def test_naive_and_other_zone_times_are_the_same_instant() -> None:
    naive = NOW.replace(tzinfo=None)
    paris = NOW.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    assert sigv4.amz_date(naive) == sigv4.amz_date(paris) == sigv4.amz_date(NOW) == "20150830T123600Z"


def test_credentials_repr_hides_the_secret() -> None:
    assert SECRET not in repr(sigv4.Credentials(AKID, SECRET, TOKEN))
    assert TOKEN not in repr(sigv4.Credentials(AKID, SECRET, TOKEN))


def test_a_real_lambda_client_request_is_reproduced() -> None:
    """A request botocore's lambda client builds for Invoke, captured before sending, signs the same."""
    captured: dict[str, Any] = {}

    def before_send(request: Any, **_: Any) -> Any:
        captured["request"] = request
        from botocore.awsrequest import AWSResponse

        return AWSResponse(request.url, 200, {"X-Amz-Executed-Version": "$LATEST"}, _Raw(b"{}"))

    session = botocore.session.get_session()
    client = session.create_client("lambda", region_name="ap-southeast-2", aws_access_key_id=AKID,
                                   aws_secret_access_key=SECRET, aws_session_token=TOKEN)
    client.meta.events.register("before-send.lambda.Invoke", before_send)
    client.invoke(FunctionName="arn:aws:lambda:ap-southeast-2:123456789012:function:my-func:live",
                  Payload=b'{"a": 1}', LogType="Tail", ClientContext="e30=")
    request = captured["request"]
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    auth = headers["Authorization"]
    signed_names = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    kept = [(k, v) for k, v in headers.items() if k.lower() in signed_names and k.lower() != "host"]
    when = datetime.datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    again = dict(sigv4.sign("POST", request.url, kept, request.body, sigv4.Credentials(AKID, SECRET, TOKEN),
                            "ap-southeast-2", "lambda", when))
    assert "%253A" not in request.url and "%3A" in request.url
    assert again["Authorization"] == auth


class _Raw:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data
