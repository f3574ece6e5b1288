//! A TCP forwarder a test can cut (every connection dropped, new ones
//! refused), hang (connections held open, nothing passed either way) and
//! restore on the same port: a database outage, or a database that stopped
//! answering, on demand.

use std::net::SocketAddr;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub struct Forwarder {
    pub address: SocketAddr,
    target: SocketAddr,
    running: Option<JoinHandle<()>>,
    hung: watch::Sender<bool>,
}

impl Forwarder {
    /// Forwards a free loopback port to `target`. Needs a multi-threaded
    /// runtime: the tests block their own thread while servers start.
    pub async fn start(target: SocketAddr) -> Forwarder {
        let mut forwarder = Forwarder {
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            target,
            running: None,
            hung: watch::Sender::new(false),
        };
        forwarder.restore().await;
        forwarder
    }

    /// Drops every connection and closes the port: connecting is refused.
    pub fn cut(&mut self) {
        if let Some(running) = self.running.take() {
            // Aborting the accepting task drops its set, which aborts the connections.
            running.abort();
        }
    }

    /// Stops passing bytes while keeping every connection open, and accepts new
    /// ones only to hold them: the database hangs rather than refuses.
    pub fn hang(&self) {
        self.hung.send_replace(true);
    }

    /// Listens again, on the same port.
    pub async fn restore(&mut self) {
        self.cut();
        self.hung.send_replace(false);
        let socket = TcpSocket::new_v4().expect("a socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        // The aborted task's listener may take a moment to be dropped.
        let mut attempts = 0;
        while let Err(e) = socket.bind(self.address) {
            attempts += 1;
            assert!(
                attempts < 500,
                "cannot listen on {} again: {e}",
                self.address
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let listener = socket.listen(64).expect("listen");
        self.address = listener.local_addr().expect("an address");
        self.running = Some(tokio::spawn(forward(
            listener,
            self.target,
            self.hung.subscribe(),
        )));
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.cut();
    }
}

async fn forward(listener: TcpListener, target: SocketAddr, hung: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    while let Ok((mut client, _)) = listener.accept().await {
        let mut hung = hung.clone();
        connections.spawn(async move {
            if *hung.borrow() {
                return std::future::pending::<()>().await;
            }
            let Ok(mut server) = TcpStream::connect(target).await else {
                return;
            };
            let held = tokio::select! {
                _ = copy_bidirectional(&mut client, &mut server) => false,
                _ = hung.wait_for(|hung| *hung) => true,
            };
            if held {
                // Both sockets stay open, silent, until the forwarder is cut.
                std::future::pending::<()>().await
            }
        });
    }
}
