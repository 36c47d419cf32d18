// Test cases for web.js-ssrf, web.js-path-traversal and web.js-zip-slip.
const axios = require('axios');
const fs = require('fs');
const path = require('path');
const unzipper = require('unzipper');

app.get('/preview', async (req, res) => {
  // ruleid: web.js-ssrf
  const page = await axios.get(req.query.url);
  // ok: web.js-ssrf
  const item = await axios.get(`https://api.example.com/items/${req.query.id}`);
  // ruleid: web.js-ssrf
  const img = await fetch(req.body.imageUrl);
  res.json({ page: page.data, item: item.data, img: img.status });
});

app.get('/file', (req, res) => {
  // ruleid: web.js-path-traversal
  res.sendFile(path.join(__dirname, 'uploads', req.query.name));
  // ok: web.js-path-traversal
  res.sendFile(req.query.name, { root: path.join(__dirname, 'uploads') });
});

app.get('/ftp/:file', (req, res) => {
  const file = req.params.file;
  // ruleid: web.js-path-traversal
  fs.readFile('ftp/' + file, (err, data) => res.send(data));
  // ok: web.js-path-traversal
  fs.readFile(path.join('ftp', path.basename(file)), (err, data) => res.send(data));
});

app.get('/page', (req, res) => {
  // ruleid: web.js-path-traversal
  res.render(req.query.page);
  // ok: web.js-path-traversal
  res.render('index', { page: req.query.page });
});

function unpack(zipPath, dest) {
  fs.createReadStream(zipPath)
    .pipe(unzipper.Parse())
    .on('entry', (entry) => {
      const target = path.join(dest, entry.path);
      // ruleid: web.js-zip-slip
      entry.pipe(fs.createWriteStream(target));
    });
}

function unpackChecked(zipPath, dest) {
  fs.createReadStream(zipPath)
    .pipe(unzipper.Parse())
    .on('entry', (entry) => {
      const target = path.join(dest, path.basename(entry.path));
      // ok: web.js-zip-slip
      entry.pipe(fs.createWriteStream(target));
    });
}

function admZip(zip, dest) {
  for (const e of zip.getEntries()) {
    // ruleid: web.js-zip-slip
    fs.writeFileSync(path.join(dest, e.entryName), e.getData());
  }
}
