//! Adapter for `iam:Role` and `iam:RolePolicy`.
//!
//! `create` makes only the CreateRole / PutRolePolicy call; the managed policies of a role are
//! attached in [`wait_ready`], once GetRole sees the role, so that a failed attach leaves a role
//! that state knows and teardown removes. AttachRolePolicy is idempotent, so waiting again is
//! safe. Teardown detaches every managed policy and deletes every inline policy first, also
//! those attached outside the plan, since DeleteRole refuses a role that still has any.

use aws_sdk_iam::types::Tag;
use serde_json::{Value, json};

use super::{AwsError, Created, Ctx, ErrorKind, Outputs, Props, poll, sdk_err, unknown_type};

pub(super) async fn create(ctx: &Ctx, ty: &str, p: &mut Props) -> Result<Created, AwsError> {
    match ty {
        "iam:Role" => create_role(ctx, p.for_op("CreateRole")).await,
        "iam:RolePolicy" => create_role_policy(ctx, p.for_op("PutRolePolicy")).await,
        _ => Err(unknown_type(ty)),
    }
}

async fn create_role(ctx: &Ctx, p: &mut Props) -> Result<Created, AwsError> {
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
    let tags = p
        .tags()?
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| AwsError::input("CreateRole", e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    p.finish()?;

    let out = ctx
        .iam
        .create_role()
        .role_name(&role_name)
        .assume_role_policy_document(trust)
        .set_description(description)
        .set_path(path)
        .set_max_session_duration(max_session_duration)
        .set_tags((!tags.is_empty()).then_some(tags))
        .send()
        .await
        .map_err(|e| sdk_err("CreateRole", e))?;
    let role = out.role().ok_or_else(|| bad_response("CreateRole", "the role"))?;
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(role.role_name()));
    outputs.insert("name".into(), json!(role.role_name()));
    outputs.insert("arn".into(), json!(role.arn()));
    outputs.insert("policy_arns".into(), json!(policy_arns));
    outputs.insert("inline_policies".into(), json!(inline));
    Ok(Created { id: role.role_name().to_string(), outputs })
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
    // Role names cannot contain `:`, so the ID splits back unambiguously.
    let id = format!("{role_name}:{policy_name}");
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(id));
    outputs.insert("role_name".into(), json!(role_name));
    outputs.insert("policy_name".into(), json!(policy_name));
    Ok(Created { id, outputs })
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

/// Adoption after a crash is not written for this service yet: nothing is found, so a create
/// that AWS accepted but the state never recorded is created again.
pub(super) async fn adopt(_ctx: &Ctx, _ty: &str, _p: &mut Props) -> Result<Option<Created>, AwsError> {
    Ok(None)
}
