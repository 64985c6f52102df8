import os
import threading

import numpy as np
import pytest
import torch

from ocr_model.config import OcrConfig
from ocr_model.pipeline.predictor import OcrModel, as_rgb_uint8
from ocr_model.runtime import (
    configure_cpu_threads,
    cpu_has_native_bfloat16,
    physical_core_count,
    select_device,
    select_precision,
)
from ocr_model.types import Predictions

CHARS = ["a", "b"]


class DarkPixelsAreText(torch.nn.Module):
    """Stand-in detector: probability 0.9 (logit 2.197) wherever the input is dark, 0 elsewhere."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def forward(self, x):
        self.calls.append(tuple(x.shape))
        dark = x.mean(dim=1, keepdim=True) < 0
        return torch.where(dark, torch.logit(torch.tensor(0.9)), torch.tensor(-1000.0))


class ReadsA(torch.nn.Module):
    """Stand-in recognizer: reads 'a' on every line, or 'b' if the line is upside down
    (darker bottom rows than top rows)."""

    def forward(self, x):
        frames = x.shape[3] // 8
        scores = torch.zeros(x.shape[0], frames, 4)
        scores[:, :, 0] = 4.0
        top, bottom = x[:, :, :24].mean(dim=(1, 2, 3)), x[:, :, 24:].mean(dim=(1, 2, 3))
        for row in range(x.shape[0]):
            cls = 2 if bottom[row] < top[row] - 0.5 else 1
            scores[row, 1, 0] = 0.0
            scores[row, 1, cls] = 4.0 if cls == 1 else 0.5  # upside-down read is unsure
        return scores


class BottomDarkIsUpsideDown(torch.nn.Module):
    def forward(self, x):
        top, bottom = x[:, :, :24].mean(dim=(1, 2, 3)), x[:, :, 24:].mean(dim=(1, 2, 3))
        flipped = (bottom < top - 0.5).float()
        return 1000.0 * torch.stack([1 - flipped, flipped], dim=1)  # logits: probabilities exactly 0 / 1


def make_model(**config):
    # Page rotation off: these stand-ins test the per-line 180° check (test_page_rotation.py has the page's).
    config = {"page_rotation": "off", **config}
    return OcrModel(DarkPixelsAreText(), ReadsA(), CHARS, BottomDarkIsUpsideDown(), OcrConfig(**config))


def page_with_bars():
    image = np.full((300, 500, 3), 255, dtype=np.uint8)
    image[40:70, 50:400] = 0  # line 1
    image[150:180, 100:300] = 0  # line 2
    return image


def test_polygons_are_in_original_pixel_coordinates_and_in_reading_order():
    model = make_model(det_unclip_ratio=0.1)  # the stand-in's "kernels" are the whole bars
    prediction = model.predict(page_with_bars())
    assert isinstance(prediction, Predictions)
    assert len(prediction) == 2
    assert prediction.texts == ["a", "a"]
    first, second = prediction.polygons
    assert first.dtype == np.float32 and first.shape == (4, 2)
    # the detector ran on a resized image; boxes must come back around the bars
    assert abs(first[:, 0].min() - 50) < 12 and abs(first[:, 0].max() - 400) < 12
    assert abs(first[:, 1].min() - 40) < 12 and abs(first[:, 1].max() - 70) < 12
    assert abs(second[:, 0].min() - 100) < 12 and abs(second[:, 1].max() - 180) < 12
    assert model.detector.calls[-1][2:] != (300, 500)  # it really was resized
    assert prediction.image_size == (300, 500)
    assert all(0.0 <= c <= 1.0 for c in prediction.confidences)
    assert {"detection", "recognition", "total"} <= set(prediction.timings)
    assert prediction.device == "cpu"


def test_options_apply_to_one_call_only():
    model = make_model()
    image = page_with_bars()
    assert len(model.predict(image, max_text_regions=1)) == 1
    assert len(model.predict(image)) == 2
    assert model.config == OcrConfig(page_rotation="off")
    with pytest.raises(ValueError, match="bogus"):
        model.predict(image, bogus=1)


def test_auto_orientation_rereads_only_doubtful_lines_that_look_upside_down():
    image = np.full((200, 400, 3), 255, dtype=np.uint8)
    image[40:56, 50:350] = 120  # light top half, black bottom half: the stand-ins call it upside down
    image[56:70, 50:350] = 0
    model = make_model(min_text_confidence=0.0, det_unclip_ratio=0.1)
    assert model.predict(image, orientation="off").texts == ["b"]
    assert model.predict(image, orientation="auto").texts == ["a"]
    assert model.predict(image, orientation="all").texts == ["a"]



class NeverUpsideDown(torch.nn.Module):
    def forward(self, x):
        return torch.tensor([[1000.0, 0.0]]).repeat(x.shape[0], 1)


def test_auto_orientation_flips_a_line_the_classifier_misses_when_the_flipped_read_is_much_better():
    image = np.full((200, 400, 3), 255, dtype=np.uint8)
    image[40:56, 50:350] = 120  # the recognizer stand-in reads this unsure ('b') upright, sure ('a') flipped
    image[56:70, 50:350] = 0
    config = OcrConfig(min_text_confidence=0.0, det_unclip_ratio=0.1, page_rotation="off")
    model = OcrModel(DarkPixelsAreText(), ReadsA(), CHARS, NeverUpsideDown(), config)
    assert model.predict(image, orientation="auto").texts == ["a"]
    # the classifier disagrees and the gain is below the margin: the upright read stays
    assert model.predict(image, orientation="auto", orientation_reread_margin=0.99).texts == ["b"]
    assert model.predict(image, orientation="all").texts == ["b"]  # "all" trusts the classifier alone


class CountingClassifier(BottomDarkIsUpsideDown):
    def __init__(self):
        super().__init__()
        self.lines = 0

    def forward(self, x):
        self.lines += x.shape[0]
        return super().forward(x)


def test_auto_orientation_asks_the_classifier_only_where_its_answer_decides():
    upside_down = np.full((200, 400, 3), 255, dtype=np.uint8)
    upside_down[40:56, 50:350] = 120  # read 'b' at 0.35 as cut, 'a' at 0.95 turned
    upside_down[56:70, 50:350] = 0
    classifier = CountingClassifier()
    config = OcrConfig(min_text_confidence=0.0, det_unclip_ratio=0.1, page_rotation="off")
    model = OcrModel(DarkPixelsAreText(), CountingReader(), CHARS, classifier, config)
    # the turned read wins by more than the margin: flipped without asking the classifier
    assert model.predict(upside_down).texts == ["a"] and classifier.lines == 0
    # a margin above the gain: the classifier decides (and says upside down)
    assert model.predict(upside_down, orientation_reread_margin=0.99).texts == ["a"] and classifier.lines == 1
    # upright lines made doubtful read worse turned: re-read (one more recognizer call), never classified
    calls = len(model.recognizer.shapes)
    assert model.predict(page_with_bars(), orientation_retry_below=0.99).texts == ["a", "a"]
    assert len(model.recognizer.shapes) == calls + 2 and classifier.lines == 1

@pytest.mark.parametrize(
    "bad,message",
    [
        (np.zeros((10, 10, 3), dtype=np.float32), "uint8"),
        (np.zeros((10, 10, 2), dtype=np.uint8), "channels"),
        (np.zeros((0, 10, 3), dtype=np.uint8), "empty"),
        (np.zeros((2, 10, 10, 3), dtype=np.uint8), "shape"),
        ([[1, 2], [3, 4]], "numpy"),
    ],
)
def test_malformed_input_is_a_clear_value_error(bad, message):
    with pytest.raises(ValueError, match=message):
        make_model().predict(bad)


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 1), (3, 2000, 3), (2000, 3, 3)])
def test_tiny_and_degenerate_images_give_an_empty_result(shape):
    prediction = make_model().predict(np.full(shape, 255, dtype=np.uint8))
    assert len(prediction) == 0 and prediction.image_size == shape[:2]


def test_all_white_image_is_empty():
    assert len(make_model().predict(np.full((200, 300, 3), 255, dtype=np.uint8))) == 0


def test_gray_and_rgba_inputs_are_converted():
    gray = np.full((5, 6), 17, dtype=np.uint8)
    np.testing.assert_array_equal(as_rgb_uint8(gray), np.full((5, 6, 3), 17))
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = [10, 20, 30, 255]  # opaque
    rgba[1, 1] = [10, 20, 30, 0]  # transparent -> white
    rgb = as_rgb_uint8(rgba)
    np.testing.assert_array_equal(rgb[0, 0], [10, 20, 30])
    np.testing.assert_array_equal(rgb[1, 1], [255, 255, 255])
    flipped = np.zeros((4, 4, 3), dtype=np.uint8)[:, ::-1]
    assert as_rgb_uint8(flipped).flags["C_CONTIGUOUS"]


def test_predict_batch_matches_predict():
    model = make_model()
    images = [page_with_bars(), np.full((50, 50, 3), 255, dtype=np.uint8)]
    batch = model.predict_batch(images)
    assert [p.texts for p in batch] == [model.predict(image).texts for image in images]


def test_concurrent_calls_with_different_options_do_not_interfere():
    model = make_model()
    image = page_with_bars()
    results = {}

    def call(regions):
        results[regions] = len(model.predict(image, max_text_regions=regions))

    threads = [threading.Thread(target=call, args=(n,)) for n in (1, 2, 1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {1: 1, 2: 2}


def test_device_and_thread_environment_variables(monkeypatch):
    monkeypatch.setenv("OCR_DEVICE", "cpu")
    assert select_device() == "cpu"
    monkeypatch.setenv("OCR_DEVICE", "not-a-device")
    with pytest.raises(ValueError, match="OCR_DEVICE"):
        select_device()
    if not torch.cuda.is_available():
        monkeypatch.setenv("OCR_DEVICE", "cuda")
        with pytest.raises(ValueError, match="CUDA"):
            select_device()
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("OCR_NUM_THREADS", "1")
        assert configure_cpu_threads() == 1 and torch.get_num_threads() == 1
        monkeypatch.setenv("OCR_NUM_THREADS", "zero")
        with pytest.raises(ValueError, match="OCR_NUM_THREADS"):
            configure_cpu_threads()
        monkeypatch.delenv("OCR_NUM_THREADS")
        assert configure_cpu_threads() == physical_core_count() >= 1
    finally:
        torch.set_num_threads(before)


def test_memory_trim_is_timed_when_on_and_skipped_when_off():
    model = make_model()
    assert "memory_trim" in model.predict(page_with_bars()).timings
    assert "memory_trim" not in model.predict(page_with_bars(), trim_memory_after_call=False).timings


def page_of_bars(bar_height, size=(2000, 1000), count=6):
    image = np.full((*size, 3), 255, dtype=np.uint8)
    pitch = size[0] // (count + 1)
    for row in range(count):
        top = pitch // 2 + row * pitch
        image[top : top + bar_height, 100:900] = 0
    return image


def test_large_text_is_detected_once_at_the_probe_size():
    # 2000x1000 page, 120 px tall lines: the 960 px probe already shows them at ~58 px, far
    # above det_text_height, so the probe's boxes are the result (no second, larger pass).
    model = make_model(det_unclip_ratio=0.1)
    prediction = model.predict(page_of_bars(120))
    assert model.detector.calls == [(1, 3, 960, 480)]
    assert len(prediction) == 6
    assert abs(float(prediction.polygons[0][:, 1].min()) - 142) < 12  # back in original pixels


def test_small_text_gets_a_second_pass_at_the_size_it_needs():
    # 10 px lines are ~5 px in the probe: the second pass runs at 16/5 of the probe's scale,
    # capped by the size policy (long side 1600).
    model = make_model(det_unclip_ratio=0.1)
    model.predict(page_of_bars(10))
    assert model.detector.calls == [(1, 3, 960, 480), (1, 3, 1600, 800)]


def test_medium_text_gets_a_second_pass_between_probe_and_policy():
    model = make_model(det_unclip_ratio=0.1)
    model.predict(page_of_bars(24))  # ~12 px in the probe: 960 -> ~1300 (16/12 of the probe)
    (_, _, probe_h, _), (_, _, final_h, final_w) = model.detector.calls
    assert probe_h == 960 and 960 * 1.2 < final_h < 1600 and final_w == final_h // 2


def test_adaptive_detection_size_can_be_switched_off():
    model = make_model(det_unclip_ratio=0.1, det_text_height=None)
    model.predict(page_of_bars(120))
    assert model.detector.calls == [(1, 3, 1600, 800)]


def test_precision_environment_variable(monkeypatch):
    monkeypatch.setenv("OCR_PRECISION", "float32")
    assert select_precision("cpu") is torch.float32
    monkeypatch.setenv("OCR_PRECISION", "bfloat16")
    assert select_precision("cuda") is torch.bfloat16
    monkeypatch.setenv("OCR_PRECISION", "int4")
    with pytest.raises(ValueError, match="OCR_PRECISION"):
        select_precision("cpu")
    monkeypatch.delenv("OCR_PRECISION")
    assert select_precision("cpu") is (torch.bfloat16 if cpu_has_native_bfloat16() else torch.float32)
    assert select_precision("cuda") is torch.float32


class CountingReader(ReadsA):
    def __init__(self):
        super().__init__()
        self.shapes = []

    def forward(self, x):
        self.shapes.append(tuple(x.shape))
        return super().forward(x)


def counting_model(**config):
    return OcrModel(DarkPixelsAreText(), CountingReader(), CHARS, BottomDarkIsUpsideDown(), OcrConfig(**config))


def test_predict_batch_reads_the_lines_of_all_images_in_shared_batches():
    images = [page_with_bars(), page_with_bars()[:, ::-1], np.full((50, 50, 3), 255, dtype=np.uint8)]
    looped = counting_model(orientation="off", page_rotation="off")
    expected = [looped.predict(image) for image in images]
    batched = counting_model(orientation="off", page_rotation="off")
    results = batched.predict_batch(images)
    assert [r.texts for r in results] == [e.texts for e in expected] == [["a", "a"], ["a", "a"], []]
    for result, reference in zip(results, expected):
        for polygon, polygon_ref in zip(result.polygons, reference.polygons):
            np.testing.assert_array_equal(polygon, polygon_ref)
        assert result.timings["total"] > 0 and result.image_size == reference.image_size
    # 4 lines: one recognition call instead of one per image that has lines
    assert len(batched.recognizer.shapes) == 1 < len(looped.recognizer.shapes) == 2
    assert batched.recognizer.shapes[0][0] == 4


def test_bucketed_shapes_give_the_same_readings():
    exact = counting_model(orientation="off", page_rotation="off")
    bucketed = counting_model(orientation="off", page_rotation="off")
    bucketed.width_buckets, bucketed.batch_buckets = (256, 512, 1024), (1, 4, 8)
    image = page_with_bars()
    assert bucketed.predict(image).texts == exact.predict(image).texts == ["a", "a"]
    assert all(n in (1, 4, 8) and width in (256, 512, 1024) for n, _, _, width in bucketed.recognizer.shapes)
    assert any(shape not in bucketed.recognizer.shapes for shape in exact.recognizer.shapes)


def test_warm_up_runs_every_bucketed_shape_once():
    model = counting_model()
    assert model.warm_up() == 0  # the CPU uses exact shapes: nothing to warm up
    model.width_buckets, model.batch_buckets = (192, 256), (1, 2)
    calls = model.warm_up()
    assert sorted(model.recognizer.shapes) == [(1, 3, 48, 192), (1, 3, 48, 256), (2, 3, 48, 192), (2, 3, 48, 256)]
    assert calls == 4 + 2 + 2 * 5  # recognition, orientation per batch size, detection sizes both ways


def test_torch_line_crops_read_like_the_opencv_ones():
    model = counting_model()
    image = page_of_bars(24)
    torch_read = model.predict(image, line_crops="torch")
    opencv_read = model.predict(image, line_crops="opencv")
    assert torch_read.texts == opencv_read.texts and len(torch_read) == 6
    for polygon, reference in zip(torch_read.polygons, opencv_read.polygons):
        assert np.abs(polygon - reference).max() < 3  # detection input resized by torch vs OpenCV


def test_auto_page_rotation_reuses_the_main_reads_of_an_upright_page():
    model = counting_model(orientation="off")  # page_rotation "auto" (the default)
    prediction = model.predict(page_with_bars())
    assert prediction.texts == ["a", "a"] and prediction.rotation == 0
    # one read of every line, then only the 180° reads of the sampled lines (not their as-cut reads again)
    assert [shape[0] for shape in model.recognizer.shapes] == [2, 2]
    assert "page_rotation" in prediction.timings


def test_models_are_cached_per_checkpoint_and_the_least_recently_used_is_dropped(monkeypatch, tmp_path):
    from collections import OrderedDict

    from ocr_model.pipeline import predictor

    built = []

    def fake_build(checkpoint=None, **_):
        built.append(checkpoint)
        return object()

    monkeypatch.setattr(predictor, "_MODELS", OrderedDict())
    monkeypatch.setattr(predictor, "build_model", fake_build)
    monkeypatch.delenv("OCR_MAX_MODELS", raising=False)
    a, b, c = (str(tmp_path / f"{name}.safetensors") for name in "abc")
    first_a = predictor.get_model(a)
    predictor.get_model(b)
    assert predictor.get_model(a) is first_a  # cached, and now the most recently used
    predictor.get_model(c)  # third checkpoint with the default bound of 2: b goes
    assert predictor.loaded_checkpoints() == [a, c]
    assert predictor.get_model(b) is not None and built == [a, b, c, b]
    assert predictor.loaded_checkpoints() == [c, b]

    monkeypatch.setenv("OCR_MAX_MODELS", "1")
    predictor.get_model("ppocrv6-tiny")
    assert predictor.loaded_checkpoints() == ["ppocrv6-tiny"] and built[-1] == "ppocrv6-tiny"
    monkeypatch.setenv("OCR_MAX_MODELS", "0")
    with pytest.raises(ValueError, match="OCR_MAX_MODELS"):
        predictor.get_model("ppocrv6-small")


def test_default_checkpoint_comes_from_the_environment(monkeypatch):
    from ocr_model.pipeline.predictor import checkpoint_name

    monkeypatch.delenv("OCR_CHECKPOINT", raising=False)
    assert checkpoint_name(None) == "ppocrv6-small"
    monkeypatch.setenv("OCR_CHECKPOINT", "ppocrv6-tiny")
    assert checkpoint_name(None) == "ppocrv6-tiny"
    assert checkpoint_name("relative/mine.safetensors").endswith("/relative/mine.safetensors")


def test_results_name_the_checkpoint():
    model = OcrModel(DarkPixelsAreText(), ReadsA(), CHARS, BottomDarkIsUpsideDown(), OcrConfig(page_rotation="off"), checkpoint="mine")
    prediction = model.predict(page_with_bars())
    assert prediction.checkpoint == "mine" and prediction.to_dict()["checkpoint"] == "mine"


def test_a_device_and_threads_given_as_arguments_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("OCR_DEVICE", "not-a-device")
    assert select_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="device='nor-this'"):
        select_device("nor-this")
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("OCR_NUM_THREADS", "zero")
        assert configure_cpu_threads(1) == 1 and torch.get_num_threads() == 1
        with pytest.raises(ValueError, match="at least 1"):
            configure_cpu_threads(0)
    finally:
        torch.set_num_threads(before)


def test_get_model_passes_the_device_and_threads_to_the_factory_and_caches_per_device(monkeypatch):
    from collections import OrderedDict

    from ocr_model.pipeline import predictor

    built = []

    def fake_build(checkpoint=None, device=None, threads=None, **_):
        built.append((checkpoint, device, threads))
        return object()

    monkeypatch.setattr(predictor, "_MODELS", OrderedDict())
    monkeypatch.setattr(predictor, "build_model", fake_build)
    monkeypatch.setenv("OCR_DEVICE", "not-a-device")  # an argument never falls back to it
    monkeypatch.delenv("OCR_MAX_MODELS", raising=False)
    first = predictor.get_model("ppocrv6-tiny", device="cpu", threads=3)
    assert predictor.get_model("ppocrv6-tiny", device="cpu") is first
    assert built == [("ppocrv6-tiny", "cpu", 3)]
    assert predictor.loaded_checkpoints() == ["ppocrv6-tiny"]
    assert os.environ["OCR_DEVICE"] == "not-a-device" and "OCR_NUM_THREADS" not in os.environ
