//! Streams an answer from a local OpenAI-compatible server through `vllora_llm`: what `cargo xtask demo`
//! runs against llama.cpp's server when no OpenAI key is set.
//!
//! Usage: `local_chat <base URL> "<question>"` (the server's root; its OpenAI API is under `/v1`).

use std::io::Write;

use vllora_llm::client::InferenceModelProvider;
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMResult;
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};

#[tokio::main]
async fn main() -> LLMResult<()> {
    let mut arguments = std::env::args().skip(1);
    let (Some(base_url), Some(question)) = (arguments.next(), arguments.next()) else {
        eprintln!("usage: local_chat <base URL> \"<question>\"");
        std::process::exit(2);
    };

    // Any OpenAI-compatible server is a named proxy: no key needed, the endpoint given here (or in
    // VLLORA_LOCAL_ENDPOINT).
    let client = VlloraLLMClient::new()
        .with_model_provider(InferenceModelProvider::Proxy("local".to_owned()))
        .with_inference_endpoint(format!("{}/v1", base_url.trim_end_matches('/')));

    let request = ChatCompletionRequest {
        model: "gemma-3-270m".to_owned(),
        // Gemma 3 270M is tiny: it answers well in its first line and then tends to ramble, so the answer
        // stops at the first line break. A system message only confuses it.
        messages: vec![ChatCompletionMessage::new_text("user", question.clone())],
        max_tokens: Some(128),
        stop: Some(vec!["\n".to_owned()]),
        ..Default::default()
    };

    println!("> {question}");
    let mut stream = client.completions().create_stream(request).await?;
    let mut stdout = std::io::stdout();
    let mut finish_reason = None;
    let mut usage = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        for choice in chunk.choices {
            if let Some(text) = choice.delta.content {
                print!("{text}");
                // Show each piece as it arrives rather than when the line ends.
                let _ = stdout.flush();
            }
            finish_reason = choice.finish_reason.or(finish_reason);
        }
        usage = chunk.usage.or(usage);
    }
    println!();
    if let (Some(reason), Some(usage)) = (finish_reason, usage) {
        println!(
            "[finish reason: {reason}; {} prompt + {} completion tokens]",
            usage.prompt_tokens, usage.completion_tokens
        );
    }
    Ok(())
}
