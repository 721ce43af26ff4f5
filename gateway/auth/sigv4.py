"""AWS Signature Version 4, pure: no clock reads, no I/O, no global state (STYLE H2, H12).

The steps are separate functions, as in botocore's ``SigV4Auth`` (``canonical_request``,
``string_to_sign``, ``signature``); ``sign()`` runs them for a client (the remote invoker) with
the time passed in. The rules (../shared/reference/auth.md, section 2a):

- Canonical URI: every service but S3 normalises the path as it is on the wire (dot segments
  and empty segments removed) and percent-encodes it again, so ``%3A`` becomes ``%253A``.
- Canonical query: each name and value URI-encoded on its own (unreserved ``A-Za-z0-9-_.~``
  kept, space as ``%20``), pairs sorted by name then value, an empty value keeps its ``=``.
- Canonical headers: lowercase names, sorted; values trimmed with inner whitespace runs
  collapsed; repeats joined with ``,``; ``host`` always signed; a few hop-by-hop and tracing
  headers never signed (botocore's ``SIGNED_HEADERS_BLACKLIST``).
- Payload: lowercase hex SHA-256 of the body, or an ``X-Amz-Content-SHA256`` header's value verbatim.

https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html

``verify()`` is the server side (issue 4): it rebuilds the canonical request from the headers
named in SignedHeaders only, checks the scope, the clock skew (5 minutes either way) and the
declared payload hash, and compares signatures in constant time. Failures raise
``SignatureError`` with a ``Problem`` and AWS's message; fronts choose the status and body.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit

from gateway.models import HttpRequest

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

#: Headers botocore never signs (proxies and tracing may change them in flight).
UNSIGNED_HEADERS = frozenset({
    "baggage", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailer", "transfer-encoding", "upgrade", "traceparent", "tracestate", "user-agent", "x-amzn-trace-id",
})
#: Headers ``sign()`` sets itself; values the caller passes for them are replaced.
_SIGNER_HEADERS = frozenset({"authorization", "x-amz-date", "x-amz-security-token"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Credentials:
    """An access key pair, with the session token of temporary credentials."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def __repr__(self) -> str:  # never print the secret
        return f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key='***')"


def amz_date(now: datetime) -> str:
    """``20150830T123600Z``: the X-Amz-Date form of ``now`` (naive datetimes are taken as UTC)."""
    utc = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return utc.strftime("%Y%m%dT%H%M%SZ")


@lru_cache(maxsize=1024)
def canonical_uri(path: str) -> str:
    """The canonical URI of a non-S3 request whose path is ``path`` as sent (percent-encoded).

    Dot segments and empty segments are removed (botocore ``remove_dot_segments``), then the
    result is URI-encoded once more, keeping ``/`` and ``~``: the "double encoding" of non-S3 services.
    """
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    trailing = "/" if path.endswith("/") and segments else ""
    leading = "/" if path.startswith("/") else ""
    return quote(leading + "/".join(segments) + trailing, safe="/~")


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query_string(query: str) -> str:
    """The canonical form of a raw query string (without ``?``).

    Each component is decoded and encoded again, so a client that encoded differently (``$``
    or ``%24``) still gets the same result; ``+`` is a literal plus (RFC 3986), not a space.
    """
    if not query:
        return ""
    pairs = []
    for item in query.split("&"):
        name, _, value = item.partition("=")
        pairs.append((_uri_encode(unquote(name)), _uri_encode(unquote(value))))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_headers(headers: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """``(CanonicalHeaders, SignedHeaders)`` for exactly the headers given (already selected).

    CanonicalHeaders has one ``name:value`` line per name, each ending in a newline.
    """
    merged: dict[str, list[str]] = {}
    for name, value in headers:
        merged.setdefault(name.strip().lower(), []).append(" ".join(value.split()))
    names = sorted(merged)
    block = "".join(f"{name}:{','.join(merged[name])}\n" for name in names)
    return block, ";".join(names)


def hashed_payload(body: bytes) -> str:
    """Lowercase hex SHA-256 of the body."""
    return hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256


def canonical_request(
    method: str, path: str, query: str, headers: Iterable[tuple[str, str]], payload_hash: str
) -> str:
    """The canonical request: method, URI, query, headers, signed header names, payload hash.

    ``headers`` are the signed headers only (a verifier passes those named in SignedHeaders).
    """
    block, signed = canonical_headers(headers)
    return "\n".join(
        (method.upper(), canonical_uri(path), canonical_query_string(query), block, signed, payload_hash)
    )


def credential_scope(timestamp: str, region: str, service: str) -> str:
    """``yyyymmdd/region/service/aws4_request``; the date is that of the X-Amz-Date ``timestamp``."""
    return f"{timestamp[:8]}/{region}/{service}/aws4_request"


def string_to_sign(timestamp: str, scope: str, canonical: str) -> str:
    """The algorithm, the X-Amz-Date timestamp, the credential scope and the canonical request's hash."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{digest}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


@lru_cache(maxsize=256)
def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").

    Cached: it changes once a day per key, region and service (SDKs cache it the same way)."""
    key = _hmac(f"AWS4{secret_access_key}".encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def signature(key: bytes, to_sign: str) -> str:
    """Lowercase hex HMAC-SHA256 of the string to sign with the signing key."""
    return hmac.digest(key, to_sign.encode("utf-8"), "sha256").hex()  # the one-shot C path


def host_from_url(url: str) -> str:
    """The Host value a client sends for ``url``: lowercase, default port dropped, IPv6 in brackets."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def sign(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    creds: Credentials,
    region: str,
    service: str,
    now: datetime,
) -> list[tuple[str, str]]:
    """The headers to add to a request so that it carries a SigV4 signature made at ``now``.

    Returns ``X-Amz-Date``, ``X-Amz-Security-Token`` (temporary credentials only) and
    ``Authorization``; they replace any headers of those names. Every other header in
    ``headers`` is signed except the ``UNSIGNED_HEADERS``, plus ``host`` (derived from ``url``
    unless given). ``url`` must be the URL as it goes on the wire (path and query percent-encoded).
    """
    timestamp = amz_date(now)
    added = [("X-Amz-Date", timestamp)]
    if creds.session_token:
        added.append(("X-Amz-Security-Token", creds.session_token))
    signed = [(name, value) for name, value in headers
              if name.lower() not in UNSIGNED_HEADERS and name.lower() not in _SIGNER_HEADERS]
    if not any(name.lower() == "host" for name, _ in signed):
        signed.append(("host", host_from_url(url)))
    signed.extend(added)
    declared = [value for name, value in signed if name.lower() == "x-amz-content-sha256"]
    payload_hash = declared[-1] if declared else hashed_payload(body)
    parts = urlsplit(url)
    canonical = canonical_request(method, parts.path, parts.query, signed, payload_hash)
    scope = credential_scope(timestamp, region, service)
    key = signing_key(creds.secret_access_key, timestamp[:8], region, service)
    proof = signature(key, string_to_sign(timestamp, scope, canonical))
    _, signed_names = canonical_headers(signed)
    added.append((
        "Authorization",
        f"{ALGORITHM} Credential={creds.access_key_id}/{scope}, SignedHeaders={signed_names}, Signature={proof}",
    ))
    return added


# ---------------------------------------------------------------------------------------------
# Verification


class Problem(enum.Enum):
    """Why a request's signature was refused, with the error type AWS names it by."""

    MISSING = "MissingAuthenticationTokenException"  # no Authorization header, no X-Amz-Signature
    INCOMPLETE = "IncompleteSignatureException"  # a part of the signature is missing or malformed
    INVALID = "InvalidSignatureException"  # well formed but wrong: scope, skew, signature, body hash
    UNKNOWN_KEY = "UnrecognizedClientException"  # no such access key, or a wrong session token


class SignatureError(ValueError):
    """A request's SigV4 signature does not hold. ``problem`` classifies it; the text is AWS's message."""

    def __init__(self, problem: Problem, message: str) -> None:
        self.problem = problem
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Verified:
    """A request whose signature holds: who signed it, and how."""

    credentials: Credentials
    timestamp: str
    signed_headers: tuple[str, ...]
    presigned: bool


SKEW = timedelta(minutes=5)
MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details.")
BAD_TOKEN = "The security token included in the request is invalid."


def _query_pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for item in query.split("&") if query else ():
        name, _, value = item.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


def _signature_fields(request: HttpRequest, lowered: dict[str, str]) -> tuple[dict[str, str], bool]:
    """The signature's parts (Credential, SignedHeaders, Signature, and the date) and whether presigned.

    ``lowered`` maps each lowercase header name to its last value (``HttpRequest.header``'s answer)."""
    query = dict(_query_pairs(request.query_string))
    auth = lowered.get("authorization")
    if "X-Amz-Signature" in query or "X-Amz-Algorithm" in query:
        if auth is not None:
            raise SignatureError(Problem.INVALID, "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
                                 "parameter, Signature query string parameter or the Authorization header should "
                                 "be specified")
        fields = {key[6:]: value for key, value in query.items() if key.startswith("X-Amz-")}
        if fields.get("Algorithm") != ALGORITHM:
            raise SignatureError(Problem.INCOMPLETE, "X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256'")
        return fields, True
    if auth is None:
        raise SignatureError(Problem.MISSING, "Missing Authentication Token")
    algorithm, _, rest = auth.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SignatureError(Problem.INCOMPLETE, f"Authorization header requires '{ALGORITHM}'. Authorization={auth}")
    fields = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields[name] = value
    date = lowered.get("x-amz-date") or lowered.get("date")
    if date is not None:
        fields["Date"] = date
    return fields, False


def _timestamp(fields: dict[str, str]) -> tuple[str, datetime]:
    """The signing time as X-Amz-Date text and as an aware datetime (the Date header's RFC 1123 form too)."""
    text = fields["Date"]
    try:
        digits = text[:8] + text[9:15]
        if len(text) != 16 or text[8] != "T" or text[15] != "Z" or not (digits.isascii() and digits.isdigit()):
            raise ValueError(text)  # not the basic format: maybe RFC 1123 (a Date header)
        when = datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[9:11]), int(text[11:13]),
                        int(text[13:15]), tzinfo=UTC)  # strptime's result, without its cost per request
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)  # naive for "-0000", which means UTC
            when = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        except (TypeError, ValueError):
            raise SignatureError(Problem.INCOMPLETE, f"Date must be in ISO-8601 'basic format'. Got '{text}'. See "
                                 "http://en.wikipedia.org/wiki/ISO_8601") from None
        text = amz_date(when)
    return text, when


def _check_fields(fields: dict[str, str], presigned: bool, auth: str) -> None:
    names = ("Credential", "Signature", "SignedHeaders", "Date")
    missing = [name for name in names if not fields.get(name)]
    if not missing:
        return
    if presigned:
        raise SignatureError(Problem.INCOMPLETE, " ".join(
            f"AWS query-string parameters must include 'X-Amz-{name}'." for name in missing))
    words = [f"Authorization header requires '{name}' parameter." for name in missing if name != "Date"]
    if "Date" in missing:
        words.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    raise SignatureError(Problem.INCOMPLETE, " ".join(words) + f" Authorization={auth}")


def _check_time(stamp: str, when: datetime, now: datetime, expires: str | None) -> None:
    """Within 5 minutes of ``now`` (API Gateway's messages); a presigned URL also within X-Amz-Expires."""
    utc_now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    if when > utc_now + SKEW:
        raise SignatureError(Problem.INVALID, f"Signature not yet current: {stamp} is still later than "
                             f"{amz_date(utc_now + SKEW)} ({amz_date(utc_now)} + 5 min.)")
    if expires is not None:
        if not expires.isdigit() or not 1 <= int(expires) <= 604800:
            raise SignatureError(Problem.INCOMPLETE, "X-Amz-Expires must be between 1 and 604800 seconds")
        if utc_now > when + timedelta(seconds=int(expires)):
            raise SignatureError(Problem.INVALID, f"Signature expired: {stamp} is now earlier than "
                                 f"{amz_date(utc_now - timedelta(seconds=int(expires)))}")
    elif when < utc_now - SKEW:
        raise SignatureError(Problem.INVALID, f"Signature expired: {stamp} is now earlier than "
                             f"{amz_date(utc_now - SKEW)} ({amz_date(utc_now)} - 5 min.)")


def _check_scope(credential: str, stamp: str, region: str, service: str) -> str:
    """The access key id, once the credential scope names this date, region and service."""
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SignatureError(Problem.INCOMPLETE, f"Credential should be scoped to a valid region, not "
                             f"'{parts[2] if len(parts) > 2 else ''}'. Credential={credential}")
    if parts[1] != stamp[:8]:
        raise SignatureError(Problem.INVALID, f"Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                             f"version of date from HTTP: '{parts[1]}' != '{stamp[:8]}', from '{stamp}'.")
    if parts[2] != region:
        raise SignatureError(Problem.INVALID, f"Credential should be scoped to a valid region, not '{parts[2]}'.")
    if parts[3] != service:
        raise SignatureError(Problem.INVALID, f"Credential should be scoped to correct service: '{service}'.")
    return parts[0]


def _payload_hash(request: HttpRequest, lowered: dict[str, str], presigned: bool) -> str:
    declared = lowered.get("x-amz-content-sha256")
    actual = hashed_payload(request.body)
    if declared is None or presigned:
        return actual
    if declared != UNSIGNED_PAYLOAD and not declared.startswith("STREAMING-") and declared != actual:
        raise SignatureError(Problem.INVALID, "The provided 'x-amz-content-sha256' header does not match what "
                             "was computed.")
    return declared


def verify(
    request: HttpRequest,
    lookup: Callable[[str], Credentials | None],
    region: str,
    service: str,
    now: datetime,
) -> Verified:
    """Check ``request``'s SigV4 signature (Authorization header or presigned query) at time ``now``.

    ``lookup(access_key_id)`` gives the key's credentials (None: unknown key). Raises
    ``SignatureError``. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-troubleshooting.html
    """
    lowered = {name.lower(): value for name, value in request.headers}  # one pass; the last value wins
    fields, presigned = _signature_fields(request, lowered)
    _check_fields(fields, presigned, lowered.get("authorization") or "")
    stamp, when = _timestamp(fields)
    access_key = _check_scope(fields["Credential"], stamp, region, service)
    _check_time(stamp, when, now, fields.get("Expires") if presigned else None)
    creds = lookup(access_key)
    token = fields.get("Security-Token") if presigned else lowered.get("x-amz-security-token")
    if creds is None or (creds.session_token or None) != (token or None):
        raise SignatureError(Problem.UNKNOWN_KEY, BAD_TOKEN)
    names = tuple(name.strip().lower() for name in fields["SignedHeaders"].split(";"))
    if "host" not in names and ":authority" not in names:
        raise SignatureError(Problem.INVALID, "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                             "Authorization.")
    headers = [(name, value) for name, value in request.headers if name.lower() in names]
    if {name.lower() for name, _ in headers} != set(names):
        raise SignatureError(Problem.INVALID, MISMATCH)
    query = request.query_string
    if presigned:
        query = "&".join(item for item in query.split("&") if not item.startswith("X-Amz-Signature="))
    canonical = canonical_request(request.method, request.path, query, headers,
                                  _payload_hash(request, lowered, presigned))
    key = signing_key(creds.secret_access_key, stamp[:8], region, service)
    expected = signature(key, string_to_sign(stamp, credential_scope(stamp, region, service), canonical))
    if not hmac.compare_digest(expected.encode(), fields["Signature"].encode()):
        raise SignatureError(Problem.INVALID, MISMATCH)
    return Verified(creds, stamp, names, presigned)
