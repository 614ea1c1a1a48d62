"""Model discovery against a loopback service: the TTL cache, refresh_models(), one listing
request per provider at a time, a service that fails in every way, and models pulled later."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from discovering import DiscoveringProvider, ModelService, StaticProvider, started
from jackfield import (
    ConfigurationError,
    DiscoveryPolicy,
    InvalidRequestError,
    Registry,
    UnknownModelError,
)
from jackfield.provider import (
    HttpRequest,
    ModelSpec,
    ProviderConfig,
    ProviderSpec,
    ProviderTransport,
    hookimpl,
)
from jackfield.testing import RegistryFactory, ServeApp

KEY = "sk-discovery-secret-0123456789"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def service(serve_app: ServeApp) -> ModelService:
    return await started(serve_app)


def build(make_registry: RegistryFactory, service: ModelService, *plugins: Any,
          clock: Clock | None = None, **kwargs: Any) -> Registry:
    plugins = plugins or (DiscoveringProvider(),)
    config = kwargs.pop("config", {})
    for plugin in plugins:
        config.setdefault(plugin.name, {}).setdefault("base_url", service.url)
        config[plugin.name].setdefault("api_key", KEY)
    registry = make_registry(list(plugins), config=config, **kwargs)
    if clock is not None:
        registry._book._clock = clock  # the book's clock: ttl and retry without sleeping
    return registry


def ids(registry: Registry, provider: str | None = None) -> list[str]:
    return [m.qualified_id for m in registry.models(provider=provider)]


async def test_the_static_list_until_asked_then_the_services(make_registry: RegistryFactory,
                                                              service: ModelService) -> None:
    plugin = DiscoveringProvider(static=[ModelSpec("static-1")])
    registry = build(make_registry, service, plugin)
    assert ids(registry) == ["disc/static-1"]
    assert service.listings == 0  # building a registry and listing asks nobody
    found = await registry.refresh_models()
    assert [m.qualified_id for m in found] == ["disc/m1", "disc/emb-1"]
    assert [m.kind for m in found] == ["chat", "embedding"]
    assert ids(registry) == ["disc/m1", "disc/emb-1"]
    assert service.listings == 1 and registry.discovery_warnings() == {}
    assert service.headers[0]["Authorization"] == f"Bearer {KEY}"


async def test_a_call_refreshes_a_stale_list_once_per_ttl(make_registry: RegistryFactory,
                                                          service: ModelService) -> None:
    clock = Clock()
    registry = build(make_registry, service, clock=clock,
                     discovery=DiscoveryPolicy(ttl=60, retry=60))
    assert (await registry.complete("m1", "hi")).text == "m1 says hi"
    assert service.listings == 1  # never asked: stale
    await registry.complete("m1", "hi")
    clock.now += 59
    await registry.complete("m1", "hi")
    assert service.listings == 1  # fresh for ttl seconds
    clock.now += 1
    await registry.complete("m1", "hi")
    assert service.listings == 2


async def test_ttl_zero_asks_before_every_call(make_registry: RegistryFactory,
                                               service: ModelService) -> None:
    registry = build(make_registry, service, discovery=DiscoveryPolicy(ttl=0))
    for _ in range(3):
        await registry.complete("m1", "hi")
    assert service.listings == 3


async def test_refresh_models_all_one_or_only_the_stale(make_registry: RegistryFactory,
                                                        service: ModelService) -> None:
    clock = Clock()
    one, two = DiscoveringProvider("one"), DiscoveringProvider("two")
    registry = build(make_registry, service, one, two, clock=clock,
                     discovery=DiscoveryPolicy(ttl=100))
    await registry.refresh_models(provider="one")
    assert (one.asked, two.asked) == (["one"], [])
    assert ids(registry, "two") == []  # not asked yet: its static list (empty)
    await registry.refresh_models(stale_only=True)
    assert (one.asked, two.asked) == (["one"], ["two"])  # one was fresh
    await registry.refresh_models(stale_only=True)
    assert service.listings == 2  # nothing was stale
    await registry.refresh_models()  # all, fresh or not
    assert (one.asked, two.asked) == (["one", "one"], ["two", "two"])
    clock.now += 100
    await registry.refresh_models(provider="two", stale_only=True)
    assert (len(one.asked), len(two.asked)) == (2, 3)
    with pytest.raises(InvalidRequestError, match="no provider is named 'three'") as caught:
        await registry.refresh_models(provider="three")
    assert caught.value.param == "provider"
    with pytest.raises(InvalidRequestError, match="no provider is named 'list'"):
        await registry.refresh_models(provider=["one"])  # type: ignore[arg-type]


async def test_refresh_models_include_routes(make_registry: RegistryFactory,
                                             service: ModelService) -> None:
    registry = build(make_registry, service, routes={"best": ["m2", "m1"]})
    listed = await registry.refresh_models(include_routes=True)
    assert [m.qualified_id for m in listed] == ["disc/m1", "disc/emb-1", "best"]
    assert listed[-1].members == ("m2", "m1") and listed[-1].provider == ""


async def test_concurrent_callers_share_one_listing_request(make_registry: RegistryFactory,
                                                            service: ModelService) -> None:
    service.listing, service.delay = "slow", 0.2
    one, two = DiscoveringProvider("one"), DiscoveringProvider("two")
    registry = build(make_registry, service, one, two)
    await asyncio.gather(*(registry.complete("m1", "hi") for _ in range(8)),
                         *(registry.refresh_models(stale_only=True) for _ in range(4)))
    assert service.listing_started == 2  # one request per provider, shared by 12 callers
    assert (one.asked, two.asked) == (["one"], ["two"])
    assert len(service.calls) == 8


async def test_concurrent_calls_share_a_listing_refused_before_any_io(
        make_registry: RegistryFactory, service: ModelService,
        caplog: pytest.LogCaptureFixture) -> None:
    # A listing that fails without awaiting anything (no key set) ends before the next
    # caller's turn: the callers that began meanwhile share it, not ask (and warn) again.
    plugin = DiscoveringProvider(static=[ModelSpec("m1")])

    async def refused(config: ProviderConfig) -> Any:
        return config.require("api_key")

    plugin.on_discover = refused
    registry = build(make_registry, service, plugin, config={"disc": {"api_key": ""}})
    with caplog.at_level(logging.WARNING, "jackfield"):
        texts = await asyncio.gather(*(registry.complete("m1", "hi") for _ in range(8)))
    assert {completion.text for completion in texts} == {"m1 says hi"}
    assert plugin.asked == ["disc"]
    assert caplog.text.count("its models could not be listed") == 1
    assert "'api_key' is not configured" in registry.discovery_warnings()["disc"]


async def test_concurrent_calls_for_a_new_name_share_one_request(
        make_registry: RegistryFactory, service: ModelService) -> None:
    registry = build(make_registry, service, discovery=DiscoveryPolicy(retry=0))
    await registry.refresh_models()
    service.models.append("m-pulled")
    service.listing, service.delay = "slow", 0.2
    texts = await asyncio.gather(*(registry.complete("m-pulled", "hi") for _ in range(6)))
    assert {completion.text for completion in texts} == {"m-pulled says hi"}
    assert service.listing_started == 2  # the first listing, then one for all six calls
    await asyncio.gather(*(registry.refresh_models() for _ in range(4)))
    assert service.listing_started == 3  # explicit refreshes at once share one request too


@pytest.mark.parametrize(("listing", "said"), [
    ("500", "500"),
    ("html", "HTML"),
    ("text", "JSON"),
    ("drop", "connection"),
])
async def test_a_failing_service_keeps_the_last_list(make_registry: RegistryFactory,
                                                     service: ModelService, listing: str,
                                                     said: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    registry = build(make_registry, service, discovery=DiscoveryPolicy(retry=0))
    await registry.refresh_models()
    service.models.append("m2")
    service.listing = listing
    with caplog.at_level(logging.WARNING, "jackfield"):
        found = await registry.refresh_models()  # never raises for the service's failure
    assert [m.id for m in found] == ["m1", "emb-1"]  # the last known list
    warning = registry.discovery_warnings()["disc"]
    assert warning.startswith("disc: its models could not be listed, the last known list is "
                              "used: ") and said.lower() in warning.lower()
    assert KEY not in warning and KEY not in caplog.text
    assert warning in caplog.text
    assert (await registry.complete("m1", "hi")).text == "m1 says hi"  # calls go on
    service.listing = "ok"
    await registry.refresh_models()
    assert registry.discovery_warnings() == {} and "disc/m2" in ids(registry)


async def test_a_service_that_is_down_or_slow(make_registry: RegistryFactory,
                                             service: ModelService,
                                             unused_tcp_port: int) -> None:
    down = build(make_registry, service, DiscoveringProvider(static=[ModelSpec("s")]),
                 config={"disc": {"base_url": f"http://127.0.0.1:{unused_tcp_port}/v1"}})
    assert [m.id for m in await down.refresh_models()] == ["s"]
    assert "could not connect" in down.discovery_warnings()["disc"]
    service.listing, service.delay = "slow", 5
    slow = build(make_registry, service, discovery=DiscoveryPolicy(timeout=0.2))
    began = asyncio.get_running_loop().time()
    assert await slow.refresh_models() == []
    assert asyncio.get_running_loop().time() - began < 2
    assert "0.2 s" in slow.discovery_warnings()["disc"]
    await asyncio.sleep(0)
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()
            and "discover" in repr(t.get_coro())] == []


async def test_a_hook_that_hangs_is_cut_off(make_registry: RegistryFactory,
                                            service: ModelService) -> None:
    plugin = DiscoveringProvider(static=[ModelSpec("s")])

    async def hangs(_config: Any) -> None:
        await asyncio.sleep(5)  # its own wait: no transport timeout bounds it

    plugin.on_discover = hangs
    registry = build(make_registry, service, plugin, discovery=DiscoveryPolicy(timeout=0.2))
    assert [m.id for m in await registry.refresh_models()] == ["s"]
    assert "no answer within the discovery timeout of 0.2 s" in registry.discovery_warnings()[
        "disc"]


async def test_a_call_cancelled_while_it_waits_for_a_listing(make_registry: RegistryFactory,
                                                             service: ModelService) -> None:
    service.listing, service.delay = "slow", 5
    registry = build(make_registry, service)
    call = asyncio.ensure_future(registry.complete("m1", "hi"))
    waiting = asyncio.ensure_future(registry.complete("m1", "hi"))
    while service.listing_started == 0:
        await asyncio.sleep(0.01)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    service.listing = "ok"
    # The caller that waited behind it asks in its place: it does not give up unanswered.
    assert (await waiting).text == "m1 says hi"
    assert service.listing_started == 2 and registry.discovery_warnings() == {}


async def test_a_failing_service_does_not_hold_up_calls_others_serve(
        make_registry: RegistryFactory, service: ModelService, serve_app: ServeApp) -> None:
    stalled = await started(serve_app, ["m-stalled"])
    stalled.listing, stalled.delay = "slow", 5
    clock = Clock()
    registry = build(make_registry, service, DiscoveringProvider("up"),
                     DiscoveringProvider("stuck"), clock=clock,
                     config={"stuck": {"base_url": stalled.url}},
                     discovery=DiscoveryPolicy(timeout=0.3, retry=15))
    loop = asyncio.get_running_loop()
    began = loop.time()
    assert (await registry.complete("m1", "hi")).text == "m1 says hi"
    assert 0.3 <= loop.time() - began < 2  # never asked yet: waited for, once
    assert "stuck" in registry.discovery_warnings()
    clock.now += 15
    began = loop.time()
    await registry.complete("m1", "hi")  # up serves it: stuck is not waited for again
    assert loop.time() - began < 0.25 and stalled.listing_started == 1
    await registry.refresh_models()  # an explicit refresh still asks it
    assert stalled.listing_started == 2


async def test_a_key_the_service_echoes_is_masked(make_registry: RegistryFactory,
                                                  service: ModelService) -> None:
    plugin = DiscoveringProvider()
    registry = build(make_registry, service, plugin)

    async def echo(config: Any) -> Any:
        raise ValueError(f"the service rejected {config.get('api_key')}")

    plugin.on_discover = echo
    await registry.refresh_models()
    warning = registry.discovery_warnings()["disc"]
    assert "jackfield_discover_models" in warning and "ValueError" in warning
    assert KEY not in warning and "***" in warning


@pytest.mark.parametrize(("answer", "warned"), [
    ("m1", True), ({"m1": 1}, True), (["m1"], True), ([ModelSpec("a"), "b"], True), (7, True),
    ([ModelSpec("")], "no usable name: ''"), ([ModelSpec(" m1")], "no usable name: ' m1'"),
    ([ModelSpec(5)], "no usable name: 5"),  # type: ignore[arg-type]
    (None, False),  # None: no discovery with this configuration, the static list stays
])
async def test_what_the_hook_returns(make_registry: RegistryFactory, service: ModelService,
                                     answer: Any, warned: bool | str) -> None:
    plugin = DiscoveringProvider(static=[ModelSpec("s")])
    registry = build(make_registry, service, plugin)

    async def answering(_config: Any) -> Any:
        return answer

    plugin.on_discover = answering
    assert [m.id for m in await registry.refresh_models()] == ["s"]
    warnings = registry.discovery_warnings()
    if warned:
        said = warned if isinstance(warned, str) else "expected a list of jackfield.ModelSpec"
        assert said in warnings["disc"]
    else:
        assert warnings == {}


async def test_duplicate_ids_are_listed_once_and_reported(make_registry: RegistryFactory,
                                                          service: ModelService) -> None:
    service.models = ["m1", "m1", "m2"]
    registry = build(make_registry, service)
    assert [m.id for m in await registry.refresh_models()] == ["m1", "m2"]
    assert registry.discovery_warnings() == {"disc": "disc: the service lists m1 more than once"}


async def test_a_model_pulled_after_start_is_found(make_registry: RegistryFactory,
                                                   service: ModelService) -> None:
    clock = Clock()
    registry = build(make_registry, service, clock=clock,
                     discovery=DiscoveryPolicy(ttl=300, retry=15))
    await registry.complete("m1", "hi")
    service.models.append("m2")
    clock.now += 15
    assert (await registry.complete("m2", "hi")).text == "m2 says hi"  # nobody listed it: asked
    assert service.listings == 2
    with pytest.raises(UnknownModelError, match="'m3'"):
        await registry.complete("m3", "hi")  # within retry of the last ask: not asked again
    assert service.listings == 2
    clock.now += 15
    with pytest.raises(UnknownModelError):
        await registry.complete("m3", "hi")
    assert service.listings == 3


async def test_a_model_the_service_dropped_makes_its_list_stale(
        make_registry: RegistryFactory, service: ModelService) -> None:
    clock = Clock()
    service.models = ["m1", "m2"]
    registry = build(make_registry, service, DiscoveringProvider(pass_through=False),
                     clock=clock, discovery=DiscoveryPolicy(ttl=300, retry=15))
    await registry.refresh_models()
    service.models.remove("m2")  # deleted on the server; the listing still says m2
    with pytest.raises(UnknownModelError) as caught:
        await registry.complete("m2", "hi")
    assert caught.value.provider == "disc" and len(service.calls) == 1
    with pytest.raises(UnknownModelError) as caught:
        await registry.complete("m2", "hi")  # listed anew first: not sent again
    assert caught.value.provider is None and len(service.calls) == 1
    assert service.listings == 2
    with pytest.raises(UnknownModelError):
        await registry.complete("disc/m2", "hi")
    assert service.listings == 2  # within retry: the service is not asked every call


async def test_a_pass_through_id_the_service_lacks_asks_for_no_listing(
        make_registry: RegistryFactory, service: ModelService) -> None:
    registry = build(make_registry, service, discovery=DiscoveryPolicy(ttl=300, retry=300))
    await registry.refresh_models()
    for _ in range(3):
        with pytest.raises(UnknownModelError):
            await registry.complete("disc/never-listed", "hi")
    assert service.listings == 1 and len(service.calls) == 3


async def test_a_pinned_name_refreshes_only_its_provider(make_registry: RegistryFactory,
                                                         service: ModelService) -> None:
    one, two = DiscoveringProvider("one"), DiscoveringProvider("two")
    registry = build(make_registry, service, one, two, discovery=DiscoveryPolicy(retry=0))
    assert (await registry.complete("one/m1", "hi")).text == "m1 says hi"
    assert (one.asked, two.asked) == (["one"], [])
    service.models.append("m2")
    await registry.complete("two/m2", "hi")
    assert (one.asked, two.asked) == (["one"], ["two"])


async def test_route_members_that_only_a_service_lists(make_registry: RegistryFactory,
                                                       service: ModelService) -> None:
    service.models = ["m1"]
    registry = build(make_registry, service, routes={"fast": ["m9", "m1"]},
                     discovery=DiscoveryPolicy(retry=0))
    route = registry.models(include_routes=True)[-1]
    assert (route.id, route.available) == ("fast", False)  # no member is listed yet
    assert (await registry.complete("fast", "hi")).text == "m1 says hi"
    assert registry.models(include_routes=True)[-1].available
    service.models.insert(0, "m9")
    await registry.refresh_models()
    assert [c.model.id for c in registry.resolve("fast")] == ["m9", "m1"]  # Router rebuilt
    assert ids(registry)[0] == "disc/m9"


async def test_a_route_member_nobody_lists_is_reported(make_registry: RegistryFactory,
                                                       service: ModelService) -> None:
    registry = build(make_registry, service, routes={"fast": ["typo-model", "m1"]})
    await registry.refresh_models()
    assert "typo-model" in registry.discovery_warnings()["fast"]


async def test_a_plugin_without_the_hook_is_never_asked(make_registry: RegistryFactory,
                                                        service: ModelService) -> None:
    registry = build(make_registry, service, StaticProvider(static=[ModelSpec("m1")]))
    assert (await registry.complete("m1", "hi")).text == "m1 says hi"
    assert [m.id for m in await registry.refresh_models()] == ["m1"]
    assert [m.id for m in await registry.refresh_models(provider="disc")] == ["m1"]
    assert service.listings == 0 and registry.discovery_warnings() == {}


def test_discovery_policy_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "jackfield.toml"
    path.write_text("[discovery]\nttl = 30\ntimeout = 2.5\nretry = 0\n")
    registry = Registry([DiscoveringProvider()], environ={}, config_file=path)
    assert registry.discovery == DiscoveryPolicy(ttl=30, timeout=2.5, retry=0)
    wins = Registry([DiscoveringProvider()], environ={}, config_file=path,
                    discovery=DiscoveryPolicy(ttl=5))
    assert wins.discovery == DiscoveryPolicy(ttl=5)


@pytest.mark.parametrize(("table", "named"), [
    ("ttl = -1", "ttl"), ("timeout = 0", "timeout"), ('retry = "soon"', "retry"),
    ("every = 3", "every"),
])
def test_bad_discovery_values_are_refused_naming_the_key(tmp_path: Path, table: str,
                                                         named: str) -> None:
    path = tmp_path / "jackfield.toml"
    path.write_text(f"[discovery]\n{table}\n")
    with pytest.raises(ConfigurationError, match=named) as caught:
        Registry([DiscoveringProvider()], environ={}, config_file=path)
    assert "discovery" in str(caught.value)


def test_discovery_keyword_must_be_a_policy() -> None:
    with pytest.raises(ConfigurationError, match="discovery"):
        Registry([DiscoveringProvider()], environ={}, discovery={"ttl": 1})  # type: ignore[arg-type]


async def test_a_provider_that_cannot_be_asked_as_configured_waits_for_the_ttl(
        make_registry: RegistryFactory, service: ModelService) -> None:
    # A missing key is a setting to change, not a service to ask again every `retry`.

    clock = Clock()
    plugin = DiscoveringProvider()

    async def needs_a_key(config: ProviderConfig) -> Any:
        config.require("api_key")  # raises AuthenticationError before anything is sent
        return []

    plugin.on_discover = needs_a_key
    registry = build(make_registry, service, plugin, clock=clock,
                     config={"disc": {"api_key": None}},
                     discovery=DiscoveryPolicy(ttl=300, retry=5))
    await registry.refresh_models(stale_only=True)
    assert "api_key" in registry.discovery_warnings()["disc"]
    assert len(plugin.asked) == 1 and not registry._book.failed("disc")
    clock.now += 10  # past `retry`, within the ttl: not asked again
    await registry.refresh_models(stale_only=True)
    assert len(plugin.asked) == 1
    clock.now += 300
    await registry.refresh_models(stale_only=True)
    assert len(plugin.asked) == 2


class ManyAsks:
    """A plugin whose listing asks its service once per model (as Ollama's /api/show is)."""

    __name__ = "many"

    def __init__(self, asks: int, url: str) -> None:
        self.asks, self.url = asks, url

    @hookimpl
    def jackfield_provider(self) -> ProviderSpec:
        return ProviderSpec("many", "http://127.0.0.1:9/v1", [])

    @hookimpl
    async def jackfield_discover_models(self, config: ProviderConfig,
                                        transport: ProviderTransport) -> list[ModelSpec]:
        found = []
        for number in range(self.asks):
            await transport.fetch_json(HttpRequest("GET", self.url or config.url("models")))
            found.append(ModelSpec(f"m{number}"))
        return found


async def test_a_listing_may_take_more_requests_than_a_reply_may_download_images(
        make_registry: RegistryFactory, service: ModelService) -> None:
    # fetch_json is not an image download: Limits.max_images (32) does not bound a listing.
    registry = make_registry([ManyAsks(40, "")], config={"many": {"base_url": service.url}})
    await registry.refresh_models()
    assert registry.discovery_warnings() == {} and len(registry.models()) == 40
    assert service.listings == 40


async def test_fetch_json_sends_only_to_the_service_itself(
        make_registry: RegistryFactory, service: ModelService, serve_app: ServeApp) -> None:
    elsewhere = await started(serve_app)
    registry = make_registry([ManyAsks(1, f"{elsewhere.url}/models")],
                             config={"many": {"base_url": service.url}})
    await registry.refresh_models()
    warning = registry.discovery_warnings()["many"]
    assert "jackfield_discover_models" in warning and "own origin" in warning
    assert elsewhere.listings == 0 and service.listings == 0


async def test_a_listing_that_changed_only_in_extra_reaches_the_calls(
        make_registry: RegistryFactory, service: ModelService) -> None:
    plugin = DiscoveringProvider()
    extra = {"revision": 1}

    async def listing(_config: ProviderConfig) -> list[ModelSpec]:
        return [ModelSpec("m1", extra=dict(extra))]

    plugin.on_discover = listing
    registry = build(make_registry, service, plugin)
    await registry.refresh_models()
    assert registry.resolve("m1")[0].model.extra == {"revision": 1}
    extra["revision"] = 2
    await registry.refresh_models()
    assert registry.resolve("m1")[0].model.extra == {"revision": 2}
