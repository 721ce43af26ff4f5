"""Authentication and authorization as AWS does it: SigV4 (``sigv4``, pure); later IAM policies, JWT, CORS.

``RouteAuth`` is the per-route registry of one front: at start each route that needs auth gets a
checker (a JWT or Lambda authorizer, ``authorizers.py``; IAM); per request the front's
``authorize`` step asks the matched route's checker, which returns the caller's ``Authorization``
(rendered by the event formats) or raises the AuthError AWS answers with.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from gateway.models import Authorization, HttpRequest, InvocationContext, RouteMatch


class RouteAuthorizer(Protocol):
    """Guards routes: ``check`` returns who the caller is (None: nothing to add) or raises AuthError."""

    async def check(self, request: HttpRequest, match: RouteMatch, ctx: InvocationContext) -> Authorization | None:
        ...


class RouteAuth:
    """Which checker guards which route of one front, fixed at start (STYLE H4).

    Keyed by the route's config object (``RouteMatch.route``), which lives as long as the front."""

    def __init__(self) -> None:
        self._checkers: dict[int, RouteAuthorizer] = {}
        self._routes: list[object] = []  # keeps the route objects alive, so their ids stay theirs

    def add(self, route: object, checker: RouteAuthorizer) -> None:
        self._checkers[id(route)] = checker
        self._routes.append(route)

    def __bool__(self) -> bool:
        return bool(self._checkers)

    async def authorize(self, request: HttpRequest, match: RouteMatch, ctx: InvocationContext) -> RouteMatch:
        checker = self._checkers.get(id(match.route))
        if checker is None:
            return match
        auth = await checker.check(request, match, ctx)
        return match if auth is None else dataclasses.replace(match, auth=auth)
