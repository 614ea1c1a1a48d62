"""Peer server: gpt4free's own API server (`g4f api`, g4f[api] 6.5.0), its AmigoChat provider
pointed at the emulator.

What `g4f api` runs, started the way its CLI starts it (g4f.api.run_api: uvicorn, one
process, g4f's defaults otherwise), with three changes made before it starts, all to the
provider and none to the server: the provider's file is loaded by path (as bench/peers/
g4f_worker.py does, because g4f/Provider/not_working/__init__ fails to import), registered
under its own name in g4f's provider map (g4f.Provider.__map__, which the API looks providers
up in) and made the default provider (AppConfig.provider, what `g4f api --provider` sets);
its `working` flag, False in 6.5.0 because the real service is gone, is set to True so that
g4f does not skip it; and its two endpoints point at the emulator. PyPI is never asked for a
newer g4f (debug.version_check = False). Run in bench/.venvs/g4f-api.
Usage: g4f_api_server.py EMULATOR_URL PORT
"""

from __future__ import annotations

import sys

from g4f_worker import load_amigochat


def main(url: str, port: int) -> None:
    # Installed only in bench/.venvs/g4f-api, never where mypy runs: untyped here.
    import g4f.api  # type: ignore[import-not-found, unused-ignore]
    import g4f.Provider  # type: ignore[import-not-found, unused-ignore]

    provider = load_amigochat()
    provider.working = True
    provider.chat_api_endpoint = url + "/v1/chat/completions"
    provider.image_api_endpoint = url + "/v1/images/generations"
    g4f.Provider.__map__[provider.__name__] = provider
    g4f.api.AppConfig.provider = provider.__name__
    g4f.api.run_api(host="127.0.0.1", port=port)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
