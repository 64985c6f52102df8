"""What the real server (`python app.py`) serves from disk and the network: only its own cache.

One server (the session's shared one, tests/conftest.py). Requests are sent with http.client so that `..` segments and odd encodings
reach the server exactly as written (HTTP client libraries normalise them away).
"""

from __future__ import annotations

import http.client
import json
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from conftest import REPO_ROOT, AppServer
from demo.config import launch_kwargs, load_config
from demo.security import is_deep_link_request, is_remote_file_request, refusal

SECRET_MARKER = "root:"  # first bytes of /etc/passwd on any Linux


@pytest.fixture(scope="module")
def server(shared_server: AppServer) -> AppServer:
    return shared_server  # tests/conftest.py: one app for the modules that need no settings of their own


def raw_get(server: AppServer, path: str) -> tuple[int, bytes]:
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def upload(server: AppServer, name: str, payload: bytes) -> str:
    """POST one file to Gradio's upload route; returns the server-side path it was stored at."""
    status, body = server.post_upload(name, payload)
    assert status == 200, body[:300]
    return json.loads(body)[0]


def test_an_uploaded_file_is_served_back_from_the_dedicated_temp_dir(server: AppServer) -> None:
    # Positive control: the route works, so the refusals below are refusals and not a broken route.
    stored_path = upload(server, "hello.txt", b"hello from the test")
    assert Path(stored_path).resolve().is_relative_to((server.temp_dir / "gradio").resolve())
    status, body = raw_get(server, "/gradio_api/file=" + quote(stored_path))
    assert status == 200
    assert body == b"hello from the test"


@pytest.mark.parametrize(
    "target",
    [
        "/etc/passwd",
        "%2Fetc%2Fpasswd",
        "//etc/passwd",
        "../../../../../../etc/passwd",
        "..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "%252e%252e%252f%252e%252e%252f%252e%252e%252fetc%252fpasswd",
        "..\\..\\..\\..\\..\\..\\etc\\passwd",
    ],
)
def test_system_files_are_refused(server: AppServer, target: str) -> None:
    status, body = raw_get(server, "/gradio_api/file=" + target)
    assert status in (400, 403, 404), (status, body[:200])
    assert SECRET_MARKER.encode() not in body


@pytest.mark.parametrize("traversal", ["/../../../../../../../etc/passwd", "/..%2F..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd", "%2F%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd"])
def test_traversal_out_of_an_uploaded_files_folder_is_refused(server: AppServer, traversal: str) -> None:
    stored_dir = str(Path(upload(server, "anchor.txt", uuid.uuid4().bytes)).parent)
    status, body = raw_get(server, "/gradio_api/file=" + quote(stored_dir) + traversal)
    assert status in (400, 403, 404), (status, body[:200])
    assert SECRET_MARKER.encode() not in body


@pytest.mark.parametrize("name", ["app.py", "demo/config.py", "requirements.txt"])
def test_the_apps_own_source_files_are_not_served(server: AppServer, name: str) -> None:
    status, body = raw_get(server, "/gradio_api/file=" + quote(str(REPO_ROOT / name)))
    assert status in (400, 403, 404), (status, body[:200])


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/image.png",
        "https://example.com/image.png",
        "HTTP://EXAMPLE.COM/image.png",
        "http%3A%2F%2Fexample.com%2Fimage.png",
        "http%253A%252F%252Fexample.com%252Fimage.png",
        "//example.com/image.png",
    ],
)
def test_remote_urls_are_refused_by_the_apps_own_middleware(server: AppServer, url: str) -> None:
    status, body = raw_get(server, "/gradio_api/file=" + url)
    assert status == 403
    assert b"Remote URLs are not served" in body  # our middleware answered; Gradio never tried to fetch


def test_loopback_urls_are_refused(server: AppServer) -> None:
    port = urlsplit(server.url).port
    status, body = raw_get(server, f"/gradio_api/file=http://127.0.0.1:{port}/gradio_api/info")
    assert status == 403
    assert b"Remote URLs are not served" in body


@pytest.mark.parametrize("path", ["/monitoring", "/gradio_api/monitoring", "/monitoring/summary", "/gradio_api/monitoring/summary"])
def test_monitoring_endpoints_are_off(server: AppServer, path: str) -> None:
    status, body = raw_get(server, path)
    assert status in (403, 404), (status, body[:200])


@pytest.mark.parametrize("path", ["/gradio_api/deep_link", "/gradio_api/deep_link/", "/gradio_api/deep_link?session_hash=abc", "/gradio_api/deep%5Flink"])
def test_the_deep_link_route_is_off(server: AppServer, path: str) -> None:
    """Gradio's route would write the named session's values to a file in the temp folder; refused here."""
    status, body = raw_get(server, path)
    assert status == 404, (status, body[:200])
    assert not list((server.temp_dir / "gradio").rglob("deep_links/*"))


def test_deep_link_detection() -> None:
    assert is_deep_link_request("/gradio_api/deep_link") and is_deep_link_request("/prefix/gradio_api/deep_link//")
    assert not is_deep_link_request("/gradio_api/deep_links_info") and not is_deep_link_request("/gradio_api/info")


def test_launch_settings_expose_nothing_extra() -> None:
    kwargs = launch_kwargs(load_config(()))
    assert not kwargs.get("allowed_paths")
    assert kwargs.get("enable_monitoring") is False
    assert kwargs.get("show_error") is False
    assert kwargs.get("app_kwargs", {}).get("middleware"), "the remote-URL blocker must be installed"


@pytest.mark.parametrize(
    ("path", "remote"),
    [
        ("/gradio_api/file=http://example.com/a.png", True),
        ("/gradio_api/file=https%3A//example.com/a.png", True),
        ("/gradio_api/file=%2568ttp://example.com", True),
        ("/file=ftp://example.com/a.png", True),
        ("/gradio_api/file=/tmp/gradio/abc/image.png", False),
        ("/gradio_api/file=/tmp/gradio/abc/http-notes.png", False),
        ("/gradio_api/upload", False),
    ],
)
def test_remote_file_request_detection(path: str, remote: bool) -> None:
    assert is_remote_file_request(path) is remote


@pytest.mark.parametrize(
    ("scope", "status"),
    [
        ({"type": "http", "path": "/gradio_api/deep_link", "raw_path": b"/gradio_api/deep_link"}, 404),
        ({"type": "http", "path": "/gradio_api/file=http://x.org/a", "raw_path": b"/gradio_api/file=http://x.org/a"}, 403),
        # only the path as sent shows the URL (a server that decoded it differently)
        ({"type": "http", "path": "/gradio_api/file=a", "raw_path": b"/gradio_api/file=%68ttp%3A//x.org/a"}, 403),
        ({"type": "http", "path": "/gradio_api/info", "raw_path": b"/gradio_api/info"}, None),
        ({"type": "websocket", "path": "/gradio_api/deep_link"}, None),  # only HTTP routes are refused
        ({"type": "lifespan"}, None),
    ],
)
def test_refused_routes_answer_by_kind(scope: dict, status: int | None) -> None:
    refused = refusal(scope)
    assert (refused[0] if refused else None) == status
