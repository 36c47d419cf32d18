# Test cases for web.redos-nested-quantifier.
import re

from flask import Flask, request

app = Flask(__name__)


# ruleid: web.redos-nested-quantifier
EMAIL = re.compile(r"^([a-zA-Z0-9])(([\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$")
# ruleid: web.redos-nested-quantifier
WORDS = re.compile(r"^(\w+\s?)*$")
# ruleid: web.redos-nested-quantifier
AS = re.match("(a+)+b", "aaaa")
# ok: web.redos-nested-quantifier
DOTTED = re.compile(r"^(\d+\.)+\d+$")
# ok: web.redos-nested-quantifier
WORDS_SAFE = re.compile(r"^\w+(?:\s\w+)*$")
# ruleid: web.redos-nested-quantifier
EMAIL_2 = re.search(r"^([0-9a-zA-Z]([-.\w]*[0-9a-zA-Z])*@{1}([0-9a-zA-Z][-\w]*[0-9a-zA-Z]\.)+[a-zA-Z]{2,9})$", "x")
# ok: web.redos-nested-quantifier
CSV_FIELDS = re.compile(r"^([^,]*,)*[^,]*$")

