import dataclasses
import json

import numpy as np
import pytest

from conftest import ASSETS_DIR
from demo import handlers
from demo.config import AppConfig
from ocr_model.inputs.image_decode import decode_image
from demo.engine import model_options
from demo.render import decode_jpeg

LARGE = ASSETS_DIR / "large_scan.jpg"  # 3565 x 4600: downscaled for display
CONFIG = AppConfig(max_display_size=1024, max_results_in_memory=3, max_batch_files=4)


def test_single_request_keeps_original_coordinates_in_json_and_scales_the_drawn_ones(fake_engine):
    outcome = handlers.single_request(fake_engine, decode_image, LARGE, {}, (), CONFIG)
    predictions = outcome.result.predictions
    assert predictions.image_size == (4600, 3565)
    preview = decode_jpeg(outcome.result.preview_jpeg)
    assert preview.shape[:2] == outcome.result.transform.display_size == (1024, 794)
    lines = outcome.view.record["lines"]
    assert [line["text"] for line in lines] == ["HELLO", "WORLD"]
    for line, polygon in zip(lines, predictions.polygons):
        np.testing.assert_allclose(line["polygon"], polygon, atol=0.005)
    scale = np.array([794 / 3565, 1024 / 4600])
    for drawn, polygon in zip(outcome.view.display_polygons, predictions.polygons):
        np.testing.assert_array_equal(drawn, polygon.astype(np.float64) * scale)
    assert outcome.view.rows == [[1, "HELLO", 0.95], [2, "WORLD", 0.6]]
    assert outcome.view.text == "HELLO\n\nWORLD"  # Full text is the layout text: far-apart rows are two blocks
    assert "3565×4600 px (shown at 794×1024)" in outcome.view.summary
    annotated = decode_jpeg(outcome.view.annotated_jpeg)
    assert annotated.shape == preview.shape


def test_single_and_batch_paths_draw_identical_polygons_that_map_back_exactly(fake_engine):
    single = handlers.single_request(fake_engine, decode_image, LARGE, {}, (), CONFIG)
    batch = handlers.batch_request(fake_engine, decode_image, [ASSETS_DIR / "receipt.jpg", LARGE], {}, (), CONFIG)
    assert batch.last is not None and batch.view is not None and batch.last.name == "large_scan.jpg"
    assert len(single.view.display_polygons) == len(batch.view.display_polygons) == 2
    for from_single, from_batch, original in zip(
        single.view.display_polygons, batch.view.display_polygons, single.result.predictions.polygons
    ):
        np.testing.assert_array_equal(from_single, from_batch)
        back_single = single.result.transform.to_original(from_single)
        back_batch = batch.last.transform.to_original(from_batch)
        assert np.abs(back_single - back_batch).max() == 0.0
        assert np.abs(back_single - original).max() < 0.0005  # 0.000 px at 3 decimals
    assert batch.records[1] == single.view.record
    assert single.view.annotated_jpeg == batch.view.annotated_jpeg


def test_confidence_filter_and_highlight_re_render_without_running_the_model(fake_engine):
    outcome = handlers.single_request(fake_engine, decode_image, ASSETS_DIR / "receipt.jpg", {}, (), CONFIG)
    calls = len(fake_engine.calls)
    filtered = handlers.render_view(outcome.result, min_confidence=0.9)
    assert len(fake_engine.calls) == calls
    assert filtered.rows == [[1, "HELLO", 0.95]]
    assert [line["text"] for line in filtered.record["lines"]] == ["HELLO"]
    assert filtered.record["lines_total"] == 2 and filtered.record["min_confidence"] == 0.9
    assert "1 of 2 lines" in filtered.summary
    highlighted = handlers.render_view(outcome.result, highlight_line=2)
    plain = handlers.render_view(outcome.result)
    assert highlighted.annotated_jpeg != plain.annotated_jpeg
    assert handlers.render_view(outcome.result, min_confidence=0.9, highlight_line=2).annotated_jpeg == filtered.annotated_jpeg


def test_history_is_a_new_bounded_tuple_each_time(fake_engine):
    history = ()
    seen = []
    for _ in range(5):
        outcome = handlers.single_request(fake_engine, decode_image, ASSETS_DIR / "receipt.jpg", {}, history, CONFIG)
        seen.append(history)
        history = outcome.history
    assert len(history) == CONFIG.max_results_in_memory
    assert [len(h) for h in seen] == [0, 1, 2, 3, 3]


def test_model_options_reach_the_engine(fake_engine):
    handlers.single_request(fake_engine, decode_image, ASSETS_DIR / "receipt.jpg", model_options("off", 960), (), CONFIG)
    assert fake_engine.calls[-1]["options"] == {"orientation": "off", "det_max_side": 960}
    with pytest.raises(ValueError, match="orientation"):
        model_options("sideways", 960)


def test_missing_input_and_oversized_batch_are_user_errors(fake_engine):
    with pytest.raises(handlers.InputError, match="upload"):
        handlers.single_request(fake_engine, decode_image, None, {}, (), CONFIG)
    with pytest.raises(handlers.InputError, match="at most 4"):
        handlers.batch_request(fake_engine, decode_image, [LARGE] * 5, {}, (), CONFIG)
    with pytest.raises(handlers.InputError, match="No image"):
        handlers.api_result(fake_engine, decode_image, None, CONFIG)
    assert fake_engine.calls == []


def test_a_bad_file_in_a_batch_is_reported_and_the_rest_still_run(fake_engine, tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    started = []
    outcome = handlers.batch_request(
        fake_engine, decode_image, [empty, ASSETS_DIR / "receipt.jpg"], {}, (), CONFIG,
        on_file_start=lambda done, total, name: started.append((done, total, name)),
    )
    assert started == [(0, 2, "empty.png"), (1, 2, "receipt.jpg")]
    assert outcome.summary_rows[0][0] == "empty.png" and outcome.summary_rows[0][3].startswith("skipped: ")
    assert outcome.summary_rows[1][3] == "ok" and outcome.succeeded == 1
    assert "error" in outcome.records[0] and outcome.records[1]["file"] == "receipt.jpg"
    assert len(outcome.history) == 1
    json.loads(handlers.record_json(outcome.records))


def test_engine_input_errors_become_user_errors():
    class Refusing:
        device = "cpu"

        def predict(self, image, **options):
            raise ValueError("image is too small to read")

    with pytest.raises(handlers.InputError, match="too small"):
        handlers.single_request(Refusing(), decode_image, ASSETS_DIR / "receipt.jpg", {}, (), CONFIG)


def _result_with_confidences(fake_engine, confidences):
    outcome = handlers.single_request(fake_engine, decode_image, ASSETS_DIR / "receipt.jpg", {}, (), CONFIG)
    predictions = outcome.result.predictions
    return dataclasses.replace(
        outcome.result, predictions=dataclasses.replace(predictions, confidences=list(confidences))
    )


def test_a_line_shown_as_1_000_is_kept_by_the_filter_at_1_00(fake_engine):
    """Issue 10 (11): 0.9996 was shown as "1.000" but hidden by "Hide lines below confidence 1.00"."""
    result = _result_with_confidences(fake_engine, [0.9996, 0.99949])
    for threshold in (0.0, 0.99, 0.999, 1.0):
        view = handlers.render_view(result, min_confidence=threshold)
        shown = {row[0] for row in view.rows}
        for number, confidence in zip((1, 2), (0.9996, 0.99949)):
            displayed = f"{handlers.shown_confidence(confidence):.3f}"
            assert (number in shown) == (float(displayed) >= threshold), (threshold, displayed)
        for line in view.explorer["lines"]:
            assert float(line["confidence"]) >= threshold
    assert handlers.shown_confidence(0.9996) <= 0.9996  # never overstated


def test_batch_records_follow_a_later_filter_change(fake_engine):
    """Issue 10 (1): the batch JSON must survive the confidence filter (it was replaced by one file's JSON)."""
    outcome = handlers.batch_request(fake_engine, decode_image, [ASSETS_DIR / "receipt.jpg", LARGE], {}, (), CONFIG)
    assert [record["file"] for record in outcome.all_records] == ["receipt.jpg", "large_scan.jpg"]
    filtered = [handlers.filter_record(record, 0.9) for record in outcome.all_records]
    assert [[line["text"] for line in record["lines"]] for record in filtered] == [["HELLO"], ["HELLO"]]
    assert all(record["min_confidence"] == 0.9 and record["lines_total"] == 2 for record in filtered)
    assert handlers.filter_record(outcome.all_records[0], 0.0) == outcome.records[0]


def test_timing_line_has_no_internal_stage_names(fake_engine):
    """Issue 10 (11): "memory trim 0.02 s" is jargon."""
    result = _result_with_confidences(fake_engine, [0.9, 0.8])
    timings = {"detection": 0.5, "recognition": 0.7, "memory_trim": 0.02, "total": 1.3}
    result = dataclasses.replace(result, predictions=dataclasses.replace(result.predictions, timings=timings))
    summary = handlers.render_view(result).summary
    assert "finding text 0.50 s" in summary and "reading 0.70 s" in summary
    assert "memory" not in summary and "trim" not in summary and "total" not in summary


def test_explorer_data_holds_the_drawn_display_polygons_and_an_alt_text(fake_engine):
    outcome = handlers.single_request(fake_engine, decode_image, LARGE, {}, (), CONFIG)
    data = outcome.view.explorer
    assert (data["height"], data["width"]) == outcome.result.transform.display_size
    assert [line["n"] for line in data["lines"]] == [1, 2]
    for line, polygon in zip(data["lines"], outcome.view.display_polygons):
        np.testing.assert_allclose(line["points"], polygon, atol=0.006)
    assert "large_scan.jpg" in data["alt"] and "2 text lines" in data["alt"]


def _receipt_rows(fake_engine, rows, confidences):
    """The fake receipt's result with `rows` of (item, price) lines, 40 px apart, item at x=40, price at x=400."""
    result = handlers.single_request(fake_engine, decode_image, ASSETS_DIR / "receipt.jpg", {}, (), CONFIG).result

    def box(x, y, text):
        return np.array([[x, y], [x + 14 * len(text), y], [x + 14 * len(text), y + 24], [x, y + 24]], dtype=np.float32)

    polygons, texts = [], []
    for row, (item, price) in enumerate(rows):
        polygons += [box(40, 100 + 40 * row, item), box(400, 100 + 40 * row, price)]
        texts += [item, price]
    predictions = dataclasses.replace(result.predictions, polygons=polygons, texts=texts, confidences=list(confidences))
    return dataclasses.replace(result, predictions=predictions)


def test_explorer_lines_carry_their_own_span_in_the_layout_of_the_shown_lines(fake_engine):
    """The Layout panel marked the first "1.00" of the receipt whichever "1.00" was selected (it searched the text)."""
    rows = [("Tea", "1.00"), ("Milk", "1.00"), ("Cake", "1.00")]
    result = _receipt_rows(fake_engine, rows, [0.9, 0.5, 0.9, 0.9, 0.9, 0.9])  # the first "1.00" is unsure
    for threshold, numbers in ((0.0, [1, 2, 3, 4, 5, 6]), (0.8, [1, 3, 4, 5, 6])):
        view = handlers.render_view(result, min_confidence=threshold)
        data = view.explorer
        layout = data["layout"]
        assert layout == view.text  # the layout of the shown lines, as in the Full text tab
        assert [line["n"] for line in data["lines"]] == numbers
        for line in data["lines"]:
            start, end = line["span"]
            assert layout[start:end] == line["text"], (threshold, line)
        prices = [line["span"][0] for line in data["lines"] if line["text"] == "1.00"]
        rows_of_text = layout.split("\n")
        # each "1.00" sits on its own row of the layout text, in order, not at the first one found
        assert prices == [layout.index(row) + row.index("1.00") for row in rows_of_text if "1.00" in row]
        assert len(set(prices)) == len(prices) and prices[-1] > layout.index("1.00")
    filtered = handlers.render_view(result, min_confidence=0.8).explorer
    assert filtered["layout"].split("\n")[0].rstrip() == "Tea"  # the hidden price is not laid out either


def test_explorer_spans_count_utf16_units_as_javascript_does(fake_engine):
    """An emoji is one Python character but two JavaScript ones: spans after it would be off by one."""
    result = _receipt_rows(fake_engine, [("\U0001F375 Tea", "1.00"), ("Milk", "1.00")], [0.9] * 4)
    data = handlers.render_view(result).explorer
    units = data["layout"].encode("utf-16-le")
    for line in data["lines"]:
        start, end = line["span"]
        assert units[2 * start : 2 * end].decode("utf-16-le") == line["text"], line
    assert handlers.js_spans("ab", [(0, 1), None]) == [[0, 1], None]
    assert handlers.js_spans("\U0001F375b", [(1, 2)]) == [[2, 3]]


def test_file_labels_cannot_break_out_of_their_markdown_code_span():
    assert handlers.file_label("/tmp/x/a`b ![x](https:example.com)`.png") == "ab ![x](https:example.com).png"
    assert handlers.file_label("/tmp/x/line\nbreak\x1b.png") == "linebreak.png"
    assert len(handlers.file_label("/tmp/x/" + "n" * 500 + ".png")) == 120


def test_a_batch_reads_at_most_its_page_budget_counting_pdf_pages(fake_engine, tmp_path):
    import pdf_samples

    documents = []
    for index in range(3):
        path = tmp_path / f"doc{index}.pdf"
        path.write_bytes(pdf_samples.blank_pdf([(300, 400)] * 3))
        documents.append(path)
    config = dataclasses.replace(CONFIG, max_batch_pages=5)
    outcome = handlers.batch_request(fake_engine, decode_image, documents, {}, (), config)
    assert len(fake_engine.calls) == 5  # 3 pages of doc0, 2 of doc1, none of doc2
    assert [row[0] for row in outcome.summary_rows[:5]] == [
        "doc0.pdf · page 1 of 3", "doc0.pdf · page 2 of 3", "doc0.pdf · page 3 of 3",
        "doc1.pdf · page 1 of 3", "doc1.pdf · page 2 of 3",
    ]
    assert outcome.summary_rows[-1][0] == "doc2.pdf"
    assert "reached its limit of 5 pages" in outcome.summary_rows[-1][3]


def _two_checkpoints(engine):
    from demo.engine import CheckpointChoice, CheckpointChoices, Models

    choices = CheckpointChoices((CheckpointChoice("ppocrv6-small", ""), CheckpointChoice("ppocrv6-tiny", "")), "ppocrv6-small")
    return Models(choices, lambda _choice: engine)


def test_results_name_the_checkpoint_chosen_in_json_and_summary(fake_engine):
    models = _two_checkpoints(fake_engine)
    record = handlers.api_result(handlers.chosen_engine(models, "ppocrv6-tiny"), decode_image, ASSETS_DIR / "receipt.jpg", CONFIG)
    assert record["checkpoint"] == "ppocrv6-tiny"
    outcome = handlers.single_request(handlers.chosen_engine(models, None), decode_image, LARGE, {}, (), CONFIG)
    assert outcome.view.record["checkpoint"] == "ppocrv6-small"
    assert "checkpoint `ppocrv6-small`" in outcome.view.summary
    plain = handlers.single_request(fake_engine, decode_image, LARGE, {}, (), CONFIG)
    assert "checkpoint" not in plain.view.summary  # an engine without a checkpoint name says nothing


@pytest.mark.parametrize("requested", ["ppocrv6-base", "../x.safetensors", "/etc/passwd"])
def test_a_checkpoint_not_in_the_list_is_a_user_error_before_any_model_is_used(fake_engine, requested):
    with pytest.raises(handlers.InputError, match=r"unknown checkpoint .*; choose one of ppocrv6-small, ppocrv6-tiny$"):
        handlers.chosen_engine(_two_checkpoints(fake_engine), requested)
    assert fake_engine.calls == []


def test_a_listed_checkpoint_that_fails_to_load_is_refused_without_its_path():
    from demo.engine import CheckpointChoice, CheckpointChoices, Models

    def broken(choice):
        raise ValueError(f"/srv/secret/{choice.name}.safetensors: missing tensor(s) detector.x")

    models = Models(CheckpointChoices((CheckpointChoice("mine", ""),), "mine"), broken)
    with pytest.raises(handlers.InputError) as refused:
        handlers.chosen_engine(models, "mine")
    assert "could not be loaded" in str(refused.value) and "/srv" not in str(refused.value)


def test_compare_reads_the_page_again_with_the_second_checkpoint_after_the_first(fake_engine):
    from conftest import FakeEngine
    from demo.engine import CheckpointChoice, CheckpointChoices, Models

    class OtherReader(FakeEngine):
        def predict(self, image, **options):
            predictions = super().predict(image, **options)
            return dataclasses.replace(predictions, texts=["HELLO", "W0RLD"])

    other, order = OtherReader(), []
    engines = {"ppocrv6-small": fake_engine, "ppocrv6-tiny": other}

    def load(choice):
        order.append(choice.name)
        return engines[choice.name]

    models = Models(CheckpointChoices(tuple(CheckpointChoice(name, "") for name in engines), "ppocrv6-small"), load)
    options = model_options("off", 960)
    source = ASSETS_DIR / "receipt.jpg"
    shown = handlers.single_request(handlers.chosen_engine(models, "ppocrv6-small"), decode_image, source, options, (), CONFIG)
    comparison = handlers.compare_request(handlers.chosen_engine(models, "ppocrv6-tiny"), decode_image, source, options, CONFIG, shown.result)
    assert order == ["ppocrv6-small", "ppocrv6-tiny"]
    assert other.calls[0]["options"] == fake_engine.calls[0]["options"] == options
    assert (comparison.name_a, comparison.name_b) == ("ppocrv6-small", "ppocrv6-tiny")
    assert comparison.rows() == [["1", "HELLO", "HELLO", ""], ["2", "WORLD", "W0RLD", "≠"]]
    assert comparison.differing == 1
