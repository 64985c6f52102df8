import numpy as np
import pytest
import torch

from ocr_model.pipeline import recognition
from ocr_model.networks.recognizer import PPOCRV6_TINY, Recognizer
from ocr_model.pipeline.recognition import (
    decode_line,
    fused_greedy_path,
    greedy_path,
    insert_gap_spaces,
    insert_margin_spaces,
    plan_batches,
    prepare_line_batch,
    recognize_lines,
)

CHARS = ["a", "b", "c", "Ａ", "１", ":", "中"]  # class i + 1 -> CHARS[i]; last class (8) = space


def test_plan_batches_groups_similar_aspect_ratios():
    ratios = [10.0, 1.0, 5.0, 1.2, 9.0, 5.5]
    batches = plan_batches(ratios, batch_size=2, max_batch_width=10**9, height=48)
    assert batches == [[1, 3], [2, 5], [4, 0]]
    assert sorted(i for batch in batches for i in batch) == list(range(6))


def test_plan_batches_respects_the_width_budget():
    batches = plan_batches([20.0, 20.0, 20.0], batch_size=16, max_batch_width=2 * 20 * 48, height=48)
    assert [len(batch) for batch in batches] == [2, 1]


def test_plan_batches_with_a_call_cost_splits_where_padding_costs_more_than_a_call():
    ratios = [20.0, 1.0, 1.5, 19.0, 2.0, 1.2]  # four short fields, two long lines
    filled = plan_batches(ratios, batch_size=16, max_batch_width=10**9, height=48)
    planned = plan_batches(ratios, batch_size=16, max_batch_width=10**9, height=48, min_width=192, call_overhead=300)
    assert filled == [[1, 5, 2, 4, 3, 0]]  # one batch: the short fields padded to 960 columns
    assert planned == [[1, 5, 2, 4], [3, 0]]  # 4 x 192 + 2 x 960 + 2 calls < 6 x 960 + 1 call
    # a call costlier than the padding it saves: one batch again
    assert plan_batches(ratios, 16, 10**9, 48, min_width=192, call_overhead=10**5) == [[1, 5, 2, 4, 3, 0]]
    # the memory bound still holds
    assert all(len(b) * max(ratios[i] for i in b) * 48 <= 2000 or len(b) == 1 for b in plan_batches(ratios, 16, 2000, 48, 192, 300))


def test_prepare_line_batch_resizes_pads_and_uses_bgr():
    red_tall = np.zeros((96, 96, 3), dtype=np.uint8)
    red_tall[..., 0] = 255
    wide = np.full((24, 240, 3), 255, dtype=np.uint8)
    batch = prepare_line_batch([red_tall, wide], height=48, width=480)
    assert batch.shape == (2, 3, 48, 480)
    assert float(batch[0, 2, :, :48].mean()) == pytest.approx(1.0)  # R is channel 2 (BGR)
    assert float(batch[0, 0, :, :48].mean()) == pytest.approx(-1.0)
    assert float(batch[0, :, :, 48:].abs().max()) == 0.0  # right padding is 0 (mid gray)
    assert float(batch[1, :, :, :480].min()) == pytest.approx(1.0)  # 24x240 -> 48x480 white


def test_greedy_path_probabilities_equal_the_softmax_at_emitting_steps():
    torch.manual_seed(0)
    logits = torch.randn(2, 12, 9) * 3
    indices, probabilities = greedy_path(logits)
    softmax = torch.softmax(logits, dim=2)
    assert torch.equal(indices, softmax.argmax(dim=2))
    for row in range(2):
        for step in range(12):
            index = int(indices[row, step])
            repeat = step > 0 and int(indices[row, step - 1]) == index
            if index != 0 and not repeat:
                assert float(probabilities[row, step]) == pytest.approx(float(softmax[row, step, index]), rel=1e-5)


def test_greedy_path_normalises_emitting_steps_in_chunks_with_the_same_result(monkeypatch):
    # A few rows at a time (bounded memory for wide batches): chunk boundaries must not shift any step.
    torch.manual_seed(1)
    logits = torch.randn(3, 40, 9) * 3
    _, whole = greedy_path(logits)
    monkeypatch.setattr(recognition, "LOGSUMEXP_ROWS", 4)
    indices, chunked = greedy_path(logits)
    emitting = int((chunked > 0).sum())
    assert emitting > 3 * 4  # several chunks were needed
    torch.testing.assert_close(chunked, whole, rtol=0, atol=0)
    softmax = torch.softmax(logits, dim=2).gather(2, indices.unsqueeze(2)).squeeze(2)
    torch.testing.assert_close(chunked[chunked > 0], softmax[chunked > 0])


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_greedy_path_takes_low_precision_logits(dtype):
    # bf16/fp16 networks (or autocast) hand over low-precision scores; the probabilities come
    # back in float32 (this failed with an index-put dtype mismatch before).
    torch.manual_seed(0)
    logits = (torch.randn(2, 12, 9) * 3).to(dtype)
    indices, probabilities = greedy_path(logits)
    reference_indices, reference = greedy_path(logits.float())
    assert probabilities.dtype == torch.float32
    assert torch.equal(indices, reference_indices)
    torch.testing.assert_close(probabilities, reference)


def identity_classifier(classes: int, dtype: torch.dtype) -> torch.nn.Linear:
    """A Linear whose scores are its input: `fused_greedy_path(scores, identity)` must equal `greedy_path(scores)`."""
    layer = torch.nn.Linear(classes, classes, dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(classes, dtype=dtype))
        layer.bias.zero_()
    return layer


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("rows", [1, 4, 7, 1000])
def test_fused_greedy_path_equals_greedy_path_of_the_whole_scores(dtype, rows):
    torch.manual_seed(2)
    scores = (torch.randn(3, 17, 9) * 3).to(dtype)
    scores[0, -1] = scores[1, 0] = torch.arange(9, dtype=dtype)  # line 1 starts with line 0's last class: it emits
    scores[2, 5, 4] = scores[2, 5, 6] = scores[2, 5].max() + 1  # a tie: the first maximum wins, as in torch.max
    with torch.inference_mode():
        indices, probabilities, margins = fused_greedy_path(scores, identity_classifier(9, dtype), True, rows=rows)
        reference_indices, reference = greedy_path(scores)
    assert torch.equal(indices, reference_indices)
    assert int(indices[1, 0]) == 8 and float(probabilities[1, 0]) > 0  # emitted at the line's start
    assert int(indices[2, 5]) == 4
    torch.testing.assert_close(probabilities, reference, rtol=0, atol=0)
    torch.testing.assert_close(margins, (scores[:, :, -1] - scores[:, :, 0]).float(), rtol=0, atol=0)


def test_fused_greedy_path_leaves_out_the_margins_unless_asked_and_checks_rows():
    scores = torch.randn(2, 5, 4)
    assert fused_greedy_path(scores, identity_classifier(4, torch.float32))[2] is None
    with pytest.raises(ValueError, match="rows"):
        fused_greedy_path(scores, identity_classifier(4, torch.float32), rows=0)


class WrappedRecognizer(torch.nn.Module):
    """The same network behind a plain Module (like a compiled one): recognize_lines takes its whole logits."""

    def __init__(self, network: Recognizer) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)


def test_recognize_lines_reads_alike_through_the_fused_scores_and_the_whole_logits():
    from dataclasses import replace

    torch.manual_seed(3)
    network = Recognizer(replace(PPOCRV6_TINY, num_classes=len(CHARS) + 2)).eval()  # + blank + space
    with torch.no_grad():
        torch.nn.init.normal_(network.head.fc.weight, std=3.0)  # random weights that read characters, not blanks
    rng = np.random.default_rng(3)
    crops = [rng.integers(0, 255, (32, width, 3), dtype=np.uint8) for width in (40, 90, 200, 64, 300)]
    settings = {"batch_size": 2, "min_width": 64, "space_margin_threshold": -1.0}
    calls = []
    original = recognition.fused_greedy_path
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(recognition, "fused_greedy_path", lambda *args, **kwargs: calls.append(1) or original(*args, **kwargs))
        fused = recognize_lines(network, crops, CHARS, **settings)
    whole = recognize_lines(WrappedRecognizer(network), crops, CHARS, **settings)
    assert len(calls) == 3  # the Recognizer itself took the fused path, batch by batch
    assert any(reading.text for reading in whole)
    assert fused == whole


def test_decode_collapses_repeats_drops_blanks_and_averages_confidence():
    indices = np.array([0, 1, 1, 0, 1, 2, 2, 0, 8, 3, 0])
    probabilities = np.array([0, 0.9, 0, 0, 0.7, 0.8, 0, 0, 0.6, 1.0, 0])
    reading = decode_line(indices, probabilities, CHARS + [" "])
    assert reading.text == "aab c"
    assert reading.confidence == pytest.approx(np.mean([0.9, 0.7, 0.8, 0.6, 1.0]))


def test_decode_normalizes_full_width_forms_with_nfkc():
    reading = decode_line(np.array([4, 0, 5, 6]), np.array([1.0, 0, 1.0, 1.0]), CHARS + [" "])
    assert reading.text == "A1:"


def test_decode_of_all_blanks_is_empty_with_zero_confidence():
    reading = decode_line(np.zeros(10, dtype=int), np.zeros(10), CHARS)
    assert reading.text == "" and reading.confidence == 0.0


def test_gap_spaces_are_inserted_only_at_wide_latin_gaps():
    chars = list("Tel:07Fax")
    steps = [0, 2, 4, 6, 12, 14, 20, 22, 24]  # pitch 2; gaps of 6 after ":" and "7"
    assert "".join(insert_gap_spaces(chars, steps, gap_ratio=2.0)) == "Tel: 07 Fax"
    assert "".join(insert_gap_spaces(chars, steps, gap_ratio=4.0)) == "Tel:07Fax"
    cjk = ["中", "中", "中", "a"]
    assert "".join(insert_gap_spaces(cjk, [0, 2, 10, 12], gap_ratio=2.0)) == "中中中a"


class FakeRecognizer(torch.nn.Module):
    """Emits class 1 ('a') in the first frame of every line and class 2 ('b') for wide lines."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, _, width = x.shape
        frames = width // 8
        scores = torch.zeros(batch, frames, 9)
        scores[:, :, 0] = 5.0
        scores[:, 0, 0] = 0.0
        scores[:, 0, 1] = 5.0
        content_width = (x[:, 0, 0, :] != 0).sum(dim=1)  # padding is exactly 0
        for row in range(batch):
            if content_width[row] > 300:
                scores[row, 2, 0] = 0.0
                scores[row, 2, 2] = 5.0
        return scores


def test_recognize_lines_keeps_input_order_across_batches():
    short = np.full((48, 48, 3), 200, dtype=np.uint8)
    long = np.full((48, 480, 3), 200, dtype=np.uint8)
    crops = [long, short, long, short, short]
    readings = recognize_lines(FakeRecognizer(), crops, CHARS, batch_size=2, min_width=64)
    assert [reading.text for reading in readings] == ["ab", "a", "ab", "a", "a"]
    assert all(0.9 < reading.confidence <= 1.0 for reading in readings)


def test_recognize_lines_rejects_a_network_of_the_wrong_vocabulary():
    with pytest.raises(RuntimeError, match="expected"):
        recognize_lines(FakeRecognizer(), [np.zeros((48, 48, 3), np.uint8)], CHARS[:3])


def test_recognize_lines_of_nothing_is_nothing():
    assert recognize_lines(FakeRecognizer(), [], CHARS) == []


def test_margin_spaces_go_where_the_space_class_nearly_won_a_blank_step():
    chars = list("ab:cd")
    steps = [0, 2, 4, 7, 9]
    margins = np.full(10, -8.0)
    margins[5] = -1.0  # between ":" and "c"
    margins[1] = -6.0
    spaced, spaced_steps = insert_margin_spaces(chars, steps, margins, threshold=-2.0)
    assert "".join(spaced) == "ab: cd" and spaced_steps == [0, 2, 4, 5, 7, 9]
    assert "".join(insert_margin_spaces(chars, steps, margins, threshold=-0.5)[0]) == "ab:cd"


def test_decode_line_with_space_margins():
    # classes: 1 'a', 2 'b', 8 ' '; path a _ _ b with the space close behind the blank at step 1
    indices = np.array([1, 0, 0, 2])
    probabilities = np.array([0.9, 0, 0, 0.9])
    margins = np.array([-9.0, -0.5, -7.0, -9.0])
    spaced = decode_line(indices, probabilities, CHARS + [" "], space_margins=margins, space_margin_threshold=-1.0)
    assert spaced.text == "a b"
    plain = decode_line(indices, probabilities, CHARS + [" "], space_margins=margins, space_margin_threshold=None)
    assert plain.text == "ab"


def test_emits_marks_the_first_step_of_each_run_of_a_character():
    best = torch.tensor([[3, 3, 0, 3, 5, 5, 0, 0]])
    before = torch.cat([torch.full((1, 1), -1), best[:, :-1]], dim=1)
    assert recognition.emits(best, before).tolist() == [[True, False, False, True, True, False, False, False]]
    # a line that starts with the class the previous line ended on still emits it
    assert recognition.emits(torch.tensor([5]), torch.tensor([-1])).tolist() == [True]
