const crypto = require("crypto");

function signPayload(body) {
  // ruleid: payment.js-weak-hash-algorithm
  return crypto.createHash("md5").update(body).digest("hex");
}

function receiptId(order) {
  // ruleid: payment.js-weak-hash-algorithm
  const checksum = crypto.createHash("sha1").update(order.id).digest("hex");
  return checksum;
}

function verifyWebhook(body, header) {
  // ok: payment.js-weak-hash-algorithm
  return crypto.createHmac("sha1", secret).update(body).digest("hex") === header; // HMAC: collisions do not break it
}

function lookup(req) {
  // ruleid: payment.js-weak-hash-algorithm
  return cache.get(crypto.createHash("md5").update(req.query.token).digest("hex"));
}

function cacheKey(url) {
  // ok: payment.js-weak-hash-algorithm
  return crypto.createHash("md5").update(url).digest("hex");
}

function fingerprintContent(body) {
  // ok: payment.js-weak-hash-algorithm
  const etag = crypto.createHash("sha256").update(body).digest("base64");
  return etag;
}

function storePassword(user, password) {
  // ruleid: payment.js-fast-hash-for-password
  user.hash = crypto.createHash("sha256").update(password).digest("hex");
}

function storePin(card, req) {
  const h = crypto.createHash("sha512");
  // ruleid: payment.js-fast-hash-for-password
  h.update(req.body.pin);
  card.pinHash = h.digest("hex");
}

async function storePasswordProperly(user, password) {
  const salt = crypto.randomBytes(16);
  // ok: payment.js-fast-hash-for-password
  user.hash = crypto.scryptSync(password, salt, 64).toString("hex");
  // ok: payment.js-fast-hash-for-password
  user.emailHash = crypto.createHash("sha256").update(user.email).digest("hex");
}

// issue 28: password-reset keys are tokens too.
function createResetKey(user) {
  // ruleid: payment.js-weak-hash-algorithm
  return crypto.createHash('md5').update(user.email + Date.now()).digest('hex');
}
