"""gateway.routing: HTTP API routes, REST resources, ALB listener rules, and their validation.

Cases marked "AWS docs" are the docs' own examples; "measured" ones were recorded on real API Gateway
by third parties (floci-io/floci PR #3399, ministackorg/ministack PR #1423); REST-n / HV2-n are rules
in shared/reference/http-events.md.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from gateway.config import AlbRule, FixedResponse, HttpApiRoute, QueryCondition, RestRoute
from gateway.models import HttpRequest, RouteMatch
from gateway.routing import (
    AlbRouter,
    HttpApiRouter,
    RestRouter,
    validate_alb_rule,
    validate_http_route_key,
    validate_http_routes,
    validate_rest_path,
    validate_rest_routes,
)


def http_router(*keys: str) -> HttpApiRouter:
    return HttpApiRouter([HttpApiRoute(route=key, function=f"fn{i}") for i, key in enumerate(keys)])


def rest_router(*pairs: str) -> RestRouter:
    routes = []
    for i, pair in enumerate(pairs):
        method, path = pair.split(" ", 1)
        routes.append(RestRoute(method=method, path=path, function=f"fn{i}"))
    return RestRouter(routes)


def key_of(match: RouteMatch | None) -> str | None:
    return None if match is None else match.route_key


# --------------------------------------------------------------------------------------------
# HTTP API


DOCS_ROUTES = ("GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}", "$default")


@pytest.mark.parametrize(
    ("method", "path", "route_key", "params"),
    [
        ("GET", "/pets/dog/1", "GET /pets/dog/{id}", {"id": "1"}),
        ("GET", "/pets/cat/1", "GET /pets/{proxy+}", {"proxy": "cat/1"}),
        ("POST", "/test/5", "ANY /{proxy+}", {"proxy": "test/5"}),
        ("GET", "/", "$default", None),
    ],
)
def test_http_api_docs_example(method: str, path: str, route_key: str, params: dict[str, str] | None) -> None:
    """AWS docs, "Routing API requests": the example table, plus / which only $default catches."""
    router = http_router(*DOCS_ROUTES)
    match = router.match(method, path)
    assert match is not None
    assert (match.route_key, match.path_parameters) == (route_key, params)


def test_http_api_match_is_exact_route_match() -> None:
    routes = [HttpApiRoute(route="GET /items/{id}", function="items", payload_format_version="1.0")]
    match = HttpApiRouter(routes).match("GET", "/items/42")
    assert match == RouteMatch(
        function="items", route_key="GET /items/{id}", path_parameters={"id": "42"}, route=routes[0]
    )
    assert match.route.payload_format_version == "1.0"


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/items/special", "GET /items/special"),  # literal over {param}
        ("GET", "/items/42", "GET /items/{id}"),  # {param} over greedy
        ("GET", "/items/42/parts", "GET /items/{proxy+}"),
        ("DELETE", "/items/42", "ANY /items/{id}"),  # method over ANY on one resource
        ("GET", "/other", "ANY /{proxy+}"),
        ("GET", "/", "$default"),
    ],
)
def test_http_api_precedence(method: str, path: str, expected: str) -> None:
    router = http_router(
        "ANY /{proxy+}", "GET /items/{proxy+}", "ANY /items/{id}", "GET /items/{id}", "GET /items/special", "$default"
    )
    assert key_of(router.match(method, path)) == expected


def test_http_api_full_match_beats_greedy_on_another_branch() -> None:
    """Priority 1 is any full match, priority 2 any greedy one, even if the greedy route's prefix is literal."""
    router = http_router("GET /p/{proxy+}", "GET /{a}/x")
    assert key_of(router.match("GET", "/p/x")) == "GET /{a}/x"
    assert key_of(router.match("GET", "/p/y")) == "GET /p/{proxy+}"


def test_http_api_deeper_greedy_wins() -> None:
    router = http_router("ANY /{proxy+}", "ANY /a/{proxy+}", "ANY /{x}/b/{proxy+}")
    route = HttpApiRoute(route="ANY /a/{proxy+}", function="fn1")
    expected = RouteMatch(function="fn1", route_key="ANY /a/{proxy+}", path_parameters={"proxy": "b/c"}, route=route)
    assert router.match("GET", "/a/b/c") == expected
    assert key_of(router.match("GET", "/z/b/c")) == "ANY /{x}/b/{proxy+}"
    assert router.match("GET", "/z/b/c").path_parameters == {"x": "z", "proxy": "c"}  # type: ignore[union-attr]
    assert key_of(router.match("GET", "/z/c")) == "ANY /{proxy+}"


def test_http_api_literal_without_the_method_falls_back_to_param() -> None:
    """The literal resource does not stop the search when it lacks the method (measured on REST, same rule)."""
    router = http_router("GET /users/{id}", "PATCH /users/me")
    assert router.match("GET", "/users/me").path_parameters == {"id": "me"}  # type: ignore[union-attr]
    assert key_of(router.match("PATCH", "/users/me")) == "PATCH /users/me"
    assert router.match("POST", "/users/me") is None


@pytest.mark.parametrize("path", ["/pets", "/pets/", "/pets//"])
def test_http_api_trailing_slash_is_ignored(path: str) -> None:
    """powertools #1552: real REST and HTTP APIs route /hello/ like /hello."""
    route = HttpApiRoute(route="GET /pets", function="fn0")
    match = http_router("GET /pets").match("GET", path)
    assert match == RouteMatch(function="fn0", route_key="GET /pets", path_parameters=None, route=route)


def test_http_api_root_route() -> None:
    router = http_router("GET /", "GET /{proxy+}")
    assert key_of(router.match("GET", "/")) == "GET /"
    assert router.match("GET", "/").path_parameters is None  # type: ignore[union-attr]
    assert router.match("GET", "/a").path_parameters == {"proxy": "a"}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("routes", "path"),
    [
        (("ANY /{proxy+}",), "/"),  # a greedy variable needs one segment
        (("ANY /pets/{proxy+}",), "/pets"),
        (("GET /items/{id}",), "/items//"),  # {param} never takes an empty segment
        (("GET /items/{id}",), "/items"),
        (("GET /a/b",), "/A/B"),  # paths are case-sensitive
    ],
)
def test_http_api_no_match(routes: tuple[str, ...], path: str) -> None:
    assert http_router(*routes).match("GET", path) is None


def test_http_api_decoded_path_parameters() -> None:
    """HV2-5: the front hands the decoded path, so values are decoded (space, '/' from %2F splits)."""
    router = http_router("GET /capture/{value}", "ANY /files/{proxy+}")
    assert router.match("GET", "/capture/space value").path_parameters == {"value": "space value"}  # type: ignore[union-attr]
    assert router.match("GET", "/files/a b/c//d/").path_parameters == {"proxy": "a b/c//d"}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("method", "expected"),
    [("GET", "GET /x"), ("HEAD", "ANY /x"), ("PROPFIND", "ANY /x"), ("get", "ANY /x")],
)
def test_http_api_methods(method: str, expected: str) -> None:
    """ANY serves every method the route does not name; methods are case-sensitive; GET does not serve HEAD."""
    assert key_of(http_router("GET /x", "ANY /x").match(method, "/x")) == expected


def test_http_api_head_is_not_get() -> None:
    assert http_router("GET /x").match("HEAD", "/x") is None


def test_http_api_same_position_different_names() -> None:
    router = http_router("GET /users/{id}", "GET /users/{userId}/fans")
    assert router.match("GET", "/users/7").path_parameters == {"id": "7"}  # type: ignore[union-attr]
    assert router.match("GET", "/users/7/fans").path_parameters == {"userId": "7"}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "keys",
    [
        ("GET /a", "GET /a"),
        ("GET /items/{id}", "GET /items/{name}"),
        ("ANY /{proxy+}", "ANY /{path+}"),
        ("$default", "$default"),
    ],
)
def test_http_api_conflicting_routes(keys: tuple[str, ...]) -> None:
    routes = [HttpApiRoute(route=k, function="f") for k in keys]
    with pytest.raises(ValueError):
        HttpApiRouter(routes)
    assert validate_http_routes(routes) is not None


def test_http_api_no_routes() -> None:
    assert HttpApiRouter([]).match("GET", "/") is None


# --------------------------------------------------------------------------------------------
# REST API


@pytest.mark.parametrize(
    ("method", "path", "resource", "params"),
    [
        ("GET", "/users/me", "/users/{userId}", {"userId": "me"}),
        ("PATCH", "/users/me", "/users/me", None),
        ("GET", "/users/abc123", "/users/{userId}", {"userId": "abc123"}),
        ("POST", "/users/me", None, None),
        ("POST", "/roles/provision", "/roles/provision", None),
        ("GET", "/roles/provision", "/roles/{roleId}", {"roleId": "provision"}),
        ("GET", "/things/real", "/things/real", None),
        ("POST", "/things/real", "/things/{proxy+}", {"proxy": "real"}),
    ],
)
def test_rest_resource_method_pairs_measured(
    method: str, path: str, resource: str | None, params: dict[str, str] | None
) -> None:
    """Measured on AWS (floci PR #3399): resolution is on the resource+method pair."""
    router = rest_router(
        "GET /users/{userId}", "PATCH /users/me", "POST /roles/provision", "GET /roles/{roleId}",
        "GET /things/real", "ANY /things/{proxy+}",
    )
    match = router.match(method, path)
    assert key_of(match) == resource
    if match is not None:
        assert match.path_parameters == params


@pytest.mark.parametrize(
    ("method", "path", "resource"),
    [
        ("GET", "/jobs/reboot", "/jobs/{operation_type}"),
        ("GET", "/jobs", "/{proxy+}"),  # a resource without methods
        ("POST", "/jobs", "/{proxy+}"),
        ("POST", "/jobs/reboot", "/{proxy+}"),  # declared method mismatch
        ("GET", "/cors_only", "/{proxy+}"),  # OPTIONS-only resource
        ("OPTIONS", "/cors_only", "/cors_only"),
    ],
)
def test_rest_falls_through_to_proxy_measured(method: str, path: str, resource: str) -> None:
    """Measured on AWS (ministack PR #1423)."""
    router = rest_router("ANY /{proxy+}", "GET /jobs/{operation_type}", "OPTIONS /cors_only")
    assert key_of(router.match(method, path)) == resource


@pytest.mark.parametrize(
    ("path", "proxy"),
    [
        ("/capture/space%20value", "capture/space%20value"),
        ("/proxy-value/", "proxy-value"),
        ("/proxy-value//double-slash", "proxy-value//double-slash"),
        (
            "/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com",
            "api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com",
        ),
    ],
)
def test_rest_greedy_keeps_encoding(path: str, proxy: str) -> None:
    """REST-5 (recorded): values cut from the encoded path, no leading/trailing '/', inner '//' kept."""
    routes = [RestRoute(method="ANY", path="/{proxy+}", function="proxy")]
    assert RestRouter(routes).match("GET", path) == RouteMatch(
        function="proxy", route_key="/{proxy+}", path_parameters={"proxy": proxy}, route=routes[0]
    )


def test_rest_param_keeps_encoding() -> None:
    match = rest_router("GET /capture/{pathVariable}").match("GET", "/capture/space%20value")
    assert match is not None
    assert (match.route_key, match.path_parameters) == ("/capture/{pathVariable}", {"pathVariable": "space%20value"})


def test_rest_root_and_trailing_slash() -> None:
    router = rest_router("ANY /", "GET /hardcoded", "ANY /{proxy+}")
    assert key_of(router.match("GET", "/")) == "/"
    assert router.match("GET", "/").path_parameters is None  # type: ignore[union-attr]
    assert key_of(router.match("GET", "/hardcoded/")) == "/hardcoded"
    assert rest_router("ANY /{proxy+}").match("GET", "/") is None


def test_rest_literal_compared_decoded_when_raw_misses() -> None:
    router = rest_router("GET /events:batch")
    assert key_of(router.match("GET", "/events%3Abatch")) == "/events:batch"
    assert key_of(router.match("GET", "/events:batch")) == "/events:batch"


@pytest.mark.parametrize(("method", "found"), [("GET", True), ("HEAD", True), ("PROPFIND", False), ("get", False)])
def test_rest_any_serves_the_seven_methods(method: str, found: bool) -> None:
    assert (rest_router("ANY /x").match(method, "/x") is not None) is found


def test_rest_config_method_case_is_normalised() -> None:
    assert key_of(rest_router("get /x").match("GET", "/x")) == "/x"


@pytest.mark.parametrize(
    "pairs",
    [
        ("GET /a", "get /a"),
        ("GET /users/{id}", "GET /users/{userId}/fans"),
        ("ANY /{proxy+}", "GET /{id}"),
        ("GET /a/{x}/b", "GET /a/{y}"),
    ],
)
def test_rest_conflicts(pairs: tuple[str, ...]) -> None:
    """Duplicates, and 'A sibling ({id}) of this resource already has a variable path part'."""
    with pytest.raises(ValueError):
        rest_router(*pairs)
    routes = [RestRoute(method=p.split()[0], path=p.split()[1], function="f") for p in pairs]
    assert validate_rest_routes(routes) is not None


def test_rest_same_variable_shared_by_children_is_fine() -> None:
    routes = [RestRoute(method="GET", path=p, function="f") for p in ("/users/{id}", "/users/{id}/fans", "/users/me")]
    assert validate_rest_routes(routes) is None


# --------------------------------------------------------------------------------------------
# Validation of route keys and resource paths


@pytest.mark.parametrize(
    "key", ["$default", "GET /", "ANY /{proxy+}", "POST /items/{id}/parts", "GET /pets/{name}/{rest+}", "GET /a:b"]
)
def test_valid_http_route_keys(key: str) -> None:
    assert validate_http_route_key(key) is None


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("GET", "is not '$default'"),
        ("FETCH /x", "is not '$default'"),
        ("get /x", "is not '$default'"),
        ("GET x", "must start with '/'"),
        ("GET /metrics/", "must not end with '/'"),
        ("GET /a//b", "empty segment"),
        ("GET /{proxy+}/x", "must be the last segment"),
        ("GET /items/{id", "whole segment"),
        ("GET /items/x{id}", "whole segment"),
        ("GET /{a}/{a}", "twice"),
        ("GET /a?b", "characters"),
        ("GET /a b", "characters"),
    ],
)
def test_invalid_http_route_keys(key: str, fragment: str) -> None:
    problem = validate_http_route_key(key)
    assert problem is not None and fragment in problem


@pytest.mark.parametrize("path", ["/", "/items", "/items/{id}", "/{proxy+}", "/events:batch", "/v1.2/a_b-c", "/$test"])
def test_valid_rest_paths(path: str) -> None:
    assert validate_rest_path(path) is None


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("items", "must start with '/'"),
        ("/items/", "must not end with '/'"),
        ("/a//b", "empty segment"),
        ("/{proxy+}/x", "last segment"),
        ("/{}", "whole segment"),
        ("/a{b}", "whole segment"),
        ("/a@b", "characters"),
        ("/caf%C3%A9", "characters"),
    ],
)
def test_invalid_rest_paths(path: str, fragment: str) -> None:
    problem = validate_rest_path(path)
    assert problem is not None and fragment in problem


def test_routers_reject_invalid_routes() -> None:
    with pytest.raises(ValueError, match="last segment"):
        http_router("GET /{proxy+}/x")
    with pytest.raises(ValueError, match="is not '\\$default'"):
        http_router("FETCH /x")
    with pytest.raises(ValueError, match="empty segment"):
        rest_router("GET /a//b")
    with pytest.raises(ValueError, match="not an HTTP method"):
        rest_router("FETCH /x")


# --------------------------------------------------------------------------------------------
# Many routes: the trie resolves each route's own sample path to that route, and agrees with a
# brute-force reading of the precedence rules on overlapping routes.


def _sample_path(template: str, rng: random.Random) -> str:
    parts: list[str] = []
    for seg in template.split("/")[1:]:
        if seg.endswith("+}"):
            parts.extend(f"g{rng.randrange(100)}" for _ in range(rng.randint(1, 3)))
        elif seg.startswith("{"):
            parts.append(f"v{rng.randrange(100)}")
        else:
            parts.append(seg)
    return "/" + "/".join(parts)


def test_thousand_random_routes_resolve_to_themselves() -> None:
    rng = random.Random(1234)
    methods = ["GET", "POST", "PUT", "DELETE", "ANY"]
    http_routes, rest_routes, samples = [], [], []
    for i in range(1000):
        segs = [f"r{i}"]
        for depth in range(rng.randint(0, 4)):
            segs.append(rng.choice([f"lit{rng.randrange(5)}", f"{{p{depth}}}"]))
        if rng.random() < 0.3:
            segs.append("{proxy+}")
        template = "/" + "/".join(segs)
        method = rng.choice(methods)
        http_routes.append(HttpApiRoute(route=f"{method} {template}", function=f"fn{i}"))
        rest_routes.append(RestRoute(method=method, path=template, function=f"fn{i}"))
        samples.append(("GET" if method == "ANY" else method, _sample_path(template, rng)))
    http, rest = HttpApiRouter(http_routes), RestRouter(rest_routes)
    for i, (method, path) in enumerate(samples):
        assert http.match(method, path).route is http_routes[i], path  # type: ignore[union-attr]
        assert rest.match(method, path).route is rest_routes[i], path  # type: ignore[union-attr]


def _oracle(templates: list[tuple[str, str]], method: str, path: str) -> str | None:
    """Scan every route; rank (greedy?, segment kinds left to right, ANY?) — the documented precedence."""
    segs = path.rstrip("/").split("/")[1:]
    best: tuple[tuple[int, tuple[int, ...], int], str] | None = None
    for route_method, template in templates:
        if route_method not in (method, "ANY"):
            continue
        tsegs = template.split("/")[1:] if template != "/" else []
        kinds: list[int] = []
        for i, seg in enumerate(tsegs):
            if seg.endswith("+}"):
                kinds.append(2 if i < len(segs) else -1)
                break
            if i >= len(segs) or (not seg.startswith("{") and seg != segs[i]) or not segs[i]:
                kinds.append(-1)
                break
            kinds.append(1 if seg.startswith("{") else 0)
        greedy = bool(kinds) and kinds[-1] == 2
        if -1 in kinds or (not greedy and len(tsegs) != len(segs)):
            continue
        rank = (int(greedy), tuple(kinds), int(route_method == "ANY"))
        if best is None or rank < best[0]:
            best = (rank, f"{route_method} {template}")
    return None if best is None else best[1]


def test_random_overlapping_routes_follow_the_precedence_rules() -> None:
    rng = random.Random(99)
    seen: set[tuple[str, str]] = set()
    templates: list[tuple[str, str]] = []
    for _ in range(2000):  # about 150 distinct shapes out of 240 possible
        segs = [rng.choice(["a", "b", "{x0}"]) for _ in range(rng.randint(0, 3))]
        segs = [s.replace("0", str(i)) for i, s in enumerate(segs)]
        if rng.random() < 0.3:
            segs.append("{proxy+}")
        template = "/" + "/".join(segs)
        method = rng.choice(["GET", "POST", "ANY"])
        shape = (method, template.replace("{x", "{").replace("proxy+", "+"))
        if shape not in seen:
            seen.add(shape)
            templates.append((method, template))
    assert len(templates) > 100
    router = http_router(*(f"{m} {t}" for m, t in templates))
    for _ in range(2000):
        path = "/" + "/".join(rng.choice(["a", "b", "c"]) for _ in range(rng.randint(0, 5)))
        method = rng.choice(["GET", "POST", "PUT"])
        assert key_of(router.match(method, path)) == _oracle(templates, method, path), (method, path)


# --------------------------------------------------------------------------------------------
# ALB


def alb_rule(priority: int = 10, /, **conditions: Any) -> AlbRule:
    return AlbRule(priority=priority, function=f"fn{priority}", **conditions)


def req(
    path: str = "/", *, method: str = "GET", query: str = "", headers: tuple[tuple[str, str], ...] = (),
    client_ip: str = "203.0.113.7",
) -> HttpRequest:
    return HttpRequest(method=method, path=path, query_string=query, headers=headers, client_ip=client_ip)


def alb_match(rules: list[AlbRule], request: HttpRequest) -> int | None:
    rule = AlbRouter(rules).match(request)
    return None if rule is None else rule.priority


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("/img/*", "/img/picture.jpg", True),
        ("/img/*", "/img/", True),
        ("/img/*", "/img", False),  # the whole path must match
        ("/img/*", "/IMG/picture.jpg", False),  # case-sensitive
        ("/api/v?/users", "/api/v1/users", True),
        ("/api/v?/users", "/api/v12/users", False),
        ("*.jpg", "/a/b/c.jpg", True),  # * crosses '/'
        ("/health", "/health", True),
        ("/health", "/health/", False),
        ("/a b", "/a%20b", False),  # compared with the path as sent
        ("/a%20b", "/a%20b", True),
    ],
)
def test_alb_path_pattern(pattern: str, path: str, hit: bool) -> None:
    assert (alb_match([alb_rule(path=(pattern,))], req(path)) == 10) is hit


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("/*/b/*/d", "/a/b/c/d", True),
        ("/*/b/*/d", "/a/b/c/b/x/d", True),
        ("/*b*b", "/abab", True),
        ("/*ab*ab", "/abab", True),
        ("/*ab*ab", "/abba", False),
        ("/*a?c*", "/xxabcyy", True),
        ("/*a*a*a*a*b", "/" + "a" * 20000, False),  # no catastrophic backtracking
        ("/*a*a*a*a*b", "/" + "a" * 20000 + "b", True),
    ],
)
def test_alb_path_pattern_several_wildcards(pattern: str, path: str, hit: bool) -> None:
    assert (alb_match([alb_rule(path=(pattern,))], req(path)) == 10) is hit


def test_alb_path_ignores_query() -> None:
    assert alb_match([alb_rule(path=("/search",))], req("/search", query="q=1")) == 10
    assert alb_match([alb_rule(path=("/search*",))], req("/search", query="q=1")) == 10


@pytest.mark.parametrize(
    ("pattern", "host", "hit"),
    [
        ("*.example.com", "test.example.com", True),
        ("*.example.com", "example.com", False),  # AWS docs example
        ("*.example.com", "TEST.Example.COM", True),  # case-insensitive
        ("api.example.com", "api.example.com:8443", True),  # port ignored
        ("api?.example.com", "api1.example.com", True),
        ("127.0.0.1", "127.0.0.1:3002", True),
    ],
)
def test_alb_host_header(pattern: str, host: str, hit: bool) -> None:
    assert (alb_match([alb_rule(host=(pattern,))], req(headers=(("Host", host),))) == 10) is hit


def test_alb_host_condition_without_host_header() -> None:
    assert alb_match([alb_rule(host=("a.example.com",))], req()) is None


@pytest.mark.parametrize(("method", "hit"), [("GET", True), ("HEAD", True), ("POST", False), ("get", False)])
def test_alb_method(method: str, hit: bool) -> None:
    assert (alb_match([alb_rule(method=("GET", "HEAD"))], req(method=method)) == 10) is hit


@pytest.mark.parametrize(
    ("headers", "hit"),
    [
        ((("User-Agent", "Mozilla/5.0 Chrome/120"),), True),
        ((("user-agent", "xx SAFARI yy"),), True),  # name and value case-insensitive
        ((("User-Agent", "curl/8"),), False),
        ((("User-Agent", "curl/8"), ("User-Agent", "Chrome")), True),  # any one line
        ((), False),
    ],
)
def test_alb_http_header(headers: tuple[tuple[str, str], ...], hit: bool) -> None:
    rule = alb_rule(http_header={"User-Agent": ("*Chrome*", "*Safari*")})
    assert (alb_match([rule], req(headers=headers)) == 10) is hit


def test_alb_http_headers_are_anded() -> None:
    rule = alb_rule(http_header={"x-a": ("1",), "x-b": ("2",)})
    assert alb_match([rule], req(headers=(("x-a", "1"), ("x-b", "2")))) == 10
    assert alb_match([rule], req(headers=(("x-a", "1"),))) is None


@pytest.mark.parametrize(
    ("query", "hit"),
    [
        ("version=v1", True),
        ("VERSION=V1", True),  # case-insensitive
        ("a=1&version=v1&b=2", True),
        ("version=v2", False),
        ("anykey=example", True),  # a condition without key: any key
        ("other=examples", False),
        ("", False),
        ("version=v%31", True),  # compared decoded too
    ],
)
def test_alb_query_string(query: str, hit: bool) -> None:
    """AWS docs example: key/value version=v1, or any key set to "example"."""
    rule = alb_rule(query_string=(QueryCondition(key="version", value="v1"), QueryCondition(value="example")))
    assert (alb_match([rule], req(query=query)) == 10) is hit


@pytest.mark.parametrize(
    ("condition", "query", "hit"),
    [
        (QueryCondition(key="redirect", value="https://*"), "redirect=https%3A%2F%2Fexample.com", True),
        (QueryCondition(key="redirect", value="https%3A*"), "redirect=https%3A%2F%2Fexample.com", True),
        (QueryCondition(key="q", value="a+b"), "q=a+b", True),  # '+' is not a space here
        (QueryCondition(key="q", value="a b"), "q=a+b", False),
        (QueryCondition(key="q", value="\\*"), "q=*", True),  # escaped wildcard is literal
        (QueryCondition(key="q", value="\\*"), "q=x", False),
        (QueryCondition(key="ver*", value="?"), "version=1", True),
        (QueryCondition(key="flag", value="?*"), "flag", False),  # a bare key has an empty value
    ],
)
def test_alb_query_string_details(condition: QueryCondition, query: str, hit: bool) -> None:
    assert (alb_match([alb_rule(query_string=(condition,))], req(query=query)) == 10) is hit


@pytest.mark.parametrize(
    ("client_ip", "hit"),
    [
        ("192.0.2.44", True),
        ("198.51.100.10", True),
        ("198.51.100.11", False),
        ("::ffff:192.0.2.1", True),  # IPv4-mapped
        ("2001:db8::1", True),
        ("2001:db9::1", False),
        ("not-an-ip", False),
    ],
)
def test_alb_source_ip(client_ip: str, hit: bool) -> None:
    rule = alb_rule(source_ip=("192.0.2.0/24", "198.51.100.10/32", "2001:db8::/32"))
    assert (alb_match([rule], req(client_ip=client_ip)) == 10) is hit


def test_alb_source_ip_ignores_x_forwarded_for() -> None:
    rule = alb_rule(source_ip=("192.0.2.0/24",))
    assert alb_match([rule], req(headers=(("X-Forwarded-For", "192.0.2.1"),))) is None


def test_alb_conditions_are_anded() -> None:
    rule = alb_rule(path=("/api/*",), method=("POST",), http_header={"x-tenant": ("a*",)})
    ok = req("/api/x", method="POST", headers=(("x-tenant", "acme"),))
    assert alb_match([rule], ok) == 10
    assert alb_match([rule], req("/api/x", method="GET", headers=(("x-tenant", "acme"),))) is None
    assert alb_match([rule], req("/api/x", method="POST", headers=(("x-tenant", "zeta"),))) is None
    assert alb_match([rule], req("/web/x", method="POST", headers=(("x-tenant", "acme"),))) is None


def test_alb_priority_lowest_first_whatever_the_order_given() -> None:
    rules = [alb_rule(30, path=("/*",)), alb_rule(5, path=("/health",)), alb_rule(20, path=("/api/*",))]
    router = AlbRouter(rules)
    assert router.match(req("/health")) is rules[1]
    assert router.match(req("/api/x")) is rules[2]
    assert router.match(req("/other")) is rules[0]


def test_alb_unindexed_rule_keeps_its_priority_over_indexed_ones() -> None:
    """Rules are pre-filtered by path index; the filter must not change the priority order."""
    rules = [
        alb_rule(50, path=("/api/users",)),
        alb_rule(40, path=("/api/*",)),
        alb_rule(30, method=("GET",)),  # no path condition: unindexed
        alb_rule(20, path=("/a*",), method=("POST",)),  # prefix shorter than a segment: unindexed
        alb_rule(10, path=("/b/*",)),
    ]
    assert alb_match(rules, req("/api/users", method="GET")) == 30
    assert alb_match(rules, req("/api/users", method="POST")) == 20
    assert alb_match(rules, req("/api/users", method="PUT")) == 40
    assert alb_match(rules, req("/b/x", method="POST")) == 10
    assert alb_match(rules, req("/c", method="PUT")) is None


def test_alb_returns_the_rule_object_fixed_response_too() -> None:
    rule = AlbRule(priority=1, path=("/health",), fixed_response=FixedResponse(status=200, body="ok"))
    assert AlbRouter([rule]).match(req("/health")) is rule


def test_alb_no_rules() -> None:
    assert AlbRouter([]).match(req("/")) is None


def test_alb_many_rules_priority_order() -> None:
    rules = [alb_rule(i + 1, path=(f"/svc{i}/*",)) for i in range(1000)] + [alb_rule(5000, path=("/*",))]
    router = AlbRouter(list(reversed(rules)))
    assert router.match(req("/svc999/x")) is rules[999]
    assert router.match(req("/svc1000/x")) is rules[-1]


# --------------------------------------------------------------------------------------------
# ALB rule validation


def test_valid_alb_rule() -> None:
    rule = alb_rule(
        path=("/api/*",), host=("*.example.com",), method=("GET",), http_header={"x-tenant": ("a*",)},
    )
    assert validate_alb_rule(rule) is None
    assert validate_alb_rule(alb_rule(source_ip=("10.0.0.0/8", "2001:db8::/32"))) is None
    assert validate_alb_rule(alb_rule(query_string=(QueryCondition(key="v", value="\\*"),))) is None


@pytest.mark.parametrize(
    ("conditions", "fragment"),
    [
        ({}, "at least one condition"),
        ({"path": ("/a", "/b", "/c", "/d")}, "at most 3 values per condition"),
        ({"path": ("/a", "/b", "/c"), "method": ("GET", "POST"), "host": ("a.example.com",)}, "at most 5"),
        ({"path": ("/a/*/*/*", "/b/*/*/*")}, "wildcard"),
        ({"path": ("/a b",)}, "path[0]"),
        ({"path": ("/" + "a" * 128,)}, "path[0]"),
        ({"host": ("localhost",)}, "host[0]"),
        ({"host": ("example.*",)}, "host[0]"),
        ({"host": ("example.com:80",)}, "host[0]"),
        ({"method": ("get",)}, "method[0]"),
        ({"http_header": {"x-*": ("a",)}}, "http_header.x-*"),
        ({"http_header": {"x-a": ("caf\u00e9",)}}, "visible ASCII"),
        ({"query_string": (QueryCondition(key="", value="x"),)}, "query_string[0]"),
        ({"source_ip": ("10.0.0.1",)}, "source_ip[0]"),
        ({"source_ip": ("10.0.0.300/32",)}, "source_ip[0]"),
    ],
)
def test_invalid_alb_rules(conditions: dict[str, Any], fragment: str) -> None:
    problem = validate_alb_rule(alb_rule(**conditions))
    assert problem is not None and fragment in problem
