//! A plain HTTP/1.1 client on hyper: one keep-alive connection per
//! [`Connection`], or one connection per call with [`send`]. Webhook
//! deliveries, the load generator and the kit's own tests all use it, so
//! what the tests exercise is what the benchmarks measure.

use std::io;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// An answer, read to the end.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON, or `Null` when it is empty or not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One keep-alive HTTP/1.1 connection to the host and port of a URL.
pub struct Connection {
    authority: String,
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    /// Connect to the server `url` points at (`http://` only).
    pub async fn open(url: &str) -> io::Result<Connection> {
        let uri = parse(url)?;
        let authority = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .ok_or_else(|| invalid(format!("no host in `{url}`")))?;
        let stream = TcpStream::connect(&authority).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        // The connection task ends when the sender is dropped or the peer closes.
        tokio::spawn(conn);
        Ok(Connection { authority, sender })
    }

    /// Whether the server closed the connection.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Send one request and read the whole answer. `target` is a full URL
    /// or a path with its query; only its path and query are used.
    pub async fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> io::Result<Response> {
        let uri = parse(target)?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let method = Method::from_bytes(method.as_bytes()).map_err(invalid)?;
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, &self.authority)
            .body(Full::new(body.into()))
            .map_err(invalid)?;
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(invalid)?;
            let value = HeaderValue::from_str(value).map_err(invalid)?;
            request.headers_mut().append(name, value);
        }
        self.sender.ready().await.map_err(io::Error::other)?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(io::Error::other)?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(io::Error::other)?.to_bytes();
        Ok(Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: body.to_vec(),
        })
    }
}

/// Send one request on a fresh connection.
pub async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> io::Result<Response> {
    Connection::open(url)
        .await?
        .send(method, url, headers, body)
        .await
}

/// [`send`] for synchronous code. It runs on a thread of its own with its
/// own runtime, so it also works when called from inside an async test
/// (as long as the server is not served by the caller's blocked thread).
pub fn send_blocking(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> io::Result<Response> {
    let body = body.into();
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?
                    .block_on(send(method, url, headers, body))
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the client thread panicked")))
    })
}

fn parse(url: &str) -> io::Result<Uri> {
    let uri: Uri = url.parse().map_err(invalid)?;
    match uri.scheme_str() {
        Some("http") | None => Ok(uri),
        Some(other) => Err(invalid(format!("unsupported scheme `{other}` (http only)"))),
    }
}

fn invalid(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, error)
}
