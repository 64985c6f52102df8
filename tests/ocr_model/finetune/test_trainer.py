"""The fine-tuning loop on a tiny recognizer of the real architecture and rendered lines: the loss goes down,
the checkpoint round-trips with its header, Ctrl-C keeps the best epoch, a seed repeats a run."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open

from finetune_helpers import ALPHABET, rendered_folder, tiny_recognizer
from ocr_model.finetune.line_data import load_folder
from ocr_model.checkpoints import METADATA_KEY as FORMAT_KEY
from ocr_model.finetune.recognizer_io import load_recognizer, save_recognizer
from ocr_model.finetune.trainer import LabelEncoder, TrainOptions, finetune, freeze_backbone_stages, needed_steps


def _lines(tmp_path):
    return load_folder(rendered_folder(tmp_path / "data")).lines


FAST = TrainOptions(epochs=3, lr=1e-2, batch_size=4, freeze_backbone_stages=0, warmup_steps=1, augmentation=None)


def test_loss_decreases_over_a_few_steps(tmp_path):
    lines = _lines(tmp_path)
    losses = []
    result = finetune(
        tiny_recognizer(), lines, [], tmp_path / "out.safetensors", FAST, on_step=lambda s: losses.append(s.loss), progress=False
    )
    assert len(losses) == 3 * 2  # 8 lines in batches of 4, 3 epochs
    assert losses == result.step_losses
    assert sum(losses[-2:]) / 2 < 0.7 * sum(losses[:2]) / 2, losses


def test_checkpoint_round_trips_with_its_header(tmp_path):
    lines = _lines(tmp_path)
    out = tmp_path / "tuned.safetensors"
    base = tiny_recognizer()
    result = finetune(base, lines[:6], lines[6:], out, FAST, metadata={"name": "tuned", "base": "tiny-test"}, progress=False)
    assert result.checkpoint == out and out.is_file()
    assert not list(tmp_path.glob(".tuned.safetensors.*"))  # the temporary file was renamed, not left behind
    with safe_open(str(out), framework="pt") as handle:
        header = json.loads(handle.metadata()[FORMAT_KEY])
    assert header["base"] == "tiny-test"
    assert header["finetune"]["best_epoch"] == result.best_epoch
    assert header["finetune"]["validation_best"]["cer"] == pytest.approx(result.best.cer, abs=1e-6)
    assert header["finetune"]["validation_before"]["lines"] == 2
    loaded = load_recognizer(out)
    assert loaded.characters == ALPHABET
    x = torch.randn(2, 3, 48, 96)
    with torch.inference_mode():
        # the file holds the best epoch's weights; with 3 epochs they may not be the last ones, so compare
        # the loaded module with the saved tensors and with a second load
        again = load_recognizer(out).network(x)
        assert torch.equal(loaded.network(x), again)
    with safe_open(str(out), framework="pt") as handle:
        for name, tensor in loaded.network.state_dict().items():
            if not name.endswith("num_batches_tracked"):
                assert torch.equal(handle.get_tensor(f"recognizer.{name}"), tensor)


def test_saved_then_loaded_gives_identical_outputs(tmp_path):
    base = tiny_recognizer(seed=3)
    save_recognizer(base, tmp_path / "copy.safetensors", {"name": "copy"})
    loaded = load_recognizer(tmp_path / "copy.safetensors")
    x = torch.randn(3, 3, 48, 120)
    with torch.inference_mode():
        assert torch.equal(base.network.eval()(x), loaded.network(x))


def test_ctrl_c_keeps_the_best_checkpoint(tmp_path):
    lines = _lines(tmp_path)
    out = tmp_path / "best.safetensors"
    snapshots = {}

    def on_epoch(record):
        snapshots[record.epoch] = {k: v.clone() for k, v in network.state_dict().items()}

    def on_step(step):
        if step.epoch == 2 and step.step == 1:
            raise KeyboardInterrupt

    base = tiny_recognizer()
    network = base.network
    result = finetune(base, lines[:6], lines[6:], out, FAST, on_step=on_step, on_epoch=on_epoch, progress=False)
    assert result.interrupted and result.best_epoch == 1 and result.checkpoint == out
    assert [record.epoch for record in result.history] == [1]
    with safe_open(str(out), framework="pt") as handle:
        assert json.loads(handle.metadata()[FORMAT_KEY])["finetune"]["best_epoch"] == 1
        for name, tensor in snapshots[1].items():
            if not name.endswith("num_batches_tracked"):
                assert torch.equal(handle.get_tensor(f"recognizer.{name}"), tensor), name


def test_ctrl_c_before_any_epoch_writes_nothing(tmp_path):
    lines = _lines(tmp_path)

    def stop(step):
        raise KeyboardInterrupt

    result = finetune(tiny_recognizer(), lines, [], tmp_path / "none.safetensors", FAST, on_step=stop, progress=False)
    assert result.interrupted and result.checkpoint is None and not (tmp_path / "none.safetensors").exists()


def test_same_seed_same_run(tmp_path):
    lines = _lines(tmp_path)
    options = TrainOptions(epochs=1, lr=1e-3, batch_size=4, freeze_backbone_stages=1, seed=11)
    first = finetune(tiny_recognizer(), lines, [], tmp_path / "a.safetensors", options, progress=False)
    second = finetune(tiny_recognizer(), lines, [], tmp_path / "b.safetensors", options, progress=False)
    assert first.step_losses == second.step_losses
    other = finetune(tiny_recognizer(), lines, [], tmp_path / "c.safetensors", TrainOptions(**{**options.__dict__, "seed": 12}), progress=False)
    assert other.step_losses != first.step_losses


def test_frozen_stages_do_not_move(tmp_path):
    lines = _lines(tmp_path)
    base = tiny_recognizer()
    before = {k: v.clone() for k, v in base.network.state_dict().items()}
    options = TrainOptions(epochs=1, lr=1e-2, batch_size=4, freeze_backbone_stages=2, augmentation=None)
    finetune(base, lines, [], tmp_path / "f.safetensors", options, progress=False)
    after = base.network.state_dict()
    for name in before:
        moved = not torch.equal(before[name], after[name])
        frozen = name.startswith(("backbone.stem.", "backbone.stages.0.", "backbone.stages.1."))
        if frozen:
            assert not moved, name
    assert not torch.equal(before["head.fc.weight"], after["head.fc.weight"])
    with pytest.raises(ValueError, match="cannot freeze 4"):
        freeze_backbone_stages(tiny_recognizer().network, 4)


def test_case_folding_counts_either_case_as_right():
    encoder = LabelEncoder(ALPHABET, len(ALPHABET) + 2)
    assert encoder.encode("Ab", fold_case=True) == encoder.encode("AB")
    assert encoder.encode(" ") == [len(ALPHABET) + 1]  # the implicit space class
    # four steps; the network reads lower-case "a" then blanks
    log_probs = torch.full((4, 2, len(ALPHABET) + 2), -20.0)
    log_probs[:, :, 0] = 0.0
    log_probs[0, :, encoder.index["a"]] = 0.0
    log_probs = log_probs.log_softmax(-1)
    folded = encoder.fold_case(log_probs, torch.tensor([True, False]))
    ctc = torch.nn.CTCLoss(blank=0, reduction="none")
    target = torch.tensor(encoder.encode("A") * 2)
    losses = ctc(folded, target, torch.tensor([4, 4]), torch.tensor([1, 1]))
    assert losses[0] < 1.0 < losses[1]  # folded row: "a" counts for "A"; exact row: it does not


def test_needed_steps_counts_blanks_between_repeats():
    assert needed_steps([1, 2, 3]) == 3
    assert needed_steps([1, 1, 2, 2, 2]) == 8
