"""``[[identities]]``, functions' ``policy``, ``authorization = "AWS_IAM"``: checked at load, errors name the key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.auth.identities import IamDirectory
from gateway.config import GatewayConfig
from gateway.errors import ConfigError

HANDLERS = Path(__file__).parent.parent / "e2e" / "handlers"
ALLOW = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
ALICE = {"access_key_id": "AKIDALICE", "secret_access_key": "s", "arn": "arn:aws:iam::123456789012:user/alice"}


def load(data: dict[str, Any], base_dir: Path | None = None) -> GatewayConfig:
    return GatewayConfig.from_mapping(data, source="gateway.toml", base_dir=base_dir or HANDLERS)


def fn(**extra: Any) -> dict[str, Any]:
    return {"handler": "raw.echo_event", "code_uri": str(HANDLERS), **extra}


@pytest.mark.parametrize(("data", "key", "problem"), [
    ({"identities": [{**ALICE, "policies": ["{not json"]}]}, "identities[0].policies[0]", "not valid JSON"),
    ({"identities": [{**ALICE, "policies": ['{"Statement": {"Effect": "Allow", "Action": "*"}}']}]},
     "identities[0].policies[0]", "Statement[0]: needs exactly one of Resource and NotResource"),
    ({"identities": [{**ALICE, "policies": [json.dumps({"Statement": {
        "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}})]}]},
     "identities[0].policies[0]", "must not specify a principal"),
    ({"identities": [{**ALICE, "policies": ["missing.json"]}]}, "identities[0].policies[0]",
     "cannot read the policy file 'missing.json'"),
    ({"identities": [{**ALICE, "arn": "arn:aws:iam::123456789012:role/dev"}]}, "identities[0].arn",
     "is a role: requests are signed by a role session"),
    ({"identities": [{**ALICE, "arn": "alice"}]}, "identities[0].arn", "is not an IAM or STS ARN"),
    ({"identities": [{**ALICE, "secret_access_key": ""}]}, "identities[0].secret_access_key", "must not be empty"),
    ({"identities": [ALICE, {**ALICE, "arn": "arn:aws:iam::123456789012:user/bob"}]},
     "identities[1].access_key_id", "'AKIDALICE' is already used by identities[0]"),
    ({"identities": [{**ALICE, "password": "x"}]}, "identities[0].password", "unknown key"),
    ({"functions": {"app": fn(policy=ALLOW)}}, "functions.app.policy", "exactly one of Principal and NotPrincipal"),
    ({"functions": {"app": fn(policy='{"Version": "2012-10-17", "Statement": []}')}}, "functions.app.policy",
     "Statement must be"),
    ({"functions": {"app": fn()}, "http_apis": [{"listen": "127.0.0.1:0", "authorizers": {
        "j": {"type": "jwt", "issuer": "http://127.0.0.1:1", "audience": ["a"]}},
        "routes": [{"route": "GET /x", "function": "app", "authorizer": "j", "authorization": "AWS_IAM"}]}]},
     "http_apis[0].routes[0].authorizer", "cannot also use authorization = 'AWS_IAM'"),
    ({"functions": {"app": fn()}, "rest_apis": [{"listen": "127.0.0.1:0", "routes": [
        {"method": "GET", "path": "/x", "function": "app", "authorization": "IAM"}]}]},
     "rest_apis[0].routes[0].authorization", "must be one of 'NONE', 'AWS_IAM'"),
])
def test_bad_iam_config_names_the_key(data: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(data)
    assert caught.value.key == key
    assert problem in caught.value.problem


def test_policy_files_are_read_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "alice.json").write_text(ALLOW)
    resource = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl", "Resource": "*"}]})
    (tmp_path / "app-policy.json").write_text(resource)
    config = load({"identities": [{**ALICE, "policies": "policies/alice.json"}],
                   "functions": {"app": fn(policy="app-policy.json")}}, tmp_path)
    # The text replaces the path: nothing reads the files after load.
    assert config.identities[0].policies == (ALLOW,)
    assert config.functions["app"].policy == resource
    directory = IamDirectory.from_config(config, environ={})
    identity = directory.identity("AKIDALICE")
    assert identity is not None and identity.principal.username == "alice"
    assert [p.name for p in identity.policies] == ["identities[0].policies[0]"]
    policy = directory.resource_policy("app")
    assert policy is not None and policy.name == "functions.app.policy"


def test_secrets_stay_out_of_reprs() -> None:
    config = load({"identities": [{**ALICE, "secret_access_key": "very-secret"}]})
    assert "very-secret" not in repr(config)
    directory = IamDirectory.from_config(config, environ={})
    assert "very-secret" not in repr(directory.credentials("AKIDALICE"))


def test_trusted_local_credentials(tmp_path: Path) -> None:
    config = load({"gateway": {"trust_local_credentials": True, "account_id": "111122223333"}})
    environ = {"AWS_ACCESS_KEY_ID": "AKIDLOCAL", "AWS_SECRET_ACCESS_KEY": "x", "HOME": str(tmp_path)}
    identity = IamDirectory.from_config(config, environ=environ).identity("AKIDLOCAL")
    assert identity is not None and identity.principal.arn == "arn:aws:iam::111122223333:root"
    assert len(IamDirectory.from_config(config, environ={"HOME": str(tmp_path)})) == 0
    untrusted = load({})
    assert len(IamDirectory.from_config(untrusted, environ=environ)) == 0
