"""The instance's temp folder: private per process, swept while serving, nothing left by refused uploads,
removed on SIGTERM and Ctrl-C. Unit tests of demo/temp_files.py, then the real server (`python app.py`)."""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from gradio_client import Client, handle_file
from PIL import Image

from bench.sample_images import png_bytes
from conftest import SHARED_MAX_BATCH_FILES, AppServer
from demo.temp_files import create_instance_dir, remove_orphan_uploads, sweep


def _age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


# --- unit -------------------------------------------------------------------------------------------------


def test_instance_dirs_are_private_and_one_per_parent(tmp_path: Path) -> None:
    first = create_instance_dir(tmp_path / "a")
    assert create_instance_dir(tmp_path / "a") == first  # same process, same parent: same folder
    assert Path(first).parent == tmp_path / "a"
    assert os.stat(first).st_mode & 0o777 == 0o700
    assert create_instance_dir(tmp_path / "b") != first


def test_sweep_removes_old_files_keeps_new_and_kept_ones_and_empty_folders(tmp_path: Path) -> None:
    old = tmp_path / "abc" / "old.jpg"
    new = tmp_path / "def" / "new.jpg"
    example = tmp_path / "ghi" / "example.jpg"
    for path in (old, new, example):
        path.parent.mkdir()
        path.write_bytes(b"x")
    for path in (old, example):
        _age(path, 120)
    _age(old.parent, 120)
    assert sweep(tmp_path, older_than_s=60, keep=[str(example)]) == 1
    assert not old.exists() and not old.parent.exists()
    assert new.exists() and example.exists()


def test_orphan_uploads_go_but_open_or_fresh_ones_stay(tmp_path: Path) -> None:
    orphan = tmp_path / "tmpabc123"
    orphan.write_bytes(b"partial")
    in_progress = tmp_path / "tmpdef456"
    not_temp = tmp_path / "upload.png"
    not_temp.write_bytes(b"x")
    with open(in_progress, "wb") as handle:
        handle.write(b"still coming")
        handle.flush()
        assert remove_orphan_uploads(tmp_path, grace_s=0) == 1
        assert in_progress.exists()
    assert not orphan.exists() and not_temp.exists()
    fresh = tmp_path / "tmpfresh1"
    fresh.write_bytes(b"x")
    assert remove_orphan_uploads(tmp_path, grace_s=60) == 0  # closed but written just now: maybe mid-rename


# --- the real server ------------------------------------------------------------------------------------------


def instance_dir(server: AppServer) -> Path:
    parent = server.temp_dir / "gradio"
    folders = [path for path in parent.iterdir() if path.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


def files_in(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def server(shared_server: AppServer) -> AppServer:
    # tests/conftest.py: uploads up to SHARED_MAX_FILE_SIZE (1 MB), batches of up to SHARED_MAX_BATCH_FILES (3)
    return shared_server


def raw_post(server: AppServer, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.putrequest("POST", path)
        for key, value in headers.items():
            connection.putheader(key, value)
        connection.endheaders()
        connection.send(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("name", ["..", "photos/.."])
def test_an_upload_refused_for_its_name_leaves_no_file(server: AppServer, name: str) -> None:
    folder = instance_dir(server)
    before = files_in(folder)
    status, body = server.post_upload(name, os.urandom(200_000))
    assert status == 400, body[:200]
    assert files_in(folder) == before, "the refused upload's body was left on disk"


def test_an_upload_cut_off_midway_leaves_no_file(server: AppServer) -> None:
    folder = instance_dir(server)
    before = files_in(folder)
    boundary = "cut" * 8
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"page.png\"\r\n"
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.putrequest("POST", "/gradio_api/upload")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + 900_000))
    connection.endheaders()
    connection.send(head + os.urandom(300_000))  # a third of what it announced, then the client is gone
    time.sleep(0.5)
    connection.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and files_in(folder) != before:
        time.sleep(0.2)
    assert files_in(folder) == before, "the cut-off upload's partial body was left on disk"


def test_uploads_without_a_size_or_above_one_batch_are_refused_before_reading(server: AppServer) -> None:
    folder = instance_dir(server)
    before = files_in(folder)
    boundary = "x" * 16
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Transfer-Encoding": "chunked"}
    status, _ = raw_post(server, "/gradio_api/upload", b"0\r\n\r\n", headers)
    assert status == 411
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(50 * 2**20)}
    status, body = raw_post(server, "/gradio_api/upload", b"", headers)  # claims 50 MB: 3 files x 1 MB is the most
    assert status == 413, body
    assert files_in(folder) == before


def test_gradio_client_batches_above_the_limit_are_refused_and_within_it_run(server: AppServer) -> None:
    client = Client(server.url, verbose=False, download_files=False, analytics_enabled=False)
    try:
        image = server.temp_dir / "white.png"
        image.write_bytes(png_bytes())
        limit = SHARED_MAX_BATCH_FILES
        with pytest.raises(Exception):
            client.predict([handle_file(str(image))] * (limit + 1), "auto", 1600, 0.0, False, api_name="/batch")
        result = client.predict([handle_file(str(image))] * limit, "auto", 1600, 0.0, False, api_name="/batch")
        assert any(isinstance(value, str) and f"{limit} of {limit}" in value for value in result), result
    finally:
        client.close()


@pytest.mark.slow  # starts an app of its own (the real model)
def test_files_are_swept_while_serving(tmp_path: Path) -> None:
    with AppServer(tmp_path, extra_args=("--delete-cache", "1,2")) as app:
        folder = instance_dir(app)
        at_start = files_in(folder)  # the example images Gradio copied: kept for the app's lifetime
        client = Client(app.url, verbose=False, download_files=False, analytics_enabled=False)
        try:
            image = tmp_path / "page.png"
            image.write_bytes(png_bytes((200, 80)))
            client.predict(handle_file(str(image)), "auto", 1600, 0.0, False, api_name="/run")
            client.predict([handle_file(str(image))], "auto", 1600, 0.0, False, api_name="/batch")
        finally:
            client.close()
        written = files_in(folder) - at_start
        assert any(path.name.endswith("_ocr.json") for path in written), written
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and written & files_in(folder):
            time.sleep(0.5)
        assert not written & files_in(folder), f"not swept: {written & files_in(folder)}"
        assert at_start and at_start <= files_in(folder), "example files were swept"


@pytest.mark.slow  # starts an app of its own (the real model)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_shutdown_by_signal_removes_the_instance_folder(tmp_path: Path, signum: int) -> None:
    app = AppServer(tmp_path)
    with app:
        status, body = app.post_upload("page.png", png_bytes())
        assert status == 200
        stored = Path(json.loads(body)[0])
        folder = instance_dir(app)
        assert stored.exists() and stored.is_relative_to(folder)
        app.process.send_signal(signum)
        app.process.wait(timeout=60)
    assert not folder.exists(), f"left behind: {sorted(files_in(folder))[:5]}"
    assert list((tmp_path / "gradio").iterdir()) == []


@pytest.mark.slow  # starts an app of its own (the real model)
def test_uploads_stop_when_the_temp_folder_is_full_and_resume_after_the_sweep(tmp_path: Path) -> None:
    args = ("--max-temp-mb", "6", "--max-file-size", "1mb", "--delete-cache", "1,3")
    with AppServer(tmp_path, extra_args=args) as app:
        folder = instance_dir(app)
        statuses = []
        for index in range(12):  # 12 x 0.9 MB: twice what the folder may hold
            status, body = app.post_upload(f"part{index}.bin", os.urandom(900_000))
            statuses.append(status)
            if status != 200:
                assert status == 503 and b"upload space is full" in body, body[:200]
        assert statuses.count(200) >= 3 and 503 in statuses, statuses
        used = sum(path.stat().st_size for path in files_in(folder))
        assert used <= 6 * 2**20 + 1_000_000, used  # the cap, give or take the request in flight
        deadline = time.monotonic() + 30
        status = 503
        while time.monotonic() < deadline and status != 200:
            time.sleep(1)
            status, _ = app.post_upload("later.bin", os.urandom(900_000))
        assert status == 200, "uploads did not resume after the sweep freed the folder"
