"""The lexical half's terms: contractions checked before stripping, Snowball stems, product names."""

from __future__ import annotations

from knowledge_base.text import DEPARTMENT_TERM, stem, tokens


def test_contractions_are_stop_words_not_terms():
    # the apostrophe used to be stripped first, so "you'll" became the term "youll"
    assert tokens("You'll need it; we've seen they'd asked") == ["seen", "ask"]
    assert tokens("I can’t log in and it doesn’t work") == ["log", "work"]


def test_possessives_lose_their_s():
    assert tokens("the employee's laptop") == ["employe", "laptop"]


def test_one_stem_for_every_form_of_a_word():
    assert stem("update") == stem("updated") == stem("updates") == stem("updating")
    assert stem("password") == stem("passwords")
    assert stem("policy") == stem("policies")
    assert tokens("Running runs") == [stem("run"), stem("run")]


def test_hyphenated_and_dotted_product_names_also_match_joined():
    assert stem("wifi") in tokens("set up wi-fi") and stem("email") in tokens("my e-mail")
    assert "vpn" in tokens("vpn.example.com") and "exampl" in tokens("vpn.example.com")
    assert tokens("IT-42 is open") == ["42", "it42", "open"]  # "it" alone stays a stop word



def test_it_in_capitals_is_the_department_not_the_pronoun():
    assert tokens("can IT send me a monitor?") == [DEPARTMENT_TERM, "send", "monitor"]
    assert tokens("I told IT. It is still broken") == ["told", DEPARTMENT_TERM, "broken"]
    assert tokens("IT's laptop policy") == [DEPARTMENT_TERM, "laptop", stem("policy")]
    assert tokens("MY LAPTOP, IT IS BROKEN") == ["laptop", "broken"]  # shouted: the pronoun
    assert tokens("is it broken") == ["broken"]
