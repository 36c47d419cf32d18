"""Fake secrets of every provider, built at test time.

Never a literal: each value is assembled from parts and random characters, so no secret scanner
(secscan's own included) and no push protection sees a real-looking key in this repository.
"""

from __future__ import annotations

import base64
import json
import random
import string

_ALNUM = string.ascii_letters + string.digits


def _rand(n: int, alphabet: str = _ALNUM, *, seed: int) -> str:
    rng = random.Random(seed)
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(n))
        # Mixed letters and digits, like real keys (and so the masking's key shape applies).
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            return value


def _b64url(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def provider_secrets(seed: int = 1) -> dict[str, str]:
    """name -> secret value (random for the seed)."""
    hexd = "0123456789abcdef"
    upper = string.ascii_uppercase + string.digits
    b64 = _ALNUM + "+/"
    return {
        "stripe": "sk_" + "live_" + _rand(24, seed=seed),
        "stripe_restricted": "rk_" + "live_" + _rand(40, seed=seed + 1),
        "stripe_webhook": "wh" + "sec_" + _rand(32, seed=seed + 2),
        "aws_key_id": "AK" + "IA" + _rand(16, upper, seed=seed + 3),
        "aws_secret": _rand(40, b64, seed=seed + 4),
        "square": "sq0" + "csp-" + _rand(43, _ALNUM + "-_", seed=seed + 5),
        "jwt": _b64url({"alg": "HS256", "typ": "JWT"})
        + "."
        + _b64url({"sub": _rand(12, seed=seed + 6), "admin": True})
        + "."
        + _rand(43, _ALNUM + "-_", seed=seed + 7),
        "braintree": "access_token$"
        + "production$"
        + _rand(16, string.ascii_lowercase + string.digits, seed=seed + 8)
        + "$"
        + _rand(32, hexd, seed=seed + 9),
        "plaid": _rand(30, hexd, seed=seed + 10),
        "adyen": "AQ" + "E" + _rand(60, b64, seed=seed + 11) + "-" + _rand(40, b64, seed=seed + 12),
        "paypal": "E" + _rand(79, _ALNUM + "-_", seed=seed + 13),
    }


def private_key(seed: int = 1) -> str:
    body = "\n".join(_rand(64, _ALNUM + "+/", seed=seed + 20 + i) for i in range(6))
    return "-----BEGIN " + "RSA PRIVATE KEY-----\n" + body + "\n-----END " + "RSA PRIVATE KEY-----\n"


def settings_file(s: dict[str, str]) -> str:
    """A settings module holding every provider's secret, the way payment code leaks them."""
    return (
        f'STRIPE_API_KEY = "{s["stripe"]}"\n'
        f'STRIPE_RESTRICTED = "{s["stripe_restricted"]}"\n'
        f'STRIPE_WEBHOOK_SECRET = "{s["stripe_webhook"]}"\n'
        f'AWS_ACCESS_KEY_ID = "{s["aws_key_id"]}"\n'
        f'aws_secret_access_key = "{s["aws_secret"]}"\n'
        f'SQUARE_OAUTH_SECRET = "{s["square"]}"\n'
        f'SESSION_TOKEN = "{s["jwt"]}"\n'
        f'BRAINTREE_TOKEN = "{s["braintree"]}"\n'
        f'PLAID_SECRET = "{s["plaid"]}"\n'
        f'ADYEN_API_KEY = "{s["adyen"]}"\n'
        f'PAYPAL_CLIENT_SECRET = "{s["paypal"]}"\n'
    )
