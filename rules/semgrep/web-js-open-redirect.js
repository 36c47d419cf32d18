// Test cases for web.js-open-redirect.
app.get('/login', (req, res) => {
  // ruleid: web.js-open-redirect
  res.redirect(req.query.returnTo);
});

app.get('/out', (req, res) => {
  const url = req.query.url;
  // ruleid: web.js-open-redirect
  res.redirect(302, url);
});

app.get('/search', (req, res) => {
  // ok: web.js-open-redirect
  res.redirect('/results?q=' + encodeURIComponent(req.query.q));
  // ok: web.js-open-redirect
  res.redirect(`/products/${req.params.id}`);
});

app.get('/checked', (req, res) => {
  const target = req.query.next;
  if (!target.startsWith('/') || target.startsWith('//')) {
    return res.redirect('/');
  }
  // ok: web.js-open-redirect
  res.redirect(target);
});

router.get('/koa', async (ctx) => {
  // ruleid: web.js-open-redirect
  ctx.redirect(ctx.query.to);
});

function spa() {
  const next = new URLSearchParams(location.search).get('next');
  // ruleid: web.js-open-redirect
  window.location.href = next;
}

// The framework's own code: `this.req` is not a handler's request parameter.
res.redirect = function redirect(url) {
  let loc = url;
  if (url === 'back') {
    loc = this.req.get('Referrer') || '/';
  }
  // ok: web.js-open-redirect
  this.location(loc);
};
