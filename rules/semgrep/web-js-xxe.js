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
