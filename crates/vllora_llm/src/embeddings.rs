//! [`EmbeddingsClient`]: embeddings, routed like chat, each call in an `embeddings {model}` span with
//! the OpenTelemetry GenAI fields that apply.

use std::fmt;
use std::sync::Arc;

use tracing::Span;
use tracing::field::Empty;
use vllora_llm_core::types::gateway::{EmbeddingRequest, EmbeddingResponse, EncodingFormat};
use vllora_llm_core::{CallOptions, LLMResult};

use crate::settings::Settings;
use crate::telemetry;

/// Embeddings: `client.embeddings().create(request)`.
#[derive(Clone)]
pub struct EmbeddingsClient {
    settings: Arc<Settings>,
}

impl fmt::Debug for EmbeddingsClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("EmbeddingsClient").finish_non_exhaustive()
    }
}

impl EmbeddingsClient {
    pub(crate) fn new(settings: Arc<Settings>) -> Self {
        EmbeddingsClient { settings }
    }

    /// Embeds the request's inputs.
    pub async fn create(&self, request: impl Into<EmbeddingRequest>) -> LLMResult<EmbeddingResponse> {
        let request = request.into();
        let resolved = self.settings.instance(&request.model).await?;
        let instance = resolved.get();
        let span = embeddings_span(instance.provider_name(), &request);
        let mut call = telemetry::Call::start(span, "embeddings", instance.provider_name(), &request.model);
        let options = CallOptions::strict(self.settings.strict);
        let result = call.run(instance.embed(&request, &options)).await;
        match &result {
            Ok(response) => {
                record_embeddings(call.span(), response);
                call.record_response_model(&response.model);
                call.end_with(Some(u64::from(response.usage.prompt_tokens)), None, None);
            }
            Err(error) => call.fail(error),
        }
        result
    }
}

/// The span of one embeddings call (operation `embeddings`).
fn embeddings_span(provider: &str, request: &EmbeddingRequest) -> Span {
    let encoding = request.encoding_format.map(|format| match format {
        EncodingFormat::Float => r#"["float"]"#,
        EncodingFormat::Base64 => r#"["base64"]"#,
    });
    tracing::info_span!(
        "embeddings",
        otel.name = %format_args!("embeddings {}", request.model),
        otel.kind = "client",
        otel.status_code = Empty,
        gen_ai.operation.name = "embeddings",
        gen_ai.provider.name = provider,
        gen_ai.request.model = %request.model,
        gen_ai.request.encoding_formats = encoding,
        server.address = Empty,
        server.port = Empty,
        gen_ai.response.model = Empty,
        gen_ai.embeddings.dimension.count = Empty,
        gen_ai.usage.input_tokens = Empty,
        error.type = Empty,
    )
}

fn record_embeddings(span: &Span, response: &EmbeddingResponse) {
    span.record("gen_ai.response.model", response.model.as_str());
    span.record("gen_ai.usage.input_tokens", i64::from(response.usage.prompt_tokens));
    let dimensions =
        response.data.first().and_then(|item| item.embedding.to_floats()).map(|floats| floats.len());
    if let Some(dimensions) = dimensions {
        span.record("gen_ai.embeddings.dimension.count", i64::try_from(dimensions).unwrap_or(i64::MAX));
    }
}
