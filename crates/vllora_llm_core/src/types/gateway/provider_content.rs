//! [`ProviderContent`]: the one home for content that has no OpenAI field (server-side tool calls and their
//! results, citations, code execution, grounding, generated media...), kept in message order and tagged
//! with the provider that produced it, so it can be shown, billed and sent back to that provider.
//!
//! A message's `provider_content` is the provider's block order. Blocks that the gateway types hold
//! elsewhere are *referenced*, not copied: [`ProviderContentKind::Text`] stands for the next `len` bytes of
//! the message's text, [`ProviderContentKind::Reasoning`] for an entry of `reasoning_details`,
//! [`ProviderContentKind::ToolCall`] for an entry of `tool_calls`. Blocks with no OpenAI field are carried
//! whole, in the provider's own JSON ([`ProviderContentKind::Native`]). Each of these may also carry
//! `native` fields the OpenAI shape has no room for (a text block's `citations`, for example).
//!
//! A provider sets `provider_content` only when the standard fields alone would not give the blocks back as
//! received: when there is a block with no OpenAI field, a block with `native` fields, or an order other
//! than reasoning, then text, then tool calls. A message without it serialises to exactly OpenAI's JSON.
//!
//! In a stream, `ChatCompletionDelta::provider_content` carries the entries as they become known; appending
//! them in arrival order gives the one-shot message's list.
//!
//! When a message is sent back, the provider named by `provider` rebuilds its blocks in this order; any
//! other provider drops the native entries with a warning and uses the standard fields.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::message::{ChatCompletionMessage, ReasoningDetail};
use super::tools::ToolCall;
use crate::provider::ProviderId;
use crate::warning::{Warning, Warnings};

/// One block of a message, in the order the provider produced it (extension).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderContent {
    /// The provider whose wire format produced the block (the format, not the transport: Anthropic's
    /// Messages blocks are tagged `anthropic` whether they came from Anthropic, Vertex AI or Bedrock's
    /// InvokeModel). Only that provider receives the block back.
    pub provider: ProviderId,
    /// What the block is.
    #[serde(flatten)]
    pub kind: ProviderContentKind,
}

/// What a [`ProviderContent`] entry is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProviderContentKind {
    /// The next `len` bytes (UTF-8) of the message's text content (the string, or the text parts joined).
    Text {
        /// Length of the block's text in bytes.
        len: usize,
        /// Fields of the provider's block that the OpenAI shape has no room for (`{"citations": [...]}`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        native: Option<Value>,
    },
    /// The entry `index` of the message's `reasoning_details`.
    Reasoning {
        /// Position in `reasoning_details`.
        index: usize,
        /// Further fields of the provider's block.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        native: Option<Value>,
    },
    /// The tool call with this `id` in the message's `tool_calls`.
    ToolCall {
        /// The call's id.
        id: String,
        /// Further fields of the provider's block.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        native: Option<Value>,
    },
    /// A block with no OpenAI field, exactly as the provider wrote it (an Anthropic `server_tool_use` or
    /// `web_search_tool_result` block, a Gemini `executableCode` part, a Bedrock `toolResult` block...).
    Native {
        /// The provider's JSON for the block.
        data: Value,
    },
}

impl ProviderContent {
    /// A reference to the next `len` bytes of text.
    pub fn text(provider: ProviderId, len: usize, native: Option<Value>) -> Self {
        ProviderContent { provider, kind: ProviderContentKind::Text { len, native } }
    }

    /// A reference to `reasoning_details[index]`.
    pub fn reasoning(provider: ProviderId, index: usize) -> Self {
        ProviderContent { provider, kind: ProviderContentKind::Reasoning { index, native: None } }
    }

    /// A reference to the tool call `id`.
    pub fn tool_call(provider: ProviderId, id: impl Into<String>) -> Self {
        ProviderContent { provider, kind: ProviderContentKind::ToolCall { id: id.into(), native: None } }
    }

    /// A block with no OpenAI field.
    pub fn native(provider: ProviderId, data: Value) -> Self {
        ProviderContent { provider, kind: ProviderContentKind::Native { data } }
    }

    /// Whether the entry holds provider JSON (a native block, or native fields on a reference): what is lost
    /// when the message goes to another provider.
    pub fn carries_native(&self) -> bool {
        match &self.kind {
            ProviderContentKind::Native { .. } => true,
            ProviderContentKind::Text { native, .. }
            | ProviderContentKind::Reasoning { native, .. }
            | ProviderContentKind::ToolCall { native, .. } => native.is_some(),
        }
    }

    /// Whether `provider` produced this entry.
    pub fn is_from(&self, provider: &ProviderId) -> bool {
        self.provider == *provider
    }
}

/// Records a response's block order as a provider decodes it, and says when the order must be kept.
///
/// A decoder [`push`](Self::push)es one entry per block, in order. The order is *needed* as soon as an
/// entry carries provider JSON or the blocks leave the default order (reasoning, then text, then tool
/// calls); until then nothing is handed out, so an ordinary answer keeps OpenAI's JSON. A stream calls
/// [`take_ready`](Self::take_ready) after each push (everything recorded so far the first time the order
/// is needed, then each new entry); a one-shot response calls [`into_entries`](Self::into_entries).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlockOrderRecorder {
    entries: Vec<ProviderContent>,
    handed_out: usize,
    needed: bool,
    highest_rank: u8,
}

impl BlockOrderRecorder {
    /// An empty recorder.
    pub fn new() -> Self {
        BlockOrderRecorder::default()
    }

    /// Records the next block.
    pub fn push(&mut self, entry: ProviderContent) {
        let rank = match entry.kind {
            ProviderContentKind::Reasoning { .. } => 0,
            ProviderContentKind::Text { .. } => 1,
            ProviderContentKind::ToolCall { .. } => 2,
            ProviderContentKind::Native { .. } => 3,
        };
        if entry.carries_native() || rank < self.highest_rank {
            self.needed = true;
        }
        self.highest_rank = self.highest_rank.max(rank);
        self.entries.push(entry);
    }

    /// Whether the order must be kept.
    pub fn is_needed(&self) -> bool {
        self.needed
    }

    /// How many entries of each kind have been recorded: reasoning blocks (the next reasoning index).
    pub fn reasoning_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|entry| matches!(entry.kind, ProviderContentKind::Reasoning { .. }))
            .count()
    }

    /// For streams: the entries not yet handed out, once the order is needed.
    pub fn take_ready(&mut self) -> Option<Vec<ProviderContent>> {
        if !self.needed || self.handed_out >= self.entries.len() {
            return None;
        }
        let ready = self.entries.get(self.handed_out..).map(<[ProviderContent]>::to_vec);
        self.handed_out = self.entries.len();
        ready
    }

    /// For one-shot responses: every entry, when the order is needed.
    pub fn into_entries(self) -> Option<Vec<ProviderContent>> {
        self.needed.then_some(self.entries)
    }
}

/// One block of a message to send, in order: what a provider's request translator walks (see
/// [`ChatCompletionMessage::blocks_for`](super::ChatCompletionMessage::blocks_for)).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum MessageBlock<'a> {
    /// A piece of the message's text.
    Text {
        /// The text.
        text: &'a str,
        /// The provider's further fields for the block, when it produced it.
        native: Option<&'a Value>,
    },
    /// A reasoning block.
    Reasoning {
        /// The block.
        detail: &'a ReasoningDetail,
        /// The provider's further fields for the block.
        native: Option<&'a Value>,
    },
    /// A tool call.
    ToolCall {
        /// The call.
        call: &'a ToolCall,
        /// The provider's further fields for the block.
        native: Option<&'a Value>,
    },
    /// A block with no OpenAI field, in the provider's own JSON.
    Native(&'a Value),
}

/// A message's blocks in the order to send them to one provider, and what could not be kept.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderedBlocks<'a> {
    /// The blocks, in order.
    pub blocks: Vec<MessageBlock<'a>>,
    /// How many entries holding another provider's JSON the message has (they cannot be sent here: warn).
    pub dropped_foreign: usize,
    /// Why the recorded order could not be followed (the message's text or calls no longer match it), so
    /// the default order was used: warn.
    pub order_lost: Option<String>,
}

impl OrderedBlocks<'_> {
    /// Warns about what message `position`'s `provider_content` held that `provider` (its display name)
    /// cannot take: other providers' entries, and a recorded order that no longer matches the message.
    /// `unit` is what the provider calls a block (`block`, `part`) and `default_order` what the default
    /// order sends (`thinking, text and tool calls`).
    pub fn warn_left_out(
        &self,
        position: usize,
        provider: &str,
        unit: &str,
        default_order: &str,
        warnings: &mut Warnings,
    ) {
        if self.dropped_foreign > 0 {
            warnings.push(Warning::unsupported_because(
                format!("messages[{position}].provider_content"),
                format!(
                    "{} block(s) another provider produced cannot be sent to {provider} and were left out",
                    self.dropped_foreign
                ),
            ));
        }
        if let Some(reason) = &self.order_lost {
            warnings.push(Warning::unsupported_because(
                format!("messages[{position}].provider_content"),
                format!(
                    "the recorded {unit} order was not followed ({reason}); {default_order} were sent in the default order"
                ),
            ));
        }
    }
}

impl<'a> OrderedBlocks<'a> {
    /// The default order: every reasoning detail, the text, then the tool calls.
    fn default_order(message: &'a ChatCompletionMessage, text: Option<&'a str>) -> Vec<MessageBlock<'a>> {
        let mut blocks = Vec::new();
        for detail in message.reasoning_details.iter().flatten() {
            blocks.push(MessageBlock::Reasoning { detail, native: None });
        }
        if let Some(text) = text.filter(|text| !text.is_empty()) {
            blocks.push(MessageBlock::Text { text, native: None });
        }
        for call in message.tool_calls.iter().flatten() {
            blocks.push(MessageBlock::ToolCall { call, native: None });
        }
        blocks
    }
}

/// Walks `message` in the order its `provider_content` records for `provider`, resolving references.
///
/// `text` is the message's text (the string content, or its text parts joined). Text, reasoning and tool
/// calls that no entry references are appended after the recorded blocks (reasoning, text, tool calls), so
/// nothing the caller added is lost; if the recorded text lengths no longer add up to the text, or a
/// reference points nowhere, the default order is used and `order_lost` says why.
pub(super) fn ordered_blocks<'a>(
    message: &'a ChatCompletionMessage,
    text: Option<&'a str>,
    provider: &ProviderId,
) -> OrderedBlocks<'a> {
    let entries = message.provider_content.as_deref().unwrap_or_default();
    let dropped_foreign =
        entries.iter().filter(|entry| !entry.is_from(provider) && entry.carries_native()).count();
    let own: Vec<&ProviderContent> = entries.iter().filter(|entry| entry.is_from(provider)).collect();
    if own.is_empty() {
        return OrderedBlocks {
            blocks: OrderedBlocks::default_order(message, text),
            dropped_foreign,
            order_lost: None,
        };
    }
    match follow(message, text.unwrap_or(""), &own) {
        Ok(blocks) => OrderedBlocks { blocks, dropped_foreign, order_lost: None },
        Err(reason) => OrderedBlocks {
            blocks: OrderedBlocks::default_order(message, text),
            dropped_foreign,
            order_lost: Some(reason),
        },
    }
}

fn follow<'a>(
    message: &'a ChatCompletionMessage,
    text: &'a str,
    entries: &[&'a ProviderContent],
) -> Result<Vec<MessageBlock<'a>>, String> {
    let details = message.reasoning_details.as_deref().unwrap_or_default();
    let calls = message.tool_calls.as_deref().unwrap_or_default();
    let mut used_details = vec![false; details.len()];
    let mut used_calls = vec![false; calls.len()];
    let mut offset = 0usize;
    let mut blocks = Vec::with_capacity(entries.len());
    for entry in entries {
        match &entry.kind {
            ProviderContentKind::Text { len, native } => {
                let end = offset.checked_add(*len).ok_or_else(|| "a text length overflows".to_owned())?;
                let piece = text.get(offset..end).ok_or_else(|| {
                    format!("the text no longer matches its recorded blocks (a block of {len} bytes at byte {offset})")
                })?;
                offset = end;
                blocks.push(MessageBlock::Text { text: piece, native: native.as_ref() });
            }
            ProviderContentKind::Reasoning { index, native } => {
                let detail = details
                    .get(*index)
                    .ok_or_else(|| format!("reasoning block {index} is not in reasoning_details"))?;
                if let Some(used) = used_details.get_mut(*index) {
                    *used = true;
                }
                blocks.push(MessageBlock::Reasoning { detail, native: native.as_ref() });
            }
            ProviderContentKind::ToolCall { id, native } => {
                let (position, call) = calls
                    .iter()
                    .enumerate()
                    .find(|(_, call)| call.id == *id)
                    .ok_or_else(|| format!("tool call `{id}` is not in tool_calls"))?;
                if let Some(used) = used_calls.get_mut(position) {
                    *used = true;
                }
                blocks.push(MessageBlock::ToolCall { call, native: native.as_ref() });
            }
            ProviderContentKind::Native { data } => blocks.push(MessageBlock::Native(data)),
        }
    }
    for (detail, used) in details.iter().zip(&used_details) {
        if !used {
            blocks.push(MessageBlock::Reasoning { detail, native: None });
        }
    }
    if let Some(rest) = text.get(offset..).filter(|rest| !rest.is_empty()) {
        blocks.push(MessageBlock::Text { text: rest, native: None });
    }
    for (call, used) in calls.iter().zip(&used_calls) {
        if !used {
            blocks.push(MessageBlock::ToolCall { call, native: None });
        }
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::types::gateway::{ChatCompletionContent, ReasoningDetailType, Role};

    fn detail(text: &str) -> ReasoningDetail {
        ReasoningDetail {
            kind: ReasoningDetailType::Text,
            text: Some(text.to_owned()),
            signature: Some(format!("sig-{text}")),
            data: None,
            provider: Some("anthropic".to_owned()),
        }
    }

    /// An answer that thought, searched, cited, called a tool, thought again and called another.
    fn interleaved() -> ChatCompletionMessage {
        let anthropic = ProviderId::ANTHROPIC;
        ChatCompletionMessage {
            role: Role::Assistant,
            content: Some(ChatCompletionContent::Text("Let me look.Paris is the capital.".to_owned())),
            reasoning_details: Some(vec![detail("first"), detail("second")]),
            tool_calls: Some(vec![
                ToolCall::function("toolu_1", "weather", "{}"),
                ToolCall::function("toolu_2", "time", "{}"),
            ]),
            provider_content: Some(vec![
                ProviderContent::reasoning(anthropic.clone(), 0),
                ProviderContent::text(anthropic.clone(), 12, None),
                ProviderContent::native(
                    anthropic.clone(),
                    json!({"type": "server_tool_use", "id": "srvtoolu_1"}),
                ),
                ProviderContent::text(
                    anthropic.clone(),
                    21,
                    Some(json!({"citations": [{"cited_text": "x"}]})),
                ),
                ProviderContent::tool_call(anthropic.clone(), "toolu_1"),
                ProviderContent::reasoning(anthropic.clone(), 1),
                ProviderContent::tool_call(anthropic, "toolu_2"),
                ProviderContent::native(ProviderId::GEMINI, json!({"executableCode": {"code": "1+1"}})),
            ]),
            ..Default::default()
        }
    }

    fn describe(blocks: &[MessageBlock<'_>]) -> Vec<String> {
        blocks
            .iter()
            .map(|block| match block {
                MessageBlock::Text { text, native } => format!("text:{text}:{}", native.is_some()),
                MessageBlock::Reasoning { detail, .. } => {
                    format!("reasoning:{}", detail.text.as_deref().unwrap_or(""))
                }
                MessageBlock::ToolCall { call, .. } => format!("tool:{}", call.id),
                MessageBlock::Native(data) => format!("native:{data}"),
            })
            .collect()
    }

    #[test]
    fn the_recorded_order_is_followed_for_its_provider() {
        let message = interleaved();
        let text = message.content.as_ref().and_then(ChatCompletionContent::as_str);
        let ordered = message.blocks_for(&ProviderId::ANTHROPIC, text);
        assert_eq!(
            describe(&ordered.blocks),
            vec![
                "reasoning:first",
                "text:Let me look.:false",
                r#"native:{"id":"srvtoolu_1","type":"server_tool_use"}"#,
                "text:Paris is the capital.:true",
                "tool:toolu_1",
                "reasoning:second",
                "tool:toolu_2",
            ]
        );
        assert_eq!((ordered.dropped_foreign, ordered.order_lost), (1, None));
    }

    #[test]
    fn another_provider_gets_the_default_order_and_counts_what_it_cannot_take() {
        let message = interleaved();
        let text = message.content.as_ref().and_then(ChatCompletionContent::as_str);
        let ordered = message.blocks_for(&ProviderId::BEDROCK, text);
        assert_eq!(
            describe(&ordered.blocks),
            vec![
                "reasoning:first",
                "reasoning:second",
                "text:Let me look.Paris is the capital.:false",
                "tool:toolu_1",
                "tool:toolu_2",
            ]
        );
        assert_eq!(ordered.dropped_foreign, 3);
    }

    #[test]
    fn an_edited_text_falls_back_to_the_default_order_and_says_why() {
        let mut message = interleaved();
        message.content = Some(ChatCompletionContent::Text("Short.".to_owned()));
        let ordered = message.blocks_for(&ProviderId::ANTHROPIC, Some("Short."));
        assert_eq!(describe(&ordered.blocks)[2], "text:Short.:false");
        assert!(ordered.order_lost.is_some_and(|reason| reason.contains("no longer matches")));
    }

    #[test]
    fn what_no_entry_references_is_kept_after_the_recorded_blocks() {
        let mut message = interleaved();
        message.content =
            Some(ChatCompletionContent::Text("Let me look.Paris is the capital. More.".to_owned()));
        if let Some(calls) = message.tool_calls.as_mut() {
            calls.push(ToolCall::function("call_3", "added", "{}"));
        }
        let text = message.content.as_ref().and_then(ChatCompletionContent::as_str);
        let described = describe(&message.blocks_for(&ProviderId::ANTHROPIC, text).blocks);
        assert_eq!(described[7..], ["text: More.:false".to_owned(), "tool:call_3".to_owned()]);
    }

    #[test]
    fn the_recorder_keeps_the_order_only_when_it_is_needed() {
        let anthropic = ProviderId::ANTHROPIC;
        let mut plain = BlockOrderRecorder::new();
        plain.push(ProviderContent::reasoning(anthropic.clone(), 0));
        plain.push(ProviderContent::text(anthropic.clone(), 5, None));
        plain.push(ProviderContent::tool_call(anthropic.clone(), "toolu_1"));
        assert_eq!(plain.take_ready(), None);
        assert_eq!(plain.into_entries(), None);

        let mut interleaved = BlockOrderRecorder::new();
        interleaved.push(ProviderContent::text(anthropic.clone(), 5, None));
        assert_eq!(interleaved.take_ready(), None);
        interleaved.push(ProviderContent::reasoning(anthropic.clone(), 0));
        assert_eq!(interleaved.take_ready().map(|ready| ready.len()), Some(2));
        interleaved.push(ProviderContent::native(anthropic.clone(), json!({"type": "server_tool_use"})));
        assert_eq!(interleaved.take_ready().map(|ready| ready.len()), Some(1));
        assert_eq!(interleaved.take_ready(), None);
        assert_eq!(interleaved.reasoning_count(), 1);
        assert_eq!(interleaved.into_entries().map(|entries| entries.len()), Some(3));
    }

    #[test]
    fn a_message_without_provider_content_serialises_as_before_and_entries_round_trip() {
        let plain = ChatCompletionMessage::new_text("assistant", "hi");
        assert_eq!(serde_json::to_value(&plain).ok(), Some(json!({"role": "assistant", "content": "hi"})));
        let message = interleaved();
        let value = serde_json::to_value(&message).unwrap_or_default();
        assert_eq!(value["provider_content"][1], json!({"provider": "anthropic", "type": "text", "len": 12}));
        assert_eq!(
            value["provider_content"][7],
            json!({"provider": "gcp.gemini", "type": "native", "data": {"executableCode": {"code": "1+1"}}})
        );
        let back: ChatCompletionMessage = serde_json::from_value(value).unwrap_or_default();
        assert_eq!(back, message);
    }
}
