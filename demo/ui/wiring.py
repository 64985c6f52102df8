"""Which event runs which handler, with which inputs and outputs. The input lists are in the order of
the handlers' parameters, and the output lists in the order of the /run and /batch API outputs."""

from __future__ import annotations

from typing import Any

import gradio as gr

from demo.style import SCROLL_TO_RESULTS_JS
from demo.ui import events
from demo.ui.page import Page, bind

HIDDEN = {"api_visibility": "private", "show_progress": "hidden"}  # page plumbing, not an API


def wire_events(page: Page, model_slot: dict[str, Any], ui_api: str) -> None:
    inputs, options, result, state = page.inputs, page.options, page.result, page.state
    run_options = [options.upside_down_check, options.detection_size, result.min_confidence, result.show_text, options.orientation]
    # the session states are not among the API's outputs (Gradio leaves gr.State out): only the panels are
    run_outputs = [*result.outputs(), page.history.gallery, state.current, state.history, state.batch, state.pages]
    run_event = inputs.run_button.click(
        bind(events.run, page),
        inputs=[inputs.image, *run_options, state.pdf, state.history, options.model, options.compare_with],
        outputs=[*run_outputs, *page.exports.outputs(), result.compare],
        api_name="run",
        api_visibility=ui_api,
        validator=events.check_run,
        show_progress_on=[result.explorer],
        **model_slot,
    )
    run_event.success(None, js=SCROLL_TO_RESULTS_JS)
    run_event.success(bind(events.nav_strip, page, errors=False), inputs=[state.pages], outputs=result.nav.outputs(), **HIDDEN)
    # The Single tab's PDF: its checked path is kept server-side (state.pdf) for the next Run, so /run's
    # API stays the image's (API clients send PDFs as the image). One upload at a time: a new image
    # clears the PDF and the other way round. `change`, not `upload`: an example's click fills the image without
    # an upload, and left the PDF chosen beside it (issue 18, defect 6).
    inputs.pdf.upload(events.pdf_chosen, inputs=[inputs.pdf, inputs.image], outputs=[state.pdf, inputs.image], **HIDDEN)
    inputs.pdf.clear(lambda: None, outputs=[state.pdf], **HIDDEN)
    inputs.image.change(events.image_chosen, inputs=[inputs.image], outputs=[inputs.pdf, state.pdf], **HIDDEN)
    batch_event = page.batch.run_button.click(
        bind(events.run_batch, page),
        inputs=[page.batch.files, *run_options, state.history, options.model],
        outputs=[*run_outputs, page.batch.table, *page.exports.outputs(), result.compare, state.batch_pages],
        api_name="batch",
        api_visibility=ui_api,
        validator=events.check_batch,
        show_progress_on=[result.explorer, page.batch.table],
        **model_slot,
    )
    batch_event.success(None, js=SCROLL_TO_RESULTS_JS)
    batch_event.success(bind(events.nav_strip, page, errors=False), inputs=[state.pages], outputs=result.nav.outputs(), **HIDDEN)
    gr.on(
        [result.min_confidence.input, result.show_text.input],
        bind(events.refilter, page, errors=False),
        inputs=[state.current, state.batch, result.min_confidence, result.show_text, state.pages],
        outputs=result.outputs(),
        trigger_mode="always_last",
        **HIDDEN,
    )
    page.history.gallery.select(
        bind(events.show_history_entry, page),
        inputs=[state.history, result.min_confidence, result.show_text],
        outputs=[
            *result.outputs(), state.current, inputs.image, state.batch, *page.exports.outputs(), inputs.pdf, state.pdf,
            result.compare, state.pages, *result.nav.outputs(),
        ],
        api_visibility="private",
        show_progress_on=[result.explorer],
    )
    wire_page_strip(page)


def wire_page_strip(page: Page) -> None:
    """The strip's buttons and the batch summary's rows show another result of the set (no OCR run), and the
    compare view follows (the run's comparison on its page only)."""
    result, state = page.result, page.state
    shown = [
        *result.outputs(), state.current, state.pages, state.batch, *result.nav.outputs(), *page.exports.outputs(), result.compare
    ]
    looks = [result.min_confidence, result.show_text]
    for button, handler in ((result.nav.previous, events.previous_page), (result.nav.next, events.next_page)):
        button.click(bind(handler, page), inputs=[state.pages, *looks], outputs=shown, **HIDDEN)
    row_event = page.batch.table.select(
        bind(events.open_batch_row, page), inputs=[state.batch_pages, *looks], outputs=shown,
        api_visibility="private", show_progress_on=[result.explorer],
    )
    row_event.success(None, js=SCROLL_TO_RESULTS_JS)
