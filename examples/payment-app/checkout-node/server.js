// Deliberately vulnerable Node/Express checkout service for the secscan demo. Every weakness
// here is on purpose (see ../README.md). The keys and card numbers are fake values with the
// real shape. Never deploy it.
"use strict";

const crypto = require("crypto");
const https = require("https");
const express = require("express");
const axios = require("axios");
const jwt = require("jsonwebtoken");
const mysql = require("mysql2/promise");
const serialize = require("node-serialize");
const pino = require("pino");
const braintree = require("braintree");
const { Configuration, PlaidApi, PlaidEnvironments } = require("plaid");

const logger = pino();
const app = express();
app.use(express.json());

// Live credentials in source.
const stripe = require("stripe")("sk_live_51HxDemoDemoDemo0123456789abcdefABCDEF");
const gateway = new braintree.BraintreeGateway({
  environment: braintree.Environment.Production,
  merchantId: "demo-merchant",
  publicKey: "demo-public-key",
  privateKey: "5f4dcc3b5aa765d61d8327deb882cf99",
});
const plaid = new PlaidApi(
  new Configuration({
    basePath: PlaidEnvironments.production,
    baseOptions: { headers: { "PLAID-CLIENT-ID": process.env.PLAID_CLIENT_ID, "PLAID-SECRET": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5" } },
  }),
);
const settings = { webhookSecret: "whsec_Zq8Lm3Nv6Bx1Ck9Pt4Rw7Ys2Hd5Gf0Ja" };

// A card number and a provider test card kept "for support".
const SUPPORT_CARD = "4916338506082832";
const SMOKE_TEST_CARD = "4242424242424242";

// TLS verification switched off "for the sandbox".
const pspAgent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });
const db = mysql.createPool({ host: "db", user: "checkout", database: "payments" });

const KEY = crypto.scryptSync(process.env.CARD_KEY || "dev", "salt", 32);
const IV = Buffer.alloc(12, 0);

function encryptPanEcb(pan) {
  const cipher = crypto.createCipheriv("aes-256-ecb", KEY, null);
  return Buffer.concat([cipher.update(pan, "utf8"), cipher.final()]).toString("base64");
}

function encryptPanLegacy(pan) {
  const cipher = crypto.createCipheriv("des-ede3-cbc", KEY.subarray(0, 24), crypto.randomBytes(8));
  return cipher.update(pan, "utf8", "base64") + cipher.final("base64");
}

function encryptPanCbc(pan) {
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv("aes-256-cbc", KEY, iv);
  return Buffer.concat([iv, cipher.update(pan), cipher.final()]).toString("base64");
}

function sealPan(pan) {
  const cipher = crypto.createCipheriv("aes-256-gcm", KEY, IV);
  return Buffer.concat([cipher.update(pan), cipher.final(), cipher.getAuthTag()]).toString("base64");
}

function signReceipt(receipt) {
  return crypto.createHash("md5").update(JSON.stringify(receipt)).digest("hex");
}

function hashPassword(password) {
  return crypto.createHash("sha256").update(password).digest("hex");
}

function currentMerchant(req) {
  const claims = jwt.decode(req.headers.authorization.slice(7));
  return claims.merchant_id;
}

app.post("/checkout", async (req, res) => {
  const { cardNumber, cvc, orderId, amount } = req.body;
  console.log("checkout", orderId, cardNumber);
  logger.info(`card ${cardNumber} cvc ${cvc}`);
  if (!cvc) throw new Error(`missing cvc for card ${cardNumber}`);
  const merchant = currentMerchant(req);
  const [rows] = await db.query(`SELECT * FROM orders WHERE id = ${orderId} AND merchant = '${merchant}'`);
  const intent = await stripe.paymentIntents.create({ amount, currency: "usd", metadata: { orderId } });
  await axios.post("https://psp.example.com/v1/payments", { orderId, amount }, { httpsAgent: pspAgent });
  const discount = req.body.discountRule ? eval(req.body.discountRule) : 0;
  res.json({ intent: intent.id, rows: rows.length, discount, receipt: signReceipt({ orderId }) });
});

app.post("/cart/restore", (req, res) => {
  const cart = serialize.unserialize(req.cookies.cart);
  res.json(cart);
});

app.post("/webhooks/stripe", async (req, res) => {
  const event = req.body;
  if (event.type === "payment_intent.succeeded") {
    await db.query("UPDATE orders SET paid = 1 WHERE id = '" + event.data.object.metadata.orderId + "'");
  }
  res.sendStatus(200);
});

app.post("/users", (req, res) => {
  res.json({ hash: hashPassword(req.body.password), card: sealPan(req.body.pan) });
});

module.exports = { app, gateway, plaid, settings, encryptPanEcb, encryptPanLegacy, encryptPanCbc, SUPPORT_CARD, SMOKE_TEST_CARD };
