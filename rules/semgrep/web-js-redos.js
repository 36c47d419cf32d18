// Test cases for web.js-regex-from-request-data and web.js-redos-nested-quantifier.
const _ = require('lodash');

app.get('/search', (req, res) => {
  // ruleid: web.js-regex-from-request-data
  const rx = new RegExp(req.query.q, 'i');
  // ok: web.js-regex-from-request-data
  const rx2 = new RegExp(_.escapeRegExp(req.query.q), 'i');
  res.json(products.filter((p) => rx.test(p.name) || rx2.test(p.name)));
});

function validEmail(email) {
  // ruleid: web.js-redos-nested-quantifier
  return /^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$/.test(email);
}

// ruleid: web.js-redos-nested-quantifier
const WORDS = /^(\w+\s?)*$/;

function validMail(mail) {
  // ruleid: web.js-redos-nested-quantifier
  var re = /^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+$/;
  // ok: web.js-redos-nested-quantifier
  var safe = /^[a-zA-Z0-9._-]+@[a-z0-9]+$/;
  // ruleid: web.js-redos-nested-quantifier
  let host = /^([0-9a-zA-Z]([-.\w]*[0-9a-zA-Z])*)$/;
  return re.test(mail) && safe.test(mail) && host.test(mail);
}

function version(s) {
  // ok: web.js-redos-nested-quantifier
  return s.match(/^(\d+\.)+\d+$/);
}

function words(s) {
  // ok: web.js-redos-nested-quantifier
  return /^\w+(?:\s\w+)*$/.test(s);
}

router.get('/filter', async (ctx) => {
  // ruleid: web.js-regex-from-request-data
  const matcher = RegExp('^' + ctx.query.prefix);
  ctx.body = names.filter((n) => matcher.test(n));
});
