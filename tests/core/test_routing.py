"""Name resolution: aliases before ids, provider pins, order, suggestions, availability."""

from __future__ import annotations

import pytest

from jackfield import ModelUnavailableError, UnknownModelError
from jackfield._engine.routing import Router
from jackfield.provider import ModelSpec, ProviderSpec


def spec(name: str, *models: ModelSpec, aliases: dict[str, str] | None = None,
         default: str | None = None) -> ProviderSpec:
    return ProviderSpec(name=name, base_url="http://127.0.0.1:9", models=models,
                        aliases=aliases or {}, default_model=default)


AMIGO = spec("amigochat", ModelSpec("gpt-4o-2024-11-20"), ModelSpec("gpt-4o"),
             ModelSpec("o1-mini-", available=False), ModelSpec("flux/dev", "image"),
             aliases={"gpt-4o": "gpt-4o-2024-11-20", "flux-dev": "flux/dev"},
             default="gpt-4o")
CHATS = spec("aichats", ModelSpec("gpt-4"), ModelSpec("dalle", "image"), default="gpt-4")
ZED = spec("zed", ModelSpec("gpt-4"))


def router(*specs: ProviderSpec, order: tuple[str, ...] = ()) -> Router:
    return Router({s.name: s for s in specs}, order)


def test_alias_wins_over_an_id_of_the_same_name() -> None:
    [route] = router(AMIGO).resolve("gpt-4o")
    assert route.model.id == "gpt-4o-2024-11-20"


def test_ids_with_slashes_resolve_and_pins_split_on_the_provider() -> None:
    assert router(AMIGO).resolve("flux/dev")[0].model.id == "flux/dev"
    [route] = router(AMIGO).resolve("amigochat/flux/dev")
    assert (route.provider.name, route.model.id) == ("amigochat", "flux/dev")
    assert router(AMIGO).resolve("amigochat/flux-dev")[0].model.id == "flux/dev"


def test_several_providers_alphabetical_unless_ordered() -> None:
    assert [r.provider.name for r in router(ZED, CHATS).resolve("gpt-4")] == ["aichats", "zed"]
    ordered = router(ZED, CHATS, order=("zed",)).resolve("gpt-4")
    assert [r.provider.name for r in ordered] == ["zed", "aichats"]


def test_pin_selects_one_provider() -> None:
    assert [r.provider.name for r in router(ZED, CHATS).resolve("zed/gpt-4")] == ["zed"]


def test_bare_provider_name_means_its_default_model() -> None:
    assert router(CHATS).resolve("aichats")[0].model.id == "gpt-4"


def test_unavailable_models_need_a_pin() -> None:
    with pytest.raises(ModelUnavailableError, match="'amigochat/o1-mini-'"):
        router(AMIGO).resolve("o1-mini-")
    assert router(AMIGO).resolve("amigochat/o1-mini-")[0].model.id == "o1-mini-"


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(UnknownModelError) as caught:
        router(AMIGO, CHATS).resolve("gpt-4o-mni")
    assert "gpt-4o" in caught.value.suggestions
    assert "jackfield models" in str(caught.value)


def test_unknown_model_under_a_pin_suggests_pinned_names() -> None:
    with pytest.raises(UnknownModelError) as caught:
        router(AMIGO).resolve("amigochat/flux-dv")
    assert "amigochat/flux-dev" in caught.value.suggestions


def test_models_list_carries_aliases_and_flags() -> None:
    infos = {m.qualified_id: m for m in router(AMIGO).models()}
    assert infos["amigochat/gpt-4o-2024-11-20"].aliases == ("gpt-4o",)
    assert infos["amigochat/o1-mini-"].available is False
    assert infos["amigochat/gpt-4o"].default is True
    assert infos["amigochat/flux/dev"].kind == "image"


def test_provider_spec_rejects_inconsistent_tables() -> None:
    with pytest.raises(ValueError, match="unknown ids"):
        spec("bad", ModelSpec("a"), aliases={"b": "missing"})
    with pytest.raises(ValueError, match="twice"):
        spec("bad", ModelSpec("a"), ModelSpec("a"))
    with pytest.raises(ValueError, match="default model"):
        spec("bad", ModelSpec("a"), default="z")
