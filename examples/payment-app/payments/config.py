"""Settings (deliberately vulnerable: live credentials and card data in source code)."""

import braintree
import plaid
import stripe

# Live Stripe secret key committed to the repository (fake value, real shape).
stripe.api_key = "sk_live_51DemoFakeKey000000000000000000"

BRAINTREE = braintree.Configuration(
    environment=braintree.Environment.Production,
    merchant_id="demo-merchant",
    public_key="demo-public-key",
    private_key="0123456789abcdef0123456789abcdef",
)

PLAID = plaid.Configuration(
    host=plaid.Environment.Production,
    api_key={"clientId": "demo-client", "secret": "abcdef0123456789abcdef01234567"},
)

# Shared secret for webhook signatures, hard-coded.
WEBHOOK_SECRET = "whsec_Q3r8Zp1LmN7vB2xK9tY4wC6d"

# A card number kept "for debugging" (Luhn-valid, not a real card).
SUPPORT_CARD = "4916338506082832"

# A provider test card used as a default outside the tests.
DEFAULT_CARD = "4242424242424242"
