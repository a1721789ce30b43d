//! Tools and tool choice -> OpenAI's tool configuration: the same, without the gateway's `cache_control`
//! (OpenAI caches prompt prefixes on its own).

use vllora_llm_core::types::gateway::ChatCompletionTool;

use crate::wire::Tool;

/// The tools as OpenAI takes them.
pub(crate) fn wire_tools(tools: &[ChatCompletionTool]) -> Vec<Tool<'_>> {
    tools.iter().map(Tool::from).collect()
}
