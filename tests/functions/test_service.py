"""FunctionsService: what it checks before invoking, what handlers see, what it leaves behind."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import sys
from pathlib import Path

import pytest

from gateway.config import GatewaySettings
from gateway.errors import BadRequest, EventTooLarge, UnknownFunction
from gateway.functions import FunctionRecordFilter, FunctionsService
from gateway.functions.logs import CAPTURE
from tests.functions.conftest import HANDLERS, Logs, ServiceFactory, function


async def test_unknown_function(service_factory: ServiceFactory) -> None:
    service = service_factory(function("echo", "echo"))
    arn = "arn:aws:lambda:us-east-1:123456789012:function:nope"
    with pytest.raises(UnknownFunction, match=f"^Function not found: {arn}$"):
        await service.invoke("nope", b"{}")


async def test_event_limit_is_6291456_bytes(service_factory: ServiceFactory) -> None:
    service = service_factory(function("echo", "echo"))
    at_limit = b'"' + b"x" * (6_291_456 - 2) + b'"'
    assert (await service.invoke("echo", at_limit)).payload == at_limit
    with pytest.raises(EventTooLarge, match=r"^6291457 byte payload is too large for the RequestResponse invocation "
                                            r"type \(limit 6291456 bytes\)$"):
        await service.invoke("echo", at_limit + b" ")


async def test_client_context_must_be_base64_json(service_factory: ServiceFactory) -> None:
    service = service_factory(function("ctx", "context_fields"))
    for bad in ("not base64!", base64.b64encode(b"[1]").decode(), base64.b64encode(b"{nope").decode()):
        with pytest.raises(BadRequest, match=r"^Client context must be a valid Base64-encoded JSON object\.$"):
            await service.invoke("ctx", b"{}", client_context=bad)


async def test_context_object_fields(service_factory: ServiceFactory) -> None:
    settings = GatewaySettings(region="eu-west-2", account_id="210987654321")
    service = service_factory(function("ctx", "context_fields", memory_size=512, timeout=3), settings=settings)
    client_context = base64.b64encode(json.dumps(
        {"custom": {"k": "v"}, "env": {"e": "1"}, "client": {"installation_id": "i-1"}}
    ).encode()).decode()
    result = await service.invoke("ctx", b"{}", request_id="r-1", client_context=client_context)
    fields = json.loads(result.payload)
    stream = fields.pop("log_stream_name")
    remaining = fields.pop("remaining")
    assert fields == {
        "aws_request_id": "r-1",
        "function_name": "ctx",
        "function_version": "$LATEST",
        "invoked_function_arn": "arn:aws:lambda:eu-west-2:210987654321:function:ctx",
        "memory_limit_in_mb": "512",
        "log_group_name": "/aws/lambda/ctx",
        "identity": [None, None],
        "client_context": {"custom": {"k": "v"}, "env": {"e": "1"}, "installation_id": "i-1"},
        "tenant_id": None,
    }
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", stream)
    assert 2000 < remaining <= 3000
    plain = json.loads((await service.invoke("ctx", b"{}")).payload)
    assert plain["client_context"] is None
    assert plain["log_stream_name"] == stream  # same environment, same stream


async def test_environment_variables_as_lambda_sets_them(service_factory: ServiceFactory) -> None:
    names = [
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "LAMBDA_TASK_ROOT", "_HANDLER", "TZ", "STAGE", "_X_AMZN_TRACE_ID",
    ]
    fn = function("env", "environ", environment={"STAGE": "local", "AWS_REGION": "ignored"})
    service = service_factory(fn, settings=GatewaySettings(region="ap-south-1"))
    event = json.dumps({"names": names + ["AWS_LAMBDA_LOG_STREAM_NAME"]}).encode()
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    seen = json.loads((await service.invoke("env", event, trace_id=trace)).payload)
    stream = seen.pop("AWS_LAMBDA_LOG_STREAM_NAME")
    assert seen == {
        "AWS_LAMBDA_FUNCTION_NAME": "env",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_REGION": "ap-south-1",  # reserved: the function's own value does not win
        "AWS_DEFAULT_REGION": "ap-south-1",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/env",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(HANDLERS),
        "_HANDLER": "lgw_handlers.environ",
        "TZ": ":UTC",
        "STAGE": "local",
        "_X_AMZN_TRACE_ID": trace,
    }
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", stream)
    untraced = json.loads((await service.invoke("env", event)).payload)
    assert untraced["_X_AMZN_TRACE_ID"] is None


async def test_variables_a_handler_sets_persist_in_its_environment(service_factory: ServiceFactory) -> None:
    service = service_factory(function("setter", "set_environ", isolation="inprocess"),
                              function("reader", "environ", isolation="inprocess"))
    try:
        assert (await service.invoke("setter", b'{"name": "LGW_MARK", "value": "1"}')).payload == b'"1"'
        assert (await service.invoke("setter", b'{"name": "LGW_MARK"}')).payload == b'"1"'
        # Documented in-process limit: one interpreter, one os.environ, so another function sees it too.
        assert (await service.invoke("reader", b'{"names": ["LGW_MARK"]}')).payload == b'{"LGW_MARK": "1"}'
    finally:
        os.environ.pop("LGW_MARK", None)


async def test_closing_restores_the_gateways_streams_environment_and_logging() -> None:
    before_env = dict(os.environ)
    stdout, stderr = sys.stdout, sys.stderr
    root_handlers = list(logging.getLogger().handlers)
    users = CAPTURE.users  # other gateways (e.g. a module-scoped e2e fixture) may still be running
    service = FunctionsService({"env": function("env", "environ", environment={"STAGE": "x"}, isolation="inprocess")},
                               GatewaySettings(), log=Logs())
    await service.invoke("env", b'{"names": []}', trace_id="Root=1-0-0")
    assert os.environ["STAGE"] == "x" and CAPTURE.users == users + 1
    await service.aclose()
    assert dict(os.environ) == before_env
    assert CAPTURE.users == users
    if users == 0:  # the last user gives the streams and the root logger back
        assert (sys.stdout, sys.stderr) == (stdout, stderr)
        assert logging.getLogger().handlers == root_handlers


async def test_function_records_can_be_kept_out_of_the_gateways_handlers(
    service_factory: ServiceFactory, logs: Logs
) -> None:
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Collect()
    handler.addFilter(FunctionRecordFilter())
    logging.getLogger().addHandler(handler)
    try:
        service = service_factory(function("chat", "chatty"))
        await service.invoke("chat", b"{}")
        logging.getLogger("gateway.test").warning("the gateway's own record")
    finally:
        logging.getLogger().removeHandler(handler)
    assert "the gateway's own record" in seen
    assert "an error" not in seen
    assert any(entry.endswith("\tan error") for _, entry in logs.entries)


def test_check_warns_about_missing_modules_without_running_code(tmp_path: Path) -> None:
    (tmp_path / "lgw_handlers.py").write_text("raise SystemExit('must not run')\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("raise SystemExit('must not run')\n")
    (tmp_path / "pkg" / "app.py").write_text("")
    service = FunctionsService({
        "fine": function("fine", "echo", isolation="inprocess"),
        "nested": function("nested", "pkg.app.handler", code_uri=tmp_path),
        "gone": function("gone", "lgw_gone.handler", code_uri=tmp_path),
        "gonenested": function("gonenested", "pkg.nothere.handler", code_uri=tmp_path),
        "builtin": function("builtin", "sys.handler", code_uri=tmp_path),
        "twin": function("twin", "lgw_handlers.echo", code_uri=tmp_path, isolation="inprocess"),
    }, GatewaySettings())
    assert service.check() == [
        f"function 'gone': handler module 'lgw_gone' not found in {tmp_path}; invocations will fail with "
        "Runtime.ImportModuleError until it exists",
        f"function 'gonenested': handler module 'pkg.nothere' not found in {tmp_path}; invocations will fail with "
        "Runtime.ImportModuleError until it exists",
        "function 'builtin': handler module 'sys' is a built-in module; invocations will fail with "
        "Runtime.BuiltInModuleConflict",
        f"functions 'fine' and 'twin' both import a module 'lgw_handlers', from {HANDLERS} and {tmp_path}: "
        "in-process they share sys.modules, so each INIT re-imports it and imports made later by one may find "
        "the other's files",
    ]
