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
from demo.files import write_cache_file
# Document: `History` names it in a string, which Gradio evaluates here (typing.get_type_hints) to find the
# handlers' gr.SelectData parameter; without it the hints are lost and so is the event data.
from demo.history import Document, History, OcrResult, entry_pages, get  # noqa: F401
from demo.ui.exports import batch_export_files, export_files
from demo.ui.history import gallery_items
from demo.ui.page import Page
from demo.ui.result import NOTHING_SHOWN, Shown, file_stem, present, show, with_batch

NO_IMAGE_MESSAGE = "Please upload, paste or photograph an image first (or click an example)."
NO_FILES_MESSAGE = "Please add one or more image files first."
HISTORY_NOTE = "\n\nShown from the history. To run it again (e.g. with other options), upload the image again."

Batch = tuple[str, list[dict[str, Any]]]  # (headline, records at confidence 0) of the batch shown now


def session_values(page: Page, shown: Shown, result: OcrResult | None, history: History, batch: Batch | None) -> dict[Any, Any]:
    """A run's outputs besides the exports: the result panel, the history and the session state."""
    return {
        **shown.values(page.result),
        page.history.gallery: gallery_items(page.services, history),
        page.state.current: result,
        page.state.history: history,
        page.state.batch: batch,
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
    shown = show(services, outcome.view, outcome.result)
    if len(outcome.results) > 1:  # a PDF: the JSON download holds every page
        document = handlers.document_record(outcome.results, outcome.name, min_confidence)
        json_file = write_cache_file(services.cache_dir, handlers.record_json(document), f"{file_stem(outcome.name)}_ocr.json")
        summary = (
            f"**{len(outcome.results)} pages** read from `{outcome.name}`; showing page 1. The history below "
            f"keeps the document as one entry, and the exports hold every page.\n\n{shown.summary}"
        )
        shown = dataclasses.replace(shown, json_file=json_file, summary=summary)
    return {
        **session_values(page, shown, outcome.result, outcome.history, None),
        **page.exports.values(export_files(services, outcome.results, outcome.name)),
        page.result.compare: compare_view(page, source, options, outcome.result, compare_with, progress),
    }


def compare_view(
    page: Page, source: str | None, options: dict[str, Any], shown: OcrResult, compare_with: str, progress: gr.Progress
) -> Any:
    """The compare view's update: hidden without "Compare with"; else `shown`'s page read again by that
    checkpoint, after the first read (one model at a time, in this request's thread)."""
    if not compare_with or source is None:
        return gr.HTML("", visible=False)
    first = shown.predictions.checkpoint
    if compare_with == first:
        return gr.HTML(f"<p>Compare with: <code>{html.escape(first)}</code> is the Model itself; choose another.</p>", visible=True)
    progress(None, desc=f"Reading again with {compare_with}")
    services = page.services
    engine = handlers.chosen_engine(services.models, compare_with)
    comparison = handlers.compare_request(engine, services.decode, source, options, services.config, shown)
    return gr.HTML(comparison.html(), visible=True)


# /run's parameters after `page`, in the order of its inputs: the validator names its values by them.
RUN_PARAMETERS = tuple(inspect.signature(run).parameters)[1:]


def check_run(*values: Any) -> list[dict[str, Any]]:
    """Runs before `run`: a missing image (and no PDF) is shown on the input; the results stay."""
    named = dict(zip(RUN_PARAMETERS, values))
    given = bool(named.get("image_path")) or bool(named.get("pdf_path"))
    return [gr.validate(given, NO_IMAGE_MESSAGE)] + [gr.validate(True, "")] * (len(values) - 1)


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
    if outcome.view is None or outcome.last is None:
        shown = NOTHING_SHOWN
    else:
        shown = show(services, outcome.view, outcome.last)
        headline += " Showing the last one."
    batch = (headline, outcome.all_records)
    return {
        **session_values(page, with_batch(services, shown, batch, min_confidence), outcome.last, outcome.history, batch),
        page.batch.table: outcome.summary_rows,
        **page.exports.values(batch_export_files(services, outcome.archive)),
        page.result.compare: gr.HTML("", visible=False),
    }


def check_batch(paths: list[str] | None, *others: Any) -> list[dict[str, Any]]:
    return [gr.validate(bool(paths), NO_FILES_MESSAGE)] + [gr.validate(True, "")] * len(others)


def refilter(
    page: Page, result: OcrResult | None, batch: Batch | None, min_confidence: float, show_text: bool
) -> dict[Any, Any]:
    """The confidence filter or "Write text on image" moved: re-draw the shown result (no new OCR run)."""
    if result is None:
        return {component: gr.skip() for component in page.result.outputs()}
    shown = present(page.services, result, min_confidence, show_text)
    return (shown if batch is None else with_batch(page.services, shown, batch, min_confidence)).values(page.result)


def show_history_entry(
    page: Page, history: History, min_confidence: float, show_text: bool, event: gr.SelectData
) -> dict[Any, Any]:
    try:
        entry = get(history or (), int(event.index))
    except ValueError as error:
        raise handlers.InputError("That history entry has expired; please run the image again.") from error
    pages = entry_pages(entry)  # a PDF's entry holds all its pages: page 1 is shown, the exports hold all
    result = pages[0]
    shown = present(page.services, result, min_confidence, show_text)
    shown = dataclasses.replace(shown, summary=shown.summary + HISTORY_NOTE)
    # the inputs are cleared: Run must not silently re-run the last upload instead of this entry
    return {
        **shown.values(page.result),
        page.state.current: result,
        page.inputs.image: None,
        page.state.batch: None,
        **page.exports.values(export_files(page.services, list(pages), entry.name)),
        page.inputs.pdf: None,
        page.state.pdf: None,
        page.result.compare: gr.HTML("", visible=False),  # a comparison belongs to the run that made it
    }
