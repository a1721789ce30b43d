//! Explicit prompt caching: [`GeminiCacheClient`] over the `cachedContents` API.
//!
//! A cache holds a system instruction, the leading turns of a conversation and tools, for a time to live.
//! Requests then name it in `provider_specific.extra["cached_content"]` and send only what follows; the
//! cached tokens are billed at the cached rate and reported as `usage.prompt_tokens_details.cached_tokens`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use vllora_llm_core::types::gateway::{ChatCompletionMessage, ChatCompletionTool, ToolChoice};
use vllora_llm_core::{LLMError, LLMResult, Warning, Warnings};
use vllora_llm_http::{HttpClient, HttpRequest, Method};

use crate::config::GeminiConfig;
use crate::endpoint::{Api, Transport, model_resource};
use crate::request::{Generation, ToolFields, build_conversation};

/// What to cache. The messages are translated as a request's would be: system and developer messages
/// become the system instruction, the rest the cached turns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GeminiCacheRequest {
    /// The model the cache is for (`gemini-2.5-flash`); a cache serves only that model.
    pub model: String,
    /// The system instruction and leading turns to cache.
    pub messages: Vec<ChatCompletionMessage>,
    /// Tools to cache with them.
    pub tools: Option<Vec<ChatCompletionTool>>,
    /// The tool config to cache with them.
    pub tool_choice: Option<ToolChoice>,
    /// How long the cache lives (Gemini's default is one hour).
    pub ttl: Option<Duration>,
    /// A name for people, up to 128 characters.
    pub display_name: Option<String>,
}

/// Token counts of a cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiCacheUsage {
    /// Tokens the cache holds.
    #[serde(default)]
    pub total_token_count: Option<u32>,
}

/// A cache as Gemini describes it (its content is never returned).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiCachedContent {
    /// `cachedContents/{id}`: what requests put in `provider_specific.extra["cached_content"]`.
    #[serde(default)]
    pub name: String,
    /// The name for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `models/{model}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// When it was created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    /// When it was last changed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_time: Option<String>,
    /// When it expires (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_time: Option<String>,
    /// Its size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_metadata: Option<GeminiCacheUsage>,
    /// What could not be cached as given (creation only).
    #[serde(skip)]
    pub warnings: Vec<Warning>,
}

/// One page of caches.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GeminiCachedContentList {
    /// The caches on this page.
    #[serde(default)]
    pub cached_contents: Vec<GeminiCachedContent>,
    /// The token of the next page, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// The `cachedContents` API: create, list, get, update the lifetime of, and delete caches — on AI Studio,
/// or under the project on Vertex AI when built from a Vertex model
/// ([`GeminiModel::cache_client`](crate::GeminiModel::cache_client) or [`GeminiCacheClient::vertex`]).
#[derive(Debug, Clone)]
pub struct GeminiCacheClient {
    transport: Arc<Transport>,
    http: HttpClient,
}

impl GeminiCacheClient {
    /// A client over `http` for `config`.
    pub fn new(config: GeminiConfig, http: HttpClient) -> Self {
        Self::from_parts(Arc::new(Transport::AiStudio(config)), http)
    }

    /// A client for the caches of a Vertex AI project (`projects/{p}/locations/{l}/cachedContents`).
    #[cfg(feature = "vertex")]
    pub fn vertex(config: vllora_llm_vertex::VertexConfig, http: HttpClient) -> Self {
        Self::from_parts(Arc::new(Transport::Vertex(config)), http)
    }

    pub(crate) fn from_parts(transport: Arc<Transport>, http: HttpClient) -> Self {
        GeminiCacheClient { transport, http }
    }

    /// Creates a cache. Translation warnings are in the result's `warnings`.
    pub async fn create(&self, request: &GeminiCacheRequest) -> LLMResult<GeminiCachedContent> {
        let mut warnings = Warnings::new(self.transport.provider_name());
        let mut body = create_body(request, &mut warnings)?;
        let api = self.transport.resolve(&self.http).await?;
        if let Some(Value::String(model)) = body.get_mut("model") {
            *model = api.cache_model(std::mem::take(model))?;
        }
        let http_request = api.cache_create(json_bytes(&body)?)?;
        let mut created: GeminiCachedContent = self.call(&api, http_request).await?;
        created.warnings = warnings.finish(false)?;
        Ok(created)
    }

    /// One page of the caches of this API key's (or Vertex AI configuration's) project.
    pub async fn list(
        &self,
        page_size: Option<u32>,
        page_token: Option<&str>,
    ) -> LLMResult<GeminiCachedContentList> {
        let api = self.transport.resolve(&self.http).await?;
        let http_request = api.cache_list(page_size, page_token)?;
        self.call(&api, http_request).await
    }

    /// One cache, by name (`cachedContents/{id}`, the bare id, or on Vertex AI the full
    /// `projects/{p}/locations/{l}/cachedContents/{id}`).
    pub async fn get(&self, name: &str) -> LLMResult<GeminiCachedContent> {
        let api = self.transport.resolve(&self.http).await?;
        let http_request = api.cache_item(Method::GET, name, None)?;
        self.call(&api, http_request).await
    }

    /// Gives a cache a new lifetime, counted from now.
    pub async fn update_ttl(&self, name: &str, ttl: Duration) -> LLMResult<GeminiCachedContent> {
        let body = serde_json::json!({ "ttl": duration_text(ttl) });
        let api = self.transport.resolve(&self.http).await?;
        let http_request = api.cache_item(Method::PATCH, name, Some(json_bytes(&body)?))?;
        self.call(&api, http_request).await
    }

    /// Deletes a cache.
    pub async fn delete(&self, name: &str) -> LLMResult<()> {
        let api = self.transport.resolve(&self.http).await?;
        let http_request = api.cache_item(Method::DELETE, name, None)?;
        self.http.send(http_request, api.error_mapper()).await.map(|_| ())
    }

    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        api: &Api<'_>,
        http_request: HttpRequest,
    ) -> LLMResult<T> {
        let reply = self.http.send(http_request, api.error_mapper()).await?;
        serde_json::from_slice(&reply.body)
            .map_err(|error| LLMError::decode(self.transport.provider_name(), error))
    }
}

/// The `CachedContent` body of a create call.
pub(crate) fn create_body(request: &GeminiCacheRequest, warnings: &mut Warnings) -> LLMResult<Value> {
    let model = model_resource(&request.model)?;
    let tools = ToolFields {
        tools: request.tools.as_deref(),
        functions: None,
        tool_choice: request.tool_choice.as_ref(),
        function_call: None,
        web_search_options: None,
    };
    let conversation =
        build_conversation(&request.messages, &tools, Generation::of(&model), false, warnings)?;
    if conversation.system_instruction.is_none()
        && conversation.contents.is_empty()
        && conversation.tools.is_empty()
    {
        return Err(LLMError::InvalidRequest("a Gemini cache needs messages or tools to hold".to_owned()));
    }
    let mut body = Map::new();
    body.insert("model".to_owned(), Value::String(model));
    if let Some(system_instruction) = &conversation.system_instruction {
        body.insert("systemInstruction".to_owned(), to_json(system_instruction)?);
    }
    if !conversation.contents.is_empty() {
        body.insert("contents".to_owned(), to_json(&conversation.contents)?);
    }
    if !conversation.tools.is_empty() {
        body.insert("tools".to_owned(), to_json(&conversation.tools)?);
    }
    if let Some(tool_config) = &conversation.tool_config {
        body.insert("toolConfig".to_owned(), to_json(tool_config)?);
    }
    if let Some(ttl) = request.ttl {
        body.insert("ttl".to_owned(), Value::String(duration_text(ttl)));
    }
    if let Some(display_name) = &request.display_name {
        body.insert("displayName".to_owned(), Value::String(display_name.clone()));
    }
    Ok(Value::Object(body))
}

fn to_json(value: &impl Serialize) -> LLMResult<Value> {
    serde_json::to_value(value).map_err(|error| LLMError::InvalidRequest(error.to_string()))
}

fn json_bytes(body: &Value) -> LLMResult<Bytes> {
    serde_json::to_vec(body).map(Bytes::from).map_err(|error| LLMError::InvalidRequest(error.to_string()))
}

/// A protobuf `Duration` in JSON: `"300s"`, `"1.5s"`.
pub(crate) fn duration_text(duration: Duration) -> String {
    match duration.subsec_nanos() {
        0 => format!("{}s", duration.as_secs()),
        nanos => {
            let fraction = format!("{nanos:09}");
            format!("{}.{}s", duration.as_secs(), fraction.trim_end_matches('0'))
        }
    }
}

/// `cachedContents/{id}` from a full name or a bare id, or a Vertex AI cache's full name
/// (`projects/{p}/locations/{l}/cachedContents/{id}`) as is; anything that could leave the path is
/// refused.
pub(crate) fn cache_name(name: &str) -> LLMResult<String> {
    let name = name.trim();
    let segment_ok = |segment: &str| {
        !segment.is_empty()
            && !segment.contains("..")
            && segment != "."
            && segment
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.'))
    };
    let invalid = || LLMError::InvalidRequest(format!("`{name}` is not a Gemini cached content name"));
    if name.starts_with("projects/") {
        let segments: Vec<&str> = name.split('/').collect();
        return match segments.as_slice() {
            ["projects", project, "locations", location, "cachedContents", id]
                if segment_ok(project) && segment_ok(location) && segment_ok(id) =>
            {
                Ok(name.to_owned())
            }
            _ => Err(invalid()),
        };
    }
    let id = name.strip_prefix("cachedContents/").unwrap_or(name);
    if !segment_ok(id) {
        return Err(invalid());
    }
    Ok(format!("cachedContents/{id}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::PROVIDER_NAME;
    use vllora_llm_core::types::gateway::FunctionDefinition;

    use super::*;

    #[test]
    fn a_cache_body_holds_instructions_turns_tools_and_the_ttl() {
        let request = GeminiCacheRequest {
            model: "gemini/gemini-2.5-flash".into(),
            messages: vec![
                ChatCompletionMessage::new_text("system", "Answer from the handbook."),
                ChatCompletionMessage::new_text("user", "<handbook text>"),
                ChatCompletionMessage::new_text("assistant", "I have read it."),
            ],
            tools: Some(vec![ChatCompletionTool::function(FunctionDefinition {
                name: "lookup".into(),
                parameters: Some(json!({"type": "object", "properties": {"section": {"type": "string"}}})),
                ..Default::default()
            })]),
            tool_choice: Some(ToolChoice::Auto),
            ttl: Some(Duration::from_millis(90_500)),
            display_name: Some("handbook".into()),
        };
        let mut warnings = Warnings::new(PROVIDER_NAME);
        let Ok(body) = create_body(&request, &mut warnings) else { panic!("a valid cache") };
        assert_eq!(
            body,
            json!({
                "model": "models/gemini-2.5-flash",
                "systemInstruction": {"parts": [{"text": "Answer from the handbook."}]},
                "contents": [
                    {"role": "user", "parts": [{"text": "<handbook text>"}]},
                    {"role": "model", "parts": [{"text": "I have read it."}]}
                ],
                "tools": [{"functionDeclarations": [{"name": "lookup",
                    "parameters": {"type": "OBJECT", "properties": {"section": {"type": "STRING"}}}}]}],
                "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
                "ttl": "90.5s",
                "displayName": "handbook"
            })
        );
        assert!(warnings.as_slice().is_empty());
    }

    #[test]
    fn a_system_instruction_alone_can_be_cached_but_nothing_cannot() {
        let mut warnings = Warnings::new(PROVIDER_NAME);
        let only_system = GeminiCacheRequest {
            model: "gemini-2.5-pro".into(),
            messages: vec![ChatCompletionMessage::new_text("system", "A very long instruction.")],
            ..Default::default()
        };
        let body = create_body(&only_system, &mut warnings);
        assert!(body.is_ok_and(|body| body.get("contents").is_none() && body.get("ttl").is_none()));
        let empty = GeminiCacheRequest { model: "gemini-2.5-pro".into(), ..Default::default() };
        assert!(matches!(create_body(&empty, &mut warnings), Err(LLMError::InvalidRequest(_))));
    }

    #[test]
    fn names_durations_and_page_tokens_are_written_safely() {
        assert_eq!(cache_name("abc-123").ok().as_deref(), Some("cachedContents/abc-123"));
        assert_eq!(cache_name(" cachedContents/abc ").ok().as_deref(), Some("cachedContents/abc"));
        // A lone `.` is a dot segment: URL normalisation would turn `cachedContents/.` into the collection.
        let vertex = "projects/p-1/locations/us-central1/cachedContents/123";
        assert_eq!(cache_name(vertex).ok().as_deref(), Some(vertex));
        for bad in [
            "",
            "cachedContents/",
            "../models",
            "abc/def",
            "abc?x=1",
            ".",
            "cachedContents/.",
            "projects/p/locations/l/cachedContents/../x",
            "projects/p/locations/l/other/1",
            "projects/p?/locations/l/cachedContents/1",
        ] {
            assert!(cache_name(bad).is_err(), "{bad}");
        }
        assert_eq!(duration_text(Duration::from_secs(300)), "300s");
        assert_eq!(duration_text(Duration::from_nanos(1_000_000_001)), "1.000000001s");
        assert_eq!(vllora_llm_core::support::encode_path_segment("a+b/c=="), "a%2Bb%2Fc%3D%3D");
    }
}
