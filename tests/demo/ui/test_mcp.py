"""`python app.py --mcp`: the stateless /ocr endpoint as an MCP tool, called by an MCP client over HTTP."""

from __future__ import annotations

import ast
import asyncio
import base64
import os
import tempfile
from pathlib import Path

import pytest

from conftest import ASSETS_DIR, AppServer

mcp = pytest.importorskip("mcp", reason="the MCP client comes with gradio[mcp] (requirements.txt)")
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

pytestmark = pytest.mark.slow  # starts the real app (real model)


@pytest.fixture(scope="module")
def server(mcp_server: AppServer) -> AppServer:
    return mcp_server  # tests/conftest.py: the session's app with --mcp (its 2 MB upload limit is above the receipt)


async def list_and_call(url: str, image_data_url: str):
    async with streamable_http_client(url) as (read, write, _):
        async with mcp.ClientSession(read, write) as session:
            await session.initialize()
            tools = (await session.list_tools()).tools
            result = await session.call_tool("ocr", {"image": image_data_url})
            return tools, result


def test_only_the_ocr_tool_is_served_and_it_reads_the_receipt(server):
    receipt = base64.b64encode((ASSETS_DIR / "receipt.jpg").read_bytes()).decode("ascii")
    tools, result = asyncio.run(list_and_call(server.url + "gradio_api/mcp/", f"data:image/jpeg;base64,{receipt}"))

    assert [tool.name for tool in tools] == ["ocr"]  # not /run or /batch (they carry per-session history)
    tool = tools[0]
    assert "read every line of text" in tool.description and "polygon" in tool.description
    assert list(tool.inputSchema["properties"]) == ["image", "checkpoint"]  # checkpoint: a name from the list, optional
    schema = (tool.meta or {})["outputSchema"]
    assert schema["properties"]["lines"]["items"]["properties"]["text"] == {"type": "string"}

    assert not result.isError
    record = ast.literal_eval(result.content[0].text)  # Gradio's MCP server sends the dict's repr as text
    assert record["image_size"] == {"height": 1060, "width": 620}
    texts = " ".join(line["text"] for line in record["lines"])
    for word in ("CORNER", "CAFE", "Cappuccino", "TOTAL"):
        assert word in texts
    assert all(0.0 <= line["confidence"] <= 1.0 and len(line["polygon"]) >= 4 for line in record["lines"])


async def call_ocr(url: str, image: str):
    async with streamable_http_client(url) as (read, write, _):
        async with mcp.ClientSession(read, write) as session:
            await session.initialize()
            return await session.call_tool("ocr", {"image": image})


def test_an_image_url_given_to_the_tool_is_refused_and_never_fetched(server):
    import http.server
    import threading

    hits: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            hits.append(self.path)
            body = (ASSETS_DIR / "receipt.jpg").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        result = asyncio.run(call_ocr(server.url + "gradio_api/mcp/", f"http://127.0.0.1:{httpd.server_address[1]}/r.jpg"))
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.isError
    assert "Only files uploaded to this app can be read" in result.content[0].text
    assert hits == [], "the server fetched a URL for the MCP client"


def test_base64_images_given_to_the_tool_leave_no_copy_in_any_temp_folder(server):
    instance = [path for path in (server.temp_dir / "gradio").iterdir() if path.is_dir()]
    assert len(instance) == 1
    unique = (ASSETS_DIR / "receipt.jpg").read_bytes() + os.urandom(64)  # trailing bytes: still a valid JPEG
    encoded = base64.b64encode(unique).decode("ascii")
    result = asyncio.run(call_ocr(server.url + "gradio_api/mcp/", f"data:image/jpeg;base64,{encoded}"))
    assert not result.isError
    # demo/mcp_inputs.py writes the decoded image in the instance's folder and deletes it (and the copy the
    # tool's loopback client uploaded) when the call ends; tests/demo/test_mcp_inputs.py checks where it is written.
    copies = [path for path in instance[0].rglob("*") if path.is_file() and path.read_bytes() == unique]
    assert copies == [], "the decoded image was left in the instance's temp folder after the call"
    shared = Path(tempfile.gettempdir()) / "gradio"  # Gradio's default folder, shared by every app on the machine
    leaked = [path for path in shared.rglob("*") if path.is_file() and path.stat().st_size == len(unique)] if shared.exists() else []
    assert not [path for path in leaked if path.read_bytes() == unique], "a copy landed in Gradio's shared temp folder"
