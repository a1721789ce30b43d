//! The embeddings API of the client (being written).
