//! Property values against what AWS documents for them (the schema's [`Check`]s): names
//! (length, characters, first and last character, prefixes, form) and numbers (ranges, allowed
//! values), on the value with variables substituted.
//!
//! A part known only at deploy is checked conservatively: `${aws.account_id}` is 12 digits,
//! `${aws.region}` at least 9 of `[a-z0-9-]` (`us-east-1`), and `${name.attr}` at least one
//! character of any kind, so only what must fail is refused: characters of the literal parts
//! and of the variables, the first character if the value starts with known text, the last if
//! it ends with it, and a length that is already too long with each reference at its shortest.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Problem, deceptive, quote};
use crate::plan::{Key, Node, NodeKind, Part, Plan, Ref, Template};
use crate::schema::{self, Check, Form, I32_MAX, Kind, NameRule, Prop};

/// What the checks know of the variables.
pub(super) struct Known<'a> {
    pub vars: &'a BTreeMap<String, String>,
    /// Variables whose value was refused where it is set: unknown here, so that one bad value
    /// is one problem, not one per name it is in.
    pub refused: &'a BTreeSet<String>,
}

/// A piece of a value: text known now, or a reference resolved at deploy.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Seg {
    Text(String),
    /// `what` is the reference as written; `min` its least length; `chars` the characters it
    /// is made of, as a class (empty: unknown).
    Later {
        what: String,
        min: usize,
        chars: &'static str,
    },
}

/// The pieces of a template, variables substituted, adjacent texts merged.
pub(super) fn segments(t: &Template, known: &Known<'_>) -> Vec<Seg> {
    let mut out: Vec<Seg> = Vec::new();
    let push_text = |out: &mut Vec<Seg>, s: &str| match out.last_mut() {
        Some(Seg::Text(prev)) => prev.push_str(s),
        _ => out.push(Seg::Text(s.to_string())),
    };
    for part in &t.parts {
        match part {
            Part::Lit(s) => push_text(&mut out, s),
            Part::Ref(Ref::Var(v), _) if !known.refused.contains(v) && known.vars.contains_key(v) => {
                push_text(&mut out, &known.vars[v])
            }
            Part::Ref(r @ Ref::Var(_), _) => out.push(Seg::Later { what: r.to_string(), min: 0, chars: "" }),
            Part::Ref(r @ Ref::AccountId, _) => out.push(Seg::Later { what: r.to_string(), min: 12, chars: "0-9" }),
            Part::Ref(r @ Ref::Region, _) => out.push(Seg::Later { what: r.to_string(), min: 9, chars: "a-z0-9-" }),
            Part::Ref(r @ Ref::Resource { .. }, _) => out.push(Seg::Later { what: r.to_string(), min: 1, chars: "" }),
        }
    }
    out.retain(|s| !matches!(s, Seg::Text(t) if t.is_empty()));
    out
}

fn shown(segs: &[Seg]) -> String {
    segs.iter()
        .map(|s| match s {
            Seg::Text(t) => t.as_str(),
            Seg::Later { what, .. } => what.as_str(),
        })
        .collect()
}

/// The characters of a class (`a-z0-9-`), for the small classes references have.
fn class_chars(class: &str) -> Vec<char> {
    let chars: Vec<char> = class.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if i + 2 < chars.len() && chars[i + 1] == '-' {
            out.extend(chars[i]..=chars[i + 2]);
            i += 3;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

pub(super) fn show_char(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        c if c.is_ascii_uppercase() => format!("the uppercase letter `{c}`"),
        c if c.is_ascii_graphic() => format!("`{c}`"),
        c => format!("`{c}` (U+{:04X})", u32::from(c)),
    }
}

/// Why `segs` is not a valid name under `rule`, or None.
pub(super) fn name_violation(rule: &NameRule, segs: &[Seg]) -> Option<String> {
    let texts = || segs.iter().filter_map(|s| if let Seg::Text(t) = s { Some(t.as_str()) } else { None });
    let all_known = segs.iter().all(|s| matches!(s, Seg::Text(_)));
    let whole: String = texts().collect();

    // Deceptive characters first: they are never right, whatever the rule.
    if let Some((c, kind)) = whole.chars().find_map(|c| deceptive(c).map(|k| (c, k))) {
        return Some(format!("contains the {kind} U+{:04X}", u32::from(c)));
    }

    // Characters of the known parts, then of the references whose characters are known (a
    // path part's braces and `+` are placed below).
    let path_part = rule.form == Form::PathPart;
    let bad_chars = |segs: &[Seg], lenient: bool| -> Option<String> {
        if rule.chars.is_empty() {
            return None;
        }
        let ok = |c: char| NameRule::class_contains(rule.chars, c) || (lenient && "{}+".contains(c));
        for s in segs {
            match s {
                Seg::Text(t) => {
                    if let Some(c) = t.chars().find(|c| !ok(*c)) {
                        return Some(format!("contains {}", show_char(c)));
                    }
                }
                Seg::Later { what, chars, .. } if !chars.is_empty() => {
                    if let Some(c) = class_chars(chars).into_iter().find(|c| !ok(*c)) {
                        return Some(format!("gets {} from `{what}`", show_char(c)));
                    }
                }
                Seg::Later { .. } => {}
            }
        }
        None
    };
    if let Some(why) = bad_chars(segs, path_part) {
        return Some(why);
    }

    // An API Gateway path parameter: `{name}` or `{name+}`, braces only at the ends.
    let mut segs = segs.to_vec();
    if path_part {
        let opens = matches!(segs.first(), Some(Seg::Text(t)) if t.starts_with('{'));
        let closes = matches!(segs.last(), Some(Seg::Text(t)) if t.ends_with('}'));
        let last_known = matches!(segs.last(), Some(Seg::Text(_)));
        let first_known = matches!(segs.first(), Some(Seg::Text(_)));
        if (opens && !closes && last_known) || (closes && !opens && first_known) {
            return Some("has a brace that does not enclose the whole part: write `{name}` or `{name+}`".into());
        }
        if opens && closes {
            if let Some(Seg::Text(t)) = segs.first_mut() {
                t.remove(0);
            }
            if let Some(Seg::Text(t)) = segs.last_mut() {
                t.pop();
                if t.ends_with('+') {
                    t.pop();
                }
            }
            if all_known && shown(&segs).is_empty() {
                return Some("is a path parameter without a name".into());
            }
        }
        if let Some(why) = bad_chars(&segs, false) {
            return Some(why);
        }
    }

    let first_text = match segs.first() {
        Some(Seg::Text(t)) => Some(t.as_str()),
        _ => None,
    };
    if !rule.prefix.is_empty() {
        let ok = match first_text {
            Some(t) if t.len() >= rule.prefix.len() || segs.len() == 1 => t.starts_with(rule.prefix),
            Some(t) => rule.prefix.starts_with(t),
            None => true,
        };
        if !ok {
            return Some(format!("does not start with `{}`", rule.prefix));
        }
    }
    if let Some(t) = first_text {
        if let Some(p) = rule.reserved_prefixes.iter().find(|p| t.starts_with(**p)) {
            return Some(format!("starts with `{p}`, which AWS reserves"));
        }
        if let Some(c) = t.chars().next()
            && !rule.first.is_empty()
            && !NameRule::class_contains(rule.first, c)
        {
            return Some(format!("starts with {}", show_char(c)));
        }
    }
    if let Some(Seg::Text(t)) = segs.last()
        && let Some(c) = t.chars().last()
        && !rule.not_last.is_empty()
        && NameRule::class_contains(rule.not_last, c)
    {
        return Some(format!("ends with {}", show_char(c)));
    }
    if let Some(Seg::Text(t)) = segs.last()
        && let Some(s) = rule.reserved_suffixes.iter().find(|s| t.ends_with(**s))
    {
        return Some(format!("ends with `{s}`, which AWS reserves"));
    }
    if rule.no_double_hyphen && texts().any(|t| t.contains("--")) {
        return Some("contains `--`".into());
    }
    if rule.form == Form::BucketName {
        if texts().any(|t| t.contains("..")) {
            return Some("contains `..`".into());
        }
        if all_known && looks_like_ipv4(&whole) {
            return Some("is formatted as an IP address".into());
        }
    }
    if rule.form == Form::IamPath {
        let starts = !matches!(segs.first(), Some(Seg::Text(t)) if !t.starts_with('/'));
        let ends = !matches!(segs.last(), Some(Seg::Text(t)) if !t.ends_with('/'));
        if !starts || !ends {
            return Some("is not `/` and does not begin and end with `/`".into());
        }
    }

    let known_len = whole.chars().count();
    let later_min: usize = segs.iter().map(|s| if let Seg::Later { min, .. } = s { *min } else { 0 }).sum();
    if all_known {
        if known_len == 0 && rule.min > 0 {
            return Some("is empty".into());
        }
        if known_len < rule.min {
            return Some(format!("is {known_len} characters; AWS requires at least {}", rule.min));
        }
        if known_len > rule.max {
            return Some(format!("is {known_len} characters; AWS allows at most {}", rule.max));
        }
        if let Some(r) = rule.reserved.iter().find(|r| whole.eq_ignore_ascii_case(r)) {
            return Some(format!("is `{r}`, which AWS reserves"));
        }
    } else if known_len + later_min > rule.max {
        return Some(format!(
            "is at least {} characters once its references are resolved; AWS allows at most {}",
            known_len + later_min,
            rule.max
        ));
    }
    None
}

/// Four dot-separated groups of digits (`192.168.5.4`): S3 refuses such a bucket name.
fn looks_like_ipv4(s: &str) -> bool {
    let groups: Vec<&str> = s.split('.').collect();
    groups.len() == 4 && groups.iter().all(|g| !g.is_empty() && g.len() <= 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks one property value against its schema check (or, without one, that an integer fits
/// the SDK's `i32` and a number is finite).
pub(super) fn check_prop(known: &Known<'_>, path: &str, prop: &Prop, node: &Node, problems: &mut Vec<Problem>) {
    check_kind(known, path, prop, &prop.kind, node, problems);
}

fn check_kind(known: &Known<'_>, path: &str, prop: &Prop, kind: &Kind, node: &Node, problems: &mut Vec<Problem>) {
    match (kind, &node.kind) {
        (Kind::List(inner), NodeKind::List(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_kind(known, &format!("{path}[{i}]"), prop, inner, item, problems);
            }
        }
        (Kind::Str, NodeKind::Str(t)) => {
            if let Some(Check::Name(rule)) = prop.check {
                check_name(known, path, rule, t, node, problems);
            }
        }
        (Kind::Int, _) => {
            let Some(n) = int_of(known, path, node, problems) else { return };
            let check = prop.check.unwrap_or(Check::Range { min: i64::from(i32::MIN), max: I32_MAX });
            let ok = match check {
                Check::Range { min, max } => (min..=max).contains(&n),
                Check::Values { values, multiple_of } => {
                    values.contains(&n) || (multiple_of > 0 && n > 0 && n % multiple_of == 0)
                }
                // A name or number check on an integer property is a schema mistake: a test
                // of this module refuses it.
                Check::Name(_) | Check::Number { .. } => true,
            };
            if !ok {
                problems.push(out_of_range(path, prop, &n.to_string(), &check, node));
            }
        }
        (Kind::Float, _) => {
            let Some(f) = float_of(known, path, node, problems) else { return };
            let check = prop.check.unwrap_or(Check::Number { min: f64::MIN, max: f64::MAX, step: 0.0 });
            let ok = f.is_finite()
                && match check {
                    Check::Number { min, max, step } => {
                        (min..=max).contains(&f) && (step <= 0.0 || ((f - min) / step).fract().abs() < 1e-9)
                    }
                    _ => true,
                };
            if !ok {
                problems.push(out_of_range(path, prop, &f.to_string(), &check, node));
            }
        }
        _ => {}
    }
}

fn out_of_range(path: &str, prop: &Prop, value: &str, check: &Check, node: &Node) -> Problem {
    let wanted = match check {
        Check::Number { min, max, .. } if *min == f64::MIN && *max == f64::MAX => "a finite number".to_string(),
        Check::Range { min, max } if *min == i64::from(i32::MIN) && *max == I32_MAX => {
            format!("an integer from {min} to {max} (the AWS SDK's 32-bit integers)")
        }
        c => c.describe(),
    };
    Problem::new("out-of-range", node.span, format!("`{path}` is {value}; AWS accepts {wanted}"))
        .label("out of range")
        .help(format!("set it to {wanted} (`{}`: {})", prop.name, prop.doc))
}

/// The integer a value is now: a literal, or a variable that holds one.
fn int_of(known: &Known<'_>, path: &str, node: &Node, problems: &mut Vec<Problem>) -> Option<i64> {
    match &node.kind {
        NodeKind::Int(n) => Some(*n),
        NodeKind::Str(t) => {
            let (name, value) = var_value(known, t)?;
            match value.trim().parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    problems.push(var_not_a(path, "an integer", &name, value, node));
                    None
                }
            }
        }
        _ => None,
    }
}

fn float_of(known: &Known<'_>, path: &str, node: &Node, problems: &mut Vec<Problem>) -> Option<f64> {
    match &node.kind {
        NodeKind::Int(n) => Some(*n as f64),
        NodeKind::Float(f) => Some(*f),
        NodeKind::Str(t) => {
            let (name, value) = var_value(known, t)?;
            match value.trim().parse::<f64>() {
                Ok(f) => Some(f),
                Err(_) => {
                    problems.push(var_not_a(path, "a number", &name, value, node));
                    None
                }
            }
        }
        _ => None,
    }
}

/// The variable a string is exactly a reference to, and its (accepted) value.
fn var_value<'a>(known: &'a Known<'_>, t: &Template) -> Option<(String, &'a str)> {
    match t.as_single_ref()? {
        Ref::Var(v) if !known.refused.contains(v) => known.vars.get(v).map(|val| (v.clone(), val.as_str())),
        _ => None,
    }
}

fn var_not_a(path: &str, what: &str, var: &str, value: &str, node: &Node) -> Problem {
    Problem::new(
        "wrong-value-type",
        node.span,
        format!("`{path}` must be {what}, but `${{var.{var}}}` is `{}`", quote(value, 40)),
    )
    .label("wrong type")
    .help(format!("give `{var}` {what} (with --var {var}=..., or its default)"))
}

fn check_name(known: &Known<'_>, path: &str, rule: &NameRule, t: &Template, node: &Node, problems: &mut Vec<Problem>) {
    let segs = segments(t, known);
    let Some(why) = name_violation(rule, &segs) else { return };
    let substituted = t.parts.iter().any(|p| matches!(p, Part::Ref(Ref::Var(v), _) if !known.refused.contains(v)));
    let label =
        if substituted { format!("= `{}`", quote(&shown(&segs), 70)) } else { format!("not a valid {}", rule.what) };
    problems.push(
        Problem::new("invalid-name", node.span, format!("`{path}` {why}"))
            .label(label)
            .help(format!("AWS's rule: {}", rule.describe())),
    );
}

/// How long variable `var` may be for every name it is part of to fit: the tightest room,
/// with the property path, the value as written and the rule. None if it is in no name with
/// a length limit.
pub(super) struct Room {
    pub chars: usize,
    pub path: String,
    pub written: String,
    pub rule: &'static NameRule,
}

pub(super) fn room_for(plan: &Plan, known: &Known<'_>, var: &str) -> Option<Room> {
    let mut refused = known.refused.clone();
    refused.insert(var.to_string());
    let without = Known { vars: known.vars, refused: &refused };
    let mut best: Option<Room> = None;
    for res in &plan.resources {
        let Some(t) = schema::find(&res.type_name) else { continue };
        walk(t.props, &res.props, &res.name, &mut |path, prop, node| {
            let (Some(Check::Name(rule)), NodeKind::Str(tpl)) = (prop.check, &node.kind) else { return };
            let uses = tpl.parts.iter().filter(|p| matches!(p, Part::Ref(Ref::Var(v), _) if v == var)).count();
            if uses == 0 || rule.max == usize::MAX {
                return;
            }
            let fixed: usize = segments(tpl, &without)
                .iter()
                .map(|s| match s {
                    Seg::Text(t) => t.chars().count(),
                    Seg::Later { min, .. } => *min,
                })
                .sum();
            // Too long whatever the variable: the property's own check says so.
            if fixed >= rule.max {
                return;
            }
            let chars = (rule.max - fixed) / uses;
            if best.as_ref().is_none_or(|b| chars < b.chars) {
                best = Some(Room { chars, path: path.to_string(), written: tpl.source_text(), rule });
            }
        });
    }
    best
}

/// Calls `f` on every property value of a table, nested structures included.
fn walk(props: &'static [Prop], entries: &[(Key, Node)], owner: &str, f: &mut dyn FnMut(&str, &Prop, &Node)) {
    for (key, node) in entries {
        let Some(prop) = props.iter().find(|p| p.name == key.name) else { continue };
        let path = format!("{owner}.{}", key.name);
        f(&path, prop, node);
        match (&prop.kind, &node.kind) {
            (Kind::Struct(fields), NodeKind::Table(inner)) => walk(fields, inner, &path, f),
            (Kind::List(Kind::Struct(fields)), NodeKind::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let NodeKind::Table(inner) = &item.kind {
                        walk(fields, inner, &format!("{path}[{i}]"), f);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Span;

    fn every_prop(mut f: impl FnMut(&str, &'static Prop)) {
        fn go(owner: &str, props: &'static [Prop], f: &mut dyn FnMut(&str, &'static Prop)) {
            for p in props {
                let path = format!("{owner}.{}", p.name);
                f(&path, p);
                if let Kind::Struct(fields) | Kind::List(&Kind::Struct(fields)) = p.kind {
                    go(&path, fields, f);
                }
            }
        }
        for t in schema::all() {
            go(t.name, t.props, &mut f);
        }
    }

    fn node(kind: NodeKind) -> Node {
        Node { span: Span::default(), kind }
    }

    fn problems_for(prop: &Prop, n: Node) -> Vec<Problem> {
        let vars = BTreeMap::new();
        let refused = BTreeSet::new();
        let known = Known { vars: &vars, refused: &refused };
        let mut out = Vec::new();
        check_prop(&known, "r.p", prop, &n, &mut out);
        out
    }

    fn str_node(s: &str) -> Node {
        node(NodeKind::Str(Template::parse(s, 0).expect("template")))
    }

    /// Every declared range refuses min-1 and max+1 and accepts min and max; allowed values
    /// are accepted and their neighbours (when not allowed) refused; steps likewise.
    #[test]
    fn every_declared_range_refuses_just_outside_and_accepts_its_bounds() {
        let mut checked = 0;
        every_prop(|path, p| {
            let Some(check) = p.check else { return };
            match (check, p.kind) {
                (Check::Range { min, max }, Kind::Int) => {
                    checked += 1;
                    for ok in [min, max] {
                        assert!(problems_for(p, node(NodeKind::Int(ok))).is_empty(), "{path}: {ok} refused");
                    }
                    for bad in [min - 1, max + 1] {
                        let got = problems_for(p, node(NodeKind::Int(bad)));
                        assert_eq!(got.len(), 1, "{path}: {bad} accepted");
                        assert_eq!(got[0].code, "out-of-range");
                        assert!(got[0].help.is_some());
                    }
                }
                (Check::Values { values, multiple_of }, Kind::Int) => {
                    checked += 1;
                    let allowed = |n: i64| values.contains(&n) || (multiple_of > 0 && n > 0 && n % multiple_of == 0);
                    for &v in values {
                        assert!(problems_for(p, node(NodeKind::Int(v))).is_empty(), "{path}: {v} refused");
                        for n in [v - 1, v + 1] {
                            assert_eq!(problems_for(p, node(NodeKind::Int(n))).is_empty(), allowed(n), "{path}: {n}");
                        }
                    }
                    if multiple_of > 0 {
                        for n in [multiple_of, multiple_of * 7] {
                            assert!(problems_for(p, node(NodeKind::Int(n))).is_empty(), "{path}: {n} refused");
                        }
                        for n in [0, -multiple_of, multiple_of + 1] {
                            assert!(!problems_for(p, node(NodeKind::Int(n))).is_empty(), "{path}: {n} accepted");
                        }
                    }
                }
                (Check::Number { min, max, step }, Kind::Float) => {
                    checked += 1;
                    for ok in [min, max] {
                        assert!(problems_for(p, node(NodeKind::Float(ok))).is_empty(), "{path}: {ok} refused");
                    }
                    let below = if step > 0.0 { min - step } else { min - 1.0 };
                    for bad in [below, max + step.max(1.0), f64::NAN, f64::INFINITY] {
                        assert_eq!(problems_for(p, node(NodeKind::Float(bad))).len(), 1, "{path}: {bad} accepted");
                    }
                    if step > 0.0 {
                        let off = min + step / 2.0;
                        assert_eq!(problems_for(p, node(NodeKind::Float(off))).len(), 1, "{path}: {off} accepted");
                    }
                }
                (Check::Name(_), Kind::Str | Kind::List(&Kind::Str)) => {}
                (c, k) => panic!("{path}: check {c:?} does not fit a property of kind {k:?}"),
            }
        });
        assert!(checked >= 24, "only {checked} ranges");
    }

    /// A name of `len` characters under `rule`, from its prefix and a character every part of
    /// the rule allows.
    fn sample(rule: &NameRule, len: usize) -> Option<String> {
        let c = ['a', 'A', '0', 'x'].into_iter().find(|c| {
            NameRule::class_contains(rule.chars, *c)
                && (rule.first.is_empty() || NameRule::class_contains(rule.first, *c))
                && (rule.not_last.is_empty() || !NameRule::class_contains(rule.not_last, *c))
        })?;
        let mut s = rule.prefix.to_string();
        let (open, close) = if rule.form == Form::IamPath { ("/", "/") } else { ("", "") };
        s.push_str(open);
        let body = len.checked_sub(s.chars().count() + close.len())?;
        s.extend(std::iter::repeat_n(c, body));
        s.push_str(close);
        (s.chars().count() == len).then_some(s)
    }

    #[test]
    fn every_name_rule_refuses_one_character_too_many_and_accepts_its_longest() {
        let mut checked = 0;
        every_prop(|path, p| {
            let Some(Check::Name(rule)) = p.check else { return };
            checked += 1;
            if rule.max < usize::MAX {
                let longest = sample(rule, rule.max).unwrap_or_else(|| panic!("{path}: no sample"));
                assert!(problems_for(p, str_node(&longest)).is_empty(), "{path}: `{longest}` refused");
                let longer = sample(rule, rule.max + 1).expect("sample");
                let got = problems_for(p, str_node(&longer));
                assert_eq!(got.len(), 1, "{path}: {} characters accepted", rule.max + 1);
                assert_eq!(got[0].code, "invalid-name");
                assert!(got[0].message.contains("AWS allows at most"), "{}", got[0].message);
            }
            if let Some(shortest) = sample(rule, rule.min.max(1))
                && rule.min > 0
            {
                assert!(problems_for(p, str_node(&shortest)).is_empty(), "{path}: `{shortest}` refused");
                assert_eq!(problems_for(p, str_node("")).len(), 1, "{path}: empty accepted");
            }
            for bad in ["a\nb", "a\u{202E}b", "a\u{200B}b"] {
                let got = problems_for(p, str_node(bad));
                assert_eq!(got.len(), 1, "{path}: {bad:?} accepted");
                assert!(got[0].message.contains("U+"), "{}", got[0].message);
                assert!(!got[0].message.contains('\n') && !got[0].message.contains('\u{202E}'));
            }
        });
        assert!(checked >= 34, "only {checked} name rules");
    }

    fn violation(rule: &NameRule, s: &str) -> Option<String> {
        let vars = BTreeMap::new();
        let refused = BTreeSet::new();
        let known = Known { vars: &vars, refused: &refused };
        name_violation(rule, &segments(&Template::parse(s, 0).expect("template"), &known))
    }

    #[test]
    fn names_follow_their_aws_rules() {
        use crate::schema::{Form, NameRule};
        let rds = NameRule::new("id", "x", 1, 63, "a-z0-9-").first("a-z").not_last("-").no_double_hyphen();
        assert_eq!(violation(&rds, "healthcare-aurora-dev"), None);
        assert_eq!(violation(&rds, "1abc").as_deref(), Some("starts with `1`"));
        assert_eq!(violation(&rds, "abc-").as_deref(), Some("ends with `-`"));
        assert_eq!(violation(&rds, "a--b").as_deref(), Some("contains `--`"));
        assert_eq!(violation(&rds, "Abc").as_deref(), Some("contains the uppercase letter `A`"));
        assert_eq!(violation(&rds, "a/b").as_deref(), Some("contains `/`"));
        assert_eq!(violation(&rds, "a b").as_deref(), Some("contains a space"));
        // Known parts only: `${x.id}` may be anything, the region brings `-` and digits.
        assert_eq!(violation(&rds, "db-${x.id}"), None);
        assert_eq!(violation(&rds, "${x.id}-"), Some("ends with `-`".into()));
        let no_hyphen = NameRule::new("db", "x", 1, 64, "a-zA-Z0-9_");
        assert_eq!(violation(&no_hyphen, "db_${aws.region}").as_deref(), Some("gets `-` from `${aws.region}`"));
        assert_eq!(violation(&no_hyphen, "db_${aws.account_id}"), None);
        let short = NameRule::new("rg", "x", 1, 20, "a-z0-9-");
        assert!(violation(&short, "abcdefghij-${aws.account_id}").is_some_and(|m| m.contains("at least 23")));

        let alias =
            NameRule::new("alias", "x", 1, 256, "a-zA-Z0-9/_-").prefix("alias/").reserved_prefixes(&["alias/aws/"]);
        assert_eq!(violation(&alias, "alias/data-dev"), None);
        assert_eq!(violation(&alias, "data").as_deref(), Some("does not start with `alias/`"));
        assert_eq!(violation(&alias, "ali${var.x}"), None);
        assert_eq!(violation(&alias, "alias/aws/x").as_deref(), Some("starts with `alias/aws/`, which AWS reserves"));

        let sg = NameRule::new("sg", "x", 1, 255, "a-z-").reserved_prefixes(&["sg-"]);
        assert!(violation(&sg, "sg-web").is_some_and(|m| m.contains("reserves")));

        let path = NameRule::new("path", "x", 1, 512, "!-~").form(Form::IamPath);
        assert_eq!(violation(&path, "/"), None);
        assert_eq!(violation(&path, "/service-role/"), None);
        assert!(violation(&path, "service-role/").is_some());
        assert!(violation(&path, "/a b/").is_some());

        let part = NameRule::new("part", "x", 1, usize::MAX, "a-zA-Z0-9._:-").form(Form::PathPart);
        for ok in ["patients", "{id}", "{proxy+}", "v1:batch"] {
            assert_eq!(violation(&part, ok), None, "{ok}");
        }
        for bad in ["a/b", "{id", "id}", "{}", "{a b}", "x{id}"] {
            assert!(violation(&part, bad).is_some(), "{bad}");
        }

        let subnet_group = NameRule::new("sn", "x", 1, 255, "a-z0-9._ -").first("a-z").reserved(&["default"]);
        assert!(violation(&subnet_group, "default").is_some_and(|m| m.contains("reserves")));

        let bucket = crate::aws::s3::BUCKET_NAME;
        for ok in ["ironplan-state-dev", "a.b-c", "abc", "my.bucket.1", "1.2.3.4.5", "${var.x}-s3alias-x"] {
            assert_eq!(violation(&bucket, ok), None, "{ok}");
        }
        for (bad, why) in [
            ("ab", "at least 3"),
            ("Ironplan", "uppercase"),
            ("my_bucket", "`_`"),
            ("-abc", "starts with `-`"),
            ("abc.", "ends with `.`"),
            ("abc-", "ends with `-`"),
            ("a..b", "`..`"),
            ("192.168.5.4", "IP address"),
            ("xn--abc", "starts with `xn--`"),
            ("sthree-abc", "starts with `sthree-`"),
            ("amzn-s3-demo-x", "starts with `amzn-s3-demo-`"),
            ("data-s3alias", "ends with `-s3alias`"),
            ("data--ol-s3", "ends with `--ol-s3`"),
            ("data.mrap", "ends with `.mrap`"),
            ("data--x-s3", "ends with `--x-s3`"),
            ("data--table-s3", "ends with `--table-s3`"),
            ("${var.x}..y", "`..`"),
            ("${var.x}-s3alias", "ends with `-s3alias`"),
        ] {
            let got = violation(&bucket, bad);
            assert!(got.as_deref().is_some_and(|m| m.contains(why)), "{bad}: {got:?}");
        }
    }

    #[test]
    fn variables_in_numbers_are_checked_with_their_value() {
        let prop = Prop::opt("port", Kind::Int, "the port").range(1, 65535);
        let vars: BTreeMap<String, String> =
            [("p".to_string(), "70000".to_string()), ("q".to_string(), "abc".to_string())].into();
        let refused = BTreeSet::new();
        let known = Known { vars: &vars, refused: &refused };
        let mut out = Vec::new();
        check_prop(&known, "r.port", &prop, &str_node("${var.p}"), &mut out);
        check_prop(&known, "r.port", &prop, &str_node("${var.q}"), &mut out);
        check_prop(&known, "r.port", &prop, &str_node("${other.port}"), &mut out);
        let codes: Vec<&str> = out.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, ["out-of-range", "wrong-value-type"]);
        // Without a declared range, an integer still has to fit the SDK's i32.
        let bare = Prop::opt("n", Kind::Int, "a count");
        assert_eq!(problems_for(&bare, node(NodeKind::Int(i64::from(i32::MAX) + 1))).len(), 1);
        assert!(problems_for(&bare, node(NodeKind::Int(-5))).is_empty());
    }
}
