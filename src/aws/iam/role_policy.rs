//! `iam:RolePolicy`: an inline policy of an IAM role.
//!
//! Its ID is `<role_name>:<policy_name>` (role names cannot contain `:`, so the ID splits back
//! unambiguously). It carries no tags: it is ours only on a role of this stack.

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::{
    NOT_FOUND, POLICY_NAME, ROLE_NAME, document, get_role, get_role_policy, has_role_policy, inline_document,
    required_document, role_details, role_tags, same_document,
};
use crate::aws::adapter::{Item, Lifecycle, Live, Read};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, poll, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "iam:RolePolicy",
    aliases: &["AWS::IAM::RolePolicy", "aws_iam_role_policy", "aws:iam/rolePolicy:RolePolicy"],
    summary: "An inline policy of an IAM role",
    calls: "PutRolePolicy (role_name, policy_name, policy_document); teardown: DeleteRolePolicy",
    props: &[
        Prop::req("role_name", Kind::Str, "the role that gets the policy").name_rule(&ROLE_NAME),
        Prop::req("policy_name", Kind::Str, "the policy's name, unique within the role").name_rule(&POLICY_NAME),
        // PutRolePolicy replaces the document of a policy of that name.
        Prop::req("policy_document", Kind::Document, "the permissions policy").in_place(),
    ],
    attrs: &[
        attr("id", "`<role_name>:<policy_name>`"),
        attr("role_name", "the role that has the policy"),
        attr("policy_name", "the policy's name"),
    ],
    taggable: false,
    holds_data: false,
    create_secs: 5,
    delete_secs: 2,
    implied: &[],
};

pub struct RolePolicy;

/// What a create reads.
pub struct Input {
    role_name: String,
    policy_name: String,
    document: String,
}

#[async_trait]
impl Lifecycle for RolePolicy {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = NOT_FOUND;
    const UPDATES: &'static [&'static str] = &["policy_document"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("PutRolePolicy");
        Ok(Input {
            role_name: p.str("role_name")?,
            policy_name: p.str("policy_name")?,
            document: required_document(p, "PutRolePolicy", "policy_document")?,
        })
    }

    async fn create(ctx: &Ctx, i: &Input) -> Result<Created, AwsError> {
        ctx.iam
            .put_role_policy()
            .role_name(&i.role_name)
            .policy_name(&i.policy_name)
            .policy_document(&i.document)
            .send()
            .await
            .map_err(|e| sdk_err("PutRolePolicy", e))?;
        Ok(created(&i.role_name, &i.policy_name))
    }

    /// The policy of that name on that role, only with the plan's document (another one is
    /// left for PutRolePolicy to replace), and ours only if the role is this stack's.
    async fn find(ctx: &Ctx, i: &Input, who: &Identity) -> Result<Found, AwsError> {
        let Some(have) = get_role_policy(ctx, &i.role_name, &i.policy_name).await? else { return Ok(Found::Nothing) };
        if !same_document(&have, &i.document) {
            return Ok(Found::Nothing);
        }
        let Some(role) = get_role(ctx, &i.role_name).await? else { return Ok(Found::Nothing) };
        let created = created(&i.role_name, &i.policy_name);
        Ok(who.claim_by_parent(created, &format!("role `{}`", i.role_name), role_tags(&role)))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        let (role, policy) = role_and_policy(id, out)?;
        let (role, policy) = (role.as_str(), policy.as_str());
        poll(ctx, "GetRolePolicy", &format!("policy {policy} of role {role} to exist"), || async move {
            Ok(has_role_policy(ctx, role, policy).await?.then_some(()))
        })
        .await?;
        Ok(out.clone())
    }

    /// PutRolePolicy replaces the document of the policy of that name: the create call again.
    async fn update(ctx: &Ctx, _id: &str, out: &Outputs, i: &Input, _changed: &[String]) -> Result<Outputs, AwsError> {
        Self::create(ctx, i).await?;
        Ok(out.clone())
    }

    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let (role, policy) = role_and_policy(id, out)?;
        let Some(doc) = get_role_policy(ctx, &role, &policy).await? else { return Ok(None) };
        Ok(Some(live_of(&role, &policy, &doc, out)))
    }

    /// From the account's authorization details, one paged call shared with the roles' reads
    /// (`role_details`); a policy of a role that listing lacks (or a caller that may not make
    /// it) is read as [`Lifecycle::read`] does: GetRolePolicy.
    const READ_BATCH: usize = 100;

    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        let details = role_details(ctx).await;
        let mut answers = Vec::with_capacity(items.len());
        for (id, out) in items {
            answers.push(match (&details, role_and_policy(id, out)) {
                (Err(e), _) => Err(e.clone()),
                (_, Err(e)) => Err(e),
                (Ok(Some(d)), Ok((role, policy))) if d.contains_key(&role) => {
                    Ok(inline_document(&d[&role], &policy).map(|doc| live_of(&role, &policy, &doc, out)))
                }
                (Ok(_), Ok(_)) => Self::read(ctx, id, out).await,
            });
        }
        answers
    }

    async fn delete(ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError> {
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

    async fn gone(ctx: &Ctx, id: &str, out: &Outputs) -> Result<bool, AwsError> {
        let (role, policy) = role_and_policy(id, out)?;
        Ok(!has_role_policy(ctx, &role, &policy).await?)
    }
}

/// The ID and outputs: `<role_name>:<policy_name>`.
/// The one conversion of an inline policy's document (GetRolePolicy's, or the authorization
/// details') into its live properties.
fn live_of(role: &str, policy: &str, doc: &str, out: &Outputs) -> Live {
    let mut props = Map::new();
    props.insert("role_name".into(), json!(role));
    props.insert("policy_name".into(), json!(policy));
    props.insert("policy_document".into(), document(doc));
    let mut outputs = out.clone();
    outputs.extend(created(role, policy).outputs);
    Live { props, outputs }
}

fn created(role_name: &str, policy_name: &str) -> Created {
    let id = format!("{role_name}:{policy_name}");
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(id));
    outputs.insert("role_name".into(), json!(role_name));
    outputs.insert("policy_name".into(), json!(policy_name));
    Created { id, outputs }
}

/// The role and policy names, from the outputs or else the ID.
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
