//! tokio-echo-server PORT: the Tokio peer of the echo benchmark (`Scripts/echo.py`).
//!
//! A current-thread runtime (one thread, as every server in the benchmark has), a task per
//! connection looping on `read` into a 64 KiB buffer and `write_all`. `write_all` waits while
//! the socket is full, so a client that does not read cannot grow the server. Listens on
//! 127.0.0.1 (PORT 0 picks one), prints "listening on 127.0.0.1:PORT", and exits with status 0
//! on SIGTERM or SIGINT.
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};

async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn serve(port: u16) -> std::io::Result<()> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(([127, 0, 0, 1], port).into())?;
    let listener: TcpListener = socket.listen(1024)?;
    println!("listening on 127.0.0.1:{}", listener.local_addr()?.port());
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted?;
                stream.set_nodelay(true)?;
                tokio::spawn(echo(stream));
            }
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
        }
    }
}

fn main() {
    let port = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or_else(|| {
        eprintln!("usage: tokio-echo-server PORT");
        std::process::exit(2)
    });
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build().expect("runtime");
    if let Err(error) = runtime.block_on(serve(port)) {
        eprintln!("tokio-echo-server: {error}");
        std::process::exit(1);
    }
}
