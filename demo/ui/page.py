"""What the handlers share: the services (engine, decoder, settings, download folder), the page's panels
and session state, and the two wrappers that turn a module-level handler into a Gradio callback."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr

from demo.config import AppConfig
from demo.engine import Models
from ocr_model.runtime import trim_heap

if TYPE_CHECKING:
    from demo.ui.batch import BatchPanel
    from demo.ui.exports import ExportsPanel
    from demo.ui.history import HistoryPanel
    from demo.ui.inputs import InputPanel
    from demo.ui.options import OptionsPanel
    from demo.ui.result import ResultPanel


@dataclass(frozen=True)
class Services:
    """Loaded once by `build_demo`, before any request is served."""

    models: Models  # the checkpoint choices; `handlers.chosen_engine(models, name)` per request
    decode: Callable[[Any], Any]
    config: AppConfig
    cache_dir: str  # Gradio's cache folder of this instance: downloads are written there
    user_error_types: tuple[type[BaseException], ...]  # errors whose message the user sees as is


@dataclass(frozen=True)
class SessionState:
    """Per-session values kept on the server (gr.State), never sent by the browser."""

    history: gr.State  # History: the session's recent results
    current: gr.State  # the OcrResult shown now
    batch: gr.State  # the batch shown now: (headline, records at confidence 0); None for a single result
    pdf: gr.State  # the Single tab's PDF (a checked path), read by the next Run
    pages: gr.State  # the set the shown result belongs to (demo.pageset.PageSet: a PDF's pages, a batch); or None
    batch_pages: gr.State  # the last batch's set, which its summary table's rows open (kept after later runs)

    @classmethod
    def create(cls, time_to_live: float) -> "SessionState":
        return cls(*(gr.State(initial, time_to_live=time_to_live) for initial in ((), None, None, None, None, None)))

    def kept_results(self) -> tuple[gr.State, ...]:
        """The States that hold the session's results, dropped together when the shared budget clears the
        session (demo/session_memory.py). Not `pdf`: a path costs nothing, and keeping it lets a chosen PDF
        still be read by the next Run instead of "Please upload ... an image first"."""
        return (self.history, self.current, self.batch, self.pages, self.batch_pages)


@dataclass(frozen=True)
class Page:
    """The built page, as the handlers see it: their outputs are keyed by these components."""

    services: Services
    inputs: InputPanel
    batch: BatchPanel
    options: OptionsPanel
    result: ResultPanel
    exports: ExportsPanel
    history: HistoryPanel
    state: SessionState


def user_errors(function: Callable[..., Any], error_types: tuple[type[BaseException], ...]) -> Callable[..., Any]:
    """Show the app's own input errors as a short message; anything else stays generic."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except error_types as error:
            raise gr.Error(str(error), print_exception=False) from None
        finally:
            trim_heap()  # the request's temporaries are freed now; give the pages back

    return wrapper


def bind(handler: Callable[..., Any], page: Page, *, errors: bool = True) -> Callable[..., Any]:
    """`handler(page, ...)` as the callback Gradio sees: `(...)`.

    Not `functools.partial`: Gradio reads the callback's signature (API parameter names, the
    `gr.Progress` default) and its type hints (`gr.SelectData`), and a partial hides the hints.
    """
    function = user_errors(handler, page.services.user_error_types) if errors else handler

    @functools.wraps(handler)
    def callback(*args: Any, **kwargs: Any) -> Any:
        return function(page, *args, **kwargs)

    signature = inspect.signature(handler)
    callback.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])  # type: ignore[attr-defined]
    return callback


def download(path: str | None) -> gr.DownloadButton:
    """A download button's update: the file, or nothing to download (disabled)."""
    return gr.DownloadButton(value=path, interactive=path is not None)
