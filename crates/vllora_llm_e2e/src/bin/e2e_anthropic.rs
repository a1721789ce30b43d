//! End-to-end check of the Anthropic provider against a real server's `/v1/messages` (llama.cpp's
//! Anthropic-compatible endpoint in CI): a one-shot call, a capped call and a stream, through the facade.
//!
//! Usage: `e2e_anthropic <base URL> [model]`. Checks shapes, never wording. Prints one line per check,
//! then `N passed, M failed`; exits with status 1 when any check failed.

use vllora_llm::client::VlloraLLMClient;
use vllora_llm::types::Credentials;
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest, FinishReason, Role};
use vllora_llm::client::InferenceModelProvider;
use vllora_llm_e2e::{Checks, expect};

fn request(model: &str, prompt: &str, max_tokens: u32) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: model.to_owned(),
        messages: vec![
            ChatCompletionMessage::new_text("system", "You are a helpful assistant."),
            ChatCompletionMessage::new_text("user", prompt),
        ],
        max_tokens: Some(max_tokens),
        ..Default::default()
    }
}

#[tokio::main]
async fn main() {
    let mut arguments = std::env::args().skip(1);
    let Some(base_url) = arguments.next() else {
        eprintln!("usage: e2e_anthropic <base URL> [model]");
        std::process::exit(2);
    };
    let model = arguments.next().unwrap_or_else(|| "gemma-3-270m".to_owned());
    let client = VlloraLLMClient::new()
        .with_model_provider(InferenceModelProvider::Anthropic)
        .with_inference_endpoint(base_url)
        .with_credentials(Credentials::api_key("unused"));
    let completions = client.completions();
    let mut checks = Checks::default();

    match completions.create(request(&model, "What is the capital of France?", 64)).await {
        Err(error) => checks.check("anthropic one-shot call succeeds", Err(error.to_string())),
        Ok(response) => {
            checks.check("anthropic one-shot call succeeds", Ok(()));
            let text = response
                .message()
                .content
                .as_ref()
                .and_then(|content| content.as_string())
                .unwrap_or_default();
            checks.check(
                "anthropic one-shot: assistant text is non-empty",
                expect(!text.trim().is_empty(), || "empty text".into()),
            );
            checks.check(
                "anthropic one-shot: role is assistant",
                expect(response.message().role == Role::Assistant, || {
                    format!("role {}", response.message().role)
                }),
            );
            checks.check(
                "anthropic one-shot: finish reason is stop or length",
                expect(
                    matches!(response.finish_reason(), Some(FinishReason::Stop | FinishReason::Length)),
                    || format!("{:?} (raw {:?})", response.finish_reason(), response.raw_finish_reason),
                ),
            );
            checks.check(
                "anthropic one-shot: usage counts input and output",
                match response.usage() {
                    Some(usage) => expect(
                        usage.prompt_tokens > 0
                            && usage.completion_tokens > 0
                            && usage.total_tokens == usage.prompt_tokens + usage.completion_tokens,
                        || format!("{usage:?}"),
                    ),
                    None => Err("no usage".into()),
                },
            );
            checks.check(
                "anthropic one-shot: id is set",
                expect(!response.id().is_empty(), || "empty id".into()),
            );
        }
    }

    match completions.create(request(&model, "Write a long story about a dragon and a knight.", 4)).await {
        Err(error) => checks.check("anthropic max_tokens cap: call succeeds", Err(error.to_string())),
        Ok(response) => checks.check(
            "anthropic max_tokens cap: finish reason is length with the text so far",
            expect(
                response.finish_reason() == Some(&FinishReason::Length)
                    && response.raw_finish_reason.as_deref() == Some("max_tokens")
                    && response.message().content.as_ref().and_then(|content| content.as_string()).is_some(),
                || format!("{:?} (raw {:?})", response.finish_reason(), response.raw_finish_reason),
            ),
        ),
    }

    match completions.create_stream(request(&model, "Name three colours.", 64)).await {
        Err(error) => checks.check("anthropic stream starts", Err(error.to_string())),
        Ok(mut stream) => {
            checks.check("anthropic stream starts", Ok(()));
            let mut chunks = Vec::new();
            let mut failure = None;
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(chunk) => chunks.push(chunk),
                    Err(error) => {
                        failure = Some(error.to_string());
                        break;
                    }
                }
            }
            checks.check("anthropic stream: ends without error", failure.map_or(Ok(()), Err));
            let first_role = chunks
                .first()
                .and_then(|chunk| chunk.choices.first())
                .and_then(|choice| choice.delta.role.clone());
            checks.check(
                "anthropic stream: first chunk has role assistant",
                expect(first_role == Some(Role::Assistant), || format!("{first_role:?}")),
            );
            let text: String = chunks
                .iter()
                .flat_map(|chunk| &chunk.choices)
                .filter_map(|choice| choice.delta.content.as_deref())
                .collect();
            checks.check(
                "anthropic stream: text is non-empty",
                expect(!text.trim().is_empty(), || "empty text".into()),
            );
            let finishes: Vec<&FinishReason> = chunks
                .iter()
                .flat_map(|chunk| &chunk.choices)
                .filter_map(|choice| choice.finish_reason.as_ref())
                .collect();
            checks.check(
                "anthropic stream: exactly one finish reason, stop or length",
                expect(matches!(finishes.as_slice(), [FinishReason::Stop | FinishReason::Length]), || {
                    format!("{finishes:?}")
                }),
            );
            let last = chunks.last();
            checks.check(
                "anthropic stream: last chunk carries usage and no choices",
                expect(
                    last.is_some_and(|chunk| {
                        chunk.choices.is_empty()
                            && chunk
                                .usage
                                .is_some_and(|usage| usage.prompt_tokens > 0 && usage.completion_tokens > 0)
                    }),
                    || format!("{last:?}"),
                ),
            );
        }
    }

    checks.finish();
}
