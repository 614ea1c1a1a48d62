"""Conformance cases of what each model declares: every declared capability is exercised
(what it needs reaches the emulator, the reply honours it), an undeclared one is refused
before any I/O or reported and not sent; embeddings and images come back whole."""

from __future__ import annotations

import base64
import functools
import json
import math
from collections.abc import Callable
from typing import Any

from jackfield._errors import CapabilityError, InvalidRequestError
from jackfield._types.capabilities import Capabilities
from jackfield._types.specs import ModelInfo
from jackfield.testing._conformance_env import Case, Env, Failed, Skipped
from jackfield.testing._emulation import png_bytes

__all__ = ["capability_cases"]

TOOL = "jfconf_lookup"
TOOLS = [{"type": "function", "function": {
    "name": TOOL, "description": "Look a word up in the dictionary.",
    "parameters": {"type": "object", "properties": {"word": {"type": "string"}},
                   "required": ["word"]}}}]
TOOL_RESULT = "jfconf-tool-result-7"
FIELD = "jfconf_answer"
SCHEMA = {"type": "json_schema", "json_schema": {"name": "jfconf", "strict": True, "schema": {
    "type": "object", "properties": {FIELD: {"type": "string"}}, "required": [FIELD],
    "additionalProperties": False}}}
STOP = "jfconfstop"
SEED = 424242
SAMPLED = {"temperature": 0.37, "top_p": 0.91, "max_tokens": 77, "presence_penalty": 0.13,
           "frequency_penalty": 0.17}
MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF")


def _flag(name: str) -> Callable[[ModelInfo], bool]:
    return lambda model: getattr(model.capabilities, name) is not False


def _sent(env: Env, mark: int, *words: str, what: str, at_least: int = 1) -> None:
    """Failed unless each word occurs at_least times in the request the call made."""
    sent = env.since(mark)
    if not sent:
        raise Failed(f"{what}: the call sent no request")
    text = sent[-1].text()
    for word in words:
        if text.count(word) < at_least:
            raise Failed(f"{what}, but the request sent to the emulator ({sent[-1].path}) does "
                         f"not carry {word!r}: the build hook dropped it (send it, or declare "
                         "the capability False)")


async def _refused_by_server(env: Env, model: ModelInfo, name: str, run: Any) -> str | None:
    """Run the check; for a capability declared unknown (None), the server's own typed
    refusal is an answer too."""
    try:
        await run()
    except InvalidRequestError as error:
        if getattr(model.capabilities, name) is None and not isinstance(error, CapabilityError):
            return f"unknown for {model.id}; the emulator refused it: {error}"
        raise Failed(f"{model.id} declares {name}, but a call using it failed: {error}"
                     ) from error
    return None


async def check_tools(env: Env) -> str:
    """Tools reach the emulator; its tool calls name them; a tool result is sent back."""
    model = env.model("chat", _flag("tools"), "declares tools")

    async def run() -> None:
        replies = []
        for stream in (False, True):
            mark = env.mark()
            replies.append(await env.call(model, "Look up the word kit.", stream=stream,
                                          pieces=[], tools=TOOLS))
            _sent(env, mark, TOOL, what=f"{model.id} declares tools")
        for reply in replies:
            for call in reply.tool_calls:
                arguments = json.loads(call.arguments or "{}")
                if call.name != TOOL or not isinstance(arguments, dict):
                    raise Failed(f"a tool call names {call.name!r} with arguments "
                                 f"{call.arguments!r}; only {TOOL!r}, with a JSON object")
        whole, streamed = ([(c.name, c.arguments) for c in r.tool_calls] for r in replies)
        if whole != streamed:
            raise Failed(f"the whole reply's tool calls {whole} differ from the streamed "
                         f"reply's {streamed}")
        history = [{"role": "user", "content": "Look up the word kit."},
                   {"role": "assistant", "content": None, "tool_calls": [
                       {"id": "call_jfconf1", "type": "function",
                        "function": {"name": TOOL, "arguments": '{"word": "kit"}'}}]},
                   {"role": "tool", "tool_call_id": "call_jfconf1", "content": TOOL_RESULT}]
        mark = env.mark()
        await env.call(model, history, tools=TOOLS)
        _sent(env, mark, TOOL_RESULT, what=f"{model.id} declares tools (a tool's result)")

    return await _refused_by_server(env, model, "tools", run) or f"{model.id}: tools sent"


async def check_image_input(env: Env) -> str:
    """An image part reaches the emulator (its bytes, as they are or base64)."""
    model = env.model("chat", _flag("image_input"), "declares image_input")
    data = png_bytes("jfconf")
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                             {"type": "image_url", "image_url": {"url": url}}]}]

    async def run() -> None:
        mark = env.mark()
        await env.call(model, messages)
        sent = env.since(mark)
        if not sent or (data not in sent[-1].body
                        and base64.b64encode(data).decode() not in sent[-1].text()):
            raise Failed(f"{model.id} declares image_input, but the request sent carries "
                         "neither the image's bytes nor their base64: the image was dropped")

    done = await _refused_by_server(env, model, "image_input", run)
    return done or f"{model.id}: the image was sent"


async def check_json(env: Env, name: str) -> str:
    """A JSON mode reaches the emulator (a schema's field names) and the reply is JSON."""
    model = env.model("chat", _flag(name), f"declares {name}")
    fmt = SCHEMA if name == "json_schema" else {"type": "json_object"}

    async def run() -> None:
        mark = env.mark()
        reply = await env.call(model, "Answer in JSON: what is a kit?", response_format=fmt)
        if name == "json_schema":
            _sent(env, mark, FIELD, what=f"{model.id} declares json_schema")
        if getattr(model.capabilities, name) is True:
            try:
                json.loads(reply.text)
            except ValueError:
                raise Failed(f"{model.id} declares {name}, but its reply is not JSON: "
                             f"{reply.text[:80]!r}") from None

    return await _refused_by_server(env, model, name, run) or f"{model.id}: JSON"


async def check_parameters(env: Env) -> str:
    """stop, seed and the sampling parameters a model declares are sent; stop is honoured."""
    model = env.model("chat")
    caps = model.capabilities
    sampling = sorted(SAMPLED) if caps.sampling is None else sorted(caps.sampling)
    params: dict[str, Any] = {name: SAMPLED[name] for name in sampling}
    declared = [*sampling, *(name for name in ("stop", "seed")
                             if getattr(caps, name) is not False)]
    if not declared:
        raise Skipped(f"{model.id} declares no stop, seed or sampling parameter")
    if caps.seed is not False:
        params["seed"] = SEED
    if caps.stop is not False:
        params["stop"] = [STOP]
    mark = env.mark()
    reply = await env.call(model, f"alpha {STOP} omega", **params)
    for name, value in params.items():
        shown = STOP if name == "stop" else json.dumps(value)
        _sent(env, mark, shown, what=f"{model.id} declares {name}",
              at_least=2 if name == "stop" else 1)
    if caps.stop is True and STOP in reply.text:
        raise Failed(f"{model.id} declares stop, but its reply goes on past {STOP!r}: "
                     f"{reply.text[:80]!r}")
    unsent = [w.param for w in reply.warnings if w.param in params]
    if unsent:
        raise Failed(f"{model.id} declares {', '.join(unsent)}, yet the call reports them "
                     "as not sent")
    return f"{model.id}: {', '.join(declared)} sent"


async def check_undeclared(env: Env) -> str:
    """A parameter a model does not declare is reported and not sent."""
    model = env.model("chat", lambda m: m.capabilities.seed is False, "lacks seed")
    mark = env.mark()
    reply = await env.call(model, "hi", seed=SEED)
    if str(SEED) in env.since(mark)[-1].text():
        raise Failed(f"{model.id} does not declare seed, yet the request carries it")
    if "seed" not in [w.param for w in reply.warnings]:
        raise Failed("seed was not sent, but no warning says so")
    return f"{model.id}: seed reported, not sent"


_NEEDS: dict[str, dict[str, Any]] = {
    "tools": {"tools": TOOLS}, "json_schema": {"response_format": SCHEMA},
    "json_object": {"response_format": {"type": "json_object"}}, "logprobs": {"logprobs": True},
    "image_input": {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(
            png_bytes("x")).decode()}}]}]},
}


async def check_refused(env: Env, name: str) -> str:
    """A call needing what a model declares it lacks is refused before any I/O."""
    model = env.model("chat", lambda m: getattr(m.capabilities, name) is False,
                      f"declares {name} False")
    params = dict(_NEEDS[name])
    messages = params.pop("messages", "hi")
    mark = env.mark()
    try:
        await env.call(model, messages, **params)
    except CapabilityError:
        env.errors.pop()
    else:
        raise Failed(f"{model.id} declares no {name}, yet a call needing it was answered")
    if env.since(mark, protocol_only=False):
        raise Failed(f"refusing {name} sent {len(env.since(mark))} request(s) first")
    return f"{model.id}: CapabilityError, nothing sent"


async def check_embeddings(env: Env) -> str:
    """One finite vector per input, in the inputs' order, of one size."""
    model = env.model("embedding")
    texts = ["alpha", "beta gamma"]
    try:
        first = await env.registry.embed(model.qualified_id, texts)
        second = await env.registry.embed(model.qualified_id, texts[::-1])
    except Exception as error:
        env.errors.append(error)
        raise
    sizes = {len(v) for v in (*first.vectors, *second.vectors)}
    if len(first) != 2 or len(second) != 2 or len(sizes) != 1 or 0 in sizes:
        raise Failed(f"two inputs gave {len(first)} and {len(second)} vectors of sizes {sizes}")
    if not all(math.isfinite(x) for v in first.vectors for x in v):
        raise Failed("a vector holds a number that is not finite")
    if list(first.vectors) != list(second.vectors)[::-1]:
        raise Failed("the vectors do not follow the inputs' order: the same texts in the "
                     "other order gave other vectors (keep each Vector's index)")
    return f"{model.id}: 2 vectors of {sizes.pop()}"


async def check_images(env: Env) -> str:
    """An image model's reply holds images, each its bytes and an image type."""
    model = env.model("image")
    reply = await env.call(model, "a lighthouse at dusk")
    if not reply.images:
        raise Failed(f"{model.id} answered without images (text {reply.text[:60]!r})")
    for image in reply.images:
        if not image.data or not (image.mime_type or "").startswith("image/") \
                or not image.data.startswith(MAGIC):
            raise Failed(f"an image of {model.id} has no image bytes or type "
                         f"({image.mime_type!r}, {len(image.data or b'')} bytes)")
    return f"{model.id}: {len(reply.images)} image(s)"


def capability_cases() -> list[Case]:
    """Return the capability cases."""
    cases = [Case("capability/tools", "tools and a tool's result reach the emulator",
                  check_tools),
             Case("capability/image_input", "an image part reaches the emulator",
                  check_image_input)]
    cases += [Case(f"capability/{name}", "the JSON mode is sent and the reply is JSON",
                   functools.partial(check_json, name=name))
              for name in ("json_schema", "json_object")]
    cases += [Case("capability/parameters", "declared stop, seed and sampling are sent",
                   check_parameters),
              Case("capability/undeclared", "an undeclared parameter is reported, not sent",
                   check_undeclared)]
    cases += [Case(f"refused/{name}", f"{name} on a model without it: CapabilityError before "
                   "any I/O", functools.partial(check_refused, name=name))
              for name in sorted(_NEEDS) if name in attrs_fields()]
    cases += [Case("capability/embeddings", "vectors per input, in order", check_embeddings),
              Case("capability/images", "an image model returns images", check_images)]
    return cases


def attrs_fields() -> set[str]:
    """Return the capability flags this core knows."""
    import attrs

    return {field.name for field in attrs.fields(Capabilities)}
