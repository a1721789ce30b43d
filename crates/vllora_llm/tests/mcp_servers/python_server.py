"""An MCP server written with the official Python SDK (`mcp` on PyPI), for what the reference server lacks.

Run by the facade's `mcp` tests (installed by `cargo xtask mcp`):

    python python_server.py stdio [--bulk N]
    python python_server.py http PORT [--bulk N]     # streamable HTTP at http://127.0.0.1:PORT/mcp

Tools: `echo`, `slow` (sleeps), `fail` (an isError result), `raise` (a JSON-RPC error), `die` (the process
exits mid-call), `huge` (a result of N bytes), `media` (text, image, audio, a resource link, embedded text
and blob resources, structured content), `headers` (the HTTP headers the server received), `add_tool`
(adds a tool and sends notifications/tools/list_changed), `count_lists` (how many tools/list requests it
served) and, with `--bulk N`, `bulk_0000`... `bulk_{N-1}`. tools/list is paginated: 100 tools a page.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys

import mcp_types as types
import uvicorn
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.server.stdio import stdio_server

PAGE_SIZE = 100
# A 1x1 transparent PNG and a few bytes of WAV header: small, valid media.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
    )
).decode()
WAV = base64.b64encode(b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00D\xac\x00\x00\x88X\x01\x00\x02\x00\x10\x00data\x00\x00\x00\x00").decode()

OBJECT = {"type": "object"}


def schema(properties: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": properties, "required": required or []}


def base_tools() -> list[types.Tool]:
    return [
        types.Tool(
            name="echo",
            title="Echo",
            description="Returns its text.",
            input_schema=schema({"text": {"type": "string"}}, ["text"]),
            annotations=types.ToolAnnotations(
                title="Echo tool", read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
            ),
        ),
        types.Tool(name="slow", description="Sleeps, then answers.", input_schema=schema({"seconds": {"type": "number"}}, ["seconds"])),
        types.Tool(name="fail", description="Always fails (an isError result).", input_schema=schema({"message": {"type": "string"}})),
        types.Tool(name="raise", description="Raises (a JSON-RPC error).", input_schema=OBJECT),
        types.Tool(name="die", description="Exits the server process during the call.", input_schema=OBJECT),
        types.Tool(name="huge", description="Returns a text of `bytes` bytes.", input_schema=schema({"bytes": {"type": "integer"}}, ["bytes"])),
        types.Tool(
            name="media",
            description="Returns every kind of content.",
            input_schema=OBJECT,
            output_schema=schema({"temperature": {"type": "number"}, "unit": {"type": "string"}}),
        ),
        types.Tool(name="headers", description="The HTTP headers this call arrived with.", input_schema=OBJECT),
        types.Tool(name="add_tool", description="Adds a tool named `name`.", input_schema=schema({"name": {"type": "string"}}, ["name"])),
        types.Tool(name="count_lists", description="How many tools/list requests were served.", input_schema=OBJECT),
    ]


class State:
    def __init__(self, bulk: int) -> None:
        self.tools = base_tools()
        self.tools += [
            types.Tool(name=f"bulk_{index:04}", description=f"Bulk tool number {index}.", input_schema=OBJECT)
            for index in range(bulk)
        ]
        self.lists = 0


def text(value: str) -> types.TextContent:
    return types.TextContent(type="text", text=value)


def build(bulk: int) -> Server:
    state = State(bulk)

    async def list_tools(ctx, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        state.lists += 1
        start = int(params.cursor) if params is not None and params.cursor else 0
        page = state.tools[start : start + PAGE_SIZE]
        following = start + PAGE_SIZE
        return types.ListToolsResult(tools=page, next_cursor=str(following) if following < len(state.tools) else None)

    async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        name = params.name
        arguments = params.arguments or {}
        if name == "echo":
            return types.CallToolResult(content=[text(str(arguments.get("text", "")))])
        if name == "slow":
            seconds = float(arguments.get("seconds", 1))
            await asyncio.sleep(seconds)
            return types.CallToolResult(content=[text(f"slept {seconds}")])
        if name == "fail":
            return types.CallToolResult(content=[text(str(arguments.get("message", "it failed")))], is_error=True)
        if name == "raise":
            raise RuntimeError("raised on purpose")
        if name == "die":
            sys.stdout.flush()
            os._exit(3)
        if name == "huge":
            size = int(arguments.get("bytes", 0))
            pattern = "0123456789abcdef"
            body = (pattern * (size // len(pattern) + 1))[:size]
            return types.CallToolResult(content=[text(body)])
        if name == "media":
            return types.CallToolResult(
                content=[
                    text('{"temperature": 21.5, "unit": "C"}'),
                    types.ImageContent(type="image", data=PNG, mime_type="image/png"),
                    types.AudioContent(type="audio", data=WAV, mime_type="audio/wav"),
                    types.ResourceLink(
                        type="resource_link", uri="file:///tmp/report.txt", name="report", description="The report", mime_type="text/plain"
                    ),
                    types.EmbeddedResource(
                        type="resource",
                        resource=types.TextResourceContents(uri="memo://note", mime_type="text/plain", text="an embedded note"),
                    ),
                    types.EmbeddedResource(
                        type="resource",
                        resource=types.BlobResourceContents(uri="memo://blob", mime_type="application/pdf", blob=base64.b64encode(b"%PDF-1.4").decode()),
                    ),
                ],
                structured_content={"temperature": 21.5, "unit": "C"},
            )
        if name == "headers":
            request = ctx.request
            seen = {} if request is None else {key: value for key, value in request.headers.items()}
            return types.CallToolResult(content=[text(repr(sorted(seen.items())))], structured_content={"headers": seen})
        if name == "add_tool":
            added = str(arguments.get("name", "added"))
            state.tools.append(types.Tool(name=added, description="Added at run time.", input_schema=OBJECT))
            await ctx.session.send_tool_list_changed()
            return types.CallToolResult(content=[text(f"added {added}")])
        if name == "count_lists":
            return types.CallToolResult(content=[text(str(state.lists))])
        if name.startswith("bulk_"):
            return types.CallToolResult(content=[text(name)])
        if any(tool.name == name for tool in state.tools):
            return types.CallToolResult(content=[text(f"{name} was called")])
        return types.CallToolResult(content=[text(f"no tool {name}")], is_error=True)

    return Server("vllora-test-python", version="1.0.0", on_list_tools=list_tools, on_call_tool=call_tool)


def main() -> None:
    args = sys.argv[1:]
    bulk = 0
    if "--bulk" in args:
        at = args.index("--bulk")
        bulk = int(args[at + 1])
        del args[at : at + 2]
    server = build(bulk)
    options = server.create_initialization_options(NotificationOptions(tools_changed=True))
    if args[:1] == ["http"]:
        port = int(args[1])
        app = server.streamable_http_app()
        print(f"listening on {port}", file=sys.stderr, flush=True)
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
        return

    async def serve_stdio() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, options)

    asyncio.run(serve_stdio())


if __name__ == "__main__":
    main()
