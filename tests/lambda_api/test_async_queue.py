"""Event invocations through the durable queue (gateway/queue.py), driven by boto3 against a running gateway.

Lambda's async rules (retries, destinations, event age, reserved concurrency) with ``retry_delay_scale =
0.001``: the one- and two-minute retry delays become 60 and 120 ms, a 60 s maximum event age 60 ms.
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import GatewayConfig
from gateway.destinations import backoff_delay, error_message, retry_delay, timestamp
from gateway.errors import ConfigError
from gateway.testing import RunningGateway, start_gateway
from tests.lambda_api.helpers import lambda_client, lines, wait_for

HANDLERS = Path(__file__).parent / "handlers"
ARN = "arn:aws:lambda:us-east-1:123456789012:function"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _fn(handler: str, **extra: Any) -> dict[str, Any]:
    return {"handler": f"queue_handlers.{handler}", "code_uri": str(HANDLERS), "isolation": "inprocess", **extra}


def mapping(work: Path) -> dict[str, Any]:
    sink = {"environment": {"SINK_FILE": str(work / "sink.jsonl")}}
    return {
        "gateway": {"access_log": False, "retry_delay_scale": 0.001, "data_dir": "state"},
        "functions": {
            "rec": _fn("record"),
            "ok": _fn("record", on_success={"file": "success.jsonl"}, versions={"1": {}}),
            "bad": _fn("fail", on_failure={"file": "failure.jsonl"}, dead_letter={"file": "dlq.jsonl"}),
            "bad0": _fn("fail", maximum_retry_attempts=0, on_failure={"function": "sink"},
                        dead_letter={"function": "sink"}),
            "off": _fn("record", reserved_concurrency=0, maximum_event_age=60, on_failure={"file": "age.jsonl"}),
            "pair": _fn("timed", isolation="process", reserved_concurrency=2, on_success={"file": "pair.jsonl"}),
            "sink": _fn("sink", **sink),
        },
        "lambda_api": {"listen": "127.0.0.1:0"},
        "admin": {"listen": "127.0.0.1:0"},
    }


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("queue")


@pytest.fixture(scope="module")
def running(work: Path) -> Iterator[RunningGateway]:
    config = GatewayConfig.from_mapping(mapping(work), base_dir=work)
    with start_gateway(config, log=lambda name, entry: None) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def client(running: RunningGateway) -> Any:
    return lambda_client(running.urls["lambda_api"])


def event(client: Any, name: str, payload: Any, **kwargs: Any) -> str:
    """An Event invocation; its request id (the 202 answer's)."""
    answer = client.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload), **kwargs)
    assert answer["StatusCode"] == 202
    assert answer["Payload"].read() == b""
    return str(answer["ResponseMetadata"]["RequestId"])


def status(running: RunningGateway) -> dict[str, Any]:
    answer = httpx.get(running.urls["admin"] + "queue")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    return dict(answer.json())


def test_events_answer_202_and_run_once(client: Any, running: RunningGateway, work: Path) -> None:
    out = work / "rec.jsonl"
    ids = [event(client, "rec", {"file": str(out), "n": n}) for n in range(5)]
    seen = wait_for(lambda: len(lines(out)) == 5 and lines(out))
    assert sorted(entry["request_id"] for entry in seen) == sorted(ids)
    assert sorted(entry["event"]["n"] for entry in seen) == [0, 1, 2, 3, 4]
    counts = wait_for(lambda: status(running)["functions"]["rec"]["delivered"] == 5 and status(running))
    assert counts["functions"]["rec"] == {"queued": 0, "in_flight": 0, "retried": 0, "throttled": 0,
                                          "delivered": 5, "failed": 0, "dead_lettered": 0, "discarded": 0}
    assert counts["database"] == str(work / "state" / "queue.sqlite3")


def test_legacy_invoke_async_is_queued(client: Any, work: Path) -> None:
    out = work / "legacy.jsonl"
    answer = client.invoke_async(FunctionName="rec", InvokeArgs=json.dumps({"file": str(out)}))
    assert answer["Status"] == 202
    assert wait_for(lambda: lines(out))[0]["event"] == {"file": str(out)}


def test_on_success_record(client: Any, work: Path) -> None:
    out = work / "ok.jsonl"
    first = event(client, "ok", {"file": str(out), "n": 1})
    second = event(client, "ok:1", {"file": str(out), "n": 2})
    records = wait_for(lambda: len(lines(work / "success.jsonl")) == 2 and lines(work / "success.jsonl"))
    by_id = {r["requestContext"]["requestId"]: r for r in records}
    for request_id, n, qualifier, version in ((first, 1, "$LATEST", "$LATEST"), (second, 2, "1", "1")):
        record = by_id[request_id]
        assert TIMESTAMP.fullmatch(record.pop("timestamp"))
        assert record == {
            "version": "1.0",
            "requestContext": {"requestId": request_id, "functionArn": f"{ARN}:ok:{qualifier}",
                               "condition": "Success", "approximateInvokeCount": 1},
            "requestPayload": {"file": str(out), "n": n},
            "responseContext": {"statusCode": 200, "executedVersion": version},
            "responsePayload": {"ok": True, "n": n},
        }


def test_retries_then_failure_destination_and_dead_letter(client: Any, running: RunningGateway,
                                                          work: Path) -> None:
    attempts = work / "bad-attempts.jsonl"
    payload = {"file": str(attempts), "why": "fails"}
    request_id = event(client, "bad", payload)
    (record,) = wait_for(lambda: lines(work / "failure.jsonl"))
    assert [a["request_id"] for a in lines(attempts)] == [request_id] * 3  # the first try and 2 retries
    assert TIMESTAMP.fullmatch(record.pop("timestamp"))
    response = record.pop("responsePayload")
    assert (response["errorType"], response["errorMessage"]) == ("ValueError", "requested failure")
    assert record == {
        "version": "1.0",
        "requestContext": {"requestId": request_id, "functionArn": f"{ARN}:bad:$LATEST",
                           "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
    }
    (message,) = wait_for(lambda: lines(work / "dlq.jsonl"))
    body = json.dumps(payload)
    assert message == {
        "MessageId": message["MessageId"],
        "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "Body": body,  # the original event, byte for byte
        "MessageAttributes": {
            "RequestID": {"DataType": "String", "StringValue": request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String", "StringValue": "requested failure"},
        },
    }
    assert re.fullmatch(r"[0-9a-f-]{36}", message["MessageId"])
    counts = wait_for(lambda: status(running)["functions"]["bad"]["failed"] == 1 and status(running))
    assert counts["functions"]["bad"] == {"queued": 0, "in_flight": 0, "retried": 2, "throttled": 0,
                                          "delivered": 0, "failed": 1, "dead_lettered": 1, "discarded": 0}


def test_function_destinations_get_the_record_and_an_sqs_event(client: Any, work: Path) -> None:
    request_id = event(client, "bad0", {"k": "v"})
    got = wait_for(lambda: len(lines(work / "sink.jsonl")) == 2 and lines(work / "sink.jsonl"))
    records = [g["event"] for g in got if "requestContext" in g["event"]]
    sqs = [g["event"] for g in got if "Records" in g["event"]]
    assert len(records) == 1 and len(sqs) == 1
    assert records[0]["requestContext"] == {"requestId": request_id, "functionArn": f"{ARN}:bad0:$LATEST",
                                            "condition": "RetriesExhausted", "approximateInvokeCount": 1}
    assert records[0]["requestPayload"] == {"k": "v"}
    (message,) = sqs[0]["Records"]
    assert message["eventSource"] == "aws:sqs"
    assert message["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:bad0-dlq"
    assert message["body"] == '{"k": "v"}'
    assert message["messageAttributes"] == {
        "RequestID": {"stringValue": request_id, "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "ErrorCode": {"stringValue": "200", "stringListValues": [], "binaryListValues": [], "dataType": "Number"},
        "ErrorMessage": {"stringValue": "requested failure", "stringListValues": [], "binaryListValues": [],
                         "dataType": "String"},
    }
    # The destination invocations are events of their own, with their own request ids.
    assert request_id not in {g["request_id"] for g in got}


def test_event_age_exceeded(client: Any, running: RunningGateway, work: Path) -> None:
    """reserved_concurrency 0 throttles every try; past the (scaled) 60 s the event fails as EventAgeExceeded."""
    never = work / "never.jsonl"
    request_id = event(client, "off", {"file": str(never)})
    (record,) = wait_for(lambda: lines(work / "age.jsonl"))
    assert not never.exists()
    assert record["requestContext"] == {"requestId": request_id, "functionArn": f"{ARN}:off:$LATEST",
                                        "condition": "EventAgeExceeded", "approximateInvokeCount": 0}
    assert record["responseContext"] == {"statusCode": 429, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"errorMessage": "Rate Exceeded.", "errorType": "TooManyRequestsException"}
    counts = status(running)["functions"]["off"]
    assert counts["throttled"] >= 1  # each throttle is retried with backoff, not counted as an attempt
    assert (counts["failed"], counts["discarded"], counts["delivered"]) == (1, 0, 0)


def test_reserved_concurrency_is_respected(client: Any, running: RunningGateway, work: Path) -> None:
    """Six 0.4 s events of a function with reserved_concurrency 2 (process environments, which
    could run all six at once): two at a time, never three, and none throttled."""
    out = work / "pair.jsonl"
    for n in range(6):
        event(client, "pair", {"n": n, "sleep": 0.4})
    records = wait_for(lambda: len(lines(out)) == 6 and lines(out), timeout=30)
    runs = [r["responsePayload"] for r in records]
    assert sorted(r["n"] for r in runs) == [0, 1, 2, 3, 4, 5]
    edges = sorted([(r["start"], 1) for r in runs] + [(r["end"], -1) for r in runs])
    busy = peak = 0
    for _when, step in edges:
        busy += step
        peak = max(peak, busy)
    assert peak == 2
    assert status(running)["functions"]["pair"]["throttled"] == 0


def test_queue_status_totals(running: RunningGateway) -> None:
    counts = status(running)
    for key in ("queued", "in_flight", "retried", "throttled", "delivered", "failed", "dead_lettered", "discarded"):
        assert counts["total"][key] == sum(entry[key] for entry in counts["functions"].values())
    assert httpx.post(running.urls["admin"] + "queue").status_code == 405


@pytest.mark.parametrize(("extra", "key", "problem"), [
    ({"maximum_retry_attempts": 3}, "functions.f.maximum_retry_attempts", "must be between 0 and 2"),
    ({"maximum_event_age": 59}, "functions.f.maximum_event_age", "must be between 60 and 21600 seconds"),
    ({"maximum_event_age": 21601}, "functions.f.maximum_event_age", "must be between 60 and 21600 seconds"),
    ({"on_success": {"function": "nope"}}, "functions.f.on_success.function", "no function is named 'nope'"),
    ({"on_failure": {}}, "functions.f.on_failure", 'needs exactly one of function = "name" or file = "path.jsonl"'),
    ({"dead_letter": {"function": "f", "file": "x.jsonl"}}, "functions.f.dead_letter",
     'needs exactly one of function = "name" or file = "path.jsonl"'),
    ({"on_failure": {"queue": "q"}}, "functions.f.on_failure.queue", "unknown key (known keys here: file, function)"),
])
def test_config_errors(tmp_path: Path, extra: dict[str, Any], key: str, problem: str) -> None:
    data = {"functions": {"f": _fn("record", **extra)}}
    with pytest.raises(ConfigError) as caught:
        GatewayConfig.from_mapping(data, source="gw.toml", base_dir=tmp_path)
    assert (caught.value.file, caught.value.key, caught.value.problem) == ("gw.toml", key, problem)


def test_config_defaults_and_paths(tmp_path: Path) -> None:
    for scale in (0, -1):
        with pytest.raises(ConfigError) as caught:
            GatewayConfig.from_mapping({"gateway": {"retry_delay_scale": scale}}, base_dir=tmp_path)
        assert (caught.value.key, caught.value.problem) == ("gateway.retry_delay_scale", "must be more than 0")
    config = GatewayConfig.from_mapping({"functions": {"f": _fn("record", dead_letter={"file": "d/x.jsonl"})}},
                                        base_dir=tmp_path)
    fn = config.functions["f"]
    assert (fn.maximum_retry_attempts, fn.maximum_event_age, fn.on_success, fn.on_failure) == (2, 21600, None, None)
    assert fn.dead_letter is not None and fn.dead_letter.file == tmp_path / "d" / "x.jsonl"
    assert config.base_dir / config.gateway.data_dir == tmp_path / ".gateway"
    assert config.gateway.retry_delay_scale == 1.0


def test_an_unused_queue_writes_nothing(tmp_path: Path) -> None:
    """Serving with no Event invocation leaves no data directory behind."""
    config = GatewayConfig.from_mapping({"functions": {"f": _fn("record")}, "lambda_api": {"listen": "127.0.0.1:0"}},
                                        base_dir=tmp_path)
    with start_gateway(config, log=lambda name, entry: None) as gateway:
        assert httpx.get(gateway.urls["lambda_api"] + "2015-03-31/functions/").status_code == 200
    assert not (tmp_path / ".gateway").exists()


def test_delays_and_record_pieces() -> None:
    """Lambda's delays (1 and 2 minutes; 1 s doubling to 5 minutes), scaled; AWS's timestamp form."""
    assert [retry_delay(n, 1.0) for n in (1, 2)] == [60.0, 120.0]
    assert [retry_delay(n, 0.01) for n in (1, 2)] == [0.6, 1.2]
    assert [backoff_delay(n, 1.0) for n in (1, 2, 3, 9, 10, 50)] == [1.0, 2.0, 4.0, 256.0, 300.0, 300.0]
    assert timestamp(1574636905.651) == "2019-11-24T23:08:25.651Z"
    assert error_message({"errorMessage": "x" * 2000, "errorType": "E"}) == "x" * 1024
    assert error_message(["not", "an", "error"]) == '["not","an","error"]'
