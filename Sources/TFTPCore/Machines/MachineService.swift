import NIOConcurrencyHelpers
import NIOCore

/// The machines file at work (`--machines`): the current ``MachineBook`` (replaced whole when
/// the file is read again), what the server learned of each machine (``MachineRegistry``),
/// and the per-machine answers built from the two — the proxy's boot plan, and the rendered
/// script over HTTP and TFTP. One resolver for all of them (docs/machines.md).
public final class MachineService: Sendable {
    public let registry: MachineRegistry
    private let current: NIOLockedValueBox<MachineBook>

    /// A script template file larger than this is refused (a script is a few kilobytes).
    public static let templateLimit = 1 << 20

    public init(book: MachineBook, registry: MachineRegistry = MachineRegistry()) {
        self.registry = registry
        current = NIOLockedValueBox(book)
    }

    public var book: MachineBook { current.withLockedValue { $0 } }

    /// Serves `book` from now on (a re-read file).
    public func replace(_ book: MachineBook) {
        current.withLockedValue { $0 = book }
    }

    /// Whether `path` is the script's path of the book in use.
    public func isScriptPath(_ path: RequestPath) -> Bool {
        Self.names(path, book.scriptPath)
    }

    private static func names(_ path: RequestPath, _ scriptPath: String) -> Bool {
        path.relativePath.elementsEqual(scriptPath.utf8.drop { $0 == UInt8(ascii: "/") })
    }

    /// The script for a request of `path` by `machine`, rendered from its profile's template;
    /// nil when `path` is not the script's name. A template file is read through the door,
    /// like any served file.
    public func script(for path: RequestPath, machine: @autoclosure () -> MachineIdentity, root: ContentRoot)
        -> Result<ByteBuffer, ContentError>?
    {
        let book = book
        guard Self.names(path, book.scriptPath) else { return nil }
        let resolution = book.resolve(machine())
        return Result { () throws(ContentError) -> ByteBuffer in
            let template: String
            switch resolution.script {
            case nil:
                throw .notFound
            case .inline(let text):
                template = text
            case .file(let name):
                let file = try root.open(try RequestPath(Array(name.utf8)))
                guard file.size <= Int64(Self.templateLimit) else { throw .tooLarge }
                var bytes = ByteBuffer()
                try file.read(into: &bytes, offset: 0, length: Int(file.size))
                template = String(buffer: bytes)
            }
            do {
                return ByteBuffer(string: try BootTemplate.render(template, values: resolution.variables))
            } catch {
                throw .scriptFailed("profile \(resolution.profile): \(error)")
            }
        }
    }
}
