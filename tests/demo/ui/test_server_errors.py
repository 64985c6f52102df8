"""Failures inside a request, through a real Gradio server (in this process, fake engine, auth on).

The engine here can be told to run out of GPU memory or to crash, which a real model on CPU cannot do on
demand. What is checked is what a user of the server sees: a short message, never a traceback or the
internals of the error, and the next request works.
"""

from __future__ import annotations

import http.client
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
import torch
from gradio_client import Client, handle_file
from PIL import Image

from conftest import FakeEngine, free_port
from demo import build_demo
from demo.config import AppConfig, launch_kwargs
from demo.handlers import OUT_OF_MEMORY_MESSAGE
from ocr_model import runtime

pytestmark = pytest.mark.slow  # starts the app (fake engine) and serves it in this process

USER, PASSWORD = "ana", "s3cret-pass"
INTERNAL_DETAIL = "Tried to allocate 20.00 GiB; see /srv/secret/model_internals.py line 42"
LEAKS = ("Traceback", "File \"", "secret", "Tried to allocate", "RuntimeError", "OutOfMemoryError", "torch")


class ScriptedEngine(FakeEngine):
    """FakeEngine that fails on demand: `next_failure` is raised by the next predict call only."""

    def __init__(self) -> None:
        super().__init__()
        self.next_failure: BaseException | None = None
        self.last_image: weakref.ref[np.ndarray] | None = None

    def predict(self, image: np.ndarray, **options: Any):
        self.last_image = weakref.ref(image)
        failure, self.next_failure = self.next_failure, None
        if failure is not None:
            raise failure
        return super().predict(image, **options)


@pytest.fixture(scope="module")
def engine() -> ScriptedEngine:
    return ScriptedEngine()


@pytest.fixture(scope="module")
def server_url(engine: ScriptedEngine) -> Iterator[str]:
    config = AppConfig(port=free_port(), auth=f"{USER}:{PASSWORD}")
    blocks = build_demo(model=engine, config=config)
    blocks.launch(**launch_kwargs(config), prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{config.port}/"
    finally:
        blocks.close()


@pytest.fixture(scope="module")
def client(server_url: str) -> Iterator[Client]:
    api = Client(server_url, auth=(USER, PASSWORD), verbose=False, download_files=False, analytics_enabled=False)
    yield api
    api.close()


@pytest.fixture(scope="module")
def image_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inputs") / "page.png"
    Image.new("RGB", (200, 120), (240, 240, 240)).save(path)
    return path


def ocr(client: Client, image_path: Path) -> dict[str, Any]:
    return client.predict(handle_file(str(image_path)), api_name="/ocr")


def assert_no_leak(message: str) -> None:
    for leak in LEAKS:
        assert leak not in message, f"{leak!r} reached the client: {message!r}"


def test_a_normal_request_works(client: Client, image_path: Path) -> None:
    result = ocr(client, image_path)
    assert [line["text"] for line in result["lines"]] == ["HELLO", "WORLD"]


def test_gpu_out_of_memory_is_a_short_message_memory_is_released_and_the_next_request_works(
    client: Client, engine: ScriptedEngine, image_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image_freed_when_cache_emptied: list[bool] = []

    def fake_empty_cache() -> None:
        image = engine.last_image() if engine.last_image is not None else None
        image_freed_when_cache_emptied.append(image is None)

    monkeypatch.setattr(runtime.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(runtime.torch.cuda, "empty_cache", fake_empty_cache)
    engine.next_failure = torch.cuda.OutOfMemoryError(f"CUDA out of memory. {INTERNAL_DETAIL}")

    with pytest.raises(Exception) as caught:
        ocr(client, image_path)

    message = str(caught.value)
    assert OUT_OF_MEMORY_MESSAGE in message
    assert_no_leak(message)
    # Emptied once, and only after the failed call's full-size image was no longer referenced by anything
    # (the exception's traceback would pin it if the cache were emptied inside the except block).
    assert image_freed_when_cache_emptied == [True]
    monkeypatch.undo()
    assert len(ocr(client, image_path)["lines"]) == 2


def test_an_unexpected_crash_shows_no_internals_and_the_server_keeps_serving(
    client: Client, engine: ScriptedEngine, image_path: Path
) -> None:
    engine.next_failure = RuntimeError(f"internal failure: {INTERNAL_DETAIL}")
    with pytest.raises(Exception) as caught:
        ocr(client, image_path)
    assert_no_leak(str(caught.value))
    assert len(ocr(client, image_path)["lines"]) == 2


def test_the_app_refuses_requests_without_the_password(server_url: str, image_path: Path) -> None:
    parts = urlsplit(server_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", "/config")
        response = connection.getresponse()
        response.read()
        assert response.status in (401, 403)
    finally:
        connection.close()
    with pytest.raises(Exception):
        Client(server_url, auth=(USER, "wrong"), verbose=False, download_files=False, analytics_enabled=False)


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("empty.png", b"", "The file is empty (0 bytes), not an image."),
        ("notes.png", b"Shopping list\n- milk\n- bread\n" * 10, "This looks like a text file, not an image."),
        ("archive.png", b"PK\x03\x04" + b"\x00" * 200, "This is a ZIP archive, not an image."),
    ],
)
@pytest.mark.parametrize("endpoint", ["/ocr", "/run"])
def test_non_images_reach_the_apps_decoder_and_get_its_message(
    client: Client, tmp_path: Path, image_path: Path, name: str, payload: bytes, message: str, endpoint: str
) -> None:
    # Stock gr.Image would open these with Pillow before the handler runs and show a generic error.
    bad = tmp_path / name
    bad.write_bytes(payload)
    arguments = (handle_file(str(bad)),) if endpoint == "/ocr" else (handle_file(str(bad)), "auto", 1600, 0.0, False)
    with pytest.raises(Exception) as caught:
        client.predict(*arguments, api_name=endpoint)
    assert message in str(caught.value)
    assert_no_leak(str(caught.value))
    assert len(ocr(client, image_path)["lines"]) == 2
