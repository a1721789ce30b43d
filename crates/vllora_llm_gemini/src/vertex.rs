//! Gemini on Vertex AI (feature `vertex`): what differs from AI Studio once the translator has run —
//! publisher model names, caches named under the project, errors under Vertex AI's name, and embeddings
//! through `:predict` (Vertex AI has no `batchEmbedContents`).
//!
//! URLs, credentials and tokens come from [`vllora_llm_vertex`]; the request and response bodies of
//! `generateContent`, `streamGenerateContent` and `cachedContents` are AI Studio's.

use serde::{Deserialize, Serialize};
use vllora_llm_core::types::gateway::{
    Embedding, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, EmbeddingVector, EncodingFormat,
};
use vllora_llm_core::{LLMError, LLMResult, Warnings};
use vllora_llm_http::{HeaderMap, StatusCode};
use vllora_llm_vertex::PROVIDER_NAME as VERTEX_PROVIDER;

use crate::error::map_error;

/// The publisher of Google's models on Vertex AI.
pub(crate) const PUBLISHER: &str = "google";

/// Texts per `:predict` call: `gemini-embedding-*` models take one, the `text-embedding-*` family up
/// to 250.
fn batch_size(model: &str) -> usize {
    if model.starts_with("gemini-embedding") { 1 } else { 250 }
}

/// The publisher model name of a translated call's resource (`models/gemini-2.5-flash` ->
/// `gemini-2.5-flash`); AI Studio's tuned models have no Vertex AI counterpart here.
pub(crate) fn publisher_model(resource: &str) -> LLMResult<&str> {
    match resource.split_once('/') {
        Some(("models", name)) => Ok(name),
        _ => Err(LLMError::InvalidRequest(format!(
            "`{resource}` is not a Vertex AI publisher model (tuned models are Vertex AI endpoints)"
        ))),
    }
}

/// Gemini's error mapper with Vertex AI's name on the error (the body is Google's same error shape).
pub(crate) fn map_vertex_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> LLMError {
    match map_error(status, headers, body) {
        LLMError::Api(mut api) => {
            api.provider = VERTEX_PROVIDER.to_owned();
            LLMError::Api(api)
        }
        other => other,
    }
}

#[derive(Serialize)]
struct PredictBody<'a> {
    instances: Vec<Instance<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<Parameters>,
}

#[derive(Serialize)]
struct Instance<'a> {
    content: &'a str,
}

#[derive(Serialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
struct Parameters {
    output_dimensionality: u32,
}

#[derive(Deserialize)]
struct PredictAnswer {
    #[serde(default)]
    predictions: Vec<Prediction>,
}

#[derive(Deserialize)]
struct Prediction {
    embeddings: Option<PredictedEmbedding>,
}

#[derive(Deserialize)]
struct PredictedEmbedding {
    #[serde(default)]
    values: Vec<f64>,
    statistics: Option<Statistics>,
}

#[derive(Deserialize)]
struct Statistics {
    #[serde(default)]
    token_count: f64,
}

/// The `:predict` bodies for `request` on `model`, in input order, as many texts each as the model
/// takes. Token-id input cannot be sent; `user` has no Vertex AI field (a warning).
pub(crate) fn predict_bodies(
    request: &EmbeddingRequest,
    model: &str,
    warnings: &mut Warnings,
) -> LLMResult<Vec<Vec<u8>>> {
    let texts = crate::embeddings::checked_texts(request, "Vertex AI", warnings)?;
    let parameters = request.dimensions.map(|output_dimensionality| Parameters { output_dimensionality });
    texts
        .chunks(batch_size(model))
        .map(|batch| {
            let instances = batch.iter().map(|content| Instance { content }).collect();
            let body = PredictBody { instances, parameters };
            serde_json::to_vec(&body)
                .map_err(|error| LLMError::InvalidRequest(format!("embeddings: {error}")))
        })
        .collect()
}

/// One `:predict` answer whose first input is input `first_index` -> OpenAI's shape, with the token
/// counts Vertex AI reports per input summed into usage.
pub(crate) fn parse_predictions(
    body: &[u8],
    model: &str,
    encoding: Option<EncodingFormat>,
    first_index: u32,
) -> LLMResult<EmbeddingResponse> {
    let answer: PredictAnswer =
        serde_json::from_slice(body).map_err(|error| LLMError::decode(VERTEX_PROVIDER, error))?;
    if answer.predictions.is_empty() {
        return Err(LLMError::decode(VERTEX_PROVIDER, "predict answered without predictions"));
    }
    let mut tokens: u32 = 0;
    let mut data = Vec::with_capacity(answer.predictions.len());
    for (prediction, index) in answer.predictions.into_iter().zip(first_index..) {
        let embedding = prediction
            .embeddings
            .ok_or_else(|| LLMError::decode(VERTEX_PROVIDER, "a prediction has no embeddings"))?;
        let count = embedding.statistics.map_or(0.0, |statistics| statistics.token_count);
        // Counts are whole numbers sent as JSON doubles; out-of-range values saturate.
        tokens = tokens.saturating_add(count.max(0.0).min(f64::from(u32::MAX)) as u32);
        data.push(Embedding {
            object: "embedding".to_owned(),
            index,
            embedding: match encoding {
                Some(EncodingFormat::Base64) => EmbeddingVector::base64_of(&embedding.values),
                Some(EncodingFormat::Float) | None => EmbeddingVector::Float(embedding.values),
            },
        });
    }
    Ok(EmbeddingResponse {
        object: "list".to_owned(),
        data,
        model: model.to_owned(),
        usage: EmbeddingUsage { prompt_tokens: tokens, total_tokens: tokens },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use vllora_llm_core::types::gateway::EmbeddingInput;

    use super::*;

    #[test]
    fn texts_are_batched_as_the_model_takes_them() {
        let request =
            EmbeddingRequest { dimensions: Some(256), ..EmbeddingRequest::new("m", vec!["a", "b", "c"]) };
        let mut warnings = Warnings::new(VERTEX_PROVIDER);
        let Ok(bodies) = predict_bodies(&request, "gemini-embedding-001", &mut warnings) else {
            panic!("valid")
        };
        assert_eq!(bodies.len(), 3);
        let first: Value = serde_json::from_slice(&bodies[0]).unwrap_or_default();
        assert_eq!(
            first,
            json!({"instances": [{"content": "a"}], "parameters": {"outputDimensionality": 256}})
        );
        let Ok(bodies) = predict_bodies(&request, "text-embedding-005", &mut warnings) else {
            panic!("valid")
        };
        let only: Value = serde_json::from_slice(&bodies[0]).unwrap_or_default();
        assert_eq!(only["instances"], json!([{"content": "a"}, {"content": "b"}, {"content": "c"}]));
        let tokens = EmbeddingRequest::new("m", EmbeddingInput::Tokens(vec![1]));
        assert!(predict_bodies(&tokens, "m", &mut warnings).is_err());
    }

    #[test]
    fn predictions_become_openai_embeddings_with_summed_tokens() {
        let body = br#"{"predictions":[
            {"embeddings":{"values":[0.5,-0.25],"statistics":{"token_count":3,"truncated":false}}},
            {"embeddings":{"values":[1.0],"statistics":{"token_count":4.0,"truncated":false}}}],
            "metadata":{"billableCharacterCount":12}}"#;
        let Ok(response) = parse_predictions(body, "text-embedding-005", None, 2) else { panic!("valid") };
        assert_eq!(
            serde_json::to_value(&response).ok(),
            Some(json!({
                "object": "list",
                "data": [
                    {"object": "embedding", "index": 2, "embedding": [0.5, -0.25]},
                    {"object": "embedding", "index": 3, "embedding": [1.0]}
                ],
                "model": "text-embedding-005",
                "usage": {"prompt_tokens": 7, "total_tokens": 7}
            }))
        );
        assert!(matches!(parse_predictions(b"{}", "m", None, 0), Err(LLMError::Decode { .. })));
        assert_eq!(publisher_model("models/gemini-2.5-pro").ok(), Some("gemini-2.5-pro"));
        assert!(publisher_model("tunedModels/x").is_err());
    }
}
