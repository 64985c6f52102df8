"""Recognizer-only checkpoints (the recognizer, naming the base that gives the detector and orientation
classifier), float16 storage, and recognition settings carried in a checkpoint's header."""

from __future__ import annotations

import copy
import dataclasses
import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ocr_model.checkpoints import (
    BUILT_IN_FILES,
    METADATA_KEY,
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    read_header,
    save_checkpoint,
)
from ocr_model.config import OcrConfig, checked_recognition_settings
from ocr_model.networks.recognizer import Recognizer
from ocr_model.pipeline.recognition import recognition_settings


@pytest.fixture(scope="module")
def tiny():
    return load_checkpoint("ppocrv6-tiny")


@pytest.fixture(scope="module")
def tuned(tiny):
    """ppocrv6-tiny with its recognizer's weights moved a little (a stand-in for a fine-tune)."""
    recognizer = copy.deepcopy(tiny.recognizer)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in recognizer.parameters():
            parameter.add_(0.01 * torch.randn(parameter.shape, generator=generator) * parameter.abs().mean())
    return dataclasses.replace(tiny, name="tuned", recognizer=recognizer, path=None)


def page_and_lines(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    page = torch.from_numpy(rng.uniform(-1, 1, (1, 3, 64, 96)).astype(np.float32))
    lines = torch.from_numpy(rng.uniform(-1, 1, (2, 3, 48, 160)).astype(np.float32))
    return page, lines


def header_of(path) -> dict:
    with safe_open(str(path), framework="pt") as handle:
        return json.loads(handle.metadata()[METADATA_KEY])


def test_a_recognizer_only_checkpoint_runs_with_its_base_detector(tiny, tuned, tmp_path):
    full = save_checkpoint(tuned, tmp_path / "full.safetensors")
    compact = save_checkpoint(tuned, tmp_path / "compact.safetensors", base="ppocrv6-tiny")
    header = header_of(compact)
    assert header["base"] == "ppocrv6-tiny" and set(header["architecture"]) == {"recognizer"}
    with safe_open(str(compact), framework="pt") as handle:
        assert {key.split(".", 1)[0] for key in handle.keys()} == {"recognizer"}
    assert compact.stat().st_size < 0.8 * full.stat().st_size

    loaded = load_checkpoint(compact)
    assert loaded.base == "ppocrv6-tiny" and loaded.name == "tuned" and loaded.characters == tiny.characters
    page, lines = page_and_lines()
    with torch.inference_mode():
        assert torch.equal(loaded.detector(page), tiny.detector(page))
        assert torch.equal(loaded.recognizer(lines), tuned.recognizer(lines))
        assert not torch.equal(loaded.recognizer(lines), tiny.recognizer(lines))
    assert load_checkpoint(full).base is None


def test_float16_halves_the_recognizer_and_keeps_its_outputs(tuned, tmp_path):
    single = save_checkpoint(tuned, tmp_path / "f32.safetensors", base="ppocrv6-tiny")
    half = save_checkpoint(tuned, tmp_path / "f16.safetensors", base="ppocrv6-tiny", dtype=torch.float16)
    assert half.stat().st_size < 0.55 * single.stat().st_size
    loaded = load_checkpoint(half)
    assert next(loaded.recognizer.parameters()).dtype == torch.float32  # upcast on load
    _, lines = page_and_lines(1)
    with torch.inference_mode():
        reference, got = tuned.recognizer(lines), loaded.recognizer(lines)
    assert torch.equal(reference.argmax(-1), got.argmax(-1))  # the same greedy path
    assert float((reference - got).abs().max()) < 0.05 * float(reference.abs().max())
    with pytest.raises(CheckpointError, match="stored as float32 or float16"):
        save_checkpoint(tuned, tmp_path / "bf16.safetensors", dtype=torch.bfloat16)


def test_a_base_file_beside_the_checkpoint(tiny, tuned, tmp_path):
    save_checkpoint(tiny, tmp_path / "mybase.safetensors", name="mybase")
    compact = save_checkpoint(tuned, tmp_path / "tuned.safetensors", base="mybase")
    loaded = load_checkpoint(compact)
    assert loaded.base == "mybase"
    page, _ = page_and_lines()
    with torch.inference_mode():
        assert torch.equal(loaded.detector(page), tiny.detector(page))
    # a recognizer-only file cannot be a base (one level only, no chains or loops)
    save_checkpoint(tuned, tmp_path / "second.safetensors", base="tuned")
    with pytest.raises(CheckpointError, match="holds a recognizer only; a base must be a full checkpoint"):
        load_checkpoint(tmp_path / "second.safetensors")


@pytest.mark.parametrize(
    "base, message",
    [
        ("ppocrv7", r"unknown base checkpoint 'ppocrv7': not a built-in \(ppocrv6-small, ppocrv6-tiny, ppocrv6-small-receipts\) and no other ppocrv7.safetensors"),
        ("../elsewhere/base", "must be a built-in name or the name of a checkpoint file in the same folder"),
        ("compact", "unknown base checkpoint 'compact'"),  # itself
    ],
)
def test_an_unknown_base_is_refused_from_the_header_alone(tuned, tmp_path, base, message):
    compact = save_checkpoint(tuned, tmp_path / "compact.safetensors", base=base)
    with pytest.raises(CheckpointError, match=message):
        read_header(compact)  # what the app's checkpoint list reads: such a file is left out, not offered
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(compact)


def test_a_recognizer_that_does_not_fit_its_base_is_refused(tiny, tmp_path):
    characters = tiny.characters[:100]
    other = Recognizer(dataclasses.replace(tiny.recognizer.config, num_classes=len(characters) + 1)).eval()
    model = Checkpoint(name="other", detector=tiny.detector, recognizer=other, characters=characters)
    compact = save_checkpoint(model, tmp_path / "other.safetensors", base="ppocrv6-tiny")
    with pytest.raises(
        CheckpointError,
        match=r"does not fit its base 'ppocrv6-tiny' \(tensor recognizer.head.fc.weight has shape \(101, 80\), the base's \(6906, 80\)\)",
    ):
        load_checkpoint(compact)


def test_recognition_settings_travel_in_the_header(tuned, tmp_path):
    path = save_checkpoint(tuned, tmp_path / "r.safetensors", base="ppocrv6-tiny", recognition={"space_margin_threshold": None})
    assert header_of(path)["recognition"] == {"space_margin_threshold": None}
    assert load_checkpoint(path).recognition == {"space_margin_threshold": None}
    assert load_checkpoint("ppocrv6-tiny").recognition == {}  # built-ins carry none: the engine's settings
    with pytest.raises(CheckpointError, match=r"unknown setting\(s\) \['det_threshold'\]"):
        save_checkpoint(tuned, tmp_path / "x.safetensors", recognition={"det_threshold": 0.5})


@pytest.mark.parametrize(
    "settings, message",
    [
        ([], "expected an object"),
        ({"space_margin_threshold": "off"}, "must be a number or null"),
        ({"space_gap_ratio": -1}, "must be a number >= 0"),
        ({"space_gap_ratio": None}, "must be a number >= 0"),
        ({"rec_height": 32}, r"unknown setting\(s\) \['rec_height'\]"),
    ],
)
def test_bad_recognition_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        checked_recognition_settings(settings)


def test_recognition_settings_from_config_and_checkpoint():
    config = OcrConfig()
    assert recognition_settings(config)["space_margin_threshold"] == config.space_margin_threshold == -2.5
    settings = recognition_settings(config, {"space_margin_threshold": None, "space_gap_ratio": 1.5})
    assert settings["space_margin_threshold"] is None and settings["space_gap_ratio"] == 1.5
    assert settings["height"] == config.rec_height and settings["call_overhead"] == config.rec_call_overhead_columns


def test_the_engine_reads_with_the_checkpoint_settings_and_per_call_options_still_win(tuned, tmp_path):
    from ocr_model.pipeline.predictor import build_model

    path = save_checkpoint(tuned, tmp_path / "r.safetensors", base="ppocrv6-tiny", recognition={"space_margin_threshold": None})
    model = build_model(device="cpu", checkpoint=str(path), threads=1)
    assert model.config.space_margin_threshold is None
    assert model.config.with_options(space_margin_threshold=-1.0).space_margin_threshold == -1.0
    # The built-in tiny carries detection settings (PaddleOCR's DB post-processing for its detector) and batching
    # settings (for its recognizer's cost); the recognizer-only checkpoint detects with its base's detector and
    # its recognizer is the base's architecture, so both come from its base.
    tiny_detection = {"det_threshold": 0.2, "det_box_threshold": 0.4, "det_unclip_ratio": 1.4}
    tiny_batching = {"rec_batch_size": 32, "rec_max_batch_pixels_width": 8000, "rec_call_overhead_columns": 1300}
    tiny_config = OcrConfig().with_options(**tiny_detection, **tiny_batching)
    assert build_model(device="cpu", checkpoint="ppocrv6-tiny", threads=1).config == tiny_config
    assert model.config == tiny_config.with_options(space_margin_threshold=None)
    assert "batching" not in header_of(path) and load_checkpoint(path).batching == tiny_batching
    page = np.full((64, 200, 3), 255, dtype=np.uint8)
    assert model.predict(page).checkpoint == "tuned"


def test_the_app_lists_a_recognizer_only_checkpoint_and_leaves_out_one_without_its_base(tuned, tmp_path):
    from demo.engine import checkpoint_choices

    save_checkpoint(tuned, tmp_path / "receipts.safetensors", base="ppocrv6-tiny", dtype=torch.float16)
    save_checkpoint(tuned, tmp_path / "orphan.safetensors", base="gone")
    choices = checkpoint_choices("ppocrv6-small", tmp_path)
    assert "receipts" in choices.names() and "orphan" not in choices.names()
    assert any("orphan.safetensors left out" in problem and "unknown base checkpoint 'gone'" in problem for problem in choices.problems)


def test_a_recognizer_only_built_in_cannot_be_a_base(tmp_path):
    """ppocrv6-small-receipts holds a recognizer only, so a checkpoint naming it as base has no detector."""
    with safe_open(str(BUILT_IN_FILES["ppocrv6-small-receipts"]), "pt") as handle:
        metadata = handle.metadata()
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    header = json.loads(metadata[METADATA_KEY])
    header["base"] = "ppocrv6-small-receipts"
    metadata[METADATA_KEY] = json.dumps(header)
    path = tmp_path / "on-receipts.safetensors"
    save_file(tensors, str(path), metadata=metadata)
    with pytest.raises(CheckpointError, match=r"base 'ppocrv6-small-receipts' holds a recognizer only"):
        read_header(path)
