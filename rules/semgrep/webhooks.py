import hashlib
import hmac
import json
import os

import stripe
from flask import Flask, request

app = Flask(__name__)
ENDPOINT_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")


@app.route("/webhooks/stripe", methods=["POST"])
# ruleid: payment.webhook-without-signature-verification
def stripe_events():
    event = request.get_json()
    if event["type"] == "payment_intent.succeeded":
        mark_paid(event["data"]["object"]["metadata"]["order_id"])
    return "", 200


# ruleid: payment.webhook-without-signature-verification
def paypal_webhook(request):
    payload = json.loads(request.body)
    mark_paid(payload["resource"]["invoice_id"])


@app.route("/webhooks/stripe-verified", methods=["POST"])
# ok: payment.webhook-without-signature-verification
def stripe_events_verified():
    payload = request.get_data()
    sig = request.headers.get("Stripe-Signature")
    event = stripe.Webhook.construct_event(payload, sig, ENDPOINT_SECRET)
    mark_paid(event["data"]["object"]["metadata"]["order_id"])
    return "", 200


# ok: payment.webhook-without-signature-verification
def psp_webhook(request):
    expected = hmac.new(ENDPOINT_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Signature", "")):
        return 400
    mark_paid(json.loads(request.body)["order_id"])
    return 200


# ok: payment.webhook-without-signature-verification
def adyen_webhook(request):
    if not verify_hmac(request.body, request.headers):
        return 401
    return handle(request.json)


@app.route("/orders", methods=["POST"])
# ok: payment.webhook-without-signature-verification
def create_order():
    return save(request.get_json())


@app.route("/webhooks/ping", methods=["GET"])
# ok: payment.webhook-without-signature-verification
def webhook_ping():
    return "pong"


@app.route("/ipn/paypal", methods=["POST"])
# ruleid: payment.webhook-without-signature-verification
def paypal_notification():
    # verify later (a comment is not a check)
    data = request.form
    return mark_paid(data["invoice"])


# ok: payment.webhook-without-signature-verification
def braintree_webhook(request, gateway):
    notification = gateway.webhook_notification.parse(request.POST["bt_signature"], request.POST["bt_payload"])
    return mark_paid(notification.subscription.id)
