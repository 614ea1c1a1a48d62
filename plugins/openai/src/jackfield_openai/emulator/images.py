"""`POST /v1/images/generations`: PNGs drawn from the prompt, as base64 or as URLs served by
the emulator; each model family takes the fields and sizes OpenAI's does.

- DALL-E 3: sizes 1024x1024, 1792x1024, 1024x1792; quality standard/hd; style vivid/natural;
  one image per request; `response_format` url (the default) or b64_json.
- GPT Image: sizes 1024x1024, 1536x1024, 1024x1536, auto; quality low/medium/high/auto;
  always base64, and `response_format` and `style` are refused.
- other image models (FLUX, say): any WIDTHxHEIGHT size; url (the default) or b64_json.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections import OrderedDict
from typing import Any

from aiohttp import web

from jackfield.testing import png_bytes, request_fault

from .models import EmulatedModel, model_for
from .validation import Refusal, json_body, refusals, require

__all__ = ["IMAGES_KEY", "generate_images", "image_file"]

_FIELDS = {"prompt": "string", "model": "string", "n": "integer", "quality": "string",
           "response_format": "string", "size": "string", "style": "string", "user": "string",
           "background": "string", "output_format": "string"}
_SIZE = re.compile(r"[1-9]\d{1,4}x[1-9]\d{1,4}")
_KEPT = 1024  # images remembered for download; the oldest are forgotten
IMAGES_KEY = web.AppKey("openai_emulator_images", OrderedDict[str, bytes])


def _rules(model: EmulatedModel) -> tuple[tuple[str, ...] | None, tuple[str, ...],
                                            tuple[str, ...], tuple[str, ...]]:
    """Return (sizes or None for any, qualities, styles, response formats) of a model."""
    if model.id.startswith("dall-e"):
        return (("1024x1024", "1792x1024", "1024x1792"), ("standard", "hd"),
                ("vivid", "natural"), ("url", "b64_json"))
    if model.id.startswith("gpt-image"):
        return (("1024x1024", "1536x1024", "1024x1536", "auto"),
                ("low", "medium", "high", "auto"), (), ())
    return None, (), (), ("url", "b64_json")


def _choose(body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> None:
    value = body.get(name)
    if value is None:
        return
    if not allowed:
        raise Refusal(400, f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
    require(value in allowed, f"Invalid value: '{value}'. Supported values are: "
            f"{', '.join(repr(a) for a in allowed)}.", param=name, code="invalid_value")


@refusals
async def generate_images(request: web.Request) -> web.Response:
    """POST /v1/images/generations."""
    body = await json_body(request, _FIELDS, ("prompt",))
    model = model_for(request, body.get("model") or "dall-e-2", "image")
    sizes, qualities, styles, formats = _rules(model)
    require(bool(body["prompt"].strip()), "Invalid 'prompt': empty string.", param="prompt")
    size = body.get("size")
    if size is not None:
        require(size in sizes if sizes else bool(_SIZE.fullmatch(size)),
                f"Invalid value: '{size}'. Supported values are: "
                f"{', '.join(sizes) if sizes else 'WIDTHxHEIGHT'}.", param="size",
                code="invalid_value")
    _choose(body, "quality", qualities)
    _choose(body, "style", styles)
    _choose(body, "response_format", formats)
    count = body.get("n") or 1
    require(1 <= count <= (1 if model.id == "dall-e-3" else 10), f"Invalid 'n': {count} is not "
            f"supported by {model.id}.", param="n", code="invalid_value")
    created = int(time.time())
    if request_fault(request) == "no_images":
        return web.json_response({"created": created,
                                  "data": [{"revised_prompt": body["prompt"]}]})
    as_url = formats != () and body.get("response_format", "url") == "url"
    data = []
    for number in range(count):
        png = png_bytes(f"{model.id}:{body['prompt']}:{number}")
        if as_url:
            name = hashlib.sha256(png).hexdigest()[:32] + ".png"
            store = request.app[IMAGES_KEY]
            store[name] = png
            while len(store) > _KEPT:
                store.popitem(last=False)
            url = str(request.url.with_path(f"/files/{name}").with_query(None))
            data.append({"url": url, "revised_prompt": body["prompt"]})
        else:
            data.append({"b64_json": base64.b64encode(png).decode("ascii")})
    return web.json_response({"created": created, "data": data})


async def image_file(request: web.Request) -> web.Response:
    """GET /files/{name}: an image generated with response_format url."""
    png = request.app[IMAGES_KEY].get(request.match_info["name"])
    if png is None:
        raise web.HTTPNotFound(text="no such image")
    return web.Response(body=png, content_type="image/png")
