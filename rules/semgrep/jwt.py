import jwt
from jose import jwt as jose_jwt

PUBLIC_KEY = open("psp_public.pem").read()


def merchant_from_token(token):
    # ruleid: payment.jwt-decode-without-verification
    claims = jwt.decode(token, options={"verify_signature": False})
    return claims["merchant_id"]


def merchant_from_token_legacy(token):
    # ruleid: payment.jwt-decode-without-verification
    return jwt.decode(token, PUBLIC_KEY, verify=False)["merchant_id"]


def accepts_none(token):
    # ruleid: payment.jwt-decode-without-verification
    return jwt.decode(token, PUBLIC_KEY, algorithms=["RS256", "none"])


def opts_variable(token):
    opts = {"verify_signature": False, "verify_exp": True}
    # ruleid: payment.jwt-decode-without-verification
    return jwt.decode(token, PUBLIC_KEY, options=opts)


def jose_peek(token):
    # ruleid: payment.jwt-decode-without-verification
    return jose_jwt.get_unverified_claims(token)


def verified(token):
    # ok: payment.jwt-decode-without-verification
    return jwt.decode(token, PUBLIC_KEY, algorithms=["RS256"])


def verified_no_exp(token):
    # ok: payment.jwt-decode-without-verification
    return jwt.decode(token, PUBLIC_KEY, algorithms=["RS256"], options={"verify_exp": False})


def header_only(token):
    # ok: payment.jwt-decode-without-verification
    return jwt.get_unverified_header(token)["kid"]
