//! Answers a question with the tools of an MCP server: the server's tools are offered to the model, the
//! model's calls are run on the server, and the loop goes on until the model answers (at most 8 steps),
//! streaming the answer and each tool call as it happens.
//!
//! Usage:
//!
//! ```text
//! mcp <server> "<question>"
//!   <server>  an MCP endpoint URL (streamable HTTP: http://127.0.0.1:3001/mcp)
//!             or a command that speaks MCP over stdio, as one argument: "npx -y @modelcontextprotocol/server-everything"
//! ```
//!
//! Environment:
//! - `VLLORA_MODEL`: the model (default `gpt-4.1-mini`); it is routed like any call (`claude-...`,
//!   `gemini-...`, a Bedrock id, `local/<model>` for a proxy named `local`), so it needs that provider's key
//!   (`VLLORA_OPENAI_API_KEY`, `VLLORA_ANTHROPIC_API_KEY`, ...) or, for a proxy, `VLLORA_LOCAL_ENDPOINT`.
//! - `VLLORA_MCP_BEARER_TOKEN` (optional): sent as `Authorization: Bearer ...` to an HTTP server.

use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMResult;
use vllora_llm::tools::mcp::McpServer;
use vllora_llm::tools::{ToolLoopEvent, ToolLoopOutcome, ToolSet};
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};

#[tokio::main]
async fn main() -> LLMResult<()> {
    let mut arguments = std::env::args().skip(1);
    let (Some(server), Some(question)) = (arguments.next(), arguments.next()) else {
        eprintln!("usage: mcp <MCP server URL or stdio command> \"<question>\"");
        eprintln!(
            "       set VLLORA_MODEL (default gpt-4.1-mini) and that provider's key, e.g. VLLORA_OPENAI_API_KEY"
        );
        std::process::exit(2);
    };
    let model = std::env::var("VLLORA_MODEL").unwrap_or_else(|_| "gpt-4.1-mini".to_owned());

    let server = if server.starts_with("http://") || server.starts_with("https://") {
        let http = McpServer::http("server", server);
        match std::env::var("VLLORA_MCP_BEARER_TOKEN") {
            Ok(token) => http.with_bearer_token(token),
            Err(_) => http,
        }
    } else {
        let mut words = server.split_whitespace();
        let Some(command) = words.next() else {
            eprintln!("the MCP server command is empty");
            std::process::exit(2);
        };
        McpServer::stdio("server", command).with_args(words)
    };

    let tools = server.tools().await?;
    println!(
        "{} tools: {}",
        tools.len(),
        tools.iter().map(|tool| tool.name.as_str()).collect::<Vec<_>>().join(", ")
    );

    let client = VlloraLLMClient::new().with_tools(ToolSet::new().with_mcp(server));
    let request = ChatCompletionRequest {
        model,
        messages: vec![ChatCompletionMessage::new_text("user", question.clone())],
        ..Default::default()
    };
    println!("> {question}");
    let mut stream = client.completions().tool_loop().with_max_steps(8).stream(request).await?;
    while let Some(event) = stream.next().await {
        match event? {
            ToolLoopEvent::Chunk { chunk, .. } => {
                for choice in chunk.choices {
                    print!("{}", choice.delta.content.unwrap_or_default());
                }
            }
            ToolLoopEvent::ToolStarted { call, .. } => {
                println!("\n[calling {} {}]", call.function.name, call.function.arguments);
            }
            ToolLoopEvent::ToolFinished { record, .. } => {
                let text = record.output.text_content();
                let shown: String = text.chars().take(200).collect();
                let status = if record.output.is_error { "failed" } else { "returned" };
                println!(
                    "[{} {status} in {} ms: {shown}]",
                    record.call.function.name,
                    record.duration.as_millis()
                );
            }
            ToolLoopEvent::Finished(output) => {
                println!();
                match &output.outcome {
                    ToolLoopOutcome::Answered => {}
                    ToolLoopOutcome::MaxStepsReached { pending } => {
                        println!(
                            "(stopped after {} steps with {} calls pending)",
                            output.steps.len(),
                            pending.len()
                        )
                    }
                    other => println!("(ended: {other:?})"),
                }
                let usage = output.usage;
                println!(
                    "{} steps, {} input + {} output tokens",
                    output.steps.len(),
                    usage.prompt_tokens,
                    usage.completion_tokens
                );
            }
            _ => {}
        }
    }
    Ok(())
}
