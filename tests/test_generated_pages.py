"""bench/generated_pages.py: pages in SROIE layout whose ground truth bench_sroie.py reads back."""

import importlib.util
from pathlib import Path

import numpy as np
from PIL import Image

BENCH = Path(__file__).resolve().parent.parent / "bench"


def load(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pages_and_their_lines_are_written_in_sroie_layout(tmp_path):
    pages, bench = load("generated_pages"), load("bench_sroie")
    names = pages.write_pages(tmp_path, count=3, seed=1)
    assert names == ["page000", "page001", "page002"]
    for name in names:
        image = np.asarray(Image.open(tmp_path / "img" / f"{name}.jpg").convert("L"))
        truth = bench.load_ground_truth(tmp_path / "box" / f"{name}.csv")
        assert len(truth) >= 5
        for polygon, text in truth:
            assert text.strip() and text == text.strip()
            left, top = polygon.min(axis=0).astype(int)
            right, bottom = polygon.max(axis=0).astype(int)
            assert 0 <= left < right <= image.shape[1] and 0 <= top < bottom <= image.shape[0]
            # the quad holds the drawn ink: darker pixels inside than the paper's median
            assert image[top:bottom, left:right].min() < np.median(image) - 60


def test_same_seed_same_pages(tmp_path):
    pages = load("generated_pages")
    pages.write_pages(tmp_path / "a", count=2, seed=7)
    pages.write_pages(tmp_path / "b", count=2, seed=7)
    for name in ("page000", "page001"):
        assert (tmp_path / "a" / "box" / f"{name}.csv").read_text() == (tmp_path / "b" / "box" / f"{name}.csv").read_text()
