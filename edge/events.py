"""Pure: requests and responses <-> the Lambda@Edge ``Records[0].cf`` event, and CloudFront's
validation of what a function returns. No I/O, no clock: ids come in from the caller.

https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-generating-http-responses.html
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-restrictions.html
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.errors import EdgeError
from gateway.models import BodyStream, Headers

STAGES = ("viewer-request", "origin-request", "origin-response", "viewer-response")

#: Not exposed to functions; a function that adds one fails validation (502).
DISALLOWED = frozenset({
    "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "trailer", "upgrade", "x-accel-buffering", "x-accel-charset", "x-accel-limit-rate", "x-accel-redirect",
    "x-amzn-auth", "x-amzn-cf-billing", "x-amzn-cf-id", "x-amzn-cf-xff", "x-amzn-errortype",
    "x-amzn-fle-profile", "x-amzn-header-count", "x-amzn-header-order", "x-amzn-lambda-integration-tag",
    "x-amzn-requestid", "x-cache", "x-forwarded-proto", "x-real-ip",
})
DISALLOWED_PREFIXES = ("x-amz-cf-", "x-edge-")
#: Read-only headers per event: adding, removing or changing one fails validation (502).
READ_ONLY: Mapping[str, frozenset[str]] = {
    "viewer-request": frozenset({"content-length", "host", "transfer-encoding", "via"}),
    "origin-request": frozenset({"accept-encoding", "content-length", "if-modified-since", "if-none-match",
                                 "if-range", "if-unmodified-since", "transfer-encoding", "via"}),
    "origin-response": frozenset({"transfer-encoding", "via"}),
    "viewer-response": frozenset({"warning", "via"}),
}
#: Generated-response size (headers + body) and Include Body truncation, per side.
SIZE_LIMIT = {"viewer": 40 * 1024, "origin": 1024 * 1024}
READ_ONLY_MESSAGE = "The function tried to add, delete, or change a read-only header."


class EdgeValidationError(EdgeError):
    """The function's result failed CloudFront's validation: the viewer gets 502."""


class EdgeExecutionError(EdgeError):
    """The function failed, timed out or was throttled: the viewer gets 503."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EdgeRequest:
    """The request as it travels through a distribution. ``origin`` is the event's origin object."""

    method: str
    uri: str
    querystring: str
    headers: Headers
    body: bytes = b""
    client_ip: str = "127.0.0.1"
    origin: Mapping[str, Any] | None = None
    #: the viewer's body still arriving (``body`` empty), streamed to an HTTP origin (edge/distribution.py)
    stream: BodyStream | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EdgeResponse:
    """A response at the edge. ``generated`` marks one a function made (no origin body behind it).
    ``stream``: an origin's body still arriving (``body`` empty); functions never see it, and one that
    sets a body replaces it (the stream is then dropped and closed by the distribution)."""

    status: int
    headers: Headers = ()
    body: bytes = b""
    status_description: str = ""
    generated: bool = False
    stream: BodyStream | None = None


def side(stage: str) -> str:
    return "viewer" if stage.startswith("viewer") else "origin"


def is_disallowed(name: str) -> bool:
    lname = name.lower()
    return lname in DISALLOWED or lname.startswith(DISALLOWED_PREFIXES)


def title_case(name: str) -> str:
    """Lambda@Edge fills an omitted ``key`` as Title-Case-Hyphenated (``user-agent`` -> ``User-Agent``)."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def to_cf_headers(headers: Headers) -> dict[str, list[dict[str, str]]]:
    """``{"user-agent": [{"key": "User-Agent", "value": ...}]}``, disallowed headers left out."""
    out: dict[str, list[dict[str, str]]] = {}
    for name, value in headers:
        if not is_disallowed(name):
            out.setdefault(name.lower(), []).append({"key": name, "value": value})
    return out


def from_cf_headers(cf: Any, stage: str) -> Headers:
    if not isinstance(cf, dict):
        raise EdgeValidationError(f"{stage}: headers must be an object")
    out: list[tuple[str, str]] = []
    for lname, entries in cf.items():
        if not isinstance(entries, list):
            raise EdgeValidationError(f"{stage}: header {lname!r} must be a list of {{key, value}}")
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
                raise EdgeValidationError(f"{stage}: header {lname!r} has an entry without a string value")
            key = entry.get("key") or title_case(lname)
            if not isinstance(key, str) or key.lower() != lname.lower():
                raise EdgeValidationError(f"{stage}: header key {key!r} does not match {lname!r}")
            out.append((key, entry["value"]))
    return tuple(out)


def cf_config(stage: str, *, domain: str, distribution_id: str, request_id: str) -> dict[str, str]:
    return {"distributionDomainName": domain, "distributionId": distribution_id, "eventType": stage,
            "requestId": request_id}


def request_event(stage: str, req: EdgeRequest, config: Mapping[str, str], *, include_body: bool) -> dict[str, Any]:
    """The whole ``{"Records": [{"cf": ...}]}`` event for a request stage."""
    cf_req: dict[str, Any] = {
        "clientIp": req.client_ip, "headers": to_cf_headers(req.headers), "method": req.method,
        "querystring": req.querystring, "uri": req.uri,
    }
    if include_body and stage in ("viewer-request", "origin-request"):
        limit = SIZE_LIMIT[side(stage)]
        cf_req["body"] = {"action": "read-only", "data": base64.b64encode(req.body[:limit]).decode(),
                          "encoding": "base64", "inputTruncated": len(req.body) > limit}
    if stage.startswith("origin") and req.origin is not None:
        cf_req["origin"] = dict(req.origin)
    return {"Records": [{"cf": {"config": dict(config), "request": cf_req}}]}


def response_event(stage: str, req: EdgeRequest, resp: EdgeResponse, config: Mapping[str, str]) -> dict[str, Any]:
    """The event for origin-response and viewer-response; the body is never exposed."""
    event = request_event(stage, req, config, include_body=False)
    event["Records"][0]["cf"]["response"] = {
        "headers": to_cf_headers(resp.headers), "status": str(resp.status),
        "statusDescription": resp.status_description,
    }
    return event


def _check_headers(stage: str, before: Headers, after: Headers) -> None:
    for name, _ in after:
        if is_disallowed(name):
            raise EdgeValidationError(f"{stage}: the function added the disallowed header {name!r}")
    read_only = READ_ONLY[stage]

    def ro(headers: Headers) -> list[tuple[str, str]]:
        return [(n.lower(), v) for n, v in headers if n.lower() in read_only and not is_disallowed(n)]

    if ro(before) != ro(after):
        raise EdgeValidationError(f"{stage}: The Lambda function result failed validation: {READ_ONLY_MESSAGE}")


def _decode_body(data: Any, encoding: Any, stage: str) -> bytes:
    if not isinstance(data, str):
        raise EdgeValidationError(f"{stage}: body must be a string")
    if encoding in (None, "text"):
        return data.encode()
    if encoding != "base64":
        raise EdgeValidationError(f"{stage}: body encoding must be 'text' or 'base64', not {encoding!r}")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise EdgeValidationError(f"{stage}: the body is not valid base64") from None


def parse_request_result(stage: str, result: Any, before: EdgeRequest) -> EdgeRequest | EdgeResponse:
    """A viewer-request or origin-request result: the (modified) request, or a generated response."""
    if not isinstance(result, dict):
        raise EdgeValidationError(f"{stage}: the function must return a request or a response object")
    if "status" in result:
        return parse_generated(stage, result)
    uri = result.get("uri", before.uri)
    query = result.get("querystring", before.querystring)
    if not isinstance(uri, str) or not uri.startswith("/"):
        raise EdgeValidationError(f"{stage}: uri must be a string that begins with '/'")
    if not isinstance(query, str) or any(c in query for c in " #") or any(ord(c) < 32 for c in query):
        raise EdgeValidationError(f"{stage}: querystring must be a string without spaces, '#' or control characters")
    if len(uri) + len(query) >= 8192:
        raise EdgeValidationError(f"{stage}: uri plus querystring must be under 8192 characters")
    headers = from_cf_headers(result.get("headers", {}), stage) if "headers" in result else before.headers
    _check_headers(stage, before.headers, headers)
    body = before.body
    cf_body = result.get("body")
    if isinstance(cf_body, dict) and cf_body.get("action") == "replace":
        body = _decode_body(cf_body.get("data", ""), cf_body.get("encoding", "base64"), stage)
    origin = before.origin
    if stage == "origin-request" and isinstance(result.get("origin"), dict):
        origin = result["origin"]
    return dataclasses.replace(before, uri=uri, querystring=query, headers=headers, body=body, origin=origin)


def _status(value: Any, stage: str) -> int:
    try:
        status = int(value)
    except (TypeError, ValueError):
        raise EdgeValidationError(f"{stage}: status {value!r} is not a number") from None
    if not 200 <= status <= 599:
        raise EdgeValidationError(f"{stage}: status {status} is outside 200-599")
    return status


def parse_generated(stage: str, result: Mapping[str, Any]) -> EdgeResponse:
    """A generated response (viewer-request or origin-request)."""
    status = _status(result.get("status"), stage)
    headers = from_cf_headers(result.get("headers", {}), stage)
    for name, _ in headers:
        if is_disallowed(name):
            raise EdgeValidationError(f"{stage}: the generated response has the disallowed header {name!r}")
    body = b""
    if "body" in result:
        if status == 204 and result["body"]:
            raise EdgeValidationError(f"{stage}: a 204 response cannot have a body")
        body = _decode_body(result["body"], result.get("bodyEncoding", "text"), stage)
    size = len(body) + sum(len(n) + len(v) + 4 for n, v in headers)
    if size > SIZE_LIMIT[side(stage)]:
        raise EdgeValidationError(f"{stage}: the generated response is over {SIZE_LIMIT[side(stage)]} bytes")
    description = result.get("statusDescription", "")
    return EdgeResponse(status=status, headers=headers, body=body, generated=True,
                        status_description=description if isinstance(description, str) else "")


def parse_response_result(stage: str, result: Any, before: EdgeResponse) -> EdgeResponse:
    """An origin-response or viewer-response result. viewer-response cannot change the status."""
    if not isinstance(result, dict):
        raise EdgeValidationError(f"{stage}: the function must return the response object")
    status = _status(result.get("status", before.status), stage)
    if stage == "viewer-response":
        status = before.status  # the status code cannot be changed at viewer-response
    headers = from_cf_headers(result.get("headers", {}), stage) if "headers" in result else before.headers
    _check_headers(stage, before.headers, headers)
    body = before.body
    if "body" in result:
        body = _decode_body(result["body"], result.get("bodyEncoding", "text"), stage)
        if len(body) > SIZE_LIMIT[side(stage)]:
            raise EdgeValidationError(f"{stage}: the replacement body is over {SIZE_LIMIT[side(stage)]} bytes")
    if status == 204 and "body" in result and body:
        raise EdgeValidationError(f"{stage}: a 204 response cannot have a body")
    description = result.get("statusDescription", before.status_description)
    return dataclasses.replace(before, status=status, headers=headers, body=body,
                               stream=None if "body" in result else before.stream,
                               status_description=description if isinstance(description, str) else "")
