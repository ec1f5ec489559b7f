import Glibc
import NIOSSL

/// What an operator and a boot client need to know of the served certificate: its names
/// (firmware checks the URL's host, often an IP address, against them), its validity, and its
/// serial number. Read once per load, for the start-up line and `--check`.
public struct TLSCertificateFacts: Equatable, Sendable {
    public var commonName: String?
    /// DNS names and IP addresses of the subject alternative names, as text.
    public var alternativeNames: [String]
    /// Seconds since 1970 (UTC).
    public var notValidBefore: Int
    public var notValidAfter: Int
    public var serialNumber: String

    public init(
        commonName: String?, alternativeNames: [String], notValidBefore: Int, notValidAfter: Int, serialNumber: String
    ) {
        self.commonName = commonName
        self.alternativeNames = alternativeNames
        self.notValidBefore = notValidBefore
        self.notValidAfter = notValidAfter
        self.serialNumber = serialNumber
    }

    init(_ certificate: NIOSSLCertificate) {
        var names: [String] = []
        for name in certificate._subjectAlternativeNames() {
            switch name.nameType {
            case .dnsName:
                names.append(String(decoding: name.contents, as: UTF8.self))
            case .ipAddress:
                if let address = Self.ipText(Array(name.contents)) { names.append(address) }
            default:
                break
            }
        }
        let description = certificate.description
        let commonName = description.split(separator: ";").first { $0.hasPrefix("common_name=") }
            .map { String($0.dropFirst("common_name=".count)) }
        self.init(
            commonName: commonName, alternativeNames: names, notValidBefore: Int(certificate.notValidBefore),
            notValidAfter: Int(certificate.notValidAfter),
            serialNumber: certificate.serialNumber.map { String($0, radix: 16) }.joined())
    }

    /// An IP subject alternative name (4 or 16 bytes) as text.
    static func ipText(_ bytes: [UInt8]) -> String? {
        let family: Int32
        switch bytes.count {
        case 4: family = AF_INET
        case 16: family = AF_INET6
        default: return nil
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        guard bytes.withUnsafeBytes({ inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }) != nil else {
            return nil
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// How the certificate stands at `now` (seconds since 1970).
    public enum Validity: Equatable, Sendable {
        case valid(daysLeft: Int)
        case notYetValid
        case expired
    }

    public func validity(at now: Int) -> Validity {
        if now < notValidBefore { return .notYetValid }
        if now > notValidAfter { return .expired }
        return .valid(daysLeft: (notValidAfter - now) / 86_400)
    }

    /// Whether a boot URL's host is one of the certificate's names (firmware refuses a
    /// certificate that does not name the host it connected to).
    public func names(_ host: String) -> Bool {
        alternativeNames.contains(host) || (alternativeNames.isEmpty && commonName == host)
    }

    /// A date as `2026-12-04` (UTC).
    public static func day(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
    }
}
