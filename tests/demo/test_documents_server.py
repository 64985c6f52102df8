"""PDFs and exports through the real server (`python app.py`, real model) with gradio_client:
the `/ocr` API with an image and a 2-page PDF, `/run` with a PDF and a turned receipt, `/batch`."""

from __future__ import annotations

import io
import json
import os
import zipfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import numpy as np
import pypdfium2 as pdfium
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from conftest import ASSETS_DIR, AppServer
from pdf_samples import pdf_of_images, text_page

pytestmark = pytest.mark.slow  # starts the real app (real model)

PAGES = [["Invoice 2024-118", "TOTAL RM 12.50"], ["Page two", "Thank you"]]


@pytest.fixture(scope="module")
def server(shared_server: AppServer) -> AppServer:
    return shared_server  # tests/conftest.py: one app for the modules that need no settings of their own


@pytest.fixture(scope="module")
def client(server: AppServer) -> Iterator[Client]:
    api = Client(server.url, verbose=False, analytics_enabled=False)
    yield api
    api.close()


@pytest.fixture(scope="module")
def two_page_pdf(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("pdf") / "two.pdf"
    path.write_bytes(pdf_of_images([text_page(lines, size=(425, 300)) for lines in PAGES], resolution=50.0))
    return path


def test_ocr_api_reads_an_image_with_words_and_rotation(client: Client) -> None:
    result = client.predict(handle_file(ASSETS_DIR / "receipt.jpg"), api_name="/ocr")
    assert "pages" not in result and result["rotation"] == 0 and result["lines"]
    line = max(result["lines"], key=lambda line: len(line["text"].split()))
    assert " ".join(word["text"] for word in line["words"]) == line["text"]
    assert all(len(word["polygon"]) == 4 for word in line["words"])


def test_ocr_api_returns_pages_for_a_two_page_pdf(client: Client, two_page_pdf) -> None:
    result = client.predict(handle_file(two_page_pdf), api_name="/ocr")
    assert result["file"] == "two.pdf" and result["page_count"] == 2 and result["pages_read"] == 2
    assert [[line["text"] for line in page["lines"]] for page in result["pages"]] == PAGES
    first = result["pages"][0]
    assert first["page"]["number"] == 1 and first["page"]["width_pt"] == pytest.approx(612.0)
    assert first["image_size"] == {"height": 1200, "width": 1700}  # 8.5 x 6 inches at 200 dpi


def test_run_with_a_pdf_shows_page_one_and_exports_every_page(client: Client, two_page_pdf) -> None:
    _explorer, table, text, json_file, _annotated, summary, gallery, *exports, _comparison = client.predict(
        handle_file(two_page_pdf), "auto", 1600, 0.0, False, api_name="/run"
    )
    assert "2 pages" in summary and "Page 1 of 2" in summary
    assert [line["text"] for line in table["lines"]] == PAGES[0]
    # The PDF is one history entry holding both pages (issue 18), captioned with its page count.
    assert len(gallery) == 1 and "2 pages" in gallery[0]["caption"]
    with open(json_file["value"] if isinstance(json_file, dict) else json_file, encoding="utf-8") as stream:
        assert len(json.load(stream)["pages"]) == 2
    by_name = {os.path.basename(button["value"]): button["value"] for button in exports}
    assert sorted(by_name) == ["two.hocr", "two.layout.txt", "two.searchable.pdf", "two.txt", "two_exports.zip"]
    with zipfile.ZipFile(by_name["two_exports.zip"]) as archive:
        assert "01_two/two.json" in archive.namelist()
    searchable = pdfium.PdfDocument(by_name["two.searchable.pdf"])
    assert len(searchable) == 2
    assert [searchable[i].get_textpage().get_text_range().split() for i in range(2)] == [
        " ".join(lines).split() for lines in PAGES
    ]
    root = ET.parse(by_name["two.hocr"]).getroot()
    assert len([e for e in root.iter() if e.get("class") == "ocr_page"]) == 2


def test_run_reads_a_receipt_turned_by_90_degrees_and_says_so(client: Client, tmp_path) -> None:
    with Image.open(ASSETS_DIR / "receipt.jpg") as receipt:
        upright = client.predict(handle_file(ASSETS_DIR / "receipt.jpg"), api_name="/ocr")
        receipt.rotate(90, expand=True).save(tmp_path / "turned.jpg", quality=95)  # counter-clockwise
    _explorer, _table, text, _json, _annotated, summary, _gallery, *_exports = client.predict(
        handle_file(tmp_path / "turned.jpg"), "auto", 1600, 0.0, False, api_name="/run"
    )
    assert "turned 90° clockwise to read" in summary
    assert [line for line in text.splitlines() if line][0].split() == upright["lines"][0]["text"].split()
    manual = client.predict(handle_file(tmp_path / "turned.jpg"), api_name="/ocr")
    assert manual["rotation"] == 90 and manual["image_size"] == {"height": 620, "width": 1060}


def test_batch_zips_the_exports_of_each_file(client: Client, two_page_pdf) -> None:
    outputs = client.predict(
        [handle_file(ASSETS_DIR / "receipt.jpg"), handle_file(two_page_pdf)], "auto", 1600, 0.0, False, api_name="/batch"
    )
    batch_table, exports = outputs[-7], outputs[-6:-1]  # the last output is the (hidden) comparison
    assert [row[0] for row in batch_table["data"]] == ["receipt.jpg", "two.pdf · page 1 of 2", "two.pdf · page 2 of 2"]
    assert [button["value"] for button in exports[:4]] == [None] * 4  # a batch: only the zip
    zip_path = exports[4]["value"]
    names = zipfile.ZipFile(zip_path).namelist()
    assert {"01_receipt/receipt.layout.txt", "02_two/two.searchable.pdf", "02_two/two.hocr"} <= set(names)


def _entries_and_extracted(zip_path: str, folder) -> tuple[list[str], int]:
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        archive.extractall(folder)
    return names, sum(1 for path in folder.rglob("*") if path.is_file())


@pytest.mark.slow
def test_long_file_names_give_one_zip_entry_per_export_on_run_and_batch(client: Client, tmp_path) -> None:
    """A 68-character name on /run and two 250-character names sharing a stem on /batch: every export of
    every file is its own entry (a 60+ character stem made `X.txt` and `X_layout.txt` collide)."""
    run_name = tmp_path / ("r" * 64 + ".jpg")
    run_name.write_bytes((ASSETS_DIR / "receipt.jpg").read_bytes())
    *_, zip_button, _comparison = client.predict(handle_file(run_name), "auto", 1600, 0.0, False, api_name="/run")
    names, extracted = _entries_and_extracted(zip_button["value"], tmp_path / "run")
    assert len(names) == len(set(names)) == extracted == 5, names

    batch = [tmp_path / ("b" * 246 + extension) for extension in (".jpg", ".png")]
    with Image.open(ASSETS_DIR / "receipt.jpg") as receipt:
        receipt.save(batch[0], quality=90)
        receipt.save(batch[1])
    outputs = client.predict([handle_file(path) for path in batch], "auto", 1600, 0.0, False, api_name="/batch")
    names, extracted = _entries_and_extracted(outputs[-2]["value"], tmp_path / "batch")
    assert len(names) == len(set(names)) == extracted == 10, names
