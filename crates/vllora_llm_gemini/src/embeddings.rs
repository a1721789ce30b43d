//! OpenAI-shaped embeddings request -> Gemini `batchEmbedContents` body, and its answer -> the OpenAI
//! shape. One batch call serves one text or many; Gemini embeds text only and reports no token counts
//! for embeddings (usage stays 0 unless a `usageMetadata` arrives). Gemini takes at most
//! [`MAX_BATCH`] texts per call, so more inputs become several calls.

use serde::{Deserialize, Serialize};
use vllora_llm_core::types::gateway::{
    Embedding, EmbeddingInput, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, EmbeddingVector,
    EncodingFormat,
};
use vllora_llm_core::{LLMError, LLMResult, Warning, Warnings};

use crate::PROVIDER_NAME;

/// The most requests Gemini accepts in one `batchEmbedContents` call.
pub(crate) const MAX_BATCH: usize = 100;

#[derive(Serialize)]
struct BatchEmbedBody<'a> {
    requests: Vec<EmbedContent<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EmbedContent<'a> {
    model: &'a str,
    content: TextContent<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_dimensionality: Option<u32>,
}

#[derive(Serialize)]
struct TextContent<'a> {
    parts: [TextPart<'a>; 1],
}

#[derive(Serialize)]
struct TextPart<'a> {
    text: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchEmbedAnswer {
    #[serde(default)]
    embeddings: Vec<ContentEmbedding>,
    #[serde(default)]
    usage_metadata: Option<EmbedUsage>,
}

#[derive(Deserialize)]
struct ContentEmbedding {
    #[serde(default)]
    values: Vec<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmbedUsage {
    #[serde(default)]
    prompt_token_count: u32,
}

/// The texts of `request`, checked as both Gemini transports need them: text input (token ids are an
/// error naming `service`), at least one text, `dimensions` at least 1; `user`, which neither has a field
/// for, is a warning.
pub(crate) fn checked_texts<'a>(
    request: &'a EmbeddingRequest,
    service: &str,
    warnings: &mut Warnings,
) -> LLMResult<Vec<&'a str>> {
    let texts: Vec<&str> = match &request.input {
        EmbeddingInput::Text(text) => vec![text.as_str()],
        EmbeddingInput::Texts(texts) => texts.iter().map(String::as_str).collect(),
        EmbeddingInput::Tokens(_) | EmbeddingInput::TokenArrays(_) => {
            return Err(LLMError::InvalidRequest(format!(
                "embeddings: {service} embeds text, not token ids; send `input` as text"
            )));
        }
    };
    if texts.is_empty() {
        return Err(LLMError::InvalidRequest("embeddings: `input` is empty".to_owned()));
    }
    if request.dimensions == Some(0) {
        return Err(LLMError::InvalidRequest("embeddings: `dimensions` must be at least 1".to_owned()));
    }
    if request.user.is_some() {
        warnings.push(Warning::unsupported("user"));
    }
    Ok(texts)
}

/// The `batchEmbedContents` bodies for `request` on `model` (`models/...`), one per [`MAX_BATCH`]
/// texts, in input order. Token-id input cannot be sent (an error); `user` has no Gemini field (a
/// warning).
pub(crate) fn batch_bodies(
    request: &EmbeddingRequest,
    model: &str,
    warnings: &mut Warnings,
) -> LLMResult<Vec<Vec<u8>>> {
    let texts = checked_texts(request, "Gemini", warnings)?;
    texts
        .chunks(MAX_BATCH)
        .map(|batch| {
            let requests = batch
                .iter()
                .map(|text| EmbedContent {
                    model,
                    content: TextContent { parts: [TextPart { text }] },
                    output_dimensionality: request.dimensions,
                })
                .collect();
            serde_json::to_vec(&BatchEmbedBody { requests })
                .map_err(|error| LLMError::InvalidRequest(format!("embeddings: {error}")))
        })
        .collect()
}

/// The OpenAI-shaped answer to one batch whose first input is input `first_index`: one embedding per
/// input, in order, as floats or (when asked) base64.
pub(crate) fn parse_batch(
    body: &[u8],
    model_name: &str,
    encoding: Option<EncodingFormat>,
    first_index: u32,
) -> LLMResult<EmbeddingResponse> {
    let answer: BatchEmbedAnswer =
        serde_json::from_slice(body).map_err(|error| LLMError::decode(PROVIDER_NAME, error))?;
    if answer.embeddings.is_empty() {
        return Err(LLMError::decode(PROVIDER_NAME, "batchEmbedContents answered without embeddings"));
    }
    let data = answer
        .embeddings
        .into_iter()
        .zip(first_index..)
        .map(|(content, index)| Embedding {
            object: "embedding".to_owned(),
            index,
            embedding: match encoding {
                Some(EncodingFormat::Base64) => EmbeddingVector::base64_of(&content.values),
                Some(EncodingFormat::Float) | None => EmbeddingVector::Float(content.values),
            },
        })
        .collect();
    let prompt_tokens = answer.usage_metadata.map_or(0, |usage| usage.prompt_token_count);
    Ok(EmbeddingResponse {
        object: "list".to_owned(),
        data,
        model: model_name.to_owned(),
        usage: EmbeddingUsage { prompt_tokens, total_tokens: prompt_tokens },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn body_json(request: &EmbeddingRequest, warnings: &mut Warnings) -> Value {
        let bodies = batch_bodies(request, "models/gemini-embedding-001", warnings).unwrap_or_default();
        let [bytes] = bodies.as_slice() else { panic!("{} bodies", bodies.len()) };
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    #[test]
    fn more_than_a_batch_of_texts_is_split() {
        let texts: Vec<String> = (0..MAX_BATCH * 2 + 1).map(|number| number.to_string()).collect();
        let request = EmbeddingRequest::new("m", texts);
        let bodies =
            batch_bodies(&request, "models/m", &mut Warnings::new(PROVIDER_NAME)).unwrap_or_default();
        let documents: Vec<Value> =
            bodies.iter().map(|body| serde_json::from_slice(body).unwrap_or_default()).collect();
        let sizes: Vec<usize> =
            documents.iter().map(|document| document["requests"].as_array().map_or(0, Vec::len)).collect();
        assert_eq!(sizes, vec![MAX_BATCH, MAX_BATCH, 1]);
        let last = documents.last().cloned().unwrap_or_default();
        assert_eq!(last["requests"][0]["content"]["parts"][0]["text"], json!("200"));
    }

    #[test]
    fn texts_become_one_request_each_with_the_dimensionality() {
        let mut warnings = Warnings::new(PROVIDER_NAME);
        let request = EmbeddingRequest {
            dimensions: Some(768),
            ..EmbeddingRequest::new(
                "gemini-embedding-001",
                vec!["What is the meaning of life?", "How much wood?"],
            )
        };
        assert_eq!(
            body_json(&request, &mut warnings),
            json!({"requests": [
                {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "What is the meaning of life?"}]}, "outputDimensionality": 768},
                {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "How much wood?"}]}, "outputDimensionality": 768}
            ]})
        );
        assert!(warnings.as_slice().is_empty());
    }

    #[test]
    fn user_is_a_warning_and_tokens_an_error() {
        let mut warnings = Warnings::new(PROVIDER_NAME);
        let request = EmbeddingRequest { user: Some("u".to_owned()), ..EmbeddingRequest::new("m", "x") };
        body_json(&request, &mut warnings);
        assert_eq!(warnings.as_slice(), [Warning::unsupported("user")]);
        assert!(warnings.finish(true).is_err(), "strict mode refuses it");
        let tokens = EmbeddingRequest::new("m", EmbeddingInput::Tokens(vec![1, 2]));
        let result = batch_bodies(&tokens, "models/m", &mut Warnings::new(PROVIDER_NAME));
        assert!(matches!(result, Err(LLMError::InvalidRequest(message)) if message.contains("token ids")));
    }

    #[test]
    fn answers_become_openai_embeddings_in_order() {
        let body = br#"{"embeddings":[{"values":[0.5,-0.25]},{"values":[1.0,-2.5]}]}"#;
        let response = parse_batch(body, "gemini-embedding-001", None, 0).unwrap_or_default();
        assert_eq!(
            serde_json::to_value(&response).ok(),
            Some(json!({
                "object": "list",
                "data": [
                    {"object": "embedding", "index": 0, "embedding": [0.5, -0.25]},
                    {"object": "embedding", "index": 1, "embedding": [1.0, -2.5]}
                ],
                "model": "gemini-embedding-001",
                "usage": {"prompt_tokens": 0, "total_tokens": 0}
            }))
        );
        let base64 = parse_batch(body, "m", Some(EncodingFormat::Base64), 100).unwrap_or_default();
        assert_eq!(base64.data.iter().map(|item| item.index).collect::<Vec<_>>(), vec![100, 101]);
        let second = base64.data.get(1).map(|item| item.embedding.clone());
        assert_eq!(second, Some(EmbeddingVector::Base64("AACAPwAAIMA=".to_owned())));
        assert!(matches!(parse_batch(b"{}", "m", None, 0), Err(LLMError::Decode { .. })));
    }
}
