"""HTTP-facing helpers (deliberately vulnerable)."""

import logging

import requests
import yaml

log = logging.getLogger(__name__)


def charge(card_number, cvv, amount):
    log.info("charging card %s cvv %s amount %s", card_number, cvv, amount)
    # TLS verification disabled.
    return requests.post("https://psp.example.com/v1/charges", json={"amount": amount}, verify=False, timeout=10)


def load_settings(text):
    return yaml.load(text)
