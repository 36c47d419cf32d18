import ssl

import httpx
import requests


def charge(payload):
    # ruleid: payment.tls-verification-disabled
    return requests.post("https://psp.example.com/v1/charges", json=payload, verify=False, timeout=10)


def session_call():
    s = requests.Session()
    # ruleid: payment.tls-verification-disabled
    s.verify = False
    return s


def httpx_call():
    # ruleid: payment.tls-verification-disabled
    return httpx.get("https://psp.example.com/v1/balance", verify=False)


def unverified_context():
    # ruleid: payment.tls-verification-disabled
    return ssl._create_unverified_context()


def manual_context():
    ctx = ssl.create_default_context()
    # ruleid: payment.tls-verification-disabled
    ctx.check_hostname = False
    # ruleid: payment.tls-verification-disabled
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def ok_calls(payload):
    # ok: payment.tls-verification-disabled
    requests.post("https://psp.example.com/v1/charges", json=payload, timeout=10)
    # ok: payment.tls-verification-disabled
    requests.post("https://psp.example.com/v1/charges", json=payload, verify="/etc/ssl/psp-ca.pem", timeout=10)
    # ok: payment.tls-verification-disabled
    httpx.get("https://psp.example.com/v1/balance", verify=True)
    ctx = ssl.create_default_context()
    # ok: payment.tls-verification-disabled
    ctx.verify_mode = ssl.CERT_REQUIRED
    # ok: payment.tls-verification-disabled
    ctx.check_hostname = True
    return ctx
