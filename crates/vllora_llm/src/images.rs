//! [`ImagesClient`]: image generation, routed like chat, each call in an `image_generation {model}` span
//! with the OpenTelemetry GenAI fields that apply.

use std::fmt;
use std::sync::Arc;

use tracing::Span;
use tracing::field::Empty;
use vllora_llm_core::types::gateway::{ImageGenerationRequest, ImagesResponse};
use vllora_llm_core::{CallOptions, LLMError, LLMResult};

use crate::settings::Settings;
use crate::telemetry;

/// Image generation: `client.images().generate(request)`.
#[derive(Clone)]
pub struct ImagesClient {
    settings: Arc<Settings>,
}

impl fmt::Debug for ImagesClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("ImagesClient").finish_non_exhaustive()
    }
}

impl ImagesClient {
    pub(crate) fn new(settings: Arc<Settings>) -> Self {
        ImagesClient { settings }
    }

    /// Generates images from the request's prompt. A request without a model needs a provider set with
    /// `with_model_provider` (the provider's default model is used).
    pub async fn generate(&self, request: impl Into<ImageGenerationRequest>) -> LLMResult<ImagesResponse> {
        let request = request.into();
        let model = request.model.as_deref().unwrap_or_default();
        if model.is_empty() && self.settings.provider.is_none() && !self.settings.has_fixed_instance() {
            return Err(LLMError::InvalidRequest(
                "image generation: name a `model` (gpt-image-1, dall-e-3, ...) or call with_model_provider"
                    .to_owned(),
            ));
        }
        let resolved = self.settings.instance(model).await?;
        let instance = resolved.get();
        let span = images_span(instance.provider_name(), &request);
        let mut call = telemetry::Call::start(span, "image_generation", instance.provider_name(), model);
        let options = CallOptions::strict(self.settings.strict);
        let result = call.run(instance.generate_images(&request, &options)).await;
        match &result {
            Ok(response) => {
                record_images(call.span(), response);
                let usage = response.usage.as_ref();
                let (input, output) =
                    (usage.map(|usage| usage.input_tokens), usage.map(|usage| usage.output_tokens));
                call.end_with(input.map(u64::from), output.map(u64::from), None);
            }
            Err(error) => call.fail(error),
        }
        result
    }
}

/// The span of one image generation call (operation `image_generation`).
fn images_span(provider: &str, request: &ImageGenerationRequest) -> Span {
    let model = request.model.as_deref().unwrap_or_default();
    tracing::info_span!(
        "image_generation",
        otel.name = %format_args!("image_generation {model}"),
        otel.kind = "client",
        otel.status_code = Empty,
        gen_ai.operation.name = "image_generation",
        gen_ai.provider.name = provider,
        gen_ai.request.model = model,
        gen_ai.request.choice.count = request.n.map(i64::from),
        server.address = Empty,
        server.port = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        error.type = Empty,
    )
}

fn record_images(span: &Span, response: &ImagesResponse) {
    if let Some(usage) = &response.usage {
        span.record("gen_ai.usage.input_tokens", i64::from(usage.input_tokens));
        span.record("gen_ai.usage.output_tokens", i64::from(usage.output_tokens));
    }
}
