"""The Batch tab: several images or PDFs, read one after the other, with a summary table."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from demo.components import UploadedFiles
from demo.style import upload_note_html


@dataclass(frozen=True)
class BatchPanel:
    files: UploadedFiles
    run_button: gr.Button
    table: gr.Dataframe


def build_batch_panel(max_files: int) -> BatchPanel:
    files = UploadedFiles.create(
        max_files=max_files,
        file_types=["image", ".pdf"],
        label=f"Images or PDFs (up to {max_files} files)",
        elem_id="batch-input",
    )
    gr.HTML(upload_note_html("batch-input"), js_on_load=None, padding=False)
    run_button = gr.Button("Run OCR on all", variant="primary", size="lg", elem_id="batch-button")
    table = gr.Dataframe(
        headers=["File", "Lines", "Seconds", "Status"],
        datatype=["str", "number", "number", "str"],
        column_widths=["30%", "14%", "18%", "38%"],
        interactive=False,
        wrap=True,
        label="Batch summary",
        elem_id="batch-table",
    )
    return BatchPanel(files, run_button, table)
