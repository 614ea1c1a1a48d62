"""Preparing a call before any I/O: check the messages and parameters, fit them to each
candidate model (route by need), apply strict mode, and say clearly when no model fits."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from jackfield._engine.dispatch import PreparedCall
from jackfield._engine.options import validate_options
from jackfield._engine.params import (
    NOTHING,
    PROMPTABLE,
    Prompted,
    Wanted,
    prompted_setting,
    split_call,
)
from jackfield._engine.planning import NEEDS, needs_of, plan_call
from jackfield._engine.routing import Candidate
from jackfield._errors import CapabilityError, InvalidRequestError
from jackfield._settings.config import ProviderConfig
from jackfield._types.message_input import normalize_messages
from jackfield._types.notices import CallWarning
from jackfield._types.requests import CompletionRequest
from jackfield._types.specs import ModelInfo

# prompted_setting lives with the parameters (Registry() needs it without the HTTP stack);
# it is named here too for the callers that prepare calls.
__all__ = ["Prepared", "Prompted", "prepare", "prompted_setting"]

LIST_LIMIT = 8  # models named in a capability error


@attrs.frozen
class Prepared:
    """A call ready to run: one PreparedCall per usable candidate, and how many replies."""

    calls: list[PreparedCall]
    n: int = 1


def _prompted_for(setting: Prompted, candidate: Candidate) -> frozenset[str]:
    if isinstance(setting, frozenset):
        return setting
    provider, model = candidate.provider.name, candidate.model.id
    for key in (f"{provider}/{model}", model, provider, "*"):
        if key in setting:
            return setting[key]
    return frozenset()


def _strict_error(warning: CallWarning) -> InvalidRequestError:
    return InvalidRequestError(f"{warning} Strict mode refuses what it cannot send: leave "
                               f"{warning.param} out, or turn strict mode off.",
                               param=warning.param)


def prepare(candidates: Sequence[Candidate], messages: Any, stream: bool,
            options: Mapping[str, Any], *, configs: Mapping[str, ProviderConfig],
            prompted: Prompted, strict: bool,
            models: Callable[[], list[ModelInfo]]) -> Prepared:
    """Validate everything before any I/O; return one call per candidate that can serve it."""
    noted: list[CallWarning] = []
    normalized = normalize_messages(messages, noted)
    wanted, rest = split_call(options)
    if noted:
        wanted = attrs.evolve(wanted, warnings=(*noted, *wanted.warnings))
    if strict and wanted.warnings:
        raise _strict_error(wanted.warnings[0])
    if wanted.n > 1 and stream:
        raise InvalidRequestError("n > 1 cannot be streamed: ask for n replies with "
                                  "stream=False, or stream n calls yourself.", param="n")
    needs = needs_of(normalized, wanted)
    calls: list[PreparedCall] = []
    errors: list[InvalidRequestError] = []
    plain = wanted is NOTHING and not needs and not rest
    for candidate in candidates:
        spec, model = candidate.provider, candidate.model
        if plain:  # text in, text out, nothing asked: what every model can serve, cheaply
            request = CompletionRequest(spec.name, model, normalized,
                                        validate_options(spec.name, model.kind, spec.options,
                                                         rest), stream)
            calls.append(PreparedCall(request, configs[spec.name], spec.download_hosts))
            continue
        chosen = wanted.prompted if wanted.prompted is not None else _prompted_for(prompted,
                                                                                   candidate)
        try:
            plan = plan_call(spec.name, model, spec.options, normalized, wanted, rest, chosen,
                             needs)
            if strict and len(plan.warnings) > len(wanted.warnings):
                raise _strict_error(plan.warnings[len(wanted.warnings)])
            sent = validate_options(spec.name, model.kind, spec.options, plan.options)
        except InvalidRequestError as error:
            errors.append(error)
            continue
        request = CompletionRequest(spec.name, model, plan.messages, sent, stream, plan.params)
        calls.append(PreparedCall(request, configs[spec.name], spec.download_hosts,
                                  plan.warnings, plan.emulated, plan.stages))
    if not calls:
        raise _no_candidate(errors, needs, models, wanted)
    return Prepared(calls, wanted.n)


def _no_candidate(errors: list[InvalidRequestError], needs: frozenset[str],
                  models: Callable[[], list[ModelInfo]], wanted: Wanted) -> InvalidRequestError:
    """Return the error for a call no candidate can serve.

    A candidate that has every capability the call needs failed on something the caller can
    fix (an option, strict mode): that error comes first. Otherwise the capability error
    names what is missing and the models that have everything the call needs.
    """
    lacking = [error for error in errors if isinstance(error, CapabilityError)]
    if len(lacking) < len(errors):
        return next(error for error in errors if not isinstance(error, CapabilityError))
    need = lacking[0].capability
    having = [m.qualified_id for m in models() if m.kind == "chat" and m.available
              and all(m.capabilities.has(each) for each in needs)]
    shown = ", ".join(having[:LIST_LIMIT]) + (
        f" and {len(having) - LIST_LIMIT} more" if len(having) > LIST_LIMIT else "")
    tried = " ".join(str(error) for error in lacking)
    wanted_caps = " and ".join(NEEDS[each] for each in sorted(needs))
    text = f"{tried} Models with {wanted_caps}: {shown or 'none installed'}."
    promptable = {"tools": "tools", "json_schema": "json", "json_object": "json"}.get(need)
    if promptable in PROMPTABLE and wanted.prompted is None:
        # Said for both ways in: a library caller and a client of `jackfield serve`.
        text += (f" Or turn on prompted {promptable} to describe "
                 f"{'the tools' if promptable == 'tools' else 'the schema'} in the prompt and "
                 f"parse the reply: prompted={{'{promptable}'}} in Python, `jackfield serve "
                 f"--prompted {promptable}` for the server.")
    param = {"image_input": "messages", "json_schema": "response_format",
             "json_object": "response_format"}.get(need, need)
    if need == "tools" and not wanted.params.tools:
        param = "messages"  # the tool calls and results in the history need it
    return CapabilityError(text, capability=need, models=having, param=param)
