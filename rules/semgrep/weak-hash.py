import hashlib

from cryptography.hazmat.primitives import hashes


def checksum(blob):
    # ruleid: payment.weak-hash-algorithm
    return hashlib.md5(blob).hexdigest()


def signature_digest(blob):
    # ruleid: payment.weak-hash-algorithm
    return hashlib.sha1(blob).digest()


def verify_download(blob, expected):
    # ruleid: payment.weak-hash-algorithm
    if hashlib.md5(blob).hexdigest() != expected:
        raise ValueError("corrupt")


def cache_key_md5(url):
    # ok: payment.weak-hash-algorithm
    return hashlib.md5(url.encode()).hexdigest()


def _sqlite_md5(text):
    # ok: payment.weak-hash-algorithm
    return hashlib.md5(text.encode()).hexdigest()


def checksum_by_name(blob):
    # ruleid: payment.weak-hash-algorithm
    return hashlib.new("md5", blob).hexdigest()


def sign_digest():
    # ruleid: payment.weak-hash-algorithm
    return hashes.Hash(hashes.SHA1())


def cache_key(url):
    # ok: payment.weak-hash-algorithm
    return hashlib.md5(url.encode(), usedforsecurity=False).hexdigest()


def strong(blob):
    # ok: payment.weak-hash-algorithm
    return hashlib.sha256(blob).hexdigest()


def sha1_name_only(blob):
    # ok: payment.weak-hash-algorithm
    return hashlib.sha3_256(blob).hexdigest()


def store_password(user, password):
    # ruleid: payment.fast-hash-for-password
    user.password_hash = hashlib.sha256(password.encode()).hexdigest()


def store_pin(card, pin):
    h = hashlib.sha512()
    h.update(card.salt)
    # ruleid: payment.fast-hash-for-password
    h.update(pin.encode())
    return h.hexdigest()


def store_password_kdf(user, password, salt):
    # ok: payment.fast-hash-for-password
    user.password_hash = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)


def store_password_pbkdf2(user, password, salt):
    # ok: payment.fast-hash-for-password
    user.password_hash = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000)


def hash_document(doc):
    # ok: payment.fast-hash-for-password
    return hashlib.sha256(doc.body).hexdigest()


def hash_spinner(spin):
    # ok: payment.fast-hash-for-password
    return hashlib.sha256(spin.encode()).hexdigest()


def legacy_password(password):
    # ruleid: payment.fast-hash-for-password, payment.weak-hash-algorithm
    return hashlib.new("sha1", password.encode()).hexdigest()


def test_hmac_block(secret):
    # ok: payment.weak-hash-algorithm
    return {"secret": secret, "size": hashlib.sha1().block_size}


def make_reset_link(user):
    # ruleid: payment.weak-hash-algorithm
    key = hashlib.md5(f"{user.email}{time.time()}".encode()).hexdigest()
    return f"/reset/{key}"
