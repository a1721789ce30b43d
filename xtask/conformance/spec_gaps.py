"""Works around gaps in the specs of ../shared/conformance before validation, each rule named and counted.

openai-responses: OpenAI's `InputItem` is a `oneOf` in which a message whose content is a list of parts
matches both `EasyInputMessage` and `InputMessage`, so a strict validator rejects every such message,
OpenAI's own documented example included. Those messages are checked with their text parts joined into
a string (the form that matches one branch only); everything else in the document is checked as sent.

Anthropic: the spec is from late 2024 (rewrites below).

The spec predates features the live API documents today (see the current anthropic-sdk-python types).
validate.py already sets some aside (thinking blocks inside lists, `thinking` and other newer top-level
fields, cache TTLs). This covers the rest, each rule named and counted, so that everything else in these
documents is still checked strictly:

  output_config / output_format    structured outputs (GA `output_config.format`, beta `output_format`)
  tools[].strict                   strict tool schemas (structured outputs)
  tool_choice {"type": "none"}     tool choice `none`
  source {"type": "url"|"file"}    URL and Files-API sources of image and document blocks
  document title/context/citations document metadata and citations
  text citations                   citations on text blocks sent back (web search, documents)
  server tools                     `tools[]` entries of a server tool type (`web_search_20250305`,
                                   `code_execution_...`, `web_fetch_...`): set aside, the rest is checked
  server tool blocks in messages   server_tool_use / *_tool_result / mcp blocks sent back in a turn,
                                   checked as a text block
  content_block / delta            thinking, redacted_thinking, server tool blocks and their deltas in
                                   stream events (validate.py handles them only inside lists)
  stop_reason "refusal"            the refusal stop reason

Usage: python3 spec_gaps.py KIND IN.jsonl OUT.jsonl   (prints one line per rule applied, with counts)
"""
import collections
import json
import sys

NEWER_BLOCKS = {"thinking", "redacted_thinking", "server_tool_use", "web_search_tool_result",
                "search_result", "container_upload", "mcp_tool_use", "mcp_tool_result"}
NEWER_DELTAS = {"thinking_delta", "signature_delta", "citations_delta"}
PLACEHOLDER_SOURCE = {"image": {"type": "base64", "media_type": "image/png", "data": "AA=="},
                      "document": {"type": "base64", "media_type": "application/pdf", "data": "AA=="}}


def openai_responses(doc, applied):
    for item in doc.get("input") if isinstance(doc.get("input"), list) else []:
        if isinstance(item, dict) and "role" in item and isinstance(item.get("content"), list):
            texts = [part.get("text", "") for part in item["content"] if isinstance(part, dict)]
            item["content"] = "".join(texts)
            applied["message with a list of parts checked as text (oneOf ambiguity in the spec)"] += 1
    return doc


def is_newer_block(kind):
    """Block types newer than the spec: the named ones and every server tool's `*_tool_result`."""
    return isinstance(kind, str) and (kind in NEWER_BLOCKS or (kind.endswith("_tool_result") and kind != "tool_result"))


def rewrite(kind, doc, applied):
    if not isinstance(doc, dict):
        return doc
    if kind == "openai-responses":
        return openai_responses(doc, applied)
    if kind == "anthropic-messages":
        for key in ("output_config", "output_format"):
            if doc.pop(key, None) is not None:
                applied[f"{key} (structured outputs, newer than the spec)"] += 1
        for tool in doc.get("tools") or []:
            if isinstance(tool, dict) and tool.pop("strict", None) is not None:
                applied["tools[].strict"] += 1
        if doc.get("tool_choice") == {"type": "none"}:
            doc.pop("tool_choice")
            applied["tool_choice none"] += 1
        tools = doc.get("tools")
        if isinstance(tools, list):
            kept = [tool for tool in tools
                    if not (isinstance(tool, dict) and tool.get("type") not in (None, "custom"))]
            for tool in tools:
                if tool not in kept:
                    applied[f"server tool {tool.get('type')}"] += 1
            if len(kept) != len(tools):
                doc["tools"] = kept
                if not kept:
                    doc.pop("tools")
                    doc.pop("tool_choice", None)
        for message in doc.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            for position, block in enumerate(content if isinstance(content, list) else []):
                if not isinstance(block, dict):
                    continue
                if is_newer_block(block.get("type")) and block.get("type") not in ("thinking", "redacted_thinking"):
                    applied[f"{block['type']} block in a message"] += 1
                    content[position] = {"type": "text", "text": "."}
                elif block.get("type") == "text" and block.pop("citations", None) is not None:
                    applied["text citations"] += 1

    def walk(node):
        if isinstance(node, dict):
            source = node.get("source")
            if node.get("type") in PLACEHOLDER_SOURCE and isinstance(source, dict) \
                    and source.get("type") in ("url", "file"):
                node["source"] = dict(PLACEHOLDER_SOURCE[node["type"]])
                applied[f"{source['type']} source of {node['type']} block"] += 1
            if node.get("type") == "document":
                for key in ("title", "context", "citations"):
                    if node.pop(key, None) is not None:
                        applied[f"document {key}"] += 1
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    if kind == "anthropic-stream-event":
        block = doc.get("content_block")
        if isinstance(block, dict) and is_newer_block(block.get("type")):
            applied[f"{block['type']} block in a stream event"] += 1
            doc["content_block"] = {"type": "text", "text": ""}
        delta = doc.get("delta")
        if isinstance(delta, dict) and delta.get("type") in NEWER_DELTAS:
            applied[f"{delta['type']} in a stream event"] += 1
            doc["delta"] = {"type": "text_delta", "text": ""}
    if kind == "anthropic-message" and doc.get("stop_reason") == "refusal":
        doc["stop_reason"] = "end_turn"
        applied["stop_reason refusal"] += 1
    return doc


def main(argv):
    kind, source, target = argv[1], argv[2], argv[3]
    applied = collections.Counter()
    with open(source) as lines, open(target, "w") as out:
        for line in lines:
            if line.strip():
                out.write(json.dumps(rewrite(kind, json.loads(line), applied)) + "\n")
    for rule, count in sorted(applied.items()):
        print(f"spec gap worked around: {rule} ({count})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
