//! The documents' "Quick start with async-openai-compatible types" program, its body verbatim: a request
//! built with async-openai's builders, sent one-shot and streamed through `VlloraLLMClient`.
//!
//! Needs `VLLORA_OPENAI_API_KEY` (the program reads it itself and stops with a message when it is
//! missing). `VLLORA_OPENAI_ENDPOINT` (or `OPENAI_BASE_URL`) points it at any OpenAI-compatible server
//! instead of OpenAI: `cargo xtask e2e` runs it against a local llama.cpp server that way.
//! The stream's inherent `next` leaves the documents' `StreamExt` import unused, and the program reads
//! its key with `expect`, as the documents do: hence the `allow`.
#![allow(unused_imports, clippy::expect_used)]

use async_openai::types::chat::{
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessageArgs,
    ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequestArgs,
};
use futures::StreamExt;

use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMResult;
use vllora_llm::types::credentials::{ApiKeyCredentials, Credentials};

#[tokio::main]
async fn main() -> LLMResult<()> {
    // 1) Build an OpenAI-style request using async-openai-compatible types
    let openai_req = CreateChatCompletionRequestArgs::default()
        .model("gpt-4.1-mini")
        .messages([
            ChatCompletionRequestMessage::System(
                ChatCompletionRequestSystemMessageArgs::default()
                    .content("You are a helpful assistant.")
                    .build()?,
            ),
            ChatCompletionRequestMessage::User(
                ChatCompletionRequestUserMessageArgs::default()
                    .content("Stream numbers 1 to 20 in separate lines.")
                    .build()?,
            ),
        ])
        .build()?;

    // 2) Construct a VlloraLLMClient (here: direct OpenAI key)
    let client = VlloraLLMClient::new().with_credentials(Credentials::ApiKey(ApiKeyCredentials {
        api_key: std::env::var("VLLORA_OPENAI_API_KEY").expect("VLLORA_OPENAI_API_KEY must be set"),
    }));

    // 3) Non-streaming: send the request and print the final reply
    let response = client.completions().create(openai_req.clone()).await?;

    if let Some(content) = &response.message().content {
        if let Some(text) = content.as_string() {
            println!("Non-streaming reply:\\n{text}");
        }
    }

    // 4) Streaming: send the same request and print chunks as they arrive
    let mut stream = client.completions().create_stream(openai_req).await?;

    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        for choice in chunk.choices {
            if let Some(delta) = choice.delta.content {
                print!("{delta}");
            }
        }
    }

    Ok(())
}
