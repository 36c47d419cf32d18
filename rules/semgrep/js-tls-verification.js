const https = require("https");
const axios = require("axios");

// ruleid: payment.js-tls-verification-disabled
const agent = new https.Agent({ rejectUnauthorized: false });

async function charge(body) {
  return axios.post("https://psp.example.com/v1/charges", body, {
    // ruleid: payment.js-tls-verification-disabled
    httpsAgent: new https.Agent({ keepAlive: true, rejectUnauthorized: false }),
    headers: { "Idempotency-Key": body.orderId },
  });
}

// ruleid: payment.js-tls-verification-disabled
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";

// ok: payment.js-tls-verification-disabled
const strict = new https.Agent({ rejectUnauthorized: true, ca: process.env.PSP_CA_BUNDLE });

// ok: payment.js-tls-verification-disabled
const opts = { rejectUnauthorized: process.env.NODE_ENV !== "test" };
