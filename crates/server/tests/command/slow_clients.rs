//! Clients that hold connections: one slow to send its header is let go after
//! the header timeout, the server never holds more connections than its cap,
//! and a shutdown waits for them no longer than its deadline.

use std::time::Duration;

use crate::support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An upper bound for what should take about a second.
const SOON: Duration = Duration::from_secs(10);

async fn connect(server: &Server) -> TcpStream {
    TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// A connection that sends the start of a header, then one byte at a time
/// (every 100 ms), never finishing it; ends when the server closes it.
fn dribble(mut stream: TcpStream) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _ = stream.write_all(b"GET /health HTTP/1.1\r\nX-Slow: ").await;
        let mut buffer = [0; 1024];
        loop {
            tokio::select! {
                read = stream.read(&mut buffer) => match read {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                },
                () = tokio::time::sleep(Duration::from_millis(100)) => {
                    if stream.write_all(b"a").await.is_err() {
                        return;
                    }
                }
            }
        }
    })
}

async fn health(server: &Server) -> reqwest::StatusCode {
    reqwest::get(format!("{}/health", server.base))
        .await
        .expect("health")
        .status()
}

#[tokio::test]
async fn a_client_slow_to_send_its_header_is_disconnected_while_others_are_served() {
    let dir = TempDir::new();
    let server = Server::start(
        &dir.0,
        &[("TOLLGATE_HTTP_HEADER_READ_TIMEOUT_SECONDS", "1")],
    );
    let slow = dribble(connect(&server).await);
    assert_eq!(health(&server).await, 200);
    tokio::time::timeout(SOON, slow)
        .await
        .expect("the slow client is disconnected after the header timeout")
        .unwrap();
    assert_eq!(health(&server).await, 200);
}

#[tokio::test]
async fn shutdown_waits_for_a_slow_client_no_longer_than_its_deadline() {
    let dir = TempDir::new();
    let mut server = Server::start(
        &dir.0,
        &[
            ("TOLLGATE_HTTP_HEADER_READ_TIMEOUT_SECONDS", "600"),
            ("TOLLGATE_HTTP_SHUTDOWN_TIMEOUT_SECONDS", "1"),
        ],
    );
    let slow = dribble(connect(&server).await);
    assert_eq!(health(&server).await, 200);
    server.signal("TERM");
    let status = server
        .exit_within(SOON)
        .expect("tollgate stops within its shutdown deadline");
    assert!(status.success(), "{status:?}: {}", server.log_text());
    slow.abort();
}

#[tokio::test]
async fn connections_past_the_cap_wait_for_a_free_one() {
    let dir = TempDir::new();
    let server = Server::start(
        &dir.0,
        &[
            ("TOLLGATE_HTTP_MAX_CONNECTIONS", "2"),
            ("TOLLGATE_HTTP_HEADER_READ_TIMEOUT_SECONDS", "600"),
        ],
    );
    // Two kept-alive connections, each answered once: the server holds both.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = connect(&server).await;
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: tollgate\r\n\r\n")
            .await
            .unwrap();
        let mut answer = [0; 64];
        let n = stream.read(&mut answer).await.unwrap();
        assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
        held.push(stream);
    }
    let mut third = std::pin::pin!(health(&server));
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut third)
            .await
            .is_err(),
        "a third connection is not served while two are held"
    );
    drop(held);
    let status = tokio::time::timeout(SOON, third)
        .await
        .expect("served once a connection closed");
    assert_eq!(status, 200);
}
