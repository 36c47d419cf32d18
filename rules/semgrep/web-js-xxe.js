// Test cases for web.js-xml-external-entities-enabled.
const libxmljs = require('libxmljs');

app.post('/upload', (req, res) => {
  // ruleid: web.js-xml-external-entities-enabled
  const doc = libxmljs.parseXml(req.body.xml, { noent: true, noblanks: true });
  // ok: web.js-xml-external-entities-enabled
  const doc2 = libxmljs.parseXml(req.body.xml, { noblanks: true });
  // ruleid: web.js-xml-external-entities-enabled
  const doc3 = libxmljs.parseXmlString(req.body.xml, { noent: true });
  res.send(doc.toString() + doc2.toString() + doc3.toString());
});

// options in a variable: the finding points at the options object
app.post('/import', (req, res) => {
  // ruleid: web.js-xml-external-entities-enabled
  const optionsXml = {
    noent: true,
    dtdload: true,
  };
  try {
    const doc = libxmljs.parseXml(req.body.xml, optionsXml);
    res.send(doc.toString());
  } catch (e) {
    res.status(400).end();
  }
});

router.post('/soap', (req, res) => {
  // ruleid: web.js-xml-external-entities-enabled
  var options = { noent: true };
  res.send(libxmljs.parseXml(req.body, options).toString());
});

router.post('/safe', (req, res) => {
  // ok: web.js-xml-external-entities-enabled
  const options = { noblanks: true, nonet: true };
  res.send(libxmljs.parseXml(req.body, options).toString());
});

router.post('/unused', (req, res) => {
  // ok: web.js-xml-external-entities-enabled
  const settings = { noent: true };
  res.send(JSON.stringify(settings));
});
