"""What Lambda's Python runtime and the Lambda service do around a handler.

The runtime half mirrors ``awslambdaric/bootstrap.py`` and ``lambda_runtime_marshaller.py``
(aws/aws-lambda-python-runtime-interface-client, the runtime client AWS's managed Python
runtimes run): loading the handler, unmarshalling the event, marshalling the result, and the
``{"errorMessage", "errorType", "requestId", "stackTrace"}`` documents with their log lines.
The service half holds the errors Lambda itself reports (timeout, oversize response, a runtime
that exited), which are compact JSON written by the service, not by the runtime.

Everything here runs inside an execution environment and is shared by every invoker that
runs Python handlers itself (in-process now, a built-in process runtime later).
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any

from gateway.config import FunctionConfig, GatewaySettings
from gateway.functions import credentials, layers

Handler = Callable[[Any, Any], Any]
ErrorDocument = dict[str, Any]

#: Lambda's synchronous response limit as the Runtime API enforces it: 6 MiB + 100 bytes
#: (RIE ``MaxPayloadSize``; AWS's message names 6291556).
#: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_RESPONSE_BYTES = 6_291_556

# awslambdaric lambda_runtime_exception.FaultException types.
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
EXIT_ERROR = "Runtime.ExitError"
# The type the service names for an INIT that raised an ordinary exception (not a fault).
UNKNOWN_ERROR = "Runtime.Unknown"

#: Logged (through ``logging.warning``) before an INIT error, by awslambdaric >= 2.0.5.
UNHANDLED_EXCEPTION_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, "
    "or can be applied automatically. To determine if the runtime has been updated, check the "
    "runtime version in the INIT_START log entry. If this error correlates with a change in the "
    "runtime version, you may be able to mitigate this error by temporarily rolling back to the "
    "previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
)

_RUNTIME_DIR = str(Path(__file__).resolve().parent)


class RuntimeFault(Exception):
    """A failure the runtime reports under its own ``Runtime.*`` type (awslambdaric FaultException)."""

    def __init__(self, error_type: str, message: str, stack_trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack_trace = stack_trace

    def document(self, request_id: str) -> ErrorDocument:
        return error_document(self.message, self.error_type, self.stack_trace, request_id)


# ---------------------------------------------------------------------------------------------
# INIT, unmarshal, marshal


def load_handler(handler: str) -> Handler:
    """Import ``module.attribute`` as awslambdaric's ``_get_handler`` does, raising its faults.

    ImportError -> Runtime.ImportModuleError "Unable to import module 'app': No module named 'app'";
    SyntaxError -> Runtime.UserCodeSyntaxError with a one-entry stackTrace; a missing attribute ->
    Runtime.HandlerNotFound. Any other exception raised by module code propagates unchanged (the
    runtime reports it under the exception's class name).
    """
    modname, fname = handler.rsplit(".", 1)
    if modname.split(".")[0] in sys.builtin_module_names:
        raise RuntimeFault(BUILT_IN_MODULE_CONFLICT, f"Cannot use built-in module {modname} as a handler module")
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as exc:
        raise RuntimeFault(IMPORT_MODULE_ERROR, f"Unable to import module '{modname}': {exc}") from exc
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise RuntimeFault(USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{modname}': {exc}", trace) from exc
    try:
        found: Handler = getattr(module, fname)
    except AttributeError:
        raise RuntimeFault(HANDLER_NOT_FOUND, f"Handler '{fname}' missing on module '{modname}'") from None
    return found


def unmarshal_event(payload: bytes) -> Any:
    """The event as the handler sees it: ``json.loads`` of the invocation payload."""
    try:
        return json.loads(payload)
    except ValueError as exc:
        raise RuntimeFault(UNMARSHAL_ERROR, f"Unable to unmarshal input: {exc}") from exc


def marshal_response(value: Any) -> bytes:
    """The payload Lambda returns for a handler's result.

    bytes pass through unchanged (awslambdaric posts them as ``application/unknown``); anything
    else is JSON with the default separators and ASCII escapes, as awslambdaric's encoder does
    on python3.11. Not reproduced: its Decimal support (simplejson ``RawJSON``); a Decimal here
    is a marshal error.
    """
    if isinstance(value, bytes):
        return value
    try:
        return json.dumps(value).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        raise RuntimeFault(MARSHAL_ERROR, f"Unable to marshal response: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# Error documents and their log lines


def error_document(
    message: str | None, error_type: str | None, stack_trace: list[str] | None, request_id: str | None
) -> ErrorDocument:
    """awslambdaric ``make_error``: the key order and the empty defaults are part of the contract."""
    return {
        "errorMessage": message if message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def exception_document(exc: BaseException, request_id: str, skip_files: Collection[str]) -> ErrorDocument:
    """The document for an exception raised by user code.

    ``stackTrace`` is ``traceback.format_list`` of the frames from the first one that is not the
    runtime's own (awslambdaric drops its ``bootstrap.py`` frames; we drop ``skip_files``).
    """
    frames: list[Any] = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(exc.__traceback__)]
    for index, frame in enumerate(frames):
        if frame[0] not in skip_files:
            frames = frames[index:]
            break
    return error_document(str(exc), type(exc).__name__, traceback.format_list(frames), request_id)


def document_bytes(document: ErrorDocument) -> bytes:
    """The runtime serialises error documents with the default separators (``", "``, ``": "``)."""
    return json.dumps(document).encode()


def error_log_entry(document: ErrorDocument) -> str:
    """The log event awslambdaric writes for an error document (text log format).

    ``[ERROR] Type: message``, then ``Traceback (most recent call last):`` and each stack line
    with its leading spaces turned into U+00A0. Managed runtimes send it as one framed event
    (lines joined by ``\\n``); a plain stdout sink would join them with ``\\r`` instead.
    """
    head = "[ERROR]"
    if document.get("errorType"):
        head += " " + document["errorType"]
    if document.get("errorMessage"):
        if document.get("errorType"):
            head += ":"
        head += " " + document["errorMessage"]
    lines = [head]
    stack = document.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element:
                lines.extend(_indent_nbsp(line) for line in element.splitlines())
            else:
                lines.append("")
    return "\n".join(lines)


def _indent_nbsp(line: str) -> str:
    stripped = line.lstrip(" ")
    return "\u00a0" * (len(line) - len(stripped)) + stripped


# ---------------------------------------------------------------------------------------------
# Errors the Lambda service reports itself (compact JSON, written by the service)


def _service_error(fields: Iterable[tuple[str, str]]) -> bytes:
    return json.dumps(dict(fields), separators=(",", ":")).encode()


def timeout_payload(request_id: str, timeout: float) -> bytes:
    """``{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: <id> Error: Task timed out after 3.00 seconds"}``.

    The current format (recorded Invoke outputs, 2024-2026); older runtimes answered
    ``{"errorMessage": "<time> <id> Task timed out after 3.00 seconds"}``.
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
    """
    message = f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
    return _service_error((("errorType", "Sandbox.Timedout"), ("errorMessage", message)))


def oversize_payload() -> bytes:
    """A result over MAX_RESPONSE_BYTES (the runtime then exits: REPORT says Runtime.ExitError)."""
    message = f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
    return _service_error((("errorMessage", message), ("errorType", "Function.ResponseSizeTooLarge")))


def exit_message(request_id: str, code: object) -> str:
    """The service's words for a runtime that exited (``sys.exit`` in a handler)."""
    if code is None or code == 0:
        return f"RequestId: {request_id} Error: Runtime exited without providing a reason"
    status = code if isinstance(code, int) else 1
    return f"RequestId: {request_id} Error: Runtime exited with error: exit status {status}"


def exit_payload(request_id: str, code: object) -> bytes:
    return _service_error((("errorType", EXIT_ERROR), ("errorMessage", exit_message(request_id, code))))


# ---------------------------------------------------------------------------------------------
# Environment variables


#: Names Lambda reserves; a function's ``environment`` cannot override them.
#: https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
RESERVED_VARIABLES = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})


def lambda_environment(
    function: FunctionConfig, settings: GatewaySettings, log_stream_name: str, *,
    initialization_type: str = "on-demand",
) -> dict[str, str]:
    """The variables Lambda sets in an execution environment, plus the function's own.

    Unreserved defaults (``TZ=:UTC``, the layers' PATH and LD_LIBRARY_PATH, the variables that
    keep SDKs away from the host's ``~/.aws`` files) can be overridden by ``environment``;
    reserved names cannot. Credentials come from the function's ``role`` (credentials.py).
    ``initialization_type`` is "provisioned-concurrency" for environments started ahead.
    Not set by the gateway: AWS_LAMBDA_RUNTIME_API (only process environments have a Runtime
    API), PATH/LANG/LD_LIBRARY_PATH without layers (the host's stay).
    """
    variables = {"TZ": ":UTC", **layers.layer_variables(function), **credentials.NO_HOST_CREDENTIALS}
    variables.update(function.environment)
    variables.update({
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": function.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type,
        "AWS_REGION": settings.region,
        "AWS_DEFAULT_REGION": settings.region,
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "LAMBDA_TASK_ROOT": str(function.code_uri),
        "LAMBDA_RUNTIME_DIR": _RUNTIME_DIR,
        "_HANDLER": function.handler,
    })
    variables.update(credentials.role_variables(function.role))
    return variables
