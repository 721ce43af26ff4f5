"""Pure: requests and responses <-> the CloudFront Functions event, and CloudFront's rules for what
a function returns. No I/O, no clock; the context (ids, event type) comes in from the caller.

https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/writing-function-code.html
Choices where the documentation is silent are marked [INF] (see ../shared/reference/edge.md, 1b).
"""

from __future__ import annotations

import dataclasses
import functools
import http
import re
from collections.abc import Iterable, Mapping
from typing import Any

from edge.events import (
    READ_ONLY,
    SIZE_LIMIT,
    EdgeRequest,
    EdgeResponse,
    EdgeValidationError,
    is_disallowed,
    title_case,
)
from gateway.models import Headers

Fields = dict[str, dict[str, Any]]

# Header names repeat from request to request: their per-name answers are cached.
_title = functools.lru_cache(maxsize=2048)(title_case)
_disallowed = functools.lru_cache(maxsize=2048)(is_disallowed)
#: What a query string returned by a function must not contain.
_BAD_QUERY = re.compile(r"[ #\x00-\x1f]")


def _group(pairs: Iterable[tuple[str, str]], attributes: Mapping[int, str] | None = None) -> Fields:
    """``{name: {value, multiValue?}}``: ``multiValue`` only when a name repeats, its first value also
    in ``value``. ``attributes`` (Set-Cookie) go with each value, by position."""
    out: Fields = {}
    for i, (name, value) in enumerate(pairs):
        item: dict[str, Any] = {"value": value}
        if attributes is not None and i in attributes:
            item["attributes"] = attributes[i]
        entry = out.get(name)
        if entry is None:
            out[name] = dict(item)
        else:
            entry.setdefault("multiValue", [{k: v for k, v in entry.items() if k != "multiValue"}]).append(item)
    return out


def parse_querystring(raw: str) -> Fields:
    """``a=1&a=2&b`` -> ``{"a": {"value": "1", "multiValue": [...]}, "b": {"value": ""}}``.
    [INF] Names and values stay as the viewer sent them (not percent-decoded), so that an unchanged
    query string goes to the origin byte for byte."""
    pairs = []
    for part in raw.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((name, value))
    return _group(pairs)


def parse_cookies(headers: Headers) -> Fields:
    """The ``Cookie`` request headers as ``{name: {value, multiValue?}}`` (a name repeats as multiValue)."""
    pairs = []
    for name, value in headers:
        if name.lower() == "cookie":
            for part in value.split(";"):
                if part.strip():
                    cname, _, cvalue = part.strip().partition("=")
                    pairs.append((cname.strip(), cvalue.strip()))
    return _group(pairs)


def parse_set_cookies(headers: Headers) -> Fields:
    """``Set-Cookie`` response headers as ``{name: {value, attributes?, multiValue?}}``; the attributes
    stay one string (``"Secure; Path=/"``). [INF] ``attributes`` is left out for a bare ``name=value``."""
    pairs: list[tuple[str, str]] = []
    attributes: dict[int, str] = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            pair, _, attrs = value.partition(";")
            cname, _, cvalue = pair.partition("=")
            if attrs.strip():
                attributes[len(pairs)] = attrs.strip()
            pairs.append((cname.strip(), cvalue.strip()))
    return _group(pairs, attributes)


def _headers(headers: Headers, skip: str) -> Fields:
    """Lowercased names; disallowed headers and Cookie / Set-Cookie (they have their own objects) left out.
    The same grouping as ``_group`` (one pass, the per-request hot path)."""
    out: Fields = {}
    for name, value in headers:
        lname = name.lower()
        if lname == skip or _disallowed(name):
            continue
        entry = out.get(lname)
        if entry is None:
            out[lname] = {"value": value}
        elif "multiValue" in entry:
            entry["multiValue"].append({"value": value})
        else:
            entry["multiValue"] = [{"value": entry["value"]}, {"value": value}]
    return out


def request_object(req: EdgeRequest) -> dict[str, Any]:
    return {"method": req.method, "uri": req.uri,
            "querystring": parse_querystring(req.querystring) if req.querystring else {},
            "headers": _headers(req.headers, "cookie"), "cookies": parse_cookies(req.headers)}


def response_object(resp: EdgeResponse) -> dict[str, Any]:
    return {"statusCode": resp.status, "statusDescription": resp.status_description or _phrase(resp.status),
            "headers": _headers(resp.headers, "set-cookie"), "cookies": parse_set_cookies(resp.headers)}


def function_event(
    stage: str, req: EdgeRequest, resp: EdgeResponse | None, context: Mapping[str, str]
) -> dict[str, Any]:
    """The whole event for viewer-request (no ``response``) or viewer-response."""
    event: dict[str, Any] = {
        "version": "1.0",
        "context": {"distributionDomainName": context["distributionDomainName"],
                    "distributionId": context["distributionId"], "eventType": stage,
                    "requestId": context["requestId"]},
        "viewer": {"ip": req.client_ip},
        "request": request_object(req),
    }
    if resp is not None:
        event["response"] = response_object(resp)
    return event


# -- what a function returns ------------------------------------------------------------------------

def _values(what: str, name: str, entry: Any, before: Any, stage: str) -> list[dict[str, Any]]:
    """The values of one field after the write rule: a ``multiValue`` that was changed wins (``value``
    ignored); otherwise ``value`` replaces the first value and later ones stay."""
    if not isinstance(entry, dict):
        raise EdgeValidationError(f"{stage}: {what} {name!r} must be an object with a 'value'")
    multi = entry.get("multiValue")
    if multi is None and isinstance(entry.get("value"), str) and "attributes" not in entry:
        return [entry]  # the common case: one plain value
    old_multi = before.get("multiValue") if isinstance(before, dict) else None
    if isinstance(multi, list) and multi != old_multi:
        items = multi
    else:
        items = [entry, *(old_multi[1:] if isinstance(old_multi, list) and multi is not None else [])]
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("value"), str):
            raise EdgeValidationError(f"{stage}: {what} {name!r} has a value that is not a string")
        attrs = item.get("attributes")
        if attrs is not None and not isinstance(attrs, str):
            raise EdgeValidationError(f"{stage}: cookie {name!r} attributes must be a string")
        out.append(item)
    return out


def _fields(what: str, value: Any, before: Fields, stage: str) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(value, dict):
        raise EdgeValidationError(f"{stage}: {what} must be an object")
    return [(name, item) for name, entry in value.items()
            for item in _values(what.rstrip("s"), name, entry, before.get(name), stage)]


@functools.lru_cache(maxsize=2048)
def _out_name(name: str) -> str | None:
    """The Title-Case name a function's header goes out under; None when the name is refused."""
    return None if name != name.lower() or is_disallowed(name) else title_case(name)


def _refused(name: str, stage: str) -> EdgeValidationError:
    if name != name.lower():
        # [UNVERIFIED] "header names must be lowercase when they're added by your function code"
        return EdgeValidationError(f"{stage}: header name {name!r} must be lowercase")
    return EdgeValidationError(f"{stage}: the function added the disallowed header {name!r}")


def _out_headers(result: Mapping[str, Any], before: Fields, stage: str) -> list[tuple[str, str]]:
    if "headers" not in result:
        return [(_title(n), item["value"]) for n, entry in before.items()
                for item in entry.get("multiValue", [entry])]
    value = result["headers"]
    if not isinstance(value, dict):
        raise EdgeValidationError(f"{stage}: headers must be an object")
    out = []
    refused = None  # the first refused name: reported once every value passed (values are checked first)
    for name, entry in value.items():
        title = _out_name(name)
        if title is None and refused is None:
            refused = name
        if isinstance(entry, dict) and entry.get("multiValue") is None and "attributes" not in entry:
            item = entry.get("value")
            if isinstance(item, str):  # the common case: one plain value (``_values``' first branch)
                out.append((title, item))
                continue
        out.extend((title, item["value"]) for item in _values("header", name, entry, before.get(name), stage))
    if refused is not None:
        raise _refused(refused, stage)
    return out  # type: ignore[return-value]  # no None title is left once nothing was refused


def _check_read_only(stage: str, before: Fields, after: list[tuple[str, str]]) -> None:
    read_only = READ_ONLY[stage]
    old = [(n, item["value"]) for n, entry in before.items() if n in read_only
           for item in entry.get("multiValue", [entry])]
    new = [(low, v) for n, v in after if (low := n.lower()) in read_only]
    if old != new and sorted(old) != sorted(new):
        raise EdgeValidationError(f"{stage}: The function tried to add, delete, or change a read-only header.")


def _kept(headers: Headers) -> list[tuple[str, str]]:
    """Headers the function never saw (disallowed ones): CloudFront keeps them as they were."""
    return [(n, v) for n, v in headers if _disallowed(n)]


def _querystring(value: Any, before: EdgeRequest, original: Fields, stage: str) -> str:
    if isinstance(value, str):  # [INF] a string is taken as the raw query string
        return value.removeprefix("?")
    if value == original:
        return before.querystring
    return "&".join(f"{name}={item['value']}" for name, item in _fields("querystring", value, original, stage))


def parse_request_result(
    stage: str, result: Any, before: EdgeRequest, sent: Mapping[str, Any]
) -> EdgeRequest | EdgeResponse:
    """viewer-request: the (modified) request, or a response (``statusCode``) that goes straight to
    the viewer. ``sent`` is the request object the function was given (for the multiValue rule)."""
    if not isinstance(result, dict):
        raise EdgeValidationError(f"{stage}: the function must return the request or a response object")
    if "statusCode" in result:
        return _generated(stage, result)
    uri = result.get("uri", before.uri)
    if not isinstance(uri, str) or not uri.startswith("/"):
        raise EdgeValidationError(f"{stage}: uri must be a string that begins with '/'")
    query = _querystring(result.get("querystring", sent["querystring"]), before, sent["querystring"], stage)
    if query and _BAD_QUERY.search(query):
        raise EdgeValidationError(f"{stage}: querystring must not contain spaces, '#' or control characters")
    if len(uri) + len(query) >= 8192:
        raise EdgeValidationError(f"{stage}: uri plus querystring must be under 8192 characters")
    headers = _out_headers(result, sent["headers"], stage)
    _check_read_only(stage, sent["headers"], headers)
    cookies = result.get("cookies", sent["cookies"])
    cookies = _fields("cookies", cookies, sent["cookies"], stage) if cookies != {} else []
    if cookies:
        headers.append(("Cookie", "; ".join(f"{name}={item['value']}" for name, item in cookies)))
    # The method is the only read-only field of the request; a changed one is ignored.
    return dataclasses.replace(before, uri=uri, querystring=query, headers=(*headers, *_kept(before.headers)))


def _set_cookies(value: Any, before: Fields, stage: str) -> list[tuple[str, str]]:
    out = []
    for name, item in _fields("cookies", value, before, stage):
        attrs = item.get("attributes")
        out.append(("Set-Cookie", f"{name}={item['value']}" + (f"; {attrs}" if attrs else "")))
    return out


def _status(value: Any, stage: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise EdgeValidationError(f"{stage}: statusCode must be an integer")
    if not 200 <= value <= 599:  # [INF] Lambda@Edge's range; CloudFront Functions document none
        raise EdgeValidationError(f"{stage}: statusCode {value} is outside 200-599")
    return value


def _body(result: Mapping[str, Any], stage: str) -> bytes | None:
    """``body: "text"`` or ``body: {data, encoding: "text"|"base64"}``; None when absent."""
    import base64
    import binascii

    if "body" not in result:
        return None
    body = result["body"]
    data, encoding = (body, "text") if isinstance(body, str) else (
        (body.get("data"), body.get("encoding", "text")) if isinstance(body, dict) else (None, None))
    if not isinstance(data, str):
        raise EdgeValidationError(f"{stage}: body must be a string or {{data, encoding}}")
    if encoding == "text":
        raw = data.encode()
    elif encoding == "base64":
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise EdgeValidationError(f"{stage}: the body is not valid base64") from None
    else:
        raise EdgeValidationError(f"{stage}: body encoding must be 'text' or 'base64', not {encoding!r}")
    if len(raw) > SIZE_LIMIT["viewer"]:  # [INF] the viewer-side limit of Lambda@Edge (40 KB)
        raise EdgeValidationError(f"{stage}: the body is over {SIZE_LIMIT['viewer']} bytes")
    return raw


def _generated(stage: str, result: Mapping[str, Any]) -> EdgeResponse:
    status = _status(result["statusCode"], stage)
    headers = _out_headers(result, {}, stage) + _set_cookies(result.get("cookies", {}), {}, stage)
    body = _body(result, stage)
    if status == 204 and body:
        raise EdgeValidationError(f"{stage}: a 204 response cannot have a body")
    description = result.get("statusDescription")
    return EdgeResponse(status=status, headers=tuple(headers), body=body or b"", generated=True,
                        status_description=description if isinstance(description, str) else _phrase(status))


def parse_response_result(stage: str, result: Any, before: EdgeResponse, sent: Mapping[str, Any]) -> EdgeResponse:
    """viewer-response: the response, whose status, headers, cookies and body the function may change."""
    if not isinstance(result, dict):
        raise EdgeValidationError(f"{stage}: the function must return the response object")
    status = _status(result.get("statusCode", before.status), stage)
    headers = _out_headers(result, sent["headers"], stage)
    _check_read_only(stage, sent["headers"], headers)
    headers += _set_cookies(result.get("cookies", sent["cookies"]), sent["cookies"], stage)
    body = _body(result, stage)
    if status == 204 and body:
        raise EdgeValidationError(f"{stage}: a 204 response cannot have a body")
    description = result.get("statusDescription", before.status_description)
    if status != before.status and description == sent["statusDescription"]:
        description = _phrase(status)
    return dataclasses.replace(before, status=status, headers=(*headers, *_kept(before.headers)),
                               body=before.body if body is None else body,
                               stream=before.stream if body is None else None,
                               status_description=description if isinstance(description, str) else "")


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""
