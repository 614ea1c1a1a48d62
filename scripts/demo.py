"""The offline demo: every installed provider against its emulator on loopback.

Starts each plugin's protocol emulator on 127.0.0.1, points the provider at it through
JACKFIELD_<PROVIDER>_BASE_URL, lists the models, streams a chat reply from each provider as
it arrives, generates an image from each and saves the PNG files.
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
        say("\nModels:")
        show_models(registry)
        for spec in registry.providers():
            if spec.default_model is not None:
                report.append(await stream_chat(registry, spec.name, spec.default_model))
        say("\nImages:")
        for spec in registry.providers():
            images = [m for m in registry.models(provider=spec.name, kind="image") if m.available]
            if images:
                line = await make_image(registry, spec.name, images[0].id)
                report.append(line)
                say(f"  {line}")
    say("\nDone. What happened:")
    for line in report:
        say(f"  - {line}")
    say("No traffic left this machine: every request went to 127.0.0.1.")


if __name__ == "__main__":
    asyncio.run(main())
