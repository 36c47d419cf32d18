# Test cases for web.open-redirect.
from aiohttp import web
from django.http import HttpResponseRedirect
from django.shortcuts import redirect as dj_redirect
from django.utils.http import url_has_allowed_host_and_scheme
from fastapi.responses import RedirectResponse
from flask import Flask, redirect, request, url_for

app = Flask(__name__)


@app.route("/login", methods=["POST"])
def login():
    nxt = request.args.get("next")
    # ruleid: web.open-redirect
    return redirect(nxt)


@app.route("/login-safe", methods=["POST"])
def login_safe():
    nxt = request.args.get("next", "")
    # ok: web.open-redirect
    return redirect(url_for("profile", tab=nxt))


@app.route("/go")
def go():
    # ok: web.open-redirect
    return redirect("/search?q=" + request.args["q"])


def django_login(request):
    target = request.GET.get("next", "/")
    # ruleid: web.open-redirect
    return HttpResponseRedirect(target)


def django_login_checked(request):
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    # ok: web.open-redirect
    return HttpResponseRedirect(target)


async def aio_handler(request):
    location = request.query.get("to")
    # ruleid: web.open-redirect
    raise web.HTTPFound(location)


async def fastapi_back(request):
    ref = request.headers.get("referer")
    # ruleid: web.open-redirect
    return RedirectResponse(url=ref)


def constant():
    # ok: web.open-redirect
    return dj_redirect("https://example.com/")


def set_language(request):
    next_url = request.POST.get("next", request.GET.get("next"))
    if (next_url or request.accepts("text/html")) and not url_has_allowed_host_and_scheme(
        url=next_url, allowed_hosts={request.get_host()}
    ):
        next_url = "/"
    # ok: web.open-redirect
    response = HttpResponseRedirect(next_url) if next_url else None
    if request.method == "POST" and next_url:
        # ok: web.open-redirect
        response = HttpResponseRedirect(translate_url(next_url, "de"))
    return response
