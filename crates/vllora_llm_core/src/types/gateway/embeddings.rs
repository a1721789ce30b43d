//! Embeddings: OpenAI's `POST /v1/embeddings` request and response as Rust data.

use serde::{Deserialize, Serialize};

/// A request for embeddings, in OpenAI's shape.
///
/// ```
/// use vllora_llm_core::types::gateway::EmbeddingRequest;
///
/// let request = EmbeddingRequest::new("text-embedding-3-small", vec!["first", "second"]);
/// assert_eq!(request.input.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EmbeddingRequest {
    /// The embedding model (`text-embedding-3-small`, or whatever a compatible server serves).
    pub model: String,
    /// What to embed: one text, several, or token ids.
    pub input: EmbeddingInput,
    /// `float` (the default) or `base64` (little-endian `f32`s, a third of the size in JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<EncodingFormat>,
    /// The number of dimensions to return (models that support shortening, such as
    /// `text-embedding-3-*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// A stable id for the end user, for abuse detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl EmbeddingRequest {
    /// A request for the embeddings of `input` by `model`.
    pub fn new(model: impl Into<String>, input: impl Into<EmbeddingInput>) -> Self {
        EmbeddingRequest { model: model.into(), input: input.into(), ..Default::default() }
    }
}

/// What to embed. Each variant is one of OpenAI's four JSON forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingInput {
    /// One text: `"input": "hello"`.
    Text(String),
    /// Several texts, one embedding each.
    Texts(Vec<String>),
    /// One input given as token ids.
    Tokens(Vec<u32>),
    /// Several inputs given as token ids.
    TokenArrays(Vec<Vec<u32>>),
}

impl Default for EmbeddingInput {
    fn default() -> Self {
        EmbeddingInput::Texts(Vec::new())
    }
}

impl EmbeddingInput {
    /// How many embeddings the input asks for.
    pub fn len(&self) -> usize {
        match self {
            EmbeddingInput::Text(_) | EmbeddingInput::Tokens(_) => 1,
            EmbeddingInput::Texts(texts) => texts.len(),
            EmbeddingInput::TokenArrays(arrays) => arrays.len(),
        }
    }

    /// Whether nothing would be embedded: no inputs, or an input without tokens. Providers refuse
    /// these, so a client can reject them before sending.
    pub fn is_empty(&self) -> bool {
        match self {
            EmbeddingInput::Text(_) | EmbeddingInput::Texts(_) => self.len() == 0,
            EmbeddingInput::Tokens(tokens) => tokens.is_empty(),
            EmbeddingInput::TokenArrays(arrays) => arrays.is_empty() || arrays.iter().any(Vec::is_empty),
        }
    }
}

impl From<String> for EmbeddingInput {
    fn from(text: String) -> Self {
        EmbeddingInput::Text(text)
    }
}

impl From<&str> for EmbeddingInput {
    fn from(text: &str) -> Self {
        EmbeddingInput::Text(text.to_owned())
    }
}

impl From<Vec<String>> for EmbeddingInput {
    fn from(texts: Vec<String>) -> Self {
        EmbeddingInput::Texts(texts)
    }
}

impl From<Vec<&str>> for EmbeddingInput {
    fn from(texts: Vec<&str>) -> Self {
        EmbeddingInput::Texts(texts.into_iter().map(str::to_owned).collect())
    }
}

/// How the vectors travel in the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncodingFormat {
    /// JSON arrays of numbers.
    Float,
    /// Base64 of little-endian `f32`s.
    Base64,
}

/// The embeddings, in OpenAI's shape.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EmbeddingResponse {
    /// Always `list`.
    #[serde(default = "list")]
    pub object: String,
    /// One embedding per input, in input order (`index`).
    #[serde(default)]
    pub data: Vec<Embedding>,
    /// The model that answered.
    #[serde(default)]
    pub model: String,
    /// Tokens read.
    #[serde(default)]
    pub usage: EmbeddingUsage,
}

fn list() -> String {
    "list".to_owned()
}

fn embedding() -> String {
    "embedding".to_owned()
}

/// One input's embedding.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Embedding {
    /// Always `embedding`.
    #[serde(default = "embedding")]
    pub object: String,
    /// The position of the input it belongs to.
    #[serde(default)]
    pub index: u32,
    /// The vector.
    pub embedding: EmbeddingVector,
}

/// A vector as it came: numbers, or base64 when `encoding_format` was `base64`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingVector {
    /// The numbers. Kept as `f64` so that a response passed through is the document that arrived.
    Float(Vec<f64>),
    /// Base64 of little-endian `f32`s.
    Base64(String),
}

impl Default for EmbeddingVector {
    fn default() -> Self {
        EmbeddingVector::Float(Vec::new())
    }
}

impl EmbeddingVector {
    /// `values` as OpenAI's base64 form: little-endian `f32`s, for providers that only return numbers.
    pub fn base64_of(values: &[f64]) -> Self {
        let bytes: Vec<u8> = values.iter().flat_map(|value| (*value as f32).to_le_bytes()).collect();
        EmbeddingVector::Base64(encode_base64(&bytes))
    }

    /// The numbers, decoding base64 when needed; `None` when the base64 text is malformed.
    pub fn to_floats(&self) -> Option<Vec<f64>> {
        match self {
            EmbeddingVector::Float(numbers) => Some(numbers.clone()),
            EmbeddingVector::Base64(text) => {
                let bytes = decode_base64(text)?;
                if bytes.len() % 4 != 0 {
                    return None;
                }
                let floats = bytes
                    .chunks_exact(4)
                    .filter_map(|quad| <[u8; 4]>::try_from(quad).ok())
                    .map(|quad| f64::from(f32::from_le_bytes(quad)))
                    .collect();
                Some(floats)
            }
        }
    }
}

const BASE64_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648).
fn encode_base64(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let mut padded = [0u8; 3];
        for (slot, byte) in padded.iter_mut().zip(group) {
            *slot = *byte;
        }
        let accumulated = u32::from_be_bytes([0, padded[0], padded[1], padded[2]]);
        for position in 0..4 {
            if position <= group.len() {
                let index = (accumulated >> (18 - 6 * position)) & 0x3f;
                text.push(char::from(BASE64_ALPHABET.get(index as usize).copied().unwrap_or(b'A')));
            } else {
                text.push('=');
            }
        }
    }
    text
}

/// Standard base64 (RFC 4648, padding optional). Thirty lines instead of a dependency.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn value(symbol: u8) -> Option<u32> {
        Some(u32::from(match symbol {
            b'A'..=b'Z' => symbol - b'A',
            b'a'..=b'z' => symbol - b'a' + 26,
            b'0'..=b'9' => symbol - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let symbols = text.trim_end_matches('=').as_bytes();
    if symbols.len() % 4 == 1 {
        return None;
    }
    let mut bytes = Vec::with_capacity(symbols.len() / 4 * 3 + 2);
    for group in symbols.chunks(4) {
        let mut accumulated = 0u32;
        for symbol in group {
            accumulated = (accumulated << 6) | value(*symbol)?;
        }
        let bits = group.len() * 6;
        accumulated <<= 24 - bits;
        let [_, first, second, third] = accumulated.to_be_bytes();
        bytes.extend([first, second, third].into_iter().take(bits / 8));
    }
    Some(bytes)
}

/// Tokens an embeddings call read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EmbeddingUsage {
    /// Input tokens.
    #[serde(default)]
    pub prompt_tokens: u32,
    /// The same number: embeddings produce no output tokens.
    #[serde(default)]
    pub total_tokens: u32,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn round_trip<T: Serialize + serde::de::DeserializeOwned>(document: &Value) -> Value {
        let parsed: T = match serde_json::from_value(document.clone()) {
            Ok(parsed) => parsed,
            Err(error) => panic!("{error}: {document}"),
        };
        serde_json::to_value(&parsed).unwrap_or_default()
    }

    #[test]
    fn every_input_form_round_trips() {
        for input in [
            json!("The food was delicious"),
            json!(["first text", "second text"]),
            json!([1212, 318, 257, 1332]),
            json!([[1212, 318], [257, 1332, 13]]),
        ] {
            let document = json!({"model": "text-embedding-3-small", "input": input});
            assert_eq!(round_trip::<EmbeddingRequest>(&document), document);
        }
        let full = json!({
            "model": "text-embedding-3-large",
            "input": ["a"],
            "encoding_format": "base64",
            "dimensions": 256,
            "user": "user-1234"
        });
        assert_eq!(round_trip::<EmbeddingRequest>(&full), full);
    }

    #[test]
    fn input_counts() {
        let texts = EmbeddingRequest::new("m", vec!["a", "b"]);
        assert_eq!((texts.input.len(), texts.input.is_empty()), (2, false));
        assert_eq!(EmbeddingInput::from("x").len(), 1);
        assert!(EmbeddingInput::Texts(Vec::new()).is_empty());
        assert!(EmbeddingInput::TokenArrays(vec![vec![1], Vec::new()]).is_empty());
        assert!(EmbeddingInput::Tokens(Vec::new()).is_empty());
    }

    #[test]
    fn openai_response_round_trips_exactly() {
        let document = json!({
            "object": "list",
            "data": [
                {"object": "embedding", "index": 0, "embedding": [0.0023064255, -0.009327292, -0.0028842222]},
                {"object": "embedding", "index": 1, "embedding": [-0.006929283495992422, 0.012345]}
            ],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 8, "total_tokens": 8}
        });
        assert_eq!(round_trip::<EmbeddingResponse>(&document), document);
    }

    #[test]
    fn base64_vectors_decode_to_little_endian_floats() {
        // 1.0f32 = 00 00 80 3f, -2.5f32 = 00 00 20 c0.
        let document = json!({
            "object": "list",
            "data": [{"object": "embedding", "index": 0, "embedding": "AACAPwAAIMA="}],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 2, "total_tokens": 2}
        });
        assert_eq!(round_trip::<EmbeddingResponse>(&document), document);
        let parsed: EmbeddingResponse = serde_json::from_value(document).unwrap_or_default();
        let vector = parsed.data.first().map(|item| item.embedding.to_floats());
        assert_eq!(vector, Some(Some(vec![1.0, -2.5])));
        assert_eq!(
            EmbeddingVector::base64_of(&[1.0, -2.5]),
            EmbeddingVector::Base64("AACAPwAAIMA=".to_owned())
        );
        assert_eq!(encode_base64(b"f"), "Zg==");
        assert_eq!(encode_base64(b"fo"), "Zm8=");
        assert_eq!(encode_base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(decode_base64("Zm9vYmE="), Some(b"fooba".to_vec()));
        assert_eq!(EmbeddingVector::Base64("AACAPwA".to_owned()).to_floats(), None, "5 bytes");
        assert_eq!(EmbeddingVector::Base64("A*==".to_owned()).to_floats(), None);
    }

    #[test]
    fn missing_fields_from_compatible_servers_are_tolerated() {
        let document = json!({"data": [{"embedding": [0.5], "extra": true}], "timings": {}});
        let parsed: EmbeddingResponse = serde_json::from_value(document).unwrap_or_default();
        assert_eq!(parsed.object, "list");
        assert_eq!(parsed.data.first().map(|item| item.object.as_str()), Some("embedding"));
        assert_eq!(parsed.usage, EmbeddingUsage::default());
    }
}
