//! Parta ID: verified learning profiles (DESIGN §1, §3). Phone numbers, SMS
//! codes and their send limits, session tokens, passwords,
//! and the events a link between a school account and a profile produces.
//!
//! Architecture invariant: this crate is pure. It never reads the clock, opens a
//! socket or touches a database; callers pass the time (unix seconds) and a
//! random number generator in and persist what it returns.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod code;
pub mod event;
pub mod family;
pub mod limits;
pub mod password;
mod phone;
pub mod rights;
pub mod token;

pub use phone::{Phone, PhoneError};
