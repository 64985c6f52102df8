"""A tiny recognizer of the real architecture (random weights, a small alphabet) and rendered line folders,
so the fine-tuning tests run in seconds without the shipped weights."""

from __future__ import annotations

from pathlib import Path

import torch

from ocr_model.checkpoints import Checkpoint
from ocr_model.finetune.recognizer_io import RecognizerCheckpoint
from ocr_model.networks.backbone import BackboneConfig, StageConfig
from ocr_model.networks.detector import Detector, DetectorConfig
from ocr_model.networks.recognizer import Recognizer, RecognizerConfig

ALPHABET = list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.:-%")


def tiny_config(classes: int) -> RecognizerConfig:
    return RecognizerConfig(
        backbone=BackboneConfig(
            stem_channels=8,
            out_stem=16,
            stages=(StageConfig(16, 1, (1, 1)), StageConfig(24, 1, (2, 1), se=(0,)), StageConfig(32, 1, (2, 1))),
        ),
        num_classes=classes,
        hidden=16,
        depth=1,
        heads=2,
    )


TINY_DETECTOR = DetectorConfig(
    backbone=BackboneConfig(
        stem_channels=8,
        out_stem=8,
        stages=(StageConfig(8, 1), StageConfig(8, 1, (2, 2)), StageConfig(8, 1, (2, 2)), StageConfig(8, 1, (2, 2))),
    ),
    neck_channels=16,
    large_kernel=3,
    head_channels=4,
)


def tiny_recognizer(seed: int = 0) -> RecognizerCheckpoint:
    """A base whose checkpoint holds random tiny networks: the recognizer to train and a detector to carry."""
    torch.manual_seed(seed)
    network = Recognizer(tiny_config(len(ALPHABET) + 2)).eval()  # + blank + the implicit space
    base = Checkpoint(
        name="tiny-test", detector=Detector(TINY_DETECTOR).eval(), recognizer=network, characters=list(ALPHABET),
        source="random weights for tests",
    )
    return RecognizerCheckpoint(network, list(ALPHABET), "tiny-test", {"name": "tiny-test"}, base)


PAGES = [
    ["TOTAL 12.50", "CASH 20.00"],
    ["Tel: 07-82632", "THANK YOU"],
    ["GST 6%", "Change 7.50"],
    ["ITEM 3.20", "QTY 2"],
]


def rendered_folder(folder: Path, pages: list[list[str]] = PAGES) -> Path:
    from ocr_model.finetune.synthetic import write_rendered_documents

    write_rendered_documents(folder, pages, font_size=18)
    return folder
