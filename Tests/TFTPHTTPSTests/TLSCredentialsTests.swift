import Foundation
import Testing

@testable import TFTPHTTPS

/// Loading the served certificate and key, and re-reading them.
@Suite struct TLSCredentialsTests {
    @Test func aCertificateAndItsKeyLoad() throws {
        let credentials = try TLSCredentials(certificate: Fixtures.path("server.pem"), key: Fixtures.path("server.key"))
        let facts = credentials.facts
        #expect(facts.alternativeNames == ["127.0.0.1", "::1", "localhost"])
        #expect(facts.commonName == "localhost")
        #expect(facts.names("127.0.0.1"))
        #expect(!facts.names("192.0.2.1"))
        let now = facts.notValidBefore + 86_400
        #expect(facts.validity(at: now) == .valid(daysLeft: (facts.notValidAfter - now) / 86_400))
        #expect(facts.validity(at: facts.notValidBefore - 1) == .notYetValid)
    }

    @Test func anExpiredCertificateLoadsAndSaysSo() throws {
        let facts = try TLSCredentials(certificate: Fixtures.path("expired.pem"), key: Fixtures.path("expired.key"))
            .facts
        #expect(facts.validity(at: 1_796_000_000) == .expired)
        #expect(TLSCertificateFacts.day(facts.notValidAfter) == "2021-01-01")
        #expect(facts.validity(at: 1_500_000_000) == .notYetValid)
    }

    @Test func aKeyOfAnotherCertificateIsRefused() {
        #expect(
            throws: TLSCredentialsError.keyDoesNotMatch(
                certificate: Fixtures.path("server.pem"), key: Fixtures.path("expired.key"))
        ) {
            try TLSCredentials(certificate: Fixtures.path("server.pem"), key: Fixtures.path("expired.key"))
        }
    }

    @Test func missingAndNonPEMFilesAreNamed() throws {
        do {
            _ = try TLSCredentials(certificate: "/nonexistent/cert.pem", key: Fixtures.path("server.key"))
            Issue.record("a missing certificate loaded")
        } catch {
            guard case .unreadable(let path, _) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(path == "/nonexistent/cert.pem")
        }
        do {
            _ = try TLSCredentials(certificate: Fixtures.path("ca.esl"), key: Fixtures.path("server.key"))
            Issue.record("an EFI signature list loaded as PEM")
        } catch {
            #expect(error.description.hasPrefix(Fixtures.path("ca.esl")))
        }
    }

    /// A changed file is noticed; a broken one is refused and the old certificate stays; a
    /// good one replaces it.
    @Test func reloadKeepsTheOldCertificateWhenTheNewOneIsBad() throws {
        let dir = try Fixtures.scratch(["cert.pem": "server.pem", "key.pem": "server.key"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("cert.pem").path
        let key = dir.appendingPathComponent("key.pem").path
        let credentials = try TLSCredentials(certificate: cert, key: key)
        let before = credentials.facts
        #expect(!credentials.filesChanged)
        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: cert))
        #expect(credentials.filesChanged)
        #expect(throws: TLSCredentialsError.self) { try credentials.reload() }
        #expect(credentials.facts == before)
        // Reported once: the broken files count as seen.
        #expect(!credentials.filesChanged)
        try FileManager.default.removeItem(atPath: cert)
        try FileManager.default.removeItem(atPath: key)
        try FileManager.default.copyItem(atPath: Fixtures.path("expired.pem"), toPath: cert)
        try FileManager.default.copyItem(atPath: Fixtures.path("expired.key"), toPath: key)
        #expect(credentials.filesChanged)
        let after = try credentials.reload()
        #expect(after.notValidAfter < before.notValidAfter)
        #expect(credentials.facts == after)
    }

    /// RSA key exchange is offered for firmware without elliptic curves (EDK2 NOEC builds),
    /// after the forward-secret suites.
    @Test func rsaKeyExchangeIsOffered() {
        let suites = TLSCredentials.cipherSuites
        let rsa = suites.firstIndex(of: .TLS_RSA_WITH_AES_128_GCM_SHA256)
        let ecdhe = suites.firstIndex(of: .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
        #expect(rsa != nil && ecdhe != nil && ecdhe! < rsa!)
        #expect(suites.contains(.TLS_RSA_WITH_AES_128_CBC_SHA))
        #expect(suites.contains(.TLS_RSA_WITH_AES_256_CBC_SHA))
    }
}
