"""The page's event handlers: module-level functions of the `Page` that return `{component: value}`.

They are called directly in Gradio's worker thread (no extra threads); the request logic itself is in
`demo.handlers` (no Gradio there). `wire_events` connects them to the page.
"""

from __future__ import annotations

import dataclasses
import html
import inspect
from typing import Any

import gradio as gr

from demo import handlers
from demo.engine import model_options
# Document: `History` names it in a string, which Gradio evaluates here (typing.get_type_hints) to find the
# handlers' gr.SelectData parameter; without it the hints are lost and so is the event data.
from demo.history import Document, History, OcrResult, entry_pages, get  # noqa: F401
# PageSet: named in string annotations of the handlers below, evaluated here by Gradio (as Document above).
from demo.pageset import BATCH, PageComparison, PageSet, batch_set, document_set, entry_set
from demo.ui.exports import batch_export_files, export_files
from demo.ui.history import gallery_items
from demo.ui.page import Page
from demo.ui.result import NOTHING_SHOWN, Shown, in_set, present, show, with_batch

NO_IMAGE_MESSAGE = "Please upload, paste or photograph an image first (or click an example)."
NO_FILES_MESSAGE = "Please add one or more image files first."
BOTH_INPUTS_MESSAGE = "Both an image and a PDF are chosen: remove one (the × on its box), then press Run OCR again."
HISTORY_NOTE = "\n\nShown from the history. To run it again (e.g. with other options), upload the image again."
# A session's results may be dropped (its time-to-live, or the budget all sessions share: demo/session_memory.py)
# while its page still shows them: the events that read them then say so.
EXPIRED_ENTRY_MESSAGE = "That history entry has expired; please run the image again."
EXPIRED_SET_MESSAGE = "These pages are no longer kept; please run the file again."
EXPIRED_BATCH_MESSAGE = "That batch is no longer kept; please run it again."
NOTHING_TO_FILTER_MESSAGE = "No result is kept to filter; please run the image (again)."

Batch = tuple[str, list[dict[str, Any]]]  # (headline, records at confidence 0) of the batch shown now


def session_values(
    page: Page, shown: Shown, result: OcrResult | None, history: History, batch: Batch | None, pages: PageSet | None
) -> dict[Any, Any]:
    """A run's outputs besides the exports: the result panel, the history and the session state (the page
    strip follows in a chained event, `nav_strip`, so that it is not among the API's outputs)."""
    return {
        **shown.values(page.result),
        page.history.gallery: gallery_items(page.services, history),
        page.state.current: result,
        page.state.history: history,
        page.state.batch: batch,
        page.state.pages: pages,
    }


def run(
    page: Page,
    image_path: str | None,
    upside_down_check: str,
    detection_size: float,
    min_confidence: float,
    show_text: bool,
    orientation: str,
    pdf_path: str | None,
    history: History,
    checkpoint: str = "",
    compare_with: str = "",
    progress: gr.Progress = gr.Progress(),
) -> dict[Any, Any]:
    """Run OCR on the Single tab's image, else its PDF (every page; page 1 is shown), with the Model's
    checkpoint; with "Compare with", page 1 is then read again by that checkpoint (compare view)."""

    def page_started(number: int, count: int) -> None:
        if count > 1:  # a PDF: the bar advances per page
            progress((number - 1, count), desc=f"Reading page {number} of {count}", unit="pages")

    services, config = page.services, page.services.config
    source = image_path or pdf_path
    options = model_options(upside_down_check, detection_size, orientation)
    if compare_with:  # a name not in the list is refused before the first read, not after it
        handlers.check_checkpoint(services.models, compare_with)
    outcome = handlers.single_request(
        handlers.chosen_engine(services.models, checkpoint), services.decode, source, options,
        history, config, min_confidence, show_text, on_page=page_started,
    )
    pages = document_set(outcome.results, outcome.name)  # a PDF: its pages, page 1 shown; the JSON holds all
    compared = compare_view(page, source, options, outcome.result, compare_with, progress)
    if pages is not None and compared is not None:  # kept with the pages, so that it follows page turns
        pages = dataclasses.replace(pages, compare=compared)
    shown = in_set(services, show(services, outcome.view, outcome.result), pages, min_confidence)
    return {
        **session_values(page, shown, outcome.result, outcome.history, None, pages),
        **page.exports.values(export_files(services, outcome.results, outcome.name)),
        page.result.compare: compare_update(None if compared is None else compared.html()),
    }


def compare_view(
    page: Page, source: str | None, options: dict[str, Any], shown: OcrResult, compare_with: str, progress: gr.Progress
) -> PageComparison | None:
    """None without "Compare with"; else `shown`'s page (the upload's first) read again by that checkpoint, after
    the first read (one model at a time, in this request's thread): the compare view of the set's first position,
    headed by the page it covers for a PDF, and the note that stands in for it on the other pages."""
    if not compare_with or source is None:
        return None
    first = shown.predictions.checkpoint
    if compare_with == first:  # nothing compared: the same advice on every page
        advice = f"<p>Compare with: <code>{html.escape(first)}</code> is the Model itself; choose another.</p>"
        return PageComparison(0, None, "", advice)
    progress(None, desc=f"Reading again with {compare_with}")
    services = page.services
    engine = handlers.chosen_engine(services.models, compare_with)
    comparison = handlers.compare_request(engine, services.decode, source, options, services.config, shown)
    info = getattr(shown, "page", None)  # a PDF page's number and count
    heading = f"Page {info.number} of {info.count}" if info is not None else ""
    where = f"page {info.number}" if info is not None else "the first page"
    note = (
        f"<p class='compare-note'>The comparison with <code>{html.escape(comparison.name_b)}</code> covers {where} "
        f"only: go back to {where} to see it.</p>"
    )
    return PageComparison(0, comparison, heading, note)


def compare_update(view: str | None) -> Any:
    """The compare view's update: that HTML, or hidden."""
    return gr.HTML(view or "", visible=view is not None)


# /run's parameters after `page`, in the order of its inputs: the validator names its values by them.
RUN_PARAMETERS = tuple(inspect.signature(run).parameters)[1:]


def check_run(*values: Any) -> list[dict[str, Any]]:
    """Runs before `run`: a missing image (and no PDF), or both at once, is shown on the input; the results stay."""
    named = dict(zip(RUN_PARAMETERS, values))
    image, pdf = bool(named.get("image_path")), bool(named.get("pdf_path"))
    message = BOTH_INPUTS_MESSAGE if image and pdf else NO_IMAGE_MESSAGE
    return [gr.validate(image != pdf, message)] + [gr.validate(True, "")] * (len(values) - 1)


def pdf_chosen(paths: list[str] | None, image: str | None) -> tuple[Any, Any]:
    """A PDF was chosen: kept for the next Run, and the image cleared. Left alone when there is none, so that
    this answer, arriving late, cannot clear an example clicked meanwhile."""
    return (paths[0] if paths else None), (None if image else gr.skip())


def image_chosen(image: str | None) -> tuple[Any, Any]:
    """An image was chosen (uploaded, pasted, photographed, or an example clicked): the PDF box and the PDF kept
    for the next Run are cleared, so that Run never reads one while the page shows the other."""
    return (None, None) if image else (gr.skip(), gr.skip())


def run_batch(
    page: Page,
    paths: list[str] | None,
    upside_down_check: str,
    detection_size: float,
    min_confidence: float,
    show_text: bool,
    orientation: str,
    history: History,
    checkpoint: str = "",
    progress: gr.Progress = gr.Progress(),
) -> dict[Any, Any]:
    """Run OCR on every file of the Batch tab with the Model's checkpoint; the last result is shown, the
    JSON holds them all. (No compare view for a batch: the view compares one page.)"""
    services = page.services
    outcome = handlers.batch_request(
        handlers.chosen_engine(services.models, checkpoint), services.decode, paths, model_options(upside_down_check, detection_size, orientation),
        history, services.config, min_confidence, show_text,
        refused=services.user_error_types,
        on_progress=lambda fraction, text: progress(fraction, desc=text),  # advances per file and PDF page
    )
    if outcome.succeeded == outcome.files_read:
        headline = f"Batch: {outcome.succeeded} of {len(paths or [])} images read; the JSON holds all of them."
    else:  # PDFs: one result per page
        headline = (
            f"Batch: {outcome.files_read} of {len(paths or [])} files read ({outcome.succeeded} pages and images); "
            "the JSON holds all of them."
        )
    if len(outcome.results) > 1:
        headline += " Showing the last one: click a row of the batch summary, or use ◀ ▶ above the image, for another."
    elif outcome.results:
        headline += " Showing it."
    shown = NOTHING_SHOWN if outcome.view is None or outcome.last is None else show(services, outcome.view, outcome.last)
    batch = (headline, outcome.all_records)
    exports = batch_export_files(services, outcome.archive)
    statuses = [row[3] for row in outcome.summary_rows]
    pages = batch_set(outcome.results, statuses, services.config.max_history_bytes, batch, exports)
    return {
        **session_values(page, with_batch(services, shown, batch, min_confidence), outcome.last, outcome.history, batch, pages),
        page.state.batch_pages: pages,
        page.batch.table: outcome.summary_rows,
        **page.exports.values(exports),
        page.result.compare: gr.HTML("", visible=False),
    }


def check_batch(paths: list[str] | None, *others: Any) -> list[dict[str, Any]]:
    return [gr.validate(bool(paths), NO_FILES_MESSAGE)] + [gr.validate(True, "")] * len(others)


def refilter(
    page: Page,
    result: OcrResult | None,
    batch: Batch | None,
    min_confidence: float,
    show_text: bool,
    pages: PageSet | None = None,
) -> dict[Any, Any]:
    """The confidence filter or "Write text on image" moved: re-draw the shown result (no new OCR run); the
    JSON download stays its set's (the whole PDF, the batch)."""
    if result is None:  # none run yet, or the session's results were dropped: the view stays as it is
        gr.Warning(NOTHING_TO_FILTER_MESSAGE)
        return {component: gr.skip() for component in page.result.outputs()}
    shown = present(page.services, result, min_confidence, show_text)
    if pages is not None:
        return in_set(page.services, shown, pages, min_confidence).values(page.result)
    return (shown if batch is None else with_batch(page.services, shown, batch, min_confidence)).values(page.result)


def show_history_entry(
    page: Page, history: History, min_confidence: float, show_text: bool, event: gr.SelectData
) -> dict[Any, Any]:
    try:
        entry = get(history or (), int(event.index))
    except ValueError as error:
        raise handlers.InputError(EXPIRED_ENTRY_MESSAGE) from error
    pages = entry_pages(entry)  # a PDF's entry holds all its pages: page 1 is shown, the exports hold all
    result, document = pages[0], entry_set(entry)
    shown = in_set(page.services, present(page.services, result, min_confidence, show_text), document, min_confidence)
    shown = dataclasses.replace(shown, summary=shown.summary + HISTORY_NOTE)
    # the inputs are cleared: Run must not silently re-run the last upload instead of this entry
    return {
        **shown.values(page.result),
        page.state.current: result,
        page.state.pages: document,
        **page.result.nav.values(document),
        page.inputs.image: None,
        page.state.batch: None,
        **page.exports.values(export_files(page.services, list(pages), entry.name)),
        page.inputs.pdf: None,
        page.state.pdf: None,
        page.result.compare: gr.HTML("", visible=False),  # a comparison belongs to the run that made it
    }


def nav_strip(page: Page, pages: PageSet | None) -> dict[Any, Any]:
    """After /run and /batch (chained, so the strip stays out of their API outputs): the page strip."""
    return page.result.nav.values(pages)


def show_in_set(page: Page, pages: PageSet | None, min_confidence: float, show_text: bool) -> dict[Any, Any]:
    """Show the result at `pages.position` (no new OCR run): the result panel, the strip, the session state and
    the set's downloads when it kept them (a batch's zip). No set while the strip still shows: the session's
    results were dropped (an empty answer would fail Gradio's output check with a bare "Error")."""
    if pages is None:
        raise handlers.InputError(EXPIRED_SET_MESSAGE)
    result = pages.current
    if result is None:
        raise handlers.InputError(
            "That result is no longer kept: the batch held more than this session may keep in memory. "
            "Its lines are in the batch JSON and its exports in the zip."
        )
    shown = in_set(page.services, present(page.services, result, min_confidence, show_text), pages, min_confidence)
    return {
        **shown.values(page.result),
        **page.result.nav.values(pages),
        page.state.current: result,
        page.state.pages: pages,
        page.state.batch: pages.batch if pages.kind == BATCH else None,
        **(page.exports.values(pages.exports) if pages.exports is not None else {}),
        # the run's comparison, if the set keeps one: on its page, else a note; hidden for a set without
        page.result.compare: compare_update(pages.compare_html()),
    }


def previous_page(page: Page, pages: PageSet | None, min_confidence: float, show_text: bool) -> dict[Any, Any]:
    return show_in_set(page, None if pages is None else pages.at(pages.position - 1), min_confidence, show_text)


def next_page(page: Page, pages: PageSet | None, min_confidence: float, show_text: bool) -> dict[Any, Any]:
    return show_in_set(page, None if pages is None else pages.at(pages.position + 1), min_confidence, show_text)


def open_batch_row(
    page: Page, batch_pages: PageSet | None, min_confidence: float, show_text: bool, event: gr.SelectData
) -> dict[Any, Any]:
    """A click on a row of the batch summary shows that file's result (a PDF page's row: that page)."""
    if batch_pages is None:
        raise handlers.InputError(EXPIRED_BATCH_MESSAGE)
    row = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
    position = batch_pages.rows[int(row)] if 0 <= int(row) < len(batch_pages.rows) else None
    if position is None:
        raise handlers.InputError("This file was not read (see its status), so there is no result to show.")
    # a batch's set keeps no comparison (a comparison belongs to a single run): the compare view is hidden
    return show_in_set(page, batch_pages.at(position), min_confidence, show_text)
