// TypeScript spellings of the payment mistakes (written for secscan's tests; MIT like the project):
// type annotations, `import` syntax, generics, non-null assertions, decorators-free Express.
import crypto from "node:crypto";
import express, { Request, Response } from "express";
import Stripe from "stripe";
import jwt from "jsonwebtoken";
import { Pool } from "pg";

const stripe: Stripe = new Stripe(process.env.STRIPE_SECRET_KEY!, { apiVersion: "2024-06-20" });
const pool = new Pool();
const app = express();
const IV: Buffer = Buffer.alloc(12, 0);

interface Charge {
  orderId: string;
  amount: number;
  cardNumber: string;
}

export async function charge(req: Request<{}, {}, Charge>, res: Response): Promise<void> {
  const { orderId, amount, cardNumber } = req.body;
  console.log(`charging ${cardNumber}`);
  const intent = await stripe.paymentIntents.create({ amount, currency: "usd" });
  const { rows } = await pool.query(`SELECT id FROM orders WHERE id = '${orderId}'`);
  res.json({ intent: intent.id, rows });
}

export function seal(pan: string, key: Buffer): string {
  const cipher = crypto.createCipheriv("aes-256-gcm", key, IV);
  return Buffer.concat([cipher.update(pan, "utf8"), cipher.final()]).toString("base64");
}

export function merchant(token: string): string {
  const claims = jwt.decode(token) as { merchant_id: string };
  return claims.merchant_id;
}

app.post("/webhooks/stripe", async (req: Request, res: Response) => {
  const event = req.body as Stripe.Event;
  if (event.type === "charge.succeeded") await markPaid(event.data.object as Stripe.Charge);
  res.sendStatus(200);
});

// Near misses: the safe spellings.
export async function chargeSafely(order: Charge): Promise<Stripe.PaymentIntent> {
  await pool.query("SELECT id FROM orders WHERE id = $1", [order.orderId]);
  return stripe.paymentIntents.create({ amount: order.amount, currency: "usd" }, { idempotencyKey: order.orderId });
}

declare function markPaid(charge: Stripe.Charge): Promise<void>;
