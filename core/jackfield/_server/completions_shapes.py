"""OpenAI's legacy text completions (POST /v1/completions) on chat models: the request
checked and decoded into the one ChatCall (the prompt as one user message), and the
`text_completion` replies.

One prompt per request: a list of several prompts, or token ids, is refused (send the text;
the provider's tokenizer is not this server's). `logprobs` is the legacy API's integer (how
many alternatives per token): it asks the core for logprobs with that many top_logprobs,
and the reply gives them in the legacy shape (tokens, token_logprobs, top_logprobs as
{token: logprob}, text_offset). `echo` puts the prompt before the text (not with logprobs:
no chat model scores a prompt's tokens); `suffix` (insertion) and `best_of` above 1 are
refused. No default max_tokens is applied (the legacy API's was 16): a chat model's own
limit holds, as on /v1/chat/completions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from jackfield._engine.completion import Completion
from jackfield._errors import InvalidRequestError
from jackfield._server.call import ChatCall
from jackfield._server.chat_shapes import usage_object, warning_list
from jackfield._server.openai_shapes import call_params, stream_options
from jackfield._types.message_input import is_text
from jackfield._types.messages import Message
from jackfield._types.notices import CallWarning

__all__ = ["TextCall", "completion_text_id", "legacy_logprobs", "parse_text_call",
           "text_choice", "text_completion_object"]

MAX_LOGPROBS = 5  # the legacy API's own cap
# Chat-only fields: the legacy API has none of them, and a client that sends them meant
# POST /v1/chat/completions.
_CHAT_ONLY = ("messages", "tools", "tool_choice", "parallel_tool_calls", "response_format",
              "top_logprobs", "max_completion_tokens", "reasoning_effort")
_HANDLED = {"model", "prompt", "stream", "stream_options", "logprobs", "echo", "suffix",
            "best_of"}


@attrs.frozen
class TextCall:
    """One checked legacy completion request: the ChatCall to run, the prompt (for echo),
    and the number of alternatives per token asked (None: no logprobs)."""

    call: ChatCall
    prompt: str
    echo: bool
    logprobs: int | None


def _bad(param: str, text: str) -> InvalidRequestError:
    return InvalidRequestError(text, param=param)


def _prompt(value: Any) -> str:
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        value = value[0]  # a list of one prompt, as llama-index and LangChain send it
    if isinstance(value, str):
        if not value.strip():
            raise _bad("prompt", "'prompt' is empty: say something.")
        if not is_text(value):
            raise _bad("prompt", "'prompt' holds an unpaired surrogate, which is not text.")
        return value
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        raise _bad("prompt", f"'prompt' holds {len(value)} prompts; this server answers one "
                             "per request (each is a chat call): send them one at a time.")
    if isinstance(value, list) and value and all(
            isinstance(item, int | list) and not isinstance(item, bool) for item in value):
        raise _bad("prompt", "'prompt' as token ids is not supported: the models here have "
                             "tokenizers of their own; send the text.")
    raise _bad("prompt", "'prompt' is required: a string, or a list of one string.")


def _flag(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise _bad(name, f"{name!r} must be true or false, got {value!r}.")
    return bool(value)


def _logprobs(value: Any) -> int | None:
    if value is None or value is False:
        return None
    if value is True:
        raise _bad("logprobs", "'logprobs' of this API is a number (how many alternatives "
                               "per token, 0 to 5), not true: true is the chat API's.")
    if not isinstance(value, int) or not 0 <= value <= MAX_LOGPROBS:
        raise _bad("logprobs", f"'logprobs' must be a whole number from 0 to {MAX_LOGPROBS}, "
                               f"got {value!r}.")
    return value


def parse_text_call(body: Mapping[str, Any]) -> TextCall:
    """Check a legacy completion body; the rest of its fields go to the core as on chat."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _bad("model", "'model' is required and must be a non-empty string.")
    prompt = _prompt(body.get("prompt"))
    stream, echo = _flag(body, "stream"), _flag(body, "echo")
    logprobs = _logprobs(body.get("logprobs"))
    if body.get("suffix"):
        raise _bad("suffix", "'suffix' (text to insert before) is not supported: chat models "
                             "do not fill in the middle; leave it out.")
    best_of = body.get("best_of")
    if best_of not in (None, 1):
        raise _bad("best_of", "'best_of' above 1 is not supported (no chat model scores its "
                              "replies); use 'n' for several replies.")
    if echo and logprobs is not None:
        raise _bad("echo", "'echo' with 'logprobs' asks for the prompt's log probabilities, "
                           "which no chat model gives: send one of them.")
    for name in sorted(set(body) & set(_CHAT_ONLY)):
        raise _bad(name, f"{name!r} is not a field of the completions API: POST "
                         "/v1/chat/completions takes it.")
    warnings: list[CallWarning] = []
    include_usage = stream_options(body, stream, warnings)
    params = call_params(body, _HANDLED)
    if logprobs is not None:
        params |= {"logprobs": True, "top_logprobs": logprobs}
    call = ChatCall(model, [Message("user", prompt)], stream, params, tuple(warnings),
                    include_usage)
    return TextCall(call, prompt, echo, logprobs)


def completion_text_id() -> str:
    """Return a fresh id in OpenAI's style (cmpl-...)."""
    return f"cmpl-{uuid.uuid4().hex}"


def legacy_logprobs(entries: Sequence[Any], offset: int = 0) -> dict[str, Any]:
    """Return the legacy logprobs object of the core's (chat API's) entries; text_offset
    counts characters from offset, where the first entry's token begins."""
    tokens: list[str] = []
    token_logprobs: list[float | None] = []
    top: list[dict[str, Any]] = []
    offsets: list[int] = []
    for entry in entries:
        entry = entry if isinstance(entry, Mapping) else {}
        token = str(entry.get("token", ""))
        offsets.append(offset)
        offset += len(token)
        tokens.append(token)
        token_logprobs.append(entry.get("logprob"))
        top.append({str(alt.get("token", "")): alt.get("logprob")
                    for alt in entry.get("top_logprobs") or () if isinstance(alt, Mapping)})
    return {"tokens": tokens, "token_logprobs": token_logprobs, "top_logprobs": top,
            "text_offset": offsets}


def _finish(reason: str | None) -> str:
    # The legacy API knows these three; a chat model's others ("tool_calls") end as "stop".
    return reason if reason in ("length", "content_filter") else "stop"


def text_choice(index: int, text: str, finish_reason: str | None,
                logprobs: dict[str, Any] | None) -> dict[str, Any]:
    """Return one choice of a text_completion (finish_reason None: a chunk under way)."""
    return {"text": text, "index": index, "logprobs": logprobs,
            "finish_reason": None if finish_reason is None else _finish(finish_reason)}


def text_completion_object(completion: Completion, call: TextCall, completion_id: str,
                           created: int, warnings: Sequence[CallWarning]) -> dict[str, Any]:
    """Return a `text_completion` for a finished reply: one choice per reply (n)."""
    replies = completion.choices or (completion,)
    head = call.prompt if call.echo else ""
    choices = [text_choice(index, head + reply.text, reply.finish_reason or "stop",
                           None if call.logprobs is None else legacy_logprobs(reply.logprobs))
               for index, reply in enumerate(replies)]
    return {"id": completion_id, "object": "text_completion", "created": created,
            "model": completion.model or call.call.model, "provider": completion.provider,
            "choices": choices, "usage": usage_object(completion, call.call),
            "jackfield_warnings": warning_list(warnings)}
