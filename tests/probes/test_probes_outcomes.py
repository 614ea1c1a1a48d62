"""registry.probe() against the seed emulators: what each fault makes of a probe, what is
sent (counted on the emulator's side), and what is kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from probe_helpers import (
    AMIGO_MODELS,
    COOKIE,
    PLUGINS,
    MakeProbed,
    Services,
    protocol_requests,
)

from jackfield import InvalidRequestError, ProbeResult, UnknownModelError
from jackfield.testing import FAULTS_KEY, STATS_KEY


def by_key(results: tuple[ProbeResult, ...]) -> dict[str, ProbeResult]:
    return {result.key: result for result in results}


async def test_a_working_model_is_one_request_and_is_kept(probed: MakeProbed,
                                                          services: Services,
                                                          cache_dir: Path) -> None:
    registry = probed()
    report = await registry.probe(["amigochat/gpt-4o-mini"])
    (result,) = report.results
    assert (result.status, result.error, result.message) == ("works", None, None)
    assert result.latency is not None and 0 < result.latency < 5
    assert result.last_success == result.probed_at
    assert report.sent == 1
    assert services.amigochat[STATS_KEY].by_path == {"/v1/chat/completions": 1}
    sent = services.amigochat[STATS_KEY].last_json
    # The minimal chat: one short user turn, a small token limit, not streamed.
    assert sent["messages"][-1]["content"] == "Reply with one word: ok"
    assert sent["max_tokens"] == 16
    kept = json.loads((cache_dir / "probes.json").read_text())
    assert kept["format"] == 1
    assert kept["probes"]["amigochat/gpt-4o-mini"]["status"] == "works"


@pytest.mark.parametrize(("fault", "error"), [("unavailable", "ProviderUnavailableError"),
                                              ("rate_limit", "RateLimitError")])
async def test_a_failing_service_is_one_request_without_retries(
        probed: MakeProbed, services: Services, fault: str, error: str) -> None:
    services.amigochat[FAULTS_KEY].set(fault)
    registry = probed()
    (result,) = (await registry.probe(["amigochat/gpt-4o-mini"])).results
    assert (result.status, result.error) == ("failing", error)
    assert result.message and "HTTP 503" in result.message if fault == "unavailable" else (
        "HTTP 429" in (result.message or ""))
    assert result.last_success is None
    # The registry's RetryPolicy would retry a 503 three times: a probe sends one request.
    assert services.amigochat[STATS_KEY].requests == 1
    # ... and does not cool the provider down for the calls.
    assert registry.health()["amigochat"].failures == 0


async def test_the_fault_cleared_the_model_works_again_and_last_success_moves(
        probed: MakeProbed, services: Services) -> None:
    registry = probed()
    assert (await registry.probe(["amigochat/gpt-4o-mini"])).results[0].status == "works"
    first = (await registry.probe(["amigochat/gpt-4o-mini"])).results[0].last_success
    services.amigochat[FAULTS_KEY].set("unavailable")
    failed = (await registry.probe(["amigochat/gpt-4o-mini"])).results[0]
    assert failed.status == "failing"
    assert failed.last_success == first  # when it last worked is kept through a failure
    services.amigochat[FAULTS_KEY].clear()
    again = (await registry.probe(["amigochat/gpt-4o-mini"])).results[0]
    assert again.status == "works"
    assert again.last_success is not None and first is not None
    assert again.last_success > first


async def test_a_refused_key_is_a_failure_and_the_key_is_masked(probed: MakeProbed,
                                                               services: Services) -> None:
    wrong = "sk-wrong-key-fedcba9876543210"
    registry = probed(api_key=wrong)
    report = await registry.probe(["openai/gpt-4o-mini"])
    # The wrong key cannot list the models either: the pinned id is passed through.
    (result,) = report.results
    assert (result.status, result.error) == ("failing", "AuthenticationError")
    assert "401" in (result.message or "")
    assert wrong not in json.dumps(report.to_dict())
    assert protocol_requests(services.openai) == 1


async def test_missing_credentials_send_nothing(probed: MakeProbed,
                                                services: Services) -> None:
    registry = probed(cookie=False)
    report = await registry.probe(["aichats"], images=True)
    assert {r.key: r.status for r in report.results} == {
        "aichats/gpt-4": "needs credentials", "aichats/dalle": "needs credentials"}
    assert all(r.error == "AuthenticationError" and "JACKFIELD_AICHATS_COOKIE" in (r.message
               or "") for r in report.results)
    assert report.sent == 0
    assert services.aichats[STATS_KEY].requests == 0


async def test_a_provider_whose_listing_needs_a_key_is_reported_as_a_whole(
        make_registry: object, cache_dir: Path) -> None:
    import jackfield_openai

    # OpenAI's own API without a key: refused before anything is sent (no traffic at all).
    registry = make_registry([jackfield_openai],  # type: ignore[operator]
                             environ={"JACKFIELD_CACHE_DIR": str(cache_dir)})
    (result,) = (await registry.probe()).results
    assert (result.key, result.model, result.status) == ("openai", "", "needs credentials")
    assert "JACKFIELD_OPENAI_API_KEY" in (result.message or "")


async def test_image_models_only_with_images_and_embeddings_get_one_input(
        probed: MakeProbed, services: Services) -> None:
    registry = probed()
    report = await registry.probe(["openai/dall-e-3", "openai/text-embedding-3-small"])
    results = by_key(report.results)
    assert results["openai/dall-e-3"].status == "skipped"
    assert "costs" in (results["openai/dall-e-3"].message or "")
    assert results["openai/text-embedding-3-small"].status == "works"
    assert services.openai[STATS_KEY].last_json["input"] == ["ok"]
    assert report.sent == 1
    with_images = await registry.probe(["openai/dall-e-3"], images=True)
    assert with_images.results[0].status == "works"
    assert with_images.sent == 1


async def test_a_name_probes_every_candidate_and_an_unknown_name_fails_first(
        probed: MakeProbed, services: Services) -> None:
    registry = probed()
    report = await registry.probe(["gpt-4o-mini"])
    assert [r.key for r in report.results] == ["amigochat/gpt-4o-mini", "openai/gpt-4o-mini"]
    with pytest.raises(UnknownModelError):
        await registry.probe(["no-such-model-anywhere"])
    with pytest.raises(InvalidRequestError, match="budget"):
        await registry.probe(budget=-1)
    with pytest.raises(InvalidRequestError, match="rate"):
        await registry.probe(rate=0)
    assert protocol_requests(services.openai) == protocol_requests(services.amigochat) == 1


async def test_the_reply_read_whole_even_when_streamed_by_the_service(
        probed: MakeProbed, services: Services) -> None:
    # aichats streams every reply on the wire: a probe still reads it to its end.
    registry = probed()
    (result,) = (await registry.probe(["aichats/gpt-4"])).results
    assert result.status == "works"
    assert services.aichats[STATS_KEY].in_flight == 0


async def test_each_seed_plugin_s_own_emulator_answers_a_probe(make_registry: Any,
                                                              serve_app: Any,
                                                              cache_dir: Path) -> None:
    # The emulators as the plugins ship them (their jackfield_emulator hooks), as
    # `jackfield emulate` runs them: every chat model of each works, one request each.
    discovered = make_registry(list(PLUGINS))
    urls = {name: await serve_app(factory())
            for name, factory in discovered.emulators().items()}
    assert set(urls) == {"aichats", "amigochat", "openai"}
    registry = make_registry(list(PLUGINS), base_urls=urls,
                             config={"aichats": {"cookie": COOKIE},
                                     "amigochat": {"models": AMIGO_MODELS}},
                             environ={"JACKFIELD_CACHE_DIR": str(cache_dir)})
    report = await registry.probe(["aichats/gpt-4", "amigochat/gpt-4o-mini",
                                   "openai/gpt-4o-mini"], rate=50)
    assert [r.status for r in report.results] == ["works"] * 3
    assert report.sent == 3
