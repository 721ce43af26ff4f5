"""``gateway invoke FUNCTION [--event FILE|-] [--qualifier Q] [--type Event] [--endpoint URL [--region R]]``.

With ``--endpoint`` the invocation goes to a running gateway's ``[lambda_api]`` (or any Lambda
Invoke API: RIE, AWS itself) as ``aws lambda invoke`` would send it, with ``X-Amz-Log-Type:
Tail``; the decoded log tail goes to stderr, the payload to stdout. When the standard credential
chain has credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, then ~/.aws for AWS_PROFILE) the
request is SigV4-signed with them for service ``lambda`` in ``--region`` (default AWS_REGION,
AWS_DEFAULT_REGION, then us-east-1), as a ``[lambda_api] auth = "AWS_IAM"`` gateway requires;
without credentials it goes unsigned. Without ``--endpoint`` the function is started on its own
from the config (``--config``, default the built-in example) for one invocation, its log on
stderr as it runs, like ``sam local invoke``.
https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html

stdout carries the payload only (a function error's payload too), so it can be piped; stderr the
log and a summary line (``StatusCode: 200, ExecutedVersion: $LATEST[, FunctionError: Unhandled]``,
the fields ``aws lambda invoke`` prints). Exit status: 0 success (200, 202, 204), 1 a function error
(``aws lambda invoke`` exits 0 there; a script wants to know), 2 the invocation was refused (unknown
function, bad event, throttled, denied ...) or the config cannot be used.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import dataclasses
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gateway.config import load_config
from gateway.errors import ConfigError, GatewayError

EXAMPLE = Path(__file__).parent / "example" / "gateway.toml"


def add_invoke_parser(sub: Any) -> None:
    """The ``invoke`` subcommand on ``gateway``'s argument parser."""
    invoke = sub.add_parser("invoke", help="invoke one function once and print its result and log tail")
    invoke.add_argument("function", help="name, name:qualifier or function ARN")
    invoke.add_argument("--event", "-e", default=None, help="a JSON file with the event, - for stdin (default {})")
    invoke.add_argument("--qualifier", "-q", default=None, help="a version or alias")
    invoke.add_argument("--type", "-t", default="RequestResponse", dest="invocation_type",
                        choices=("RequestResponse", "Event", "DryRun"), help="the invocation type")
    invoke.add_argument("--endpoint", default=None,
                        help="a running gateway's Lambda API, e.g. http://127.0.0.1:3010 (default: run locally)")
    invoke.add_argument("--region", default=None,
                        help="with --endpoint: the region to sign for (default: AWS_REGION, AWS_DEFAULT_REGION, "
                             "us-east-1)")
    invoke.add_argument("--config", "-c", default=None, help="gateway.toml (local runs; default: the built-in example)")


def run_invoke(args: argparse.Namespace) -> int:
    """Run ``gateway invoke``; returns the exit status."""
    try:
        payload = _read_event(args.event)
    except OSError as exc:
        print(f"gateway invoke: cannot read the event {args.event}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        where = "stdin" if args.event == "-" else args.event
        print(f"gateway invoke: the event in {where} is not JSON: {exc}", file=sys.stderr)
        return 2
    if args.endpoint:
        return _remote(args, payload)
    try:
        return asyncio.run(_local(args, payload))
    except ConfigError as exc:
        print(f"gateway: config error: {exc}", file=sys.stderr)
        return 2


def _read_event(source: str | None) -> bytes:
    if source is None:
        return b"{}"
    raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    json.loads(raw)  # ValueError when it is not JSON
    return raw


def _remote(args: argparse.Namespace, payload: bytes) -> int:
    import httpx

    url = f"{args.endpoint.rstrip('/')}/2015-03-31/functions/{quote(args.function, safe='')}/invocations"
    if args.qualifier:
        url += f"?Qualifier={quote(args.qualifier, safe='')}"
    headers = [("X-Amz-Invocation-Type", args.invocation_type), ("X-Amz-Log-Type", "Tail"),
               ("Content-Type", "application/json")]
    headers += _signature(url, headers, payload, args.region)
    try:
        response = httpx.post(url, content=payload, headers=headers, timeout=960)
    except httpx.HTTPError as exc:
        print(f"gateway invoke: cannot reach {url}: {exc}", file=sys.stderr)
        return 2
    tail = response.headers.get("X-Amz-Log-Result")
    if tail:
        try:
            sys.stderr.write(base64.b64decode(tail).decode("utf-8", "replace"))
        except (binascii.Error, ValueError):
            pass
    if response.status_code not in (200, 202, 204):
        print(f"gateway invoke: {_error_text(response)}", file=sys.stderr)
        return 2
    return _show(response.status_code, response.content, response.headers.get("X-Amz-Function-Error"),
                 response.headers.get("X-Amz-Executed-Version"))


def _signature(url: str, headers: list[tuple[str, str]], payload: bytes, region: str | None) -> list[tuple[str, str]]:
    """SigV4 headers from the standard credential chain (none: no headers, the request goes unsigned)."""
    from gateway.auth.sigv4 import Credentials, sign
    from gateway.functions.credentials import resolve_chain

    try:
        keys = resolve_chain(os.environ)
    except ValueError as exc:
        print(f"gateway invoke: not signing: {exc}", file=sys.stderr)
        return []
    if keys is None:
        return []
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    creds = Credentials(keys.access_key_id, keys.secret_access_key, keys.session_token)
    return sign("POST", url, headers, payload, creds, region, "lambda", datetime.now(UTC))


def _error_text(response: Any) -> str:
    """``ResourceNotFoundException: Function not found: arn:... (HTTP 404)`` from a Lambda API error."""
    error_type = response.headers.get("x-amzn-ErrorType", "").split(":")[0]
    try:
        body = response.json()
        message = (body.get("message") or body.get("Message")) if isinstance(body, dict) else None
    except ValueError:
        message = None
    text = str(message) if message else response.text.strip()
    return f"{error_type or 'error'}: {text} (HTTP {response.status_code})"


async def _local(args: argparse.Namespace, payload: bytes) -> int:
    """Start the function from the config, invoke it once, stop it."""
    from gateway.fronts.lambda_wire import ApiError, parse_function_name
    from gateway.functions import FunctionsService, stderr_sink
    from gateway.functions.versions import resolve

    config = load_config(args.config or EXAMPLE)
    settings = dataclasses.replace(config.gateway, reload=False)
    try:
        name, qualifier = parse_function_name(args.function, args.qualifier, settings)
    except ApiError as exc:
        print(f"gateway invoke: {exc.error_type}: {exc}", file=sys.stderr)
        return 2
    function = config.functions.get(name)
    if function is None:
        known = ", ".join(config.functions) or "none"
        print(f"gateway invoke: no function {name!r} in {config.source} (functions: {known})", file=sys.stderr)
        return 2
    if resolve(function, qualifier, 0.0) is None:
        print(f"gateway invoke: function {name!r} has no version or alias {qualifier!r} (versions: "
              f"{', '.join(function.versions) or 'none'}; aliases: {', '.join(function.aliases) or 'none'})",
              file=sys.stderr)
        return 2
    if args.invocation_type == "DryRun":
        return _show(204, b"", None, None)
    service = FunctionsService({name: function}, settings, log=stderr_sink)
    try:
        result = await service.invoke(name if qualifier is None else f"{name}:{qualifier}", payload)
    except GatewayError as exc:
        print(f"gateway invoke: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        await service.aclose()
    if args.invocation_type == "Event":  # run to the end here: the process would not outlive it
        return _show(202, b"", result.function_error, result.executed_version)
    return _show(200, result.payload, result.function_error, result.executed_version)


def _show(status: int, payload: bytes, function_error: str | None, version: str | None) -> int:
    summary = f"StatusCode: {status}" + (f", ExecutedVersion: {version}" if version else "")
    if function_error:
        summary += f", FunctionError: {function_error}"
    print(summary, file=sys.stderr)
    if payload:
        sys.stdout.write(payload.decode("utf-8", "replace") + "\n")
        sys.stdout.flush()
    return 1 if function_error else 0
