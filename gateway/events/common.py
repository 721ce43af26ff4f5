"""Pure helpers shared by the event formats. Rule ids refer to shared/reference/http-events.md."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import time
from typing import Any
from urllib.parse import unquote, unquote_plus

from gateway.errors import BodyDecodeError, InvalidLambdaResponse

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_request_time(epoch_ms: int) -> str:
    """``dd/MMM/yyyy:HH:mm:ss +0000`` in UTC with English month names (C-4)."""
    return _format_second(epoch_ms // 1000)


@functools.lru_cache(maxsize=8)  # requests come in bursts within one second
def _format_second(second: int) -> str:
    t = time.gmtime(second)
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"


def split_query(raw: str) -> list[tuple[str, str]]:
    """The query's ``key=value`` pairs exactly as sent (ALB-4). Empty pieces are skipped;
    a piece without ``=`` is a key with an empty value."""
    pairs = []
    for piece in raw.split("&"):
        if not piece:
            continue
        key, _, value = piece.partition("=")
        pairs.append((key, value))
    return pairs


def decode_query(raw: str) -> list[tuple[str, str]]:
    """Pairs percent-decoded with ``+`` as a space, as API Gateway decodes them (REST-4, HV2-4).
    An invalid escape (``%zz``) is left as it is."""
    return [(unquote_plus(k), unquote_plus(v)) for k, v in split_query(raw)]


def decode_path(raw: str) -> str:
    """Percent-decode a path as UTF-8, leaving invalid escapes alone (URL-5, HV2-5)."""
    return unquote(raw, errors="replace")


def _latin1_to_text(value: str) -> str:
    """Re-read a latin-1 decoded string (how ASGI hands us raw bytes) as UTF-8 where it is valid."""
    raw = value.encode("latin-1", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return value


# Hop-by-hop headers end at AWS's front end. Function URLs were recorded dropping the client's
# `connection` header (S-LS echo fixture: python-requests sends `Connection: keep-alive`, the event
# has none). For HTTP APIs the same is assumed [INF]; the body arrives whole, so `transfer-encoding`
# has no meaning in an event either.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
)

# HV2-6: requestContext.http.protocol. The voker capture (S-VK) was made with an HTTP/2 curl client
# and shows "HTTP/1.1": AWS reports the protocol it speaks to the integration, not the client's.
# We report "HTTP/1.1" for every client (HTTP/1.0 clients unverified [INF]).
PROTOCOL = "HTTP/1.1"


def wire_text(value: str) -> str:
    """A latin-1 decoded wire string (how the server hands us raw bytes) re-read as UTF-8.

    ASCII strings, by far the common case, are returned untouched without a copy."""
    return value if value.isascii() else _latin1_to_text(value)


def compact_json(value: Any) -> str:
    """JSON without spaces, as AWS re-serialises an inferred body (URL-R1: ``["hello",3,true]``), and as
    the gateway encodes every event it sends a function.

    Non-ASCII characters are written as UTF-8, not ``\\u`` escapes [INF]."""
    return _compact_encoder(value)


# One encoder for every call: json.dumps with options builds a new JSONEncoder each time.
_compact_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_body(body: str) -> bytes:
    # Lone surrogates (possible in JSON text) cannot be UTF-8; replace them rather than fail.
    return body.encode("utf-8", errors="replace")


def body_text(body: bytes) -> str:
    """The body as a string for a text event; invalid UTF-8 is replaced as API Gateway mangles it (REST-9)."""
    return body.decode("utf-8", errors="replace")


def b64(body: bytes) -> str:
    return base64.b64encode(body).decode("ascii")


def media_type(content_type: str | None) -> str:
    """``type/subtype`` of a Content-Type value, lowercased, without parameters."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


# HV2-9 / ALB-9: the content types AWS passes as text; everything else (and no type) is base64.
_TEXT_TYPES = ("application/json", "application/javascript", "application/xml")


def is_text_media_type(content_type: str | None) -> bool:
    """True for ``text/*``, application/json, application/javascript and application/xml (HV2-9, ALB-9).

    ``+json``/``+xml`` suffix types are unverified [INF]; we treat them as binary, as the
    observed rule lists only the exact types."""
    mt = media_type(content_type)
    return mt.startswith("text/") or mt in _TEXT_TYPES


def matches_media_types(content_type: str | None, patterns: tuple[str, ...]) -> bool:
    """REST binaryMediaTypes matching: exact, ``type/*`` or ``*/*`` (REST-9)."""
    mt = media_type(content_type)
    if not mt:
        return False
    major = mt.split("/", 1)[0]
    for pattern in patterns:
        p = pattern.strip().lower()
        if p in ("*/*", mt) or (p.endswith("/*") and p[:-2] == major):
            return True
    return False


# RFC 9110 §5.5: a field value has no control characters but HTAB (CR, LF and NUL would also
# split the response); §5.6.2: a field name is a token.
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def is_header_safe(text: str) -> bool:
    """False when a header value could not be sent as it is (control characters such as CR, LF, NUL)."""
    return _BAD_VALUE.search(text) is None


def parse_status_code(value: Any, *, where: str = "statusCode") -> int:
    """An int, or a string of digits (REST-R2); anything else makes the response malformed."""
    if isinstance(value, bool):
        raise InvalidLambdaResponse(f"{where} must be an integer, got a boolean {value!r}")
    if isinstance(value, int):
        code = value
    elif isinstance(value, str) and value.strip().isdigit():
        code = int(value.strip())
    else:
        raise InvalidLambdaResponse(f"{where} must be an integer or a string of digits, got {value!r}")
    if not 200 <= code <= 599:
        # 1xx answers are interim responses; a final answer cannot be one [INF: AWS's reaction unrecorded].
        raise InvalidLambdaResponse(f"{where} {code} is not a final HTTP status code (200-599)")
    return code


def header_value_text(value: Any, *, where: str) -> str:
    """Stringify a scalar header value as API Gateway does (``true`` -> ``"true"``, REST-R3)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = json.dumps(value)
    elif isinstance(value, str):
        text = value
    else:
        raise InvalidLambdaResponse(f"{where} must be a string or a number, got {type(value).__name__}")
    if not is_header_safe(text):
        raise InvalidLambdaResponse(
            f"{where} contains a control character (CR, LF, NUL ...), which would break the HTTP response"
        )
    return text


def check_header_name(name: str, *, where: str) -> str:
    if not _TOKEN.fullmatch(name):
        raise InvalidLambdaResponse(f"{where}: {name!r} is not a valid header name (RFC 9110 token characters only)")
    return name


def b64decode_strict(text: str, *, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BodyDecodeError(f"{where} is not valid base64 although isBase64Encoded is true") from exc


_decode_json = json.JSONDecoder().decode  # what json.loads uses when given no options


def load_payload(payload: bytes) -> Any:
    """Parse the function's JSON payload; not JSON makes the response malformed."""
    try:
        if payload[:1] == b"{" and payload[1:2] != b"\0":
            # What json.loads would detect (no BOM, no NUL in the first bytes: UTF-8), without detecting it:
            # 1.8 against 2.5 us for a typical result.
            return _decode_json(payload.decode("utf-8", "surrogatepass"))
        return json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidLambdaResponse(f"the function's result is not valid JSON ({exc})") from exc
