/// The HTML page for a directory (`--http-listing`): every name HTML-escaped for the text
/// and percent-encoded for the link, so no name can inject markup or a path.
public enum DirectoryListing {
    public static func html(title: [UInt8], entries: [ContentRoot.DirectoryEntry]) -> String {
        let heading = escape(String(decoding: title, as: UTF8.self))
        var page = """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>Index of /\(heading)</title></head>
            <body><h1>Index of /\(heading)</h1><ul>
            <li><a href="../">../</a></li>

            """
        for entry in entries {
            let suffix = entry.isDirectory ? "/" : ""
            let link = HTTPRequestTarget.encode(entry.name) + suffix
            let text = escape(String(decoding: entry.name, as: UTF8.self)) + suffix
            page += "<li><a href=\"\(link)\">\(text)</a></li>\n"
        }
        page += "</ul></body></html>\n"
        return page
    }

    /// HTML-escapes text for element content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
