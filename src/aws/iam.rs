//! Adapter for `iam:Role` and `iam:RolePolicy`.
//!
//! `create` makes only the CreateRole / PutRolePolicy call; the managed policies of a role are
//! attached in [`wait_ready`], once GetRole sees the role, so that a failed attach leaves a role
//! that state knows and teardown removes. AttachRolePolicy is idempotent, so waiting again is
//! safe. Teardown detaches every managed policy and deletes every inline policy first, also
//! those attached outside the plan, since DeleteRole refuses a role that still has any.

use aws_sdk_iam::types::Tag;
use serde_json::{Value, json};

use super::identity::{self, Found, Identity};
use super::{AwsError, Created, Ctx, ErrorKind, Outputs, Props, absent, poll, sdk_err, unknown_type};

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    match ty {
        "iam:Role" => create_role(ctx, p.for_op("CreateRole")).await,
        "iam:RolePolicy" => create_role_policy(ctx, p.for_op("PutRolePolicy")).await,
        _ => Err(unknown_type(ty)),
    }
}

/// What an `iam:Role` create reads, in the order it reads it (shared with [`adopt`]).
struct RoleInput {
    role_name: String,
    trust: String,
    description: Option<String>,
    path: Option<String>,
    max_session_duration: Option<i32>,
    policy_arns: Vec<String>,
    /// `{policy_name, policy_document}` objects, put in `wait_ready`.
    inline: Vec<Value>,
    tags: Vec<(String, String)>,
}

fn read_role(p: &mut Props) -> Result<RoleInput, AwsError> {
    let role_name = p.str("role_name")?;
    let trust = p
        .document("assume_role_policy_document")?
        .ok_or_else(|| missing("CreateRole", "assume_role_policy_document"))?;
    let description = p.opt_str("description")?;
    let path = p.opt_str("path")?;
    let max_session_duration = p.opt_i32("max_session_duration")?;
    let policy_arns = p.str_list("policy_arns")?;
    let mut inline = Vec::new();
    for mut pol in p.structs("inline_policies")? {
        let name = pol.str("policy_name")?;
        let doc = pol.document("policy_document")?.ok_or_else(|| missing("PutRolePolicy", "policy_document"))?;
        pol.finish()?;
        inline.push(json!({ "policy_name": name, "policy_document": doc }));
    }
    let tags = p.tags()?;
    Ok(RoleInput { role_name, trust, description, path, max_session_duration, policy_arns, inline, tags })
}

/// What `create` returns for a role: `wait_ready` attaches `policy_arns` and puts
/// `inline_policies`.
fn role_created(role: &aws_sdk_iam::types::Role, policy_arns: Vec<String>, inline: Vec<Value>) -> Created {
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(role.role_name()));
    outputs.insert("name".into(), json!(role.role_name()));
    outputs.insert("arn".into(), json!(role.arn()));
    outputs.insert("policy_arns".into(), json!(policy_arns));
    outputs.insert("inline_policies".into(), json!(inline));
    Created { id: role.role_name().to_string(), outputs }
}

async fn create_role(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    let r = read_role(p)?;
    let tags = r
        .tags
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| AwsError::input("CreateRole", e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    p.finish()?;

    let out = ctx
        .iam
        .create_role()
        .role_name(&r.role_name)
        .assume_role_policy_document(r.trust)
        .set_description(r.description)
        .set_path(r.path)
        .set_max_session_duration(r.max_session_duration)
        .set_tags((!tags.is_empty()).then_some(tags))
        .send()
        .await
        .map_err(|e| sdk_err("CreateRole", e))?;
    let role = out.role().ok_or_else(|| bad_response("CreateRole", "the role"))?;
    Ok(role_created(role, r.policy_arns, r.inline))
}

/// The `iam:RolePolicy` ID and outputs: `<role_name>:<policy_name>` (role names cannot
/// contain `:`, so the ID splits back unambiguously).
fn role_policy_created(role_name: &str, policy_name: &str) -> Created {
    let id = format!("{role_name}:{policy_name}");
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(id));
    outputs.insert("role_name".into(), json!(role_name));
    outputs.insert("policy_name".into(), json!(policy_name));
    Created { id, outputs }
}

async fn create_role_policy(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
    let role_name = p.str("role_name")?;
    let policy_name = p.str("policy_name")?;
    let document = p.document("policy_document")?.ok_or_else(|| missing("PutRolePolicy", "policy_document"))?;
    p.finish()?;

    ctx.iam
        .put_role_policy()
        .role_name(&role_name)
        .policy_name(&policy_name)
        .policy_document(document)
        .send()
        .await
        .map_err(|e| sdk_err("PutRolePolicy", e))?;
    Ok(role_policy_created(&role_name, &policy_name))
}

pub(super) async fn wait_ready(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
    match ty {
        "iam:Role" => {
            let role =
                poll(ctx, "GetRole", &format!("role {id} to exist"), || async move { get_role(ctx, id).await }).await?;
            let arns = out.get("policy_arns").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            for arn in arns.iter().filter_map(Value::as_str) {
                ctx.iam
                    .attach_role_policy()
                    .role_name(id)
                    .policy_arn(arn)
                    .send()
                    .await
                    .map_err(|e| sdk_err("AttachRolePolicy", e))?;
            }
            let inline = out.get("inline_policies").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            for pol in inline {
                let (Some(name), Some(doc)) = (pol["policy_name"].as_str(), pol["policy_document"].as_str()) else {
                    continue;
                };
                // PutRolePolicy replaces a policy of the same name: safe to repeat.
                ctx.iam
                    .put_role_policy()
                    .role_name(id)
                    .policy_name(name)
                    .policy_document(doc)
                    .send()
                    .await
                    .map_err(|e| sdk_err("PutRolePolicy", e))?;
            }
            let mut outputs = out.clone();
            outputs.insert("id".into(), json!(id));
            outputs.insert("name".into(), json!(role.role_name()));
            outputs.insert("arn".into(), json!(role.arn()));
            Ok(outputs)
        }
        "iam:RolePolicy" => {
            let (role, policy) = role_and_policy(id, out)?;
            let (role, policy) = (role.as_str(), policy.as_str());
            poll(ctx, "GetRolePolicy", &format!("policy {policy} of role {role} to exist"), || async move {
                Ok(has_role_policy(ctx, role, policy).await?.then_some(()))
            })
            .await?;
            Ok(out.clone())
        }
        _ => Err(unknown_type(ty)),
    }
}

pub(super) async fn delete(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<(), AwsError> {
    match ty {
        "iam:Role" => delete_role(ctx, id).await,
        "iam:RolePolicy" => {
            let (role, policy) = role_and_policy(id, out)?;
            ctx.iam
                .delete_role_policy()
                .role_name(role)
                .policy_name(policy)
                .send()
                .await
                .map_err(|e| sdk_err("DeleteRolePolicy", e))?;
            Ok(())
        }
        _ => Err(unknown_type(ty)),
    }
}

async fn delete_role(ctx: &Ctx, role: &str) -> Result<(), AwsError> {
    let attached: Vec<_> = ctx
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(|e| sdk_err("ListAttachedRolePolicies", e))?;
    for arn in attached.iter().filter_map(|p| p.policy_arn()) {
        ignore_not_found(
            ctx.iam
                .detach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| sdk_err("DetachRolePolicy", e)),
        )?;
    }
    let inline: Vec<String> = ctx
        .iam
        .list_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(|e| sdk_err("ListRolePolicies", e))?;
    for name in &inline {
        ignore_not_found(
            ctx.iam
                .delete_role_policy()
                .role_name(role)
                .policy_name(name)
                .send()
                .await
                .map_err(|e| sdk_err("DeleteRolePolicy", e)),
        )?;
    }
    let profiles: Vec<_> = ctx
        .iam
        .list_instance_profiles_for_role()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<_, _>>()
        .await
        .map_err(|e| sdk_err("ListInstanceProfilesForRole", e))?;
    for profile in &profiles {
        ignore_not_found(
            ctx.iam
                .remove_role_from_instance_profile()
                .role_name(role)
                .instance_profile_name(profile.instance_profile_name())
                .send()
                .await
                .map_err(|e| sdk_err("RemoveRoleFromInstanceProfile", e)),
        )?;
    }
    ctx.iam.delete_role().role_name(role).send().await.map_err(|e| sdk_err("DeleteRole", e))?;
    Ok(())
}

pub(super) async fn wait_deleted(ctx: &Ctx, ty: &str, id: &str, out: &Outputs) -> Result<(), AwsError> {
    match ty {
        "iam:Role" => {
            poll(ctx, "GetRole", &format!("role {id} to be deleted"), || async move {
                Ok(get_role(ctx, id).await?.is_none().then_some(()))
            })
            .await
        }
        "iam:RolePolicy" => {
            let (role, policy) = role_and_policy(id, out)?;
            let (role, policy) = (role.as_str(), policy.as_str());
            poll(ctx, "GetRolePolicy", &format!("policy {policy} of role {role} to be deleted"), || async move {
                Ok((!has_role_policy(ctx, role, policy).await?).then_some(()))
            })
            .await
        }
        _ => Err(unknown_type(ty)),
    }
}

async fn get_role(ctx: &Ctx, name: &str) -> Result<Option<aws_sdk_iam::types::Role>, AwsError> {
    match ctx.iam.get_role().role_name(name).send().await.map_err(|e| sdk_err("GetRole", e)) {
        Ok(out) => Ok(out.role().cloned()),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

async fn has_role_policy(ctx: &Ctx, role: &str, policy: &str) -> Result<bool, AwsError> {
    match ctx.iam.get_role_policy().role_name(role).policy_name(policy).send().await {
        Ok(_) => Ok(true),
        Err(e) => match sdk_err("GetRolePolicy", e) {
            e if e.is_not_found() => Ok(false),
            e => Err(e),
        },
    }
}

/// The role and policy names of an `iam:RolePolicy`, from its outputs or else its ID.
fn role_and_policy(id: &str, out: &Outputs) -> Result<(String, String), AwsError> {
    let field = |k: &str| out.get(k).and_then(Value::as_str).map(str::to_owned);
    match (field("role_name"), field("policy_name")) {
        (Some(r), Some(p)) => Ok((r, p)),
        _ => id
            .split_once(':')
            .map(|(r, p)| (r.to_owned(), p.to_owned()))
            .ok_or_else(|| AwsError::input("DeleteRolePolicy", format!("`{id}` is not `<role_name>:<policy_name>`"))),
    }
}

fn ignore_not_found<T>(r: Result<T, AwsError>) -> Result<(), AwsError> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

fn missing(operation: &'static str, key: &str) -> AwsError {
    AwsError::input(operation, format!("required property `{key}` is missing"))
}

fn bad_response(operation: &'static str, what: &str) -> AwsError {
    AwsError {
        operation,
        code: "InvalidResponse".into(),
        message: format!("AWS answered without {what}"),
        kind: ErrorKind::Fatal,
        hint: None,
    }
}

/// Finds what an interrupted create made, by name: the role by `role_name`, the inline policy
/// by `role_name` + `policy_name`. A role is ours only with both identity tags (CreateRole
/// carries them); an inline policy has no tags, so it is ours only on a role of this stack,
/// and only with the plan's document (another one is left for PutRolePolicy to replace).
pub(super) async fn adopt(ctx: &Ctx, ty: &str, p: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    match ty {
        "iam:Role" => {
            let r = read_role(p.for_op("CreateRole"))?;
            let Some(role) = get_role(ctx, &r.role_name).await? else { return Ok(Found::Nothing) };
            let judged = who.judge(role_tags(&role));
            Ok(identity::verdict(role_created(&role, r.policy_arns, r.inline), judged))
        }
        "iam:RolePolicy" => {
            let p = p.for_op("PutRolePolicy");
            let role_name = p.str("role_name")?;
            let policy_name = p.str("policy_name")?;
            let document = p.document("policy_document")?.ok_or_else(|| missing("PutRolePolicy", "policy_document"))?;
            let have = match ctx.iam.get_role_policy().role_name(&role_name).policy_name(&policy_name).send().await {
                Ok(out) => out.policy_document().to_string(),
                Err(e) => return absent(sdk_err("GetRolePolicy", e)),
            };
            if !same_document(&have, &document) {
                return Ok(Found::Nothing);
            }
            let Some(role) = get_role(ctx, &role_name).await? else { return Ok(Found::Nothing) };
            let created = role_policy_created(&role_name, &policy_name);
            Ok(who.claim_by_parent(created, &format!("role `{role_name}`"), role_tags(&role)))
        }
        _ => Err(unknown_type(ty)),
    }
}

fn role_tags(role: &aws_sdk_iam::types::Role) -> impl Iterator<Item = (&str, &str)> {
    role.tags().iter().map(|t| (t.key(), t.value()))
}

/// IAM answers policy documents URL-encoded and may reformat them: compare them as JSON.
fn same_document(have: &str, want: &str) -> bool {
    let decoded = percent_decode(have);
    match (serde_json::from_str::<Value>(&decoded), serde_json::from_str::<Value>(want)) {
        (Ok(a), Ok(b)) => a == b,
        _ => decoded == want,
    }
}

/// RFC 3986 percent-decoding (`+` is kept: IAM encodes spaces as `%20`).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod adopt_tests {
    use super::*;
    use crate::aws::testing::{assert_not_ours, ctx, find, props};
    use crate::emulator::Moto;
    use crate::schema::{RESOURCE_TAG, STACK_TAG};

    fn trust() -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    }

    fn doc(action: &str) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
    }

    fn role_props(name: &str, stack: &str) -> Value {
        json!({
            "role_name": name,
            "assume_role_policy_document": trust(),
            "path": "/",
            "inline_policies": [{"policy_name": "logs", "policy_document": doc("logs:PutLogEvents")}],
            "tags": {STACK_TAG: stack, RESOURCE_TAG: "role", "ManagedBy": "ironplan"},
        })
    }

    #[tokio::test]
    async fn role_and_role_policy_are_adopted_until_deleted() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;

        let created = create(&ctx, "iam:Role", &mut props(role_props("s-dev-role", "s-dev"))).await.unwrap();
        let found = find(&ctx, "iam:Role", &role_props("s-dev-role", "s-dev")).await.ours().expect("adopted");
        assert_eq!(found.id, created.id);
        assert_eq!(found.outputs, created.outputs);
        // The inline policy stashed for wait_ready is put by it.
        wait_ready(&ctx, "iam:Role", &found.id, &found.outputs).await.unwrap();
        assert!(has_role_policy(&ctx, &found.id, "logs").await.unwrap());

        // Another stack's role of that name is not adopted.
        create(&ctx, "iam:Role", &mut props(role_props("s-prod-role", "s-prod"))).await.unwrap();
        assert_not_ours(&find(&ctx, "iam:Role", &role_props("s-prod-role", "s-dev")).await, "stack `s-prod`");

        let policy =
            |action: &str| json!({"role_name": "s-dev-role", "policy_name": "extra", "policy_document": doc(action)});
        assert!(find(&ctx, "iam:RolePolicy", &policy("s3:GetObject")).await.ours().is_none());
        let p = create(&ctx, "iam:RolePolicy", &mut props(policy("s3:GetObject"))).await.unwrap();
        let fp = find(&ctx, "iam:RolePolicy", &policy("s3:GetObject")).await.ours().expect("policy adopted");
        assert_eq!(fp.id, p.id);
        assert_eq!(fp.outputs, p.outputs);
        // Another document under that name is left for PutRolePolicy to replace.
        assert!(matches!(find(&ctx, "iam:RolePolicy", &policy("s3:PutObject")).await, Found::Nothing));
        delete(&ctx, "iam:RolePolicy", &p.id, &p.outputs).await.unwrap();
        wait_deleted(&ctx, "iam:RolePolicy", &p.id, &p.outputs).await.unwrap();
        assert!(find(&ctx, "iam:RolePolicy", &policy("s3:GetObject")).await.ours().is_none());

        delete(&ctx, "iam:Role", &created.id, &created.outputs).await.unwrap();
        wait_deleted(&ctx, "iam:Role", &created.id, &created.outputs).await.unwrap();
        assert!(matches!(find(&ctx, "iam:Role", &role_props("s-dev-role", "s-dev")).await, Found::Nothing));
    }

    /// The security review's finding: a role made outside ironplan, named like a plan
    /// resource, with its own trust and inline policy. It is never taken: not as the role
    /// (untagged, or tagged for another plan resource), nor through its inline policy.
    #[tokio::test]
    async fn a_look_alike_role_and_its_policy_are_not_ours() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let trust = trust().to_string();
        ctx.iam.create_role().role_name("s-dev-role").assume_role_policy_document(&trust).send().await.expect("role");
        let inline = doc("logs:PutLogEvents").to_string();
        ctx.iam
            .put_role_policy()
            .role_name("s-dev-role")
            .policy_name("extra")
            .policy_document(&inline)
            .send()
            .await
            .expect("inline policy");

        assert_not_ours(
            &find(&ctx, "iam:Role", &role_props("s-dev-role", "s-dev")).await,
            "has no `ironplan:stack` tag",
        );
        let policy =
            json!({"role_name": "s-dev-role", "policy_name": "extra", "policy_document": doc("logs:PutLogEvents")});
        assert_not_ours(&find(&ctx, "iam:RolePolicy", &policy).await, "role `s-dev-role` has no `ironplan:stack` tag");

        // Tagged by this stack for another plan resource: still not this resource.
        let mut other = role_props("s-dev-other", "s-dev");
        other["tags"][RESOURCE_TAG] = json!("app_role");
        create(&ctx, "iam:Role", &mut props(other)).await.unwrap();
        assert_not_ours(&find(&ctx, "iam:Role", &role_props("s-dev-other", "s-dev")).await, "this stack's `app_role`");
        // Only the stack tag, without the resource tag: not proof either.
        ctx.iam
            .create_role()
            .role_name("s-dev-half")
            .assume_role_policy_document(&trust)
            .tags(Tag::builder().key(STACK_TAG).value("s-dev").build().expect("tag"))
            .send()
            .await
            .expect("role");
        assert_not_ours(
            &find(&ctx, "iam:Role", &role_props("s-dev-half", "s-dev")).await,
            "no `ironplan:resource` tag",
        );
    }

    #[test]
    fn documents_compare_as_json_after_decoding() {
        let have = "%7B%22Version%22%3A%20%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert!(same_document(have, r#"{"Statement":[],"Version":"2012-10-17"}"#));
        assert!(!same_document(have, r#"{"Statement":[{}],"Version":"2012-10-17"}"#));
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
