import Glibc

/// Wall-clock seconds for HTTP dates; the only place the HTTP side reads the clock.
enum HTTPClock {
    static var now: Int { Int(time(nil)) }
}
