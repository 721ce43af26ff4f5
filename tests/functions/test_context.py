"""The context object (pure parts)."""

from __future__ import annotations

import base64
import time

import pytest

from gateway.functions.context import ClientContext, LambdaContext, decode_client_context, log_stream_name


def make(deadline_ms: int, **kwargs: object) -> LambdaContext:
    return LambdaContext(
        aws_request_id="r", function_name="f", function_version="$LATEST",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:f", memory_limit_in_mb="128",
        log_group_name="/aws/lambda/f", log_stream_name="s", deadline_ms=deadline_ms, **kwargs,  # type: ignore[arg-type]
    )


def test_remaining_time_counts_down_and_never_goes_negative() -> None:
    now_ms = int(time.time() * 1000)
    assert 900 < make(now_ms + 1000).get_remaining_time_in_millis() <= 1000
    assert make(now_ms - 5000).get_remaining_time_in_millis() == 0


def test_repr_matches_awslambdaric() -> None:
    context = make(0, client_context=ClientContext({"custom": {"a": 1}}))
    assert repr(context) == (
        "LambdaContext([aws_request_id=r,log_group_name=/aws/lambda/f,log_stream_name=s,function_name=f,"
        "memory_limit_in_mb=128,function_version=$LATEST,"
        "invoked_function_arn=arn:aws:lambda:us-east-1:123456789012:function:f,"
        "client_context=ClientContext([custom={'a': 1},env=None,client=None]),"
        "identity=CognitoIdentity([cognito_identity_id=None,cognito_identity_pool_id=None]),tenant_id=None])"
    )


def test_client_context_decoding() -> None:
    encoded = base64.b64encode(b'{"client": {"app_title": "t"}}').decode()
    decoded = decode_client_context(encoded)
    assert decoded == {"client": {"app_title": "t"}}
    client = ClientContext(decoded).client
    assert client is not None and (client.app_title, client.installation_id) == ("t", None)
    with pytest.raises(ValueError, match="Base64-encoded JSON object"):
        decode_client_context(base64.b64encode(b'"a string"').decode())


def test_log_stream_name() -> None:
    assert log_stream_name(86400 * 365, "0" * 32) == "1971/01/01/[$LATEST]" + "0" * 32
