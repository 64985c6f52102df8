"""`python -m ocr_model.finetune` end to end on a rendered folder and a tiny base checkpoint."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open

from finetune_helpers import rendered_folder, tiny_recognizer
from ocr_model.finetune.cli import main
from ocr_model.checkpoints import METADATA_KEY as FORMAT_KEY
from ocr_model.finetune.recognizer_io import load_recognizer, save_recognizer


@pytest.fixture
def tiny_base(tmp_path):
    path = tmp_path / "tiny-base.safetensors"
    save_recognizer(tiny_recognizer(), path, {"name": "tiny-base", "source": "random weights for tests"})
    return path


@pytest.mark.slow  # trains for two epochs
def test_command_trains_and_writes_the_best_epoch(tmp_path, tiny_base, capsys):
    data = rendered_folder(tmp_path / "data")
    out = tmp_path / "tuned.safetensors"
    args = ["--train", str(data), "--out", str(out), "--base", str(tiny_base), "--epochs", "2", "--lr", "1e-3"]
    args += ["--val-fraction", "0.25", "--synthetic", "4", "--freeze-backbone-stages", "1", "--quiet"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "before: CER" in printed and "after:  CER" in printed and f"wrote {out}" in printed
    assert "peak memory" in printed
    with safe_open(str(out), framework="pt") as handle:
        header = json.loads(handle.metadata()[FORMAT_KEY])
    assert header["base"] == "tiny-base" and header["name"] == "tuned"
    assert header["finetune"]["train"] == str(data)
    assert header["finetune"]["synthetic_lines"] == 4
    assert header["finetune"]["validation_lines"] == 2  # one of the four rendered pages, two lines
    assert header["finetune"]["best_epoch"] in (1, 2)
    assert load_recognizer(out).characters == load_recognizer(tiny_base).characters


def test_bad_csv_stops_the_command_with_file_and_line(tmp_path, tiny_base, capsys):
    data = rendered_folder(tmp_path / "data")
    (data / "page001.csv").write_text("1,2,3,4,5,6,7,eight,TOTAL\n")
    assert main(["--train", str(data), "--out", str(tmp_path / "x.safetensors"), "--base", str(tiny_base)]) == 1
    assert f"{data / 'page001.csv'}:1: coordinate 'eight' is not a number" in capsys.readouterr().err
    assert not (tmp_path / "x.safetensors").exists()


@pytest.mark.slow  # trains for an epoch
def test_unknown_characters_skipped_or_refused(tmp_path, tiny_base, capsys):
    data = rendered_folder(tmp_path / "data", [["TOTAL 12.50", "PRIX 5€"], ["CASH 3.00"], ["GST 6%"]])
    out = tmp_path / "y.safetensors"
    common = ["--train", str(data), "--out", str(out), "--base", str(tiny_base), "--quiet", "--synthetic", "0"]
    assert main([*common, "--strict-characters", "--val-fraction", "0.34"]) == 1
    err = capsys.readouterr().err
    assert "'€' (U+20AC, 1 lines)" in err and f"{data / 'page000.csv'}:2" in err and "refused" in err
    assert main([*common, "--epochs", "1", "--val-fraction", "0.34"]) == 0
    assert "cannot emit" in capsys.readouterr().err and out.is_file()


def test_output_must_be_safetensors(tmp_path, capsys):
    assert main(["--train", str(tmp_path), "--out", str(tmp_path / "model.pt")]) == 1
    assert ".safetensors" in capsys.readouterr().err


@pytest.mark.slow  # trains for two epochs
def test_val_fraction_zero_trains_on_everything_and_keeps_the_last_epoch(tmp_path, tiny_base, capsys):
    data = rendered_folder(tmp_path / "data")
    out = tmp_path / "all.safetensors"
    args = ["--train", str(data), "--out", str(out), "--base", str(tiny_base), "--epochs", "2", "--val-fraction", "0"]
    assert main([*args, "--synthetic", "0", "--quiet"]) == 0
    assert "before: no validation lines" in capsys.readouterr().out
    with safe_open(str(out), framework="pt") as handle:
        header = json.loads(handle.metadata()[FORMAT_KEY])
    assert header["finetune"]["best_epoch"] == 2 and header["finetune"]["validation_best"] is None
    assert header["finetune"]["train_lines"] == 8


def _header(path):
    with safe_open(str(path), framework="pt") as handle:
        return json.loads(handle.metadata()[FORMAT_KEY]), {key: handle.get_tensor(key).dtype for key in handle.keys()}


def test_default_output_is_the_recognizer_only_in_float16_naming_its_base(tmp_path, tiny_base, capsys):
    from ocr_model.checkpoints import load_checkpoint

    data = rendered_folder(tmp_path / "data")
    out = tmp_path / "tuned.safetensors"
    common = ["--train", str(data), "--base", str(tiny_base), "--epochs", "1", "--lr", "1e-3", "--synthetic", "0", "--quiet"]
    assert main([*common, "--out", str(out), "--val-fraction", "0.25"]) == 0
    printed = capsys.readouterr().out
    assert "(recognizer only, on tiny-base, float16," in printed and "recognition settings for the engine:" in printed
    header, dtypes = _header(out)
    assert header["base"] == "tiny-base" and set(header["architecture"]) == {"recognizer"}
    assert set(dtypes.values()) <= {torch.float16, torch.int64} and all(key.startswith("recognizer.") for key in dtypes)
    # the settings chosen on validation are written out in full, and the engine applies them with this checkpoint
    assert set(header["recognition"]) == {"space_margin_threshold", "space_gap_ratio"}
    assert header["finetune"]["spaces"] in ("base", "off") and header["finetune"]["stored"] == "float16"
    loaded = load_checkpoint(out)
    assert loaded.base == "tiny-base" and loaded.recognition == header["recognition"]
    assert loaded.detector.config == load_checkpoint(tiny_base).detector.config

    full = tmp_path / "full.safetensors"
    assert main([*common, "--out", str(full), "--val-fraction", "0.25", "--full-checkpoint", "--store", "float32"]) == 0
    header, dtypes = _header(full)
    assert set(header["architecture"]) == {"detector", "recognizer"} and torch.float16 not in dtypes.values()
    assert full.stat().st_size > out.stat().st_size


@pytest.mark.parametrize("spaces, threshold", [("off", None), ("base", -2.5)])
def test_spaces_choice_is_written_for_the_engine(tmp_path, tiny_base, spaces, threshold):
    data = rendered_folder(tmp_path / "data")
    out = tmp_path / "s.safetensors"
    args = ["--train", str(data), "--base", str(tiny_base), "--epochs", "1", "--synthetic", "0", "--quiet", "--out", str(out)]
    assert main([*args, "--spaces", spaces, "--val-fraction", "0.25"]) == 0
    header, _ = _header(out)
    assert header["recognition"] == {"space_margin_threshold": threshold, "space_gap_ratio": 0.0}
    assert header["finetune"]["spaces"] == spaces


def test_without_validation_lines_auto_spaces_means_off(tmp_path, tiny_base):
    data = rendered_folder(tmp_path / "data")
    out = tmp_path / "n.safetensors"
    args = ["--train", str(data), "--base", str(tiny_base), "--epochs", "1", "--synthetic", "0", "--quiet", "--out", str(out)]
    assert main([*args, "--val-fraction", "0"]) == 0
    assert _header(out)[0]["recognition"]["space_margin_threshold"] is None


@pytest.mark.slow  # trains for an epoch
def test_a_recognizer_only_output_must_sit_beside_a_base_file(tmp_path, tiny_base, capsys):
    data = rendered_folder(tmp_path / "data")
    elsewhere = tmp_path / "elsewhere" / "tuned.safetensors"
    args = ["--train", str(data), "--base", str(tiny_base), "--epochs", "1", "--quiet", "--out", str(elsewhere)]
    assert main(args) == 1
    assert "must be written beside tiny-base.safetensors" in capsys.readouterr().err and not elsewhere.exists()
    assert main([*args, "--full-checkpoint", "--synthetic", "0"]) == 0 and elsewhere.is_file()
