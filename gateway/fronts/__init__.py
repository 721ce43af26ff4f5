"""The front doors. ``FRONTS`` maps a config section's kind to its front class (STYLE H11)."""

from __future__ import annotations

from typing import Any

from gateway.auth.identities import IamDirectory
from gateway.config import GatewayConfig
from gateway.fronts.admin import AdminFront
from gateway.fronts.alb import AlbFront
from gateway.fronts.base import BaseFront
from gateway.fronts.function_url import FunctionUrlFront
from gateway.fronts.http_api import HttpApiFront
from gateway.fronts.lambda_api import LambdaApiFront
from gateway.fronts.rest_api import RestApiFront
from gateway.functions import FunctionsService
from gateway.queue import AsyncQueue

FRONTS: dict[str, Any] = {
    "http_api": HttpApiFront,
    "rest_api": RestApiFront,
    "alb": AlbFront,
    "function_url": FunctionUrlFront,
    "admin": AdminFront,
    "lambda_api": LambdaApiFront,
}
#: the fronts that apply IAM auth (AWS_IAM routes, function URLs, the Lambda API's auth = "AWS_IAM").
IAM_FRONTS = frozenset({"http_api", "rest_api", "function_url", "lambda_api"})


def build_fronts(config: GatewayConfig, functions: FunctionsService, *,
                 queue: AsyncQueue | None = None) -> list[tuple[Any, BaseFront]]:
    """Every configured front as (its config section, the front), in file order.

    The IAM directory (identities, resource-based policies, the local credential chain) is built
    once and given to the fronts that check SigV4 callers."""
    from edge.distribution import DistributionFront  # here: edge/ imports gateway.fronts.base

    FRONTS.setdefault("distribution", DistributionFront)
    iam = IamDirectory.from_config(config)
    # Distributions reach other fronts (their origins) by name; the map is filled once all are built.
    by_name: dict[str, BaseFront] = {}
    extra: dict[str, dict[str, Any]] = {kind: {"iam": iam} for kind in IAM_FRONTS}
    extra["distribution"] = {"fronts": by_name}
    # The admin listener clears distributions' edge caches (invalidations).
    extra["admin"] = {"fronts": by_name, "distributions": [(d.name, d.distribution_id) for d in config.distributions]}
    # Event invocations go to the durable queue (gateway/queue.py); the admin listener shows its status.
    queue = queue if queue is not None else AsyncQueue(functions, config)
    extra.setdefault("lambda_api", {})["queue"] = queue
    extra.setdefault("admin", {})["queue"] = queue
    built = [(cfg, FRONTS[kind](cfg, functions, config.gateway, **extra.get(kind, {})))
             for kind, cfg in config.fronts()]
    by_name.update((front.name, front) for _, front in built)
    return built


__all__ = ["FRONTS", "BaseFront", "build_fronts"]
