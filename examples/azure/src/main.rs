//! Azure OpenAI through the routed client (`azure/` prefix): a chat completion, a streamed answer, the
//! Responses API and (when a deployment is named) embeddings, each sent to the model's deployment.
//!
//! Needs `AZURE_OPENAI_ENDPOINT` (`https://<resource>.openai.azure.com`) and a credential:
//! `AZURE_OPENAI_API_KEY`; or Microsoft Entra ID — `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
//! `AZURE_CLIENT_SECRET` (an app registration), `AZURE_OPENAI_AD_TOKEN` (a token as is), or, with none
//! of these, the managed identity of the VM, App Service or Container App it runs on. `AZURE_MODEL`
//! names the chat model (default `gpt-4o-mini`), `VLLORA_AZURE_DEPLOYMENTS` maps models to deployments
//! (`gpt-4o-mini=my-deployment`; a model without one goes to the deployment of its name),
//! `AZURE_OPENAI_API_VERSION` picks the API (`v1` for `/openai/v1/...`), `AZURE_EMBEDDING_MODEL` adds an
//! embeddings call. Run with `cargo run -p vllora_llm_example_azure`.

use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMResult;
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest, EmbeddingRequest};

#[tokio::main]
async fn main() -> LLMResult<()> {
    if std::env::var("AZURE_OPENAI_ENDPOINT").is_err() {
        eprintln!(
            "Set AZURE_OPENAI_ENDPOINT (https://<resource>.openai.azure.com) and AZURE_OPENAI_API_KEY, or \
             Entra ID credentials (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET) or a managed \
             identity; see docs/providers/azure.md."
        );
        std::process::exit(2);
    }
    let model = format!("azure/{}", std::env::var("AZURE_MODEL").unwrap_or_else(|_| "gpt-4o-mini".into()));
    let client = VlloraLLMClient::new();

    let request = ChatCompletionRequest {
        model: model.clone(),
        messages: vec![
            ChatCompletionMessage::new_text("system", "Answer in one sentence."),
            ChatCompletionMessage::new_text("user", "What is Azure OpenAI?"),
        ],
        max_tokens: Some(100),
        ..Default::default()
    };
    let answer = client.completions().create(request.clone()).await?;
    let text = answer.message().content.as_ref().and_then(|content| content.as_string());
    println!("chat: {}", text.unwrap_or_default());
    if let Some(usage) = answer.usage() {
        println!("      {} prompt + {} completion tokens", usage.prompt_tokens, usage.completion_tokens);
    }

    print!("stream: ");
    let mut stream = client.completions().create_stream(request).await?;
    while let Some(chunk) = stream.next().await {
        for choice in chunk?.choices {
            print!("{}", choice.delta.content.unwrap_or_default());
        }
    }
    println!();

    // The Responses API, under the resource's /openai/v1/responses, the deployment as the model.
    let responses_request = serde_json::from_value(serde_json::json!({
        "model": model,
        "input": "Name one Azure region in Europe.",
        "max_output_tokens": 50
    }))
    .map_err(|error| vllora_llm::error::LLMError::InvalidRequest(error.to_string()))?;
    let response = client.responses().create(responses_request).await?;
    println!("responses: {}", response.output_text());

    if let Ok(embedding_model) = std::env::var("AZURE_EMBEDDING_MODEL") {
        let embedded = client
            .embeddings()
            .create(EmbeddingRequest::new(format!("azure/{embedding_model}"), "Azure OpenAI"))
            .await?;
        println!(
            "embeddings: {} vector(s), {} prompt tokens",
            embedded.data.len(),
            embedded.usage.prompt_tokens
        );
    }
    Ok(())
}
