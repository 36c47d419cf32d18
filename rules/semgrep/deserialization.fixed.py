import json
import pickle

import yaml


def load_session(raw):
    # ruleid: payment.unsafe-pickle-load
    return pickle.loads(raw)


def load_cart(fh):
    # ruleid: payment.unsafe-pickle-load
    return pickle.load(fh)


def save_cart(cart):
    # ok: payment.unsafe-pickle-load
    return pickle.dumps(cart)


def load_session_json(raw):
    # ok: payment.unsafe-pickle-load
    return json.loads(raw)


def load_settings(text):
    # ruleid: payment.unsafe-yaml-load
    return yaml.safe_load(text)


def load_settings_full(text):
    # ruleid: payment.unsafe-yaml-load
    return yaml.safe_load(text)


def load_settings_unsafe(text):
    # ruleid: payment.unsafe-yaml-load
    return yaml.safe_load(text)


def load_settings_safe(text):
    # ok: payment.unsafe-yaml-load
    return yaml.safe_load(text)


def load_settings_safe_loader(text):
    # ok: payment.unsafe-yaml-load
    return yaml.load(text, Loader=yaml.SafeLoader)


def dump_settings(data):
    # ok: payment.unsafe-yaml-load
    return yaml.dump(data)


def round_trip(obj):
    # ok: payment.unsafe-pickle-load
    return pickle.loads(pickle.dumps(obj, 2))


def round_trip_via_name(obj):
    dumped = pickle.dumps(obj)
    # ok: payment.unsafe-pickle-load
    restored = pickle.loads(dumped)
    return restored


def from_queue(message, dumped):
    # ruleid: payment.unsafe-pickle-load
    return pickle.loads(message.body)



def round_trip_in_blocks(self, obj):
    with self.assertNumQueries(0):
        dumped = pickle.dumps(obj)
    with self.assertNumQueries(0):
        # ok: payment.unsafe-pickle-load
        reloaded = pickle.loads(dumped)
    return reloaded
