import hashlib
import pickle
import subprocess

import yaml


def run(cmd):
    return subprocess.call(cmd, shell=True)


def load(blob):
    return pickle.loads(blob)


def digest(data):
    return hashlib.md5(data).hexdigest()


def settings(text):
    return yaml.load(text)
