"""A local directory served as an S3 origin: GetObject/HeadObject with S3's headers and errors.

Content-Type from the file name, ETag the MD5 of the content (a single-part upload's ETag),
Last-Modified from the file, conditional requests (If-None-Match, If-Modified-Since -> 304),
single byte ranges (206, 416 InvalidRange). A missing key answers 403 AccessDenied, as S3 does
when the caller may not list the bucket (an origin access identity or control normally cannot).
https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import re
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from edge.config import OriginConfig
from edge.events import EdgeRequest, EdgeResponse
from edge.origins import custom_headers
from gateway.models import Headers

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def s3_error(status: int, code: str, message: str, request_id: str = "0000000000000000") -> EdgeResponse:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>{request_id}</RequestId><HostId>local</HostId></Error>").encode()
    return EdgeResponse(status=status, headers=(("Content-Type", "application/xml"), ("Server", "AmazonS3")),
                        body=body)


class DirectoryOrigin:
    """An S3 bucket whose objects are the files under ``directory``."""

    def __init__(self, cfg: OriginConfig) -> None:
        assert cfg.directory is not None
        self.cfg = cfg
        self.root = cfg.directory.resolve()
        self.domain = f"{cfg.id.lower()}.s3.amazonaws.com"

    def event_origin(self) -> dict[str, Any]:
        return {"s3": {"authMethod": "none", "customHeaders": custom_headers(self.cfg.custom_headers),
                       "domainName": self.domain, "path": self.cfg.origin_path, "region": ""}}

    def locate(self, req: EdgeRequest) -> Path | None:
        inner = (req.origin or {}).get("s3", {})
        prefix = inner.get("path", self.cfg.origin_path) if isinstance(inner, dict) else self.cfg.origin_path
        key = unquote(f"{prefix}{req.uri}").lstrip("/")
        if not key or key.endswith("/"):
            return None
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path

    async def fetch(self, req: EdgeRequest) -> EdgeResponse:
        if req.method not in ("GET", "HEAD"):
            return s3_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        path = self.locate(req)
        if path is None:
            return s3_error(403, "AccessDenied", "Access Denied")
        data = await asyncio.to_thread(path.read_bytes)
        return serve_object(req, data, path.stat().st_mtime, path.name)


def serve_object(req: EdgeRequest, data: bytes, mtime: float, name: str) -> EdgeResponse:
    """GetObject's answer for one object, conditionals and Range applied."""
    etag = f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'
    modified = formatdate(int(mtime), usegmt=True)
    ctype = mimetypes.guess_type(name)[0] or "binary/octet-stream"
    headers: Headers = (("Last-Modified", modified), ("ETag", etag), ("Accept-Ranges", "bytes"),
                        ("Content-Type", ctype), ("Server", "AmazonS3"))
    lower = {n.lower(): v for n, v in req.headers}
    if _not_modified(lower, etag, int(mtime)):
        return EdgeResponse(status=304, headers=headers[:3] + headers[4:])
    status, body = 200, data
    wanted = lower.get("range")
    if wanted:
        span = _byte_range(wanted, len(data))
        if isinstance(span, str):
            return s3_error(416, "InvalidRange", "The requested range is not satisfiable")
        if span is not None:
            start, end = span
            status, body = 206, data[start:end + 1]
            headers += (("Content-Range", f"bytes {start}-{end}/{len(data)}"),)
    if req.method == "HEAD":
        body = b""  # the server writes Content-Length itself
    return EdgeResponse(status=status, headers=headers, body=body)


def _not_modified(lower: dict[str, str], etag: str, mtime: int) -> bool:
    match = lower.get("if-none-match")
    if match is not None:
        return any(tag.strip() in (etag, "*") for tag in match.split(","))
    since = lower.get("if-modified-since")
    if since:
        try:
            return mtime <= int(parsedate_to_datetime(since).timestamp())
        except (TypeError, ValueError):
            return False
    return False


def _byte_range(header: str, size: int) -> tuple[int, int] | str | None:
    """One ``bytes=`` range as (first, last) inclusive; "invalid" when unsatisfiable; None to ignore
    (a malformed or multi-range header: S3 then returns the whole object)."""
    m = _RANGE.match(header.strip())
    if m is None or (not m.group(1) and not m.group(2)):
        return None
    if not m.group(1):
        suffix = int(m.group(2))
        if suffix == 0:
            return "invalid"
        return max(size - suffix, 0), size - 1
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else size - 1
    if first >= size:
        return "invalid"
    if last < first:
        return None
    return first, min(last, size - 1)
