//! Where a stack's state lives: a local directory (the default, `.ironplan`) or an S3 prefix
//! (`s3://BUCKET/PREFIX`), chosen by `--state`, `IRONPLAN_STATE` or the plan's `[state]` table.
//!
//! **Invariant:** a location is checked before it is used: a bucket name S3 would accept, a
//! prefix of plain segments (no empty, `.` or `..` segment, no control character), and no
//! other URL scheme taken for a directory.

use std::fmt;
use std::path::PathBuf;

/// The longest prefix accepted (S3 keys have 1,024 bytes; the stack name and suffix need room).
pub const MAX_PREFIX_BYTES: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Dir(PathBuf),
    S3(S3Location),
}

/// An S3 prefix: the stack's state is `PREFIX/STACK.json`, its lock `PREFIX/STACK.lock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Without leading or trailing `/`; may be empty.
    pub prefix: String,
}

impl S3Location {
    /// The key of the stack's object with this extension (`json`, `lock`).
    pub fn key(&self, stack: &str, ext: &str) -> String {
        if self.prefix.is_empty() { format!("{stack}.{ext}") } else { format!("{}/{stack}.{ext}", self.prefix) }
    }

    /// `s3://bucket/key` of one of its objects.
    pub fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Dir(d) => write!(f, "{}", d.display()),
            Location::S3(s) => s.fmt(f),
        }
    }
}

impl Location {
    /// `s3://BUCKET[/PREFIX]` or a directory. The error says what is wrong, for the user.
    pub fn parse(text: &str) -> Result<Location, String> {
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            check_bucket(bucket)?;
            let prefix = prefix.trim_end_matches('/');
            check_prefix(prefix)?;
            return Ok(Location::S3(S3Location { bucket: bucket.to_string(), prefix: prefix.to_string() }));
        }
        if let Some((scheme, _)) = text.split_once("://")
            && !scheme.is_empty()
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err(format!(
                "`{}://` is not a state location ironplan knows: use `s3://BUCKET/PREFIX` or a directory",
                crate::diag::quote(scheme, 20)
            ));
        }
        if text.is_empty() {
            return Err("the state location is empty".into());
        }
        if text.chars().any(char::is_control) {
            return Err("the state directory contains a control character".into());
        }
        Ok(Location::Dir(PathBuf::from(text)))
    }
}

/// S3's rules for bucket names (general purpose buckets).
fn check_bucket(b: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`{}` is not an S3 bucket name: {why}", crate::diag::quote(b, 70)));
    if b.len() < 3 || b.len() > 63 {
        return bad("it must have 3 to 63 characters");
    }
    if !b.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.') {
        return bad("only lowercase letters, digits, `-` and `.` are allowed");
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !alnum(b.chars().next()) || !alnum(b.chars().last()) {
        return bad("it must start and end with a letter or a digit");
    }
    if b.contains("..") {
        return bad("it contains `..`");
    }
    if b.parse::<std::net::Ipv4Addr>().is_ok() {
        return bad("it looks like an IP address");
    }
    Ok(())
}

fn check_prefix(p: &str) -> Result<(), String> {
    if p.is_empty() {
        return Ok(());
    }
    let bad = |why: &str| Err(format!("`{}` is not a state prefix: {why}", crate::diag::quote(p, 70)));
    if p.len() > MAX_PREFIX_BYTES {
        return bad("it is longer than 512 bytes");
    }
    if p.chars().any(char::is_control) {
        return bad("it contains a control character");
    }
    if p.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return bad("its segments must not be empty, `.` or `..`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_and_directories() {
        let s3 = |b: &str, p: &str| Location::S3(S3Location { bucket: b.into(), prefix: p.into() });
        assert_eq!(Location::parse("s3://team-state/ironplan"), Ok(s3("team-state", "ironplan")));
        assert_eq!(Location::parse("s3://team-state/a/b/"), Ok(s3("team-state", "a/b")));
        assert_eq!(Location::parse("s3://team-state"), Ok(s3("team-state", "")));
        assert_eq!(Location::parse(".ironplan"), Ok(Location::Dir(".ironplan".into())));
        let Ok(Location::S3(l)) = Location::parse("s3://team-state/ironplan") else { panic!("s3") };
        assert_eq!(l.key("demo-dev", "lock"), "ironplan/demo-dev.lock");
        assert_eq!(l.to_string(), "s3://team-state/ironplan");
    }

    #[test]
    fn hostile_locations_are_refused_with_the_reason() {
        for (text, why) in [
            ("s3://Team/x", "lowercase"),
            ("s3://ab/x", "3 to 63"),
            ("s3://-ab/x", "start and end"),
            ("s3://a..b/x", "`..`"),
            ("s3://192.168.1.1/x", "IP address"),
            ("s3://bucket/../other", "segments"),
            ("s3://bucket/a//b", "segments"),
            ("s3://bucket/./a", "segments"),
            ("s3://bucket/a\nb", "control"),
            ("gs://bucket/x", "not a state location"),
            ("", "empty"),
            ("dir\u{1b}[2J", "control"),
        ] {
            let err = Location::parse(text).expect_err(text);
            assert!(err.contains(why), "{text:?}: {err}");
            assert!(!err.chars().any(char::is_control), "{err:?}");
        }
        assert!(Location::parse(&format!("s3://bucket/{}", "a".repeat(MAX_PREFIX_BYTES + 1))).is_err());
    }
}
