"""The benchmark driver behind bench/run.py, one concern per module.

common (paths, pins, targets, small helpers), procs (worker and emulator processes),
environment (peer venvs, wrk, pyinstrument, the machine), one module per measurement
(short_calls: 1 and 6, streaming: 2, server: 3, startup: 4, memory: 5, profiles: the misses),
evaluate (the summary and its verdicts) and report (BENCHMARKS.md). Imported as `harness`:
bench/run.py runs as a script, so bench/ is on sys.path and bench/ needs no package of its own.
"""
