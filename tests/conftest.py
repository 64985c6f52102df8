"""Shared test helpers for the demo app: a fake OCR engine and a free loopback port."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any

import numpy as np
import pytest

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


def jpeg_scan_bomb(size: int = 6300, repeats: int = 16000) -> bytes:
    """A white progressive JPEG whose smallest scan (~60 bytes) is repeated `repeats` times before EOI.

    libjpeg decodes every scan over the whole image: 2,000 repeats of a 6300x6300 page took 8 s to
    decode here, 16,000 about a minute, in a file of ~1 MB.
    """
    import io
    import re

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (size, size), 255).save(buffer, "JPEG", progressive=True, quality=90)
    data = buffer.getvalue()
    next_marker = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")
    scans, position = [], 2
    while position < len(data) and data[position + 1] != 0xD9:
        end = position + 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if data[position + 1] == 0xDA:
            end = next_marker.search(data, end).start()
            scans.append((position, end))
        position = end
    start, end = min(scans, key=lambda span: span[1] - span[0])
    last_end = scans[-1][1]
    return data[:last_end] + data[start:end] * repeats + data[last_end:]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AppServer:
    """`python app.py` in a subprocess on a free loopback port, with its own temp dir."""

    def __init__(self, temp_dir: Path, extra_args: tuple[str, ...] = (), env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.temp_dir = temp_dir
        self.log_path = temp_dir / "server.log"
        self.extra_args = extra_args
        self.env = env or {}
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "AppServer":
        env = dict(os.environ, OCR_TEMP_DIR=str(self.temp_dir / "gradio"), GRADIO_ANALYTICS_ENABLED="False", **self.env)
        command = [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(self.port), *self.extra_args]
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        self.__exit__(None, None, None)
        raise RuntimeError(f"app.py did not answer on {self.url} within 240 s:\n{self.log()}")

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
        self, api_name: str, data: list[Any], timeout: float = 300, events: list[tuple[float, str]] | None = None
    ) -> dict[str, Any]:
        """Run one event through Gradio's queue with raw HTTP, as any script could.

        POST /gradio_api/queue/join with a hand-made payload, then read the event stream until the
        result. Returns the final message: {"success": bool, "output": {...}} (plus "status" and "body"
        when the join itself was refused). `events` collects (time.monotonic(), msg) of every message.
        """
        fn_index, trigger_id = self.endpoint(api_name)
        session_hash = uuid.uuid4().hex[:11]
        body = json.dumps({"data": data, "fn_index": fn_index, "trigger_id": trigger_id, "session_hash": session_hash})
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
        return self.log_path.read_text(errors="replace")[-4000:]

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self._log.close()
