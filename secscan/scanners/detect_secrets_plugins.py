"""secscan's own detect-secrets plugins: payment-provider credentials detect-secrets lacks.

detect-secrets loads this file with ``--plugin PATH`` (it imports it: a plugin is code), so the
path is always this module inside the installed secscan, never a file of the scanned tree.
secscan itself never imports it. Each class is a line-based regex detector, which is why these
are plugins and not semgrep rules: they also run on the added lines of every commit of a merge
request (secscan.secrets_history), in any file type.

Formats (from the providers' documentation):
- Braintree access tokens ``access_token$production$<16 alnum>$<32 hex>``; private keys are 32
  hex digits, recognizable only next to a ``private_key`` name in Braintree context.
- Plaid secrets are 30 hex digits next to a ``secret`` name in Plaid context; production access
  tokens are ``access-production-<uuid>``.
- Adyen API keys start with ``AQE`` and are base64 segments joined by ``-``.
- PayPal REST client secrets are 80 characters starting with ``E`` (client ids start with ``A``),
  recognizable next to a PayPal secret name.
- Stripe restricted keys ``rk_live_`` and webhook signing secrets ``whsec_`` (detect-secrets'
  own Stripe plugin knows secret keys and only the first 24 characters of restricted ones).
"""

from __future__ import annotations

import re

from detect_secrets.plugins.base import RegexBasedDetector

_ASSIGN = r"""['"]?\s*(?:[:=]|=>|:=)\s*[rbuf]?['"]?"""


class BraintreeDetector(RegexBasedDetector):
    """Braintree production access tokens and gateway private keys."""

    secret_type = "Braintree Credential"  # noqa: S105 - a detector's name
    denylist = (
        re.compile(r"access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32}"),
        re.compile(r"(?i)braintree[\w.\-]*private_key" + _ASSIGN + r"([0-9a-f]{32})(?![0-9a-f])"),
        re.compile(r"(?i)\bprivate_key\s*=\s*['\"]([0-9a-f]{32})['\"].*braintree"),
    )


class PlaidDetector(RegexBasedDetector):
    """Plaid API secrets and production access tokens."""

    secret_type = "Plaid Credential"  # noqa: S105 - a detector's name
    denylist = (
        re.compile(r"access-production-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
        re.compile(r"(?i)plaid[\w.\-]*secret" + _ASSIGN + r"([0-9a-f]{30})(?![0-9a-f])"),
    )


class AdyenDetector(RegexBasedDetector):
    """Adyen API keys."""

    secret_type = "Adyen API Key"  # noqa: S105 - a detector's name
    denylist = (re.compile(r"(?<![A-Za-z0-9+/=])AQE[A-Za-z0-9+/]{40,}={0,2}-[A-Za-z0-9+/]{20,}={0,2}"),)


class PayPalDetector(RegexBasedDetector):
    """PayPal REST API client secrets."""

    secret_type = "PayPal Client Secret"  # noqa: S105 - a detector's name
    denylist = (
        re.compile(
            r"(?i)paypal[\w.\-]*(?:client)?[_\-.]?secret" + _ASSIGN + r"(E[A-Za-z0-9_\-]{70,90})(?![A-Za-z0-9_\-])"
        ),
    )


class StripeExtraDetector(RegexBasedDetector):
    """Stripe restricted keys (full length) and webhook signing secrets."""

    secret_type = "Stripe Restricted or Webhook Key"  # noqa: S105 - a detector's name
    denylist = (
        re.compile(r"(?<![A-Za-z0-9_])rk_live_[0-9a-zA-Z]{24,247}"),
        re.compile(r"(?<![A-Za-z0-9_])whsec_[0-9a-zA-Z]{32,}"),
    )
