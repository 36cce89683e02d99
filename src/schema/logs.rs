//! `logs:*` types: CloudWatch Logs log groups.

use super::{Kind, Prop, TypeSpec, attr};

pub const TYPES: &[&TypeSpec] = &[&LOG_GROUP];

pub const LOG_GROUP: TypeSpec = TypeSpec {
    name: "logs:LogGroup",
    summary: "A CloudWatch Logs log group",
    calls: "CreateLogGroup (log_group_name, kms_key_id, tags); PutRetentionPolicy (retention_in_days); \
            teardown: DeleteLogGroup",
    props: &[
        Prop::req("log_group_name", Kind::Str, "the log group's name"),
        Prop::opt(
            "kms_key_id",
            Kind::Str,
            "ARN of the KMS key that encrypts the logs (its policy must allow the Logs service)",
        ),
        Prop::opt(
            "retention_in_days",
            Kind::Int,
            "days to keep events (1, 3, 5, 7, 14, 30, 60, 90, ... 3653); forever when absent",
        ),
        Prop::opt("tags", Kind::Tags, "tags of the log group"),
    ],
    attrs: &[
        attr("id", "the log group name"),
        attr("name", "the log group name"),
        attr("arn", "the log group ARN, without the trailing `:*`"),
    ],
    taggable: true,
    create_secs: 2,
    delete_secs: 2,
    implied: &[],
};
