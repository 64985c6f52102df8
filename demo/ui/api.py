"""The stateless /ocr endpoint (also the MCP tool): hidden components, its handler and its result schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from demo import handlers
from demo.components import UploadedImage
from demo.gradio_stubs import skip_stubs_for_demo
from demo.ui.blocks import optional_in_api
from demo.ui.page import Page, bind

skip_stubs_for_demo()  # before OcrResultJson: no .pyi beside this file

OCR_API_DESCRIPTION = (
    "Find and read every line of text in one image or PDF (OCR with PP-OCRv6 on this server), optionally with a "
    "named checkpoint the server offers (the page's Model choice; names only, never a path). Returns JSON: "
    "file, image_size {height, width}, device, checkpoint, timings (seconds per stage), note, rotation (degrees the image was "
    "turned clockwise to read it), min_confidence, lines_total and lines, each {line, text, confidence 0-1, "
    "polygon [[x, y], ...] in the original image's pixels, words [{text, confidence, polygon}]}, in reading "
    "order. For a PDF: {file, checkpoint, page_count, pages_read, note, pages: [that record per page, plus page "
    "{number, count, width_pt, height_pt, scale, dpi}, and error for a page that could not be rendered]}, pixels of "
    "the page rendered at 200 dpi. Nothing is kept after the call."
)

_POLYGON: dict[str, Any] = {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}
RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "file": {"type": "string"},
        "image_size": {"type": "object", "properties": {"height": {"type": "integer"}, "width": {"type": "integer"}}},
        "device": {"type": "string"},
        "checkpoint": {"type": "string"},
        "timings": {"type": "object", "additionalProperties": {"type": "number"}},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "rotation": {"type": "integer", "enum": [0, 90, 180, 270]},
        "min_confidence": {"type": "number"},
        "lines_total": {"type": "integer"},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "line": {"type": "integer"},
                    "text": {"type": "string"},
                    "confidence": {"type": "number"},
                    "polygon": _POLYGON,
                    "words": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"text": {"type": "string"}, "confidence": {"type": "number"}, "polygon": _POLYGON},
                        },
                    },
                },
            },
        },
        # PDFs only: one record like the above per page read (with "page": {number, count, width_pt, ...} and, for
        # a page that could not be rendered, "error")
        "page_count": {"type": "integer"},
        "pages_read": {"type": "integer"},
        "pages": {"type": "array", "items": {"type": "object"}},
    },
}


class OcrResultJson(gr.JSON):
    """`gr.JSON` that tells API clients (and MCP agents) the shape of the /ocr result instead of
    "str | float | bool | list | dict"."""

    is_template = True  # Gradio: render with the parent's front end ("json")

    def api_info(self) -> dict[str, Any]:
        return RESULT_SCHEMA


@dataclass(frozen=True)
class ApiPanel:
    image: UploadedImage
    result: OcrResultJson
    trigger: gr.Button
    # A plain text box, not a dropdown: every name reaches `handlers.chosen_engine`, which accepts only the
    # app's listed names and answers anything else with the list.
    checkpoint: gr.Textbox


def build_api_panel() -> ApiPanel:
    with gr.Row(visible=False):
        return ApiPanel(
            UploadedImage(type="filepath", image_mode=None, label="image"),
            OcrResultJson(label="result"),
            gr.Button("ocr"),
            optional_in_api(gr.Textbox("", label="checkpoint")),
        )


def ocr(page: Page, image: str | None, checkpoint: str = "") -> dict[str, Any]:
    """Find and read every line of text in an image (PP-OCRv6, runs on this server, no history kept).

    Args:
        image: the image or PDF to read (PNG, JPEG, WebP, GIF, BMP, TIFF, HEIC or PDF; at most the server's
            upload limit; a PDF's first OCR_MAX_PDF_PAGES pages, default 20).
        checkpoint: the name of a checkpoint this server offers (its Model choice, e.g. ppocrv6-small or
            ppocrv6-tiny); empty for the server's default. Any other value is refused with the list of names.

    Returns:
        dict with file, image_size {height, width}, device, checkpoint (the name that read it), timings (seconds per stage), note, min_confidence,
        lines_total and lines: a list of {line, text, confidence (0-1), polygon [[x, y], ...] in the
        ORIGINAL image's pixels}.
    """
    services = page.services
    engine = handlers.chosen_engine(services.models, checkpoint)
    return handlers.api_result(engine, services.decode, image, services.config)


def wire_api(panel: ApiPanel, page: Page, model_slot: dict[str, Any]) -> None:
    tool = gr.mcp.tool(_meta={"outputSchema": RESULT_SCHEMA})  # Gradio's tool list has no output schema field
    panel.trigger.click(
        tool(bind(ocr, page)),
        inputs=[panel.image, panel.checkpoint],
        outputs=[panel.result],
        api_name="ocr",
        api_description=OCR_API_DESCRIPTION,
        **model_slot,
    )
