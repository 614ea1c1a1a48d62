"""The conformance kit under pytest: `test_x = conformance_tests(Conformance(plugin))` in a
plugin's test module makes one test per case (a failing case fails with its message, one
that does not apply is skipped with its reason)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from jackfield.testing._conformance import conformance_cases, run_case
from jackfield.testing._conformance_env import Conformance

__all__ = ["conformance_tests"]


def conformance_tests(target: Conformance, *, select: tuple[str, ...] = ()
                      ) -> Callable[..., Coroutine[Any, Any, None]]:
    """Return an async pytest test parametrized over the conformance cases (those whose id
    starts with one of select, if given): assign it to a `test_...` name of a test module."""
    import pytest

    cases = {case.id: case for case in conformance_cases()
             if not select or case.id.startswith(select)}

    async def test_conformance(case: str) -> None:
        result = await run_case(target, cases[case])
        if result.outcome == "fail":
            pytest.fail(result.message, pytrace=False)
        if result.outcome == "skip":
            pytest.skip(result.message)

    test = pytest.mark.parametrize("case", list(cases))(test_conformance)
    try:
        import pytest_asyncio  # noqa: F401  # strict mode needs the mark; auto mode ignores it
    except ImportError:
        return test
    marked: Callable[..., Coroutine[Any, Any, None]] = pytest.mark.asyncio(test)
    return marked
