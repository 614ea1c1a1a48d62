"""The conformance kit against plugins that each break one rule (tests/conformance/
kitprovider.py): the case that covers the rule fails, with a message that says what is
wrong; the plugin that keeps every rule passes every case that applies to it."""

from __future__ import annotations

import pytest
from kitprovider import KitProvider

from jackfield.testing import CaseResult, Conformance, conformance_cases, run_conformance

# breaks -> (a case that must fail, what its message must say)
FAILS = {
    "content_errors": ("fault/html_200/whole", "came out as a reply ('<!DOCTYPE html>"),
    "leaky": ("stream/early_exit", "the upstream connection was left open"),
    "retry_after": ("fault/retry_after/streamed", "Retry-After ignored: the retry came"),
    "tools": ("capability/tools", "does not carry 'jfconf_lookup'"),
    "images": ("capability/image_input", "neither the image's bytes nor their base64"),
    "schema": ("capability/json_schema", "does not carry 'jfconf_answer'"),
    "secret": ("stream/agree", "leaked into a log line of logger 'kitprovider'"),
    "chunks": ("stream/chunks/streamed", "the parser depends on how the body is cut"),
    "swallow_drop": ("fault/drop_mid_stream/streamed", "came out as a reply ('You said:')"),
}


def by_case(results: list[CaseResult]) -> dict[str, CaseResult]:
    return {result.case: result for result in results}


async def test_the_plugin_that_keeps_every_rule_passes() -> None:
    results = await run_conformance(Conformance(KitProvider()))
    assert [r.case for r in results] == [case.id for case in conformance_cases()]
    failed = [r.line() for r in results if r.outcome == "fail"]
    assert not failed, failed
    skipped = {r.case for r in results if r.outcome == "skip"}
    # What the kit provider does not declare: nothing else may be skipped.
    assert skipped == {"capability/json_object", "capability/undeclared", "capability/embeddings",
                       "refused/image_input", "refused/json_schema", "refused/tools"}, skipped
    assert by_case(results)["fault/drop_mid_stream/streamed"].outcome == "pass"


@pytest.mark.parametrize("breaks", sorted(FAILS))
async def test_a_plugin_breaking_one_rule_fails_with_a_precise_message(breaks: str) -> None:
    case, says = FAILS[breaks]
    prefix = case.rsplit("/", 1)[0] if case.startswith("fault/") else case
    [result, *_] = [r for r in await run_conformance(Conformance(KitProvider(breaks)),
                                                     select=(prefix,)) if r.case == case]
    assert result.outcome == "fail", result.line()
    assert says in result.message, result.message


async def test_a_rule_breaker_passes_the_cases_of_other_rules() -> None:
    results = by_case(await run_conformance(Conformance(KitProvider("tools")),
                                            select=("capability/", "stream/agree")))
    assert results["capability/tools"].outcome == "fail"
    assert results["capability/image_input"].outcome == "pass"
    assert results["stream/agree"].outcome == "pass"


async def test_declared_skips_and_a_missing_emulator_are_skips_that_say_why() -> None:
    declared = Conformance(KitProvider(), skip={"fault/huge_line": "the service has no lines"})
    results = await run_conformance(declared, select=("fault/huge_line",))
    assert {(r.outcome, r.message) for r in results} == {
        ("skip", "declared: the service has no lines")}
    [result] = await run_conformance(Conformance(KitProvider(emulator=False)),
                                     select=("stream/agree",))
    assert result.outcome == "skip"
    assert "ships no emulator" in result.message


async def test_an_emulator_that_ignores_a_protocol_fault_is_skipped_not_passed() -> None:
    import jackfield_echoapi

    results = await run_conformance(Conformance(jackfield_echoapi),
                                    select=("fault/invalid_lines/streamed",))
    assert [r.outcome for r in results] == ["skip"]
    assert "does not produce this protocol fault" in results[0].message
