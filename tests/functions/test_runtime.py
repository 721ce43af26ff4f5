"""Lambda's Python runtime behaviour: documents, log entries, service errors, variables (pure)."""

from __future__ import annotations

import pytest

from gateway.config import FunctionConfig, GatewaySettings
from gateway.functions import runtime
from tests.functions.conftest import HANDLERS


def test_error_log_entry_formats_the_document_as_awslambdaric_does() -> None:
    document = runtime.error_document(
        "boom", "ValueError", ['  File "/var/task/app.py", line 3, in handler\n    raise ValueError("boom")\n', ""],
        "r-1",
    )
    assert runtime.error_log_entry(document) == (
        "[ERROR] ValueError: boom\nTraceback (most recent call last):\n"
        '\u00a0\u00a0File "/var/task/app.py", line 3, in handler\n\u00a0\u00a0\u00a0\u00a0raise ValueError("boom")\n'
    )


def test_error_log_entry_without_type_or_trace() -> None:
    assert runtime.error_log_entry(runtime.error_document("only a message", None, None, None)) == (
        "[ERROR] only a message\nTraceback (most recent call last):"
    )


def test_error_document_key_order_and_defaults() -> None:
    assert runtime.document_bytes(runtime.error_document(None, "T", None, None)) == (
        b'{"errorMessage": "", "errorType": "T", "requestId": "", "stackTrace": []}'
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (None, "RequestId: r Error: Runtime exited without providing a reason"),
        (0, "RequestId: r Error: Runtime exited without providing a reason"),
        (2, "RequestId: r Error: Runtime exited with error: exit status 2"),
        ("bye", "RequestId: r Error: Runtime exited with error: exit status 1"),
    ],
)
def test_exit_messages(code: object, message: str) -> None:
    assert runtime.exit_message("r", code) == message


def test_timeout_payload_names_the_configured_timeout() -> None:
    assert runtime.timeout_payload("r", 900) == (
        b'{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: r Error: Task timed out after 900.00 seconds"}'
    )
    assert b"after 2.50 seconds" in runtime.timeout_payload("r", 2.5)


def test_marshal_response() -> None:
    assert runtime.marshal_response({"b": "é", "a": (1, None)}) == b'{"b": "\\u00e9", "a": [1, null]}'
    assert runtime.marshal_response(b"\x00") == b"\x00"
    assert runtime.marshal_response(None) == b"null"


def test_unmarshal_error() -> None:
    with pytest.raises(runtime.RuntimeFault) as caught:
        runtime.unmarshal_event(b"{nope")
    assert caught.value.document("r") == {
        "errorMessage": "Unable to unmarshal input: Expecting property name enclosed in double quotes: "
                        "line 1 column 2 (char 1)",
        "errorType": "Runtime.UnmarshalError", "requestId": "r", "stackTrace": [],
    }


def test_built_in_module_conflict() -> None:
    with pytest.raises(runtime.RuntimeFault) as caught:
        runtime.load_handler("sys.handler")
    assert (caught.value.error_type, caught.value.message) == (
        "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys as a handler module")


def test_unreserved_variables_can_be_overridden_reserved_ones_cannot() -> None:
    fn = FunctionConfig(name="f", handler="app.handler", code_uri=HANDLERS,
                        environment={"TZ": "Europe/Paris", "_HANDLER": "x.y", "MINE": "1"})
    variables = runtime.lambda_environment(fn, GatewaySettings(), "2024/01/01/[$LATEST]abc")
    assert (variables["TZ"], variables["_HANDLER"], variables["MINE"]) == ("Europe/Paris", "app.handler", "1")
    assert not set(fn.environment) - {"TZ", "MINE"} - runtime.RESERVED_VARIABLES
