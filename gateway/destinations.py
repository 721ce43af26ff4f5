"""Asynchronous invocation's pure parts: retry delays, destination records, dead-letter messages.

No clock and no I/O here: times and ids come in as arguments (gateway/queue.py does the I/O).

Lambda's rules, from "How Lambda handles errors and retries with asynchronous invocation"
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html:

- a function error (including a timeout) is retried ``MaximumRetryAttempts`` times (0-2, default 2),
  one minute after the first attempt and two minutes after the second;
- a throttle (429) or a system error (500-series) returns the event to the queue; the retry interval
  "increases exponentially from 1 second after the first attempt to a maximum of 5 minutes", for up
  to ``MaximumEventAgeInSeconds`` (60-21600, default 6 hours);
- an event that fails every attempt, or grows older than its maximum age, goes to the failure
  destination and the dead-letter queue (or is discarded).
https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html

The destination record (version "1.0", timestamp, requestContext, requestPayload, responseContext,
responsePayload) follows the invocation record AWS delivers to a destination; the field names and
the RetriesExhausted shape are checked against a real record delivered to SQS
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from gateway.config import Destination, FunctionConfig
from gateway.errors import ConfigError

#: Delays after the first and the second function error (seconds, before retry_delay_scale).
FUNCTION_ERROR_DELAYS = (60.0, 120.0)
#: Throttles and system errors: 1 s after the first, doubling, at most 5 minutes.
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 300.0
#: A DLQ message's ErrorMessage attribute is "truncated to 1 KB" (Lambda's dead-letter queue docs).
ERROR_MESSAGE_LIMIT = 1024

SUCCESS, RETRIES_EXHAUSTED, EVENT_AGE_EXCEEDED = "Success", "RetriesExhausted", "EventAgeExceeded"


def retry_delay(failures: int, scale: float) -> float:
    """Seconds before the next attempt after the ``failures``-th function error (1 or 2)."""
    return FUNCTION_ERROR_DELAYS[min(failures, len(FUNCTION_ERROR_DELAYS)) - 1] * scale


def backoff_delay(throttles: int, scale: float) -> float:
    """Seconds before the next try after the ``throttles``-th throttle or system error in a row."""
    exponent: int = min(max(throttles - 1, 0), 16)
    return min(BACKOFF_MAX, BACKOFF_FIRST * float(2**exponent)) * scale


def timestamp(epoch: float) -> str:
    """``2019-11-24T23:08:25.651Z``: UTC, milliseconds, as in AWS's records."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def json_or_text(raw: bytes) -> Any:
    """A payload as the JSON value it holds; bytes that are not JSON stay text (and empty is null)."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def record_arn(function_arn: str, qualifier: str | None) -> str:
    """requestContext.functionArn: always qualified, ``...:function:app:$LATEST`` for an unqualified
    invocation (as AWS's records show). An alias keeps its name [INF: only $LATEST is seen in AWS's
    examples; for aliases the version it ran would be the other reading]."""
    return f"{function_arn}:{qualifier or '$LATEST'}"


def destination_record(
    *,
    now: float,
    request_id: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    request_payload: bytes,
    status_code: int,
    executed_version: str,
    function_error: str | None,
    response_payload: Any,
) -> dict[str, Any]:
    """The invocation record a destination receives (``condition``: Success, RetriesExhausted or
    EventAgeExceeded). ``responseContext.functionError`` is present only when the last attempt failed."""
    response_context: dict[str, Any] = {"statusCode": status_code, "executedVersion": executed_version}
    if function_error:
        response_context["functionError"] = function_error
    return {
        "version": "1.0",
        "timestamp": timestamp(now),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "requestPayload": json_or_text(request_payload),
        "responseContext": response_context,
        "responsePayload": response_payload,
    }


def error_message(response_payload: Any) -> str:
    """The ErrorMessage attribute: the function's ``errorMessage`` when it gave one, else the
    response as JSON [INF], truncated to 1 KB (of UTF-8)."""
    if isinstance(response_payload, dict) and isinstance(response_payload.get("errorMessage"), str):
        text: str = response_payload["errorMessage"]
    else:
        text = json.dumps(response_payload, separators=(",", ":"))
    return text.encode()[:ERROR_MESSAGE_LIMIT].decode("utf-8", "ignore")


def dead_letter_attributes(request_id: str, error_code: int, message: str) -> dict[str, tuple[str, str]]:
    """Lambda's DLQ message attributes as (DataType, value): RequestID (String), ErrorCode (Number:
    a 3-digit HTTP code), ErrorMessage (String, 1 KB). https://docs.aws.amazon.com/lambda/latest/dg/dlq.html
    (the page's "DLQ Message Attributes" table, now part of invocation-async-retain-records)."""
    return {"RequestID": ("String", request_id), "ErrorCode": ("Number", str(error_code)),
            "ErrorMessage": ("String", message)}


def sqs_message(message_id: str, body: str, attributes: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """A dead-letter file's line: the message as SQS ReceiveMessage returns it (``Body``, the original
    event untouched, and ``MessageAttributes`` of ``{"DataType", "StringValue"}``).
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_MessageAttributeValue.html"""
    return {
        "MessageId": message_id,
        "MD5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 (SQS's checksum, not security)
        "Body": body,
        "MessageAttributes": {name: {"DataType": kind, "StringValue": value}
                              for name, (kind, value) in attributes.items()},
    }


def sqs_event(
    *, message_id: str, body: str, attributes: Mapping[str, tuple[str, str]], queue_arn: str, region: str,
    sent_ms: int,
) -> dict[str, Any]:
    """A dead-letter function's event: what a function subscribed to an SQS dead-letter queue would
    receive, one record (the Lambda SQS event's field names). There is no queue here: ``queue_arn``
    names one after the failed function [INF]. https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html"""
    return {"Records": [{
        "messageId": message_id,
        "receiptHandle": message_id,
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(sent_ms),
                       "SenderId": "lambda-gateway", "ApproximateFirstReceiveTimestamp": str(sent_ms)},
        "messageAttributes": {name: {"stringValue": value, "stringListValues": [], "binaryListValues": [],
                                     "dataType": kind} for name, (kind, value) in attributes.items()},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }]}


# --------------------------------------------------------------------------------------------
# Config checks (called from config_checks.finish, once every function is known).


def check_async_config(functions: Mapping[str, FunctionConfig], scale: float,
                       fail: Callable[[str, str], ConfigError]) -> None:
    """maximum_retry_attempts 0-2, maximum_event_age 60-21600 (PutFunctionEventInvokeConfig's ranges),
    each destination exactly one of ``function`` (a configured function) or ``file``."""
    if not scale > 0:  # it scales maximum_event_age too: 0 would give up every event at once
        raise fail("gateway.retry_delay_scale", "must be more than 0")
    for name, fn in functions.items():
        key = f"functions.{name}"
        if not 0 <= fn.maximum_retry_attempts <= 2:
            raise fail(f"{key}.maximum_retry_attempts", "must be between 0 and 2")
        if not 60 <= fn.maximum_event_age <= 21600:
            raise fail(f"{key}.maximum_event_age", "must be between 60 and 21600 seconds")
        for label in ("on_success", "on_failure", "dead_letter"):
            target: Destination | None = getattr(fn, label)
            if target is None:
                continue
            if (target.function is None) == (target.file is None):
                raise fail(f"{key}.{label}", 'needs exactly one of function = "name" or file = "path.jsonl"')
            if target.function is not None and target.function not in functions:
                raise fail(f"{key}.{label}.function", f"no function is named {target.function!r}")
            if target.file is not None and target.file.is_dir():
                raise fail(f"{key}.{label}.file", f"{str(target.file)!r} is a directory")
