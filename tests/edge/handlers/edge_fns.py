"""Lambda@Edge handlers for tests/edge: each returns what one stage may return (edge.md)."""

from __future__ import annotations

import base64
import json
from typing import Any


def _cf(event: dict[str, Any]) -> dict[str, Any]:
    return event["Records"][0]["cf"]  # type: ignore[no-any-return]


def generate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A generated response carrying the event it received."""
    return {"status": "200", "statusDescription": "OK",
            "headers": {"content-type": [{"key": "Content-Type", "value": "application/json"}]},
            "body": json.dumps(event)}


def mark(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Adds X-Hook-<stage> to the request or response; a key omitted for the origin-request one."""
    cf = _cf(event)
    stage = cf["config"]["eventType"]
    obj = cf.get("response") or cf["request"]
    entry = {"value": "1"} if stage == "origin-request" else {"key": f"X-Hook-{stage}", "value": "1"}
    obj["headers"][f"x-hook-{stage}"] = [entry]
    return obj  # type: ignore[no-any-return]


def event_header(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """viewer-response/origin-response: the event, base64 JSON, in X-Event."""
    cf = _cf(event)
    response = cf["response"]
    encoded = base64.b64encode(json.dumps(event).encode()).decode()
    response["headers"]["x-event"] = [{"key": "X-Event", "value": encoded}]
    return response  # type: ignore[no-any-return]


def spa(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """viewer-request: paths without a file extension go to /index.html."""
    request = _cf(event)["request"]
    if "." not in request["uri"].rsplit("/", 1)[-1]:
        request["uri"] = "/index.html"
    return request  # type: ignore[no-any-return]


def change_host(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = _cf(event)["request"]
    request["headers"]["host"] = [{"key": "Host", "value": "evil.example"}]
    return request  # type: ignore[no-any-return]


def add_disallowed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = _cf(event)["request"]
    request["headers"]["x-real-ip"] = [{"key": "X-Real-IP", "value": "1.2.3.4"}]
    return request  # type: ignore[no-any-return]


def boom(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("the edge function failed")


def returns_string(event: dict[str, Any], context: Any) -> Any:
    return "not an object"


def status_700(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = _cf(event)["response"]
    response["status"] = "700"
    return response  # type: ignore[no-any-return]


def replace_body(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = _cf(event)["response"]
    response["status"] = "201"
    response["statusDescription"] = "Created"
    response["body"] = base64.b64encode(b"replaced").decode()
    response["bodyEncoding"] = "base64"
    return response  # type: ignore[no-any-return]


def change_status(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """viewer-response: a status change is not applied."""
    response = _cf(event)["response"]
    response["status"] = "418"
    response["headers"]["x-vr"] = [{"key": "X-VR", "value": "ran"}]
    return response  # type: ignore[no-any-return]


def echo_body(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """include_body: answers with the body it saw and whether it was truncated."""
    body = _cf(event)["request"]["body"]
    data = base64.b64decode(body["data"]).decode()
    return {"status": "200", "body": json.dumps({"data": data[:100], "size": len(data),
                                                 "inputTruncated": body["inputTruncated"],
                                                 "action": body["action"], "encoding": body["encoding"]})}


def replace_request_body(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = _cf(event)["request"]
    request["body"] = {"action": "replace", "encoding": "text", "data": "new body"}
    return request  # type: ignore[no-any-return]


def bad_base64(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"status": "200", "body": "***", "bodyEncoding": "base64"}


def no_content_body(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"status": "204", "body": "not allowed"}


def switch_origin(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """origin-request: send the request to the custom origin on the port in X-Target-Port."""
    request = _cf(event)["request"]
    port = int(request["headers"]["x-target-port"][0]["value"])
    request["origin"] = {"custom": {"domainName": "localhost", "port": port, "protocol": "http", "path": "/switched",
                                    "customHeaders": {}, "keepaliveTimeout": 5, "readTimeout": 30,
                                    "sslProtocols": ["TLSv1.2"]}}
    request["headers"]["host"] = [{"key": "Host", "value": f"localhost:{port}"}]
    return request  # type: ignore[no-any-return]


def sleepy(event: dict[str, Any], context: Any) -> dict[str, Any]:
    import time

    time.sleep(6)
    return _cf(event)["request"]  # type: ignore[no-any-return]
