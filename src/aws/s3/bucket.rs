//! `s3:Bucket`: an S3 general purpose bucket, with the settings a state bucket and a HIPAA
//! workload need: versioning, default encryption with a KMS key, the four public access
//! blocks, bucket owner enforced, and a bucket policy that refuses requests without TLS.
//!
//! `create` is one CreateBucket (its LocationConstraint unless in us-east-1, the ownership
//! setting, and the tags); the other settings are made in `ready`, each an idempotent Put from
//! the values stashed in the outputs, so that a crash between them loses nothing. `tls_only`
//! owns the whole bucket policy: the type has no other policy to merge it with.
//!
//! A bucket is data: `delete` refuses one that holds any object version, delete marker or
//! unfinished multipart upload, unless the state's `force_destroy` (set by a deploy, not by the
//! plan alone: teardown reads the state) is true; then it aborts every upload and deletes every
//! version first (S3 refuses DeleteBucket while an upload is in progress).

use async_trait::async_trait;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Delete, ObjectIdentifier,
    ObjectOwnership, OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
    VersioningConfiguration,
};
use serde_json::{Map, Value, json};

use super::BUCKET_NAME;
use crate::aws::adapter::{Lifecycle, Live};
use crate::aws::{
    AwsError, Created, Ctx, ErrorKind, Found, Identity, Outputs, Props, partition, poll, sdk_err, tag_table,
};
use crate::schema::{Kind, Prop, TypeSpec, attr};

pub static SPEC: TypeSpec = TypeSpec {
    name: "s3:Bucket",
    aliases: &["AWS::S3::Bucket", "aws_s3_bucket", "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
    summary: "An S3 general purpose bucket (versioning, KMS encryption, public access blocks, TLS-only policy)",
    calls: "CreateBucket (bucket, object_ownership, tags); then PutBucketVersioning (versioning), \
            PutBucketEncryption (kms_key_id, aws:kms with a bucket key), PutPublicAccessBlock (block_public_access), \
            PutBucketPolicy (tls_only); teardown: ListMultipartUploads, ListObjectVersions, \
            AbortMultipartUpload and DeleteObjects (only with force_destroy), DeleteBucket",
    props: &[
        Prop::req("bucket", Kind::Str, "the bucket's name (globally unique)").name_rule(&BUCKET_NAME),
        // PutBucketVersioning: Enabled, or Suspended (a bucket once versioned never is unversioned again).
        Prop::opt("versioning", Kind::Bool, "keep every version of every object (PutBucketVersioning Enabled)")
            .in_place(),
        // PutBucketEncryption / DeleteBucketEncryption (back to AWS's default, SSE-S3).
        Prop::opt(
            "kms_key_id",
            Kind::Str,
            "ARN of the KMS key for default encryption (aws:kms, with an S3 bucket key); SSE-S3 when absent",
        )
        .in_place(),
        // PutPublicAccessBlock / DeletePublicAccessBlock.
        Prop::opt(
            "block_public_access",
            Kind::Bool,
            "turn on all four public access blocks (false removes them; absent leaves AWS's default)",
        )
        .in_place(),
        // PutBucketOwnershipControls.
        Prop::opt(
            "object_ownership",
            Kind::Str,
            "BucketOwnerEnforced (ACLs off; AWS's default), BucketOwnerPreferred or ObjectWriter",
        )
        .in_place(),
        // PutBucketPolicy / DeleteBucketPolicy.
        Prop::opt(
            "tls_only",
            Kind::Bool,
            "a bucket policy that denies every request made without TLS (aws:SecureTransport false)",
        )
        .in_place(),
        // The teardown choice lives in the state, not in AWS: a new value changes only that.
        Prop::opt(
            "force_destroy",
            Kind::Bool,
            "on teardown, abort unfinished multipart uploads and delete every object version first (default false: a non-empty bucket is refused)",
        )
        .in_place(),
        Prop::opt("tags", Kind::Tags, "tags of the bucket"),
    ],
    attrs: &[
        attr("id", "the bucket name"),
        attr("bucket", "the bucket name"),
        attr("arn", "the bucket ARN (`arn:aws:s3:::NAME`), as IAM and bucket policies want it"),
        attr("region", "the bucket's region"),
    ],
    taggable: true,
    holds_data: true,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};

pub struct Bucket;

/// What a create reads.
pub struct Input {
    name: String,
    versioning: Option<bool>,
    kms_key_id: Option<String>,
    block_public_access: Option<bool>,
    object_ownership: Option<String>,
    tls_only: Option<bool>,
    force_destroy: bool,
    tags: Vec<(String, String)>,
}

/// S3's answers for a configuration that is not set: not the bucket missing (`NoSuchBucket`).
const NO_TAGS: &str = "NoSuchTagSet";
const NO_ENCRYPTION: &str = "ServerSideEncryptionConfigurationNotFoundError";
const NO_PUBLIC_ACCESS_BLOCK: &str = "NoSuchPublicAccessBlockConfiguration";
const NO_OWNERSHIP: &str = "OwnershipControlsNotFoundError";
const NO_POLICY: &str = "NoSuchBucketPolicy";

/// How many object versions (and multipart uploads) `delete` counts before it says "at least".
const COUNT_LIMIT: usize = 10_000;

#[async_trait]
impl Lifecycle for Bucket {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    // HeadBucket answers a bare 404 (`NotFound`, known to every lookup); the other calls
    // `NoSuchBucket`.
    const NOT_FOUND: &'static [&'static str] = &["NoSuchBucket"];
    const UPDATES: &'static [&'static str] =
        &["versioning", "kms_key_id", "block_public_access", "object_ownership", "tls_only", "force_destroy", "tags"];

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateBucket");
        Ok(Input {
            name: p.str("bucket")?,
            versioning: p.opt_bool("versioning")?,
            kms_key_id: p.opt_str("kms_key_id")?,
            block_public_access: p.opt_bool("block_public_access")?,
            object_ownership: p.opt_str("object_ownership")?,
            tls_only: p.opt_bool("tls_only")?,
            force_destroy: p.opt_bool("force_destroy")?.unwrap_or(false),
            tags: p.tags()?,
        })
    }

    /// One CreateBucket. In us-east-1 S3 answers 200 to a CreateBucket of a bucket this account
    /// already owns (elsewhere BucketAlreadyOwnedByYou): a HeadBucket first, so that a bucket
    /// made outside this stack is never taken for a new one and configured, then deleted. A
    /// bucket that exists is taken only with this resource's identity tags (a retried create
    /// whose first call landed), as `find` would take it.
    async fn create(ctx: &Ctx, b: &Input) -> Result<Created, AwsError> {
        match head(ctx, &b.name).await? {
            Head::Missing => {}
            Head::Exists { .. } => return existing(ctx, b, "this stack's state does not know it").await,
            Head::Forbidden => {
                return Err(already_exists(&b.name, "this account may not read it (HeadBucket answered 403)"));
            }
        }
        let tags = s3_tags(&b.tags, "CreateBucket")?;
        let mut config = CreateBucketConfiguration::builder().set_tags(Some(tags.clone()));
        if ctx.region != "us-east-1" {
            config = config.location_constraint(BucketLocationConstraint::from(ctx.region.as_str()));
        }
        let sent = ctx
            .s3
            .create_bucket()
            .bucket(&b.name)
            .create_bucket_configuration(config.build())
            .set_object_ownership(b.object_ownership.as_deref().map(ObjectOwnership::from))
            .send()
            .await
            .map_err(|e| sdk_err("CreateBucket", e));
        match sent {
            Ok(_) => {}
            Err(e) if e.code == "BucketAlreadyOwnedByYou" => return existing(ctx, b, &e.message).await,
            Err(e) if e.code == "BucketAlreadyExists" => return Err(already_exists(&b.name, &e.message)),
            Err(e) => return Err(e),
        }
        if ctx.emulator {
            // moto 5.2.5 drops CreateBucketConfiguration's tags (ARCHITECTURE.md, moto gaps):
            // without them the bucket could never be proven ours.
            put_tags(ctx, &b.name, tags).await?;
        }
        Ok(created(ctx, b))
    }

    /// The bucket of that name, if this account can see it in this region: ours only with both
    /// identity tags (GetBucketTagging), which CreateBucket carries.
    async fn find(ctx: &Ctx, b: &Input, who: &Identity) -> Result<Found, AwsError> {
        let region = match head(ctx, &b.name).await? {
            Head::Missing => return Ok(Found::Nothing),
            Head::Forbidden => {
                let why =
                    "it exists, and this account may not read it (HeadBucket answered 403): another account's bucket";
                return Ok(Found::NotOurs { id: b.name.clone(), why: why.into() });
            }
            Head::Exists { region } => region,
        };
        if let Some(r) = region.filter(|r| *r != ctx.region) {
            let why = format!("it is in region `{r}`, and this stack deploys to `{}`", ctx.region);
            return Ok(Found::NotOurs { id: b.name.clone(), why });
        }
        let Some(tags) = tags(ctx, &b.name).await? else { return Ok(Found::Nothing) };
        Ok(who.claim(created(ctx, b), tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
    }

    /// The settings stashed by `create`, each an idempotent Put (a re-run after a crash makes
    /// them again): versioning, default encryption, public access blocks, the TLS-only policy.
    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        poll(ctx, "HeadBucket", &format!("bucket {id} to exist"), || async move {
            Ok(matches!(head(ctx, id).await?, Head::Exists { .. }).then_some(()))
        })
        .await?;
        let flag = |k: &str| out.get(k).and_then(Value::as_bool);
        // A new bucket is unversioned and has no policy: only `true` needs a call.
        if flag("versioning") == Some(true) {
            put_versioning(ctx, id, true).await?;
        }
        if let Some(key) = out.get("kms_key_id").and_then(Value::as_str) {
            put_encryption(ctx, id, key).await?;
        }
        match flag("block_public_access") {
            Some(true) => put_public_access_block(ctx, id).await?,
            Some(false) => delete_public_access_block(ctx, id).await?,
            None => {}
        }
        if flag("tls_only") == Some(true) {
            put_tls_policy(ctx, id).await?;
        }
        Ok(out.clone())
    }

    /// Every property back from its Get call, in plan shape. `force_destroy` is the state's,
    /// not AWS's, and is not reported; `kms_key_id` only while the default encryption is KMS;
    /// `tls_only` is true when the policy holds the deny-without-TLS statement.
    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        match head(ctx, id).await? {
            Head::Exists { .. } => {}
            Head::Missing => return Ok(None),
            // Not "gone": a refresh would drop it from the state and a deploy create it again.
            Head::Forbidden => {
                return Err(AwsError {
                    operation: "HeadBucket",
                    code: "AccessDenied".into(),
                    message: format!("bucket `{id}` exists, and this account may not read it"),
                    kind: ErrorKind::Fatal,
                    hint: Some("the caller lacks s3:ListBucket on the bucket: grant it, or use another profile".into()),
                });
            }
        }
        let mut props = Map::new();
        props.insert("bucket".into(), json!(id));

        props.insert("versioning".into(), json!(versioning_enabled(ctx, id).await?));

        let enc = ctx.s3.get_bucket_encryption().bucket(id).send().await.map_err(|e| sdk_err("GetBucketEncryption", e));
        if let Some(enc) = unset_as_none(enc, NO_ENCRYPTION)? {
            let by_default = enc
                .server_side_encryption_configuration()
                .and_then(|c| c.rules().iter().find_map(|r| r.apply_server_side_encryption_by_default()));
            if let Some(d) = by_default.filter(|d| is_kms(d.sse_algorithm())) {
                crate::aws::put(&mut props, "kms_key_id", d.kms_master_key_id());
            }
        }

        let pab = ctx.s3.get_public_access_block().bucket(id).send().await;
        let pab = unset_as_none(pab.map_err(|e| sdk_err("GetPublicAccessBlock", e)), NO_PUBLIC_ACCESS_BLOCK)?;
        let blocked = pab.and_then(|p| p.public_access_block_configuration().cloned()).is_some_and(|c| {
            [c.block_public_acls(), c.ignore_public_acls(), c.block_public_policy(), c.restrict_public_buckets()]
                .iter()
                .all(|f| *f == Some(true))
        });
        props.insert("block_public_access".into(), json!(blocked));

        let own = ctx.s3.get_bucket_ownership_controls().bucket(id).send().await;
        let own = unset_as_none(own.map_err(|e| sdk_err("GetBucketOwnershipControls", e)), NO_OWNERSHIP)?;
        if let Some(rule) = own.as_ref().and_then(|o| o.ownership_controls()).and_then(|c| c.rules().first()) {
            props.insert("object_ownership".into(), json!(rule.object_ownership().as_str()));
        }

        let policy = ctx.s3.get_bucket_policy().bucket(id).send().await;
        let policy = unset_as_none(policy.map_err(|e| sdk_err("GetBucketPolicy", e)), NO_POLICY)?;
        let arn = bucket_arn(ctx, id);
        let tls = policy.and_then(|p| p.policy().map(str::to_owned)).is_some_and(|text| denies_plain_http(&text, &arn));
        props.insert("tls_only".into(), json!(tls));

        let tags = tags(ctx, id).await?.unwrap_or_default();
        props.insert("tags".into(), tag_table(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        let mut outputs = out.clone();
        outputs.extend(attributes(ctx, id));
        Ok(Some(Live { props, outputs }))
    }

    /// Each changed setting by its own call; `force_destroy` only in the outputs (the state).
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, b: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        let has = |p: &str| changed.iter().any(|c| c == p);
        if has("versioning") {
            put_versioning(ctx, id, b.versioning == Some(true)).await?;
        }
        if has("kms_key_id") {
            match &b.kms_key_id {
                Some(key) => put_encryption(ctx, id, key).await?,
                None => {
                    let r = ctx.s3.delete_bucket_encryption().bucket(id).send().await;
                    r.map_err(|e| sdk_err("DeleteBucketEncryption", e))?;
                }
            }
        }
        if has("block_public_access") {
            match b.block_public_access {
                Some(true) => put_public_access_block(ctx, id).await?,
                Some(false) => delete_public_access_block(ctx, id).await?,
                // The plan no longer says: what is there stays.
                None => {}
            }
        }
        if has("object_ownership")
            && let Some(o) = &b.object_ownership
        {
            put_ownership(ctx, id, o).await?;
        }
        if has("tls_only") {
            if b.tls_only == Some(true) {
                put_tls_policy(ctx, id).await?;
            } else {
                let r = ctx.s3.delete_bucket_policy().bucket(id).send().await;
                r.map_err(|e| sdk_err("DeleteBucketPolicy", e))?;
            }
        }
        if has("tags") {
            // PutBucketTagging replaces the whole set: a dropped tag goes with it.
            put_tags(ctx, id, s3_tags(&b.tags, "PutBucketTagging")?).await?;
        }
        let mut outputs = out.clone();
        outputs.extend(stash(b));
        for (key, value) in
            [("versioning", b.versioning), ("block_public_access", b.block_public_access), ("tls_only", b.tls_only)]
        {
            if value.is_none() {
                outputs.remove(key);
            }
        }
        if b.kms_key_id.is_none() {
            outputs.remove("kms_key_id");
        }
        Ok(outputs)
    }

    /// Refuses a bucket that holds anything (every version, delete marker and unfinished
    /// multipart upload counts), unless the state's `force_destroy` is true: then every upload
    /// is aborted and every version deleted first, then the bucket.
    async fn delete(ctx: &Ctx, id: &str, out: &Outputs) -> Result<(), AwsError> {
        let force = out.get("force_destroy").and_then(Value::as_bool) == Some(true);
        if !force {
            let (count, more) = count_versions(ctx, id).await?;
            let (uploads, more_uploads) = count_uploads(ctx, id).await?;
            if count > 0 || uploads > 0 {
                let at_least = |n: usize, more: bool| if more { format!("at least {n}") } else { n.to_string() };
                let message = format!(
                    "bucket `{id}` holds {} object versions and delete markers and {} unfinished multipart uploads",
                    at_least(count, more),
                    at_least(uploads, more_uploads)
                );
                return Err(not_empty(id, &message));
            }
        } else {
            // Uploads first: S3 refuses DeleteBucket while one is in progress, and an upload
            // completed meanwhile becomes a version, which `empty` then deletes.
            abort_uploads(ctx, id).await?;
            empty(ctx, id).await?;
        }
        ctx.s3.delete_bucket().bucket(id).send().await.map_err(|e| {
            let e = sdk_err("DeleteBucket", e);
            // Written to between the count and the delete.
            if e.code == "BucketNotEmpty" { not_empty(id, &format!("bucket `{id}` is not empty")) } else { e }
        })?;
        Ok(())
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(matches!(head(ctx, id).await?, Head::Missing))
    }
}

/// What `create` returns: the attributes, and what `ready` and `delete` need.
fn created(ctx: &Ctx, b: &Input) -> Created {
    let mut outputs = attributes(ctx, &b.name);
    outputs.extend(stash(b));
    Created { id: b.name.clone(), outputs }
}

fn attributes(ctx: &Ctx, name: &str) -> Outputs {
    let mut out = Outputs::new();
    out.insert("id".into(), json!(name));
    out.insert("bucket".into(), json!(name));
    out.insert("arn".into(), json!(bucket_arn(ctx, name)));
    out.insert("region".into(), json!(ctx.region));
    out
}

/// The settings `ready` makes, and the teardown choice.
fn stash(b: &Input) -> Outputs {
    let mut out = Outputs::new();
    crate::aws::put(&mut out, "versioning", b.versioning);
    crate::aws::put(&mut out, "kms_key_id", b.kms_key_id.clone());
    crate::aws::put(&mut out, "block_public_access", b.block_public_access);
    crate::aws::put(&mut out, "tls_only", b.tls_only);
    out.insert("force_destroy".into(), json!(b.force_destroy));
    out
}

fn bucket_arn(ctx: &Ctx, name: &str) -> String {
    format!("arn:{}:s3:::{name}", partition(&ctx.region))
}

/// What HeadBucket says of a bucket name.
enum Head {
    Missing,
    /// This account can read it; its region, when S3 says.
    Exists {
        region: Option<String>,
    },
    /// It exists, and this account may not read it.
    Forbidden,
}

async fn head(ctx: &Ctx, name: &str) -> Result<Head, AwsError> {
    let mut req = ctx.s3.head_bucket().bucket(name);
    if !ctx.account_id.is_empty() {
        // A bucket of another account answers 403 rather than being taken for ours.
        req = req.expected_bucket_owner(&ctx.account_id);
    }
    match req.send().await {
        Ok(o) => Ok(Head::Exists { region: o.bucket_region().map(str::to_owned) }),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            let e = sdk_err("HeadBucket", e);
            match status {
                Some(404) => Ok(Head::Missing),
                _ if e.is_not_found() => Ok(Head::Missing),
                Some(403) => Ok(Head::Forbidden),
                _ => Err(e),
            }
        }
    }
}

/// The bucket of that name, which exists: this resource's by its identity tags, or refused.
async fn existing(ctx: &Ctx, b: &Input, why: &str) -> Result<Created, AwsError> {
    let who = Identity::from_tags(b.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if let Some(who) = who
        && let Found::Ours { created, .. } = <Bucket as Lifecycle>::find(ctx, b, &who).await?
    {
        return Ok(created);
    }
    Err(already_exists(&b.name, why))
}

fn already_exists(name: &str, why: &str) -> AwsError {
    AwsError {
        operation: "CreateBucket",
        code: "BucketAlreadyExists".into(),
        message: format!("bucket `{name}` already exists: {why}"),
        kind: ErrorKind::Fatal,
        hint: Some(
            "bucket names are global: choose another name (or environment suffix); ironplan never takes over a bucket it did not create"
                .into(),
        ),
    }
}

fn not_empty(name: &str, message: &str) -> AwsError {
    AwsError {
        operation: "DeleteBucket",
        code: "BucketNotEmpty".into(),
        message: message.into(),
        kind: ErrorKind::Fatal,
        hint: Some(format!(
            "empty bucket `{name}` yourself (delete every object version, abort every multipart upload), or set `force_destroy = true` on it and deploy, then tear down again"
        )),
    }
}

/// A Get's "that configuration is not set" (`code`) as `None`.
fn unset_as_none<T>(r: Result<T, AwsError>, code: &str) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code == code => Ok(None),
        Err(e) => Err(e),
    }
}

/// The bucket's tags (none set: empty), or `None` if the bucket is gone.
async fn tags(ctx: &Ctx, name: &str) -> Result<Option<Vec<(String, String)>>, AwsError> {
    let r = ctx.s3.get_bucket_tagging().bucket(name).send().await.map_err(|e| sdk_err("GetBucketTagging", e));
    match unset_as_none(r, NO_TAGS) {
        Ok(t) => Ok(Some(
            t.map(|t| t.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())
                .unwrap_or_default(),
        )),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

fn s3_tags(tags: &[(String, String)], op: &'static str) -> Result<Vec<Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| AwsError::input(op, e.to_string())))
        .collect()
}

async fn put_tags(ctx: &Ctx, name: &str, tags: Vec<Tag>) -> Result<(), AwsError> {
    let tagging = Tagging::builder().set_tag_set(Some(tags)).build();
    let tagging = tagging.map_err(|e| AwsError::input("PutBucketTagging", e.to_string()))?;
    let r = ctx.s3.put_bucket_tagging().bucket(name).tagging(tagging).send().await;
    r.map(drop).map_err(|e| sdk_err("PutBucketTagging", e))
}

/// True when the bucket's versioning is Enabled (not Suspended, not never set).
pub(crate) async fn versioning_enabled(ctx: &Ctx, name: &str) -> Result<bool, AwsError> {
    match ctx.s3.get_bucket_versioning().bucket(name).send().await {
        Ok(v) => Ok(v.status() == Some(&BucketVersioningStatus::Enabled)),
        Err(e) => {
            // moto 5.2.5 wraps the answer in `<GetBucketVersioningResponse>` where S3 sends
            // `<VersioningConfiguration>`, which the SDK refuses (ARCHITECTURE.md, moto gaps):
            // on the emulator only, the status is taken from the answer it did send.
            let body = e.raw_response().and_then(|r| r.body().bytes()).map(String::from_utf8_lossy);
            if ctx.emulator
                && let Some(status) = body.as_deref().and_then(moto_versioning_status)
            {
                return Ok(status == "Enabled");
            }
            Err(sdk_err("GetBucketVersioning", e))
        }
    }
}

/// The `<Status>` of moto's `<GetBucketVersioningResponse>` (empty: never set), or `None` for
/// any other answer.
fn moto_versioning_status(body: &str) -> Option<&str> {
    let inner = body.split_once("<GetBucketVersioningResponse")?.1;
    Some(inner.split_once("<Status>").and_then(|(_, rest)| rest.split_once("</Status>")).map_or("", |(s, _)| s))
}

/// Enabled, or Suspended: S3 never makes a versioned bucket unversioned again.
async fn put_versioning(ctx: &Ctx, name: &str, on: bool) -> Result<(), AwsError> {
    let status = if on { BucketVersioningStatus::Enabled } else { BucketVersioningStatus::Suspended };
    let config = VersioningConfiguration::builder().status(status).build();
    let r = ctx.s3.put_bucket_versioning().bucket(name).versioning_configuration(config).send().await;
    r.map(drop).map_err(|e| sdk_err("PutBucketVersioning", e))
}

/// Default encryption with the KMS key, and an S3 bucket key (far fewer KMS requests).
async fn put_encryption(ctx: &Ctx, name: &str, key: &str) -> Result<(), AwsError> {
    const OP: &str = "PutBucketEncryption";
    let by_default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .kms_master_key_id(key)
        .build()
        .map_err(|e| AwsError::input(OP, e.to_string()))?;
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(by_default)
        .bucket_key_enabled(true);
    let config = ServerSideEncryptionConfiguration::builder()
        .rules(rule.build())
        .build()
        .map_err(|e| AwsError::input(OP, e.to_string()))?;
    let r = ctx.s3.put_bucket_encryption().bucket(name).server_side_encryption_configuration(config).send().await;
    r.map(drop).map_err(|e| sdk_err(OP, e))
}

fn is_kms(algorithm: &ServerSideEncryption) -> bool {
    matches!(algorithm, ServerSideEncryption::AwsKms | ServerSideEncryption::AwsKmsDsse)
}

async fn put_public_access_block(ctx: &Ctx, name: &str) -> Result<(), AwsError> {
    let config = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    let r = ctx.s3.put_public_access_block().bucket(name).public_access_block_configuration(config).send().await;
    r.map(drop).map_err(|e| sdk_err("PutPublicAccessBlock", e))
}

async fn delete_public_access_block(ctx: &Ctx, name: &str) -> Result<(), AwsError> {
    let r = ctx.s3.delete_public_access_block().bucket(name).send().await;
    r.map(drop).map_err(|e| sdk_err("DeletePublicAccessBlock", e))
}

async fn put_ownership(ctx: &Ctx, name: &str, ownership: &str) -> Result<(), AwsError> {
    const OP: &str = "PutBucketOwnershipControls";
    let rule = OwnershipControlsRule::builder()
        .object_ownership(ObjectOwnership::from(ownership))
        .build()
        .map_err(|e| AwsError::input(OP, e.to_string()))?;
    let controls = OwnershipControls::builder().rules(rule).build().map_err(|e| AwsError::input(OP, e.to_string()))?;
    let r = ctx.s3.put_bucket_ownership_controls().bucket(name).ownership_controls(controls).send().await;
    r.map(drop).map_err(|e| sdk_err(OP, e))
}

/// The statement `tls_only` puts: deny every S3 action on the bucket and its objects to
/// anyone, when the request did not come over TLS.
fn tls_policy(arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, format!("{arn}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }],
    })
}

async fn put_tls_policy(ctx: &Ctx, name: &str) -> Result<(), AwsError> {
    let policy = tls_policy(&bucket_arn(ctx, name)).to_string();
    let r = ctx.s3.put_bucket_policy().bucket(name).policy(policy).send().await;
    r.map(drop).map_err(|e| sdk_err("PutBucketPolicy", e))
}

/// True when the policy text has a statement that denies `s3:*` to everyone on the bucket and
/// its objects when `aws:SecureTransport` is false (however AWS re-formats it).
pub(crate) fn denies_plain_http(policy: &str, arn: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else { return false };
    let list = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => Vec::new(),
        }
    };
    let statements = match doc.get("Statement") {
        Some(Value::Array(s)) => s.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => Vec::new(),
    };
    statements.iter().any(|s| {
        let everyone = match s.get("Principal") {
            Some(Value::String(p)) => p == "*",
            Some(Value::Object(p)) => list(p.get("AWS")).iter().any(|a| a == "*"),
            _ => false,
        };
        let resources = list(s.get("Resource"));
        let insecure = s
            .get("Condition")
            .and_then(|c| c.get("Bool"))
            .and_then(|b| b.get("aws:SecureTransport"))
            .is_some_and(|v| v == "false" || v == &Value::Bool(false));
        s.get("Effect").and_then(Value::as_str) == Some("Deny")
            && everyone
            && list(s.get("Action")).iter().any(|a| a == "s3:*" || a == "*")
            && [arn.to_string(), format!("{arn}/*")].iter().all(|r| resources.contains(r))
            && insecure
    })
}

/// One page of ListObjectVersions from `marker`: every version and delete marker on it, and
/// the next marker if there are more.
type Page = (Vec<ObjectIdentifier>, Option<(String, Option<String>)>);

async fn versions_page(ctx: &Ctx, name: &str, marker: Option<&(String, Option<String>)>) -> Result<Page, AwsError> {
    const OP: &str = "ListObjectVersions";
    let mut req = ctx.s3.list_object_versions().bucket(name);
    if let Some((key, version)) = marker {
        req = req.key_marker(key).set_version_id_marker(version.clone());
    }
    let page = req.send().await.map_err(|e| sdk_err(OP, e))?;
    let mut ids = Vec::new();
    let pairs = page
        .versions()
        .iter()
        .map(|v| (v.key(), v.version_id()))
        .chain(page.delete_markers().iter().map(|m| (m.key(), m.version_id())));
    for (key, version) in pairs {
        let key = key.ok_or_else(|| AwsError::malformed(OP, "a version's Key"))?;
        let id = ObjectIdentifier::builder().key(key).set_version_id(version.map(str::to_owned)).build();
        ids.push(id.map_err(|e| AwsError::malformed(OP, e))?);
    }
    let next = if page.is_truncated() == Some(true) {
        let key = page.next_key_marker().ok_or_else(|| AwsError::malformed(OP, "NextKeyMarker"))?;
        Some((key.to_string(), page.next_version_id_marker().map(str::to_owned)))
    } else {
        None
    };
    Ok((ids, next))
}

/// How many object versions and delete markers the bucket holds (up to [`COUNT_LIMIT`]), and
/// whether there are more.
async fn count_versions(ctx: &Ctx, name: &str) -> Result<(usize, bool), AwsError> {
    let (mut count, mut marker) = (0, None);
    loop {
        let (ids, next) = versions_page(ctx, name, marker.as_ref()).await?;
        count += ids.len();
        match next {
            Some(m) if count < COUNT_LIMIT => marker = Some(m),
            Some(_) => return Ok((count, true)),
            None => return Ok((count, false)),
        }
    }
}

/// Deletes every object version and delete marker, page by page (DeleteObjects takes at most
/// 1,000), and lists again until a pass finds nothing: what is written meanwhile goes too, for
/// a few passes, then the delete gives up.
async fn empty(ctx: &Ctx, name: &str) -> Result<(), AwsError> {
    for _ in 0..3 {
        let (mut marker, mut found) = (None, false);
        loop {
            let (ids, next) = versions_page(ctx, name, marker.as_ref()).await?;
            for chunk in ids.chunks(1000) {
                found = true;
                delete_objects(ctx, name, chunk.to_vec()).await?;
            }
            match next {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        if !found {
            return Ok(());
        }
    }
    Err(not_empty(name, &format!("bucket `{name}` is still being written to while force_destroy empties it")))
}

async fn delete_objects(ctx: &Ctx, name: &str, ids: Vec<ObjectIdentifier>) -> Result<(), AwsError> {
    const OP: &str = "DeleteObjects";
    let delete = Delete::builder().set_objects(Some(ids)).quiet(true).build();
    let delete = delete.map_err(|e| AwsError::input(OP, e.to_string()))?;
    let out = ctx.s3.delete_objects().bucket(name).delete(delete).send().await.map_err(|e| sdk_err(OP, e))?;
    let Some(err) = out.errors().first() else { return Ok(()) };
    Err(AwsError {
        operation: OP,
        code: err.code().unwrap_or("DeleteObjectsFailed").to_string(),
        message: format!(
            "bucket `{name}`: {} object versions were not deleted; the first, `{}`: {}",
            out.errors().len(),
            err.key().unwrap_or("?"),
            err.message().unwrap_or("no message")
        ),
        kind: ErrorKind::Fatal,
        hint: Some("an object lock or a bucket policy may protect them: check the bucket, then tear down again".into()),
    })
}

/// One page of ListMultipartUploads from `marker` (key, upload ID): every unfinished upload on
/// it as (key, upload ID), and the next marker if there are more.
type UploadPage = (Vec<(String, String)>, Option<(String, Option<String>)>);

async fn uploads_page(
    ctx: &Ctx,
    name: &str,
    marker: Option<&(String, Option<String>)>,
) -> Result<UploadPage, AwsError> {
    const OP: &str = "ListMultipartUploads";
    let mut req = ctx.s3.list_multipart_uploads().bucket(name);
    if let Some((key, upload)) = marker {
        req = req.key_marker(key).set_upload_id_marker(upload.clone());
    }
    let page = req.send().await.map_err(|e| sdk_err(OP, e))?;
    let mut uploads = Vec::new();
    for u in page.uploads() {
        let key = u.key().ok_or_else(|| AwsError::malformed(OP, "an upload's Key"))?;
        let upload = u.upload_id().ok_or_else(|| AwsError::malformed(OP, "an upload's UploadId"))?;
        uploads.push((key.to_string(), upload.to_string()));
    }
    let next = if page.is_truncated() == Some(true) {
        let key = page.next_key_marker().ok_or_else(|| AwsError::malformed(OP, "NextKeyMarker"))?;
        Some((key.to_string(), page.next_upload_id_marker().map(str::to_owned)))
    } else {
        None
    };
    Ok((uploads, next))
}

/// How many unfinished multipart uploads the bucket holds (up to [`COUNT_LIMIT`]), and whether
/// there are more.
async fn count_uploads(ctx: &Ctx, name: &str) -> Result<(usize, bool), AwsError> {
    let (mut count, mut marker) = (0, None);
    loop {
        let (uploads, next) = uploads_page(ctx, name, marker.as_ref()).await?;
        count += uploads.len();
        match next {
            Some(m) if count < COUNT_LIMIT => marker = Some(m),
            Some(_) => return Ok((count, true)),
            None => return Ok((count, false)),
        }
    }
}

/// Aborts every unfinished multipart upload, page by page, and lists again until a pass finds
/// none: uploads started meanwhile go too, for a few passes, then the delete gives up.
async fn abort_uploads(ctx: &Ctx, name: &str) -> Result<(), AwsError> {
    const OP: &str = "AbortMultipartUpload";
    for _ in 0..3 {
        let (mut marker, mut found) = (None, false);
        loop {
            let (uploads, next) = uploads_page(ctx, name, marker.as_ref()).await?;
            for (key, upload) in uploads {
                found = true;
                let r = ctx.s3.abort_multipart_upload().bucket(name).key(&key).upload_id(&upload).send().await;
                match r {
                    Ok(_) => {}
                    // Completed or aborted since the listing: a completed one is a version now.
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_upload()) => {}
                    Err(e) => {
                        let mut e = sdk_err(OP, e);
                        e.message = format!("bucket `{name}`, upload of `{key}`: {}", e.message);
                        return Err(e);
                    }
                }
            }
            match next {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        if !found {
            return Ok(());
        }
    }
    Err(not_empty(
        name,
        &format!("bucket `{name}` keeps getting new multipart uploads while force_destroy aborts them"),
    ))
}

#[cfg(test)]
mod adopt_tests {
    use super::*;
    use crate::aws::testing::{assert_not_ours, assert_reads_back, assert_updates, ctx, find as lookup};
    use crate::aws::{create, delete, wait_deleted, wait_ready};
    use crate::emulator::Moto;
    use crate::schema::{RESOURCE_TAG, STACK_TAG};

    const TY: &str = "s3:Bucket";

    async fn key_arn(ctx: &Ctx) -> String {
        let k = ctx.kms.create_key().send().await.expect("key");
        k.key_metadata().map(|m| m.arn().unwrap_or_default().to_string()).expect("arn")
    }

    fn value(name: &str, stack: &str, key: &str) -> Value {
        json!({
            "bucket": name,
            "versioning": true,
            "kms_key_id": key,
            "block_public_access": true,
            "object_ownership": "BucketOwnerEnforced",
            "tls_only": true,
            "tags": {STACK_TAG: stack, RESOURCE_TAG: "state", "ManagedBy": "ironplan"},
        })
    }

    async fn deploy(ctx: &Ctx, v: &Value) -> (Created, Outputs) {
        let c = create(ctx, TY, &mut crate::aws::testing::props(v.clone())).await.expect("create");
        let ready = wait_ready(ctx, TY, &c.id, &c.outputs).await.expect("ready");
        (c, ready)
    }

    async fn put_object(ctx: &Ctx, bucket: &str, key: &str) {
        let body = aws_sdk_s3::primitives::ByteStream::from_static(b"phi");
        ctx.s3.put_object().bucket(bucket).key(key).body(body).send().await.expect("put object");
    }

    async fn versions(ctx: &Ctx, bucket: &str) -> usize {
        count_versions(ctx, bucket).await.expect("count").0
    }

    /// Created with every setting on, each one is in place (through the SDK), read back as
    /// planned, adopted by its own stack, and deleted.
    #[tokio::test]
    async fn bucket_is_configured_read_back_adopted_and_deleted() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let key = key_arn(&ctx).await;
        let v = value("s-dev-state", "s-dev", &key);

        assert!(lookup(&ctx, TY, &v).await.ours().is_none());
        let (c, ready) = deploy(&ctx, &v).await;
        assert_eq!(c.id, "s-dev-state");
        assert_eq!(ready["arn"], json!("arn:aws:s3:::s-dev-state"));
        let found = lookup(&ctx, TY, &v).await.ours().expect("adopted");
        assert_eq!(found.id, c.id);
        assert_eq!(found.outputs, c.outputs);
        // A retried create whose first call landed takes its own bucket, by the same proof.
        let retried = create(&ctx, TY, &mut crate::aws::testing::props(v.clone())).await.expect("retried create");
        assert_eq!((retried.id, retried.outputs), (c.id.clone(), c.outputs.clone()));

        let s3 = &ctx.s3;
        assert!(versioning_enabled(&ctx, &c.id).await.expect("versioning"));
        let enc = s3.get_bucket_encryption().bucket(&c.id).send().await.expect("encryption");
        let rule = enc.server_side_encryption_configuration().map(|c| c.rules()[0].clone()).expect("rule");
        let d = rule.apply_server_side_encryption_by_default().expect("default");
        assert_eq!((d.sse_algorithm(), d.kms_master_key_id()), (&ServerSideEncryption::AwsKms, Some(key.as_str())));
        assert_eq!(rule.bucket_key_enabled(), Some(true));
        let pab = s3.get_public_access_block().bucket(&c.id).send().await.expect("pab");
        let pab = pab.public_access_block_configuration().expect("config");
        assert_eq!(
            [
                pab.block_public_acls(),
                pab.ignore_public_acls(),
                pab.block_public_policy(),
                pab.restrict_public_buckets()
            ],
            [Some(true); 4]
        );
        let policy = s3.get_bucket_policy().bucket(&c.id).send().await.expect("policy");
        assert!(denies_plain_http(policy.policy().unwrap_or_default(), "arn:aws:s3:::s-dev-state"));
        // moto evaluates the policy: a PutObject over plain HTTP (all the emulator speaks) is denied.
        let body = aws_sdk_s3::primitives::ByteStream::from_static(b"phi");
        let put = s3.put_object().bucket(&c.id).key("k").body(body).send().await;
        let status = put.as_ref().err().and_then(|e| e.raw_response()).map(|r| r.status().as_u16());
        assert_eq!(status, Some(403), "{put:?}");

        assert_reads_back(&ctx, TY, &v, &c.id, &ready).await;
        // ready again (a resumed deploy) changes nothing.
        let again = wait_ready(&ctx, TY, &c.id, &ready).await.expect("ready again");
        assert_eq!(again, ready);

        delete(&ctx, TY, &c.id, &ready).await.expect("delete");
        wait_deleted(&ctx, TY, &c.id, &ready).await.expect("gone");
        assert!(lookup(&ctx, TY, &v).await.ours().is_none());
    }

    /// Another stack's bucket, and one made by hand, are not ours; neither is taken over by
    /// a create (us-east-1's CreateBucket would answer 200 for the hand-made one).
    #[tokio::test]
    async fn a_look_alike_bucket_is_not_ours_and_not_created_over() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        ctx.s3.create_bucket().bucket("s-dev-data").send().await.expect("by hand");
        let v = value("s-dev-data", "s-dev", "arn:aws:kms:us-east-1:123456789012:key/x");
        assert_not_ours(&lookup(&ctx, TY, &v).await, "has no `ironplan:stack` tag");
        let e = create(&ctx, TY, &mut crate::aws::testing::props(v)).await.expect_err("refused");
        assert_eq!(e.code, "BucketAlreadyExists", "{e:?}");
        let live = ctx.s3.get_bucket_policy().bucket("s-dev-data").send().await;
        assert!(live.is_err(), "the hand-made bucket was left as it was");

        let key = key_arn(&ctx).await;
        deploy(&ctx, &value("s-prod-data", "s-prod", &key)).await;
        let theirs = value("s-prod-data", "s-dev", &key);
        assert_not_ours(&lookup(&ctx, TY, &theirs).await, "belongs to stack `s-prod`");
        let e = create(&ctx, TY, &mut crate::aws::testing::props(theirs)).await.expect_err("refused");
        assert_eq!(e.code, "BucketAlreadyExists", "another stack's bucket is not taken by a create: {e:?}");
    }

    /// Each setting changes in place (off, then on again), the tags with them; force_destroy
    /// only in the outputs.
    #[tokio::test]
    async fn update_changes_every_setting_in_place() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let key = key_arn(&ctx).await;
        let mut v = value("s-dev-logs", "s-dev", &key);
        let (c, ready) = deploy(&ctx, &v).await;

        v["versioning"] = json!(false);
        v.as_object_mut().map(|m| m.remove("kms_key_id"));
        v["block_public_access"] = json!(false);
        v["object_ownership"] = json!("BucketOwnerPreferred");
        v["tls_only"] = json!(false);
        v["force_destroy"] = json!(true);
        v["tags"]["Team"] = json!("a");
        let all = [
            "versioning",
            "kms_key_id",
            "block_public_access",
            "object_ownership",
            "tls_only",
            "force_destroy",
            "tags",
        ];
        let off = assert_updates(&ctx, TY, &c.id, &ready, &v, &all).await;
        assert_eq!(off["force_destroy"], json!(true));
        assert!(off.get("kms_key_id").is_none());
        let live = crate::aws::read(&ctx, TY, &c.id, &off).await.expect("read").expect("there");
        assert!(live.props.get("kms_key_id").is_none(), "back to SSE-S3: {:?}", live.props);

        let mut on = value("s-dev-logs", "s-dev", &key);
        on["tags"].as_object_mut().map(|t| t.remove("Team"));
        let out = assert_updates(&ctx, TY, &c.id, &off, &on, &all).await;
        assert_eq!(out["force_destroy"], json!(false));
        let live = crate::aws::read(&ctx, TY, &c.id, &out).await.expect("read").expect("there");
        assert_eq!(live.props["tags"].get("Team"), None, "the dropped tag is gone");
    }

    /// A bucket with objects is not deleted (and keeps them) unless force_destroy is on; with
    /// it, every version (and delete marker) goes, then the bucket.
    #[tokio::test]
    async fn a_non_empty_bucket_is_kept_unless_force_destroy() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let key = key_arn(&ctx).await;
        // Without the TLS-only policy: the emulator speaks plain HTTP, which it would deny.
        let mut v = value("s-dev-phi", "s-dev", &key);
        v["tls_only"] = json!(false);
        let (c, ready) = deploy(&ctx, &v).await;
        put_object(&ctx, &c.id, "a.json").await;
        put_object(&ctx, &c.id, "a.json").await;
        put_object(&ctx, &c.id, "b/c.json").await;
        ctx.s3.delete_object().bucket(&c.id).key("b/c.json").send().await.expect("delete marker");
        assert_eq!(versions(&ctx, &c.id).await, 4, "3 versions and a delete marker");

        let e = delete(&ctx, TY, &c.id, &ready).await.expect_err("refused");
        assert_eq!((e.code.as_str(), e.kind), ("BucketNotEmpty", ErrorKind::Fatal), "{e:?}");
        assert!(e.message.contains("s-dev-phi") && e.message.contains('4'), "{e}");
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("force_destroy = true")), "{e:?}");
        let got = ctx.s3.get_object().bucket(&c.id).key("a.json").send().await;
        assert!(got.is_ok(), "the objects are still there");
        assert_eq!(versions(&ctx, &c.id).await, 4);

        let mut forced = v.clone();
        forced["force_destroy"] = json!(true);
        let out = assert_updates(&ctx, TY, &c.id, &ready, &forced, &["force_destroy"]).await;
        delete(&ctx, TY, &c.id, &out).await.expect("force_destroy deletes");
        wait_deleted(&ctx, TY, &c.id, &out).await.expect("gone");
        assert!(matches!(head(&ctx, &c.id).await.expect("head"), Head::Missing));
    }

    /// Records every S3 request a client sends, in order, named by its method and query.
    #[derive(Debug, Clone, Default)]
    struct Calls(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl aws_sdk_s3::config::Intercept for Calls {
        fn name(&self) -> &'static str {
            "Calls"
        }

        fn read_before_transmit(
            &self,
            ctx: &aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
            _rc: &aws_sdk_s3::config::RuntimeComponents,
            _cfg: &mut aws_sdk_s3::config::ConfigBag,
        ) -> Result<(), aws_sdk_s3::error::BoxError> {
            let req = ctx.request();
            let (method, uri) = (req.method().to_string(), req.uri().to_string());
            let query = uri.split_once('?').map_or("", |(_, q)| q);
            let has = |p: &str| query.split('&').any(|kv| kv == p || kv.starts_with(&format!("{p}=")));
            let name = match method.as_str() {
                "DELETE" if has("uploadId") => "AbortMultipartUpload",
                "DELETE" => "DeleteBucket",
                "GET" if has("uploads") => "ListMultipartUploads",
                "GET" if has("versions") => "ListObjectVersions",
                "POST" if has("delete") => "DeleteObjects",
                _ => "other",
            };
            self.0.lock().unwrap().push(name.to_string());
            Ok(())
        }
    }

    async fn start_upload(ctx: &Ctx, bucket: &str, key: &str) -> String {
        let up = ctx.s3.create_multipart_upload().bucket(bucket).key(key).send().await.expect("create upload");
        let id = up.upload_id().expect("upload id").to_string();
        let body = aws_sdk_s3::primitives::ByteStream::from(vec![7u8; 1024]);
        let part = ctx.s3.upload_part().bucket(bucket).key(key).upload_id(&id).part_number(1).body(body).send().await;
        part.expect("upload part");
        id
    }

    async fn listed_uploads(ctx: &Ctx, bucket: &str) -> Vec<String> {
        let out = ctx.s3.list_multipart_uploads().bucket(bucket).send().await.expect("list uploads");
        out.uploads().iter().filter_map(|u| u.upload_id().map(str::to_owned)).collect()
    }

    /// A bucket with unfinished multipart uploads (and no object) is kept unless force_destroy
    /// is on, and the refusal counts them; with it, every upload is aborted before the bucket is
    /// deleted (S3 answers BucketNotEmpty otherwise; moto does not, so the order of the calls is
    /// what shows it).
    #[tokio::test]
    async fn unfinished_multipart_uploads_keep_a_bucket_unless_force_destroy_aborts_them() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let key = key_arn(&ctx).await;
        let mut v = value("s-dev-uploads", "s-dev", &key);
        v["tls_only"] = json!(false);
        let (c, ready) = deploy(&ctx, &v).await;
        let first = start_upload(&ctx, &c.id, "big/a.bin").await;
        let second = start_upload(&ctx, &c.id, "big/b.bin").await;
        assert_eq!(versions(&ctx, &c.id).await, 0, "no object version: only the uploads hold the bucket");

        let e = delete(&ctx, TY, &c.id, &ready).await.expect_err("refused");
        assert_eq!((e.code.as_str(), e.kind), ("BucketNotEmpty", ErrorKind::Fatal), "{e:?}");
        assert!(e.message.contains("s-dev-uploads") && e.message.contains("2 unfinished multipart uploads"), "{e}");
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("abort") && h.contains("force_destroy = true")), "{e:?}");
        let mut listed = listed_uploads(&ctx, &c.id).await;
        listed.sort();
        let mut want = vec![first, second];
        want.sort();
        assert_eq!(listed, want, "the uploads are still there");

        let mut forced = v.clone();
        forced["force_destroy"] = json!(true);
        let out = assert_updates(&ctx, TY, &c.id, &ready, &forced, &["force_destroy"]).await;
        let calls = Calls::default();
        let s3 = aws_sdk_s3::Client::from_conf(ctx.s3.config().to_builder().interceptor(calls.clone()).build());
        let watched = Ctx { s3, ..ctx.clone() };
        delete(&watched, TY, &c.id, &out).await.expect("force_destroy deletes");
        let calls = calls.0.lock().unwrap().clone();
        let at = |op: &str| calls.iter().position(|c| c == op).unwrap_or_else(|| panic!("no {op}: {calls:?}"));
        assert_eq!(calls.iter().filter(|c| *c == "AbortMultipartUpload").count(), 2, "{calls:?}");
        assert!(at("ListMultipartUploads") < at("AbortMultipartUpload"), "{calls:?}");
        assert!(at("AbortMultipartUpload") < at("ListObjectVersions"), "uploads before versions: {calls:?}");
        assert!(at("ListObjectVersions") < at("DeleteBucket"), "{calls:?}");
        wait_deleted(&ctx, TY, &c.id, &out).await.expect("gone");
        assert!(matches!(head(&ctx, &c.id).await.expect("head"), Head::Missing));
    }

    #[test]
    fn moto_versioning_answer_is_parsed_and_nothing_else() {
        let moto = |s: &str| {
            format!(
                "<?xml version=\"1.0\"?>\n<GetBucketVersioningResponse xmlns=\"x\">{s}</GetBucketVersioningResponse>"
            )
        };
        assert_eq!(moto_versioning_status(&moto("<Status>Enabled</Status>")), Some("Enabled"));
        assert_eq!(moto_versioning_status(&moto("")), Some(""));
        assert_eq!(
            moto_versioning_status("<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"),
            None
        );
    }

    #[test]
    fn the_tls_policy_is_recognised_and_a_weaker_one_is_not() {
        let arn = "arn:aws:s3:::b";
        assert!(denies_plain_http(&tls_policy(arn).to_string(), arn));
        let mut only_bucket = tls_policy(arn);
        only_bucket["Statement"][0]["Resource"] = json!(arn);
        assert!(!denies_plain_http(&only_bucket.to_string(), arn), "objects not covered");
        let mut allow = tls_policy(arn);
        allow["Statement"][0]["Effect"] = json!("Allow");
        assert!(!denies_plain_http(&allow.to_string(), arn));
        let mut get_only = tls_policy(arn);
        get_only["Statement"][0]["Action"] = json!("s3:GetObject");
        assert!(!denies_plain_http(&get_only.to_string(), arn));
        assert!(!denies_plain_http(&tls_policy("arn:aws:s3:::other").to_string(), arn));
        assert!(!denies_plain_http("not json", arn));
    }
}
