//! MCP's tool and result JSON → [`ToolDefinition`] and [`ToolOutput`], read from the wire form the MCP
//! specification defines (so a newer rmcp with more fields changes nothing here).

use serde::Deserialize;
use serde_json::Value;
use vllora_llm_core::{LLMError, LLMResult};

use crate::tools::{ToolAnnotations, ToolContent, ToolDefinition, ToolOutput};

/// `Tool` of `tools/list`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireTool {
    name: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    input_schema: Value,
    #[serde(default)]
    output_schema: Option<Value>,
    #[serde(default)]
    annotations: Option<ToolAnnotations>,
}

/// `CallToolResult`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireResult {
    #[serde(default)]
    content: Vec<Value>,
    #[serde(default)]
    structured_content: Option<Value>,
    #[serde(default)]
    is_error: Option<bool>,
}

/// A content block (`text`, `image`, `audio`, `resource_link`, `resource`).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireContent {
    Text {
        text: String,
    },
    Image {
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
    Audio {
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
    ResourceLink {
        uri: String,
        #[serde(default)]
        name: String,
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        description: Option<String>,
        #[serde(default, rename = "mimeType")]
        mime_type: Option<String>,
        #[serde(default)]
        size: Option<u64>,
    },
    Resource {
        resource: WireResource,
    },
}

#[derive(Deserialize)]
struct WireResource {
    uri: String,
    #[serde(default, rename = "mimeType")]
    mime_type: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    blob: Option<String>,
}

fn decode(what: &str, error: impl std::fmt::Display) -> LLMError {
    LLMError::Decode { provider: "mcp".to_owned(), message: format!("{what}: {error}") }
}

pub(super) fn tool_definition(tool: &impl serde::Serialize) -> LLMResult<ToolDefinition> {
    let value = serde_json::to_value(tool).map_err(|error| decode("a tool of tools/list", error))?;
    let wire: WireTool =
        serde_json::from_value(value).map_err(|error| decode("a tool of tools/list", error))?;
    Ok(ToolDefinition {
        name: wire.name,
        description: wire.description,
        parameters: wire.input_schema,
        title: wire.title,
        output_schema: wire.output_schema,
        annotations: wire.annotations,
    })
}

pub(super) fn tool_output(result: &impl serde::Serialize) -> LLMResult<ToolOutput> {
    let value = serde_json::to_value(result).map_err(|error| decode("a tools/call result", error))?;
    output_from_json(value)
}

/// A `CallToolResult` as JSON → [`ToolOutput`]. A content block of a kind this crate does not know is
/// kept as its JSON, so nothing the server sent is lost.
pub(crate) fn output_from_json(value: Value) -> LLMResult<ToolOutput> {
    let wire: WireResult =
        serde_json::from_value(value).map_err(|error| decode("a tools/call result", error))?;
    let content = wire
        .content
        .into_iter()
        .map(|block| match serde_json::from_value::<WireContent>(block.clone()) {
            Ok(WireContent::Text { text }) => ToolContent::Text(text),
            Ok(WireContent::Image { data, mime_type }) => ToolContent::Image { data, mime_type },
            Ok(WireContent::Audio { data, mime_type }) => ToolContent::Audio { data, mime_type },
            Ok(WireContent::ResourceLink { uri, name, title, description, mime_type, size }) => {
                ToolContent::ResourceLink { uri, name, title, description, mime_type, size }
            }
            Ok(WireContent::Resource { resource }) => ToolContent::Resource {
                uri: resource.uri,
                mime_type: resource.mime_type,
                text: resource.text,
                blob: resource.blob,
            },
            Err(_) => ToolContent::Json(block),
        })
        .collect();
    Ok(ToolOutput { content, structured: wire.structured_content, is_error: wire.is_error.unwrap_or(false) })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::output_from_json;
    use crate::tools::ToolContent;

    #[test]
    fn unknown_blocks_are_kept_as_json() {
        let output =
            output_from_json(json!({"content": [{"type": "hologram", "data": "x"}], "isError": true}));
        let output = output.unwrap_or_default();
        assert!(output.is_error);
        assert_eq!(output.content, vec![ToolContent::Json(json!({"type": "hologram", "data": "x"}))]);
    }
}
