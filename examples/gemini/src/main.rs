//! Gemini through the Gemini provider: an explicit prompt cache, thinking, a tool call whose thought
//! signature goes back on the next turn, and a streamed answer.
//!
//! Needs `VLLORA_GEMINI_API_KEY` (or `GEMINI_API_KEY`, `GOOGLE_API_KEY`); `VLLORA_GEMINI_ENDPOINT` points it
//! elsewhere. Run with `cargo run -p vllora_llm_example_gemini` (or `cargo run` in `examples/gemini`).

use std::time::Duration;

use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMResult;
use vllora_llm::gemini::{GeminiCacheClient, GeminiCacheRequest, GeminiConfig};
use vllora_llm::http::{HttpClient, HttpConfig};
use vllora_llm::types::gateway::{
    ChatCompletionMessage, ChatCompletionRequest, ChatCompletionTool, FunctionDefinition,
    ProviderSpecificRequest, ReasoningEffort,
};

const MODEL: &str = "gemini-2.5-flash";

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
    let key_names = ["VLLORA_GEMINI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"];
    if !configured("gemini", &key_names, "your Gemini API key (Google AI Studio)") {
        std::process::exit(2);
    }
    // `gemini-` models route to Gemini; keys come from the environment.
    let client = VlloraLLMClient::new();

    // 1. Cache a long document once (Gemini needs at least 1,024 tokens on Flash), then ask about it.
    let cache = GeminiCacheClient::new(GeminiConfig::from_env()?, HttpClient::new(HttpConfig::default())?);
    let handbook = "Employees accrue 2.5 days of leave per month worked. ".repeat(200);
    let cached = cache
        .create(&GeminiCacheRequest {
            model: MODEL.to_owned(),
            messages: vec![
                ChatCompletionMessage::new_text("system", "You answer questions about the staff handbook."),
                ChatCompletionMessage::new_text("user", handbook),
            ],
            ttl: Some(Duration::from_secs(300)),
            display_name: Some("handbook".to_owned()),
            ..Default::default()
        })
        .await?;
    println!("cache {} expires at {:?}", cached.name, cached.expire_time);
    let question = ChatCompletionRequest {
        model: MODEL.to_owned(),
        messages: vec![ChatCompletionMessage::new_text("user", "How many days of leave after six months?")],
        provider_specific: Some(ProviderSpecificRequest {
            extra: [("cached_content".to_owned(), cached.name.clone().into())].into_iter().collect(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let answer = client.completions().create(question).await?;
    let text = answer.message().content.as_ref().and_then(|content| content.as_string()).unwrap_or_default();
    println!("answer: {text}");
    if let Some(usage) = answer.usage() {
        println!(
            "tokens: {} in ({} from the cache), {} out",
            usage.prompt_tokens,
            usage.cached_tokens(),
            usage.completion_tokens
        );
    }
    cache.delete(&cached.name).await?;

    // 2. Thinking and a tool call; the assistant message keeps the thought signature for the next turn.
    let weather = ChatCompletionTool::function(FunctionDefinition {
        name: "get_lisbon_weather".to_owned(),
        description: Some("The current weather in Lisbon".to_owned()),
        ..Default::default()
    });
    let mut request = ChatCompletionRequest {
        model: MODEL.to_owned(),
        messages: vec![ChatCompletionMessage::new_text("user", "Should I take an umbrella in Lisbon today?")],
        tools: Some(vec![weather]),
        reasoning_effort: Some(ReasoningEffort::Low),
        ..Default::default()
    };
    let first = client.completions().create(request.clone()).await?;
    let assistant = first.message().clone();
    if let Some(reasoning) = &assistant.reasoning_content {
        println!("thinking: {reasoning}");
    }
    let calls = assistant.tool_calls.clone().unwrap_or_default();
    request.messages.push(assistant);
    for call in calls {
        // `call.extra_content` holds Gemini's thought signature; it goes back with the assistant message.
        println!("call {} {}({})", call.id, call.function.name, call.function.arguments);
        request
            .messages
            .push(ChatCompletionMessage::new_tool_result(call.id, r#"{"sky": "light rain", "celsius": 17}"#));
    }

    // 3. The follow-up, streamed.
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
