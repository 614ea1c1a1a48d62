"""/metrics with several worker processes: prepare_multiprocess() in the parent, each worker
writing into the shared directory, any worker's scrape adding up all of them."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest
from prometheus_client.parser import text_string_to_metric_families

from jackfield import ConfigurationError
from jackfield._server.metrics import MULTIPROC_ENV, prepare_multiprocess

HERE = pathlib.Path(__file__).resolve().parent
# The parent, as `serve --workers` would be: prepare, then start the workers side by side.
PARENT = textwrap.dedent("""
    import subprocess, sys
    from jackfield._server.metrics import prepare_multiprocess
    directory = prepare_multiprocess(sys.argv[1])
    assert "prometheus_client" not in sys.modules  # the workers' store is chosen by them
    workers = [subprocess.Popen([sys.executable, sys.argv[2], n], stdout=subprocess.DEVNULL)
               for n in ("3", "5")]
    assert [worker.wait(60) for worker in workers] == [0, 0]
    print(sorted(path.name.split("_")[0] for path in directory.glob("*.db")))
    sys.stdout.flush()
    subprocess.run([sys.executable, sys.argv[2], "0"], check=True, timeout=60)
""")


def chat_calls(exposition: str) -> float:
    return sum(sample.value for family in text_string_to_metric_families(exposition)
               for sample in family.samples
               if sample.name == "jackfield_calls_total" and sample.labels["outcome"] == "ok")


def test_a_scrape_adds_up_every_worker(tmp_path: pathlib.Path) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "counter_99999.db").write_bytes(b"an earlier run's file")  # to be cleared
    env = {key: value for key, value in os.environ.items() if key != MULTIPROC_ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(HERE.parent)])
    done = subprocess.run([sys.executable, "-c", PARENT, str(shared), str(HERE / "mp_worker.py")],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    files, exposition = done.stdout.split("\n", 1)
    assert "counter" in files and "histogram" in files
    assert not (shared / "counter_99999.db").exists()
    assert chat_calls(exposition) == 3 + 5  # the last worker made none of them


def test_prepare_multiprocess_refuses_once_prometheus_client_is_imported(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import prometheus_client.values  # noqa: F401  (this process already chose its store)

    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    with pytest.raises(ConfigurationError, match="before prometheus_client is imported"):
        prepare_multiprocess(tmp_path)
    assert MULTIPROC_ENV not in os.environ
