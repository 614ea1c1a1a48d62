"""ProbePolicy(skip_failing=True) and [probes] skip_failing: a candidate whose last probe
failed is left out, with a warning; a pin is still tried; when every candidate failed its
probe, the call is tried anyway, and says so. Off by default."""

from __future__ import annotations

from pathlib import Path

import pytest
from probe_helpers import MakeProbed, Services, protocol_requests

from jackfield import (
    AllProvidersFailedError,
    ConfigurationError,
    ProbePolicy,
    ProviderUnavailableError,
    RetryPolicy,
)
from jackfield.testing import FAULTS_KEY

SKIP = ProbePolicy(skip_failing=True)


async def fail_amigochat_probe(probed: MakeProbed, services: Services) -> None:
    """Probe amigochat's gpt-4o-mini while its service answers 503, then heal it."""
    services.amigochat[FAULTS_KEY].set("unavailable")
    report = await probed().probe(["amigochat/gpt-4o-mini"])
    assert report.results[0].status == "failing"
    services.amigochat[FAULTS_KEY].clear()


def chats(services: Services, name: str) -> int:
    return protocol_requests(getattr(services, name))


async def test_off_by_default_the_failed_candidate_is_tried_first(
        probed: MakeProbed, services: Services) -> None:
    await fail_amigochat_probe(probed, services)
    completion = await probed().complete("gpt-4o-mini", "hi")
    assert completion.provider == "amigochat"  # first in routing order, probe or not
    assert completion.warnings == ()


async def test_a_failed_candidate_is_skipped_with_a_warning(probed: MakeProbed,
                                                            services: Services) -> None:
    await fail_amigochat_probe(probed, services)
    before = chats(services, "amigochat")
    completion = await probed(probes=SKIP).complete("gpt-4o-mini", "hi")
    assert completion.provider == "openai"
    assert chats(services, "amigochat") == before  # not even tried
    (warning,) = completion.warnings
    assert warning.param == "model"
    assert "amigochat/gpt-4o-mini (ProviderUnavailableError" in warning.message
    assert "skip_failing" in warning.message


async def test_a_streamed_call_carries_the_warning_too(probed: MakeProbed,
                                                       services: Services) -> None:
    await fail_amigochat_probe(probed, services)
    stream = await probed(probes=SKIP).complete("gpt-4o-mini", "hi", stream=True)
    async with stream:
        async for _chunk in stream:
            pass
    assert stream.completion.provider == "openai"
    assert "skipped" in str(stream.completion.warnings[0])


async def test_a_pinned_model_is_still_tried(probed: MakeProbed, services: Services) -> None:
    await fail_amigochat_probe(probed, services)
    completion = await probed(probes=SKIP).complete("amigochat/gpt-4o-mini", "hi")
    assert completion.provider == "amigochat"
    assert completion.warnings == ()


async def test_every_candidate_failed_its_probe_the_call_is_tried_anyway(
        probed: MakeProbed, services: Services) -> None:
    services.amigochat[FAULTS_KEY].set("unavailable")
    services.openai[FAULTS_KEY].set("unavailable")
    assert {r.status for r in (await probed().probe(["gpt-4o-mini"])).results} == {"failing"}
    services.openai[FAULTS_KEY].clear()
    completion = await probed(probes=SKIP).complete("gpt-4o-mini", "hi")
    assert completion.provider == "openai"  # amigochat was tried, and is still down
    (warning,) = completion.warnings
    assert "every candidate" in warning.message and "tried anyway" in warning.message
    # And while they are all down, the call fails as any call does, naming each failure.
    services.openai[FAULTS_KEY].set("unavailable")
    with pytest.raises(AllProvidersFailedError) as caught:
        await probed(probes=SKIP, retry=RetryPolicy(attempts=1)).complete("gpt-4o-mini", "hi")
    assert [type(e) for e in caught.value.errors] == [ProviderUnavailableError] * 2


async def test_a_probe_older_than_max_age_no_longer_counts(probed: MakeProbed,
                                                           services: Services) -> None:
    await fail_amigochat_probe(probed, services)
    registry = probed(probes=ProbePolicy(skip_failing=True, max_age=0.001))
    completion = await registry.complete("gpt-4o-mini", "hi")
    assert completion.provider == "amigochat"


async def test_a_probe_made_by_the_registry_itself_counts_at_once(
        probed: MakeProbed, services: Services) -> None:
    registry = probed(probes=SKIP)
    assert (await registry.complete("gpt-4o-mini", "hi")).provider == "amigochat"
    services.amigochat[FAULTS_KEY].set("unavailable")
    await registry.probe(["amigochat/gpt-4o-mini"])
    services.amigochat[FAULTS_KEY].clear()
    assert (await registry.complete("gpt-4o-mini", "hi")).provider == "openai"


async def test_the_config_file_turns_it_on(probed: MakeProbed, services: Services,
                                           tmp_path: Path) -> None:
    await fail_amigochat_probe(probed, services)
    config = tmp_path / "jackfield.toml"
    config.write_text("[probes]\nskip_failing = true\n")
    completion = await probed(config_file=config).complete("gpt-4o-mini", "hi")
    assert completion.provider == "openai"
    config.write_text("[probes]\nskip_failling = true\n")
    with pytest.raises(ConfigurationError, match="skip_failling"):
        probed(config_file=config)
    config.write_text('[probes]\nskip_failing = "yes"\n')
    with pytest.raises(ConfigurationError, match="true or false"):
        probed(config_file=config)


async def test_a_failing_probe_never_cools_the_provider_down(probed: MakeProbed,
                                                             services: Services) -> None:
    services.amigochat[FAULTS_KEY].set("unavailable")
    registry = probed()
    for _ in range(4):
        await registry.probe(["amigochat/gpt-4o-mini"])
    assert not registry.health()["amigochat"].cooling_down
    services.amigochat[FAULTS_KEY].clear()
    assert (await registry.complete("gpt-4o-mini", "hi")).provider == "amigochat"

