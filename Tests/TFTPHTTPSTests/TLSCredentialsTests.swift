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

    /// A broken pair is refused and the old certificate stays; a good one replaces it.
    @Test func replaceKeepsTheOldCertificateWhenTheNewOneIsBad() throws {
        let credentials = try TLSCredentials(certificate: Fixtures.path("server.pem"), key: Fixtures.path("server.key"))
        let before = credentials.facts
        #expect(throws: TLSCredentialsError.self) {
            try credentials.replace(certificatePEM: Array("not a certificate".utf8), keyPEM: [])
        }
        #expect(credentials.facts == before)
        // A key that is not the certificate's: refused as a pair.
        let expiredKey = Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("expired.key"))))
        let serverPEM = Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("server.pem"))))
        #expect(
            throws: TLSCredentialsError.keyDoesNotMatch(
                certificate: credentials.certificatePath, key: credentials.keyPath)
        ) {
            try credentials.replace(certificatePEM: serverPEM, keyPEM: expiredKey)
        }
        let expiredPEM = Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("expired.pem"))))
        let after = try credentials.replace(certificatePEM: expiredPEM, keyPEM: expiredKey)
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
