"""The bounds of a probe round: the budget (counted on the emulator's side), the rate
(arrival times on the emulator's side), the order a small budget goes round in, the
per-probe timeout, and a probe file that is corrupt."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from probe_helpers import MakeProbed, Services, arrivals, protocol_requests

from jackfield import ProbePolicy, Timeouts
from jackfield.testing import FAULTS_KEY, STATS_KEY

OPENAI_CHATS = ["openai/gpt-4o-mini", "openai/gpt-4o", "openai/deepseek-reasoner",
                "openai/qwen3-thinking"]


async def test_never_more_requests_than_the_budget(probed: MakeProbed,
                                                   services: Services) -> None:
    registry = probed()
    report = await registry.probe(OPENAI_CHATS, budget=2, rate=50)
    statuses = [r.status for r in report.results]
    assert statuses.count("works") == 2 and statuses.count("not probed") == 2
    assert report.sent == 2
    assert protocol_requests(services.openai) == 2
    assert all("budget of 2" in (r.message or "") for r in report.results
               if r.status == "not probed")
    # The next round starts with the models not probed yet: a small budget goes round.
    second = await registry.probe(OPENAI_CHATS, budget=2, rate=50)
    probed_now = {r.key for r in second.results if r.status == "works"}
    assert probed_now == {r.key for r in report.results if r.status == "not probed"}
    assert protocol_requests(services.openai) == 4


async def test_a_budget_of_zero_sends_nothing(probed: MakeProbed, services: Services) -> None:
    report = await probed().probe(OPENAI_CHATS, budget=0)
    assert {r.status for r in report.results} == {"not probed"}
    assert protocol_requests(services.openai) == 0


async def test_the_rate_spaces_the_requests(probed: MakeProbed, services: Services) -> None:
    registry = probed()
    await registry.probe(OPENAI_CHATS, rate=5)
    times = [at for at, path in arrivals(services.openai) if not path.endswith("/models")]
    assert len(times) == 4
    # 5 a second: request n starts 0.2 n s after the first (a little timer slack allowed).
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= 0.18 for gap in gaps), gaps
    assert times[-1] - times[0] >= 0.58


async def test_a_stalled_service_is_cut_at_the_probe_timeout(probed: MakeProbed,
                                                             services: Services) -> None:
    services.amigochat[FAULTS_KEY].set("stall_after_headers")
    registry = probed(timeouts=Timeouts(read_idle=30))
    (result,) = (await registry.probe(["amigochat/gpt-4o-mini"], timeout=0.5)).results
    assert result.status == "failing"
    assert result.error in ("StalledResponseError", "ProviderTimeoutError")
    assert result.latency is not None and result.latency < 3
    assert services.amigochat[STATS_KEY].requests == 1


@pytest.mark.parametrize("content", ["{not json", '{"format": 99, "probes": {}}', "[1, 2]",
                                     '{"format": 1, "probes": {"amigochat/gpt-4o-mini": 7}}'])
async def test_a_corrupt_probe_file_is_ignored_and_rewritten(probed: MakeProbed,
                                                             cache_dir: Path,
                                                             content: str) -> None:
    cache_dir.mkdir(parents=True)
    (cache_dir / "probes.json").write_text(content)
    registry = probed(probes=ProbePolicy(skip_failing=True))
    completion = await registry.complete("gpt-4o-mini", "hi")  # the file is read: no failure
    assert completion.warnings == ()
    report = await registry.probe(["amigochat/gpt-4o-mini"])
    assert report.results[0].status == "works"
    bad_entry = content.endswith("7}}")
    # A broken entry alone is dropped quietly; a broken file is said to be ignored.
    assert bool(report.warnings) is not bad_entry
    assert all("ignored" in warning for warning in report.warnings)
    kept = json.loads((cache_dir / "probes.json").read_text())
    assert kept["format"] == 1
    assert kept["probes"]["amigochat/gpt-4o-mini"]["status"] == "works"


async def test_an_unwritable_cache_is_a_warning_not_a_failure(probed: MakeProbed,
                                                              tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    registry = probed(environ={"JACKFIELD_CACHE_DIR": str(blocker)})
    report = await registry.probe(["amigochat/gpt-4o-mini"])
    assert report.results[0].status == "works"
    assert any("not saved" in warning for warning in report.warnings)
