"""What GET /health reports, and which of it a caller without the API key may see."""

from __future__ import annotations

from typing import Any

from jackfield._engine.registry import Registry
from jackfield._secrets import config_secrets, mask_known, remember

__all__ = ["WITHHELD", "health_report", "remember_secrets"]

# What /health shows instead of error text to a caller without the key, when a key is set.
WITHHELD = "withheld: send the API key as `Authorization: Bearer <key>` to see it"


def _error_text(text: str | None, withhold: bool) -> str | None:
    """Return error text as /health shows it: masked, or withheld (None stays None)."""
    if not text:
        return text
    return WITHHELD if withhold else mask_known(text)


def health_report(registry: Registry, *, withhold: bool,
                  shared: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return plugins, their load errors and each provider's counts, last error and cooldown.

    withhold: replace every error text (an error may quote what a provider said) by WITHHELD,
    for a caller without the API key; the counts and cooldowns stay. shared: the Redis
    entry (jackfield._shared.wiring.shared_status), shown as "redis" when the server has
    one; Redis unavailable makes the status "degraded" (calls go on, unshared).
    """
    plugins = [record.to_dict() for record in registry.plugins()]
    for plugin in plugins:
        plugin["error"] = _error_text(plugin["error"], withhold)
    providers = {name: entry.to_dict() | {"cooldown_remaining": round(entry.cooldown_remaining, 1),
                                          "last_error": _error_text(entry.last_error, withhold)}
                 for name, entry in registry.health().items()}
    troubled = (any(p["error"] for p in plugins)
                or any(p["cooling_down"] for p in providers.values())
                or (shared is not None and shared["status"] != "ok"))
    report = {"status": "degraded" if troubled else "ok", "plugins": plugins,
              "providers": providers}
    if shared is not None:
        report["redis"] = shared
    from jackfield._engine.probe_book import kept

    # Only once something was probed. A failing probe leaves "status" alone: a load balancer
    # reads it, and one retired model of forty must not take the server out of rotation.
    probes = {key: entry | {"message": _error_text(entry["message"], withhold)}
              for key, entry in kept(registry).items()}
    return report | ({"probes": probes} if probes else {})


def remember_secrets(registry: Registry, api_key: str | None) -> None:
    """Make the API key and every provider's credentials known to the masking of errors."""
    remember(api_key or "", *(secret for spec in registry.providers()
                              for secret in config_secrets(registry.config(spec.name))))
