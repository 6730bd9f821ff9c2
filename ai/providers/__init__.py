"""The table of AI providers, keyed by ThingsBoard's provider names (AiModelConfig's discriminator)."""

from tbproject.registry import TypeRegistry

__all__ = ["PROVIDERS", "get_provider"]

PROVIDERS = TypeRegistry({
    "OPENAI": "ai.providers.openai.OpenAiProvider",
    "AZURE_OPENAI": "ai.providers.openai.AzureOpenAiProvider",
    "GOOGLE_AI_GEMINI": "ai.providers.google.GeminiProvider",
    "GOOGLE_VERTEX_AI_GEMINI": "ai.providers.google.VertexAiProvider",
    "MISTRAL_AI": "ai.providers.openai.MistralAiProvider",
    "ANTHROPIC": "ai.providers.anthropic.AnthropicProvider",
    "AMAZON_BEDROCK": "ai.providers.bedrock.BedrockProvider",
    "GITHUB_MODELS": "ai.providers.openai.GitHubModelsProvider",
    "OLLAMA": "ai.providers.ollama.OllamaProvider",
})
get_provider = PROVIDERS.load
