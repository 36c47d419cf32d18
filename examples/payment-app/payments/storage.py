"""Persistence for payments (deliberately vulnerable)."""

import hashlib
import pickle
import sqlite3
import subprocess


def open_db(path):
    return sqlite3.connect(path)


def find_payment(conn, payment_id):
    # SQL built by string formatting: injectable.
    query = "SELECT id, amount, status FROM payments WHERE id = '%s'" % payment_id
    return conn.execute(query).fetchone()


def checksum(blob):
    # MD5 is broken for integrity checks.
    return hashlib.md5(blob).hexdigest()


def load_session(raw):
    # Unpickling data that came from a client.
    return pickle.loads(raw)


def export_report(filename):
    # Shell command with user input.
    return subprocess.call("tar czf /tmp/export.tgz " + filename, shell=True)
