//! [`ToolOutput`], what a tool returns, and how it becomes the `tool` message the model reads.

use serde_json::Value;
use vllora_llm_core::types::gateway::{
    ChatCompletionContent, ChatCompletionMessage, ContentPart, FileInput, InputAudio, Role,
};

/// One item of a tool's result.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ToolContent {
    /// Text.
    Text(String),
    /// A JSON value (sent to the model as its JSON text).
    Json(Value),
    /// An image, base64-encoded.
    Image {
        /// Base64 bytes.
        data: String,
        /// `image/png`, `image/jpeg`...
        mime_type: String,
    },
    /// Audio, base64-encoded.
    Audio {
        /// Base64 bytes.
        data: String,
        /// `audio/wav`, `audio/mpeg`...
        mime_type: String,
    },
    /// A link to a resource the model may ask for (MCP `resource_link`).
    ResourceLink {
        /// The resource's URI.
        uri: String,
        /// Its name.
        name: String,
        /// A human-readable title.
        title: Option<String>,
        /// What it is.
        description: Option<String>,
        /// Its media type.
        mime_type: Option<String>,
        /// Its size in bytes.
        size: Option<u64>,
    },
    /// A resource embedded in the result (MCP `resource`): text or base64 bytes.
    Resource {
        /// The resource's URI.
        uri: String,
        /// Its media type.
        mime_type: Option<String>,
        /// Its text, for a text resource.
        text: Option<String>,
        /// Its base64 bytes, for a binary resource.
        blob: Option<String>,
    },
}

/// What a tool returned: content items, optional structured content, and whether it is an error.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolOutput {
    /// The content, in order.
    pub content: Vec<ToolContent>,
    /// Structured content (MCP `structuredContent`), matching the tool's output schema when it has one.
    pub structured: Option<Value>,
    /// The tool reports a failure (MCP `isError`): the model reads the content as an error.
    pub is_error: bool,
}

impl ToolOutput {
    /// A text result.
    pub fn text(text: impl Into<String>) -> Self {
        ToolOutput { content: vec![ToolContent::Text(text.into())], ..ToolOutput::default() }
    }

    /// A JSON result.
    pub fn json(value: Value) -> Self {
        ToolOutput { content: vec![ToolContent::Json(value)], ..ToolOutput::default() }
    }

    /// An error result with this message.
    pub fn error(message: impl Into<String>) -> Self {
        ToolOutput { content: vec![ToolContent::Text(message.into())], structured: None, is_error: true }
    }

    /// An image result (base64 data).
    pub fn image(data: impl Into<String>, mime_type: impl Into<String>) -> Self {
        ToolOutput {
            content: vec![ToolContent::Image { data: data.into(), mime_type: mime_type.into() }],
            ..ToolOutput::default()
        }
    }

    /// Adds a content item.
    pub fn with_content(mut self, content: ToolContent) -> Self {
        self.content.push(content);
        self
    }

    /// Sets the structured content.
    pub fn with_structured(mut self, structured: Value) -> Self {
        self.structured = Some(structured);
        self
    }

    /// The text of the result: its text and JSON items, one per line.
    pub fn text_content(&self) -> String {
        let mut text = String::new();
        for item in &self.content {
            let piece = match item {
                ToolContent::Text(piece) => piece.clone(),
                ToolContent::Json(value) => value.to_string(),
                _ => continue,
            };
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&piece);
        }
        text
    }

    /// The `tool` message answering `call_id`: text when every item is text (joined by new lines), parts
    /// (text, image, audio, file) otherwise. An error result starts with `Error: `. Structured content is
    /// added as JSON text unless a text item already holds the same JSON (MCP servers are asked to send
    /// both).
    pub fn to_message(&self, call_id: &str) -> ChatCompletionMessage {
        let mut parts: Vec<ContentPart> = self.content.iter().map(content_part).collect();
        if let Some(structured) = &self.structured {
            let mirrored = self.content.iter().any(|item| match item {
                ToolContent::Text(text) => {
                    serde_json::from_str::<Value>(text).is_ok_and(|value| &value == structured)
                }
                ToolContent::Json(value) => value == structured,
                _ => false,
            });
            if !mirrored {
                parts.push(ContentPart::text(structured.to_string()));
            }
        }
        if self.is_error {
            match parts.first_mut() {
                Some(ContentPart::Text { text, .. }) => text.insert_str(0, "Error: "),
                _ => parts.insert(0, ContentPart::text("Error: the tool failed")),
            }
        }
        let all_text = parts.iter().all(|part| matches!(part, ContentPart::Text { .. }));
        let content = if all_text {
            let mut joined = String::new();
            for part in &parts {
                if let ContentPart::Text { text, .. } = part {
                    if !joined.is_empty() {
                        joined.push('\n');
                    }
                    joined.push_str(text);
                }
            }
            ChatCompletionContent::Text(joined)
        } else {
            ChatCompletionContent::Parts(parts)
        };
        ChatCompletionMessage {
            role: Role::Tool,
            content: Some(content),
            tool_call_id: Some(call_id.to_owned()),
            ..ChatCompletionMessage::default()
        }
    }
}

fn data_uri(mime_type: &str, data: &str) -> String {
    format!("data:{mime_type};base64,{data}")
}

fn content_part(item: &ToolContent) -> ContentPart {
    match item {
        ToolContent::Text(text) => ContentPart::text(text.clone()),
        ToolContent::Json(value) => ContentPart::text(value.to_string()),
        ToolContent::Image { data, mime_type } => ContentPart::image_url(data_uri(mime_type, data)),
        ToolContent::Audio { data, mime_type } => audio_part(data, mime_type, None),
        ToolContent::ResourceLink { uri, name, title, description, mime_type, size } => {
            let mut link = serde_json::Map::new();
            link.insert("type".to_owned(), Value::from("resource_link"));
            link.insert("uri".to_owned(), Value::from(uri.as_str()));
            link.insert("name".to_owned(), Value::from(name.as_str()));
            let optional = [("title", title), ("description", description), ("mimeType", mime_type)];
            for (key, value) in optional {
                if let Some(value) = value {
                    link.insert(key.to_owned(), Value::from(value.as_str()));
                }
            }
            if let Some(size) = size {
                link.insert("size".to_owned(), Value::from(*size));
            }
            ContentPart::text(Value::Object(link).to_string())
        }
        ToolContent::Resource { uri, mime_type, text, blob } => match (text, blob) {
            (Some(text), _) => ContentPart::text(format!("resource {uri}:\n{text}")),
            (None, Some(blob)) => {
                let mime_type = mime_type.as_deref().unwrap_or("application/octet-stream");
                if mime_type.starts_with("image/") {
                    ContentPart::image_url(data_uri(mime_type, blob))
                } else if mime_type.starts_with("audio/") {
                    audio_part(blob, mime_type, Some(uri))
                } else {
                    file_part(blob, mime_type, Some(uri))
                }
            }
            (None, None) => ContentPart::text(format!("resource {uri} (empty)")),
        },
    }
}

/// `input_audio` for the two formats Chat Completions takes (wav, mp3); a file part otherwise.
fn audio_part(data: &str, mime_type: &str, uri: Option<&str>) -> ContentPart {
    let format = match mime_type {
        "audio/wav" | "audio/x-wav" | "audio/wave" => Some("wav"),
        "audio/mpeg" | "audio/mp3" => Some("mp3"),
        _ => None,
    };
    match format {
        Some(format) => ContentPart::InputAudio {
            input_audio: InputAudio { data: data.to_owned(), format: format.to_owned() },
            cache_control: None,
        },
        None => file_part(data, mime_type, uri),
    }
}

fn file_part(data: &str, mime_type: &str, uri: Option<&str>) -> ContentPart {
    let filename =
        uri.and_then(|uri| uri.rsplit('/').next()).filter(|name| !name.is_empty()).map(str::to_owned);
    ContentPart::File {
        file: FileInput { file_data: Some(data_uri(mime_type, data)), file_id: None, filename },
        cache_control: None,
    }
}
