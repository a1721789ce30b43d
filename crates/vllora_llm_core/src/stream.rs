//! [`ResultStream`], the stream of chunks a streaming completion returns.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::error::LLMResult;
use crate::metadata::ResponseMetadata;
use crate::types::gateway::ChatCompletionChunk;
use crate::warning::Warning;

type BoxedChunkStream = Pin<Box<dyn Stream<Item = LLMResult<ChatCompletionChunk>> + Send>>;

/// The chunks of a streaming completion, pulled by the consumer.
///
/// Nothing runs in the background: the upstream response is read only while the stream is polled, and
/// dropping the stream cancels the request and frees its connection. Call [`ResultStream::next`] without
/// importing any trait, or use it as a [`futures_core::Stream`].
pub struct ResultStream {
    inner: BoxedChunkStream,
    warnings: Vec<Warning>,
    metadata: Option<ResponseMetadata>,
}

impl ResultStream {
    /// Wraps a stream of chunks.
    pub fn new(stream: impl Stream<Item = LLMResult<ChatCompletionChunk>> + Send + 'static) -> Self {
        ResultStream { inner: Box::pin(stream), warnings: Vec::new(), metadata: None }
    }

    /// Attaches the warnings produced while translating the request.
    pub fn with_warnings(mut self, warnings: Vec<Warning>) -> Self {
        self.warnings = warnings;
        self
    }

    /// Attaches what the HTTP response said besides its body (status, request id, rate limits).
    pub fn with_metadata(mut self, mut metadata: Option<ResponseMetadata>) -> Self {
        // Kept for as long as the stream is open: without the room reserved for more headers.
        if let Some(metadata) = &mut metadata {
            metadata.shrink_to_fit();
        }
        self.metadata = metadata;
        self
    }

    /// The HTTP status, the provider's request id and rate limits of the response the stream reads,
    /// known before the first chunk; `None` for a stream no HTTP call made.
    pub fn metadata(&self) -> Option<&ResponseMetadata> {
        self.metadata.as_ref()
    }

    /// The next chunk, or `None` at the end of the stream.
    // What `async fn` gives, without the state machine it wraps around the poll (a few instructions
    // per chunk). Clippy takes it for `Iterator::next`, as it did not for the `async fn`.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> impl Future<Output = Option<LLMResult<ChatCompletionChunk>>> + '_ {
        std::future::poll_fn(move |context| self.inner.as_mut().poll_next(context))
    }

    /// Parameters the provider could not honour.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }
}

impl Stream for ResultStream {
    type Item = LLMResult<ChatCompletionChunk>;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(context)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl fmt::Debug for ResultStream {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ResultStream")
            .field("warnings", &self.warnings)
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}
