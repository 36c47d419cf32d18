"""Payment webhooks, payment intents and merchant tokens (deliberately vulnerable)."""

import jwt
import stripe
from flask import Flask, request

app = Flask(__name__)


@app.route("/webhooks/psp", methods=["POST"])
def psp_events():
    # Trusts the body without checking the provider's signature.
    event = request.get_json()
    if event["type"] == "payment.succeeded":
        mark_paid(event["order_id"])
    return "", 204


def create_payment(order, amount):
    # No idempotency key: a retry after a timeout charges twice.
    return stripe.PaymentIntent.create(amount=amount, currency="eur", metadata={"order": order})


def merchant_id(token):
    # Reads claims without verifying the signature.
    return jwt.decode(token, options={"verify_signature": False})["merchant_id"]


def mark_paid(order_id, card_number=None):
    if not order_id:
        # Card number in an exception message.
        raise ValueError(f"cannot mark paid: card {card_number}")
