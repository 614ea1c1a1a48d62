"""Typed errors: every failure a caller can see, each message saying what to do next."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "AllProvidersFailedError",
    "AuthenticationError",
    "CapabilityError",
    "ConfigurationError",
    "InvalidRequestError",
    "JackfieldError",
    "ModelUnavailableError",
    "PartialResponseError",
    "PluginError",
    "ProviderError",
    "ProviderTimeoutError",
    "ProviderUnavailableError",
    "RateLimitError",
    "ResponseFormatError",
    "StalledResponseError",
    "UnknownModelError",
    "UnparsableReplyError",
]

EXCERPT_LIMIT = 200


def excerpt(body: bytes | str | None, limit: int = EXCERPT_LIMIT) -> str:
    """Return a short, single-line, printable excerpt of a response body."""
    if body is None:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class JackfieldError(Exception):
    """Base class of every error jackfield raises on purpose."""


class InvalidRequestError(JackfieldError, ValueError):
    """The call itself is wrong (messages, options, model kind); nothing was sent.

    `param` names the offending field when there is one ("messages[2].content",
    "tool_choice"), as OpenAI's error bodies do.
    """

    def __init__(self, message: str = "", *, param: str | None = None) -> None:
        self.param = param
        super().__init__(message)


class CapabilityError(InvalidRequestError):
    """No candidate model can do what the call needs (tools, image input, a JSON schema...).

    `capability` names what was needed; `models` lists models that have it.
    """

    def __init__(self, message: str, *, capability: str, models: Sequence[str] = (),
                 param: str | None = None) -> None:
        self.capability = capability
        self.models = tuple(models)
        super().__init__(message, param=param)


class ConfigurationError(InvalidRequestError):
    """A setting (keyword argument, environment variable or config file entry) is refused.

    The message names the setting, where its value came from and the values it accepts.
    """


class UnknownModelError(JackfieldError, LookupError):
    """No installed provider serves the requested model name.

    `provider` is set when the provider's service itself answered that it has no such model
    (a pass-through id, or a listing that is out of date).
    """

    def __init__(self, name: str, suggestions: Sequence[str] = (), detail: str = "", *,
                 provider: str | None = None) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        self.provider = provider
        self.detail = detail  # what was said besides the name (a service's own words, say)
        message = detail or f"Unknown model {name!r}."
        if self.suggestions:
            message += " Did you mean: " + ", ".join(repr(s) for s in self.suggestions) + "?"
        message += (" Run `jackfield models --refresh` to list the models its service has now."
                    if provider else
                    " Run `jackfield models` to list every model the installed plugins serve.")
        super().__init__(message)

    @classmethod
    def from_service(cls, provider: str, model: str, said: str = "") -> UnknownModelError:
        """Return the error for a service's own "no such model" answer, quoting it."""
        quoted = " ".join(said.split())[:EXCERPT_LIMIT]
        return cls(f"{provider}/{model}", provider=provider,
                   detail=f"{provider} has no model {model!r}"
                          + (f" (the service said: {quoted})." if quoted else "."))


class ModelUnavailableError(UnknownModelError):
    """The model is listed but flagged unavailable; it is routed only when pinned."""

    def __init__(self, name: str, providers: Sequence[str]) -> None:
        pins = ", ".join(f"'{p}/{name}'" for p in providers)
        detail = (
            f"Model {name!r} is listed but marked unavailable by {', '.join(providers)} "
            f"(it failed upstream). Pin it as {pins} to try it anyway."
            if providers else
            f"Every model of route {name!r} is marked unavailable; pin one as 'provider/model'."
        )
        super().__init__(name, detail=detail)


class PluginError(JackfieldError):
    """A plugin's hook raised an unexpected exception or returned the wrong type."""

    def __init__(self, plugin: str, hook: str, problem: str) -> None:
        self.plugin = plugin
        self.hook = hook
        super().__init__(
            f"Plugin {plugin!r} failed in {hook}: {problem}. This is a bug in the plugin; "
            f"report it to its authors, or disable it with JACKFIELD_LOAD_PLUGINS."
        )


class ProviderError(JackfieldError):
    """The provider answered with an error or could not be used."""

    default_advice = "Try again later or pick another model."

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        status: int | None = None,
        body: bytes | str | None = None,
        advice: str | None = None,
    ) -> None:
        self.provider = provider
        self.status = status
        self.body_excerpt = excerpt(body)
        text = f"{provider}: {message}"
        if status is not None:
            text += f" (HTTP {status})"
        if self.body_excerpt:
            text += f"; the provider said: {self.body_excerpt}"
        # What went wrong, without the advice: other errors quote it (PartialResponseError).
        self.summary = text.rstrip(".")
        self.advice = advice if advice is not None else self.default_advice
        super().__init__(f"{self.summary}. {self.advice}")


class AuthenticationError(ProviderError):
    """The provider refused our credentials (401/403) or a required one is not set."""

    default_advice = "Check the provider's credentials in your configuration."


class RateLimitError(ProviderError):
    """The provider is rate limiting us (429); `retry_after` says for how long, if known.

    `quota=True` says the account's quota or credit is used up: no wait helps, so the core
    does not retry it (the next candidate is tried).
    """

    default_advice = "Wait before retrying, or pick another model."

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = 429,
        body: bytes | str | None = None,
        quota: bool = False,
    ) -> None:
        self.retry_after = retry_after
        self.quota = quota
        advice = (
            "Check the account's plan and billing with the provider, or pick another model."
            if quota else
            f"Retry after {retry_after:g} s, or pick another model."
            if retry_after is not None
            else None
        )
        super().__init__(provider, message, status=status, body=body, advice=advice)


class ProviderUnavailableError(ProviderError):
    """The provider is down: 5xx, refused or dropped connections."""

    default_advice = "The service may be down; try again later or pick another provider."


class ProviderTimeoutError(ProviderError):
    """The provider did not connect or answer within the configured timeouts."""

    default_advice = "Raise the timeout (timeout=...) or try again later."


class StalledResponseError(ProviderTimeoutError):
    """The reply started, then nothing arrived for longer than the read-idle timeout."""

    default_advice = ("The provider stopped sending mid-reply; it is not retried. Raise "
                      "Timeouts(read_idle=...) if it is just slow, or pick another model.")


class ResponseFormatError(ProviderError):
    """The provider's reply does not follow its protocol (or exceeds the size limits)."""

    default_advice = (
        "The service may have changed its protocol or sent an error page; "
        "update the plugin or report it."
    )


class UnparsableReplyError(ResponseFormatError):
    """A reply to prompted tools or prompted JSON did not parse into what was asked for.

    Raised instead of handing the broken text back as if it were the answer; `reply` holds
    the model's text, for debugging.
    """

    default_advice = ("The model did not follow the prompted format; try again, simplify the "
                      "tools or schema, or pick a model with native support.")

    def __init__(self, provider: str, message: str, *, reply: str = "") -> None:
        self.reply = reply
        super().__init__(provider, message)


class PartialResponseError(ProviderError):
    """The call failed after part of the reply had already reached the caller."""

    def __init__(self, cause: ProviderError, *, delivered_chars: int,
                 delivered_images: int) -> None:
        self.cause = cause
        self.delivered_chars = delivered_chars
        self.delivered_images = delivered_images
        super().__init__(
            cause.provider,
            f"the reply broke off after {delivered_chars} characters and "
            f"{delivered_images} images had been delivered ({cause.summary})",
            status=cause.status,
            advice="The partial reply is incomplete; it was not retried. Ask again if you need "
            "the whole answer.",
        )


class AllProvidersFailedError(JackfieldError):
    """Every provider that serves the model failed before delivering anything."""

    def __init__(self, model: str, errors: Iterable[JackfieldError]) -> None:
        self.model = model
        self.errors = tuple(errors)
        lines = "\n".join(f"  - {error}" for error in self.errors)
        super().__init__(
            f"Every provider for {model!r} failed:\n{lines}\n"
            "Try again later, or pin one provider as 'provider/model'."
        )
