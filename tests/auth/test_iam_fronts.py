"""IAM auth end to end over loopback: requests signed by botocore (SigV4Auth, SigV4QueryAuth, boto3
credentials) against AWS_IAM routes of a REST and an HTTP API and against function URLs.

One gateway for the module (hypercorn on ephemeral 127.0.0.1 ports, real httpx). Expected answers:
../shared/reference/auth.md section 2a, as gateway/auth/iam.py ``Answers`` documents them.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import botocore.auth
import botocore.credentials
import httpx
import pytest
from botocore.awsrequest import AWSRequest

from gateway.auth.sigv4 import BAD_TOKEN, MISMATCH
from gateway.config import GatewayConfig
from gateway.testing import start_gateway

HANDLERS = Path(__file__).parent.parent / "e2e" / "handlers"
ACCOUNT = "123456789012"
OTHER = "210987654321"
REGION = "us-east-1"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


ALICE = {"access_key_id": "AKIDALICE", "secret_access_key": "alice-secret", "user_id": "AIDAALICEEXAMPLE12345",
         "arn": f"arn:aws:iam::{ACCOUNT}:user/alice"}
BOB = {"access_key_id": "ASIABOB", "secret_access_key": "bob-secret", "session_token": "bob-token",
       "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/bob", "principal_org_id": "o-exampleorg"}
CAROL = {"access_key_id": "AKIDCAROL", "secret_access_key": "carol-secret", "arn": f"arn:aws:iam::{OTHER}:user/carol"}
DAVE = {"access_key_id": "AKIDDAVE", "secret_access_key": "dave-secret", "arn": f"arn:aws:iam::{ACCOUNT}:user/dave"}

FN_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function"
INVOKE_URL = {"Effect": "Allow", "Action": ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"],
              "Resource": f"{FN_ARN}:*"}


def public_policy(fn: str, condition: dict[str, Any] | None = None, *, invoke: bool = True) -> str:
    """A NONE URL's resource policy: public InvokeFunctionUrl (with an extra condition) [+ InvokeFunction]."""
    url = {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
           "Resource": f"{FN_ARN}:{fn}",
           "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}, **(condition or {})}}
    via = {"Sid": "ViaUrl", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction",
           "Resource": f"{FN_ARN}:{fn}", "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}}
    return policy(url, *([via] if invoke else []))


def config(policy_dir: Path) -> dict[str, Any]:
    (policy_dir / "alice-api.json").write_text(policy(
        {"Sid": "Api", "Effect": "Allow", "Action": "execute-api:Invoke",
         "Resource": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:*/*/*/*"}))
    fn = {"handler": "raw.echo_event", "code_uri": str(HANDLERS), "isolation": "inprocess", "timeout": 10}
    return {
        "gateway": {"region": REGION, "account_id": ACCOUNT, "access_log": False},
        "identities": [
            {**ALICE, "policies": ["alice-api.json", policy(INVOKE_URL)]},
            {**BOB, "policies": [policy(
                {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
                {"Sid": "NoPrivate", "Effect": "Deny", "Action": "execute-api:*",
                 "Resource": "arn:aws:execute-api:*:*:*/*/*/iam/private*"})]},
            {**CAROL, "policies": [policy({"Effect": "Allow", "Action": "*", "Resource": "*"})]},
            DAVE,
        ],
        "functions": {
            "event": fn, "public": fn,
            "tight": {**fn, "policy": public_policy("tight", {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})},
            "loopback": {**fn, "policy": public_policy("loopback", {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}})},
            "legacy": {**fn, "policy": public_policy("legacy", invoke=False)},
            "shared": {**fn, "policy": policy({"Effect": "Allow", "Principal": {"AWS": CAROL["arn"]},
                                               "Action": ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"],
                                               "Resource": f"{FN_ARN}:shared"})},
        },
        "http_apis": [{"name": "http", "listen": "127.0.0.1:0", "routes": [
            {"route": "ANY /iam/{proxy+}", "function": "event", "authorization": "AWS_IAM"},
            {"route": "ANY /v1/{proxy+}", "function": "event", "authorization": "AWS_IAM",
             "payload_format_version": "1.0"},
            {"route": "GET /open", "function": "event"},
        ]}],
        "rest_apis": [{"name": "rest", "listen": "127.0.0.1:0", "stage": "test", "routes": [
            {"method": "ANY", "path": "/iam/{proxy+}", "function": "event", "authorization": "AWS_IAM"},
            {"method": "GET", "path": "/open", "function": "event"},
        ]}],
        "function_urls": [
            {"function": "event", "listen": "127.0.0.1:0", "auth_type": "AWS_IAM"},
            {"function": "shared", "listen": "127.0.0.1:0", "auth_type": "AWS_IAM"},
            *({"function": name, "listen": "127.0.0.1:0"} for name in ("public", "tight", "loopback", "legacy")),
        ],
    }


@pytest.fixture(scope="module")
def urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    directory = tmp_path_factory.mktemp("iam")
    cfg = GatewayConfig.from_mapping(config(directory), source="test_iam_fronts", base_dir=directory)
    with start_gateway(cfg, ephemeral_ports=True, log=lambda fn, entry: None) as running:
        yield dict(running.urls)


# --------------------------------------------------------------------------------------------------
# Signing with botocore


@contextmanager
def signing_time(shift: datetime.timedelta) -> Iterator[None]:
    """botocore signs at ``utcnow() + shift`` (it reads the clock through ``get_current_datetime``)."""
    real = botocore.auth.get_current_datetime
    with mock.patch.object(botocore.auth, "get_current_datetime", lambda: real() + shift):
        yield


def keys(identity: dict[str, Any], **override: Any) -> botocore.credentials.Credentials:
    merged = {**identity, **override}
    return botocore.credentials.Credentials(merged["access_key_id"], merged["secret_access_key"],
                                            merged.get("session_token"))


def sign(method: str, url: str, creds: botocore.credentials.Credentials, service: str, *, body: bytes = b"",
         headers: dict[str, str] | None = None, region: str = REGION, presign: bool = False) -> AWSRequest:
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    signer = botocore.auth.SigV4QueryAuth(creds, service, region, expires=60) if presign else \
        botocore.auth.SigV4Auth(creds, service, region)
    signer.add_auth(request)
    return request


def send(request: AWSRequest, *, method: str | None = None, url: str | None = None, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> httpx.Response:
    """Send what botocore signed, with one part replaced (the tampering tests)."""
    sent = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    sent.update(headers or {})
    content = request.body if body is None else body
    return httpx.request(method or request.method, url or request.url, headers=sent, content=content or b"",
                         timeout=20)


def target(urls: dict[str, str], front: str, rest: str = "iam/x") -> tuple[str, str]:
    """(url, service) for an AWS_IAM endpoint of each front."""
    if front == "url":
        return urls["event-url"] + rest, "lambda"
    return urls[front] + rest, "execute-api"


FRONTS = ["rest", "http", "url"]


def event_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    event: dict[str, Any] = response.json()
    return event


def refused(response: httpx.Response, error_type: str | None, body: dict[str, Any]) -> None:
    assert response.status_code == 403, response.text
    assert response.headers.get("x-amzn-ErrorType") == error_type
    assert response.headers["content-type"] == "application/json"
    assert response.json() == body


# --------------------------------------------------------------------------------------------------
# Signed requests pass


@pytest.mark.parametrize("front", FRONTS)
def test_header_signature_passes(urls: dict[str, str], front: str) -> None:
    url, service = target(urls, front, "iam/a%20b?z=1&a=%24x")
    response = send(sign("POST", url, keys(ALICE), service, body=b'{"k": 1}',
                         headers={"Content-Type": "application/json"}))
    event = event_of(response)
    assert event.get("body") == '{"k": 1}'


@pytest.mark.parametrize("front", FRONTS)
def test_presigned_query_passes(urls: dict[str, str], front: str) -> None:
    url, service = target(urls, front, "iam/presigned?x=1")
    event_of(send(sign("GET", url, keys(ALICE), service, presign=True)))


def test_session_credentials_pass(urls: dict[str, str]) -> None:
    url, service = target(urls, "http")
    event = event_of(send(sign("GET", url, keys(BOB), service)))
    assert event["requestContext"]["authorizer"]["iam"]["principalOrgId"] == "o-exampleorg"


def test_boto3_session_credentials_sign_a_function_url(urls: dict[str, str]) -> None:
    session = boto3.Session(aws_access_key_id=ALICE["access_key_id"], aws_secret_access_key=ALICE["secret_access_key"],
                            region_name=REGION)
    creds = session.get_credentials()
    assert creds is not None
    request = sign("GET", urls["event-url"] + "boto3", creds.get_frozen_credentials(), "lambda",
                   region=session.region_name or REGION)
    assert event_of(send(request))["requestContext"]["authorizer"]["iam"]["userArn"] == ALICE["arn"]


# --------------------------------------------------------------------------------------------------
# Each single tampering fails with the right answer


Tamper = Callable[[str, str], httpx.Response]


def _tamper_cases() -> dict[str, Tamper]:
    def method(url: str, service: str) -> httpx.Response:
        return send(sign("GET", url, keys(ALICE), service), method="POST")

    def path(url: str, service: str) -> httpx.Response:
        return send(sign("GET", url, keys(ALICE), service), url=url.replace("iam/x", "iam/y"))

    def query(url: str, service: str) -> httpx.Response:
        return send(sign("GET", url + "?a=1", keys(ALICE), service), url=url + "?a=2")

    def header(url: str, service: str) -> httpx.Response:
        signed = sign("GET", url, keys(ALICE), service, headers={"X-Custom": "one"})
        return send(signed, headers={"X-Custom": "two"})

    def body(url: str, service: str) -> httpx.Response:
        return send(sign("POST", url, keys(ALICE), service, body=b"one"), body=b"two")

    def date(url: str, service: str) -> httpx.Response:
        signed = sign("GET", url, keys(ALICE), service)
        stamp = datetime.datetime.strptime(signed.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        later = (stamp + datetime.timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")
        if later[:8] != stamp.strftime("%Y%m%d"):  # never cross midnight: that is a scope error
            later = (stamp - datetime.timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")
        return send(signed, headers={"X-Amz-Date": later})

    def secret(url: str, service: str) -> httpx.Response:
        return send(sign("GET", url, keys(ALICE, secret_access_key="wrong"), service))

    return {"method": method, "path": path, "query": query, "signed header": header, "body": body, "date": date,
            "secret": secret}


TAMPERS = _tamper_cases()


@pytest.mark.parametrize("front", FRONTS)
@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_a_tampered_request_is_refused(urls: dict[str, str], front: str, tamper: str) -> None:
    url, service = target(urls, front)
    refused(TAMPERS[tamper](url, service), "InvalidSignatureException", {"message": MISMATCH})


@pytest.mark.parametrize("front", FRONTS)
def test_another_region_is_refused(urls: dict[str, str], front: str) -> None:
    url, service = target(urls, front)
    refused(send(sign("GET", url, keys(ALICE), service, region="eu-west-1")), "InvalidSignatureException",
            {"message": "Credential should be scoped to a valid region, not 'eu-west-1'."})


@pytest.mark.parametrize("front", FRONTS)
def test_another_service_is_refused(urls: dict[str, str], front: str) -> None:
    url, service = target(urls, front)
    wrong = "lambda" if service == "execute-api" else "execute-api"
    refused(send(sign("GET", url, keys(ALICE), wrong)), "InvalidSignatureException",
            {"message": f"Credential should be scoped to correct service: '{service}'."})


@pytest.mark.parametrize("front", FRONTS)
@pytest.mark.parametrize(("shift", "prefix"), [(-10, "Signature expired: "), (10, "Signature not yet current: ")])
def test_outside_the_five_minutes_is_refused(urls: dict[str, str], front: str, shift: int, prefix: str) -> None:
    url, service = target(urls, front)
    with signing_time(datetime.timedelta(minutes=shift)):
        request = sign("GET", url, keys(ALICE), service)
    response = send(request)
    assert response.status_code == 403
    assert response.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert response.json()["message"].startswith(prefix)


@pytest.mark.parametrize("front", FRONTS)
@pytest.mark.parametrize("who", ["unknown key", "bad token", "missing token"])
def test_unknown_keys_and_bad_tokens_are_refused(urls: dict[str, str], front: str, who: str) -> None:
    url, service = target(urls, front)
    creds = {"unknown key": keys(ALICE, access_key_id="AKIDNOBODY"), "bad token": keys(BOB, session_token="forged"),
             "missing token": keys(BOB, session_token=None)}[who]
    refused(send(sign("GET", url, creds, service)), "UnrecognizedClientException", {"message": BAD_TOKEN})


URL_FORBIDDEN = {"Message": "Forbidden. For troubleshooting Function URL authorization issues, see: "
                            "https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"}
UNSIGNED = {
    "rest": ("MissingAuthenticationTokenException", {"message": "Missing Authentication Token"}),
    "http": (None, {"message": "Forbidden"}),
    "url": ("AccessDeniedException", URL_FORBIDDEN),
}


@pytest.mark.parametrize("front", FRONTS)
def test_an_unsigned_request_is_refused(urls: dict[str, str], front: str) -> None:
    url, _ = target(urls, front)
    refused(httpx.get(url, timeout=20), *UNSIGNED[front])


@pytest.mark.parametrize("front", FRONTS)
def test_an_incomplete_signature_is_refused(urls: dict[str, str], front: str) -> None:
    url, _ = target(urls, front)
    auth = f"AWS4-HMAC-SHA256 Credential=AKIDALICE/20260101/{REGION}/lambda/aws4_request, SignedHeaders=host"
    response = httpx.get(url, headers={"Authorization": auth, "X-Amz-Date": "20260101T000000Z"}, timeout=20)
    refused(response, "IncompleteSignatureException",
            {"message": f"Authorization header requires 'Signature' parameter. Authorization={auth}"})


def test_routes_without_auth_ignore_signatures(urls: dict[str, str]) -> None:
    assert httpx.get(urls["http"] + "open", timeout=20).status_code == 200
    assert httpx.get(urls["rest"] + "open", timeout=20).status_code == 200


# --------------------------------------------------------------------------------------------------
# IAM decisions: deny statements, implicit deny, cross account, NONE URLs


def test_an_explicit_deny_on_rest(urls: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gateway")
    url, service = target(urls, "rest", "iam/private/doc")
    response = send(sign("GET", url, keys(BOB), service))
    allowed = event_of(send(sign("GET", target(urls, "rest", "iam/public")[0], keys(BOB), service)))
    api_id = allowed["requestContext"]["apiId"]
    resource = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/test/GET/iam/private/doc"
    message = f"User: {BOB['arn']} is not authorized to perform: execute-api:Invoke on resource: {resource}"
    refused(response, "AccessDeniedException", {"Message": message + " with an explicit deny"})
    logged = [r.getMessage() for r in caplog.records if r.name == "gateway" and "IAM:" in r.getMessage()]
    assert any(f"IAM: {BOB['arn']} (identities[1]) may not execute-api:Invoke on {resource}: explicit deny: "
               "statement 'NoPrivate' "
               "#1 (Deny) of identities[1].policies[0]" in line for line in logged), logged


def test_an_implicit_deny_on_rest(urls: dict[str, str]) -> None:
    url, service = target(urls, "rest", "iam/thing")
    response = send(sign("GET", url, keys(DAVE), service))
    assert response.status_code == 403
    message = response.json()["Message"]
    assert message.startswith(f"User: {DAVE['arn']} is not authorized to perform: execute-api:Invoke on resource: "
                              f"arn:aws:execute-api:{REGION}:{ACCOUNT}:")
    assert message.endswith("/test/GET/iam/thing")


@pytest.mark.parametrize(("front", "who"), [("http", BOB), ("http", DAVE), ("url", DAVE), ("url", BOB)])
def test_denials_on_http_apis_and_function_urls(urls: dict[str, str], front: str, who: dict[str, Any]) -> None:
    url, service = target(urls, front, "iam/private/doc")
    expected = (None, {"message": "Forbidden"}) if front == "http" else ("AccessDeniedException", URL_FORBIDDEN)
    refused(send(sign("GET", url, keys(who), service)), *expected)


def test_cross_account_needs_both_policies(urls: dict[str, str]) -> None:
    # carol (another account) may do anything by her own policy; only "shared" trusts her.
    event = event_of(send(sign("GET", urls["shared-url"] + "x", keys(CAROL), "lambda")))
    assert event["requestContext"]["authorizer"]["iam"]["accountId"] == OTHER
    refused(send(sign("GET", urls["event-url"] + "x", keys(CAROL), "lambda")), "AccessDeniedException", URL_FORBIDDEN)
    refused(send(sign("GET", urls["http"] + "iam/x", keys(CAROL), "execute-api")), None, {"message": "Forbidden"})
    # alice (same account) has only her identity policy for "shared": enough within the account.
    event_of(send(sign("GET", urls["shared-url"] + "x", keys(ALICE), "lambda")))


def test_none_urls_evaluate_the_resource_policy(urls: dict[str, str]) -> None:
    event = event_of(httpx.get(urls["public-url"] + "x", timeout=20))
    assert "authorizer" not in event["requestContext"]
    assert event["requestContext"]["accountId"] == "anonymous"
    event_of(httpx.get(urls["loopback-url"] + "x", timeout=20))
    refused(httpx.get(urls["tight-url"] + "x", timeout=20), "AccessDeniedException", URL_FORBIDDEN)
    # Since October 2025 lambda:InvokeFunction is needed as well.
    refused(httpx.get(urls["legacy-url"] + "x", timeout=20), "AccessDeniedException", URL_FORBIDDEN)


def test_a_none_url_ignores_signatures(urls: dict[str, str]) -> None:
    event = event_of(send(sign("GET", urls["public-url"] + "x", keys(ALICE), "lambda")))
    assert "authorizer" not in event["requestContext"]


# --------------------------------------------------------------------------------------------------
# What the function receives


def test_http_api_v2_and_function_url_authorizer_iam(urls: dict[str, str]) -> None:
    expected = {"accessKey": "AKIDALICE", "accountId": ACCOUNT, "callerId": ALICE["user_id"], "cognitoIdentity": None,
                "principalOrgId": None, "userArn": ALICE["arn"], "userId": ALICE["user_id"]}
    for front in ("http", "url"):
        url, service = target(urls, front)
        context = event_of(send(sign("GET", url, keys(ALICE), service)))["requestContext"]
        assert context["authorizer"] == {"iam": expected}
        assert context["accountId"] == ACCOUNT


def test_a_role_session_in_authorizer_iam(urls: dict[str, str]) -> None:
    url, service = target(urls, "http")
    iam = event_of(send(sign("GET", url, keys(BOB), service)))["requestContext"]["authorizer"]["iam"]
    assert iam["userArn"] == BOB["arn"] and iam["accessKey"] == "ASIABOB"
    assert iam["callerId"] == iam["userId"] and iam["userId"].startswith("AROA") and iam["userId"].endswith(":bob")
    assert len(iam["userId"].partition(":")[0]) == 21


@pytest.mark.parametrize("front", ["rest", "v1"])
def test_rest_and_http_v1_identity(urls: dict[str, str], front: str) -> None:
    url = urls["rest"] + "iam/x" if front == "rest" else urls["http"] + "v1/x"
    event = event_of(send(sign("GET", url, keys(ALICE), "execute-api", headers={"User-Agent": "sigv4-test"})))
    identity = event["requestContext"]["identity"]
    assert {k: identity[k] for k in ("accessKey", "accountId", "caller", "user", "userArn", "principalOrgId")} == {
        "accessKey": "AKIDALICE", "accountId": ACCOUNT, "caller": ALICE["user_id"], "user": ALICE["user_id"],
        "userArn": ALICE["arn"], "principalOrgId": None}
    assert identity["cognitoIdentityId"] is None and identity["sourceIp"] == "127.0.0.1"
    assert "authorizer" not in event["requestContext"]
    names = {name.lower() for name in event["headers"]}
    assert "x-amz-date" in names
    if front == "rest":  # REST-2 / D-KNOWN: the SigV4 Authorization header is not passed on
        assert "authorization" not in names
        assert "authorization" not in {name.lower() for name in event["multiValueHeaders"]}


def test_local_credentials_are_the_accounts_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    cfg = GatewayConfig.from_mapping({
        "gateway": {"account_id": ACCOUNT, "trust_local_credentials": True, "access_log": False},
        "functions": {"event": {"handler": "raw.echo_event", "code_uri": str(HANDLERS), "isolation": "inprocess"}},
        "function_urls": [{"function": "event", "listen": "127.0.0.1:0", "auth_type": "AWS_IAM"}],
    }, base_dir=tmp_path)
    with start_gateway(cfg, log=lambda fn, entry: None) as running:
        creds = botocore.credentials.Credentials("AKIDLOCAL", "local-secret")
        event = event_of(send(sign("GET", running.urls["event-url"] + "x", creds, "lambda")))
    assert event["requestContext"]["authorizer"]["iam"]["userArn"] == f"arn:aws:iam::{ACCOUNT}:root"
