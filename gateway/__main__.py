"""The command line: ``gateway serve [--config FILE]``. ``main(argv) -> int`` (STYLE H9)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway import __version__
from gateway.config import Address, GatewayConfig, load_config
from gateway.errors import ConfigError
from gateway.functions.logs import LoopWriter, prefixed
from gateway.invalidate_cli import add_invalidate_parser, run_invalidate
from gateway.invoke_cli import add_invoke_parser, run_invoke

EXAMPLE = Path(__file__).parent / "example" / "gateway.toml"
_UNSET: Any = object()

URL_SCHEMES = {"http_api": "HTTP API", "rest_api": "REST API", "alb": "ALB", "function_url": "function URL",
               "admin": "admin", "lambda_api": "Lambda API", "distribution": "CloudFront"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gateway", description="AWS's HTTP front doors for Lambda handlers.")
    parser.add_argument("--version", action="version", version=f"lambda-gateway {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the configured fronts (the built-in example without --config)")
    serve.add_argument("--config", "-c", default=_UNSET, help="gateway.toml (default: the built-in example)")
    serve.add_argument("--server", choices=("hypercorn", "uvicorn"), default=_UNSET,
                       help="the ASGI server (default: [gateway] server, hypercorn)")
    serve.add_argument("--host", default=_UNSET,
                       help="listen on this IP for every front, keeping each front's port (0.0.0.0 in a container)")
    serve.add_argument("--no-access-log", action="store_true", default=_UNSET, help="no access-log lines")
    serve.add_argument("--no-reload", action="store_true", default=_UNSET,
                       help="no hot reload (default: a change under a function's code_uri or layers "
                            "sends new invocations to fresh environments)")
    serve.add_argument("--no-schedules", action="store_true", default=_UNSET,
                       help="functions' schedules do not fire (default: [gateway] schedules, on); "
                            "the admin listener can still run one: POST /schedules/<rule-name>")
    serve.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    add_invoke_parser(sub)
    add_invalidate_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "invoke":
        return run_invoke(args)
    if args.command == "invalidate":
        return run_invalidate(args)
    try:
        config = _load_config(args)
    except ConfigError as exc:
        print(f"gateway: config error: {exc}", file=sys.stderr)
        return 2
    _setup_logging(args.log_level)
    return run(config)


def _load_config(args: argparse.Namespace) -> GatewayConfig:
    config = load_config(EXAMPLE if args.config is _UNSET else args.config)
    settings = config.gateway
    if args.server is not _UNSET:
        settings = dataclasses.replace(settings, server=args.server)
    if args.no_access_log is not _UNSET:
        settings = dataclasses.replace(settings, access_log=False)
    if args.no_reload is not _UNSET:
        settings = dataclasses.replace(settings, reload=False)
    if args.no_schedules is not _UNSET:
        settings = dataclasses.replace(settings, schedules=False)
    config = dataclasses.replace(config, gateway=settings)
    if settings.server == "uvicorn":
        try:
            import uvicorn  # noqa: F401
        except ImportError:
            key = "--server" if args.server is not _UNSET else "gateway.server"
            raise ConfigError("uvicorn is not installed: pip install 'lambda-gateway[fast]'", key=key) from None
    if args.host is not _UNSET:
        config = _with_host(config, args.host)
    return config


def _with_host(config: GatewayConfig, host: str) -> GatewayConfig:
    try:
        Address.parse(f"{host}:0")
    except ValueError as exc:
        raise ConfigError(str(exc), key="--host") from None

    def move(fronts: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(
            dataclasses.replace(f, listen=Address(host, f.listen.port)) if f.listen else f for f in fronts
        )

    return dataclasses.replace(
        config, http_apis=move(config.http_apis), rest_apis=move(config.rest_apis),
        albs=move(config.albs), function_urls=move(config.function_urls), admin=move((config.admin,))[0],
        lambda_api=move((config.lambda_api,))[0], distributions=move(config.distributions),
    )


def _setup_logging(level: str) -> None:
    from gateway.functions import FunctionRecordFilter

    handler = _FlushingHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    # Records logged by in-process handlers reach the function log already; do not print them twice.
    handler.addFilter(FunctionRecordFilter())
    root = logging.getLogger("gateway")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


#: Function log lines reach stderr in batches written by the event loop (see LoopWriter).
_FUNCTION_OUTPUT = LoopWriter(lambda: sys.stderr)


class _FlushingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The gateway's own log lines, after the function lines written before them."""

    def emit(self, record: logging.LogRecord) -> None:
        _FUNCTION_OUTPUT.flush()
        super().emit(record)


def _function_log(name: str, entry: str) -> None:
    _FUNCTION_OUTPUT.write(prefixed(name, entry, 12))


async def _serve(app: Any, bound: Sequence[Any], server: str) -> None:
    from gateway.server import serve

    _FUNCTION_OUTPUT.attach(asyncio.get_running_loop())
    try:
        await serve(app, bound, server=server)  # type: ignore[arg-type]
    finally:
        _FUNCTION_OUTPUT.detach()


def run(config: GatewayConfig) -> int:
    """Bind, print the table, serve until interrupted. Returns the exit status."""
    from gateway.app import create_app
    from gateway.functions import FunctionsService
    from gateway.server import bind_all

    functions = FunctionsService(config.functions, config.gateway, log=_function_log)
    app = create_app(config, functions)
    try:
        bound = bind_all(app)
    except ConfigError as exc:
        print(f"gateway: config error: {exc}", file=sys.stderr)
        return 2
    log = logging.getLogger("gateway")
    for warning in functions.check():
        log.warning("%s", warning)
    print(_table(app, bound), flush=True)
    for line in app.scheduler.startup_lines():  # one per EventBridge schedule
        print(line if config.gateway.schedules else f"{line} [timer off]", flush=True)
    try:
        asyncio.run(_serve(app, bound, config.gateway.server))
    except KeyboardInterrupt:
        pass
    except ConfigError as exc:
        print(f"gateway: config error: {exc}", file=sys.stderr)
        return 2
    return 0


def _table(app: Any, bound: Sequence[Any]) -> str:
    rows = [("front", "kind", "URL", "routes")]
    listening = [(cfg, front) for cfg, front in app.fronts if cfg.listen is not None]  # origin-only: none
    by_front = {id(front): b for (cfg, front), b in zip(listening, bound, strict=True)}
    for cfg, front in app.fronts:
        b = by_front.get(id(front))
        host = "" if b is None else b.address.host if ":" not in b.address.host else f"[{b.address.host}]"
        base = "(origin only)" if b is None else f"http://{host}:{b.address.port}"
        if front.kind == "rest_api":
            base += f"/{cfg.stage}"
        elif front.kind == "http_api" and cfg.stage != "$default":
            base += f"/{cfg.stage}"
        routes = front.describe()
        url = base + "/" if b is not None else base
        rows.append((front.name, URL_SCHEMES.get(front.kind, front.kind), url, routes[0] if routes else ""))
        rows.extend(("", "", "", r) for r in routes[1:])
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip() for r in rows]
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
