"""Config of functions' concurrency, role, layers, versions and aliases; qualified names in fronts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gateway.config import AliasConfig, GatewayConfig, RoleKeys, load_config
from gateway.errors import ConfigError

APP = """
[functions.app]
handler = "app.handler"
code_uri = "code"
memory_size = 256
environment = { COLOUR = "red" }
reserved_concurrency = 10
provisioned_concurrency = 1
role = "inherit"
layers = ["layers/common"]
versions."1" = { code_uri = "build/v1" }
versions."2" = { code_uri = "build/v2", environment = { COLOUR = "green" }, provisioned_concurrency = 0 }
aliases.live = { version = "1", additional_version_weights = { "2" = 0.1 } }
aliases.edge = { version = "$LATEST" }
"""

F = "[functions.f]\nhandler = 'a.b'\ncode_uri = 'code'\n"


def write(tmp_path: Path, text: str) -> Path:
    for directory in ("code", "build/v1", "build/v2", "layers/common", "layers/other"):
        (tmp_path / directory).mkdir(parents=True, exist_ok=True)
    path = tmp_path / "gateway.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_versions_inherit_every_setting_they_do_not_name(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[gateway]\nconcurrency_limit = 50\n" + APP))
    assert config.gateway.concurrency_limit == 50
    app = config.functions["app"]
    assert (app.reserved_concurrency, app.provisioned_concurrency, app.role) == (10, 1, "inherit")
    assert app.layers == ((tmp_path / "layers" / "common").resolve(),)
    one, two = app.versions["1"], app.versions["2"]
    assert (one.name, one.version, two.version, app.version) == ("app", "1", "2", "$LATEST")
    assert one.code_uri == (tmp_path / "build" / "v1").resolve()
    assert (one.memory_size, one.environment, one.role, one.layers) == (256, {"COLOUR": "red"}, "inherit", app.layers)
    assert (two.environment, two.provisioned_concurrency, one.provisioned_concurrency) == ({"COLOUR": "green"}, 0, 1)
    # Function-wide settings are the function's, not copied into its versions.
    assert (one.reserved_concurrency, one.versions, one.aliases) == (None, {}, {})
    assert app.aliases == {"live": AliasConfig(version="1", additional_version_weights={"2": 0.1}),
                           "edge": AliasConfig(version="$LATEST")}


def test_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "[functions.f]\nhandler = 'a.b'\ncode_uri = 'code'\n"))
    f = config.functions["f"]
    assert config.gateway.concurrency_limit == 1000
    assert (f.reserved_concurrency, f.provisioned_concurrency, f.role, f.layers, f.versions, f.aliases) == \
        (None, 0, None, (), {}, {})


def test_role_table(tmp_path: Path) -> None:
    text = F + "role = { access_key_id = 'AKIA1', secret_access_key = 's' }\n"
    role = load_config(write(tmp_path, text)).functions["f"].role
    assert role == RoleKeys(access_key_id="AKIA1", secret_access_key="s")


@pytest.mark.parametrize("reference", ["app", "app:$LATEST", "app:1", "app:2", "app:live", "app:edge"])
def test_fronts_may_name_a_version_or_an_alias(tmp_path: Path, reference: str) -> None:
    front = f'[[http_apis]]\nlisten = "127.0.0.1:0"\nroutes = [{{ route = "$default", function = "{reference}" }}]\n'
    assert load_config(write(tmp_path, APP + front)).http_apis[0].routes[0].function == reference


V123 = F + "versions = { '1' = {}, '2' = {}, '3' = {} }\n"


def live(version: str, weights: str) -> str:
    return f"aliases.live = {{ version = '{version}', additional_version_weights = {{ {weights} }} }}\n"


@pytest.mark.parametrize(("extra", "message"), [
    ("[gateway]\nconcurrency_limit = 0\n", "gateway.concurrency_limit: must be 1 or more"),
    (F + "role = 'inherited'\n", 'functions.f.role: must be "inherit", the ARN of an [[identities]] entry'),
    (F + "role = 5\n", "functions.f.role: must be a string, not an integer"),
    (F + "role = { access_key_id = 'AKIA' }\n", "functions.f.role.secret_access_key: is required"),
    (F + "role = { access_key_id = '', secret_access_key = 's' }\n", "functions.f.role.access_key_id: must not be"),
    (F + "role = { access_key_id = 'a', secret_access_key = 's', region = 'x' }\n",
     "functions.f.role.region: unknown"),
    (F + "layers = ['nowhere']\n", "functions.f.layers[0]: directory"),
    (F + "layers = ['code', 'code', 'code', 'code', 'code', 'code']\n",
     "functions.f.layers: a function can use at most 5"),
    (F + "reserved_concurrency = 1001\n",
     "functions.f.reserved_concurrency: must be between 0 and gateway.concurrency_limit (1000)"),
    (F + "reserved_concurrency = -1\n", "functions.f.reserved_concurrency: must be between 0"),
    (F + "provisioned_concurrency = -1\n", "functions.f.provisioned_concurrency: must be 0 or more"),
    (F + "reserved_concurrency = 2\nprovisioned_concurrency = 3\n",
     "functions.f.provisioned_concurrency: 3 provisioned (the function and its versions together) is over "
     "reserved_concurrency 2"),
    (F + "reserved_concurrency = 2\nprovisioned_concurrency = 1\nversions = { '1' = {}, '2' = {} }\n",
     "functions.f.provisioned_concurrency: 3 provisioned"),
    ("[gateway]\nconcurrency_limit = 10\n" + F + "reserved_concurrency = 6\n"
     "[functions.g]\nhandler = 'a.b'\ncode_uri = 'code'\nprovisioned_concurrency = 5\n",
     "functions.g.provisioned_concurrency: the functions reserve 11 in total"),
    (F + "versions = { v1 = {} }\n", "functions.f.versions.v1: version names are numbers"),
    (F + "versions = { '1' = { reserved_concurrency = 1 } }\n",
     "functions.f.versions.1.reserved_concurrency: is a setting of the whole function, not of a version"),
    (F + "versions = { '1' = { aliases = {} } }\n", "functions.f.versions.1.aliases: is a setting of the whole"),
    (F + "versions = { '1' = { timeout = 0 } }\n", "functions.f.versions.1.timeout: must be between 1 and 900"),
    (F + "versions = { '1' = { code_uri = 'gone' } }\n", "functions.f.versions.1.code_uri: directory"),
    (F + "versions = { '1' = { colour = 'x' } }\n", "functions.f.versions.1.colour: unknown key"),
    (F + "versions = { '1' = 'build/v1' }\n", "functions.f.versions.1: must be a table, not a string"),
    (F + "aliases = { '7' = { version = '$LATEST' } }\n", "functions.f.aliases.7: alias names are"),
    (F + "aliases = { live = { version = '3' } }\n",
     "functions.f.aliases.live.version: unknown version '3' (versions: $LATEST)"),
    (F + "aliases = { live = {} }\n", "functions.f.aliases.live.version: is required"),
    (V123 + live("1", "'2' = 0.1, '3' = 0.1"),
     "functions.f.aliases.live.additional_version_weights: an alias routes to at most two versions"),
    (V123 + live("$LATEST", "'1' = 0.5"), "functions.f.aliases.live: a weighted alias cannot use $LATEST"),
    (V123 + live("1", "'1' = 0.5"), "functions.f.aliases.live.additional_version_weights.1: is the alias's own"),
    (V123 + live("1", "'4' = 0.5"), "functions.f.aliases.live.additional_version_weights.4: unknown version '4'"),
    (V123 + live("1", "'2' = 1.5"), "functions.f.aliases.live.additional_version_weights.2: must be between 0.0"),
    (F + "versions = { '1' = {}, '2' = { role = 'inherit' } }\n" + live("1", "'2' = 0.5"),
     "functions.f.aliases.live.additional_version_weights.2: both versions of a weighted alias must have the same"),
    (APP + '[[http_apis]]\nlisten = "127.0.0.1:0"\nroutes = [{ route = "$default", function = "app:3" }]\n',
     "http_apis[0].routes[0].function: function 'app' has no version or alias '3' (it has: $LATEST, 1, 2, live, "),
    (APP + '[[http_apis]]\nlisten = "127.0.0.1:0"\nroutes = [{ route = "$default", function = "nope:live" }]\n',
     "http_apis[0].routes[0].function: unknown function 'nope' (functions: app)"),
    (APP + '[[albs]]\nlisten = "127.0.0.1:0"\ndefault_function = "app:prod"\n',
     "albs[0].default_function: function 'app' has no version or alias 'prod'"),
    (APP + '[[function_urls]]\nlisten = "127.0.0.1:0"\nfunction = "app:1"\n',
     "function_urls[0].function: a function URL can point to $LATEST or an alias, not to a version"),
])
def test_errors_name_the_key(tmp_path: Path, extra: str, message: str) -> None:
    path = write(tmp_path, extra)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


@pytest.mark.parametrize("reference", ["app:live", "app:$LATEST", "app"])
def test_function_urls_may_name_an_alias_or_latest(tmp_path: Path, reference: str) -> None:
    text = APP + f'[[function_urls]]\nlisten = "127.0.0.1:0"\nfunction = "{reference}"\n'
    assert load_config(write(tmp_path, text)).function_urls[0].function == reference


def test_role_may_name_an_identity_by_arn(tmp_path: Path) -> None:
    """Issue 3, execution role: an [[identities]] ARN gives the function that identity's keys."""
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return None\n")
    identity = {"access_key_id": "AKIDALICE", "secret_access_key": "alice-secret", "session_token": "tok",
                "arn": "arn:aws:iam::123456789012:user/alice"}
    config = GatewayConfig.from_mapping({
        "identities": [identity],
        "functions": {"f": {"handler": "app.handler", "code_uri": ".", "role": identity["arn"],
                            "versions": {"1": {}}}},
    }, base_dir=tmp_path)
    keys = RoleKeys(access_key_id="AKIDALICE", secret_access_key="alice-secret", session_token="tok")
    assert config.functions["f"].role == keys
    assert config.functions["f"].versions["1"].role == keys
    with pytest.raises(ConfigError, match=r"functions\.f\.role: no \[\[identities\]\] entry has the ARN"):
        GatewayConfig.from_mapping({
            "functions": {"f": {"handler": "app.handler", "code_uri": ".", "role": "arn:aws:iam::1:user/bob"}},
        }, base_dir=tmp_path)
    with pytest.raises(ConfigError, match=r'functions\.f\.role: must be "inherit", the ARN'):
        GatewayConfig.from_mapping({
            "functions": {"f": {"handler": "app.handler", "code_uri": ".", "role": "alice"}},
        }, base_dir=tmp_path)
