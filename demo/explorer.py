"""The interactive result view: the display-size image with its boxes drawn by the browser, and the
lines table. Two `gr.HTML` components that talk to each other in the page (no server round trip):

- `ResultExplorer`: the clean display-size JPEG with an SVG overlay of the shown lines' polygons (in
  display pixels, the image's own coordinate system, so boxes stay exact at every zoom). Hover a box
  for its text and confidence, click it to select its row; zoom with the wheel, a pinch, the buttons
  or the keyboard (+ - 0), pan by dragging or with the arrow keys.
- `LinesTable`: a plain HTML table (#, text, confidence). Click a row, or move with the arrow keys,
  to highlight its box; selecting a box selects and scrolls to its row.

Both take the dict made by `handlers.explorer_data` (plus the image as a FileData dict for the
explorer). Untrusted text (what the OCR read) only ever reaches the page through `textContent` /
SVG text nodes, never as markup. Neither component is an input of any event, so no value ever
comes back from the browser.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr

from demo.gradio_stubs import skip_stubs_for_demo

skip_stubs_for_demo()  # before the component classes below: no .pyi beside this file

SELECT_EVENT = "ocr-line-select"  # a DOM CustomEvent on `document`: {n: line number, from: "image" | "table"}

_LINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "n": {"type": "integer", "description": "line number (1-based, as in the JSON)"},
        "text": {"type": "string"},
        "confidence": {"type": "string", "description": "shown confidence, 3 decimals, rounded down"},
        "points": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "number"}},
            "description": "polygon in DISPLAY pixels",
        },
        "span": {
            "anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}],  # a list type breaks gradio_client
            "description": "[start, end) of the line's text in `layout`, as JavaScript string indices (UTF-16 "
            "code units); null for a line with no text",
        },
    },
}

STATIC_DIR = Path(__file__).resolve().parent / "static"


def _static(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def component_js(name: str) -> str:
    """A component's `js_on_load`: the event name, the shared DOM helper, then the component's script.

    Gradio runs each `js_on_load` on its own, so both scripts carry the helper, and the event name
    comes from `SELECT_EVENT` here so that Python and both scripts cannot disagree on it.
    """
    return f"const SELECT_EVENT = {json.dumps(SELECT_EVENT)};\n" + _static("dom.js") + _static(name)


# Read once, at import: the page gets the same text as when it lived here.
EXPLORER_JS = component_js("explorer.js")
TABLE_JS = component_js("lines_table.js")
EXPLORER_CSS = _static("explorer.css")
TABLE_CSS = _static("lines_table.css")


class ResultExplorer(gr.HTML):
    """The zoomable result image with hoverable, clickable boxes (see module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            value=None,
            html_template='<div class="ocrx"></div>',
            css_template=EXPLORER_CSS,
            js_on_load=EXPLORER_JS,
            **kwargs,
        )

    def api_info(self) -> dict[str, Any]:
        return {
            "type": "object",
            "description": "the result view: display size, display-size image and the shown lines",
            "properties": {
                "name": {"type": "string"},
                "width": {"type": "integer"},
                "height": {"type": "integer"},
                "show_text": {"type": "boolean"},
                "alt": {"type": "string"},
                "image": {"type": "object", "description": "the display-size image (FileData)"},
                "lines": {"type": "array", "items": _LINE_SCHEMA},
                "layout": {"type": "string", "description": "the shown lines as rows spaced as on the page"},
            },
        }


class LinesTable(gr.HTML):
    """The table of shown lines, linked to the `ResultExplorer` (see module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            value=None,
            html_template='<div class="ocrt"></div>',
            css_template=TABLE_CSS,
            js_on_load=TABLE_JS,
            **kwargs,
        )

    def api_info(self) -> dict[str, Any]:
        return {
            "type": "object",
            "description": "the shown lines: number, text, confidence, display polygon",
            "properties": {
                "name": {"type": "string", "description": "the file the lines were read from"},
                "lines": {
                    "type": "array",
                    "items": {**_LINE_SCHEMA, "properties": {k: v for k, v in _LINE_SCHEMA["properties"].items() if k not in ("points", "span")}},
                }
            },
        }


def table_value(explorer: dict[str, Any] | None) -> dict[str, Any] | None:
    """The table's value: only the lines (number, text, confidence), no image."""
    if explorer is None:
        return None
    return {
        "name": explorer["name"],
        "lines": [{key: line[key] for key in ("n", "text", "confidence")} for line in explorer["lines"]],
    }
