"""format_prompt packs a conversation into one string exactly as the protocol notes say."""

from __future__ import annotations

import jackfield_aichats
from jackfield.provider import Message
from jackfield.testing import make_request
from jackfield_aichats.prompt import format_prompt

SPEC = jackfield_aichats.jackfield_provider()


def test_one_message_is_sent_bare() -> None:
    assert format_prompt([Message("user", "hi")]) == "hi"


def test_one_message_keeps_its_whitespace_and_newlines() -> None:
    assert format_prompt([Message("user", "  two\nlines ")]) == "  two\nlines "


def test_system_user_assistant_user_example_from_the_notes() -> None:
    messages = make_request(SPEC, "gpt-4", [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "q"},
    ]).messages
    assert format_prompt(messages) == (
        "System: be brief\nUser: hi\nAssistant: hello\nUser: q\nAssistant:"
    )


def test_two_messages_get_roles_and_the_assistant_cue() -> None:
    messages = [Message("system", "be brief"), Message("user", "hi")]
    assert format_prompt(messages) == "System: be brief\nUser: hi\nAssistant:"


def test_a_lone_assistant_or_system_message_is_also_bare() -> None:
    assert format_prompt([Message("assistant", "ok")]) == "ok"
