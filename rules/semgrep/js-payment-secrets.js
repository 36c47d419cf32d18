const Stripe = require("stripe");
const braintree = require("braintree");
const { Configuration, PlaidApi, PlaidEnvironments } = require("plaid");

// ruleid: payment.js-stripe-live-secret-key
const stripe = Stripe("sk_live_51Hx9aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789");
// ruleid: payment.js-stripe-live-secret-key
const restricted = `rk_live_51Hx9aBcDeFgHiJkLmNoPqRsTuVwXyZ9876543210`;
// ok: payment.js-stripe-live-secret-key
const fromEnv = Stripe(process.env.STRIPE_SECRET_KEY);
// ok: payment.js-stripe-live-secret-key
const publishable = "pk_live_51Hx9aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";

const gateway = new braintree.BraintreeGateway({
  environment: braintree.Environment.Production,
  merchantId: "abc123merchant",
  publicKey: "pubkey123",
  // ruleid: payment.js-braintree-private-key
  privateKey: "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
});
// ruleid: payment.js-braintree-private-key
const BT_TOKEN = "access_token$production$abcdefgh12345678$0f1e2d3c4b5a69788796a5b4c3d2e1f0";
// ok: payment.js-braintree-private-key
const gateway2 = new braintree.BraintreeGateway({ privateKey: process.env.BRAINTREE_PRIVATE_KEY });

const plaid = new PlaidApi(
  new Configuration({
    basePath: PlaidEnvironments.production,
    baseOptions: {
      headers: {
        "PLAID-CLIENT-ID": process.env.PLAID_CLIENT_ID,
        // ruleid: payment.js-plaid-secret
        "PLAID-SECRET": "0a1b2c3d4e5f60718293a4b5c6d7e8",
      },
    },
  }),
);
// ruleid: payment.js-plaid-secret
const PLAID_SECRET = "9f8e7d6c5b4a39281706f5e4d3c2b1";
// ok: payment.js-plaid-secret
const plaidSecret = process.env.PLAID_SECRET;

// ruleid: payment.js-hardcoded-secret
const webhookSecret = "whsec_Q8n2Lk4PzR7vX1cT9mB3yH6dF0jW5sAe";
const config = {
  // ruleid: payment.js-hardcoded-secret
  apiKey: "AKx9Lm2Qp7Rt4Vw8Yz1Bc5Df3Gh6Jk0Ns",
  // ok: payment.js-hardcoded-secret
  password: process.env.DB_PASSWORD,
  // ok: payment.js-hardcoded-secret
  secret: "your-secret-key-goes-here-XXXX1234",
};
