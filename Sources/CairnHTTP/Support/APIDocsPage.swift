import Foundation

/// `/v1/docs`: the OpenAPI document rendered as one HTML page on the server, so it needs no
/// script and nothing from another origin (the deployment may be air-gapped). Operations are
/// grouped by tag, each with its method, path, summary, description, parameters, request body
/// and responses; schemas are named and linked to `/v1/openapi.json`.
enum APIDocsPage {
    static let bytes: [UInt8] = Array(render().utf8)

    private static func render() -> String {
        guard let doc = try? JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes)) as? [String: Any] else {
            return "<!doctype html><title>Cairn API</title><p>The OpenAPI document could not be read.</p>"
        }
        let info = doc["info"] as? [String: Any] ?? [:]
        let tags = doc["tags"] as? [[String: Any]] ?? []
        let paths = doc["paths"] as? [String: [String: Any]] ?? [:]
        var byTag: [String: [(path: String, method: String, op: [String: Any])]] = [:]
        for (path, item) in paths {
            for method in ["get", "put", "post", "patch", "delete"] {
                guard let op = item[method] as? [String: Any] else { continue }
                let tag = (op["tags"] as? [String])?.first ?? "other"
                byTag[tag, default: []].append((path, method, op))
            }
        }
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Cairn API</title>
            <style>
            body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:62rem;padding:1rem 1.5rem;color:#1d2430}
            h2{margin-top:2.2rem;border-bottom:1px solid #d6dbe3}code,.path{font-family:ui-monospace,monospace}
            .op{margin:.8rem 0;padding:.6rem .8rem;border:1px solid #e1e5eb;border-radius:6px}
            .m{display:inline-block;min-width:4.2rem;font-weight:600;text-transform:uppercase;font-size:.8rem}
            .get{color:#1b6e3a}.post{color:#1f4fa3}.put{color:#8a5a00}.patch{color:#6b3fa0}.delete{color:#a32020}
            table{border-collapse:collapse;margin:.3rem 0}td{padding:.1rem .6rem .1rem 0;vertical-align:top}nav a{margin-right:.8rem}
            </style></head><body>
            <h1>\(escape(info["title"] as? String ?? "Cairn")) API</h1>
            <p>\(escape(info["description"] as? String ?? ""))</p>
            <p>The machine-readable document: <a href="/v1/openapi.json">/v1/openapi.json</a>
            (OpenAPI \(escape(doc["openapi"] as? String ?? ""))).</p>
            <nav>
            """
        for tag in tags { if let name = tag["name"] as? String { html += "<a href=\"#\(escape(name))\">\(escape(name))</a>" } }
        html += "</nav>\n"
        for tag in tags {
            guard let name = tag["name"] as? String, let ops = byTag[name] else { continue }
            html += "<h2 id=\"\(escape(name))\">\(escape(name))</h2><p>\(escape(tag["description"] as? String ?? ""))</p>\n"
            for (path, method, op) in ops.sorted(by: { ($0.path, $0.method) < ($1.path, $1.method) }) {
                html +=
                    "<div class=\"op\" id=\"\(escape(op["operationId"] as? String ?? ""))\"><span class=\"m "
                    + "\(method)\">\(method)</span> <span class=\"path\">\(escape(path))</span>"
                html += " — \(escape(op["summary"] as? String ?? ""))"
                if let d = op["description"] as? String { html += "<p>\(escape(d))</p>" }
                let parameters = ((paths[path]?["parameters"] as? [[String: Any]]) ?? []) + ((op["parameters"] as? [[String: Any]]) ?? [])
                if !parameters.isEmpty {
                    html += "<table>"
                    for p in parameters {
                        let name = escape(p["name"] as? String ?? "")
                        let place = escape(p["in"] as? String ?? "") + ((p["required"] as? Bool) == true ? ", required" : "")
                        html += "<tr><td><code>\(name)</code></td><td>\(place)</td><td>\(escape(describe(p["schema"])))</td></tr>"
                    }
                    html += "</table>"
                }
                if let body = ((op["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any] {
                    html += "<div>Body: \(escape(describe(body["schema"])))</div>"
                }
                if let responses = op["responses"] as? [String: Any] {
                    html +=
                        "<div>Answers: "
                        + responses.keys.sorted().map { code in
                            let r = responses[code] as? [String: Any] ?? [:]
                            return "<code>\(escape(code))</code> \(escape(r["description"] as? String ?? ""))"
                        }.joined(separator: "; ") + "</div>"
                }
                html += "</div>\n"
            }
        }
        return html + "</body></html>\n"
    }

    /// A schema in a few words: a named schema, or the type with its notable constraints.
    private static func describe(_ schema: Any?) -> String {
        guard let s = schema as? [String: Any] else { return "" }
        if let ref = s["$ref"] as? String { return ref.split(separator: "/").last.map(String.init) ?? ref }
        var parts: [String] = []
        if let t = s["type"] as? String { parts.append(t) }
        if let e = s["enum"] as? [Any] { parts.append("one of " + e.map { "\($0)" }.joined(separator: ", ")) }
        if let d = s["description"] as? String { parts.append(d) }
        if let items = s["items"] { parts.append("of " + describe(items)) }
        return parts.joined(separator: "; ")
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">",
            with: "&gt;"
        )
        .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
