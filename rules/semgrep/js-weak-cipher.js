const crypto = require("crypto");

function legacyEncrypt(pan, key) {
  // ruleid: payment.js-weak-cipher-algorithm
  const c = crypto.createCipheriv("des-ede3-cbc", key, crypto.randomBytes(8));
  return c.update(pan, "utf8", "hex") + c.final("hex");
}

function rc4(data, key) {
  // ruleid: payment.js-weak-cipher-algorithm
  return crypto.createCipheriv("rc4", key, null).update(data);
}

function encryptCard(pan, key) {
  // ruleid: payment.js-aes-ecb-mode
  const cipher = crypto.createCipheriv("aes-256-ecb", key, null);
  return Buffer.concat([cipher.update(pan), cipher.final()]);
}

function decryptCard(blob, key) {
  // ruleid: payment.js-aes-ecb-mode
  const d = crypto.createDecipheriv("aes-128-ecb", key, null);
  return Buffer.concat([d.update(blob), d.final()]).toString();
}

function encryptCbc(data, key) {
  const iv = crypto.randomBytes(16);
  // ruleid: payment.js-unauthenticated-cipher-mode
  const c = crypto.createCipheriv("aes-256-cbc", key, iv);
  return Buffer.concat([iv, c.update(data), c.final()]);
}

function encryptCtr(data, key) {
  const iv = crypto.randomBytes(16);
  // ruleid: payment.js-unauthenticated-cipher-mode
  return crypto.createCipheriv("aes-256-ctr", key, iv).update(data);
}

function encryptThenMac(data, key, macKey) {
  const iv = crypto.randomBytes(16);
  // ok: payment.js-unauthenticated-cipher-mode
  const c = crypto.createCipheriv("aes-256-cbc", key, iv);
  const ct = Buffer.concat([iv, c.update(data), c.final()]);
  const tag = crypto.createHmac("sha256", macKey).update(ct).digest();
  return Buffer.concat([ct, tag]);
}

const FIXED_IV = Buffer.alloc(12, 0);

function sealStatic(pan, key) {
  // ruleid: payment.js-static-iv-or-nonce
  const c = crypto.createCipheriv("aes-256-gcm", key, FIXED_IV);
  return Buffer.concat([c.update(pan), c.final(), c.getAuthTag()]);
}

function sealLiteral(pan, key) {
  // ruleid: payment.js-static-iv-or-nonce
  const c = crypto.createCipheriv("aes-256-gcm", key, Buffer.from("000000000000"));
  return c.update(pan);
}

function seal(pan, key) {
  const iv = crypto.randomBytes(12);
  // ok: payment.js-static-iv-or-nonce, payment.js-aes-ecb-mode
  const c = crypto.createCipheriv("aes-256-gcm", key, iv);
  // ok: payment.js-weak-cipher-algorithm
  const ct = Buffer.concat([c.update(pan, "utf8"), c.final()]);
  return { iv, ct, tag: c.getAuthTag() };
}
