"""What the plugin declares: the `openai` provider, its settings and options, the kind rule
for discovered ids, and the headers that carry the credentials."""

from __future__ import annotations

from urllib.parse import urlsplit

from jackfield.provider import (
    Kind,
    Option,
    ProviderConfig,
    ProviderSpec,
    Setting,
)

__all__ = ["DEFAULT_BASE_URL", "OPENAI_HOST", "PROVIDER", "auth_headers", "chat_capable",
           "guess_kind", "provider_spec"]

PROVIDER = "openai"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
OPENAI_HOST = "api.openai.com"
# The hint of the `openai` provider itself; a named instance's comes from the core, which
# names that instance's own variable and table.
AUTH_HINT = ("Set JACKFIELD_OPENAI_API_KEY (or OPENAI_API_KEY), or run `jackfield keys set "
             "openai api_key`.")

# Image-generation model families, by id prefix or fragment: OpenAI's own and the common
# open ones that OpenAI-compatible servers expose under /images/generations.
_IMAGE_PREFIXES = ("dall-e", "gpt-image", "chatgpt-image")
_IMAGE_FRAGMENTS = ("stable-diffusion", "sdxl", "flux")
# OpenAI lists models that /chat/completions refuses (speech, transcription, moderation,
# realtime, the legacy completions-only bases): listed as unavailable, used only when pinned.
_NOT_CHAT = ("tts", "whisper", "moderation", "transcribe", "realtime", "davinci-002",
             "babbage-002")
_IMAGE_ONLY: tuple[Kind, ...] = ("image",)
_EMBEDDING_ONLY: tuple[Kind, ...] = ("embedding",)
_CHAT_ONLY: tuple[Kind, ...] = ("chat",)


def guess_kind(model_id: str) -> Kind:
    """Return a listed id's kind when the server does not say: "embedding" when the id holds
    "embed"; "image" for DALL-E, GPT Image, Stable Diffusion, SDXL and FLUX ids; else "chat".

    The last path segment decides ("openai/dall-e-3" on OpenRouter is an image model).
    """
    name = model_id.lower().rsplit("/", 1)[-1]
    if "embed" in name:
        return "embedding"
    if name.startswith(_IMAGE_PREFIXES) or any(part in name for part in _IMAGE_FRAGMENTS):
        return "image"
    return "chat"


def chat_capable(model_id: str) -> bool:
    """Return False for a chat-kind id of a family that chat completions refuse (speech,
    transcription, moderation, realtime, davinci-002, babbage-002)."""
    name = model_id.lower().rsplit("/", 1)[-1]
    return not any(part in name for part in _NOT_CHAT)


def provider_spec() -> ProviderSpec:
    """Return the default instance: api.openai.com, models discovered, any id passed through."""
    return ProviderSpec(
        name=PROVIDER,
        base_url=DEFAULT_BASE_URL,
        models=(),  # discovered from GET {base}/models; none is assumed
        options={
            "user": Option(str, doc="An end-user id the service may use to detect abuse."),
            # OpenAI's own chat fields, passed as they are (a server that lacks one says so).
            "logit_bias": Option(dict, kinds=_CHAT_ONLY,
                                 doc="Token id -> bias from -100 to 100."),
            "store": Option(bool, kinds=_CHAT_ONLY,
                            doc="Whether OpenAI stores the completion."),
            "metadata": Option(dict, kinds=_CHAT_ONLY,
                               doc="Up to 16 string pairs kept with a stored completion."),
            "service_tier": Option(str, kinds=_CHAT_ONLY,
                                   doc="auto, default, flex or priority."),
            "prompt_cache_key": Option(str, kinds=_CHAT_ONLY,
                                       doc="A key grouping requests for prompt caching."),
            "safety_identifier": Option(str, kinds=_CHAT_ONLY,
                                        doc="A stable, hashed id of the end user."),
            "verbosity": Option(str, kinds=_CHAT_ONLY, doc="low, medium or high."),
            "size": Option(str, kinds=_IMAGE_ONLY,
                           doc="Image size, e.g. 1024x1024 (what the model accepts)."),
            "quality": Option(str, kinds=_IMAGE_ONLY,
                              doc="Image quality: standard/hd (DALL-E 3), low/medium/high."),
            "style": Option(str, kinds=_IMAGE_ONLY, doc="Image style: vivid or natural."),
            "encoding_format": Option(str, default="base64", kinds=_EMBEDDING_ONLY,
                                      doc="How vectors travel: base64 (compact) or float."),
        },
        settings={
            "api_key": Setting(doc="The API key, sent as `Authorization: Bearer ...`; "
                                   "optional for servers that need none (Ollama, vLLM).",
                               secret=True, fallback_env=("OPENAI_API_KEY",)),
            "organization": Setting(doc="OpenAI organization id (OpenAI-Organization).",
                                    secret=False),
            "project": Setting(doc="OpenAI project id (OpenAI-Project).", secret=False),
        },
        auth_hint=AUTH_HINT,
        pass_through=True,
    )


def needs_key(config: ProviderConfig) -> bool:
    """Return True when the base URL is OpenAI's own API, which never works without a key."""
    host = urlsplit(config.base_url).hostname or ""
    return host.lower().rstrip(".") == OPENAI_HOST


def auth_headers(config: ProviderConfig) -> dict[str, str]:
    """Return the credential headers for a request; raise before any I/O when OpenAI's own
    API is configured without a key (a local server without one gets no Authorization)."""
    key = config.get("api_key")
    if not key and needs_key(config):
        # Raised here so that an unconfigured install never sends anything to the internet;
        # require() names the variables this provider reads (an instance's are its own).
        key = config.require("api_key")
    headers = {"authorization": f"Bearer {key}"} if key else {}
    organization, project = config.get("organization"), config.get("project")
    if organization:
        headers["openai-organization"] = organization
    if project:
        headers["openai-project"] = project
    return headers
