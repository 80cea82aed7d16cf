"""Who may see a reply: the rules of bot.channels.slack.privacy."""

from __future__ import annotations

from bot.channels.slack import privacy
from bot.messages import Outcome, Reply


def test_personal_replies_stay_with_the_asker_in_a_public_channel() -> None:
    unlock = Reply(text="Unlocked.", outcome=Outcome.ACCOUNT_ACTION)
    status = Reply(text="IT-7 is open.", intent="ticket_status", outcome=Outcome.INFO)
    answer = Reply(text="Connect to the VPN like this.", outcome=Outcome.ANSWERED)
    for reply in (unlock, status, Reply(text="Thanks!", outcome=Outcome.FEEDBACK), Reply(text="x", private=True)):
        assert privacy.only_for_the_asker(reply, "C0GENERAL1")
        assert not privacy.only_for_the_asker(reply, "D0DIRECT01")  # a DM is already private
    assert not privacy.only_for_the_asker(answer, "C0GENERAL1")
    assert privacy.only_for_the_asker(answer, "C0GENERAL1", asked_in_ephemeral=True)


def test_a_credential_is_ephemeral_everywhere_and_never_follows_a_response_url() -> None:
    credential = Reply(text="Your temporary password: x", private=True, sensitive=True)
    assert privacy.must_be_ephemeral(credential, public=False)
    assert not privacy.may_use_response_url(credential)
    plain = Reply(text="Here is how.")
    assert not privacy.must_be_ephemeral(plain, public=True) and privacy.may_use_response_url(plain)
    assert privacy.must_be_ephemeral(plain, public=True, forced=True)
    assert privacy.must_be_ephemeral(Reply(text="mine", private=True), public=True)


def test_which_conversations_only_the_employee_sees() -> None:
    assert privacy.private_conversation("D0DIRECT01") and not privacy.private_conversation("C0GENERAL1")
    assert privacy.private_conversation("C0GENERAL1", ephemeral=True)
    assert privacy.private_conversation(None, in_view=True)


def test_only_plain_answers_in_a_public_channel_may_be_shared() -> None:
    answer = Reply(text="Connect like this.", outcome=Outcome.ANSWERED, turn_id="t1")
    assert privacy.shareable(answer, "C0GENERAL1")
    assert not privacy.shareable(answer, "D0DIRECT01")
    assert not privacy.shareable(Reply(text="x", outcome=Outcome.ANSWERED, private=True, turn_id="t2"), "C1")
    assert not privacy.shareable(Reply(text="x", outcome=Outcome.INFO, turn_id="t3"), "C1")
    assert not privacy.shareable(Reply(text="x", outcome=Outcome.ANSWERED), "C1")  # nothing to find it by


def test_a_parked_reply_is_private() -> None:
    assert privacy.for_the_dm_outbox(Reply(text="later")).private
