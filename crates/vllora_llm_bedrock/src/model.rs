//! [`BedrockModel`]: Converse and ConverseStream calls, orchestrated from the pure translation modules:
//! build the body (`request`), the HTTP request (`endpoint`), send it, then parse the answer (`response`)
//! or hand the body to the shared stream driver with the event-stream decoder (`stream`).

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use vllora_llm_core::types::gateway::{ChatCompletionMessageWithFinishReason, ChatCompletionRequest};
use vllora_llm_core::{
    BoxFuture, CallOptions, LLMError, LLMResult, ModelInstance, ResultStream, Warning, Warnings,
};
use vllora_llm_core::ProcessEnvironment;
use vllora_llm_http::{Bytes, CachedCredential, ChunkStream, HeaderMap, HttpClient, HttpRequest};

use crate::PROVIDER_NAME;
use crate::config::{BedrockAuth, BedrockConfig};
use crate::credentials::{ChainSource, FetchContext, metadata_http};
use crate::sign::SigningCredentials;
use crate::endpoint::converse_request;
use crate::error::map_error;
use crate::event_stream::FrameDecoder;
use crate::request::{build, to_json_bytes};
use crate::response::{ResponseContext, parse_response};
use crate::stream::BedrockStreamDecoder;

const EVENT_STREAM: &str = "application/vnd.amazon.eventstream";

/// A Bedrock model reached through Converse (one-shot) and ConverseStream (streaming). Cheap to clone;
/// built once per client (its configuration, credentials included, is resolved when it is built).
#[derive(Debug, Clone)]
pub struct BedrockModel {
    config: Arc<BedrockConfig>,
    http: HttpClient,
    model: Option<String>,
    /// The keys of the credential chain (roles, web identity, container, instance metadata, process),
    /// cached and refreshed before they expire; shared by clones.
    chain: Option<Arc<CachedCredential<SigningCredentials>>>,
}

/// A request ready to send, with what the response needs.
struct Prepared {
    request: HttpRequest,
    warnings: Vec<Warning>,
    model_id: String,
    /// Sent through InvokeModel with the Anthropic Messages body (else Converse).
    invoke: bool,
}

impl BedrockModel {
    /// A model sending through `http` with `config`.
    pub fn new(config: BedrockConfig, http: HttpClient) -> Self {
        let chain = match &config.auth {
            BedrockAuth::Chain(plan) => {
                let config_clock = config.clock();
                let context = FetchContext {
                    metadata_http: metadata_http(&http),
                    http: http.clone(),
                    env: config.environment.clone().unwrap_or_else(|| Arc::new(ProcessEnvironment)),
                    sts_endpoint: config.sts_endpoint(),
                    region: config.region().to_owned(),
                    clock: config_clock.clone(),
                };
                let source = Arc::new(ChainSource { plan: Arc::clone(plan), context });
                Some(Arc::new(CachedCredential::new(source).with_clock(config_clock)))
            }
            _ => None,
        };
        BedrockModel { config: Arc::new(config), http, model: None, chain }
    }

    /// Uses this model id (a model id, an inference-profile id or an ARN) instead of `request.model`.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The model id to call: the configured one, else the request's without a `bedrock/` prefix.
    fn model_id(&self, request: &ChatCompletionRequest) -> LLMResult<String> {
        let model = self.model.as_deref().unwrap_or(&request.model);
        let model = model.strip_prefix("bedrock/").unwrap_or(model).trim();
        if model.is_empty() {
            return Err(LLMError::InvalidRequest("no Bedrock model id given".to_owned()));
        }
        Ok(model.to_owned())
    }

    /// Translates and signs; every warning (or the strict-mode error) comes before anything is sent.
    async fn prepare(
        &self,
        request: &ChatCompletionRequest,
        options: &CallOptions,
        stream: bool,
    ) -> LLMResult<Prepared> {
        let model_id = self.model_id(request)?;
        let invoke = self.config.uses_invoke(&model_id);
        let (operation, accept) = match (invoke, stream) {
            (false, false) => ("converse", "application/json"),
            (false, true) => ("converse-stream", EVENT_STREAM),
            (true, false) => ("invoke", "application/json"),
            (true, true) => ("invoke-with-response-stream", EVENT_STREAM),
        };
        let (bytes, warnings) = if invoke {
            invoke_translation(request, &model_id, stream, options)?
        } else {
            let mut warnings = Warnings::new(PROVIDER_NAME);
            let body = build(request, &model_id, &mut warnings)?;
            let warnings = warnings.finish(options.strict)?;
            (Bytes::from(to_json_bytes(&body)?), warnings)
        };
        // Extra headers go on after signing: AWS accepts unsigned headers beside the signed ones.
        let keys = match &self.chain {
            Some(chain) => Some(chain.get().await?),
            None => None,
        };
        let request = converse_request(&self.config, keys.as_ref(), &model_id, operation, accept, bytes)?
            .with_extra_headers(&options.extra_headers)?;
        Ok(Prepared { request, warnings, model_id, invoke })
    }

    /// Keys AWS refuses (expired, unknown or revoked before their stated expiry) are fetched again next
    /// call.
    fn refused(&self, error: &LLMError) {
        if let Some(chain) = &self.chain {
            let refused = error.api_error().and_then(|api| api.error_type.as_deref()).is_some_and(|kind| {
                matches!(
                    kind,
                    "ExpiredTokenException" | "UnrecognizedClientException" | "InvalidSignatureException"
                )
            });
            // Only errors about the keys themselves: a 403 for a model without access must not cost
            // an STS or metadata round trip on every call.
            if refused {
                chain.invalidate();
            }
        }
    }

    fn context(&self, headers: &HeaderMap, model_id: String) -> ResponseContext {
        let id = headers
            .get("x-amzn-requestid")
            .and_then(|value| value.to_str().ok())
            .map_or_else(String::new, str::to_owned);
        let created = self.config.now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs());
        ResponseContext { id, model: model_id, created }
    }
}

/// The InvokeModel body (the Anthropic Messages translator) and its warnings.
#[cfg(feature = "anthropic")]
fn invoke_translation(
    request: &ChatCompletionRequest,
    model_id: &str,
    stream: bool,
    options: &CallOptions,
) -> LLMResult<(Bytes, Vec<Warning>)> {
    let (bytes, warnings) = crate::invoke::invoke_body(request, model_id, stream, options)?;
    Ok((Bytes::from(bytes), warnings))
}

#[cfg(not(feature = "anthropic"))]
fn invoke_translation(
    _request: &ChatCompletionRequest,
    model_id: &str,
    _stream: bool,
    _options: &CallOptions,
) -> LLMResult<(Bytes, Vec<Warning>)> {
    Err(invoke_not_compiled(model_id))
}

#[cfg(not(feature = "anthropic"))]
fn invoke_not_compiled(model_id: &str) -> LLMError {
    LLMError::Config(format!(
        "model `{model_id}` is set to go through InvokeModel, which needs the Anthropic translator: enable \
         the `anthropic` feature of vllora_llm_bedrock (in vllora_llm: the `bedrock` and `anthropic` features)"
    ))
}

#[cfg(feature = "anthropic")]
fn invoke_response(body: &[u8], warnings: Vec<Warning>) -> LLMResult<ChatCompletionMessageWithFinishReason> {
    crate::invoke::parse_invoke_response(body, warnings)
}

#[cfg(not(feature = "anthropic"))]
fn invoke_response(
    _body: &[u8],
    _warnings: Vec<Warning>,
) -> LLMResult<ChatCompletionMessageWithFinishReason> {
    Err(invoke_not_compiled("this model"))
}

#[cfg(feature = "anthropic")]
fn invoke_stream(body: vllora_llm_http::BodyStream, framing: FrameDecoder) -> LLMResult<ResultStream> {
    Ok(ResultStream::new(ChunkStream::new(body, framing, crate::invoke::InvokeStreamDecoder::default())))
}

#[cfg(not(feature = "anthropic"))]
fn invoke_stream(_body: vllora_llm_http::BodyStream, _framing: FrameDecoder) -> LLMResult<ResultStream> {
    Err(invoke_not_compiled("this model"))
}

impl ModelInstance for BedrockModel {
    fn complete<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
        options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<ChatCompletionMessageWithFinishReason>> {
        Box::pin(async move {
            let prepared = self.prepare(request, options, false).await?;
            let reply = self
                .http
                .for_call(options)
                .send(prepared.request, &map_error)
                .await
                .inspect_err(|error| self.refused(error))?;
            let context = self.context(&reply.headers, prepared.model_id);
            let mut result = if prepared.invoke {
                invoke_response(&reply.body, prepared.warnings)?
            } else {
                let mut result = parse_response(&reply.body, &context)?;
                result.warnings = prepared.warnings;
                result
            };
            result.response_metadata = Some(reply.metadata());
            Ok(result)
        })
    }

    fn stream<'a>(
        &'a self,
        request: &'a ChatCompletionRequest,
        options: &'a CallOptions,
    ) -> BoxFuture<'a, LLMResult<ResultStream>> {
        Box::pin(async move {
            let prepared = self.prepare(request, options, true).await?;
            let reply = self
                .http
                .for_call(options)
                .send_streaming(prepared.request, &map_error)
                .await
                .inspect_err(|error| self.refused(error))?;
            let metadata = Some(reply.metadata());
            let context = self.context(&reply.headers, prepared.model_id);
            let framing = FrameDecoder::new(self.http.config().limits.max_event_size);
            let stream = if prepared.invoke {
                invoke_stream(reply.body, framing)?
            } else {
                ResultStream::new(ChunkStream::new(reply.body, framing, BedrockStreamDecoder::new(context)))
            };
            Ok(stream.with_warnings(prepared.warnings).with_metadata(metadata))
        })
    }

    fn provider_name(&self) -> &str {
        PROVIDER_NAME
    }
}
