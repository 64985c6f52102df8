"""The bulk command line reads PDFs through the same capped renderer process as the app (issue 14): a page
over the limits is reported in the JSON and not read, the pages after it are."""

from __future__ import annotations

import json

from ocr_model.batch import run as bulk
from ocr_model.batch.discover import discover_inputs
from ocr_model.exporters.formats import parse_formats
from ocr_model.batch.run import RunSettings, predict_pdf
from ocr_model.exporters.records import document_record

import pdf_bombs
from conftest import FakeEngine


def test_a_pdf_page_over_the_limits_is_reported_and_the_next_page_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("OCR_PDF_PAGE_SECONDS", "2")
    monkeypatch.setenv("OCR_PDF_PAGE_MB", "256")
    engine = FakeEngine()
    pages = predict_pdf(engine, pdf_bombs.jpx_claiming_pdf(), {}, keep_images=False)
    assert [page.error for page in pages] == ["Page 1 could not be rendered within 2 s / 256 MB.", None]
    assert len(pages[0].predictions) == 0 and len(pages[1].predictions) == 2
    assert [call["shape"] for call in engine.calls] == [(400, 400, 3)]  # the placeholder was not read
    record = document_record("bomb.pdf", pages)
    assert record["pages"][0]["error"] == pages[0].error and "error" not in record["pages"][1]

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bomb.pdf").write_bytes(pdf_bombs.jpx_claiming_pdf())
    settings = RunSettings(out_dir=tmp_path / "out", formats=tuple(parse_formats("json,txt")))
    summary = bulk.run(discover_inputs([tmp_path / "in"]), settings, progress=False, model=FakeEngine(), log=lambda _: None)
    assert (summary.done, summary.failed) == (1, [])
    written = json.loads((tmp_path / "out" / "bomb.pdf.json").read_text())
    assert written["pages"][0]["error"] == "Page 1 could not be rendered within 2 s / 256 MB."
    assert [len(page["lines"]) for page in written["pages"]] == [0, 2]


def test_the_run_loads_its_model_with_the_settings_device_threads_and_checkpoint(tmp_path, monkeypatch):
    import os

    from ocr_model.pipeline import predictor

    calls = []
    monkeypatch.setattr(predictor, "get_model", lambda *args, **kwargs: calls.append((args, kwargs)) or FakeEngine())
    monkeypatch.delenv("OCR_DEVICE", raising=False)
    monkeypatch.delenv("OCR_NUM_THREADS", raising=False)
    settings = RunSettings(
        out_dir=tmp_path / "out", formats=tuple(parse_formats("json")), device="cpu", threads=2, checkpoint="ppocrv6-tiny"
    )
    bulk.load_model(settings)
    assert calls == [(("ppocrv6-tiny",), {"device": "cpu", "threads": 2})]
    assert "OCR_DEVICE" not in os.environ and "OCR_NUM_THREADS" not in os.environ
