// Card numbers in Node payment code. semgrep --test: true positives (ruleid) and near misses (ok).

// ruleid: payment.js-card-number-literal
const FALLBACK_CARD = "4916338506082832";

const customer = {
  name: "Ada",
  // ruleid: payment.js-card-number-literal
  pan: '5312680042170002',
};

// ok: payment.js-card-number-literal
const ORDER_REF = "4916338506082833"; // not Luhn-valid: an order reference, not a card

// ok: payment.js-card-number-literal
const createdAtMs = 1712345678901234; // a timestamp: no card brand starts like this

function demoCharge() {
  // ruleid: payment.js-test-card-number-outside-tests
  return stripe.paymentMethods.create({ type: "card", card: { number: "4242424242424242" } });
}

// ruleid: payment.js-test-card-number-outside-tests
const SANDBOX_VISA = `4111111111111111`;

// ok: payment.js-test-card-number-outside-tests
const PHONE = "4155550100";
