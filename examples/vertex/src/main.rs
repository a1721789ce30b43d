//! Vertex AI through the routed client: Gemini (`vertex/gemini-...`) and Claude
//! (`vertex/claude-...@version`) in one Google Cloud project with one set of credentials, embeddings,
//! and a context cache created under the project and named by a request.
//!
//! Needs Google credentials — `GOOGLE_APPLICATION_CREDENTIALS` (a service account key), gcloud's
//! `gcloud auth application-default login`, the metadata server on GCE/GKE/Cloud Run, or
//! `VLLORA_VERTEX_ACCESS_TOKEN` — and a project: `VLLORA_VERTEX_PROJECT` (or `GOOGLE_CLOUD_PROJECT`).
//! `VLLORA_VERTEX_LOCATION` (or `GOOGLE_CLOUD_LOCATION`) picks the location (default `global`; Claude
//! needs one where it is enabled, such as `us-east5`); `VLLORA_VERTEX_ENDPOINT` points elsewhere.
//! `VERTEX_CLAUDE_MODEL` overrides the Claude model. Run with `cargo run -p vllora_llm_example_vertex`.

use std::time::Duration;

use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMResult;
use vllora_llm::gemini::{GeminiCacheClient, GeminiCacheRequest};
use vllora_llm::http::{HttpClient, HttpConfig};
use vllora_llm::types::gateway::{
    ChatCompletionMessage, ChatCompletionRequest, EmbeddingRequest, ProviderSpecificRequest,
};
use vllora_llm::vertex::VertexConfig;

const GEMINI: &str = "gemini-2.5-flash";

#[tokio::main]
async fn main() -> LLMResult<()> {
    let has_project =
        ["VLLORA_VERTEX_PROJECT", "GOOGLE_CLOUD_PROJECT"].iter().any(|name| std::env::var(name).is_ok());
    let has_credentials =
        ["VLLORA_VERTEX_ACCESS_TOKEN", "GOOGLE_APPLICATION_CREDENTIALS", "VLLORA_VERTEX_API_KEY"]
            .iter()
            .any(|name| std::env::var(name).is_ok());
    if !has_project && std::env::var("VLLORA_VERTEX_API_KEY").is_err() {
        eprintln!(
            "Set VLLORA_VERTEX_PROJECT (or GOOGLE_CLOUD_PROJECT) and Google credentials \
             (GOOGLE_APPLICATION_CREDENTIALS, gcloud application-default login, the metadata server, or \
             VLLORA_VERTEX_ACCESS_TOKEN); see docs/providers/vertex.md."
        );
        std::process::exit(2);
    }
    if !has_credentials {
        println!(
            "(no credential variable set: using gcloud's application default credentials or the metadata server)"
        );
    }
    let client = VlloraLLMClient::new();
    let ask = |model: &str, text: &str| ChatCompletionRequest {
        model: model.to_owned(),
        messages: vec![ChatCompletionMessage::new_text("user", text)],
        max_tokens: Some(256),
        ..Default::default()
    };

    // 1. Gemini, one-shot.
    let answer =
        client.completions().create(ask(&format!("vertex/{GEMINI}"), "Say hello in five words.")).await?;
    println!(
        "Gemini: {}",
        answer.message().content.as_ref().and_then(|content| content.as_string()).unwrap_or_default()
    );

    // 2. Claude, streamed (same credentials, same token).
    let claude =
        std::env::var("VERTEX_CLAUDE_MODEL").unwrap_or_else(|_| "claude-sonnet-4-5@20250929".to_owned());
    let mut stream =
        client.completions().create_stream(ask(&format!("vertex/{claude}"), "Name three rivers.")).await?;
    print!("Claude: ");
    while let Some(chunk) = stream.next().await {
        for choice in chunk?.choices {
            print!("{}", choice.delta.content.unwrap_or_default());
        }
    }
    println!();

    // 3. Embeddings.
    let embedded =
        client.embeddings().create(EmbeddingRequest::new("vertex/text-embedding-005", "Vertex AI")).await?;
    println!(
        "embedding: {} numbers, {} tokens",
        embedded.data.first().map_or(0, |item| item.embedding.to_floats().map_or(0, |floats| floats.len())),
        embedded.usage.prompt_tokens
    );

    // 4. A context cache under the project (caches need a regional location and enough tokens: 1,024
    //    or more on Flash), then a request that names it.
    let caches =
        GeminiCacheClient::vertex(VertexConfig::from_env()?, HttpClient::new(HttpConfig::default())?);
    let handbook = "Employees accrue 2.5 days of leave per month worked. ".repeat(200);
    match caches
        .create(&GeminiCacheRequest {
            model: GEMINI.to_owned(),
            messages: vec![ChatCompletionMessage::new_text(
                "system",
                format!("Answer from this handbook:\n{handbook}"),
            )],
            ttl: Some(Duration::from_secs(300)),
            ..Default::default()
        })
        .await
    {
        Ok(cache) => {
            let mut request = ask(&format!("vertex/{GEMINI}"), "How many days of leave per month?");
            let mut specific = ProviderSpecificRequest::default();
            specific.extra.insert("cached_content".into(), cache.name.clone().into());
            request.provider_specific = Some(specific);
            let answer = client.completions().create(request).await?;
            println!(
                "cached ({}): {}",
                cache.name,
                answer.message().content.as_ref().and_then(|content| content.as_string()).unwrap_or_default()
            );
            caches.delete(&cache.name).await?;
        }
        Err(error) => println!("context cache not created here: {error}"),
    }
    Ok(())
}
