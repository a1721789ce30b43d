//! End-to-end check of the Responses API (`POST /v1/responses`) against a real server (llama.cpp's in
//! CI), through the facade, as `InferenceModelProvider::OpenAI` with a custom endpoint and as
//! `InferenceModelProvider::Proxy("local")`: a one-shot response, a stream, a bad request.
//!
//! Usage: `e2e_responses <base URL> [model]` (the server's root; the API is under `/v1`). Checks shapes,
//! never wording. Prints one line per check, then `N passed, M failed`; exits with status 1 when any
//! check failed.

use vllora_llm::client::InferenceModelProvider;
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMError;
use vllora_llm::openai::{ResponsesStatus, ResponsesItem, ResponsesRequest, ResponsesStreamEvent};
use vllora_llm_e2e::{Checks, expect};

fn request(model: &str, prompt: &str) -> ResponsesRequest {
    ResponsesRequest {
        model: model.to_owned(),
        instructions: Some("You are a helpful assistant.".to_owned()),
        input: vec![ResponsesItem::message("user", prompt)].into(),
        max_output_tokens: Some(48),
        ..Default::default()
    }
}

async fn run_checks(checks: &mut Checks, label: &str, client: &VlloraLLMClient, model: &str) {
    let responses = client.responses();

    match responses.create(request(model, "What is the capital of France?")).await {
        Err(error) => checks.check(&format!("{label} one-shot call succeeds"), Err(error.to_string())),
        Ok(response) => {
            checks.check(&format!("{label} one-shot call succeeds"), Ok(()));
            checks.check(
                &format!("{label} one-shot: id and status"),
                expect(
                    !response.id.is_empty()
                        && matches!(
                            response.status,
                            ResponsesStatus::Completed | ResponsesStatus::Incomplete
                        ),
                    || format!("id {:?}, status {:?}", response.id, response.status),
                ),
            );
            let text = response.output_text();
            checks.check(
                &format!("{label} one-shot: output text is non-empty"),
                expect(!text.trim().is_empty(), || format!("output {:?}", response.output)),
            );
            let usage = response.usage.unwrap_or_default();
            checks.check(
                &format!("{label} one-shot: usage adds up"),
                expect(
                    usage.input_tokens > 0
                        && usage.output_tokens > 0
                        && usage.total_tokens == usage.input_tokens + usage.output_tokens,
                    || format!("{usage:?}"),
                ),
            );
        }
    }

    match responses.create_stream(request(model, "Name three colours.")).await {
        Err(error) => checks.check(&format!("{label} stream starts"), Err(error.to_string())),
        Ok(mut stream) => {
            checks.check(&format!("{label} stream starts"), Ok(()));
            let (mut created, mut deltas, mut text, mut completed, mut errors) =
                (0, 0, String::new(), None, Vec::new());
            while let Some(event) = stream.next().await {
                match event {
                    // Counted only as the first event: `created` must open the stream.
                    Ok(ResponsesStreamEvent::Created(_)) if deltas == 0 && completed.is_none() => {
                        created += 1
                    }
                    Ok(ResponsesStreamEvent::OutputTextDelta(delta)) => {
                        deltas += 1;
                        text.push_str(&delta.delta);
                    }
                    Ok(ResponsesStreamEvent::Completed(event)) => completed = Some(event.response),
                    Ok(ResponsesStreamEvent::Error(failure)) => errors.push(failure.message),
                    Ok(_) => {}
                    Err(error) => errors.push(error.to_string()),
                }
            }
            checks.check(
                &format!("{label} stream: no errors"),
                expect(errors.is_empty(), || errors.join("; ")),
            );
            checks.check(
                &format!("{label} stream: one response.created, before any text"),
                expect(created == 1, || format!("{created} created events before the text")),
            );
            checks.check(
                &format!("{label} stream: text deltas"),
                expect(deltas > 0 && !text.trim().is_empty(), || format!("{deltas} deltas, text {text:?}")),
            );
            match completed {
                None => {
                    checks.check(&format!("{label} stream: response.completed"), Err("missing".to_owned()))
                }
                Some(response) => {
                    checks.check(&format!("{label} stream: response.completed"), Ok(()));
                    checks.check(
                        &format!("{label} stream: completed output matches the deltas"),
                        expect(response.output_text() == text, || {
                            format!("{:?} vs {text:?}", response.output_text())
                        }),
                    );
                    let usage = response.usage.unwrap_or_default();
                    checks.check(
                        &format!("{label} stream: usage on completion"),
                        expect(usage.input_tokens > 0 && usage.output_tokens > 0, || format!("{usage:?}")),
                    );
                }
            }
        }
    }

    // An item type no server knows: the server's 400 must come back as an API error.
    let mut broken = request(model, "Hello");
    broken.input = vec![ResponsesItem::Other(serde_json::json!({"type": "no_such_item"}))].into();
    match responses.create(broken).await {
        Err(LLMError::Api(api)) => checks.check(
            &format!("{label} bad request: an API error with a 4xx status"),
            expect(api.status.is_some_and(|status| (400..500).contains(&status)), || format!("{api:?}")),
        ),
        other => checks.check(
            &format!("{label} bad request: an API error with a 4xx status"),
            Err(format!("{other:?}")),
        ),
    }
}

#[tokio::main]
async fn main() {
    let mut arguments = std::env::args().skip(1);
    let Some(base_url) = arguments.next() else {
        eprintln!("usage: e2e_responses <base URL> [model]");
        std::process::exit(2);
    };
    let model = arguments.next().unwrap_or_else(|| "gemma-3-270m".to_owned());
    let endpoint = format!("{}/v1", base_url.trim_end_matches('/'));
    let mut checks = Checks::default();

    let openai = VlloraLLMClient::new()
        .with_model_provider(InferenceModelProvider::OpenAI)
        .with_inference_endpoint(endpoint.clone());
    run_checks(&mut checks, "openai (custom endpoint)", &openai, &model).await;

    let proxy = VlloraLLMClient::new()
        .with_model_provider(InferenceModelProvider::Proxy("local".to_owned()))
        .with_inference_endpoint(endpoint);
    run_checks(&mut checks, "proxy `local`", &proxy, &model).await;

    checks.finish();
}
