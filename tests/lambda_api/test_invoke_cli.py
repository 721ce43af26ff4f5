"""``gateway invoke`` (gateway/invoke_cli.py) run as a real child process: on its own from a config,
and against a running gateway's Lambda API (``--endpoint``), signed when credentials are at hand.

stdout carries the payload only; stderr the function's log (or the decoded log tail) and the
summary line; exit 0 on success, 1 on a function error, 2 when the invocation is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.config import GatewayConfig
from gateway.testing import start_gateway

HANDLERS = Path(__file__).parent / "handlers"
ACCOUNT = "123456789012"
FN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function"
ALLOWED = {"access_key_id": "AKIDCLI", "secret_access_key": "cli-secret", "arn": f"arn:aws:iam::{ACCOUNT}:user/cli",
           "policies": [json.dumps({"Version": "2012-10-17", "Statement": [
               {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": f"{FN}:echo*"}]})]}
NOBODY = {"access_key_id": "AKIDNOPE", "secret_access_key": "nope-secret", "arn": f"arn:aws:iam::{ACCOUNT}:user/nope"}

CONFIG = f"""
[gateway]
access_log = false

[functions.echo]
handler = "lapi_handlers.echo"
code_uri = {json.dumps(str(HANDLERS))}
isolation = "inprocess"
versions = {{ "1" = {{ environment = {{ LAPI_VERSION = "v1" }} }} }}
aliases = {{ live = {{ version = "1" }} }}

[functions.fail]
handler = "lapi_handlers.fail"
code_uri = {json.dumps(str(HANDLERS))}
isolation = "inprocess"

[functions.record]
handler = "lapi_handlers.record"
code_uri = {json.dumps(str(HANDLERS))}
isolation = "inprocess"
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("invoke_cli")
    (directory / "gateway.toml").write_text(CONFIG)
    (directory / "event.json").write_text('{"hello": "world", "n": [1, 2]}')
    (directory / "bad.json").write_text('{"hello": ')
    return directory


def _mapping(auth: str) -> dict[str, Any]:
    fn = {"code_uri": str(HANDLERS), "isolation": "inprocess"}
    return {
        "gateway": {"access_log": False},
        "identities": [ALLOWED, NOBODY],
        "functions": {
            "echo": {**fn, "handler": "lapi_handlers.echo", "versions": {"1": {}},
                     "aliases": {"live": {"version": "1"}}},
            "fail": {**fn, "handler": "lapi_handlers.fail"},
            "record": {**fn, "handler": "lapi_handlers.record"},
        },
        "lambda_api": {"listen": "127.0.0.1:0", "auth": auth},
    }


@pytest.fixture(scope="module")
def endpoints() -> Iterator[dict[str, str]]:
    """Running gateways' Lambda APIs: auth NONE and auth AWS_IAM."""
    with start_gateway(GatewayConfig.from_mapping(_mapping("NONE")), log=lambda name, entry: None) as plain, \
            start_gateway(GatewayConfig.from_mapping(_mapping("AWS_IAM")), log=lambda name, entry: None) as signed:
        yield {"none": plain.urls["lambda_api"].rstrip("/"), "iam": signed.urls["lambda_api"].rstrip("/")}


def gateway(cwd: Path, *args: str, stdin: str | None = None,
            keys: dict[str, Any] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m gateway invoke ...`` with no AWS credentials in reach unless ``keys`` are given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(HOME=str(cwd), AWS_SHARED_CREDENTIALS_FILE=str(cwd / "none"), AWS_CONFIG_FILE=str(cwd / "none"))
    if keys is not None:
        env.update(AWS_ACCESS_KEY_ID=keys["access_key_id"], AWS_SECRET_ACCESS_KEY=keys["secret_access_key"],
                   AWS_REGION="us-east-1")
    return subprocess.run([sys.executable, "-m", "gateway", "invoke", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def summary(done: subprocess.CompletedProcess[str]) -> str:
    """The last line of stderr: the fields aws lambda invoke prints."""
    return done.stderr.rstrip("\n").split("\n")[-1]


# ------------------------------------------------------------------------------------------------
# On its own, from the config


def test_standalone_with_an_event_file(workdir: Path) -> None:
    done = gateway(workdir, "echo", "--config", "gateway.toml", "--event", "event.json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1  # the payload, one line, nothing else
    payload = json.loads(done.stdout)
    assert payload["event"] == {"hello": "world", "n": [1, 2]}
    assert (payload["arn"], payload["version"], payload["env"]) == (f"{FN}:echo", "$LATEST", None)
    assert f"echo | START RequestId: {payload['request_id']} Version: $LATEST\n" in done.stderr
    assert f"echo | END RequestId: {payload['request_id']}\n" in done.stderr
    assert summary(done) == "StatusCode: 200, ExecutedVersion: $LATEST"


def test_standalone_event_from_stdin(workdir: Path) -> None:
    done = gateway(workdir, "echo", "-c", "gateway.toml", "--event", "-", stdin='["from", "stdin"]')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["event"] == ["from", "stdin"]


def test_standalone_without_an_event_sends_an_empty_object(workdir: Path) -> None:
    done = gateway(workdir, "echo", "-c", "gateway.toml")
    assert (done.returncode, json.loads(done.stdout)["event"]) == (0, {})


@pytest.mark.parametrize("how", [["echo", "--qualifier", "live"], ["echo:live"], ["echo", "-q", "1"]])
def test_standalone_qualifier(workdir: Path, how: list[str]) -> None:
    done = gateway(workdir, *how, "-c", "gateway.toml")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    qualifier = "1" if "1" in how else "live"
    assert (payload["arn"], payload["version"], payload["env"]) == (f"{FN}:echo:{qualifier}", "1", "v1")
    assert summary(done) == "StatusCode: 200, ExecutedVersion: 1"


def test_standalone_event_type_runs_to_the_end(workdir: Path) -> None:
    target = workdir / "standalone-event.jsonl"
    done = gateway(workdir, "record", "-c", "gateway.toml", "--type", "Event", "--event", "-",
                   stdin=json.dumps({"file": str(target)}))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert summary(done) == "StatusCode: 202, ExecutedVersion: $LATEST"
    assert json.loads(target.read_text())["event"] == {"file": str(target)}


def test_standalone_dry_run(workdir: Path) -> None:
    done = gateway(workdir, "echo", "-c", "gateway.toml", "--type", "DryRun")
    assert (done.returncode, done.stdout, summary(done)) == (0, "", "StatusCode: 204")


def test_standalone_function_error(workdir: Path) -> None:
    done = gateway(workdir, "fail", "-c", "gateway.toml")
    assert done.returncode == 1
    error = json.loads(done.stdout)
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "requested failure")
    assert "fail | about to fail\n" in done.stderr
    assert "fail | [ERROR] ValueError: requested failure\n" in done.stderr
    assert summary(done) == "StatusCode: 200, ExecutedVersion: $LATEST, FunctionError: Unhandled"


def test_standalone_unknown_function(workdir: Path) -> None:
    done = gateway(workdir, "nosuch", "-c", "gateway.toml")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "gateway invoke: no function 'nosuch' in gateway.toml (functions: echo, fail, record)\n"


def test_standalone_unknown_qualifier(workdir: Path) -> None:
    done = gateway(workdir, "echo", "-c", "gateway.toml", "-q", "prod")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("gateway invoke: function 'echo' has no version or alias 'prod' "
                           "(versions: 1; aliases: live)\n")


def test_standalone_conflicting_qualifiers(workdir: Path) -> None:
    done = gateway(workdir, "echo:live", "-c", "gateway.toml", "-q", "1")
    assert done.returncode == 2
    assert done.stderr == ("gateway invoke: InvalidParameterValueException: The derived qualifier from the function "
                           "name does not match the specified qualifier.\n")


def test_bad_event_json(workdir: Path) -> None:
    done = gateway(workdir, "echo", "-c", "gateway.toml", "--event", "bad.json")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == ("gateway invoke: the event in bad.json is not JSON: Expecting value: line 1 column 11 "
                           "(char 10)\n")
    done = gateway(workdir, "echo", "-c", "gateway.toml", "--event", "-", stdin="not json")
    assert done.stderr == "gateway invoke: the event in stdin is not JSON: Expecting value: line 1 column 1 (char 0)\n"
    done = gateway(workdir, "echo", "-c", "gateway.toml", "--event", "missing.json")
    assert (done.returncode, done.stderr) == (2, "gateway invoke: cannot read the event missing.json: "
                                                 "No such file or directory\n")


def test_missing_config(workdir: Path) -> None:
    done = gateway(workdir, "echo", "-c", "nowhere.toml")
    assert (done.returncode, done.stderr) == (2, "gateway: config error: nowhere.toml: file not found\n")


# ------------------------------------------------------------------------------------------------
# Against a running gateway


def test_endpoint_invoke_prints_payload_and_log_tail(workdir: Path, endpoints: dict[str, str]) -> None:
    done = gateway(workdir, "echo", "--endpoint", endpoints["none"], "--event", "event.json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["event"] == {"hello": "world", "n": [1, 2]}
    # the X-Amz-Log-Result tail, decoded
    assert done.stderr.startswith(f"START RequestId: {payload['request_id']} Version: $LATEST\n")
    assert f"\nEND RequestId: {payload['request_id']}\n" in done.stderr
    assert summary(done) == "StatusCode: 200, ExecutedVersion: $LATEST"


@pytest.mark.parametrize("how", [["echo", "--qualifier", "live"], ["echo:live"], [f"{FN}:echo:live"]])
def test_endpoint_qualifier(workdir: Path, endpoints: dict[str, str], how: list[str]) -> None:
    done = gateway(workdir, *how, "--endpoint", endpoints["none"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["arn"] == f"{FN}:echo:live"
    assert summary(done) == "StatusCode: 200, ExecutedVersion: 1"


def test_endpoint_event_type(workdir: Path, endpoints: dict[str, str]) -> None:
    target = workdir / "remote-event.jsonl"
    done = gateway(workdir, "record", "--endpoint", endpoints["none"], "--type", "Event", "--event", "-",
                   stdin=json.dumps({"file": str(target)}))
    assert (done.returncode, done.stdout, summary(done)) == (0, "", "StatusCode: 202")
    deadline = time.monotonic() + 20
    while not target.exists() and time.monotonic() < deadline:  # it runs after the 202
        time.sleep(0.05)
    assert json.loads(target.read_text())["event"] == {"file": str(target)}


def test_endpoint_dry_run(workdir: Path, endpoints: dict[str, str]) -> None:
    done = gateway(workdir, "echo:live", "--endpoint", endpoints["none"], "--type", "DryRun")
    assert (done.returncode, done.stdout, summary(done)) == (0, "", "StatusCode: 204, ExecutedVersion: 1")


def test_endpoint_function_error(workdir: Path, endpoints: dict[str, str]) -> None:
    done = gateway(workdir, "fail", "--endpoint", endpoints["none"])
    assert done.returncode == 1
    assert json.loads(done.stdout)["errorMessage"] == "requested failure"
    assert "about to fail\n" in done.stderr
    assert summary(done) == "StatusCode: 200, ExecutedVersion: $LATEST, FunctionError: Unhandled"


def test_endpoint_unknown_function(workdir: Path, endpoints: dict[str, str]) -> None:
    done = gateway(workdir, "nosuch", "--endpoint", endpoints["none"])
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"gateway invoke: ResourceNotFoundException: Function not found: {FN}:nosuch (HTTP 404)\n"


def test_endpoint_unreachable(workdir: Path) -> None:
    done = gateway(workdir, "echo", "--endpoint", "http://127.0.0.1:9")
    assert done.returncode == 2
    assert done.stderr.startswith("gateway invoke: cannot reach http://127.0.0.1:9/2015-03-31/functions/echo/"
                                  "invocations: ")


def test_endpoint_with_aws_iam_signs_with_the_credential_chain(workdir: Path, endpoints: dict[str, str]) -> None:
    done = gateway(workdir, "echo", "-q", "live", "--endpoint", endpoints["iam"], keys=ALLOWED)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["arn"] == f"{FN}:echo:live"
    done = gateway(workdir, "echo", "--endpoint", endpoints["iam"], keys=NOBODY)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"gateway invoke: AccessDeniedException: User: {NOBODY['arn']} is not authorized to "
                           f"perform: lambda:InvokeFunction on resource: {FN}:echo because no identity-based policy "
                           "allows the lambda:InvokeFunction action (HTTP 403)\n")
    done = gateway(workdir, "echo", "--endpoint", endpoints["iam"])
    assert (done.returncode, done.stderr) == (2, "gateway invoke: MissingAuthenticationTokenException: Missing "
                                                 "Authentication Token (HTTP 403)\n")
    done = gateway(workdir, "echo", "--endpoint", endpoints["iam"], "--region", "eu-west-1", keys=ALLOWED)
    assert done.stderr == ("gateway invoke: InvalidSignatureException: Credential should be scoped to a valid region, "
                           "not 'eu-west-1'. (HTTP 403)\n")
