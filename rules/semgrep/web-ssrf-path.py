# Test cases for web.ssrf, web.path-traversal, web.archive-extraction-outside-target.
import os
import tarfile
import urllib.request

import aiohttp
import requests
from flask import Flask, request, send_file, send_from_directory
from werkzeug.utils import secure_filename

app = Flask(__name__)


@app.route("/preview")
def preview():
    url = request.args.get("url")
    # ruleid: web.ssrf
    r = requests.get(url, timeout=5)
    # ok: web.ssrf
    r2 = requests.get("https://api.example.com/v1/items/" + url, timeout=5)
    return r.text + r2.text


def fetch_view(request):
    target = request.POST["webhook"]
    # ruleid: web.ssrf
    return urllib.request.urlopen(target).read()


async def aio_fetch(request):
    url = request.query["u"]
    async with aiohttp.ClientSession() as session:
        # ruleid: web.ssrf
        async with session.get(url) as resp:
            return await resp.text()


def fetch_fixed():
    # ok: web.ssrf
    return requests.get(os.environ["STATUS_URL"], timeout=5)


@app.route("/download")
def download():
    name = request.args["file"]
    # ruleid: web.path-traversal
    return send_file(os.path.join("/srv/files", name))


@app.route("/download-safe")
def download_safe():
    name = request.args["file"]
    # ok: web.path-traversal
    return send_from_directory("/srv/files", name)


@app.route("/read")
def read():
    name = request.args["file"]
    # ruleid: web.path-traversal
    with open("/srv/files/" + name) as fh:
        return fh.read()


@app.route("/read-basename")
def read_basename():
    name = request.args["file"]
    # ok: web.path-traversal
    with open(os.path.join("/srv/files", os.path.basename(name))) as fh:
        return fh.read()


@app.route("/upload", methods=["POST"])
def upload():
    f = request.files["doc"]
    # ruleid: web.path-traversal
    f.save(os.path.join("/srv/uploads", f.filename))
    # ok: web.path-traversal
    f.save(os.path.join("/srv/uploads", secure_filename(f.filename)))
    return "ok"


def unpack(path, dest):
    with tarfile.open(path) as tar:
        # ruleid: web.archive-extraction-outside-target
        tar.extractall(dest)


def unpack_filtered(path, dest):
    with tarfile.open(path) as tar:
        # ok: web.archive-extraction-outside-target
        tar.extractall(dest, filter="data")


def unpack_one(path, dest):
    t = tarfile.open(path)
    # ruleid: web.archive-extraction-outside-target
    t.extract("report.csv", dest)
