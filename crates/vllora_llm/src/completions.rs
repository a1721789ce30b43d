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
    /// Headers of the calls made through this value, after the client's.
    extra_headers: Vec<(String, String)>,
    /// Per-call timeouts, strictness and consent to repeat, over the client's.
    call: CallOptions,
}

impl fmt::Debug for CompletionsClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("CompletionsClient").finish_non_exhaustive()
    }
}

impl CompletionsClient {
    pub(crate) fn new(settings: Arc<Settings>) -> Self {
        CompletionsClient { settings, extra_headers: Vec::new(), call: CallOptions::default() }
    }

    /// Options for the calls made through this value, over the client's: their first-byte, idle and
    /// total timeouts replace the transport's, `safe_to_repeat` lets a failure that may have produced an
    /// answer be sent again, `strict` and headers add to the client's.
    ///
    /// ```no_run
    /// # async fn run(client: vllora_llm::client::VlloraLLMClient, request: vllora_llm::types::gateway::ChatCompletionRequest) {
    /// use std::time::Duration;
    /// use vllora_llm::client::CallOptions;
    ///
    /// let quick = CallOptions::default().with_total_timeout(Duration::from_secs(30));
    /// let answer = client.completions().with_call_options(quick).create(request).await;
    /// # }
    /// ```
    pub fn with_call_options(mut self, options: CallOptions) -> Self {
        self.call = options;
        self
    }

    /// Adds a header to the requests of the calls made through this value
    /// (`client.completions().with_header("x-trace-id", id).create(request)`), after the client's own
    /// headers, replacing one of the same name.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.push((name.into(), value.into()));
        self
    }

    /// What the client is configured with (the tool loop reads its tools and content recording).
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    fn options(&self) -> CallOptions {
        let mut options = self.settings.call_options();
        options.extra_headers.extend(self.extra_headers.iter().cloned());
        let call = &self.call;
        options.strict |= call.strict;
        options.extra_headers.extend(call.extra_headers.iter().cloned());
        options.first_byte_timeout = call.first_byte_timeout.or(options.first_byte_timeout);
        options.idle_timeout = call.idle_timeout.or(options.idle_timeout);
        options.total_timeout = call.total_timeout.or(options.total_timeout);
        options.safe_to_repeat |= call.safe_to_repeat;
        options
    }

    /// Sends a one-shot completion request.
    pub async fn create(
        &self,
        request: impl Into<ChatCompletionRequest>,
    ) -> LLMResult<ChatCompletionMessageWithFinishReason> {
        self.create_ref(&request.into()).await
    }

    /// Sends a one-shot completion request the caller keeps: nothing is cloned, so a gateway that holds
    /// its conversation sends it as it is.
    pub async fn create_ref(
        &self,
        request: &ChatCompletionRequest,
    ) -> LLMResult<ChatCompletionMessageWithFinishReason> {
        let resolved = self.settings.instance(&request.model).await?;
        let instance = resolved.get();
        let record_content = self.settings.record_content;
        let mut call = telemetry::chat_call(instance.provider_name(), request, false, record_content);
        let options = self.options();
        let result = call.run(instance.complete(request, &options)).await;
        telemetry::record_result(&mut call, &result, record_content);
        result
    }

    /// Sends a streaming completion request. The stream is read as you pull it; dropping it cancels the
    /// request.
    ///
    /// The returned future is a pointer: the request and the whole opening (routing, the provider's
    /// call, retries and timeouts) live in one allocation, freed once the stream is returned, so a task
    /// that opens a stream and keeps it is not as large as the opening's largest state.
    pub fn create_stream(
        &self,
        request: impl Into<ChatCompletionRequest>,
    ) -> impl Future<Output = LLMResult<ResultStream>> + '_ {
        let request = request.into();
        Box::pin(async move { self.open_stream(&request).await })
    }

    /// Sends a streaming completion request the caller keeps: nothing is cloned, and the stream, once
    /// returned, holds nothing of the request. The returned future is a pointer, as
    /// [`create_stream`](Self::create_stream)'s is.
    pub fn create_stream_ref<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
    ) -> impl Future<Output = LLMResult<ResultStream>> + 'a {
        Box::pin(self.open_stream(request))
    }

    async fn open_stream(&self, request: &ChatCompletionRequest) -> LLMResult<ResultStream> {
        let resolved = self.settings.instance(&request.model).await?;
        let instance = resolved.get();
        let record_content = self.settings.record_content;
        let mut call = telemetry::chat_call(instance.provider_name(), request, true, record_content);
        let options = self.options();
        let result = call.run(instance.stream(request, &options)).await;
        match result {
            Ok(stream) => Ok(telemetry::instrument_stream(stream, call, record_content)),
            Err(error) => {
                call.fail(&error);
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::mem::{size_of, size_of_val};

    use vllora_llm_core::types::gateway::ChatCompletionRequest;

    use crate::client::VlloraLLMClient;

    /// A task that opens a stream and keeps it is as large as the largest state of what it awaits: the
    /// opening must be one pointer, not the routing, the provider's call and the request by value.
    #[test]
    fn a_stream_being_opened_is_a_pointer() {
        let client = VlloraLLMClient::new();
        let completions = client.completions();
        let request = ChatCompletionRequest::default();
        assert_eq!(size_of_val(&completions.create_stream_ref(&request)), size_of::<usize>());
        assert_eq!(size_of_val(&completions.create_stream(request.clone())), size_of::<usize>());
    }
}
