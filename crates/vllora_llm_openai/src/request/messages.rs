//! Messages and content parts -> OpenAI's messages: the same fields, plus what the host's dialect needs
//! back (reasoning for DeepSeek, vLLM and Mistral, OpenRouter's `reasoning_details` and `cache_control`).
//! What a host does not take is left out and reported.

use vllora_llm_core::types::gateway::{
    CacheControl, ChatCompletionContent, ChatCompletionMessage, ContentPart, ReasoningDetail,
    ReasoningDetailType, Role,
};
use vllora_llm_core::types::gateway::{MessageBlock, ProviderContentKind};
use vllora_llm_core::{ProviderId, Warning};

use crate::dialect::OpenAIDialect;
use crate::wire::{AudioReference, Chunk, Content, Message, OpenRouterReasoning, Part, ThinkingText, ToolCall};

/// Who the messages are for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Host<'a> {
    /// An OpenAI-compatible server, which gets tool calls' `extra_content` back.
    pub compatible: bool,
    /// Its conventions.
    pub dialect: OpenAIDialect,
    /// The provider name reasoning blocks are tagged with (only its own go back to OpenRouter).
    pub provider: &'a str,
}

/// The extension fields left out of the messages, by message position: reported once per field.
#[derive(Debug, Default)]
pub(crate) struct LeftOut {
    reasoning_content: Vec<usize>,
    reasoning_details: Vec<usize>,
    cache_control: Vec<usize>,
    annotations: Vec<usize>,
    provider_content: Vec<usize>,
}

impl LeftOut {
    /// One warning per field left out, naming the messages. These lose nothing the host could use (it
    /// takes no such field), so they are adjustments: reported, never a strict-mode failure.
    pub(crate) fn into_adjustments(self, dialect: OpenAIDialect) -> Vec<Warning> {
        let mut warnings = Vec::new();
        let mut report = |field: &str, positions: Vec<usize>, why: &str| {
            if positions.is_empty() {
                return;
            }
            let list: Vec<String> = positions.iter().map(usize::to_string).collect();
            warnings.push(Warning::adjusted(
                format!("messages[].{field}"),
                format!("not sent (messages {}): {why} ({dialect} dialect)", list.join(", ")),
            ));
        };
        report("reasoning_content", self.reasoning_content, "this host takes no reasoning back");
        report(
            "reasoning_details",
            self.reasoning_details,
            "this host takes no reasoning blocks back, or they came from another provider",
        );
        report("cache_control", self.cache_control, "this host takes no cache breakpoints");
        report("annotations", self.annotations, "citations are the model's output, not taken back");
        report(
            "provider_content",
            self.provider_content,
            "blocks another provider produced go back only to that provider",
        );
        warnings
    }
}

/// One gateway message as the host takes it.
pub(crate) fn wire_message<'a>(
    position: usize,
    message: &'a ChatCompletionMessage,
    host: Host<'_>,
    left_out: &mut LeftOut,
) -> Message<'a> {
    let dialect = host.dialect;
    let openrouter = dialect.is_openrouter();
    let assistant = message.role == Role::Assistant;
    if message.annotations.as_ref().is_some_and(|annotations| !annotations.is_empty()) {
        left_out.annotations.push(position);
    }
    let reasoning = message.reasoning_content.as_deref().filter(|text| !text.is_empty());
    let thinking_chunk = reasoning.filter(|_| assistant && dialect.sends_thinking_chunks());
    let reasoning_content = reasoning.filter(|_| assistant && dialect.sends_reasoning_content());
    if reasoning.is_some() && thinking_chunk.is_none() && reasoning_content.is_none() {
        left_out.reasoning_content.push(position);
    }
    // Built only for a message that needs it: a name copied per message of every request adds up.
    let own_id = || ProviderId::proxy(host.provider);
    let foreign = message.provider_content.as_ref().is_some_and(|entries| {
        let own_id = own_id();
        // A host gets back only its own blocks, and only those it reads: Mistral its content chunks,
        // OpenRouter the fields of its reasoning blocks.
        entries.iter().any(|entry| {
            let used = match entry.kind {
                ProviderContentKind::Native { .. } => dialect.sends_thinking_chunks(),
                ProviderContentKind::Reasoning { .. } => openrouter,
                _ => false,
            };
            entry.carries_native() && !(used && entry.is_from(&own_id))
        })
    });
    if foreign {
        left_out.provider_content.push(position);
    }
    let reasoning_details = match &message.reasoning_details {
        Some(details) if openrouter && assistant => {
            // The recorded blocks give back the fields OpenRouter sent beside each block (`format`...).
            let text = message.content.as_ref().and_then(ChatCompletionContent::as_str);
            let own_id = own_id();
            let ordered = message.blocks_for(&own_id, text);
            let own: Vec<OpenRouterReasoning<'_>> = ordered
                .blocks
                .iter()
                .filter_map(|block| match block {
                    MessageBlock::Reasoning { detail, native } if own_detail(detail, host.provider) => {
                        openrouter_detail(detail, native.and_then(serde_json::Value::as_object))
                    }
                    _ => None,
                })
                .collect();
            if own.len() < details.len() {
                left_out.reasoning_details.push(position);
            }
            (!own.is_empty()).then_some(own)
        }
        Some(details) if !details.is_empty() => {
            left_out.reasoning_details.push(position);
            None
        }
        _ => None,
    };
    let mut cache_left_out = false;
    let mut content = message.content.as_ref().map(|content| match content {
        ChatCompletionContent::Text(text) => Content::Text(text),
        ChatCompletionContent::Parts(parts) => Content::Parts(
            parts
                .iter()
                .filter_map(|part| {
                    let (mut wire, cache) = wire_part(part)?;
                    match (&mut wire, cache) {
                        // OpenRouter takes breakpoints on text parts.
                        (Part::Text { cache_control, .. }, Some(cache)) if openrouter => {
                            *cache_control = Some(cache)
                        }
                        (_, Some(_)) => cache_left_out = true,
                        _ => {}
                    }
                    Some(wire)
                })
                .collect(),
        ),
    });
    if cache_left_out {
        left_out.cache_control.push(position);
    }
    if let Some(cache) = &message.cache_control {
        if openrouter {
            content = content.map(|content| with_breakpoint(content, cache));
        } else if left_out.cache_control.last() != Some(&position) {
            left_out.cache_control.push(position);
        }
    }
    let own_chunks = dialect.sends_thinking_chunks()
        && assistant
        && message.provider_content.as_ref().is_some_and(|entries| {
            let own_id = own_id();
            entries.iter().any(|entry| {
                entry.is_from(&own_id) && matches!(entry.kind, ProviderContentKind::Native { .. })
            })
        });
    if own_chunks {
        // Mistral's answer as it sent it: the thinking, then its chunks in order (references included).
        let own_id = own_id();
        let text = message.content.as_ref().and_then(ChatCompletionContent::as_str);
        let mut chunks: Vec<Chunk<'_>> = thinking_chunk
            .map(|thinking| {
                Chunk::Part(Part::Thinking { thinking: [ThinkingText { kind: "text", text: thinking }] })
            })
            .into_iter()
            .collect();
        for block in message.blocks_for(&own_id, text).blocks {
            match block {
                MessageBlock::Text { text, .. } => {
                    chunks.push(Chunk::Part(Part::Text { text, cache_control: None }))
                }
                MessageBlock::Native(data) => chunks.push(Chunk::Raw(data)),
                _ => {}
            }
        }
        content = Some(Content::Chunks(chunks));
    } else if let Some(thinking) = thinking_chunk {
        // Mistral takes its reasoning back as a thinking chunk before the answer.
        let mut parts = vec![Part::Thinking { thinking: [ThinkingText { kind: "text", text: thinking }] }];
        match content {
            Some(Content::Text(text)) if !text.is_empty() => {
                parts.push(Part::Text { text, cache_control: None })
            }
            Some(Content::Parts(rest)) => parts.extend(rest),
            _ => {}
        }
        content = Some(Content::Parts(parts));
    }
    Message {
        role: message.role.as_str(),
        content,
        name: message.name.as_deref(),
        tool_calls: message.tool_calls.as_ref().map(|calls| {
            calls
                .iter()
                .map(|call| ToolCall {
                    id: &call.id,
                    kind: &call.kind,
                    function: &call.function,
                    extra_content: call.extra_content.as_ref().filter(|_| host.compatible),
                })
                .collect()
        }),
        tool_call_id: message.tool_call_id.as_deref(),
        refusal: message.refusal.as_deref(),
        audio: message.audio.as_ref().map(|audio| AudioReference { id: &audio.id }),
        reasoning_content,
        reasoning_details,
    }
}

/// Whether a reasoning block may go back to `provider`: its own, or one no provider claimed.
fn own_detail(detail: &ReasoningDetail, provider: &str) -> bool {
    detail.provider.as_deref().is_none_or(|owner| owner == provider)
}

/// A reasoning block in OpenRouter's shape.
fn openrouter_detail<'a>(
    detail: &'a ReasoningDetail,
    other: Option<&'a serde_json::Map<String, serde_json::Value>>,
) -> Option<OpenRouterReasoning<'a>> {
    let (kind, text, summary) = match detail.kind {
        ReasoningDetailType::Text => ("reasoning.text", detail.text.as_deref(), None),
        ReasoningDetailType::Summary => ("reasoning.summary", None, detail.text.as_deref()),
        ReasoningDetailType::Encrypted => ("reasoning.encrypted", None, None),
        _ => return None,
    };
    Some(OpenRouterReasoning {
        kind,
        text,
        summary,
        signature: detail.signature.as_deref(),
        data: detail.data.as_deref(),
        other,
    })
}

/// A message-level breakpoint on its last text part (a string becomes one text part).
fn with_breakpoint<'a>(content: Content<'a>, cache: &'a CacheControl) -> Content<'a> {
    match content {
        Content::Text(text) => Content::Parts(vec![Part::Text { text, cache_control: Some(cache) }]),
        Content::Parts(mut parts) => {
            if let Some(Part::Text { cache_control, .. }) =
                parts.iter_mut().rev().find(|part| matches!(part, Part::Text { .. }))
            {
                cache_control.get_or_insert(cache);
            }
            Content::Parts(parts)
        }
        chunks @ Content::Chunks(_) => chunks,
    }
}

/// One content part and its breakpoint; `None` for a part kind this crate does not know.
fn wire_part(part: &ContentPart) -> Option<(Part<'_>, Option<&CacheControl>)> {
    Some(match part {
        ContentPart::Text { text, cache_control } => {
            (Part::Text { text, cache_control: None }, cache_control.as_ref())
        }
        ContentPart::ImageUrl { image_url, cache_control } => {
            (Part::ImageUrl { image_url }, cache_control.as_ref())
        }
        ContentPart::InputAudio { input_audio, cache_control } => {
            (Part::InputAudio { input_audio }, cache_control.as_ref())
        }
        ContentPart::File { file, cache_control } => (Part::File { file }, cache_control.as_ref()),
        ContentPart::Refusal { refusal } => (Part::Refusal { refusal }, None),
        // A part kind added to the gateway later and unknown here is not sent rather than mangled.
        _ => return None,
    })
}
