//! `ironplan plan` as a user runs it: the healthcare pipeline's dry run, its JSON and DOT.
