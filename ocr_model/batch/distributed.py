"""The OCR engine on Ray Data: read files, run the model in an actor pool, write JSON lines.

Optional: `pip install -r requirements-ray.txt`. The app and `python -m ocr_model` never import this module.

    python -m ocr_model.batch.distributed ../shared/eval/sroie-dev/img --out results/ [--address auto] [--actors 4]
        [--checkpoint ppocrv6-tiny]

Pipeline: `ray.data.read_binary_files` (local folders, globs or any filesystem Ray reads, e.g. s3://...)
-> `map_batches(OcrPredictor, concurrency=N)`: each actor loads the model once (one GPU per actor when CUDA
is available; the checkpoint is resolved here, in the driver, and passed to every actor as an argument, so
actors never read OCR_CHECKPOINT from their own environment) and decodes + predicts a batch of files ->
`write_datasink(JsonLinesDatasink(out))`: one line per input, the JSON `python -m ocr_model --out` and the app
write (exporters/records.py `document_record`: an image's record, or `{"file", "checkpoint", "page_count",
"pages_read", "note", "pages": [...]}` for a PDF), or `{"file": path, "error": why}` for a file that could not
be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from ..exporters.formats import json_line
from ..exporters.records import PageResult, document_record
from ..inputs.image_decode import read_image
from ..inputs.pdf_pages import SNIFF_BYTES, is_pdf
from .discover import INPUT_EXTENSIONS
from .run import predict_pdf

try:
    import ray
    import ray.data
    from ray.data.datasource import BlockBasedFileDatasink
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError("ocr_model.batch.distributed needs Ray Data: pip install -r requirements-ray.txt") from error

if TYPE_CHECKING:
    import pyarrow
    from ray.data.block import BlockAccessor


class OcrPredictor:
    """A Ray Data actor: the model is loaded once in `__init__`, then `__call__` runs on batches of files.

    Input batch: {"path": [...], "bytes": [...]} (from `read_binary_files(include_paths=True)`); images
    are predicted together through `predict_batch`, PDFs page by page.
    Output batch: {"file": [...], "error": [None or why], "result": [JSON text or None]}.
    """

    def __init__(
        self,
        options: dict[str, Any] | None = None,
        device: str | None = None,
        threads: int | None = None,
        checkpoint: str | None = None,
    ) -> None:
        from ..pipeline.predictor import get_model

        # `checkpoint`: a built-in name or a .safetensors path (as `ocr_dataset` resolved it in the driver); None is
        # the actor's own OCR_CHECKPOINT, else the default (kept for direct use; ocr_dataset always passes one).
        self.model = get_model(checkpoint, device=device, threads=threads)
        self.options = dict(options or {})

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        files = [str(path) for path in batch["path"]]
        errors: list[str | None] = [None] * len(files)
        images: dict[int, np.ndarray] = {}
        documents: dict[int, dict[str, Any]] = {}  # PDFs, read page by page
        for index, data in enumerate(batch["bytes"]):
            try:
                if is_pdf(bytes(data[:SNIFF_BYTES])):
                    pages = predict_pdf(self.model, bytes(data), self.options, keep_images=False)
                    documents[index] = document_record(files[index], pages)
                else:
                    images[index] = read_image(bytes(data))
            except Exception as error:  # noqa: BLE001 - one bad file must not fail the batch
                errors[index] = str(error) or type(error).__name__
        predictions: dict[int, Any] = {}
        if images:
            try:
                predictions = dict(zip(images, self.model.predict_batch(list(images.values()), **self.options)))
            except Exception:  # noqa: BLE001 - find the image that fails: predict them one by one
                for index, image in images.items():
                    try:
                        predictions[index] = self.model.predict(image, **self.options)
                    except Exception as error:  # noqa: BLE001
                        errors[index] = str(error) or type(error).__name__
        for index, prediction in predictions.items():
            documents[index] = document_record(files[index], [PageResult(prediction)])
        results = [
            json_line(documents[index]) if index in documents else None for index in range(len(files))
        ]
        return {"file": files, "error": errors, "result": results}


class JsonLinesDatasink(BlockBasedFileDatasink):
    """Writes each row's result (or {"file", "error"}) as one JSON line; one .jsonl file per block."""

    def __init__(self, path: str, **kwargs: Any) -> None:
        super().__init__(path, file_format="jsonl", **kwargs)

    def write_block_to_file(self, block: "BlockAccessor", file: "pyarrow.NativeFile") -> None:
        table = block.to_arrow()
        columns = {name: table.column(name).to_pylist() for name in ("file", "error", "result")}
        for file_name, error, result in zip(columns["file"], columns["error"], columns["result"]):
            line = result if result is not None else json.dumps({"file": file_name, "error": error}, ensure_ascii=False)
            file.write(line.encode("utf-8") + b"\n")


def ocr_dataset(
    paths: str | Sequence[str],
    *,
    actors: int = 1,
    batch_size: int = 4,
    cpus_per_actor: int = 1,
    gpus_per_actor: float | None = None,
    options: dict[str, Any] | None = None,
    extensions: Sequence[str] = INPUT_EXTENSIONS,
    checkpoint: str | None = None,
) -> "ray.data.Dataset":
    """A lazy Dataset of OCR results (columns file, error, result) for the image and PDF files under `paths`.

    `gpus_per_actor` defaults to 1 when this process sees CUDA, else 0 (CPU actors then use `cpus_per_actor`
    torch threads each). `options` are `predict` keyword options, e.g. {"orientation": "off"}.
    `checkpoint` is a built-in name or a .safetensors path (None: this process's OCR_CHECKPOINT, else the
    default); it is checked here and passed to every actor, so a file path must be readable on every node.
    """
    from .cli import _resolve_checkpoint

    checkpoint = _resolve_checkpoint(checkpoint)  # a clear error now, not in every actor
    if gpus_per_actor is None:
        import torch

        gpus_per_actor = 1.0 if torch.cuda.is_available() else 0.0
    device = "cuda" if gpus_per_actor > 0 else "cpu"
    files = ray.data.read_binary_files(
        paths, include_paths=True, file_extensions=[extension.lstrip(".") for extension in extensions]
    )
    return files.map_batches(
        OcrPredictor,
        fn_constructor_kwargs={
            "options": options,
            "device": device,
            "threads": None if device != "cpu" else cpus_per_actor,
            "checkpoint": checkpoint,
        },
        batch_size=batch_size,
        batch_format="numpy",
        concurrency=actors,
        num_cpus=cpus_per_actor,
        num_gpus=gpus_per_actor,
    )


def write_results(dataset: "ray.data.Dataset", out_dir: str) -> None:
    """Run the pipeline and write its results as JSON lines under `out_dir` (local path or s3://...)."""
    dataset.write_datasink(JsonLinesDatasink(out_dir))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocr_model.batch.distributed", description="OCR many files with Ray Data.")
    parser.add_argument("inputs", nargs="+", help="files or folders (local, or any filesystem Ray reads: s3://, gs://)")
    parser.add_argument("--out", required=True, help="folder for the JSON lines files")
    parser.add_argument("--address", default=None, help="Ray cluster to join (e.g. auto or ray://head:10001); default: start a local one")
    parser.add_argument("--actors", type=int, default=1, help="model replicas (actors)")
    parser.add_argument("--batch-size", type=int, default=4, help="files per actor call")
    parser.add_argument("--cpus-per-actor", type=int, default=1, help="CPUs (torch threads) per actor")
    parser.add_argument("--gpus-per-actor", type=float, default=None, help="GPUs per actor (default: 1 if CUDA is visible here, else 0)")
    parser.add_argument("--orientation", choices=["off", "auto", "all"], default=None, help="180° line check (default: auto)")
    parser.add_argument(
        "--checkpoint", default=None, metavar="NAME_OR_PATH",
        help="built-in checkpoint name (ppocrv6-small, ppocrv6-tiny, ppocrv6-small-receipts) or a .safetensors file every node can read "
        "(default: env OCR_CHECKPOINT of this process, else ppocrv6-small)",
    )
    args = parser.parse_args(argv)
    ray.init(address=args.address)
    options = {"orientation": args.orientation} if args.orientation else {}
    dataset = ocr_dataset(
        args.inputs, actors=args.actors, batch_size=args.batch_size, cpus_per_actor=args.cpus_per_actor,
        gpus_per_actor=args.gpus_per_actor, options=options, checkpoint=args.checkpoint,
    )
    write_results(dataset, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
