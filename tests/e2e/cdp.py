"""A small Chrome DevTools Protocol client: headless Debian Chromium, driven over a WebSocket.

No browser download and no new dependency: the WebSocket framing is ``wsproto``, which the
gateway already has through hypercorn. Only what the CORS browser test needs: open a page, run
JavaScript in it and read the value back (https://chromedevtools.github.io/devtools-protocol/).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, RejectConnection, Request, TextMessage

# The machine notes' flags: without the background-networking ones Chromium keeps dialling hosts
# that this closed network refuses. --no-sandbox because tests run as root.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


class CdpError(RuntimeError):
    """The browser answered a command with an error, or did not answer in time."""


class WebSocket:
    """A blocking text-message WebSocket client on one TCP connection."""

    def __init__(self, host: str, port: int, path: str, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock.sendall(self.ws.send(Request(host=f"{host}:{port}", target=path)))
        self.pending: list[str] = []
        self.partial = ""
        while True:
            event = self._next_event()
            if isinstance(event, AcceptConnection):
                return
            if isinstance(event, RejectConnection):
                raise CdpError(f"the browser refused the WebSocket ({event.status_code})")

    def _next_event(self) -> Any:
        for event in self.ws.events():
            return event
        while True:
            data = self.sock.recv(65536)
            if not data:
                raise CdpError("the browser closed the DevTools connection")
            self.ws.receive_data(data)
            for event in self.ws.events():
                return event

    def send(self, text: str) -> None:
        self.sock.sendall(self.ws.send(TextMessage(data=text)))

    def receive(self) -> str:
        while True:
            event = self._next_event()
            if isinstance(event, TextMessage):
                self.partial += event.data
                if event.message_finished:
                    text, self.partial = self.partial, ""
                    return text
            elif isinstance(event, Ping):
                self.sock.sendall(self.ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                raise CdpError("the browser closed the DevTools connection")

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the browser may be gone already
            self.sock.sendall(self.ws.send(CloseConnection(code=1000)))
        self.sock.close()


class Browser:
    """Headless Chromium with one page; ``evaluate`` runs JavaScript there and returns its value."""

    def __init__(self, executable: str, timeout: float = 20.0) -> None:
        self.timeout = timeout
        # Chromium's helper processes may still write here for a moment after the browser exits.
        self.profile = tempfile.TemporaryDirectory(prefix="lgw-chromium-", ignore_cleanup_errors=True)
        #: every event the browser sent (``{"method", "params", "sessionId"}``), in arrival order.
        self.events: list[dict[str, Any]] = []
        # A file, not a pipe: a chatty browser must never block on a full pipe.
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr,
            start_new_session=True,  # its own process group: close() ends the helpers it started too
        )
        try:
            port, path = self._devtools_address()
            self.ws = WebSocket("127.0.0.1", port, path, timeout)
            self.next_id = 0
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            self.call("Page.enable", session=self.session)
            self.call("Runtime.enable", session=self.session)
        except BaseException:
            self.close()
            raise

    def _devtools_address(self) -> tuple[int, str]:
        """Chromium writes the chosen port and the browser target's path to DevToolsActivePort."""
        marker = Path(self.profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stderr.seek(0)
                err = self.stderr.read().decode(errors="replace")
                raise CdpError(f"chromium exited with {self.proc.returncode}: {err[-2000:]}")
            lines = marker.read_text().splitlines() if marker.exists() else []
            if len(lines) >= 2:
                return int(lines[0]), lines[1]
            time.sleep(0.05)
        raise CdpError("chromium did not open its DevTools port in time")

    def call(self, method: str, *, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its result; events that arrive meanwhile go to ``events``."""
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            answer = json.loads(self.ws.receive())
            if "method" in answer:
                self.events.append(answer)
            elif answer.get("id") == self.next_id:
                if "error" in answer:
                    raise CdpError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result
        raise CdpError(f"{method}: no answer within {self.timeout} s")

    def goto(self, url: str) -> None:
        """Load ``url`` and wait until its document has finished loading."""
        self.call("Page.navigate", session=self.session, url=url)
        deadline = time.monotonic() + self.timeout
        while self.evaluate("document.readyState") != "complete" or self.evaluate("location.href") != url:
            if time.monotonic() > deadline:
                raise CdpError(f"{url} did not load in time")
            time.sleep(0.05)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = self.call("Runtime.evaluate", session=self.session, expression=expression,
                           awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise CdpError(f"JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        """Ask the browser to quit, then end what is left of the process group this object started."""
        ws = getattr(self, "ws", None)
        if ws is not None:
            with contextlib.suppress(Exception):  # the browser may be gone already
                self.ws.send(json.dumps({"id": 0, "method": "Browser.close", "params": {}}))
            ws.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # helpers still running in the group, if any
        self.stderr.close()
        self.profile.cleanup()
