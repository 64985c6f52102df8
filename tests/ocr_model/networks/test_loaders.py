"""Loading the shipped networks: CPU, float32, eval; the character list's layout."""

from __future__ import annotations

import pytest
import torch

from ocr_model.networks import load_character_list, load_detector, load_orientation_classifier, load_recognizer


def test_networks_load_on_cpu_in_eval_float32():
    for network in (load_detector(), load_recognizer(), load_orientation_classifier()):
        assert not network.training
        tensors = list(network.state_dict().values())
        assert tensors and all(t.device.type == "cpu" for t in tensors)
        assert all(t.dtype == torch.float32 for t in tensors if t.is_floating_point())


def test_character_list_layout():
    characters = load_character_list()
    assert len(characters) == 18708
    assert characters[0] == "!"
    assert all(len(character) >= 1 for character in characters)
    assert " " not in characters  # the space is the extra last class, not part of the stored list


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_recognizer(tmp_path / "nothing.onnx")
