"""MCP tools' inline (base64 data: URL) inputs go through the upload limits: demo/mcp_inputs.py.

Unit tests on `InlineInputs`, then the real `python app.py --mcp` with a small temp-folder cap, driven over raw
HTTP (JSON-RPC to /gradio_api/mcp/) by concurrent callers, and by gradio_client afterwards."""

from __future__ import annotations

import base64
import http.client
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import ASSETS_DIR, MCP_MAX_FILE_SIZE_MB, MCP_MAX_TEMP_MB, AppServer
from demo.mcp_inputs import FAILED_MESSAGE, FULL_MESSAGE, InlineInputs, InlineRefused, safe_error_text
from demo.temp_files import folder_bytes

MB = 2**20


def data_url(payload: bytes, media: str = "image/jpeg") -> str:
    return f"data:{media};base64,{base64.b64encode(payload).decode('ascii')}"


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_an_inline_input_over_the_size_limit_is_refused_before_it_is_decoded_or_written(tmp_path):
    inline = InlineInputs(str(tmp_path), max_file_bytes=1 * MB, max_folder_bytes=None)
    with pytest.raises(InlineRefused, match="larger than the server's upload limit"):
        inline.save("data:image/png;base64," + "A" * (2 * MB))  # 1.5 MB once decoded
    for bad in ["data:image/png;base64,***", "data:image/png;base64,", "data:image/png,rawbytes", "file:///etc/passwd"]:
        with pytest.raises(InlineRefused, match="base64 data: URL"):
            inline.save(bad)
    assert files_under(tmp_path) == []


def test_inline_inputs_keep_room_for_ordinary_uploads_and_leave_nothing_behind(tmp_path):
    (tmp_path / "already.bin").write_bytes(b"x" * (2 * MB))
    inline = InlineInputs(str(tmp_path), max_file_bytes=1 * MB, max_folder_bytes=8 * MB)
    image = (ASSETS_DIR / "receipt.jpg").read_bytes()
    path = inline.save(data_url(image))
    assert Path(path).read_bytes() == image and str(tmp_path) in path
    # 2 MB there + this one's loopback copy to come: each further call needs 2 x its size + 1 MB kept free.
    paths = [path]
    with pytest.raises(InlineRefused, match="upload space is full"):
        for _ in range(100):
            paths.append(inline.save(data_url(image + os.urandom(800_000))))
    assert folder_bytes(tmp_path) + inline._pending <= 8 * MB
    count = len(files_under(tmp_path))
    # what the loopback client would have uploaded: <sha>/<same name>
    (tmp_path / "abc123").mkdir()
    (tmp_path / "abc123" / Path(path).name).write_bytes(image)
    inline.finish([(p, Path(p).stat().st_size) for p in paths])
    assert files_under(tmp_path) == [tmp_path / "already.bin"] and count == 1 + len(paths)
    assert inline._pending == 0 and not (tmp_path / "abc123").exists()


def test_error_texts_never_name_urls_hosts_or_paths():
    for leaky in [
        "Server error '503 Service Unavailable' for url 'http://127.0.0.1:7860/gradio_api/upload'",
        "cannot open /tmp/ocr-demo/ocr-demo-abc/x.png",
        "connect to localhost failed",
    ]:
        assert safe_error_text(leaky) == FAILED_MESSAGE
    assert safe_error_text(FULL_MESSAGE) == FULL_MESSAGE
    assert safe_error_text("This file is not an image in a supported format (JPEG, PNG).") != FAILED_MESSAGE


# --- the real server ----------------------------------------------------------------------------------

# The session's MCP server (tests/conftest.py `mcp_server`): temp space and upload limit set below the MCP
# transport's 4 MB bodies, where the app's own limits are the ones that answer.
CAP_MB = MCP_MAX_TEMP_MB  # 16
FILE_LIMIT_MB = MCP_MAX_FILE_SIZE_MB  # 2


@pytest.fixture(scope="module")
def server(mcp_server: AppServer) -> AppServer:
    return mcp_server


def call_tool(server: AppServer, image: str, timeout: float = 300) -> tuple[bool, str]:
    """One stateless JSON-RPC tools/call over raw HTTP: (is_error, the text the client is shown)."""
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ocr", "arguments": {"image": image}}}
    ).encode()
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(
            "POST", "/gradio_api/mcp/", body=body,
            headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
        )
        response = connection.getresponse()
        raw = response.read().decode("utf-8", "replace")
    finally:
        connection.close()
    messages = [json.loads(line[5:]) for line in raw.splitlines() if line.startswith("data:")] or [json.loads(raw)]
    message = messages[-1]
    if "error" in message:
        return True, json.dumps(message["error"])
    result = message["result"]
    return bool(result.get("isError")), " ".join(item.get("text", "") for item in result.get("content", []))


def instance_folder(server: AppServer) -> Path:
    (folder,) = [path for path in (server.temp_dir / "gradio").iterdir() if path.is_dir()]
    return folder


@pytest.mark.slow
def test_a_flood_of_base64_images_is_held_to_the_cap_and_uploads_still_work(server):
    folder = instance_folder(server)
    receipt = (ASSETS_DIR / "receipt.jpg").read_bytes()
    # 24 distinct 1.5 MB JPEGs (random bytes after the image: still valid), as in the report (3 MB there).
    images = [data_url(receipt + os.urandom(3 * MB // 2 - len(receipt))) for _ in range(24)]
    too_big = data_url(receipt + os.urandom(FILE_LIMIT_MB * MB + MB // 2))

    before = folder_bytes(folder)
    error, text = call_tool(server, too_big)
    assert error and "larger than the server's upload limit" in text, text
    assert folder_bytes(folder) == before  # refused before anything was written

    peak = [folder_bytes(folder)]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak.append(folder_bytes(folder))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=12) as pool:
            outcomes = list(pool.map(lambda image: call_tool(server, image), images))
    finally:
        stop.set()
        watcher.join()
    refused = [text for error, text in outcomes if error]
    read = [text for error, text in outcomes if not error]
    assert refused and all(FULL_MESSAGE in text for text in refused), refused[:3]
    assert read and all("CORNER" in text for text in read), read[:1]
    assert max(peak) <= CAP_MB * MB, f"the temp folder reached {max(peak) / MB:.1f} MB (cap {CAP_MB} MB)"
    for text in refused + [text for _, text in [call_tool(server, too_big), call_tool(server, "http://127.0.0.1:9/x.png")]]:
        assert "127.0.0.1" not in text and "localhost" not in text and "/tmp" not in text, text

    leftovers = [path for path in files_under(folder) if "mcp-inline" in path.name]
    assert leftovers == [], leftovers  # both copies of every inline image are gone after its call
    assert folder_bytes(folder) <= before + MB

    status, body = server.post_upload("after.jpg", receipt, "image/jpeg")  # an ordinary upload still fits
    assert status == 200, body
    from gradio_client import Client, handle_file

    client = Client(server.url, verbose=False, analytics_enabled=False)
    try:
        assert "CORNER" in json.dumps(client.predict(handle_file(ASSETS_DIR / "receipt.jpg"), api_name="/ocr"))
    finally:
        client.close()
