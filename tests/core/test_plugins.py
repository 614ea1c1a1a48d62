"""Plugin loading: entry points, the allow-list, and isolation of broken plugins."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

import jackfield._engine.discovery
from jackfield import ConfigurationError, PluginError, Registry, Timeouts
from jackfield._engine.entrypoints import FoundEntryPoint
from jackfield.provider import ModelSpec, ProviderSpec, hookimpl
from mockprovider import MockProvider


class RaisesOnListing:
    __name__ = "raises_on_listing"

    @hookimpl
    def jackfield_provider(self) -> ProviderSpec:
        raise RuntimeError("boom")


class WrongType:
    __name__ = "wrong_type"

    @hookimpl
    def jackfield_provider(self) -> Any:
        return {"name": "wrong"}


class BadSignature:
    __name__ = "bad_signature"

    @hookimpl
    def jackfield_build_request(self, request: Any, config: Any, surprise: Any) -> Any:
        return None


def test_broken_plugins_are_recorded_and_the_rest_keep_working() -> None:
    copy = MockProvider()
    copy.__name__ = "mock_copy"
    registry = Registry([RaisesOnListing(), WrongType(), BadSignature(), MockProvider(), copy,
                         MockProvider()], environ={})
    records = {r.name: r for r in registry.plugins()}
    assert "boom" in (records["raises_on_listing"].error or "")
    assert "expected jackfield.ProviderSpec" in (records["wrong_type"].error or "")
    assert "surprise" in (records["bad_signature"].error or "")
    mocks = [r for r in registry.plugins() if r.name == "mock"]
    assert mocks[0].error is None and mocks[0].model_count == 3
    assert "already registered" in (mocks[1].error or "")
    assert "already served" in (records["mock_copy"].error or "")
    assert [p.name for p in registry.providers()] == ["mock"]
    assert {m.id for m in registry.models()} == {"echo", "painter", "broken"}


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch, *pairs: tuple[str, str]) -> None:
    points = [FoundEntryPoint(name=name, value=value, dist_name=None, version=None)
              for name, value in pairs]

    def entry_points(group: str) -> list[FoundEntryPoint]:
        return points if group == "jackfield" else []

    monkeypatch.setattr(jackfield._engine.discovery, "entry_points", entry_points)


@pytest.fixture
def good_module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType("jackfield_goodmock")

    @hookimpl
    def jackfield_provider() -> ProviderSpec:
        return ProviderSpec(name="good", base_url="http://127.0.0.1:9", models=(ModelSpec("m"),))

    module.jackfield_provider = jackfield_provider  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jackfield_goodmock", module)
    return module


def test_entry_point_that_fails_to_import_is_isolated(
        monkeypatch: pytest.MonkeyPatch, good_module: types.ModuleType) -> None:
    _fake_entry_points(monkeypatch, ("broken", "jackfield_no_such_module_xyz"),
                       ("good", "jackfield_goodmock"))
    registry = Registry.discover(environ={})
    records = {r.name: r for r in registry.plugins()}
    assert "failed to import" in (records["broken"].error or "")
    assert records["good"].error is None
    assert records["good"].hooks == ("jackfield_provider",)
    assert [m.id for m in registry.models()] == ["m"]


@pytest.mark.parametrize(("allow", "expected"), [
    ("", []), ("good", ["good"]), (" GOOD ,", ["good"]), (None, ["good"])])
def test_load_plugins_allow_list(monkeypatch: pytest.MonkeyPatch, good_module: types.ModuleType,
                                 allow: str | None, expected: list[str]) -> None:
    _fake_entry_points(monkeypatch, ("good", "jackfield_goodmock"))
    environ = {} if allow is None else {"JACKFIELD_LOAD_PLUGINS": allow}
    assert [r.name for r in Registry.discover(environ=environ).plugins()] == expected


def test_load_plugins_naming_nothing_installed_lists_what_is(
        monkeypatch: pytest.MonkeyPatch, good_module: types.ModuleType) -> None:
    # It used to load nothing and say nothing: a typo silently emptied the registry.
    _fake_entry_points(monkeypatch, ("good", "jackfield_goodmock"))
    with pytest.raises(ConfigurationError, match=r"names other, .*installed: good \(names "):
        Registry(environ={"JACKFIELD_LOAD_PLUGINS": "good, other"})


@pytest.mark.parametrize("spelling", ["jackfield_aichats", "Jackfield-AiChats",
                                      "jackfield.aichats", "jackfield-aichats"])
def test_load_plugins_compares_distribution_names_as_pip_does(spelling: str) -> None:
    registry = Registry(environ={"JACKFIELD_LOAD_PLUGINS": spelling})
    assert [r.distribution for r in registry.plugins()] == ["jackfield-aichats"]


def test_load_plugins_typo_names_the_installed_distributions() -> None:
    with pytest.raises(ConfigurationError,
                       match=r"jackfield-aichat, .*installed: .*jackfield-aichats"):
        Registry(environ={"JACKFIELD_LOAD_PLUGINS": "jackfield-aichat"})


def test_plain_constructor_loads_every_installed_plugin() -> None:
    # Registry() and Registry(config=...) used to build a registry with no providers at all.
    names = {"aichats", "amigochat"}
    assert names <= {spec.name for spec in Registry(environ={}).providers()}
    registry = Registry(environ={}, timeouts=Timeouts(connect=1),
                        config={"aichats": {"base_url": "http://127.0.0.1:1"}})
    assert names <= {spec.name for spec in registry.providers()}
    assert registry.config("aichats").base_url == "http://127.0.0.1:1"
    assert [spec.name for spec in Registry([MockProvider()], environ={}).providers()] == ["mock"]
    assert Registry([], environ={}).providers() == []


def test_real_entry_point_discovery_of_installed_distributions() -> None:
    """The seed plugins are installed distributions: discovery finds them by entry point."""
    registry = Registry.discover(environ={})
    found = {r.distribution: r for r in registry.plugins()}
    for dist in ("jackfield-aichats", "jackfield-amigochat"):
        if dist not in found:
            pytest.fail(f"{dist} is not installed: run `pip install -e plugins/...`")
        assert found[dist].error is None
        assert found[dist].version


async def test_hook_that_raises_is_named_in_a_plugin_error(mock_registry: Registry) -> None:
    class Exploding:
        @hookimpl(tryfirst=True)
        def jackfield_build_request(self, request: Any, config: Any) -> Any:
            raise KeyError("oops")

    mock_registry.plugin_manager.register(Exploding())
    with pytest.raises(PluginError, match="jackfield_build_request: KeyError"):
        await mock_registry.complete("echo", "hi")


async def test_parser_yielding_wrong_type_is_a_plugin_error(mock_registry: Registry) -> None:
    class Wrapper:
        @hookimpl(wrapper=True)
        def jackfield_parse_response(self, request: Any, response: Any, transport: Any) -> Any:
            inner = yield

            async def junk() -> Any:
                async for _ in inner:
                    yield "not an event"

            return junk()

    mock_registry.plugin_manager.register(Wrapper())
    with pytest.raises(PluginError, match="yielded str"):
        await mock_registry.complete("echo", "hi")


async def test_build_and_parse_reach_only_the_owning_plugin(
        mock_server: Any, serve_app: Any) -> None:
    class Strict(MockProvider):
        """Fails loudly if the core ever hands it another provider's call."""

        def jackfield_build_request(self, request: Any, config: Any) -> Any:
            assert request.provider == self.name, f"{self.name} got {request.provider}'s call"
            return super().jackfield_build_request(request, config)

        jackfield_build_request = hookimpl(jackfield_build_request)  # type: ignore[assignment]

    url = await serve_app(mock_server.app)
    async with Registry([Strict("alpha"), Strict("beta")], environ={},
                        config={"alpha": {"base_url": url}, "beta": {"base_url": url}}) as reg:
        assert (await reg.complete("alpha/echo", "hi")).provider == "alpha"
        assert (await reg.complete("beta/echo", "hi")).provider == "beta"


def test_a_broken_emulator_hook_hides_only_its_own_emulator(
        caplog: pytest.LogCaptureFixture) -> None:
    class BrokenEmulator(MockProvider):
        @hookimpl
        def jackfield_emulator(self) -> Any:
            raise OSError("no port")

    class GoodEmulator(MockProvider):
        @hookimpl
        def jackfield_emulator(self) -> Any:
            return dict

    registry = Registry([BrokenEmulator("alpha"), GoodEmulator("beta")], environ={})
    assert registry.emulators() == {"beta": dict}
    assert "'alpha' failed in jackfield_emulator: OSError: no port" in caplog.text
