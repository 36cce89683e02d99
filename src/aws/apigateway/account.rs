//! `apigateway:Account`: the region's API Gateway account setting, a region singleton.
//!
//! `create` only reads the setting: the role found is stashed (and so recorded in the state)
//! before `ready` changes anything, so a crash can never lose the value teardown restores.
//! `delete` puts that role back (or clears the setting if there was none).

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::{outputs, replace};
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, out_str, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "apigateway:Account",
    aliases: &["AWS::ApiGateway::Account", "aws_api_gateway_account", "aws:apigateway/account:Account"],
    summary: "The region's API Gateway account setting: the IAM role API Gateway writes CloudWatch logs with",
    calls: "GetAccount (reads the current role, restored at teardown); UpdateAccount (cloudwatch_role_arn, the \
            Account's field name, sent as the patch operation `replace /cloudwatchRoleArn`). A region singleton: \
            teardown puts back the role found at creation (or clears it if there was none)",
    props: &[Prop::req(
        "cloudwatch_role_arn",
        Kind::Str,
        "ARN of a role trusted by apigateway.amazonaws.com that may push logs to CloudWatch",
    )
    .in_place()],
    attrs: &[
        attr("id", "always `account`: there is one per region"),
        attr("cloudwatch_role_arn", "the role ARN that was set"),
    ],
    taggable: false,
    holds_data: false,
    create_secs: 5,
    delete_secs: 2,
    implied: &[],
};

pub struct Account;

/// What a create reads.
pub struct Input {
    role_arn: String,
}

#[async_trait]
impl Lifecycle for Account {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    /// Beyond API Gateway's: IAM's, for the role `find` looks at.
    const NOT_FOUND: &'static [&'static str] = &["NotFoundException", "NoSuchEntity"];
    const UPDATES: &'static [&'static str] = &["cloudwatch_role_arn"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("UpdateAccount");
        Ok(Input { role_arn: p.str("cloudwatch_role_arn")? })
    }

    /// Reads the setting only (see the module's doc).
    async fn create(ctx: &Ctx, a: &Input) -> Result<Created, AwsError> {
        let current = ctx.apigateway.get_account().send().await.map_err(|e| sdk_err("GetAccount", e))?;
        let previous = current.cloudwatch_role_arn().unwrap_or_default();
        Ok(created(&a.role_arn, previous))
    }

    /// The region's setting is ours when it already holds the plan's role and that role is this
    /// stack's (its identity tags): the UpdateAccount went through. The role it replaced is lost
    /// with the crash (the intent keeps no outputs), so the adopted outputs say "the setting was
    /// empty before": teardown then clears the setting rather than leave it on a role the
    /// teardown deletes. A setting that points at a role that is not this stack's is never
    /// adopted. `create` changes nothing (it only reads the setting), so a crash never leaves a
    /// change to adopt; this matters for a lost state (`teardown --discover`).
    async fn find(ctx: &Ctx, a: &Input, who: &Identity) -> Result<Found, AwsError> {
        let role_arn = &a.role_arn;
        let current = ctx.apigateway.get_account().send().await.map_err(|e| sdk_err("GetAccount", e))?;
        if current.cloudwatch_role_arn() != Some(role_arn.as_str()) {
            return Ok(Found::Nothing);
        }
        let created = created(role_arn, "");
        // arn:aws:iam::<account>:role/<path/>name
        let role_name = role_arn.rsplit('/').next().unwrap_or_default();
        let what = format!("CloudWatch role `{role_arn}`");
        match ctx.iam.get_role().role_name(role_name).send().await {
            Ok(r) => {
                let tags = r.role().map(|r| r.tags()).unwrap_or_default();
                Ok(who.claim_by_parent(created, &what, tags.iter().map(|t| (t.key(), t.value()))))
            }
            Err(e) => match sdk_err("GetRole", e) {
                e if e.is_not_found() => {
                    Ok(Found::NotOurs { id: created.id, why: format!("its {what} does not exist in this account") })
                }
                e => Err(e),
            },
        }
    }

    /// Sets the region's CloudWatch role (idempotent). Right after the role is created AWS
    /// answers "does not have required permissions" for a few seconds; that error is classified
    /// Eventual and the engine retries.
    async fn ready(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        set_role(ctx, out_str(out, "cloudwatch_role_arn", "UpdateAccount")?).await?;
        Ok(out.clone())
    }

    /// The setting as it is now: the role it holds ("" for none). A singleton is never gone.
    async fn read(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let current = ctx.apigateway.get_account().send().await.map_err(|e| sdk_err("GetAccount", e))?;
        let mut props = Map::new();
        props.insert("cloudwatch_role_arn".into(), json!(current.cloudwatch_role_arn().unwrap_or_default()));
        Ok(Some(Live { props, outputs: out.clone() }))
    }

    /// Sets the plan's new role (UpdateAccount). The role to restore at teardown stays the one
    /// found at creation: the setting was never this stack's before that.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, a: &Input, _changed: &[String]) -> Result<Outputs, AwsError> {
        let mut outputs = out.clone();
        outputs.insert("cloudwatch_role_arn".into(), json!(a.role_arn));
        Self::ready(ctx, id, &outputs).await
    }

    /// Puts back the role found at creation ("" clears the setting).
    async fn delete(ctx: &Ctx, _id: &str, out: &Outputs) -> Result<(), AwsError> {
        let previous = out.get("previous_cloudwatch_role_arn").and_then(Value::as_str).unwrap_or_default();
        match set_role(ctx, previous).await {
            // The previous role was deleted or lost its trust since: API Gateway cannot use it
            // any more, so clearing the setting is the closest restore there is.
            Err(e) if !previous.is_empty() && e.code == "BadRequestException" => set_role(ctx, "").await,
            other => other,
        }
    }

    /// The setting stays (a singleton): `delete` put the previous role back.
    async fn gone(_ctx: &Ctx, _id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(true)
    }
}

/// What `create` returns: the plan's role for `ready` to set, and the role to restore.
fn created(role_arn: &str, previous: &str) -> Created {
    Created {
        id: "account".into(),
        outputs: outputs([
            ("id", "account"),
            ("cloudwatch_role_arn", role_arn),
            ("previous_cloudwatch_role_arn", previous),
        ]),
    }
}

async fn set_role(ctx: &Ctx, role_arn: &str) -> Result<(), AwsError> {
    ctx.apigateway
        .update_account()
        .patch_operations(replace("/cloudwatchRoleArn", role_arn))
        .send()
        .await
        .map_err(|e| sdk_err("UpdateAccount", e))?;
    Ok(())
}

#[cfg(test)]
mod adopt_tests {
    use serde_json::json;

    use super::super::tests::{adopt, create, delete, s, start, tags};
    use crate::aws::testing::{assert_not_ours, assert_reads_back, assert_updates, find};

    #[tokio::test]
    async fn account() {
        let (_moto, ctx) = start().await;
        const TY: &str = "apigateway:Account";
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let role_props = json!({"role_name": "s-dev-apigw-logs", "assume_role_policy_document": trust,
            "tags": tags("s-dev", "apigw_role")});
        let role = create(&ctx, "iam:Role", &role_props).await;
        let role = s(&role, "arn");
        let v = json!({"cloudwatch_role_arn": role});
        // Create only reads the setting; the change is made once the state holds the value
        // to restore, so there is never anything to adopt.
        let created = create(&ctx, TY, &v).await;
        assert_eq!(s(&created, "previous_cloudwatch_role_arn"), "");
        let now = ctx.apigateway.get_account().send().await.expect("GetAccount");
        assert_eq!(now.cloudwatch_role_arn().unwrap_or_default(), "", "create changed nothing");
        let ready = crate::aws::wait_ready(&ctx, TY, &created.id, &created.outputs).await.expect("wait_ready");
        let now = ctx.apigateway.get_account().send().await.expect("GetAccount");
        assert_eq!(now.cloudwatch_role_arn(), Some(role.as_str()));
        assert_reads_back(&ctx, TY, &v, &created.id, &ready).await;
        // Found pointing at the plan's role, which is this stack's (a lost state): adopted, to
        // be cleared on teardown.
        let a = adopt(&ctx, TY, &v).await.expect("adopted");
        assert_eq!(s(&a, "previous_cloudwatch_role_arn"), "");
        delete(&ctx, TY, &created).await;
        assert!(adopt(&ctx, TY, &v).await.is_none());
        let now = ctx.apigateway.get_account().send().await.expect("GetAccount");
        assert_eq!(now.cloudwatch_role_arn().unwrap_or_default(), "", "teardown restored the setting");
    }

    /// A new role is set in place; teardown still puts back what was there before the stack.
    #[tokio::test]
    async fn account_role_updates_in_place() {
        let (_moto, ctx) = start().await;
        const TY: &str = "apigateway:Account";
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let mut roles = Vec::new();
        for name in ["s-dev-apigw-logs", "s-dev-apigw-logs-2"] {
            let v = json!({"role_name": name, "assume_role_policy_document": trust, "tags": tags("s-dev", name)});
            roles.push(s(&create(&ctx, "iam:Role", &v).await, "arn"));
        }
        let created = create(&ctx, TY, &json!({"cloudwatch_role_arn": roles[0]})).await;
        let ready = crate::aws::wait_ready(&ctx, TY, &created.id, &created.outputs).await.expect("wait_ready");
        let v = json!({"cloudwatch_role_arn": roles[1]});
        let out = assert_updates(&ctx, TY, &created.id, &ready, &v, &["cloudwatch_role_arn"]).await;
        let now = ctx.apigateway.get_account().send().await.expect("GetAccount");
        assert_eq!(now.cloudwatch_role_arn(), Some(roles[1].as_str()));
        assert_eq!(out["cloudwatch_role_arn"], json!(roles[1]), "the state's outputs follow the update");
        crate::aws::delete(&ctx, TY, &created.id, &out).await.expect("delete");
        let now = ctx.apigateway.get_account().send().await.expect("GetAccount");
        assert_eq!(now.cloudwatch_role_arn().unwrap_or_default(), "", "teardown restored the setting before the stack");
    }

    /// A region setting that points at a role ironplan did not create is someone else's:
    /// `teardown --discover` must not adopt it (and clear it).
    #[tokio::test]
    async fn account_on_a_role_that_is_not_ours_is_left_alone() {
        let (_moto, ctx) = start().await;
        const TY: &str = "apigateway:Account";
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        // Made outside ironplan: no identity tags.
        let out = ctx.iam.create_role().role_name("shared-apigw-logs").assume_role_policy_document(trust).send().await;
        let arn = out.expect("CreateRole").role().map(|r| r.arn().to_string()).expect("arn");
        let patch = aws_sdk_apigateway::types::PatchOperation::builder()
            .op(aws_sdk_apigateway::types::Op::Replace)
            .path("/cloudwatchRoleArn")
            .value(&arn)
            .build();
        ctx.apigateway.update_account().patch_operations(patch).send().await.expect("UpdateAccount");
        let v = json!({"cloudwatch_role_arn": arn});
        assert_not_ours(&find(&ctx, TY, &v).await, "has no `ironplan:stack` tag");
        // A role that does not exist at all proves nothing either.
        let gone = json!({"cloudwatch_role_arn": "arn:aws:iam::123456789012:role/nobody"});
        assert!(adopt(&ctx, TY, &gone).await.is_none());
    }
}
