from hypothesis import given
from hypothesis import strategies as st

from adversarial_arena.core.types import EndReason, Role
from adversarial_arena.orchestrator.state import Action, Transcript, next_step


def test_attacker_speaks_first_and_sides_alternate() -> None:
    actions = [next_step(n, False, False, 10).action for n in range(10)]
    assert actions == [Action.ASK_ATTACKER, Action.ASK_DEFENDER] * 5


def test_turn_cap_ends_session_after_max_turns_messages() -> None:
    step = next_step(10, False, False, 10)
    assert step.action is Action.END and step.end_reason is EndReason.TURN_CAP


def test_attacker_end_and_failure_end_the_session() -> None:
    assert next_step(3, True, False, 10).end_reason is EndReason.ATTACKER_END
    assert next_step(3, False, True, 10).end_reason is EndReason.ERROR


@given(st.integers(min_value=0, max_value=200), st.integers(min_value=1, max_value=100))
def test_next_turn_is_the_number_of_stored_messages(n: int, max_turns: int) -> None:
    step = next_step(n, False, False, max_turns)
    assert step.turn == n
    assert (step.action is Action.END) == (n >= max_turns)


def test_transcript_shows_each_bot_its_own_messages_as_assistant() -> None:
    transcript = Transcript()
    transcript.append(Role.ATTACKER, "attack")
    transcript.append(Role.DEFENDER, "defense")
    assert transcript.view_for(Role.ATTACKER) == [
        {"role": "assistant", "content": "attack"},
        {"role": "user", "content": "defense"},
    ]
    assert transcript.view_for(Role.DEFENDER) == [
        {"role": "user", "content": "attack"},
        {"role": "assistant", "content": "defense"},
    ]
