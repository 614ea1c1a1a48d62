"""What the plugin declares: the `anthropic` provider, its settings and options, what each
model family can do, and the headers of every request."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from jackfield.provider import Capabilities, Option, ProviderConfig, ProviderSpec, Setting

__all__ = ["ANTHROPIC_HOST", "API_VERSION", "DEFAULT_BASE_URL", "DEFAULT_MAX_TOKENS",
           "PROVIDER", "auth_headers", "capabilities_for", "provider_spec"]

PROVIDER = "anthropic"
DEFAULT_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_HOST = "api.anthropic.com"
# The version of the Messages API this plugin speaks (the only one Anthropic has published
# since 2023; new features come as `anthropic-beta` flags instead).
API_VERSION = "2023-06-01"
# Anthropic requires max_tokens on every call. 4096 is the smallest maximum output of any
# Claude model still served (Claude 3 Haiku), so the default is valid for every one of them;
# the caller's max_tokens replaces it.
DEFAULT_MAX_TOKENS = 4096
AUTH_HINT = ("Set JACKFIELD_ANTHROPIC_API_KEY (or ANTHROPIC_API_KEY), or run `jackfield keys "
             "set anthropic api_key`.")

# What the Messages API takes for every model: temperature, top_p and max_tokens (it has no
# penalties, seed or logprobs), stop_sequences, tools. JSON output goes through a forced tool
# (wire.py), so it stands or falls with tools.
_SAMPLING = frozenset({"temperature", "top_p", "max_tokens"})
# An id that is not Claude's (an Anthropic-compatible endpoint of another vendor, or a
# pinned pass-through id): the shape is the Messages API, what the model does is the
# server's to decide.
COMPATIBLE = Capabilities(tools=None, image_input=None, json_object=None, json_schema=None,
                          stop=True, seed=False, reasoning=None, logprobs=False,
                          sampling=_SAMPLING)
_GENERATION = (re.compile(r"^claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d)(?!\d))?"),
               re.compile(r"^claude-(\d+)(?:[-.](\d)(?!\d))?"))


def _generation(model_id: str) -> float | None:
    """Return a Claude id's generation: 3.7 for claude-3-7-sonnet-..., 4.5 for
    claude-sonnet-4-5-..., 2.1 for claude-2.1, 1 for claude-instant-...; None for any
    other id."""
    name = model_id.lower().rsplit("/", 1)[-1]
    if name.startswith("claude-instant"):
        return 1.0
    for pattern in _GENERATION:
        match = pattern.match(name)
        if match:
            return float(f"{match.group(1)}.{match.group(2) or 0}")
    return None


def capabilities_for(model_id: str) -> Capabilities:
    """Return what a model can do: Claude 3 and later see images and use tools, 3.7 and
    later think (extended thinking); older Claude ids are text only; any other id is the
    server's to decide (COMPATIBLE)."""
    generation = _generation(model_id)
    if generation is None:
        return COMPATIBLE
    modern = generation >= 3
    return Capabilities(tools=modern, image_input=modern, json_object=modern,
                        json_schema=modern, stop=True, seed=False,
                        reasoning=generation >= 3.7, logprobs=False, sampling=_SAMPLING)


def provider_spec() -> ProviderSpec:
    """Return the default instance: api.anthropic.com, models discovered, ids passed through."""
    return ProviderSpec(
        name=PROVIDER,
        base_url=DEFAULT_BASE_URL,
        models=(),  # discovered from GET {base}/v1/models; none is assumed
        options={
            "top_k": Option(int, kinds=("chat",),
                            doc="Sample from the k most likely tokens only."),
            "user_id": Option(str, kinds=("chat",),
                              doc="An opaque id of the end user (metadata.user_id)."),
            "thinking_budget": Option(int, kinds=("chat",),
                                      doc="Extended thinking's budget_tokens (1024 or more), "
                                          "instead of the one reasoning_effort maps to."),
        },
        settings={
            "api_key": Setting(doc="The API key, sent as `x-api-key`; optional for an "
                                   "Anthropic-compatible server that needs none.",
                               secret=True, fallback_env=("ANTHROPIC_API_KEY",)),
            "beta": Setting(doc="anthropic-beta flags to send, comma-separated.",
                            secret=False),
        },
        auth_hint=AUTH_HINT,
        pass_through=True,
        pass_through_capabilities=COMPATIBLE,
    )


def needs_key(config: ProviderConfig) -> bool:
    """Return True when the base URL is Anthropic's own API, which never works without a key."""
    host = urlsplit(config.base_url).hostname or ""
    return host.lower().rstrip(".") == ANTHROPIC_HOST


def auth_headers(config: ProviderConfig) -> dict[str, str]:
    """Return the version and credential headers; raise before any I/O when Anthropic's own
    API is configured without a key (another server without one gets no x-api-key)."""
    key = config.get("api_key")
    if not key and needs_key(config):
        # Raised here so that an unconfigured install never sends anything to the internet;
        # require() names the variables this provider reads (an instance's are its own).
        key = config.require("api_key")
    headers = {"anthropic-version": API_VERSION}
    if key:
        headers["x-api-key"] = key
    beta = config.get("beta")
    if beta:
        headers["anthropic-beta"] = beta
    return headers
