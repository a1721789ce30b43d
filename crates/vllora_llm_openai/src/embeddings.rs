//! Embeddings request -> `POST /embeddings` body, and its response -> [`EmbeddingResponse`].

use serde::Serialize;
use vllora_llm_core::types::gateway::{EmbeddingInput, EmbeddingRequest, EmbeddingResponse, EncodingFormat};
use vllora_llm_core::{LLMError, LLMResult};

use crate::error;
use crate::wire::ErrorBody;

/// The body OpenAI receives: the gateway request with the model as the server knows it, borrowed.
#[derive(Serialize)]
struct EmbeddingBody<'a> {
    model: &'a str,
    input: &'a EmbeddingInput,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding_format: Option<EncodingFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
}

/// The JSON body for `request` sent to `model`. Nothing to embed is an error before anything is sent:
/// every server refuses it.
pub(crate) fn embedding_body(request: &EmbeddingRequest, model: &str) -> LLMResult<Vec<u8>> {
    if request.input.is_empty() {
        return Err(LLMError::InvalidRequest(
            "embeddings: `input` is empty (no texts, or a token array without tokens)".to_owned(),
        ));
    }
    if request.dimensions == Some(0) {
        return Err(LLMError::InvalidRequest("embeddings: `dimensions` must be at least 1".to_owned()));
    }
    let body = EmbeddingBody {
        model,
        input: &request.input,
        encoding_format: request.encoding_format,
        dimensions: request.dimensions,
        user: request.user.as_deref(),
    };
    serde_json::to_vec(&body).map_err(|error| LLMError::InvalidRequest(format!("embeddings: {error}")))
}

/// Decodes a 2xx response body. A body that carries `error` instead of `data` (some compatible servers
/// answer errors with 200) is that error.
pub(crate) fn parse_embeddings(provider: &str, body: &[u8]) -> LLMResult<EmbeddingResponse> {
    match serde_json::from_slice::<EmbeddingResponse>(body) {
        Ok(response) if !response.data.is_empty() => Ok(response),
        parsed => {
            if let Ok(ErrorBody { error: Some(error_value), .. }) = serde_json::from_slice(body) {
                return Err(error::api_error_from_value(provider, None, &error_value).with_body(body).into());
            }
            parsed.map_err(|error| LLMError::decode(provider, error))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn body_json(request: &EmbeddingRequest, model: &str) -> Value {
        let bytes = embedding_body(request, model).unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or_default()
    }

    #[test]
    fn body_carries_every_set_field_and_the_servers_model_name() {
        let request = EmbeddingRequest {
            model: "openai/text-embedding-3-large".to_owned(),
            input: vec!["a", "b"].into(),
            encoding_format: Some(EncodingFormat::Base64),
            dimensions: Some(256),
            user: Some("user-1".to_owned()),
        };
        assert_eq!(
            body_json(&request, "text-embedding-3-large"),
            json!({
                "model": "text-embedding-3-large",
                "input": ["a", "b"],
                "encoding_format": "base64",
                "dimensions": 256,
                "user": "user-1"
            })
        );
        let minimal = EmbeddingRequest::new("m", EmbeddingInput::TokenArrays(vec![vec![1, 2], vec![3]]));
        assert_eq!(body_json(&minimal, "m"), json!({"model": "m", "input": [[1, 2], [3]]}));
    }

    #[test]
    fn nothing_to_embed_is_refused_before_sending() {
        for input in [EmbeddingInput::Texts(Vec::new()), EmbeddingInput::Tokens(Vec::new())] {
            let result = embedding_body(&EmbeddingRequest::new("m", input), "m");
            assert!(matches!(&result, Err(LLMError::InvalidRequest(message)) if message.contains("input")));
        }
        let zero = EmbeddingRequest { dimensions: Some(0), ..EmbeddingRequest::new("m", "x") };
        assert!(matches!(embedding_body(&zero, "m"), Err(LLMError::InvalidRequest(_))));
    }

    #[test]
    fn an_error_with_status_200_is_an_api_error() {
        let body = br#"{"error":{"code":501,"message":"This server does not support embeddings. Start it with `--embeddings`","type":"not_supported_error"}}"#;
        let error = parse_embeddings("local", body).err();
        let api = error.as_ref().and_then(LLMError::api_error);
        assert_eq!(api.map(|api| api.error_type.as_deref()), Some(Some("not_supported_error")));
        assert!(api.is_some_and(|api| api.message.contains("does not support embeddings")));
    }

    #[test]
    fn garbage_is_a_decode_error() {
        assert!(matches!(parse_embeddings("openai", b"[1,2"), Err(LLMError::Decode { .. })));
        assert!(matches!(parse_embeddings("openai", br#"{"data":"x"}"#), Err(LLMError::Decode { .. })));
    }
}
