//! Claude through the Anthropic provider: a cached system prompt, extended thinking, and a streamed answer.
//!
//! Needs `VLLORA_ANTHROPIC_API_KEY` (or `ANTHROPIC_API_KEY`); `ANTHROPIC_BASE_URL` points it elsewhere.
//! Run with `cargo run -p vllora_llm_example_anthropic` (or `cargo run` in `examples/anthropic`).

use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMResult;
use vllora_llm::types::gateway::{
    CacheControl, ChatCompletionMessage, ChatCompletionRequest, ContentPart, ProviderSpecificRequest,
    ThinkingConfig,
};

/// Whether one of `names` is set to something; otherwise says what to set, on standard error.
fn configured(example: &str, names: &[&str], what: &str) -> bool {
    let set = names.iter().any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()));
    if !set {
        eprintln!("{example}: set {} to {what}", names.join(" or "));
    }
    set
}

#[tokio::main]
async fn main() -> LLMResult<()> {
    if !configured("anthropic", &["VLLORA_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"], "your Anthropic API key")
    {
        std::process::exit(2);
    }
    // `claude-` models route to Anthropic; keys come from the environment.
    let client = VlloraLLMClient::new();

    let system = ChatCompletionMessage::new_parts(
        "system",
        vec![ContentPart::Text {
            text: "You are a patient maths tutor. Show the key step, then the answer.".to_owned(),
            // A cache breakpoint: Anthropic reuses this prefix for five minutes.
            cache_control: Some(CacheControl::ephemeral()),
        }],
    );
    let request = ChatCompletionRequest {
        model: "claude-sonnet-4-5".to_owned(),
        messages: vec![system, ChatCompletionMessage::new_text("user", "What is 27 * 453?")],
        max_tokens: Some(4096),
        provider_specific: Some(ProviderSpecificRequest {
            thinking: Some(ThinkingConfig::enabled(2048)),
            ..Default::default()
        }),
        ..Default::default()
    };

    let response = client.completions().create(request.clone()).await?;
    let message = response.message();
    if let Some(reasoning) = &message.reasoning_content {
        println!("thinking: {reasoning}");
    }
    println!(
        "answer: {}",
        message.content.as_ref().and_then(|content| content.as_string()).unwrap_or_default()
    );
    println!(
        "finish reason: {:?} (Anthropic said {:?})",
        response.finish_reason(),
        response.raw_finish_reason
    );
    if let Some(usage) = response.usage() {
        println!(
            "tokens: {} in ({} from cache, {} written to it), {} out",
            usage.prompt_tokens,
            usage.cached_tokens(),
            usage.cache_creation_tokens(),
            usage.completion_tokens
        );
    }
    for warning in response.warnings() {
        println!("warning: {warning}");
    }

    let mut stream = client.completions().create_stream(request).await?;
    while let Some(chunk) = stream.next().await {
        for choice in chunk?.choices {
            if let Some(text) = choice.delta.content {
                print!("{text}");
            }
        }
    }
    println!();
    Ok(())
}
