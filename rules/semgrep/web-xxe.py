# Test cases for web.xml-external-entities-enabled.
import xml.sax

from lxml import etree

# ruleid: web.xml-external-entities-enabled
parser = etree.XMLParser(resolve_entities=True)
# ruleid: web.xml-external-entities-enabled
parser2 = etree.XMLParser(no_network=False, dtd_validation=True)
# ok: web.xml-external-entities-enabled
safe_parser = etree.XMLParser(resolve_entities=False, no_network=True)

sax = xml.sax.make_parser()
# ruleid: web.xml-external-entities-enabled
sax.setFeature(xml.sax.handler.feature_external_ges, True)
# ok: web.xml-external-entities-enabled
sax.setFeature(xml.sax.handler.feature_external_ges, False)
