//! The AWS Bedrock provider of `vllora_llm`: Converse and ConverseStream over our own HTTP transport,
//! signed with SigV4 (through `aws-sigv4`) or authenticated with a Bedrock API key. No AWS SDK.
//!
//! ```no_run
//! use vllora_llm_bedrock::{BedrockConfig, BedrockModel};
//! use vllora_llm_core::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};
//! use vllora_llm_core::{CallOptions, ModelInstance};
//! use vllora_llm_http::{HttpClient, HttpConfig};
//!
//! # async fn run() -> vllora_llm_core::LLMResult<()> {
//! let model = BedrockModel::new(BedrockConfig::from_env()?, HttpClient::new(HttpConfig::default())?);
//! let request = ChatCompletionRequest {
//!     model: "us.anthropic.claude-sonnet-4-20250514-v1:0".into(),
//!     messages: vec![ChatCompletionMessage::new_text("user", "Hello")],
//!     ..Default::default()
//! };
//! let answer = model.complete(&request, &CallOptions::default()).await?;
//! println!("{:?}", answer.message().content);
//! # Ok(())
//! # }
//! ```
//!
//! Requests map to `POST /model/{modelId}/converse` and `/converse-stream`; the model id (a model id, an
//! inference-profile id or an ARN) is one percent-encoded path segment. `provider_specific`
//! `additional_parameters` go to `additionalModelRequestFields`, `top_k` and `thinking` too (in the
//! model's own spelling); `cache_control` becomes `cachePoint` blocks. Stream responses are AWS
//! event-stream frames, checked with both CRCs and decoded as they arrive by the shared stream driver
//! (`vllora_llm_http::ChunkStream`).
//!
//! Configuration ([`BedrockConfig::from_environment`]) is read once, through a
//! [`vllora_llm_core::Environment`]: variables and the shared AWS files, each file at most once, and
//! kept for every call.
//!
//! Credentials are found as AWS's SDKs find them, without the AWS SDK: a Bedrock API key; the
//! environment's keys; the profile's keys, role (`role_arn` with `source_profile` or
//! `credential_source`, through STS AssumeRole), web identity or `credential_process`; web identity
//! from `AWS_WEB_IDENTITY_TOKEN_FILE` (EKS, STS AssumeRoleWithWebIdentity); ECS and EKS Pod Identity
//! container credentials; EC2 instance metadata (IMDSv2). Keys fetched at call time are cached and
//! fetched again five minutes before they expire, by one call while the others wait
//! ([`vllora_llm_http::CachedCredential`]). A source that fails is a
//! [`LLMError::MissingCredentials`](vllora_llm_core::LLMError::MissingCredentials) naming it and
//! why; the page `docs/providers/aws-credentials.md` has every variable.

mod config;
mod credentials;
mod endpoint;
mod error;
mod event_stream;
#[cfg(any(test, feature = "fuzzing"))]
mod fuzzing;
#[cfg(feature = "anthropic")]
mod invoke;
mod model;
mod profile;
mod request;
mod response;
mod sign;
mod stream;
mod wire;

pub use config::BedrockConfig;
pub use model::BedrockModel;
/// The body of the event-stream fuzz target; not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use fuzzing::decode_event_stream;

use vllora_llm_core::ProviderId;

/// The provider's identity, as errors, telemetry spans and routing name it.
pub const PROVIDER: ProviderId = ProviderId::BEDROCK;

/// The provider's name (`PROVIDER.as_str()`): its telemetry name (`gen_ai.provider.name`) and the one its
/// errors carry.
pub const PROVIDER_NAME: &str = "aws.bedrock";
