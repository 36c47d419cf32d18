const pino = require("pino");
const winston = require("winston");
const logger = pino();
const audit = winston.createLogger({ transports: [new winston.transports.Console()] });

function charge(req, res) {
  const { cardNumber, cvc, expMonth } = req.body;
  // ruleid: payment.js-card-data-in-log
  console.log("charging card", cardNumber);
  // ruleid: payment.js-card-data-in-log
  logger.info(`card ${cardNumber} exp ${expMonth}`);
  // ruleid: payment.js-card-data-in-log
  audit.warn({ cvc });
  // ruleid: payment.js-card-data-in-log
  req.log.debug({ card: req.body.card_number }, "payment attempt");
  // ok: payment.js-card-data-in-log
  logger.info({ last4: cardNumber.slice(-4) }, "charging card");
  // ok: payment.js-card-data-in-log
  console.log("charging card ending", mask(cardNumber));
  if (!cvc) {
    // ruleid: payment.js-card-data-in-error
    throw new Error(`declined card ${cardNumber}`);
  }
  if (!expMonth) {
    // ruleid: payment.js-card-data-in-error
    throw new PaymentError("invalid cvc " + cvc);
  }
  // ok: payment.js-card-data-in-error
  throw new Error(`declined order ${req.body.orderId}`);
}

// Front-end checkout reading raw card fields instead of using hosted fields.
async function pay() {
  // ruleid: payment.js-raw-card-field
  const number = document.getElementById("card-number").value;
  // ruleid: payment.js-raw-card-field
  const cvc = document.querySelector("#cvc").value;
  // ruleid: payment.js-raw-card-field
  const pan = new FormData(form).get("cardNumber");
  // ok: payment.js-raw-card-field
  const email = document.getElementById("email").value;
  // ok: payment.js-raw-card-field
  const { token } = await stripe.createToken(cardElement);
  return fetch("/pay", { method: "POST", body: JSON.stringify({ token, email, number, cvc, pan }) });
}
