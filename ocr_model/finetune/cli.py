"""`python -m ocr_model.finetune`: fine-tune the recognizer on your own labelled documents.

    python -m ocr_model.finetune --train my_receipts/ --out receipts.safetensors

Exit status: 0 done; 1 bad data or arguments; 130 interrupted (the best epoch so far is kept).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..config import OcrConfig
from .line_data import DataError, check_characters, labels_ignore_case, load_folder, split_by_document
from .recognizer_io import DEFAULT_BASE, compact_base, load_recognizer
from .synthetic import synthetic_lines
from .trainer import SPACES_CHOICES, LabelEncoder, TrainOptions, finetune

DEFAULT_EPOCHS = 4
DEFAULT_LR = 2e-5  # low end of the published range: 5e-5 made held-out SROIE receipts worse (README)
# The default run must end within 20 minutes on 2 cores: training stops here, then validates and writes.
DEFAULT_MAX_MINUTES = 14.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ocr_model.finetune",
        description="Fine-tune the text-line recognizer on labelled images (CTC), keeping the best epoch.",
    )
    parser.add_argument("--train", required=True, type=Path, help="folder: images + same-named .csv, img/ + box/, or labels.tsv")
    split = parser.add_mutually_exclusive_group()
    split.add_argument("--val", type=Path, help="validation folder (same layouts); default: hold out --val-fraction of the images")
    split.add_argument("--val-fraction", type=float, default=0.2, help="share of the training images held out (default 0.2; 0 = train on all, keep the last epoch)")
    parser.add_argument("--out", required=True, type=Path, help="the fine-tuned checkpoint (.safetensors)")
    parser.add_argument("--base", default=DEFAULT_BASE, help=f"checkpoint to start from: a name or a path (default {DEFAULT_BASE})")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help=f"passes over the training lines (default {DEFAULT_EPOCHS})")
    parser.add_argument("--max-minutes", type=float, default=DEFAULT_MAX_MINUTES, help=f"stop training after this long (default {DEFAULT_MAX_MINUTES:g}; 0 = no limit)")
    parser.add_argument("--lr", type=float, default=DEFAULT_LR, help=f"peak learning rate of AdamW (default {DEFAULT_LR:g})")
    parser.add_argument("--batch-size", type=int, default=16, help="lines per step (default 16)")
    parser.add_argument("--freeze-backbone-stages", type=int, default=2, help="backbone stem + this many stages stay fixed (default 2 of 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, the shuffling and the augmentation (default 0)")
    parser.add_argument("--synthetic", type=int, default=-1, help="rendered lines mixed in against forgetting (default: half the real training lines; 0 = none)")
    parser.add_argument("--no-augment", action="store_true", help="train on the lines exactly as cut (no augmentation)")
    parser.add_argument("--strict-characters", action="store_true", help="refuse (instead of skipping) lines with characters the checkpoint cannot emit")
    parser.add_argument("--case", choices=("auto", "sensitive", "insensitive"), default="auto", help="auto: labels without any lower-case letter are taken as case-insensitive")
    parser.add_argument(
        "--spaces", choices=SPACES_CHOICES, default="auto",
        help="recognition settings written for the engine: auto = the better on validation of the base's and off "
        "(off without validation); base = the base's (space heuristic on); off = no inserted spaces",
    )
    parser.add_argument("--full-checkpoint", action="store_true", help="write the base's detector and orientation classifier too (default: the recognizer only, naming its base)")
    parser.add_argument("--store", choices=("float16", "float32"), default="float16", help="weight precision in the file (default float16: half the size, loaded as float32)")
    parser.add_argument("--device", default=None, help="torch device (default: CUDA when available, else CPU)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.epochs < 1 or args.lr <= 0 or args.batch_size < 1 or args.freeze_backbone_stages < 0:
        _say("error: --epochs and --batch-size must be >= 1, --lr > 0, --freeze-backbone-stages >= 0")
        return 1
    if args.out.suffix != ".safetensors":
        _say(f"error: --out must end in .safetensors, got {args.out}")
        return 1
    from ..runtime import configure_cpu_threads, select_device

    device = args.device or select_device()
    if device == "cpu":
        _say(f"CPU, {configure_cpu_threads()} threads")
    config = OcrConfig()
    started = time.monotonic()
    try:
        base = load_recognizer(args.base)
        save_base = None if args.full_checkpoint else compact_base(base, args.out)
        train_data = load_folder(args.train, height=config.rec_height, crop_padding=config.crop_padding)
        if args.val is not None:
            val_data = load_folder(args.val, height=config.rec_height, crop_padding=config.crop_padding)
            train_lines, val_lines = train_data.lines, val_data.lines
            val_description = str(args.val)
        elif args.val_fraction == 0:
            train_lines, val_lines = train_data.lines, []
            val_description = "none (--val-fraction 0: the last epoch is kept)"
        else:
            train_lines, val_lines, held_out = split_by_document(train_data, args.val_fraction, args.seed)
            val_description = f"{len(held_out)} of {len(set(train_data.documents))} images of {args.train}: {', '.join(held_out)}"
    except (DataError, FileNotFoundError, ValueError) as error:  # CheckpointError is a ValueError
        _say(f"error: {error}")
        return 1

    encoder = LabelEncoder(base.characters, base.network.config.num_classes)
    for name, lines in (("training", train_lines), ("validation", val_lines)):
        report = check_characters(lines, encoder.alphabet)
        if report.dropped:
            _say(f"{name}: {report.message()}")
            if args.strict_characters:
                _say("error: refused (--strict-characters); fix the labels or drop --strict-characters to skip them")
                return 1
            lines[:] = report.kept
    fold = args.case == "insensitive" or (args.case == "auto" and labels_ignore_case(train_lines + val_lines))
    if fold:
        if args.case == "auto":
            _say("the labels have no lower-case letter: read as case-insensitive (--case sensitive to change)")
        for sample in (*train_lines, *val_lines):
            sample.fold_case = True

    synthetic_count = len(train_lines) // 2 if args.synthetic < 0 else args.synthetic
    synthetic = synthetic_lines(
        [sample.text for sample in train_lines], synthetic_count, args.seed, encoder.alphabet, height=config.rec_height
    )
    if synthetic_count and not synthetic:
        _say("no system font found: training without synthetic lines (install fonts-dejavu for them)")
    _say(
        f"training on {len(train_lines)} lines of {len(set(s.document for s in train_lines))} images"
        f" + {len(synthetic)} synthetic; validating on {len(val_lines)} lines ({val_description})"
    )
    options = TrainOptions(
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        max_minutes=args.max_minutes or None,
        freeze_backbone_stages=args.freeze_backbone_stages,
        seed=args.seed,
        device=device,
        augmentation=None if args.no_augment else TrainOptions().augmentation,
        config=config,
        spaces=args.spaces,
        compact_base=save_base,
        store_dtype=args.store,
    )
    metadata = {
        "name": args.out.stem,
        "base": base.name,
        "source": f"python -m ocr_model.finetune --train {args.train} from {base.name} ({base.metadata.get('source', '')})",
        "finetune": {
            "train": str(args.train),
            "validation": val_description,
            "synthetic_lines": len(synthetic),
            "epochs": args.epochs,
            "case_insensitive_labels": fold,
        },
    }
    try:
        result = finetune(base, train_lines + synthetic, val_lines, args.out, options, metadata, progress=not args.quiet)
    except ValueError as error:
        _say(f"error: {error}")
        return 1
    if result.skipped_too_long:
        _say(f"{len(result.skipped_too_long)} line(s) skipped: more characters than their width can hold, e.g. {result.skipped_too_long[0].where}")
    minutes = (time.monotonic() - started) / 60
    print(f"before: {result.before.summary() if result.before else 'no validation lines'}")
    if result.best_epoch is not None:
        print(f"after:  {result.best.summary() if result.best else '(no validation)'} (epoch {result.best_epoch})")
        kind = f"recognizer only, on {save_base}" if save_base else "full checkpoint"
        print(f"wrote {result.checkpoint} ({kind}, {args.store}, {result.checkpoint.stat().st_size / 2**20:.1f} MB)")
        print(f"recognition settings for the engine: {result.recognition} (spaces {result.spaces})")
        if result.before and result.best and result.best.cer > result.before.cer:
            print("warning: no epoch beat the base checkpoint on the validation lines")
    else:
        print("no epoch finished: no checkpoint written")
    print(f"{minutes:.1f} min in all on {device}, peak memory {result.peak_memory_mb:.0f} MiB")
    return 130 if result.interrupted else 0
