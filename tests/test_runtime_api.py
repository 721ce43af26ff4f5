"""The Runtime API server over real HTTP (httpx), with a recording owner in place of an environment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.runtime_api import Invocation, RuntimeApi, valid_error_type

BASE = "/2018-06-01/runtime"


class Owner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def api_ready(self) -> None:
        self.calls.append(("ready",))

    def api_response(self, request_id: str, payload: bytes) -> None:
        self.calls.append(("response", request_id, payload.decode()))

    def api_error(self, request_id: str, payload: bytes) -> None:
        self.calls.append(("error", request_id, payload.decode()))

    def api_too_large(self, request_id: str) -> None:
        self.calls.append(("too large", request_id))

    def api_init_error(self, payload: bytes, error_type: str) -> None:
        self.calls.append(("init error", error_type, payload.decode()))


@pytest.fixture
async def api() -> AsyncIterator[tuple[RuntimeApi, Owner, httpx.AsyncClient]]:
    owner = Owner()
    server = RuntimeApi(owner)
    address = await server.start()
    async with httpx.AsyncClient(base_url=f"http://{address}{BASE}", timeout=10) as client:
        yield server, owner, client
    server.close()


INVOCATION = Invocation("r-1", b'{"k": "v"}', 1700000003000, "arn:aws:lambda:us-east-1:123456789012:function:f",
                        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", '{"custom": {"a": "b"}}')


Api = tuple[RuntimeApi, Owner, httpx.AsyncClient]


async def test_next_waits_for_an_event_and_carries_the_runtime_headers(api: Api) -> None:
    server, owner, client = api
    waiting = asyncio.create_task(client.get("/invocation/next"))
    await asyncio.sleep(0.2)
    assert not waiting.done() and owner.calls == [("ready",)]  # parked, never failed while idle
    server.deliver(INVOCATION)
    response = await waiting
    assert (response.status_code, response.content) == (200, b'{"k": "v"}')
    assert {name: value for name, value in response.headers.items() if name.startswith("lambda-runtime-")} == {
        "lambda-runtime-aws-request-id": "r-1",
        "lambda-runtime-deadline-ms": "1700000003000",
        "lambda-runtime-invoked-function-arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "lambda-runtime-trace-id": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
        "lambda-runtime-client-context": '{"custom": {"a": "b"}}',
    }
    assert response.headers["content-type"] == "application/json"


async def test_response_then_next(api: Api) -> None:
    server, owner, client = api
    server.deliver(INVOCATION)  # delivered before the runtime asks: the first /next gets it at once
    assert (await client.get("/invocation/next")).status_code == 200
    wrong = await client.post("/invocation/r-2/response", content=b"1")
    assert (wrong.status_code, wrong.content) == (
        400, b'{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}\n')
    accepted = await client.post("/invocation/r-1/response", content=b'"done"')
    assert (accepted.status_code, accepted.content) == (202, b'{"status":"OK"}\n')
    again = await client.post("/invocation/r-1/error", content=b"{}")
    assert again.status_code == 403 and again.json() == {
        "errorMessage": "State transition from RuntimeResponseSentState to InvocationErrorResponse failed for "
                        "runtime. Error: State transition is not allowed",
        "errorType": "InvalidStateTransition",
    }
    assert owner.calls == [("ready",), ("response", "r-1", '"done"')]


async def test_error_and_answers_out_of_turn(api: Api) -> None:
    server, owner, client = api
    early = await client.post("/invocation/r-1/response", content=b"1")
    assert early.status_code == 403 and early.json()["errorMessage"].startswith("State transition from Started to ")
    server.deliver(INVOCATION)
    await client.get("/invocation/next")
    document = '{"errorMessage": "boom", "errorType": "ValueError", "requestId": "r-1", "stackTrace": []}'
    posted = await client.post("/invocation/r-1/error", content=document,
                               headers={"Lambda-Runtime-Function-Error-Type": "Unhandled"})
    assert posted.status_code == 202
    late = await client.post("/init/error", content=b"{}")
    assert late.status_code == 403
    assert owner.calls[-1] == ("error", "r-1", document)


async def test_init_error_before_the_first_next(api: Api) -> None:
    _server, owner, client = api
    body = '{"errorMessage": "Handler \'nosuch\' missing on module \'app\'", "errorType": "Runtime.HandlerNotFound"}'
    posted = await client.post("/init/error", content=body,
                               headers={"Lambda-Runtime-Function-Error-Type": "Runtime.HandlerNotFound"})
    assert (posted.status_code, posted.content) == (202, b'{"status":"OK"}\n')
    assert owner.calls == [("init error", "Runtime.HandlerNotFound", body)]
    assert (await client.get("/invocation/next")).status_code == 403


async def test_a_response_over_6_mb_is_413(api: Api) -> None:
    server, owner, client = api
    server.deliver(INVOCATION)
    await client.get("/invocation/next")
    response = await client.post("/invocation/r-1/response", content=b"x" * 6_291_557)
    assert (response.status_code, response.content) == (
        413, b'{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).",'
             b'"errorType":"RequestEntityTooLarge"}\n')
    assert owner.calls[-1] == ("too large", "r-1")


async def test_unknown_paths_are_404(api: Api) -> None:
    _server, _owner, client = api
    response = await client.get("/nothing/here")
    assert (response.status_code, response.content) == (404, b"404 page not found\n")


@pytest.mark.parametrize(("given", "recorded"), [
    ("Runtime.HandlerNotFound", "Runtime.HandlerNotFound"),
    ("Function.Custom", "Function.Custom"),
    ("Function.lower", "Function.Unknown"),
    ("ValueError", "Runtime.Unknown"),
    ("", "Runtime.Unknown"),
])
def test_error_types_are_normalised_as_the_service_does(given: str, recorded: str) -> None:
    assert valid_error_type(given) == recorded


def test_the_size_limit_is_the_runtimes() -> None:
    from gateway.functions import runtime
    from gateway.runtime_api import MAX_RESPONSE_BYTES

    assert MAX_RESPONSE_BYTES == runtime.MAX_RESPONSE_BYTES
