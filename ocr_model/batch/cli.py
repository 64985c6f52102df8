"""Command line: read the text in image files, folders and glob patterns.

    python -m ocr_model IMAGE... [--json OUT]                  print each image's text (and one JSON file)
    python -m ocr_model DIR|GLOB|FILE... --out DIR [--resume]  bulk: one result per input, mirroring the tree

See `python -m ocr_model --help` and the `ocr_model/batch/` package.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .discover import InputSpecError, Skipped, check_unique_outputs, discover, printable
from ..exporters.formats import FORMATS, parse_formats
from .run import RunSettings, default_workers


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ocr_model",
        description="Read the text in images (PP-OCRv6 small by default, see --checkpoint). Without --out, print each image's text; "
        "with --out, write one result per input under DIR (bulk mode: progress bar, --resume, workers).",
    )
    parser.add_argument("inputs", nargs="+", help="image or PDF files, folders (scanned recursively) or glob patterns ('scans/**/*.png')")
    parser.add_argument("--out", type=Path, default=None, help="bulk mode: write one result per input here, mirroring the input tree")
    parser.add_argument("--format", default="json", help=f"bulk output formats, comma-separated: {', '.join(FORMATS)} (default: json)")
    parser.add_argument("--resume", action="store_true", help="skip inputs whose outputs already exist and are complete")
    parser.add_argument("--json", type=Path, default=None, help="without --out: write all results to this one JSON file")
    parser.add_argument("--orientation", choices=["off", "auto", "all"], default=None, help="180° line check (default: auto)")
    parser.add_argument(
        "--checkpoint", default=None, metavar="NAME_OR_PATH",
        help="networks to read with: a built-in name (ppocrv6-small, the default; ppocrv6-tiny; ppocrv6-small-receipts) or a .safetensors "
        "checkpoint file (default: env OCR_CHECKPOINT)",
    )
    parser.add_argument("--device", default="auto", help="auto (CUDA if available, else CPU), cpu, cuda, cuda:1")
    parser.add_argument("--workers", type=_positive, default=None, help="worker processes, each with its own model (default: 1 on GPU, cores/4 on CPU)")
    parser.add_argument("--threads", type=_positive, default=None, help="torch CPU threads per worker (default: cores / workers)")
    parser.add_argument("--batch-size", type=_positive, default=None, help="images per engine call (default: 8 on GPU, 1 on CPU)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--no-follow-symlinks", action="store_true",
        help="skip (and report) symbolic links to files met in folders and globs; by default they are followed, "
        "even to files outside the input folder (symlinked folders are never entered)",
    )
    return parser


def _resolve_device(requested: str) -> str:
    from ..runtime import select_device

    # validates the name and CUDA's presence (ValueError); "auto" is OCR_DEVICE, else CUDA when available
    return select_device(None if requested == "auto" else requested)


def _resolve_checkpoint(requested: str | None) -> str:
    """The checkpoint's key (see `checkpoint_name`; None: OCR_CHECKPOINT, else the default), checked now for a
    clear error before any work. The run passes it to every worker as an argument."""
    from ..checkpoints import CheckpointError, built_in_checkpoints, read_header
    from ..pipeline.predictor import checkpoint_name

    name = checkpoint_name(requested)
    if requested is not None and name not in built_in_checkpoints():
        if not Path(name).is_file():
            raise CheckpointError(f"unknown checkpoint {requested!r}: not a built-in ({', '.join(built_in_checkpoints())}) and no such file")
        read_header(name)
    return name


def _report_skipped(skipped: list[Skipped]) -> None:
    for item in skipped:
        print(f"skipped: {printable(item.path)}: {item.why}", file=sys.stderr)


def _print_mode(args: argparse.Namespace, inputs: list, options: dict[str, Any], device: str, checkpoint: str) -> int:
    """The original command: print each image's (or PDF page's) text; --json collects every result in one file."""
    from ..pipeline.predictor import get_model
    from .run import predict_pdf, read_input

    if not inputs:
        return 0
    model = get_model(checkpoint, device=device)
    print(f"checkpoint: {model.checkpoint}", file=sys.stderr)
    results = []
    failures = 0
    for item in inputs:
        name = printable(str(item.path))
        try:
            image = read_input(item.path)
            if isinstance(image, bytes):
                pages = [(f" page {page.pdf_page.number}", page.predictions) for page in predict_pdf(model, image, options, False)]
            else:
                pages = [("", model.predict(image, **options))]
        except Exception as error:  # noqa: BLE001 - one bad file must not stop the others (as in bulk mode)
            print(f"== {name}: cannot read it ({printable(str(error))})", file=sys.stderr)
            failures += 1
            continue
        for label, predictions in pages:
            print(f"== {name}{label} ({len(predictions)} lines, {predictions.timings.get('total', 0.0):.2f} s)")
            for text in predictions.texts:
                print(text)
            results.append({"path": str(item.path), **predictions.to_dict()})
    if args.json is not None:
        args.json.write_text(json.dumps({"images": results}, ensure_ascii=False, indent=1), encoding="utf-8")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.out is None and args.resume:
        parser.error("--resume needs --out")
    if args.out is not None and args.json is not None:
        parser.error("--json is for runs without --out (with --out every input gets its own JSON file)")
    try:
        formats = parse_formats(args.format)
    except ValueError as error:
        parser.error(str(error))
    options = {"orientation": args.orientation} if args.orientation else {}
    try:
        found = discover(args.inputs, exclude=args.out, follow_symlinks=not args.no_follow_symlinks)
        inputs = found.inputs
        if args.out is not None:
            check_unique_outputs(inputs)
        device = _resolve_device(args.device)
        checkpoint = _resolve_checkpoint(args.checkpoint)
    except (InputSpecError, ValueError, OSError) as error:
        print(f"error: {printable(str(error))}", file=sys.stderr)
        return 2
    try:
        if args.out is None:
            _report_skipped(found.skipped)
            code = _print_mode(args, inputs, options, device, checkpoint)
        else:
            code = _bulk_mode(args, inputs, formats, options, device, checkpoint, found.skipped)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return max(code, 1) if found.skipped and code == 0 else code


def _bulk_mode(
    args: argparse.Namespace, inputs: list, formats: list, options: dict[str, Any], device: str, checkpoint: str,
    skipped: list[Skipped],
) -> int:
    from ..runtime import physical_core_count
    from .run import run

    cores = physical_core_count()
    workers, threads = default_workers(device, cores)
    if args.workers is not None:
        workers = args.workers
        threads = max(1, cores // workers)
    settings = RunSettings(
        out_dir=args.out,
        formats=tuple(formats),
        options=options,
        batch_size=args.batch_size or (8 if device.startswith("cuda") else 1),
        workers=workers,
        threads=args.threads or (threads if device == "cpu" else None),
        device=device,
        checkpoint=checkpoint,
    )
    print(
        f"{len(inputs) + len(skipped)} inputs -> {printable(str(args.out))} ({', '.join(f.name for f in formats)}); device {device}, "
        f"{settings.workers} worker(s) x {settings.threads or '-'} threads, batch {settings.batch_size}, "
        f"checkpoint {printable(checkpoint)}",
        file=sys.stderr,
    )
    summary = run(inputs, settings, resume=args.resume, progress=not args.no_progress)
    # Files that were found but not read (FIFOs, loops...) count as failed: the run did not do them.
    summary.total += len(skipped)
    summary.failed[:0] = [(item.path, item.why) for item in skipped]
    if summary.failed:
        print(f"{len(summary.failed)} failed:", file=sys.stderr)
        for file, why in summary.failed[:50]:
            print(f"  {printable(file)}: {printable(why)}", file=sys.stderr)
        if len(summary.failed) > 50:
            print(f"  ... and {len(summary.failed) - 50} more", file=sys.stderr)
    print(summary.line())
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
