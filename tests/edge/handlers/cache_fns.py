"""Lambda@Edge handlers for tests/edge/test_cache_e2e.py: each counts its own runs per stage and URI
(warm environments keep the module, so the count survives between invocations) and shows the count."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

RUNS: Counter[tuple[str, str]] = Counter()


def _count(event: dict[str, Any]) -> tuple[dict[str, Any], str, str]:
    cf = event["Records"][0]["cf"]
    stage = cf["config"]["eventType"]
    RUNS[(stage, cf["request"]["uri"])] += 1
    return cf, stage, str(RUNS[(stage, cf["request"]["uri"])])


def count(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Any stage: adds X-Runs-<stage>: N (this stage's runs for this URI) to the request or response."""
    cf, stage, runs = _count(event)
    obj = cf.get("response") or cf["request"]
    obj["headers"][f"x-runs-{stage}"] = [{"key": f"X-Runs-{stage}", "value": runs}]
    return obj  # type: ignore[no-any-return]


def generate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """viewer-request or origin-request: a generated response whose body is this stage's run count."""
    _cf, stage, runs = _count(event)
    return {"status": "200", "headers": {
        "content-type": [{"key": "Content-Type", "value": "application/json"}],
        "cache-control": [{"key": "Cache-Control", "value": "max-age=300"}],
    }, "body": json.dumps({"stage": stage, "runs": int(runs)})}
