// Test cases for the Express hardening rules.
const express = require('express');
const http = require('http');
const session = require('express-session');
const cookieParser = require('cookie-parser');
const serveIndex = require('serve-index');
const jwt = require('jsonwebtoken');

// ruleid: web.js-x-powered-by-enabled
const app = express();

// ruleid: web.js-hardcoded-session-secret
app.use(cookieParser('keyboard cat'));
// ok: web.js-hardcoded-session-secret
app.use(cookieParser(process.env.COOKIE_SECRET));

// ruleid: web.js-session-without-csrf-protection, web.js-hardcoded-session-secret, web.js-insecure-session-cookie
app.use(session({
  secret: 'keyboard cat',
  resave: false,
  cookie: { secure: false, httpOnly: true },
}));

// ruleid: web.js-session-without-csrf-protection
app.use(session({ secret: process.env.SESSION_SECRET, cookie: { secure: true, httpOnly: true } }));

app.post('/login', (req, res) => {
  // ruleid: web.js-hardcoded-session-secret
  const token = jwt.sign({ id: req.body.id }, 'supersecret');
  // ruleid: web.js-insecure-session-cookie
  res.cookie('auth_token', token, { httpOnly: false });
  // ok: web.js-insecure-session-cookie
  res.cookie('theme', 'dark', { httpOnly: false });
  // ruleid: web.js-insecure-session-cookie
  res.cookie('theme', 'dark', { secure: false });
  const secureFlag = false;
  // ruleid: web.js-insecure-session-cookie
  res.cookie('prefs', 'compact', { secure: secureFlag, httpOnly: true });
  // ok: web.js-insecure-session-cookie
  res.cookie('prefs', 'compact', { secure: true, httpOnly: true });
  // ok: web.js-insecure-session-cookie
  res.cookie('prefs', 'compact', { secure: process.env.NODE_ENV === 'production' });
  // ok: web.js-hardcoded-session-secret
  res.send(jwt.sign({ id: 1 }, process.env.JWT_SECRET));
});

app.get('/me', (req, res) => {
  // ruleid: web.js-hardcoded-session-secret
  const claims = jwt.verify(req.cookies.auth_token, 'supersecret');
  // ok: web.js-hardcoded-session-secret
  const checked = jwt.verify(req.cookies.auth_token, process.env.JWT_SECRET);
  res.json({ claims, checked });
});

// Koa's cookie-signing keys
// ruleid: web.js-hardcoded-session-secret
koaApp.keys = ['im a newer secret', 'i like turtle'];
// ok: web.js-hardcoded-session-secret
koaApp.keys = [process.env.COOKIE_KEY];

// ruleid: web.js-directory-listing
app.use('/ftp', serveIndex('ftp', { icons: true }));
// ok: web.js-directory-listing
app.use('/static', express.static('public'));

// ruleid: web.js-plain-http-server
http.createServer(app).listen(80);

function hardened() {
  // ok: web.js-x-powered-by-enabled
  const api = express();
  api.disable('x-powered-by');
  // ok: web.js-plain-http-server
  http.createServer(redirectToHttps).listen(80);
  return api;
}

// ruleid: web.js-directory-listing
app.use('/logs', express.directory('logs'));

function koaApp() {
  const Koa = require('koa');
  const koa = new Koa();
  // ruleid: web.js-plain-http-server
  http.createServer(koa.callback()).listen(8080);
}
