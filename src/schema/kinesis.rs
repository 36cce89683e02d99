//! `kinesis:*` types: data streams.
//!
//! Retention and encryption can only be changed once the stream is ACTIVE, and each change
//! makes it UPDATING again: the adapter makes those calls while waiting for the stream.

use super::{Kind, NameRule, Prop, TypeSpec, attr};

pub const TYPES: &[&TypeSpec] = &[&STREAM];

pub const STREAM_NAME: NameRule =
    NameRule::new("Kinesis stream name", "CreateStream StreamName", 1, 128, "a-zA-Z0-9_.-");

const STREAM_MODE_DETAILS: &[Prop] =
    &[Prop::req("stream_mode", Kind::Str, "PROVISIONED (shard_count is required) or ON_DEMAND")];

pub const STREAM: TypeSpec = TypeSpec {
    name: "kinesis:Stream",
    aliases: &["AWS::Kinesis::Stream", "aws_kinesis_stream", "aws:kinesis/stream:Stream"],
    summary: "A Kinesis data stream",
    calls: "CreateStream (stream_name, shard_count, stream_mode_details, tags); once ACTIVE: \
            IncreaseStreamRetentionPeriod or DecreaseStreamRetentionPeriod (retention_period_hours), \
            StartStreamEncryption (encryption_type, key_id); teardown: DeleteStream with consumers",
    props: &[
        Prop::req("stream_name", Kind::Str, "the stream's name").name_rule(&STREAM_NAME),
        Prop::opt("shard_count", Kind::Int, "number of shards (provisioned mode only)").at_least(1),
        Prop::opt("stream_mode_details", Kind::Struct(STREAM_MODE_DETAILS), "capacity mode"),
        Prop::opt("retention_period_hours", Kind::Int, "hours records are kept (24-8760; AWS's default is 24)")
            .range(24, 8760),
        Prop::opt("encryption_type", Kind::Str, "KMS to encrypt records at rest (needs key_id)"),
        Prop::opt("key_id", Kind::Str, "the KMS key (ARN, ID or alias) for encryption"),
        Prop::opt("tags", Kind::Tags, "tags of the stream"),
    ],
    attrs: &[attr("id", "the stream name"), attr("name", "the stream name"), attr("arn", "the stream ARN")],
    taggable: true,
    create_secs: 30,
    delete_secs: 20,
    implied: &[],
};
