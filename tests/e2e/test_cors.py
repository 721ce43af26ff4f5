"""CORS over loopback (section 7): exact headers of preflights and actual responses, per front.

The browser's own verdicts on the same gateway are in test_cors_browser.py.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.testing import RunningGateway, start_gateway
from tests.e2e.cors_setup import HANDLERS, Invocations, cors_config

PAGE = "http://127.0.0.1:5173"
OTHER = "http://evil.example"


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[RunningGateway, Invocations]]:
    calls = Invocations()
    with start_gateway(cors_config(PAGE), ephemeral_ports=True, log=calls) as gw:
        yield gw, calls


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20.0) as c:
        yield c


def url(running: tuple[RunningGateway, Invocations], front: str, path: str) -> str:
    return running[0].urls[front] + path


def cors_headers(response: httpx.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.multi_items() if k.startswith("access-control-")]


def preflight(client: httpx.Client, target: str, origin: str = PAGE, method: str = "PUT",
              headers: str | None = None) -> httpx.Response:
    extra = {"Access-Control-Request-Headers": headers} if headers else {}
    return client.options(target, headers={"Origin": origin, "Access-Control-Request-Method": method, **extra})


def wait_for_count(calls: Invocations, function: str, at_least: int) -> int:
    deadline = time.monotonic() + 5
    while calls.count(function) < at_least and time.monotonic() < deadline:
        time.sleep(0.01)
    return calls.count(function)


# ------------------------------------------------------------------------------------------
# Preflights: answered by the gateway, never by the function (CORS-H2, CORS-U3).


def test_http_api_preflight(running: tuple[RunningGateway, Invocations], client: httpx.Client) -> None:
    before = running[1].count("app")
    response = preflight(client, url(running, "cors-http", "app/x"), headers="content-type,x-allowed")
    assert response.status_code == 204 and response.content == b""  # [INF] 204
    assert cors_headers(response) == [
        ("access-control-allow-origin", PAGE), ("access-control-allow-methods", "GET,PUT,POST"),
        ("access-control-allow-headers", "content-type,x-allowed"), ("access-control-max-age", "300"),
    ]
    assert re.fullmatch(r"[A-Za-z0-9_-]{15}=", response.headers["apigw-requestid"])  # O-CX1225; our short id (HV2-6)
    assert running[1].count("app") == before


def test_http_api_answers_a_preflight_without_any_matching_route(
    running: tuple[RunningGateway, Invocations], client: httpx.Client
) -> None:
    # CORS-H2: "even if there isn't an OPTIONS route configured"; no route matches /nowhere at all.
    response = preflight(client, url(running, "cors-http", "nowhere"), method="DELETE")
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == PAGE
    # The same path without the preflight headers is the usual 404.
    assert client.options(url(running, "cors-http", "nowhere"), headers={"Origin": PAGE}).status_code == 404


def test_http_api_prefix_wildcard_origin(running: tuple[RunningGateway, Invocations], client: httpx.Client) -> None:
    response = preflight(client, url(running, "cors-http", "app/x"), origin="https://app.example.org")
    assert response.headers["access-control-allow-origin"] == "https://app.example.org"
    assert "access-control-allow-origin" not in preflight(client, url(running, "cors-http", "app/x"),
                                                          origin="http://app.example.org").headers


@pytest.mark.parametrize(("front", "status"), [("cors-http", 204), ("app-url", 200)])
def test_preflight_from_a_disallowed_origin_has_no_cors_headers(
    running: tuple[RunningGateway, Invocations], client: httpx.Client, front: str, status: int
) -> None:
    before = running[1].count("app")
    response = preflight(client, url(running, front, "app/x"), origin=OTHER)
    assert response.status_code == status
    assert cors_headers(response) == []
    assert running[1].count("app") == before


def test_function_url_preflight(running: tuple[RunningGateway, Invocations], client: httpx.Client) -> None:
    before = running[1].count("app")
    response = preflight(client, url(running, "app-url", "x"), headers="x-allowed")
    assert response.status_code == 200 and response.content == b""  # [INF] 200
    assert cors_headers(response) == [
        ("access-control-allow-origin", PAGE), ("access-control-allow-methods", "GET,PUT"),
        ("access-control-allow-headers", "x-allowed"), ("access-control-max-age", "300"),
    ]
    assert uuid.UUID(response.headers["x-amzn-requestid"]).version == 4
    assert running[1].count("app") == before


def test_function_url_wildcard_with_credentials_echoes_the_origin(
    running: tuple[RunningGateway, Invocations], client: httpx.Client
) -> None:
    response = preflight(client, url(running, "app2-url", "x"), origin="https://a.example")
    assert cors_headers(response) == [
        ("access-control-allow-origin", "https://a.example"), ("access-control-allow-credentials", "true"),
        ("access-control-allow-methods", "*"),
    ]


def test_plain_options_reaches_the_function(running: tuple[RunningGateway, Invocations], client: httpx.Client) -> None:
    # Origin without Access-Control-Request-Method is no preflight: the function answers it.
    response = client.options(url(running, "app-url", "x"), headers={"Origin": PAGE})
    assert response.status_code == 200 and response.json()["method"] == "OPTIONS"
    assert response.headers["access-control-allow-origin"] == PAGE


# ------------------------------------------------------------------------------------------
# Actual responses.


def test_http_api_actual_response(running: tuple[RunningGateway, Invocations], client: httpx.Client) -> None:
    before = running[1].count("app")
    response = client.put(url(running, "cors-http", "app/x"), headers={"Origin": PAGE, "x-allowed": "yes"})
    assert response.status_code == 200 and response.json() == {"method": "PUT", "x-allowed": "yes"}
    assert cors_headers(response) == [
        ("access-control-allow-origin", PAGE), ("access-control-expose-headers", "x-request-id"),
    ]
    assert wait_for_count(running[1], "app", before + 1) == before + 1


def test_http_api_drops_the_functions_cors_headers(
    running: tuple[RunningGateway, Invocations], client: httpx.Client
) -> None:
    response = client.get(url(running, "cors-http", "app/own-cors"), headers={"Origin": PAGE})
    assert cors_headers(response) == [
        ("access-control-allow-origin", PAGE), ("access-control-expose-headers", "x-request-id"),
    ]
    # CORS-H2: dropped whether or not the request carries an Origin.
    assert cors_headers(client.get(url(running, "cors-http", "app/own-cors"))) == []


def test_function_url_doubles_a_header_the_function_also_sets(
    running: tuple[RunningGateway, Invocations], client: httpx.Client
) -> None:
    response = client.get(url(running, "app-url", "own-cors"), headers={"Origin": PAGE})
    # CORS-U2 (O-PT4163): the function's header and the configured one both arrive.
    assert response.headers.get_list("access-control-allow-origin") == [PAGE, PAGE]
    assert response.headers.get_list("access-control-expose-headers") == ["x-secret", "x-request-id"]
    # Without an Origin the function's headers pass as they are and nothing is added.
    plain = client.get(url(running, "app-url", "own-cors"))
    assert cors_headers(plain) == [
        ("access-control-allow-origin", "*"), ("access-control-expose-headers", "x-secret"),
        ("access-control-max-age", "1"),
    ]


@pytest.mark.parametrize("front", ["cors-http", "app-url"])
def test_no_origin_no_cors_headers(running: tuple[RunningGateway, Invocations], client: httpx.Client,
                                   front: str) -> None:
    response = client.get(url(running, front, "app/x"))
    assert response.status_code == 200 and cors_headers(response) == []


def test_disallowed_origin_gets_the_answer_without_cors_headers(
    running: tuple[RunningGateway, Invocations], client: httpx.Client
) -> None:
    response = client.get(url(running, "cors-http-other", "app/x"), headers={"Origin": PAGE})
    assert response.status_code == 200 and cors_headers(response) == []


def test_credentials_header_on_actual_responses(
    running: tuple[RunningGateway, Invocations], client: httpx.Client
) -> None:
    response = client.get(url(running, "cors-http-creds", "app/x"), headers={"Origin": PAGE})
    assert cors_headers(response) == [
        ("access-control-allow-origin", PAGE), ("access-control-allow-credentials", "true"),
    ]


@pytest.mark.parametrize(("front", "path", "status"), [
    ("cors-http", "app/boom", 500),  # 4.E function error
    ("cors-http", "nowhere", 404),  # 4.E no route
    ("app-url", "boom", 502),  # 5.E
])
def test_gateway_error_answers_carry_cors_headers(
    running: tuple[RunningGateway, Invocations], client: httpx.Client, front: str, path: str, status: int
) -> None:
    # [INF] the gateway's own error answers are decorated like the function's answers.
    response = client.get(url(running, front, path), headers={"Origin": PAGE})
    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == PAGE


def test_too_large_answer_carries_cors_headers(
    running: tuple[RunningGateway, Invocations], client: httpx.Client
) -> None:
    # The 413 is rendered by the app before the front runs (app.py); it is decorated all the same.
    headers = {"Origin": PAGE, "Content-Length": str(7 * 1024 * 1024)}
    with httpx.Client(timeout=20.0) as fresh:
        response = fresh.post(url(running, "app-url", "x"), headers=headers, content=b"x" * (7 * 1024 * 1024))
    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == PAGE


# ------------------------------------------------------------------------------------------
# CORS-H2: $default with an authorizer catches preflights too; an OPTIONS /{proxy+} route without
# auth, which outranks $default, lets them through to the gateway's own answer.


@pytest.mark.parametrize(("options_route", "status"), [(False, 401), (True, 204)])
def test_default_route_with_an_authorizer_and_preflights(
    client: httpx.Client, options_route: bool, status: int
) -> None:
    from gateway.config import GatewayConfig

    routes: list[dict[str, Any]] = [{"route": "$default", "function": "app", "authorizer": "jwt1"}]
    if options_route:
        routes.append({"route": "OPTIONS /{proxy+}", "function": "app"})
    data = {
        "gateway": {"access_log": False},
        "functions": {"app": {"handler": "cors_app.handler", "code_uri": str(HANDLERS), "timeout": 10}},
        "http_apis": [{
            "name": "locked", "listen": "127.0.0.1:0", "routes": routes, "cors": {"allow_origins": [PAGE]},
            # The preflight carries no token, so the issuer (nothing listens there) is never asked.
            "authorizers": {"jwt1": {"type": "jwt", "issuer": "http://127.0.0.1:9", "audience": ["api"],
                                     "identity_sources": ["$request.header.Authorization"]}},
        }],
    }
    config = GatewayConfig.from_mapping(data, source="tests/e2e/test_cors.py", base_dir=HANDLERS)
    calls = Invocations()
    with start_gateway(config, ephemeral_ports=True, log=calls) as gw:
        response = preflight(client, gw.urls["locked"] + "items/1")
    assert response.status_code == status
    assert calls.count("app") == 0
    if options_route:
        assert response.headers["access-control-allow-origin"] == PAGE
