//! The HTTP side: `/metrics` (Prometheus text or OpenMetrics, gzip-compressed
//! when the scraper accepts it, as Prometheus always does), a landing page at
//! `/`, `/-/healthy`, 404 elsewhere.
//!
//! Protection against slow or hostile clients ([`crate::conntrack`]): every
//! connection is accepted; request headers must arrive within
//! `--web.header-read-timeout`, keep-alive connections may idle for
//! `--web.idle-timeout` (5 minutes: Prometheus keeps its connection between
//! scrapes); beyond `--web.max-connections` a new connection replaces the
//! oldest that has not sent a request; at most `--web.max-requests` scrapes
//! run at once (more get 503 with Retry-After at once rather than piling up). Shutdown on SIGTERM/SIGINT stops
//! accepting, lets in-flight requests finish (5 s at most) and returns.
//!
//! With `--web.config.file` ([`crate::webconfig`]): TLS (handshake bounded
//! by the header-read timeout; a plaintext request on a TLS port gets a 400
//! and is closed, as Go's server does), basic auth, rate limit and extra
//! response headers, the file re-read when it changes. Listens on every
//! `--web.listen-address`, or on systemd's sockets (`--web.systemd-socket`).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    ALLOW, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderValue, VARY, WWW_AUTHENTICATE,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::collect::{ALL, Refresh, Runner};
use crate::config::Config;
use crate::conntrack::{self, Tracked};
use crate::expo::{self, Chunk, Format};
use crate::metrics::Families;
use crate::schema::Desc;
use crate::webconfig::{Verdict, Watched};

pub const WEB_CONFIG_LAST_RELOAD_SUCCESSFUL: Desc = Desc::gauge(
    "vigie_web_config_last_reload_successful",
    "1 if the last load of --web.config.file succeeded (or no such file is used), 0 if the \
     file changed into something unusable and the previous version is still in force.",
    &[],
);
pub const WEB_CONFIG_RELOAD_FAILURES: Desc = Desc::counter(
    "vigie_web_config_reload_failures",
    "Reloads of --web.config.file that failed since vigie started (the previous version stayed in force).",
    &[],
);

/// The HTTP side's own families, after the runner's.
pub const WEB_FAMILIES: &[&Desc] = &[
    &WEB_CONFIG_LAST_RELOAD_SUCCESSFUL,
    &WEB_CONFIG_RELOAD_FAILURES,
    &HTTP_CONNECTIONS,
    &HTTP_CONNECTIONS_EVICTED,
];

pub const HTTP_CONNECTIONS: Desc =
    Desc::gauge("vigie_http_connections", "HTTP connections open now.", &[]);
pub const HTTP_CONNECTIONS_EVICTED: Desc = Desc::counter(
    "vigie_http_connections_evicted",
    "Connections closed to make room for new ones (all --web.max-connections slots taken): \
     the oldest that had not sent a full request, else the longest idle.",
    &[],
);

/// The longest one request may take, its handler and the writing of its
/// answer included (a client that never reads its answer).
const MAX_REQUEST_TIME: Duration = Duration::from_secs(120);

/// The least time a scrape gives on-scrape collectors, whatever the
/// scraper's timeout header says (a tiny value must not fail collectors).
const MIN_SCRAPE_BUDGET: Duration = Duration::from_millis(250);

/// What request handlers share.
pub struct App {
    pub runner: Arc<Runner>,
    pub telemetry_path: String,
    pub scrape_timeout: Duration,
    pub header_read_timeout: Duration,
    requests: Semaphore,
    max_connections: usize,
    tracker: Arc<conntrack::Tracker>,
    /// `--web.config.file`, when given.
    pub web: Option<Arc<Watched>>,
    /// The last [`web_metrics`] chunk and the values it was made of: reused,
    /// with its encodings, while they stay the same (they rarely change).
    web_chunk: std::sync::Mutex<Option<(WebValues, Arc<Chunk>)>>,
}

/// The values of [`WEB_FAMILIES`]: reload success (f64 bits), reload
/// failures, open connections, evictions.
type WebValues = (u64, u64, usize, u64);

impl App {
    pub fn new(config: &Config, runner: Arc<Runner>) -> Self {
        App {
            runner,
            telemetry_path: config.telemetry_path.clone(),
            scrape_timeout: config.scrape_timeout,
            header_read_timeout: config.header_read_timeout,
            requests: Semaphore::new(config.max_requests),
            max_connections: config.max_connections,
            tracker: conntrack::Tracker::new(
                config.max_connections,
                conntrack::Limits {
                    header: config.header_read_timeout,
                    idle: config.idle_timeout,
                    active: MAX_REQUEST_TIME.max(config.scrape_timeout * 2),
                },
            ),
            web: None,
            web_chunk: std::sync::Mutex::new(None),
        }
    }

    /// Serves with this web config (TLS, basic auth, headers).
    pub fn with_web(mut self, web: Arc<Watched>) -> Self {
        self.web = Some(web);
        self
    }
}

/// The listening sockets: systemd's (socket activation) or one per
/// `--web.listen-address`.
pub async fn listeners(config: &Config) -> anyhow::Result<Vec<TcpListener>> {
    if config.systemd_socket {
        return systemd_listeners();
    }
    let mut out = Vec::new();
    for a in &config.listen_addresses {
        out.push(bind(a).await?);
    }
    Ok(out)
}

/// The sockets systemd passed (`LISTEN_PID` is this process, `LISTEN_FDS`
/// of them from fd 3 on). The variables stay: a child sees a LISTEN_PID
/// that is not its own and ignores them.
fn systemd_listeners() -> anyhow::Result<Vec<TcpListener>> {
    use std::os::fd::FromRawFd;
    let pid = std::env::var("LISTEN_PID").ok();
    let fds = std::env::var("LISTEN_FDS").ok();
    let (Some(pid), Some(fds)) = (pid, fds) else {
        anyhow::bail!(
            "--web.systemd-socket: LISTEN_PID and LISTEN_FDS are not set (is vigie started by a systemd .socket unit?)"
        );
    };
    if pid.trim().parse::<u32>().ok() != Some(std::process::id()) {
        anyhow::bail!(
            "--web.systemd-socket: LISTEN_PID={pid} is not this process ({})",
            std::process::id()
        );
    }
    let n: i32 = fds
        .trim()
        .parse()
        .ok()
        .filter(|n| (1..=64).contains(n))
        .ok_or_else(|| {
            anyhow::anyhow!("--web.systemd-socket: LISTEN_FDS={fds:?}: expected 1 to 64 sockets")
        })?;
    let mut out = Vec::new();
    for fd in 3..3 + n {
        // SAFETY: systemd hands these descriptors to this process (LISTEN_PID
        // checked above); nothing else in vigie owns them.
        let std_listener = unsafe { std::net::TcpListener::from_raw_fd(fd) };
        std_listener.set_nonblocking(true)?;
        let l = TcpListener::from_std(std_listener).map_err(|e| {
            anyhow::anyhow!("--web.systemd-socket: fd {fd} is not a TCP listening socket: {e}")
        })?;
        l.local_addr().map_err(|e| {
            anyhow::anyhow!("--web.systemd-socket: fd {fd} is not a TCP socket: {e}")
        })?;
        out.push(l);
    }
    Ok(out)
}

/// Binds `--web.listen-address`. `:PORT` means every interface: IPv6 and
/// IPv4 when the host has IPv6, IPv4 alone otherwise.
pub async fn bind(address: &str) -> anyhow::Result<TcpListener> {
    let candidates: Vec<String> = match address.strip_prefix(':') {
        Some(port) => vec![format!("[::]:{port}"), format!("0.0.0.0:{port}")],
        None => vec![address.to_string()],
    };
    let mut last = None;
    for c in &candidates {
        let addr: SocketAddr = match c.parse() {
            Ok(a) => a,
            Err(_) => {
                // host:port with a name: let the resolver pick.
                match TcpListener::bind(c.as_str()).await {
                    Ok(l) => return Ok(l),
                    Err(e) => {
                        last = Some(anyhow::anyhow!("cannot listen on {c}: {e}"));
                        continue;
                    }
                }
            }
        };
        match TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(anyhow::anyhow!("cannot listen on {addr}: {e}")),
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("no address to listen on in {address:?}")))
}

/// Serves every listener until `shutdown` completes, then drains in-flight
/// connections.
pub async fn serve(
    listeners: Vec<TcpListener>,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let tracker = app.tracker.clone();
    // Each listener's accepted connections arrive here. No slot is taken
    // before accept: a flood of slow clients cannot keep a scraper out
    // (see crate::conntrack).
    let (tx, mut rx) = tokio::sync::mpsc::channel::<tokio::net::TcpStream>(64);
    let mut acceptors = Vec::new();
    for listener in listeners {
        let tx = tx.clone();
        acceptors.push(tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((s, _)) => {
                        if tx.send(s).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        log::warn!("accept: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }));
    }
    drop(tx);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            s = rx.recv() => match s {
                Some(s) => s,
                None => break,
            },
            _ = &mut shutdown => break,
        };
        let Some(slot) = tracker.admit() else {
            // Every slot is answering a request: this one waits its turn
            // in the client's retry.
            log::debug!(
                "all {} connection slots are serving requests; closing a new connection",
                app.max_connections
            );
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            if let Err(cut) = slot
                .run(connection(stream, app, watcher, slot.handle()))
                .await
            {
                log::debug!("connection closed: {cut:?}");
            }
        });
    }
    for a in &acceptors {
        a.abort();
    }
    drop(rx);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(5)) => {
            log::warn!("some connections were still open 5s after shutdown began; closing them");
        }
    }
    Ok(())
}

/// One connection: the TLS handshake when the web config asks for TLS,
/// then HTTP/1.1 until the client or a limit closes it. Its deadlines (the
/// handshake and each request header, idle keep-alive, one request) are
/// enforced by its [`conntrack::Slot`].
async fn connection(
    stream: tokio::net::TcpStream,
    app: Arc<App>,
    watcher: hyper_util::server::graceful::Watcher,
    phase: conntrack::Phase,
) {
    let tls = app.web.as_ref().and_then(|w| w.current().tls.clone());
    let Some(tls) = tls else {
        let io = Tracked {
            inner: stream,
            phase: phase.clone(),
        };
        return http(io, app, watcher, phase).await;
    };
    // A plaintext HTTP request on the TLS port: say so, as Go does,
    // instead of leaving the client with a reset.
    let mut first = [0u8; 1];
    if matches!(stream.peek(&mut first).await, Ok(1) if first[0] != 0x16) {
        use tokio::io::AsyncWriteExt;
        let mut stream = stream;
        let _ = stream
            .write_all(b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
            .await;
        let _ = stream.shutdown().await;
        return;
    }
    let io = Tracked {
        inner: stream,
        phase: phase.clone(),
    };
    match tokio_rustls::TlsAcceptor::from(tls).accept(io).await {
        Ok(s) => http(s, app, watcher, phase).await,
        Err(e) => log::debug!("TLS handshake: {e}"),
    }
}

async fn http<I>(
    io: I,
    app: Arc<App>,
    watcher: hyper_util::server::graceful::Watcher,
    phase: conntrack::Phase,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let app2 = app.clone();
    let svc = service_fn(move |req| {
        let app = app2.clone();
        let phase = phase.clone();
        async move {
            phase.request();
            let r = handle(&app, req).await;
            phase.answered();
            Ok::<_, Infallible>(r)
        }
    });
    // No hyper header-read timeout: it would also close idle keep-alive
    // connections; the connection's slot times each phase instead.
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(None)
        .max_buf_size(64 * 1024)
        .serve_connection(TokioIo::new(io), svc);
    if let Err(e) = watcher.watch(conn).await {
        log::debug!("connection: {e}");
    }
}

/// Listens for SIGTERM and SIGINT from now on (the handlers are installed
/// here, before any work starts, so an early signal is not lost to the
/// default action) and returns a future that resolves on the first.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => log::info!("SIGTERM received, shutting down"),
            _ = int.recv() => log::info!("SIGINT received, shutting down"),
        }
    })
}

type Resp = Response<Full<Bytes>>;

fn response(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

async fn handle(app: &App, req: Request<Incoming>) -> Resp {
    let Some(web) = app.web.as_ref().map(|w| w.current()) else {
        return route(app, req).await;
    };
    if let Some(limit) = &web.rate_limit
        && !limit.allow()
    {
        let mut r = response(
            StatusCode::TOO_MANY_REQUESTS,
            "text/plain; charset=utf-8",
            "Too Many Requests\n",
        );
        r.headers_mut()
            .insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    }
    let mut r = match web.auth.check(req.headers().get(AUTHORIZATION)).await {
        Verdict::Denied => {
            let mut r = response(
                StatusCode::UNAUTHORIZED,
                "text/plain; charset=utf-8",
                "Unauthorized\n",
            );
            r.headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
            r
        }
        Verdict::Open | Verdict::Allowed => route(app, req).await,
    };
    for (name, value) in &web.headers {
        r.headers_mut().insert(name.clone(), value.clone());
    }
    r
}

async fn route(app: &App, req: Request<Incoming>) -> Resp {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = response(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "only GET and HEAD are supported\n",
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let path = req.uri().path();
    if path == app.telemetry_path {
        return metrics(app, &req).await;
    }
    match path {
        "/" => response(
            StatusCode::OK,
            "text/html; charset=utf-8",
            landing_page(app),
        ),
        "/-/healthy" => response(StatusCode::OK, "text/plain; charset=utf-8", "OK\n"),
        _ => response(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            format!("404 not found; metrics are at {}\n", app.telemetry_path),
        ),
    }
}

async fn metrics(app: &App, req: &Request<Incoming>) -> Resp {
    let Ok(_permit) = app.requests.try_acquire() else {
        let mut r = response(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            "too many concurrent scrapes; try again\n",
        );
        r.headers_mut()
            .insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    };
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let format = Format::negotiate(header("accept"));
    // Leave Prometheus a margin to receive the answer before its own timeout.
    let budget = header("x-prometheus-scrape-timeout-seconds")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| Duration::from_secs_f64((s * 0.8).min(3600.0)))
        .map_or(app.scrape_timeout, |d| d.min(app.scrape_timeout))
        .max(MIN_SCRAPE_BUDGET.min(app.scrape_timeout));
    let gzip = expo::accepts_gzip(header("accept-encoding"));
    let mut snapshot = app.runner.gather(budget).await;
    snapshot.push(web_chunk(app));
    let mut r = response(
        StatusCode::OK,
        format.content_type(),
        expo::body(&snapshot, format, gzip),
    );
    r.headers_mut()
        .insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzip {
        r.headers_mut()
            .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    r
}

/// The HTTP side's health ([`WEB_FAMILIES`]) as a chunk: the last one when
/// none of its values changed, so that its encodings are reused.
fn web_chunk(app: &App) -> Arc<Chunk> {
    let (ok, failures) = app.web.as_ref().map_or((1.0, 0), |w| {
        (w.last_reload_successful(), w.reload_failures())
    });
    let values: WebValues = (
        f64::to_bits(ok),
        failures,
        app.tracker.open(),
        app.tracker.evictions(),
    );
    let mut last = app.web_chunk.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((v, chunk)) = &*last
        && *v == values
    {
        return chunk.clone();
    }
    let chunk = Chunk::new(web_metrics(values));
    *last = Some((values, chunk.clone()));
    chunk
}

fn web_metrics((ok, failures, open, evictions): WebValues) -> Families {
    let mut f = Families::new();
    f.family(&WEB_CONFIG_LAST_RELOAD_SUCCESSFUL)
        .sample(&[], f64::from_bits(ok));
    f.family(&WEB_CONFIG_RELOAD_FAILURES)
        .sample(&[], failures as f64);
    f.family(&HTTP_CONNECTIONS).sample(&[], open as f64);
    f.family(&HTTP_CONNECTIONS_EVICTED)
        .sample(&[], evictions as f64);
    f
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn landing_page(app: &App) -> String {
    let mut rows = String::new();
    for st in app.runner.status() {
        let state = match st.success {
            None => "not run yet".to_string(),
            Some(true) => match &st.trouble {
                None => "ok".to_string(),
                Some(t) => format!("<strong>in trouble</strong>: {}", html_escape(t)),
            },
            Some(false) => format!(
                "failing: {}",
                html_escape(st.last_error.as_deref().unwrap_or("unknown error"))
            ),
        };
        let refresh = match st.refresh {
            Refresh::OnScrape | Refresh::Inline => "on each scrape".to_string(),
            Refresh::Every(d) => format!("every {}", crate::units::human(d)),
        };
        let summary = ALL
            .iter()
            .find(|e| e.name == st.name)
            .map_or("", |e| e.details);
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            st.name,
            html_escape(summary),
            refresh,
            state
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>vigie</title>\n\
         <style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}\
         td,th{{text-align:left;padding:.2em .6em;vertical-align:top}}</style></head>\n\
         <body><h1>vigie {version}</h1>\n\
         <p>Early warnings for small hosters: disks that fill, control-plane filesystems, swap, pending reboots.</p>\n\
         <p><a href=\"{path}\">Metrics</a> &middot; <a href=\"/-/healthy\">Health</a></p>\n\
         <h2>Collectors</h2>\n<table><tr><th>Name</th><th>What</th><th>Refresh</th><th>State</th></tr>\n{rows}</table>\n\
         </body></html>\n",
        version = env!("CARGO_PKG_VERSION"),
        path = html_escape(&app.telemetry_path),
    )
}
