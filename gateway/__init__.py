"""lambda-gateway: AWS's HTTP front doors for Lambda handlers, on your machine."""

from __future__ import annotations

__version__ = "0.1.0"

from gateway.config import GatewayConfig, load_config

__all__ = ["GatewayConfig", "create_app", "load_config", "main"]


def __getattr__(name: str) -> object:
    # create_app and main pull in the server stack; import them only when asked for.
    if name == "create_app":
        from gateway.app import create_app

        return create_app
    if name == "main":
        from gateway.__main__ import main

        return main
    raise AttributeError(name)
