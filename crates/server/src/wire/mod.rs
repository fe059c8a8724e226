//! What clients read, and the only place that decides it: the bodies of the
//! HTTP API's requests and answers and the payloads of WebSocket frames,
//! with their JSON and OpenAPI shapes.
//!
//! Storage returns its own types, shaped by its queries; each is turned into
//! its wire type here by an explicit conversion that names every field, so a
//! field storage adds reaches no client until this module says how, and what
//! a client must not see (another person's client id) is left out where the
//! wire value is made. The types are versioned with the protocol
//! (`messenger::protocol::VERSION`): `v1` is what today's clients parse,
//! pinned by `tests/wire_v1.rs` (example frames, byte for byte, and the
//! served OpenAPI document), and a change that breaks them belongs in a new
//! version, not here.

pub mod v1;
