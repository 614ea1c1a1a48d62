"""The hooks on their own, without a Registry: what the build hook sends, what discovery and
the error hook return."""

from __future__ import annotations

import pytest
from openai_helpers import KEY, SPEC

import jackfield_openai
from jackfield.provider import (
    AuthenticationError,
    CompletionRequest,
    ErrorReply,
    InvalidRequestError,
    Message,
    ProviderUnavailableError,
    RateLimitError,
    UnknownModelError,
)
from jackfield.testing import Emulator, ProviderHarness, make_config


async def test_discover_models_hook(emulator: Emulator,
                                    provider_harness: ProviderHarness) -> None:
    config = make_config(SPEC, base_url=f"{emulator.url}/v1", api_key=KEY)
    transport = provider_harness.for_provider("openai", config.base_url)
    models = await jackfield_openai.jackfield_discover_models(
        provider=SPEC, config=config, transport=transport)
    assert [m.id for m in models][:2] == ["gpt-4o-mini", "gpt-4o"]
    with pytest.raises(AuthenticationError):  # OpenAI itself, without a key: nothing is sent
        await jackfield_openai.jackfield_discover_models(
            provider=SPEC, config=make_config(SPEC), transport=transport)


def test_build_request_for_a_streamed_chat() -> None:
    # No static model to name: the request a pinned, unlisted id comes as.
    call = CompletionRequest("openai", SPEC.unlisted("my-model"),
                             (Message(role="user", content="hi"),), stream=True)
    built = jackfield_openai.jackfield_build_request(
        request=call, config=make_config(SPEC, base_url="http://127.0.0.1:9/v1"))
    assert built.url == "http://127.0.0.1:9/v1/chat/completions" and built.stream
    assert built.json == {"model": "my-model", "messages": [{"role": "user", "content": "hi"}],
                          "stream": True, "stream_options": {"include_usage": True}}
    assert "authorization" not in built.headers  # a local server without a key


def reply(status: int, body: bytes, model: str | None = "m1") -> ErrorReply:
    return ErrorReply("openai", status, {}, body,
                      ProviderUnavailableError("openai", "the core's default"), model)


@pytest.mark.parametrize(("status", "body", "kind"), [
    (404, b'{"error": {"message": "The model `m1` does not exist", "code": null}}',
     UnknownModelError),
    (400, b'{"error": {"message": "too long", "type": "invalid_request_error",'
          b' "param": "messages", "code": "context_length_exceeded"}}', InvalidRequestError),
    (429, b'{"error": {"message": "quota", "type": "insufficient_quota",'
          b' "code": "insufficient_quota"}}', RateLimitError),
    (401, b'{"error": {"message": "bad key"}}', AuthenticationError),
])
def test_error_reply_hook(status: int, body: bytes, kind: type[Exception]) -> None:
    error = jackfield_openai.jackfield_error_reply(request=None, reply=reply(status, body))
    assert isinstance(error, kind)


def test_error_reply_hook_leaves_what_it_cannot_read_to_the_core() -> None:
    assert jackfield_openai.jackfield_error_reply(
        request=None, reply=reply(404, b"<html>not found</html>", model=None)) is None
    assert jackfield_openai.jackfield_error_reply(
        request=None, reply=reply(429, b'{"error": {"message": "slow down"}}')) is None


@pytest.mark.parametrize(("base_url", "field"), [
    ("https://api.openai.com/v1", "max_completion_tokens"),  # its reasoning models refuse
    ("http://127.0.0.1:9/v1", "max_tokens"),                  # what other servers know
])
def test_the_token_limit_goes_by_the_name_the_server_takes(base_url: str, field: str) -> None:
    from jackfield.testing import make_request

    spec = SPEC.with_models([SPEC.unlisted("m")])
    call = make_request(spec, "m", "hi", max_completion_tokens=5)
    built = jackfield_openai.jackfield_build_request(
        request=call, config=make_config(spec, base_url=base_url, api_key=KEY))
    assert built.json[field] == 5
    assert {"max_tokens", "max_completion_tokens"} - {field} & set(built.json) == set()


def test_openai_s_own_chat_fields_pass_as_options() -> None:
    from jackfield.testing import make_request

    spec = SPEC.with_models([SPEC.unlisted("m")])
    call = make_request(spec, "m", "hi", logit_bias={"50256": -100}, store=True,
                        metadata={"run": "7"}, service_tier="flex")
    built = jackfield_openai.jackfield_build_request(
        request=call, config=make_config(spec, base_url="http://127.0.0.1:9/v1"))
    assert built.json["logit_bias"] == {"50256": -100} and built.json["store"] is True
    assert built.json["metadata"] == {"run": "7"} and built.json["service_tier"] == "flex"
    assert call.params.to_openai() == {}  # none of them is one of complete()'s own
