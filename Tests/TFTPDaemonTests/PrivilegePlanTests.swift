import Testing

@testable import TFTPCore
@testable import tftpd

/// The one rule for `--user` and `--allow-root`, as the server and `--check` both apply it.
@Suite struct PrivilegePlanTests {
    private static let tftp = ServiceAccount(name: "tftp", uid: 120, gid: 130)

    private func decide(user: String?, allowRoot: Bool = false, uid: UInt32) -> Result<
        PrivilegePlan, PrivilegePlan.Problem
    > {
        PrivilegePlan.decide(user: user, allowRoot: allowRoot, uid: uid) {
            (name: String) throws(ServiceAccount.Problem) in
            guard name == "tftp" else { throw .unknownUser(name) }
            return Self.tftp
        }
    }

    @Test func rootWithUserDrops() {
        #expect(decide(user: "tftp", uid: 0) == .success(.become(Self.tftp)))
    }

    @Test func rootWithoutUserIsRefusedUnlessAllowed() throws {
        #expect(decide(user: nil, uid: 0) == .failure(.refusesRoot))
        #expect(decide(user: nil, allowRoot: true, uid: 0) == .success(.serveAsRoot))
    }

    @Test func unprivilegedStaysWhoItIs() {
        #expect(decide(user: nil, uid: 1000) == .success(.stay))
        #expect(decide(user: "tftp", uid: 120) == .success(.stay))
        #expect(decide(user: "tftp", uid: 1000) == .failure(.account(.notRoot("tftp"))))
    }

    /// Each failure has its exit status: 67 for a missing account, 77 for the rest.
    @Test func exitStatuses() {
        #expect(PrivilegePlan.Problem.account(.unknownUser("x")).exit == .noSuchUser)
        #expect(PrivilegePlan.Problem.account(.notRoot("x")).exit == .privileges)
        #expect(PrivilegePlan.Problem.refusesRoot.exit == .privileges)
        #expect(decide(user: "nobody-here", uid: 0) == .failure(.account(.unknownUser("nobody-here"))))
    }
}
