//! End-to-end check of embeddings against a real OpenAI-compatible server (llama.cpp's, started with
//! `--embedding`, in CI), through the facade as `InferenceModelProvider::OpenAI` with a custom endpoint
//! and as `InferenceModelProvider::Proxy("local")`: one text gives a non-empty float vector with usage,
//! two texts give two vectors of equal length in input order, base64 decodes to the same numbers, and
//! empty input is refused before sending.
//!
//! Usage: `e2e_embeddings <base URL> [model]` (the server's root; OpenAI's API is under `/v1`). Checks
//! shapes, never values. Prints one line per check, then `N passed, M failed`; exits with status 1 when
//! any check failed.

use vllora_llm::client::InferenceModelProvider;
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMError;
use vllora_llm::types::gateway::{EmbeddingInput, EmbeddingRequest, EmbeddingVector, EncodingFormat};
use vllora_llm_e2e::{Checks, expect};

async fn run_checks(checks: &mut Checks, label: &str, client: &VlloraLLMClient, model: &str) {
    let embeddings = client.embeddings();

    let one = embeddings.create(EmbeddingRequest::new(model, "The capital of France is Paris.")).await;
    checks.check(
        &format!("{label}: one text gives a non-empty float vector with usage"),
        match &one {
            Err(error) => Err(error.to_string()),
            Ok(response) => match response.data.as_slice() {
                [item] => match &item.embedding {
                    EmbeddingVector::Float(vector) => expect(
                        !vector.is_empty()
                            && vector.iter().all(|value| value.is_finite())
                            && vector.iter().any(|value| *value != 0.0),
                        || format!("vector of {} values, not all finite and non-zero", vector.len()),
                    )
                    .and_then(|()| {
                        expect(response.usage.prompt_tokens > 0 && response.usage.total_tokens > 0, || {
                            format!("usage {:?}", response.usage)
                        })
                    })
                    .and_then(|()| {
                        expect(response.object == "list", || format!("object {}", response.object))
                    }),
                    EmbeddingVector::Base64(_) => Err("base64 though floats were asked for".to_owned()),
                },
                items => Err(format!("{} embeddings for one input", items.len())),
            },
        },
    );

    let texts = vec!["A cat sat on the mat.", "Rust is a systems programming language."];
    let two = embeddings.create(EmbeddingRequest::new(model, texts)).await;
    let two_lengths = two.as_ref().ok().map(|response| {
        response
            .data
            .iter()
            .map(|item| item.embedding.to_floats().map(|vector| vector.len()))
            .collect::<Vec<_>>()
    });
    checks.check(
        &format!("{label}: two texts give two vectors of equal length, in input order"),
        match &two {
            Err(error) => Err(error.to_string()),
            Ok(response) => {
                let indexes: Vec<u32> = response.data.iter().map(|item| item.index).collect();
                let lengths = two_lengths.clone().unwrap_or_default();
                expect(indexes == [0, 1], || format!("indexes {indexes:?}")).and_then(|()| {
                    expect(
                        matches!(lengths.as_slice(), [Some(first), Some(second)] if first == second && *first > 0),
                        || format!("lengths {lengths:?}"),
                    )
                })
            }
        },
    );

    let one_length = one
        .as_ref()
        .ok()
        .and_then(|response| response.data.first())
        .and_then(|item| item.embedding.to_floats())
        .map(|vector| vector.len());
    checks.check(
        &format!("{label}: every input of the model gets the same dimension"),
        expect(
            one_length.is_some()
                && two_lengths.as_ref().and_then(|lengths| lengths.first().copied().flatten()) == one_length,
            || format!("one text: {one_length:?}, two texts: {two_lengths:?}"),
        ),
    );

    let tokens = embeddings
        .create(EmbeddingRequest::new(model, EmbeddingInput::Tokens(vec![2, 651, 6037, 576])))
        .await;
    checks.check(
        &format!("{label}: token ids are embedded"),
        match tokens {
            Err(error) => Err(error.to_string()),
            Ok(response) => expect(
                response.data.first().and_then(|item| item.embedding.to_floats()).map(|vector| vector.len())
                    == one_length,
                || format!("{} embeddings", response.data.len()),
            ),
        },
    );

    let base64_request = EmbeddingRequest {
        encoding_format: Some(EncodingFormat::Base64),
        ..EmbeddingRequest::new(model, "The capital of France is Paris.")
    };
    let float_vector = one
        .as_ref()
        .ok()
        .and_then(|response| response.data.first())
        .and_then(|item| item.embedding.to_floats());
    checks.check(
        &format!("{label}: base64 decodes to the float vector"),
        match embeddings.create(base64_request).await {
            Err(error) => Err(error.to_string()),
            Ok(response) => {
                let decoded = response.data.first().and_then(|item| item.embedding.to_floats());
                match (decoded, &float_vector) {
                    (Some(decoded), Some(floats)) => expect(
                        decoded.len() == floats.len()
                            && decoded
                                .iter()
                                .zip(floats)
                                .all(|(a, b)| (a - b).abs() <= 1e-4 * b.abs().max(1.0)),
                        || {
                            format!(
                                "{} decoded values differ from the {} floats",
                                decoded.len(),
                                floats.len()
                            )
                        },
                    ),
                    (decoded, _) => Err(format!("decoded {:?} values", decoded.map(|vector| vector.len()))),
                }
            }
        },
    );

    let empty = embeddings.create(EmbeddingRequest::new(model, Vec::<String>::new())).await;
    checks.check(
        &format!("{label}: empty input is refused before sending"),
        expect(matches!(empty, Err(LLMError::InvalidRequest(_))), || format!("{empty:?}")),
    );
}

#[tokio::main]
async fn main() {
    let mut arguments = std::env::args().skip(1);
    let Some(base_url) = arguments.next() else {
        eprintln!("usage: e2e_embeddings <base URL> [model]");
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
    run_checks(&mut checks, "proxy `local`", &proxy, &format!("local/{model}")).await;

    checks.finish();
}
