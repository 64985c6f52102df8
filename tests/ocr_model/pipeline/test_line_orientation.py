import numpy as np
import torch

from ocr_model.pipeline.line_orientation import rotate_180, upside_down_probabilities


class DarkTopIsUpsideDown(torch.nn.Module):
    """Calls a crop upside down when its top half is darker than its bottom half."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[1:] == (3, 48, 192)
        top, bottom = x[:, :, :24].mean(dim=(1, 2, 3)), x[:, :, 24:].mean(dim=(1, 2, 3))
        upside_down = (top < bottom).float()
        return 1000.0 * torch.stack([1 - upside_down, upside_down], dim=1)  # logits


def test_probabilities_follow_the_network_per_crop():
    upright = np.full((30, 200, 3), 255, dtype=np.uint8)
    upright[20:] = 0
    crops = [upright, rotate_180(upright), upright]
    assert upside_down_probabilities(DarkTopIsUpsideDown(), crops) == [0.0, 1.0, 0.0]


def test_rotate_180_twice_is_identity():
    crop = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    np.testing.assert_array_equal(rotate_180(rotate_180(crop)), crop)
    np.testing.assert_array_equal(rotate_180(crop)[0, 0], crop[1, 2])
