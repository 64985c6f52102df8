"""The app's `gr.Blocks`: its launch defaults, the upload gate in front of every request, and the byte budget
that all sessions' kept results share (demo/session_memory.py), applied after every event that writes a State."""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr
from gradio import utils as gr_utils

from demo.config import AppConfig, launch_kwargs
from demo.session_memory import SessionLedger, held_bytes
from demo.style import CSS, size_label, theme, upload_guard_js
from demo.uploads import NO_FILES, UploadRefused, check_request_inputs

LOGGER = logging.getLogger(__name__)
# Set on an input that API callers may leave out at the END of their values (inputs added after the
# endpoint was published, e.g. /ocr's checkpoint): the component's default fills in, so an older raw
# HTTP call keeps working. gradio_client fills defaults itself; raw calls do not.
OPTIONAL_INPUT = "optional_api_input"


def optional_in_api(component: Any) -> Any:
    """Mark `component` as an input API callers may leave out at the end (see OPTIONAL_INPUT)."""
    setattr(component, OPTIONAL_INPUT, True)
    return component


def with_optional_defaults(blocks: list[Any], inputs: list[Any]) -> list[Any]:
    """`inputs`, plus the defaults of the trailing inputs it leaves out when all of those are optional."""
    missing = blocks[len(inputs) :]
    if not missing or not all(getattr(block, OPTIONAL_INPUT, False) for block in missing):
        return inputs
    return [*inputs, *(block.value for block in missing)]


class OcrDemo(gr.Blocks):
    """The app's Blocks: `launch()` defaults to the app's serving policy (`launch_kwargs`).

    So `build_demo().launch()` in a notebook gets the same port, upload limit, error policy
    and auth as `python app.py`; any keyword given to `launch()` still wins.
    """

    app_config: AppConfig = AppConfig()
    upload_dir: str = ""  # set by build_demo: the folder Gradio stores this instance's uploads in
    # Set by build_demo: what all sessions' results hold (AppConfig.total_history_bytes), and the gr.State
    # components that hold a session's results (dropped together when the budget clears the session).
    session_ledger: SessionLedger | None = None
    result_states: tuple[Any, ...] = ()

    def launch(self, **kwargs: Any) -> Any:  # type: ignore[override]
        limit = self.app_config.max_file_size
        page = {  # the page's look (contrast, touch targets) and the upload-size note: demo/style.py
            "theme": theme(),
            "css": CSS,
            # Gradio's own parser of the limit, so the note and the server's refusal use the same number
            "js": upload_guard_js(gr_utils._parse_file_size(limit) or 0, size_label(limit)),
        }
        return super().launch(**{**page, **launch_kwargs(self.app_config), **kwargs})

    async def preprocess_data(self, block_fn: Any, inputs: list[Any], state: Any, explicit_call: bool = False) -> Any:
        """Every request's inputs pass the upload gate (demo/uploads.py) before Gradio reads, copies,
        downloads or decodes anything in them; a refusal is the same short message for every cause."""
        inputs = with_optional_defaults(list(block_fn.inputs), list(inputs))
        slots, values = [], []
        for block, value in zip(block_fn.inputs, inputs):
            if getattr(block, "stateful", False):
                continue  # Gradio takes a State's value from the server, never from the request
            slots.append(getattr(block, "file_slot", NO_FILES))
            values.append(value)
        if len(block_fn.inputs) != len(inputs):  # a malformed call, not a file problem: say so
            LOGGER.info("request refused: %d values for %d inputs", len(inputs), len(block_fn.inputs))
            raise gr.Error(input_count_message(len(block_fn.inputs), len(inputs)), print_exception=False)
        try:
            check_request_inputs(values, slots, self.upload_dir)
        except UploadRefused as refusal:
            LOGGER.info("request refused by the upload gate: %s", refusal.reason)
            raise gr.Error(str(refusal), print_exception=False) from None
        return await super().preprocess_data(block_fn, inputs, state, explicit_call)

    async def postprocess_data(self, block_fn: Any, predictions: Any, state: Any) -> Any:
        """Gradio stores the event's State outputs in the session (`state`), and a copy of every other output's
        value, which is dropped here (`forget_output_values`); then, if the event wrote any State,
        the session's results are counted against the budget all sessions share, and the least recently
        used other sessions are cleared while the total is over it. Events without State outputs skip this."""
        output = await super().postprocess_data(block_fn, predictions, state)
        if state is None:
            return output
        forget_output_values(state, block_fn.outputs)
        if writes_state(block_fn):
            self.keep_sessions_within_budget(state)
        return output

    def session_bytes(self, session: Any) -> int:
        """Bytes the session's results hold (its history, shown result and page sets, each result once)."""
        return held_bytes(state_values(session, self.result_states))

    def keep_sessions_within_budget(self, session: Any) -> None:
        if self.session_ledger is None:
            return
        cleared = self.session_ledger.record(session, self.session_bytes(session))
        for other in cleared:
            clear_states(other, self.result_states)
        if cleared:
            LOGGER.info(
                "session memory budget (%.1f MB): cleared the results of %d least recently used session(s); "
                "%d session(s) hold %.1f MB",
                self.session_ledger.budget_bytes / 2**20, len(cleared), len(self.session_ledger.sessions()),
                self.session_ledger.total_bytes / 2**20,
            )


# Gradio internals the budget relies on (gradio 6.31; tests/demo/test_session_memory.py fails if they change):
# - `Blocks.postprocess_data(block_fn, predictions, state)` is handed the session's
#   `gradio.state_holder.SessionState` and stores the event's gr.State outputs in it;
# - `SessionState.state_data` maps a State's `_id` to the session's value; a missing entry is re-created from
#   the State's default when next read (that is how Gradio's own time-to-live expiry works:
#   `StateHolder.delete_state` calls the State's `delete_callback(value)` and deletes the entry);
# - `BlockFunction.outputs` (with `Block.stateful`) and `BlockFunction.is_validator_function`;
# - `SessionState.config_values[_id]["props"]["value"]` holds an output's last value (forget_output_values).


def forget_output_values(session: Any, outputs: list[Any]) -> None:
    """Blank the copies Gradio keeps of the event's output values in the session's config.

    Gradio 6 writes each output's last value into `SessionState.config_values` (read only by its deep-link
    route; this app has no deep-link button): every session kept its last results JSON, explorer, lines table
    and texts there, ~0.3 MB for a receipt and MBs for a PDF's pages, for the session's life (an hour), outside
    the results budget. The browser already got them in the response; State outputs are not touched."""
    config = getattr(session, "config_values", None)
    if not isinstance(config, dict):
        return
    for block in outputs:
        if getattr(block, "stateful", False):
            continue
        props = (config.get(getattr(block, "_id", None)) or {}).get("props")
        if isinstance(props, dict) and props.get("value") is not None:
            props["value"] = None


def writes_state(block_fn: Any) -> bool:
    """Whether an event stores any gr.State output (validators store nothing)."""
    if getattr(block_fn, "is_validator_function", False):
        return False
    return any(getattr(block, "stateful", False) for block in block_fn.outputs)


def state_values(session: Any, states: tuple[Any, ...]) -> list[Any]:
    """The session's values of `states`, as stored (None where it holds none; no default is created)."""
    data = session.state_data
    return [data.get(state._id) for state in states]


def clear_states(session: Any, states: tuple[Any, ...]) -> None:
    """Drop the session's values of `states`, exactly as Gradio drops expired ones: the next event of the
    session reads each State's default (an empty history, None)."""
    data = session.state_data
    for state in states:
        if state._id in data:
            state.delete_callback(data.pop(state._id))


def input_count_message(expected: int, sent: int) -> str:
    """The answer to a raw API call with the wrong number of values (was "Only files uploaded to this
    app can be read", which sent callers looking for a file problem)."""
    return (
        f"This endpoint takes {expected} input value{'s' if expected != 1 else ''}; the request sent {sent}. "
        "See \"Use via API\" at the bottom of the page for the inputs in order."
    )
