import requests
import stripe


def pay(order, amount):
    # ruleid: payment.stripe-call-without-idempotency-key
    return stripe.PaymentIntent.create(amount=amount, currency="eur", customer=order.customer)


def refund(charge_id):
    # ruleid: payment.stripe-call-without-idempotency-key
    return stripe.Refund.create(charge=charge_id)


def capture(intent_id):
    # ruleid: payment.stripe-call-without-idempotency-key
    return stripe.PaymentIntent.capture(intent_id)


def pay_ok(order, amount):
    # ok: payment.stripe-call-without-idempotency-key
    return stripe.PaymentIntent.create(amount=amount, currency="eur", idempotency_key=f"order-{order.id}")


def lookup(intent_id):
    # ok: payment.stripe-call-without-idempotency-key
    return stripe.PaymentIntent.retrieve(intent_id)


def customer(email):
    # ok: payment.stripe-call-without-idempotency-key
    return stripe.Customer.create(email=email)


def pay_forwarded(**params):
    # ok: payment.stripe-call-without-idempotency-key
    return stripe.PaymentIntent.create(**params)


def raw_charge(payload):
    # ruleid: payment.http-payment-call-without-idempotency-key
    return requests.post("https://psp.example.com/v1/charges", json=payload, timeout=10)


def raw_refund(session, base, payload):
    # ruleid: payment.http-payment-call-without-idempotency-key
    return session.post(base + "/refunds", json=payload, headers={"Authorization": "Bearer x"}, timeout=10)


def raw_charge_ok(payload, order):
    # ok: payment.http-payment-call-without-idempotency-key
    return requests.post(
        "https://psp.example.com/v1/charges",
        json=payload,
        headers={"Idempotency-Key": f"order-{order.id}"},
        timeout=10,
    )


def not_a_payment(payload):
    # ok: payment.http-payment-call-without-idempotency-key
    return requests.post("https://api.example.com/v1/comments", json=payload, timeout=10)


def lookup_charge(charge_id):
    # ok: payment.http-payment-call-without-idempotency-key
    return requests.get("https://psp.example.com/v1/charges/" + charge_id, timeout=10)
