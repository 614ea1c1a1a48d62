"""The compact CAPABILITIES cell of `jackfield models` tables, from the listing's JSON form."""

from __future__ import annotations

import pytest

from jackfield import Capabilities
from jackfield._cli.capabilities import compact
from jackfield._types.capabilities import SAMPLING


@pytest.mark.parametrize(("capabilities", "shown"), [
    (Capabilities(), "text"),
    (Capabilities(sampling=SAMPLING), "sampling"),
    (Capabilities(sampling={"top_p", "max_tokens"}), "max_tokens,top_p"),
    (Capabilities(tools=True, image_input=True, json_object=True, json_schema=True, stop=True,
                  seed=True, reasoning=True, logprobs=True, sampling=SAMPLING),
     "tools,vision,json,schema,stop,seed,reasoning,logprobs,sampling"),
    (Capabilities(tools=None, json_schema=True, sampling=None), "tools?,schema,sampling?"),
    (Capabilities.unknown(), "unknown"),
])
def test_a_chat_models_capabilities(capabilities: Capabilities, shown: str) -> None:
    assert compact(capabilities.to_dict(), "chat") == shown


def test_image_models_and_listings_without_capabilities_show_a_dash() -> None:
    assert compact(Capabilities(tools=True).to_dict(), "image") == "-"
    assert compact(None, "chat") == "-"
