//! `iam:Role`: an IAM role, with its managed and inline policies.
//!
//! `create` makes only the CreateRole call; the managed policies are attached and the inline
//! policies put in `ready`, once GetRole sees the role, so that a failed attach leaves a role
//! that state knows and teardown removes. AttachRolePolicy and PutRolePolicy are idempotent,
//! so waiting again is safe. Teardown detaches every managed policy and deletes every inline
//! policy first, also those attached outside the plan, since DeleteRole refuses a role that
//! still has any.

use async_trait::async_trait;
use aws_sdk_iam::types::{Role as IamRole, RoleDetail, Tag};
use serde_json::{Map, Value, json};

use super::{
    NOT_FOUND, PATH, POLICY_NAME, ROLE_NAME, document, get_role, get_role_policy, inline_document, listed_roles,
    required_document, role_details, role_tags,
};
use crate::aws::adapter::{Item, Lifecycle, Live, Read};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, found, poll, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

/// Every item of a paginated IAM list call, or the error of `$op`.
macro_rules! every {
    ($req:expr, $op:literal) => {
        $req.into_paginator().items().send().collect::<Result<Vec<_>, _>>().await.map_err(|e| sdk_err($op, e))
    };
}

/// One inline policy of a role (`inline_policies`), named as PutRolePolicy's builder.
const INLINE_POLICY: &[Prop] = &[
    Prop::req("policy_name", Kind::Str, "the policy's name, unique within the role").name_rule(&POLICY_NAME),
    Prop::req("policy_document", Kind::Document, "the permissions policy"),
];

pub static SPEC: TypeSpec = TypeSpec {
    name: "iam:Role",
    aliases: &["AWS::IAM::Role", "aws_iam_role", "aws:iam/role:Role"],
    summary: "An IAM role, with AWS managed policies attached",
    calls: "CreateRole (role_name, assume_role_policy_document, description, path, max_session_duration, tags); \
            AttachRolePolicy once per ARN of the ironplan property `policy_arns` (managed policies); \
            PutRolePolicy once per entry of the ironplan property `inline_policies` (policy_name, policy_document); \
            teardown: DetachRolePolicy for every attached policy, DeleteRolePolicy for inline policies left, \
            RemoveRoleFromInstanceProfile, DeleteRole",
    props: &[
        Prop::req("role_name", Kind::Str, "the role's name").name_rule(&ROLE_NAME),
        // UpdateAssumeRolePolicy.
        Prop::req("assume_role_policy_document", Kind::Document, "the trust policy: who may assume the role")
            .in_place(),
        // UpdateRole (description, max_session_duration).
        Prop::opt("description", Kind::Str, "what the role is for").in_place(),
        Prop::opt("path", Kind::Str, "the role's path (default `/`)").name_rule(&PATH),
        Prop::opt("max_session_duration", Kind::Int, "maximum session length in seconds (3600-43200)")
            .range(3600, 43200)
            .in_place(),
        // AttachRolePolicy / DetachRolePolicy.
        Prop::opt("policy_arns", Kind::List(&Kind::Str), "ARNs of managed policies to attach (AttachRolePolicy)")
            .in_place(),
        // PutRolePolicy / DeleteRolePolicy.
        Prop::opt(
            "inline_policies",
            Kind::List(&Kind::Struct(INLINE_POLICY)),
            "inline policies put on the role once it exists (PutRolePolicy each)",
        )
        .in_place(),
        Prop::opt("tags", Kind::Tags, "tags of the role"),
    ],
    attrs: &[attr("id", "the role name"), attr("name", "the role name"), attr("arn", "the role ARN")],
    taggable: true,
    holds_data: false,
    create_secs: 10,
    delete_secs: 3,
    implied: &[],
};

pub struct Role;

/// What a create reads.
pub struct Input {
    role_name: String,
    trust: String,
    description: Option<String>,
    path: Option<String>,
    max_session_duration: Option<i32>,
    policy_arns: Vec<String>,
    /// `{policy_name, policy_document}` objects, put in `ready`.
    inline: Vec<Value>,
    tags: Vec<Tag>,
}

#[async_trait]
impl Lifecycle for Role {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = NOT_FOUND;
    const UPDATES: &'static [&'static str] = &[
        "assume_role_policy_document",
        "description",
        "max_session_duration",
        "policy_arns",
        "inline_policies",
        "tags",
    ];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateRole");
        let role_name = p.str("role_name")?;
        let trust = required_document(p, "CreateRole", "assume_role_policy_document")?;
        let description = p.opt_str("description")?;
        let path = p.opt_str("path")?;
        let max_session_duration = p.opt_i32("max_session_duration")?;
        let policy_arns = p.str_list("policy_arns")?;
        let mut inline = Vec::new();
        for mut pol in p.structs("inline_policies")? {
            let name = pol.str("policy_name")?;
            let doc = required_document(&mut pol, "PutRolePolicy", "policy_document")?;
            pol.finish()?;
            inline.push(json!({ "policy_name": name, "policy_document": doc }));
        }
        let tags = p
            .tags()?
            .into_iter()
            .map(|(k, v)| {
                Tag::builder().key(k).value(v).build().map_err(|e| AwsError::input("CreateRole", e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Input { role_name, trust, description, path, max_session_duration, policy_arns, inline, tags })
    }

    async fn create(ctx: &Ctx, r: &Input) -> Result<Created, AwsError> {
        let out = ctx
            .iam
            .create_role()
            .role_name(&r.role_name)
            .assume_role_policy_document(&r.trust)
            .set_description(r.description.clone())
            .set_path(r.path.clone())
            .set_max_session_duration(r.max_session_duration)
            .set_tags((!r.tags.is_empty()).then(|| r.tags.clone()))
            .send()
            .await
            .map_err(|e| sdk_err("CreateRole", e))?;
        let role = out.role().ok_or_else(|| AwsError::malformed("CreateRole", "the role"))?;
        Ok(created(role, r))
    }

    /// The role of that name; ours only with both identity tags (CreateRole carries them).
    async fn find(ctx: &Ctx, r: &Input, who: &Identity) -> Result<Found, AwsError> {
        let Some(role) = get_role(ctx, &r.role_name).await? else { return Ok(Found::Nothing) };
        Ok(who.claim(created(&role, r), role_tags(&role)))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        let role =
            poll(ctx, "GetRole", &format!("role {id} to exist"), || async move { get_role(ctx, id).await }).await?;
        for arn in planned(out, "policy_arns").filter_map(Value::as_str) {
            ctx.iam
                .attach_role_policy()
                .role_name(id)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| sdk_err("AttachRolePolicy", e))?;
        }
        for pol in planned(out, "inline_policies") {
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
        Ok(outputs(id, &role, out))
    }

    /// UpdateAssumeRolePolicy; UpdateRole (description, session length); managed policies and
    /// inline policies the plan dropped detached and deleted, the others attached and put as
    /// `ready` does; tags by TagRole and UntagRole.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, r: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        let has = |p: &str| changed.iter().any(|c| c == p);
        if has("assume_role_policy_document") {
            let req = ctx.iam.update_assume_role_policy().role_name(id).policy_document(&r.trust);
            req.send().await.map_err(|e| sdk_err("UpdateAssumeRolePolicy", e))?;
        }
        if has("description") || has("max_session_duration") {
            let req = ctx.iam.update_role().role_name(id);
            let req = req.description(r.description.clone().unwrap_or_default());
            req.set_max_session_duration(r.max_session_duration).send().await.map_err(|e| sdk_err("UpdateRole", e))?;
        }
        if has("policy_arns") {
            for p in attached(ctx, id).await? {
                let Some(arn) = p.policy_arn().filter(|a| !r.policy_arns.iter().any(|w| w == a)) else { continue };
                done(
                    ctx.iam
                        .detach_role_policy()
                        .role_name(id)
                        .policy_arn(arn)
                        .send()
                        .await
                        .map_err(|e| sdk_err("DetachRolePolicy", e)),
                )?;
            }
        }
        if has("inline_policies") {
            let keep: Vec<&str> = r.inline.iter().filter_map(|p| p["policy_name"].as_str()).collect();
            for name in planned(out, "inline_policies").filter_map(|p| p["policy_name"].as_str()) {
                if !keep.contains(&name) {
                    let req = ctx.iam.delete_role_policy().role_name(id).policy_name(name);
                    done(req.send().await.map_err(|e| sdk_err("DeleteRolePolicy", e)))?;
                }
            }
        }
        let Some(role) = get_role(ctx, id).await? else {
            return Err(AwsError::input("UpdateRole", format!("role {id} is gone")));
        };
        if has("tags") {
            let dropped: Vec<String> = role
                .tags()
                .iter()
                .map(|t| t.key().to_string())
                .filter(|k| !r.tags.iter().any(|t| t.key() == k))
                .collect();
            if !dropped.is_empty() {
                let req = ctx.iam.untag_role().role_name(id).set_tag_keys(Some(dropped));
                req.send().await.map_err(|e| sdk_err("UntagRole", e))?;
            }
            let req = ctx.iam.tag_role().role_name(id).set_tags(Some(r.tags.clone()));
            req.send().await.map_err(|e| sdk_err("TagRole", e))?;
        }
        let mut want = out.clone();
        want.extend(created(&role, r).outputs);
        Self::ready(ctx, id, &want).await
    }

    /// The role's properties. `policy_arns` is every attached managed policy (in the plan's
    /// order, then the others); `inline_policies` only the policies the plan's `inline_policies`
    /// names (as the outputs keep them): the role's other inline policies are `iam:RolePolicy`
    /// resources' or someone else's, not this property's. Lists the plan leaves empty and AWS
    /// has empty are left out.
    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let Some(role) = get_role(ctx, id).await? else { return Ok(None) };
        let arns: Vec<String> =
            attached(ctx, id).await?.iter().filter_map(|p| p.policy_arn().map(str::to_owned)).collect();
        let mut inline = Vec::new();
        for name in planned(out, "inline_policies").filter_map(|p| p["policy_name"].as_str()) {
            inline.push((name.to_string(), get_role_policy(ctx, id, name).await?));
        }
        live_of(id, &role, out, arns, inline).map(Some)
    }

    /// GetRole of each (its description and session duration are in no listing), and its
    /// policies from the account's authorization details, one paged call shared with the inline
    /// policies' reads ([`role_details`]); a role that listing lacks (or a caller that may not
    /// make it) is read as [`Lifecycle::read`] does.
    const READ_BATCH: usize = 100;

    async fn read_many(ctx: &Ctx, items: &[Item<'_>]) -> Vec<Read> {
        let run = ctx.in_read_run();
        let (details, listed) = (role_details(&run).await, listed_roles(&run).await);
        let mut answers = Vec::with_capacity(items.len());
        for (id, out) in items {
            answers.push(match (&details, &listed) {
                (Err(e), _) | (_, Err(e)) => Err(e.clone()),
                (Ok(Some(d)), Ok(all)) if d.contains_key(*id) => {
                    let role = all.as_ref().and_then(|l| l.get(*id));
                    read_detailed(ctx, id, out, &d[*id], role).await
                }
                (Ok(_), _) => Self::read(ctx, id, out).await,
            });
        }
        answers
    }

    async fn delete(ctx: &Ctx, role: &str, _out: &Outputs) -> Result<(), AwsError> {
        // Each detach or delete below may find its policy already gone: that is done, not failed.
        for arn in attached(ctx, role).await?.iter().filter_map(|p| p.policy_arn()) {
            let r = ctx.iam.detach_role_policy().role_name(role).policy_arn(arn).send().await;
            done(r.map_err(|e| sdk_err("DetachRolePolicy", e)))?;
        }
        let inline: Vec<String> = every!(ctx.iam.list_role_policies().role_name(role), "ListRolePolicies")?;
        for name in &inline {
            let r = ctx.iam.delete_role_policy().role_name(role).policy_name(name).send().await;
            done(r.map_err(|e| sdk_err("DeleteRolePolicy", e)))?;
        }
        let profiles: Vec<_> =
            every!(ctx.iam.list_instance_profiles_for_role().role_name(role), "ListInstanceProfilesForRole")?;
        for name in profiles.iter().map(|p| p.instance_profile_name()) {
            let r = ctx.iam.remove_role_from_instance_profile().role_name(role).instance_profile_name(name);
            done(r.send().await.map_err(|e| sdk_err("RemoveRoleFromInstanceProfile", e)))?;
        }
        ctx.iam.delete_role().role_name(role).send().await.map_err(|e| sdk_err("DeleteRole", e))?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(get_role(ctx, id).await?.is_none())
    }
}

/// What `create` returns for a role: `ready` attaches `policy_arns` and puts `inline_policies`.
fn created(role: &aws_sdk_iam::types::Role, r: &Input) -> Created {
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(role.role_name()));
    outputs.insert("name".into(), json!(role.role_name()));
    outputs.insert("arn".into(), json!(role.arn()));
    outputs.insert("policy_arns".into(), json!(r.policy_arns));
    outputs.insert("inline_policies".into(), json!(r.inline));
    Created { id: role.role_name().to_string(), outputs }
}

/// The outputs once the role exists.
/// The one conversion of what IAM says of a role into its live properties (single and batched
/// read): GetRole's role, its attached policies' ARNs and the documents of the inline policies
/// the plan names (`None`: the role has no policy of that name).
fn live_of(
    id: &str,
    role: &aws_sdk_iam::types::Role,
    out: &Outputs,
    mut arns: Vec<String>,
    inline: Vec<(String, Option<String>)>,
) -> Result<Live, AwsError> {
    let mut props = Map::new();
    props.insert("role_name".into(), json!(role.role_name()));
    let trust = required(role.assume_role_policy_document(), "GetRole", "AssumeRolePolicyDocument")?;
    props.insert("assume_role_policy_document".into(), document(&trust));
    if let Some(d) = role.description() {
        props.insert("description".into(), json!(d));
    }
    props.insert("path".into(), json!(role.path()));
    if let Some(s) = role.max_session_duration() {
        props.insert("max_session_duration".into(), json!(s));
    }

    let want: Vec<&str> = planned(out, "policy_arns").filter_map(Value::as_str).collect();
    arns.sort_by_key(|a| (want.iter().position(|w| w == a).unwrap_or(usize::MAX), a.clone()));
    if !arns.is_empty() || !want.is_empty() {
        props.insert("policy_arns".into(), json!(arns));
    }

    let named = planned(out, "inline_policies").any(|p| p["policy_name"].as_str().is_some());
    let inline: Vec<Value> = inline
        .into_iter()
        .filter_map(|(name, doc)| Some(json!({"policy_name": name, "policy_document": document(&doc?)})))
        .collect();
    if named {
        props.insert("inline_policies".into(), Value::Array(inline));
    }
    props.insert("tags".into(), Value::Object(role_tags(role).map(|(k, v)| (k.into(), json!(v))).collect()));
    Ok(Live { props, outputs: outputs(id, role, out) })
}

/// [`Lifecycle::read`] of a role whose policies the account's authorization details list: the
/// role as ListRoles has it with the details' tags (GetRole if ListRoles lacks it).
async fn read_detailed(ctx: &Ctx, id: &str, out: &Outputs, detail: &RoleDetail, listed: Option<&IamRole>) -> Read {
    let role = match listed {
        Some(r) => {
            let mut r = r.clone();
            r.tags = Some(detail.tags().to_vec());
            r
        }
        None => match get_role(ctx, id).await? {
            Some(r) => r,
            None => return Ok(None),
        },
    };
    let arns = detail.attached_managed_policies().iter().filter_map(|p| p.policy_arn().map(str::to_owned)).collect();
    let inline = planned(out, "inline_policies")
        .filter_map(|p| p["policy_name"].as_str())
        .map(|name| (name.to_string(), inline_document(detail, name)))
        .collect();
    live_of(id, &role, out, arns, inline).map(Some)
}

fn outputs(id: &str, role: &aws_sdk_iam::types::Role, out: &Outputs) -> Outputs {
    let mut outputs = out.clone();
    outputs.insert("id".into(), json!(id));
    outputs.insert("name".into(), json!(role.role_name()));
    outputs.insert("arn".into(), json!(role.arn()));
    outputs
}

/// The entries of a list the create stashed in the outputs (`policy_arns`, `inline_policies`).
fn planned<'a>(out: &'a Outputs, key: &str) -> impl Iterator<Item = &'a Value> {
    out.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default().iter()
}

/// The managed policies attached to the role.
async fn attached(ctx: &Ctx, role: &str) -> Result<Vec<aws_sdk_iam::types::AttachedPolicy>, AwsError> {
    every!(ctx.iam.list_attached_role_policies().role_name(role), "ListAttachedRolePolicies")
}

/// A detach or delete whose target is already gone is done.
fn done<T>(r: Result<T, AwsError>) -> Result<(), AwsError> {
    found(r).map(drop)
}

#[cfg(test)]
mod adopt_tests {
    use super::super::has_role_policy;
    use super::*;
    use crate::aws::testing::{assert_not_ours, assert_reads_back, ctx, find, props};
    use crate::aws::{create, delete, wait_deleted, wait_ready};
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
            "description": "adopt test",
            "path": "/",
            "max_session_duration": 3600,
            "policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
            "inline_policies": [{"policy_name": "logs", "policy_document": doc("logs:PutLogEvents")}],
            "tags": {STACK_TAG: stack, RESOURCE_TAG: "role", "ManagedBy": "ironplan"},
        })
    }

    /// Every property the role updates, changed at once, reads back as the new plan; dropped
    /// managed and inline policies and tags are gone. Then its inline `iam:RolePolicy` too.
    #[tokio::test]
    async fn update_changes_the_role_and_its_policies_in_place() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let mut v = role_props("s-dev-role", "s-dev");
        v["tags"]["Team"] = json!("a");
        let c = create(&ctx, "iam:Role", &mut props(v.clone())).await.unwrap();
        let ready = wait_ready(&ctx, "iam:Role", &c.id, &c.outputs).await.unwrap();
        v["assume_role_policy_document"]["Statement"][0]["Principal"]["Service"] = json!("lambda.amazonaws.com");
        v["description"] = json!("changed");
        v["max_session_duration"] = json!(7200);
        v["policy_arns"] = json!(["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]);
        v["inline_policies"] = json!([{"policy_name": "kinesis", "policy_document": doc("kinesis:PutRecord")}]);
        v["tags"].as_object_mut().map(|t| t.remove("Team"));
        let keys: Vec<String> = Role::UPDATES.iter().map(|k| k.to_string()).collect();
        let out =
            crate::aws::update(&ctx, "iam:Role", &c.id, &ready, &mut props(v.clone()), &keys).await.expect("update");
        assert_reads_back(&ctx, "iam:Role", &v, &c.id, &out).await;
        assert!(!has_role_policy(&ctx, &c.id, "logs").await.unwrap(), "the dropped inline policy is gone");
        let arns: Vec<String> =
            attached(&ctx, &c.id).await.unwrap().iter().filter_map(|p| p.policy_arn().map(str::to_owned)).collect();
        assert_eq!(arns, ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]);
        let live = crate::aws::read(&ctx, "iam:Role", &c.id, &out).await.unwrap().expect("the role");
        assert_eq!(live.props["tags"].get("Team"), None);

        let policy =
            |action: &str| json!({"role_name": "s-dev-role", "policy_name": "extra", "policy_document": doc(action)});
        let p = create(&ctx, "iam:RolePolicy", &mut props(policy("sqs:SendMessage"))).await.unwrap();
        let keys = ["policy_document".to_string()];
        let out =
            crate::aws::update(&ctx, "iam:RolePolicy", &p.id, &p.outputs, &mut props(policy("sns:Publish")), &keys)
                .await
                .expect("update the policy");
        assert_reads_back(&ctx, "iam:RolePolicy", &policy("sns:Publish"), &p.id, &out).await;
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
        let ready = wait_ready(&ctx, "iam:Role", &found.id, &found.outputs).await.unwrap();
        assert!(has_role_policy(&ctx, &found.id, "logs").await.unwrap());
        assert_reads_back(&ctx, "iam:Role", &role_props("s-dev-role", "s-dev"), &found.id, &ready).await;

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
        let ready_p = wait_ready(&ctx, "iam:RolePolicy", &p.id, &p.outputs).await.unwrap();
        assert_reads_back(&ctx, "iam:RolePolicy", &policy("s3:GetObject"), &p.id, &ready_p).await;
        // The role's `inline_policies` are its own: the `iam:RolePolicy` beside them is not one.
        assert_reads_back(&ctx, "iam:Role", &role_props("s-dev-role", "s-dev"), &found.id, &ready).await;
        // Another document under that name is left for PutRolePolicy to replace.
        assert!(matches!(find(&ctx, "iam:RolePolicy", &policy("s3:PutObject")).await, Found::Nothing));
        delete(&ctx, "iam:RolePolicy", &p.id, &p.outputs).await.unwrap();
        wait_deleted(&ctx, "iam:RolePolicy", &p.id, &p.outputs).await.unwrap();
        assert!(find(&ctx, "iam:RolePolicy", &policy("s3:GetObject")).await.ours().is_none());
        assert!(crate::aws::read(&ctx, "iam:RolePolicy", &p.id, &p.outputs).await.unwrap().is_none());

        delete(&ctx, "iam:Role", &created.id, &created.outputs).await.unwrap();
        wait_deleted(&ctx, "iam:Role", &created.id, &created.outputs).await.unwrap();
        assert!(matches!(find(&ctx, "iam:Role", &role_props("s-dev-role", "s-dev")).await, Found::Nothing));
        assert!(crate::aws::read(&ctx, "iam:Role", &created.id, &ready).await.unwrap().is_none());
    }

    /// Batched reads of roles and inline policies (one of each deleted since, one inline policy
    /// of a role that is gone) answer what the single reads do; in a read run both types share
    /// one GetAccountAuthorizationDetails, and a policy changed by hand shows through it.
    #[tokio::test]
    async fn batched_reads_of_roles_and_their_policies_agree_with_single_reads() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let mut roles = Vec::new();
        for name in ["s-dev-kept", "s-dev-gone"] {
            let c = create(&ctx, "iam:Role", &mut props(role_props(name, "s-dev"))).await.unwrap();
            let out = wait_ready(&ctx, "iam:Role", &c.id, &c.outputs).await.unwrap();
            roles.push(Created { id: c.id, outputs: out });
        }
        let policy = |role: &str, name: &str| json!({"role_name": role, "policy_name": name, "policy_document": doc("sqs:SendMessage")});
        let mut policies = Vec::new();
        for (role, name) in [("s-dev-kept", "extra"), ("s-dev-kept", "dropped"), ("s-dev-gone", "extra")] {
            let p = create(&ctx, "iam:RolePolicy", &mut props(policy(role, name))).await.unwrap();
            let out = wait_ready(&ctx, "iam:RolePolicy", &p.id, &p.outputs).await.unwrap();
            policies.push(Created { id: p.id, outputs: out });
        }
        delete(&ctx, "iam:RolePolicy", &policies[1].id, &policies[1].outputs).await.unwrap();
        for p in &policies[2..] {
            delete(&ctx, "iam:RolePolicy", &p.id, &p.outputs).await.unwrap();
        }
        delete(&ctx, "iam:Role", &roles[1].id, &roles[1].outputs).await.unwrap();
        wait_deleted(&ctx, "iam:Role", &roles[1].id, &roles[1].outputs).await.unwrap();

        let run = ctx.for_reads();
        for c in [&ctx, &run] {
            crate::aws::testing::assert_reads_many(c, "iam:Role", &roles).await;
            crate::aws::testing::assert_reads_many(c, "iam:RolePolicy", &policies).await;
        }
        assert_eq!(run.reads.as_ref().map(|r| r.calls()), Some(2), "two listings for both types");
        let details = role_details(&run).await.unwrap().expect("moto answers the listing");
        assert!(details.contains_key("s-dev-kept") && !details.contains_key("s-dev-gone"), "read from the listing");
        let listed = listed_roles(&run).await.unwrap().expect("moto answers ListRoles");
        assert!(listed.contains_key("s-dev-kept"), "the role from ListRoles");

        // A deployer that may not list the account's authorization details, or its roles,
        // reads one by one.
        fn refused<T>() -> Result<T, AwsError> {
            Err(AwsError {
                operation: "List",
                code: "AccessDenied".into(),
                message: "not allowed".into(),
                kind: crate::aws::ErrorKind::Fatal,
                hint: None,
            })
        }
        type Details = std::sync::Arc<std::collections::HashMap<String, RoleDetail>>;
        type Roles = std::sync::Arc<std::collections::HashMap<String, IamRole>>;
        for deny_details in [true, false] {
            let denied = ctx.for_reads();
            let cache = denied.reads.as_ref().expect("a read run has its cache");
            if deny_details {
                let key = "GetAccountAuthorizationDetails Filter=Role".into();
                assert!(cache.get(key, || async { refused::<Details>() }).await.is_err());
                assert!(role_details(&denied).await.unwrap().is_none(), "AccessDenied: no listing, no error");
            } else {
                assert!(cache.get("ListRoles PathPrefix=/".into(), || async { refused::<Roles>() }).await.is_err());
                assert!(listed_roles(&denied).await.unwrap().is_none(), "AccessDenied: no listing, no error");
            }
            crate::aws::testing::assert_reads_many(&denied, "iam:Role", &roles).await;
            crate::aws::testing::assert_reads_many(&denied, "iam:RolePolicy", &policies).await;
        }

        let wider = doc("logs:*");
        let put = ctx.iam.put_role_policy().role_name(&roles[0].id).policy_name("logs");
        put.policy_document(wider.to_string()).send().await.unwrap();
        let items = [(roles[0].id.as_str(), &roles[0].outputs)];
        let got = crate::aws::read_many(&ctx.for_reads(), "iam:Role", &items).await;
        let live = got.into_iter().next().expect("an answer").expect("read").expect("there");
        assert_eq!(live.props["inline_policies"], json!([{"policy_name": "logs", "policy_document": wider}]));
    }

    /// What `read` reports is what AWS has, not what the plan said: a trust policy, a managed
    /// policy and an inline policy changed by hand show up (the basis of drift detection).
    #[tokio::test]
    async fn read_reports_what_was_changed_by_hand() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let planned = role_props("s-dev-role", "s-dev");
        let c = create(&ctx, "iam:Role", &mut props(planned.clone())).await.unwrap();
        let ready = wait_ready(&ctx, "iam:Role", &c.id, &c.outputs).await.unwrap();

        let other = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        ctx.iam.update_assume_role_policy().role_name(&c.id).policy_document(other.to_string()).send().await.unwrap();
        let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
        ctx.iam.attach_role_policy().role_name(&c.id).policy_arn(admin).send().await.unwrap();
        let wider = doc("logs:*");
        let put = ctx.iam.put_role_policy().role_name(&c.id).policy_name("logs").policy_document(wider.to_string());
        put.send().await.unwrap();

        let live = crate::aws::read(&ctx, "iam:Role", &c.id, &ready).await.unwrap().expect("the role");
        assert_eq!(live.props["assume_role_policy_document"], other);
        assert_eq!(live.props["policy_arns"], json!(["arn:aws:iam::aws:policy/ReadOnlyAccess", admin]));
        assert_eq!(live.props["inline_policies"], json!([{"policy_name": "logs", "policy_document": wider}]));
        assert_eq!(live.outputs["arn"], ready["arn"]);
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
}
