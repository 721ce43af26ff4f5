"""Run a gateway in a background thread: for the pytest plugin and for anyone's integration tests.

    with start_gateway(load_config("gateway.toml"), ephemeral_ports=True) as gw:
        httpx.get(gw.urls["web"] + "items/1")
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gateway.config import Address, GatewayConfig


@dataclasses.dataclass
class RunningGateway:
    """A started gateway. ``urls`` maps each front's name to its base URL (with the stage, ending in /)."""

    urls: dict[str, str]
    ports: dict[str, int]
    app: Any


def _zero_ports(config: GatewayConfig) -> GatewayConfig:
    def zero(fronts: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(dataclasses.replace(f, listen=Address(f.listen.host if f.listen else "127.0.0.1", 0))
                     for f in fronts)

    return dataclasses.replace(
        config, http_apis=zero(config.http_apis), rest_apis=zero(config.rest_apis),
        albs=zero(config.albs), function_urls=zero(config.function_urls), distributions=zero(config.distributions),
        admin=zero((config.admin,))[0] if config.admin.listen is not None else config.admin,
        lambda_api=zero((config.lambda_api,))[0] if config.lambda_api.listen is not None else config.lambda_api,
    )


def base_url(kind: str, cfg: Any, address: Address) -> str:
    host = f"[{address.host}]" if ":" in address.host else address.host
    url = f"http://{host}:{address.port}/"
    if kind == "rest_api" or (kind == "http_api" and cfg.stage != "$default"):
        url += f"{cfg.stage}/"
    return url


@contextmanager
def start_gateway(
    config: GatewayConfig, *, ephemeral_ports: bool = True, server: str | None = None, log: Any = None
) -> Iterator[RunningGateway]:
    """Serve ``config`` in a thread until the block ends. Port numbers become 0 when ``ephemeral_ports``."""
    from gateway.app import create_app
    from gateway.functions import FunctionsService
    from gateway.server import bind_all, serve

    if ephemeral_ports:
        config = _zero_ports(config)
    functions = FunctionsService(config.functions, config.gateway, log=log)
    app = create_app(config, functions)
    bound = bind_all(app)
    urls: dict[str, str] = {}
    ports: dict[str, int] = {}
    for (cfg, front), b in zip(app.fronts, bound, strict=True):
        urls[front.name] = base_url(front.kind, cfg, b.address)
        ports[front.name] = b.address.port
    ready = threading.Event()
    state: dict[str, Any] = {}

    def runner() -> None:
        async def main() -> None:
            state["loop"] = asyncio.get_running_loop()
            state["stop"] = asyncio.Event()
            await serve(app, bound, server=server or config.gateway.server, shutdown=state["stop"],
                        on_ready=ready.set)

        try:
            asyncio.run(main())
        except BaseException as exc:  # surfaced to the caller below
            state["error"] = exc
            ready.set()

    thread = threading.Thread(target=runner, name="lambda-gateway", daemon=True)
    thread.start()
    ready.wait(30)
    if "error" in state:
        raise RuntimeError("the gateway failed to start") from state["error"]
    try:
        yield RunningGateway(urls=urls, ports=ports, app=app)
    finally:
        loop = state.get("loop")
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(state["stop"].set)
        thread.join(15)
