// Test cases for the Node injection rules.
const { exec, execFile } = require('child_process');
const child_process = require('child_process');
const command = require('child_process').exec;
const runFile = require('child_process').execFile;
const math = require('mathjs');
const yaml = require('js-yaml');
const _ = require('lodash');

app.get('/ping', (req, res) => {
  // ruleid: web.js-command-injection
  exec('ping -c 1 ' + req.query.host, (err, out) => res.send(out));
  // ok: web.js-command-injection
  execFile('ping', ['-c', '1', req.query.host], (err, out) => res.send(out));
  // ruleid: web.js-command-injection
  child_process.execSync(`convert ${req.body.file} out.png`);
  // ok: web.js-command-injection
  child_process.execSync('convert in.png out.png');
  // ok: web.js-command-injection
  const m = /(\d+)/.exec(req.query.host);
});

app.post('/login', async (req, res) => {
  // ruleid: web.js-nosql-injection
  const user = await db.collection('users').findOne({ username: req.body.username, password: req.body.password });
  // ok: web.js-nosql-injection
  const user2 = await User.findOne({ username: String(req.body.username) });
  // ok: web.js-nosql-injection
  const item = items.find((i) => i.id === req.body.id);
  // ruleid: web.js-nosql-injection, web.js-nosql-where-built-from-strings
  const orders = await Order.find({ $where: 'this.user == "' + req.query.user + '"' });
  res.json({ user, user2, item, orders });
});

function byAge(age) {
  // ruleid: web.js-nosql-where-built-from-strings
  return db.users.find({ $where: `this.age > ${age}` });
}

function byAgeSafe(age) {
  // ok: web.js-nosql-where-built-from-strings
  return db.users.find({ age: { $gt: Number(age) } });
}

// ruleid: web.js-nosql-where-built-from-strings
const q = { $where: 'this.owner == "' + owner + '"' };

app.get('/calc', (req, res) => {
  // ruleid: web.js-code-injection
  res.json(math.evaluate(req.query.expr));
  // ok: web.js-code-injection
  res.json(math.evaluate('2 + 3', { x: req.query.x }));
  // ruleid: web.js-code-injection
  const tpl = _.template(req.body.template);
  // ok: web.js-code-injection
  const tpl2 = _.template('<p><%- name %></p>');
  res.send(tpl({}) + tpl2({ name: req.query.name }));
});

app.post('/import', (req, res) => {
  // ruleid: web.js-yaml-unsafe-load-of-request-data
  const doc = yaml.load(req.body.config);
  // ok: web.js-yaml-unsafe-load-of-request-data
  const doc2 = yaml.load(req.body.config, { schema: yaml.JSON_SCHEMA });
  // ruleid: web.js-yaml-unsafe-load-of-request-data
  const doc3 = yaml.load(req.file.buffer.toString());
  res.json({ doc, doc2, doc3 });
});

app.get('/files/:user', (req, res) => {
  const user = req.params['user'];
  // ruleid: web.js-command-injection
  command('ls target/user_files/' + user + '/', (err, out) => res.json(out.split('\n')));
  // ok: web.js-command-injection
  runFile('ls', ['target/user_files/' + user], (err, out) => res.json(out.split('\n')));
});

app.get('/files-through-a-list/:user', (req, res) => {
  const parts = ['safe'];
  parts.push(req.params.user);
  // ruleid: web.js-command-injection
  exec('ls ' + parts[1], (err, out) => res.send(out));
  const fixed = ['safe'];
  fixed.push('also-safe');
  // ok: web.js-command-injection
  exec('ls ' + fixed[1], (err, out) => res.send(out));
});
