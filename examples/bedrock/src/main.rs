//! Claude on AWS Bedrock: a tool call answered and sent back (with the model's signed reasoning), a cache
//! point on the system prompt, `top_k` through Bedrock's additional model fields, and a streamed answer.
//!
//! Needs AWS credentials and a region: `VLLORA_BEDROCK_API_KEY` or `AWS_BEARER_TOKEN_BEDROCK` (a Bedrock API key), or
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, or a profile in `~/.aws/credentials`; `AWS_REGION`.
//! Run with `cargo run -p vllora_llm_example_bedrock` (or `cargo run` in `examples/bedrock`).

use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMResult;
use vllora_llm::types::gateway::{
    CacheControl, ChatCompletionMessage, ChatCompletionRequest, ChatCompletionTool, ContentPart,
    FunctionDefinition, ProviderSpecificRequest, ThinkingConfig,
};

/// A stand-in for a real weather service; it echoes the arguments the model chose.
fn weather(arguments: &str) -> String {
    format!("{{\"query\": {arguments}, \"temperature_c\": 18, \"sky\": \"clear\"}}")
}

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
    let region =
        configured("bedrock", &["AWS_REGION", "AWS_DEFAULT_REGION"], "the AWS region, e.g. us-east-1");
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap_or_default();
    let shared_files = home.join(".aws/credentials").is_file() || home.join(".aws/config").is_file();
    let credentials = shared_files
        || configured(
            "bedrock",
            &["VLLORA_BEDROCK_API_KEY", "AWS_BEARER_TOKEN_BEDROCK", "AWS_ACCESS_KEY_ID", "AWS_PROFILE"],
            "AWS credentials (a Bedrock API key, access keys or a profile in ~/.aws)",
        );
    if !(region && credentials) {
        std::process::exit(2);
    }
    // Bedrock model ids, inference-profile ids and ARNs route to Bedrock.
    let client = VlloraLLMClient::new();
    let model = std::env::var("BEDROCK_MODEL")
        .unwrap_or_else(|_| "us.anthropic.claude-sonnet-4-20250514-v1:0".into());

    let system = ChatCompletionMessage::new_parts(
        "system",
        vec![ContentPart::Text {
            text: "You are a concise travel assistant. Use the weather tool for current conditions."
                .to_owned(),
            // Becomes a `cachePoint` block after this text.
            cache_control: Some(CacheControl::ephemeral()),
        }],
    );
    let tool = ChatCompletionTool::function(FunctionDefinition {
        name: "get_weather".to_owned(),
        description: Some("Current weather in a city. Arguments: {\"city\": \"<city name>\"}".to_owned()),
        // Without a JSON schema the tool is sent with an empty object schema.
        parameters: None,
        strict: None,
    });
    let mut request = ChatCompletionRequest {
        model,
        messages: vec![
            system,
            ChatCompletionMessage::new_text("user", "Should I bring a jacket in Lyon today?"),
        ],
        max_tokens: Some(4096),
        tools: Some(vec![tool]),
        provider_specific: Some(ProviderSpecificRequest {
            // Sent as `additionalModelRequestFields.thinking` for Claude models.
            thinking: Some(ThinkingConfig::enabled(1024)),
            ..Default::default()
        }),
        ..Default::default()
    };

    let first = client.completions().create(request.clone()).await?;
    for warning in first.warnings() {
        println!("warning: {warning}");
    }
    let calls = first.message().tool_calls.clone().unwrap_or_default();
    println!("finish reason: {:?}, {} tool call(s)", first.finish_reason(), calls.len());
    // The assistant message goes back as it came, reasoning signature included, then one result per call.
    request.messages.push(first.message().clone());
    for call in &calls {
        request
            .messages
            .push(ChatCompletionMessage::new_tool_result(call.id.clone(), weather(&call.function.arguments)));
    }

    let mut stream = client.completions().create_stream(request).await?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        for choice in &chunk.choices {
            if let Some(text) = &choice.delta.content {
                print!("{text}");
            }
        }
        if let Some(usage) = chunk.usage {
            println!(
                "\ntokens: {} in ({} from cache), {} out",
                usage.prompt_tokens,
                usage.cached_tokens(),
                usage.completion_tokens
            );
        }
    }
    Ok(())
}
