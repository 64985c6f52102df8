"""`python app.py --mcp`: the stateless /ocr endpoint as an MCP tool, called by an MCP client over HTTP."""

from __future__ import annotations

import ast
import asyncio
import base64

import pytest

from conftest import ASSETS_DIR, AppServer

mcp = pytest.importorskip("mcp", reason="the MCP client comes with gradio[mcp] (requirements.txt)")
from mcp.client.streamable_http import streamable_http_client  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with AppServer(tmp_path_factory.mktemp("mcp-server"), extra_args=("--mcp",)) as app:
        yield app


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
    assert list(tool.inputSchema["properties"]) == ["image"]
    schema = (tool.meta or {})["outputSchema"]
    assert schema["properties"]["lines"]["items"]["properties"]["text"] == {"type": "string"}

    assert not result.isError
    record = ast.literal_eval(result.content[0].text)  # Gradio's MCP server sends the dict's repr as text
    assert record["image_size"] == {"height": 1060, "width": 620}
    texts = " ".join(line["text"] for line in record["lines"])
    for word in ("CORNER", "CAFE", "Cappuccino", "TOTAL"):
        assert word in texts
    assert all(0.0 <= line["confidence"] <= 1.0 and len(line["polygon"]) >= 4 for line in record["lines"])
