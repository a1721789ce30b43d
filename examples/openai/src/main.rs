//! The quick start against OpenAI: a one-shot answer, then the same question streamed.
//!
//! Needs `VLLORA_OPENAI_API_KEY` (or `OPENAI_API_KEY`). Usage: `openai ["<question>"]`.

use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMResult;
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};

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
    if !configured("openai", &["VLLORA_OPENAI_API_KEY", "OPENAI_API_KEY"], "your OpenAI API key") {
        std::process::exit(2);
    }
    let question = std::env::args().nth(1).unwrap_or_else(|| "Say hello in one short sentence.".to_owned());

    // The key comes from VLLORA_OPENAI_API_KEY; `gpt-` models go to OpenAI.
    let client = VlloraLLMClient::new();

    let request = ChatCompletionRequest {
        model: "gpt-4.1-mini".to_string(),
        messages: vec![
            ChatCompletionMessage::new_text("system".to_string(), "You are a helpful assistant.".to_string()),
            ChatCompletionMessage::new_text("user".to_string(), question),
        ],
        ..Default::default()
    };

    let response = client.completions().create(request.clone()).await?;
    if let Some(text) = response.message().content.as_ref().and_then(|content| content.as_string()) {
        println!("One-shot: {text}");
    }
    if let (Some(reason), Some(usage)) = (response.finish_reason(), response.usage()) {
        println!(
            "(finish reason: {}; {} prompt + {} completion tokens)",
            reason.as_str(),
            usage.prompt_tokens,
            usage.completion_tokens
        );
    }

    print!("Streamed: ");
    let mut stream = client.completions().create_stream(request).await?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        for choice in chunk.choices {
            if let Some(delta) = choice.delta.content {
                print!("{delta}");
            }
        }
        if let Some(usage) = chunk.usage {
            println!("\n({} prompt + {} completion tokens)", usage.prompt_tokens, usage.completion_tokens);
        }
    }
    Ok(())
}
