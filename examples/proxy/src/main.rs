//! Any OpenAI-compatible server (vLLM, llama.cpp, Ollama, LiteLLM, Groq, Together...) through
//! `InferenceModelProvider::Proxy("name")`.
//!
//! Set `VLLORA_MY_PROXY_ENDPOINT` (for example `http://localhost:8000/v1`) and, if the server wants one,
//! `VLLORA_MY_PROXY_API_KEY`. Usage: `proxy <model> ["<question>"]`.

use vllora_llm::client::InferenceModelProvider;
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMResult;
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};

#[tokio::main]
async fn main() -> LLMResult<()> {
    let mut arguments = std::env::args().skip(1);
    let Some(model) = arguments.next() else {
        eprintln!("usage: proxy <model> [\"<question>\"]   (with VLLORA_MY_PROXY_ENDPOINT set)");
        std::process::exit(2);
    };
    let question = arguments.next().unwrap_or_else(|| "Say hello in one short sentence.".to_owned());
    if !std::env::var("VLLORA_MY_PROXY_ENDPOINT").is_ok_and(|value| !value.trim().is_empty()) {
        eprintln!(
            "proxy: set VLLORA_MY_PROXY_ENDPOINT to the server's OpenAI-compatible URL, e.g. http://localhost:8000/v1"
        );
        std::process::exit(2);
    }

    // The name picks the variables: `my-proxy` reads VLLORA_MY_PROXY_ENDPOINT and VLLORA_MY_PROXY_API_KEY.
    // A `my-proxy/` prefix on the model would route there too, without with_model_provider.
    let client =
        VlloraLLMClient::new().with_model_provider(InferenceModelProvider::Proxy("my-proxy".to_owned()));

    let request = ChatCompletionRequest {
        model,
        messages: vec![ChatCompletionMessage::new_text("user", question)],
        max_tokens: Some(256),
        ..Default::default()
    };

    let mut stream = client.completions().create_stream(request).await?;
    while let Some(chunk) = stream.next().await {
        for choice in chunk?.choices {
            print!("{}", choice.delta.content.unwrap_or_default());
        }
    }
    println!();
    Ok(())
}
