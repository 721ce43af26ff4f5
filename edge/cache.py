"""The edge cache: CloudFront's cache keys, TTLs, hits, refresh hits and invalidations.

Pure policy (``CachePolicy``: cache key, which responses are cached and for how long) and a
memory-bounded store (``EdgeCache``: a cachetools ``LRUCache`` sized by bytes) with an injected
clock; the distribution front (edge/distribution.py) calls ``lookup`` after the viewer-request
stage and ``store`` after the origin-response stage, so the origin hooks run only on a miss.
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Expiration.html
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/controlling-the-cache-key.html
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/HTTPStatusCodes.html
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/custom-error-pages-expiration.html
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal

from cachetools import LRUCache

from edge.config import BehaviorConfig
from edge.events import EdgeRequest, EdgeResponse
from gateway.models import Headers

Clock = Callable[[], float]
#: (method class, uri, query string part, header values, cookie values)
CacheKey = tuple[str, str, str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]
State = Literal["Hit", "RefreshHit", "Miss", "Error"]

#: 2xx/3xx statuses stored under the TTL rules. RFC 9111 §4.2.2's heuristically cacheable codes plus
#: CloudFront's "3xx are cached according to the settings and the headers" (http-3xx-status-codes.html);
#: 206 is left out because range requests bypass the cache here [INF].
CACHED_STATUSES = frozenset({200, 203, 204, 300, 301, 302, 303, 307, 308})
#: "CloudFront caches 307 and 308 responses only when you include the Cache-Control header".
NEEDS_CACHE_CONTROL = frozenset({307, 308})
#: Errors CloudFront always caches, for the error caching minimum TTL (HTTPStatusCodes.html,
#: "always caches": 404 405 414 500 501 502 503 504; 410 from custom-error-pages-expiration.html's
#: no-store rule naming it [INF]). 416 is never cached.
ALWAYS_CACHED_ERRORS = frozenset({404, 405, 410, 414, 500, 501, 502, 503, 504})
#: Errors cached only when the origin sends Cache-Control max-age or s-maxage (HTTPStatusCodes.html).
ERRORS_CACHED_WITH_MAX_AGE = frozenset({400, 403, 412, 415})
#: For these errors no-store, no-cache and private are respected; for the others they are ignored
#: and the error is cached for the error caching minimum TTL (custom-error-pages-expiration.html).
ERRORS_HONOURING_NO_STORE = frozenset({404, 410, 414, 501})
NOT_CACHED_DIRECTIVES = ("no-store", "no-cache", "private")
#: Fixed cost charged per entry on top of its body and headers, so tiny bodies still count [INF].
ENTRY_OVERHEAD = 256


def cache_control(headers: Headers) -> dict[str, str | None]:
    """``Cache-Control`` directives (every occurrence, comma-separated), lowercased names; quoted
    values unquoted. Lenient like caches are: a malformed part is skipped."""
    out: dict[str, str | None] = {}
    for name, value in headers:
        if name.lower() != "cache-control":
            continue
        for part in value.split(","):
            directive, eq, arg = part.strip().partition("=")
            if directive:
                out.setdefault(directive.lower(), arg.strip().strip('"') if eq else None)
    return out


def _seconds(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _header(headers: Headers, name: str) -> str | None:
    lname = name.lower()
    return next((v for n, v in headers if n.lower() == lname), None)


def _http_date(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def origin_ttl(headers: Headers, now: float) -> float | None:
    """The origin's own lifetime: ``s-maxage`` beats ``max-age`` beats ``Expires`` (measured from the
    origin's ``Date``, else ``now``, epoch seconds; an invalid Expires is already expired, RFC 9111
    §5.3). None when the origin says nothing."""
    cc = cache_control(headers)
    for directive in ("s-maxage", "max-age"):
        if directive in cc:
            seconds = _seconds(cc[directive])
            return float(seconds) if seconds is not None else 0.0
    expires = _header(headers, "expires")
    if expires is None:
        return None
    at = _http_date(expires)
    if at is None:
        return 0.0
    date = _http_date(_header(headers, "date"))
    return max(0.0, at - (date if date is not None else now))


@dataclass(frozen=True, slots=True, kw_only=True)
class CachePolicy:
    """One behavior's cache policy, compiled at start. ``enabled`` False is CloudFront's managed
    CachingDisabled policy (a behavior without a ``cache`` table)."""

    enabled: bool = False
    min_ttl: int = 0
    default_ttl: int = 86400
    max_ttl: int = 31536000
    query_behavior: str = "none"
    query_strings: frozenset[str] = frozenset()
    headers: tuple[str, ...] = ()
    cookie_behavior: str = "none"
    cookies: frozenset[str] = frozenset()
    cached_methods: frozenset[str] = frozenset({"GET", "HEAD"})
    error_min_ttl: int = 10

    @classmethod
    def from_behavior(cls, behavior: BehaviorConfig, error_min_ttl: int = 10) -> CachePolicy:
        cfg = behavior.cache
        methods = frozenset(m.upper() for m in behavior.cached_methods)
        if cfg is None:
            return cls(cached_methods=methods, error_min_ttl=error_min_ttl)
        return cls(
            enabled=True, min_ttl=cfg.min_ttl, default_ttl=cfg.default_ttl, max_ttl=cfg.max_ttl,
            query_behavior=cfg.query_string_behavior or ("whitelist" if cfg.query_strings else "none"),
            query_strings=frozenset(cfg.query_strings), headers=tuple(sorted({h.lower() for h in cfg.headers})),
            cookie_behavior=cfg.cookie_behavior or ("whitelist" if cfg.cookies else "none"),
            cookies=frozenset(cfg.cookies), cached_methods=methods, error_min_ttl=error_min_ttl,
        )

    # -- the cache key ---------------------------------------------------------------------------

    def key(self, req: EdgeRequest) -> CacheKey | None:
        """The cache key of a request after viewer-request, or None when it is not looked up: caching
        disabled, a method outside the cached methods, or a range request (passed to the origin [INF]).
        GET and HEAD share a key (a HEAD is answered from a stored GET); OPTIONS has its own."""
        method = req.method.upper()
        if not self.enabled or method not in self.cached_methods or method not in ("GET", "HEAD", "OPTIONS"):
            return None
        if _header(req.headers, "range") is not None:
            return None
        values = tuple((h, ",".join(v for n, v in req.headers if n.lower() == h)) for h in self.headers)
        encoding = _accept_encoding(req.headers)
        if encoding:
            values += (("accept-encoding", encoding),)
        return ("OPTIONS" if method == "OPTIONS" else "GET", req.uri, self._query(req.querystring), values,
                self._cookies(req.headers))

    def _query(self, querystring: str) -> str:
        """The query string part of the key: names are case-sensitive, parameters keep their order [INF]."""
        if self.query_behavior == "all" or not querystring:
            return querystring if self.query_behavior != "none" else ""
        if self.query_behavior == "none":
            return ""
        keep = self.query_behavior == "whitelist"
        return "&".join(p for p in querystring.split("&") if (p.partition("=")[0] in self.query_strings) == keep)

    def _cookies(self, headers: Headers) -> tuple[tuple[str, str], ...]:
        if self.cookie_behavior == "none":
            return ()
        pairs = []
        for name, value in headers:
            if name.lower() != "cookie":
                continue
            for part in value.split(";"):
                cname, _, cvalue = part.strip().partition("=")
                if not cname:
                    continue
                listed = cname in self.cookies
                if self.cookie_behavior == "all" or listed == (self.cookie_behavior == "whitelist"):
                    pairs.append((cname, cvalue))
        return tuple(sorted(pairs))

    # -- how long ----------------------------------------------------------------------------------

    def ttl(self, status: int, headers: Headers, now: float) -> float | None:
        """Seconds CloudFront keeps this response, or None when it does not store it.

        Expiration.html: without Cache-Control/Expires, max(min_ttl, default_ttl); with s-maxage,
        max-age or Expires, that value bounded by max_ttl and raised to min_ttl; no-cache, no-store or
        private: not cached when min_ttl is 0, else cached for min_ttl (API_CachePolicyConfig.html).
        Errors (custom-error-pages-expiration.html): the error caching minimum TTL, or the header's
        value (at most max_ttl) when larger.
        """
        cc = cache_control(headers)
        header_ttl = origin_ttl(headers, now)
        refused = any(d in cc for d in NOT_CACHED_DIRECTIVES)
        if status in ALWAYS_CACHED_ERRORS or status in ERRORS_CACHED_WITH_MAX_AGE:
            if status in ERRORS_CACHED_WITH_MAX_AGE and "max-age" not in cc and "s-maxage" not in cc:
                return None
            if status in ERRORS_HONOURING_NO_STORE and refused:
                return None
            if header_ttl is None:
                return float(self.error_min_ttl)
            return max(min(header_ttl, float(self.max_ttl)), float(self.error_min_ttl))
        if status not in CACHED_STATUSES or (status in NEEDS_CACHE_CONTROL and not cc):
            return None
        if refused:
            return float(self.min_ttl) if self.min_ttl > 0 else None
        if header_ttl is None:
            return float(max(self.min_ttl, self.default_ttl))
        return min(max(header_ttl, float(self.min_ttl)), float(self.max_ttl))


DISABLED = CachePolicy()


@dataclass(slots=True, kw_only=True)
class CacheEntry:
    """A stored response: what the origin-response stage produced, and the origin's own status."""

    response: EdgeResponse
    origin_status: int
    stored: float
    expires: float
    size: int = 0
    etag: str | None = None
    last_modified: str | None = None
    #: the response's headers without the origin's Age: the hit path only appends its own
    headers: Headers = ()
    #: the viewer answer's encoded headers for a hit, made at the first by the distribution (edge/distribution.py)
    viewer_head: list[tuple[bytes, bytes]] | None = None

    def __post_init__(self) -> None:
        # Derived once at store time, so that a hit does no header scans of its own.
        headers = self.response.headers
        self.size = _size(self.response)
        self.etag = _header(headers, "etag")
        self.last_modified = _header(headers, "last-modified")
        self.headers = tuple((n, v) for n, v in headers if n.lower() != "age")


def hit_state(origin_status: int) -> State:
    """X-Cache for a hit: an origin error served from the cache stays ``Error`` [INF]."""
    return "Hit" if origin_status < 400 else "Error"


@dataclass(frozen=True, slots=True)
class Lookup:
    """The outcome of a cache lookup: a fresh ``hit`` to answer with, a ``stale`` entry to revalidate,
    or neither (a miss; ``key`` None: the request is not cacheable at all)."""

    policy: CachePolicy
    key: CacheKey | None
    hit: EdgeResponse | None = None
    hit_origin_status: int = 200
    stale: CacheEntry | None = None
    revalidating: bool = False
    #: a HEAD's answer has no body: it is never stored under the GET key [INF]
    head: bool = False

    @property
    def state(self) -> State:
        return hit_state(self.hit_origin_status)

    def conditional(self, req: EdgeRequest) -> Lookup:
        """The lookup to go on with, marked as revalidating when a stale entry has a validator and the
        viewer sent no conditional header of its own (then its 304 is the viewer's, not ours)."""
        entry = self.stale
        if entry is None or not (entry.etag or entry.last_modified):
            return self
        if any(n.lower() in ("if-none-match", "if-modified-since") for n, _ in req.headers):
            return self
        return dataclasses.replace(self, revalidating=True)

    def origin_request(self, req: EdgeRequest) -> EdgeRequest:
        """The request with CloudFront's If-None-Match / If-Modified-Since when revalidating (added
        before origin-request, where a function may read but not change them)."""
        if not self.revalidating or self.stale is None:
            return req
        extra: list[tuple[str, str]] = []
        if self.stale.etag:
            extra.append(("If-None-Match", self.stale.etag))
        if self.stale.last_modified:
            extra.append(("If-Modified-Since", self.stale.last_modified))
        return dataclasses.replace(req, headers=(*req.headers, *extra))


def _accept_encoding(headers: Headers) -> str:
    """Accept-Encoding normalized as CloudFront does when a cache policy enables gzip and Brotli (so an
    encoded object never reaches a viewer that cannot decode it): ``br,gzip``, ``gzip``, ``br`` or
    nothing. https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/ServingCompressedFiles.html
    [INF: always on here, as in the managed CachingOptimized policy]"""
    tokens = set()
    for name, value in headers:
        if name.lower() == "accept-encoding":
            for part in value.split(","):
                coding, _, params = part.strip().partition(";")
                if coding.strip().lower() in ("br", "gzip") and params.replace(" ", "") not in ("q=0", "q=0.0"):
                    tokens.add(coding.strip().lower())
    return ",".join(sorted(tokens))


def _size(response: EdgeResponse) -> int:
    return len(response.body) + sum(len(n) + len(v) for n, v in response.headers) + ENTRY_OVERHEAD


def fully_buffered(response: EdgeResponse) -> bool:
    """Only a response whose whole body is in memory is stored. Seam for streamed bodies: an
    ``EdgeResponse`` carrying a stream (a ``stream`` attribute set, or a body that is not bytes) is
    passed on without being cached."""
    return isinstance(response.body, bytes | bytearray) and getattr(response, "stream", None) is None


#: Headers a 304 refreshes on the stored object (RFC 9111 §4.3.4).
REFRESHED = ("cache-control", "expires", "etag", "last-modified", "date")


class EdgeCache:
    """One distribution's cache: at most ``max_bytes`` of bodies and headers, least recently used out
    first (CloudFront "might evict the file ... to make room for files requested more recently").

    ``clock`` (monotonic seconds) times entries; ``wall`` (epoch seconds) reads Expires and Date.
    """

    def __init__(self, max_bytes: int, *, clock: Clock, wall: Clock) -> None:
        self.entries: LRUCache[CacheKey, CacheEntry] = LRUCache(maxsize=max_bytes, getsizeof=lambda e: e.size)
        self.clock = clock
        self.wall = wall

    def lookup(self, policy: CachePolicy, req: EdgeRequest) -> Lookup:
        key = policy.key(req)
        if key is None:
            return Lookup(policy, None)
        head = req.method.upper() == "HEAD"
        entry = self.entries.get(key)
        if entry is None:
            return Lookup(policy, key, head=head)
        now = self.clock()
        if now >= entry.expires:
            return Lookup(policy, key, stale=entry, head=head).conditional(req)
        return Lookup(policy, key, hit=self._answer(entry, req, now), hit_origin_status=entry.origin_status,
                      head=head)

    def fresh(self, policy: CachePolicy, req: EdgeRequest) -> tuple[CacheEntry, float] | None:
        """The fresh entry ``lookup`` would answer an unconditional request with, and the time it read
        (for Age); None when ``lookup`` would not give a hit."""
        key = policy.key(req)
        entry = None if key is None else self.entries.get(key)
        if entry is None:
            return None
        now = self.clock()
        return None if now >= entry.expires else (entry, now)

    def store(self, lookup: Lookup, response: EdgeResponse, origin_status: int) -> tuple[EdgeResponse, int, State]:
        """After origin-response: keep the response when the policy says so. Returns what the viewer gets,
        the origin status it stands for and the X-Cache state (RefreshHit when our revalidation got 304)."""
        key, now = lookup.key, self.clock()
        if key is not None and lookup.revalidating and lookup.stale is not None and response.status == 304:
            entry = self._refresh(lookup.policy, key, lookup.stale, response, now)
            return self._answer(entry, None, now), entry.origin_status, "RefreshHit"
        if key is not None and lookup.stale is not None and origin_status >= 500:
            # An expired object whose origin now fails is served for the error caching minimum TTL
            # (HTTPStatusCodes.html, "The requested object is in the edge cache"); X-Cache Hit [INF].
            entry = lookup.stale
            entry.expires = now + lookup.policy.error_min_ttl
            return self._answer(entry, None, now), entry.origin_status, "Hit"
        state: State = "Miss" if origin_status < 400 else "Error"
        # A 304 answering the viewer's own conditional request leaves the stored object alone.
        if key is None or lookup.head or response.status == 304 or not fully_buffered(response):
            return response, origin_status, state
        ttl = lookup.policy.ttl(response.status, response.headers, self.wall())
        if ttl is None or (ttl <= 0 and _header(response.headers, "etag") is None
                           and _header(response.headers, "last-modified") is None):
            # TTL 0 is kept only with a validator: the next request revalidates it [INF].
            self.entries.pop(key, None)
            return response, origin_status, state
        entry = CacheEntry(response=response, origin_status=origin_status, stored=now, expires=now + ttl)
        try:
            self.entries[key] = entry
        except ValueError:  # larger than the whole cache: passed on, not stored
            self.entries.pop(key, None)
        return response, origin_status, state

    def _refresh(
        self, policy: CachePolicy, key: CacheKey, entry: CacheEntry, not_modified: EdgeResponse, now: float
    ) -> CacheEntry:
        fresh = {n.lower() for n, _ in not_modified.headers if n.lower() in REFRESHED}
        headers = tuple((n, v) for n, v in entry.response.headers if n.lower() not in fresh)
        headers += tuple((n, v) for n, v in not_modified.headers if n.lower() in fresh)
        response = dataclasses.replace(entry.response, headers=headers)
        ttl = policy.ttl(response.status, response.headers, self.wall())
        refreshed = CacheEntry(response=response, origin_status=entry.origin_status, stored=now,
                               expires=now + (ttl or 0.0))
        if ttl is None:
            self.entries.pop(key, None)
        else:
            self.entries[key] = refreshed
        return refreshed

    def _answer(self, entry: CacheEntry, req: EdgeRequest | None, now: float) -> EdgeResponse:
        """The stored response with ``Age``; a 304 when the viewer's If-None-Match names its ETag."""
        headers = (*entry.headers, ("Age", str(max(0, int(now - entry.stored)))))
        wanted = "" if req is None or not entry.etag else ",".join(
            v for n, v in req.headers if n.lower() == "if-none-match")
        if wanted and entry.etag and entry.response.status == 200:
            tags = {t.strip().removeprefix("W/") for t in wanted.split(",") if t.strip()}
            if "*" in tags or entry.etag.removeprefix("W/") in tags:
                kept = tuple((n, v) for n, v in headers if n.lower() in (*REFRESHED, "age", "vary"))
                return EdgeResponse(status=304, headers=kept, status_description="Not Modified")
        return dataclasses.replace(entry.response, headers=headers)

    def invalidate(self, paths: Iterable[str]) -> int:
        """Remove every object matching one of CloudFront invalidation ``paths`` (``*`` only at the end;
        a path without ``?`` names the object without a query string; every header/cookie variant goes).
        Returns how many entries were removed."""
        matchers = [(p[:-1], True) if p.endswith("*") else (p, False) for p in paths]
        doomed = []
        for key in list(self.entries.keys()):
            target = key[1] + (f"?{key[2]}" if key[2] else "")
            if any(target.startswith(p) if prefix else target == p for p, prefix in matchers):
                doomed.append(key)
        for key in doomed:
            self.entries.pop(key, None)
        return len(doomed)

