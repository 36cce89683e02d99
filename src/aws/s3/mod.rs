//! `s3:*` types: Amazon S3.

pub(crate) mod bucket;

use super::adapter::{Adapter, Type};
use crate::schema::{Form, NameRule};

pub(super) const TYPES: &[&dyn Adapter] = &[&Type::<bucket::Bucket>::NEW];

/// CreateBucket's Bucket, for a general purpose bucket (S3 User Guide, "General purpose bucket
/// naming rules"): the reserved prefixes and suffixes are those of access point aliases,
/// Object Lambda, Multi-Region Access Points, directory and table buckets, and AWS's examples.
pub const BUCKET_NAME: NameRule = NameRule::new("S3 bucket name", "CreateBucket Bucket", 3, 63, "a-z0-9.-")
    .first("a-z0-9")
    .not_last(".-")
    .reserved_prefixes(&["xn--", "sthree-", "amzn-s3-demo-"])
    .reserved_suffixes(&["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"])
    .form(Form::BucketName);
