# Test cases for the settings rules (this file's name matches the rules' *config*.py paths).
import os

from django.views.decorators.csrf import csrf_exempt
from flask import Flask

# ruleid: web.django-debug-enabled
DEBUG = True
# ruleid: web.django-debug-enabled
DEBUG: bool = True
if os.environ.get("LOCAL"):
    # ok: web.django-debug-enabled
    DEBUG = True

# ruleid: web.django-allowed-hosts-wildcard
ALLOWED_HOSTS = ["*"]
# ok: web.django-allowed-hosts-wildcard
ALLOWED_HOSTS = ["shop.example.com"]
# ruleid: web.django-allowed-hosts-wildcard
ALLOWED_HOSTS = ("localhost", "*")

# ruleid: web.insecure-session-cookie-settings
SESSION_COOKIE_SECURE = False
# ruleid: web.insecure-session-cookie-settings
SESSION_COOKIE_HTTPONLY = False
# ok: web.insecure-session-cookie-settings
SESSION_COOKIE_SECURE = True

# ruleid: web.flask-hardcoded-secret-key
SECRET_KEY = "django-insecure-8f2k!x9"
# ok: web.flask-hardcoded-secret-key
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]

app = Flask(__name__)
# ruleid: web.flask-hardcoded-secret-key
app.secret_key = "super secret key"
# ok: web.flask-hardcoded-secret-key
app.secret_key = "change-me"
# ruleid: web.flask-hardcoded-secret-key
app.config["SECRET_KEY"] = "s3cr3t-k3y"
# ruleid: web.csrf-protection-disabled
app.config["WTF_CSRF_ENABLED"] = False


@csrf_exempt
# ruleid: web.csrf-protection-disabled
def transfer(request):
    return None


@csrf_exempt
# ok: web.csrf-protection-disabled
def stripe_webhook(request):
    return None


def login(request, resp, token):
    # ruleid: web.insecure-session-cookie-settings
    resp.set_cookie("sessionid", token, httponly=False)
    # ok: web.insecure-session-cookie-settings
    resp.set_cookie("theme", "dark", httponly=False)
    # ruleid: web.insecure-session-cookie-settings
    resp.set_cookie("vulpy_session", token)
    # ruleid: web.insecure-session-cookie-settings
    resp.set_cookie("auth_token", token, httponly=True)
    # ok: web.insecure-session-cookie-settings
    resp.set_cookie("auth_token", token, secure=True, httponly=True, samesite="Lax")
    # ok: web.insecure-session-cookie-settings
    resp.set_cookie("session", token, httponly=True, secure=request.is_secure)
    # ok: web.insecure-session-cookie-settings
    resp.set_cookie("theme", "dark")
    return resp


def settings_for_tests():
    # ok: web.django-debug-enabled
    DEBUG = True
    return DEBUG


app = Flask(__name__)
# ruleid: web.flask-debug-enabled
app.debug = True
# ok: web.flask-debug-enabled
app.debug = os.environ.get("FLASK_DEBUG") == "1"

if __name__ == "__main__":
    # ruleid: web.flask-debug-enabled
    app.run(debug=True, host="127.0.1.1", port=5000)
    # ok: web.flask-debug-enabled
    app.run(host="0.0.0.0", port=5000)
    # ok: web.flask-debug-enabled
    app.run(debug=os.environ.get("FLASK_DEBUG") == "1")

# ruleid: web.django-weak-password-hasher
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# ruleid: web.django-weak-password-hasher
PASSWORD_HASHERS = ("django.contrib.auth.hashers.UnsaltedSHA1PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher")
# ok: web.django-weak-password-hasher
PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher", "django.contrib.auth.hashers.MD5PasswordHasher"]

# ruleid: web.django-pickle-session-serializer
SESSION_SERIALIZER = "django.contrib.sessions.serializers.PickleSerializer"
# ok: web.django-pickle-session-serializer
SESSION_SERIALIZER = "django.contrib.sessions.serializers.JSONSerializer"
# ruleid: web.django-pickle-session-serializer
SESSION_SERIALIZER = "myproject.sessions.PickleSerializer"
