# Test cases for web.command-injection, web.code-injection, web.server-side-template-injection.
import os
import shlex
import subprocess

import jinja2
from flask import Flask, render_template_string, request
from PIL import ImageMath

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args.get("host")
    # ruleid: web.command-injection
    os.system("ping -c 1 " + host)
    # ok: web.command-injection
    os.system("ping -c 1 " + shlex.quote(host))
    # ruleid: web.command-injection
    out = subprocess.check_output(f"nslookup {host}", shell=True)
    # ok: web.command-injection
    out2 = subprocess.check_output(["nslookup", host])
    return out + out2


def django_view(request):
    name = request.POST["filename"]
    # ruleid: web.command-injection
    subprocess.run(["sh", "-c", "gzip " + name])
    # ok: web.command-injection
    subprocess.run("gzip backup.tar", shell=True)
    # ruleid: web.command-injection
    return os.popen("ls " + name).read()


@app.route("/calc")
def calc():
    expr = request.args["expr"]
    # ruleid: web.code-injection
    result = eval(expr)
    # ok: web.code-injection
    other = eval("1 + 2")
    return str(result + other)


async def image_view(request):
    data = await request.post()
    # ruleid: web.code-injection
    out = ImageMath.eval(data["formula"], a=1)
    # ok: web.code-injection
    out2 = ImageMath.eval("a + b", a=1, b=2)
    return out, out2


def exec_view(request):
    code = request.GET.get("code")
    # ruleid: web.code-injection
    exec(code)
    # ok: web.code-injection
    exec(compile_trusted())


@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    template = "<h1>Hello %s</h1>" % name
    # ruleid: web.server-side-template-injection
    return render_template_string(template)


@app.route("/hello-safe")
def hello_safe():
    name = request.args.get("name", "")
    # ok: web.server-side-template-injection
    return render_template_string("<h1>Hello {{ name }}</h1>", name=name)


@app.errorhandler(404)
def page_not_found(e):
    template = "<h1>Not found</h1><h3>%s</h3>" % request.url
    # ruleid: web.server-side-template-injection
    return render_template_string(template), 404


@app.errorhandler(410)
def page_gone(e):
    # ok: web.server-side-template-injection
    return render_template_string("<h1>Gone</h1><h3>{{ url }}</h3>", url=request.url), 410


def render_page(title):
    # ruleid: web.server-side-template-injection
    return render_template_string(f"<title>{title}</title>{{{{ body }}}}")


def jinja_view(request):
    tpl = request.GET["tpl"]
    # ruleid: web.server-side-template-injection
    return jinja2.Template(tpl).render()


def jinja_const():
    # ok: web.server-side-template-injection
    return jinja2.Template("{{ x }}").render(x=1)
