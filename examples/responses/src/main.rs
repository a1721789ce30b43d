//! The OpenAI Responses API: a one-shot answer, a function call answered and sent back with the
//! previous output, then a streamed answer.
//!
//! Needs `VLLORA_OPENAI_API_KEY` (or `OPENAI_API_KEY`). Usage: `responses ["<question>"]`.

use serde_json::json;
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMResult;
use vllora_llm::openai::{
    ResponsesFunctionTool, ResponsesItem, ResponsesRequest, ResponsesStreamEvent, ResponsesTool,
};

/// Whether one of `names` is set to something; otherwise says what to set, on standard error.
fn configured(example: &str, names: &[&str], what: &str) -> bool {
    let set = names.iter().any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()));
    if !set {
        eprintln!("{example}: set {} to {what}", names.join(" or "));
    }
    set
}

#[tokio::main]
async fn main() -> LLMResult<()> {
    if !configured("responses", &["VLLORA_OPENAI_API_KEY", "OPENAI_API_KEY"], "your OpenAI API key") {
        std::process::exit(2);
    }
    let question = std::env::args().nth(1).unwrap_or_else(|| "Say hello in one short sentence.".to_owned());
    // `gpt-` models go to OpenAI; the key comes from VLLORA_OPENAI_API_KEY.
    let responses = VlloraLLMClient::new().responses();

    let request = ResponsesRequest {
        model: "gpt-4.1-mini".to_owned(),
        instructions: Some("You are a helpful assistant.".to_owned()),
        input: question.into(),
        ..Default::default()
    };
    let response = responses.create(request.clone()).await?;
    println!("One-shot: {}", response.output_text());
    if let Some(usage) = &response.usage {
        println!("({} input + {} output tokens)", usage.input_tokens, usage.output_tokens);
    }

    // A function the model may call: the call comes back as an output item, and the answer goes in
    // with the whole earlier output so the model sees its own call.
    let weather = ResponsesTool::Function(ResponsesFunctionTool {
        name: "get_weather".to_owned(),
        description: Some("Current temperature in a city, in degrees Celsius".to_owned()),
        parameters: Some(json!({
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": false
        })),
        strict: Some(true),
    });
    let mut input = vec![ResponsesItem::message("user", "How warm is it in Paris?")];
    let asking = ResponsesRequest {
        model: "gpt-4.1-mini".to_owned(),
        input: input.clone().into(),
        tools: Some(vec![weather]),
        ..Default::default()
    };
    let first = responses.create(asking.clone()).await?;
    input.extend(first.output.iter().cloned());
    for call in first.function_calls() {
        println!("The model calls {}({})", call.name, call.arguments);
        input.push(ResponsesItem::function_call_output(call.call_id.clone(), r#"{"celsius": 18}"#));
    }
    let answer = responses.create(ResponsesRequest { input: input.into(), ..asking }).await?;
    println!("With the tool's result: {}", answer.output_text());

    print!("Streamed: ");
    let mut stream = responses.create_stream(request).await?;
    while let Some(event) = stream.next().await {
        match event? {
            ResponsesStreamEvent::OutputTextDelta(delta) => print!("{}", delta.delta),
            ResponsesStreamEvent::Completed(done) => {
                let usage = done.response.usage.unwrap_or_default();
                println!("\n({} input + {} output tokens)", usage.input_tokens, usage.output_tokens);
            }
            ResponsesStreamEvent::Failed(failed) => println!("\nfailed: {:?}", failed.response.error),
            ResponsesStreamEvent::Error(error) => println!("\nerror: {}", error.message),
            _ => {}
        }
    }
    Ok(())
}
