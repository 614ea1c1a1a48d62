"""Fitting one call to one candidate model: what the call needs that the model must have,
what is sent, what the core does itself (stop, prompted tools and JSON), and what is
accepted but reported. Never silent: everything left out becomes a warning or an error."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import attrs

from jackfield._engine.params import IMAGE_SOFT, NO_OPS, Wanted
from jackfield._errors import CapabilityError, InvalidRequestError
from jackfield._types.capabilities import SAMPLING
from jackfield._types.messages import Message
from jackfield._types.notices import CallWarning
from jackfield._types.params import NO_PARAMS, CallParams
from jackfield._types.specs import ModelSpec, Option

__all__ = ["NEEDS", "Plan", "Stage", "needs_of", "plan_call"]

# An event transform the core puts between a provider's parser and the caller.
Stage = Callable[[AsyncIterator[Any]], AsyncIterator[Any]]
# What a call can need, the capability that provides it, and how to say it.
NEEDS = {
    "image_input": "image input",
    "tools": "tool calling",
    "json_schema": "JSON schema output",
    "json_object": "JSON output",
    "logprobs": "logprobs",
}
_PROMPTED_BY = {"tools": "tools", "json_schema": "json", "json_object": "json"}


@attrs.frozen
class Plan:
    """What is sent to one candidate, and what the core does around it."""

    messages: tuple[Message, ...]
    params: CallParams = NO_PARAMS
    options: Mapping[str, Any] = attrs.field(factory=dict)
    warnings: tuple[CallWarning, ...] = ()
    emulated: tuple[str, ...] = ()
    stages: tuple[Stage, ...] = ()


def needs_of(messages: tuple[Message, ...], wanted: Wanted) -> frozenset[str]:
    """Return the capabilities (NEEDS keys) that a model must have to serve this call."""
    needs: set[str] = set()
    for message in messages:
        if message.parts and message.images:
            needs.add("image_input")
        if message.tool_calls or message.tool_call_id is not None:
            needs.add("tools")  # tool use in the history: a model without tools cannot read it
    params = wanted.params
    if params is NO_PARAMS:
        return frozenset(needs)
    if params.tools and not (params.tool_choice and params.tool_choice.mode == "none"):
        needs.add("tools")
    if params.response_format is not None:
        needs.add(params.response_format.type)
    if params.logprobs:
        needs.add("logprobs")
    return frozenset(needs)


def _missing(model: ModelSpec, needs: frozenset[str], prompted: frozenset[str],
             ) -> tuple[list[str], list[str]]:
    """Return (needs the model lacks that the core cannot emulate, needs to emulate)."""
    caps = model.capabilities
    lacking, emulate = [], []
    for need in sorted(needs):
        if caps.has(need):
            continue
        if _PROMPTED_BY.get(need) in prompted:
            emulate.append(_PROMPTED_BY[need])
        else:
            lacking.append(need)
    return lacking, sorted(set(emulate))


def _no_op_options(provider: str, model: ModelSpec, declared: Mapping[str, Option],
                   rest: Mapping[str, Any], warnings: list[CallWarning]) -> dict[str, Any]:
    """Return the options to validate: the standard no-op fields are left out (and reported
    when set) unless the provider declares an option of that name."""
    options = dict(rest)
    soft = NO_OPS | IMAGE_SOFT if model.kind == "image" else NO_OPS
    for name in sorted(soft.intersection(rest)):
        if name in declared:
            continue  # the provider takes it as its own option
        if options.pop(name) is not None:  # null asks for nothing: nothing to report
            warnings.append(CallWarning(name, f"{name} was accepted but not sent: {provider} "
                                              f"does not use it."))
    return options


def plan_call(provider: str, model: ModelSpec, declared: Mapping[str, Option],
              messages: tuple[Message, ...], wanted: Wanted, rest: Mapping[str, Any],
              prompted: frozenset[str], needs: frozenset[str]) -> Plan:
    """Return the plan for this candidate; raise CapabilityError when it cannot serve."""
    if needs:
        lacking, emulate = _missing(model, needs, prompted)
        if lacking:
            need = lacking[0]
            raise CapabilityError(f"{provider}/{model.id} has no {NEEDS[need]}.",
                                  capability=need)
    else:
        emulate = []
    warnings = list(wanted.warnings)
    options = _no_op_options(provider, model, declared, rest, warnings) if rest else {}
    params = wanted.params
    if params is NO_PARAMS:
        return Plan(messages, NO_PARAMS, options, tuple(warnings))  # the usual call, cheaply
    if model.kind == "image":
        raise InvalidRequestError(f"{provider}/{model.id} is an image model; chat parameters "
                                  "such as temperature or tools do not apply to it.",
                                  param=_first_set(params))
    caps = model.capabilities
    unset: dict[str, Any] = {}  # the fields this model is not sent
    if caps.sampling is not None:  # None: unknown, every sampling parameter is sent
        for name in SAMPLING:
            if name not in caps.sampling and getattr(params, name) is not None:
                unset[name] = None
                warnings.append(CallWarning(name, f"{name} was accepted but not sent: "
                                                  f"{provider}/{model.id} does not honour it."))
    for name, capability in (("seed", "seed"), ("reasoning_effort", "reasoning")):
        if getattr(params, name) is not None and getattr(caps, capability) is False:
            unset[name] = None
            warnings.append(CallWarning(name, f"{name} was accepted but not sent: "
                                              f"{provider}/{model.id} does not support it."))
    stages: list[Stage] = []
    emulated = list(emulate)
    if params.stop and not caps.has("stop"):
        from jackfield._engine.stops import stop_stage

        unset["stop"] = ()
        stages.append(stop_stage(params.stop))
        emulated.append("stop")
    if params.tools and "tools" not in needs and not caps.has("tools"):
        # tool_choice "none": the model may not call them, and this one cannot anyway.
        unset.update(tools=(), tool_choice=None, parallel_tool_calls=None)
        warnings.append(CallWarning("tools", f"tools were not sent: tool_choice is 'none' and "
                                             f"{provider}/{model.id} has no tool calling."))
    sent = attrs.evolve(params, **unset) if unset else params
    if emulate:
        from jackfield._engine.prompted import prompted_plan

        messages, stage, notes = prompted_plan(provider, messages, sent, frozenset(emulate))
        cleared: dict[str, Any] = {}
        if "tools" in emulate:
            cleared.update(tools=(), tool_choice=None, parallel_tool_calls=None)
        if "json" in emulate:
            cleared["response_format"] = None
        sent = attrs.evolve(sent, **cleared)
        warnings.extend(notes)
        # After the stop filter: stop cuts the model's own text, as a service would, and the
        # prompted parser reads what is left.
        stages.append(stage)
    return Plan(messages, sent, options, tuple(warnings), tuple(emulated), tuple(stages))


def _first_set(params: CallParams) -> str | None:
    for name, value in attrs.asdict(params, recurse=False).items():
        if value not in (None, ()):
            return name
    return None
