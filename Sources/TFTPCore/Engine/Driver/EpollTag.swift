/// What an engine thread registers each descriptor under in its epoll set, as the 64 bits
/// epoll hands back: the mailbox's eventfd, a listening socket by index, or a transfer
/// socket by descriptor (the core maps a descriptor to its transfer, so a pooled socket
/// changes hands without an epoll call).
enum EpollTag: Equatable {
    case mailbox
    case listener(Int)
    case socket(Int32)

    private static let mailboxValue = UInt64.max
    private static let listenerBit: UInt64 = 1 << 62

    init(rawValue: UInt64) {
        if rawValue == Self.mailboxValue {
            self = .mailbox
        } else if rawValue & Self.listenerBit != 0 {
            self = .listener(Int(rawValue & ~Self.listenerBit))
        } else {
            self = .socket(Int32(truncatingIfNeeded: rawValue))
        }
    }

    var rawValue: UInt64 {
        switch self {
        case .mailbox: Self.mailboxValue
        case .listener(let index): Self.listenerBit | UInt64(index)
        case .socket(let descriptor): UInt64(UInt32(bitPattern: descriptor))
        }
    }
}
