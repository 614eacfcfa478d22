//! The connections a listener accepts, as tonic serves them: with Nagle's algorithm off, so
//! that an answer or an event is written when it is ready rather than when the peer has
//! acknowledged the last one.

use tokio::net::{TcpListener, TcpStream};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;

/// Accepted connections, each with `TCP_NODELAY` set.
pub fn connections(
    listener: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<TcpStream>> {
    TcpListenerStream::new(listener).map(|accepted| {
        let stream = accepted?;
        stream.set_nodelay(true)?;
        Ok(stream)
    })
}
