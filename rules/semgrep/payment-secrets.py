import os

import braintree
import plaid
import stripe

# ruleid: payment.stripe-live-secret-key
stripe.api_key = "sk_live_51Hx0000000000000000000000aBcDeF"

# ruleid: payment.stripe-live-secret-key
RESTRICTED = "rk_live_4eC39HqLyjWDarjtT1zdp7dc00000"

# ok: payment.stripe-live-secret-key
stripe_publishable = "pk_live_51Hx0000000000000000000000aBcDeF"

# ok: payment.stripe-live-secret-key
stripe_test_key = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"

# ok: payment.stripe-live-secret-key
stripe.api_key = os.environ["STRIPE_SECRET_KEY"]

gateway = braintree.BraintreeGateway(
    braintree.Configuration(
        environment=braintree.Environment.Production,
        merchant_id="abc123merchant",
        public_key="pub1234567890abc",
        # ruleid: payment.braintree-private-key
        private_key="0123456789abcdef0123456789abcdef",
    )
)

# ruleid: payment.braintree-private-key
braintree.Configuration.configure(braintree.Environment.Production, "merchant", "public", "fedcba9876543210fedcba9876543210")

# ruleid: payment.braintree-private-key
BT_TOKEN = "access_token$production$abcd1234efgh5678$0123456789abcdef0123456789abcdef"

# ok: payment.braintree-private-key
braintree.Configuration(environment=braintree.Environment.Production, private_key=os.environ["BT_PRIVATE_KEY"])

# ok: payment.braintree-private-key
braintree.Configuration(environment=braintree.Environment.Sandbox, private_key="use-env")

configuration = plaid.Configuration(
    host=plaid.Environment.Production,
    # ruleid: payment.plaid-secret
    api_key={"clientId": "5f1e0000000000000000abcd", "secret": "0123456789abcdef0123456789abcd"},
)

# ruleid: payment.plaid-secret
PLAID_SECRET = "abcdef0123456789abcdef01234567"

# ok: payment.plaid-secret
PLAID_SECRET = os.environ["PLAID_SECRET"]

# ok: payment.plaid-secret
request_id = "abcdef0123456789abcdef01234567"

# ok: payment.plaid-secret
configuration = plaid.Configuration(host=plaid.Environment.Sandbox, api_key={"secret": os.environ["PLAID_SECRET"]})

# ruleid: payment.hardcoded-secret
WEBHOOK_SECRET = "whsec_9fQ2xLr7TbZ1vWk3Hs8dNp4Y"

# ruleid: payment.hardcoded-secret
settings.API_KEY = "AKm39dQpZ7rT2xW8vB4nL6yH"

# ruleid: payment.hardcoded-secret
client = PaymentClient(api_key="Zx81bQ4mN7pR2tV5wY9cK3dF")

# ruleid: payment.hardcoded-secret
CONFIG = {"client_secret": "q7W2e9R4t1Y6u3I8o5P0aSdF"}

# ok: payment.hardcoded-secret
SECRET_KEY = "changeme-please-set-in-env"

# ok: payment.hardcoded-secret
API_KEY = "YOUR_API_KEY_GOES_HERE_1234"

# ok: payment.hardcoded-secret
password = "short1A"

# ok: payment.hardcoded-secret
api_key = os.environ.get("API_KEY", "")

# ok: payment.hardcoded-secret
PASSWORD_HELP = "Your password must contain at least 12 characters"

# ok: payment.hardcoded-secret
secret_key = "0123456789abcdef0123456789abcdef"

# ok: payment.hardcoded-secret
order_reference = "q7W2e9R4t1Y6u3I8o5P0aSdF"

# ok: payment.hardcoded-secret
SECRET_KEY = "django-insecure-Zx81bQ4mN7pR2tV5wY9cK3dF"
