const express = require("express");
const stripe = require("stripe")(process.env.STRIPE_SECRET_KEY);
const app = express();

// ruleid: payment.js-webhook-without-signature-verification
app.post("/webhooks/stripe", express.json(), async (req, res) => {
  const event = req.body;
  if (event.type === "payment_intent.succeeded") await markPaid(event.data.object.metadata.orderId);
  res.sendStatus(200);
});

// ruleid: payment.js-webhook-without-signature-verification
fastify.post("/adyen/notification", async function (request, reply) {
  for (const item of request.body.notificationItems) await settle(item.NotificationRequestItem);
  return "[accepted]";
});

// ok: payment.js-webhook-without-signature-verification
app.post("/webhooks/stripe-verified", express.raw({ type: "application/json" }), (req, res) => {
  let event;
  try {
    event = stripe.webhooks.constructEvent(req.body, req.headers["stripe-signature"], process.env.STRIPE_WHSEC);
  } catch (err) {
    return res.status(400).send(`Webhook Error: ${err.message}`);
  }
  handle(event);
  res.json({ received: true });
});

// ok: payment.js-webhook-without-signature-verification
app.post("/orders", (req, res) => {
  createOrder(req.body);
  res.sendStatus(201);
});
