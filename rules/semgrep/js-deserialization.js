const serialize = require("node-serialize");
const vm = require("vm");

function applyRule(req) {
  // ruleid: payment.js-eval-of-dynamic-code
  return eval("order.total " + req.query.op + " 100");
}

function discount(rule, order) {
  // ruleid: payment.js-eval-of-dynamic-code
  const fn = new Function("order", rule.body);
  // ruleid: payment.js-eval-of-dynamic-code
  vm.runInNewContext(rule.script, { order });
  // ok: payment.js-eval-of-dynamic-code
  setTimeout(() => fn(order), 10);
  // ok: payment.js-eval-of-dynamic-code
  eval("1 + 1");
  // ruleid: payment.js-eval-of-dynamic-code
  setTimeout("recalc(" + order.id + ")", 10);
  const script = new vm.Script("total * 2");
  // ok: payment.js-eval-of-dynamic-code
  script.runInContext(context);
  // ok: payment.js-eval-of-dynamic-code
  setTimeout(handleTimeout, 1000);
  return fn(order);
}

function restoreCart(req) {
  // ruleid: payment.js-unsafe-deserialization
  const cart = serialize.unserialize(req.cookies.cart);
  // ruleid: payment.js-unsafe-deserialization
  const saved = serialize.unserialize(Buffer.from(req.body.state, "base64").toString());
  // ok: payment.js-unsafe-deserialization
  const safe = JSON.parse(req.cookies.cart);
  return { cart, saved, safe };
}
