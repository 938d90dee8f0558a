//! The read-only JSON API under `/api/`, for the CLI while the server holds
//! the store.
//!
//! sled allows one process per database, so while `andon serve` runs,
//! `andon runs`, `andon deliveries list` or `andon schedule list` cannot
//! open the store. The
//! server writes `serve.json` (its address and a random bearer token, mode
//! 0600) into the data directory; the CLI finds it there and asks the
//! server instead. Only the CLI, on the same machine and able to read the
//! data directory, knows the token.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use andon_core::run::Status;
use andon_store::{
    ArtifactStore, DeliveryQuery, INLINE_MAX, InboxStore, LineageStore, OutboxStore, RunQuery,
    RunStore, ScheduleStore, StoreError,
};
use anyhow::{Context, bail};
use axum::Json;
use axum::Router;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Shared;

const INFO_FILE: &str = "serve.json";

/// What a running server publishes for the CLI.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerInfo {
    pub url: String,
    pub pid: u32,
    pub token: String,
    #[serde(skip)]
    path: PathBuf,
}

impl ServerInfo {
    /// Remove the file on a clean shutdown.
    pub fn remove(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A random token from the OS.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    if let Ok(mut urandom) = std::fs::File::open("/dev/urandom")
        && urandom.read_exact(&mut bytes).is_ok()
    {
        return hex::encode(bytes);
    }
    // No /dev/urandom: hash what differs between processes and instants.
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(format!("{:?}", std::time::SystemTime::now()).as_bytes());
    hasher.update(format!("{:p}", &bytes).as_bytes());
    hex::encode(hasher.finalize())
}

/// Write `serve.json` for the CLI.
pub fn publish(data_dir: &Path, address: SocketAddr, token: &str) -> anyhow::Result<ServerInfo> {
    let info = ServerInfo {
        url: format!("http://{}", super::client_address(address)),
        pid: std::process::id(),
        token: token.to_string(),
        path: data_dir.join(INFO_FILE),
    };
    let text = serde_json::to_vec_pretty(&info)?;
    let temporary = data_dir.join(format!("{INFO_FILE}.tmp"));
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&temporary)
            .with_context(|| format!("cannot write {}", temporary.display()))?;
        file.write_all(&text)?;
    }
    std::fs::rename(&temporary, &info.path)
        .with_context(|| format!("cannot write {}", info.path.display()))?;
    Ok(info)
}

pub fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/status", get(status))
        .route("/runs", get(runs))
        .route("/runs/{id}", get(run))
        .route("/deliveries", get(deliveries))
        .route("/outbox", get(outbox))
        .route("/schedules", get(schedules))
        .route("/artifacts", get(artifacts))
        .route("/artifacts/{name}", get(artifact_versions))
        .route("/blobs/{sha256}", get(blob))
        .layer(middleware::from_fn_with_state(shared, authorize))
}

async fn authorize(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let expected = format!("Bearer {}", shared.api_token);
    let given = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !super::dashboard::constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "the API needs the bearer token from serve.json in the data directory" })),
        )
            .into_response();
    }
    next.run(request).await
}

struct ApiError(StoreError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": self.0.to_string() })),
        )
            .into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        ApiError(error)
    }
}

async fn status(State(shared): State<Arc<Shared>>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({
        "inbox_depth": shared.store.inbox_depth()?,
        "outbox_depth": shared.store.outbox_depth()?,
        "intake": shared.metrics.snapshot(),
    })))
}

#[derive(Debug, Deserialize)]
struct RunsParams {
    limit: Option<usize>,
    workflow: Option<String>,
    repository: Option<String>,
    status: Option<String>,
    before: Option<u64>,
}

async fn runs(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<RunsParams>,
) -> Result<Json<Value>, ApiError> {
    let query = RunQuery {
        limit: params.limit.unwrap_or(RunQuery::DEFAULT_LIMIT).min(1000),
        workflow: params.workflow,
        repository: params.repository,
        status: params.status.as_deref().and_then(Status::parse),
        before: params.before,
    };
    Ok(Json(json!({ "runs": shared.store.runs(&query)? })))
}

async fn run(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<u64>,
) -> Result<Response, ApiError> {
    Ok(match shared.store.run(id)? {
        Some(run) => {
            let outbox = shared.store.outbox_for_run(id)?;
            Json(json!({ "run": run, "outbox": outbox })).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no run with id {id}") })),
        )
            .into_response(),
    })
}

#[derive(Debug, Deserialize)]
struct PageParams {
    limit: Option<usize>,
    before: Option<u64>,
}

async fn deliveries(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<PageParams>,
) -> Result<Json<Value>, ApiError> {
    let query = DeliveryQuery {
        limit: params.limit.unwrap_or(50).min(10_000),
        before: params.before,
        ..DeliveryQuery::default()
    };
    Ok(Json(
        json!({ "deliveries": shared.store.deliveries(&query)? }),
    ))
}

async fn outbox(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<PageParams>,
) -> Result<Json<Value>, ApiError> {
    let items = shared
        .store
        .outbox_items(params.limit.unwrap_or(50).min(10_000), params.before)?;
    Ok(Json(json!({ "outbox": items })))
}

/// Every schedule with where it stands (`andon schedule list`).
async fn schedules(State(shared): State<Arc<Shared>>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "schedules": shared.store.schedules()? })))
}

/// Every artifact name with its newest version, in name order.
async fn artifacts(State(shared): State<Arc<Shared>>) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        json!({ "artifacts": shared.store.artifact_summaries()? }),
    ))
}

#[derive(Debug, Deserialize)]
struct VersionsParams {
    limit: Option<usize>,
}

/// The versions of one artifact, newest first, with their lineage.
async fn artifact_versions(
    State(shared): State<Arc<Shared>>,
    UrlPath(name): UrlPath<String>,
    Query(params): Query<VersionsParams>,
) -> Result<Json<Value>, ApiError> {
    let limit = params.limit.unwrap_or(usize::MAX);
    Ok(Json(
        json!({ "versions": shared.store.artifact_versions(&name, limit)? }),
    ))
}

/// The bytes of an inline blob, hex-encoded. Larger blobs are files in the
/// data directory that the CLI reads itself, without the store's lock.
async fn blob(
    State(shared): State<Arc<Shared>>,
    UrlPath(sha256): UrlPath<String>,
) -> Result<Response, ApiError> {
    let not_found = |message: String| {
        (StatusCode::NOT_FOUND, Json(json!({ "error": message }))).into_response()
    };
    let Some(mut blob) = shared.store.open_artifact(&sha256)? else {
        return Ok(not_found(format!("no blob {sha256}")));
    };
    if blob.size > INLINE_MAX as u64 {
        return Ok(not_found(format!(
            "blob {sha256} is a file; read it from the data directory"
        )));
    }
    let mut bytes = Vec::new();
    blob.reader
        .read_to_end(&mut bytes)
        .map_err(|e| ApiError(StoreError::Io(e.to_string())))?;
    Ok(Json(json!({ "sha256": sha256, "hex": hex::encode(bytes) })).into_response())
}

/// Percent-encodes a path segment or query value for [`Client::get`].
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The CLI's side: a running server found through `serve.json`.
#[derive(Debug)]
pub struct Client {
    info: ServerInfo,
}

impl Client {
    /// The server using `data_dir`, if `serve.json` is there.
    pub fn discover(data_dir: &Path) -> Option<Client> {
        let path = data_dir.join(INFO_FILE);
        let text = std::fs::read(&path).ok()?;
        let mut info: ServerInfo = serde_json::from_slice(&text).ok()?;
        info.path = path;
        Some(Client { info })
    }

    /// `GET /api/{path}` and its JSON body.
    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        let authority = self
            .info
            .url
            .strip_prefix("http://")
            .context("serve.json has a URL that is not http://")?;
        let address: SocketAddr = authority
            .parse()
            .with_context(|| format!("serve.json has an invalid address `{authority}`"))?;
        let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))
            .with_context(|| format!("the server at {} does not answer", self.info.url))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "GET /api/{path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {}\r\nConnection: close\r\nAccept: application/json\r\n\r\n",
            self.info.token
        )?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let text = String::from_utf8_lossy(&response);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .context("the server sent a malformed response")?;
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_string()
        };
        let value: Value = serde_json::from_str(&body).with_context(|| {
            format!("the server answered {status} with a body that is not JSON")
        })?;
        if status != 200 {
            bail!(
                "the server answered {status}: {}",
                value.get("error").and_then(Value::as_str).unwrap_or("")
            );
        }
        Ok(value)
    }
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}
