//! The routed client on Azure OpenAI (`azure/` prefix: chat, a stream, Responses, embeddings and images,
//! each to its deployment, with one Entra ID token) and on Bedrock with credentials from the AWS chain
//! (an assumed role through STS) and InvokeModel for a Claude model, all configured through the
//! client's Environment, against loopback servers speaking Azure's, Entra ID's, STS's and Bedrock's
//! wire formats.
#![cfg(any(feature = "azure", all(feature = "bedrock", feature = "anthropic")))]
#![allow(clippy::panic, reason = "a test fails by panicking, helpers included")]

use std::collections::HashMap;
use std::path::Path;

use vllora_llm::types::Environment;

#[derive(Debug)]
struct Store {
    variables: HashMap<&'static str, String>,
    files: HashMap<&'static str, String>,
}

impl Environment for Store {
    fn var(&self, name: &str) -> Option<String> {
        self.variables.get(name).cloned()
    }

    fn read_file(&self, path: &Path) -> Option<String> {
        self.files.get(path.to_str()?).cloned()
    }
}

#[cfg(feature = "azure")]
mod azure {
    use std::collections::HashMap;
    use std::sync::Arc;

    use serde_json::json;
    use vllora_llm::client::VlloraLLMClient;
    use vllora_llm::types::gateway::{
        ChatCompletionMessage, ChatCompletionRequest, EmbeddingRequest, ImageGenerationRequest,
    };
    use vllora_llm_testkit::{MockResponse, MockServer};

    use super::Store;

    fn completion(text: &str) -> MockResponse {
        MockResponse::json(
            200,
            json!({"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o",
                   "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}}),
        )
    }

    #[tokio::test]
    async fn the_routed_client_serves_every_api_on_azure_with_one_entra_token() {
        let entra = MockServer::start().await;
        entra.respond(
            "POST",
            "/tenant-1/oauth2/v2.0/token",
            MockResponse::json(
                200,
                json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "entra-1"}),
            ),
        );
        let server = MockServer::start().await;
        let chat_path = "/openai/deployments/prod-4o/chat/completions";
        server.respond("POST", chat_path, completion("Hello from Azure"));
        server.respond(
            "POST",
            chat_path,
            MockResponse::sse([
                "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Streamed\"},\"finish_reason\":\"stop\"}]}\n\n",
                "data: [DONE]\n\n",
            ]),
        );
        server.respond(
            "POST",
            "/openai/v1/responses",
            MockResponse::json(200, json!({"id": "resp_1", "object": "response", "created_at": 1, "status": "completed",
                "model": "prod-4o", "output": [{"type": "message", "id": "m", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": "Responses on Azure", "annotations": []}]}]})),
        );
        server.respond(
            "POST",
            "/openai/deployments/embed/embeddings",
            MockResponse::json(200, json!({"object": "list", "data": [{"object": "embedding", "index": 0,
                "embedding": [0.5]}], "model": "text-embedding-3-small", "usage": {"prompt_tokens": 1, "total_tokens": 1}})),
        );
        server.respond(
            "POST",
            "/openai/deployments/gpt-image-1/images/generations",
            MockResponse::json(200, json!({"created": 1, "data": [{"b64_json": "aGk="}]})),
        );
        let store = Store {
            variables: HashMap::from([
                ("AZURE_OPENAI_ENDPOINT", server.url()),
                ("AZURE_TENANT_ID", "tenant-1".to_owned()),
                ("AZURE_CLIENT_ID", "client-1".to_owned()),
                ("AZURE_CLIENT_SECRET", "secret-1".to_owned()),
                ("AZURE_AUTHORITY_HOST", entra.url()),
                ("VLLORA_AZURE_DEPLOYMENTS", "gpt-4o=prod-4o,text-embedding-3-small=embed".to_owned()),
            ]),
            files: HashMap::new(),
        };
        let client = VlloraLLMClient::new().with_environment(Arc::new(store));
        let chat = ChatCompletionRequest {
            model: "azure/gpt-4o".into(),
            messages: vec![ChatCompletionMessage::new_text("user", "Hi")],
            ..Default::default()
        };
        let answer =
            client.completions().create(chat.clone()).await.unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(
            answer.message().content.as_ref().and_then(|content| content.as_string()),
            Some("Hello from Azure".to_owned())
        );
        let mut stream =
            client.completions().create_stream(chat).await.unwrap_or_else(|error| panic!("{error}"));
        let mut text = String::new();
        while let Some(chunk) = stream.next().await {
            for choice in chunk.unwrap_or_else(|error| panic!("{error}")).choices {
                text.push_str(&choice.delta.content.unwrap_or_default());
            }
        }
        assert_eq!(text, "Streamed");
        let request = serde_json::from_value(json!({"model": "azure/gpt-4o", "input": "Hi"}))
            .unwrap_or_else(|error| panic!("{error}"));
        let response = client.responses().create(request).await;
        assert!(response.is_ok(), "{response:?}");
        let embedded =
            client.embeddings().create(EmbeddingRequest::new("azure/text-embedding-3-small", "hi")).await;
        assert!(embedded.is_ok(), "{embedded:?}");
        let images =
            client.images().generate(ImageGenerationRequest::new("azure/gpt-image-1", "a lighthouse")).await;
        assert!(images.is_ok(), "{images:?}");

        assert_eq!(entra.requests().len(), 1, "one token for every call");
        let requests = server.requests();
        let seen: Vec<(&str, serde_json::Value)> =
            requests.iter().map(|request| (request.path.as_str(), request.json()["model"].clone())).collect();
        assert_eq!(
            seen,
            [
                (chat_path, json!("prod-4o")),
                (chat_path, json!("prod-4o")),
                ("/openai/v1/responses", json!("prod-4o")),
                ("/openai/deployments/embed/embeddings", json!("embed")),
                ("/openai/deployments/gpt-image-1/images/generations", json!("gpt-image-1")),
            ]
        );
        assert!(requests.iter().all(|request| request.header("authorization") == Some("Bearer entra-1")));
    }
}

#[cfg(all(feature = "bedrock", feature = "anthropic"))]
mod bedrock {
    use std::collections::HashMap;
    use std::sync::Arc;

    use serde_json::json;
    use vllora_llm::client::VlloraLLMClient;
    use vllora_llm::types::gateway::{ChatCompletionMessage, ChatCompletionRequest};
    use vllora_llm_testkit::{MockResponse, MockServer};

    use super::Store;

    #[tokio::test]
    async fn a_role_profile_and_invoke_model_through_the_routed_client() {
        let sts = MockServer::start().await;
        sts.respond(
            "POST",
            "/",
            MockResponse::body(
                200,
                "text/xml",
                "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAROUTED</AccessKeyId>\
                 <SecretAccessKey>routed-secret</SecretAccessKey><SessionToken>routed-session</SessionToken>\
                 <Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>",
            ),
        );
        let bedrock = MockServer::start().await;
        let path = "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/invoke";
        bedrock.respond_always(
            "POST",
            path,
            MockResponse::json(200, json!({"id": "msg_bdrk_1", "type": "message", "role": "assistant",
                "model": "claude-sonnet-4-20250514", "content": [{"type": "text", "text": "Claude via InvokeModel"}],
                "stop_reason": "end_turn", "usage": {"input_tokens": 4, "output_tokens": 3}})),
        );
        let store = Store {
            variables: HashMap::from([
                ("AWS_PROFILE", "bedrock-role".to_owned()),
                ("AWS_CONFIG_FILE", "/aws/config".to_owned()),
                ("AWS_SHARED_CREDENTIALS_FILE", "/aws/credentials".to_owned()),
                ("AWS_ENDPOINT_URL_STS", sts.url()),
                ("VLLORA_BEDROCK_INVOKE_MODELS", "*".to_owned()),
            ]),
            files: HashMap::from([
                (
                    "/aws/config",
                    "[profile bedrock-role]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = base\n\
                     region = us-east-1\n"
                        .to_owned(),
                ),
                ("/aws/credentials", "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n".to_owned()),
            ]),
        };
        let client =
            VlloraLLMClient::new().with_environment(Arc::new(store)).with_inference_endpoint(bedrock.url());
        for _ in 0..3 {
            let request = ChatCompletionRequest {
                model: "bedrock/us.anthropic.claude-sonnet-4-20250514-v1:0".into(),
                messages: vec![ChatCompletionMessage::new_text("user", "Hi")],
                max_tokens: Some(32),
                ..Default::default()
            };
            let answer = client.completions().create(request).await.unwrap_or_else(|error| panic!("{error}"));
            assert_eq!(
                answer.message().content.as_ref().and_then(|content| content.as_string()),
                Some("Claude via InvokeModel".to_owned())
            );
        }
        assert_eq!(sts.requests().len(), 1, "the role is assumed once");
        let calls = bedrock.requests();
        assert_eq!(calls.len(), 3);
        for call in &calls {
            assert_eq!(call.json()["anthropic_version"], "bedrock-2023-05-31");
            assert!(call.header("authorization").unwrap_or_default().contains("Credential=ASIAROUTED/"));
            assert_eq!(call.header("x-amz-security-token"), Some("routed-session"));
        }
    }
}
