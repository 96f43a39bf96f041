"""Text models behind the `TextModel` seam: a remote OpenAI-compatible server, a local
llama.cpp model (the `[local]` extra, imported only when a LocalModel first runs), and
a server that offers any of them over the OpenAI API."""

# base first: modules that `models` imports may import `adversarial_arena.models` back.
from adversarial_arena.models.base import Messages, TextModel
from adversarial_arena.models.local import LocalModel, completion_prompt, gemma_model_path
from adversarial_arena.models.openai_model import OpenAIModel
from adversarial_arena.models.server import make_openai_app, serve_model

__all__ = [
    "LocalModel",
    "Messages",
    "OpenAIModel",
    "TextModel",
    "completion_prompt",
    "gemma_model_path",
    "make_openai_app",
    "serve_model",
]
