//! The AWS adapter layer: the only code that touches `aws-sdk-*`. One file per service; each
//! implements the types `crate::schema` declares for that service.
//!
//! API, in order of use:
//! - [`Ctx::new`]: SDK clients for one account and region, from aws-config's standard chain.
//! - [`create`]: the create call(s) of a type; returns the physical ID and first outputs as soon
//!   as AWS accepted the request (the executor records them in state before waiting).
//! - [`wait_ready`]: polls until AWS says the resource is usable; returns the final outputs.
//! - [`delete`] then [`wait_deleted`]: the reverse. Deleting what is already gone succeeds.
//!
//! **Invariant:** an adapter reads every property of its [`Props`] before its first AWS call
//! (so a bad value never leaves half a resource behind), and consumes all of them: the test
//! `every_schema_property_is_consumed` fails otherwise.

pub mod adapter;
mod apigateway;
mod applicationautoscaling;
mod cloudwatch;
pub(crate) mod ec2;
mod ecs;
pub(crate) mod efs;
mod elasticache;
mod iam;
pub mod identity;
mod kinesis;
mod kms;
pub mod limits;
pub(crate) mod logs;
mod props;
mod rds;
pub mod reads;
pub mod registry;
pub(crate) mod s3;
pub mod tagging;
#[cfg(test)]
mod testing;

use std::time::Duration;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

pub use adapter::{Adapter, Item, Live, Read, Refused};
pub use identity::{Found, Identity};
pub use props::Props;

/// Outputs of a resource: its attributes (and any identifiers its deletion needs).
pub type Outputs = serde_json::Map<String, serde_json::Value>;

/// What a create call returned.
#[derive(Debug, Clone)]
pub struct Created {
    /// The physical ID: what AWS calls the resource (a VPC ID, a role name, an ARN...).
    pub id: String,
    pub outputs: Outputs,
}

/// How an AWS error should be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Throttled: retry with backoff.
    Throttling,
    /// 5xx, timeouts, dropped connections: retry with backoff.
    Transient,
    /// AWS is eventually consistent here (a new IAM role not yet assumable, network
    /// interfaces still draining): retry within a bound.
    Eventual,
    /// The resource does not exist.
    NotFound,
    /// A value in the plan that AWS or the adapter refused.
    Input,
    /// Anything else: fail at once.
    Fatal,
}

/// An AWS call that failed, with what the user needs to act on it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} failed: {code}: {message}")]
pub struct AwsError {
    pub operation: &'static str,
    pub code: String,
    pub message: String,
    pub kind: ErrorKind,
    pub hint: Option<String>,
}

impl AwsError {
    pub fn input(operation: &'static str, message: impl Into<String>) -> Self {
        AwsError {
            operation,
            code: "InvalidPlanValue".into(),
            message: message.into(),
            kind: ErrorKind::Input,
            hint: None,
        }
    }

    /// An answer without what AWS always sends (an ID, an ARN, a state): the one code for a
    /// malformed response.
    pub fn malformed(operation: &'static str, what: impl std::fmt::Display) -> Self {
        AwsError {
            operation,
            code: "MalformedResponse".into(),
            message: format!("AWS answered without {what}"),
            kind: ErrorKind::Fatal,
            hint: None,
        }
    }

    pub fn timeout(operation: &'static str, what: impl Into<String>) -> Self {
        AwsError {
            operation,
            code: "WaitTimeout".into(),
            message: what.into(),
            kind: ErrorKind::Fatal,
            hint: Some("the resource did not reach the expected state in time; check it in the console, then run the command again".into()),
        }
    }

    /// A create that would change or take over `what` (e.g. "alarm `x`"), which is not this
    /// stack's (`why`, from [`Identity::judge`]).
    pub fn not_ours(operation: &'static str, what: &str, why: &str) -> Self {
        AwsError {
            operation,
            code: "NotOurs".into(),
            message: format!("{what} exists and is not this stack's: {why}"),
            kind: ErrorKind::Fatal,
            hint: Some(
                "ironplan never adopts, changes or deletes what it did not create: delete or rename that \
                 resource yourself, or choose another environment_suffix"
                    .into(),
            ),
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }
}

/// Error codes that mean "it is not there" in any service; each type declares its service's own
/// (`Lifecycle::NOT_FOUND`, collected by the registry).
const NOT_FOUND_CODES: &[&str] = &["NotFound", "NotFoundException"];

const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "SlowDown",
];

// BadRequestException: API Gateway's UpdateAccount answers "The role ARN does not have required
// permissions set to API Gateway" while a just-created CloudWatch role propagates. The message
// check in `is_eventual_message` keeps other bad requests fatal.
const EVENTUAL_CODES: &[&str] = &[
    "DependencyViolation",
    "InvalidParameter",
    "InvalidParameterException",
    "InvalidParameterValue",
    "BadRequestException",
];

/// Converts an SDK error into an [`AwsError`] for `operation`.
pub(crate) fn sdk_err<E>(
    operation: &'static str,
    err: aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    let (code, message) = (err.code().map(str::to_owned), err.message().map(str::to_owned));
    let kind = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => ErrorKind::Transient,
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            classify(code.as_deref().unwrap_or(""), message.as_deref().unwrap_or(""), status)
        }
        _ => ErrorKind::Fatal,
    };
    let code = code.unwrap_or_else(|| match &err {
        SdkError::TimeoutError(_) => "Timeout".into(),
        SdkError::DispatchFailure(d) if d.is_timeout() => "Timeout".into(),
        SdkError::DispatchFailure(_) => "DispatchFailure".into(),
        SdkError::ResponseError(_) => "ResponseError".into(),
        SdkError::ConstructionFailure(_) => "ConstructionFailure".into(),
        _ => "Unknown".into(),
    });
    let message = message.unwrap_or_else(|| aws_smithy_types::error::display::DisplayErrorContext(&err).to_string());
    if no_credentials(&err) {
        return AwsError {
            operation,
            code: "NoCredentials".into(),
            message,
            kind: ErrorKind::Fatal,
            hint: Some(
                "no AWS credentials were found: pass `--profile`, run `aws sso login`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                    .into(),
            ),
        };
    }
    let hint = hint_for(&code, &message);
    AwsError { operation, code, message, kind, hint }
}

/// True when the call failed before it was sent because the credential chain found nothing.
fn no_credentials(err: &(dyn std::error::Error + 'static)) -> bool {
    caused_by::<aws_credential_types::provider::error::CredentialsError>(err)
}

fn classify(code: &str, message: &str, status: u16) -> ErrorKind {
    if THROTTLING_CODES.contains(&code) || status == 429 {
        ErrorKind::Throttling
    } else if NOT_FOUND_CODES.contains(&code)
        || registry::not_found_codes().contains(&code)
        || code.ends_with(".NotFound")
        || code.ends_with("NotFoundFault")
    {
        ErrorKind::NotFound
    } else if status >= 500 || code == "InternalFailure" || code == "ServiceUnavailable" || code == "InternalError" {
        ErrorKind::Transient
    } else if EVENTUAL_CODES.contains(&code) && is_eventual_message(code, message) {
        ErrorKind::Eventual
    } else {
        ErrorKind::Fatal
    }
}

/// Messages AWS gives while a just-created role or a draining interface is not yet ready.
fn is_eventual_message(code: &str, message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    code == "DependencyViolation"
        || m.contains("cannot be assumed")
        || m.contains("unable to assume")
        || m.contains("does not have required permissions")
        || m.contains("not authorized to perform")
        || m.contains("role is invalid")
}

fn hint_for(code: &str, message: &str) -> Option<String> {
    let m = message.to_ascii_lowercase();
    Some(if code == "UnrecognizedClientException" || code == "InvalidClientTokenId" || code == "AuthFailure" {
        "the credentials were refused: check `--profile`, `aws sso login`, or AWS_ACCESS_KEY_ID".into()
    } else if code == "AccessDenied" || code == "AccessDeniedException" || code == "UnauthorizedOperation" {
        "the caller lacks the IAM permission for this operation: grant it, or use another profile".into()
    } else if code.contains("AlreadyExists") || code.contains("Duplicate") || m.contains("already exists") {
        "a resource with this name already exists: tear down the other stack, or choose another environment_suffix"
            .into()
    } else if code.contains("Limit") || code.contains("Quota") {
        "an account quota was hit: raise it in Service Quotas, or delete unused resources".into()
    } else if code == "DispatchFailure" {
        "AWS could not be reached: check the network, `--endpoint-url` and AWS_ENDPOINT_URL".into()
    } else if code == "Timeout" {
        "AWS did not answer in time (each attempt was retried): check the network and `--endpoint-url`; \
         `--connect-timeout` and `--read-timeout` set the limits"
            .into()
    } else {
        return None;
    })
}

/// SDK clients for one account and region.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub region: String,
    pub account_id: String,
    pub poll: PollPolicy,
    /// The endpoint is a local emulator, said explicitly ([`Connect::emulator`]) and on a
    /// loopback address: an adapter may then accept one of the emulator's documented gaps
    /// (ARCHITECTURE.md). Never true on AWS.
    pub emulator: bool,
    /// Where the calls go, for error messages: the endpoint URL, or AWS's own for the region.
    pub endpoint: String,
    pub applicationautoscaling: aws_sdk_applicationautoscaling::Client,
    pub apigateway: aws_sdk_apigateway::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub efs: aws_sdk_efs::Client,
    pub elasticache: aws_sdk_elasticache::Client,
    pub iam: aws_sdk_iam::Client,
    pub kinesis: aws_sdk_kinesis::Client,
    pub kms: aws_sdk_kms::Client,
    pub rds: aws_sdk_rds::Client,
    /// The Resource Groups Tagging API: the tags of many resources in one call, in read runs
    /// only ([`tagging`]).
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    /// Path-style addressing on the emulator ([`s3_client`]).
    pub s3: aws_sdk_s3::Client,
    pub secretsmanager: aws_sdk_secretsmanager::Client,
    pub sts: aws_sdk_sts::Client,
    /// The turns of the paced services' resource steps ([`limits::Admission`]).
    pub admission: std::sync::Arc<limits::Admission>,
    /// The answers shared by one read run's `read_many` calls ([`reads`]): `None` but in the
    /// context [`Ctx::for_reads`] makes for one `drift` or refresh.
    pub reads: Option<std::sync::Arc<reads::ReadCache>>,
}

/// A local emulator the endpoint is known to be: an explicit signal (`--emulator moto`,
/// `IRONPLAN_EMULATOR=moto`), never guessed from the URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emulator {
    Moto,
}

/// How long one AWS call may take. A call that runs out of time is retried like throttling
/// (the SDK's retries, then the engine's), then fails naming the operation and the endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// To open a connection (TCP and TLS).
    pub connect: Duration,
    /// From sending a request to the first byte of its answer.
    pub read: Duration,
}

impl Default for Timeouts {
    /// AWS answers in well under a second, its slow calls (CreateDBCluster, RegisterTaskDefinition)
    /// in a few seconds: 10 s to connect and 60 s for an answer only cut off what is stuck.
    fn default() -> Self {
        Timeouts { connect: Duration::from_secs(10), read: Duration::from_secs(60) }
    }
}

impl Timeouts {
    /// One attempt: connecting, waiting for the answer, and up to 30 s for client-side
    /// pacing tokens ([`limits`]), which the attempt includes.
    pub fn attempt(&self) -> Duration {
        self.connect + self.read + Duration::from_secs(30)
    }

    /// A call with all of the SDK's retries (3 attempts and their backoff).
    pub fn operation(&self) -> Duration {
        self.attempt() * 4
    }

    fn config(&self) -> aws_config::timeout::TimeoutConfig {
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .read_timeout(self.read)
            .operation_attempt_timeout(self.attempt())
            .operation_timeout(self.operation())
            .build()
    }
}

/// How to reach AWS: every field falls back to aws-config's standard chain (environment,
/// profiles, SSO, IMDS) when unset.
#[derive(Clone, Debug, Default)]
pub struct Connect {
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Every client's endpoint (the CLI fills it from `--endpoint-url` or AWS_ENDPOINT_URL).
    /// Only this field counts for [`Connect::is_loopback`]: service-specific endpoints
    /// configured elsewhere are overridden by it, and without it nothing is loopback.
    pub endpoint_url: Option<String>,
    /// The endpoint is this emulator: turns on [`Ctx::emulator`]. Refused unless the endpoint
    /// is a loopback address.
    pub emulator: Option<Emulator>,
    pub timeouts: Timeouts,
}

impl Connect {
    /// True when the endpoint's host is exactly a loopback address (see [`is_loopback_url`]).
    pub fn is_loopback(&self) -> bool {
        self.endpoint_url.as_deref().is_some_and(is_loopback_url)
    }

    /// The SDK configuration every client is built from, and its region: the standard chain,
    /// the endpoint, timeouts and pacing. Refuses the emulator signal off loopback.
    ///
    /// Dummy credentials are used only when the endpoint is a loopback address, no profile was
    /// named (`--profile`, AWS_PROFILE), and the standard chain resolves nothing: an emulator
    /// accepts any, and real AWS never gets them.
    pub async fn load(&self) -> Result<(aws_config::SdkConfig, String), AwsError> {
        let loopback = self.is_loopback();
        if self.emulator.is_some() && !loopback {
            return Err(AwsError {
                operation: "LoadConfig",
                code: "EmulatorNotLocal".into(),
                message: format!(
                    "the emulator signal (--emulator, IRONPLAN_EMULATOR) is set, but the endpoint `{}` is not a loopback address",
                    self.endpoint_url.as_deref().unwrap_or("(none: AWS)")
                ),
                kind: ErrorKind::Input,
                hint: Some(
                    "the signal is for a local emulator on 127.0.0.1 or [::1] only: unset IRONPLAN_EMULATOR to use AWS"
                        .into(),
                ),
            });
        }
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(r) = &self.region {
            loader = loader.region(aws_config::Region::new(r.clone()));
        }
        if let Some(p) = &self.profile {
            loader = loader.profile_name(p);
        }
        if let Some(u) = &self.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        loader = loader.timeout_config(self.timeouts.config());
        // Every client paces itself under AWS's published request rates (limits.rs).
        loader = loader.http_client(limits::limited_http_client(std::sync::Arc::new(limits::Limiter::default())));
        let mut config = loader.load().await;
        let profile_named = self.profile.is_some() || std::env::var_os("AWS_PROFILE").is_some_and(|p| !p.is_empty());
        if loopback && !profile_named && resolves_nothing(&config).await {
            // An emulator accepts any credentials; real AWS never gets here.
            tracing::info!("no credentials configured: dummy credentials for the loopback endpoint");
            let creds = aws_credential_types::Credentials::new("testing", "testing", None, None, "ironplan-emulator");
            config = config
                .into_builder()
                .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
                .build();
        }
        let region = config.region().map(|r| r.to_string()).ok_or_else(|| AwsError {
            operation: "LoadConfig",
            code: "NoRegion".into(),
            message: "no AWS region is configured".into(),
            kind: ErrorKind::Input,
            hint: Some("pass `--region`, set AWS_REGION, or set a region in your profile".into()),
        })?;
        Ok((config, region))
    }

    /// Where the calls go, in words.
    fn describe_endpoint(&self, region: &str) -> String {
        match &self.endpoint_url {
            Some(u) => u.clone(),
            None => format!("AWS's endpoints in {region}"),
        }
    }
}

/// An S3 client for `config`. On the emulator (the explicit signal only), path-style
/// addressing: virtual-hosted names (`BUCKET.127.0.0.1`) cannot reach a loopback address.
pub fn s3_client(config: &aws_config::SdkConfig, emulator: Option<Emulator>) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(config).force_path_style(emulator == Some(Emulator::Moto)).build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// True when `url` is an `http`/`https` URL without user info whose host is an IP literal in
/// 127.0.0.0/8 or `[::1]`, parsed as the SDK parses it (`http::Uri`). A name is never
/// loopback, `localhost` included: a name can resolve anywhere. `[::]`, `0.0.0.0` and
/// `127.0.0.1.evil.com` are not loopback; `http://127.0.0.1@evil.example` goes to evil.example.
pub fn is_loopback_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else { return false };
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else { return false };
    if !matches!(scheme, "http" | "https") || authority.as_str().contains('@') {
        return false;
    }
    let host = authority.host();
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// True when the configured credential chain finds no credentials at all (as opposed to
/// finding some, or failing on a profile, SSO session or process that is configured).
async fn resolves_nothing(config: &aws_config::SdkConfig) -> bool {
    use aws_credential_types::provider::{ProvideCredentials, error::CredentialsError};
    let Some(provider) = config.credentials_provider() else { return true };
    match provider.provide_credentials().await {
        Ok(_) => false,
        Err(CredentialsError::CredentialsNotLoaded(_)) => true,
        // The instance metadata service is asked last, once environment, profiles, web identity
        // and container found nothing; off EC2 it is absent or refused: nothing is configured.
        Err(e) => {
            matches!(e, CredentialsError::ProviderError(_))
                && caused_by::<aws_config::imds::client::error::ImdsError>(&e)
        }
    }
}

/// True when `T` is `err` or one of its sources.
fn caused_by<T: std::error::Error + 'static>(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if e.is::<T>() {
            return true;
        }
        source = e.source();
    }
    false
}

impl Ctx {
    /// Builds the clients ([`Connect::load`]) and asks STS who we are (the account ID feeds
    /// `${aws.account_id}`).
    pub async fn new(connect: &Connect) -> Result<Ctx, AwsError> {
        let (config, region) = connect.load().await?;
        let endpoint = connect.describe_endpoint(&region);
        let sts = aws_sdk_sts::Client::new(&config);
        let who =
            sts.get_caller_identity().send().await.map_err(|e| locate(sdk_err("GetCallerIdentity", e), &endpoint))?;
        let account_id = who.account().unwrap_or_default().to_string();
        tracing::info!(%endpoint, %region, account = %account_id, emulator = connect.emulator.is_some(), "connected");
        let s3 = s3_client(&config, connect.emulator);
        Ok(Ctx { emulator: connect.emulator.is_some(), endpoint, s3, ..Ctx::from_config(&config, region, account_id) })
    }

    /// Clients for an already loaded SDK configuration (tests use this to skip STS).
    pub fn from_config(config: &aws_config::SdkConfig, region: String, account_id: String) -> Ctx {
        Ctx {
            endpoint: config.endpoint_url().map_or_else(|| format!("AWS's endpoints in {region}"), str::to_string),
            region,
            account_id,
            poll: PollPolicy::default(),
            emulator: false,
            applicationautoscaling: aws_sdk_applicationautoscaling::Client::new(config),
            apigateway: aws_sdk_apigateway::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            ec2: aws_sdk_ec2::Client::new(config),
            ecs: aws_sdk_ecs::Client::new(config),
            efs: aws_sdk_efs::Client::new(config),
            elasticache: aws_sdk_elasticache::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            kinesis: aws_sdk_kinesis::Client::new(config),
            kms: aws_sdk_kms::Client::new(config),
            rds: aws_sdk_rds::Client::new(config),
            tagging: aws_sdk_resourcegroupstagging::Client::new(config),
            s3: s3_client(config, None),
            secretsmanager: aws_sdk_secretsmanager::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            admission: std::sync::Arc::default(),
            reads: None,
        }
    }

    /// This context with a fresh [`reads::ReadCache`], for one read run (drift, refresh): its
    /// batched reads share the calls that serve several types. Dropped with the run.
    pub fn for_reads(&self) -> Ctx {
        Ctx { reads: Some(std::sync::Arc::default()), ..self.clone() }
    }

    /// [`Ctx::for_reads`] for a run that reads `run` (each resource's type name and item): its
    /// shared calls may serve resources before their own reads ask (the tags of every
    /// tag-batched type in one GetResources: [`tagging`]).
    pub fn for_reads_of(&self, run: &[(&str, Item<'_>)]) -> Ctx {
        Ctx { reads: Some(std::sync::Arc::new(reads::ReadCache::for_run(run))), ..self.clone() }
    }

    /// This context if it is a read run's, else a read run for one batch (so that one
    /// `read_many` never makes a shared call twice).
    pub fn in_read_run(&self) -> std::borrow::Cow<'_, Ctx> {
        match self.reads {
            Some(_) => std::borrow::Cow::Borrowed(self),
            None => std::borrow::Cow::Owned(self.for_reads()),
        }
    }

    /// The answer of `call` under `key` (the operation and all its arguments): shared within a
    /// read run ([`Ctx::for_reads`]), else called every time.
    pub async fn shared<T, F, Fut>(&self, key: String, call: F) -> Result<T, AwsError>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, AwsError>>,
    {
        match &self.reads {
            Some(cache) => cache.get(key, call).await,
            None => call().await,
        }
    }

    /// `e`, naming this context's endpoint when the call did not get an answer.
    fn locate(&self, e: AwsError) -> AwsError {
        locate(e, &self.endpoint)
    }
}

/// Adds the endpoint to the message of a call that got no answer (timeout, no connection).
fn locate(mut e: AwsError, endpoint: &str) -> AwsError {
    if matches!(e.code.as_str(), "Timeout" | "DispatchFailure") {
        e.message = format!("no answer from {endpoint}: {}", e.message);
    }
    e
}

pub use crate::waiter::PollPolicy;

tokio::task_local! {
    /// How long the resource being waited for typically takes (scaled), set by the engine
    /// around `wait_ready`/`wait_deleted`, so every adapter's `poll` gets the type's timing.
    static EXPECTED: Duration;
}

/// Runs `f` with `expected` as the typical duration its polls plan around.
pub async fn expecting<F: std::future::Future>(expected: Duration, f: F) -> F::Output {
    EXPECTED.scope(expected, f).await
}

/// Polls `check` until it returns `Some`, on the context's [`PollPolicy`] (see
/// `crate::waiter`); `what` names the wait in the timeout error. Throttling and transient
/// errors of a check count as "not yet".
pub(crate) async fn poll<T, F, Fut>(ctx: &Ctx, operation: &'static str, what: &str, mut check: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, AwsError>>,
{
    let start = tokio::time::Instant::now();
    let expected = EXPECTED.try_with(|d| *d).ok();
    let mut checks = 0u32;
    loop {
        let delay = ctx.poll.next_delay(checks, start.elapsed(), expected);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        checks += 1;
        match check().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) if matches!(e.kind, ErrorKind::Throttling | ErrorKind::Transient) => {}
            Err(e) => return Err(e),
        }
        if start.elapsed() > ctx.poll.timeout {
            return Err(AwsError::timeout(operation, format!("timed out waiting for {what}")));
        }
    }
}

/// The registered adapter of `type_name`.
pub fn adapter(type_name: &str) -> Result<&'static dyn Adapter, AwsError> {
    registry::get(type_name).ok_or_else(|| unknown_type(type_name))
}

/// Creates a resource of `type_name`. `props` are resolved (no references left) and include the
/// merged tags.
pub async fn create(ctx: &Ctx, type_name: &str, props: &mut Props) -> Result<Created, AwsError> {
    adapter(type_name)?.create(ctx, props).await.map_err(|e| ctx.locate(e))
}

/// Finds the resource that a create with these `props` made, if it exists: after a crash
/// between AWS accepting a create and the state recording it, this is how the next run adopts
/// it instead of creating a duplicate, and how `teardown --discover` rebuilds a lost state.
/// Looks up by deterministic name, by parent identifiers, or by the identity tags the create
/// call carried; what it finds is judged by [`Identity`]'s one ownership rule (see
/// `identity.rs`): only a resource proven to be `who`'s is [`Found::Ours`].
pub async fn adopt(ctx: &Ctx, type_name: &str, props: &mut Props, who: &Identity) -> Result<Found, AwsError> {
    adapter(type_name)?.find(ctx, props, who).await.map_err(|e| ctx.locate(e))
}

/// Waits until the resource is usable; returns its outputs, completed with what AWS only
/// reports once it is ready (endpoints).
pub async fn wait_ready(ctx: &Ctx, type_name: &str, id: &str, outputs: &Outputs) -> Result<Outputs, AwsError> {
    adapter(type_name)?.ready(ctx, id, outputs).await.map_err(|e| ctx.locate(e))
}

/// Starts deleting the resource (and what AWS needs done first, such as scaling a service to
/// zero). A resource that is already gone is not an error.
pub async fn delete(ctx: &Ctx, type_name: &str, id: &str, outputs: &Outputs) -> Result<(), AwsError> {
    adapter(type_name)?.delete(ctx, id, outputs).await.map_err(|e| ctx.locate(e))
}

/// Waits until the resource is gone, so that what it depended on can be deleted next.
pub async fn wait_deleted(ctx: &Ctx, type_name: &str, id: &str, outputs: &Outputs) -> Result<(), AwsError> {
    adapter(type_name)?.wait_deleted(ctx, id, outputs).await.map_err(|e| ctx.locate(e))
}

/// Changes the `changed` properties of a resource in place to their values in `props` (every
/// property, resolved, tags merged); returns its new outputs.
pub async fn update(
    ctx: &Ctx,
    type_name: &str,
    id: &str,
    outputs: &Outputs,
    props: &mut Props,
    changed: &[String],
) -> Result<Outputs, AwsError> {
    adapter(type_name)?.update(ctx, id, outputs, props, changed).await.map_err(|e| ctx.locate(e))
}

/// The live properties and outputs of a resource, by its ID (`None`: it is gone).
pub async fn read(ctx: &Ctx, type_name: &str, id: &str, outputs: &Outputs) -> Result<Option<Live>, AwsError> {
    adapter(type_name)?.read(ctx, id, outputs).await.map_err(|e| ctx.locate(e))
}

/// How many resources of `type_name` one batched read takes at best (1: not batched).
pub fn read_batch(type_name: &str) -> usize {
    registry::get(type_name).map_or(1, |a| a.read_batch())
}

/// [`read`] of each item, batched where AWS accepts several IDs in one call: one answer per
/// item, in order.
pub async fn read_many(ctx: &Ctx, type_name: &str, items: &[Item<'_>]) -> Vec<Read> {
    match adapter(type_name) {
        Ok(a) => a.read_many(ctx, items).await.into_iter().map(|r| r.map_err(|e| ctx.locate(e))).collect(),
        Err(e) => items.iter().map(|_| Err(e.clone())).collect(),
    }
}

pub(crate) fn unknown_type(type_name: &str) -> AwsError {
    AwsError::input("Dispatch", format!("no adapter for type `{type_name}`"))
}

/// A field AWS always sends, or [`AwsError::malformed`].
pub(crate) fn required(v: Option<&str>, operation: &'static str, field: &str) -> Result<String, AwsError> {
    v.map(str::to_owned).ok_or_else(|| AwsError::malformed(operation, field))
}

/// Reads a string output that an adapter stored at create time.
pub(crate) fn out_str<'a>(outputs: &'a Outputs, key: &str, operation: &'static str) -> Result<&'a str, AwsError> {
    outputs
        .get(key)
        .and_then(|v| v.as_str())
        .ok_or_else(|| AwsError::input(operation, format!("state lacks output `{key}`")))
}

/// A lookup's "not found" as "nothing to adopt".
pub(crate) fn absent(e: AwsError) -> Result<Found, AwsError> {
    if e.is_not_found() { Ok(Found::Nothing) } else { Err(e) }
}

/// A lookup's "not found" as nothing: `read`'s "it is gone", `gone`'s yes.
pub(crate) fn found<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Tags in plan shape: a table (what `read` reports).
pub(crate) fn tag_table<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> serde_json::Value {
    pairs.into_iter().map(|(k, v)| (k.to_string(), serde_json::Value::from(v))).collect::<Outputs>().into()
}

/// Makes `call` (a delete) until AWS accepts it, repeating it while `busy` says AWS refused it
/// only for now (the resource is still being created or modified, as after an interrupted
/// deploy), on the context's poll policy; `what` names the resource.
pub(crate) async fn settle<F, Fut>(
    ctx: &Ctx,
    operation: &'static str,
    what: &str,
    busy: impl Fn(&AwsError) -> bool,
    call: F,
) -> Result<(), AwsError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), AwsError>>,
{
    poll(ctx, operation, &format!("{what} to accept deletion"), || async {
        match call().await {
            Ok(()) => Ok(Some(())),
            Err(e) if busy(&e) => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await
}

/// The ARN partition of `region` (`arn:<partition>:...`).
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Sets `key` in `out` when AWS gave a value.
pub(crate) fn put(out: &mut Outputs, key: &str, value: Option<impl Into<serde_json::Value>>) {
    if let Some(v) = value {
        out.insert(key.into(), v.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{self, Kind, Prop};
    use serde_json::{Value, json};

    /// A value of the right kind for every property, so that an adapter reads all of them.
    fn dummy(kind: &Kind) -> Value {
        match kind {
            Kind::Str => json!("1"),
            Kind::Int => json!(1),
            Kind::Float => json!(1.5),
            Kind::Bool => json!(true),
            Kind::List(k) => json!([dummy(k)]),
            Kind::Struct(fields) => fill(fields),
            Kind::Tags | Kind::StrMap => json!({"k": "v"}),
            Kind::Document => json!({"Version": "2012-10-17", "Statement": []}),
        }
    }

    fn fill(props: &[Prop]) -> Value {
        Value::Object(props.iter().map(|p| (p.name.to_string(), dummy(&p.kind))).collect())
    }

    /// Clients pointed at a closed loopback port: every call fails without leaving the machine.
    async fn offline_ctx() -> Ctx {
        let creds = aws_credential_types::Credentials::new("testing", "testing", None, None, "ironplan-emulator");
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .credentials_provider(creds)
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .load()
            .await;
        Ctx::from_config(&config, "us-east-1".into(), "123456789012".into())
    }

    /// Schema and adapter must agree: every declared property is read before the first call,
    /// and the adapter reads nothing the schema does not declare (it would never be given).
    /// The codes the types' services answer for "not there" are all known to the registry
    /// (this list was once the only place they were written).
    #[test]
    fn every_services_not_found_code_is_declared_by_its_types() {
        for code in [
            "NoSuchEntity",
            "ResourceNotFoundException",
            "InvalidVpcID.NotFound",
            "InvalidSubnetID.NotFound",
            "InvalidInternetGatewayID.NotFound",
            "InvalidAllocationID.NotFound",
            "InvalidRouteTableID.NotFound",
            "InvalidAssociationID.NotFound",
            "InvalidGroup.NotFound",
            "InvalidFlowLogId.NotFound",
            "NatGatewayNotFound",
            "InvalidNatGatewayID.NotFound",
            "DBClusterNotFoundFault",
            "DBInstanceNotFound",
            "DBSubnetGroupNotFoundFault",
            "ReplicationGroupNotFoundFault",
            "CacheSubnetGroupNotFoundFault",
            "FileSystemNotFound",
            "MountTargetNotFound",
            "ClusterNotFoundException",
            "ServiceNotFoundException",
            "ObjectNotFoundException",
        ] {
            assert!(registry::not_found_codes().contains(&code), "no type declares {code}");
            assert_eq!(classify(code, "", 400), ErrorKind::NotFound, "{code}");
        }
    }

    #[tokio::test]
    async fn every_schema_property_is_consumed() {
        let ctx = offline_ctx().await;
        let mut failures = Vec::new();
        for t in schema::all() {
            let Value::Object(map) = fill(t.props) else { unreachable!() };
            let mut props = Props::new(map);
            match create(&ctx, t.name, &mut props).await {
                Err(e) if e.kind == ErrorKind::Input => failures.push(format!("{}: {}", t.name, e.message)),
                _ => {}
            }
            let left = props.remaining();
            if !left.is_empty() {
                failures.push(format!("{}: not read before the first call: {}", t.name, left.join(", ")));
            }
        }
        assert!(failures.is_empty(), "schema/adapter mismatches:\n{}", failures.join("\n"));
    }

    /// Only an IP literal in 127.0.0.0/8 or ::1 is loopback, parsed as the SDK parses the URL.
    #[test]
    fn only_a_loopback_ip_literal_is_loopback() {
        for url in ["http://127.0.0.1:5000", "http://127.0.0.1", "https://127.1.2.3:443/", "http://[::1]:5000"] {
            assert!(is_loopback_url(url), "{url} is loopback");
        }
        for url in [
            "http://127.0.0.1.evil.com",
            "http://127.0.0.1.evil.com:5000",
            "http://localhost:5000",
            "http://[::]:5000",
            "http://0.0.0.0:5000",
            "http://127.0.0.1@evil.example",
            "http://127.0.0.1:5000@evil.example:5000",
            "http://evil.example/127.0.0.1",
            "http://evil.example?127.0.0.1",
            "http://[::ffff:7f00:1]:5000",
            "127.0.0.1:5000",
            "ftp://127.0.0.1",
            "https://sts.us-east-1.amazonaws.com",
            "",
        ] {
            assert!(!is_loopback_url(url), "{url} is not loopback");
        }
    }

    /// A listener that accepts connections and never answers.
    fn silent_endpoint() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            let held: Vec<_> = listener.incoming().take(16).collect();
            std::thread::sleep(Duration::from_secs(600));
            drop(held);
        });
        format!("http://127.0.0.1:{port}")
    }

    /// A call that gets no answer times out, is classified as retryable, and names its
    /// operation and the endpoint, with a hint.
    #[tokio::test]
    async fn a_call_without_an_answer_times_out_as_a_retryable_error() {
        let endpoint = silent_endpoint();
        let connect = Connect {
            region: Some("us-east-1".into()),
            endpoint_url: Some(endpoint.clone()),
            timeouts: Timeouts { connect: Duration::from_secs(1), read: Duration::from_secs(1) },
            ..Connect::default()
        };
        let e = Ctx::new(&connect).await.expect_err("nothing answers");
        assert_eq!(
            (e.operation, e.code.as_str(), e.kind),
            ("GetCallerIdentity", "Timeout", ErrorKind::Transient),
            "{e:?}"
        );
        assert!(e.message.contains(&endpoint), "{e:?}");
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("--read-timeout")), "{e:?}");
    }

    /// The emulator shortcuts need the explicit signal, and the signal needs a loopback endpoint.
    #[tokio::test]
    async fn emulator_shortcuts_only_on_the_explicit_signal_and_a_loopback_endpoint() {
        let moto = crate::emulator::Moto::start().expect("moto");
        let signalled = Ctx::new(&moto.connect()).await.expect("ctx");
        assert!(signalled.emulator);
        let unsignalled = Ctx::new(&Connect { emulator: None, ..moto.connect() }).await.expect("ctx");
        assert!(!unsignalled.emulator, "never guessed from a loopback URL");
        let named = Connect { endpoint_url: Some(format!("http://localhost:{}", moto.port)), ..moto.connect() };
        let e = Ctx::new(&named).await.expect_err("refused");
        assert_eq!((e.code.as_str(), e.kind), ("EmulatorNotLocal", ErrorKind::Input), "{e:?}");
    }
}
