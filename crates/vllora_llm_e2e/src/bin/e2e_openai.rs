//! End-to-end check of the OpenAI provider against a real OpenAI-compatible server (llama.cpp's in CI),
//! through the facade, twice: as `InferenceModelProvider::OpenAI` with a custom endpoint and as
//! `InferenceModelProvider::Proxy("local")`. For each: a one-shot chat, a stream, a `json_schema` answer
//! and a bad request.
//!
//! Usage: `e2e_openai <base URL> [model]` (the server's root; OpenAI's API is under `/v1`). Checks
//! shapes, never wording. Prints one line per check, then `N passed, M failed`; exits with status 1 when
//! any check failed.

use serde_json::{Value, json};
use vllora_llm::client::InferenceModelProvider;
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMError;
use vllora_llm_e2e::{Checks, expect};
use vllora_llm::types::gateway::{
    ChatCompletionMessage, ChatCompletionRequest, FinishReason, JsonSchemaFormat, ResponseFormat, Role,
};

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

/// A schema with two required string fields.
fn capital_schema() -> ResponseFormat {
    ResponseFormat::JsonSchema {
        json_schema: JsonSchemaFormat {
            name: "capital".to_owned(),
            description: None,
            schema: Some(json!({
                "type": "object",
                "properties": {"country": {"type": "string"}, "capital": {"type": "string"}},
                "required": ["country", "capital"],
                "additionalProperties": false
            })),
            strict: Some(true),
        },
    }
}

async fn run_checks(checks: &mut Checks, label: &str, provider: &str, client: &VlloraLLMClient, model: &str) {
    let completions = client.completions();

    match completions.create(request(model, "What is the capital of France?", 48)).await {
        Err(error) => checks.check(&format!("{label} one-shot call succeeds"), Err(error.to_string())),
        Ok(response) => {
            checks.check(&format!("{label} one-shot call succeeds"), Ok(()));
            let text = response
                .message()
                .content
                .as_ref()
                .and_then(|content| content.as_string())
                .unwrap_or_default();
            checks.check(
                &format!("{label} one-shot: assistant text is non-empty"),
                expect(!text.trim().is_empty(), || "empty text".to_owned()),
            );
            checks.check(
                &format!("{label} one-shot: role is assistant"),
                expect(response.message().role == Role::Assistant, || {
                    format!("role {}", response.message().role)
                }),
            );
            checks.check(
                &format!("{label} one-shot: finish reason is stop or length"),
                expect(
                    matches!(response.finish_reason(), Some(FinishReason::Stop | FinishReason::Length)),
                    || format!("{:?}", response.finish_reason()),
                ),
            );
            let usage = response.usage().copied().unwrap_or_default();
            checks.check(
                &format!("{label} one-shot: usage adds up"),
                expect(
                    usage.prompt_tokens > 0
                        && usage.completion_tokens > 0
                        && usage.total_tokens == usage.prompt_tokens + usage.completion_tokens,
                    || format!("{usage:?}"),
                ),
            );
        }
    }

    match completions.create_stream(request(model, "Name three colours.", 48)).await {
        Err(error) => checks.check(&format!("{label} stream starts"), Err(error.to_string())),
        Ok(mut stream) => {
            checks.check(&format!("{label} stream starts"), Ok(()));
            let (mut text_deltas, mut finishes, mut chunks, mut errors) = (0, 0, Vec::new(), Vec::new());
            while let Some(item) = stream.next().await {
                match item {
                    Ok(chunk) => {
                        for choice in &chunk.choices {
                            text_deltas += usize::from(
                                choice.delta.content.as_deref().is_some_and(|text| !text.is_empty()),
                            );
                            finishes += usize::from(choice.finish_reason.is_some());
                        }
                        chunks.push(chunk);
                    }
                    Err(error) => errors.push(error.to_string()),
                }
            }
            checks
                .check(&format!("{label} stream: no error"), expect(errors.is_empty(), || errors.join("; ")));
            checks.check(
                &format!("{label} stream: several text deltas"),
                expect(text_deltas >= 2, || format!("{text_deltas} text deltas")),
            );
            let first_role = chunks
                .first()
                .and_then(|chunk| chunk.choices.first())
                .and_then(|choice| choice.delta.role.clone());
            checks.check(
                &format!("{label} stream: first chunk says assistant"),
                expect(first_role == Some(Role::Assistant), || format!("{first_role:?}")),
            );
            checks.check(
                &format!("{label} stream: finish reason exactly once"),
                expect(finishes == 1, || format!("{finishes} finish reasons")),
            );
            let last = chunks.last();
            checks.check(
                &format!("{label} stream: usage in a final chunk without choices"),
                expect(
                    last.is_some_and(|chunk| {
                        chunk.choices.is_empty()
                            && chunk.usage.is_some_and(|usage| usage.completion_tokens > 0)
                    }),
                    || format!("last chunk {last:?}"),
                ),
            );
        }
    }

    let mut structured = request(model, "What is the capital of France? Answer in JSON.", 96);
    structured.response_format = Some(capital_schema());
    match completions.create(structured).await {
        Err(error) => checks.check(&format!("{label} json_schema call succeeds"), Err(error.to_string())),
        Ok(response) => {
            let text = response
                .message()
                .content
                .as_ref()
                .and_then(|content| content.as_string())
                .unwrap_or_default();
            let parsed: Option<Value> = serde_json::from_str(&text).ok();
            let has_string = |field: &str| {
                parsed.as_ref().and_then(|value| value.get(field)).is_some_and(Value::is_string)
            };
            checks.check(
                &format!("{label} json_schema: answer parses as an object with the schema's fields"),
                expect(has_string("country") && has_string("capital"), || format!("{text:?}")),
            );
        }
    }

    let mut bad = request(model, "Hello", 8);
    bad.response_format = Some(ResponseFormat::JsonSchema {
        json_schema: JsonSchemaFormat {
            name: "broken".to_owned(),
            description: None,
            schema: Some(json!({"type": "no-such-type"})),
            strict: None,
        },
    });
    let outcome = match completions.create(bad).await {
        Ok(response) => Err(format!("the server accepted it: {:?}", response.message().content)),
        Err(LLMError::Api(api)) => expect(
            api.status == Some(400) && api.provider == provider && !api.message.is_empty() && !api.retryable,
            || format!("{api:?}"),
        ),
        Err(other) => Err(format!("not an API error: {other:?}")),
    };
    checks.check(&format!("{label} bad request: LLMError::Api with status 400"), outcome);
}

#[tokio::main]
async fn main() {
    let mut arguments = std::env::args().skip(1);
    let Some(base_url) = arguments.next() else {
        eprintln!("usage: e2e_openai <base URL> [model]");
        std::process::exit(2);
    };
    let model = arguments.next().unwrap_or_else(|| "gemma-3-270m".to_owned());
    let endpoint = format!("{}/v1", base_url.trim_end_matches('/'));
    let mut checks = Checks::default();

    let openai = VlloraLLMClient::new()
        .with_model_provider(InferenceModelProvider::OpenAI)
        .with_inference_endpoint(endpoint.clone());
    run_checks(&mut checks, "openai (custom endpoint)", "openai", &openai, &model).await;

    let proxy = VlloraLLMClient::new()
        .with_model_provider(InferenceModelProvider::Proxy("local".to_owned()))
        .with_inference_endpoint(endpoint);
    run_checks(&mut checks, "proxy `local`", "local", &proxy, &model).await;

    checks.finish();
}
