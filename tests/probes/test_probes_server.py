"""`jackfield serve --probe-every`: rounds in the background within their budget, the
outcomes in GET /health (error text only for a caller with the key), and a task that ends
with the server."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import aiohttp
from probe_helpers import MakeProbed, Services, cli_environ, protocol_requests

from jackfield._server import create_app
from jackfield._server.health import WITHHELD
from jackfield._server.probing import PROBING_KEY, add_probing
from jackfield.testing import FAULTS_KEY, STATS_KEY, serve_app

SERVER_KEY = "server-key-0123456789"


async def get_health(url: str, key: str | None = None) -> dict[str, object]:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    async with aiohttp.ClientSession() as session, session.get(f"{url}/health",
                                                               headers=headers) as reply:
        assert reply.status == 200
        body: dict[str, object] = await reply.json()
        return body


async def test_rounds_keep_to_their_budget_and_show_in_health(probed: MakeProbed,
                                                              services: Services) -> None:
    services.amigochat[FAULTS_KEY].set("unavailable")
    registry = probed()
    app = create_app(registry, api_key=SERVER_KEY)
    schedule = add_probing(app, 0.05, budget=2, rate=100)
    async with serve_app(app) as url:
        assert app[PROBING_KEY] is schedule
        for _ in range(200):
            if schedule.rounds >= 3:
                break
            await asyncio.sleep(0.02)
        rounds = schedule.rounds
        assert rounds >= 3
        sent = sum(protocol_requests(getattr(services, name))
                   for name in ("aichats", "amigochat", "openai"))
        # Two requests a round at most (a round under way may have sent its own two).
        assert sent <= 2 * (rounds + 1)
        assert schedule.last is not None and schedule.last.sent == 2
        open_health = await get_health(url)
        keyed = await get_health(url, SERVER_KEY)
        running = schedule.running
    assert running
    assert not schedule.running  # cancelled and awaited at shutdown
    probes = keyed["probes"]
    assert isinstance(probes, dict)
    failing = probes.get("amigochat/gpt-4o-mini")
    assert failing is not None and failing["status"] == "failing"
    assert "HTTP 503" in failing["message"]
    shown = open_health["probes"]
    assert isinstance(shown, dict)
    assert shown["amigochat/gpt-4o-mini"]["message"] == WITHHELD
    assert shown["amigochat/gpt-4o-mini"]["error"] == "ProviderUnavailableError"
    assert open_health["status"] == "ok"  # a failing probe alone does not degrade the server


async def test_health_has_no_probes_before_any(probed: MakeProbed) -> None:
    app = create_app(probed())
    async with serve_app(app) as url:
        health = await get_health(url)
    assert "probes" not in health


async def test_serve_probe_every_from_the_command_line(services: Services,
                                                       tmp_path: Path) -> None:
    environ = cli_environ(services, tmp_path)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "jackfield", "serve", "--port", "0", "--probe-every", "30",
        "--probe-budget", "3", "--probe-rate", "50", "--no-access-log", env=environ,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        url = banner.split(" at ")[1].split("/v1")[0]
        probes: dict[str, dict[str, object]] = {}
        for _ in range(300):
            probes = json.loads(json.dumps((await get_health(url)).get("probes", {})))
            if sum(entry["status"] == "works" for entry in probes.values()) >= 3:
                break
            await asyncio.sleep(0.05)
        assert sum(entry["status"] == "works" for entry in probes.values()) == 3
        assert protocol_requests(services.openai) + protocol_requests(
            services.amigochat) + protocol_requests(services.aichats) == 3
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err
    assert b"Task was destroyed" not in err and b"Traceback" not in err


async def test_a_round_cut_short_at_shutdown_closes_its_request(probed: MakeProbed,
                                                                services: Services) -> None:
    services.amigochat[FAULTS_KEY].set("stall_after_headers")
    app = create_app(probed())
    schedule = add_probing(app, 60, budget=10, rate=50)
    async with serve_app(app):
        for _ in range(200):
            if services.amigochat[STATS_KEY].in_flight:
                break
            await asyncio.sleep(0.02)
        assert services.amigochat[STATS_KEY].in_flight == 1  # the probe hangs on the stall
    assert not schedule.running and schedule.rounds == 0
    for _ in range(100):  # the emulator's handler ends once the connection is closed
        if not services.amigochat[STATS_KEY].in_flight:
            break
        await asyncio.sleep(0.02)
    assert services.amigochat[STATS_KEY].in_flight == 0


async def test_with_metrics_each_round_s_outcomes_are_counted_in_metrics(
        probed: MakeProbed, services: Services) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    services.amigochat[FAULTS_KEY].set("unavailable")
    app = create_app(probed(), metrics=True)
    schedule = add_probing(app, 0.05, budget=2, rate=100)
    async with serve_app(app) as url:
        for _ in range(200):
            if schedule.rounds >= 1:
                break
            await asyncio.sleep(0.02)
        last = schedule.last  # before the scrape: a round ending after it only adds counts
        assert last is not None
        async with aiohttp.ClientSession() as session, session.get(f"{url}/metrics") as reply:
            assert reply.status == 200
            text = await reply.text()
    counted = {(s.labels["provider"], s.labels["model"], s.labels["status"]): s.value
               for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == "jackfield_probes_total"}
    assert counted, "no probe was counted"
    for result in last.results:
        assert counted.get((result.provider, result.model or "-", result.status), 0) >= 1
    assert any(status == "failing" and provider == "amigochat"
               for provider, _, status in counted)
