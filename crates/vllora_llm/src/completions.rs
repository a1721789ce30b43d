//! [`CompletionsClient`]: chat completions, one-shot and streamed, each call in a `chat {model}` span.

use std::fmt;
use std::sync::Arc;

use vllora_llm_core::types::gateway::{ChatCompletionMessageWithFinishReason, ChatCompletionRequest};
use vllora_llm_core::{CallOptions, LLMResult, ResultStream};

use crate::settings::Settings;
use crate::telemetry;

/// Chat completions, one-shot and streamed: `client.completions().create(request)`.
#[derive(Clone)]
pub struct CompletionsClient {
    settings: Arc<Settings>,
}

impl fmt::Debug for CompletionsClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("CompletionsClient").finish_non_exhaustive()
    }
}

impl CompletionsClient {
    pub(crate) fn new(settings: Arc<Settings>) -> Self {
        CompletionsClient { settings }
    }

    fn options(&self) -> CallOptions {
        CallOptions::strict(self.settings.strict)
    }

    /// Sends a one-shot completion request.
    pub async fn create(
        &self,
        request: impl Into<ChatCompletionRequest>,
    ) -> LLMResult<ChatCompletionMessageWithFinishReason> {
        let request = request.into();
        let resolved = self.settings.instance(&request.model).await?;
        let instance = resolved.get();
        let record_content = self.settings.record_content;
        let span = telemetry::chat_span(instance.provider_name(), &request, false, record_content);
        let options = self.options();
        let result =
            tracing::Instrument::instrument(instance.complete(&request, &options), span.clone()).await;
        telemetry::record_result(&span, &result, record_content);
        result
    }

    /// Sends a streaming completion request. The stream is read as you pull it; dropping it cancels the
    /// request.
    pub async fn create_stream(&self, request: impl Into<ChatCompletionRequest>) -> LLMResult<ResultStream> {
        let request = request.into();
        let resolved = self.settings.instance(&request.model).await?;
        let instance = resolved.get();
        let record_content = self.settings.record_content;
        let span = telemetry::chat_span(instance.provider_name(), &request, true, record_content);
        let options = self.options();
        let result = tracing::Instrument::instrument(instance.stream(&request, &options), span.clone()).await;
        match result {
            Ok(stream) => Ok(telemetry::instrument_stream(stream, span, record_content)),
            Err(error) => {
                telemetry::record_error(&span, &error);
                Err(error)
            }
        }
    }
}
