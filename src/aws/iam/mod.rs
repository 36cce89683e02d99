//! `iam:*` types: roles that AWS services assume, and the inline policies that give them
//! least privilege.
//!
//! A new role is not usable for seconds after it exists: the services that assume it answer
//! "cannot be assumed" meanwhile, and `crate::aws` retries those errors (bounded) on their side.
//! IAM answers policy documents URL-encoded (and may reformat them): [`document`] turns one
//! back into the plan's shape, a JSON value.

mod role;
mod role_policy;

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_iam::types::{EntityType, Role, RoleDetail};
use serde_json::Value;

use super::adapter::{Adapter, Type};
use super::{AwsError, Ctx, Props, sdk_err};
use crate::schema::{Form, NameRule};

pub(super) const TYPES: &[&dyn Adapter] = &[&Type::<role::Role>::NEW, &Type::<role_policy::RolePolicy>::NEW];

/// How IAM says "not there".
const NOT_FOUND: &[&str] = &["NoSuchEntity"];

pub const ROLE_NAME: NameRule = NameRule::new("IAM role name", "CreateRole RoleName", 1, 64, "a-zA-Z0-9_+=,.@-");
pub const POLICY_NAME: NameRule =
    NameRule::new("IAM inline policy name", "PutRolePolicy PolicyName", 1, 128, "a-zA-Z0-9_+=,.@-");
/// AWS allows `!` to DEL; DEL is a control character, which ironplan refuses in every name.
pub const PATH: NameRule = NameRule::new("IAM path", "CreateRole Path", 1, 512, "!-~").form(Form::IamPath);

/// A required policy document, as JSON text.
fn required_document(p: &mut Props, operation: &'static str, key: &str) -> Result<String, AwsError> {
    p.document(key)?.ok_or_else(|| AwsError::input(operation, format!("required property `{key}` is missing")))
}

/// Every role of the account with its inline policies (their documents) and its attached
/// managed policies, by name: GetAccountAuthorizationDetails (`Filter=Role`, up to 1,000 roles a
/// page), made once in a read run ([`Ctx::shared`]) for every role and inline policy it reads.
/// `Ok(None)`: the caller may not make the call (AccessDenied: a least-privilege deployer), so
/// the reads go one by one as before.
async fn role_details(ctx: &Ctx) -> Result<Option<Arc<HashMap<String, RoleDetail>>>, AwsError> {
    let all = ctx
        .shared("GetAccountAuthorizationDetails Filter=Role".into(), || async {
            let pages = ctx
                .iam
                .get_account_authorization_details()
                .filter(EntityType::Role)
                .max_items(1000)
                .into_paginator()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| sdk_err("GetAccountAuthorizationDetails", e))?;
            let roles = pages.into_iter().flat_map(|p| p.role_detail_list.unwrap_or_default());
            Ok(Arc::new(roles.filter_map(|r| Some((r.role_name.clone()?, r))).collect::<HashMap<_, _>>()))
        })
        .await;
    match all {
        Ok(all) => Ok(Some(all)),
        Err(e) if e.code == "AccessDenied" => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every role of the account by name, as ListRoles answers (all GetRole says but tags, which
/// [`role_details`] has): up to 1,000 a page, made once in a read run. `Ok(None)`: AccessDenied,
/// as for [`role_details`].
async fn listed_roles(ctx: &Ctx) -> Result<Option<Arc<HashMap<String, Role>>>, AwsError> {
    let all = ctx
        .shared("ListRoles PathPrefix=/".into(), || async {
            let roles = ctx
                .iam
                .list_roles()
                .max_items(1000)
                .into_paginator()
                .items()
                .send()
                .collect::<Result<Vec<_>, _>>()
                .await
                .map_err(|e| sdk_err("ListRoles", e))?;
            Ok(Arc::new(roles.into_iter().map(|r| (r.role_name.clone(), r)).collect::<HashMap<_, _>>()))
        })
        .await;
    match all {
        Ok(all) => Ok(Some(all)),
        Err(e) if e.code == "AccessDenied" => Ok(None),
        Err(e) => Err(e),
    }
}

/// The role, or `None` if there is none of that name.
async fn get_role(ctx: &Ctx, name: &str) -> Result<Option<Role>, AwsError> {
    match ctx.iam.get_role().role_name(name).send().await.map_err(|e| sdk_err("GetRole", e)) {
        Ok(out) => Ok(out.role().cloned()),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The inline policy's document as IAM answers it (URL-encoded), or `None` if the role has no
/// policy of that name (or the role is gone).
async fn get_role_policy(ctx: &Ctx, role: &str, policy: &str) -> Result<Option<String>, AwsError> {
    match ctx.iam.get_role_policy().role_name(role).policy_name(policy).send().await {
        Ok(out) => Ok(Some(out.policy_document().to_string())),
        Err(e) => match sdk_err("GetRolePolicy", e) {
            e if e.is_not_found() => Ok(None),
            e => Err(e),
        },
    }
}

async fn has_role_policy(ctx: &Ctx, role: &str, policy: &str) -> Result<bool, AwsError> {
    Ok(get_role_policy(ctx, role, policy).await?.is_some())
}

/// The document of the role's inline policy `name` in its authorization details, as
/// GetRolePolicy answers it.
fn inline_document(detail: &RoleDetail, name: &str) -> Option<String> {
    let p = detail.role_policy_list().iter().find(|p| p.policy_name() == Some(name))?;
    p.policy_document().map(str::to_owned)
}

fn role_tags(role: &Role) -> impl Iterator<Item = (&str, &str)> {
    role.tags().iter().map(|t| (t.key(), t.value()))
}

/// A policy document as IAM answers it, in plan shape: decoded and parsed (the text, if it is
/// not JSON).
fn document(have: &str) -> Value {
    let decoded = percent_decode(have);
    serde_json::from_str(&decoded).unwrap_or(Value::String(decoded))
}

/// IAM answers policy documents URL-encoded and may reformat them: compare them as JSON.
fn same_document(have: &str, want: &str) -> bool {
    match (document(have), serde_json::from_str::<Value>(want)) {
        (Value::String(decoded), _) => decoded == want,
        (a, Ok(b)) => a == b,
        (_, Err(_)) => false,
    }
}

/// RFC 3986 percent-decoding (`+` is kept: IAM encodes spaces as `%20`).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_compare_as_json_after_decoding() {
        let have = "%7B%22Version%22%3A%20%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert!(same_document(have, r#"{"Statement":[],"Version":"2012-10-17"}"#));
        assert!(!same_document(have, r#"{"Statement":[{}],"Version":"2012-10-17"}"#));
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
