// libFuzzer target: HTTP request handling as the planner sees it: the input is split into
// a request line and headers; the planner must answer every head without trapping, and a
// served path must be sanitized. Ranges and dates are parsed from the same bytes.
import NIOHTTP1
import TFTPCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
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
