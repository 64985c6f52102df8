"""Exposure limits for the public server: what Gradio would serve by default and this app does not.

Gradio's `/gradio_api/file=<url>` route fetches any public http(s) URL on the server's behalf and streams
it back (it refuses private addresses, but it is still an open proxy for anyone with the link). This app
never needs it: every file it shows is one it wrote itself. `RemoteFileUrlBlocker` answers 403 for those
requests before they reach Gradio. Local paths outside Gradio's own cache are already refused by Gradio
(no `allowed_paths` are set anywhere in this app); the tests in tests/test_file_access.py check both.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

from starlette.middleware import Middleware

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# "file=" followed by a URL scheme (http:, https:, or scheme-relative //), after any number of decodings.
_REMOTE_FILE_PATTERN = re.compile(r"/file=\s*(?:[a-z][a-z0-9+.-]+:|//|\\\\)", re.IGNORECASE)
_MAX_UNQUOTE_ROUNDS = 3


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


class RemoteFileUrlBlocker:
    """ASGI middleware: 403 for `/file=http...` (the server must not fetch URLs for its users)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "http":
            raw_path = scope.get("raw_path") or b""
            raw_text = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else str(raw_path)
            if is_remote_file_request(str(scope.get("path", ""))) or is_remote_file_request(raw_text):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                    }
                )
                await send({"type": "http.response.body", "body": b"Remote URLs are not served by this app."})
                return
        await self.app(scope, receive, send)


def server_app_kwargs() -> dict[str, Any]:
    """Extra `app_kwargs` for `Blocks.launch()`: the FastAPI middleware above."""
    return {"middleware": [Middleware(RemoteFileUrlBlocker)]}
