// Test cases for the JavaScript XSS rules.
const express = require('express');
const escapeHtml = require('escape-html');
const DOMPurify = require('dompurify');
const Handlebars = require('handlebars');
const nunjucks = require('nunjucks');
const app = express();

app.get('/hello', (req, res) => {
  const name = req.query.name;
  // ruleid: web.js-xss-request-data-in-response
  res.send('<h1>Hello ' + name + '</h1>');
});

app.get('/hello-safe', (req, res) => {
  const name = req.query.name;
  // ok: web.js-xss-request-data-in-response
  res.send('<h1>Hello ' + escapeHtml(name) + '</h1>');
});

app.get('/echo', function (req, res) {
  // ruleid: web.js-xss-request-data-in-response
  res.status(400).send(`Unknown product ${req.params.id}`);
});

app.get('/api', (req, res) => {
  // ok: web.js-xss-request-data-in-response
  res.json({ q: req.query.q });
});

router.get('/koa', async (ctx) => {
  // ruleid: web.js-xss-request-data-in-response
  ctx.body = `<p>${ctx.query.q}</p>`;
});

router.get('/koa-num', async (ctx) => {
  // ok: web.js-xss-request-data-in-response
  ctx.body = `<p>${parseInt(ctx.query.page, 10)}</p>`;
});

function render(el, user) {
  // ruleid: web.js-xss-html-sink
  el.innerHTML = `<div class="name">${user.name}</div>`;
  // ok: web.js-xss-html-sink
  el.innerHTML = `<div class="name">${DOMPurify.sanitize(user.name)}</div>`;
  // ok: web.js-xss-html-sink
  el.innerHTML = '';
  // ok: web.js-xss-html-sink
  el.textContent = `${user.name}`;
  // ruleid: web.js-xss-html-sink
  document.getElementById('msg').innerHTML = location.hash;
  // ruleid: web.js-xss-html-sink
  el.insertAdjacentHTML('beforeend', '<li>' + user.comment + '</li>');
  // ok: web.js-xss-html-sink
  el.insertAdjacentHTML('beforeend', '<li>' + items.length + '</li>');
}

function legacy(user) {
  // ruleid: web.js-xss-html-sink
  $('#greeting').html('<b>' + user.name + '</b>');
  // ok: web.js-xss-html-sink
  $('#greeting').html('<b>' + user.NAME + '</b>');
  // ruleid: web.js-xss-html-sink
  document.write(`<p>${user.bio}</p>`);
  // ruleid: web.js-xss-html-sink
  document.writeln(document.referrer);
  // ok: web.js-xss-html-sink
  document.write('<p>static</p>');
}

class ProductComponent {
  show(desc) {
    // ruleid: web.js-angular-bypass-security-trust
    this.html = this.sanitizer.bypassSecurityTrustHtml(desc);
    // ruleid: web.js-angular-bypass-security-trust
    this.url = this.sanitizer.bypassSecurityTrustResourceUrl(this.route.snapshot.queryParams.video);
    // ok: web.js-angular-bypass-security-trust
    this.icon = this.sanitizer.bypassSecurityTrustHtml('<svg></svg>');
  }
}

function Comment(props) {
  // ruleid: web.js-react-dangerously-set-inner-html
  const a = { __html: props.body };
  // ok: web.js-react-dangerously-set-inner-html
  const b = { __html: DOMPurify.sanitize(props.body) };
  // ruleid: web.js-react-dangerously-set-inner-html
  return { a, b, c: { __html: marked(props.text) } };
}

// ruleid: web.js-template-engine-escaping-disabled
const tpl = Handlebars.compile(source, { noEscape: true });
// ok: web.js-template-engine-escaping-disabled
const tpl2 = Handlebars.compile(source, { strict: true });
// ruleid: web.js-template-engine-escaping-disabled
nunjucks.configure('views', { autoescape: false, express: app });
// ok: web.js-template-engine-escaping-disabled
nunjucks.configure('views', { autoescape: true, express: app });
// ruleid: web.js-template-engine-escaping-disabled
ejs.escapeXML = (s) => s;
// ruleid: web.js-template-engine-escaping-disabled
Mustache.escape = function(text) { return text; };
// ok: web.js-template-engine-escaping-disabled
Mustache.escape = function(text) { return escapeHtml(text); };
