"""Inline (base64 `data:` URL) inputs of MCP tool calls, held to the same limits as uploads.

Gradio's MCP server turns a `data:` URL argument into a file itself (`GradioMCPServer.
convert_strings_to_filedata` -> `processing_utils.save_base64_to_cache`): decoded with no size limit,
written to the temp folder with no regard for its cap, and never deleted. The tool call then sends that
file to the app through a loopback HTTP client, which uploads a second copy. A flood of distinct images
took a 128 MB folder past its cap and left ordinary uploads refused with 503, and a refused loopback
upload's error text named the internal upload URL.

`install_inline_limits` replaces that conversion for this process's MCP server:

- a `data:` URL is checked against the upload size limit from its length BEFORE it is decoded, and again
  after decoding (strict base64); an `http(s)` URL or anything else is refused (never fetched);
- the temp folder must have room for the decoded file twice (this copy and the loopback upload) while
  keeping one ordinary upload's worth free, so MCP calls alone can never fill the folder for everyone;
  only then is the file written (no file is written for a refused input);
- when the call ends, both copies are deleted (the loopback copy is found by the unique file name);
- an error text that names a URL, a host or a path is replaced by a plain message.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import glob
import logging
import os
import re
import tempfile
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from demo.temp_files import folder_bytes
from demo.uploads import REFUSED_MESSAGE

LOGGER = logging.getLogger(__name__)

INLINE_FOLDER = "mcp-inline"
INLINE_PREFIX = "mcp-inline-"
TOO_LARGE_MESSAGE = "This image is larger than the server's upload limit ({limit})."
FULL_MESSAGE = "The server's upload space is full. Please try again in a few minutes."
BAD_DATA_MESSAGE = "The image must be a base64 data: URL (data:image/png;base64,...)."
FAILED_MESSAGE = "The image could not be passed to the OCR tool. Please try again in a few minutes."
# Anything an error text must not show a client: URLs, loopback hosts, absolute paths.
_INTERNAL = re.compile(r"[a-z][a-z0-9+.\-]*://|127\.0\.0\.1|localhost|\[::1\]|(?:^|[\s'\"(=])/[^\s'\"]", re.IGNORECASE)
_DATA_URL = re.compile(r"^data:([\w.+\-]+/[\w.+\-]+)?((?:;[\w.+\-]+=[\w.+\-]+)*);base64,", re.IGNORECASE)
_EXTENSIONS = {
    "image/png": ".png", "image/jpeg": ".jpg", "image/jpg": ".jpg", "image/webp": ".webp", "image/gif": ".gif",
    "image/bmp": ".bmp", "image/tiff": ".tif", "image/heic": ".heic", "image/heif": ".heif", "image/avif": ".avif",
    "application/pdf": ".pdf",
}

# The inline files written during the current tool call: (path, bytes). Set by the call wrapper.
_written: contextvars.ContextVar[list[tuple[str, int]] | None] = contextvars.ContextVar("mcp_inline_written", default=None)


class InlineRefused(ValueError):
    """An inline input that is not accepted; the message is safe to show as is."""


def _size_text(size: int) -> str:
    return f"{size / 2**20:g} MB"


def safe_error_text(text: str) -> str:
    """`text` when it names nothing internal, else a plain message (no URL, host or path reaches a client)."""
    return FAILED_MESSAGE if _INTERNAL.search(text) else text


@dataclass
class InlineInputs:
    """The limits inline inputs are held to, and the bytes reserved for calls in flight."""

    upload_dir: str
    max_file_bytes: int
    max_folder_bytes: int | None  # the temp folder's cap (OCR_MAX_TEMP_MB); None: no cap

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = 0  # loopback copies still to come for calls in flight

    def _decode(self, text: str) -> tuple[bytes, str]:
        match = _DATA_URL.match(text)
        if match is None:
            raise InlineRefused(BAD_DATA_MESSAGE)
        payload = text[match.end():]
        # From the length, before decoding anything: 4 base64 characters carry 3 bytes.
        if (len(payload) - payload.count("\n") - payload.count("\r")) // 4 * 3 > self.max_file_bytes + 3:
            raise InlineRefused(TOO_LARGE_MESSAGE.format(limit=_size_text(self.max_file_bytes)))
        try:
            data = base64.b64decode(re.sub(r"\s+", "", payload), validate=True)
        except (binascii.Error, ValueError):
            raise InlineRefused(BAD_DATA_MESSAGE) from None
        if not data:
            raise InlineRefused(BAD_DATA_MESSAGE)
        if len(data) > self.max_file_bytes:
            raise InlineRefused(TOO_LARGE_MESSAGE.format(limit=_size_text(self.max_file_bytes)))
        return data, _EXTENSIONS.get((match.group(1) or "").lower(), "")

    def save(self, text: str) -> str:
        """Check, decode and write one inline input; its path. InlineRefused, and no file, if it does not fit."""
        data, extension = self._decode(text)
        with self._lock:
            if self.max_folder_bytes is not None:
                used = folder_bytes(self.upload_dir) + self._pending
                # This copy and the loopback upload, with one ordinary upload's worth kept free.
                if used + 2 * len(data) + self.max_file_bytes > self.max_folder_bytes:
                    raise InlineRefused(FULL_MESSAGE)
            self._pending += len(data)
        try:
            folder = os.path.join(self.upload_dir, INLINE_FOLDER)
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, f"{INLINE_PREFIX}{uuid.uuid4().hex}{extension}")
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".partial-")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(data)
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            self._release(len(data))
            LOGGER.exception("could not write an inline MCP input")
            raise InlineRefused(FULL_MESSAGE) from None
        written = _written.get()
        if written is not None:
            written.append((path, len(data)))
        else:  # not inside a wrapped call (cannot clean up after it): the sweeper ages it out
            self._release(len(data))
        return path

    def _release(self, size: int) -> None:
        with self._lock:
            self._pending = max(0, self._pending - size)

    def finish(self, written: list[tuple[str, int]]) -> None:
        """After a call: delete its inline files and the copies the loopback client uploaded of them."""
        for path, size in written:
            name = os.path.basename(path)
            for copy in [path, *glob.glob(os.path.join(glob.escape(self.upload_dir), "*", glob.escape(name)))]:
                try:
                    os.unlink(copy)
                except FileNotFoundError:
                    continue
                except OSError as error:
                    LOGGER.warning("could not delete an inline MCP input: %s", error)
                    continue
                if os.path.dirname(copy) != os.path.join(self.upload_dir, INLINE_FOLDER):
                    try:
                        os.rmdir(os.path.dirname(copy))  # the upload's own <sha256>/ folder, now empty
                    except OSError:
                        pass
            self._release(size)


def convert_strings_to_filedata(inline: InlineInputs, value: Any, filedata_positions: list[list[str | int]]) -> Any:
    """Gradio's conversion of a tool's file arguments, with `inline.save` for data: URLs and every other
    string refused (Gradio would fetch an http(s) URL, and echoes anything else in its error)."""
    from gradio_client import handle_file

    def traverse(node: Any, path: list[str | int]) -> Any:
        if isinstance(node, dict):
            return {key: traverse(item, path + [key]) for key, item in node.items()}
        if isinstance(node, list):
            return [traverse(item, path + [index]) for index, item in enumerate(node)]
        if isinstance(node, str) and path in filedata_positions:
            if node[:5].lower() != "data:":
                raise InlineRefused(REFUSED_MESSAGE)
            return handle_file(inline.save(node))
        return node

    return traverse(value, [])


def _guard_server(server: Any, inline: InlineInputs) -> Any:
    """Wrap the MCP server's tool-call handler: clean up after each call, and scrub its error texts."""
    from mcp import types

    handler = server.request_handlers.get(types.CallToolRequest)
    if handler is None:
        return server

    async def guarded(request: Any) -> Any:
        written: list[tuple[str, int]] = []
        token = _written.set(written)
        try:
            result = await handler(request)
        finally:
            _written.reset(token)
            inline.finish(written)
        root = getattr(result, "root", None)
        if getattr(root, "isError", False):
            for content in root.content:
                if isinstance(content, types.TextContent):
                    content.text = safe_error_text(content.text)
        return result

    server.request_handlers[types.CallToolRequest] = guarded
    return server


def install_inline_limits(upload_dir: str | None, max_file_bytes: int, max_folder_bytes: int | None) -> InlineInputs:
    """Hold the MCP server's inline inputs to these limits (call before launch; the last call wins).

    Gradio builds its MCP server at launch from `gradio.mcp.GradioMCPServer`; the class's conversion and
    server factory are replaced here, because Gradio offers no hook for either."""
    from gradio import mcp as gradio_mcp

    inline = InlineInputs(upload_dir or gradio_mcp.DEFAULT_TEMP_DIR, max_file_bytes, max_folder_bytes)
    server_class = gradio_mcp.GradioMCPServer
    if getattr(server_class, "_ocr_inline_inputs", None) is None:
        create = server_class.create_mcp_server

        def create_mcp_server(self: Any) -> Any:
            return _guard_server(create(self), server_class._ocr_inline_inputs)

        def convert(self: Any, value: Any, filedata_positions: list[list[str | int]]) -> Any:
            return convert_strings_to_filedata(server_class._ocr_inline_inputs, value, filedata_positions)

        server_class.create_mcp_server = create_mcp_server
        server_class.convert_strings_to_filedata = convert
    server_class._ocr_inline_inputs = inline
    return inline
