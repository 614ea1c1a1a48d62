"""Named instances of the plugin (`[providers.NAME] plugin = "openai"`): each its own server,
key, headers and model allow-list, and the default's OPENAI_API_KEY never reaching them."""

from __future__ import annotations

from pathlib import Path

import pytest
from openai_helpers import KEY, OTHER_KEY

import jackfield_openai
from jackfield import AuthenticationError, Registry
from jackfield.testing import STATS_KEY, RegistryFactory, ServeApp
from jackfield_openai.emulator import EmulatedModel, create_app


async def test_two_instances_with_their_own_keys_headers_and_models(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    vllm_app = create_app(models=["Qwen/Qwen2.5-7B-Instruct",
                                  EmulatedModel("BAAI/bge-m3-embed", "embedding", 1024,
                                                resizable=True)])
    router_app = create_app(api_key=OTHER_KEY, models=["openai/gpt-4o", "meta/llama-3-70b",
                                                       "anthropic/claude-3.5"])
    vllm, router = await serve_app(vllm_app), await serve_app(router_app)
    registry = make_registry([jackfield_openai], environ={"OPENAI_API_KEY": KEY}, config={
        "local-vllm": {"plugin": "openai", "base_url": f"{vllm}/v1"},
        "router": {"plugin": "openai", "base_url": f"{router}/v1", "api_key": OTHER_KEY,
                   "headers": {"HTTP-Referer": "https://example.test", "X-Title": "tests"},
                   "models": ["openai/gpt-4o", "meta/llama-3-70b"]},
    })
    await registry.refresh_models(provider="local-vllm")
    await registry.refresh_models(provider="router")
    assert {m.qualified_id for m in registry.models(provider="local-vllm")} == {
        "local-vllm/Qwen/Qwen2.5-7B-Instruct", "local-vllm/BAAI/bge-m3-embed"}
    # The allow-list: the router lists three, the instance serves the two named.
    assert {m.id for m in registry.models(provider="router")} == {"openai/gpt-4o",
                                                                  "meta/llama-3-70b"}
    completion = await registry.complete("local-vllm/Qwen/Qwen2.5-7B-Instruct", "hi")
    assert completion.provider == "local-vllm"
    # The default's OPENAI_API_KEY fallback is the default's alone.
    assert "Authorization" not in vllm_app[STATS_KEY].last_headers
    completion = await registry.complete("router/meta/llama-3-70b", "hi")
    assert completion.text.endswith("You said: hi")
    headers = router_app[STATS_KEY].last_headers
    assert headers["Authorization"] == f"Bearer {OTHER_KEY}"
    assert (headers["HTTP-Referer"], headers["X-Title"]) == ("https://example.test", "tests")
    embeddings = await registry.embed("local-vllm/BAAI/bge-m3-embed", "x", dimensions=4)
    assert len(embeddings[0]) == 4 and embeddings.provider == "local-vllm"
    # The default instance still has its own key, from the fallback variable.
    assert registry.config("openai").get("api_key") == KEY
    assert registry.config("local-vllm").get("api_key") is None


async def test_an_instance_reads_its_own_environment_variable(
        serve_app: ServeApp, make_registry: RegistryFactory) -> None:
    app = create_app(api_key=OTHER_KEY, models=["m"])
    url = await serve_app(app)
    registry = make_registry([jackfield_openai], environ={
        "OPENAI_API_KEY": KEY, "JACKFIELD_LOCAL_VLLM_API_KEY": OTHER_KEY},
        config={"local-vllm": {"plugin": "openai", "base_url": f"{url}/v1"}})
    assert (await registry.complete("local-vllm/m", "hi")).provider == "local-vllm"
    assert app[STATS_KEY].last_headers["Authorization"] == f"Bearer {OTHER_KEY}"


async def test_an_instance_at_openai_without_a_key_is_refused_before_sending(
        make_registry: RegistryFactory) -> None:
    registry = make_registry([jackfield_openai], environ={"OPENAI_API_KEY": KEY}, config={
        "work": {"plugin": "openai", "base_url": "https://api.openai.com/v1"}})
    with pytest.raises(AuthenticationError) as raised:
        await registry.complete("work/gpt-4o-mini", "hi")
    assert "JACKFIELD_WORK_API_KEY" in str(raised.value) and KEY not in str(raised.value)


async def test_instances_from_the_config_file(serve_app: ServeApp, tmp_path: Path) -> None:
    app = create_app(models=["llama3.2"])
    url = await serve_app(app)
    path = tmp_path / "config.toml"
    path.write_text(f'[providers.ollama]\nplugin = "openai"\nbase_url = "{url}/v1"\n'
                    f'models = ["llama3.2"]\n\n[providers.ollama.headers]\nX-Trace = "t1"\n')
    async with Registry.from_config_file(path, plugins=[jackfield_openai], environ={}
                                         ) as registry:
        completion = await registry.complete("ollama/llama3.2", "hi")
        assert completion.provider == "ollama"
        assert app[STATS_KEY].last_headers["X-Trace"] == "t1"


async def test_organization_and_project_headers(serve_app: ServeApp,
                                                make_registry: RegistryFactory) -> None:
    app = create_app(api_key=KEY)
    url = await serve_app(app)
    registry = make_registry([jackfield_openai], config={"openai": {
        "base_url": f"{url}/v1", "api_key": KEY, "organization": "org-1", "project": "proj-2"}})
    await registry.complete("openai/gpt-4o-mini", "hi")
    headers = {name.lower(): value for name, value in app[STATS_KEY].last_headers.items()}
    assert (headers["openai-organization"], headers["openai-project"]) == ("org-1", "proj-2")
