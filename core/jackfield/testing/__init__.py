"""jackfield's test kit for provider authors (install `jackfield[testing]` for the fixtures).

What a plugin's tests and its emulator use; nothing here sends traffic beyond loopback.

- Emulators: `new_app()` (an aiohttp app that counts requests and injects faults, see
  docs/faults.md), `serve_app(app)` (run it on 127.0.0.1), `Emulator`, `EmulatorStats`,
  `png_bytes()`, `words_of()`, `drop_connection()`, `request_fault()`, `Faults` and the
  fault tables, `emulator_credentials()`.
- Hooks without a Registry: `make_request()`, `make_embedding_request()`, `make_config()`,
  `make_error_reply()` (an error hook's input, no server needed), `ProviderHarness`
  (`events()` for chat and embedding requests, `discover()` for the discovery hook).
- Recordings of `jackfield record`: `load_recording(path)` (a `Recording`: its call,
  outcome, exchanges and `base_url(server_url)`), `replay_app(recording_or_path)` (an app
  from `new_app()` answering the recorded requests with the recorded bytes, chunk by chunk;
  `app[REPLAY_KEY]` is its `Replay`, whose `check()` raises `ReplayMismatchError` saying how
  the plugin's requests differed from the recording).
- The conformance kit (CONTRIBUTING.md section 8): `Conformance(plugin, ...)` declares a
  plugin, `conformance_tests(declaration)` makes its pytest tests (one per case),
  `await run_conformance(declaration)` runs the cases without pytest and returns a
  `CaseResult` each, `conformance_cases()` lists them (`jackfield check` runs them too).
- Staying on loopback: `only_loopback()` (refuses every connection beyond this machine
  within a block), `OffLoopbackError`, `is_loopback()`.
- pytest fixtures, loaded through the `pytest11` entry point: `serve_app`, `make_registry`,
  `provider_harness`, `loopback_only` (fails a test that tried to leave loopback).
  `serve_app` is a `ServeApp`: `url = await serve_app(app)` runs an aiohttp app on
  127.0.0.1 until the test ends. `make_registry` is a `RegistryFactory`:
  `make_registry(plugins=[my_plugin], *, base_urls={"myprovider": url}, config={...},
  **registry_kwargs)` returns a `Registry` closed after the test; `plugins=None` loads the
  installed entry points; every other keyword (`config_file=`, `retry=`, `discovery=`,
  ...) goes to `Registry()`, and the environment is not read unless `environ=` is passed.
  `new_app(reply_type=...)` takes an async function of the request that returns the
  content type the fault replies carry (text/event-stream for a streamed request, say).

Names load lazily: importing this package pulls in neither aiohttp nor pytest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jackfield._lazy import lazy_attributes

if TYPE_CHECKING:
    from jackfield.testing._conformance import CaseResult, conformance_cases, run_conformance
    from jackfield.testing._conformance_env import Conformance
    from jackfield.testing._conformance_pytest import conformance_tests
    from jackfield.testing._emulation import (
        FAULT_KEY,
        FAULT_MODES,
        FAULTS_ENV,
        FAULTS_KEY,
        GENERIC_FAULTS,
        PROTOCOL_FAULTS,
        STATS_KEY,
        EmulatorStats,
        Faults,
        drop_connection,
        emulator_credentials,
        faults_middleware,
        new_app,
        png_bytes,
        request_fault,
        serve_app,
        stats_middleware,
        words_of,
    )
    from jackfield.testing._harness import (
        Emulator,
        ProviderHarness,
        RegistryFactory,
        ServeApp,
        make_config,
        make_embedding_request,
        make_error_reply,
        make_request,
    )
    from jackfield.testing._network import OffLoopbackError, is_loopback, only_loopback
    from jackfield.testing._replay import (
        REPLAY_KEY,
        Recording,
        Replay,
        ReplayMismatchError,
        load_recording,
        replay_app,
    )

_EMULATION = ("FAULTS_ENV", "FAULTS_KEY", "FAULT_KEY", "FAULT_MODES", "GENERIC_FAULTS",
              "PROTOCOL_FAULTS", "STATS_KEY", "EmulatorStats", "Faults", "drop_connection",
              "emulator_credentials", "faults_middleware", "new_app", "png_bytes",
              "request_fault", "serve_app", "stats_middleware", "words_of")
_LAZY = {
    **dict.fromkeys(("CaseResult", "conformance_cases", "run_conformance"),
                    "testing._conformance"),
    "Conformance": "testing._conformance_env",
    "conformance_tests": "testing._conformance_pytest",
    **dict.fromkeys(_EMULATION, "testing._emulation"),
    **dict.fromkeys(("OffLoopbackError", "is_loopback", "only_loopback"), "testing._network"),
    **dict.fromkeys(("Emulator", "ProviderHarness", "RegistryFactory", "ServeApp",
                     "make_config", "make_embedding_request", "make_error_reply",
                     "make_request"), "testing._harness"),
    **dict.fromkeys(("REPLAY_KEY", "Recording", "Replay", "ReplayMismatchError",
                     "load_recording", "replay_app"), "testing._replay"),
}

__all__ = [
    "FAULTS_ENV",
    "FAULTS_KEY",
    "FAULT_KEY",
    "FAULT_MODES",
    "GENERIC_FAULTS",
    "PROTOCOL_FAULTS",
    "REPLAY_KEY",
    "STATS_KEY",
    "CaseResult",
    "Conformance",
    "Emulator",
    "EmulatorStats",
    "Faults",
    "OffLoopbackError",
    "ProviderHarness",
    "Recording",
    "RegistryFactory",
    "Replay",
    "ReplayMismatchError",
    "ServeApp",
    "conformance_cases",
    "conformance_tests",
    "drop_connection",
    "emulator_credentials",
    "faults_middleware",
    "is_loopback",
    "load_recording",
    "make_config",
    "make_embedding_request",
    "make_error_reply",
    "make_request",
    "new_app",
    "only_loopback",
    "png_bytes",
    "replay_app",
    "request_fault",
    "run_conformance",
    "serve_app",
    "stats_middleware",
    "words_of",
]

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, __all__)
