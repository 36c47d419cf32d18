# Test cases for web.xss-request-data-in-html and web.jinja2-autoescape-disabled.
import jinja2
import markupsafe
from aiohttp import web
from django.http import HttpResponse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from fastapi.responses import HTMLResponse
from flask import Flask, Markup, jsonify, make_response, render_template, request
from jinja2 import Environment, select_autoescape

app = Flask(__name__)


@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    # ruleid: web.xss-request-data-in-html
    return f"<h1>Hello {name}</h1>"


@app.route("/hello-safe")
def hello_safe():
    name = request.args.get("name", "")
    # ok: web.xss-request-data-in-html
    return f"<h1>Hello {markupsafe.escape(name)}</h1>"


@app.route("/greet/<user>")
def greet(user):
    # ruleid: web.xss-request-data-in-html
    return "<p>Welcome " + user + "</p>"


@app.route("/greet-safe/<user>")
def greet_safe(user):
    # ok: web.xss-request-data-in-html
    return render_template("greet.html", user=user)


@app.route("/api/echo")
def echo_json():
    q = request.args.get("q")
    # ok: web.xss-request-data-in-html
    return jsonify({"q": q})


@app.route("/comment", methods=["POST"])
def comment():
    body = request.form["body"]
    # ruleid: web.xss-request-data-in-html
    html = Markup("<div class=comment>%s</div>" % body)
    return render_template("c.html", html=html)


@app.route("/comment-safe", methods=["POST"])
def comment_safe():
    body = request.form["body"]
    # ok: web.xss-request-data-in-html
    html = Markup("<div class=comment>%s</div>") % body
    return render_template("c.html", html=html)


@app.route("/search")
def search():
    term = request.cookies.get("last_search")
    # ruleid: web.xss-request-data-in-html
    return make_response("<b>" + term + "</b>")


def django_view(request):
    q = request.GET.get("q", "")
    # ruleid: web.xss-request-data-in-html
    return HttpResponse("Results for " + q)


def django_view_escaped(request):
    q = request.GET.get("q", "")
    # ok: web.xss-request-data-in-html
    return HttpResponse("Results for " + escape(q))


def django_view_json(request):
    q = request.GET.get("q", "")
    # ok: web.xss-request-data-in-html
    return HttpResponse('{"q": "%s"}' % q, content_type="application/json")


def django_profile(request):
    bio = request.POST["bio"]
    # ruleid: web.xss-request-data-in-html
    return render(request, "p.html", {"bio": mark_safe(bio)})


def django_profile_safe(request):
    bio = request.POST["bio"]
    # ok: web.xss-request-data-in-html
    return render(request, "p.html", {"bio": format_html("<b>{}</b>", bio)})


def static_markup():
    # ok: web.xss-request-data-in-html
    return mark_safe("<br>")


async def aiohttp_handler(request):
    name = request.match_info.get("name", "")
    # ruleid: web.xss-request-data-in-html
    return web.Response(text="<h1>" + name + "</h1>", content_type="text/html")


async def aiohttp_text(request):
    name = request.match_info.get("name", "")
    # ok: web.xss-request-data-in-html
    return web.Response(text="Hello " + name)


async def fastapi_page(request):
    q = request.query_params.get("q")
    # ruleid: web.xss-request-data-in-html
    return HTMLResponse(f"<p>{q}</p>")


# ruleid: web.jinja2-autoescape-disabled
env = jinja2.Environment(loader=jinja2.FileSystemLoader("templates"), autoescape=False)
# ruleid: web.jinja2-autoescape-disabled
app.jinja_env.autoescape = False
# ok: web.jinja2-autoescape-disabled
env2 = Environment(loader=jinja2.FileSystemLoader("templates"), autoescape=select_autoescape())
# ok: web.jinja2-autoescape-disabled
env3 = Environment(autoescape=True)


@app.get("/items/{item_id}")
async def read_item(item_id: str, q: str = None, db: Session = Depends(get_db)):
    # ruleid: web.xss-request-data-in-html
    html = Markup(f"<i>{q}</i>")
    # ok: web.xss-request-data-in-html
    other = Markup(db.query_html())
    return html, other
