//! `logs:*` types: CloudWatch Logs log groups.

use super::{Kind, NameRule, Prop, TypeSpec, attr};

pub const TYPES: &[&TypeSpec] = &[&LOG_GROUP];

pub const LOG_GROUP_NAME: NameRule =
    NameRule::new("log group name", "CreateLogGroup logGroupName", 1, 512, "a-zA-Z0-9_/.#-")
        .reserved_prefixes(&["aws/"]);

/// PutRetentionPolicy's possible values of retentionInDays.
pub const RETENTION_DAYS: &[i64] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

pub const LOG_GROUP: TypeSpec = TypeSpec {
    name: "logs:LogGroup",
    summary: "A CloudWatch Logs log group",
    calls: "CreateLogGroup (log_group_name, kms_key_id, tags); PutRetentionPolicy (retention_in_days); \
            teardown: DeleteLogGroup",
    props: &[
        Prop::req("log_group_name", Kind::Str, "the log group's name").name_rule(&LOG_GROUP_NAME),
        Prop::opt(
            "kms_key_id",
            Kind::Str,
            "ARN of the KMS key that encrypts the logs (its policy must allow the Logs service)",
        ),
        Prop::opt(
            "retention_in_days",
            Kind::Int,
            "days to keep events (1, 3, 5, 7, 14, 30, 60, 90, ... 3653); forever when absent",
        )
        .one_of(RETENTION_DAYS),
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
