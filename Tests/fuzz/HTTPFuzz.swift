// libFuzzer target: HTTP request handling. The raw input goes through the request parser
// (whole, then byte by byte: the same heads must come out) and every head it yields to the
// planner; the input is also split into a request line and headers for the planner
// directly. Nothing may trap, a served path must be sanitized, ranges must stay inside the
// file. Ranges and dates are parsed from the same bytes.
import NIOCore
import NIOHTTP1
import TFTPCore

private func heads(_ bytes: UnsafeBufferPointer<UInt8>, piece: Int) -> [String] {
    var parser = HTTPRequestParser(maxHeadBytes: 512, maxFields: 16)
    var buffer = ByteBuffer()
    var out: [String] = []
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + piece)
        buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[offset..<end]))
        offset = end
        loop: while true {
            switch parser.next(&buffer) {
            case .request(let head):
                out.append("\(head.method) \(head.uri) \(head.version) \(head.headers)")
                let planner = HTTPResponsePlanner(head: head, now: 1_700_000_000)
                if case .serve(let path) = planner.preflight() {
                    _ = planner.plan(
                        file: .init(name: path.components.last ?? [], size: 100, modified: (0, 0), inode: 1), path: path
                    )
                }
            case .needMore:
                break loop
            case .failure(let failure):
                out.append("failure \(failure.status.code)")
                return out
            }
        }
    }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeBufferPointer(start: data, count: size)
    let whole = heads(raw, piece: max(size, 1))
    let split = heads(raw, piece: 1)
    // Byte by byte, a failure may show earlier (a limit), never a different head.
    if !split.starts(with: whole.filter { !$0.hasPrefix("failure") })
        && !whole.starts(with: split.filter { !$0.hasPrefix("failure") })
    {
        fatalError("split input parsed differently: \(whole) vs \(split)")
    }
    let text = String(decoding: raw, as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let target = lines.isEmpty ? "/" : lines.removeFirst()
    var headers = HTTPHeaders()
    for line in lines.prefix(16) {
        guard let colon = line.firstIndex(of: ":") else { continue }
        // As the HTTP parser delivers them: names are tokens, values visible ASCII or
        // obs-text without CR/LF/NUL.
        let name = String(line[..<colon])
        let value = String(line[line.index(after: colon)...])
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }),
            value.utf8.allSatisfy({ $0 != 0 && $0 != 13 && $0 != 10 })
        else { continue }
        headers.add(name: name, value: value)
    }
    for method in [HTTPMethod.GET, .HEAD, .POST, .RAW(value: "X")] {
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: target, headers: headers)
        let planner = HTTPResponsePlanner(head: head, now: 1_700_000_000)
        if case .serve(let path) = planner.preflight() {
            let facts = HTTPResponsePlanner.FileFacts(
                name: path.components.last ?? [], size: Int64(size), modified: (1_700_000_000, 0), inode: 1)
            let plan = planner.plan(file: facts, path: path)
            if case .file(let range) = plan.body, range.lowerBound < 0 || range.upperBound > Int64(size) {
                fatalError("range \(range) outside a file of \(size) bytes")
            }
        }
    }
    _ = ByteRange.parse(text, size: Int64(size))
    _ = HTTPDate.parse(text)
    return 0
}
