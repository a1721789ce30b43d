//! Image generation request -> `POST /images/generations` body, and its response -> [`ImagesResponse`].

use vllora_llm_core::types::gateway::{ImageGenerationRequest, ImagesResponse};
use vllora_llm_core::{LLMError, LLMResult};

use crate::error;
use crate::wire::ErrorBody;

/// The JSON body for `request` with `model` as the server knows it (none: the server's default). An
/// empty prompt or `n` of 0 is an error before anything is sent.
pub(crate) fn image_body(request: &ImageGenerationRequest, model: Option<&str>) -> LLMResult<Vec<u8>> {
    if request.prompt.trim().is_empty() {
        return Err(LLMError::InvalidRequest("image generation: `prompt` is empty".to_owned()));
    }
    if request.n == Some(0) {
        return Err(LLMError::InvalidRequest("image generation: `n` must be at least 1".to_owned()));
    }
    if let Some(compression) = request.output_compression.filter(|compression| *compression > 100) {
        return Err(LLMError::InvalidRequest(format!(
            "image generation: `output_compression` is {compression}, it must be 0 to 100"
        )));
    }
    let body = match model {
        Some(model) if request.model.as_deref() != Some(model) => {
            let renamed = ImageGenerationRequest { model: Some(model.to_owned()), ..request.clone() };
            serde_json::to_vec(&renamed)
        }
        _ => serde_json::to_vec(request),
    };
    body.map_err(|error| LLMError::InvalidRequest(format!("image generation: {error}")))
}

/// Decodes a 2xx response body; a body that carries `error` instead of images is that error.
pub(crate) fn parse_images(provider: &str, body: &[u8]) -> LLMResult<ImagesResponse> {
    match serde_json::from_slice::<ImagesResponse>(body) {
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
    use vllora_llm_core::types::gateway::{ImageOutputFormat, ImageQuality};

    use super::*;

    fn body_json(request: &ImageGenerationRequest, model: Option<&str>) -> Value {
        let bytes = image_body(request, model).unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or_default()
    }

    #[test]
    fn body_is_the_request_with_the_servers_model_name() {
        let request = ImageGenerationRequest {
            quality: Some(ImageQuality::Low),
            output_format: Some(ImageOutputFormat::Jpeg),
            output_compression: Some(60),
            size: Some("1024x1024".to_owned()),
            ..ImageGenerationRequest::new("openai/gpt-image-1", "A red bicycle")
        };
        assert_eq!(
            body_json(&request, Some("gpt-image-1")),
            json!({
                "prompt": "A red bicycle",
                "model": "gpt-image-1",
                "size": "1024x1024",
                "quality": "low",
                "output_format": "jpeg",
                "output_compression": 60
            })
        );
        let no_model = ImageGenerationRequest { prompt: "x".to_owned(), ..Default::default() };
        assert_eq!(body_json(&no_model, None), json!({"prompt": "x"}));
    }

    #[test]
    fn impossible_requests_are_refused_before_sending() {
        let empty = ImageGenerationRequest::new("gpt-image-1", "  ");
        assert!(
            matches!(image_body(&empty, None), Err(LLMError::InvalidRequest(message)) if message.contains("prompt"))
        );
        let zero = ImageGenerationRequest { n: Some(0), ..ImageGenerationRequest::new("m", "p") };
        assert!(
            matches!(image_body(&zero, None), Err(LLMError::InvalidRequest(message)) if message.contains("`n`"))
        );
        let over =
            ImageGenerationRequest { output_compression: Some(101), ..ImageGenerationRequest::new("m", "p") };
        assert!(matches!(image_body(&over, None), Err(LLMError::InvalidRequest(_))));
    }

    #[test]
    fn errors_and_garbage() {
        let body = br#"{"error":{"message":"Your request was rejected by the safety system.","type":"image_generation_user_error","param":null,"code":"moderation_blocked"}}"#;
        let error = parse_images("openai", body).err();
        let api = error.as_ref().and_then(LLMError::api_error);
        assert_eq!(api.and_then(|api| api.code.as_deref()), Some("moderation_blocked"));
        assert!(matches!(parse_images("openai", b"<html>"), Err(LLMError::Decode { .. })));
    }
}
