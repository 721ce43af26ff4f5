"""The Lambda Invoke API driven by a real boto3 client against a running gateway (fronts/lambda_api.py)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from gateway.config import GatewayConfig
from gateway.testing import RunningGateway, start_gateway
from tests.lambda_api.helpers import lambda_client

HANDLERS = Path(__file__).parent / "handlers"
ARN = "arn:aws:lambda:us-east-1:123456789012:function"


def _fn(handler: str, **extra: Any) -> dict[str, Any]:
    return {"handler": f"lapi_handlers.{handler}", "code_uri": str(HANDLERS), "isolation": "inprocess", **extra}


def mapping() -> dict[str, Any]:
    return {
        "gateway": {"access_log": False},
        "functions": {
            "echo": _fn("echo", environment={"LAPI_VERSION": "latest"},
                        versions={"1": {"environment": {"LAPI_VERSION": "v1"}}},
                        aliases={"live": {"version": "1", "description": "the live one"}}),
            "fail": _fn("fail"),
            "chatty": _fn("chatty"),
            "record": _fn("record"),
            "off": _fn("echo", reserved_concurrency=0),
        },
        "lambda_api": {"listen": "127.0.0.1:0"},
    }


@pytest.fixture(scope="module")
def running() -> Iterator[RunningGateway]:
    with start_gateway(GatewayConfig.from_mapping(mapping()), log=lambda name, entry: None) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def client(running: RunningGateway) -> Any:
    return lambda_client(running.urls["lambda_api"])


def _invoke(client: Any, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    answer = client.invoke(**kwargs)
    body = answer["Payload"].read()
    return answer, json.loads(body) if body else None


def test_request_response(client: Any) -> None:
    answer, body = _invoke(client, FunctionName="echo", Payload=json.dumps({"a": 1}))
    assert answer["StatusCode"] == 200
    assert answer["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in answer and "LogResult" not in answer
    assert body["event"] == {"a": 1}
    assert body["request_id"] == answer["ResponseMetadata"]["RequestId"]
    assert (body["arn"], body["env"]) == (f"{ARN}:echo", "latest")


@pytest.mark.parametrize(("kwargs", "version", "arn"), [
    ({"FunctionName": "echo:1"}, "1", f"{ARN}:echo:1"),
    ({"FunctionName": "echo:live"}, "1", f"{ARN}:echo:live"),
    ({"FunctionName": "echo", "Qualifier": "live"}, "1", f"{ARN}:echo:live"),
    ({"FunctionName": "echo:$LATEST"}, "$LATEST", f"{ARN}:echo:$LATEST"),
    ({"FunctionName": f"{ARN}:echo"}, "$LATEST", f"{ARN}:echo"),
    ({"FunctionName": f"{ARN}:echo:live"}, "1", f"{ARN}:echo:live"),
    ({"FunctionName": "123456789012:function:echo"}, "$LATEST", f"{ARN}:echo"),
    ({"FunctionName": "123456789012:function:echo:1"}, "1", f"{ARN}:echo:1"),
    ({"FunctionName": "echo:live", "Qualifier": "live"}, "1", f"{ARN}:echo:live"),
])
def test_function_name_forms(client: Any, kwargs: dict[str, Any], version: str, arn: str) -> None:
    answer, body = _invoke(client, Payload=b"{}", **kwargs)
    assert answer["ExecutedVersion"] == version
    assert body["version"] == version
    assert body["env"] == ("v1" if version == "1" else "latest")
    if arn.endswith("$LATEST"):  # the unqualified and $LATEST ARNs both name $LATEST
        assert body["arn"] in (arn, arn.removesuffix(":$LATEST"))
    else:
        assert body["arn"] == arn


def test_function_error_and_log_tail(client: Any) -> None:
    answer, body = _invoke(client, FunctionName="fail", Payload=b"{}", LogType="Tail")
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "requested failure"
    tail = base64.b64decode(answer["LogResult"]).decode()
    assert "about to fail" in tail and "REPORT RequestId: " in tail


def test_log_tail_is_the_last_4_kb(client: Any) -> None:
    answer, body = _invoke(client, FunctionName="chatty", LogType="Tail")
    assert body == "done"
    raw = base64.b64decode(answer["LogResult"])
    assert 3000 < len(raw) <= 4096
    assert b"line 0000" not in raw and raw.rstrip().splitlines()[-1].startswith(b"REPORT RequestId: ")


def test_client_context_reaches_the_handler(client: Any) -> None:
    context = base64.b64encode(json.dumps({"custom": {"k": "v"}, "env": {}, "client": {}}).encode()).decode()
    _answer, body = _invoke(client, FunctionName="echo", ClientContext=context)
    assert body["custom"] == {"k": "v"}


def test_empty_payload_is_an_empty_object(client: Any) -> None:
    _answer, body = _invoke(client, FunctionName="echo")
    assert body["event"] == {}


def test_dry_run(client: Any) -> None:
    answer = client.invoke(FunctionName="echo:live", InvocationType="DryRun")
    assert answer["StatusCode"] == 204
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="nope", InvocationType="DryRun")


def test_event_answers_202_then_runs(client: Any, tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    answer = client.invoke(FunctionName="record", InvocationType="Event",
                           Payload=json.dumps({"file": str(out), "sleep": 0.3}))
    assert answer["StatusCode"] == 202
    assert answer["Payload"].read() == b""
    assert not out.exists()  # answered before the function ran
    deadline = time.monotonic() + 10
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    line = json.loads(out.read_text())
    assert line["request_id"] == answer["ResponseMetadata"]["RequestId"]


def test_invoke_async_legacy(client: Any, tmp_path: Path) -> None:
    out = tmp_path / "legacy.jsonl"
    answer = client.invoke_async(FunctionName="record", InvokeArgs=json.dumps({"file": str(out)}))
    assert answer["Status"] == 202
    deadline = time.monotonic() + 10
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert out.exists()


def _error(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call()
    return dict(info.value.response)


@pytest.mark.parametrize("name", ["nope", "echo:9", "echo:nolias", f"{ARN}:nope",
                                  "arn:aws:lambda:us-east-1:999999999999:function:echo"])
def test_unknown_function(client: Any, name: str) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException) as info:
        client.invoke(FunctionName=name)
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert response["Error"]["Message"].startswith("Function not found: arn:aws:lambda:us-east-1:")
    assert response["Type"] == "User"


def test_other_region(client: Any) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException) as info:
        client.invoke(FunctionName="arn:aws:lambda:eu-west-1:123456789012:function:echo")
    assert "not reachable in this region" in info.value.response["Error"]["Message"]


def test_throttled(client: Any) -> None:
    with pytest.raises(client.exceptions.TooManyRequestsException) as info:
        client.invoke(FunctionName="off", Payload=b"{}")
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert response["Error"]["Message"] == "Rate Exceeded."


def test_request_too_large(client: Any) -> None:
    big = json.dumps({"x": "a" * (6 * 1024 * 1024)})
    response = _error(lambda: client.invoke(FunctionName="echo", Payload=big))
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert response["Error"]["Message"] == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"


def test_event_too_large(client: Any) -> None:
    payload = json.dumps({"x": "a" * 262_144})
    response = _error(lambda: client.invoke(FunctionName="echo", InvocationType="Event", Payload=payload))
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert response["Error"]["Message"] == (
        f"{len(payload)} byte payload is too large for the Event invocation type (limit 262144 bytes)")


def test_body_not_json(client: Any) -> None:
    with pytest.raises(client.exceptions.InvalidRequestContentException) as info:
        client.invoke(FunctionName="echo", Payload=b"{not json")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert info.value.response["Error"]["Message"].startswith("Could not parse request body into json")


def test_qualifier_mismatch(client: Any) -> None:
    with pytest.raises(client.exceptions.InvalidParameterValueException) as info:
        client.invoke(FunctionName="echo:1", Qualifier="live")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_bad_client_context(client: Any) -> None:
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="echo", ClientContext="not base64!")


def test_invalid_name(client: Any) -> None:
    response = _error(lambda: client.invoke(FunctionName="bad name!"))
    assert (response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]) == (400, "ValidationException")


def test_unsupported_media_type(running: RunningGateway) -> None:
    url = running.urls["lambda_api"] + "2015-03-31/functions/echo/invocations"
    answer = httpx.post(url, content=b"--x\r\n", headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert answer.status_code == 415
    assert answer.headers["x-amzn-ErrorType"] == "UnsupportedMediaTypeException"


def test_unknown_operation(running: RunningGateway) -> None:
    answer = httpx.delete(running.urls["lambda_api"] + "2015-03-31/functions/echo")
    assert answer.status_code == 404
    assert answer.headers["x-amzn-ErrorType"] == "UnknownOperationException"
