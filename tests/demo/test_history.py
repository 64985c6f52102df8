import dataclasses

import numpy as np
import pytest

from demo.config import AppConfig
from demo.handlers import make_result
from demo import handlers
from demo.history import Document, OcrResult, document_budget, entry_bytes, entry_caption, entry_pages, get, history_bytes, push
from ocr_model.inputs.image_decode import decode_image
from pdf_samples import pdf_of_images, text_page
from conftest import ASSETS_DIR
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


def _noisy_photo(seed: int, side: int = 2048) -> np.ndarray:
    generator = np.random.default_rng(seed)
    return generator.integers(0, 256, size=(side, side, 3), dtype=np.uint8)


@pytest.mark.slow  # encodes ten noisy 2048 px photos, several times each
def test_a_session_of_noisy_photos_stays_within_its_byte_budget(fake_engine):
    # Ten 2048x2048 noisy photos: their display JPEGs were ~3.3 MB each (33 MB per session) before
    # previews were fitted to the budget.
    config = AppConfig(max_results_in_memory=10, max_history_mb=5)
    history = ()
    for seed in range(10):
        image = _noisy_photo(seed)
        entry = make_result(image, fake_engine.predict(image), name=f"p{seed}", note=None, options={}, config=config)
        history = push(history, entry, config.max_results_in_memory, config.max_history_bytes)
        assert history_bytes(history) <= config.max_history_bytes
    assert len(history) >= 8  # fitted previews, not a history emptied to stay under the bound
    newest = history[0]
    preview = decode_jpeg(newest.preview_jpeg)
    assert preview.shape[:2] == newest.transform.display_size  # polygons still map onto the stored preview
    assert entry_bytes(newest) <= config.max_history_bytes // config.max_results_in_memory + 2_000


def test_plain_documents_keep_full_display_size_and_quality(fake_engine):
    image = np.full((3000, 2000, 3), 245, dtype=np.uint8)
    image[::40, :, :] = 20  # ruled lines: a typical page compresses far below its share
    config = AppConfig()
    entry = make_result(image, fake_engine.predict(image), name="page", note=None, options={}, config=config)
    assert max(entry.transform.display_size) == config.max_display_size


def test_push_drops_the_oldest_entries_beyond_the_byte_budget(fake_engine):
    entries = [result_for(fake_engine, f"e{index}") for index in range(5)]
    size = entry_bytes(entries[0])
    history = ()
    for entry in entries:
        history = push(history, entry, capacity=10, max_bytes=3 * size)
    assert [entry.name for entry in history] == ["e4", "e3", "e2"]


def _pdf(tmp_path, pages: int, resolution: float = 100.0):
    """Pages of 4.25 x 5.5 in at the default resolution: read at 200 dpi, 850 x 1100 px."""
    path = tmp_path / "report.pdf"
    images = [text_page([f"Page {n} of the report", "Revenue grew 12 % on the year"], size=(425, 550)) for n in range(1, pages + 1)]
    path.write_bytes(pdf_of_images(images, resolution=resolution))
    return path


@pytest.mark.slow  # encodes noisy photos and renders 20 pages at 200 dpi
def test_a_twenty_page_pdf_is_one_entry_and_leaves_the_sessions_other_results_in_place(fake_engine, tmp_path):
    """Issue 18: a 20-page PDF pushed each page as an entry, evicting every earlier result."""
    config = AppConfig(max_results_in_memory=10, max_history_mb=5)
    history = ()
    for seed in range(6):  # six noisy photos, each filling most of its share of the budget
        image = _noisy_photo(seed, side=1024)
        history = push(history, make_result(image, fake_engine.predict(image), name=f"p{seed}", note=None, options={}, config=config),
                       config.max_results_in_memory, config.max_history_bytes)
    earlier = history
    assert history_bytes(earlier) > 2 * 2**20

    outcome = handlers.single_request(fake_engine, decode_image, str(_pdf(tmp_path, 20)), {}, history, config)
    document = outcome.history[0]
    assert isinstance(document, Document) and document.name == "report.pdf" and document.page_count == 20
    assert entry_pages(document) == outcome.results and len(document.pages) == 20
    assert outcome.history[1:] == earlier  # nothing evicted
    assert history_bytes(outcome.history) <= config.max_history_bytes
    assert entry_bytes(document) <= config.max_history_bytes // 4  # a document holds at most a quarter
    for page in document.pages:  # every page is still a readable preview its polygons map onto
        preview = decode_jpeg(page.preview_jpeg)
        assert preview.shape[:2] == page.transform.display_size and max(preview.shape[:2]) >= 700
    assert entry_caption(document) == "report.pdf · 20 pages"
    assert get(outcome.history, 0) is document


def test_a_pdf_in_a_batch_is_one_entry_too(fake_engine, tmp_path):
    config = AppConfig(max_results_in_memory=10, max_history_mb=5)
    outcome = handlers.batch_request(
        fake_engine, decode_image, [str(_pdf(tmp_path, 3, resolution=400.0)), str(ASSETS_DIR / "receipt.jpg")], {}, (), config
    )
    assert [type(entry).__name__ for entry in outcome.history] == ["OcrResult", "Document"]
    assert len(outcome.history[1].pages) == 3 and outcome.history[0].name == "receipt.jpg"


def test_document_budget_shares_a_quarter_of_the_history_and_never_more_than_one_image_per_page():
    assert document_budget(5 * 2**20, 10, 20) == 5 * 2**20 // 4 // 20
    assert document_budget(5 * 2**20, 10, 2) == 5 * 2**20 // 10  # a short document: full quality pages
    with pytest.raises(ValueError):
        document_budget(5 * 2**20, 10, 0)


def test_captions_count_lines_and_pages_in_words(fake_engine):
    """The gallery said "1 lines"."""
    one = result_for(fake_engine, "a.png")
    one = dataclasses.replace(one, predictions=dataclasses.replace(
        one.predictions, polygons=one.predictions.polygons[:1], texts=one.predictions.texts[:1], confidences=one.predictions.confidences[:1]))
    assert entry_caption(one) == "a.png · 1 line"
    assert entry_caption(result_for(fake_engine, "b.png")) == "b.png · 2 lines"
    assert entry_caption(Document("c.pdf", (one,), page_count=1)) == "c.pdf · 1 page"
    assert entry_caption(Document("d.pdf", (one, one), page_count=30)) == "d.pdf · 2 of 30 pages"
    with pytest.raises(ValueError):
        Document("e.pdf", ())


def test_the_history_type_resolves_where_only_it_is_imported():
    """Gradio finds a handler's gr.SelectData through its resolved type hints: with History written as
    tuple["OcrResult | Document", ...], resolving them in demo/ui.py failed (Document is not imported
    there), Gradio passed no event, and a click on a history thumbnail raised."""
    import typing

    from demo.history import History

    namespace: dict = {"History": History}
    exec('def handler(history: "History", index: int) -> None: ...', namespace)
    assert typing.get_type_hints(namespace["handler"])["history"] == History
