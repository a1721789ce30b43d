//! Embeddings: two texts in, two vectors out, and how similar they are.
//!
//! Against OpenAI: needs `VLLORA_OPENAI_API_KEY` (or `OPENAI_API_KEY`); `text-embedding-*` models go to
//! OpenAI. Against any OpenAI-compatible server (llama.cpp started with `--embedding`, vLLM, Ollama...):
//! `embeddings <base URL, e.g. http://127.0.0.1:8080/v1> [model]`.

use vllora_llm::client::InferenceModelProvider;
use vllora_llm::client::VlloraLLMClient;
use vllora_llm::error::LLMResult;
use vllora_llm::types::gateway::EmbeddingRequest;

fn cosine(first: &[f64], second: &[f64]) -> f64 {
    let dot: f64 = first.iter().zip(second).map(|(a, b)| a * b).sum();
    let norm = |vector: &[f64]| vector.iter().map(|value| value * value).sum::<f64>().sqrt();
    dot / (norm(first) * norm(second))
}

#[tokio::main]
async fn main() -> LLMResult<()> {
    let mut arguments = std::env::args().skip(1);
    let (client, model) = match arguments.next() {
        Some(endpoint) => (
            VlloraLLMClient::new()
                .with_model_provider(InferenceModelProvider::Proxy("local".to_owned()))
                .with_inference_endpoint(endpoint),
            arguments.next().unwrap_or_else(|| "embedding-model".to_owned()),
        ),
        None => {
            let has_key = ["VLLORA_OPENAI_API_KEY", "OPENAI_API_KEY"]
                .iter()
                .any(|name| std::env::var(name).is_ok_and(|value| !value.trim().is_empty()));
            if !has_key {
                eprintln!(
                    "embeddings: set VLLORA_OPENAI_API_KEY (or OPENAI_API_KEY) for OpenAI, or pass an \
                     OpenAI-compatible server: embeddings http://127.0.0.1:8080/v1 [model]"
                );
                std::process::exit(2);
            }
            (VlloraLLMClient::new(), "text-embedding-3-small".to_owned())
        }
    };

    let texts = vec!["The cat sat on the mat.", "A kitten rested on the rug."];
    let response = client.embeddings().create(EmbeddingRequest::new(model, texts.clone())).await?;

    let vectors: Vec<Vec<f64>> = response.data.iter().filter_map(|item| item.embedding.to_floats()).collect();
    for (text, vector) in texts.iter().zip(&vectors) {
        println!(
            "{text:?}: {} dimensions, starting {:?}",
            vector.len(),
            vector.iter().take(4).collect::<Vec<_>>()
        );
    }
    if let [first, second] = vectors.as_slice() {
        println!("cosine similarity: {:.3}", cosine(first, second));
    }
    println!("({} prompt tokens, model {})", response.usage.prompt_tokens, response.model);
    Ok(())
}
