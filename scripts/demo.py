"""The offline demo: every installed provider against its emulator on loopback.

Starts each plugin's protocol emulator on 127.0.0.1, points the provider at it through
JACKFIELD_<PROVIDER>_BASE_URL, lists the models (asking the emulators of plugins whose models
live on the server), streams a chat reply from each provider as it arrives, generates an
image from each and saves the PNG files, and embeds two texts with each embedding model.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path

from jackfield import Registry
from jackfield._settings.config import env_name
from jackfield.testing import emulator_credentials, serve_app

OUTPUT = Path(os.environ.get("JACKFIELD_DEMO_OUTPUT")
              or Path(__file__).resolve().parent.parent / "demo-output")
QUESTION = "Which wire protocol do you speak?"


def say(text: str = "") -> None:
    """Print a line of the demo's own narration."""
    print(text, flush=True)


async def start_emulators(stack: AsyncExitStack) -> dict[str, str]:
    """Run every installed plugin's emulator on loopback; return provider -> base URL."""
    urls = {}
    registry = Registry.discover()
    for provider, factory in registry.emulators().items():
        urls[provider] = await stack.enter_async_context(serve_app(factory()))
        os.environ[env_name(provider, "base_url")] = urls[provider]
        # Emulators accept any credential (AiChats' cookie, say): fill in what is not set.
        spec = next(p for p in registry.providers() if p.name == provider)
        for setting, value in emulator_credentials(spec).items():
            os.environ.setdefault(env_name(provider, setting), value)
    return urls


def show_models(registry: Registry) -> None:
    """Print how many models each provider serves, and a few of them."""
    for spec in registry.providers():
        models = registry.models(provider=spec.name)
        usable = [m for m in models if m.available]
        sample = ", ".join(m.id for m in usable[:4]) + (" …" if len(usable) > 4 else "")
        say(f"  {spec.name}: {len(models)} models ({len(usable)} available) — {sample}")


async def stream_chat(registry: Registry, provider: str, model: str) -> str:
    """Stream one reply to the terminal piece by piece; return a summary line."""
    say(f"\n[{provider}/{model}] > {QUESTION}")
    started = time.perf_counter()
    stream = await registry.complete(
        f"{provider}/{model}",
        [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": QUESTION}],
        stream=True,
    )
    pieces = 0
    async with stream:
        async for chunk in stream:
            pieces += 1
            sys.stdout.write(chunk.text)
            sys.stdout.flush()
    say()
    elapsed = time.perf_counter() - started
    return f"{provider}/{model}: streamed {pieces} pieces in {elapsed * 1000:.0f} ms"


def chat_model(registry: Registry, provider: str) -> str | None:
    """Return the provider's default chat model, else its first available one (a provider
    whose models were discovered has no default)."""
    spec = next(p for p in registry.providers() if p.name == provider)
    if spec.default_model is not None:
        return spec.default_model
    usable = [m.id for m in registry.models(provider=provider, kind="chat") if m.available]
    return usable[0] if usable else None


async def embed_texts(registry: Registry, provider: str, model: str) -> str:
    """Embed two texts; return a summary line with their cosine similarity."""
    vectors = await registry.embed(f"{provider}/{model}", ["a lighthouse at dusk",
                                                           "a lighthouse at dawn"])
    first, second = vectors
    dot = sum(a * b for a, b in zip(first, second, strict=True))
    norms = (sum(a * a for a in first) * sum(b * b for b in second)) ** 0.5
    return (f"{provider}/{model}: {len(vectors)} vectors of {len(first)} floats, "
            f"cosine similarity {dot / norms:.3f}")


async def make_image(registry: Registry, provider: str, model: str) -> str:
    """Generate an image and save every returned file; return a summary line."""
    completion = await registry.complete(f"{provider}/{model}", "a lighthouse at dusk")
    paths = []
    for index, image in enumerate(completion.images):
        target = OUTPUT / f"{provider}-{model.replace('/', '_')}-{index}{image.extension}"
        paths.append(str(image.save(target)))
    return f"{provider}/{model}: saved {', '.join(paths)}"


async def main() -> None:
    """Run the whole demo."""
    OUTPUT.mkdir(exist_ok=True)
    report = []
    async with AsyncExitStack() as stack:
        urls = await start_emulators(stack)
        say("Emulators on loopback:")
        for provider, url in urls.items():
            say(f"  {provider}: {url}  ({env_name(provider, 'base_url')})")
        registry = await stack.enter_async_context(Registry.discover())
        await registry.refresh_models()  # the plugins whose models live on the server ask it
        say("\nModels:")
        show_models(registry)
        for problem in registry.discovery_warnings().values():  # each names its provider
            say(f"  warning: {problem}")
        for spec in registry.providers():
            model = chat_model(registry, spec.name)
            if model is not None:
                report.append(await stream_chat(registry, spec.name, model))
        say("\nImages:")
        for spec in registry.providers():
            images = [m for m in registry.models(provider=spec.name, kind="image") if m.available]
            if images:
                line = await make_image(registry, spec.name, images[0].id)
                report.append(line)
                say(f"  {line}")
        say("\nEmbeddings:")
        for spec in registry.providers():
            embedders = [m for m in registry.models(provider=spec.name, kind="embedding")
                         if m.available]
            if embedders:
                line = await embed_texts(registry, spec.name, embedders[0].id)
                report.append(line)
                say(f"  {line}")
    say("\nDone. What happened:")
    for line in report:
        say(f"  - {line}")
    say("No traffic left this machine: every request went to 127.0.0.1.")


if __name__ == "__main__":
    asyncio.run(main())
