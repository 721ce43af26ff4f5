"""Running Lambda@Edge functions at the four events, with CloudFront's rules about them.

The function is invoked through the functions service (environments, timeouts and logs as for
any function), with CloudFront's own time limit on top: 5 s at viewer events, 30 s at origin
events. A function error, a timeout or a throttle is an execution error (503); a result that
fails validation is a 502 (edge/events.py). The reason goes to the log, as CloudWatch would show
it under /aws/cloudfront/LambdaEdge/<DistributionId>.
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-testing-debugging.html
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/http-503-service-unavailable.html
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from edge import cfjs
from edge.cfjs import CloudFrontFunction
from edge.config import BehaviorConfig, FunctionAssociation
from edge.events import (
    EdgeExecutionError,
    EdgeRequest,
    EdgeResponse,
    EdgeValidationError,
    parse_request_result,
    parse_response_result,
    request_event,
    response_event,
    side,
)
from gateway.errors import FunctionFailed, IntegrationTimeout, InvokeError

#: Calls a function with an event and CloudFront's time limit; returns the result payload.
Invoke = Callable[[str, dict[str, Any], float], Awaitable[bytes]]

#: Lambda@Edge function timeouts per side (cloudfront-limits.html, "Quotas on Lambda@Edge").
TIMEOUT = {"viewer": 5.0, "origin": 30.0}


class EdgeHooks:
    """The Lambda@Edge associations of one cache behavior, and its CloudFront Functions (edge/cfjs)."""

    def __init__(self, behavior: BehaviorConfig, invoke: Invoke) -> None:
        self.behavior = behavior
        self.invoke = invoke
        self.functions: dict[str, FunctionAssociation] = {}
        self.scripts: dict[str, CloudFrontFunction] = {}  # CloudFront Functions at viewer events (edge/cfjs)
        for stage in ("viewer-request", "origin-request", "origin-response", "viewer-response"):
            assoc = getattr(behavior, stage.replace("-", "_"))
            if assoc is not None and assoc.function is not None:
                self.functions[stage] = assoc
            elif assoc is not None and assoc.js is not None:
                self.scripts[stage] = cfjs.load_association(assoc)

    def has(self, stage: str) -> bool:
        return stage in self.functions or stage in self.scripts

    def generated(self, stage: str) -> str:
        """X-Cache's word for a response a function at ``stage`` generated ([INF]: a CloudFront
        Function's says FunctionGeneratedResponse, a Lambda@Edge function's LambdaGeneratedResponse)."""
        return "FunctionGeneratedResponse" if stage in self.scripts else "LambdaGeneratedResponse"

    async def on_request(self, stage: str, req: EdgeRequest, config: Mapping[str, str]) -> EdgeRequest | EdgeResponse:
        """viewer-request or origin-request: the (modified) request, or a generated response."""
        if stage in self.scripts:
            return cfjs.run_request(self.scripts[stage], req, config, int(time.time() * 1000))
        assoc = self.functions.get(stage)
        if assoc is None:
            return req
        include = assoc.include_body if assoc.include_body is not None else self.behavior.include_body
        event = request_event(stage, req, config, include_body=include)
        result = await self._call(stage, assoc, event)
        return parse_request_result(stage, result, req)

    async def on_response(
        self, stage: str, req: EdgeRequest, resp: EdgeResponse, config: Mapping[str, str]
    ) -> EdgeResponse:
        """origin-response or viewer-response: the (modified) response."""
        if stage in self.scripts:
            return cfjs.run_response(self.scripts[stage], req, resp, config, int(time.time() * 1000))
        assoc = self.functions.get(stage)
        if assoc is None:
            return resp
        event = response_event(stage, req, resp, config)
        result = await self._call(stage, assoc, event)
        return parse_response_result(stage, result, resp)

    async def _call(self, stage: str, assoc: FunctionAssociation, event: dict[str, Any]) -> Any:
        assert assoc.function is not None
        try:
            payload = await self.invoke(assoc.function, event, TIMEOUT[side(stage)])
        except FunctionFailed as exc:
            raise EdgeExecutionError(
                f"{stage}: the Lambda function {assoc.function} failed: {exc.result.payload[:300]!r}") from exc
        except IntegrationTimeout as exc:
            raise EdgeExecutionError(f"{stage}: the Lambda function {assoc.function} timed out: {exc}") from exc
        except InvokeError as exc:
            raise EdgeExecutionError(f"{stage}: the Lambda function {assoc.function} could not run: {exc}") from exc
        try:
            return json.loads(payload)
        except ValueError:
            raise EdgeValidationError(f"{stage}: The Lambda function returned invalid JSON") from None
