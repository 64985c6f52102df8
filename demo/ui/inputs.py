"""The Single image tab: an image (upload, paste, webcam) or a PDF, the Run button and the examples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from demo import handlers
from demo.components import UploadedFiles, UploadedImage
from demo.style import upload_note_html

ASSETS_DIR = Path(__file__).resolve().parent.parent.parent / "assets"
# (file in assets/, label under the thumbnail); made by scripts/make_assets.py
EXAMPLES: list[tuple[str, str]] = [
    ("receipt.jpg", "Receipt"),
    ("document_page.png", "Document page"),
    ("street_sign.jpg", "Sign (perspective)"),
    ("rotated_page.jpg", "Rotated page"),
    ("large_scan.jpg", "Large scan (4600 px)"),
]


@dataclass(frozen=True)
class InputPanel:
    image: UploadedImage
    pdf: UploadedFiles
    run_button: gr.Button


def build_input_panel() -> InputPanel:
    image = UploadedImage(
        type="filepath",
        image_mode=None,  # hand over the uploaded file untouched; our decoder reads it
        sources=["upload", "clipboard", "webcam"],
        label="Image",
        height=380,
        elem_id="image-input",
    )
    gr.HTML(upload_note_html("image-input"), js_on_load=None, padding=False)
    pdf = UploadedFiles.create(
        max_files=1,
        file_types=[".pdf"],
        label=f"…or a PDF document (every page is read, at most {handlers.pdf_page_limit()})",
        height=170,  # 120 clipped the drop zone's icon under the label
        elem_id="pdf-input",
    )
    gr.HTML(upload_note_html("pdf-input"), js_on_load=None, padding=False)
    run_button = gr.Button("Run OCR", variant="primary", size="lg", elem_id="run-button")
    add_examples(image)  # in this tab: an example only ever fills the visible input
    return InputPanel(image, pdf, run_button)


def add_examples(image_input: gr.Image) -> None:
    """Example images with their captions (also their accessible names)."""
    example_files = [(ASSETS_DIR / file, label) for file, label in EXAMPLES if (ASSETS_DIR / file).is_file()]
    if not example_files:
        return
    gr.Examples(
        examples=[[str(path)] for path, _ in example_files],
        inputs=[image_input],
        example_labels=[label for _, label in example_files],
        label="Examples: click one, then Run OCR",
        elem_id="examples",
        cache_examples=False,
        examples_per_page=len(example_files),
    )
