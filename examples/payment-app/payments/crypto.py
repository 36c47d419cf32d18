"""Card-data encryption and password hashing (deliberately vulnerable)."""

import hashlib

from Crypto.Cipher import DES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# One IV for every message.
STATIC_IV = b"0123456789abcdef"


def encrypt_pan_legacy(key, pan):
    # DES: 56-bit keys, broken.
    return DES.new(key, DES.MODE_ECB).encrypt(pan)


def encrypt_pan_ecb(key, pan):
    # AES in ECB mode: equal blocks encrypt to equal ciphertext.
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(pan)


def encrypt_pan_cbc(key, iv, pan):
    # AES-CBC with no MAC: malleable, padding-oracle prone.
    return Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor().update(pan)


def encrypt_pan_gcm(key, pan):
    # AES-GCM is right, but the nonce is a constant.
    return AESGCM(key).encrypt(b"fixednonce12", pan, None)


def hash_password(password):
    # One fast unsalted hash for a password.
    return hashlib.sha256(password.encode()).hexdigest()
