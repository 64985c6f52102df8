"""Pure request logic: decode -> predict -> keep a display-size result -> render a view.

No Gradio here (the UI module turns `InputError` / `ImageRejected` into `gr.Error`), no
threads: the engine is called directly in the caller's thread. Both the single-image and
the batch paths go through `run_pages` and `render_view`, so they produce identical output
for the same image.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from demo.config import AppConfig
from demo.documents import (
    DecodedPage,
    ExportArchive,
    ExportPage,
    PageInfo,
    PdfError,
    decode_pages,
    export_files,
    is_pdf_upload,
    zip_exports,
)
from ocr_model.exporters import records
from ocr_model.exporters.layout import Span, layout_text_and_spans
from ocr_model.exporters.records import filter_record, passes_filter, shown_confidence  # noqa: F401  (the app's names for them)
from ocr_model.inputs.pdf_pages import default_max_pages
from ocr_model.pipeline.page_rotation import rotate_image
from ocr_model.types import Predictions
from demo.engine import Models, OcrEngine, UnknownCheckpoint, device_name, is_out_of_memory, release_memory
from demo.compare import Comparison, compare_predictions
from demo.history import Document, History, HistoryEntry, OcrResult, document_budget, push
from demo.render import (
    DisplayTransform,
    decode_jpeg,
    display_transform,
    downscale,
    draw_annotations,
    encode_jpeg,
    fit_within,
    turn_points,
)

LOGGER = logging.getLogger(__name__)
PREVIEW_JPEG_QUALITY = 92  # the stored clean copy is re-encoded once more after drawing
THUMBNAIL_JPEG_QUALITY = 80
OUT_OF_MEMORY_MESSAGE = (
    "The server ran out of memory while reading this image. Please try again in a moment, "
    "or with a smaller image."
)


# The engine's timing keys shown to users, in words; others (e.g. "memory_trim", "total") are internal.
STAGE_LABELS: dict[str, str] = {
    "detection_preprocess": "preparing",
    "detection": "finding text",
    "detection_postprocess": "outlining lines",
    "orientation": "upside-down check",
    "recognition": "reading",
}


class InputError(ValueError):
    """A problem with the user's input; its message is shown to the user as is."""


@dataclass(frozen=True)
class ResultView:
    """Everything the page shows for one result, at one filter setting."""

    annotated_jpeg: bytes  # display-size image with polygons drawn
    rows: list[list[Any]]  # [line number (1-based), text, confidence] of the shown lines
    text: str  # full text of the shown lines, one per line
    record: dict[str, Any]  # JSON-able result; polygons in ORIGINAL coordinates
    display_polygons: list[np.ndarray]  # the drawn polygons, in display coordinates of the upright view
    summary: str  # one Markdown paragraph: counts, sizes, device, timings
    explorer: dict[str, Any] | None = None  # the interactive view's data (see `explorer_data`)
    # The clean display image the explorer draws on: the page upright (turned by the result's rotation).
    display_jpeg: bytes = b""


def file_label(source: str | os.PathLike[str] | bytes) -> str:
    """The name shown for an input: its base name, without characters that could end the Markdown
    code span it is shown in (backticks) or control characters, at most 120 characters."""
    if isinstance(source, (bytes, bytearray)):
        return "image"
    name = os.path.basename(os.fspath(source))
    name = "".join(character for character in name if character.isprintable() and character != "`")
    return name[:120] or "image"


def read_page(
    engine: OcrEngine,
    box: list[DecodedPage],
    options: Mapping[str, Any],
    config: AppConfig,
    name: str,
    started: float,
    budget_bytes: int | None = None,
) -> OcrResult:
    """Run the engine once on a decoded image (or PDF page) and keep only display-size data
    (within `budget_bytes`, default one history entry's share).

    The page comes in a one-element list that this function empties, so that after an
    out-of-memory error nothing else holds the full-size image when memory is released.
    """
    decoded = box.pop()
    out_of_memory = False
    try:
        if decoded.error:  # a PDF page that was not rendered: its placeholder has nothing to read
            predictions = Predictions(
                [], [], [], image_size=decoded.rgb.shape[:2], device=device_name(engine),
                checkpoint=str(getattr(engine, "checkpoint", "")),
            )
        else:
            predictions = engine.predict(decoded.rgb, **dict(options))
    except ValueError as error:
        raise InputError(f"OCR could not process this image: {error}") from error
    except (RuntimeError, MemoryError) as error:
        if not is_out_of_memory(error):
            raise
        out_of_memory = True
    if out_of_memory:
        # Outside the except block, so the exception and its traceback (which pin the failed call's
        # tensors) are gone before the cache is emptied; then drop our own full-size image too.
        del decoded
        release_memory()
        raise InputError(OUT_OF_MEMORY_MESSAGE)
    result = make_result(
        decoded.rgb,
        predictions,
        name=name,
        note=decoded.note,
        options=options,
        config=config,
        started=started,
        budget_bytes=budget_bytes,
    )
    if decoded.page is None:
        return result
    return PdfPageResult(**{f.name: getattr(result, f.name) for f in fields(OcrResult)}, page=decoded.page, error=decoded.error)


def run_pages(
    engine: OcrEngine,
    decode: Callable[[Any], Any],
    source: str | os.PathLike[str] | bytes,
    options: Mapping[str, Any],
    config: AppConfig,
    name: str | None = None,
    on_page: Callable[[int, int], None] | None = None,
    max_pages: int | None = None,
) -> Iterator[OcrResult]:
    """The results of one upload, one per image: the image itself, or each page of a PDF
    (named "file.pdf · page N of M"), at most `max_pages` of them (default: `OCR_MAX_PDF_PAGES`).
    `on_page(number, count)` is called before each page is read.
    Unreadable files raise InputError (PDF problems) or the decoder's ImageRejected."""
    label = name or file_label(source)
    if not is_pdf_upload(source):
        if on_page is not None:
            on_page(1, 1)
        started = time.perf_counter()
        decoded = decode(source)  # raises ImageRejected (a ValueError) with a user-facing message
        box = [DecodedPage(decoded.rgb, decoded.note)]
        del decoded
        yield read_page(engine, box, options, config, label, started)
        return
    limit = pdf_page_limit() if max_pages is None else min(max_pages, pdf_page_limit())
    pages = decode_pages(source, decode, max_pages=limit)
    while True:
        started = time.perf_counter()
        try:
            box = [next(pages)]
        except StopIteration:
            return
        except PdfError as error:
            raise InputError(str(error)) from None
        page = box[0].page
        assert page is not None
        if on_page is not None:
            on_page(page.number, min(page.count, limit))
        # The pages are kept as one history entry: they share a document's part of the history budget.
        budget = document_budget(config.max_history_bytes, config.max_results_in_memory, min(page.count, limit))
        yield read_page(engine, box, options, config, records.page_name(label, page), started, budget)


def pdf_page_limit() -> int:
    """Pages read per PDF (`OCR_MAX_PDF_PAGES`, default 20)."""
    return default_max_pages()


@dataclass(frozen=True)
class PdfPageResult(OcrResult):
    """A result read from one page of a PDF: `page` says which, its size in points and scale; `error` why it
    was not rendered (its predictions are then empty)."""

    page: PageInfo | None = None
    error: str | None = None


def export_pages(results: Sequence[OcrResult]) -> list[ExportPage]:
    """What the exporters need from stored results (display-size previews, predictions, page info).
    A PDF's pages are exported as their previews, never loaded again from the upload: parsing a page
    here would escape the renderer process's time and memory limits (issue 14)."""
    return [ExportPage(result.preview_jpeg, result.predictions, getattr(result, "page", None)) for result in results]


def make_result(
    rgb: np.ndarray,
    predictions: Any,
    name: str,
    note: str | None,
    options: Mapping[str, Any],
    config: AppConfig,
    started: float | None = None,
    budget_bytes: int | None = None,
) -> OcrResult:
    """Build the stored result; `rgb` (full size) is read, never kept or modified. Its preview fits
    `budget_bytes` (default: one history entry's share, max_history_bytes / max_results_in_memory)."""
    budget = config.max_history_bytes // config.max_results_in_memory if budget_bytes is None else budget_bytes
    preview_jpeg, transform, display_rgb = fit_preview(rgb, config.max_display_size, budget)
    thumbnail = fit_within(display_rgb, config.thumbnail_size)
    return OcrResult(
        name=name,
        preview_jpeg=preview_jpeg,
        thumbnail_jpeg=encode_jpeg(thumbnail, THUMBNAIL_JPEG_QUALITY),
        transform=transform,
        predictions=predictions,
        note=note,
        options=tuple(sorted(options.items())),
        elapsed_s=0.0 if started is None else time.perf_counter() - started,
    )


# Qualities tried, in order, before a preview is made smaller to fit its share of the history budget.
_PREVIEW_QUALITIES = (PREVIEW_JPEG_QUALITY, 80, 70)
_THUMBNAIL_ALLOWANCE = 24_000  # a 256 px thumbnail of a noisy photo is ~15-20 KB


def fit_preview(rgb: np.ndarray, max_display_size: int, budget_bytes: int) -> tuple[bytes, DisplayTransform, np.ndarray]:
    """The stored preview: a JPEG of the display copy within `budget_bytes` (minus a thumbnail's share).

    Plain documents fit at the first try (a 2048 px scan is ~0.3 MB); noisy photos are re-encoded at
    lower quality and, if still too large, at a smaller size (the returned transform says which).
    Returns (jpeg, transform original->preview, preview pixels).
    """
    target = max(budget_bytes - _THUMBNAIL_ALLOWANCE, 16_000)
    side = max_display_size
    while True:
        transform = display_transform(rgb.shape[:2], side)
        display_rgb = downscale(rgb, transform)
        for quality in _PREVIEW_QUALITIES:
            jpeg = encode_jpeg(display_rgb, quality)
            if len(jpeg) <= target:
                return jpeg, transform, display_rgb
        longest = max(transform.display_size)
        if longest <= 256:
            return jpeg, transform, display_rgb  # tiny already: accept rather than loop
        # JPEG size grows about with the pixel count: shrink the side by the square root of the excess.
        side = max(256, int(longest * min(0.9, (target / len(jpeg)) ** 0.5)))


def record_page(result: OcrResult) -> records.PageResult:
    """What the record builder (ocr_model/exporters/records.py, shared with the command line) needs of a
    stored result: its predictions, note, PDF page and why the page was not rendered."""
    return records.PageResult(
        result.predictions, pdf_page=getattr(result, "page", None), error=getattr(result, "error", None), note=result.note
    )


def result_record(result: OcrResult, min_confidence: float = 0.0) -> dict[str, Any]:
    """The JSON of one stored result (`records.result_record`): the lines the filter shows, polygons in the
    ORIGINAL image's pixels."""
    page = record_page(result)
    return records.result_record(
        result.name, result.predictions, note=page.note, pdf_page=page.pdf_page, error=page.error, min_confidence=min_confidence
    )


def upright_polygon(result: OcrResult, polygon: np.ndarray) -> np.ndarray:
    """A polygon in the ORIGINAL image's pixels -> display pixels of the upright view (the display copy
    turned clockwise by the result's rotation)."""
    return turn_points(result.transform.to_display(polygon), result_rotation(result), result.transform.display_size)


def result_rotation(result: OcrResult) -> int:
    """Clockwise degrees the page was turned to be read (auto or chosen); 0 for an upright page."""
    return int(getattr(result.predictions, "rotation", 0) or 0)


def render_view(
    result: OcrResult,
    min_confidence: float = 0.0,
    show_text: bool = False,
    highlight_line: int | None = None,
    jpeg_quality: int = 85,
) -> ResultView:
    """Draw the result's shown lines on its display copy, turned upright when the engine turned the page
    to read it (auto or chosen), so boxes and written text read the right way up. Never calls the engine.
    The JSON (`record`) keeps the polygons in the original image's pixels.

    `highlight_line` is a 1-based line number (as in the table); ignored when not shown.
    """
    keep = records.shown_lines(result.predictions, min_confidence)
    predictions = result.predictions
    rotation = result_rotation(result)
    upright = rotate_image(decode_jpeg(result.preview_jpeg), rotation)
    display_polygons = [upright_polygon(result, predictions.polygons[i]) for i in keep]
    highlight = keep.index(highlight_line - 1) if highlight_line and (highlight_line - 1) in keep else None
    annotated = draw_annotations(
        upright,
        display_polygons,
        labels=[str(i + 1) for i in keep],
        texts=[predictions.texts[i] for i in keep] if show_text else None,
        highlight=highlight,
    )
    rows = [[i + 1, predictions.texts[i], shown_confidence(predictions.confidences[i])] for i in keep]
    # built from the shown lines only, so that the spans are those of the lines the explorer lists (same order)
    layout, spans = layout_text_and_spans([predictions.polygons[i] for i in keep], [predictions.texts[i] for i in keep])
    return ResultView(
        annotated_jpeg=encode_jpeg(annotated, jpeg_quality),
        rows=rows,
        text=layout,
        record=result_record(result, min_confidence),
        display_polygons=display_polygons,
        summary=summarize(result, len(keep), min_confidence),
        explorer=explorer_data(result, rows, display_polygons, show_text, upright.shape[:2], layout, spans),
        display_jpeg=result.preview_jpeg if rotation == 0 else encode_jpeg(upright, PREVIEW_JPEG_QUALITY),
    )


def explorer_data(
    result: OcrResult,
    rows: Sequence[Sequence[Any]],
    display_polygons: Sequence[np.ndarray],
    show_text: bool,
    display_size: tuple[int, int] | None = None,
    layout: str = "",
    spans: Sequence[Span | None] | None = None,
) -> dict[str, Any]:
    """What the interactive result view draws: display size (height, width; default the stored preview's),
    and per shown line its number, text, shown confidence, polygon in DISPLAY pixels (the same ones
    drawn on the annotated JPEG) and its span in `layout` (`layout_text_and_spans` of the same lines, in
    the order of `rows`), as JavaScript string indices (see `js_spans`); None where it has none.

    The view draws these over the clean display image (`ResultView.display_jpeg`), so they stay exact at any zoom.
    """
    display_height, display_width = display_size or result.transform.display_size
    layout_spans = js_spans(layout, spans if spans is not None else [None] * len(rows))
    lines = [
        {
            "n": int(number),
            "text": str(text),
            "confidence": f"{confidence:.3f}",
            "points": [[round(float(x), 2), round(float(y), 2)] for x, y in np.asarray(polygon, dtype=np.float64)],
            "span": span,
        }
        for (number, text, confidence), polygon, span in zip(rows, display_polygons, layout_spans)
    ]
    return {
        "name": result.name,
        "width": int(display_width),
        "height": int(display_height),
        "show_text": bool(show_text),
        "alt": image_description(result, len(lines)),
        "lines": lines,
        "layout": layout,  # the shown lines as spaced rows (the side panel's "Layout" view)
    }


def js_spans(text: str, spans: Sequence[Span | None]) -> list[list[int] | None]:
    """Character spans in `text` (Python string indices) as JavaScript string indices, which count UTF-16
    code units: a character beyond U+FFFF (an emoji, a rare CJK ideograph) is one character here but two
    there, and would shift every span after it. [start, end] lists, as JSON sends them."""
    if all(ord(character) <= 0xFFFF for character in text):
        return [None if span is None else [int(span[0]), int(span[1])] for span in spans]
    units = [0]
    for character in text:
        units.append(units[-1] + (2 if ord(character) > 0xFFFF else 1))
    return [None if span is None else [units[span[0]], units[span[1]]] for span in spans]


def image_description(result: OcrResult, shown: int) -> str:
    """Alternative text for the result image (screen readers)."""
    total = len(result.predictions)
    if total == 0:
        return f"{result.name}: no text found"
    counted = f"{total} text lines" if shown == total else f"{shown} of {total} text lines"
    return f"{result.name} with {counted} boxed and numbered; the lines are listed in the table below"


def summarize(result: OcrResult, shown: int, min_confidence: float) -> str:
    """Markdown: what was found, image size, device and time; stage timings on a second line."""
    predictions = result.predictions
    total = len(predictions)
    (height, width), (display_height, display_width) = result.transform.original_size, result.transform.display_size
    if total == 0:
        head = f"**No text found** in `{result.name}`"
    elif shown == total:
        head = f"**{total} line{'s' if total != 1 else ''}** found in `{result.name}`"
        if min_confidence > 0:
            head += f" (all with confidence ≥ {min_confidence:.2f})"
    else:
        head = f"**{shown} of {total} lines** shown (confidence ≥ {min_confidence:.2f}) in `{result.name}`"
    size = f"{width}×{height} px"
    if not result.transform.is_identity:
        size += f" (shown at {display_width}×{display_height})"
    parts = [head, size]
    rotation_note = rotation_wording(result)
    if rotation_note:
        parts.append(rotation_note)
    if predictions.checkpoint:
        parts.append(f"checkpoint `{file_label(predictions.checkpoint)}`")
    text = " · ".join(parts + [f"device `{predictions.device}`", f"{result.elapsed_s:.2f} s"])
    stages = [
        f"{STAGE_LABELS[stage]} {seconds:.2f} s"
        for stage, seconds in predictions.timings.items()
        if stage in STAGE_LABELS and seconds >= 0.005
    ]
    if stages:
        text += "  \nTime per stage: " + " · ".join(stages)
    if result.note:
        text += f"\n\nℹ️ {result.note}"
    return text


def rotation_wording(result: OcrResult) -> str:
    """How the page was turned, in words: found by the engine ("to read") or asked for (the Orientation
    option), so forcing 180° on an upright page does not claim the page needed turning."""
    rotation = result_rotation(result)
    if not rotation:
        return ""
    # The same words as the Orientation choices (demo/engine.py PAGE_ROTATION_CHOICES).
    turned = {90: "turned 90° clockwise", 180: "turned 180°", 270: "turned 90° counter-clockwise"}[rotation]
    if "page_rotation" in dict(result.options):
        return f"{turned} as chosen under Orientation; shown as read"
    return f"{turned} to read; shown upright"


@dataclass(frozen=True)
class SingleOutcome:
    view: ResultView
    result: OcrResult  # the first (or only) page's result, the one shown
    history: History
    results: tuple[OcrResult, ...] = ()  # every page's result (one for an image)
    name: str = ""  # the uploaded file's name


@dataclass(frozen=True)
class BatchOutcome:
    view: ResultView | None  # of the last image read; None when no image could be read
    last: OcrResult | None
    history: History
    summary_rows: list[list[Any]]  # [file, lines, seconds, status] per input file
    records: list[dict[str, Any]]  # JSON record per file or PDF page ({"file", "error"} for refused files)
    # the same records at min_confidence 0, so the batch download can follow a later filter change
    all_records: list[dict[str, Any]] = field(default_factory=list)
    archive: bytes | None = None  # one zip: every file's exports in a folder of its own
    files_read: int = 0  # uploads with at least one result (a PDF counts once)
    results: tuple[OcrResult, ...] = ()  # every result read, in order (one per image or PDF page)

    @property
    def succeeded(self) -> int:
        return sum(row[3] == "ok" for row in self.summary_rows)


def single_request(
    engine: OcrEngine,
    decode: Callable[[Any], Any],
    source: str | os.PathLike[str] | None,
    options: Mapping[str, Any],
    history: History,
    config: AppConfig,
    min_confidence: float = 0.0,
    show_text: bool = False,
    on_page: Callable[[int, int], None] | None = None,
) -> SingleOutcome:
    """One upload: run (every page of a PDF), add each result to history (new tuple), render the
    first. `outcome.results` holds all of them, for the exports."""
    if not source:
        raise InputError("Please upload, paste or photograph an image first (or click an example).")
    results = list(run_pages(engine, decode, source, options, config, on_page=on_page))
    if not results:
        raise InputError("Nothing to read in this file.")
    new_history = push(history or (), history_entry(results, file_label(source)), config.max_results_in_memory, config.max_history_bytes)
    view = render_view(results[0], min_confidence, show_text, None, config.display_jpeg_quality)
    return SingleOutcome(view=view, result=results[0], history=new_history, results=tuple(results), name=file_label(source))


def history_entry(results: Sequence[OcrResult], name: str) -> HistoryEntry:
    """What the history keeps of one upload: the result of an image (or a one-page PDF), or all the
    pages of a longer PDF as one `Document` entry."""
    if len(results) == 1:
        return results[0]
    page = getattr(results[0], "page", None)
    return Document(name=name, pages=tuple(results), page_count=page.count if page is not None else len(results))


def document_record(results: Sequence[OcrResult], name: str, min_confidence: float = 0.0) -> dict[str, Any]:
    """The JSON of one upload (`records.document_record`, as the command line writes it): the image's record,
    or for a PDF {"file", "checkpoint", "page_count", "pages_read", "note", "pages": [record per page read]}."""
    return records.document_record(name, [record_page(result) for result in results], min_confidence)


def document_exports(
    results: Sequence[OcrResult],
    name: str,
    min_confidence: float = 0.0,
) -> dict[str, bytes]:
    """Download files of one upload: text, layout text, JSON, hOCR, searchable PDF ({name: bytes})."""
    return export_files(export_pages(results), name, document_record(results, name, min_confidence))


@dataclass
class _BatchReport:
    """A batch's summary rows and JSON records, filled file by file (`batch_request`)."""

    min_confidence: float
    rows: list[list[Any]] = field(default_factory=list)  # [file, lines, seconds, status]
    records: list[dict[str, Any]] = field(default_factory=list)  # at the filter's confidence
    all_records: list[dict[str, Any]] = field(default_factory=list)  # at confidence 0

    def skipped(self, name: str, status: str, error: str) -> None:
        self.rows.append([name, 0, 0.0, status])
        self.records.append({"file": name, "error": error})
        self.all_records.append(self.records[-1])

    def read(self, result: OcrResult) -> None:
        self.rows.append([result.name, len(result.predictions), round(result.elapsed_s, 2), "ok"])
        self.all_records.append(result_record(result, 0.0))
        self.records.append(filter_record(self.all_records[-1], self.min_confidence))


def batch_request(
    engine: OcrEngine,
    decode: Callable[[Any], Any],
    sources: Sequence[str | os.PathLike[str]] | None,
    options: Mapping[str, Any],
    history: History,
    config: AppConfig,
    min_confidence: float = 0.0,
    show_text: bool = False,
    refused: tuple[type[BaseException], ...] = (ValueError,),
    on_file_start: Callable[[int, int, str], None] | None = None,
    on_progress: Callable[[float, str], None] | None = None,
) -> BatchOutcome:
    """Several uploads in one request, one after the other through the same path as
    `single_request` (every page of a PDF is one result). A refused file (`refused`
    exceptions) is reported and skipped. `on_progress(fraction, description)` advances per page.
    The outcome's `archive` is one zip with every file's exports."""
    if not sources:
        raise InputError("Please add one or more image files first.")
    if len(sources) > config.max_batch_files:
        raise InputError(
            f"{len(sources)} files selected; a batch takes at most {config.max_batch_files}. Please split it."
        )
    new_history = history or ()
    report = _BatchReport(min_confidence)
    last: OcrResult | None = None
    read: list[OcrResult] = []
    archive = ExportArchive()
    files_read = 0
    pages_left = config.max_batch_pages  # bounds one request's work: 20 PDFs x 20 pages would be 400 pages
    for position, source in enumerate(sources):
        name = file_label(source)
        if pages_left < 1:
            message = f"skipped: this batch reached its limit of {config.max_batch_pages} pages; run the rest in another batch"
            report.skipped(name, message, message)
            continue
        if on_file_start is not None:
            on_file_start(position, len(sources), name)  # e.g. a progress bar; called in this thread

        if on_progress is not None:
            on_progress(position / len(sources), f"Reading {name}")

        def page_started(number: int, count: int, position: int = position, name: str = name) -> None:
            if on_progress is not None and count > 1:
                on_progress((position + (number - 1) / count) / len(sources), f"Reading {name}, page {number} of {count}")

        file_results: list[OcrResult] = []
        try:
            for result in run_pages(engine, decode, source, options, config, on_page=page_started, max_pages=pages_left):
                file_results.append(result)
        except refused as error:
            if not file_results:
                report.skipped(name, f"skipped: {error}", str(error))
                continue
            report.rows.append([name, 0, 0.0, f"stopped after page {len(file_results)}: {error}"])
        pages_left -= max(1, len(file_results))
        if file_results:
            new_history = push(new_history, history_entry(file_results, name), config.max_results_in_memory, config.max_history_bytes)
        for result in file_results:
            report.read(result)
            last = result
        read.extend(file_results)
        archive.add(name, document_exports(file_results, name))
        files_read += 1
        del file_results
    view = None if last is None else render_view(last, min_confidence, show_text, None, config.display_jpeg_quality)
    return BatchOutcome(
        view=view,
        last=last,
        history=new_history,
        summary_rows=report.rows,
        records=report.records,
        all_records=report.all_records,
        archive=archive.getvalue(),
        files_read=files_read,
        results=tuple(read),
    )


def record_json(record: Any) -> bytes:
    return json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8")


def compare_request(
    engine: OcrEngine,
    decode: Callable[[Any], Any],
    source: str | os.PathLike[str],
    options: Mapping[str, Any],
    config: AppConfig,
    shown: OcrResult,
) -> Comparison:
    """The compare view: the upload's first page (the one shown) read again with a second checkpoint's
    `engine`, after the first read has finished (one model at a time, in this thread), and its lines
    compared with `shown`'s. Same options as the first read."""
    again = list(run_pages(engine, decode, source, options, config, max_pages=1))
    if not again:
        raise InputError("Nothing to read in this file.")
    other = again[0]
    return compare_predictions(
        shown.predictions.checkpoint or "first",
        shown.predictions,
        other.predictions.checkpoint or "second",
        other.predictions,
        shown.elapsed_s,
        other.elapsed_s,
    )


def check_checkpoint(models: Models, checkpoint: str | None) -> str:
    """The name of a listed checkpoint (None or "": the default); InputError naming the choices otherwise."""
    try:
        return models.choices.resolve(checkpoint).name
    except UnknownCheckpoint as error:
        raise InputError(str(error)) from None


def chosen_engine(models: Models, checkpoint: str | None) -> OcrEngine:
    """The engine of the checkpoint a request names (None or "": the app's default). Only names from the
    app's list are accepted, never a path; anything else is refused with the list of names. A listed
    file that fails to load is refused without its path or the loader's message (those go to the log)."""
    name = check_checkpoint(models, checkpoint)
    try:
        return models.engine(name)
    except ValueError:  # the engine's CheckpointError: a listed file whose tensors do not match its header
        LOGGER.exception("checkpoint %r could not be loaded", name)
        raise InputError(f"The checkpoint {name!r} could not be loaded; please choose another.") from None


def api_result(engine: OcrEngine, decode: Callable[[Any], Any], source: Any, config: AppConfig) -> dict[str, Any]:
    """The `ocr` API endpoint: all lines, default options, no history. An image gives its record;
    a PDF gives {"file", "page_count", "pages_read", "note", "pages": [record per page]}."""
    if not source:
        raise InputError("No image was sent.")
    results = list(run_pages(engine, decode, source, {}, config))
    return document_record(results, file_label(source))
