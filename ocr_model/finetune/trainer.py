"""The fine-tuning loop: CTC on the recognizer's logits, AdamW, validation each epoch, best epoch kept.

The network is trained exactly as inference runs it: lines are batched by `pipeline.lines.prepare_line_batch`
(height 48, aspect kept, right-padded, at least `min_width` wide) and the module's own pooling is kept, so the
CTC has the inference number of time steps (W / 8), the padding included (the padded steps learn blank, as
inference decodes them). Validation reads the held-out lines through `pipeline.recognition.recognize_lines`
with `recognition_settings` (the engine's own function), so its numbers are what the app would read on those
crops. Each epoch is validated with the base's recognition settings and (`spaces="auto"`) without the space
heuristic, which a tuned recognizer that learned its documents' spaces no longer needs; the better one is
written into the checkpoint's header ("recognition"), and the engine applies it whenever that checkpoint is
loaded.

With `max_minutes`, the learning-rate schedule is fitted to the time: after a few steps the number of steps
that fit before the deadline is estimated from their pace, and the cosine decay ends there instead of at
the last planned epoch (on a slow machine the run is cut, but its learning rate has still come down).

Interrupting (Ctrl-C = KeyboardInterrupt, from anywhere in the loop) stops training; the best epoch so far
has already been written, atomically, after the epoch that made it best.
"""

from __future__ import annotations

import math
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..checkpoints import STORED_DTYPES
from ..config import CHECKPOINT_RECOGNITION_SETTINGS, OcrConfig
from ..pipeline.lines import HostLines, prepare_line_batch
from ..pipeline.recognition import batch_width, recognition_settings, recognize_lines
from .augment import Augmentation, augment_line
from .line_data import LineSample
from .metrics import Scores, score_lines
from .recognizer_io import RecognizerCheckpoint as Recognizer, save_recognizer

# Recognition settings without inserted spaces: the recognizer's own spaces only.
SPACES_OFF: dict = {"space_margin_threshold": None, "space_gap_ratio": 0.0}
SPACES_CHOICES = ("auto", "base", "off")


@dataclass(frozen=True)
class TrainOptions:
    epochs: int = 3
    lr: float = 5e-5
    weight_decay: float = 0.01
    batch_size: int = 16
    # Most padded input pixels across one batch (lines x width): bounds the activations kept for backward.
    max_batch_width: int = 16 * 640
    max_minutes: float | None = None
    freeze_backbone_stages: int = 2
    seed: int = 0
    warmup_steps: int = 20
    device: str = "cpu"
    augmentation: Augmentation | None = field(default_factory=Augmentation)
    config: OcrConfig = field(default_factory=OcrConfig)  # crop margin and recognition settings of inference
    # Recognition settings written for the engine: "auto" = the better on validation of the base's and
    # SPACES_OFF (SPACES_OFF without validation lines); "base" = the base's; "off" = SPACES_OFF.
    spaces: str = "auto"
    # None: a full checkpoint (the base's detector and orientation classifier beside the recognizer); else
    # the name of the base a recognizer-only checkpoint runs with (recognizer_io.compact_base).
    compact_base: str | None = None
    store_dtype: str = "float32"  # or "float16" (half the file; see the README for the measured effect)


@dataclass(frozen=True)
class StepInfo:
    epoch: int
    step: int  # within the epoch, from 1
    global_step: int
    loss: float
    lines: int


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    lines: int
    seconds: float
    val: Scores | None
    spaces: str = "base"  # the recognition settings `val` was read with: "base" or "off"


@dataclass
class FinetuneResult:
    before: Scores | None
    best: Scores | None
    best_epoch: int | None
    history: list[EpochRecord]
    step_losses: list[float]
    checkpoint: Path | None
    interrupted: bool
    stopped_by_time: bool
    seconds: float
    peak_memory_mb: float
    skipped_too_long: list[LineSample]
    recognition: dict = field(default_factory=dict)  # the settings written into the checkpoint
    spaces: str = "base"


# ----------------------------------------------------------------------------------------------
# Labels


class LabelEncoder:
    """Text -> CTC class ids of a checkpoint (class i + 1 = characters[i]; blank 0)."""

    def __init__(self, characters: Sequence[str], classes: int) -> None:
        self.index: dict[str, int] = {}
        for position, char in enumerate(characters):
            self.index.setdefault(char, position + 1)
        if classes == len(characters) + 2:
            self.index.setdefault(" ", classes - 1)  # PP-OCR's implicit last class
        elif classes != len(characters) + 1:
            raise ValueError(f"the network has {classes} classes for {len(characters)} characters")
        # Letter pairs whose cases are both classes: (upper id, lower id).
        pairs = [
            (self.index[char], self.index[char.lower()])
            for char in self.index
            if char.isupper() and len(char.lower()) == 1 and char.lower() != char and char.lower() in self.index
        ]
        self.to_upper = {lower: upper for upper, lower in pairs}
        self.upper_ids = torch.tensor([upper for upper, _ in pairs], dtype=torch.long)
        self.lower_ids = torch.tensor([lower for _, lower in pairs], dtype=torch.long)

    @property
    def alphabet(self) -> set[str]:
        return set(self.index)

    def encode(self, text: str, fold_case: bool = False) -> list[int]:
        ids = [self.index[char] for char in text]
        return [self.to_upper.get(i, i) for i in ids] if fold_case else ids

    def fold_case(self, log_probs: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """(T, N, C) log-probabilities where, for the batch `rows` (bool, N), an upper-case letter's class
        scores "this letter in either case": log(p(A) + p(a)). CTC reads only the label's classes and the
        blank, so for those lines a letter read in either case is right and neither case is pushed down."""
        if not bool(rows.any()) or not len(self.upper_ids):
            return log_probs
        upper, lower = self.upper_ids.to(log_probs.device), self.lower_ids.to(log_probs.device)
        folded = log_probs.clone()
        folded[:, :, upper] = torch.logaddexp(log_probs[:, :, upper], log_probs[:, :, lower])
        return torch.where(rows.to(log_probs.device).view(1, -1, 1), folded, log_probs)


def time_steps(width: int) -> int:
    """CTC steps of a (padded) input `width` wide: floor(ceil(W / 4) / 2)."""
    return math.ceil(width / 4) // 2


def needed_steps(labels: Sequence[int]) -> int:
    """Fewest CTC steps that can spell `labels` (a blank must separate repeated classes)."""
    return len(labels) + sum(1 for a, b in zip(labels, labels[1:]) if a == b)


def resized_width(crop: np.ndarray, height: int) -> int:
    return max(1, math.ceil(height * crop.shape[1] / crop.shape[0]))


def drop_unreadable_lengths(
    lines: Sequence[LineSample], encoder: LabelEncoder, height: int, min_width: int
) -> tuple[list[LineSample], list[LineSample]]:
    """(kept, too long): a transcription longer than its line's CTC steps can never be emitted."""
    kept, too_long = [], []
    for sample in lines:
        steps = time_steps(max(resized_width(sample.crop, height), min_width))
        (kept if needed_steps(encoder.encode(sample.text)) <= steps else too_long).append(sample)
    return kept, too_long


# ----------------------------------------------------------------------------------------------
# Network set-up


def freeze_backbone_stages(network: nn.Module, count: int) -> list[str]:
    """Stop gradients in the backbone's stem and first `count` stages; names of what was frozen."""
    if count <= 0:
        return []
    backbone = getattr(network, "backbone", None)
    stages = getattr(backbone, "stages", None)
    if backbone is None or stages is None:
        raise ValueError("--freeze-backbone-stages needs a recognizer with .backbone.stages; use 0 for this network")
    if count > len(stages):
        raise ValueError(f"the backbone has {len(stages)} stages; cannot freeze {count}")
    frozen = []
    stem = getattr(backbone, "stem", None)
    if stem is not None:
        stem.requires_grad_(False)
        frozen.append("backbone.stem")
    for index in range(count):
        stages[index].requires_grad_(False)
        frozen.append(f"backbone.stages[{index}]")
    return frozen


def _train_mode(network: nn.Module) -> None:
    # Batches of a few lines give poor batch statistics: normalisation layers keep the running ones.
    network.train()
    for module in network.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()


class _Logits(nn.Module):
    """The trainable module seen by `recognize_lines`, which reads scores from `.logits` where a network
    has it (or from `forward`): both are the module's logits."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)


def validate(
    recognizer: Recognizer, lines: Sequence[LineSample], config: OcrConfig, recognition: dict | None = None
) -> tuple[Scores, list[str]]:
    """Scores of `recognizer` on `lines` read as inference reads them (with `config` and a checkpoint's
    `recognition` settings over it; None = the recognizer's own), and the texts it read."""
    was_training = recognizer.network.training
    recognizer.network.eval()
    try:
        readings = recognize_lines(
            _Logits(recognizer.network),
            HostLines([sample.crop for sample in lines]),
            recognizer.characters,
            **recognition_settings(config, recognizer.recognition if recognition is None else recognition),
        )
    finally:
        recognizer.network.train(was_training)
    texts = [reading.text for reading in readings]
    ignore_case = any(sample.fold_case for sample in lines)
    return score_lines([sample.text for sample in lines], texts, ignore_case), texts


# ----------------------------------------------------------------------------------------------
# Batches


def plan_epoch(lines: Sequence[LineSample], rng: np.random.Generator, options: TrainOptions) -> list[list[int]]:
    """Shuffled batches of lines of similar width (little padding), each within the pixel bound."""
    height = options.config.rec_height
    widths = [max(resized_width(sample.crop, height), options.config.rec_min_width) for sample in lines]
    order = rng.permutation(len(lines)).tolist()
    window = options.batch_size * 8  # sort by width only within windows, so batches still mix lines
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda index: widths[index])
        current: list[int] = []
        for index in chunk:
            widest = max([widths[index]] + [widths[i] for i in current])
            if current and (len(current) >= options.batch_size or widest * (len(current) + 1) > options.max_batch_width):
                batches.append(current)
                current = []
            current.append(index)
        if current:
            batches.append(current)
    return [batches[i] for i in rng.permutation(len(batches))]


def _lr_factor(step: int, total: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to a tenth."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (MiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def describe(base: str, lines: int, epoch: int, before: Scores | None, after: Scores | None) -> str:
    """One line for the Model dropdown: what was tuned and what validation said."""
    text = f"{base} fine-tuned on {lines} lines, epoch {epoch}"
    if before is not None and after is not None:
        text += (
            f"; validation CER {100 * before.cer:.2f} -> {100 * after.cer:.2f} %, "
            f"word accuracy {100 * before.word_accuracy:.1f} -> {100 * after.word_accuracy:.1f} %"
        )
    return text


def explicit_settings(config: OcrConfig, recognition: dict) -> dict:
    """Every checkpoint recognition setting's value with `recognition` over `config` (what a header records)."""
    effective = config.with_options(**recognition)
    return {name: getattr(effective, name) for name in CHECKPOINT_RECOGNITION_SETTINGS}


def _better(candidate: Scores, best: Scores | None) -> bool:
    if best is None:
        return True
    return (candidate.cer, -candidate.word_accuracy) < (best.cer, -best.word_accuracy)


# ----------------------------------------------------------------------------------------------
# The loop


def finetune(
    recognizer: Recognizer,
    train_lines: Sequence[LineSample],
    val_lines: Sequence[LineSample],
    out_path: str | Path,
    options: TrainOptions = TrainOptions(),
    metadata: dict | None = None,
    on_step: Callable[[StepInfo], None] | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    progress: bool = True,
) -> FinetuneResult:
    """Fine-tune `recognizer.network` in place on `train_lines`; the best epoch on `val_lines` (or the last
    one when there are none) is written to `out_path` with `metadata` plus the run's numbers in its header."""
    from tqdm.auto import tqdm

    started = time.monotonic()
    out_path = Path(out_path)
    torch.manual_seed(options.seed)
    rng = np.random.default_rng(options.seed)
    device = torch.device(options.device)
    network = recognizer.network.to(device)
    height, min_width = options.config.rec_height, options.config.rec_min_width

    probe = network.eval()(torch.zeros((1, 3, height, min_width), device=device))
    encoder = LabelEncoder(recognizer.characters, probe.shape[-1])
    train_lines, too_long = drop_unreadable_lengths(train_lines, encoder, height, min_width)
    if not train_lines:
        raise ValueError("no training line left to learn from")

    freeze_backbone_stages(network, options.freeze_backbone_stages)
    trainable = [parameter for parameter in network.parameters() if parameter.requires_grad]
    # No weight decay on biases and norm scales (1-D): decaying them only drags the base model away.
    decayed = [p for p in trainable if p.ndim > 1]
    plain = [p for p in trainable if p.ndim <= 1]
    optimizer = torch.optim.AdamW(
        [{"params": decayed, "weight_decay": options.weight_decay}, {"params": plain, "weight_decay": 0.0}],
        lr=options.lr,
    )
    ctc = nn.CTCLoss(blank=0, reduction="none", zero_infinity=True)
    steps_per_epoch = len(plan_epoch(train_lines, np.random.default_rng(0), options))
    total_steps = steps_per_epoch * options.epochs
    warmup = min(options.warmup_steps, max(1, total_steps // 10))
    if options.spaces not in SPACES_CHOICES:
        raise ValueError(f"spaces must be one of {SPACES_CHOICES}, got {options.spaces!r}")
    if options.store_dtype not in STORED_DTYPES:
        raise ValueError(f"store_dtype must be one of {sorted(STORED_DTYPES)}, got {options.store_dtype!r}")
    base_settings = dict(recognizer.recognition)
    candidates = {"base": base_settings, "off": SPACES_OFF}
    if options.spaces != "auto" or not val_lines:
        only = "base" if options.spaces == "base" else "off"
        candidates = {only: candidates[only]}

    def evaluate() -> tuple[Scores | None, str]:
        """The best validation of the current weights over the candidate settings, and its settings' name."""
        chosen: tuple[Scores | None, str] = (None, next(iter(candidates)))
        for label, settings in candidates.items():
            if not val_lines:
                break
            scores = validate(recognizer, val_lines, options.config, settings)[0]
            if progress and len(candidates) > 1:
                tqdm.write(f"  spaces {label}: {scores.summary()}")
            if _better(scores, chosen[0]):
                chosen = (scores, label)
        return chosen

    val_started = time.monotonic()
    before = validate(recognizer, val_lines, options.config, base_settings)[0] if val_lines else None
    val_seconds = (time.monotonic() - val_started) * len(candidates)
    if before is not None and progress:
        tqdm.write(f"before: {before.summary()}")
    history: list[EpochRecord] = []
    step_losses: list[float] = []
    best: Scores | None = None
    best_epoch: int | None = None
    written: Path | None = None
    interrupted = stopped_by_time = False
    deadline = started + options.max_minutes * 60 if options.max_minutes else math.inf
    global_step = 0
    scheduled_steps = total_steps  # fitted to the deadline once the pace is known
    step_seconds = 0.0
    chosen_spaces = next(iter(candidates))

    def write(epoch: int, scores: Scores | None, spaces: str) -> Path:
        header = dict(metadata or {})
        header["finetune"] = {
            **header.get("finetune", {}),
            "best_epoch": epoch,
            "validation_before": before.as_dict() if before else None,
            "validation_best": scores.as_dict() if scores else None,
            "train_lines": len(train_lines),
            "validation_lines": len(val_lines),
            "lr": options.lr,
            "seed": options.seed,
            "freeze_backbone_stages": options.freeze_backbone_stages,
            "spaces": spaces,
            "stored": options.store_dtype,
        }
        header.setdefault("description", describe(header.get("base", recognizer.name), len(train_lines), epoch, before, scores))
        save_recognizer(
            recognizer,
            out_path,
            header,
            base=options.compact_base,
            dtype=STORED_DTYPES[options.store_dtype],
            recognition=explicit_settings(options.config, candidates[spaces]),
        )
        return out_path

    try:
        for epoch in range(1, options.epochs + 1):
            if time.monotonic() > deadline:  # the last epoch's validation used the time up
                stopped_by_time = True
                break
            epoch_started = time.monotonic()
            batches = plan_epoch(train_lines, rng, options)
            losses: list[float] = []
            seen = 0
            bar = tqdm(batches, desc=f"epoch {epoch}/{options.epochs}", unit="batch", disable=not progress, leave=True)
            for step, batch in enumerate(bar, start=1):
                step_started = time.monotonic()
                _train_mode(network)
                samples = [train_lines[i] for i in batch]
                crops = [
                    augment_line(sample, rng, options.augmentation, options.config.crop_padding, height)
                    if options.augmentation is not None
                    else sample.crop
                    for sample in samples
                ]
                width = batch_width([(c.shape[1], c.shape[0]) for c in crops], height, min_width)
                inputs = prepare_line_batch(crops, height, width).to(device)
                logits = network(inputs)
                log_probs = logits.float().log_softmax(-1).transpose(0, 1)  # (T, N, C)
                labels = [encoder.encode(sample.text, sample.fold_case) for sample in samples]
                log_probs = encoder.fold_case(log_probs, torch.tensor([sample.fold_case for sample in samples]))
                targets = torch.tensor([c for label in labels for c in label], dtype=torch.long)
                target_lengths = torch.tensor([len(label) for label in labels], dtype=torch.long)
                input_lengths = torch.full((len(samples),), log_probs.shape[0], dtype=torch.long)
                loss = ctc(log_probs, targets.to(device), input_lengths, target_lengths).mean()
                if math.isfinite(deadline) and global_step >= 3:
                    # Steps that fit in the time left (one more validation kept aside), at the pace so far.
                    left = deadline - time.monotonic() - val_seconds
                    scheduled_steps = min(total_steps, global_step + max(0, int(left / (step_seconds / global_step))))
                for group in optimizer.param_groups:
                    group["lr"] = options.lr * _lr_factor(global_step, scheduled_steps, warmup)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(trainable, 5.0)
                optimizer.step()
                global_step += 1
                step_seconds += time.monotonic() - step_started
                value = float(loss.detach())
                losses.append(value)
                step_losses.append(value)
                seen += len(samples)
                rate = seen / max(time.monotonic() - epoch_started, 1e-9)
                bar.set_postfix(loss=f"{value:.3f}", lines_per_s=f"{rate:.1f}")
                if on_step is not None:
                    on_step(StepInfo(epoch, step, global_step, value, len(samples)))
                if time.monotonic() > deadline:
                    stopped_by_time = True
                    break
            bar.close()
            del logits, log_probs, loss, inputs
            scores, spaces = evaluate()
            record = EpochRecord(epoch, float(np.mean(losses)), seen, time.monotonic() - epoch_started, scores, spaces)
            history.append(record)
            if progress:
                tqdm.write(
                    f"epoch {epoch}: train loss {record.train_loss:.4f}, {seen} lines in {record.seconds:.0f} s"
                    + (f"; validation {scores.summary()}, spaces {spaces}" if scores else "")
                )
            if scores is None or _better(scores, best):
                best, best_epoch, chosen_spaces = scores, epoch, spaces
                written = write(epoch, scores, spaces)
            if on_epoch is not None:
                on_epoch(record)
            if stopped_by_time:
                if progress:
                    tqdm.write(f"stopped: --max-minutes {options.max_minutes} reached")
                break
    except KeyboardInterrupt:
        interrupted = True
        if progress:
            kept = f"epoch {best_epoch} kept in {written}" if written else "no epoch finished: nothing written"
            print(f"\ninterrupted: {kept}", file=sys.stderr)

    return FinetuneResult(
        before=before,
        best=best,
        best_epoch=best_epoch,
        history=history,
        step_losses=step_losses,
        checkpoint=written,
        interrupted=interrupted,
        stopped_by_time=stopped_by_time,
        seconds=time.monotonic() - started,
        peak_memory_mb=peak_memory_mb(),
        skipped_too_long=too_long,
        recognition=explicit_settings(options.config, candidates[chosen_spaces]),
        spaces=chosen_spaces,
    )
