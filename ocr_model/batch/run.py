"""Bulk OCR: find the input files, map each to its outputs, run the engine over them, write atomically.

`python -m ocr_model DIR --out OUT` (`batch/cli.py`) is a thin layer over this package:

- `discover.discover_inputs` turns files, folders (recursive, by extension) and glob patterns into `InputFile`s,
  each with the relative path its outputs mirror under the output folder.
- `outputs.output_paths` maps an input to one file per format (`a/b.jpg` -> `OUT/a/b.jpg.json`);
  `outputs.atomic_write` never leaves a half-written file; `outputs.is_complete` checks the manifest written last, which is what `--resume` trusts.
- `run` reads, predicts and writes every input not already complete: in this process (batched through
  `predict_batch`, the GPU path) or in worker processes that each load the model once (the CPU path). A file
  that cannot be read or predicted is reported and skipped; the `RunSummary` counts it.
"""

from __future__ import annotations

import glob
import io
import signal
import sys
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Iterator, Sequence

import numpy as np
from PIL import Image

from ..exporters.records import PageResult
from ..inputs.image_decode import read_image
from ..inputs.pdf_pages import default_max_pages, is_pdf, iter_pdf_pages, page_note
from ..types import Predictions
from .discover import InputFile, printable, read_regular_file
from ..exporters.formats import ExportFormat
from .outputs import export_document, is_complete, manifest_path, output_paths, write_outputs as write_manifested


# ---------------------------------------------------------------------------------------------------------
# Running


def read_input(path: Path) -> np.ndarray | bytes:
    """An image file's pixels, or a PDF's bytes (its pages are rendered one at a time later). Only a regular
    file is read (`read_regular_file`): a FIFO or device put in place of a discovered file is refused."""
    data = read_regular_file(path)
    return data if is_pdf(data) else read_image(data)


def predict_pdf(model: Any, source: Path | bytes, options: dict[str, Any], keep_images: bool) -> list[PageResult]:
    """Render and read a PDF page by page (one page's pixels in memory; at most OCR_MAX_PDF_PAGES pages).

    `keep_images` keeps each page as JPEG bytes for exports that draw it (the searchable PDF). A page that
    could not be rendered (over `OCR_PDF_PAGE_SECONDS` / `OCR_PDF_PAGE_MB`) is not read: it keeps its blank
    placeholder, no lines and its `error`."""
    pages = []
    max_pages = default_max_pages()
    for page in iter_pdf_pages(source, max_pages=max_pages):
        if page.error:
            # nothing read: no lines, named like a read page (the app's placeholder pages say the same)
            predictions = Predictions(
                [], [], [], image_size=page.image.shape[:2], device=str(getattr(model, "device", "cpu")),
                checkpoint=str(getattr(model, "checkpoint", "") or ""),
            )
        else:
            predictions = model.predict(page.image, **options)
        image = _jpeg(page.image) if keep_images else None
        pages.append(PageResult(predictions, image, page.info, error=page.error, note=page_note(page, max_pages)))
    return pages


def _jpeg(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


@dataclass(frozen=True)
class Outcome:
    """What became of one input: `error` is None when its outputs were written."""

    file: str
    images: int = 0
    error: str | None = None


@dataclass
class RunSummary:
    total: int = 0  # inputs found
    skipped: int = 0  # already complete (--resume)
    done: int = 0  # written in this run
    images: int = 0  # images (pages) read in this run
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        text = (
            f"{self.total} inputs: {self.done} done, {self.skipped} skipped (already complete), "
            f"{len(self.failed)} failed; {self.images} images in {self.seconds:.1f} s ({self.images_per_second:.2f} images/s)"
        )
        if self.interrupted:
            text += f"; interrupted, {self.total - self.skipped - self.done - len(self.failed)} not finished (rerun with --resume)"
        elif self.failed:
            text += " (failed inputs have no output; rerun with --resume to retry them)"
        return text

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 1 if self.failed else 0


@dataclass(frozen=True)
class RunSettings:
    out_dir: Path
    formats: tuple[ExportFormat, ...]
    options: dict[str, Any] = field(default_factory=dict)  # predict() keyword options
    batch_size: int = 1  # images per predict_batch call (in-process runs)
    workers: int = 1  # worker processes (1: run in this process)
    threads: int | None = None  # torch threads per worker process (None: cores / workers)
    device: str | None = None  # "cpu", "cuda", "cuda:1"; None: the engine's choice
    checkpoint: str | None = None  # a built-in name or a .safetensors path; None: the engine's default


def plan(inputs: Sequence[InputFile], settings: RunSettings, resume: bool) -> tuple[list[InputFile], int]:
    """The inputs still to run, and how many were skipped because their outputs are complete."""
    if not resume:
        return list(inputs), 0
    todo = [item for item in inputs if not is_complete(settings.out_dir, item.relative, settings.formats)]
    return todo, len(inputs) - len(todo)


def write_outputs(item: InputFile, pages: Sequence[PageResult], settings: RunSettings) -> None:
    """Render and write every format of one input (each atomically), then its manifest (what --resume checks)."""
    document = export_document(item.relative.as_posix(), pages)
    rendered = [(fmt, fmt.write(document)) for fmt in settings.formats]
    write_manifested(settings.out_dir, item.relative, rendered)


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _predict_pages(model: Any, images: Sequence[np.ndarray], options: dict[str, Any]) -> list[Predictions]:
    return model.predict_batch(images, **options) if len(images) > 1 else [model.predict(images[0], **options)]


def _keeps_images(settings: RunSettings) -> bool:
    return any(fmt.needs_images for fmt in settings.formats)


def _image_page(image: np.ndarray, predictions: Predictions, settings: RunSettings) -> PageResult:
    return PageResult(predictions, image if _keeps_images(settings) else None)


def process_one(model: Any, item: InputFile, settings: RunSettings, image: np.ndarray | bytes | None = None) -> Outcome:
    """Read (unless `image`, what read_input returned, is given), predict and write one input; any failure
    becomes an Outcome with its error."""
    file = item.relative.as_posix()
    try:
        if image is None:
            image = read_input(item.path)
        if isinstance(image, bytes):
            pages = predict_pdf(model, image, settings.options, _keeps_images(settings))
        else:
            pages = [_image_page(image, model.predict(image, **settings.options), settings)]
        write_outputs(item, pages, settings)
    except Exception as error:  # noqa: BLE001 - one bad file must not stop the run (MemoryError included)
        return Outcome(file, error=_describe(error))
    return Outcome(file, images=len(pages))


def _run_in_process(
    model: Any, todo: Sequence[InputFile], settings: RunSettings, report: Callable[[Outcome], None]
) -> None:
    """Decode images ahead in a thread while the engine runs; `batch_size` images per predict_batch call.
    PDFs are rendered and read page by page when their turn comes."""
    batch_size = max(1, settings.batch_size)
    decoder = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ocr-decode")
    try:
        queued: deque[tuple[InputFile, Future]] = deque()
        pending = iter(todo)

        def fill() -> None:
            while len(queued) < 2 * batch_size:
                item = next(pending, None)
                if item is None:
                    return
                queued.append((item, decoder.submit(read_input, item.path)))

        fill()
        while queued:
            batch = [queued.popleft() for _ in range(min(batch_size, len(queued)))]
            fill()
            ready: list[tuple[InputFile, np.ndarray]] = []
            for item, future in batch:
                try:
                    image = future.result()
                except Exception as error:  # noqa: BLE001
                    report(Outcome(item.relative.as_posix(), error=_describe(error)))
                    continue
                if isinstance(image, bytes):  # a PDF
                    report(process_one(model, item, settings, image))
                else:
                    ready.append((item, image))
            if not ready:
                continue
            try:
                predictions = _predict_pages(model, [image for _, image in ready], settings.options)
            except Exception:  # noqa: BLE001 - find the input that failed: predict them one by one
                for item, image in ready:
                    report(_predict_and_write(model, item, image, settings))
                continue
            for (item, image), prediction in zip(ready, predictions):
                report(_write(item, [_image_page(image, prediction, settings)], settings))
    finally:
        decoder.shutdown(wait=True, cancel_futures=True)


def _predict_and_write(model: Any, item: InputFile, image: np.ndarray, settings: RunSettings) -> Outcome:
    try:
        prediction = model.predict(image, **settings.options)
    except Exception as error:  # noqa: BLE001
        return Outcome(item.relative.as_posix(), error=_describe(error))
    return _write(item, [_image_page(image, prediction, settings)], settings)


def _write(item: InputFile, pages: Sequence[PageResult], settings: RunSettings) -> Outcome:
    try:
        write_outputs(item, pages, settings)
    except Exception as error:  # noqa: BLE001 - e.g. disk full: report it, go on
        return Outcome(item.relative.as_posix(), error=f"cannot write output: {_describe(error)}")
    return Outcome(item.relative.as_posix(), images=len(pages))


# Worker processes ------------------------------------------------------------------------------------

_WORKER_MODEL: Any = None


def load_model(settings: RunSettings) -> Any:
    """This process's model for a run: the settings' checkpoint, device and threads, passed as arguments
    (a spawned worker gets them through its initializer, not through the environment)."""
    from ..pipeline.predictor import get_model

    return get_model(settings.checkpoint, device=settings.device, threads=settings.threads)


def _init_worker(settings: RunSettings) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: no traceback per worker
    global _WORKER_MODEL
    _WORKER_MODEL = load_model(settings)


def _worker_job(item: InputFile, settings: RunSettings) -> Outcome:
    return process_one(_WORKER_MODEL, item, settings)


def _run_in_workers(todo: Sequence[InputFile], settings: RunSettings, report: Callable[[Outcome], None]) -> None:
    """One model per worker process; at most two inputs queued per worker. A worker that dies (e.g. killed
    for memory) fails the inputs it held and the pool is started again, unless it never finished an input
    (the workers cannot start: every remaining input fails with that message)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # never fork a process that has torch threads running
    pending = deque(todo)
    while pending:
        finished = 0
        pool = ProcessPoolExecutor(
            max_workers=settings.workers, mp_context=context, initializer=_init_worker,
            initargs=(settings,),
        )
        in_flight: dict[Future, InputFile] = {}
        broken = False
        try:
            while pending or in_flight:
                while pending and len(in_flight) < 2 * settings.workers:
                    item = pending.popleft()
                    in_flight[pool.submit(_worker_job, item, settings)] = item
                future = next(_first_done(in_flight))
                item = in_flight.pop(future)
                try:
                    report(future.result())
                    finished += 1
                except BrokenProcessPool as error:
                    died = [item, *in_flight.values()]
                    if not finished:  # not one input done by this pool: the workers cannot run at all
                        died += list(pending)
                        pending.clear()
                    why = f"worker process died ({error.__cause__ or 'out of memory?'})"
                    for lost in died:
                        report(Outcome(lost.relative.as_posix(), error=why))
                    in_flight.clear()
                    broken = True
                    break
                except Exception as error:  # noqa: BLE001 - e.g. the job could not be sent to the worker
                    report(Outcome(item.relative.as_posix(), error=_describe(error)))
        except BaseException:
            _stop_pool(pool)
            for item in in_flight.values():  # killed mid-write: remove their temp files
                for path in [*output_paths(settings.out_dir, item.relative, settings.formats), manifest_path(settings.out_dir, item.relative)]:
                    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
                        leftover.unlink(missing_ok=True)
            raise
        if not broken:
            pool.shutdown(wait=True)
        else:
            _stop_pool(pool)


def _first_done(futures: Collection[Future]) -> Iterator[Future]:
    from concurrent.futures import FIRST_COMPLETED, wait

    done, _ = wait(futures, return_when=FIRST_COMPLETED)
    yield from done


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the worker processes now (their writes are atomic)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=10)


def run(
    inputs: Sequence[InputFile],
    settings: RunSettings,
    *,
    resume: bool = False,
    progress: bool = True,
    model: Any = None,
    log: Callable[[str], None] | None = None,
) -> RunSummary:
    """Run the engine over `inputs`, writing outputs under `settings.out_dir`; never raises for a bad file.

    `model` (an object with predict/predict_batch) is used for in-process runs; by default the engine's shared
    model is loaded. Ctrl-C ends the run early with `interrupted` set; outputs already written are complete.
    """
    from tqdm import tqdm

    summary = RunSummary(total=len(inputs))
    todo, summary.skipped = plan(inputs, settings, resume)
    started = time.perf_counter()
    bar = tqdm(
        total=len(todo), unit="img", dynamic_ncols=True, disable=not progress, file=sys.stderr, smoothing=0.1,
        # images/s even below 1 image/s (tqdm's default switches to s/img there)
        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_noinv_fmt}{postfix}]",
    )
    say = log or (lambda text: bar.write(text, file=sys.stderr))

    def report(outcome: Outcome) -> None:
        if outcome.error is None:
            summary.done += 1
            summary.images += outcome.images
        else:
            summary.failed.append((outcome.file, outcome.error))
            say(f"failed: {printable(outcome.file)}: {printable(outcome.error)}")
            bar.set_postfix(failed=len(summary.failed), refresh=False)
        bar.update(1)

    try:
        if todo:
            if settings.workers > 1:
                _run_in_workers(todo, settings, report)
            else:
                if model is None:
                    model = load_model(settings)
                _run_in_process(model, todo, settings, report)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        summary.seconds = time.perf_counter() - started
        bar.close()
    return summary


def default_workers(device: str, cores: int) -> tuple[int, int]:
    """(processes, torch threads each) for a device: one process on a GPU; on CPU one single-threaded
    process per core up to 2 cores, then one process per 2 cores.

    Why: on this project's 2-core machine, quiet, 2 processes x 1 thread read sroie-dev's 19 receipts at
    1.68-1.80 images/s against 1.35-1.51 for 1 x 2 (two runs each, interleaved, model loading included):
    the Python post-processing of one image runs beside the other's convolutions. (Under heavy load,
    load average 8, 1 x 2 had been faster.) One process per 2 cores on bigger machines is not measured.
    """
    if device != "cpu":
        return 1, max(1, cores)
    processes = max(1, cores) if cores <= 2 else cores // 2
    return processes, max(1, cores // processes)

