//! Claude on AWS Bedrock through InvokeModel: the Anthropic Messages body (`anthropic_version:
//! "bedrock-2023-05-31"`) instead of Converse, one-shot and streamed, with the AWS credentials found as
//! the AWS SDKs find them — environment keys, a profile (keys, `role_arn` + `source_profile`,
//! `credential_process`, web identity), `AWS_WEB_IDENTITY_TOKEN_FILE` on EKS, ECS/EKS container
//! credentials, or the EC2 instance role — and where the keys came from printed.
//!
//! Needs a region (`AWS_REGION`, or `region` in the profile) and credentials from any of those sources
//! (or `AWS_BEARER_TOKEN_BEDROCK`, a Bedrock API key). `BEDROCK_MODEL` overrides the model (an Anthropic
//! model id or inference profile). Run with `cargo run -p vllora_llm_example_bedrock_invoke`.

use std::sync::Arc;

use vllora_llm::client::{ModelInstance, VlloraLLMClient};
use vllora_llm::error::LLMResult;
use vllora_llm::http::{HttpClient, HttpConfig};
use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};
use vllora_llm::bedrock::{BedrockConfig, BedrockModel};

#[tokio::main]
async fn main() -> LLMResult<()> {
    let model = std::env::var("BEDROCK_MODEL")
        .unwrap_or_else(|_| "us.anthropic.claude-sonnet-4-20250514-v1:0".into());
    // The configuration decides which credential source to use (reading variables and the shared
    // files once); the keys themselves are fetched on the first call and refreshed before they expire.
    let config = match BedrockConfig::from_env() {
        Ok(config) => config.with_invoke_model(&model),
        Err(error) => {
            eprintln!(
                "{error}\nSet AWS_REGION and AWS credentials (environment keys, a profile, web identity, \
                 container or instance role); see docs/providers/aws-credentials.md."
            );
            std::process::exit(2);
        }
    };
    println!("config: {config:?}");
    let bedrock = BedrockModel::new(config, HttpClient::new(HttpConfig::default())?);
    let instance: Arc<Box<dyn ModelInstance>> = Arc::new(Box::new(bedrock));
    let client = VlloraLLMClient::new_with_instance(instance);

    let request = ChatCompletionRequest {
        model,
        messages: vec![
            ChatCompletionMessage::new_text("system", "You are terse."),
            ChatCompletionMessage::new_text("user", "Name the largest planet."),
        ],
        max_tokens: Some(200),
        ..Default::default()
    };
    let answer = client.completions().create(request.clone()).await?;
    let text = answer.message().content.as_ref().and_then(|content| content.as_string());
    println!("invoke: {} ({:?})", text.unwrap_or_default(), answer.finish_reason());

    print!("invoke-with-response-stream: ");
    let mut stream = client.completions().create_stream(request).await?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        for choice in &chunk.choices {
            print!("{}", choice.delta.content.clone().unwrap_or_default());
        }
        if let Some(usage) = chunk.usage {
            print!(" [{} in, {} out]", usage.prompt_tokens, usage.completion_tokens);
        }
    }
    println!();
    Ok(())
}
