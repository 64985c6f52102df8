"""The byte budget all sessions' kept results share (demo/session_memory.py, OcrDemo.postprocess_data): the
ledger alone, the measure of a session's state values, the Gradio glue with a built page (the Gradio internals it
relies on), and the real server: a session cleared by the budget says its history entry expired while the
session that pushed it out still opens its own."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pytest
from gradio.state_holder import SessionState as GradioSession
from gradio_client import Client, handle_file

from conftest import ASSETS_DIR, AppServer, FakeEngine
from demo.config import AppConfig
from demo.handlers import make_result
from demo.history import DOCUMENT_BYTES, Document, entry_bytes, push
from demo.pageset import batch_set, entry_set
from demo.session_memory import SessionLedger, held_bytes
from demo.ui import build_demo, events


class Session:
    """An opaque session object, as the ledger sees Gradio's."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


# --- the ledger -------------------------------------------------------------------------------------------


def test_the_least_recently_used_other_sessions_are_cleared_until_the_total_fits() -> None:
    ledger = SessionLedger(100)
    a, b, c, d = (Session(name) for name in "abcd")
    assert ledger.record(a, 40) == [] and ledger.record(b, 40) == []
    assert ledger.record(c, 40) == [a]  # 120 > 100: the oldest goes
    assert ledger.sessions() == [b, c] and ledger.total_bytes == 80
    assert ledger.record(b, 10) == []  # b used again: now the most recent
    assert ledger.sessions() == [c, b]
    assert ledger.record(d, 85) == [c]  # 135 -> 95: b, used after c, stays
    assert ledger.sessions() == [b, d] and ledger.total_bytes == 95
    assert ledger.record(c, 10) == [b]  # a cleared session that runs again is counted afresh: 105 -> 95
    assert ledger.sessions() == [d, c]


def test_clearing_stops_as_soon_as_the_total_fits() -> None:
    ledger = SessionLedger(100)
    a, b, c = Session("a"), Session("b"), Session("c")
    ledger.record(a, 30)
    ledger.record(b, 30)
    assert ledger.record(c, 50) == [a]  # 110 -> 80: b stays
    assert ledger.sessions() == [b, c]


def test_the_recording_session_is_never_cleared_even_alone_over_the_budget() -> None:
    ledger = SessionLedger(100)
    a, b = Session("a"), Session("b")
    ledger.record(a, 10)
    assert ledger.record(b, 500) == [a]
    assert ledger.sessions() == [b] and ledger.total_bytes == 500
    assert ledger.record(b, 600) == []  # nobody else to clear


def test_a_session_holding_nothing_is_forgotten() -> None:
    ledger = SessionLedger(100)
    a, b = Session("a"), Session("b")
    ledger.record(a, 60)
    ledger.record(a, 0)
    assert ledger.sessions() == [] and ledger.record(b, 60) == []
    ledger.forget(b)
    assert ledger.total_bytes == 0


def test_sessions_are_held_weakly_and_a_dropped_one_no_longer_counts() -> None:
    ledger = SessionLedger(100)
    a, b = Session("a"), Session("b")
    ledger.record(a, 80)
    alive = weakref.ref(a)
    del a  # Gradio dropped the session (capacity)
    gc.collect()
    assert alive() is None, "the ledger kept a dropped session alive"
    assert ledger.record(b, 80) == []  # the dead one's 80 bytes no longer count: nothing to clear
    assert ledger.sessions() == [b] and ledger.total_bytes == 80


def test_a_session_whose_values_expired_is_forgotten_instead_of_cleared() -> None:
    """Gradio's time-to-live drops a session's values but keeps the session: re-measured before clearing, it
    holds nothing, so it is forgotten and nobody else is cleared for it."""
    held = {}
    ledger = SessionLedger(100, measure=lambda session: held[session.name])
    a, b, c = Session("a"), Session("b"), Session("c")
    held.update(a=50, b=40, c=30)
    ledger.record(a, 50)
    ledger.record(b, 40)
    held["a"] = 0  # a's values expired
    assert ledger.record(c, 30) == []  # 120 > 100, but a holds nothing now: b stays
    assert ledger.sessions() == [b, c]
    held["b"] = 10  # part of b's values expired: counted at 10, and b is still cleared if that is not enough
    d = Session("d")
    held["d"] = 95
    assert ledger.record(d, 95) == [b, c]
    assert ledger.sessions() == [d]


def test_the_ledger_is_consistent_under_threads() -> None:
    ledger = SessionLedger(10_000)
    sessions = [Session(str(index)) for index in range(64)]
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for step in range(2000):
                ledger.record(sessions[(offset + step) % len(sessions)], 300 + step % 50)
        except BaseException as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    threads = [threading.Thread(target=work, args=(offset,)) for offset in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ledger.total_bytes <= 10_000 + 350  # the last recorder may keep the total just over by itself
    assert len(set(map(id, ledger.sessions()))) == len(ledger.sessions())


def test_a_budget_must_be_positive() -> None:
    with pytest.raises(ValueError, match="budget_bytes"):
        SessionLedger(0)


# --- what a session holds -------------------------------------------------------------------------------


def result_for(engine: FakeEngine, name: str, size: tuple[int, int] = (120, 160)):
    import numpy as np

    image = np.random.default_rng(len(name)).integers(0, 255, size + (3,), dtype=np.uint8)
    return make_result(image, engine.predict(image), name=name, note=None, options={}, config=AppConfig())


def test_held_bytes_counts_each_result_once(fake_engine) -> None:
    first, second, third = (result_for(fake_engine, name) for name in ("a.png", "bb.png", "ccc.png"))
    history = push(push((), first, 10), second, 10)
    # the shown result is the newest history entry and the last of a batch set holding it too
    pages = batch_set([first, second], ["ok", "ok"], 10**9)
    assert held_bytes([history, second, None, pages, pages]) == entry_bytes(first) + entry_bytes(second)
    assert held_bytes([history, third]) == entry_bytes(first) + entry_bytes(second) + entry_bytes(third)
    # a batch set's results pushed out of the history are still held by the set
    assert held_bytes([push((), third, 1), pages]) == sum(map(entry_bytes, (first, second, third)))


def test_held_bytes_of_a_document_and_its_page_set(fake_engine) -> None:
    pages = tuple(result_for(fake_engine, f"p{index}.png") for index in range(1, 4))
    document = Document(name="doc.pdf", pages=pages, page_count=3)
    shown_set = entry_set(document)
    assert held_bytes([(document,), pages[0], shown_set]) == entry_bytes(document)
    assert entry_bytes(document) == sum(map(entry_bytes, pages)) + DOCUMENT_BYTES


def test_held_bytes_ignores_what_holds_no_results(fake_engine) -> None:
    assert held_bytes([(), None, "/tmp/a.pdf", ("Batch: 1 of 1 images read.", [{"file": "a.png", "lines": []}])]) == 0
    kept = batch_set([result_for(fake_engine, "a.png"), result_for(fake_engine, "bb.png")], ["ok", "ok"], 1)
    assert kept is not None and kept.items[0] is None  # over its bound: kept as None
    assert held_bytes([kept]) == entry_bytes(kept.items[1])


# --- the Gradio glue, with a built page ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def built():
    blocks = build_demo(model=FakeEngine(), config=AppConfig(max_display_size=640))
    by_name = {block_fn.name: block_fn for block_fn in blocks.fns.values()}
    return blocks, by_name


def run_in(blocks, block_fn, session, *values):
    """Run an event's handler and let the app store its outputs in `session`, as Gradio does after the call."""
    outputs = block_fn.fn(*values)
    return asyncio.run(blocks.postprocess_data(block_fn, outputs, session))


def test_an_event_that_writes_state_records_the_session_and_clears_the_least_recent(built) -> None:
    """Through Gradio's own SessionState and Blocks.postprocess_data: if a Gradio upgrade renames or moves what
    the glue uses (state_data, a State's _id and delete_callback, the postprocess hook), this fails."""
    blocks, fns = built
    budget = blocks.session_ledger.budget_bytes
    history_state, current_state = blocks.result_states[:2]
    (pdf_state,) = [block for block in blocks.blocks.values() if isinstance(block, gr.State) and block not in blocks.result_states]
    try:
        blocks.session_ledger.budget_bytes = 1  # every other session is over it
        first, second = GradioSession(blocks), GradioSession(blocks)
        image = str(ASSETS_DIR / "receipt.jpg")
        run_in(blocks, fns["run"], first, image, "off", 640, 0.0, False, "auto", None, ())
        first.state_data[pdf_state._id] = "/tmp/chosen.pdf"  # a chosen PDF: a path, kept when the results go
        (entry,) = first[history_state._id]
        assert first[current_state._id] is entry
        assert blocks.session_ledger.sessions() == [first]
        assert blocks.session_ledger.total_bytes == entry_bytes(entry)

        # an event without State outputs (the confidence filter) neither records nor clears anyone; validators
        # are told apart by Gradio's flag, which must still exist
        assert fns["run"].is_validator_function is False
        refilter = fns["refilter"]
        assert not any(getattr(block, "stateful", False) for block in refilter.outputs)
        run_in(blocks, refilter, second, entry, None, 0.5, False, None)
        assert blocks.session_ledger.sessions() == [first]

        run_in(blocks, fns["run"], second, image, "off", 640, 0.0, False, "auto", None, ())
        assert blocks.session_ledger.sessions() == [second]
        # the first session's results are gone, as after its time-to-live: Gradio reads the defaults
        assert all(state._id not in first.state_data for state in blocks.result_states)
        assert first[history_state._id] == () and first[current_state._id] is None
        assert first[pdf_state._id] == "/tmp/chosen.pdf"
        assert len(second[history_state._id]) == 1
    finally:
        blocks.session_ledger.budget_bytes = budget


def test_an_event_leaves_no_copy_of_its_output_values_in_the_session_config(built) -> None:
    """Gradio copies each output's value into `SessionState.config_values`; the app blanks those copies (the
    results stay in the State values, which the budget counts). Fails if Gradio moves where it keeps them."""
    blocks, fns = built
    session = GradioSession(blocks)
    run = fns["run"]
    outputs = [block for block in run.outputs if not getattr(block, "stateful", False)]
    gradio_only = asyncio.run(gr.Blocks.postprocess_data(blocks, run, run.fn(str(ASSETS_DIR / "receipt.jpg"), "off", 640, 0.0, False, "auto", None, ()), session))
    assert gradio_only is not None
    kept = [block for block in outputs if session.config_values[block._id]["props"].get("value") is not None]
    assert kept, "Gradio no longer keeps output values in config_values: forget_output_values has nothing to do"

    session = GradioSession(blocks)
    run_in(blocks, run, session, str(ASSETS_DIR / "receipt.jpg"), "off", 640, 0.0, False, "auto", None, ())
    assert [block for block in outputs if session.config_values[block._id]["props"].get("value") is not None] == []
    history_state = blocks.result_states[0]
    assert len(session[history_state._id]) == 1  # the State outputs are kept


def test_the_budget_is_the_configs_effective_one() -> None:
    blocks = build_demo(model=FakeEngine(), config=AppConfig(max_history_mb=1, max_total_history_mb=0.5))
    assert blocks.session_ledger.budget_bytes == 2 * 2**20 == AppConfig(max_history_mb=1).max_history_bytes * 2
    names = {id(state) for state in blocks.result_states}
    states = [block for block in blocks.blocks.values() if isinstance(block, gr.State)]
    assert len(states) == 6 and len(names) == 5  # every State but the chosen PDF's path


def test_every_event_that_reads_state_answers_a_cleared_session_with_a_short_message(built) -> None:
    """With every State at its default (a session the budget cleared): the history, the page strip, the batch
    summary's rows and the filter answer with a message, never an exception Gradio would show as "Error"."""
    blocks, fns = built
    select = gr.SelectData(None, {"index": 0, "value": None})
    with pytest.raises(gr.Error, match=events.EXPIRED_ENTRY_MESSAGE):
        fns["show_history_entry"].fn((), 0.0, False, select)
    for name in ("previous_page", "next_page"):
        with pytest.raises(gr.Error, match=events.EXPIRED_SET_MESSAGE):
            fns[name].fn(None, 0.0, False)
    with pytest.raises(gr.Error, match=events.EXPIRED_BATCH_MESSAGE):
        fns["open_batch_row"].fn(None, 0.0, False, gr.SelectData(None, {"index": [0, 0], "value": "a.png"}))
    with pytest.warns(UserWarning, match="No result is kept to filter"):
        skipped = fns["refilter"].fn(None, None, 0.5, False, None)
    asyncio.run(blocks.postprocess_data(fns["refilter"], skipped, GradioSession(blocks)))  # a valid answer
    strip = fns["nav_strip"].fn(None)  # the strip is hidden
    asyncio.run(blocks.postprocess_data(fns["nav_strip"], strip, GradioSession(blocks)))


# --- through the real server ------------------------------------------------------------------------------

# One result per history (--max-results 1), 0.1 MB each: a receipt's result is fitted to ~0.8-0.9 of that, so
# the shared budget (0.1 MB asked, raised to one session's worth: 2 x 0.1 MB) holds two results, not three.
BUDGET_ARGS = ("--max-results", "1", "--max-history-mb", "0.1")


@pytest.fixture(scope="module")
def budget_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    env = {"OCR_MAX_TOTAL_HISTORY_MB": "0.1"}
    with AppServer(tmp_path_factory.mktemp("budget-server"), extra_args=BUDGET_ARGS, env=env) as app:
        yield app


def open_entry(server: AppServer, session_hash: str) -> dict:
    """Click the newest history entry in that session (the gallery's select event, as the page sends it)."""
    return server.queue_call(
        "show_history_entry", [None, 0.0, False], session_hash=session_hash, event_data={"index": 0, "value": None}
    )


@pytest.mark.slow  # starts the real app (real model) and reads a receipt four times
def test_a_session_cleared_by_the_shared_budget_says_its_entry_expired(budget_server: AppServer, tmp_path: Path) -> None:
    receipt = handle_file(ASSETS_DIR / "receipt.jpg")
    first = Client(budget_server.url, verbose=False, download_files=str(tmp_path), analytics_enabled=False)
    second = Client(budget_server.url, verbose=False, download_files=str(tmp_path), analytics_enabled=False)
    try:
        first.predict(receipt, "off", 1600, 0.0, False, api_name="/run")
        # the second session's batch: its result is both its history and its batch set (counted once)
        second.predict([receipt], "off", 1600, 0.0, False, api_name="/batch")
        opened = open_entry(budget_server, first.session_hash)
        assert opened.get("success") is True, f"two results fit the budget, yet the first session lost its: {opened}"
        # a new result pushes the batch's out of the second session's history; its batch set still holds it:
        # three results, over the budget, so the least recently used session (the first) is cleared
        second.predict(receipt, "off", 1600, 0.0, False, api_name="/run")
        expired = open_entry(budget_server, first.session_hash)
        assert expired.get("success") is False, f"the first session kept its result over the budget: {str(expired)[:300]}"
        assert (expired.get("output") or {}).get("error") == events.EXPIRED_ENTRY_MESSAGE
        kept = open_entry(budget_server, second.session_hash)
        assert kept.get("success") is True, str(kept)[:300]
        assert "Shown from the history" in str(kept["output"]["data"])
        assert "cleared the results of 1 least recently used session" in budget_server.log()
    finally:
        first.close()
        second.close()

