//! Messages and content parts -> OpenAI's messages: the same fields, without the gateway's extensions.

use vllora_llm_core::types::gateway::{ChatCompletionContent, ChatCompletionMessage, ContentPart};

use crate::wire::{AudioReference, Content, Message, Part, ToolCall};

/// One gateway message as OpenAI takes it. `compatible`: the server is an OpenAI-compatible one, which
/// gets tool calls' `extra_content` back.
pub(crate) fn wire_message(message: &ChatCompletionMessage, compatible: bool) -> Message<'_> {
    // `reasoning_content` and `reasoning_details` stay behind: Chat Completions takes no reasoning back
    // (OpenAI keeps it server-side, DeepSeek rejects it in input), so nothing the server could use is lost.
    // `cache_control` stays behind too: OpenAI caches prompt prefixes on its own.
    Message {
        role: message.role.as_str(),
        content: message.content.as_ref().map(|content| match content {
            ChatCompletionContent::Text(text) => Content::Text(text),
            ChatCompletionContent::Parts(parts) => {
                Content::Parts(parts.iter().filter_map(wire_part).collect())
            }
        }),
        name: message.name.as_deref(),
        tool_calls: message.tool_calls.as_ref().map(|calls| {
            calls
                .iter()
                .map(|call| ToolCall {
                    id: &call.id,
                    kind: &call.kind,
                    function: &call.function,
                    extra_content: call.extra_content.as_ref().filter(|_| compatible),
                })
                .collect()
        }),
        tool_call_id: message.tool_call_id.as_deref(),
        refusal: message.refusal.as_deref(),
        audio: message.audio.as_ref().map(|audio| AudioReference { id: &audio.id }),
    }
}

/// One content part; `None` for a part kind this crate does not know.
fn wire_part(part: &ContentPart) -> Option<Part<'_>> {
    Some(match part {
        ContentPart::Text { text, .. } => Part::Text { text },
        ContentPart::ImageUrl { image_url, .. } => Part::ImageUrl { image_url },
        ContentPart::InputAudio { input_audio, .. } => Part::InputAudio { input_audio },
        ContentPart::File { file, .. } => Part::File { file },
        ContentPart::Refusal { refusal } => Part::Refusal { refusal },
        // A part kind added to the gateway later and unknown here is not sent rather than mangled.
        _ => return None,
    })
}
