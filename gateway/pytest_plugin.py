"""A pytest plugin (entry point ``lambda_gateway``): start the gateway once per test session.

In pytest.ini / pyproject ``[tool.pytest.ini_options]``::

    lambda_gateway_config = "gateway.toml"
    lambda_gateway_ephemeral_ports = true      # default: free ports, so parallel runs never clash

Fixtures: ``lambda_gateway`` (the running gateway, with ``.urls``) and ``gateway_url``, a function
``gateway_url("web")`` returning that front's base URL (stage included, ending in ``/``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lambda-gateway")
    group.addoption("--lambda-gateway-config", default=None, help="gateway.toml to serve for the test session")
    parser.addini("lambda_gateway_config", "gateway.toml to serve for the test session", default="")
    parser.addini("lambda_gateway_ephemeral_ports", "serve on free ports instead of the configured ones",
                  type="bool", default=True)


@pytest.fixture(scope="session")
def lambda_gateway(pytestconfig: pytest.Config) -> Iterator[Any]:
    from pathlib import Path

    from gateway.config import load_config
    from gateway.testing import start_gateway

    path = pytestconfig.getoption("--lambda-gateway-config") or pytestconfig.getini("lambda_gateway_config")
    if not path:
        pytest.fail("lambda-gateway: set lambda_gateway_config in the pytest ini or pass --lambda-gateway-config")
    full = Path(path)
    if not full.is_absolute():
        full = Path(pytestconfig.rootpath) / full
    config = load_config(full)
    with start_gateway(config, ephemeral_ports=bool(pytestconfig.getini("lambda_gateway_ephemeral_ports"))) as gw:
        yield gw


@pytest.fixture(scope="session")
def gateway_url(lambda_gateway: Any) -> Callable[[str], str]:
    def url(front: str) -> str:
        try:
            return str(lambda_gateway.urls[front])
        except KeyError:
            known = ", ".join(sorted(lambda_gateway.urls))
            raise LookupError(f"no front named {front!r} (fronts: {known})") from None

    return url
