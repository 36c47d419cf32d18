const CryptoJS = require("crypto-js");
const crypto = require("crypto");
const { generateKeyPair, generateKeyPairSync, createECDH } = require("crypto");

function legacyCiphers(data, key) {
  // ruleid: web.js-weak-cipher-crypto-js
  const a = CryptoJS.DES.encrypt(data, key);
  // ruleid: web.js-weak-cipher-crypto-js
  const b = CryptoJS.RC4.encrypt(data, key);
  // ruleid: web.js-weak-cipher-crypto-js
  const c = CryptoJS.TripleDES.decrypt(data, key);
  // ok: web.js-weak-cipher-crypto-js
  const d = CryptoJS.AES.encrypt(data, key, { iv: CryptoJS.lib.WordArray.random(16) });
  // ok: web.js-weak-cipher-crypto-js
  const e = Mailer.DES.encrypt(data, key);
  return [a, b, c, d, e];
}

function modes(data, key, iv) {
  // ruleid: web.js-weak-cipher-crypto-js-mode
  const a = CryptoJS.AES.encrypt(data, key, { mode: CryptoJS.mode.ECB, padding: CryptoJS.pad.Pkcs7 });
  // ok: web.js-weak-cipher-crypto-js-mode
  const b = CryptoJS.AES.encrypt(data, key, { mode: CryptoJS.mode.CBC, iv: iv });
  // ruleid: web.js-weak-cipher-crypto-js-mode
  const c = CryptoJS.AES.decrypt(data, key, { mode: CryptoJS.mode.ECB });
  return [a, b, c];
}

function passphrase(data, secretFromVault) {
  const keyString = "*4wQZgn+U2RW_mb=";
  // ruleid: web.js-weak-cipher-crypto-js-passphrase
  const a = CryptoJS.AES.encrypt(data, keyString);
  // ruleid: web.js-weak-cipher-crypto-js-passphrase
  const b = CryptoJS.AES.encrypt(data, "hunter2");
  // ok: web.js-weak-cipher-crypto-js-passphrase
  const c = CryptoJS.AES.encrypt(data, CryptoJS.enc.Hex.parse(secretFromVault), { iv: CryptoJS.lib.WordArray.random(16) });
  return [a, b, c];
}

function keys(cb) {
  // ruleid: web.js-weak-crypto-key-size
  generateKeyPair("rsa", { modulusLength: 1024, publicKeyEncoding: { type: "spki", format: "pem" } }, cb);
  // ruleid: web.js-weak-crypto-key-size
  crypto.generateKeyPairSync("rsa", { modulusLength: 512 });
  // ok: web.js-weak-crypto-key-size
  generateKeyPair("rsa", { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "pem" } }, cb);
  // ok: web.js-weak-crypto-key-size
  generateKeyPairSync("rsa", { modulusLength: 4096 });
  // ruleid: web.js-weak-crypto-key-size
  generateKeyPair("ec", { namedCurve: "secp192k1" }, cb);
  // ok: web.js-weak-crypto-key-size
  generateKeyPair("ec", { namedCurve: "prime256v1" }, cb);
  // ruleid: web.js-weak-crypto-key-size
  const bob = crypto.createECDH("c2pnb163v2");
  // ruleid: web.js-weak-crypto-key-size
  const eve = createECDH("secp112r2");
  // ok: web.js-weak-crypto-key-size
  const alice = crypto.createECDH("secp384r1");
  // ok: web.js-weak-crypto-key-size
  const carol = crypto.createECDH("secp256k1");
  return [bob, eve, alice, carol];
}

function keysFromOptions(cb) {
  // ruleid: web.js-weak-crypto-key-size
  let keyOptions = {
    modulusLength: 1024,
    publicKeyEncoding: { type: "pkcs1", format: "pem" },
  };
  generateKeyPair("rsa", keyOptions, cb);
  // ruleid: web.js-weak-crypto-key-size
  const ecOptions = { namedCurve: "secp192k1" };
  crypto.generateKeyPair("ec", ecOptions, cb);
  // ok: web.js-weak-crypto-key-size
  const strong = { modulusLength: 3072 };
  generateKeyPairSync("rsa", strong);
}
