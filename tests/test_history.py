import dataclasses

import numpy as np
import pytest

from demo.config import AppConfig
from demo.handlers import make_result
from demo.history import OcrResult, get, push
from demo.render import decode_jpeg


def result_for(engine, name: str, size: tuple[int, int] = (60, 80), config: AppConfig = AppConfig()) -> OcrResult:
    image = np.full(size + (3,), 200, dtype=np.uint8)
    return make_result(image, engine.predict(image), name=name, note=None, options={}, config=config)


def test_push_returns_a_new_tuple_newest_first_and_leaves_the_old_one_alone(fake_engine):
    first, second = result_for(fake_engine, "a"), result_for(fake_engine, "b")
    one = push((), first, capacity=3)
    two = push(one, second, capacity=3)
    assert one == (first,)
    assert two == (second, first)
    assert isinstance(two, tuple) and two is not one


def test_history_is_bounded_and_drops_the_oldest(fake_engine):
    history = ()
    for index in range(15):
        history = push(history, result_for(fake_engine, f"image{index}"), capacity=10)
        assert len(history) == min(index + 1, 10)
    assert [entry.name for entry in history] == [f"image{index}" for index in range(14, 4, -1)]


def test_push_and_get_reject_bad_arguments(fake_engine):
    entry = result_for(fake_engine, "a")
    with pytest.raises(ValueError, match="capacity"):
        push((), entry, capacity=0)
    with pytest.raises(ValueError, match="OcrResult"):
        push((), "not a result", capacity=3)
    with pytest.raises(ValueError, match="no entry 1"):
        get((entry,), 1)
    assert get((entry,), 0) is entry


def _arrays_and_bytes(value, found):
    if isinstance(value, np.ndarray):
        found.append(value)
    elif isinstance(value, (bytes, bytearray)):
        found.append(value)
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            _arrays_and_bytes(getattr(value, field.name), found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _arrays_and_bytes(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _arrays_and_bytes(item, found)
    return found


def test_a_stored_result_holds_no_full_size_pixels(fake_engine):
    config = AppConfig(max_display_size=1024, thumbnail_size=128)
    entry = result_for(fake_engine, "big", size=(3000, 4000), config=config)
    preview, thumbnail = decode_jpeg(entry.preview_jpeg), decode_jpeg(entry.thumbnail_jpeg)
    assert preview.shape == (768, 1024, 3)
    assert max(thumbnail.shape[:2]) == 128
    full_size_bytes = 3000 * 4000 * 3
    for item in _arrays_and_bytes(entry, []):
        size = item.nbytes if isinstance(item, np.ndarray) else len(item)
        assert size < full_size_bytes / 100, f"{type(item).__name__} of {size} bytes kept in history"
    # predictions stay in the original image's coordinates
    assert entry.predictions.image_size == (3000, 4000)
    assert entry.transform.original_size == (3000, 4000) and entry.transform.display_size == (768, 1024)
