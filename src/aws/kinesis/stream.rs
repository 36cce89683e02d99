//! `kinesis:Stream`: a Kinesis data stream.
//!
//! Retention and encryption can only be changed while the stream is ACTIVE, and each change
//! makes it UPDATING for a while: `create` stashes those values in the outputs, and `ready`
//! waits for ACTIVE, makes each change that is still needed, and waits again. A stream that is
//! CREATING or UPDATING refuses DeleteStream (ResourceInUseException), so `delete` retries
//! until it is accepted.
//!
//! Tags go with CreateStream, so the stream carries its identity tags from birth; emulators that
//! drop them there (moto 5.2.5) get them through AddTagsToStream while waiting, which finds
//! nothing missing on AWS.

use async_trait::async_trait;
use aws_sdk_kinesis::types::{
    EncryptionType, ScalingType, StreamDescriptionSummary, StreamMode, StreamModeDetails, StreamStatus,
};
use serde_json::{Map, Value, json};

use super::{NOT_FOUND, STREAM_NAME, read_tags, stream_tags, summary};
use crate::aws::adapter::{Lifecycle, Live, Refused};
use crate::aws::{AwsError, Created, Ctx, Found, Identity, Outputs, Props, absent, poll, required, sdk_err};
use crate::schema::{Kind, Prop, TypeSpec, attr};

const STREAM_MODE_DETAILS: &[Prop] =
    &[Prop::req("stream_mode", Kind::Str, "PROVISIONED (shard_count is required) or ON_DEMAND")];

pub static SPEC: TypeSpec = TypeSpec {
    name: "kinesis:Stream",
    aliases: &["AWS::Kinesis::Stream", "aws_kinesis_stream", "aws:kinesis/stream:Stream"],
    summary: "A Kinesis data stream",
    calls: "CreateStream (stream_name, shard_count, stream_mode_details, tags); once ACTIVE: \
            IncreaseStreamRetentionPeriod or DecreaseStreamRetentionPeriod (retention_period_hours), \
            StartStreamEncryption (encryption_type, key_id); teardown: DeleteStream with consumers",
    props: &[
        Prop::req("stream_name", Kind::Str, "the stream's name").name_rule(&STREAM_NAME),
        // UpdateShardCount.
        Prop::opt("shard_count", Kind::Int, "number of shards (provisioned mode only)").at_least(1).in_place(),
        // UpdateStreamMode.
        Prop::opt("stream_mode_details", Kind::Struct(STREAM_MODE_DETAILS), "capacity mode").in_place(),
        // IncreaseStreamRetentionPeriod / DecreaseStreamRetentionPeriod.
        Prop::opt("retention_period_hours", Kind::Int, "hours records are kept (24-8760; AWS's default is 24)")
            .range(24, 8760)
            .in_place(),
        // StartStreamEncryption / StopStreamEncryption (which also change the key).
        Prop::opt("encryption_type", Kind::Str, "KMS to encrypt records at rest (needs key_id)").in_place(),
        Prop::opt("key_id", Kind::Str, "the KMS key (ARN, ID or alias) for encryption").in_place(),
        Prop::opt("tags", Kind::Tags, "tags of the stream"),
    ],
    attrs: &[attr("id", "the stream name"), attr("name", "the stream name"), attr("arn", "the stream ARN")],
    taggable: true,
    holds_data: true,
    create_secs: 30,
    delete_secs: 20,
    implied: &[],
};

pub struct Stream;

/// What a create reads.
pub struct Input {
    name: String,
    shard_count: Option<i32>,
    mode: Option<StreamModeDetails>,
    retention: Option<i32>,
    encryption_type: Option<String>,
    key_id: Option<String>,
    tags: Vec<(String, String)>,
}

#[async_trait]
impl Lifecycle for Stream {
    type Input = Input;
    const SPEC: &'static TypeSpec = &SPEC;
    const NOT_FOUND: &'static [&'static str] = NOT_FOUND;
    const TAGS_BY_ARN: bool = true;
    const UPDATES: &'static [&'static str] =
        &["shard_count", "stream_mode_details", "retention_period_hours", "encryption_type", "key_id", "tags"];

    /// A shard count for an ON_DEMAND stream (AWS scales it; UpdateShardCount refuses).
    fn refuses(prop: &str, _old: &Map<String, Value>, new: &Map<String, Value>) -> Option<Refused> {
        let on_demand = new.get("stream_mode_details").and_then(|d| d.get("stream_mode")) == Some(&json!("ON_DEMAND"));
        let changes_mode_or_shards = prop == "shard_count" || prop == "stream_mode_details";
        (changes_mode_or_shards && on_demand && new.contains_key("shard_count")).then_some(SHARDS_ON_DEMAND)
    }

    fn input(p: &mut Props) -> Result<Input, AwsError> {
        let p = p.for_op("CreateStream");
        let name = p.str("stream_name")?;
        let shard_count = p.opt_i32("shard_count")?;
        let mode = match p.opt_struct("stream_mode_details")? {
            Some(mut d) => {
                let mode = d.str("stream_mode")?;
                d.finish()?;
                Some(
                    StreamModeDetails::builder()
                        .stream_mode(StreamMode::from(mode.as_str()))
                        .build()
                        .map_err(|e| AwsError::input("CreateStream", e.to_string()))?,
                )
            }
            None => None,
        };
        Ok(Input {
            name,
            shard_count,
            mode,
            retention: p.opt_i32("retention_period_hours")?,
            encryption_type: p.opt_str("encryption_type")?,
            key_id: p.opt_str("key_id")?,
            tags: p.tags()?,
        })
    }

    async fn create(ctx: &Ctx, st: &Input) -> Result<Created, AwsError> {
        // Caught here rather than after the stream exists: StartStreamEncryption needs both.
        if st.encryption_type.as_deref().is_some_and(|t| t != "NONE") && st.key_id.is_none() {
            return Err(AwsError::input(
                "CreateStream",
                "`encryption_type` needs `key_id`, the KMS key to encrypt with",
            ));
        }
        let mut req = ctx
            .kinesis
            .create_stream()
            .stream_name(&st.name)
            .set_shard_count(st.shard_count)
            .set_stream_mode_details(st.mode.clone());
        for (k, v) in &st.tags {
            req = req.tags(k, v);
        }
        req.send().await.map_err(|e| sdk_err("CreateStream", e))?;
        Ok(created(st))
    }

    /// The stream of that name unless it is being deleted; ours only with both identity tags,
    /// which CreateStream carries. A stream still CREATING is found: `ready` waits for it.
    async fn find(ctx: &Ctx, st: &Input, who: &Identity) -> Result<Found, AwsError> {
        let Some(s) = summary(ctx, &st.name).await? else { return Ok(Found::Nothing) };
        if s.stream_status() == &StreamStatus::Deleting {
            return Ok(Found::Nothing);
        }
        let tags = match stream_tags(ctx, &st.name).await {
            Ok(tags) => tags,
            Err(e) => return absent(e),
        };
        let created = created(st);
        if tags.is_empty() && ctx.emulator {
            // moto 5.2.5 drops CreateStream's tags (ready adds them): on the emulator only, a
            // stream without any tag may be the one a crashed create just made.
            let proof = "no tags, and the emulator drops CreateStream's tags (a documented moto gap)".to_string();
            return Ok(Found::Ours { created, proof });
        }
        Ok(who.claim(created, tags.iter().map(|t| (t.key(), t.value().unwrap_or_default()))))
    }

    async fn ready(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Outputs, AwsError> {
        let mut s = wait_active(ctx, id).await?;
        if let Some(Value::Object(want)) = out.get("tags") {
            add_missing_tags(ctx, id, want).await?;
        }
        let want = out.get("retention_period_hours").and_then(Value::as_i64).and_then(|h| i32::try_from(h).ok());
        if let Some(want) = want
            && want != s.retention_period_hours()
        {
            let r = if want > s.retention_period_hours() {
                let req = ctx.kinesis.increase_stream_retention_period().stream_name(id).retention_period_hours(want);
                req.send().await.map(drop).map_err(|e| sdk_err("IncreaseStreamRetentionPeriod", e))
            } else {
                let req = ctx.kinesis.decrease_stream_retention_period().stream_name(id).retention_period_hours(want);
                req.send().await.map(drop).map_err(|e| sdk_err("DecreaseStreamRetentionPeriod", e))
            };
            r?;
            s = wait_active(ctx, id).await?;
        }
        let encryption = out.get("encryption_type").and_then(Value::as_str).filter(|t| *t != "NONE");
        let key_id = out.get("key_id").and_then(Value::as_str);
        if let (Some(t), Some(k)) = (encryption, key_id)
            && matches!(s.encryption_type(), None | Some(EncryptionType::None))
        {
            s = start_encryption(ctx, id, t, k).await?;
        }
        Ok(outputs(id, &s, out))
    }

    /// The stream's properties. An unencrypted stream reports no `encryption_type` and no
    /// `key_id` (the plan says "none" by leaving them out); `shard_count` is reported for a
    /// provisioned stream only (on demand, AWS picks it).
    async fn read(ctx: &Ctx, id: &str, out: &Outputs) -> Result<Option<Live>, AwsError> {
        let Some(s) = summary(ctx, id).await? else { return Ok(None) };
        let mut props = Map::new();
        props.insert("stream_name".into(), json!(s.stream_name()));
        let mode = s.stream_mode_details().map(|d| d.stream_mode());
        if mode != Some(&StreamMode::OnDemand) {
            props.insert("shard_count".into(), json!(s.open_shard_count()));
        }
        if let Some(m) = mode {
            props.insert("stream_mode_details".into(), json!({"stream_mode": m.as_str()}));
        }
        props.insert("retention_period_hours".into(), json!(s.retention_period_hours()));
        if let Some(t) = s.encryption_type().filter(|t| **t != EncryptionType::None) {
            props.insert("encryption_type".into(), json!(t.as_str()));
            if let Some(k) = s.key_id() {
                props.insert("key_id".into(), json!(k));
            }
        }
        let tags = read_tags(ctx, id, s.stream_arn()).await?;
        let tags = tags.iter().map(|t| (t.key().to_string(), json!(t.value().unwrap_or_default())));
        props.insert("tags".into(), Value::Object(tags.collect()));
        Ok(Some(Live { props, outputs: outputs(id, &s, out) }))
    }

    /// The capacity mode (UpdateStreamMode, by the stream's ARN; no plan mode is AWS's default,
    /// PROVISIONED), then UpdateShardCount (uniform scaling; only a provisioned stream has a
    /// shard count, and only if it differs), the encryption (StartStreamEncryption, which also
    /// changes the key; StopStreamEncryption with the key in use when the plan drops it), the
    /// tags (RemoveTagsFromStream for the keys the plan dropped), and the retention as `ready`
    /// sets it; each change waits until the stream is ACTIVE again.
    async fn update(ctx: &Ctx, id: &str, out: &Outputs, st: &Input, changed: &[String]) -> Result<Outputs, AwsError> {
        let has = |p: &str| changed.iter().any(|c| c == p);
        let on_demand = st.mode.as_ref().is_some_and(|m| m.stream_mode() == &StreamMode::OnDemand);
        let encrypt = st.encryption_type.as_deref().filter(|t| *t != "NONE");
        // Refused before any call: what AWS would refuse halfway through the change.
        if (has("shard_count") || has("stream_mode_details")) && on_demand && st.shard_count.is_some() {
            let message = format!("stream {id}: `shard_count`: {}", SHARDS_ON_DEMAND.why);
            return Err(AwsError::input("UpdateShardCount", message).with_hint(SHARDS_ON_DEMAND.help));
        }
        if encrypt.is_some() && st.key_id.is_none() {
            return Err(AwsError::input(
                "StartStreamEncryption",
                format!("stream {id}: `encryption_type` needs `key_id`, the KMS key to encrypt with"),
            ));
        }
        let mut s = wait_active(ctx, id).await?;
        if has("stream_mode_details") {
            let mode = match &st.mode {
                Some(m) => m.clone(),
                None => StreamModeDetails::builder()
                    .stream_mode(StreamMode::Provisioned)
                    .build()
                    .map_err(|e| AwsError::input("UpdateStreamMode", e.to_string()))?,
            };
            if s.stream_mode_details().map(|d| d.stream_mode()) != Some(mode.stream_mode()) {
                let req = ctx.kinesis.update_stream_mode().stream_arn(s.stream_arn()).stream_mode_details(mode);
                req.send().await.map_err(|e| sdk_err("UpdateStreamMode", e))?;
                s = wait_active(ctx, id).await?;
            }
        }
        if (has("shard_count") || has("stream_mode_details"))
            && !on_demand
            && let Some(n) = st.shard_count
            && s.open_shard_count() != n
        {
            let req = ctx.kinesis.update_shard_count().stream_name(id).target_shard_count(n);
            req.scaling_type(ScalingType::UniformScaling).send().await.map_err(|e| sdk_err("UpdateShardCount", e))?;
            s = wait_active(ctx, id).await?;
        }
        if has("encryption_type") || has("key_id") {
            let current = s.encryption_type().filter(|t| **t != EncryptionType::None).cloned();
            match (encrypt, &st.key_id, current) {
                // Unencrypted, or another type or key: StartStreamEncryption also changes the key.
                (Some(t), Some(k), current)
                    if current.as_ref().map(EncryptionType::as_str) != Some(t) || s.key_id() != Some(k.as_str()) =>
                {
                    start_encryption(ctx, id, t, k).await?;
                }
                (None, _, Some(t)) => {
                    let key = required(s.key_id(), "DescribeStreamSummary", "StreamDescriptionSummary.KeyId")?;
                    ctx.kinesis
                        .stop_stream_encryption()
                        .stream_name(id)
                        .encryption_type(t)
                        .key_id(key)
                        .send()
                        .await
                        .map_err(|e| sdk_err("StopStreamEncryption", e))?;
                    wait_active(ctx, id).await?;
                }
                _ => {}
            }
        }
        if has("tags") {
            let dropped: Vec<String> = stream_tags(ctx, id)
                .await?
                .iter()
                .map(|t| t.key().to_string())
                .filter(|k| !st.tags.iter().any(|(t, _)| t == k))
                .collect();
            for chunk in dropped.chunks(10) {
                let req = ctx.kinesis.remove_tags_from_stream().stream_name(id).set_tag_keys(Some(chunk.to_vec()));
                req.send().await.map_err(|e| sdk_err("RemoveTagsFromStream", e))?;
            }
        }
        // What `ready` applies (tags, retention, encryption) from the outputs, now the plan's.
        let mut want = out.clone();
        if encrypt.is_none() {
            want.remove("encryption_type");
            want.remove("key_id");
        }
        want.extend(created(st).outputs);
        if has("retention_period_hours") && st.retention.is_none() {
            want.insert("retention_period_hours".into(), json!(DEFAULT_RETENTION_HOURS));
        }
        Self::ready(ctx, id, &want).await
    }

    async fn delete(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<(), AwsError> {
        poll(ctx, "DeleteStream", &format!("stream {id} to accept deletion"), || async move {
            let r = ctx.kinesis.delete_stream().stream_name(id).enforce_consumer_deletion(true).send().await;
            match r.map_err(|e| sdk_err("DeleteStream", e)) {
                Ok(_) => Ok(Some(())),
                // CREATING or UPDATING: try again once the change is done.
                Err(e) if e.code == "ResourceInUseException" => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
    }

    async fn gone(ctx: &Ctx, id: &str, _out: &Outputs) -> Result<bool, AwsError> {
        Ok(summary(ctx, id).await?.is_none())
    }
}

/// Only a provisioned stream has a shard count.
const SHARDS_ON_DEMAND: Refused = Refused {
    why: "a shard count is only meaningful with stream_mode PROVISIONED",
    help: "remove `shard_count` for an ON_DEMAND stream (AWS scales it)",
};

/// What AWS keeps records for when nothing is asked.
const DEFAULT_RETENTION_HOURS: i32 = 24;

/// What `create` returns, with the values `ready` applies once the stream is ACTIVE (tags
/// moto dropped, retention, encryption).
fn created(st: &Input) -> Created {
    let mut outputs = Outputs::new();
    outputs.insert("id".into(), json!(st.name));
    outputs.insert("name".into(), json!(st.name));
    if !st.tags.is_empty() {
        outputs.insert("tags".into(), Value::Object(st.tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect()));
    }
    if let Some(h) = st.retention {
        outputs.insert("retention_period_hours".into(), json!(h));
    }
    if let (Some(t), Some(k)) = (&st.encryption_type, &st.key_id) {
        outputs.insert("encryption_type".into(), json!(t));
        outputs.insert("key_id".into(), json!(k));
    }
    Created { id: st.name.clone(), outputs }
}

/// The outputs once the stream is ACTIVE.
fn outputs(id: &str, s: &StreamDescriptionSummary, out: &Outputs) -> Outputs {
    let mut outputs = out.clone();
    outputs.insert("id".into(), json!(id));
    outputs.insert("name".into(), json!(id));
    outputs.insert("arn".into(), json!(s.stream_arn()));
    outputs
}

/// Adds the tags of `want` that the stream lacks (AddTagsToStream takes 10 at a time).
async fn add_missing_tags(ctx: &Ctx, name: &str, want: &Map<String, Value>) -> Result<(), AwsError> {
    let have = stream_tags(ctx, name).await?;
    let missing: Vec<(&String, &str)> = want
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k, v)))
        .filter(|(k, v)| !have.iter().any(|t| t.key() == k.as_str() && t.value() == Some(*v)))
        .collect();
    for chunk in missing.chunks(10) {
        let mut req = ctx.kinesis.add_tags_to_stream().stream_name(name);
        for (k, v) in chunk {
            req = req.tags(*k, *v);
        }
        req.send().await.map_err(|e| sdk_err("AddTagsToStream", e))?;
    }
    Ok(())
}

async fn wait_active(ctx: &Ctx, name: &str) -> Result<StreamDescriptionSummary, AwsError> {
    poll(ctx, "DescribeStreamSummary", &format!("stream {name} to be ACTIVE"), || async move {
        Ok(summary(ctx, name).await?.filter(|s| s.stream_status() == &StreamStatus::Active))
    })
    .await
}

/// StartStreamEncryption (of `encryption` with key `key`; on an encrypted stream it changes the
/// key), then the stream once it is ACTIVE again.
async fn start_encryption(
    ctx: &Ctx,
    id: &str,
    encryption: &str,
    key: &str,
) -> Result<StreamDescriptionSummary, AwsError> {
    ctx.kinesis
        .start_stream_encryption()
        .stream_name(id)
        .encryption_type(EncryptionType::from(encryption))
        .key_id(key)
        .send()
        .await
        .map_err(|e| sdk_err("StartStreamEncryption", e))?;
    wait_active(ctx, id).await
}

#[cfg(test)]
mod adopt_tests {
    use super::*;
    use crate::aws::testing::{assert_not_ours, assert_reads_back, assert_updates, ctx, find};
    use crate::aws::{create, delete, wait_deleted, wait_ready};
    use crate::emulator::Moto;
    use crate::schema::{RESOURCE_TAG, STACK_TAG};

    fn props(name: &str, stack: &str, key: &str) -> Props {
        crate::aws::testing::props(value(name, stack, key))
    }

    fn value(name: &str, stack: &str, key: &str) -> Value {
        json!({
            "stream_name": name,
            "shard_count": 1,
            "stream_mode_details": {"stream_mode": "PROVISIONED"},
            "retention_period_hours": 48,
            "encryption_type": "KMS",
            "key_id": key,
            "tags": {STACK_TAG: stack, RESOURCE_TAG: "stream", "ManagedBy": "ironplan"},
        })
    }

    #[tokio::test]
    async fn stream_is_adopted_until_deleted() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let key = ctx.kms.create_key().send().await.unwrap().key_metadata().unwrap().key_id().to_string();

        assert!(find(&ctx, "kinesis:Stream", &value("s-dev-events", "s-dev", &key)).await.ours().is_none());
        let created = create(&ctx, "kinesis:Stream", &mut props("s-dev-events", "s-dev", &key)).await.unwrap();
        let found = find(&ctx, "kinesis:Stream", &value("s-dev-events", "s-dev", &key)).await.ours().expect("adopted");
        assert_eq!(found.id, created.id);
        assert_eq!(found.outputs, created.outputs);
        // Retention and encryption stashed for wait_ready are applied by it.
        let ready = wait_ready(&ctx, "kinesis:Stream", &found.id, &found.outputs).await.unwrap();
        let s = summary(&ctx, &found.id).await.unwrap().unwrap();
        assert_eq!(s.retention_period_hours(), 48);
        assert_eq!(s.encryption_type(), Some(&EncryptionType::Kms));
        assert_reads_back(&ctx, "kinesis:Stream", &value("s-dev-events", "s-dev", &key), &found.id, &ready).await;

        // Another stack's stream of that name is not adopted (wait_ready adds the tags moto drops).
        let other = create(&ctx, "kinesis:Stream", &mut props("s-prod-events", "s-prod", &key)).await.unwrap();
        wait_ready(&ctx, "kinesis:Stream", &other.id, &other.outputs).await.unwrap();
        assert!(find(&ctx, "kinesis:Stream", &value("s-prod-events", "s-dev", &key)).await.ours().is_none());

        delete(&ctx, "kinesis:Stream", &created.id, &created.outputs).await.unwrap();
        wait_deleted(&ctx, "kinesis:Stream", &created.id, &created.outputs).await.unwrap();
        assert!(find(&ctx, "kinesis:Stream", &value("s-dev-events", "s-dev", &key)).await.ours().is_none());
        assert!(crate::aws::read(&ctx, "kinesis:Stream", &created.id, &ready).await.unwrap().is_none());
    }

    /// Shards, retention and tags change in place, and read back so.
    #[tokio::test]
    async fn update_changes_shards_retention_and_tags() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let key = ctx.kms.create_key().send().await.unwrap().key_metadata().unwrap().key_id().to_string();
        let mut v = value("s-dev-events", "s-dev", &key);
        v["tags"]["Team"] = json!("a");
        let c = create(&ctx, "kinesis:Stream", &mut crate::aws::testing::props(v.clone())).await.unwrap();
        let ready = wait_ready(&ctx, "kinesis:Stream", &c.id, &c.outputs).await.unwrap();
        v["shard_count"] = json!(2);
        v["retention_period_hours"] = json!(72);
        v["tags"].as_object_mut().map(|t| t.remove("Team"));
        let keys: Vec<String> = ["shard_count", "retention_period_hours", "tags"].map(String::from).to_vec();
        let out = crate::aws::update(
            &ctx,
            "kinesis:Stream",
            &c.id,
            &ready,
            &mut crate::aws::testing::props(v.clone()),
            &keys,
        )
        .await
        .expect("update");
        assert_reads_back(&ctx, "kinesis:Stream", &v, &c.id, &out).await;
        let live = crate::aws::read(&ctx, "kinesis:Stream", &c.id, &out).await.unwrap().expect("the stream");
        assert_eq!(
            (live.props["shard_count"].as_i64(), live.props["retention_period_hours"].as_i64()),
            (Some(2), Some(72))
        );
        assert_eq!(live.props["tags"].get("Team"), None, "the dropped tag is gone");
    }

    /// The capacity mode and the encryption change in place: to ON_DEMAND (no shard count)
    /// with another key, then back to PROVISIONED with two shards and no encryption; each
    /// reads back as planned, and DescribeStreamSummary agrees.
    #[tokio::test]
    async fn update_changes_capacity_mode_and_encryption() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let mut keys = Vec::new();
        for _ in 0..2 {
            keys.push(ctx.kms.create_key().send().await.unwrap().key_metadata().unwrap().key_id().to_string());
        }
        let (first, second) = (keys[0].clone(), keys[1].clone());
        let mut v = value("s-dev-events", "s-dev", &first);
        let c = create(&ctx, "kinesis:Stream", &mut crate::aws::testing::props(v.clone())).await.unwrap();
        let ready = wait_ready(&ctx, "kinesis:Stream", &c.id, &c.outputs).await.unwrap();

        v["stream_mode_details"] = json!({"stream_mode": "ON_DEMAND"});
        v.as_object_mut().map(|m| m.remove("shard_count"));
        v["key_id"] = json!(second);
        let keys = ["stream_mode_details", "shard_count", "key_id"];
        let out = assert_updates(&ctx, "kinesis:Stream", &c.id, &ready, &v, &keys).await;
        let s = summary(&ctx, &c.id).await.unwrap().unwrap();
        assert_eq!(s.stream_mode_details().map(|d| d.stream_mode()), Some(&StreamMode::OnDemand));
        assert_eq!((s.encryption_type(), s.key_id()), (Some(&EncryptionType::Kms), Some(second.as_str())));

        v["stream_mode_details"] = json!({"stream_mode": "PROVISIONED"});
        v["shard_count"] = json!(2);
        v.as_object_mut().map(|m| (m.remove("encryption_type"), m.remove("key_id")));
        let keys = ["stream_mode_details", "shard_count", "encryption_type", "key_id"];
        let out = assert_updates(&ctx, "kinesis:Stream", &c.id, &out, &v, &keys).await;
        let s = summary(&ctx, &c.id).await.unwrap().unwrap();
        assert_eq!(s.stream_mode_details().map(|d| d.stream_mode()), Some(&StreamMode::Provisioned));
        assert_eq!(s.open_shard_count(), 2);
        assert!(matches!(s.encryption_type(), None | Some(EncryptionType::None)), "{s:?}");

        // A shard count for an ON_DEMAND stream is refused before any call: nothing changes.
        let mut bad = v.clone();
        bad["stream_mode_details"] = json!({"stream_mode": "ON_DEMAND"});
        let keys = ["stream_mode_details".to_string()];
        let e = crate::aws::update(&ctx, "kinesis:Stream", &c.id, &out, &mut crate::aws::testing::props(bad), &keys)
            .await
            .unwrap_err();
        assert!(e.message.contains("only meaningful with stream_mode PROVISIONED"), "{e}");
        assert_reads_back(&ctx, "kinesis:Stream", &v, &c.id, &out).await;
    }

    /// `read` reports what Kinesis has: a retention period changed by hand.
    #[tokio::test]
    async fn read_reports_what_was_changed_by_hand() {
        let moto = Moto::start().expect("moto");
        let ctx = ctx(&moto).await;
        let key = ctx.kms.create_key().send().await.unwrap().key_metadata().unwrap().key_id().to_string();
        let c = create(&ctx, "kinesis:Stream", &mut props("s-dev-events", "s-dev", &key)).await.unwrap();
        let ready = wait_ready(&ctx, "kinesis:Stream", &c.id, &c.outputs).await.unwrap();
        let req = ctx.kinesis.increase_stream_retention_period().stream_name(&c.id).retention_period_hours(72);
        req.send().await.unwrap();
        let live = crate::aws::read(&ctx, "kinesis:Stream", &c.id, &ready).await.unwrap().expect("the stream");
        assert_eq!(live.props["retention_period_hours"], json!(72));
        assert_eq!(live.outputs["arn"], ready["arn"]);
    }

    /// A stream made outside ironplan under a plan stream's name. On AWS (where CreateStream
    /// keeps its tags) an untagged stream is not ours; so is one tagged for another stack
    /// everywhere. The emulator's documented gap (moto drops CreateStream's tags) is the one
    /// place an untagged stream is taken, and only with `Ctx::emulator` set.
    #[tokio::test]
    async fn a_look_alike_stream_is_not_ours() {
        let moto = Moto::start().expect("moto");
        let mut ctx = ctx(&moto).await;
        ctx.kinesis.create_stream().stream_name("s-dev-events").shard_count(1).send().await.expect("by hand");
        let v = value("s-dev-events", "s-dev", "k");
        ctx.emulator = false;
        assert_not_ours(&find(&ctx, "kinesis:Stream", &v).await, "has no `ironplan:stack` tag");
        ctx.emulator = true;
        match find(&ctx, "kinesis:Stream", &v).await {
            Found::Ours { proof, .. } => assert!(proof.contains("moto gap"), "{proof}"),
            other => panic!("the emulator's gap: {other:?}"),
        }
        ctx.kinesis
            .add_tags_to_stream()
            .stream_name("s-dev-events")
            .tags(STACK_TAG, "s-prod")
            .send()
            .await
            .expect("tag");
        assert_not_ours(&find(&ctx, "kinesis:Stream", &v).await, "stack `s-prod`");
    }
}
