"""``runtime = "provided"``: a custom runtime's ``bootstrap`` against the gateway's Runtime API.

A shell script with curl (as in Lambda's custom-runtime tutorial) and AWS's own Python runtime
client, ``awslambdaric``, unmodified.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from gateway.config import FunctionConfig
from tests.functions.conftest import REPORT, Logs, ServiceFactory

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="process environments fork")

# After https://docs.aws.amazon.com/lambda/latest/dg/runtimes-walkthrough.html, answering with what it saw.
SHELL_BOOTSTRAP = r"""#!/bin/bash
set -euo pipefail
echo "init: handler=$_HANDLER"
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
  header() { grep -Fi "$1:" "$HEADERS" | cut -d' ' -f2- | tr -d '\r\n'; }
  REQUEST_ID=$(header Lambda-Runtime-Aws-Request-Id)
  echo "event $EVENT"
  if [[ "$EVENT" == *fail* ]]; then
    curl -sS -X POST "$API/invocation/$REQUEST_ID/error" -H "Lambda-Runtime-Function-Error-Type: Custom.Error" \
      -d '{"errorMessage": "asked to fail", "errorType": "Custom.Error"}' > /dev/null
    continue
  fi
  FORMAT='{"event": %s, "deadline": "%s", "arn": "%s", "trace": "%s", "cwd": "%s", "handler": "%s", "exec_env": "%s"}'
  BODY=$(printf "$FORMAT" \
    "$EVENT" "$(header Lambda-Runtime-Deadline-Ms)" "$(header Lambda-Runtime-Invoked-Function-Arn)" \
    "$(header Lambda-Runtime-Trace-Id)" "$PWD" "$_HANDLER" "${AWS_EXECUTION_ENV:-unset}")
  curl -sS -X POST "$API/invocation/$REQUEST_ID/response" -d "$BODY" > /dev/null
done
"""

RIC_APP = """\
import logging


def handler(event, context):
    print("hello from awslambdaric")
    logging.getLogger().warning("a warning")
    if event.get("fail"):
        raise ValueError("requested failure")
    return {"event": event, "name": context.function_name, "memory": context.memory_limit_in_mb,
            "arn": context.invoked_function_arn, "remaining": context.get_remaining_time_in_millis()}
"""


def provided(name: str, code_uri: Path, handler: str = "function.handler", **settings: object) -> FunctionConfig:
    return FunctionConfig(name=name, handler=handler, code_uri=code_uri, runtime="provided.al2023",
                          isolation="process", **settings)  # type: ignore[arg-type]


def write_bootstrap(directory: Path, text: str) -> None:
    path = directory / "bootstrap"
    path.write_text(text)
    path.chmod(0o755)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the shell bootstrap uses curl")
async def test_a_shell_script_bootstrap_serves_invocations(
    service_factory: ServiceFactory, logs: Logs, tmp_path: Path
) -> None:
    write_bootstrap(tmp_path, SHELL_BOOTSTRAP)
    service = service_factory(provided("sh", tmp_path, handler="function.sh.handler", timeout=5))
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    first = await service.invoke("sh", b'{"n": 1}', request_id="r-1", trace_id=trace)
    second = await service.invoke("sh", b'{"n": 2}', request_id="r-2")
    answer = json.loads(first.payload)
    assert answer["event"] == {"n": 1} and json.loads(second.payload)["event"] == {"n": 2}
    assert answer["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:sh" and answer["trace"] == trace
    assert 4000 < int(answer["deadline"]) - int(__import__("time").time() * 1000) <= 5000
    assert (answer["cwd"], answer["handler"], answer["exec_env"]) == (str(tmp_path), "function.sh.handler", "unset")
    assert first.init_duration_ms is not None and second.init_duration_ms is None
    entries = logs.of("sh")
    assert entries[:3] == ["init: handler=function.sh.handler", "START RequestId: r-1 Version: $LATEST",
                           'event {"n": 1}']
    assert entries[3] == "END RequestId: r-1" and REPORT.match(entries[4])
    failed = await service.invoke("sh", b'{"fail": true}', request_id="r-3")
    assert failed.function_error == "Unhandled"
    assert failed.payload == b'{"errorMessage": "asked to fail", "errorType": "Custom.Error"}'


async def test_a_bootstrap_that_cannot_start_is_an_invalid_entrypoint(
    service_factory: ServiceFactory, logs: Logs, tmp_path: Path
) -> None:
    (tmp_path / "bootstrap").write_text("#!/bin/sh\necho never\n")  # not executable
    service = service_factory(provided("noexec", tmp_path))
    result = await service.invoke("noexec", b"{}", request_id="r-1")
    assert json.loads(result.payload) == {
        "errorType": "Runtime.InvalidEntrypoint",
        "errorMessage": f"RequestId: r-1 Error: fork/exec {tmp_path / 'bootstrap'}: permission denied",
    }
    assert logs.of("noexec")[0].endswith("Status: error\tError Type: Runtime.InvalidEntrypoint")


async def test_a_bootstrap_that_exits_before_next_is_a_runtime_exit_error(
    service_factory: ServiceFactory, logs: Logs, tmp_path: Path
) -> None:
    write_bootstrap(tmp_path, "#!/bin/sh\necho 'missing configuration' >&2\nexit 2\n")
    service = service_factory(provided("quits", tmp_path))
    result = await service.invoke("quits", b"{}", request_id="r-1")
    message = json.loads(result.payload)["errorMessage"]
    assert message == "RequestId: r-1 Error: Runtime exited with error: exit status 2"
    assert logs.of("quits")[0] == "missing configuration"


@pytest.fixture
def ric_function(tmp_path: Path) -> Path:
    if importlib.util.find_spec("awslambdaric") is None:
        pytest.skip("awslambdaric is not installed (pip install awslambdaric)")
    (tmp_path / "app.py").write_text(RIC_APP)
    write_bootstrap(tmp_path, f"#!/bin/sh\nexec {sys.executable} -m awslambdaric $_HANDLER\n")
    return tmp_path


async def test_awslambdaric_runs_unmodified(service_factory: ServiceFactory, logs: Logs, ric_function: Path) -> None:
    service = service_factory(provided("ric", ric_function, handler="app.handler", memory_size=256))
    result = await service.invoke("ric", b'{"x": 1}', request_id="r-1")
    answer = json.loads(result.payload)
    assert result.function_error is None
    assert answer["event"] == {"x": 1} and (answer["name"], answer["memory"]) == ("ric", "256")
    assert answer["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:ric" and 2500 < answer["remaining"] <= 3000
    entries = logs.invocation("ric", "r-1")
    assert entries[1] == "hello from awslambdaric"
    assert re.fullmatch(r"\[WARNING\]\t\S+Z\tr-1\ta warning", entries[2])
    failed = await service.invoke("ric", b'{"fail": true}', request_id="r-2")
    document = json.loads(failed.payload)
    assert failed.function_error == "Unhandled" and failed.init_duration_ms is None
    assert (document["errorType"], document["errorMessage"], document["requestId"]) == (
        "ValueError", "requested failure", "r-2")
    assert document["stackTrace"][0].startswith(f'  File "{ric_function / "app.py"}", line ')
    assert any(entry.startswith("[ERROR] ValueError: requested failure\r") for entry in logs.invocation("ric", "r-2"))


async def test_awslambdaric_init_error_goes_through_init_error(
    service_factory: ServiceFactory, logs: Logs, ric_function: Path
) -> None:
    service = service_factory(provided("ric", ric_function, handler="app.nosuch"))
    result = await service.invoke("ric", b"{}", request_id="r-1")
    assert json.loads(result.payload) == {
        "errorMessage": "Handler 'nosuch' missing on module 'app'", "errorType": "Runtime.HandlerNotFound",
        "requestId": "", "stackTrace": [],
    }
    entries = logs.of("ric")
    init_report = next(entry for entry in entries if entry.startswith("INIT_REPORT"))
    assert init_report.endswith("\tPhase: invoke\tStatus: error\tError Type: Runtime.HandlerNotFound")
    assert entries[-3:-1] == ["Unknown application error occurred\nRuntime.HandlerNotFound", "END RequestId: r-1"]


def test_check_looks_for_the_bootstrap(service_factory: ServiceFactory, tmp_path: Path) -> None:
    service = service_factory(provided("nobootstrap", tmp_path))
    assert any("nobootstrap" in warning and "bootstrap" in warning for warning in service.check())
    write_bootstrap(tmp_path, textwrap.dedent("#!/bin/sh\n"))
    assert not [warning for warning in service.check() if "nobootstrap" in warning]
