"""GetFunction, ListFunctions, ListVersionsByFunction, GetAlias, ListAliases via boto3 (lambda_catalog.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.config import GatewayConfig
from gateway.testing import start_gateway
from tests.lambda_api.helpers import lambda_client
from tests.lambda_api.test_invoke import ARN, mapping


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    config = GatewayConfig.from_mapping(mapping())
    with start_gateway(config, log=lambda name, entry: None) as gateway:
        yield lambda_client(gateway.urls["lambda_api"])


def test_get_function(client: Any) -> None:
    answer = client.get_function(FunctionName="echo")
    config = answer["Configuration"]
    assert (config["FunctionName"], config["FunctionArn"], config["Version"]) == ("echo", f"{ARN}:echo", "$LATEST")
    assert config["Handler"] == "lapi_handlers.echo"
    assert config["Runtime"] == "python3.11" and config["Timeout"] == 3 and config["MemorySize"] == 128
    assert config["Environment"] == {"Variables": {"LAPI_VERSION": "latest"}}
    assert config["State"] == "Active"
    assert answer["Code"]["RepositoryType"] == "S3"


def test_get_function_qualified(client: Any) -> None:
    by_alias = client.get_function(FunctionName="echo", Qualifier="live")["Configuration"]
    assert (by_alias["Version"], by_alias["FunctionArn"]) == ("1", f"{ARN}:echo:live")
    assert by_alias["Environment"]["Variables"]["LAPI_VERSION"] == "v1"
    by_arn = client.get_function(FunctionName=f"{ARN}:echo:1")["Configuration"]
    assert by_arn["Version"] == "1"
    assert client.get_function(FunctionName="off")["Concurrency"] == {"ReservedConcurrentExecutions": 0}


def test_get_function_unknown(client: Any) -> None:
    for kwargs in ({"FunctionName": "nope"}, {"FunctionName": "echo", "Qualifier": "7"}):
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.get_function(**kwargs)


def test_list_functions_and_paging(client: Any) -> None:
    names = [f["FunctionName"] for f in client.list_functions()["Functions"]]
    assert names == ["echo", "fail", "chatty", "record", "off"]
    first = client.list_functions(MaxItems=2)
    assert len(first["Functions"]) == 2 and "NextMarker" in first
    paged = [f["FunctionName"] for page in client.get_paginator("list_functions").paginate(PaginationConfig={
        "PageSize": 2}) for f in page["Functions"]]
    assert paged == names
    every = client.list_functions(FunctionVersion="ALL")["Functions"]
    assert [(f["FunctionName"], f["Version"]) for f in every if f["FunctionName"] == "echo"] == [
        ("echo", "$LATEST"), ("echo", "1")]


def test_list_versions(client: Any) -> None:
    versions = client.list_versions_by_function(FunctionName="echo")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]
    assert versions[1]["FunctionArn"] == f"{ARN}:echo:1"


def test_aliases(client: Any) -> None:
    alias = client.get_alias(FunctionName="echo", Name="live")
    assert (alias["Name"], alias["FunctionVersion"], alias["AliasArn"]) == ("live", "1", f"{ARN}:echo:live")
    assert alias["Description"] == "the live one"
    listed = client.list_aliases(FunctionName="echo")["Aliases"]
    assert [a["Name"] for a in listed] == ["live"]
    assert client.list_aliases(FunctionName="echo", FunctionVersion="$LATEST")["Aliases"] == []
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_alias(FunctionName="echo", Name="nolias")
