//! Resolved property values, handed to an adapter, that remember which ones were read.
//!
//! Names are the SDK builder's; values have been checked against the schema already, so a type
//! mismatch here means a reference resolved to a value of the wrong shape.

use serde_json::{Map, Value};

use super::AwsError;

/// The resolved properties of one resource (or of one nested structure).
#[derive(Debug, Clone, Default)]
pub struct Props {
    map: Map<String, Value>,
    /// Dotted path of this structure inside the resource, for messages.
    path: String,
    /// The operation the values feed, for messages.
    op: &'static str,
    consumed: Vec<String>,
}

impl Props {
    pub fn new(map: Map<String, Value>) -> Self {
        Props { map, path: String::new(), op: "Create", consumed: Vec::new() }
    }

    /// Names the operation these values feed, for error messages.
    pub fn for_op(&mut self, op: &'static str) -> &mut Self {
        self.op = op;
        self
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        let v = self.map.remove(key);
        if v.is_some() {
            self.consumed.push(key.to_string());
        }
        v.filter(|v| !v.is_null())
    }

    fn full(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_string() } else { format!("{}.{key}", self.path) }
    }

    fn wrong(&self, key: &str, expected: &str, got: &Value) -> AwsError {
        AwsError::input(self.op, format!("`{}` must be {expected}, got {got}", self.full(key)))
    }

    fn missing(&self, key: &str) -> AwsError {
        AwsError::input(self.op, format!("required property `{}` is missing", self.full(key)))
    }

    /// A required string.
    pub fn str(&mut self, key: &str) -> Result<String, AwsError> {
        self.opt_str(key)?.ok_or_else(|| self.missing(key))
    }

    pub fn opt_str(&mut self, key: &str) -> Result<Option<String>, AwsError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            // Numbers and booleans interpolated into a string field keep their text.
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(other) => Err(self.wrong(key, "a string", &other)),
        }
    }

    pub fn opt_i64(&mut self, key: &str) -> Result<Option<i64>, AwsError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
            Some(Value::String(s)) if s.parse::<i64>().is_ok() => Ok(s.parse().ok()),
            Some(other) => Err(self.wrong(key, "an integer", &other)),
        }
    }

    pub fn opt_i32(&mut self, key: &str) -> Result<Option<i32>, AwsError> {
        match self.opt_i64(key)? {
            None => Ok(None),
            Some(n) => i32::try_from(n)
                .map(Some)
                .map_err(|_| AwsError::input(self.op, format!("`{}` = {n} is out of range", self.full(key)))),
        }
    }

    pub fn i32(&mut self, key: &str) -> Result<i32, AwsError> {
        self.opt_i32(key)?.ok_or_else(|| self.missing(key))
    }

    pub fn opt_f64(&mut self, key: &str) -> Result<Option<f64>, AwsError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(self.wrong(key, "a number", &other)),
        }
    }

    pub fn opt_bool(&mut self, key: &str) -> Result<Option<bool>, AwsError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
            Some(other) => Err(self.wrong(key, "a boolean", &other)),
        }
    }

    /// A list of strings (absent: empty).
    pub fn str_list(&mut self, key: &str) -> Result<Vec<String>, AwsError> {
        match self.take(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    other => Err(self.wrong(key, "a list of strings", &other)),
                })
                .collect(),
            Some(Value::String(s)) => Ok(vec![s]),
            Some(other) => Err(self.wrong(key, "a list of strings", &other)),
        }
    }

    /// A free-form table rendered as JSON text (IAM policy documents).
    pub fn document(&mut self, key: &str) -> Result<Option<String>, AwsError> {
        match self.take(key) {
            None => Ok(None),
            Some(v @ Value::Object(_)) => Ok(Some(v.to_string())),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong(key, "a policy document table", &other)),
        }
    }

    /// A string-to-string table, such as tags, sorted by key.
    pub fn str_map(&mut self, key: &str) -> Result<Vec<(String, String)>, AwsError> {
        match self.take(key) {
            None => Ok(Vec::new()),
            Some(Value::Object(m)) => m
                .into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k, s)),
                    other => Err(self.wrong(key, "a table of strings", &other)),
                })
                .collect(),
            Some(other) => Err(self.wrong(key, "a table of strings", &other)),
        }
    }

    /// The resource's tags (the plan's, the stack's defaults and ironplan's identity tags,
    /// merged by the executor).
    pub fn tags(&mut self) -> Result<Vec<(String, String)>, AwsError> {
        self.str_map("tags")
    }

    /// A nested structure.
    pub fn opt_struct(&mut self, key: &str) -> Result<Option<Props>, AwsError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(self.child(key, m))),
            Some(other) => Err(self.wrong(key, "a table", &other)),
        }
    }

    /// A list of nested structures (absent: empty).
    pub fn structs(&mut self, key: &str) -> Result<Vec<Props>, AwsError> {
        match self.take(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Object(m) => Ok(self.child(&format!("{key}[{i}]"), m)),
                    other => Err(self.wrong(key, "a list of tables", &other)),
                })
                .collect(),
            Some(other) => Err(self.wrong(key, "a list of tables", &other)),
        }
    }

    fn child(&self, key: &str, map: Map<String, Value>) -> Props {
        Props { map, path: self.full(key), op: self.op, consumed: Vec::new() }
    }

    /// Fails if a property was given that the adapter did not read: a value must never be
    /// silently ignored. Call once every property has been read.
    pub fn finish(&self) -> Result<(), AwsError> {
        if self.map.is_empty() {
            return Ok(());
        }
        let keys: Vec<String> = self.map.keys().map(|k| self.full(k)).collect();
        Err(AwsError::input(self.op, format!("ironplan does not pass on {}", keys.join(", "))))
    }

    /// Names read so far (for the schema consistency test).
    pub fn consumed(&self) -> &[String] {
        &self.consumed
    }

    /// Names not read (for the schema consistency test).
    pub fn remaining(&self) -> Vec<String> {
        self.map.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(v: Value) -> Props {
        match v {
            Value::Object(m) => Props::new(m),
            _ => unreachable!(),
        }
    }

    #[test]
    fn reads_values_and_reports_leftovers() {
        let mut p = props(json!({"a": "x", "n": 3, "b": true, "extra": 1}));
        assert_eq!(p.str("a").unwrap(), "x");
        assert_eq!(p.opt_i32("n").unwrap(), Some(3));
        assert_eq!(p.opt_bool("b").unwrap(), Some(true));
        let err = p.finish().unwrap_err();
        assert!(err.message.contains("extra"), "{err}");
    }

    #[test]
    fn nested_paths_name_the_field() {
        let mut p = props(json!({"rules": [{"port": "not a number"}]}));
        let mut rules = p.structs("rules").unwrap();
        let err = rules[0].opt_i32("port").unwrap_err();
        assert!(err.message.contains("rules[0].port"), "{err}");
    }

    #[test]
    fn missing_required_is_an_error() {
        let mut p = Props::default();
        assert!(p.str("cidr_block").unwrap_err().message.contains("cidr_block"));
    }
}
