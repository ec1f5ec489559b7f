/// A listening socket as one engine thread holds it. Every thread has its own socket per
/// listen address (SO_REUSEPORT: the kernel spreads requests over the threads by the
/// client's address and port, so a client's datagrams always reach the same thread).
struct EngineListener {
    let descriptor: Int32
    /// Its address with the real port; transfer sockets bind to the same IP.
    let local: PeerAddress
    /// The MTU blksize is fitted to (without `--max-blksize`).
    let mtu: Int?
}
