"""Local OpenAI-compatible servers: llama.cpp's `llama-server` and MLX's `mlx_lm.server`."""

from providers.base import AuthMethod, Capability, CredentialField, Provider

RUNTIME_PATH = CredentialField(
    "runtime_path", "Binary path", kind="path", required=True, max_length=4096
)


def _endpoint(default: str) -> CredentialField:
    return CredentialField("endpoint_url", "Endpoint URL", kind="url", help=default)


class LlamaCpp(Provider):
    id = "llamacpp"
    name = "llama.cpp"
    kind = "local"
    docs_url = "https://github.com/ggml-org/llama.cpp/tree/master/tools/server"
    # Older builds listen on 8080; current builds default to 9931 (providers.md §14).
    default_base_url = "http://127.0.0.1:8080"
    auth_methods = {
        AuthMethod.LOCAL_RUNTIME: (RUNTIME_PATH,),
        AuthMethod.LOCAL_ENDPOINT: (
            _endpoint(default_base_url),
            CredentialField("api_key", "API key (if started with --api-key)", secret=True),
        ),
    }
    capabilities = frozenset({Capability.CHAT, Capability.EMBEDDING})
    good_for = "GGUF models on CPU or GPU with no cloud dependency."


class MLX(Provider):
    id = "mlx"
    name = "MLX"
    kind = "local"
    docs_url = "https://github.com/ml-explore/mlx-lm/blob/main/mlx_lm/SERVER.md"
    default_base_url = "http://127.0.0.1:8080"
    auth_methods = {
        AuthMethod.LOCAL_RUNTIME: (RUNTIME_PATH,),
        AuthMethod.LOCAL_ENDPOINT: (_endpoint(default_base_url),),
    }
    capabilities = frozenset({Capability.CHAT})
    good_for = "Fast local inference on Apple silicon Macs."
