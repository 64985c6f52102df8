"""Pages and files as a navigable set (issue 18, "what to build" 1), through the page's own event handlers with a
fake engine: a 22-page PDF is stepped through to its last page read from the result itself (pages after 10 were
reachable only through the 10-entry history, pages 11-20 not at all), a batch summary row opens its file, and
choosing an image clears a chosen PDF (defect 6). The browser side is in test_browser_reading_view.py."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import gradio as gr
import pytest
from PIL import Image

from conftest import ASSETS_DIR, FakeEngine
from demo.config import AppConfig
from demo.history import Document, OcrResult, entry_bytes
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


# --- the compare view follows page turns ----------------------------------------------------------------------


class OtherReader(FakeEngine):
    """A second checkpoint that reads the second line differently."""

    def predict(self, image, **options):
        predictions = super().predict(image, **options)
        return dataclasses.replace(predictions, texts=["HELLO", "W0RLD"])


@pytest.fixture
def comparing():
    """A page built with two checkpoints (a fake engine each), its bound handlers by name, and the engines."""
    from demo.engine import CheckpointChoice, CheckpointChoices, Models

    engines = {"ppocrv6-small": FakeEngine(), "ppocrv6-tiny": OtherReader()}
    choices = CheckpointChoices(tuple(CheckpointChoice(name, "") for name in engines), "ppocrv6-small")
    blocks = build_demo(models=Models(choices, lambda choice: engines[choice.name]), config=CONFIG)
    handlers = {block_fn.fn.__name__: block_fn.fn for block_fn in blocks.fns.values() if block_fn.fn is not None}
    return handlers, engines


def compare_view(outputs: dict) -> tuple[bool, str]:
    """(visible, HTML) of the compare view among a handler's outputs."""
    (view,) = [value for key, value in outputs.items() if getattr(key, "elem_id", None) == "compare-view"]
    return bool(view.visible), str(view.value or "")


def three_pages(tmp_path):
    pdf = tmp_path / "three.pdf"
    pdf.write_bytes(pdf_of_images([text_page([word], size=(170, 220), font_size=20) for word in ("One", "Two", "Three")], resolution=20.0))
    return pdf


def test_the_compare_view_follows_page_turns_without_reading_again(comparing, tmp_path):
    """Page 1's comparison stayed on screen beside page 3's result after Next, as if it were page 3's."""
    handlers, engines = comparing
    outputs = handlers["run"](None, "off", 960, 0.0, False, "auto", str(three_pages(tmp_path)), (), "ppocrv6-small", "ppocrv6-tiny")
    (pages,) = by_kind(outputs, PageSet)
    visible, compared = compare_view(outputs)
    assert visible and "Page 1 of 3:</span>" in compared and "1 of 2 lines differ" in compared and "class='differs changed'" in compared
    reads = [len(engine.calls) for engine in engines.values()]
    assert reads == [3, 1]  # every page with the Model, page 1 again with "Compare with"
    assert pages.compare is not None and pages.compare.position == 0
    assert pages.compare.html() == compared and pages.compare.comparison.lines[1].text_b == "W0RLD"  # texts only

    for number in (2, 3):
        outputs = handlers["next_page"](pages, 0.0, False)
        (pages,) = by_kind(outputs, PageSet)
        assert shown(outputs)["name"] == f"three.pdf · page {number} of 3"
        visible, note = compare_view(outputs)
        assert visible and "covers page 1 only" in note and "ppocrv6-tiny" in note
        assert "compare-table" not in note and "differ" not in note  # not page 1's table beside page 2 or 3
    for number in (2, 1):
        outputs = handlers["previous_page"](pages, 0.0, False)
        (pages,) = by_kind(outputs, PageSet)
        assert shown(outputs)["name"] == f"three.pdf · page {number} of 3"
    assert compare_view(outputs) == (True, compared)  # back on page 1: the comparison again
    assert [len(engine.calls) for engine in engines.values()] == reads  # no page turn read anything


def test_sets_without_a_comparison_hide_the_compare_view(comparing, tmp_path):
    """A run without "Compare with", a history entry, a batch row, and a set whose comparison is gone (the session's
    results cleared: demo/session_memory.py) all hide it, with no error."""
    handlers, _ = comparing
    pdf = str(three_pages(tmp_path))
    outputs = handlers["run"](None, "off", 960, 0.0, False, "auto", pdf, (), "ppocrv6-small", "")
    (pages,) = by_kind(outputs, PageSet)
    assert compare_view(outputs) == (False, "") and pages.compare is None
    assert compare_view(handlers["next_page"](pages, 0.0, False)) == (False, "")

    outputs = handlers["run"](None, "off", 960, 0.0, False, "auto", pdf, (), "ppocrv6-small", "ppocrv6-tiny")
    (pages,) = by_kind(outputs, PageSet)
    (history,) = [value for value in outputs.values() if isinstance(value, tuple) and value and isinstance(value[0], Document)]
    entry = handlers["show_history_entry"](history, 0.0, False, SimpleNamespace(index=0))
    (entry_pages,) = by_kind(entry, PageSet)
    assert compare_view(entry) == (False, "") and compare_view(handlers["next_page"](entry_pages, 0.0, False)) == (False, "")
    assert compare_view(handlers["next_page"](dataclasses.replace(pages, compare=None), 0.0, False)) == (False, "")

    batch = handlers["run_batch"]([str(ASSETS_DIR / "receipt.jpg"), pdf], "off", 960, 0.0, False, "auto", (), "ppocrv6-small")
    (batch_pages,) = {id(value): value for value in by_kind(batch, PageSet)}.values()
    assert compare_view(batch) == (False, "")
    assert compare_view(handlers["open_batch_row"](batch_pages, 0.0, False, SimpleNamespace(index=[0, 0]))) == (False, "")
    assert compare_view(handlers["previous_page"](batch_pages, 0.0, False)) == (False, "")


def test_a_page_set_gives_its_comparison_on_its_page_and_the_note_elsewhere():
    from demo.compare import ComparedLine, Comparison
    from demo.pageset import PageComparison

    items = tuple(SimpleNamespace(name=f"p{n}") for n in range(3))
    comparison = Comparison("a", "b", (ComparedLine(1, "x", 1, "y"),))
    pages = PageSet(name="doc.pdf", items=items, compare=PageComparison(0, comparison, "Page 1 of 3", "<p>note</p>"))
    table = comparison.html("Page 1 of 3")
    assert [pages.at(n).compare_html() for n in (0, 1, 2, 0)] == [table, "<p>note</p>", "<p>note</p>", table]
    assert PageSet(name="doc.pdf", items=items).compare_html() is None
    advice = PageSet(name="doc.pdf", items=items, compare=PageComparison(0, None, "", "<p>choose another</p>"))
    assert {advice.at(n).compare_html() for n in (0, 1, 2)} == {"<p>choose another</p>"}  # nothing compared: every page
