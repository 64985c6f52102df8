"""Shared test helpers for the demo app: a fake OCR engine, the real app in a subprocess (AppServer), a
free loopback port and polling with a deadline (`wait_for`)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any

import numpy as np
import pytest

from bench.app_server import AppServer as RunningApp
from bench.app_server import free_port, start_app  # noqa: F401  (free_port: for tests that need a port)
from bench.sample_images import jpeg_scan_bomb  # noqa: F401  (imported from here by the decoder tests)
from ocr_model.types import Predictions

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO_ROOT / "assets"


class FakeEngine:
    """Stands in for `ocr_model.get_model()` in unit tests: two boxes at fixed fractions
    of the image (so their pixel coordinates depend on the image size), and a call log."""

    device = "fake-cpu"

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def predict(self, image: np.ndarray, **options: Any) -> Predictions:
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError("expected an HxWx3 uint8 image")
        height, width = image.shape[:2]
        self.calls.append({"shape": image.shape, "options": dict(options)})

        def box(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
            return np.array(
                [[x0 * width, y0 * height], [x1 * width, y0 * height], [x1 * width, y1 * height], [x0 * width, y1 * height]],
                dtype=np.float32,
            )

        return Predictions(
            polygons=[box(0.1, 0.1, 0.63, 0.2), box(0.13, 0.41, 0.87, 0.53)],
            texts=["HELLO", "WORLD"],
            confidences=[0.95, 0.6],
            image_size=(height, width),
            timings={"detection": 0.01, "recognition": 0.02},
            device=self.device,
        )


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


# Fixtures that start the real app: a test that uses one (directly or through a module's `server`) is slow,
# so a module may keep its unit tests in the quick subset without marking each server test by hand.
SERVER_FIXTURES = frozenset({"shared_server", "mcp_server"})


def pytest_configure(config: pytest.Config) -> None:
    # A suite started in the background by a non-interactive shell (`cmd &`) inherits SIGINT ignored, and exec
    # passes an ignored signal on to every child (the app, the bulk CLI), which then never sees the Ctrl-C the
    # interruption tests send. With a handler here, children start with the default disposition, as from a
    # terminal.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


# The settings of the one app server shared by the server tests that need no settings of their own
# (`shared_server`): uploads up to 1 MB (so a 413 needs little data), batches of up to 3 files, images shown
# at most 800 px (smaller than the receipt's 1060 px height, so /run must downscale it).
SHARED_MAX_FILE_SIZE = "1mb"
SHARED_MAX_BATCH_FILES = 3
SHARED_MAX_DISPLAY_SIZE = 800
# The MCP server's (`mcp_server`): temp space held to 16 MB, uploads up to 2 MB. The MCP transport takes
# bodies up to 4 MB (about 3 MB of image once base64), so the upload limit is set below that, where the
# app's own limit is the one that answers.
MCP_MAX_TEMP_MB = 16
MCP_MAX_FILE_SIZE_MB = 2
# The browser tests' (`browser_app_server`): uploads up to 3 MB, so the oversized-upload test needs only 4 MB.
BROWSER_MAX_FILE_SIZE = "3mb"


def wait_for(condition: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    """Poll `condition` until it returns something truthy or `timeout` seconds pass; returns its last value.

    Instead of a fixed sleep: a wait for something to happen ends when it does, and a check that something
    does NOT happen fails as soon as it does."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


class AppServer:
    """`python app.py` in a subprocess on a free loopback port (bench/app_server.py `start_app`), with its
    temp folder under `temp_dir`/gradio, and the HTTP helpers the server tests share."""

    def __init__(self, temp_dir: Path, extra_args: tuple[str, ...] = (), env: dict[str, str] | None = None) -> None:
        self.temp_dir = temp_dir
        self.log_path = temp_dir / "server.log"
        self.extra_args = extra_args
        self.env = env or {}
        self.app: RunningApp | None = None

    def __enter__(self) -> "AppServer":
        env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", **self.env)
        self.app = start_app(self.temp_dir, self.extra_args, startup_timeout_s=240, env=env, temp_dir=self.temp_dir / "gradio")
        return self

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def process(self) -> subprocess.Popen:
        return self.running.process

    @property
    def running(self) -> RunningApp:
        if self.app is None:
            raise RuntimeError("the server is not started: use `with AppServer(...) as server`")
        return self.app

    def post_upload(self, name: str, payload: bytes, content_type: str = "application/octet-stream") -> tuple[int, bytes]:
        """POST one file to Gradio's upload route as a browser would; returns (status, body)."""
        boundary = uuid.uuid4().hex
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode() + payload + f"\r\n--{boundary}--\r\n".encode()
        parts = urlsplit(self.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            connection.request(
                "POST", "/gradio_api/upload", body=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
            )
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def endpoint(self, api_name: str) -> tuple[int, int]:
        """(fn_index, trigger_id) of the event with this api_name, read from the server's /config."""
        with urllib.request.urlopen(self.url + "config", timeout=30) as response:
            config = json.loads(response.read())
        for dependency in config["dependencies"]:
            if dependency.get("api_name") == api_name.lstrip("/"):
                targets = dependency.get("targets") or [[None]]
                return int(dependency["id"]), targets[0][0]
        raise KeyError(f"no event with api_name {api_name!r}")

    def queue_call(
        self,
        api_name: str,
        data: list[Any],
        timeout: float = 300,
        events: list[tuple[float, str]] | None = None,
        session_hash: str | None = None,
        event_data: Any = None,
    ) -> dict[str, Any]:
        """Run one event through Gradio's queue with raw HTTP, as any script could.

        POST /gradio_api/queue/join with a hand-made payload, then read the event stream until the
        result. Returns the final message: {"success": bool, "output": {...}} (plus "status" and "body"
        when the join itself was refused). `events` collects (time.monotonic(), msg) of every message.
        `session_hash`: the session to run in (e.g. a gradio_client Client's), default a new one;
        `event_data`: what the page sends with the event (a gallery's select: {"index": 0, ...}).
        """
        fn_index, trigger_id = self.endpoint(api_name)
        session_hash = session_hash or uuid.uuid4().hex[:11]
        payload = {"data": data, "fn_index": fn_index, "trigger_id": trigger_id, "session_hash": session_hash}
        if event_data is not None:
            payload["event_data"] = event_data
        body = json.dumps(payload)
        parts = urlsplit(self.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        try:
            connection.request("POST", "/gradio_api/queue/join", body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
            if response.status != 200:
                return {"success": False, "status": response.status, "body": answer.decode(errors="replace")}
            connection.request("GET", f"/gradio_api/queue/data?session_hash={session_hash}")
            stream = connection.getresponse()
            while True:
                line = stream.readline()
                if not line:
                    raise RuntimeError("event stream ended without a result")
                if not line.startswith(b"data:"):
                    continue
                message = json.loads(line[5:])
                if events is not None:
                    events.append((time.monotonic(), str(message.get("msg"))))
                if message.get("msg") == "process_completed":
                    return message
        finally:
            connection.close()

    def log(self) -> str:
        return self.running.log_tail(4000)

    def __exit__(self, *exc_info: object) -> None:
        if self.app is not None:
            self.app.stop()


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """One real app (`python app.py --max-file-size 1mb --max-batch-files 3 --max-display-size 800`, the real
    model) for every test module that asks for it (file access, documents, hardening, upload gate, temp files,
    ui/test_server): starting one costs about 10 s and stopping it a few more, once per session instead of once
    per module. Modules that need other settings (MCP, PDF limits, temp space, the browser's upload limit,
    checkpoints) or a server of their own (sweeps, signals) start their own."""
    args = (
        "--max-file-size", SHARED_MAX_FILE_SIZE,
        "--max-batch-files", str(SHARED_MAX_BATCH_FILES),
        "--max-display-size", str(SHARED_MAX_DISPLAY_SIZE),
    )
    with AppServer(tmp_path_factory.mktemp("shared-server"), extra_args=args) as app:
        yield app


@pytest.fixture(scope="session")
def mcp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """One real app with the MCP server on (`--mcp --max-temp-mb 16 --max-file-size 2mb`) for the MCP tests
    (tests/demo/test_mcp_inputs.py, tests/demo/ui/test_mcp.py), started once per session."""
    args = ("--mcp", "--max-temp-mb", str(MCP_MAX_TEMP_MB), "--max-file-size", f"{MCP_MAX_FILE_SIZE_MB}mb")
    with AppServer(tmp_path_factory.mktemp("mcp-server"), extra_args=args) as app:
        yield app


@pytest.fixture(scope="session")
def browser_app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """One real app (`--max-file-size 3mb`) for the browser tests (tests/demo/ui/test_browser.py and the modules
    that import its `server` fixture, such as test_browser_reading_view.py), started once per session. Ask for it
    after the `browser` fixture, so that no app starts when there is no browser and the tests skip."""
    with AppServer(tmp_path_factory.mktemp("browser-server"), extra_args=("--max-file-size", BROWSER_MAX_FILE_SIZE)) as app:
        yield app
