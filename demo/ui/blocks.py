"""The app's `gr.Blocks`: its launch defaults and the upload gate in front of every request."""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr
from gradio import utils as gr_utils

from demo.config import AppConfig, launch_kwargs
from demo.style import CSS, size_label, theme, upload_guard_js
from demo.uploads import NO_FILES, UploadRefused, check_request_inputs

LOGGER = logging.getLogger(__name__)
# Set on an input that API callers may leave out at the END of their values (inputs added after the
# endpoint was published, e.g. /ocr's checkpoint): the component's default fills in, so an older raw
# HTTP call keeps working. gradio_client fills defaults itself; raw calls do not.
OPTIONAL_INPUT = "optional_api_input"


def optional_in_api(component: Any) -> Any:
    """Mark `component` as an input API callers may leave out at the end (see OPTIONAL_INPUT)."""
    setattr(component, OPTIONAL_INPUT, True)
    return component


def with_optional_defaults(blocks: list[Any], inputs: list[Any]) -> list[Any]:
    """`inputs`, plus the defaults of the trailing inputs it leaves out when all of those are optional."""
    missing = blocks[len(inputs) :]
    if not missing or not all(getattr(block, OPTIONAL_INPUT, False) for block in missing):
        return inputs
    return [*inputs, *(block.value for block in missing)]


class OcrDemo(gr.Blocks):
    """The app's Blocks: `launch()` defaults to the app's serving policy (`launch_kwargs`).

    So `build_demo().launch()` in a notebook gets the same port, upload limit, error policy
    and auth as `python app.py`; any keyword given to `launch()` still wins.
    """

    app_config: AppConfig = AppConfig()
    upload_dir: str = ""  # set by build_demo: the folder Gradio stores this instance's uploads in

    def launch(self, **kwargs: Any) -> Any:  # type: ignore[override]
        limit = self.app_config.max_file_size
        page = {  # the page's look (contrast, touch targets) and the upload-size note: demo/style.py
            "theme": theme(),
            "css": CSS,
            # Gradio's own parser of the limit, so the note and the server's refusal use the same number
            "js": upload_guard_js(gr_utils._parse_file_size(limit) or 0, size_label(limit)),
        }
        return super().launch(**{**page, **launch_kwargs(self.app_config), **kwargs})

    async def preprocess_data(self, block_fn: Any, inputs: list[Any], state: Any, explicit_call: bool = False) -> Any:
        """Every request's inputs pass the upload gate (demo/uploads.py) before Gradio reads, copies,
        downloads or decodes anything in them; a refusal is the same short message for every cause."""
        inputs = with_optional_defaults(list(block_fn.inputs), list(inputs))
        slots, values = [], []
        for block, value in zip(block_fn.inputs, inputs):
            if getattr(block, "stateful", False):
                continue  # Gradio takes a State's value from the server, never from the request
            slots.append(getattr(block, "file_slot", NO_FILES))
            values.append(value)
        if len(block_fn.inputs) != len(inputs):  # a malformed call, not a file problem: say so
            LOGGER.info("request refused: %d values for %d inputs", len(inputs), len(block_fn.inputs))
            raise gr.Error(input_count_message(len(block_fn.inputs), len(inputs)), print_exception=False)
        try:
            check_request_inputs(values, slots, self.upload_dir)
        except UploadRefused as refusal:
            LOGGER.info("request refused by the upload gate: %s", refusal.reason)
            raise gr.Error(str(refusal), print_exception=False) from None
        return await super().preprocess_data(block_fn, inputs, state, explicit_call)


def input_count_message(expected: int, sent: int) -> str:
    """The answer to a raw API call with the wrong number of values (was "Only files uploaded to this
    app can be read", which sent callers looking for a file problem)."""
    return (
        f"This endpoint takes {expected} input value{'s' if expected != 1 else ''}; the request sent {sent}. "
        "See \"Use via API\" at the bottom of the page for the inputs in order."
    )
