"""The context object a handler receives, as awslambdaric's ``lambda_context.py`` builds it.

https://docs.aws.amazon.com/lambda/latest/dg/python-context.html

Attributes and types follow the runtime, not the docs' prose: ``memory_limit_in_mb`` is a
string (the runtime copies ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``), ``identity`` is always an
object (its fields None without Cognito), ``client_context`` is None unless the caller sent one,
``tenant_id`` is None unless the invocation names a tenant. Not reproduced: ``w3c()``, which the
newest awslambdaric added for W3C trace context carried in the client context.
"""

from __future__ import annotations

import base64
import binascii
import json
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


class CognitoIdentity:
    """``context.identity``: the Amazon Cognito identity that authorised the call (None here)."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, cognito_identity_id: str | None = None, cognito_identity_pool_id: str | None = None) -> None:
        self.cognito_identity_id = cognito_identity_id
        self.cognito_identity_pool_id = cognito_identity_pool_id

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class Client:
    """``context.client_context.client``: the mobile client the caller described."""

    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")
    # Whatever the caller's JSON held (set by name below), so Any.
    installation_id: Any
    app_title: Any
    app_version_name: Any
    app_version_code: Any
    app_package_name: Any

    def __init__(self, fields: Mapping[str, Any]) -> None:
        for name in self.__slots__:
            setattr(self, name, fields.get(name))

    def __repr__(self) -> str:
        inner = ",".join(f"{name}={getattr(self, name)}" for name in self.__slots__)
        return f"Client([{inner}])"


class ClientContext:
    """``context.client_context``: the caller's ``X-Amz-Client-Context``, decoded."""

    __slots__ = ("custom", "env", "client")

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.custom = fields.get("custom")
        self.env = fields.get("env")
        client = fields.get("client")
        self.client = Client(client) if isinstance(client, Mapping) else client

    def __repr__(self) -> str:
        return f"ClientContext([custom={self.custom},env={self.env},client={self.client}])"


def decode_client_context(encoded: str) -> dict[str, Any]:
    """The JSON object inside a base64 ``X-Amz-Client-Context``; ValueError if it is not one.

    https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#lambda-Invoke-request-ClientContext
    """
    try:
        decoded = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("Client context must be a valid Base64-encoded JSON object.") from exc
    if not isinstance(decoded, dict):
        raise ValueError("Client context must be a valid Base64-encoded JSON object.")
    return decoded


def log_stream_name(now: float, token: str, version: str = "$LATEST") -> str:
    """``YYYY/MM/DD/[$LATEST]<32 hex>``: one stream per execution environment, dated at its start.

    The brackets hold the version the environment runs (``[3]`` for version 3).
    """
    day = datetime.fromtimestamp(now, UTC).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{token}"


class LambdaContext:
    """The ``context`` argument. Attribute names, types and ``repr`` follow awslambdaric."""

    def __init__(
        self,
        *,
        aws_request_id: str,
        function_name: str,
        function_version: str,
        invoked_function_arn: str,
        memory_limit_in_mb: str,
        log_group_name: str,
        log_stream_name: str,
        deadline_ms: int,
        client_context: ClientContext | None = None,
        identity: CognitoIdentity | None = None,
        tenant_id: str | None = None,
    ) -> None:
        self.aws_request_id = aws_request_id
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self.function_name = function_name
        self.memory_limit_in_mb = memory_limit_in_mb
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self.client_context = client_context
        self.identity = identity if identity is not None else CognitoIdentity()
        self._epoch_deadline_time_in_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until the function times out (never negative)."""
        delta_ms = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta_ms if delta_ms > 0 else 0

    def log(self, msg: object) -> None:
        """Write to the function's log, as ``context.log`` does (no newline is added)."""
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},"
            f"identity={self.identity},"
            f"tenant_id={self.tenant_id}])"
        )
