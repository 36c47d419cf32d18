const jwt = require("jsonwebtoken");
const { decodeJwt, jwtVerify } = require("jose");

function currentUser(req) {
  // ruleid: payment.js-jwt-decode-without-verification
  const claims = jwt.decode(req.headers.authorization.slice(7));
  return claims.sub;
}

async function merchantFromToken(token) {
  // ruleid: payment.js-jwt-decode-without-verification
  const { merchant_id } = decodeJwt(token);
  return merchant_id;
}

function acceptAnything(token, key) {
  // ruleid: payment.js-jwt-decode-without-verification
  return jwt.verify(token, key, { algorithms: ["HS256", "none"] });
}

function verified(token, keys) {
  // ok: payment.js-jwt-decode-without-verification
  const { header } = jwt.decode(token, { complete: true });
  // ok: payment.js-jwt-decode-without-verification
  return jwt.verify(token, keys[header.kid], { algorithms: ["RS256"] });
}

async function verifiedJose(token, key) {
  // ok: payment.js-jwt-decode-without-verification
  const { payload } = await jwtVerify(token, key);
  return payload;
}
