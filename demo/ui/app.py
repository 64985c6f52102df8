"""The Gradio page: `build_demo` lays out the panels (one module each in demo/ui/) and wires their events.

The request logic lives in `demo.handlers` (no Gradio there); the event handlers in `demo.ui.events`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from demo import handlers
from demo.components import use_local_file_snippets
from demo.config import AppConfig, apply_process_settings, load_config, queue_kwargs
from demo.engine import Models, OcrEngine, device_name, load_models
from demo.session_memory import SessionLedger
from demo.ui.api import build_api_panel, wire_api
from demo.ui.batch import build_batch_panel
from demo.ui.blocks import OcrDemo
from demo.ui.exports import build_exports_panel
from demo.ui.history import build_history_panel
from demo.ui.inputs import build_input_panel
from demo.ui.options import build_options_panel
from demo.ui.page import Page, Services, SessionState
from demo.ui.result import build_result_panel
from demo.ui.wiring import wire_events

TITLE = "OCR demo: find and read the text in an image"
INTRO = (
    "Upload, paste or photograph an image (or pick an example below) and press **Run OCR**: "
    "every line of text is boxed on the image, read, and listed with its confidence. "
    "Runs PP-OCRv6 on PyTorch; choose the checkpoint under **Options → Model**."
)


def default_decoder() -> Callable[[Any], Any]:
    from ocr_model.inputs.image_decode import decode_image

    return decode_image


def rejection_types() -> tuple[type[BaseException], ...]:
    """The errors whose message is shown to the user as is: the app's own and the decoder's."""
    from ocr_model.inputs.image_decode import ImageRejected

    return (handlers.InputError, ImageRejected)


def build_demo(
    model: OcrEngine | None = None,
    config: AppConfig | None = None,
    decoder: Callable[[Any], Any] | None = None,
    models: Models | None = None,
) -> OcrDemo:
    """Build the app. The checkpoint choices are read and the default checkpoint's model is loaded here,
    before any request is served (`demo.engine.load_models`: config.checkpoint, config.checkpoint_dir, on
    config.device).

    `model` (one engine answering every choice), `models` and `decoder` exist for tests; the shipped app
    passes none of them.
    """
    config = config or load_config(())
    apply_process_settings(config)
    if models is None:
        models = Models.fixed(model) if model is not None else load_models(config.checkpoint, config.checkpoint_dir, config.device)
    use_local_file_snippets()  # the API page's JavaScript example reads a local file (demo/components.py)
    with OcrDemo(title="OCR demo", delete_cache=config.delete_cache) as blocks:
        blocks.app_config = config
        state = SessionState.create(config.session_ttl_s)
        # One byte budget for the results of all sessions together (demo/session_memory.py, OcrDemo.postprocess_data)
        blocks.result_states = state.kept_results()
        blocks.session_ledger = SessionLedger(config.total_history_bytes, measure=blocks.session_bytes)
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        with gr.Row(equal_height=False):
            with gr.Column(scale=5, min_width=320):
                with gr.Tabs():
                    with gr.Tab("Single image", id="single"):
                        inputs = build_input_panel()
                    with gr.Tab("Batch", id="batch"):
                        batch = build_batch_panel(config.max_batch_files)
                options = build_options_panel(models.choices)
            with gr.Column(scale=7, min_width=320):
                result = build_result_panel()
                exports = build_exports_panel()
        history = build_history_panel(config.max_results_in_memory)
        gr.Markdown(f"Running on `{device_name(models.engine())}`.", elem_id="device-note")
        api = build_api_panel()

        blocks.upload_dir = result.explorer.GRADIO_CACHE
        services = Services(models, decoder or default_decoder(), config, blocks.upload_dir, rejection_types())
        page = Page(services, inputs, batch, options, result, exports, history, state)
        # Every event that runs the model shares one concurrency slot: with the default limit of 1,
        # /run, /batch and /ocr submitted together run one after the other (Gradio's limits are per
        # event otherwise, so three endpoints would mean three models' worth of memory at once).
        model_slot = {"concurrency_id": "ocr-model", "concurrency_limit": config.concurrency_limit}
        wire_api(api, page, model_slot)  # first, so that /ocr, the stateless API, comes first on the API page
        wire_events(page, model_slot, ui_api="undocumented" if config.mcp_server else "public")  # with MCP on, only /ocr is a tool
    blocks.queue(**queue_kwargs(config))
    return blocks
