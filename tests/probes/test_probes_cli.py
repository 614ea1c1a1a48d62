"""`jackfield probe` in a subprocess against the emulators, and what `jackfield models` and
`jackfield plugins` show of its results (and do not show before any probe)."""

from __future__ import annotations

import json
from pathlib import Path

from probe_helpers import API_KEY, Services, cli_environ, protocol_requests, run_cli

from jackfield.testing import FAULTS_KEY, STATS_KEY


async def test_probe_prints_a_table_keeps_it_and_models_shows_it(services: Services,
                                                                 tmp_path: Path) -> None:
    environ = cli_environ(services, tmp_path)
    before = await run_cli(environ, "models", "--provider", "amigochat")
    assert before.returncode == 0, before.stderr
    assert "PROBE" not in before.stdout  # nothing probed yet: the table is as it always was
    services.amigochat[FAULTS_KEY].set("unavailable")
    result = await run_cli(environ, "probe", "amigochat", "aichats/gpt-4", "--rate", "20")
    assert result.returncode == 1, result.stderr  # a probed model failed
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["MODEL", "PROVIDER", "KIND", "RESULT", "LATENCY", "LAST",
                                "WORKED"]
    rows = {line.split()[0]: line for line in lines[1:4]}
    assert rows["gpt-4o-mini"].split()[3] == "failing"
    assert "works" in rows["gpt-4"] and "skipped" in rows["flux-realism"]
    assert ("amigochat/gpt-4o-mini: ProviderUnavailableError: amigochat: the provider "
            "failed (HTTP 503)") in result.stdout
    assert "2 requests sent (budget 20)" in result.stderr
    assert "1 image models skipped: add --images" in result.stderr
    assert services.amigochat[STATS_KEY].requests == 1
    assert protocol_requests(services.aichats) == 1
    after = await run_cli(environ, "models", "--provider", "amigochat")
    header, *models = after.stdout.splitlines()
    assert header.split()[-1] == "PROBE"
    mini = next(line for line in models if line.startswith("gpt-4o-mini "))
    assert "failing: ProviderUnavailableError (" in mini and mini.endswith("s ago)")
    flux = next(line for line in models if line.startswith("flux-realism "))
    assert flux.endswith(" -")  # skipped: no outcome is kept for it
    listed = json.loads((await run_cli(environ, "models", "--json")).stdout)
    by_id = {(m["provider"], m["id"]): m for m in listed}
    assert by_id[("aichats", "gpt-4")]["probe"].startswith("works (")
    assert by_id[("openai", "gpt-4o")]["probe"] is None
    plugins = await run_cli(environ, "plugins")
    assert plugins.stdout.splitlines()[0].split()[-1] == "PROBES"
    amigo = next(line for line in plugins.stdout.splitlines() if " amigochat " in line)
    assert amigo.endswith("1 failing")
    plugin_json = {p["provider"]: p for p in json.loads(
        (await run_cli(environ, "plugins", "--json")).stdout)}
    assert plugin_json["aichats"]["probes"] == {"works": 1}


async def test_probe_json_needs_credentials_and_the_budget(services: Services,
                                                           tmp_path: Path) -> None:
    environ = cli_environ(services, tmp_path, JACKFIELD_AICHATS_COOKIE="")
    result = await run_cli(environ, "probe", "--json", "--budget", "3", "--rate", "50")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sent"] == 3 and report["budget"] == 3
    statuses = {r["provider"] + "/" + r["model"]: r["status"] for r in report["results"]}
    assert statuses["aichats/gpt-4"] == "needs credentials"
    assert list(statuses.values()).count("works") == 3
    assert "not probed" in statuses.values()
    assert "raise --budget" in result.stderr
    # The command line's advice, not the Python API's.
    aichats = next(r for r in report["results"] if r["model"] == "gpt-4")
    assert "Registry(config=" not in aichats["message"]
    assert API_KEY not in result.stdout + result.stderr
    assert protocol_requests(services.openai) + protocol_requests(services.amigochat) == 3
    assert services.aichats[STATS_KEY].requests == 0


async def test_a_corrupt_probe_file_is_a_warning_for_models(services: Services,
                                                            tmp_path: Path) -> None:
    environ = cli_environ(services, tmp_path)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "probes.json").write_text("{oops")
    result = await run_cli(environ, "models", "--provider", "aichats")
    assert result.returncode == 0
    assert "PROBE" not in result.stdout
    assert "probes.json cannot be read" in result.stderr
    probe = await run_cli(environ, "probe", "aichats/gpt-4")
    assert probe.returncode == 0, probe.stderr
    assert json.loads((tmp_path / "cache" / "probes.json").read_text())["format"] == 1


async def test_bad_arguments_are_refused_before_anything_is_sent(services: Services,
                                                                 tmp_path: Path) -> None:
    environ = cli_environ(services, tmp_path)
    for args in (["--budget", "-1"], ["--rate", "0"], ["no-such-model-at-all"]):
        result = await run_cli(environ, "probe", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert protocol_requests(services.openai) == 0
    assert services.amigochat[STATS_KEY].requests == services.aichats[STATS_KEY].requests == 0


def test_the_listing_finds_the_probe_file_under_the_store_s_own_name() -> None:
    # `jackfield models` looks for the file without importing the store (start-up time).
    from jackfield._cli import probe
    from jackfield._settings import probe_store

    assert probe.PROBES_FILE == probe_store.PROBES_FILE
