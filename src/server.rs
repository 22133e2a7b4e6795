//! The HTTP side: `/metrics` (Prometheus text or OpenMetrics), a landing
//! page at `/`, `/-/healthy`, 404 elsewhere.
//!
//! Protection against slow or hostile clients: request headers must arrive
//! within `--web.header-read-timeout` (idle keep-alive connections are closed
//! after the same delay), at most `--web.max-connections` connections are
//! served at once, and at most `--web.max-requests` scrapes run at once (more
//! get 503 at once rather than piling up). Shutdown on SIGTERM/SIGINT stops
//! accepting, lets in-flight requests finish (5 s at most) and returns.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::collect::{ALL, Refresh, Runner};
use crate::config::Config;
use crate::expo::{self, Format};

/// The longest a connection is kept, whatever it does.
const MAX_CONNECTION_LIFETIME: Duration = Duration::from_secs(120);

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
}

impl App {
    pub fn new(config: &Config, runner: Arc<Runner>) -> Self {
        App {
            runner,
            telemetry_path: config.telemetry_path.clone(),
            scrape_timeout: config.scrape_timeout,
            header_read_timeout: config.header_read_timeout,
            requests: Semaphore::new(config.max_requests),
            max_connections: config.max_connections,
        }
    }
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

/// Serves until `shutdown` completes, then drains in-flight connections.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(app.max_connections));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = connections.clone().acquire_owned() => p?,
            _ = &mut shutdown => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    log::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app2 = app.clone();
        let svc = service_fn(move |req| {
            let app = app2.clone();
            async move { Ok::<_, Infallible>(handle(&app, req).await) }
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(app.header_read_timeout)
            .max_buf_size(64 * 1024)
            .serve_connection(TokioIo::new(stream), svc);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // hyper has no write timeout: a client that sends requests but
            // never reads the answers would hold its connection forever.
            // Idle keep-alive connections already close after the
            // header-read timeout, so a connection alive this long is stuck.
            match tokio::time::timeout(MAX_CONNECTION_LIFETIME, conn).await {
                Ok(Err(e)) => log::debug!("connection: {e}"),
                Ok(Ok(())) => {}
                Err(_) => log::debug!("connection closed after {MAX_CONNECTION_LIFETIME:?}"),
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(5)) => {
            log::warn!("some connections were still open 5s after shutdown began; closing them");
        }
    }
    Ok(())
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
        return response(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            "too many concurrent scrapes; try again\n",
        );
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
    let snapshot = app.runner.gather(budget).await;
    let body = expo::encode(&snapshot, format);
    response(StatusCode::OK, format.content_type(), body)
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
            Refresh::OnScrape => "on each scrape".to_string(),
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
