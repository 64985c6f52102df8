"""The SROIE benchmark's metrics (the benchmark itself needs ../shared and is not run here)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_sroie.py"
spec = importlib.util.spec_from_file_location("bench_sroie", BENCH)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def box(x, y, w, h):
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=float)


def test_ground_truth_text_keeps_commas(tmp_path):
    csv = tmp_path / "x.csv"
    csv.write_text("1,2,3,2,3,4,1,4,TOTAL, RM 1,00\nbroken line\n")
    ((polygon, text),) = bench.load_ground_truth(csv)
    assert text == "TOTAL, RM 1,00" and polygon.shape == (4, 2)


def test_word_tokens_are_upper_cased_multisets():
    assert bench.tokens(["Tel: 07", "tel: x"]) == {"TEL:": 2, "07": 1, "X": 1}


def test_line_matching_is_one_to_one_at_iou_half():
    truth = [box(0, 0, 100, 20), box(0, 40, 100, 20)]
    predicted = [box(2, 1, 100, 20), box(0, 0, 100, 21), box(0, 40, 30, 20)]
    assert bench.matched_lines(truth, predicted) == 1  # two overlap line 1, line 2's is too small
    assert bench.polygon_iou(box(0, 0, 10, 10), box(5, 0, 10, 10)) == pytest.approx(1 / 3)


def test_score_sums_counts_over_images(tmp_path):
    (tmp_path / "box").mkdir()
    (tmp_path / "box" / "a.csv").write_text("0,0,100,0,100,20,0,20,TOTAL 12.50\n")
    report = {
        "images": {"a": {"seconds": 0.5, "texts": ["total 12.50 extra"], "polygons": [box(0, 0, 100, 20).tolist()]}},
        "peak_rss_mib": 1.0,
        "rss_after_load_mib": 1.0,
        "load_seconds": 0.0,
    }
    metrics = bench.score(report, tmp_path, ["a"])
    assert metrics["word_precision"] == pytest.approx(2 / 3) and metrics["word_recall"] == 1.0
    assert metrics["line_recall"] == 1.0 and metrics["median_seconds"] == 0.5


def test_images_picks_a_subset_by_name_and_refuses_unknown_names(tmp_path):
    for folder in ("img", "box"):
        (tmp_path / folder).mkdir()
    for name in ("003", "065", "096"):
        (tmp_path / "img" / f"{name}.jpg").write_bytes(b"")
        (tmp_path / "box" / f"{name}.csv").write_text("")
    assert bench.image_names(tmp_path, None) == ["003", "065", "096"]
    assert bench.image_names(tmp_path, None, "096, 003") == ["003", "096"]
    with pytest.raises(SystemExit, match="for 999"):
        bench.image_names(tmp_path, None, "003,999")
