"""ocr_model/exporters/records.py is the one builder of the JSON record: the app's JSON download (demo/handlers.py)
and the command line's `.json` (ocr_model/batch) hold the same keys and values for the same result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from conftest import FakeEngine
from demo import handlers
from demo.config import AppConfig
from demo.documents import safe_stem
from ocr_model.batch import run as bulk
from ocr_model.batch.discover import discover_inputs
from ocr_model.batch.run import RunSettings
from ocr_model.exporters.formats import parse_formats
from ocr_model.exporters.records import PageResult, document_record, filter_record, result_record
from ocr_model.inputs.image_decode import decode_image
from ocr_model.inputs.pdf_pages import PageInfo
from ocr_model.types import Predictions
from pdf_samples import pdf_of_images, text_page

CONFIG = AppConfig(max_display_size=512)


def cli_record(folder: Path, name: str) -> dict[str, Any]:
    """The `.json` that `python -m ocr_model folder/in --out folder/out` writes for `name` (fake engine)."""
    settings = RunSettings(out_dir=folder / "out", formats=tuple(parse_formats("json")))
    summary = bulk.run(discover_inputs([folder / "in"]), settings, progress=False, model=FakeEngine(), log=lambda _: None)
    assert summary.failed == []
    return json.loads((folder / "out" / f"{name}.json").read_text(encoding="utf-8"))


def app_record(path: Path) -> dict[str, Any]:
    """The JSON download the app offers after reading `path` (fake engine), and its /ocr answer."""
    outcome = handlers.single_request(FakeEngine(), decode_image, str(path), {}, (), CONFIG)
    files = handlers.document_exports(outcome.results, outcome.name)
    download = json.loads(files[f"{safe_stem(outcome.name)}.json"])
    assert handlers.api_result(FakeEngine(), decode_image, str(path), CONFIG) == download
    return download


def test_an_image_gives_the_same_record_in_the_app_and_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    Image.new("RGB", (300, 120), "white").save(tmp_path / "in" / "scan.png")
    app, cli = app_record(tmp_path / "in" / "scan.png"), cli_record(tmp_path, "scan.png")
    assert app == cli
    assert list(app) == [
        "file", "image_size", "device", "checkpoint", "timings", "note", "rotation", "min_confidence", "lines_total", "lines"
    ]
    assert app["file"] == "scan.png" and app["lines_total"] == 2 and app["min_confidence"] == 0.0
    assert [(line["line"], line["text"]) for line in app["lines"]] == [(1, "HELLO"), (2, "WORLD")]


def test_a_pdf_gives_the_same_record_in_the_app_and_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    pages = [text_page(["one"], size=(300, 200)), text_page(["two"], size=(400, 200))]
    (tmp_path / "in" / "two.pdf").write_bytes(pdf_of_images(pages))
    app, cli = app_record(tmp_path / "in" / "two.pdf"), cli_record(tmp_path, "two.pdf")
    assert app == cli
    assert list(app) == ["file", "checkpoint", "page_count", "pages_read", "note", "pages"]
    assert [page["file"] for page in app["pages"]] == ["two.pdf · page 1 of 2", "two.pdf · page 2 of 2"]
    assert [page["note"] for page in app["pages"]] == ["Page 1 of 2.", "Page 2 of 2."]
    assert [page["page"]["number"] for page in app["pages"]] == [1, 2] and "error" not in app["pages"][0]


def square(x: float) -> np.ndarray:
    return np.array([[x, 0], [x + 10, 0], [x + 10, 10], [x, 10]], dtype=np.float32)


def test_the_filter_keeps_line_numbers_and_counts_every_line() -> None:
    predictions = Predictions([square(0), square(20), square(40)], ["a", "b", "c"], [0.95, 0.4, 0.9996], image_size=(10, 60))
    record = result_record("x.png", predictions, min_confidence=0.9)
    assert [(line["line"], line["text"]) for line in record["lines"]] == [(1, "a"), (3, "c")]
    assert (record["lines_total"], record["min_confidence"]) == (3, 0.9)
    assert filter_record(result_record("x.png", predictions), 0.9) == record  # a kept record follows a later filter
    assert filter_record({"file": "bad.png", "error": "unreadable"}, 0.9) == {"file": "bad.png", "error": "unreadable"}
    # the filter compares the confidence as shown (3 decimals, rounded down): 0.9996 shows as 0.999
    assert [line["line"] for line in result_record("x.png", predictions, min_confidence=1.0)["lines"]] == []


def test_a_page_that_was_not_rendered_says_why_and_the_document_names_its_checkpoint() -> None:
    info = PageInfo(1, 3, (612.0, 792.0), 0.1)
    empty = Predictions([], [], [], image_size=(64, 49), checkpoint="ppocrv6-tiny")
    page = PageResult(empty, pdf_page=info, error="Page 1 could not be rendered within 2 s / 256 MB.", note="Page 1 of 3.")
    record = document_record("big.pdf", [page])
    assert (record["checkpoint"], record["page_count"], record["pages_read"]) == ("ppocrv6-tiny", 3, 1)
    assert "first 1" in record["note"]
    (only,) = record["pages"]
    assert only["error"] == page.error and only["lines"] == [] and only["lines_total"] == 0
    assert only["file"] == "big.pdf · page 1 of 3" and only["page"]["number"] == 1
