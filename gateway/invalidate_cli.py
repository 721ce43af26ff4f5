"""``gateway invalidate DISTRIBUTION PATH [PATH ...] [--config FILE | --admin URL]``.

Clears objects from a running gateway's edge cache, as ``aws cloudfront create-invalidation
--distribution-id ID --paths ...`` does on CloudFront: it posts the paths to the admin listener
(``POST /distributions/<name>/invalidations``, gateway/fronts/admin.py), found from the config's
``[admin] listen`` (``--config``, default the built-in example) or given with ``--admin``, and
prints the CreateInvalidation result. Paths are CloudFront's: they start with ``/`` and ``*`` may
only end one (quote them in the shell: ``'/img/*'``).

Exit status: 0 done, 1 the gateway refused (unknown distribution, bad path) or cannot be reached,
2 no admin listener is configured or the config cannot be used.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from gateway.config import load_config
from gateway.errors import ConfigError

EXAMPLE = Path(__file__).parent / "example" / "gateway.toml"


def add_invalidate_parser(sub: Any) -> None:
    """The ``invalidate`` subcommand on ``gateway``'s argument parser."""
    cmd = sub.add_parser("invalidate", help="clear paths from a running gateway's edge cache (CloudFront "
                                            "CreateInvalidation)")
    cmd.add_argument("distribution", help="the distribution's name (or its distribution_id)")
    cmd.add_argument("paths", nargs="+", help="invalidation paths such as '/index.html' or '/img/*'")
    cmd.add_argument("--config", "-c", default=None,
                     help="gateway.toml of the running gateway, for its [admin] listen (default: the built-in "
                          "example)")
    cmd.add_argument("--admin", default=None, help="the admin listener's URL, e.g. http://127.0.0.1:3099")
    cmd.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the gateway (default 10)")


def admin_url(args: argparse.Namespace) -> str:
    """The admin listener's base URL, from ``--admin`` or the config's ``[admin] listen``."""
    if args.admin:
        return str(args.admin).rstrip("/")
    path = Path(args.config) if args.config else EXAMPLE
    config = load_config(path)
    listen = config.admin.listen
    if listen is None:
        raise ConfigError("no [admin] listen: the invalidation goes through the running gateway's admin "
                          "listener; set [admin] listen = \"127.0.0.1:3099\" or pass --admin URL",
                          key="admin.listen", file=str(path))
    host = "127.0.0.1" if listen.host in ("0.0.0.0", "") else "::1" if listen.host == "::" else listen.host
    return f"http://{f'[{host}]' if ':' in host else host}:{listen.port}"


def run_invalidate(args: argparse.Namespace) -> int:
    """Run ``gateway invalidate``; returns the exit status."""
    try:
        base = admin_url(args)
    except ConfigError as exc:
        print(f"gateway invalidate: config error: {exc}", file=sys.stderr)
        return 2
    url = f"{base}/distributions/{quote(args.distribution, safe='')}/invalidations"
    batch = {"Paths": {"Quantity": len(args.paths), "Items": list(args.paths)},
             "CallerReference": f"cli-{time.time():.0f}"}
    try:
        response = httpx.post(url, json=batch, timeout=args.timeout, trust_env=False)
    except httpx.HTTPError as exc:
        print(f"gateway invalidate: cannot reach the gateway's admin listener at {base}: {exc}", file=sys.stderr)
        return 1
    if response.status_code == 201:
        print(response.text)
        return 0
    if response.status_code == 404:
        print(f"gateway invalidate: no distribution {args.distribution!r} at {base} (or that address is not "
              "a gateway's admin listener)", file=sys.stderr)
        return 1
    try:
        message = json.loads(response.content)["Error"]["Message"]
    except (ValueError, KeyError, TypeError):
        message = response.text.strip()
    print(f"gateway invalidate: refused ({response.status_code}): {message}", file=sys.stderr)
    return 1
