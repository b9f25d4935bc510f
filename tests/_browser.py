"""A minimal headless-Chromium driver over the DevTools protocol (for the report test)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

#: Flags that keep Chromium off the network and quiet in a sandbox.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page:
    """Load one file, collect console errors and exceptions, evaluate expressions."""

    def __init__(self, url: str) -> None:
        import websocket

        self.port = _free_port()
        self.profile = tempfile.mkdtemp(prefix="so-chromium-")
        self.proc = subprocess.Popen([chromium_path(), *CHROMIUM_FLAGS, f"--remote-debugging-port={self.port}",
                                      f"--user-data-dir={self.profile}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        target = self._target()
        self.ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=30)
        self._id = 0
        self.errors: list[str] = []
        self.call("Runtime.enable")
        self.call("Log.enable")
        self.call("Page.enable")
        self.call("Page.navigate", url=url)
        self._wait_for("Page.loadEventFired", 60)

    def _target(self) -> dict[str, Any]:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json") as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page"]
                if pages:
                    return pages[0]
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("chromium did not start")

    def _handle(self, msg: dict[str, Any]) -> None:
        method = msg.get("method")
        if method == "Runtime.consoleAPICalled" and msg["params"]["type"] in ("error", "assert"):
            self.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in msg["params"]["args"]))
        elif method == "Runtime.exceptionThrown":
            self.errors.append(msg["params"]["exceptionDetails"].get("text", "exception"))
        elif method == "Log.entryAdded" and msg["params"]["entry"]["level"] == "error":
            self.errors.append(msg["params"]["entry"].get("text", "log error"))

    def _wait_for(self, method: str, timeout: float) -> dict[str, Any]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            msg = json.loads(self.ws.recv())
            self._handle(msg)
            if msg.get("method") == method:
                return msg
        raise TimeoutError(method)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            self._handle(msg)
            if msg.get("id") == self._id:
                return msg.get("result", {})

    def evaluate(self, expression: str) -> Any:
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return res.get("result", {}).get("value")

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            shutil.rmtree(self.profile, ignore_errors=True)


def page(path: Path) -> Page:
    return Page(path.resolve().as_uri())
