// libFuzzer target: the request-path sanitizer and the HTTP request-target decoder. No
// accepted path may contain a `..` component, a NUL or an empty component.
import TFTPCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    check(try? RequestPath(bytes))
    if case .success(let path) = HTTPRequestTarget.path(String(decoding: bytes, as: UTF8.self)) {
        check(path)
    }
    return 0
}

private func check(_ path: RequestPath?) {
    guard let path else { return }
    for component in path.components {
        if component.isEmpty || component == [46, 46] || component == [46] || component.contains(0)
            || component.contains(47) || component.contains(92)
        {
            fatalError("sanitizer let through \(path.components)")
        }
    }
}
