"""Execution role: the credentials a handler finds, and the gateway's own that it must not find."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gateway.config import RoleKeys
from gateway.functions.credentials import resolve_chain, without_gateway_credentials
from gateway.functions.invokers import INVOKERS
from tests.functions.conftest import ServiceFactory, function

ISOLATIONS = [kind for kind in ("inprocess", "process") if kind in INVOKERS]

NAMES = [
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_EC2_METADATA_DISABLED",
]
NO_FILES = {"AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_CONFIG_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true"}
SDK_HANDLER = '''
import botocore.session

def handler(event, context):
    credentials = botocore.session.get_session().get_credentials()
    return None if credentials is None else [credentials.access_key, credentials.method]
'''


@pytest.fixture
def developer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A developer's machine: personal keys in the environment and in ~/.aws (HOME is a temporary directory)."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(
        "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = default-secret\n\n"
        "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = dev-secret\naws_session_token = dev-token\n")
    (home / ".aws" / "config").write_text(
        "[profile cfg]\naws_access_key_id = AKIACFG\naws_secret_access_key = cfg-secret\n")
    monkeypatch.setenv("HOME", str(home))
    for name in ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                 "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAGATEWAY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "gateway-secret")
    monkeypatch.setenv("AWS_PROFILE", "dev")
    return home


async def seen(service: object, name: str) -> dict[str, str | None]:
    result = await service.invoke(name, json.dumps({"names": NAMES}).encode())  # type: ignore[attr-defined]
    return dict(json.loads(result.payload))


@pytest.mark.parametrize("isolation", ISOLATIONS)
async def test_without_a_role_a_handler_finds_no_credentials_at_all(
    developer: Path, service_factory: ServiceFactory, isolation: str
) -> None:
    service = service_factory(function("env", "environ", isolation=isolation))
    assert await seen(service, "env") == {
        "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_SESSION_TOKEN": None, "AWS_PROFILE": None,
        **NO_FILES,
    }
    await service.aclose()
    assert (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_PROFILE"]) == ("AKIAGATEWAY", "dev")  # given back
    assert "AWS_CONFIG_FILE" not in os.environ


@pytest.mark.parametrize("isolation", ISOLATIONS)
async def test_an_sdk_in_the_handler_finds_only_the_roles_keys(
    developer: Path, tmp_path: Path, service_factory: ServiceFactory, isolation: str
) -> None:
    pytest.importorskip("botocore")
    (tmp_path / "lgw_sdk.py").write_text(SDK_HANDLER)
    keys = RoleKeys(access_key_id="AKIAROLE", secret_access_key="role-secret", session_token="role-token")
    service = service_factory(function("none", "lgw_sdk.handler", code_uri=tmp_path, isolation=isolation),
                              function("keys", "lgw_sdk.handler", code_uri=tmp_path, role=keys, isolation=isolation))
    assert (await service.invoke("none", b"{}")).payload == b"null"
    assert json.loads((await service.invoke("keys", b"{}")).payload) == ["AKIAROLE", "env"]


async def test_explicit_keys(developer: Path, service_factory: ServiceFactory) -> None:
    with_token = RoleKeys(access_key_id="AKIAROLE", secret_access_key="role-secret", session_token="role-token")
    without = RoleKeys(access_key_id="AKIAROLE2", secret_access_key="role-secret2")
    service = service_factory(function("a", "environ", role=with_token), function("b", "environ", role=without))
    assert await seen(service, "a") == {
        "AWS_ACCESS_KEY_ID": "AKIAROLE", "AWS_SECRET_ACCESS_KEY": "role-secret", "AWS_SESSION_TOKEN": "role-token",
        "AWS_PROFILE": None, **NO_FILES,
    }
    assert (await seen(service, "b"))["AWS_SESSION_TOKEN"] is None


async def test_inherit_takes_the_gateways_chain_once_at_start(
    developer: Path, monkeypatch: pytest.MonkeyPatch, service_factory: ServiceFactory
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    service = service_factory(function("env", "environ", role="inherit"))  # the profile "dev", from ~/.aws
    monkeypatch.setenv("AWS_PROFILE", "default")  # later changes do not matter: resolved once
    assert await seen(service, "env") == {
        "AWS_ACCESS_KEY_ID": "AKIADEV", "AWS_SECRET_ACCESS_KEY": "dev-secret", "AWS_SESSION_TOKEN": "dev-token",
        "AWS_PROFILE": None, **NO_FILES,
    }
    assert service.check() == []


async def test_inherit_without_credentials_warns_and_sets_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, service_factory: ServiceFactory
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
                 "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    service = service_factory(function("env", "environ", role="inherit"))
    assert (await seen(service, "env"))["AWS_ACCESS_KEY_ID"] is None
    assert service.check() == [
        'role = "inherit", but the gateway has no AWS credentials (environment variables, shared credentials '
        "file or config file for AWS_PROFILE); those functions get none"
    ]


# -- the chain, on its own -------------------------------------------------------------------


def test_chain_order_environment_then_credentials_file_then_config_file(developer: Path) -> None:
    env = {"HOME": str(developer)}
    assert resolve_chain({**env, "AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s",
                          "AWS_SECURITY_TOKEN": "legacy", "AWS_PROFILE": "dev"}) == \
        RoleKeys(access_key_id="AKIAENV", secret_access_key="s", session_token="legacy")
    assert resolve_chain(env) == RoleKeys(access_key_id="AKIADEFAULT", secret_access_key="default-secret")
    assert resolve_chain({**env, "AWS_DEFAULT_PROFILE": "dev"}).access_key_id == "AKIADEV"  # type: ignore[union-attr]
    assert resolve_chain({**env, "AWS_PROFILE": "cfg"}).access_key_id == "AKIACFG"  # type: ignore[union-attr]
    assert resolve_chain({**env, "AWS_PROFILE": "nobody"}) is None
    assert resolve_chain({**env, "AWS_ACCESS_KEY_ID": "AKIAHALF"}).access_key_id == "AKIADEFAULT"  # type: ignore[union-attr]


def test_chain_honours_the_file_variables_and_refuses_broken_files(tmp_path: Path) -> None:
    (tmp_path / "creds").write_text("[default]\naws_access_key_id=AKIAFILE\naws_secret_access_key=x\n")
    (tmp_path / "broken").write_text("aws_access_key_id = no section\n")
    env = {"HOME": str(tmp_path / "nowhere")}
    assert resolve_chain({**env, "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "creds")}).access_key_id == "AKIAFILE"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="cannot read AWS credentials from"):
        resolve_chain({**env, "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "broken")})
    assert resolve_chain(env) is None


def test_a_child_environment_starts_without_the_gateways_credentials() -> None:
    assert without_gateway_credentials({"PATH": "/bin", "AWS_ACCESS_KEY_ID": "x", "AWS_PROFILE": "p",
                                        "AWS_REGION": "eu-west-1"}) == {"PATH": "/bin", "AWS_REGION": "eu-west-1"}
