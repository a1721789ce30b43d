//! [`ModelInstance`], the trait every provider implements, and [`DummyModelInstance`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;

use crate::error::{LLMError, LLMResult};
use crate::stream::ResultStream;
use crate::types::gateway::{
    CHUNK_OBJECT, SharedStr, ChatCompletionChunk, ChatCompletionDelta, ChatCompletionMessage,
    ChatCompletionMessageWithFinishReason, ChatCompletionRequest, ChatCompletionResponse, Choice,
    ChunkChoice, EmbeddingRequest, EmbeddingResponse, FinishReason, ImageGenerationRequest, ImagesResponse,
    Role, Usage,
};

/// A boxed, sendable future: what the object-safe [`ModelInstance`] methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Per-call options that are not part of the OpenAI request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOptions {
    /// Fail with [`crate::LLMError::Unsupported`] instead of warning when the provider cannot honour a
    /// parameter. The error comes before anything is sent.
    pub strict: bool,
    /// Headers added to this call's HTTP request (after the client's and the provider's own, replacing
    /// a header of the same name). Values are not logged; put no secret here that the provider does not
    /// need.
    pub extra_headers: Vec<(String, String)>,
    /// This call's first-byte timeout (until the response headers), replacing the client's.
    /// `Duration::MAX` means no limit.
    pub first_byte_timeout: Option<Duration>,
    /// This call's idle timeout (the longest gap between two pieces of the body), replacing the
    /// client's.
    pub idle_timeout: Option<Duration>,
    /// This call's total timeout (every attempt, the waits between them and the whole body, to the end
    /// of a stream), replacing the client's one-shot or stream total.
    pub total_timeout: Option<Duration>,
    /// The caller accepts that the request is sent again after a failure that may have produced (and
    /// billed) an answer: a connection broken after sending, a first-byte timeout, a one-shot body cut
    /// off. Off by default: such failures are returned, never repeated. Failures that cannot have
    /// generated anything (a failed connect, 408/409/429/5xx/529 statuses) are retried either way. A
    /// stream is never repeated once its body has begun.
    pub safe_to_repeat: bool,
}

impl CallOptions {
    /// Options with strict mode on or off.
    pub fn strict(strict: bool) -> Self {
        CallOptions { strict, ..Default::default() }
    }

    /// Adds a header to this call's HTTP request (`OpenAI-Beta`, `HTTP-Referer`, a tracing header...).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.push((name.into(), value.into()));
        self
    }

    /// Replaces the client's first-byte timeout for this call.
    pub fn with_first_byte_timeout(mut self, after: Duration) -> Self {
        self.first_byte_timeout = Some(after);
        self
    }

    /// Replaces the client's idle timeout for this call.
    pub fn with_idle_timeout(mut self, after: Duration) -> Self {
        self.idle_timeout = Some(after);
        self
    }

    /// Replaces the client's total timeout (one-shot or stream) for this call.
    pub fn with_total_timeout(mut self, after: Duration) -> Self {
        self.total_timeout = Some(after);
        self
    }

    /// Allows (or forbids) sending the request again after a failure that may have produced an answer;
    /// see [`safe_to_repeat`](Self::safe_to_repeat).
    pub fn with_safe_to_repeat(mut self, safe_to_repeat: bool) -> Self {
        self.safe_to_repeat = safe_to_repeat;
        self
    }
}

/// A model behind some provider. Object-safe: `Arc<Box<dyn ModelInstance>>` works.
///
/// The request comes with each call, so one instance serves any number of requests concurrently.
pub trait ModelInstance: Send + Sync {
    /// A one-shot completion.
    fn complete<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
        options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<ChatCompletionMessageWithFinishReason>>;

    /// A streaming completion. The returned stream owns everything it needs; dropping it cancels the
    /// request.
    fn stream<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
        options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<ResultStream>>;

    /// The provider's name for telemetry (`gen_ai.provider.name`): `openai`, `anthropic`, `gcp.gemini`,
    /// `aws.bedrock`, or anything a custom instance likes.
    fn provider_name(&self) -> &str {
        "custom"
    }

    /// Embeddings of the request's inputs. Providers without an embeddings API keep this default, an
    /// [`LLMError::InvalidRequest`] naming the provider.
    fn embed<'a>(
        &'a self,
        request: &'a EmbeddingRequest,
        options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<EmbeddingResponse>> {
        let _ = (request, options);
        Box::pin(std::future::ready(Err(not_offered(self.provider_name(), "embeddings"))))
    }

    /// Images generated from the request's prompt. Providers without an image API keep this default, an
    /// [`LLMError::InvalidRequest`] naming the provider.
    fn generate_images<'a>(
        &'a self,
        request: &'a ImageGenerationRequest,
        options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<ImagesResponse>> {
        let _ = (request, options);
        Box::pin(std::future::ready(Err(not_offered(self.provider_name(), "image generation"))))
    }
}

fn not_offered(provider: &str, api: &str) -> LLMError {
    LLMError::InvalidRequest(format!("provider `{provider}` offers no {api}"))
}

/// A model that answers deterministically without any network, for examples and tests.
///
/// It echoes the last user message, streams the reply in several chunks with the finish reason on the
/// last choice chunk, and reports usage counted in words.
#[derive(Debug, Clone, Copy, Default)]
pub struct DummyModelInstance {}

const DUMMY_ID: &str = "chatcmpl-dummy";

impl DummyModelInstance {
    fn reply(request: &ChatCompletionRequest) -> String {
        let last_user_text = request
            .messages
            .iter()
            .rev()
            .find(|message| message.role == Role::User)
            .and_then(|message| message.content.as_ref())
            .and_then(|content| content.as_string())
            .unwrap_or_default();
        format!("Hello from DummyModelInstance! You said: {last_user_text}")
    }

    fn usage(request: &ChatCompletionRequest, reply: &str) -> Usage {
        let prompt_words: usize = request
            .messages
            .iter()
            .filter_map(|message| message.content.as_ref().and_then(|content| content.as_string()))
            .map(|text| text.split_whitespace().count())
            .sum();
        let count = |words: usize| u32::try_from(words).unwrap_or(u32::MAX);
        Usage::new(count(prompt_words), count(reply.split_whitespace().count()))
    }

    fn chunk(
        id: &SharedStr,
        model: &SharedStr,
        choices: Vec<ChunkChoice>,
        usage: Option<Usage>,
    ) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: id.clone(),
            object: CHUNK_OBJECT.into(),
            created: 0,
            model: model.clone(),
            choices,
            usage,
            ..Default::default()
        }
    }
}

impl ModelInstance for DummyModelInstance {
    fn complete<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
        _options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<ChatCompletionMessageWithFinishReason>> {
        let reply = Self::reply(request);
        let usage = Self::usage(request, &reply);
        let response = ChatCompletionResponse {
            id: DUMMY_ID.to_owned(),
            object: "chat.completion".to_owned(),
            created: 0,
            model: request.model.clone(),
            choices: vec![Choice {
                index: 0,
                message: ChatCompletionMessage::new_text(Role::Assistant, reply),
                finish_reason: Some(FinishReason::Stop),
                logprobs: None,
            }],
            usage: Some(usage),
            ..Default::default()
        };
        Box::pin(std::future::ready(Ok(ChatCompletionMessageWithFinishReason::new(response))))
    }

    fn stream<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
        _options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<ResultStream>> {
        let reply = Self::reply(request);
        let usage = Self::usage(request, &reply);
        let words: Vec<&str> = reply.split_inclusive(' ').collect();
        let id: SharedStr = DUMMY_ID.into();
        let model: SharedStr = request.model.as_str().into();
        let last = words.len().saturating_sub(1);
        let mut chunks: Vec<ChatCompletionChunk> = words
            .iter()
            .enumerate()
            .map(|(position, word)| {
                let delta = ChatCompletionDelta {
                    role: (position == 0).then_some(Role::Assistant),
                    content: Some((*word).to_owned()),
                    ..Default::default()
                };
                let finish_reason = (position == last).then_some(FinishReason::Stop);
                let choice =
                    ChunkChoice { index: 0, delta, finish_reason, logprobs: None, raw_finish_reason: None };
                Self::chunk(&id, &model, vec![choice], None)
            })
            .collect();
        chunks.push(Self::chunk(&id, &model, Vec::new(), Some(usage)));
        Box::pin(std::future::ready(Ok(ResultStream::new(ReadyChunks(chunks.into_iter())))))
    }

    fn provider_name(&self) -> &str {
        "dummy"
    }
}

/// A stream over chunks that are all ready.
struct ReadyChunks(std::vec::IntoIter<ChatCompletionChunk>);

impl Stream for ReadyChunks {
    type Item = LLMResult<ChatCompletionChunk>;

    fn poll_next(mut self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(self.0.next().map(Ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ChatCompletionRequest {
        ChatCompletionRequest {
            model: "gpt-4.1-mini".into(),
            messages: vec![
                ChatCompletionMessage::new_text("system", "Be brief."),
                ChatCompletionMessage::new_text("user", "Say hello"),
            ],
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn embeddings_and_images_are_refused_by_default_naming_the_provider() {
        let model = DummyModelInstance {};
        let options = CallOptions::default();
        let embedding = model.embed(&EmbeddingRequest::new("m", "text"), &options).await;
        assert!(
            matches!(&embedding, Err(LLMError::InvalidRequest(message)) if message == "provider `dummy` offers no embeddings"),
            "{embedding:?}"
        );
        let images = model.generate_images(&ImageGenerationRequest::new("m", "a cat"), &options).await;
        assert!(
            matches!(&images, Err(LLMError::InvalidRequest(message)) if message == "provider `dummy` offers no image generation"),
            "{images:?}"
        );
        // Still object-safe.
        let boxed: Box<dyn ModelInstance> = Box::new(model);
        assert!(boxed.embed(&EmbeddingRequest::new("m", "text"), &options).await.is_err());
    }

    #[tokio::test]
    async fn dummy_answers_deterministically() {
        let request = request();
        let options = CallOptions::default();
        let first = DummyModelInstance {}.complete(&request, &options).await;
        let second = DummyModelInstance {}.complete(&request, &options).await;
        let first = first.unwrap_or_default();
        assert_eq!(Some(first.clone()), second.ok());
        assert_eq!(
            first.message().content.as_ref().and_then(|content| content.as_string()).as_deref(),
            Some("Hello from DummyModelInstance! You said: Say hello")
        );
        assert_eq!(first.finish_reason(), Some(&FinishReason::Stop));
        assert_eq!(first.usage().map(|usage| (usage.prompt_tokens, usage.completion_tokens)), Some((4, 7)));
    }

    #[tokio::test]
    async fn dummy_streams_several_chunks_with_one_finish_reason_and_final_usage() {
        let request = request();
        let options = CallOptions::default();
        let stream = DummyModelInstance {}.stream(&request, &options).await;
        let Ok(mut stream) = stream else { panic!("the dummy stream cannot fail") };
        let mut chunks = Vec::new();
        while let Some(chunk) = stream.next().await {
            chunks.push(chunk.unwrap_or_default());
        }
        assert!(chunks.len() > 3);
        let text: String = chunks
            .iter()
            .flat_map(|chunk| chunk.choices.iter())
            .filter_map(|choice| choice.delta.content.as_deref())
            .collect();
        assert_eq!(text, "Hello from DummyModelInstance! You said: Say hello");
        let finishes: Vec<usize> = chunks
            .iter()
            .enumerate()
            .filter(|(_, chunk)| chunk.choices.iter().any(|choice| choice.finish_reason.is_some()))
            .map(|(position, _)| position)
            .collect();
        assert_eq!(finishes, vec![chunks.len() - 2], "finish reason only on the last choice chunk");
        let last = chunks.last().cloned().unwrap_or_default();
        assert!(last.choices.is_empty());
        assert_eq!(last.usage.map(|usage| usage.total_tokens), Some(11));
    }
}
