"""The Gradio page: layout and event wiring. The logic lives in `demo.handlers` (pure)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from demo import handlers
from ocr_model.memory import trim_heap
from demo.components import UploadedImage
from demo.config import AppConfig, apply_process_settings, launch_kwargs, load_config, queue_kwargs
from demo.engine import DEFAULT_DETECTION_SIZE, ORIENTATION_CHOICES, OcrEngine, device_name, load_engine, model_options
from demo.files import write_cache_file
from demo.history import History, OcrResult, get

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
TABLE_HEADERS = ["#", "Text", "Confidence"]


def default_decoder() -> Callable[[Any], Any]:
    from demo.decode import decode_image

    return decode_image


def _rejection_types() -> tuple[type[BaseException], ...]:
    try:
        from demo.decode import ImageRejected
    except ImportError:  # decoder injected by a test before demo/decode.py exists
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

    def launch(self, **kwargs: Any) -> Any:  # type: ignore[override]
        return super().launch(**{**launch_kwargs(self.app_config), **kwargs})


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

    with OcrDemo(title="OCR demo", delete_cache=config.delete_cache) as blocks:
        blocks.app_config = config
        history_state = gr.State((), time_to_live=config.session_ttl_s)
        current_state = gr.State(None, time_to_live=config.session_ttl_s)

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
                        run_button = gr.Button("Run OCR", variant="primary", size="lg", elem_id="run-button")
                    with gr.Tab("Batch", id="batch"):
                        batch_input = gr.File(
                            file_count="multiple",
                            file_types=["image"],
                            type="filepath",
                            label=f"Images (up to {config.max_batch_files})",
                            elem_id="batch-input",
                        )
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
                example_files = [(ASSETS_DIR / file, label) for file, label in EXAMPLES if (ASSETS_DIR / file).is_file()]
                if example_files:
                    gr.Examples(
                        examples=[[str(path)] for path, _ in example_files],
                        inputs=[image_input],
                        label="Examples: click one, then Run OCR",
                        elem_id="examples",
                        cache_examples=False,
                        examples_per_page=len(example_files),
                    )
                with gr.Accordion("Options", open=False):
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
            with gr.Column(scale=7, min_width=360):
                summary = gr.Markdown("Results appear here after you press **Run OCR**.", elem_id="summary")
                annotated = gr.Image(
                    type="filepath",
                    format="jpeg",
                    label="Detected text",
                    interactive=False,
                    buttons=["download", "fullscreen"],
                    height=520,
                    elem_id="annotated",
                )
                with gr.Row():
                    min_confidence = gr.Slider(
                        0.0, 1.0, value=0.0, step=0.01, label="Hide lines below confidence", scale=3, elem_id="confidence-filter"
                    )
                    show_text = gr.Checkbox(value=False, label="Write text on image", scale=1)
                with gr.Tabs():
                    with gr.Tab("Lines"):
                        table = gr.Dataframe(
                            headers=TABLE_HEADERS,
                            datatype=["number", "str", "str"],
                            column_widths=["8%", "72%", "20%"],
                            interactive=False,
                            wrap=True,
                            max_height=420,
                            label="Click a row to highlight its box",
                            elem_id="lines-table",
                        )
                    with gr.Tab("Full text"):
                        full_text = gr.Textbox(lines=10, max_lines=30, label="Text", buttons=["copy"], elem_id="full-text")
                json_button = gr.DownloadButton(
                    "Download JSON (original-image coordinates)", value=None, interactive=False, elem_id="json-download"
                )
        history_gallery = gr.Gallery(
            label=f"History: last {config.max_results_in_memory} results of this session (click one to show it again)",
            columns=10,
            fit_columns=False,
            height=170,
            allow_preview=False,
            object_fit="contain",
            interactive=False,
            elem_id="history",
        )
        gr.Markdown(f"Running on `{device_name(engine)}`.", elem_id="device-note")

        with gr.Row(visible=False):
            api_image = UploadedImage(type="filepath", image_mode=None, label="image")
            api_output = gr.JSON(label="result")
            api_trigger = gr.Button("ocr")

        cache_dir = annotated.GRADIO_CACHE

        # ---- outputs -------------------------------------------------------------------
        view_outputs = [annotated, table, full_text, json_button, summary]
        state_outputs = [history_gallery, current_state, history_state]

        def gallery_items(history: History) -> list[tuple[str, str]]:
            items = []
            for entry in history:
                path = write_cache_file(cache_dir, entry.thumbnail_jpeg, f"{_stem(entry.name)}_thumb.jpg")
                items.append((path, f"{entry.name} · {len(entry.predictions)} lines"))
            return items

        # ---- handlers (called directly in Gradio's worker thread; no extra threads) -----
        def show(view: handlers.ResultView, name: str) -> list[Any]:
            stem = _stem(name)
            image_path = write_cache_file(cache_dir, view.annotated_jpeg, f"{stem}_ocr.jpg")
            json_path = write_cache_file(cache_dir, handlers.record_json(view.record), f"{stem}_ocr.json")
            rows = [[number, text, f"{confidence:.3f}"] for number, text, confidence in view.rows]
            return [image_path, rows, view.text, gr.DownloadButton(value=json_path, interactive=True), view.summary]

        def present(result: OcrResult, min_conf: float, write_text: bool, highlight: int | None = None) -> list[Any]:
            view = handlers.render_view(result, min_conf, write_text, highlight, config.display_jpeg_quality)
            return show(view, result.name)

        @user_errors
        def on_run(image_path: str | None, orient: str, det_size: float, min_conf: float, write_text: bool, history: History):
            outcome = handlers.single_request(
                engine, decode, image_path, model_options(orient, det_size), history, config, min_conf, write_text
            )
            return show(outcome.view, outcome.result.name) + [
                gallery_items(outcome.history), outcome.result, outcome.history,
            ]

        @user_errors
        def on_batch(
            paths: list[str] | None,
            orient: str,
            det_size: float,
            min_conf: float,
            write_text: bool,
            history: History,
            progress: gr.Progress = gr.Progress(),
        ):
            outcome = handlers.batch_request(
                engine, decode, paths, model_options(orient, det_size), history, config, min_conf, write_text,
                refused=user_error_types,
                on_file_start=lambda done, total, name: progress((done, total), desc=f"Reading {name}", unit="images"),
            )
            batch_json = gr.DownloadButton(
                value=write_cache_file(cache_dir, handlers.record_json(outcome.records), "batch_ocr.json"),
                interactive=True,
            )
            headline = f"Batch: {outcome.succeeded} of {len(paths or [])} images read; the JSON holds all of them."
            if outcome.view is None or outcome.last is None:
                view = [None, [], "", batch_json, headline]
            else:
                view = show(outcome.view, outcome.last.name)
                view[3] = batch_json
                view[4] = f"{headline} Showing the last one.\n\n{view[4]}"
            return view + [gallery_items(outcome.history), outcome.last, outcome.history, outcome.summary_rows]

        def on_filter(result: OcrResult | None, min_conf: float, write_text: bool):
            if result is None:
                return [gr.skip()] * len(view_outputs)
            return present(result, min_conf, write_text)

        def on_row_select(result: OcrResult | None, min_conf: float, write_text: bool, event: gr.SelectData):
            if result is None or not event.row_value:
                return gr.skip()
            return present(result, min_conf, write_text, highlight=int(event.row_value[0]))[0]

        @user_errors
        def on_history_select(history: History, min_conf: float, write_text: bool, event: gr.SelectData):
            try:
                result = get(history or (), int(event.index))
            except ValueError as error:
                raise handlers.InputError("That history entry has expired; please run the image again.") from error
            return present(result, min_conf, write_text) + [result]

        @user_errors
        def on_api(image_path: str | None) -> dict[str, Any]:
            return handlers.api_result(engine, decode, image_path, config)

        run_button.click(
            on_run,
            inputs=[image_input, orientation, detection_size, min_confidence, show_text, history_state],
            outputs=view_outputs + state_outputs,
            api_name="run",
        )
        batch_button.click(
            on_batch,
            inputs=[batch_input, orientation, detection_size, min_confidence, show_text, history_state],
            outputs=view_outputs + state_outputs + [batch_table],
            api_name="batch",
        )
        gr.on(
            [min_confidence.input, show_text.input],
            on_filter,
            inputs=[current_state, min_confidence, show_text],
            outputs=view_outputs,
            api_visibility="private",
            show_progress="hidden",
            trigger_mode="always_last",
        )
        table.select(
            on_row_select,
            inputs=[current_state, min_confidence, show_text],
            outputs=[annotated],
            api_visibility="private",
            show_progress="hidden",
        )
        history_gallery.select(
            on_history_select,
            inputs=[history_state, min_confidence, show_text],
            outputs=view_outputs + [current_state],
            api_visibility="private",
        )
        api_trigger.click(on_api, inputs=[api_image], outputs=[api_output], api_name="ocr")

    blocks.queue(**queue_kwargs(config))
    return blocks
