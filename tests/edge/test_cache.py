"""The edge cache's pure logic with an injected clock: keys, TTLs, hits, refresh, eviction, invalidation.

Rules: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Expiration.html (TTL table),
custom-error-pages-expiration.html and HTTPStatusCodes.html (errors), controlling-the-cache-key.html.
"""

from __future__ import annotations

import pytest

from edge.cache import CachePolicy, EdgeCache, cache_control, origin_ttl
from edge.config import BehaviorConfig, CachePolicyConfig
from edge.events import EdgeRequest, EdgeResponse
from edge.invalidation import check_invalidation_paths
from gateway.config import GatewayConfig
from gateway.errors import ConfigError

DATE = "Mon, 23 Nov 2026 10:00:00 GMT"
NOW = 1_795_428_000.0  # DATE as epoch seconds


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def policy(**cache: object) -> CachePolicy:
    methods = cache.pop("cached_methods", ("GET", "HEAD"))
    cfg = CachePolicyConfig(**cache)  # type: ignore[arg-type]
    return CachePolicy.from_behavior(BehaviorConfig(path="*", origin="o", cache=cfg,
                                                    cached_methods=methods))  # type: ignore[arg-type]


def req(uri: str = "/a", qs: str = "", method: str = "GET", headers: tuple[tuple[str, str], ...] = ()) -> EdgeRequest:
    return EdgeRequest(method=method, uri=uri, querystring=qs, headers=headers)


def resp(status: int = 200, body: bytes = b"x", *headers: tuple[str, str]) -> EdgeResponse:
    return EdgeResponse(status=status, headers=headers, body=body)


def make_cache(max_bytes: int = 1 << 20) -> tuple[EdgeCache, Clock]:
    clock = Clock()
    return EdgeCache(max_bytes, clock=clock, wall=lambda: NOW), clock


# -- TTLs ---------------------------------------------------------------------------------------


def test_parses_cache_control_directives() -> None:
    assert cache_control((("Cache-Control", 'public, max-age=60, no-cache="set-cookie"'),
                          ("cache-control", "S-MAXAGE=5"))) == {
        "public": None, "max-age": "60", "no-cache": "set-cookie", "s-maxage": "5"}


@pytest.mark.parametrize(("headers", "expected"), [
    ((), None),
    ((("Cache-Control", "max-age=60"),), 60.0),
    ((("Cache-Control", "max-age=60, s-maxage=5"),), 5.0),  # s-maxage beats max-age
    ((("Cache-Control", "max-age=7"), ("Expires", "Mon, 23 Nov 2026 11:00:00 GMT")), 7.0),  # max-age beats Expires
    ((("Expires", "Mon, 23 Nov 2026 10:05:00 GMT"),), 300.0),  # from now without Date
    ((("Expires", "Mon, 23 Nov 2026 09:05:00 GMT"), ("Date", "Mon, 23 Nov 2026 09:00:00 GMT")), 300.0),
    ((("Expires", "0"),), 0.0),  # invalid: already expired
    ((("Cache-Control", "max-age=oops"),), 0.0),
])
def test_origin_ttl(headers: tuple[tuple[str, str], ...], expected: float | None) -> None:
    assert origin_ttl(headers, NOW) == expected


@pytest.mark.parametrize(("ttls", "headers", "expected"), [
    ((0, 86400, 31536000), (), 86400.0),  # no header: default TTL
    ((100, 100, 31536000), (), 100.0),
    ((0, 86400, 31536000), (("Cache-Control", "max-age=60"),), 60.0),
    ((0, 86400, 30), (("Cache-Control", "max-age=60"),), 30.0),  # bounded by max TTL
    ((120, 86400, 31536000), (("Cache-Control", "max-age=60"),), 120.0),  # raised to min TTL
    ((0, 86400, 31536000), (("Cache-Control", "s-maxage=9, max-age=60"),), 9.0),
    ((0, 10, 31536000), (("Expires", "Mon, 23 Nov 2026 10:01:00 GMT"),), 60.0),
    ((0, 10, 20), (("Expires", "Mon, 23 Nov 2026 10:01:00 GMT"),), 20.0),
    ((0, 86400, 31536000), (("Cache-Control", "no-store"),), None),  # min TTL 0: respected
    ((0, 86400, 31536000), (("Cache-Control", "private, max-age=60"),), None),
    ((0, 86400, 31536000), (("Cache-Control", "no-cache"),), None),
    ((30, 86400, 31536000), (("Cache-Control", "no-store"),), 30.0),  # min TTL > 0: cached for min TTL
])
def test_ttl_table(ttls: tuple[int, int, int], headers: tuple[tuple[str, str], ...], expected: float | None) -> None:
    min_ttl, default_ttl, max_ttl = ttls
    p = CachePolicy(enabled=True, min_ttl=min_ttl, default_ttl=default_ttl, max_ttl=max_ttl)
    assert p.ttl(200, headers, NOW) == expected


@pytest.mark.parametrize(("status", "headers", "expected"), [
    (404, (), 10.0),  # error caching minimum TTL
    (503, (), 10.0),
    (404, (("Cache-Control", "max-age=60"),), 60.0),  # the larger of header and error minimum
    (404, (("Cache-Control", "max-age=3"),), 10.0),
    (404, (("Cache-Control", "no-store"),), None),  # 404, 410, 414, 501 respect no-store
    (500, (("Cache-Control", "no-store"),), 10.0),  # the others ignore it
    (403, (), None),  # 400, 403, 412, 415 only with max-age / s-maxage
    (403, (("Cache-Control", "s-maxage=30"),), 30.0),
    (416, (("Cache-Control", "max-age=30"),), None),  # never cached
    (201, (("Cache-Control", "max-age=30"),), None),
    (307, (), None),  # 307/308 only with Cache-Control
    (307, (("Cache-Control", "max-age=30"),), 30.0),
    (301, (), 86400.0),
    (304, (("Cache-Control", "max-age=30"),), None),
])
def test_which_statuses_are_cached(status: int, headers: tuple[tuple[str, str], ...], expected: float | None) -> None:
    assert CachePolicy(enabled=True, error_min_ttl=10).ttl(status, headers, NOW) == expected


# -- keys ---------------------------------------------------------------------------------------


def test_key_holds_only_the_chosen_query_strings_headers_and_cookies() -> None:
    p = policy(query_strings=["v"], headers=["X-Lang"], cookies=["session"])
    r = req("/a", "z=1&v=2&v=3", headers=(("x-lang", "fr"), ("X-Other", "1"), ("Cookie", "session=s1; other=o")))
    assert p.key(r) == ("GET", "/a", "v=2&v=3", (("x-lang", "fr"),), (("session", "s1"),))
    same = req("/a", "v=2&v=3&w=9", headers=(("X-Lang", "fr"), ("Cookie", "other=x; session=s1")))
    assert p.key(same) == p.key(r)
    assert p.key(req("/a", "v=2", headers=(("X-Lang", "fr"),))) != p.key(r)


@pytest.mark.parametrize(("behavior", "names", "expected"), [
    ("all", [], "b=2&a=1"),
    ("none", [], ""),
    ("allExcept", ["b"], "a=1"),
    ("whitelist", ["a"], "a=1"),
])
def test_query_string_behaviors(behavior: str, names: list[str], expected: str) -> None:
    key = policy(query_string_behavior=behavior, query_strings=names).key(req(qs="b=2&a=1"))
    assert key is not None and key[2] == expected


def test_cookie_behaviors() -> None:
    cookie = (("Cookie", "b=2; a=1"),)
    all_key = policy(cookie_behavior="all").key(req(headers=cookie))
    assert all_key is not None and all_key[4] == (("a", "1"), ("b", "2"))
    except_key = policy(cookie_behavior="allExcept", cookies=["a"]).key(req(headers=cookie))
    assert except_key is not None and except_key[4] == (("b", "2"),)


def test_accept_encoding_is_normalized_into_the_key() -> None:
    p = policy()

    def enc(value: str) -> object:
        key = p.key(req(headers=(("Accept-Encoding", value),)))
        return key[3] if key else None

    assert enc("gzip, deflate, br") == enc("br;q=0.9, gzip") == (("accept-encoding", "br,gzip"),)
    assert enc("deflate") == enc("gzip;q=0") == ()
    assert enc("GZIP") == (("accept-encoding", "gzip"),)


def test_uncached_methods_disabled_policy_and_ranges_have_no_key() -> None:
    p = policy()
    assert p.key(req(method="POST")) is None
    assert p.key(req(method="OPTIONS")) is None  # OPTIONS only when in cached_methods
    assert policy(cached_methods=("GET", "HEAD", "OPTIONS")).key(req(method="OPTIONS")) == ("OPTIONS", "/a", "",
                                                                                             (), ())
    assert p.key(req(method="HEAD")) == p.key(req())
    assert p.key(req(headers=(("Range", "bytes=0-1"),))) is None
    assert CachePolicy.from_behavior(BehaviorConfig(path="*", origin="o")).key(req()) is None


# -- the store ----------------------------------------------------------------------------------


def test_miss_store_hit_with_age_then_expiry() -> None:
    cache, clock = make_cache()
    p = policy(default_ttl=60)
    first = cache.lookup(p, req())
    assert first.hit is None and first.stale is None
    answer, status, state = cache.store(first, resp(200, b"body", ("ETag", '"e1"')), 200)
    assert (answer.body, status, state) == (b"body", 200, "Miss")
    clock.t += 59
    hit = cache.lookup(p, req())
    assert hit.hit is not None and hit.state == "Hit" and hit.hit.body == b"body"
    assert ("Age", "59") in hit.hit.headers
    clock.t += 1
    stale = cache.lookup(p, req())
    assert stale.hit is None and stale.stale is not None and stale.revalidating


def test_refresh_hit_on_304_sends_validators_and_takes_new_headers() -> None:
    cache, clock = make_cache()
    p = policy(default_ttl=10)
    cache.store(cache.lookup(p, req()), resp(200, b"old", ("ETag", '"e1"'), ("Last-Modified", DATE),
                                             ("X-Kept", "k")), 200)
    clock.t += 11
    stale = cache.lookup(p, req())
    sent = stale.origin_request(req())
    assert sent.headers == (("If-None-Match", '"e1"'), ("If-Modified-Since", DATE))
    answer, status, state = cache.store(stale, resp(304, b"", ("Cache-Control", "max-age=100"), ("ETag", '"e1"')), 304)
    assert (answer.status, answer.body, status, state) == (200, b"old", 200, "RefreshHit")
    assert dict(answer.headers)["X-Kept"] == "k" and dict(answer.headers)["Cache-Control"] == "max-age=100"
    clock.t += 99
    assert cache.lookup(p, req()).hit is not None  # the 304's max-age now rules


def test_viewer_with_its_own_conditional_is_not_revalidated_for() -> None:
    cache, clock = make_cache()
    p = policy(default_ttl=1)
    cache.store(cache.lookup(p, req()), resp(200, b"v", ("ETag", '"e1"')), 200)
    clock.t += 2
    mine = req(headers=(("If-None-Match", '"zz"'),))
    stale = cache.lookup(p, mine)
    assert not stale.revalidating and stale.origin_request(mine) == mine
    assert cache.store(stale, resp(304, b""), 304)[2] == "Miss"
    assert cache.lookup(p, req()).stale is not None  # the viewer's 304 leaves the stored object alone


def test_viewer_if_none_match_on_a_hit_gets_304() -> None:
    cache, _ = make_cache()
    p = policy()
    cache.store(cache.lookup(p, req()), resp(200, b"v", ("ETag", '"e1"'), ("Content-Type", "text/plain")), 200)
    hit = cache.lookup(p, req(headers=(("If-None-Match", '"e1"'),))).hit
    assert hit is not None and hit.status == 304 and hit.body == b""
    assert dict(hit.headers) == {"ETag": '"e1"', "Age": "0"}


def test_no_store_and_uncacheable_requests_are_not_stored() -> None:
    cache, _ = make_cache()
    p = policy()
    cache.store(cache.lookup(p, req("/n")), resp(200, b"v", ("Cache-Control", "no-store")), 200)
    assert cache.lookup(p, req("/n")).hit is None
    cache.store(cache.lookup(p, req("/p", method="POST")), resp(200, b"v"), 200)
    assert cache.lookup(p, req("/p")).hit is None
    cache.store(cache.lookup(p, req("/h", method="HEAD")), resp(200, b""), 200)  # HEAD answers are not stored
    assert cache.lookup(p, req("/h")).hit is None
    cache.store(cache.lookup(p, req("/z")), resp(200, b"v", ("Cache-Control", "max-age=0")), 200)
    assert len(cache.entries) == 0  # TTL 0 without a validator: nothing to revalidate


def test_error_hit_keeps_the_error_state_and_stale_is_served_when_the_origin_fails() -> None:
    cache, clock = make_cache()
    p = policy(default_ttl=5)
    assert cache.store(cache.lookup(p, req("/e")), resp(404, b"nf"), 404)[2] == "Error"
    assert cache.lookup(p, req("/e")).state == "Error"
    cache.store(cache.lookup(p, req()), resp(200, b"good"), 200)
    clock.t += 6
    answer, status, state = cache.store(cache.lookup(p, req()), resp(502, b"bad"), 502)
    assert (answer.body, status, state) == (b"good", 200, "Hit")
    clock.t += 9
    assert cache.lookup(p, req()).hit is not None  # for the error caching minimum TTL
    clock.t += 1
    assert cache.lookup(p, req()).hit is None


def test_memory_bound_evicts_least_recently_used() -> None:
    cache, _ = make_cache(max_bytes=3 * (1000 + 256))
    p = policy()
    for name in ("a", "b", "c"):
        cache.store(cache.lookup(p, req(f"/{name}")), resp(200, b"x" * 1000), 200)
    assert cache.lookup(p, req("/a")).hit is not None  # /a is now the most recently used
    cache.store(cache.lookup(p, req("/d")), resp(200, b"x" * 1000), 200)
    assert [cache.lookup(p, req(f"/{n}")).hit is not None for n in "abcd"] == [True, False, True, True]
    assert cache.entries.currsize <= cache.entries.maxsize
    too_big = cache.lookup(p, req("/big"))
    answer, _, state = cache.store(too_big, resp(200, b"y" * 10_000), 200)
    assert answer.body == b"y" * 10_000 and state == "Miss" and cache.lookup(p, req("/big")).hit is None


def test_streamed_bodies_are_not_stored() -> None:
    cache, _ = make_cache()
    p = policy()

    class Streamed(EdgeResponse):
        __slots__ = ("stream",)

    streamed = Streamed(status=200, body=b"")
    object.__setattr__(streamed, "stream", iter([b"chunk"]))
    cache.store(cache.lookup(p, req()), streamed, 200)
    assert cache.lookup(p, req()).hit is None


def test_invalidation_paths() -> None:
    cache, _ = make_cache()
    p = policy(query_string_behavior="all", headers=["x-v"])
    for uri, qs, hv in [("/img/a.png", "", "1"), ("/img/a.png", "", "2"), ("/img/a.png", "v=1", "1"),
                        ("/img/b.png", "", "1"), ("/other", "", "1")]:
        r = req(uri, qs, headers=(("X-V", hv),))
        cache.store(cache.lookup(p, r), resp(200, b"v"), 200)
    assert cache.invalidate(["/img/a.png"]) == 2  # every header variant, not the query-string version
    assert cache.invalidate(["/img/a.png?v=1"]) == 1
    assert cache.invalidate(["/img/*"]) == 1
    assert cache.invalidate(["/*"]) == 1 and len(cache.entries) == 0


@pytest.mark.parametrize("paths", [[], ["img/*"], ["/a*b"], [3]])
def test_bad_invalidation_paths(paths: list[object]) -> None:
    with pytest.raises(ValueError):
        check_invalidation_paths(paths)


@pytest.mark.parametrize(("dist", "message"), [
    ({"cache_size_mb": 0}, "distributions[0].cache_size_mb: must be more than 0"),
    ({"error_caching_min_ttl": -1}, "distributions[0].error_caching_min_ttl: must be 0 or more"),
    ({"cache": {"min_ttl": 10, "default_ttl": 5}},
     "distributions[0].behaviors[0].cache: needs min_ttl <= default_ttl <= max_ttl (got 10, 5, 31536000)"),
    ({"cache": {"max_ttl": -1}}, "distributions[0].behaviors[0].cache.max_ttl: must be 0 or more"),
    ({"cache": {"query_string_behavior": "allExcept"}},
     "distributions[0].behaviors[0].cache.query_strings: 'allExcept' needs a list of names"),
    ({"cache": {"cookie_behavior": "all", "cookies": ["a"]}},
     "distributions[0].behaviors[0].cache.cookies: must be empty when the behavior is 'all'"),
    ({"cache": {"query_string_behavior": "some"}},
     "distributions[0].behaviors[0].cache.query_string_behavior: must be"),
])
def test_cache_config_errors_name_the_key(dist: dict[str, object], message: str) -> None:
    cache = dist.pop("cache", None)
    behavior: dict[str, object] = {"path": "*", "origin": "up", **({"cache": cache} if cache is not None else {})}
    mapping = {"distributions": [{"name": "site", "listen": "127.0.0.1:0", "behaviors": [behavior],
                                  "origins": [{"id": "up", "url": "http://127.0.0.1:5173"}], **dist}]}
    with pytest.raises(ConfigError) as info:
        GatewayConfig.from_mapping(mapping)
    assert message in str(info.value)
