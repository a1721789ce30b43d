//! The gateway types: OpenAI Chat Completions JSON as Rust data.
//!
//! A request serialised from [`ChatCompletionRequest`] is a valid OpenAI request, and an OpenAI response
//! deserialises into [`ChatCompletionResponse`]. Fields that OpenAI does not define (`cache_control`,
//! `reasoning_content`, `reasoning_details`, `provider_content`, `provider_specific`) are extensions read by
//! the other providers; they are omitted from the JSON when unset. Unknown fields are tolerated on input.

mod chunk;
mod embeddings;
mod images;
mod message;
mod provider_content;
mod request;
mod response;
mod shared_str;
mod tools;
mod usage;

pub use chunk::{
    CHUNK_OBJECT, ChatCompletionChunk, ChatCompletionDelta, ChunkChoice, FunctionCallDelta, ToolCallDelta,
};
pub use embeddings::{
    Embedding, EmbeddingInput, EmbeddingRequest, EmbeddingResponse, EmbeddingUsage, EmbeddingVector,
    EncodingFormat,
};
pub use images::{
    Image, ImageBackground, ImageGenerationRequest, ImageModeration, ImageOutputFormat, ImageQuality,
    ImageResponseFormat, ImageStyle, ImageTokensDetails, ImageUsage, ImagesResponse,
};
pub use message::{
    Annotation, AssistantAudio, CacheControl, CacheControlType, CacheTtl, ChatCompletionContent,
    ChatCompletionMessage, ContentPart, FileInput, ImageDetail, ImageUrl, InputAudio, ReasoningDetail,
    ReasoningDetailType, Role, UrlCitation,
};
pub use provider_content::{
    BlockOrderRecorder, MessageBlock, OrderedBlocks, ProviderContent, ProviderContentKind,
};
pub use request::{
    AudioOutput, ChatCompletionRequest, JsonSchemaFormat, Prediction, ProviderSpecificRequest,
    ReasoningEffort, ResponseFormat, StreamOptions, ThinkingConfig, ThinkingType, Verbosity,
};
pub use response::{
    ChatCompletionMessageWithFinishReason, ChatCompletionResponse, Choice, ChoiceLogprobs, FinishReason,
    TokenLogprob, TopLogprob,
};
pub use tools::{
    AllowedTools, AllowedToolsMode, ChatCompletionTool, FunctionCall, FunctionDefinition, ToolCall,
    ToolChoice,
};
pub use shared_str::SharedStr;
pub use usage::{CompletionTokensDetails, PromptTokensDetails, ServerToolUsage, Usage};
