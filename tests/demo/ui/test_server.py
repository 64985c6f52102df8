"""The real app (`python app.py`, real OCR model) driven over HTTP with gradio_client."""

import json
import os

import numpy as np
import psutil
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from conftest import ASSETS_DIR, SHARED_MAX_DISPLAY_SIZE, AppServer

pytestmark = pytest.mark.slow  # starts the real app (real model)

DISPLAY_CAP = SHARED_MAX_DISPLAY_SIZE  # 800: smaller than the receipt's 1060 px height, so /run must downscale it
RECEIPT_WORDS = {"CORNER", "CAFE", "Cappuccino", "TOTAL", "16.42", "THANK", "YOU"}


@pytest.fixture(scope="module")
def server(shared_server: AppServer) -> AppServer:
    return shared_server  # tests/conftest.py: images shown at most DISPLAY_CAP px


def new_client(server, tmp_path) -> Client:
    return Client(server.url, verbose=False, download_files=str(tmp_path), analytics_enabled=False)


def words(texts) -> set[str]:
    return {word for text in texts for word in text.split()}


def test_ocr_endpoint_returns_the_receipt_words_in_original_coordinates(server, tmp_path):
    result = new_client(server, tmp_path).predict(handle_file(ASSETS_DIR / "receipt.jpg"), api_name="/ocr")
    texts = [line["text"] for line in result["lines"]]
    assert RECEIPT_WORDS <= words(texts), texts
    assert result["image_size"] == {"height": 1060, "width": 620}
    points = np.array([point for line in result["lines"] for point in line["polygon"]])
    assert points[:, 0].min() >= 0 and points[:, 0].max() <= 620
    assert points[:, 1].max() > DISPLAY_CAP  # lines below the display height keep original pixels


def test_run_endpoint_serves_a_capped_jpeg_and_the_table(server, tmp_path):
    client = new_client(server, tmp_path)
    explorer, table, text, json_file, annotated, summary, gallery, *exports, _comparison = client.predict(
        handle_file(ASSETS_DIR / "receipt.jpg"), "auto", 1600, 0.0, False, api_name="/run"
    )
    for path in (annotated["value"], explorer["image"]):  # annotated download; the view's clean copy
        with Image.open(path) as image:
            assert image.format == "JPEG"
            assert image.size == (468, 800)
    assert (explorer["width"], explorer["height"]) == (468, 800)
    row_texts = [line["text"] for line in table["lines"]]
    assert RECEIPT_WORDS <= words(row_texts)
    assert [line["n"] for line in table["lines"]] == list(range(1, len(row_texts) + 1))
    assert [line["text"] for line in explorer["lines"]] == row_texts
    points = np.array([point for line in explorer["lines"] for point in line["points"]])
    assert points[:, 1].max() <= 800 and points[:, 0].max() <= 468  # display pixels
    # Full text is the layout text: the same lines, rows joined left to right
    assert words(text.splitlines()) == words(row_texts) and len(text.splitlines()) <= len(row_texts)
    assert [os.path.basename(button["value"]) for button in exports] == [
        "receipt.txt", "receipt.layout.txt", "receipt.hocr", "receipt.searchable.pdf", "receipt_exports.zip"
    ]
    assert "620×1060 px (shown at 468×800)" in summary
    assert len(gallery) == 1


def test_missing_image_gives_a_short_user_message(server, tmp_path):
    with pytest.raises(Exception, match="Please upload") as caught:
        new_client(server, tmp_path).predict(None, "auto", 1600, 0.0, False, api_name="/run")
    assert "Traceback" not in str(caught.value)


def test_fifteen_requests_keep_history_at_the_cap_and_threads_flat(server, tmp_path):
    with Image.open(ASSETS_DIR / "receipt.jpg") as receipt:
        receipt.crop((0, 30, 620, 140)).save(tmp_path / "header.png")  # small: keeps the test fast
    client = new_client(server, tmp_path)
    process = psutil.Process(server.process.pid)
    gallery_sizes, threads = [], []
    for _ in range(15):
        outputs = client.predict(handle_file(tmp_path / "header.png"), "off", 640, 0.0, False, api_name="/run")
        gallery_sizes.append(len(outputs[6]))
        threads.append(process.num_threads())
        assert "CORNER CAFE" in outputs[2]
    assert gallery_sizes == list(range(1, 11)) + [10] * 5
    # A leak grows by a thread (or more) per request; the server's worker pools may add one or two on a
    # busy machine and keep them. Fifteen requests must not add more than that.
    assert max(threads[3:]) <= threads[2] + 2, f"threads grew across requests: {threads}"
    assert threads[-1] <= threads[7] + 1, f"threads still growing at the end: {threads}"


def test_batch_reads_good_files_reports_bad_ones_and_json_keeps_original_pixels(server, tmp_path):
    with Image.open(ASSETS_DIR / "receipt.jpg") as receipt:
        receipt.crop((0, 30, 620, 140)).save(tmp_path / "header.png")
    (tmp_path / "empty.png").write_bytes(b"")
    client = new_client(server, tmp_path)
    explorer, table, text, json_button, annotated, summary, gallery, batch_table, *exports, _comparison = client.predict(
        [handle_file(tmp_path / "header.png"), handle_file(tmp_path / "empty.png")], "off", 640, 0.0, False,
        api_name="/batch",
    )
    statuses = {row[0]: row[3] for row in batch_table["data"]}
    assert statuses["header.png"] == "ok"
    assert statuses["empty.png"].startswith("skipped: ") and "Traceback" not in statuses["empty.png"]
    assert "1 of 2 images read" in summary and len(gallery) == 1
    with open(json_button["value"], encoding="utf-8") as stream:
        records = json.load(stream)
    assert [record["file"] for record in records] == ["header.png", "empty.png"]
    assert "error" in records[1]
    assert {line["text"] for line in records[0]["lines"]} >= {"CORNER CAFE"}
    assert records[0]["image_size"] == {"height": 110, "width": 620}


def test_api_page_lists_ocr_first_with_typed_and_named_returns(server):
    """Issue 10 (9): /ocr was listed last and typed "str | float | bool | list | dict"; returns were named
    "value_20"; the /batch example was a PDF."""
    import urllib.request

    with urllib.request.urlopen(server.url + "gradio_api/info", timeout=30) as response:
        info = json.load(response)
    endpoints = info["named_endpoints"]
    assert list(endpoints)[0] == "/ocr"
    ocr_type = endpoints["/ocr"]["returns"][0]["python_type"]["type"]
    assert ocr_type.startswith("dict(") and "lines: list[dict(line: int, text: str, confidence: float" in ocr_type
    for name, endpoint in endpoints.items():
        for value in endpoint["returns"] + endpoint["parameters"]:
            assert value["label"] and not value["label"].startswith("value_"), (name, value)
    batch_example = endpoints["/batch"]["parameters"][0]["example_input"]
    assert all(not item["path"].endswith(".pdf") for item in batch_example)
    # The examples are local files (gradio_client uploads them): the server refuses URLs.
    for name in ("/ocr", "/run", "/batch"):
        example = endpoints[name]["parameters"][0]["example_input"]
        for item in example if isinstance(example, list) else [example]:
            assert not item["path"].startswith(("http:", "https:")), (name, item)


def test_run_history_is_off_so_the_browser_keeps_no_copy_of_runs(server):
    """Issue 10 (13): Gradio 6.31 saves every run in the browser unless run_history is set to False."""
    import urllib.request

    with urllib.request.urlopen(server.url + "config", timeout=30) as response:
        config = json.load(response)
    assert config["run_history"] is False
