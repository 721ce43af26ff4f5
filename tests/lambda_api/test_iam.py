"""``[lambda_api] auth = "AWS_IAM"`` driven by boto3 clients that sign for real (botocore SigV4) against a
running gateway: who may call which operation, and the refusals boto3 raises against AWS
(gateway/auth/lambda_api_iam.py documents the actions, resources and answers with their evidence).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import botocore.auth
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from gateway.auth.sigv4 import BAD_TOKEN, MISMATCH
from gateway.config import GatewayConfig
from gateway.testing import start_gateway

HANDLERS = Path(__file__).parent / "handlers"
ACCOUNT = "123456789012"
OTHER = "210987654321"
REGION = "us-east-1"
FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str]) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


ALICE = {"access_key_id": "AKIDALICE", "secret_access_key": "alice-secret",
         "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
         "policies": [policy(allow("lambda:InvokeFunction", f"{FN}:echo"),
                             allow("lambda:GetFunction", f"{FN}:echo"),
                             allow(["lambda:ListFunctions", "lambda:ListVersionsByFunction", "lambda:ListAliases",
                                    "lambda:GetAlias"], "*"))]}
# An assumed-role session (temporary credentials: botocore signs X-Amz-Security-Token) allowed
# everything but invoking "fail".
BOB = {"access_key_id": "ASIABOB", "secret_access_key": "bob-secret", "session_token": "bob-token",
       "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/bob",
       "policies": [policy(allow("lambda:*", "*"),
                           {"Effect": "Deny", "Action": "lambda:InvokeFunction", "Resource": f"{FN}:fail*"})]}
CAROL = {"access_key_id": "AKIDCAROL", "secret_access_key": "carol-secret", "arn": f"arn:aws:iam::{OTHER}:user/carol",
         "policies": [policy(allow("lambda:*", "*"))]}
DAVE = {"access_key_id": "AKIDDAVE", "secret_access_key": "dave-secret", "arn": f"arn:aws:iam::{ACCOUNT}:user/dave"}
ERIN = {"access_key_id": "AKIDERIN", "secret_access_key": "erin-secret", "arn": f"arn:aws:iam::{ACCOUNT}:user/erin",
        "policies": [policy(allow("lambda:InvokeFunction", f"{FN}:echo:live"))]}


def _fn(handler: str, **extra: Any) -> dict[str, Any]:
    return {"handler": f"lapi_handlers.{handler}", "code_uri": str(HANDLERS), "isolation": "inprocess", **extra}


def mapping(auth: str) -> dict[str, Any]:
    return {
        "gateway": {"access_log": False, "region": REGION, "account_id": ACCOUNT},
        "identities": [ALICE, BOB, CAROL, DAVE, ERIN],
        "functions": {
            "echo": _fn("echo", versions={"1": {}}, aliases={"live": {"version": "1"}}),
            "fail": _fn("fail"),
            # add-permission for another account's user (cross-account: both sides must allow).
            "shared": _fn("echo", policy=policy({"Sid": "Carol", "Effect": "Allow", "Principal": {"AWS": CAROL["arn"]},
                                                 "Action": "lambda:InvokeFunction", "Resource": f"{FN}:shared"})),
            # a resource-based Deny beats bob's lambda:* identity policy.
            "guarded": _fn("echo", policy=policy({"Effect": "Deny", "Principal": {"AWS": BOB["arn"]},
                                                  "Action": "lambda:InvokeFunction", "Resource": f"{FN}:guarded"})),
        },
        "lambda_api": {"listen": "127.0.0.1:0", "auth": auth},
    }


@pytest.fixture(scope="module")
def urls() -> Iterator[dict[str, str]]:
    """Two gateways: auth AWS_IAM and auth NONE (the same identities and functions)."""
    iam = GatewayConfig.from_mapping(mapping("AWS_IAM"), source="test_iam")
    none = GatewayConfig.from_mapping(mapping("NONE"), source="test_iam")
    with start_gateway(iam, log=lambda name, entry: None) as signed, \
            start_gateway(none, log=lambda name, entry: None) as open_:
        yield {"iam": signed.urls["lambda_api"].rstrip("/"), "none": open_.urls["lambda_api"].rstrip("/")}


def client(url: str, identity: dict[str, Any] | None, **override: Any) -> Any:
    """A boto3 Lambda client with the identity's keys (None: unsigned)."""
    config = Config(retries={"max_attempts": 1}, signature_version=UNSIGNED if identity is None else None)
    keys = {**(identity or {"access_key_id": "x", "secret_access_key": "y"}), **override}
    return boto3.client("lambda", endpoint_url=url, region_name=REGION, config=config,
                        aws_access_key_id=keys["access_key_id"], aws_secret_access_key=keys["secret_access_key"],
                        aws_session_token=keys.get("session_token"))


def refused(call: Any, code: str, message: str, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response
    assert (error["Error"]["Code"], error["Error"]["Message"]) == (code, message)
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    return caught.value


def denied(who: dict[str, Any], action: str, resource: str, why: str = "") -> str:
    why = why or f"because no identity-based policy allows the {action} action"
    return f"User: {who['arn']} is not authorized to perform: {action} on resource: {resource} {why}"


def invoke(lam: Any, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    answer = lam.invoke(**kwargs)
    body = answer["Payload"].read()
    return answer, json.loads(body) if body else None


# ------------------------------------------------------------------------------------------------
# Invoke


def test_an_allowed_identity_invokes(urls: dict[str, str]) -> None:
    answer, body = invoke(client(urls["iam"], ALICE), FunctionName="echo", Payload=b'{"a": 1}')
    assert answer["StatusCode"] == 200
    assert (body["event"], body["arn"], answer["ExecutedVersion"]) == ({"a": 1}, f"{FN}:echo", "$LATEST")


@pytest.mark.parametrize("kind", ["Event", "DryRun"])
def test_every_invocation_type_is_checked(urls: dict[str, str], kind: str) -> None:
    answer = client(urls["iam"], ALICE).invoke(FunctionName="echo", InvocationType=kind, Payload=b"{}")
    assert answer["StatusCode"] == {"Event": 202, "DryRun": 204}[kind]
    refused(client(urls["iam"], DAVE).invoke, "AccessDeniedException",
            denied(DAVE, "lambda:InvokeFunction", f"{FN}:echo"), FunctionName="echo", InvocationType=kind)


def test_an_identity_without_permission_gets_access_denied(urls: dict[str, str]) -> None:
    error = refused(client(urls["iam"], DAVE).invoke, "AccessDeniedException",
                    denied(DAVE, "lambda:InvokeFunction", f"{FN}:echo"), FunctionName="echo", Payload=b"{}")
    assert error.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "AccessDeniedException"
    assert error.response["ResponseMetadata"]["RequestId"]


def test_the_wire_answer_of_a_denial(urls: dict[str, str]) -> None:
    """The body boto3 parsed above, byte for byte: Lambda's AccessDeniedException, capital M."""
    lam = client(urls["iam"], DAVE)
    seen: list[Any] = []
    lam.meta.events.register("after-call.lambda.Invoke", lambda http_response, **kw: seen.append(http_response))
    with pytest.raises(ClientError):
        lam.invoke(FunctionName="echo", Payload=b"{}")
    assert seen[0].status_code == 403
    assert seen[0].headers["Content-Type"] == "application/json"
    assert json.loads(seen[0].content) == {"Message": denied(DAVE, "lambda:InvokeFunction", f"{FN}:echo")}


@pytest.mark.parametrize(("who", "kwargs", "resource"), [
    # alice may invoke function:echo only: a qualifier names another resource.
    (ALICE, {"FunctionName": "echo:live"}, f"{FN}:echo:live"),
    (ALICE, {"FunctionName": "echo", "Qualifier": "live"}, f"{FN}:echo:live"),
    (ALICE, {"FunctionName": "echo:1"}, f"{FN}:echo:1"),
    (ALICE, {"FunctionName": "echo:$LATEST"}, f"{FN}:echo:$LATEST"),
    # erin may invoke the alias live only: not the function, not the version the alias points to.
    (ERIN, {"FunctionName": "echo"}, f"{FN}:echo"),
    (ERIN, {"FunctionName": "echo:1"}, f"{FN}:echo:1"),
    (ERIN, {"FunctionName": f"{FN}:echo"}, f"{FN}:echo"),
])
def test_qualified_and_unqualified_arns_are_different_resources(urls: dict[str, str], who: dict[str, Any],
                                                                kwargs: dict[str, Any], resource: str) -> None:
    refused(client(urls["iam"], who).invoke, "AccessDeniedException",
            denied(who, "lambda:InvokeFunction", resource), **kwargs)


@pytest.mark.parametrize("kwargs", [{"FunctionName": "echo:live"}, {"FunctionName": "echo", "Qualifier": "live"},
                                    {"FunctionName": f"{FN}:echo:live"}])
def test_a_policy_on_the_alias_arn_allows_the_alias(urls: dict[str, str], kwargs: dict[str, Any]) -> None:
    answer, body = invoke(client(urls["iam"], ERIN), **kwargs)
    assert (answer["StatusCode"], answer["ExecutedVersion"], body["arn"]) == (200, "1", f"{FN}:echo:live")


def test_invoke_async_needs_invoke_function(urls: dict[str, str]) -> None:
    assert client(urls["iam"], ALICE).invoke_async(FunctionName="echo", InvokeArgs=b"{}")["Status"] == 202
    refused(client(urls["iam"], DAVE).invoke_async, "AccessDeniedException",
            denied(DAVE, "lambda:InvokeFunction", f"{FN}:echo"), FunctionName="echo", InvokeArgs=b"{}")


def test_a_session_identity_and_explicit_denies(urls: dict[str, str]) -> None:
    bob = client(urls["iam"], BOB)
    answer, body = invoke(bob, FunctionName="echo")
    assert (answer["StatusCode"], body["event"]) == (200, {})
    refused(bob.invoke, "AccessDeniedException", denied(BOB, "lambda:InvokeFunction", f"{FN}:fail",
                                                        "with an explicit deny in an identity-based policy"),
            FunctionName="fail")
    refused(bob.invoke, "AccessDeniedException", denied(BOB, "lambda:InvokeFunction", f"{FN}:guarded",
                                                        "with an explicit deny in a resource-based policy"),
            FunctionName="guarded")


def test_authorization_comes_before_the_function_is_looked_up(urls: dict[str, str]) -> None:
    refused(client(urls["iam"], DAVE).invoke, "AccessDeniedException",
            denied(DAVE, "lambda:InvokeFunction", f"{FN}:nosuch"), FunctionName="nosuch")
    with pytest.raises(ClientError) as caught:
        client(urls["iam"], BOB).invoke(FunctionName="nosuch")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert caught.value.response["Error"]["Message"] == f"Function not found: {FN}:nosuch"


def test_a_resource_based_policy_grants_another_account(urls: dict[str, str]) -> None:
    carol = client(urls["iam"], CAROL)
    answer, body = invoke(carol, FunctionName="shared", Payload=b'"hi"')
    assert (answer["StatusCode"], body["event"]) == (200, "hi")
    # her own policy allows lambda:* everywhere, but echo's account never said yes.
    refused(carol.invoke, "AccessDeniedException",
            denied(CAROL, "lambda:InvokeFunction", f"{FN}:echo",
                   "because no resource-based policy allows the lambda:InvokeFunction action"),
            FunctionName="echo")


# ------------------------------------------------------------------------------------------------
# Signatures


def test_a_wrong_secret_is_an_invalid_signature(urls: dict[str, str]) -> None:
    refused(client(urls["iam"], ALICE, secret_access_key="not-alices").invoke, "InvalidSignatureException",
            MISMATCH, FunctionName="echo")


@pytest.mark.parametrize("override", [{"access_key_id": "AKIDNOBODY"}, {"session_token": "forged"}])
def test_an_unknown_key_or_token_is_unrecognized(urls: dict[str, str], override: dict[str, str]) -> None:
    who = BOB if "session_token" in override else ALICE
    refused(client(urls["iam"], who, **override).invoke, "UnrecognizedClientException", BAD_TOKEN,
            FunctionName="echo")


@pytest.mark.parametrize(("minutes", "prefix"), [(-10, "Signature expired: "), (10, "Signature not yet current: ")])
def test_a_signature_outside_five_minutes_is_refused(urls: dict[str, str], minutes: int, prefix: str) -> None:
    lam = client(urls["iam"], ALICE)
    real = botocore.auth.get_current_datetime
    with mock.patch.object(botocore.auth, "get_current_datetime",
                           lambda: real() + datetime.timedelta(minutes=minutes)), \
            pytest.raises(ClientError) as caught:
        lam.invoke(FunctionName="echo")
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidSignatureException"
    assert error["Message"].startswith(prefix)


def test_a_signature_for_another_region_is_refused(urls: dict[str, str]) -> None:
    lam = boto3.client("lambda", endpoint_url=urls["iam"], region_name="eu-west-1",
                       aws_access_key_id=ALICE["access_key_id"], aws_secret_access_key=ALICE["secret_access_key"],
                       config=Config(retries={"max_attempts": 1}))
    refused(lam.invoke, "InvalidSignatureException", "Credential should be scoped to a valid region, not 'eu-west-1'.",
            FunctionName="echo")


def test_unsigned_requests_are_refused(urls: dict[str, str]) -> None:
    response = httpx.post(f"{urls['iam']}/2015-03-31/functions/echo/invocations", content=b"{}")
    assert response.status_code == 403
    assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert response.json() == {"message": "Missing Authentication Token"}
    assert response.headers["x-amzn-RequestId"]
    # before the name is even read, and for an operation that does not exist
    for path in ("/2015-03-31/functions/not%20a%20name/invocations", "/nothing/here"):
        assert httpx.post(urls["iam"] + path).json() == {"message": "Missing Authentication Token"}
    refused(client(urls["iam"], None).invoke, "MissingAuthenticationTokenException", "Missing Authentication Token",
            FunctionName="echo")


# ------------------------------------------------------------------------------------------------
# The read-only operations


def test_get_function_is_gated_by_its_action(urls: dict[str, str]) -> None:
    alice = client(urls["iam"], ALICE)
    assert alice.get_function(FunctionName="echo")["Configuration"]["FunctionArn"] == f"{FN}:echo"
    refused(alice.get_function, "AccessDeniedException", denied(ALICE, "lambda:GetFunction", f"{FN}:fail"),
            FunctionName="fail")
    refused(alice.get_function, "AccessDeniedException", denied(ALICE, "lambda:GetFunction", f"{FN}:echo:live"),
            FunctionName="echo", Qualifier="live")


def test_list_functions_is_gated_on_every_resource(urls: dict[str, str]) -> None:
    names = [f["FunctionName"] for f in client(urls["iam"], ALICE).list_functions()["Functions"]]
    assert names == ["echo", "fail", "shared", "guarded"]
    refused(client(urls["iam"], DAVE).list_functions, "AccessDeniedException",
            denied(DAVE, "lambda:ListFunctions", "*"))


@pytest.mark.parametrize(("operation", "action", "kwargs"), [
    ("list_versions_by_function", "lambda:ListVersionsByFunction", {"FunctionName": "echo"}),
    ("list_aliases", "lambda:ListAliases", {"FunctionName": "echo"}),
    ("get_alias", "lambda:GetAlias", {"FunctionName": "echo", "Name": "live"}),
])
def test_versions_and_aliases_are_gated_on_the_function(urls: dict[str, str], operation: str, action: str,
                                                        kwargs: dict[str, Any]) -> None:
    answer = getattr(client(urls["iam"], ALICE), operation)(**kwargs)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    refused(getattr(client(urls["iam"], DAVE), operation), "AccessDeniedException",
            denied(DAVE, action, f"{FN}:echo"), **kwargs)


# ------------------------------------------------------------------------------------------------
# auth = "NONE"


def test_auth_none_is_unchanged(urls: dict[str, str]) -> None:
    response = httpx.post(f"{urls['none']}/2015-03-31/functions/echo/invocations", content=b'{"b": 2}')
    assert response.status_code == 200
    assert response.json()["event"] == {"b": 2}
    # any keys, even unknown ones, and anyone may do anything
    answer, body = invoke(client(urls["none"], DAVE), FunctionName="echo:live")
    assert (answer["StatusCode"], body["arn"]) == (200, f"{FN}:echo:live")
    assert len(client(urls["none"], None).list_functions()["Functions"]) == 4
