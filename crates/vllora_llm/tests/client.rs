//! The client's behaviour that needs no network: a fixed instance, routing errors, and providers that
//! are not compiled in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail by panicking

use std::sync::Arc;

use vllora_llm::client::{DummyModelInstance, ModelInstance, VlloraLLMClient};
use vllora_llm::error::LLMError;
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest, FinishReason};

fn request(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: model.into(),
        messages: vec![ChatCompletionMessage::new_text("user", "Hi there")],
        ..Default::default()
    }
}

#[tokio::test]
async fn a_fixed_instance_serves_every_model() {
    let instance: Arc<Box<dyn ModelInstance>> = Arc::new(Box::new(DummyModelInstance {}));
    let client = VlloraLLMClient::new_with_instance(instance);
    for model in ["gpt-4.1-mini", "claude-sonnet-4-5", "anything-at-all"] {
        let response = client.completions().create(request(model)).await.unwrap();
        assert_eq!(response.model(), model);
        assert_eq!(response.finish_reason(), Some(&FinishReason::Stop));
        assert!(response.warnings().is_empty());
        assert_eq!(response.usage().map(|usage| usage.total_tokens), Some(9));
    }
}

#[tokio::test]
async fn an_unknown_model_without_a_provider_is_a_clear_error() {
    let error = VlloraLLMClient::new().completions().create(request("mystery-model-7b")).await.unwrap_err();
    assert!(matches!(error, LLMError::Config(_)));
    assert!(
        error.to_string().contains("cannot tell which provider serves model `mystery-model-7b`"),
        "{error}"
    );
}

#[test]
fn debug_of_a_client_never_shows_its_key() {
    let client = VlloraLLMClient::new()
        .with_credentials(vllora_llm::types::Credentials::api_key("sk-very-secret-key"))
        .with_inference_endpoint("http://127.0.0.1:9");
    let debug = format!("{client:?}");
    assert!(!debug.contains("sk-very-secret-key"), "{debug}");
    assert!(debug.contains("http://127.0.0.1:9"));
}

#[cfg(not(feature = "openai"))]
#[tokio::test]
async fn a_provider_that_is_not_compiled_in_names_its_feature() {
    let error = VlloraLLMClient::new().completions().create(request("gpt-4.1-mini")).await.unwrap_err();
    assert!(matches!(&error, LLMError::ProviderNotCompiled { feature, .. } if feature == "openai"));
    assert_eq!(
        error.to_string(),
        "provider `openai` is not compiled in: enable the `openai` feature of vllora_llm"
    );
}

#[cfg(not(feature = "anthropic"))]
#[tokio::test]
async fn anthropic_without_its_feature_names_it() {
    let error = VlloraLLMClient::new().completions().create(request("claude-sonnet-4-5")).await.unwrap_err();
    assert!(matches!(&error, LLMError::ProviderNotCompiled { feature, .. } if feature == "anthropic"));
}

/// A custom backend that embeds by text length: what a gateway's own `ModelInstance` might do.
struct LengthEmbedder;

impl ModelInstance for LengthEmbedder {
    fn complete<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
        options: &'a vllora_llm::client::CallOptions,
    ) -> vllora_llm::client::BoxFuture<
        'a,
        vllora_llm::error::LLMResult<vllora_llm::types::gateway::ChatCompletionMessageWithFinishReason>,
    > {
        DummyModelInstance {}.complete(request, options)
    }

    fn stream<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
        options: &'a vllora_llm::client::CallOptions,
    ) -> vllora_llm::client::BoxFuture<'a, vllora_llm::error::LLMResult<vllora_llm::client::ResultStream>>
    {
        DummyModelInstance {}.stream(request, options)
    }

    fn embed<'a>(
        &'a self,
        request: &'a vllora_llm::types::gateway::EmbeddingRequest,
        _options: &'a vllora_llm::client::CallOptions,
    ) -> vllora_llm::client::BoxFuture<
        'a,
        vllora_llm::error::LLMResult<vllora_llm::types::gateway::EmbeddingResponse>,
    > {
        let json = serde_json::json!({
            "object": "list",
            "model": request.model,
            "data": [{"object": "embedding", "index": 0, "embedding": [7.0]}],
            "usage": {"prompt_tokens": 1, "total_tokens": 1}
        });
        Box::pin(std::future::ready(
            serde_json::from_value(json).map_err(|error| LLMError::decode("test", error)),
        ))
    }
}

#[tokio::test]
async fn a_fixed_instance_also_serves_embeddings_and_images() {
    let instance: Arc<Box<dyn ModelInstance>> = Arc::new(Box::new(LengthEmbedder));
    let client = VlloraLLMClient::new_with_instance(instance);
    let request: vllora_llm::types::gateway::EmbeddingRequest =
        serde_json::from_value(serde_json::json!({"model": "my-embedder", "input": "hello"})).unwrap();
    let response = client.embeddings().create(request).await.unwrap();
    assert_eq!(serde_json::to_value(&response).unwrap()["data"][0]["embedding"], serde_json::json!([7.0]));

    // The instance offers no images: its own default answer comes back, not a routing error.
    let images: vllora_llm::types::gateway::ImageGenerationRequest =
        serde_json::from_value(serde_json::json!({"prompt": "a cat"})).unwrap();
    let error = client.images().generate(images).await.unwrap_err();
    assert!(error.to_string().contains("offers no image generation"), "{error}");
}

#[cfg(not(feature = "gemini"))]
#[tokio::test]
async fn a_provider_not_compiled_in_is_named_as_its_errors_name_it() {
    let error = VlloraLLMClient::new().completions().create(request("gemini-2.5-flash")).await.unwrap_err();
    assert!(matches!(&error, LLMError::ProviderNotCompiled { feature, .. } if feature == "gemini"));
    assert_eq!(error.provider(), Some("gcp.gemini"));
}

#[cfg(not(feature = "bedrock"))]
#[tokio::test]
async fn bedrock_not_compiled_in_is_aws_bedrock() {
    let error =
        VlloraLLMClient::new().completions().create(request("amazon.nova-lite-v1")).await.unwrap_err();
    assert_eq!(error.provider(), Some("aws.bedrock"));
}
