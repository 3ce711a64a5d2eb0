//! Request bodies: one type per request, read leniently by serde and checked by
//! `validator`, so that a 422 names *every* failing field at once (docs/api.md), wrong
//! JSON types and unknown fields included, in the order the fields are declared.
//!
//! - [`Field`] and [`Nested`] are the lenient wrappers: a field that is missing, null
//!   or of the wrong JSON type does not stop serde; the `custom` checks below turn it
//!   into `required` or `type` (or the field's own code).
//! - Unknown fields are collected by `serde_ignored` (serde's `deny_unknown_fields`
//!   would stop at the first one); a key sent twice is serde's `duplicate field`, a
//!   400.
//! - [`JsonBody`] reads the body (415, 413, 400); [`JsonBody::validate`] and
//!   [`ValidatedJson`] turn `validator`'s errors into one 422, with the messages of
//!   [`super::messages`].

mod body;
mod checks;
mod errors;
mod field;

pub use body::*;
pub use checks::*;
pub use field::*;

/// Request bodies above this are refused with 413 (docs/api.md).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
