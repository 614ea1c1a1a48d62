"""Discovery: `GET {base}/v1/models`, page after page (`has_more` and `last_id`, asked for
again with `after_id`), each id with the capabilities of its family (spec.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jackfield.provider import ModelSpec, ProviderConfig, ProviderTransport, ResponseFormatError

from .spec import capabilities_for
from .wire import models_request

__all__ = ["MAX_PAGES", "discover"]

# A listing that never ends (a server that keeps saying has_more) is refused, not followed.
MAX_PAGES = 50


def _page(provider: str, document: Any) -> tuple[list[str], str | None]:
    """Return a page's ids and the id to continue after (None on the last page)."""
    entries = document.get("data") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise ResponseFormatError(provider, "the model list has no 'data' list",
                                  body=str(document)[:1000])
    ids = []
    for entry in entries:
        model_id = entry.get("id") if isinstance(entry, Mapping) else None
        if not isinstance(model_id, str) or not model_id.strip():
            raise ResponseFormatError(provider, "a model list entry has no string 'id'",
                                      body=str(entry)[:1000])
        ids.append(model_id)
    if document.get("has_more") is not True:
        return ids, None
    last = document.get("last_id")
    if not isinstance(last, str) or not last or not ids:
        raise ResponseFormatError(provider, "the model list says has_more but gives no "
                                  "last_id to continue after", body=str(document)[:1000])
    return ids, last


async def discover(provider: str, config: ProviderConfig,
                   transport: ProviderTransport) -> list[ModelSpec]:
    """Return every model the service lists, in its order (newest first at Anthropic)."""
    ids: dict[str, None] = {}
    after: str | None = None
    for _ in range(MAX_PAGES):
        page, after = _page(provider, await transport.fetch_json(models_request(config, after)))
        ids.update(dict.fromkeys(page))
        if after is None:
            return [ModelSpec(model_id, capabilities=capabilities_for(model_id))
                    for model_id in ids]
    raise ResponseFormatError(provider, f"the model list goes on for more than {MAX_PAGES} "
                              "pages; it is not followed further")
