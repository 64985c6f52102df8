"""The Gradio page: layout and event wiring. The logic lives in `demo.handlers` (pure)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
from gradio import utils as gr_utils

from demo import handlers
from ocr_model.runtime import trim_heap
from demo.components import UploadedFiles, UploadedImage, use_local_file_snippets
from demo.uploads import NO_FILES, UploadRefused, check_request_inputs
from demo.explorer import LinesTable, ResultExplorer, table_value
from demo.style import CSS, SCROLL_TO_RESULTS_JS, size_label, theme, upload_guard_js, upload_note_html
from demo.config import AppConfig, apply_process_settings, launch_kwargs, load_config, queue_kwargs
from demo.engine import (
    DEFAULT_DETECTION_SIZE,
    ORIENTATION_CHOICES,
    PAGE_ROTATION_CHOICES,
    OcrEngine,
    device_name,
    load_engine,
    model_options,
)
from demo.documents import safe_stem
from ocr_model.exporters.formats import FORMATS
from demo.files import write_cache_file
from demo.history import History, OcrResult, entry_caption, entry_pages, get

LOGGER = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
# (file in assets/, label under the thumbnail); made by scripts/make_assets.py
EXAMPLES: list[tuple[str, str]] = [
    ("receipt.jpg", "Receipt"),
    ("document_page.png", "Document page"),
    ("street_sign.jpg", "Sign (perspective)"),
    ("rotated_page.jpg", "Rotated page"),
    ("large_scan.jpg", "Large scan (4600 px)"),
]

TITLE = "OCR demo: find and read the text in an image"
INTRO = (
    "Upload, paste or photograph an image (or pick an example below) and press **Run OCR**: "
    "every line of text is boxed on the image, read, and listed with its confidence. "
    "Runs PP-OCRv6 (small) on PyTorch."
)
EMPTY_SUMMARY = "Results appear here after you press **Run OCR**."
NO_IMAGE_MESSAGE = "Please upload, paste or photograph an image first (or click an example)."
RUN_PDF_POSITION = 6  # position of the Single tab's PDF (a state) among on_run's inputs (the image is 0)
NO_FILES_MESSAGE = "Please add one or more image files first."
HISTORY_NOTE = "\n\nShown from the history. To run it again (e.g. with other options), upload the image again."
OCR_API_DESCRIPTION = (
    "Find and read every line of text in one image or PDF (OCR with PP-OCRv6 on this server). Returns JSON: "
    "file, image_size {height, width}, device, timings (seconds per stage), note, rotation (degrees the image was "
    "turned clockwise to read it), min_confidence, lines_total and lines, each {line, text, confidence 0-1, "
    "polygon [[x, y], ...] in the original image's pixels, words [{text, confidence, polygon}]}, in reading "
    "order. For a PDF: {file, page_count, pages_read, note, pages: [that record per page, plus page {number, count, "
    "width_pt, height_pt, scale, dpi}]}, pixels of the page rendered at 200 dpi. Nothing is kept after the call."
)


# Export downloads under the result: (key, button label); "zip" holds every export of the run
# (of every file, for a batch).
EXPORT_BUTTONS: list[tuple[str, str]] = [
    ("text", "Text"),
    ("layout", "Layout text"),
    ("hocr", "hOCR"),
    ("pdf", "Searchable PDF"),
    ("zip", "All exports (zip)"),
]
EXPORT_SUFFIXES = {key: FORMATS["txt" if key == "text" else key].suffix for key, _ in EXPORT_BUTTONS[:-1]}  # one registry


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


def default_decoder() -> Callable[[Any], Any]:
    from ocr_model.inputs.image_decode import decode_image

    return decode_image


def _rejection_types() -> tuple[type[BaseException], ...]:
    try:
        from ocr_model.inputs.image_decode import ImageRejected
    except ImportError:  # decoder injected by a test before ocr_model/inputs/image_decode.py exists
        return (handlers.InputError,)
    return (handlers.InputError, ImageRejected)


def _stem(name: str) -> str:
    return Path(name).stem[:60] or "image"


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


class OcrResultJson(gr.JSON):
    """`gr.JSON` that tells API clients (and MCP agents) the shape of the /ocr result instead of
    "str | float | bool | list | dict"."""

    is_template = True  # Gradio: render with the parent's front end ("json")

    def api_info(self) -> dict[str, Any]:
        return RESULT_SCHEMA


RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "file": {"type": "string"},
        "image_size": {"type": "object", "properties": {"height": {"type": "integer"}, "width": {"type": "integer"}}},
        "device": {"type": "string"},
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
                    "polygon": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                    "words": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "text": {"type": "string"},
                                "confidence": {"type": "number"},
                                "polygon": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                            },
                        },
                    },
                },
            },
        },
        # PDFs only: one record like the above per page read (with "page": {number, count, width_pt, ...})
        "page_count": {"type": "integer"},
        "pages_read": {"type": "integer"},
        "pages": {"type": "array", "items": {"type": "object"}},
    },
}



def build_demo(
    model: OcrEngine | None = None,
    config: AppConfig | None = None,
    decoder: Callable[[Any], Any] | None = None,
) -> OcrDemo:
    """Build the app. The OCR engine is loaded here, before any request is served.

    `model` / `decoder` exist for tests; the shipped app passes neither.
    """
    config = config or load_config(())
    apply_process_settings(config)
    engine = model if model is not None else load_engine(config.device)
    decode = decoder or default_decoder()
    user_error_types = _rejection_types()

    def user_errors(function: Callable[..., Any]) -> Callable[..., Any]:
        """Show the app's own input errors as a short message; anything else stays generic."""

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except user_error_types as error:
                raise gr.Error(str(error), print_exception=False) from None
            finally:
                trim_heap()  # the request's temporaries are freed now; give the pages back

        return wrapper

    use_local_file_snippets()  # the API page's JavaScript example reads a local file (demo/components.py)
    with OcrDemo(title="OCR demo", delete_cache=config.delete_cache) as blocks:
        blocks.app_config = config
        history_state = gr.State((), time_to_live=config.session_ttl_s)
        current_state = gr.State(None, time_to_live=config.session_ttl_s)
        # the batch shown now: (headline, records at confidence 0); None for a single result
        batch_state = gr.State(None, time_to_live=config.session_ttl_s)
        pdf_state = gr.State(None, time_to_live=config.session_ttl_s)  # the Single tab's PDF (a checked path)

        gr.Markdown(f"# {TITLE}\n{INTRO}")
        with gr.Row(equal_height=False):
            with gr.Column(scale=5, min_width=320):
                with gr.Tabs():
                    with gr.Tab("Single image", id="single"):
                        image_input = UploadedImage(
                            type="filepath",
                            image_mode=None,  # hand over the uploaded file untouched; our decoder reads it
                            sources=["upload", "clipboard", "webcam"],
                            label="Image",
                            height=380,
                            elem_id="image-input",
                        )
                        gr.HTML(upload_note_html("image-input"), js_on_load=None, padding=False)
                        pdf_input = UploadedFiles.create(
                            max_files=1,
                            file_types=[".pdf"],
                            label=f"…or a PDF document (every page is read, at most {handlers.pdf_page_limit()})",
                            height=170,  # 120 clipped the drop zone's icon under the label
                            elem_id="pdf-input",
                        )
                        gr.HTML(upload_note_html("pdf-input"), js_on_load=None, padding=False)
                        run_button = gr.Button("Run OCR", variant="primary", size="lg", elem_id="run-button")
                        add_examples(image_input)  # in this tab: an example only ever fills the visible input
                    with gr.Tab("Batch", id="batch"):
                        batch_input = UploadedFiles.create(
                            max_files=config.max_batch_files,
                            file_types=["image", ".pdf"],
                            label=f"Images or PDFs (up to {config.max_batch_files} files)",
                            elem_id="batch-input",
                        )
                        gr.HTML(upload_note_html("batch-input"), js_on_load=None, padding=False)
                        batch_button = gr.Button("Run OCR on all", variant="primary", size="lg", elem_id="batch-button")
                        batch_table = gr.Dataframe(
                            headers=["File", "Lines", "Seconds", "Status"],
                            datatype=["str", "number", "number", "str"],
                            column_widths=["30%", "14%", "18%", "38%"],
                            interactive=False,
                            wrap=True,
                            label="Batch summary",
                            elem_id="batch-table",
                        )
                with gr.Accordion("Options", open=False):
                    page_rotation = gr.Radio(
                        list(PAGE_ROTATION_CHOICES),
                        value="auto",
                        label="Orientation",
                        info="auto: find which way up the page is (0°, 90°, 180° or 270°) from its text · or turn it yourself",
                        elem_id="page-rotation",
                    )
                    orientation = gr.Radio(
                        list(ORIENTATION_CHOICES),
                        value="auto",
                        label="Upside-down text check",
                        info="auto: check doubtful lines only · all: check every line · off: never",
                    )
                    detection_size = gr.Slider(
                        640,
                        2560,
                        value=DEFAULT_DETECTION_SIZE,
                        step=32,
                        label="Detection size (px, longer side)",
                        info="Larger finds smaller text but is slower.",
                    )
            with gr.Column(scale=7, min_width=320):
                summary = gr.Markdown(EMPTY_SUMMARY, label="Summary", elem_id="summary")
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
                    image_button = gr.DownloadButton(
                        "Download annotated image", value=None, interactive=False, elem_id="image-download"
                    )
                with gr.Row(elem_id="exports"):
                    export_buttons = [
                        gr.DownloadButton(label, value=None, interactive=False, elem_id=f"{key}-download")
                        for key, label in EXPORT_BUTTONS
                    ]
        history_gallery = gr.Gallery(
            label=f"History: last {config.max_results_in_memory} results of this session (click one to show it again)",
            columns=8,
            fit_columns=False,
            height=190,
            allow_preview=False,
            object_fit="contain",
            interactive=False,
            buttons=[],  # "Download All" would only zip the 256 px thumbnails
            elem_id="history",
        )
        gr.Markdown(f"Running on `{device_name(engine)}`.", elem_id="device-note")

        with gr.Row(visible=False):
            api_image = UploadedImage(type="filepath", image_mode=None, label="image")
            api_output = OcrResultJson(label="result")
            api_trigger = gr.Button("ocr")

        cache_dir = explorer.GRADIO_CACHE
        blocks.upload_dir = cache_dir

        # Every event that runs the model shares one concurrency slot: with the default limit of 1,
        # /run, /batch and /ocr submitted together run one after the other (Gradio's limits are per
        # event otherwise, so three endpoints would mean three models' worth of memory at once).
        model_slot = {"concurrency_id": "ocr-model", "concurrency_limit": config.concurrency_limit}

        # ---- outputs -------------------------------------------------------------------
        view_outputs = [explorer, lines_table, full_text, json_button, image_button, summary]
        state_outputs = [history_gallery, current_state, history_state]

        def gallery_items(history: History) -> list[tuple[str, str]]:
            items = []
            for entry in history:
                path = write_cache_file(cache_dir, entry.thumbnail_jpeg, f"{_stem(entry.name)}_thumb.jpg")
                items.append((path, entry_caption(entry)))
            return items

        # ---- handlers (called directly in Gradio's worker thread; no extra threads) -----
        def show(view: handlers.ResultView, result: OcrResult) -> list[Any]:
            stem = _stem(result.name)
            preview_path = write_cache_file(cache_dir, view.display_jpeg or result.preview_jpeg, f"{stem}_view.jpg")
            image_path = write_cache_file(cache_dir, view.annotated_jpeg, f"{stem}_ocr.jpg")
            json_path = write_cache_file(cache_dir, handlers.record_json(view.record), f"{stem}_ocr.json")
            explorer_value = dict(view.explorer or {}, image=gr.FileData(path=preview_path, mime_type="image/jpeg").model_dump())
            return [
                explorer_value,
                table_value(view.explorer),
                view.text,
                gr.DownloadButton(value=json_path, interactive=True),
                gr.DownloadButton(value=image_path, interactive=True),
                view.summary,
            ]

        def present(result: OcrResult, min_conf: float, write_text: bool) -> list[Any]:
            view = handlers.render_view(result, min_conf, write_text, None, config.display_jpeg_quality)
            return show(view, result)

        def present_batch(batch: tuple[str, list[dict[str, Any]]], shown: list[Any], min_conf: float) -> list[Any]:
            """The shown (last) result of a batch, with the batch's headline and its JSON download."""
            headline, all_records = batch
            records = [handlers.filter_record(record, min_conf) for record in all_records]
            shown[3] = gr.DownloadButton(
                value=write_cache_file(cache_dir, handlers.record_json(records), "batch_ocr.json"), interactive=True
            )
            shown[5] = f"{headline}\n\n{shown[5]}" if shown[5] else headline
            return shown

        def check_image(image_path: str | None, *others: Any) -> list[dict[str, Any]]:
            """Runs before `on_run`: a missing image (and no PDF) is shown on the input; the results stay."""
            pdf_path = others[RUN_PDF_POSITION - 1] if len(others) >= RUN_PDF_POSITION else None
            given = bool(image_path) or bool(pdf_path)
            return [gr.validate(given, NO_IMAGE_MESSAGE)] + [gr.validate(True, "")] * len(others)

        def check_files(paths: list[str] | None, *others: Any) -> list[dict[str, Any]]:
            return [gr.validate(bool(paths), NO_FILES_MESSAGE)] + [gr.validate(True, "")] * len(others)

        def export_values(results: list[OcrResult] | tuple[OcrResult, ...], name: str) -> list[Any]:
            """The export buttons' downloads for one upload (every page of a PDF), written to the cache."""
            files = handlers.document_exports(results, name)
            values = []
            for key, _ in EXPORT_BUTTONS[:-1]:
                file_name = safe_stem(name) + EXPORT_SUFFIXES[key]
                values.append(gr.DownloadButton(value=write_cache_file(cache_dir, files[file_name], file_name), interactive=True))
            archive = handlers.zip_exports([(name, files)])
            values.append(gr.DownloadButton(value=write_cache_file(cache_dir, archive, f"{_stem(name)}_exports.zip"), interactive=True))
            return values

        def batch_export_values(archive: bytes | None) -> list[Any]:
            """A batch: only the zip (one folder per file); the single-file buttons are cleared."""
            values: list[Any] = [gr.DownloadButton(value=None, interactive=False)] * (len(EXPORT_BUTTONS) - 1)
            if archive is None:
                return values + [gr.DownloadButton(value=None, interactive=False)]
            return values + [gr.DownloadButton(value=write_cache_file(cache_dir, archive, "batch_exports.zip"), interactive=True)]

        @user_errors
        def on_run(
            image_path: str | None,
            orient: str,
            det_size: float,
            min_conf: float,
            write_text: bool,
            page_rot: str,
            pdf_path: str | None,
            history: History,
            progress: gr.Progress = gr.Progress(),
        ):
            def page_started(number: int, count: int) -> None:
                if count > 1:  # a PDF: the bar advances per page
                    progress((number - 1, count), desc=f"Reading page {number} of {count}", unit="pages")

            source = image_path or pdf_path  # the image, else the PDF added in this tab
            outcome = handlers.single_request(
                engine, decode, source, model_options(orient, det_size, page_rot), history, config, min_conf,
                write_text, on_page=page_started,
            )
            view = show(outcome.view, outcome.result)
            if len(outcome.results) > 1:  # a PDF: the JSON download holds every page
                document = handlers.document_record(outcome.results, outcome.name, min_conf)
                json_path = write_cache_file(cache_dir, handlers.record_json(document), f"{_stem(outcome.name)}_ocr.json")
                view[3] = gr.DownloadButton(value=json_path, interactive=True)
                view[5] = (
                    f"**{len(outcome.results)} pages** read from `{outcome.name}`; showing page 1. The history below "
                    f"keeps the document as one entry, and the exports hold every page.\n\n{view[5]}"
                )
            return view + [
                gallery_items(outcome.history), outcome.result, outcome.history, None,
                *export_values(outcome.results, outcome.name),
            ]

        @user_errors
        def on_batch(
            paths: list[str] | None,
            orient: str,
            det_size: float,
            min_conf: float,
            write_text: bool,
            page_rot: str,
            history: History,
            progress: gr.Progress = gr.Progress(),
        ):
            outcome = handlers.batch_request(
                engine, decode, paths, model_options(orient, det_size, page_rot), history, config, min_conf, write_text,
                refused=user_error_types,
                on_progress=lambda fraction, text: progress(fraction, desc=text),  # advances per file and PDF page
            )
            exports = batch_export_values(outcome.archive)
            if outcome.succeeded == outcome.files_read:
                headline = f"Batch: {outcome.succeeded} of {len(paths or [])} images read; the JSON holds all of them."
            else:  # PDFs: one result per page
                headline = (
                    f"Batch: {outcome.files_read} of {len(paths or [])} files read ({outcome.succeeded} pages and images); "
                    "the JSON holds all of them."
                )
            batch = (headline, outcome.all_records)
            if outcome.view is None or outcome.last is None:
                shown = [None, None, "", None, gr.DownloadButton(value=None, interactive=False), ""]
            else:
                shown = show(outcome.view, outcome.last)
                headline += " Showing the last one."
                batch = (headline, outcome.all_records)
            view = present_batch(batch, shown, min_conf)
            return view + [gallery_items(outcome.history), outcome.last, outcome.history, batch, outcome.summary_rows, *exports]

        def on_filter(result: OcrResult | None, batch: tuple[str, list[dict[str, Any]]] | None, min_conf: float, write_text: bool):
            if result is None:
                return [gr.skip()] * len(view_outputs)
            shown = present(result, min_conf, write_text)
            return shown if batch is None else present_batch(batch, shown, min_conf)

        @user_errors
        def on_history_select(history: History, min_conf: float, write_text: bool, event: gr.SelectData):
            try:
                entry = get(history or (), int(event.index))
            except ValueError as error:
                raise handlers.InputError("That history entry has expired; please run the image again.") from error
            pages = entry_pages(entry)  # a PDF's entry holds all its pages: page 1 is shown, the exports hold all
            result = pages[0]
            shown = present(result, min_conf, write_text)
            shown[5] += HISTORY_NOTE
            # the input is cleared: Run must not silently re-run the last upload instead of this entry
            return shown + [result, None, None, *export_values(list(pages), entry.name), None, None]

        @gr.mcp.tool(_meta={"outputSchema": RESULT_SCHEMA})  # Gradio's tool list has no output schema field
        @user_errors
        def ocr(image: str | None) -> dict[str, Any]:
            """Find and read every line of text in an image (PP-OCRv6, runs on this server, no history kept).

            Args:
                image: the image or PDF to read (PNG, JPEG, WebP, GIF, BMP, TIFF, HEIC or PDF; at most the server's
                    upload limit; a PDF's first OCR_MAX_PDF_PAGES pages, default 20).

            Returns:
                dict with file, image_size {height, width}, device, timings (seconds per stage), note, min_confidence,
                lines_total and lines: a list of {line, text, confidence (0-1), polygon [[x, y], ...] in the
                ORIGINAL image's pixels}.
            """
            return handlers.api_result(engine, decode, image, config)

        # Defined first so that /ocr, the stateless API, comes first on the API page.
        api_trigger.click(
            ocr, inputs=[api_image], outputs=[api_output], api_name="ocr", api_description=OCR_API_DESCRIPTION, **model_slot
        )
        ui_api = "undocumented" if config.mcp_server else "public"  # with MCP on, only /ocr is a tool
        run_event = run_button.click(
            on_run,
            inputs=[image_input, orientation, detection_size, min_confidence, show_text, page_rotation, pdf_state, history_state],
            outputs=view_outputs + state_outputs + [batch_state, *export_buttons],
            api_name="run",
            api_visibility=ui_api,
            validator=check_image,
            show_progress_on=[explorer],
            **model_slot,
        )
        run_event.success(None, js=SCROLL_TO_RESULTS_JS)
        # The Single tab's PDF: its checked path is kept server-side (pdf_state) for the next Run, so /run's
        # API stays the image's (API clients send PDFs as the image). One upload at a time: a new image
        # clears the PDF and the other way round.
        pdf_input.upload(
            lambda paths: (paths[0] if paths else None, None),
            inputs=[pdf_input],
            outputs=[pdf_state, image_input],
            api_visibility="private",
            show_progress="hidden",
        )
        pdf_input.clear(lambda: None, outputs=[pdf_state], api_visibility="private", show_progress="hidden")
        image_input.upload(lambda: (None, None), outputs=[pdf_input, pdf_state], api_visibility="private", show_progress="hidden")
        batch_event = batch_button.click(
            on_batch,
            inputs=[batch_input, orientation, detection_size, min_confidence, show_text, page_rotation, history_state],
            outputs=view_outputs + state_outputs + [batch_state, batch_table, *export_buttons],
            api_name="batch",
            api_visibility=ui_api,
            validator=check_files,
            show_progress_on=[explorer, batch_table],
            **model_slot,
        )
        batch_event.success(None, js=SCROLL_TO_RESULTS_JS)
        gr.on(
            [min_confidence.input, show_text.input],
            on_filter,
            inputs=[current_state, batch_state, min_confidence, show_text],
            outputs=view_outputs,
            api_visibility="private",
            show_progress="hidden",
            trigger_mode="always_last",
        )
        history_gallery.select(
            on_history_select,
            inputs=[history_state, min_confidence, show_text],
            outputs=view_outputs + [current_state, image_input, batch_state, *export_buttons, pdf_input, pdf_state],
            api_visibility="private",
            show_progress_on=[explorer],
        )

    blocks.queue(**queue_kwargs(config))
    return blocks
