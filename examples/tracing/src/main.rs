//! Prints the library's telemetry to the console: the `chat` span of each call with its OpenTelemetry
//! GenAI fields, the first-token event of a stream, and the metric events each call ends with (target
//! `vllora_llm::metrics`, fields `histogram.gen_ai.client.*`: what a metrics bridge turns into histograms;
//! `examples/tracing_otlp` exports them). Runs on `DummyModelInstance`, so it needs no key and no
//! environment variable; put a real client (`VlloraLLMClient::new()`) in its place to trace real calls.

use std::sync::Arc;

use tracing_subscriber::fmt::format::FmtSpan;
use vllora_llm::client::{DummyModelInstance, ModelInstance, VlloraLLMClient};
use vllora_llm::error::LLMResult;
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};

#[tokio::main]
async fn main() -> LLMResult<()> {
    // Close events carry every field recorded during the call (response id, usage, finish reasons).
    tracing_subscriber::fmt().with_span_events(FmtSpan::CLOSE).with_target(false).init();

    let instance: Arc<Box<dyn ModelInstance>> = Arc::new(Box::new(DummyModelInstance {}));
    let client = VlloraLLMClient::new_with_instance(instance).with_content_recording(true);
    let request = ChatCompletionRequest {
        model: "gpt-4.1-mini".to_string(),
        messages: vec![ChatCompletionMessage::new_text("user", "Trace this call.")],
        max_tokens: Some(64),
        ..Default::default()
    };

    let response = client.completions().create(request.clone()).await?;
    println!("one-shot: {:?}", response.message().content);

    let mut stream = client.completions().create_stream(request).await?;
    while let Some(chunk) = stream.next().await {
        chunk?;
    }
    Ok(())
}
