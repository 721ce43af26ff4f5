"""The remote invoker against a local server that speaks the Invoke API (tests/functions/invoke_api.py)."""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.auth.sigv4 import Credentials
from gateway.config import FunctionConfig, GatewayConfig, GatewaySettings
from gateway.errors import (
    ConfigError,
    EventTooLarge,
    IntegrationTimeout,
    RemoteError,
    RemoteTimeout,
    Throttled,
    UnknownFunction,
)
from gateway.functions import FunctionsService
from gateway.functions.invokers import remote
from gateway.functions.invokers.remote import RemoteInvoker, signing_region, standard_chain
from tests.functions.conftest import Logs, ServiceFactory
from tests.functions.invoke_api import REMOTE_REQUEST_ID, SECRET, InvokeApi, serve_invoke_api

NOW = datetime.datetime(2026, 5, 1, 12, 0, 0, tzinfo=datetime.UTC)


@pytest.fixture
async def api() -> AsyncIterator[InvokeApi]:
    async with serve_invoke_api() as server:
        yield server


def remote_fn(api: InvokeApi, remote_name: str, **settings: Any) -> FunctionConfig:
    return FunctionConfig(name="remote", endpoint=api.url, remote_name=remote_name, **settings)


async def test_success_payload_headers_and_log_tail(api: InvokeApi, service_factory: ServiceFactory,
                                                    logs: Logs) -> None:
    service = service_factory(remote_fn(api, "echo"))
    context = base64.b64encode(b'{"custom": {"k": "v"}}').decode()
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    result = await service.invoke("remote", b'{"a": 1}', trace_id=trace, client_context=context)
    assert result.payload == b'{"a": 1}'
    assert result.function_error is None
    assert result.executed_version == "7"
    assert result.request_id == REMOTE_REQUEST_ID
    assert (result.duration_ms, result.billed_duration_ms, result.max_memory_used_mb) == (12.34, 13, 42)
    assert result.init_duration_ms == 101.5
    assert result.log_tail.splitlines()[1] == "hello from remote"
    assert logs.of("remote")[:3] == [f"START RequestId: {REMOTE_REQUEST_ID} Version: 7", "hello from remote",
                                     f"END RequestId: {REMOTE_REQUEST_ID}"]
    sent = api.received[-1]
    assert sent.raw_path == "/2015-03-31/functions/echo/invocations"
    assert sent.headers["x-amz-invocation-type"] == "RequestResponse"
    assert sent.headers["x-amz-log-type"] == "Tail"
    assert sent.headers["x-amz-client-context"] == context
    assert sent.headers["x-amzn-trace-id"] == trace
    assert "authorization" not in sent.headers  # not an AWS host: RIE takes unsigned requests
    warm = await service.invoke("remote", b"{}")
    assert warm.init_duration_ms is None


async def test_remote_name_defaults_to_the_function_name(api: InvokeApi, service_factory: ServiceFactory) -> None:
    service = service_factory(FunctionConfig(name="echo", endpoint=api.url + "/"))
    assert (await service.invoke("echo", b"[]")).payload == b"[]"
    assert api.received[-1].raw_path == "/2015-03-31/functions/echo/invocations"


async def test_function_error_is_a_result(api: InvokeApi, service_factory: ServiceFactory) -> None:
    result = await service_factory(remote_fn(api, "fails")).invoke("remote", b"{}")
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload)["errorType"] == "ValueError"


@pytest.mark.parametrize(("name", "error", "message"), [
    ("busy", Throttled, "TooManyRequestsException: Rate Exceeded."),
    ("big", EventTooLarge, "^Request must be smaller than 6291456 bytes for the InvokeFunction operation$"),
    ("nope", UnknownFunction, "^Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope$"),
    ("broken", RemoteError, "answered 500 ServiceException: Lambda was unable to process the request$"),
    ("html", RemoteError, "answered 502 HTTP 502: <html>Bad Gateway</html>$"),
])
async def test_refusals_map_to_the_gateway_errors(api: InvokeApi, service_factory: ServiceFactory, name: str,
                                                  error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        await service_factory(remote_fn(api, name)).invoke("remote", b"{}")


async def test_connection_refused(service_factory: ServiceFactory) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    service = service_factory(FunctionConfig(name="gone", endpoint=f"http://127.0.0.1:{port}"))
    with pytest.raises(RemoteError, match="cannot reach http://127.0.0.1") as caught:
        await service.invoke("gone", b"{}")
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


async def test_no_answer_in_time(api: InvokeApi, logs: Logs) -> None:
    invoker = RemoteInvoker(remote_fn(api, "slow", timeout=0.2), GatewaySettings(), log=logs, margin=0.1)
    try:
        with pytest.raises(RemoteTimeout, match="did not answer in time") as caught:
            await invoker.invoke(b"{}", request_id="r")
        assert isinstance(caught.value, IntegrationTimeout)
        assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    finally:
        await invoker.aclose()


class _ToLocal(httpx.AsyncBaseTransport):
    """Sends every request to the local server, leaving the Host header (and so the signature) as it was."""

    def __init__(self, url: str) -> None:
        self.target = httpx.URL(url)
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host=self.target.host, port=self.target.port)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize("remote_name", ["signed", "arn:aws:lambda:eu-west-1:123456789012:function:signed:live"])
@pytest.mark.parametrize("token", [None, "session-token"])
async def test_aws_endpoints_get_a_signature_botocore_accepts(api: InvokeApi, logs: Logs, remote_name: str,
                                                              token: str | None) -> None:
    fn = FunctionConfig(name="app", endpoint="https://lambda.eu-west-1.amazonaws.com", remote_name=remote_name)
    async with httpx.AsyncClient(transport=_ToLocal(api.url)) as client:
        invoker = RemoteInvoker(fn, GatewaySettings(), log=logs, client=client,
                                credentials=Credentials("AKIDEXAMPLE", SECRET, token), clock=lambda: NOW)
        result = await invoker.invoke(b'{"x": 1}', request_id="r", trace_id="Root=1-0-0")
    assert result.payload == b'"signed"'
    assert api.signature_checks == [True]
    sent = api.received[-1]
    assert sent.host == "lambda.eu-west-1.amazonaws.com"
    assert sent.headers["x-amz-date"] == "20260501T120000Z"
    assert sent.headers["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260501/eu-west-1/lambda/aws4_request, ")
    assert ("x-amz-security-token" in sent.headers) == (token is not None)
    if ":" in remote_name:
        assert sent.raw_path.startswith("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A")


async def test_a_wrong_secret_is_refused_by_the_endpoint(api: InvokeApi, logs: Logs) -> None:
    fn = FunctionConfig(name="signed", endpoint="https://lambda.us-east-1.amazonaws.com")
    async with httpx.AsyncClient(transport=_ToLocal(api.url)) as client:
        invoker = RemoteInvoker(fn, GatewaySettings(), log=logs, client=client,
                                credentials=Credentials("AKIDEXAMPLE", "not-the-secret"))
        with pytest.raises(RemoteError, match="answered 403 InvalidSignatureException"):
            await invoker.invoke(b"{}", request_id="r")
    assert api.signature_checks == [False]


async def test_an_aws_endpoint_without_credentials_fails_each_invocation(logs: Logs) -> None:
    fn = FunctionConfig(name="app", endpoint="https://lambda.us-east-1.amazonaws.com")
    invoker = RemoteInvoker(fn, GatewaySettings(), log=logs, credentials=None)
    try:
        with pytest.raises(RemoteError, match="no AWS credentials were found"):
            await invoker.invoke(b"{}", request_id="r")
    finally:
        await invoker.aclose()


@pytest.mark.parametrize(("endpoint", "region"), [
    ("https://lambda.eu-west-1.amazonaws.com", "eu-west-1"),
    ("https://lambda-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
    ("https://vpce-0123-abcd.lambda.ap-southeast-2.vpce.amazonaws.com", "ap-southeast-2"),
    ("https://lambda.cn-north-1.amazonaws.com.cn", "cn-north-1"),
    ("https://lambda.amazonaws.com", "us-east-1"),  # no region in the host: the gateway's
    ("http://127.0.0.1:9000", None),
    ("https://lambda.example.com", None),
    ("https://amazonaws.com.evil.example", None),
])
def test_signing_region(endpoint: str, region: str | None) -> None:
    assert signing_region(endpoint, "us-east-1") == region


def test_standard_chain(tmp_path: Path) -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t", "HOME": "/none"}
    assert standard_chain(env) == Credentials("AKENV", "s", "t")
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKDEF\naws_secret_access_key = d\n"
        "[dev]\naws_access_key_id = AKDEV\naws_secret_access_key = v\naws_session_token = tok\n")
    (tmp_path / ".aws" / "config").write_text(
        "[profile cfg]\naws_access_key_id = AKCFG\naws_secret_access_key = c\nregion = eu-west-1\n")
    home = {"HOME": str(tmp_path)}
    assert standard_chain(home) == Credentials("AKDEF", "d")
    assert standard_chain({**home, "AWS_PROFILE": "dev"}) == Credentials("AKDEV", "v", "tok")
    assert standard_chain({**home, "AWS_PROFILE": "cfg"}) == Credentials("AKCFG", "c")
    assert standard_chain({**home, "AWS_PROFILE": "missing"}) is None
    assert standard_chain({"HOME": str(tmp_path / "nowhere")}) is None


@pytest.mark.parametrize(("function", "message"), [
    ({"endpoint": "ftp://host"}, "functions.r.endpoint: 'ftp://host' is not an http:// or https:// URL with a host"),
    ({"endpoint": "http://host:9000/?x=1"}, "functions.r.endpoint: must not have a query or a fragment"),
    ({"endpoint": "http://host:99999"}, "functions.r.endpoint: Port out of range"),
    ({"endpoint": "http://host", "remote_name": "a/b"}, "functions.r.remote_name: 'a/b' is not a function name"),
    ({"code_uri": "."}, "functions.r.handler: is required"),
])
def test_endpoint_config_errors(function: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        GatewayConfig.from_mapping({"functions": {"r": function}})


def test_an_endpoint_needs_no_handler_or_code() -> None:
    config = GatewayConfig.from_mapping({"functions": {"r": {
        "endpoint": "http://127.0.0.1:9000", "remote_name": "function", "code_uri": "does/not/exist"}}})
    assert config.functions["r"].endpoint == "http://127.0.0.1:9000"
    assert FunctionsService(config.functions, config.gateway).check() == []


# Each front's answer when the remote endpoint does not answer in time / cannot be reached.
FRONT_ANSWERS = {
    "rest": ((504, b'{"message": "Endpoint request timed out"}'), (500, b'{"message": "Internal server error"}')),
    "http": ((503, b'{"message":"Service Unavailable"}'), (500, b'{"message":"Internal Server Error"}')),
    "alb": ((504, b"504 Gateway Time-out"), (502, b"502 Bad Gateway")),
    "url": ((502, b"Internal Server Error"), (502, b"Internal Server Error")),
}


async def test_what_each_front_answers_when_the_remote_fails(api: InvokeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote, "MARGIN", 0.1)
    api.slow_seconds = 3
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    config = GatewayConfig.from_mapping({
        "functions": {"slow": {"endpoint": api.url, "timeout": 1},
                      "gone": {"endpoint": f"http://127.0.0.1:{closed}"}},
        "rest_apis": [{"name": "rest", "listen": "127.0.0.1:41001", "stage": "s", "routes": [
            {"method": "GET", "path": "/slow", "function": "slow"},
            {"method": "GET", "path": "/gone", "function": "gone"}]}],
        "http_apis": [{"name": "http", "listen": "127.0.0.1:41002", "routes": [
            {"route": "GET /slow", "function": "slow"}, {"route": "GET /gone", "function": "gone"}]}],
        "albs": [{"name": "alb", "listen": "127.0.0.1:41003", "rules": [
            {"priority": 1, "path": "/slow", "function": "slow"},
            {"priority": 2, "path": "/gone", "function": "gone"}]}],
        "function_urls": [{"function": "slow", "listen": "127.0.0.1:41004"},
                          {"function": "gone", "listen": "127.0.0.1:41005"}],
    })
    app = create_app(config)
    urls = {"rest": ("http://127.0.0.1:41001/s/slow", "http://127.0.0.1:41001/s/gone"),
            "http": ("http://127.0.0.1:41002/slow", "http://127.0.0.1:41002/gone"),
            "alb": ("http://127.0.0.1:41003/slow", "http://127.0.0.1:41003/gone"),
            "url": ("http://127.0.0.1:41004/", "http://127.0.0.1:41005/")}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
            answers = await asyncio.gather(*(client.get(url) for pair in urls.values() for url in pair))
    finally:
        await app.functions.aclose()
    got = iter(answers)
    for front, expected in FRONT_ANSWERS.items():
        for status, body in expected:
            answer = next(got)
            assert answer.status_code == status, front
            assert body in answer.content, front
