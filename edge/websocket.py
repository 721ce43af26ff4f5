"""WebSocket upgrades through a distribution, proxied to its HTTP origin (the ``websockets`` client).

CloudFront passes WebSocket upgrades to a custom origin and relays frames both ways; the handshake is
the origin's: the viewer's subprotocols reach it, its choice comes back, and its refusal (any answer
but 101) reaches the viewer as it was sent. The proxy never completes a handshake on its own: the
origin's connection is opened first and the viewer is accepted only when the origin accepted.
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/distribution-working-with.websockets.html

Choices where the documentation is silent, all [INF]:
- The upgrade request goes through the behavior's viewer-request and origin-request functions like
  any request (functions run per HTTP request, and the upgrade is one); a generated response refuses
  the upgrade with that response. origin-response and viewer-response do not run on a 101, and a
  refusal is passed back as the origin sent it, with CloudFront's headers.
- A behavior whose origin is not an HTTP upstream (another front, a directory as S3) answers the
  upgrade as the plain GET it also is, through the normal path: the handshake fails with that answer.
- The origin sees the origin's own Host (as with the ``AllViewerExceptHostHeader`` policy, even when
  the behavior forwards the viewer's Host), the viewer's other headers and CloudFront's
  (X-Forwarded-For, Via, X-Amz-Cf-Id, custom origin headers). Each hop negotiates its own extensions:
  the gateway offers none to the origin.
- Close codes pass through both ways with their reasons. Codes a close frame cannot carry: an origin
  that vanished without a close frame (1006) closes the viewer with 1011, one that sent an empty close
  frame (1005) with 1000; a viewer that vanished (1006) closes the origin with 1001 (going away), an
  empty close frame (1005) with 1000. The viewer's code needs a server that reports it: uvicorn does;
  hypercorn (0.18) reports 1006 for every viewer close (pgjones/hypercorn#127), so under hypercorn the
  origin sees 1001.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from edge.events import EdgeRequest, EdgeResponse
from edge.origins import SERVER_WRITTEN, HttpOrigin, _event_custom_headers, _event_path, edge_request
from gateway.errors import GatewayError
from gateway.models import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

    from edge.distribution import Behavior, DistributionFront

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("gateway.edge")

#: Largest message relayed in either direction (hypercorn's own default for the viewer's side).
MAX_MESSAGE = 16 * 1024 * 1024
#: Request headers the websockets client writes itself for its own handshake with the origin.
HANDSHAKE = frozenset({"host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version",
                       "sec-websocket-protocol", "sec-websocket-extensions", "sec-websocket-accept"})
#: Close codes a close frame may carry (RFC 6455 §7.4.1; 3000-4999 are the applications').
SENDABLE = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014})
MISSING = "the websockets library is not installed: pip install 'lambda-gateway[websocket]'"


def sendable(code: int | None, vanished: int = 1011) -> int:
    """A close code as a close frame can carry it; ``vanished`` stands for 1006 (see the module's notes)."""
    if code is not None and (code in SENDABLE or 3000 <= code < 5000):
        return code
    return 1000 if code == 1005 else vanished


def subprotocols(req: EdgeRequest) -> list[str]:
    """The viewer's Sec-WebSocket-Protocol offers, in order (after any function changed them)."""
    return [p.strip() for n, v in req.headers if n.lower() == "sec-websocket-protocol" for p in v.split(",")
            if p.strip()]


async def proxy_websocket(
    front: DistributionFront, request: HttpRequest, scope: MutableMapping[str, Any], receive: Receive, send: Send
) -> None:
    """Serve one WebSocket upgrade on a distribution's listener."""
    if (await receive())["type"] != "websocket.connect":
        return
    refuse = _refuser(scope, send)
    behavior = front.match(request.path)
    if not isinstance(front.origin(behavior.cfg.origin), HttpOrigin):
        await refuse(await front.handle(request))
        return
    try:
        opened = await _open(front, behavior, request)
    except GatewayError as exc:
        front.explain(exc, request)
        await refuse(front.render_error(exc, request, front.new_ctx()))
        return
    except Exception:  # a bug in the gateway must not take the server down, nor leave the viewer hanging
        log.exception("distribution %r: unexpected error on a WebSocket upgrade to %s", front.name, request.path)
        await refuse(HttpResponse(status=500, headers=(("Content-Type", "text/plain"),), body=b"Internal error"))
        return
    if isinstance(opened, HttpResponse):
        await refuse(opened)
        return
    upstream, cf_id = opened
    try:
        headers = [(n.lower().encode("latin-1"), v.encode("utf-8", "surrogateescape"))
                   for n, v in (*_kept(upstream.response.headers.raw_items() if upstream.response else ()),
                                *front._cf_headers("Miss", cf_id))]
        await send({"type": "websocket.accept", "subprotocol": upstream.subprotocol, "headers": headers})
        await relay(upstream, receive, send)
    finally:
        await _close(upstream)


async def _open(
    front: DistributionFront, behavior: Behavior, request: HttpRequest
) -> tuple[ClientConnection, str] | HttpResponse:
    """Run the request stages and open the origin's WebSocket; a refusal comes back as the viewer's answer."""
    from edge.distribution import EdgeErrorResponse, new_cf_id

    try:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI
    except ImportError:
        log.warning("distribution %r: WebSocket upgrade refused: %s", front.name, MISSING)
        raise EdgeErrorResponse(502, "CloudFront wasn't able to connect to the origin.") from None
    cf_id = new_cf_id()
    hooks = behavior.hooks
    req = edge_request(request, "GET")
    viewer = await front._stage(hooks.on_request("viewer-request", req, front._config("viewer-request", cf_id)))
    if isinstance(viewer, EdgeResponse):
        return front._viewer_answer(viewer, hooks.generated("viewer-request"), cf_id)
    origin = front.origin(behavior.cfg.origin)
    req = dataclasses.replace(viewer, origin=origin.event_origin(),
                              headers=front._origin_headers(viewer, behavior.cfg, origin))
    sent = await front._stage(hooks.on_request("origin-request", req, front._config("origin-request", cf_id)))
    if isinstance(sent, EdgeResponse):
        return front._viewer_answer(sent, hooks.generated("origin-request"), cf_id)
    target = front._resolve(sent, origin)
    if not isinstance(target, HttpOrigin):
        raise EdgeErrorResponse(502, "CloudFront wasn't able to connect to the origin.")
    scheme = "wss" if target.scheme == "https" else "ws"
    uri = f"{scheme}://{target.host}{_event_path(sent, target.path)}{sent.uri}"
    if sent.querystring:
        uri += f"?{sent.querystring}"
    headers = [(n, v) for n, v in sent.headers if n.lower() not in HANDSHAKE]
    headers += [("X-Amz-Cf-Id", cf_id), *_event_custom_headers(sent)]
    offered = subprotocols(sent)
    try:
        upstream = await connect(
            uri, additional_headers=headers, subprotocols=offered or None,  # type: ignore[arg-type]
            compression=None, user_agent_header=None, proxy=None, ping_interval=None, max_size=MAX_MESSAGE,
            open_timeout=target.cfg.connect_timeout + target.cfg.read_timeout, close_timeout=2,
        )
    except InvalidStatus as exc:  # the origin refused: its answer goes back as it is
        answer = exc.response
        refusal = EdgeResponse(status=answer.status_code, headers=_kept(answer.headers.raw_items()),
                               body=bytes(answer.body), status_description=answer.reason_phrase)
        return front._viewer_answer(refusal, "Error" if answer.status_code >= 400 else "Miss", cf_id)
    except TimeoutError as exc:
        log.warning("distribution %r: WebSocket origin %s did not answer in time", front.name, uri)
        raise EdgeErrorResponse(504, "CloudFront attempted to establish a connection with the origin, but "
                                     "either the attempt failed or the origin closed the connection.") from exc
    except (OSError, InvalidHandshake, InvalidURI) as exc:
        log.warning("distribution %r: WebSocket origin %s failed: %r", front.name, uri, exc)
        raise EdgeErrorResponse(502, "CloudFront wasn't able to connect to the origin.") from exc
    return upstream, cf_id


def _kept(headers: Any) -> tuple[tuple[str, str], ...]:
    """The origin's response headers a server passes on (not the handshake's or hop-by-hop ones)."""
    return tuple((n, v) for n, v in headers
                 if n.lower() not in SERVER_WRITTEN and n.lower() not in HANDSHAKE and n.lower() != "server")


def _refuser(scope: MutableMapping[str, Any], send: Send) -> Callable[[HttpResponse], Awaitable[None]]:
    """Answers the upgrade with an HTTP response (the ASGI extension hypercorn and uvicorn offer), or
    with a plain 403 where the server has no such extension."""

    async def refuse(response: HttpResponse) -> None:
        if response.stream is not None:
            await response.stream.aclose()
        if "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = [(n.encode("latin-1"), v.encode("utf-8", "surrogateescape")) for n, v in response.headers]
        if response.status not in (204, 304):
            headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "websocket.http.response.start", "status": response.status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": response.body})

    return refuse


async def relay(upstream: ClientConnection, receive: Receive, send: Send) -> None:
    """Frames both ways until either side closes; its close code and reason go to the other side."""
    to_origin = asyncio.ensure_future(_viewer_to_origin(upstream, receive))
    to_viewer = asyncio.ensure_future(_origin_to_viewer(upstream, send))
    try:
        await asyncio.wait({to_origin, to_viewer}, return_when=asyncio.FIRST_COMPLETED)
        for task in (to_origin, to_viewer):
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.warning("WebSocket relay ended by an error: %r", task.exception())
    finally:  # either side's close (passed on to the other already) or error ends both directions
        for task in (to_origin, to_viewer):
            task.cancel()
        await asyncio.gather(to_origin, to_viewer, return_exceptions=True)


async def _viewer_to_origin(upstream: ClientConnection, receive: Receive) -> None:
    from websockets.exceptions import ConnectionClosed

    while True:
        message = await receive()
        if message["type"] == "websocket.receive":
            text = message.get("text")
            try:
                await upstream.send(text if text is not None else bytes(message.get("bytes") or b""))
            except ConnectionClosed:
                return  # the origin closed meanwhile: its close is on its way to the viewer
        elif message["type"] == "websocket.disconnect":
            await upstream.close(sendable(message.get("code", 1005), vanished=1001), message.get("reason") or "")
            return


async def _origin_to_viewer(upstream: ClientConnection, send: Send) -> None:
    from websockets.exceptions import ConnectionClosed

    try:
        async for data in upstream:
            if isinstance(data, str):
                await send({"type": "websocket.send", "text": data})
            else:
                await send({"type": "websocket.send", "bytes": data})
    except ConnectionClosed:
        pass
    code = upstream.close_code
    reason = (upstream.close_reason or "") if code not in (1005, 1006) else ""
    try:
        await send({"type": "websocket.close", "code": sendable(code), "reason": reason})
    except Exception as exc:  # the viewer is gone already
        log.debug("closing the viewer's WebSocket: %r", exc)


async def _close(upstream: ClientConnection) -> None:
    try:
        await upstream.close()
    except Exception as exc:  # teardown: nothing left to tell anyone
        log.debug("closing an origin WebSocket: %r", exc)
