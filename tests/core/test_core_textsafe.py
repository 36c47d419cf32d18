"""Escaping and masking of untrusted text from scanned code."""

from __future__ import annotations

import re

import pytest

from secscan import textsafe
from secscan.textsafe import mask_pans, md_code_span, md_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('CARD = "4916338506082832"', 'CARD = "491633******2832"'),
        ("pay 4242 4242 4242 4242 now", "pay 424242******4242 now"),
        ("amex 3782-822463-10005", "amex 378282*****0005"),
        ("6205500000000000004", "620550*********0004"),  # 19 digits
    ],
)
def test_luhn_valid_card_numbers_are_masked(text: str, expected: str) -> None:
    assert mask_pans(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 4916338506082833",  # Luhn-invalid: an id, not a card
        "ts 20261124123456",
        "short 424242424242",  # 12 digits
        "x12345678901234567890",  # 20 digits: longer than any PAN
        "no digits at all",
    ],
)
def test_other_numbers_are_left_alone(text: str) -> None:
    assert mask_pans(text) == text


def test_md_text_neutralises_mentions_links_images_and_html() -> None:
    hostile = "@all see [x](http://evil) ![i](http://evil/i.png) <img src=x onerror=alert(1)> -->"
    out = md_text(hostile)
    assert "@all" not in out and "&#64;all" in out
    # Every bracket, parenthesis and angle bracket is backslash-escaped: no link, image or tag.
    assert not re.search(r"(?<!\\)[\[\]()<>]", out)
    assert "\\<img" in out
    assert "-->" not in out


def test_code_span_cannot_be_closed_from_inside() -> None:
    span = md_code_span("a ``` b")
    assert span.startswith("````") and span.endswith("````")


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        # Code around the secret stays readable (issue 30): a module name, an auth scheme, a word.
        (
            'const stripe = require("stripe")("sk_live_51HxDemoDemoDemo0123456789abcdefABCDEF");',
            'const stripe = require("stripe")("sk_l****");',
        ),
        ('headers = {"Authorization": "Bearer " + API_TOKEN}', 'headers = {"Authorization": "Bearer " + API_TOKEN}'),
        ('charge(currency="usd", key="sk_test_0123456789abcdefABCD")', 'charge(currency="usd", key="sk_t****")'),
        # ... and a word that the code says is a secret is still masked.
        ('password = "hunter"', 'password = "****"'),
        ('cfg["password"] = "letmein"', 'cfg["password"] = "****"'),
        ('DB = {"user": "app", "password": "changeme"}', 'DB = {"user": "app", "password": "****"}'),
        ('x = "Bearer eyJhbGciOiJIUzI1NiJ9.abc"', 'x = "Bear****"'),
        # A comparison shows the value as an assignment does (Flask's tests: seen in a real scan).
        ('    assert app.secret_key == "config"', '    assert app.secret_key == "****"'),
        ('ok = token != "letmein"', 'ok = token != "****"'),
        # A short name for a password still names one: a word-only value is masked.
        ('db_pw = "correcthorse"', 'db_pw = "corr****"'),
        ('conn(user="app", pw="letmeinplease")', 'conn(user="app", pw="letm****")'),
    ],
)
def test_masking_hides_the_secret_and_only_the_secret(line: str, masked: str) -> None:
    assert textsafe.redact_secret(line) == masked
    assert textsafe.redact_secret(masked) == masked  # idempotent
