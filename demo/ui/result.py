"""The result panel: summary, the zoomable result image, the confidence filter, the lines and full text,
and the JSON and annotated-image downloads. `Shown` is what it shows for one result, by name."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from demo import handlers
from demo.explorer import LinesTable, ResultExplorer, table_value
from demo.files import write_cache_file
from demo.history import OcrResult
from demo.pageset import BATCH, PageSet
from demo.ui.navigation import NavPanel, build_nav_panel
from demo.ui.page import Services, download

EMPTY_SUMMARY = "Results appear here after you press **Run OCR**."


@dataclass(frozen=True)
class ResultPanel:
    summary: gr.Markdown
    explorer: ResultExplorer
    min_confidence: gr.Slider
    show_text: gr.Checkbox
    lines_table: LinesTable
    full_text: gr.Textbox
    json_button: gr.DownloadButton
    image_button: gr.DownloadButton
    compare: gr.HTML  # the compare view (demo/compare.py); not among the result view's API outputs
    nav: NavPanel  # the page strip of a PDF's pages or a batch's files; not among the API outputs either

    def outputs(self) -> list[gr.components.Component]:
        """The components a shown result updates, in the order of the /run and /batch API outputs."""
        return [self.explorer, self.lines_table, self.full_text, self.json_button, self.image_button, self.summary]


@dataclass(frozen=True)
class Shown:
    """What the result panel shows for one result; files are paths in Gradio's cache, None = no download."""

    explorer: dict[str, Any] | None
    text: str
    json_file: str | None
    image_file: str | None
    summary: str

    def values(self, panel: ResultPanel) -> dict[Any, Any]:
        return {
            panel.explorer: self.explorer,
            panel.lines_table: table_value(self.explorer),
            panel.full_text: self.text,
            panel.json_button: download(self.json_file),
            panel.image_button: download(self.image_file),
            panel.summary: self.summary,
        }

    def with_summary_before(self, headline: str) -> "Shown":
        return dataclasses.replace(self, summary=f"{headline}\n\n{self.summary}" if self.summary else headline)


NOTHING_SHOWN = Shown(explorer=None, text="", json_file=None, image_file=None, summary="")


def build_result_panel() -> ResultPanel:
    summary = gr.Markdown(EMPTY_SUMMARY, label="Summary", elem_id="summary")
    nav = build_nav_panel()
    explorer = ResultExplorer(label="Result image", elem_id="explorer", min_height=120)
    with gr.Row():
        min_confidence = gr.Slider(
            0.0, 1.0, value=0.0, step=0.01, label="Hide lines below confidence", scale=3, elem_id="confidence-filter"
        )
        show_text = gr.Checkbox(value=False, label="Write text on image", scale=1, elem_id="show-text")
    with gr.Tabs():
        with gr.Tab("Lines"):
            lines_table = LinesTable(label="Lines", elem_id="lines-table")
        with gr.Tab("Full text"):
            full_text = gr.Textbox(lines=10, max_lines=30, label="Text", buttons=["copy"], elem_id="full-text")
    with gr.Row():
        json_button = gr.DownloadButton(
            "Download JSON (original-image coordinates)", value=None, interactive=False, elem_id="json-download"
        )
        image_button = gr.DownloadButton("Download annotated image", value=None, interactive=False, elem_id="image-download")
    compare = gr.HTML("", visible=False, label="Compare", elem_id="compare-view")
    return ResultPanel(
        summary, explorer, min_confidence, show_text, lines_table, full_text, json_button, image_button, compare, nav
    )


def file_stem(name: str) -> str:
    return Path(name).stem[:60] or "image"


def show(services: Services, view: handlers.ResultView, result: OcrResult) -> Shown:
    """Write a rendered view's files to the cache and name what the panel shows."""
    stem, cache_dir = file_stem(result.name), services.cache_dir
    preview_path = write_cache_file(cache_dir, view.display_jpeg or result.preview_jpeg, f"{stem}_view.jpg")
    image = gr.FileData(path=preview_path, mime_type="image/jpeg").model_dump()
    return Shown(
        explorer=dict(view.explorer or {}, image=image),
        text=view.text,
        json_file=write_cache_file(cache_dir, handlers.record_json(view.record), f"{stem}_ocr.json"),
        image_file=write_cache_file(cache_dir, view.annotated_jpeg, f"{stem}_ocr.jpg"),
        summary=view.summary,
    )


def present(services: Services, result: OcrResult, min_confidence: float, show_text: bool) -> Shown:
    view = handlers.render_view(result, min_confidence, show_text, None, services.config.display_jpeg_quality)
    return show(services, view, result)


def with_batch(
    services: Services, shown: Shown, batch: tuple[str, list[dict[str, Any]]], min_confidence: float
) -> Shown:
    """The shown (last) result of a batch, with the batch's headline and its JSON download."""
    headline, all_records = batch
    records = [handlers.filter_record(record, min_confidence) for record in all_records]
    json_file = write_cache_file(services.cache_dir, handlers.record_json(records), "batch_ocr.json")
    return dataclasses.replace(shown.with_summary_before(headline), json_file=json_file)


def in_set(services: Services, shown: Shown, pages: PageSet | None, min_confidence: float) -> Shown:
    """`shown` (the result at `pages.position`) as one of its set: the set's headline and its JSON download
    (the whole PDF, or the batch's). Unchanged without a set."""
    if pages is None:
        return shown
    if pages.kind == BATCH:
        return with_batch(services, shown, pages.batch, min_confidence) if pages.batch else shown
    results = [result for result in pages.items if result is not None]
    document = handlers.document_record(results, pages.name, min_confidence)
    json_file = write_cache_file(services.cache_dir, handlers.record_json(document), f"{file_stem(pages.name)}_ocr.json")
    headline = (
        f"**{len(results)} pages** read from `{handlers.file_label(pages.name)}`; showing page {pages.position + 1}: "
        "step through them with ◀ ▶ above the image (or PageUp / PageDown). The history keeps the document as one "
        "entry, and the exports hold every page."
    )
    return dataclasses.replace(shown.with_summary_before(headline), json_file=json_file)
