"""The Lambda service: functions, their execution environments, invocation, logs.

Fronts use ``FunctionsService``; the gateway's own logging handlers should carry
``FunctionRecordFilter`` so in-process functions' logging records are not printed twice.
"""

from __future__ import annotations

from gateway.functions.context import LambdaContext
from gateway.functions.logs import FunctionRecordFilter, LogSink, stderr_sink
from gateway.functions.service import MAX_REQUEST_BYTES, FunctionsService

__all__ = ["MAX_REQUEST_BYTES", "FunctionRecordFilter", "FunctionsService", "LambdaContext", "LogSink", "stderr_sink"]
