//! Image generation: OpenAI's `POST /v1/images/generations` request and response as Rust data.
//!
//! Enumerated options keep values this crate does not know in an `Other` variant, which serialises
//! back unchanged, so a newer model's option passes through.

use serde::{Deserialize, Serialize};

/// A request to generate images from a prompt, in OpenAI's shape.
///
/// ```
/// use vllora_llm_core::types::gateway::ImageGenerationRequest;
///
/// let request = ImageGenerationRequest::new("gpt-image-1", "A lighthouse at dawn, watercolour");
/// assert_eq!(request.model.as_deref(), Some("gpt-image-1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImageGenerationRequest {
    /// What to draw.
    pub prompt: String,
    /// The model (`gpt-image-1`, `dall-e-3`, ...). OpenAI uses `dall-e-2` when it is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// How many images, 1 to 10 (`dall-e-3`: 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Pixel size such as `1024x1024`, or `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// Rendering quality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<ImageQuality>,
    /// `vivid` or `natural` (`dall-e-3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<ImageStyle>,
    /// `url` or `b64_json` (DALL·E; GPT image models always return base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ImageResponseFormat>,
    /// Background transparency (GPT image models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<ImageBackground>,
    /// `png`, `jpeg` or `webp` (GPT image models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<ImageOutputFormat>,
    /// Compression level 0 to 100 for `jpeg` and `webp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_compression: Option<u8>,
    /// Content moderation strictness, `auto` or `low` (GPT image models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation: Option<ImageModeration>,
    /// A stable id for the end user, for abuse detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl ImageGenerationRequest {
    /// A request for one image of `prompt` by `model`.
    pub fn new(model: impl Into<String>, prompt: impl Into<String>) -> Self {
        ImageGenerationRequest { prompt: prompt.into(), model: Some(model.into()), ..Default::default() }
    }
}

/// Rendering quality: `standard`/`hd` for DALL·E 3, `low`/`medium`/`high`/`auto` for GPT image models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageQuality {
    /// DALL·E 3 standard.
    Standard,
    /// DALL·E 3 high definition.
    Hd,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// The model chooses.
    Auto,
    /// A value this crate does not know, sent as is.
    #[serde(untagged)]
    Other(String),
}

/// DALL·E 3's style.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageStyle {
    /// Hyper-real and dramatic.
    Vivid,
    /// More natural, less hyper-real.
    Natural,
    /// A value this crate does not know, sent as is.
    #[serde(untagged)]
    Other(String),
}

/// How DALL·E returns images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageResponseFormat {
    /// A URL valid for an hour.
    Url,
    /// The image bytes in base64.
    B64Json,
    /// A value this crate does not know, sent as is.
    #[serde(untagged)]
    Other(String),
}

/// Background of GPT image models' images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageBackground {
    /// Transparent (`png` or `webp` only).
    Transparent,
    /// Opaque.
    Opaque,
    /// The model chooses.
    Auto,
    /// A value this crate does not know, sent as is.
    #[serde(untagged)]
    Other(String),
}

/// File format of GPT image models' images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageOutputFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WebP.
    Webp,
    /// A value this crate does not know, sent as is.
    #[serde(untagged)]
    Other(String),
}

/// Moderation strictness of GPT image models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageModeration {
    /// Less restrictive filtering.
    Low,
    /// The default.
    Auto,
    /// A value this crate does not know, sent as is.
    #[serde(untagged)]
    Other(String),
}

/// Generated images, in OpenAI's shape.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImagesResponse {
    /// Unix time of creation, in seconds.
    #[serde(default)]
    pub created: u64,
    /// The images.
    #[serde(default)]
    pub data: Vec<Image>,
    /// The background used (GPT image models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<String>,
    /// The file format (GPT image models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_format: Option<String>,
    /// The size (GPT image models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// The quality (GPT image models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
    /// Tokens used (GPT image models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<ImageUsage>,
}

/// One generated image: base64 bytes or a URL.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Image {
    /// The image bytes in base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b64_json: Option<String>,
    /// Where to download the image (DALL·E with `response_format: url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The prompt DALL·E 3 actually used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_prompt: Option<String>,
}

/// Tokens an image generation used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImageUsage {
    /// Input tokens (text and images).
    #[serde(default)]
    pub input_tokens: u32,
    /// Output (image) tokens.
    #[serde(default)]
    pub output_tokens: u32,
    /// The sum of both.
    #[serde(default)]
    pub total_tokens: u32,
    /// Breakdown of the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens_details: Option<ImageTokensDetails>,
    /// Breakdown of the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens_details: Option<ImageTokensDetails>,
}

/// Text and image tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImageTokensDetails {
    /// Text tokens.
    #[serde(default)]
    pub text_tokens: u32,
    /// Image tokens.
    #[serde(default)]
    pub image_tokens: u32,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn round_trip<T: Serialize + serde::de::DeserializeOwned>(document: &Value) -> Value {
        let parsed: T = match serde_json::from_value(document.clone()) {
            Ok(parsed) => parsed,
            Err(error) => panic!("{error}: {document}"),
        };
        serde_json::to_value(&parsed).unwrap_or_default()
    }

    #[test]
    fn gpt_image_and_dall_e_requests_round_trip() {
        let gpt_image = json!({
            "prompt": "A children's book drawing of a veterinarian using a stethoscope",
            "model": "gpt-image-1",
            "n": 2,
            "size": "1536x1024",
            "quality": "high",
            "background": "transparent",
            "output_format": "webp",
            "output_compression": 80,
            "moderation": "low",
            "user": "user-1234"
        });
        assert_eq!(round_trip::<ImageGenerationRequest>(&gpt_image), gpt_image);
        let dall_e = json!({
            "prompt": "A cute baby sea otter",
            "model": "dall-e-3",
            "n": 1,
            "size": "1024x1792",
            "quality": "hd",
            "style": "natural",
            "response_format": "b64_json"
        });
        assert_eq!(round_trip::<ImageGenerationRequest>(&dall_e), dall_e);
    }

    #[test]
    fn unknown_options_pass_through() {
        let document = json!({"prompt": "p", "quality": "ultra", "output_format": "avif", "style": "noir"});
        let parsed: ImageGenerationRequest = serde_json::from_value(document.clone()).unwrap_or_default();
        assert_eq!(parsed.quality, Some(ImageQuality::Other("ultra".to_owned())));
        assert_eq!(serde_json::to_value(&parsed).ok(), Some(document));
        let known: ImageGenerationRequest =
            serde_json::from_value(json!({"prompt": "p", "quality": "hd"})).unwrap_or_default();
        assert_eq!(known.quality, Some(ImageQuality::Hd));
    }

    #[test]
    fn responses_round_trip_exactly() {
        let gpt_image = json!({
            "created": 1713833628,
            "data": [{"b64_json": "iVBORw0KGgo="}],
            "background": "transparent",
            "output_format": "png",
            "size": "1024x1024",
            "quality": "high",
            "usage": {
                "input_tokens": 50,
                "output_tokens": 4160,
                "total_tokens": 4210,
                "input_tokens_details": {"text_tokens": 10, "image_tokens": 40},
                "output_tokens_details": {"text_tokens": 0, "image_tokens": 4160}
            }
        });
        assert_eq!(round_trip::<ImagesResponse>(&gpt_image), gpt_image);
        let dall_e = json!({
            "created": 1589478378,
            "data": [{"url": "https://example.com/img.png", "revised_prompt": "A sea otter, floating"}]
        });
        assert_eq!(round_trip::<ImagesResponse>(&dall_e), dall_e);
    }
}
