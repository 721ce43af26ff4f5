"""CloudFront's CreateInvalidation on the admin listener: ``POST /distributions/<name>/invalidations``.

The body is JSON: ``{"paths": ["/img/*", "/index.html"]}``, or the InvalidationBatch the AWS CLI
takes (``{"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": "..."}``). The answer is
CreateInvalidation's result as the AWS CLI prints it (201, ``Location``, ``Invalidation`` with
``Id``, ``Status``, ``CreateTime``, ``InvalidationBatch``); the local cache is cleared at once, so
the status is already ``Completed``. Bad paths get 400 with CloudFront's ``InvalidArgument``.
https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateInvalidation.html
"""

from __future__ import annotations

import datetime
import json
import secrets
import string
from collections.abc import Sequence
from typing import Any, Protocol

from edge.cache import EdgeCache
from edge.config import DistributionConfig
from gateway.models import HttpRequest, HttpResponse

ID_ALPHABET = string.ascii_uppercase + string.digits


class HasCache(Protocol):
    """What the endpoint needs of a distribution front (edge/distribution.py)."""

    cache: EdgeCache
    cfg: DistributionConfig


def new_invalidation_id() -> str:
    """An id shaped like CloudFront's (``I`` and 13 upper-case letters and digits) [INF]."""
    return "I" + "".join(secrets.choice(ID_ALPHABET) for _ in range(13))


def create_invalidation(front: HasCache, request: HttpRequest) -> HttpResponse:
    try:
        doc = json.loads(request.body or b"{}")
        paths, caller = _batch(doc)
        paths = check_invalidation_paths(paths)
    except (ValueError, TypeError) as exc:
        return _json(400, {"Error": {"Type": "Sender", "Code": "InvalidArgument", "Message": str(exc)}})
    front.cache.invalidate(paths)
    inv_id = new_invalidation_id()
    now = datetime.datetime.now(datetime.UTC)
    location = (f"https://cloudfront.amazonaws.com/2020-05-31/distribution/{front.cfg.distribution_id}"
                f"/invalidation/{inv_id}")
    result = {"Location": location, "Invalidation": {
        "Id": inv_id, "Status": "Completed", "CreateTime": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now:%f}"[:3] + "Z",
        "InvalidationBatch": {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": caller},
    }}
    response = _json(201, result)
    return HttpResponse(status=201, headers=(*response.headers, ("Location", location)), body=response.body)


def _batch(doc: Any) -> tuple[list[Any], str]:
    if not isinstance(doc, dict):
        raise ValueError("the body must be a JSON object with 'paths' or 'Paths'")
    caller = doc.get("CallerReference") or f"gateway-{secrets.token_hex(8)}"
    if "paths" in doc:
        paths = doc["paths"]
    elif isinstance(doc.get("Paths"), dict):
        paths = doc["Paths"].get("Items")
    else:
        raise ValueError("the body must be a JSON object with 'paths' or 'Paths'")
    if not isinstance(paths, list):
        raise ValueError("paths must be a list of strings")
    return paths, str(caller)


def _json(status: int, doc: dict[str, Any]) -> HttpResponse:
    return HttpResponse(status=status, headers=(("Content-Type", "application/json"),),
                        body=json.dumps(doc, indent=4).encode())


def check_invalidation_paths(paths: Sequence[object]) -> list[str]:
    """CloudFront's rules for invalidation paths; raises ValueError naming the bad one.
    https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/invalidation-specifying-objects.html
    """
    if not paths:
        raise ValueError("at least one path is required")
    out = []
    for path in paths:
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"invalidation path {path!r} must be a string starting with '/'")
        if "*" in path[:-1]:
            raise ValueError(f"invalidation path {path!r}: '*' is allowed only as the last character")
        out.append(path)
    return out
