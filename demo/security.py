"""Exposure limits for the public server: what Gradio would serve or keep by default and this app does not.

Gradio's `/gradio_api/file=<url>` route fetches any public http(s) URL on the server's behalf and streams
it back (it refuses private addresses, but it is still an open proxy for anyone with the link). This app
never needs it: every file it shows is one it wrote itself. `RefusedRoutes` answers 403 for those
requests before they reach Gradio. Local paths outside Gradio's own cache are already refused by Gradio
(no `allowed_paths` are set anywhere in this app); the tests in tests/demo/test_file_access.py check both.

Gradio's `/gradio_api/deep_link?session_hash=...` writes the named session's component values to a file in
the temp folder and returns a link that restores them; this app offers no deep links, so anyone who knew or
chose a session hash could only use it to write files or read that session's values back. `RefusedRoutes`
answers 404 for it.

`UploadGuard` bounds Gradio's upload route: a request must say its size (Content-Length) and may carry
at most one full batch (`max_batch_files x max_file_size`; Gradio's own limit is per file, with up to
1000 files in one request), the temp folder as a whole stays under `OCR_MAX_TEMP_MB` (uploads need no
event to be stored, so they alone could fill the disk), and a refused or broken upload leaves no temp
file behind.
"""

from __future__ import annotations

import asyncio
import gc
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

import anyio
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect

from demo.temp_files import folder_bytes, remove_orphan_uploads

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# "file=" followed by a URL scheme (http:, https:, or scheme-relative //), after any number of decodings.
_REMOTE_FILE_PATTERN = re.compile(r"/file=\s*(?:[a-z][a-z0-9+.-]+:|//|\\\\)", re.IGNORECASE)
_MAX_UNQUOTE_ROUNDS = 3
_MIN_SECONDS_BETWEEN_COLLECTS = 2.0
_SECONDS_BETWEEN_MEASURES = 1.0


def is_remote_file_request(path: str) -> bool:
    """True for `/file=` requests whose target is a URL rather than a path (checked through repeated decoding)."""
    candidate = path
    for _ in range(_MAX_UNQUOTE_ROUNDS + 1):
        if _REMOTE_FILE_PATTERN.search(candidate):
            return True
        decoded = unquote(candidate)
        if decoded == candidate:
            return False
        candidate = decoded
    return True  # still changing after several decodings: nothing legitimate looks like that


def is_deep_link_request(path: str) -> bool:
    """True for Gradio's deep-link route (any prefix, trailing slashes; `path` as the server decoded it)."""
    return path.rstrip("/").endswith("/gradio_api/deep_link")


def refusal(scope: Scope) -> tuple[int, str] | None:
    """(status, text) for a request this app never serves, else None: 403 for `/file=<URL>` (the server must
    not fetch URLs for its users; the path is checked as decoded and as sent), 404 for the deep-link route
    (not offered)."""
    if scope.get("type") != "http":
        return None
    path = str(scope.get("path", ""))
    raw_path = scope.get("raw_path") or b""
    raw_text = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else str(raw_path)
    if is_remote_file_request(path) or is_remote_file_request(raw_text):
        return 403, "Remote URLs are not served by this app."
    if is_deep_link_request(path):
        return 404, "Not Found"
    return None


class RefusedRoutes:
    """ASGI middleware: answers what `refusal` names before Gradio sees the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = refusal(scope)
        if refused is not None:
            await _plain_response(send, *refused)
            return
        await self.app(scope, receive, send)


def _is_upload_request(scope: Scope) -> bool:
    return scope.get("type") == "http" and scope.get("method") == "POST" and str(scope.get("path", "")).rstrip("/").endswith(
        "/gradio_api/upload"
    )


async def _plain_response(send: Send, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": text.encode()})


class UploadGuard:
    """ASGI middleware for Gradio's upload route: size bound up front, no temp files left by failures."""

    def __init__(self, app: ASGIApp, upload_dir: str, max_request_bytes: int, max_folder_bytes: int | None = None) -> None:
        self.app = app
        self.upload_dir = upload_dir
        self.max_request_bytes = max_request_bytes
        self.max_folder_bytes = max_folder_bytes
        self._folder_bytes = 0  # measured at most once a second, plus what was accepted since
        self._measured_at = -_SECONDS_BETWEEN_MEASURES
        self._last_collect = -_MIN_SECONDS_BETWEEN_COLLECTS
        self._pending: asyncio.Future[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_upload_request(scope):
            await self.app(scope, receive, send)
            return
        headers = {key.lower(): value for key, value in scope.get("headers", [])}
        length_text = headers.get(b"content-length", b"").decode("latin-1").strip()
        if not length_text.isdigit():
            await _plain_response(send, 411, "Uploads must state their size (Content-Length).")
            return
        length = int(length_text)
        if length > self.max_request_bytes:
            await _plain_response(
                send, 413, f"Upload too large: at most {self.max_request_bytes // 2**20} MB in one request."
            )
            return
        if not await self._reserve(length):
            await _plain_response(send, 503, "The server's upload space is full. Please try again in a few minutes.")
            return
        held: list[Message] = []  # a refusal's response, sent only after its temp files are gone

        async def watch(message: Message) -> None:
            if held or (message.get("type") == "http.response.start" and message.get("status") != 200):
                held.append(message)
                return
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except ClientDisconnect:
            pass  # the client is gone: nothing to answer, only its partial upload to delete
        else:
            if not held:
                return
        await self._remove_leftovers()  # after the except block: the exception no longer pins the files
        for message in held:
            await send(message)

    async def _reserve(self, length: int) -> bool:
        """Whether an upload of `length` bytes fits under the folder cap (uploads alone could fill the
        disk: Gradio stores them whether or not any event ever reads them)."""
        if self.max_folder_bytes is None:
            return True
        now = time.monotonic()
        if now - self._measured_at >= _SECONDS_BETWEEN_MEASURES:
            # In the event loop: a directory walk of the temp folder takes milliseconds, at most once a second.
            self._folder_bytes = folder_bytes(self.upload_dir)
            self._measured_at = now
        if self._folder_bytes + length > self.max_folder_bytes:
            return False
        self._folder_bytes += length
        return True

    async def _remove_leftovers(self) -> None:
        """Delete the multipart temp files a failed upload left (Gradio's route leaves them when it refuses
        a file name or the client disconnects). They stay open until the garbage collector breaks the
        exception's reference cycle, so collect first: at most once every few seconds (refusals must not
        keep the CPU busy), every failure waiting for the next collection that starts after it."""
        if self._pending is None or self._pending.done():
            self._pending = asyncio.ensure_future(self._collect_then_remove())
        await asyncio.shield(self._pending)

    async def _collect_then_remove(self) -> None:
        wait = self._last_collect + _MIN_SECONDS_BETWEEN_COLLECTS - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._pending = None  # failures from now on need the next collection
        self._last_collect = time.monotonic()
        await anyio.to_thread.run_sync(gc.collect)
        await anyio.to_thread.run_sync(remove_orphan_uploads, self.upload_dir, 0.0)


def server_app_kwargs(
    upload_dir: str | None = None, max_request_bytes: int | None = None, max_folder_bytes: int | None = None
) -> dict[str, Any]:
    """Extra `app_kwargs` for `Blocks.launch()`: the ASGI middleware above."""
    middleware = [Middleware(RefusedRoutes)]
    if upload_dir is not None and max_request_bytes is not None:
        middleware.append(
            Middleware(
                UploadGuard, upload_dir=upload_dir, max_request_bytes=max_request_bytes, max_folder_bytes=max_folder_bytes
            )
        )
    return {"middleware": middleware}
