"""gateway/ids.py: request ids from read-ahead randomness, shaped exactly as the standard library's."""

from __future__ import annotations

import base64
import json
import os
import re
import uuid

import pytest

from gateway import ids
from gateway.errors import InvalidLambdaResponse
from gateway.events.common import load_payload


def test_uuid4_is_the_standard_librarys_for_the_same_bytes() -> None:
    for _ in range(2000):
        raw = os.urandom(16)
        assert ids._uuid4(raw) == str(uuid.UUID(bytes=raw, version=4))
    assert ids._uuid4(b"\xff" * 16) == str(uuid.UUID(bytes=b"\xff" * 16, version=4))
    assert ids._uuid4(b"\x00" * 16) == str(uuid.UUID(bytes=b"\x00" * 16, version=4))


def test_b64url_is_urlsafe_b64encode() -> None:
    for n in (0, 1, 11, 12, 50):
        raw = os.urandom(n)
        assert ids.b64url(raw) == base64.urlsafe_b64encode(raw).decode("ascii")


def test_random_bytes_are_never_handed_out_twice() -> None:
    seen = {ids.random_bytes(16) for _ in range(3 * ids._BLOCK // 16)}  # across several blocks
    assert len(seen) == 3 * ids._BLOCK // 16


def test_new_context_shapes() -> None:
    ctx = ids.new_context()
    assert uuid.UUID(ctx.request_id).version == 4
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", ctx.trace_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{15}=", ctx.short_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{15}=", ctx.extended_request_id)


@pytest.mark.parametrize("payload", [
    b'{"a": 1}', b'{"s": "\\ud800"}', '{"é": "ü"}'.encode(), b'{"a": 1} x', b"{\xff}", b'{"a":\x001}',
    b"[1, 2]", b'"text"', "\ufeff{}".encode(), '{"a": 1}'.encode("utf-16-le"), b"{", b"",
])
def test_load_payload_agrees_with_json_loads(payload: bytes) -> None:
    """The fast path for objects gives what json.loads gives, value or error."""
    try:
        expected = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        with pytest.raises(InvalidLambdaResponse):
            load_payload(payload)
        return
    assert load_payload(payload) == expected
