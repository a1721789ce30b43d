//! Data types shared by every provider.

pub mod gateway;
