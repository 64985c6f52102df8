"""Augmented lines: repeatable with the seed, still the line (not cut off), and sometimes left untouched."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ocr_model.finetune.augment import Augmentation, augment_line, jitter_quad
from ocr_model.finetune.line_data import load_folder
from ocr_model.finetune.synthetic import write_rendered_documents


def _sample(tmp_path):
    write_rendered_documents(tmp_path, [["TOTAL 12.50"]])
    return load_folder(tmp_path).lines[0]


def test_same_seed_same_augmentation(tmp_path):
    sample = _sample(tmp_path)
    first = [augment_line(sample, np.random.default_rng(5), Augmentation(), 0.08) for _ in range(3)]
    second = [augment_line(sample, np.random.default_rng(5), Augmentation(), 0.08) for _ in range(3)]
    for a, b in zip(first, second):
        assert np.array_equal(a, b)
    rng = np.random.default_rng(5)
    varied = [augment_line(sample, rng, Augmentation(untouched_probability=0.0), 0.08) for _ in range(4)]
    distinct = {(crop.shape, crop.tobytes()) for crop in varied}
    assert len(distinct) == len(varied)  # each draw differs


def test_augmented_line_keeps_its_proportions(tmp_path):
    sample = _sample(tmp_path)
    aspect = sample.crop.shape[1] / sample.crop.shape[0]
    rng = np.random.default_rng(0)
    for _ in range(20):
        crop = augment_line(sample, rng, Augmentation(untouched_probability=0.0), 0.08)
        assert crop.dtype == np.uint8 and crop.ndim == 3 and crop.shape[2] == 3
        assert 0.7 * aspect < crop.shape[1] / crop.shape[0] < 1.3 * aspect  # a jitter, not a different line


def test_untouched_lines_are_the_inference_crop(tmp_path):
    sample = _sample(tmp_path)
    crop = augment_line(sample, np.random.default_rng(0), replace(Augmentation(), untouched_probability=1.0), 0.08)
    assert crop is sample.crop


def test_long_lines_turn_less():
    long_line = np.array([[0, 0], [2000, 0], [2000, 20], [0, 20]], dtype=np.float32)
    rng = np.random.default_rng(1)
    settings = Augmentation(corner_jitter=0.0, rotation_degrees=5.0)
    for _ in range(20):
        moved = jitter_quad(long_line, rng, settings)
        assert np.abs(moved - long_line)[:, 1].max() < 0.35 * 20  # line ends move by under ~0.3 line height
