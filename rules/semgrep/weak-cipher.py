import hmac
import os

from Crypto.Cipher import AES as PyAES
from Crypto.Cipher import DES, ARC4
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def des_encrypt(key, data):
    # ruleid: payment.weak-cipher-algorithm
    return DES.new(key, DES.MODE_ECB).encrypt(data)


def rc4(key, data):
    # ruleid: payment.weak-cipher-algorithm
    return ARC4.new(key).encrypt(data)


def triple_des(key, iv):
    # ruleid: payment.weak-cipher-algorithm, payment.unauthenticated-cipher-mode
    return Cipher(algorithms.TripleDES(key), modes.CBC(iv))


def blowfish(key, iv):
    # ruleid: payment.weak-cipher-algorithm, payment.unauthenticated-cipher-mode
    return Cipher(algorithms.Blowfish(key), modes.CBC(iv))


def aes_ok(key):
    # ok: payment.weak-cipher-algorithm
    return Cipher(algorithms.AES(key), modes.GCM(os.urandom(12)))


def ecb(key):
    # ruleid: payment.aes-ecb-mode
    return Cipher(algorithms.AES(key), modes.ECB())


def ecb_pycryptodome(key):
    # ruleid: payment.aes-ecb-mode
    return PyAES.new(key, PyAES.MODE_ECB)


def gcm_pycryptodome(key):
    # ok: payment.aes-ecb-mode
    return PyAES.new(key, PyAES.MODE_GCM)


def cbc_no_mac(key):
    iv = os.urandom(16)
    # ruleid: payment.unauthenticated-cipher-mode
    return iv, Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()


def ctr_no_mac(key):
    # ruleid: payment.unauthenticated-cipher-mode
    return PyAES.new(key, PyAES.MODE_CTR)


def cbc_then_mac(key, mac_key, data):
    iv = os.urandom(16)
    # ok: payment.unauthenticated-cipher-mode
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ct = iv + enc.update(data) + enc.finalize()
    tag = hmac.new(mac_key, ct, "sha256").digest()
    return ct + tag


def gcm(key, data):
    nonce = os.urandom(12)
    # ok: payment.unauthenticated-cipher-mode
    return nonce + AESGCM(key).encrypt(nonce, data, None)


def static_gcm_nonce(key, data):
    # ruleid: payment.static-iv-or-nonce
    return AESGCM(key).encrypt(b"000000000000", data, None)


def static_gcm_nonce_var(key, data):
    aead = AESGCM(key)
    # ruleid: payment.static-iv-or-nonce
    return aead.encrypt(b"\x00" * 12, data, None)


def zero_iv(key):
    # ruleid: payment.static-iv-or-nonce
    return Cipher(algorithms.AES(key), modes.GCM(bytes(12)))


def static_iv_pycryptodome(key):
    # ruleid: payment.static-iv-or-nonce
    return PyAES.new(key, PyAES.MODE_GCM, nonce=b"fixed-nonce!")


def random_nonce(key, data):
    nonce = os.urandom(12)
    aead = AESGCM(key)
    # ok: payment.static-iv-or-nonce
    return nonce + aead.encrypt(nonce, data, None)
