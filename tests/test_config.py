"""Config loading (STYLE H8): one path, frozen dataclasses, errors naming the file and dotted key."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gateway.config import Address, GatewayConfig, load_config
from gateway.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

BASE = """
[functions.echo]
handler = "app.handler"
code_uri = "."
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_config_example_loads() -> None:
    config = load_config(ROOT / "config.example.toml")
    assert sorted(config.functions) == ["echo"]
    assert config.functions["echo"].code_uri == (ROOT / "gateway" / "example").resolve()
    assert [a.name for a in config.http_apis] == ["web"]
    assert config.http_apis[0].listen == Address("127.0.0.1", 3000)
    assert [r.route for r in config.http_apis[0].routes] == ["GET /items/{id}", "ANY /legacy/{proxy+}", "$default"]
    assert config.http_apis[0].routes[1].payload_format_version == "1.0"
    assert config.rest_apis[0].binary_media_types == ("image/*", "application/octet-stream")
    assert [r.priority for r in config.albs[0].rules] == [5, 10, 20]
    assert config.albs[0].rules[1].path == ("/api/*", "/v2/*")
    assert config.albs[0].rules[0].path == ("/health",)
    assert config.function_urls[0].auth_type == "NONE"
    assert len(config.function_urls[0].url_id) == 32
    site = config.distributions[0]
    assert (site.name, site.listen) == ("site", Address("127.0.0.1", 3005))
    assert [(o.id, o.url, o.front) for o in site.origins] == [("dev", "http://127.0.0.1:5173", None),
                                                               ("api", None, "web")]
    assert [(b.path, b.origin) for b in site.behaviors] == [("/api/*", "api"), ("*", "dev")]
    cache = site.behaviors[1].cache
    assert cache is not None and (cache.default_ttl, cache.query_strings) == (86400, ("v",))


def test_builtin_example_loads() -> None:
    config = load_config(ROOT / "gateway" / "example" / "gateway.toml")
    ports = [cfg.listen.port for _kind, cfg in config.fronts()]
    assert ports == [3000, 3001, 3002, 3003, 3010]


def test_defaults_and_derived_ids(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, BASE + '[[http_apis]]\nlisten = "127.0.0.1:4000"\n'))
    fn = config.functions["echo"]
    assert (fn.name, fn.timeout, fn.memory_size, fn.isolation) == ("echo", 3.0, 128, "process")
    api = config.http_apis[0]
    assert (api.name, api.stage, api.integration_timeout) == ("http-api-1", "$default", 30.0)
    assert len(api.api_id) == 10 and api.api_id.isalnum()
    # Stable across loads, so hosts and ARNs do not change between runs.
    assert load_config(tmp_path / "gateway.toml").http_apis[0].api_id == api.api_id


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[gateway]\nregoin = 'x'\n", "gateway.regoin: unknown key"),
        ("[gateway]\naccount_id = 123\n", "gateway.account_id: must be a string, not an integer"),
        ("[gateway]\naccount_id = '12'\n", "gateway.account_id: must be 12 digits"),
        ("[functions.bad]\nhandler = 'app'\n", "functions.bad.handler: 'app' is not module.attribute"),
        ("[functions.bad]\nhandler = 'a.b'\ncode_uri = 'nowhere'\n", "functions.bad.code_uri: directory"),
        ("[functions.bad]\nhandler = 'a.b'\ntimeout = 0\n", "functions.bad.timeout: must be between 1 and 900"),
        ("[functions.bad]\nhandler = 'a.b'\nmemory_size = 64\n", "functions.bad.memory_size: must be between 128"),
        ("[functions.bad]\ncode_uri = '.'\n", "functions.bad.handler: is required"),
        ('[[http_apis]]\nlisten = "127.0.0.1:4000"\nroutes = [{route = "GET /x", function = "nope"}]\n',
         "http_apis[0].routes[0].function: unknown function 'nope' (functions: echo)"),
        ('[[http_apis]]\nlisten = "127.0.0.1:4000"\nroutes = [{route = "FETCH /x", function = "echo"}]\n',
         "http_apis[0].routes[0].route: 'FETCH /x' is not a route key"),
        ('[[http_apis]]\nlisten = "nohost"\n', "http_apis[0].listen: 'nohost' is not host:port"),
        ('[[http_apis]]\nlisten = 3000\n', 'http_apis[0].listen: must be a "host:port" string, not an integer'),
        ('[[rest_apis]]\nlisten = "127.0.0.1:4000"\nstage = "$default"\n', "rest_apis[0].stage: REST API stages"),
        ('[[http_apis]]\nlisten = "127.0.0.1:4000"\n[[albs]]\nlisten = "127.0.0.1:4000"\n',
         "albs[0].listen: 127.0.0.1:4000 is already used by http_apis[0]"),
        ('[[albs]]\nlisten = "127.0.0.1:4000"\nrules = [{priority = 1}]\n',
         "albs[0].rules[0]: needs exactly one of 'function' or 'fixed_response'"),
        ('[[function_urls]]\nfunction = "echo"\n', "function_urls[0].listen: is required"),
        ('[[function_urls]]\nfunction = "echo"\nlisten = "127.0.0.1:4000"\nauth_type = "IAM"\n',
         "function_urls[0].auth_type: must be one of 'NONE', 'AWS_IAM', not 'IAM'"),
        ("[distributions]\n", "distributions: must be a list, not a table"),
        ("[functions.bad]\nhandler = 'a.b'\nenvironment = { AWS_REGION = 'x' }\n",
         "functions.bad.environment.AWS_REGION: is reserved by Lambda"),
    ],
)
def test_config_errors_name_file_and_key(tmp_path: Path, extra: str, message: str) -> None:
    path = write(tmp_path, BASE + extra)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"gateway.toml: not valid TOML"):
        load_config(write(tmp_path, "[gateway\n"))
    with pytest.raises(ConfigError, match=r"missing.toml: file not found"):
        load_config(tmp_path / "missing.toml")


def test_from_mapping_is_frozen() -> None:
    config = GatewayConfig.from_mapping({})
    with pytest.raises(AttributeError):
        config.gateway = None  # type: ignore[misc, assignment]  # deliberately: frozen


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_cli_config_error_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "[gateway]\nregoin = 'x'\n")
    proc = run_cli("serve", "--config", str(path), cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"gateway: config error: {path}: gateway.regoin: unknown key")
    assert "Traceback" not in proc.stderr


def test_cli_port_in_use_exits_2(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        path = write(tmp_path, BASE + f'[[http_apis]]\nlisten = "127.0.0.1:{port}"\n')
        proc = run_cli("serve", "--config", str(path), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"gateway: config error: {path}: http_apis[0].listen: cannot listen on 127.0.0.1:{port}: port in use"
    )
