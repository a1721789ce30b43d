//! The OpenAI Responses API through the client (being written).
