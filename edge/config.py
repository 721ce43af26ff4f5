"""``[[distributions]]``: CloudFront distributions as frozen dataclasses, checked once at load.

``gateway/config.py`` keeps the raw tables and calls ``check_distributions`` from ``config_checks.finish``, so the
edge package is imported only when a config has distributions settings to convert, and the same
converter (unknown keys and wrong types name the dotted key) does the work.
https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionConfig.html
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from gateway.config import Address
from gateway.config_checks import derived_id
from gateway.config_convert import Converter
from gateway.errors import ConfigError

if TYPE_CHECKING:
    from gateway.config import GatewayConfig

Fail = Callable[[str, str], ConfigError]

#: CloudFront accepts exactly these three AllowedMethods sets (and the first two as CachedMethods).
#: https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_AllowedMethods.html
METHOD_SETS = (
    frozenset({"GET", "HEAD"}),
    frozenset({"GET", "HEAD", "OPTIONS"}),
    frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginConfig:
    """One origin: exactly one of ``url`` (custom origin), ``front`` (a front of this gateway by
    name, called in process) or ``directory`` (a local directory served as an S3 origin).

    ``origin_path`` is CloudFront's OriginPath (prefixed to the viewer path); ``custom_headers`` are
    added to every origin request. Timeouts default to CloudFront's ConnectionTimeout (10 s) and
    OriginReadTimeout (30 s).
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesOrigin.html
    """

    id: str
    url: str | None = None
    front: str | None = None
    directory: Path | None = None
    origin_path: str = ""
    custom_headers: Mapping[str, str] = field(default_factory=dict)
    connect_timeout: float = 10.0
    read_timeout: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CachePolicyConfig:
    """A behavior's cache policy, as CloudFront's CachePolicyConfig (the edge cache: edge/cache.py).

    TTLs in seconds (MinTTL <= DefaultTTL <= MaxTTL). The cache key is the path plus the
    ``query_strings``, ``headers`` and ``cookies`` named (their values are forwarded to the origin as
    well). ``query_string_behavior`` / ``cookie_behavior`` are CloudFront's QueryStringBehavior /
    CookieBehavior: ``none``, ``whitelist`` (the names listed; the default when a list is given),
    ``allExcept`` (all but the names listed) or ``all``. A behavior without a ``cache`` table is not
    cached at all (CloudFront's managed CachingDisabled policy).
    https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CachePolicyConfig.html
    """

    min_ttl: int = 0
    default_ttl: int = 86400
    max_ttl: int = 31536000
    query_strings: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    cookies: tuple[str, ...] = ()
    query_string_behavior: Literal["none", "whitelist", "allExcept", "all"] | None = None
    cookie_behavior: Literal["none", "whitelist", "allExcept", "all"] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionAssociation:
    """A function at one event: ``function`` (Lambda@Edge, a function of this gateway) or ``js``
    (a CloudFront Function with ``runtime`` and ``kvs``). ``include_body`` for request events."""

    function: str | None = None
    js: Path | None = None
    runtime: Literal["cloudfront-js-1.0", "cloudfront-js-2.0"] = "cloudfront-js-2.0"
    kvs: Path | None = None
    include_body: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BehaviorConfig:
    """A cache behavior. ``path`` is a path pattern (``*``, ``?``); ``"*"`` is the default behavior.

    ``origin_request_policy``: ``AllViewerExceptHostHeader`` (the default here: every viewer header
    but Host), ``AllViewer`` (Host too) or ``headers`` (only ``origin_request_headers``).
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html
    """

    path: str
    origin: str
    allowed_methods: tuple[str, ...] = ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE")
    cached_methods: tuple[str, ...] = ("GET", "HEAD")
    cache: CachePolicyConfig | None = None
    origin_request_policy: Literal["AllViewerExceptHostHeader", "AllViewer", "headers"] = (
        "AllViewerExceptHostHeader")
    origin_request_headers: tuple[str, ...] = ()
    viewer_request: FunctionAssociation | None = None
    origin_request: FunctionAssociation | None = None
    origin_response: FunctionAssociation | None = None
    viewer_response: FunctionAssociation | None = None
    include_body: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DistributionConfig:
    """``[[distributions]]``. ``distribution_id`` and ``domain_name`` are derived from the name
    unless given; ``pop`` is what X-Amz-Cf-Pop reports."""

    name: str = ""
    listen: Address | None = None
    origins: tuple[OriginConfig, ...] = ()
    behaviors: tuple[BehaviorConfig, ...] = ()
    distribution_id: str = ""
    domain_name: str = ""
    pop: str = "IAD89-C1"
    #: the edge cache's memory bound (bodies and headers), least recently used objects out first
    cache_size_mb: float = 64.0
    #: how long origin errors CloudFront caches stay cached (ErrorCachingMinTTL, 10 s by default)
    error_caching_min_ttl: int = 10


def check_distributions(config: GatewayConfig, fail: Fail, raw: Any) -> tuple[DistributionConfig, ...]:
    """Convert and check ``distributions``; fronts and functions named must exist."""
    conv = Converter(file=config.source, base_dir=config.base_dir)
    dists: tuple[DistributionConfig, ...] = conv.convert(list(raw), tuple[DistributionConfig, ...], "distributions")
    front_names = {cfg.name for kind, cfg in config.fronts() if kind != "distribution"}
    out = []
    for i, dist in enumerate(dists):
        key = f"distributions[{i}]"
        name = dist.name or f"distribution-{i + 1}"
        ids = _check_origins(dist, key, fail, front_names)
        if not dist.behaviors:
            raise fail(f"{key}.behaviors", "needs at least the default behavior (path = \"*\")")
        if dist.cache_size_mb <= 0:
            raise fail(f"{key}.cache_size_mb", "must be more than 0")
        if dist.error_caching_min_ttl < 0:
            raise fail(f"{key}.error_caching_min_ttl", "must be 0 or more")
        for j, behavior in enumerate(dist.behaviors):
            _check_behavior(behavior, f"{key}.behaviors[{j}]", fail, ids, config.functions)
        defaults = [b for b in dist.behaviors if b.path == "*"]
        if len(defaults) != 1:
            raise fail(f"{key}.behaviors", "needs exactly one default behavior (path = \"*\")")
        # The default cache behavior is always evaluated last, whatever its place in the list.
        behaviors = tuple(b for b in dist.behaviors if b.path != "*") + tuple(defaults)
        dist_id = dist.distribution_id or "E" + derived_id("distribution", name, length=13).upper()
        domain = dist.domain_name or f"d{derived_id('cloudfront', name, length=13)}.cloudfront.net"
        out.append(dataclasses.replace(dist, name=name, behaviors=behaviors, distribution_id=dist_id,
                                       domain_name=domain))
    return tuple(out)


def origin_fronts(raw: Any) -> set[str]:
    """Names of the fronts some distribution uses as an origin (they may omit ``listen``)."""
    names: set[str] = set()
    for dist in raw if isinstance(raw, list | tuple) else ():
        origins = dist.origins if isinstance(dist, DistributionConfig) else dist.get("origins", ())
        for origin in origins:
            front = origin.front if isinstance(origin, OriginConfig) else origin.get("front")
            if isinstance(front, str):
                names.add(front)
    return names


def _check_origins(dist: DistributionConfig, key: str, fail: Fail, fronts: set[str]) -> set[str]:
    ids: set[str] = set()
    for j, origin in enumerate(dist.origins):
        okey = f"{key}.origins[{j}]"
        if origin.id in ids:
            raise fail(f"{okey}.id", f"origin id {origin.id!r} is used twice")
        ids.add(origin.id)
        kinds = [k for k in ("url", "front", "directory") if getattr(origin, k) is not None]
        if len(kinds) != 1:
            raise fail(okey, "needs exactly one of 'url', 'front' or 'directory'")
        if origin.url is not None:
            parts = urlsplit(origin.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise fail(f"{okey}.url", f"{origin.url!r} is not an http:// or https:// URL")
        if origin.front is not None and origin.front not in fronts:
            raise fail(f"{okey}.front", f"no front named {origin.front!r} (known: {', '.join(sorted(fronts))})")
        if origin.directory is not None and not origin.directory.is_dir():
            raise fail(f"{okey}.directory", f"directory {str(origin.directory)!r} does not exist")
        # OriginPath: starts with '/', no trailing '/' (API_Origin.html).
        if origin.origin_path and (not origin.origin_path.startswith("/") or origin.origin_path.endswith("/")):
            raise fail(f"{okey}.origin_path", "must start with '/' and not end with '/'")
        if not 1 <= origin.connect_timeout <= 10:
            raise fail(f"{okey}.connect_timeout", "must be between 1 and 10 seconds (CloudFront's range)")
        if not 1 <= origin.read_timeout <= 180:
            raise fail(f"{okey}.read_timeout", "must be between 1 and 180 seconds (CloudFront's range)")
    return ids


def _check_behavior(b: BehaviorConfig, key: str, fail: Fail, origins: set[str], functions: Mapping[str, Any]) -> None:
    if b.origin not in origins:
        raise fail(f"{key}.origin", f"no origin with id {b.origin!r}")
    if not re.fullmatch(r"[A-Za-z0-9_\-.*$/~\"'@:+?&=%]{1,255}", b.path):
        raise fail(f"{key}.path", f"{b.path!r} is not a CloudFront path pattern")
    allowed = frozenset(m.upper() for m in b.allowed_methods)
    if allowed not in METHOD_SETS:
        raise fail(f"{key}.allowed_methods", "must be GET,HEAD or GET,HEAD,OPTIONS or all seven methods")
    if frozenset(m.upper() for m in b.cached_methods) not in METHOD_SETS[:2]:
        raise fail(f"{key}.cached_methods", "must be GET,HEAD or GET,HEAD,OPTIONS")
    if b.cache is not None:
        _check_cache(b.cache, f"{key}.cache", fail)
    for event in ("viewer_request", "origin_request", "origin_response", "viewer_response"):
        assoc: FunctionAssociation | None = getattr(b, event)
        if assoc is None:
            continue
        if (assoc.function is None) == (assoc.js is None):
            raise fail(f"{key}.{event}", "needs exactly one of 'function' (Lambda@Edge) or 'js' (CloudFront Function)")
        if assoc.js is not None:
            if event.startswith("origin"):
                raise fail(f"{key}.{event}.js", "CloudFront Functions run at viewer events only")
        from edge.cfjs import check_association  # js file, runtime, kvs; the code loads (edge/cfjs)

        check_association(assoc, f"{key}.{event}", fail)
        if assoc.function is not None and assoc.function.split(":")[0] not in functions:
            raise fail(f"{key}.{event}.function", f"no function named {assoc.function!r}")
        if assoc.include_body and event.endswith("response"):
            raise fail(f"{key}.{event}.include_body", "only request events can include the body")


def _check_cache(c: CachePolicyConfig, key: str, fail: Fail) -> None:
    """CloudFront refuses MinTTL > DefaultTTL or DefaultTTL > MaxTTL (InvalidTTLOrder)."""
    for name in ("min_ttl", "default_ttl", "max_ttl"):
        if getattr(c, name) < 0:
            raise fail(f"{key}.{name}", "must be 0 or more")
    if not c.min_ttl <= c.default_ttl <= c.max_ttl:
        raise fail(key, f"needs min_ttl <= default_ttl <= max_ttl (got {c.min_ttl}, {c.default_ttl}, {c.max_ttl})")
    for name, behavior, names in (("query_strings", c.query_string_behavior, c.query_strings),
                                  ("cookies", c.cookie_behavior, c.cookies)):
        if behavior in ("whitelist", "allExcept") and not names:
            raise fail(f"{key}.{name}", f"{behavior!r} needs a list of names")
        if behavior in ("none", "all") and names:
            raise fail(f"{key}.{name}", f"must be empty when the behavior is {behavior!r}")
