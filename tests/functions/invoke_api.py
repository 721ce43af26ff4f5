"""A small server that speaks the Lambda Invoke API, for the remote invoker's tests.

``POST /2015-03-31/functions/{name}/invocations``; what it answers depends on the name:

- ``echo``: 200 with the request body, a log tail (START, a line, END, a REPORT with Init
  Duration on the first call only), X-Amz-Executed-Version ``7`` and an x-amzn-RequestId;
- ``fails``: 200 with X-Amz-Function-Error ``Unhandled`` and Lambda's error document;
- ``busy``: 429 TooManyRequestsException; ``big``: 413 RequestEntityTooLargeException;
  ``broken``: 500 ServiceException; ``html``: 502 with a non-JSON body;
- ``slow``: answers after ``slow_seconds``;
- ``signed``: 200 if botocore's SigV4Auth, given the secret, computes the same signature for the
  request as received (rebuilt from SignedHeaders only, as moto and AWS do), else 403
  InvalidSignatureException;
- anything else: 404 ResourceNotFoundException.

Served by hypercorn on an ephemeral 127.0.0.1 port inside the test's event loop.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.auth
import botocore.credentials
from botocore.awsrequest import AWSRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REMOTE_REQUEST_ID = "8f5e6a0c-0000-4000-8000-000000000001"


@dataclass
class Received:
    name: str
    headers: dict[str, str]
    body: bytes
    host: str
    raw_path: str


@dataclass
class InvokeApi:
    """The server's state: what it received and how it behaves."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    slow_seconds: float = 2.0
    secret: str = SECRET
    warm: bool = False
    signature_checks: list[bool] = field(default_factory=list)

    async def invocations(self, request: Request) -> Response:
        # A name, name:qualifier or function ARN (arn:aws:lambda:region:account:function:name[:qualifier]).
        name = request.path_params["name"].split(":function:")[-1].split(":")[0]
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        raw_path = request.scope["raw_path"].decode()
        self.received.append(Received(name, headers, body, headers.get("host", ""), raw_path))
        if name == "echo":
            return self._echo(body)
        if name == "fails":
            document = {"errorMessage": "boom", "errorType": "ValueError", "requestId": REMOTE_REQUEST_ID,
                        "stackTrace": []}
            return Response(json.dumps(document), headers={"X-Amz-Function-Error": "Unhandled",
                                                           "X-Amz-Executed-Version": "$LATEST"})
        if name == "busy":
            return _error(429, "TooManyRequestsException", {
                "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User",
                "message": "Rate Exceeded."})
        if name == "big":
            return _error(413, "RequestEntityTooLargeException", {
                "message": "Request must be smaller than 6291456 bytes for the InvokeFunction operation"})
        if name == "broken":
            return _error(500, "ServiceException", {"Message": "Lambda was unable to process the request"})
        if name == "html":
            return Response("<html>Bad Gateway</html>", status_code=502, media_type="text/html")
        if name == "slow":
            await asyncio.sleep(self.slow_seconds)
            return Response(body)
        if name == "signed":
            ok = self._signature_ok(request.method, headers, raw_path, request.url.query, body)
            self.signature_checks.append(ok)
            if ok:
                return Response(b'"signed"')
            return _error(403, "InvalidSignatureException", {"message": "The request signature we calculated "
                          "does not match the signature you provided."})
        return _error(404, "ResourceNotFoundException", {
            "Type": "User", "Message": f"Function not found: arn:aws:lambda:us-east-1:123456789012:function:{name}"})

    def _echo(self, body: bytes) -> Response:
        init = "" if self.warm else "Init Duration: 101.50 ms\t"
        self.warm = True
        tail = (
            f"START RequestId: {REMOTE_REQUEST_ID} Version: 7\nhello from remote\n"
            f"END RequestId: {REMOTE_REQUEST_ID}\n"
            f"REPORT RequestId: {REMOTE_REQUEST_ID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
            f"Memory Size: 128 MB\tMax Memory Used: 42 MB\t{init}\n"
        )
        return Response(body, headers={
            "X-Amz-Executed-Version": "7",
            "X-Amz-Log-Result": base64.b64encode(tail.encode()).decode(),
            "x-amzn-RequestId": REMOTE_REQUEST_ID,
        })

    def _signature_ok(self, method: str, headers: dict[str, str], raw_path: str, query: str, body: bytes) -> bool:
        auth = headers.get("authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return False
        fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(","))
        access_key, _date, region, service, _ = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
        url = f"https://{headers['host']}{raw_path}" + (f"?{query}" if query else "")
        rebuilt = AWSRequest(method=method, url=url, data=body, headers={name: headers[name] for name in signed})
        rebuilt.context["timestamp"] = headers["x-amz-date"]
        creds = botocore.credentials.Credentials(access_key, self.secret, headers.get("x-amz-security-token"))
        signer = botocore.auth.SigV4Auth(creds, service, region)
        canonical = signer.canonical_request(rebuilt)
        expected = signer.signature(signer.string_to_sign(rebuilt, canonical), rebuilt)
        return bool(expected == fields["Signature"])


def _error(status: int, error_type: str, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status_code=status,
                    headers={"x-amzn-ErrorType": error_type, "Content-Type": "application/json"})


@asynccontextmanager
async def serve_invoke_api() -> AsyncIterator[InvokeApi]:
    """Serve an ``InvokeApi`` on an ephemeral port for the duration of the block."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    api = InvokeApi()
    app = Starlette(routes=[
        Route("/2015-03-31/functions/{name}/invocations", api.invocations, methods=["POST"]),
    ])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.setblocking(False)
    api.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]  # hypercorn owns (and closes) the socket from here
    config.graceful_timeout = 0.1
    config.accesslog = None
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait, mode="asgi"))  # type: ignore[arg-type]
    try:
        yield api
    finally:
        stop.set()
        await task
