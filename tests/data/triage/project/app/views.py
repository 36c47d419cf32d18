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


def parse(text):
    return yaml.load(text)


PASSWORD = "hunter2"
try:
    run("ls")
except Exception:
    pass
