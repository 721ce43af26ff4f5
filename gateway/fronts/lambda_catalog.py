"""Read-only Lambda API operations answered from the config: GetFunction, ListFunctions,
ListVersionsByFunction, GetAlias, ListAliases. Tools that look a function up before invoking it
(``aws lambda get-function``, frameworks checking a function exists) work against the gateway.

https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html
https://docs.aws.amazon.com/lambda/latest/api/API_ListFunctions.html
https://docs.aws.amazon.com/lambda/latest/api/API_ListVersionsByFunction.html
https://docs.aws.amazon.com/lambda/latest/api/API_GetAlias.html
https://docs.aws.amazon.com/lambda/latest/api/API_ListAliases.html
https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html

Values with no local meaning are fixed and plausible [INF]: a role ARN ``.../role/lambda-gateway``,
CodeSize 0, CodeSha256 and RevisionId derived from the config, LastModified the gateway's start.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Mapping
from typing import Any

from gateway.config import AliasConfig, FunctionConfig, GatewaySettings
from gateway.fronts.lambda_wire import ApiError, invalid_parameter, not_found, parse_function_name
from gateway.functions.versions import LATEST, function_arn, resolve, version_config

Document = dict[str, Any]
#: ListFunctions and the other List operations return at most 50 items a page by default.
PAGE = 50


class Catalog:
    """The read-only operations over ``functions`` (the service's configs, versions inside)."""

    def __init__(self, functions: Mapping[str, FunctionConfig], settings: GatewaySettings) -> None:
        self.functions = functions
        self.settings = settings
        self.last_modified = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())

    def get_function(self, groups: list[str], query: dict[str, str]) -> Document:
        name, qualifier = parse_function_name(groups[0], query.get("Qualifier"), self.settings)
        function = self._function(name, qualifier)
        version = resolve(function, qualifier, 0.0)
        if version is None:
            raise not_found(self.settings, name, qualifier)
        doc: Document = {
            "Configuration": self.configuration(function, version, qualifier),
            "Code": {"RepositoryType": "S3", "Location": version_config(function, version).code_uri.as_uri()},
            "Tags": {},
        }
        if function.reserved_concurrency is not None:
            doc["Concurrency"] = {"ReservedConcurrentExecutions": function.reserved_concurrency}
        return doc

    def list_functions(self, groups: list[str], query: dict[str, str]) -> Document:
        every = query.get("FunctionVersion") == "ALL"
        items = [self.configuration(fn, version, version if every else None)
                 for fn in self.functions.values() for version in ([LATEST, *fn.versions] if every else [LATEST])]
        return _page(items, query, "Functions")

    def list_versions(self, groups: list[str], query: dict[str, str]) -> Document:
        name, _qualifier = parse_function_name(groups[0], None, self.settings)
        function = self._function(name, None)
        items = [self.configuration(function, version, version) for version in (LATEST, *function.versions)]
        return _page(items, query, "Versions")

    def get_alias(self, groups: list[str], query: dict[str, str]) -> Document:
        name, _qualifier = parse_function_name(groups[0], None, self.settings)
        function = self._function(name, None)
        alias = function.aliases.get(groups[1])
        if alias is None:
            arn = function_arn(self.settings.region, self.settings.account_id, name, groups[1])
            raise ApiError(404, "ResourceNotFoundException", f"Alias not found: {arn}", key="Message")
        return self.alias(name, groups[1], alias)

    def list_aliases(self, groups: list[str], query: dict[str, str]) -> Document:
        name, _qualifier = parse_function_name(groups[0], None, self.settings)
        function = self._function(name, None)
        wanted = query.get("FunctionVersion")
        items = [self.alias(name, label, alias) for label, alias in function.aliases.items()
                 if wanted is None or alias.version == wanted]
        return _page(items, query, "Aliases")

    def configuration(self, function: FunctionConfig, version: str, qualifier: str | None) -> Document:
        """FunctionConfiguration of ``version``; FunctionArn qualified with ``qualifier`` when given."""
        s = self.settings
        config = version_config(function, version)
        arn = function_arn(s.region, s.account_id, function.name, qualifier)
        digest = hashlib.sha256(repr(config).encode()).digest()
        doc: Document = {
            "FunctionName": function.name, "FunctionArn": arn, "Runtime": config.runtime,
            "Role": f"arn:aws:iam::{s.account_id}:role/lambda-gateway", "Handler": config.handler,
            "CodeSize": 0, "Description": config.description, "Timeout": int(config.timeout),
            "MemorySize": config.memory_size, "LastModified": self.last_modified,
            "CodeSha256": base64.b64encode(digest).decode("ascii"), "Version": version,
            "TracingConfig": {"Mode": "PassThrough"}, "RevisionId": str(uuid.UUID(bytes=digest[:16])),
            "State": "Active", "LastUpdateStatus": "Successful", "PackageType": "Zip",
            "Architectures": ["x86_64"], "EphemeralStorage": {"Size": config.ephemeral_storage},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.name}"},
        }
        if config.environment:
            doc["Environment"] = {"Variables": dict(config.environment)}
        if config.layers:
            doc["Layers"] = [{"Arn": f"arn:aws:lambda:{s.region}:{s.account_id}:layer:{path.name}:1", "CodeSize": 0}
                             for path in config.layers]
        return doc

    def alias(self, name: str, label: str, alias: AliasConfig) -> Document:
        s = self.settings
        doc: Document = {
            "AliasArn": function_arn(s.region, s.account_id, name, label), "Name": label,
            "FunctionVersion": alias.version, "Description": alias.description,
            "RevisionId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{name}:{label}:{alias!r}")),
        }
        if alias.additional_version_weights:
            doc["RoutingConfig"] = {"AdditionalVersionWeights": dict(alias.additional_version_weights)}
        return doc

    def _function(self, name: str, qualifier: str | None) -> FunctionConfig:
        function = self.functions.get(name)
        if function is None:
            raise not_found(self.settings, name, qualifier)
        return function


def _page(items: list[Document], query: dict[str, str], key: str) -> Document:
    """One page of ``items``: ``MaxItems`` (1-10000, default 50) from ``Marker`` (an opaque offset)."""
    try:
        start = int(query.get("Marker") or 0)
        size = int(query.get("MaxItems") or PAGE)
    except ValueError:
        raise invalid_parameter("Invalid Marker or MaxItems") from None  # [INF] message text
    if start < 0 or not 1 <= size <= 10_000:
        raise invalid_parameter("Invalid Marker or MaxItems")
    doc: Document = {key: items[start:start + size]}
    if start + size < len(items):
        doc["NextMarker"] = str(start + size)
    return doc
