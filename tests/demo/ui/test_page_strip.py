"""Pages and files as a navigable set (issue 18, "what to build" 1), through the page's own event handlers with a
fake engine: a 22-page PDF is stepped through to its last page read from the result itself (pages after 10 were
reachable only through the 10-entry history, pages 11-20 not at all), a batch summary row opens its file, and
choosing an image clears a chosen PDF (defect 6). The browser side is in test_browser_reading_view.py."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pytest
from PIL import Image

from conftest import ASSETS_DIR, FakeEngine
from demo.config import AppConfig
from demo.history import OcrResult, entry_bytes
from demo.pageset import BATCH, PageSet, batch_set
from demo.ui import build_demo, events
from pdf_samples import pdf_of_images, text_page

CONFIG = AppConfig(max_display_size=640, max_results_in_memory=10)


@pytest.fixture(scope="module")
def handlers():
    """The bound event handlers of a built page, by name: called as Gradio calls them."""
    blocks = build_demo(model=FakeEngine(), config=CONFIG)
    return {block_fn.fn.__name__: block_fn.fn for block_fn in blocks.fns.values() if block_fn.fn is not None}


def by_kind(outputs: dict, kind: type):
    return [value for value in outputs.values() if isinstance(value, kind)]


def shown(outputs: dict) -> dict:
    """The result view's value (the explorer's dict) among a handler's outputs."""
    (explorer,) = [value for value in outputs.values() if isinstance(value, dict) and "lines" in value and "image" in value]
    return explorer


def strip(outputs: dict) -> tuple[str, bool, bool]:
    """(label text, previous enabled, next enabled) of the page strip among a handler's outputs."""
    (label,) = [value for value in outputs.values() if isinstance(value, str) and 'class="page-of"' in value]
    buttons = [value for value in outputs.values() if isinstance(value, gr.Button)]
    assert len(buttons) == 2
    return label, bool(buttons[0].interactive), bool(buttons[1].interactive)


@pytest.mark.slow  # renders and reads 20 pages at 200 dpi
def test_every_page_of_a_22_page_pdf_is_reachable_from_the_result(handlers, tmp_path):
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(pdf_of_images([text_page([f"Page {n}"], size=(170, 220), font_size=20) for n in range(1, 23)], resolution=20.0))
    outputs = handlers["run"](None, "auto", 960, 0.0, False, "auto", str(pdf), ())
    (pages,) = by_kind(outputs, PageSet)
    assert len(pages.items) == 20 and pages.position == 0  # OCR_MAX_PDF_PAGES: 20 of the 22 read
    assert shown(outputs)["name"] == "long.pdf · page 1 of 22"
    assert handlers["nav_strip"](pages) and strip(handlers["nav_strip"](pages)) == (
        '<p class="page-of" aria-live="polite">Page 1 of 22 (the first 20 read)</p>', False, True
    )
    for number in range(2, 21):
        outputs = handlers["next_page"](pages, 0.0, False)
        (pages,) = by_kind(outputs, PageSet)
        view = shown(outputs)
        assert view["name"] == f"long.pdf · page {number} of 22"
        assert f"Page {number} of 22" in strip(outputs)[0]
        # the display copy, capped, with the polygons in its pixels
        with Image.open(view["image"]["path"]) as image:
            assert max(image.size) <= CONFIG.max_display_size and image.size == (view["width"], view["height"])
        assert view["lines"] and all(0 <= x <= view["width"] and 0 <= y <= view["height"] for line in view["lines"] for x, y in line["points"])
        assert [result for result in by_kind(outputs, OcrResult)] == [pages.items[number - 1]]  # the shown one
    assert strip(outputs)[1:] == (True, False)  # the last page read: Next is off
    assert shown(handlers["next_page"](pages, 0.0, False))["name"] == "long.pdf · page 20 of 22"  # stays there
    outputs = handlers["previous_page"](pages, 0.5, True)
    assert shown(outputs)["name"] == "long.pdf · page 19 of 22" and shown(outputs)["show_text"] is True
    summaries = [value for value in outputs.values() if isinstance(value, str) and "pages** read from" in value]
    assert summaries and "showing page 19" in summaries[0]


def test_a_batch_summary_row_opens_its_file(handlers, tmp_path):
    pdf = tmp_path / "two.pdf"
    pdf.write_bytes(pdf_of_images([text_page(["One"], size=(170, 220), font_size=20), text_page(["Two"], size=(170, 220), font_size=20)], resolution=20.0))
    (tmp_path / "empty.png").write_bytes(b"")
    files = [str(ASSETS_DIR / "receipt.jpg"), str(tmp_path / "empty.png"), str(pdf)]
    outputs = handlers["run_batch"](files, "auto", 960, 0.0, False, "auto", ())
    (table,) = [value for value in outputs.values() if isinstance(value, list) and value and isinstance(value[0], list)]
    assert [row[0] for row in table] == ["receipt.jpg", "empty.png", "two.pdf · page 1 of 2", "two.pdf · page 2 of 2"]
    (pages,) = {id(value): value for value in by_kind(outputs, PageSet)}.values()  # shown set = the batch's set
    assert pages.kind == BATCH and pages.position == 2 and shown(outputs)["name"] == "two.pdf · page 2 of 2"
    assert strip(handlers["nav_strip"](pages))[0].endswith("3 of 3 · two.pdf · page 2 of 2</p>")

    def click(row: int) -> dict:
        event = SimpleNamespace(index=[row, 0])
        return handlers["open_batch_row"](pages, 0.0, False, event)

    assert shown(click(0))["name"] == "receipt.jpg"
    assert shown(click(2))["name"] == "two.pdf · page 1 of 2"
    opened = click(0)
    assert strip(opened) == ('<p class="page-of" aria-live="polite">1 of 3 · receipt.jpg</p>', False, True)
    files = [str(value.value) for value in opened.values() if isinstance(value, gr.DownloadButton) and value.value]
    assert [name for name in files if "exports.zip" in name] and all("batch_exports.zip" in name for name in files if ".zip" in name)
    with pytest.raises(gr.Error, match="not read"):
        click(1)  # the empty file: its status says why


def test_a_batch_set_keeps_the_newest_results_within_the_history_budget(fake_engine):
    from demo import handlers as request
    from ocr_model.inputs.image_decode import decode_image

    outcome = request.batch_request(fake_engine, decode_image, [ASSETS_DIR / "receipt.jpg"] * 3, {}, (), CONFIG)
    results = outcome.results
    assert len(results) == 3
    room = entry_bytes(results[1]) + entry_bytes(results[2])
    pages = batch_set(results, ["ok"] * 3, room)
    assert pages is not None and pages.items == (None, results[1], results[2]) and pages.rows == (0, 1, 2)
    with pytest.raises(Exception, match="no longer kept"):
        events.show_in_set(SimpleNamespace(), pages.at(0), 0.0, False)


def test_choosing_an_image_clears_the_pdf_and_run_refuses_both(handlers):
    """Defect 6: after a PDF was chosen, an example's click filled the image too, and Run read the image silently."""
    assert events.image_chosen("/tmp/receipt.jpg") == (None, None)  # the PDF box and the kept PDF path
    skipped = events.image_chosen(None)  # the image cleared (e.g. by the PDF's own upload): nothing to do
    assert all(isinstance(value, dict) and value.get("__type__") == "update" and len(value) == 1 for value in skipped)
    values = ["/tmp/receipt.jpg", "auto", 960, 0.0, False, "auto", "/tmp/doc.pdf", ()]
    first, *others = events.check_run(*values)
    assert first["is_valid"] is False and "Both an image and a PDF" in first["message"]
    assert events.check_run(*values[:6], None, ())[0]["is_valid"] is True
