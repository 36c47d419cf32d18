const stripe = require("stripe")(process.env.STRIPE_SECRET_KEY);
const axios = require("axios");

async function checkout(order) {
  // ruleid: payment.js-stripe-call-without-idempotency-key
  const intent = await stripe.paymentIntents.create({ amount: order.total, currency: "usd" });
  // ruleid: payment.js-stripe-call-without-idempotency-key
  await stripe.paymentIntents.capture(intent.id, { amount_to_capture: order.total });
  // ruleid: payment.js-stripe-call-without-idempotency-key
  await stripe.refunds.create({ payment_intent: intent.id }, { stripeAccount: order.account });
  // ok: payment.js-stripe-call-without-idempotency-key
  await stripe.paymentIntents.create({ amount: order.total, currency: "usd" }, { idempotencyKey: order.id });
  // ok: payment.js-stripe-call-without-idempotency-key
  await stripe.customers.create({ email: order.email });
  // ok: payment.js-stripe-call-without-idempotency-key
  await stripe.paymentIntents.retrieve(intent.id);
  return intent;
}

async function processPayment(order) {
  // ruleid: payment.js-http-payment-call-without-idempotency-key
  const res = await fetch("/process-payment", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(order),
  });
  // ruleid: payment.js-http-payment-call-without-idempotency-key
  await axios.post("https://api.psp.example/v1/payments", { amount: order.total });
  // ok: payment.js-http-payment-call-without-idempotency-key
  await fetch("/process-payment", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": order.idempotencyKey },
    body: JSON.stringify(order),
  });
  // ok: payment.js-http-payment-call-without-idempotency-key
  await axios.post("https://api.psp.example/v1/payments", order, { headers: { "Idempotency-Key": order.id } });
  // ok: payment.js-http-payment-call-without-idempotency-key
  await axios.post("https://api.example.com/v1/newsletter", { email: order.email });
  return res.json();
}
