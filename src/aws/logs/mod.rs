//! `logs:*` types: CloudWatch Logs.

pub(crate) mod log_group;

use super::adapter::{Adapter, Type};
use crate::schema::NameRule;

pub(super) const TYPES: &[&dyn Adapter] = &[&Type::<log_group::LogGroup>::NEW];

/// CreateLogGroup's logGroupName (also the destination of flow logs and access logs).
pub const LOG_GROUP_NAME: NameRule =
    NameRule::new("log group name", "CreateLogGroup logGroupName", 1, 512, "a-zA-Z0-9_/.#-")
        .reserved_prefixes(&["aws/"]);

/// PutRetentionPolicy's possible values of retentionInDays.
pub const RETENTION_DAYS: &[i64] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
