//! async-openai with its own client (reqwest, its default features): the request built with its
//! types, `client.chat().create(request.clone())` and `create_stream`, reading the same fields of the
//! answer and chunks as the main bench's `library.rs`.

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionMessageToolCall, ChatCompletionMessageToolCalls, ChatCompletionRequestAssistantMessage,
    ChatCompletionRequestAssistantMessageContent, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestSystemMessageContent,
    ChatCompletionRequestToolMessage, ChatCompletionRequestToolMessageContent,
    ChatCompletionRequestUserMessage, ChatCompletionRequestUserMessageContent, ChatCompletionResponseStream,
    ChatCompletionStreamOptions, ChatCompletionTool, ChatCompletionTools, CreateChatCompletionRequest,
    FunctionCall, FunctionObject,
};
use futures_util::StreamExt;

use crate::fixture::{self, Request};

/// An async-openai client pointed at one scenario of the loopback server, with its request.
pub struct OpenAiPeer {
    client: Client<OpenAIConfig>,
    request: CreateChatCompletionRequest,
}

fn system(text: &str) -> ChatCompletionRequestMessage {
    ChatCompletionRequestMessage::System(ChatCompletionRequestSystemMessage {
        content: ChatCompletionRequestSystemMessageContent::Text(text.to_owned()),
        name: None,
    })
}

fn user(text: &str) -> ChatCompletionRequestMessage {
    ChatCompletionRequestMessage::User(ChatCompletionRequestUserMessage {
        content: ChatCompletionRequestUserMessageContent::Text(text.to_owned()),
        name: None,
    })
}

fn assistant(text: &str) -> ChatCompletionRequestMessage {
    ChatCompletionRequestMessage::Assistant(ChatCompletionRequestAssistantMessage {
        content: Some(ChatCompletionRequestAssistantMessageContent::Text(text.to_owned())),
        ..Default::default()
    })
}

/// The fixture's request as async-openai's `CreateChatCompletionRequest`.
#[allow(deprecated)] // `max_tokens` and `user`: the fixture sends them, as many applications still do.
pub fn request(kind: Request) -> CreateChatCompletionRequest {
    let messages = match kind {
        Request::Turns => std::iter::once(system(fixture::SYSTEM_PROMPT))
            .chain(
                fixture::turns()
                    .map(|(role, text)| if role == "user" { user(text) } else { assistant(text) }),
            )
            .collect(),
        Request::OneShot | Request::Stream => vec![
            system(fixture::SYSTEM_PROMPT),
            user(fixture::FIRST_QUESTION),
            ChatCompletionRequestMessage::Assistant(ChatCompletionRequestAssistantMessage {
                tool_calls: Some(vec![ChatCompletionMessageToolCalls::Function(
                    ChatCompletionMessageToolCall {
                        id: fixture::CALL_ID.to_owned(),
                        function: FunctionCall {
                            name: fixture::TOOL_NAME.to_owned(),
                            arguments: fixture::CALL_ARGUMENTS.to_owned(),
                        },
                    },
                )]),
                ..Default::default()
            }),
            ChatCompletionRequestMessage::Tool(ChatCompletionRequestToolMessage {
                content: ChatCompletionRequestToolMessageContent::Text(fixture::TOOL_RESULT.to_owned()),
                tool_call_id: fixture::CALL_ID.to_owned(),
            }),
            user(fixture::LAST_QUESTION),
        ],
    };
    let stream = kind == Request::Stream;
    CreateChatCompletionRequest {
        model: fixture::MODEL.to_owned(),
        messages,
        tools: Some(vec![ChatCompletionTools::Function(ChatCompletionTool {
            function: FunctionObject {
                name: fixture::TOOL_NAME.to_owned(),
                description: Some(fixture::TOOL_DESCRIPTION.to_owned()),
                parameters: Some(fixture::tool_parameters()),
                strict: Some(true),
            },
        })]),
        temperature: Some(fixture::TEMPERATURE),
        top_p: Some(fixture::TOP_P),
        max_tokens: Some(fixture::MAX_TOKENS),
        user: Some(fixture::USER.to_owned()),
        stream: stream.then_some(true),
        stream_options: stream
            .then_some(ChatCompletionStreamOptions { include_usage: Some(true), ..Default::default() }),
        ..Default::default()
    }
}

impl OpenAiPeer {
    /// A client whose base URL is `base_url` (`http://127.0.0.1:PORT/<scenario>/v1`).
    pub fn new(base_url: &str, kind: Request) -> OpenAiPeer {
        let config = OpenAIConfig::new().with_api_key(fixture::API_KEY).with_api_base(base_url);
        OpenAiPeer { client: Client::with_config(config), request: request(kind) }
    }

    /// One completion; returns the length of the answer's text. `create` takes the request by value:
    /// a caller that keeps its conversation clones it.
    pub async fn one_shot(&self) -> Result<usize, String> {
        let answer =
            self.client.chat().create(self.request.clone()).await.map_err(|error| error.to_string())?;
        Ok(answer.choices.first().and_then(|choice| choice.message.content.as_deref()).map_or(0, str::len))
    }

    /// One stream read to the end; returns how many chunks it delivered.
    pub async fn stream(&self) -> Result<usize, String> {
        let mut stream = self.open().await?;
        let mut chunks = 0;
        let mut seen = 0usize;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|error| error.to_string())?;
            chunks += 1;
            seen += chunk.id.len() + chunk.model.len();
            for choice in &chunk.choices {
                seen += choice.index as usize
                    + usize::from(choice.delta.role.is_some())
                    + choice.delta.content.as_deref().map_or(0, str::len)
                    + usize::from(choice.finish_reason.is_some());
            }
            if let Some(usage) = &chunk.usage {
                seen += (usage.prompt_tokens + usage.completion_tokens) as usize;
            }
        }
        std::hint::black_box(seen);
        Ok(chunks)
    }

    async fn open(&self) -> Result<ChatCompletionResponseStream, String> {
        self.client.chat().create_stream(self.request.clone()).await.map_err(|error| error.to_string())
    }

    /// Opens a stream and reads its first chunk, then keeps it open.
    pub async fn open_stream(&self) -> Result<ChatCompletionResponseStream, String> {
        let mut stream = self.open().await?;
        match stream.next().await {
            Some(Ok(_)) => Ok(stream),
            Some(Err(error)) => Err(error.to_string()),
            None => Err("the stream ended early".to_owned()),
        }
    }
}
