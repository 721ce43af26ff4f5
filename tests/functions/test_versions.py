"""Versions and aliases: which version runs, the ARN the handler sees, weighted routing."""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
from pathlib import Path

import pytest

from gateway.config import AliasConfig, FunctionConfig, GatewaySettings
from gateway.errors import UnknownFunction
from gateway.functions.invokers import INVOKERS
from gateway.functions.versions import alias_version, resolve, split_qualifier
from tests.functions.conftest import Logs, ServiceFactory

HANDLER = '''
import os
MARK = {mark!r}

def handler(event, context):
    return {{
        "mark": MARK,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "log_stream_name": context.log_stream_name,
        "memory": context.memory_limit_in_mb,
        "env_version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
        "colour": os.environ.get("COLOUR"),
    }}
'''

ARN = "arn:aws:lambda:us-east-1:123456789012:function:app"
ISOLATIONS = [kind for kind in ("inprocess", "process") if kind in INVOKERS]


def code(tmp_path: Path, mark: str) -> Path:
    directory = tmp_path / mark
    directory.mkdir()
    (directory / "lgw_versioned.py").write_text(HANDLER.format(mark=mark))
    return directory


def app(tmp_path: Path, *, weight: float | None = None, isolation: str = "inprocess") -> FunctionConfig:
    """$LATEST from ./latest; version 1 from ./v1; version 2 from ./v2 with COLOUR=green; alias live -> 1.

    Built as the config loader builds it: each version has every setting of the function but its own.
    """
    base = FunctionConfig(name="app", handler="lgw_versioned.handler", code_uri=code(tmp_path, "latest"),
                          memory_size=256, environment={"COLOUR": "red"}, isolation=isolation)  # type: ignore[arg-type]
    weights = {"2": weight} if weight is not None else {}
    return dataclasses.replace(
        base,
        versions={
            "1": dataclasses.replace(base, code_uri=code(tmp_path, "v1")),
            "2": dataclasses.replace(base, code_uri=code(tmp_path, "v2"), environment={"COLOUR": "green"}),
        },
        aliases={"live": AliasConfig(version="1", additional_version_weights=weights),
                 "edge": AliasConfig(version="$LATEST")},
    )


@pytest.mark.parametrize("isolation", ISOLATIONS)
@pytest.mark.parametrize(("name", "mark", "version", "arn"), [
    ("app", "latest", "$LATEST", ARN),
    ("app:$LATEST", "latest", "$LATEST", f"{ARN}:$LATEST"),
    ("app:1", "v1", "1", f"{ARN}:1"),
    ("app:2", "v2", "2", f"{ARN}:2"),
    ("app:live", "v1", "1", f"{ARN}:live"),
    ("app:edge", "latest", "$LATEST", f"{ARN}:edge"),
])
async def test_the_arn_carries_the_qualifier_used_and_the_version_is_the_one_that_ran(
    tmp_path: Path, service_factory: ServiceFactory, logs: Logs, name: str, mark: str, version: str, arn: str,
    isolation: str,
) -> None:
    service = service_factory(app(tmp_path, isolation=isolation))
    result = await service.invoke(name, b"{}", request_id="r-1")
    seen = json.loads(result.payload)
    assert seen["mark"] == mark
    assert (seen["function_name"], seen["function_version"], seen["env_version"]) == ("app", version, version)
    assert seen["invoked_function_arn"] == arn
    assert re.fullmatch(rf"\d{{4}}/\d\d/\d\d/\[{re.escape(version)}\][0-9a-f]{{32}}", seen["log_stream_name"])
    assert result.executed_version == version
    assert f"START RequestId: r-1 Version: {version}" in logs.of("app")


async def test_a_version_inherits_what_it_does_not_set(tmp_path: Path, service_factory: ServiceFactory) -> None:
    service = service_factory(app(tmp_path))
    one = json.loads((await service.invoke("app:1", b"{}")).payload)
    two = json.loads((await service.invoke("app:2", b"{}")).payload)
    assert (one["memory"], one["colour"]) == ("256", "red")
    assert (two["memory"], two["colour"]) == ("256", "green")


async def test_unknown_qualifiers_are_not_found(tmp_path: Path, service_factory: ServiceFactory) -> None:
    service = service_factory(app(tmp_path))
    for name in ("app:3", "app:nope", "other:1"):
        function, qualifier = split_qualifier(name)
        arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function}:{qualifier}"
        with pytest.raises(UnknownFunction, match=f"^Function not found: {re.escape(arn)}$"):
            await service.invoke(name, b"{}")


def test_alias_routing_is_a_pure_function_of_the_draw() -> None:
    alias = AliasConfig(version="1", additional_version_weights={"2": 0.1})
    assert [alias_version(alias, draw) for draw in (0.0, 0.0999, 0.1, 0.5, 0.9999)] == ["2", "2", "1", "1", "1"]
    assert alias_version(AliasConfig(version="1"), 0.0) == "1"
    rng = random.Random(20240501)
    n = 20_000
    hits = sum(alias_version(alias, rng.random()) == "2" for _ in range(n))
    assert abs(hits - n * 0.1) < 5 * math.sqrt(n * 0.1 * 0.9)


def test_resolve_names_the_version_or_none() -> None:
    fn = FunctionConfig(handler="a.b", versions={"1": FunctionConfig(handler="a.b")},
                        aliases={"live": AliasConfig(version="1")})
    assert [resolve(fn, q, 0.5) for q in (None, "$LATEST", "1", "live", "2", "dead")] == \
        ["$LATEST", "$LATEST", "1", "1", None, None]


async def test_weighted_alias_holds_its_weights_over_real_invocations(
    tmp_path: Path, service_factory: ServiceFactory
) -> None:
    n, weight = 400, 0.3
    service = service_factory(app(tmp_path, weight=weight))
    versions = [(await service.invoke("app:live", b"{}")).executed_version for _ in range(n)]
    to_two = versions.count("2")
    assert versions.count("1") + to_two == n
    # Binomial(400, 0.3): mean 120, sd 9.2; five sd either side fails about once in 3.5 million runs.
    assert abs(to_two - n * weight) < 5 * math.sqrt(n * weight * (1 - weight))


async def test_weighted_alias_reports_the_alias_arn_whichever_version_runs(
    tmp_path: Path, service_factory: ServiceFactory
) -> None:
    draws = iter([0.05, 0.95])  # the first invocation goes to version 2, the second to version 1
    service = service_factory(app(tmp_path, weight=0.1), draw=lambda: next(draws))
    first = json.loads((await service.invoke("app:live", b"{}")).payload)
    second = json.loads((await service.invoke("app:live", b"{}")).payload)
    assert (first["mark"], first["function_version"]) == ("v2", "2")
    assert (second["mark"], second["function_version"]) == ("v1", "1")
    assert first["invoked_function_arn"] == second["invoked_function_arn"] == f"{ARN}:live"


def test_every_version_is_checked_for_its_handler_module(tmp_path: Path, service_factory: ServiceFactory) -> None:
    (tmp_path / "lgw_checked_v1.py").write_text("")
    fn = FunctionConfig(name="app", handler="lgw_checked_v1.handler", code_uri=tmp_path, versions={
        "1": FunctionConfig(handler="lgw_checked_v1.handler", code_uri=tmp_path),
        "2": FunctionConfig(handler="lgw_checked_v2.handler", code_uri=tmp_path),
    })
    service = service_factory(fn, settings=GatewaySettings())
    assert service.check() == [
        f"function 'app:2': handler module 'lgw_checked_v2' not found in {tmp_path}; invocations will fail with "
        "Runtime.ImportModuleError until it exists"
    ]
