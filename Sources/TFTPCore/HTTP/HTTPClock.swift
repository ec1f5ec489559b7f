import Glibc

/// Wall-clock seconds, for the `Date` field and conditional requests (the HTTP side's
/// monotonic time is NIO's, from the event loop).
enum HTTPClock {
    static var now: Int { Int(time(nil)) }
}
