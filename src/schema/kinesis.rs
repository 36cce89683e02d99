//! `kinesis:*` types. (Not written yet.)

use super::TypeSpec;

pub const TYPES: &[&TypeSpec] = &[];
